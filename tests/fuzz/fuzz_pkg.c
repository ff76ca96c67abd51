/* fuzz_pkg: libFuzzer target: arbitrary bytes through the package reader (no trust store, so the parser and payload paths run). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats/pkg_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkg_read_opts opts = { .threads = 2 };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err;
	int fd = memfd_create("fuzz", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0)
		if (pkg_read(fd, &opts, NULL, NULL, &m, &rep, &err) == 0)
			fw_manifest_free(m);
	pkg_report_free(&rep);
	close(fd);
	return 0;
}
