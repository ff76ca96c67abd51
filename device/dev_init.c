/* dev_init: a new device root, made so that a failed init leaves no device root behind. */
#include "dev_init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "device/dev_file.h"
#include "device/dev_lock.h"
#include "device/dev_slot.h"
#include "device/dev_state.h"
#include "formats/chunk.h"

static int make_dir(const char *path, struct fw_err *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot create: %s", path, strerror(errno));
	return 0;
}

static int make_subdirs(const struct dev_root *r, struct fw_err *err)
{
	static const char *const dirs[] = { DEV_RECORD_DIR, DEV_TRUST_DIR, DEV_SLOT_DIR, DEV_PACKAGE_DIR };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *p = dev_root_file(r, dirs[i]);
		rc = p == NULL ? fw_err_set(err, FW_EXIT_IO, "out of memory") : make_dir(p, err);
		free(p);
	}
	return rc;
}

/* A slot path relative to the root may name directories that do not exist yet: make them. */
static int make_slot_dirs(const struct dev_root *r, struct fw_err *err)
{
	for (int t = 0; t < DEV_SLOT_COUNT; t++) {
		char *p;
		int rc = 0;

		if (r->cfg.slot[t][0] == '/')
			continue;
		if ((p = dev_root_file(r, r->cfg.slot[t])) == NULL)
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
		for (char *q = p + strlen(r->dir) + 1; rc == 0 && (q = strchr(q, '/')) != NULL; q++) {
			*q = '\0';
			rc = make_dir(p, err);
			*q = '/';
		}
		free(p);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Copy each trust file (minisign key, CA certificates, CRLs) into ROOT/trust under the name the trust store gives it. */
static int install_trust(const struct dev_root *r, const struct dev_init_opts *o, struct fw_err *err)
{
	enum { TRUST_FILE_MAX = 1024 * 1024 };
	char *buf = malloc(TRUST_FILE_MAX), file[64], name[80];
	enum sig_trust_kind kind;
	size_t len;
	int rc = -1, i_rc;

	if (buf == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	for (size_t i = 0; i < o->n_trust; i++) {
		char *dst;

		if (sig_trust_file_check(o->trust[i], &kind, file, sizeof(file), err) < 0 ||
		    sig_file_read(o->trust[i], buf, TRUST_FILE_MAX, &len, err) < 0) {
			fw_err_wrap(err, "--trust");
			goto out;
		}
		snprintf(name, sizeof(name), "%s/%s", DEV_TRUST_DIR, file);
		if ((dst = dev_root_file(r, name)) == NULL) {
			fw_err_set(err, FW_EXIT_IO, "out of memory");
			goto out;
		}
		i_rc = dev_file_write(dst, buf, len, err);
		free(dst);
		if (i_rc < 0)
			goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/* A recognisable stand-in for the image a device leaves the factory with. */
static int factory_image(const struct dev_root *r, enum fw_target t, const struct dev_init_opts *o,
			 struct fw_err *err)
{
	struct dev_slot_writer w;
	struct dev_record rec;
	char text[512];
	int n, fd;

	n = snprintf(text, sizeof(text), "fwctl factory image\nproduct: %s\nslot: %s\nversion: %s\ngeneration: %llu\n",
		     r->cfg.product, fw_target_name(t), o->version, (unsigned long long)o->generation);
	if (dev_slot_open(&w, r, t, err) < 0)
		return -1;
	if (dev_slot_write(&w, text, (size_t)n, err) < 0) {
		dev_slot_abort(&w);
		return -1;
	}
	if (dev_slot_finish(&w, err) < 0)
		return -1;
	memset(&rec, 0, sizeof(rec));
	rec.valid = 1;
	snprintf(rec.version, sizeof(rec.version), "%s", o->version);
	snprintf(rec.bridge_down, sizeof(rec.bridge_down), "%s", o->bridge_down ? o->bridge_down : "");
	rec.generation = (uint32_t)o->generation;
	rec.size = (uint64_t)n;
	rec.chunk_size = FW_CHUNK_DEFAULT;
	rec.rollback_index = o->rollback_index;
	rec.installed = (long long)time(NULL);
	if ((fd = open(r->slot_path[t], O_RDONLY | O_CLOEXEC)) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: %s", r->slot_path[t], strerror(errno));
	n = dev_digest_fd(fd, rec.size, rec.chunk_size, rec.digest, err);
	close(fd);
	if (n < 0)
		return -1;
	return dev_record_save(r, t, &rec, err);
}

static int empty_slot(const struct dev_root *r, enum fw_target t, struct fw_err *err)
{
	struct dev_record rec;
	int fd = open(r->slot_path[t], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot create: %s", r->slot_path[t], strerror(errno));
	close(fd);
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.note, sizeof(rec.note), "empty: no image installed");
	return dev_record_save(r, t, &rec, err);
}

/* A device without a given id gets a random one: what an unlock token is bound to. */
static int make_device_id(char *out, size_t n, struct fw_err *err)
{
	uint8_t raw[8];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
		if (fd >= 0)
			close(fd);
		return fw_err_set(err, FW_EXIT_IO, "/dev/urandom: cannot read a device id");
	}
	close(fd);
	if (n < 2 * sizeof(raw) + 1)
		return fw_err_set(err, FW_EXIT_IO, "device id buffer too small");
	fw_hex(raw, sizeof(raw), out);
	return 0;
}

int dev_init(struct dev_root *r, const struct dev_init_opts *o, struct fw_err *err)
{
	struct dev_state st;
	char *path = NULL;
	json_t *doc = NULL;
	int rc = -1;

	/* Check the trust files before anything is made: a failed init leaves nothing. */
	for (size_t i = 0; i < o->n_trust; i++) {
		enum sig_trust_kind kind;
		char file[64];
		if (sig_trust_file_check(o->trust[i], &kind, file, sizeof(file), err) < 0) {
			if (err->code == FW_EXIT_REJECTED)
				err->code = FW_EXIT_USAGE;   /* a bad key file is the caller's mistake */
			return fw_err_wrap(err, "--trust");
		}
	}
	if (r->cfg.device_id[0] == '\0' && make_device_id(r->cfg.device_id, sizeof(r->cfg.device_id), err) < 0)
		return -1;
	if (make_dir(r->dir, err) < 0)
		return -1;
	if ((path = dev_root_file(r, DEV_CONFIG_FILE)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (dev_lock_take(r->dir, &r->lock_fd, err) < 0)
		goto out;
	if (access(path, F_OK) == 0) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: already a device root (it has %s)", r->dir, DEV_CONFIG_FILE);
		goto out;
	}
	if (make_subdirs(r, err) < 0 || make_slot_dirs(r, err) < 0 || dev_root_resolve(r, err) < 0 ||
	    install_trust(r, o, err) < 0)
		goto out;
	for (int t = 0; t < FW_TARGET_COUNT; t++)
		if ((o->version ? factory_image(r, (enum fw_target)t, o, err) : empty_slot(r, (enum fw_target)t, err)) < 0)
			goto out;
	memset(&st, 0, sizeof(st));
	st.booted = DEV_BOOTED_NONE;
	st.rollback_index = o->rollback_index;
	if (dev_state_save(r, &st, err) < 0)
		goto out;
	/* The configuration last: its presence is what makes a device root. */
	if ((doc = dev_config_to_json(&r->cfg)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (dev_json_write(path, doc, err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(doc);
	free(path);
	return rc;
}

