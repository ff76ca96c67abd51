/* dev_file: atomic JSON replacement (temp, fsync, rename, fsync dir) with a crash point before each step. */
#include "dev_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/dev_crash.h"

int dev_write_all(int fd, const void *buf, size_t len, const char *what, struct fw_err *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fw_err_set(err, FW_EXIT_IO, "%s: write failed: %s", what, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int dev_fsync_dir(const char *dir, struct fw_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: cannot sync directory: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

char *dev_path_join(const char *dir, const char *name)
{
	char *s;

	if (asprintf(&s, "%s/%s", dir, name) < 0)
		return NULL;
	return s;
}

void dev_time_iso(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%lld", t);
}

int dev_json_write(const char *path, const json_t *doc, struct fw_err *err)
{
	char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2));
	char *withnl = NULL;
	int rc;

	if (text == NULL || asprintf(&withnl, "%s\n", text) < 0) {
		free(text);
		return fw_err_set(err, FW_EXIT_IO, "%s: out of memory", path);
	}
	rc = dev_file_write(path, withnl, strlen(withnl), err);
	free(withnl);
	free(text);
	return rc;
}

int dev_file_write(const char *path, const void *buf, size_t len, struct fw_err *err)
{
	char *tmp = NULL, *dcopy = NULL, *bcopy = NULL;
	const char *dir = ".";
	int fd = -1, rc = -1;

	dcopy = strdup(path);
	bcopy = strdup(path);
	if (dcopy == NULL || bcopy == NULL ||
	    asprintf(&tmp, "%s/.%s.tmp", (dir = dirname(dcopy)), basename(bcopy)) < 0) {
		tmp = NULL;
		fw_err_set(err, FW_EXIT_IO, "%s: out of memory", path);
		goto out;
	}
	dev_crash_point("writing", tmp);
	/* A fixed temporary name is safe: every writer holds the device lock. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	if (dev_write_all(fd, buf, len, tmp, err) < 0)
		goto out;
	dev_crash_point("fsync of", tmp);
	if (fsync(fd) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		fw_err_set(err, FW_EXIT_IO, "%s: close: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	dev_crash_point("rename onto", path);
	if (rename(tmp, path) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	dev_crash_point("fsync of the directory of", path);
	if (dev_fsync_dir(dir, err) < 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dcopy);
	free(bcopy);
	return rc;
}

json_t *dev_json_read(const char *path, int *missing, struct fw_err *err)
{
	json_error_t jerr;
	json_t *doc;

	if (missing != NULL)
		*missing = 0;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		if (missing != NULL)
			*missing = 1;
		fw_err_set(err, FW_EXIT_IO, "%s: does not exist", path);
		return NULL;
	}
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: line %d: %s", path, jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		fw_err_set(err, FW_EXIT_IO, "%s: not a JSON object", path);
		return NULL;
	}
	return doc;
}

int dev_json_save(char *path, json_t *doc, struct fw_err *err)
{
	int rc = path == NULL || doc == NULL ? fw_err_set(err, FW_EXIT_IO, "out of memory")
					     : dev_json_write(path, doc, err);

	json_decref(doc);
	free(path);
	return rc;
}
