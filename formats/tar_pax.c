/* tar_pax: the size record, written by tar_write and checked byte for byte by pkg_read. */
#include "tar_pax.h"

#include <stdio.h>
#include <string.h>

size_t tar_pax_size_record(uint64_t size, char out[TAR_PAX_RECORD_MAX])
{
	char digits[24];
	/* " size=" + digits + "\n"; the record's length counts its own digits too. */
	size_t body = (size_t)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)size) + 7, len = 0;

	for (size_t n = 1; n < 4; n++) {
		char probe[8];
		if ((size_t)snprintf(probe, sizeof(probe), "%zu", n + body) == n) {
			len = n + body;
			break;
		}
	}
	snprintf(out, TAR_PAX_RECORD_MAX, "%zu size=%s\n", len, digits);
	return len;
}
