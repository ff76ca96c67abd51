/*
 * syncorder: an LD_PRELOAD shim for tests: logs every fsync, fdatasync, rename and renameat2 with the
 * paths involved to $SYNCORDER_LOG, one line each, in the order they happen, so a test can check that a
 * file is flushed before it is renamed into place and its directory after; with SYNCORDER_EIO=SUBSTRING,
 * fsync and fdatasync of a path containing SUBSTRING fail with EIO (a disk that lost the write);
 * SYNCORDER_EIO==PATH: of that path only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fsync(int fd);
int fdatasync(int fd);
int rename(const char *from, const char *to);
int renameat2(int olddirfd, const char *from, int newdirfd, const char *to, unsigned int flags);

static void fd_path(int fd, char *out, size_t outsz)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, outsz - 1);
	out[n < 0 ? 0 : n] = '\0';
}

/* An absolute path for a name that may not exist (any more): the real path of its directory, then its name. */
static void abs_path(int dirfd, const char *name, char *out, size_t outsz)
{
	char dir[PATH_MAX], buf[PATH_MAX], *slash;

	if (name[0] == '/' || dirfd == AT_FDCWD) {
		snprintf(buf, sizeof(buf), "%s", name);
		slash = strrchr(buf, '/');
		if (slash == NULL) {
			if (getcwd(dir, sizeof(dir)) == NULL)
				dir[0] = '\0';
			snprintf(out, outsz, "%s/%s", dir, name);
			return;
		}
		*slash = '\0';
		if (realpath(buf[0] ? buf : "/", dir) == NULL)
			snprintf(dir, sizeof(dir), "%s", buf);
		snprintf(out, outsz, "%s/%s", dir, slash + 1);
		return;
	}
	fd_path(dirfd, dir, sizeof(dir));
	snprintf(out, outsz, "%s/%s", dir, name);
}

static void log_line(const char *op, const char *a, const char *b)
{
	const char *path = getenv("SYNCORDER_LOG");
	char line[2 * PATH_MAX + 64];
	int fd, n, e = errno;

	if (path == NULL)
		return;
	n = snprintf(line, sizeof(line), "%d %s %s%s%s\n", (int)getpid(), op, a, b ? " " : "", b ? b : "");
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
		if (write(fd, line, (size_t)n) < 0)
			(void)0;
		close(fd);
	}
	errno = e;
}

static int sync_common(int fd, const char *name)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
	const char *eio = getenv("SYNCORDER_EIO");
	char path[PATH_MAX];

	fd_path(fd, path, sizeof(path));
	if (eio != NULL && *eio != '\0' &&
	    (eio[0] == '=' ? strcmp(path, eio + 1) == 0 : strstr(path, eio) != NULL)) {
		log_line("eio", path, NULL);
		errno = EIO;
		return -1;
	}
	log_line("sync", path, NULL);
	return real(fd);
}

int fsync(int fd)
{
	return sync_common(fd, "fsync");
}

int fdatasync(int fd)
{
	return sync_common(fd, "fdatasync");
}

int rename(const char *from, const char *to)
{
	int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	char a[PATH_MAX], b[PATH_MAX];
	int rc;

	abs_path(AT_FDCWD, from, a, sizeof(a));
	abs_path(AT_FDCWD, to, b, sizeof(b));
	if ((rc = real(from, to)) == 0)
		log_line("rename", a, b);
	return rc;
}

int renameat2(int olddirfd, const char *from, int newdirfd, const char *to, unsigned int flags)
{
	int (*real)(int, const char *, int, const char *, unsigned int) =
		(int (*)(int, const char *, int, const char *, unsigned int))dlsym(RTLD_NEXT, "renameat2");
	char a[PATH_MAX], b[PATH_MAX];
	int rc;

	abs_path(olddirfd, from, a, sizeof(a));
	abs_path(newdirfd, to, b, sizeof(b));
	if ((rc = real(olddirfd, from, newdirfd, to, flags)) == 0)
		log_line("rename", a, b);
	return rc;
}
