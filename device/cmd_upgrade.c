/* cmd_upgrade: fwctl upgrade — verify a package and stream its images into their slots in one pass. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/cmd.h"
#include "device/dev_boot.h"
#include "device/dev_file.h"
#include "device/dev_policy.h"
#include "device/dev_root.h"
#include "device/dev_slot.h"
#include "device/dev_source.h"
#include "device/dev_state.h"
#include "formats/pkg_read.h"
#include "base/msg.h"

struct upgrade {
	struct dev_root *root;
	struct dev_record rec[FW_TARGET_COUNT];
	struct dev_state st;
	struct dev_policy_in pin;
	struct dev_plan plan;
	enum dev_result result;        /* what a failure from here on is recorded as */
	int reached_manifest;          /* the signature checked out */
	struct dev_slot_writer w;
	const struct pkg_report *rep;  /* the reader's report: each payload's plain SHA-256 */
	int writing;                   /* w is open on plan.step[cur] */
	size_t cur;
	size_t done;                   /* slots written and recorded valid */
	char written[32];              /* "sec, boot, pri" */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] upgrade [force] [no-reboot] all|pri|sec|boot SOURCE\n"
		   "SOURCE: PATH | - | file://PATH | usb://PATH | media LABEL PATH |\n"
		   "        [ftp|tftp|http|https://][USER[:PASSWORD]@]ADDRESS[:PORT]/FILE | ADDRESS FILE\n"
		   "Verify a signed firmware package and install it; 'all' writes secondary, bootloader,\n"
		   "primary, then reboots (as does 'pri'), unless no-reboot.\n");
}

static int on_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct upgrade *u = ctx;

	u->rep = rep;
	u->reached_manifest = 1;
	snprintf(u->st.last.version, sizeof(u->st.last.version), "%s", m->version);
	if (m->type != FW_TYPE_FIRMWARE) {
		u->result = DEV_RESULT_FILE_NOT_MATCH;
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "a modification package, not firmware: 'upgrade' installs .pkg firmware bundles");
	}
	if (dev_policy_check(&u->pin, m, &u->plan, err) < 0) {
		u->result = DEV_RESULT_POLICY_REFUSED;
		return -1;
	}
	if (u->plan.downgrade)
		msg_note("upgrade: warning: %s is older than the running %s: restore factory defaults after the downgrade "
			 "(copy the factory default configuration to the running one)", m->version, u->plan.running);
	if (u->plan.transition != 0)
		msg_note("upgrade: %s image generation %u: writing secondary, bootloader and primary in one step; "
			 "do not cut the power", u->plan.transition > 0 ? "entering" : "returning to",
			 m->image_generation);
	/* From here on slots change: say so first, so a power cut shows up at the next boot. */
	u->st.last.result = DEV_RESULT_IN_PROGRESS;
	snprintf(u->st.last.message, sizeof(u->st.last.message), "writing %s", m->version);
	if (dev_state_save(u->root, &u->st, err) < 0) {
		u->result = DEV_RESULT_SYSTEM_ERROR;
		return -1;
	}
	u->result = DEV_RESULT_FILE_CHECK_FAILED;
	return 0;
}

static int on_begin(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct upgrade *u = ctx;
	struct dev_record inv;

	for (size_t i = 0; i < u->plan.n; i++) {
		enum fw_target t = u->plan.step[i].target;

		if (u->plan.step[i].payload != index)
			continue;
		/* The record goes invalid, durably, before the first byte of the slot changes. */
		memset(&inv, 0, sizeof(inv));
		snprintf(inv.note, sizeof(inv.note), "incomplete: writing %s did not finish", m->version);
		if (dev_record_save(u->root, t, &inv, err) < 0) {
			u->result = DEV_RESULT_WRITE_FLASH_FAILED;
			return -1;
		}
		u->rec[t] = inv;
		msg_note("upgrade: %s: writing %s %s (%llu bytes)", fw_target_name(t), m->payloads[index].name,
			 m->version, (unsigned long long)m->payloads[index].size);
		if (dev_slot_open(&u->w, u->root, t, err) < 0) {
			u->result = DEV_RESULT_WRITE_FLASH_FAILED;
			return -1;
		}
		u->writing = 1;
		u->cur = i;
		return 1;
	}
	/* Another product's or target's image: verified, not written, so fwctl accepts what fwpkg verify accepts. */
	return 0;
}

static int on_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct upgrade *u = ctx;

	if (dev_slot_write(&u->w, buf, len, err) < 0) {
		u->result = DEV_RESULT_WRITE_FLASH_FAILED;
		return -1;
	}
	return 0;
}

static int on_end(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct upgrade *u = ctx;
	const struct fw_payload *p = &m->payloads[index];
	struct dev_record rec;
	enum fw_target t;

	if (!u->writing || u->plan.step[u->cur].payload != index)
		return 0;
	t = u->plan.step[u->cur].target;
	u->writing = 0;
	if (dev_slot_finish(&u->w, err) < 0) {
		u->result = DEV_RESULT_WRITE_FLASH_FAILED;
		return -1;
	}
	/* Every chunk matched the signed list: the slot holds exactly the payload. */
	memset(&rec, 0, sizeof(rec));
	rec.valid = 1;
	snprintf(rec.version, sizeof(rec.version), "%s", m->version);
	snprintf(rec.bridge_down, sizeof(rec.bridge_down), "%s", m->bridge_down);
	rec.generation = m->image_generation;
	rec.size = p->size;
	rec.chunk_size = p->chunk_size;
	memcpy(rec.digest, p->digest, sizeof(rec.digest));
	if (!u->rep->has_payload_sha256[index]) {
		u->result = DEV_RESULT_SYSTEM_ERROR;
		return fw_err_set(err, FW_EXIT_IO, "no SHA-256 for %s", p->name);
	}
	memcpy(rec.sha256, u->rep->payload_sha256[index], sizeof(rec.sha256));
	rec.rollback_index = m->rollback_index;
	rec.installed = (long long)time(NULL);
	if (dev_record_save(u->root, t, &rec, err) < 0) {
		u->result = DEV_RESULT_WRITE_FLASH_FAILED;
		return -1;
	}
	u->rec[t] = rec;
	u->done++;
	snprintf(u->written + strlen(u->written), sizeof(u->written) - strlen(u->written), "%s%s",
		 u->written[0] ? ", " : "", fw_target_name(t));
	msg_note("upgrade: %s: %s verified and written", fw_target_name(t), m->version);
	return 0;
}

/* Sort a failure of the reader before the manifest callback: signature, package, or reading. */
static enum dev_result early_failure(const struct pkg_report *rep, const struct fw_err *err)
{
	if (err->code != FW_EXIT_REJECTED)
		return DEV_RESULT_SYSTEM_ERROR;
	if (rep->manifest_bytes == NULL)
		return DEV_RESULT_FILE_CHECK_FAILED;
	for (size_t i = 0; i < rep->n_sigs; i++)
		if (rep->sigs[i].status == PKG_SIG_INVALID)
			return DEV_RESULT_SIGNATURE_FAILED;
	return rep->valid_sigs == 0 ? DEV_RESULT_SIGNATURE_FAILED : DEV_RESULT_FILE_CHECK_FAILED;
}

/* Remember how the attempt ended; the only trace a refused or failed upgrade leaves besides its slots. */
static int record(struct upgrade *u, enum dev_result res, const char *message)
{
	struct fw_err err = { 0, "" };

	u->st.last.result = res;
	u->st.last.time = (long long)time(NULL);
	snprintf(u->st.last.message, sizeof(u->st.last.message), "%s", message);
	if (dev_state_save(u->root, &u->st, &err) < 0) {
		msg_fail("upgrade", NULL, &err);
		return -1;
	}
	return 0;
}

/* The package as a file descriptor; -1 with err and *res when it cannot be opened. */
static int open_source(struct dev_root *r, const struct dev_source *src, enum dev_result *res, struct fw_err *err)
{
	const char *dir;
	char *path = NULL;
	int fd;

	*res = DEV_RESULT_SYSTEM_ERROR;
	switch (src->kind) {
	case DEV_SRC_STDIN:
		return STDIN_FILENO;
	case DEV_SRC_NET:
		*res = DEV_RESULT_NET_ERROR;
		return fw_err_set(err, FW_EXIT_NET,
				  "%s sources are not supported yet: copy the package to the device and give its path, "
				  "or use usb:// or media LABEL PATH", dev_proto_name(src->proto));
	case DEV_SRC_MEDIA:
		if ((dir = dev_root_media(r, src->label)) == NULL)
			return fw_err_set(err, FW_EXIT_USAGE,
					  "no medium labelled \"%s\" on this device (media labels come from fwctl init --media)",
					  src->label);
		if ((path = dev_path_join(dir, src->path)) == NULL)
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
		break;
	case DEV_SRC_FILE:
		break;
	}
	fd = open(path ? path : src->path, O_RDONLY | O_CLOEXEC);
	/* The caller names the source; a medium's file is named by its full path too. */
	if (fd < 0 && path != NULL)
		fw_err_set(err, FW_EXIT_IO, "cannot open %s: %s", path, strerror(errno));
	else if (fd < 0)
		fw_err_set(err, FW_EXIT_IO, "cannot open: %s", strerror(errno));
	free(path);
	return fd;
}

int cmd_upgrade(const char *root, int argc, char **argv)
{
	static struct upgrade u;   /* big: records, plan and state */
	struct dev_root r;
	struct dev_source src;
	struct sig_trust trust;
	/* Plain SHA-256s for the records, computed as the stream passes. */
	struct pkg_read_opts ropts = { .trust = &trust, .payload_sha256 = 1 };
	struct pkg_reader_ops ops = { on_manifest, on_begin, on_data, on_end };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0, "" };
	enum dev_result res;
	int i = 1, force = 0, no_reboot = 0, all = 0, fd = -1, rc = FW_EXIT_USAGE, reboot;
	enum fw_target target = FW_TARGET_PRI;

	memset(&rep, 0, sizeof(rep));
	memset(&r, 0, sizeof(r));
	r.lock_fd = -1;
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "force") == 0)
			force = 1;
		else if (strcmp(argv[i], "no-reboot") == 0)
			no_reboot = 1;
		else
			break;
	}
	if (i == argc) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (strcmp(argv[i], "all") == 0) {
		all = 1;
	} else if (fw_target_parse(argv[i], &target) < 0) {
		msg_error("upgrade", NULL, "\"%s\": the target is all, pri, sec or boot", argv[i]);
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (i + 1 == argc) {
		msg_error("upgrade", NULL, "no source: give a package path, -, a URI, ADDRESS FILE or media LABEL PATH");
		return FW_EXIT_USAGE;
	}
	if (dev_source_parse(argc - i - 1, argv + i + 1, &src, &err) < 0)
		return msg_fail("upgrade", NULL, &err);
	if (dev_root_open(&r, root, 1, &err) < 0)
		return msg_fail("upgrade", NULL, &err);

	memset(&u, 0, sizeof(u));
	u.root = &r;
	if (dev_state_load(&r, &u.st, &err) < 0) {
		rc = msg_fail("upgrade", NULL, &err);
		goto out;
	}
	for (int t = 0; t < FW_TARGET_COUNT; t++) {
		dev_record_load(&r, (enum fw_target)t, &u.rec[t]);
		u.pin.rec[t] = &u.rec[t];
	}
	u.pin.product = r.cfg.product;
	u.pin.tpm = r.cfg.tpm;
	u.pin.all = all;
	u.pin.target = target;
	u.pin.force = force;
	u.pin.rollback_index = u.st.rollback_index;
	memset(&u.st.last, 0, sizeof(u.st.last));
	u.st.last.time = (long long)time(NULL);
	snprintf(u.st.last.target, sizeof(u.st.last.target), "%s", all ? "all" : fw_target_name(target));
	snprintf(u.st.last.source, sizeof(u.st.last.source), "%s", src.shown);

	if ((fd = open_source(&r, &src, &res, &err)) < 0) {
		rc = msg_fail("upgrade", src.shown, &err);
		if (err.code != FW_EXIT_USAGE)
			record(&u, res, err.msg);
		goto out;
	}
	if (dev_root_trust(&r, &trust, &err) < 0) {
		err.code = FW_EXIT_IO;
		rc = msg_fail("upgrade", NULL, &err);
		record(&u, DEV_RESULT_SYSTEM_ERROR, err.msg);
		goto out;
	}

	if (pkg_read(fd, &ropts, &ops, &u, &m, &rep, &err) < 0) {
		if (u.writing) {
			dev_slot_abort(&u.w);
			msg_note("upgrade: %s: holds no valid image now: run the upgrade again with an intact package",
				 fw_target_name(u.plan.step[u.cur].target));
		}
		res = u.reached_manifest ? u.result : early_failure(&rep, &err);
		if (res == DEV_RESULT_FILE_CHECK_FAILED && err.code != FW_EXIT_REJECTED)
			res = DEV_RESULT_SYSTEM_ERROR;   /* reading failed, not the package */
		rc = msg_fail("upgrade", src.shown, &err);
		if (res == DEV_RESULT_WRITE_FLASH_FAILED && rc == FW_EXIT_REJECTED)
			rc = FW_EXIT_IO;
		record(&u, res, err.msg);
		goto out;
	}
	if (u.done != u.plan.n) {
		fw_err_set(&err, FW_EXIT_IO, "wrote %zu of %zu images", u.done, u.plan.n);
		rc = msg_fail("upgrade", src.shown, &err);
		record(&u, DEV_RESULT_SYSTEM_ERROR, err.msg);
		goto out;
	}
	{
		char msg[128];
		snprintf(msg, sizeof(msg), "wrote %s", u.written);
		if (record(&u, DEV_RESULT_SUCCESS, msg) < 0) {
			rc = FW_EXIT_IO;
			goto out;
		}
	}
	msg_note("upgrade: %s %s: success (wrote %s)", all ? "all" : fw_target_name(target), m->version, u.written);
	rc = FW_EXIT_OK;
	reboot = !no_reboot && (all || target == FW_TARGET_PRI);
	if (reboot) {
		msg_note("upgrade: rebooting");
		if (dev_boot(&r, &err) < 0)
			rc = msg_fail("boot", NULL, &err);
	}
out:
	if (fd > STDIN_FILENO)
		close(fd);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	dev_root_close(&r);
	return rc;
}
