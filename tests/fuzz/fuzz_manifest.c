/* fuzz_manifest: libFuzzer target: manifest parsing, and emit/parse agreeing on whatever parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_manifest *m = NULL, *again = NULL;
	struct fw_err err;
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;

	if (fw_manifest_parse(data, size, &m, &err) < 0)
		return 0;
	/* Whatever parses must emit, and emit the same bytes after a round trip. */
	if (fw_manifest_emit(m, &out, &len, &err) < 0 || fw_manifest_parse(out, len, &again, &err) < 0 ||
	    fw_manifest_emit(again, &out2, &len2, &err) < 0 || len != len2 || memcmp(out, out2, len) != 0)
		abort();
	free(out);
	free(out2);
	fw_manifest_free(m);
	fw_manifest_free(again);
	return 0;
}
