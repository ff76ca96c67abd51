/* shortread: an LD_PRELOAD shim for tests: read() and pread() return at most a few hundred bytes, as pipes and sockets may. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t read(int fd, void *buf, size_t n);
ssize_t pread(int fd, void *buf, size_t n, off_t off);
ssize_t pread64(int fd, void *buf, size_t n, off_t off);

/* A fixed pseudo-random sequence per thread, so a failure can be replayed. */
static size_t shorten(size_t n)
{
	static __thread unsigned seed = 12345;
	size_t m;

	if (n <= 1)
		return n;
	seed = seed * 1103515245u + 12345u;
	m = 1 + (seed >> 16) % 700;
	return m < n ? m : n;
}

ssize_t read(int fd, void *buf, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);

	if (real == NULL)
		real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	return real(fd, buf, shorten(n));
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, void *, size_t, off_t);

	if (real == NULL)
		real = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
	return real(fd, buf, shorten(n), off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off);
}
