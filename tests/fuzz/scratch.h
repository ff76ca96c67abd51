/* scratch.h: a scratch device root for the fuzz targets whose parsers read files under ROOT. */
#ifndef FW_FUZZ_SCRATCH_H
#define FW_FUZZ_SCRATCH_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/dev_root.h"

/*
 * One root per process, made on first use, with records/ and packages/: in /dev/shm where there is one, else
 * $TMPDIR. On a disk file system a file truncated and written again every run is flushed at its close (ext4's
 * auto_da_alloc), which made the file targets a hundred times slower than the in-memory ones.
 */
static struct dev_root *scratch_root(void)
{
	static struct dev_root r;
	static char dir[256];
	char path[512];
	struct stat st;
	const char *base;

	if (r.dir != NULL)
		return &r;
	base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
			   : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(dir, sizeof(dir), "%s/fwfuzz.XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		abort();
	r.dir = dir;
	r.lock_fd = -1;
	snprintf(path, sizeof(path), "%s/records", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/packages", dir);
	mkdir(path, 0700);
	for (int s = 0; s < DEV_SLOT_COUNT; s++) {
		if (asprintf(&r.slot_path[s], "%s/slot.%d", dir, s) < 0)
			abort();
	}
	return &r;
}

/* Replace ROOT/rel with exactly these bytes. */
static void scratch_put(const char *rel, const void *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", scratch_root()->dir, rel);
	unlink(path);
	if ((f = fopen(path, "wb")) == NULL || (len > 0 && fwrite(buf, 1, len, f) != len) || fclose(f) != 0)
		abort();
}

static void scratch_put_path(const char *path, const void *buf, size_t len)
{
	FILE *f;

	unlink(path);
	if ((f = fopen(path, "wb")) == NULL || (len > 0 && fwrite(buf, 1, len, f) != len) || fclose(f) != 0)
		abort();
}

#endif
