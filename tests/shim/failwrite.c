/* failwrite: an LD_PRELOAD shim for tests: writes to regular files fail with ENOSPC once FAILWRITE_AFTER bytes went through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t n);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t n, unsigned flags);

static unsigned long long written;

/* Terminals, pipes and sockets (messages, stdout) pass; only files fill up. */
static int full(int fd, size_t n)
{
	static long long limit = -2;
	struct stat st;

	if (limit == -2) {
		const char *e = getenv("FAILWRITE_AFTER");
		limit = e ? atoll(e) : -1;
	}
	if (limit < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (written + n > (unsigned long long)limit) {
		errno = ENOSPC;
		return 1;
	}
	written += n;
	return 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	return full(fd, n) ? -1 : real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	return full(fd, n) ? -1 : real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t n, unsigned flags)
{
	static ssize_t (*real)(int, off_t *, int, off_t *, size_t, unsigned);

	if (real == NULL)
		real = (ssize_t (*)(int, off_t *, int, off_t *, size_t, unsigned))dlsym(RTLD_NEXT, "copy_file_range");
	return full(out, n) ? -1 : real(in, in_off, out, out_off, n, flags);
}
