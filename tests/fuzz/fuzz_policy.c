/* fuzz_policy: libFuzzer target: a trust store's policy.json (sig_trust_add_policy_file). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signing/trust.h"
#include "scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[600];
	struct sig_trust t;
	struct fw_err err;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "%s/policy.json", scratch_root()->dir);
	scratch_put_path(path, data, size);
	sig_trust_init(&t);
	if (sig_trust_add_policy_file(&t, path, &err) == 0) {
		if (!t.have_policy || t.min_keys > 8 || (t.max_depth != -1 && (t.max_depth < 0 || t.max_depth > 32)))
			abort();
		/* One policy per store. */
		if (sig_trust_add_policy_file(&t, path, &err) == 0)
			abort();
	}
	sig_trust_free(&t);
	return 0;
}
