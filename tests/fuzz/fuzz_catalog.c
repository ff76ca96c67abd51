/* fuzz_catalog: libFuzzer target: the catalog a device fetches from the network, and emit/parse agreeing on what parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fw_catalog c, again;
	struct fw_err err;
	char *out = NULL, *out2 = NULL;

	if (fw_catalog_parse((const char *)data, size, &c, &err) < 0)
		return 0;
	(void)fw_catalog_check_time(&c, 1700000000, &err);
	for (size_t i = 0; i < c.n; i++) {
		(void)fw_catalog_newest(&c, c.rel[i].product);
		(void)fw_catalog_find(&c, c.rel[i].product, c.rel[i].version);
	}
	/* Whatever parses must emit, and parse back to the same text. */
	if ((out = fw_catalog_emit(&c)) == NULL || fw_catalog_parse(out, strlen(out), &again, &err) < 0 ||
	    (out2 = fw_catalog_emit(&again)) == NULL || strcmp(out, out2) != 0)
		abort();
	free(out);
	free(out2);
	return 0;
}
