/* tearwrite: an LD_PRELOAD shim for tests: a power cut in the middle of a write to one file, after TEARWRITE_AT bytes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * Writes to the file TEARWRITE_FILE (by device and inode) are counted; the
 * write that would carry byte number TEARWRITE_AT (from 1) hands only the
 * bytes before it to the file, makes them durable, and ends the process at
 * once with exit status 99, as a power cut would between two sectors. Other
 * files pass untouched. So a test can tear a bootloader environment's store
 * at every byte and ask the stock reader what it finds.
 */
ssize_t write(int fd, const void *buf, size_t n);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);

static unsigned long long count;

/* How many of n bytes to pass on: n, or fewer and then the process ends. */
static size_t allowed(int fd, size_t n, int *tear)
{
	static struct stat target;
	static long long at = -2;
	struct stat st;

	*tear = 0;
	if (at == -2) {
		const char *f = getenv("TEARWRITE_FILE"), *a = getenv("TEARWRITE_AT");
		at = f != NULL && a != NULL && stat(f, &target) == 0 ? atoll(a) : -1;
	}
	if (at < 1 || fstat(fd, &st) < 0 || st.st_dev != target.st_dev || st.st_ino != target.st_ino)
		return n;
	if (count + n < (unsigned long long)at) {
		count += n;
		return n;
	}
	*tear = 1;
	return (size_t)((unsigned long long)at - 1 - count);
}

static void cut(int fd)
{
	fsync(fd);
	_exit(99);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	size_t k;
	int tear;

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	k = allowed(fd, n, &tear);
	if (!tear)
		return real(fd, buf, n);
	if (k > 0)
		(void)real(fd, buf, k);
	cut(fd);
	return -1;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	size_t k;
	int tear;

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	k = allowed(fd, n, &tear);
	if (!tear)
		return real(fd, buf, n, off);
	if (k > 0)
		(void)real(fd, buf, k, off);
	cut(fd);
	return -1;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}
