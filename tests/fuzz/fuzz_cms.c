/* fuzz_cms: libFuzzer target: CMS signature parsing (what a package's .cms entry may hold). */
#include <stdint.h>
#include <stdlib.h>

#include "signing/cms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sig_cms_info info;
	struct fw_err err;
	static const char msg[] = "{}\n";

	if (sig_cms_parse(data, size, &info, &err) == 0)
		sig_cms_check_signature(data, size, msg, sizeof(msg) - 1, &info, &err);
	return 0;
}
