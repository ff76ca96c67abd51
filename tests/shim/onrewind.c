/*
 * onrewind: an LD_PRELOAD shim for tests: the first lseek(fd, OFFSET, SEEK_SET)
 * runs $ONREWIND first (e.g. swap the file); OFFSET is $ONREWIND_OFFSET, or 0.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

off_t lseek(int fd, off_t off, int whence);
off_t lseek64(int fd, off_t off, int whence);

static void maybe_run(off_t off, int whence)
{
	static int done;
	const char *cmd = getenv("ONREWIND"), *at = getenv("ONREWIND_OFFSET");

	if (done || cmd == NULL || off != (at != NULL ? (off_t)atoll(at) : 0) || whence != SEEK_SET)
		return;
	done = 1;
	if (system(cmd) != 0)
		_exit(98);
}

off_t lseek(int fd, off_t off, int whence)
{
	static off_t (*real)(int, off_t, int);

	if (real == NULL)
		real = (off_t(*)(int, off_t, int))dlsym(RTLD_NEXT, "lseek");
	maybe_run(off, whence);
	return real(fd, off, whence);
}

off_t lseek64(int fd, off_t off, int whence)
{
	static off_t (*real)(int, off_t, int);

	if (real == NULL)
		real = (off_t(*)(int, off_t, int))dlsym(RTLD_NEXT, "lseek64");
	maybe_run(off, whence);
	return real(fd, off, whence);
}
