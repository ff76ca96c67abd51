/* sigwrite: an LD_PRELOAD shim for tests: the process sends itself a signal right before its Nth write to a matching file. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * SIGWRITE_PATH: a part of the file's path (as /proc/self/fd shows it), e.g.
 * "/slots/sec"; SIGWRITE_AT: which write to it (1 the first); SIGWRITE_SIG:
 * the signal's number (default SIGINT). A user's Ctrl-C, at a chosen point of
 * a transfer and at no chosen time: the write itself goes on as usual.
 */
ssize_t write(int fd, const void *buf, size_t n);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);

static void maybe_signal(int fd)
{
	static long at = -2, count;
	static const char *part;
	char link[64], path[PATH_MAX];
	ssize_t len;

	if (at == -2) {
		const char *e = getenv("SIGWRITE_AT");
		part = getenv("SIGWRITE_PATH");
		at = e != NULL && part != NULL ? atol(e) : -1;
	}
	if (at <= 0)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((len = readlink(link, path, sizeof(path) - 1)) < 0)
		return;
	path[len] = '\0';
	if (strstr(path, part) == NULL || ++count != at)
		return;
	const char *s = getenv("SIGWRITE_SIG");
	kill(getpid(), s != NULL ? atoi(s) : SIGINT);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	maybe_signal(fd);
	return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	maybe_signal(fd);
	return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}
