/* dev_unlock: ROOT/unlock-token.json: checked when installed, and again at every boot. */
#include "dev_unlock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/crash.h"
#include "base/outfile.h"
#include "device/dev_file.h"
#include "signing/minisign.h"

/* Parse the token's bytes, check them against the trust store and this device now. */
static int check_bytes(const struct dev_root *r, const char *buf, size_t len, struct sig_unlock *u,
		       struct fw_err *err)
{
	struct sig_trust trust;
	int rc = -1;

	if (dev_root_trust(r, &trust, err) < 0)
		goto out;
	if (sig_unlock_parse(buf, len, &trust, u, err) < 0 ||
	    sig_unlock_check(u, r->cfg.device_id, (int64_t)time(NULL), err) < 0)
		goto out;
	rc = 0;
out:
	sig_trust_free(&trust);
	return rc;
}

/* Read path once, then check what was read: the bytes checked are the bytes kept. */
static int load_check(const struct dev_root *r, const char *path, char *buf, size_t *len, struct sig_unlock *u,
		      struct fw_err *err)
{
	if (sig_file_read(path, buf, SIG_UNLOCK_MAX, len, err) < 0)
		return -1;
	return check_bytes(r, buf, *len, u, err);
}

int dev_unlock_install(struct dev_root *r, const char *path, struct sig_unlock *out, struct fw_err *err)
{
	char *buf = malloc(SIG_UNLOCK_MAX + 1), *dst = dev_root_file(r, DEV_UNLOCK_FILE);
	size_t len;
	int rc = -1;

	if (buf == NULL || dst == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	/* Read once (a pipe gives its bytes only once): a token that fails leaves the installed one as it was. */
	if (load_check(r, path, buf, &len, out, err) < 0)
		goto out;
	rc = dev_file_write(dst, buf, len, err);
out:
	free(buf);
	free(dst);
	return rc;
}

enum dev_unlock_status dev_unlock_status(const struct dev_root *r, struct sig_unlock *u, struct fw_err *why)
{
	char *path = dev_root_file(r, DEV_UNLOCK_FILE), *buf = malloc(SIG_UNLOCK_MAX + 1);
	enum dev_unlock_status s;
	size_t len;

	memset(u, 0, sizeof(*u));
	if (path == NULL) {
		free(buf);
		fw_err_set(why, FW_EXIT_IO, "out of memory");
		return DEV_UNLOCK_INVALID;
	}
	if (access(path, F_OK) < 0 && errno == ENOENT)
		s = DEV_UNLOCK_NONE;
	else
		s = buf != NULL && load_check(r, path, buf, &len, u, why) == 0 ? DEV_UNLOCK_VALID : DEV_UNLOCK_INVALID;
	if (buf == NULL && s == DEV_UNLOCK_INVALID)
		fw_err_set(why, FW_EXIT_IO, "out of memory");
	free(buf);
	free(path);
	return s;
}

int dev_unlock_remove(const struct dev_root *r, struct fw_err *err)
{
	char *path = dev_root_file(r, DEV_UNLOCK_FILE);
	int rc = 0;

	if (path == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (access(path, F_OK) == 0) {
		fw_crash_point("removing", path);
		if (unlink(path) < 0 || fw_fsync_dir_of(path, err) < 0)
			rc = fw_err_set(err, FW_EXIT_IO, "%s: cannot remove: %s", path, strerror(errno));
	}
	free(path);
	return rc;
}
