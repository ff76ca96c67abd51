/* outfile: temp file + fsync + rename(2), with RENAME_NOREPLACE unless the user forces. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * An interrupted build (Ctrl-C, a CI timeout's SIGTERM) must not leave a
 * hidden temporary file behind: remember the one being written and remove it
 * from a signal handler before dying of the signal as usual.
 */
static char pending_tmp[4096];
static volatile sig_atomic_t have_pending;

static void remove_pending(int sig)
{
	if (have_pending)
		unlink(pending_tmp);   /* async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void set_pending(const char *tmp)
{
	static int installed;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

	have_pending = 0;
	if (tmp == NULL || strlen(tmp) >= sizeof(pending_tmp))
		return;
	if (!installed) {
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
	memcpy(pending_tmp, tmp, strlen(tmp) + 1);
	have_pending = 1;
}

int fw_fsync_dir_of(const char *path, struct fw_err *err)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (copy == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: cannot sync directory: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int outfile_open(struct outfile *o, const char *path, mode_t mode, int force, struct fw_err *err)
{
	char *dir_copy = NULL, *base_copy = NULL;
	mode_t mask;
	struct stat st;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!force && lstat(path, &st) == 0) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: already exists (use -f to overwrite)", path);
		goto out;
	}
	dir_copy = strdup(path);
	base_copy = strdup(path);
	o->path = strdup(path);
	if (dir_copy == NULL || base_copy == NULL || o->path == NULL ||
	    asprintf(&o->tmp_path, "%s/.%s.XXXXXX", dirname(dir_copy), basename(base_copy)) < 0) {
		o->tmp_path = NULL;
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	o->fd = mkostemp(o->tmp_path, O_CLOEXEC);
	if (o->fd < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot create a file beside it: %s", path, strerror(errno));
		free(o->tmp_path);
		o->tmp_path = NULL;
		goto out;
	}
	set_pending(o->tmp_path);
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

int outfile_commit(struct outfile *o, int force, int durable, struct fw_err *err)
{
	int rc;

	if (durable && fsync(o->fd) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: fsync: %s", o->path, strerror(errno));
	if (close(o->fd) < 0) {
		o->fd = -1;
		return fw_err_set(err, FW_EXIT_IO, "%s: close: %s", o->path, strerror(errno));
	}
	o->fd = -1;
	rc = force ? rename(o->tmp_path, o->path)
		   : renameat2(AT_FDCWD, o->tmp_path, AT_FDCWD, o->path, RENAME_NOREPLACE);
	if (rc == 0)
		have_pending = 0;
	if (rc < 0 && errno == EEXIST)
		return fw_err_set(err, FW_EXIT_USAGE, "%s: already exists (use -f to overwrite)", o->path);
	if (rc < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: rename: %s", o->path, strerror(errno));
	free(o->tmp_path);
	o->tmp_path = NULL;
	return durable ? fw_fsync_dir_of(o->path, err) : 0;
}

void outfile_abort(struct outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp_path != NULL) {
		have_pending = 0;
		unlink(o->tmp_path);
	}
	free(o->tmp_path);
	free(o->path);
	o->tmp_path = NULL;
	o->path = NULL;
	o->fd = -1;
}
