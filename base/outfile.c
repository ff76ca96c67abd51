/* outfile: temp file + write-all + fsync + rename(2) (RENAME_NOREPLACE unless forced) + directory fsync. */
#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crash.h"

#define TMP_SUFFIX ".tmp"

/*
 * An interrupted build (Ctrl-C, a CI timeout's SIGTERM) must not leave a
 * hidden temporary file behind: remember the ones being written and remove
 * them from a signal handler before dying of the signal as usual.
 */
#define MAX_PENDING 4
static char pending_tmp[MAX_PENDING][4096];
static volatile sig_atomic_t pending_used[MAX_PENDING];

static void remove_pending(int sig)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending_used[i])
			unlink(pending_tmp[i]);   /* async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	static int installed;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

	if (installed)
		return;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = remove_pending;
		sigemptyset(&sa.sa_mask);
		/* Leave alone what the caller chose to ignore. */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			sigaction(sigs[i], &sa, NULL);
	}
	installed = 1;
}

static void pending_add(const char *tmp)
{
	install_handlers();
	if (strlen(tmp) >= sizeof(pending_tmp[0]))
		return;
	for (int i = 0; i < MAX_PENDING; i++) {
		if (!pending_used[i]) {
			memcpy(pending_tmp[i], tmp, strlen(tmp) + 1);
			pending_used[i] = 1;
			return;
		}
	}
}

static void pending_drop(const char *tmp)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending_used[i] && strcmp(pending_tmp[i], tmp) == 0)
			pending_used[i] = 0;
}

int fw_write_all(int fd, const void *buf, size_t len, const char *what, struct fw_err *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fw_err_set(err, FW_EXIT_IO, "%s: write failed: %s", what, strerror(errno));
		if (n == 0)
			return fw_err_set(err, FW_EXIT_IO, "%s: write failed: no progress", what);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fw_fsync_dir(const char *dir, struct fw_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: cannot sync directory: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

int fw_fsync_dir_of(const char *path, struct fw_err *err)
{
	char *copy = strdup(path);
	int rc;

	if (copy == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	rc = fw_fsync_dir(dirname(copy), err);
	free(copy);
	return rc;
}

static int already_exists(const char *path, struct fw_err *err)
{
	return fw_err_set(err, FW_EXIT_USAGE, "%s: " FW_MSG_EXISTS, path);
}

int outfile_open(struct outfile *o, const char *path, mode_t mode, int flags, struct fw_err *err)
{
	char *dir_copy = NULL, *base_copy = NULL;
	mode_t mask;
	struct stat st;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!(flags & OUTFILE_FORCE) && lstat(path, &st) == 0) {
		already_exists(path, err);
		goto out;
	}
	dir_copy = strdup(path);
	base_copy = strdup(path);
	o->path = strdup(path);
	if (dir_copy == NULL || base_copy == NULL || o->path == NULL ||
	    asprintf(&o->tmp_path, "%s/.%s.XXXXXX" TMP_SUFFIX, dirname(dir_copy), basename(base_copy)) < 0) {
		o->tmp_path = NULL;
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	fw_crash_point("writing", o->path);
	o->fd = mkostemps(o->tmp_path, (int)strlen(TMP_SUFFIX), O_CLOEXEC);
	if (o->fd < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot create a file beside it: %s", path, strerror(errno));
		free(o->tmp_path);
		o->tmp_path = NULL;
		goto out;
	}
	pending_add(o->tmp_path);
	mask = umask(0);
	umask(mask);
	if (fchmod(o->fd, mode & ~mask) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: chmod: %s", o->tmp_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir_copy);
	free(base_copy);
	if (rc < 0)
		outfile_abort(o);
	return rc;
}

/* Rename without replacing: renameat2 where the file system has it, else link(2), as atomic. */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	unlink(from);
	return 0;
}

int outfile_commit(struct outfile *o, int flags, struct fw_err *err)
{
	int rc;

	if (flags & OUTFILE_DURABLE) {
		fw_crash_point("fsync of", o->path);
		if (fsync(o->fd) < 0)
			return fw_err_set(err, FW_EXIT_IO, "%s: fsync: %s", o->path, strerror(errno));
	}
	if (close(o->fd) < 0) {
		o->fd = -1;
		return fw_err_set(err, FW_EXIT_IO, "%s: close: %s", o->path, strerror(errno));
	}
	o->fd = -1;
	if (flags & OUTFILE_DURABLE)
		fw_crash_point("rename onto", o->path);
	rc = (flags & OUTFILE_FORCE) ? rename(o->tmp_path, o->path) : rename_noreplace(o->tmp_path, o->path);
	if (rc < 0 && errno == EEXIST)
		return already_exists(o->path, err);
	if (rc < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: rename: %s", o->path, strerror(errno));
	pending_drop(o->tmp_path);
	free(o->tmp_path);
	o->tmp_path = NULL;
	if (!(flags & OUTFILE_DURABLE))
		return 0;
	fw_crash_point("fsync of the directory of", o->path);
	return fw_fsync_dir_of(o->path, err);
}

void outfile_abort(struct outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp_path != NULL) {
		pending_drop(o->tmp_path);
		unlink(o->tmp_path);
	}
	free(o->tmp_path);
	free(o->path);
	o->tmp_path = NULL;
	o->path = NULL;
	o->fd = -1;
}

int outfile_write_file(const char *path, const void *buf, size_t len, mode_t mode, int flags,
		       struct fw_err *err)
{
	struct outfile o;
	int rc = -1;

	if (outfile_open(&o, path, mode, flags, err) < 0)
		return -1;
	if (fw_write_all(o.fd, buf, len, o.tmp_path, err) == 0 && outfile_commit(&o, flags, err) == 0)
		rc = 0;
	outfile_abort(&o);
	return rc;
}

void outfile_remove_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		/* ".NAME.XXXXXX.tmp": a dot, a name, a dot, six characters, the suffix. */
		if (e->d_name[0] == '.' && n > 1 + 1 + 6 + strlen(TMP_SUFFIX) &&
		    strcmp(e->d_name + n - strlen(TMP_SUFFIX), TMP_SUFFIX) == 0 &&
		    e->d_name[n - strlen(TMP_SUFFIX) - 7] == '.')
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}
