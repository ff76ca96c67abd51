/* dev_upgrade: one upgrade as a transaction over the streaming reader: plan, verify, stage, commit. */
#include "dev_upgrade.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/outfile.h"
#include "device/dev_hook.h"
#include "device/dev_transport.h"
#include "device/dev_policy.h"
#include "device/dev_slot.h"
#include "formats/chunk.h"
#include "formats/pkg_read.h"

struct txn {
	struct dev_root *root;
	const struct dev_upgrade_req *req;
	struct dev_upgrade_out *out;
	struct dev_record rec[DEV_SLOT_COUNT];
	struct dev_state st;
	struct dev_policy_in pin;
	struct dev_plan plan;
	unsigned pass;                 /* the read of the package under way */
	enum dev_result result;        /* what a failure from here on is recorded as */
	int reached_manifest;          /* the signature checked out */
	const struct pkg_report *rep;  /* the reader's report: each payload's plain SHA-256 */
	char *first_manifest;          /* the first read's manifest bytes: a second read must see the same */
	size_t first_len;
	struct dev_slot_writer w;
	int writing;                   /* w is open on plan.step[cur] */
	size_t cur;
	int staged;                    /* plan.step[cur]'s image is whole; its record waits for the package's end */
	struct dev_record staged_rec;
	unsigned touched;              /* slots whose record went not valid */
	struct dev_transport *net;     /* a network source's transport; NULL for a local one */
	struct dev_transport_opts nopts;
	char *progress_path;           /* ROOT/DEV_PROGRESS_FILE while a network source is read */
	uint64_t net_total;            /* the file's size as the server said at open; 0 unknown */
	struct timespec pass_start, last_progress;
};

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* The transport names the source in its errors; the caller names it too (prog: upgrade: SOURCE: why). */
static void net_err(const struct txn *u, struct fw_err *err)
{
	size_t n = strlen(u->req->src->shown);

	if (strncmp(err->msg, u->req->src->shown, n) == 0 && strncmp(err->msg + n, ": ", 2) == 0)
		memmove(err->msg, err->msg + n + 2, strlen(err->msg + n + 2) + 1);
}

/*
 * How far the download is, at most four times a second (or now, when last):
 * for the caller's terminal, and in a small file `status --json` reads. The
 * file is replaced atomically but not fsynced: it says nothing a power cut
 * must keep, and a durable write per chunk would cost the flash.
 */
static void progress(struct txn *u, int last)
{
	struct timespec now;
	struct dev_progress p;
	struct fw_err ignored;
	json_t *doc;
	char *text;
	double secs;

	if (u->net == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!last && since(&u->last_progress, &now) < 0.25)
		return;
	u->last_progress = now;
	secs = since(&u->pass_start, &now);
	memset(&p, 0, sizeof(p));
	p.source = u->st.last.source;
	p.pass = u->pass + 1;
	p.passes = u->plan.passes ? u->plan.passes : 1;
	p.done = dev_transport_done(u->net);
	p.total = u->net_total;
	p.speed = secs > 0.001 ? (uint64_t)((double)p.done / secs) : 0;
	p.last = last;
	if (u->req->progress != NULL)
		u->req->progress(u->req->progress_ctx, &p);
	if (u->progress_path == NULL)
		return;
	doc = json_pack("{s:o, s:I, s:o, s:I, s:i, s:i, s:I}", "source", fw_json_text(u->req->src->shown), "bytes", (json_int_t)p.done,
			"total", p.total ? json_integer((json_int_t)p.total) : json_null(), "speed", (json_int_t)p.speed,
			"pass", (int)p.pass, "passes", (int)p.passes, "updated", (json_int_t)time(NULL));
	text = doc ? json_dumps(doc, JSON_SORT_KEYS) : NULL;
	/* Best effort: a progress report that cannot be written changes nothing about the upgrade. */
	if (text != NULL)
		(void)outfile_write_file(u->progress_path, text, strlen(text), 0644, OUTFILE_FORCE, &ignored);
	free(text);
	json_decref(doc);
}

void dev_note(dev_note_fn fn, void *ctx, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fn(ctx, text);
}

void dev_targets_text(unsigned set, char *out, size_t outsz)
{
	size_t used = 0;

	out[0] = '\0';
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		if ((set & (1u << t)) && used < outsz)
			used += (size_t)snprintf(out + used, outsz - used, "%s%s", used ? ", " : "", dev_slot_name(t));
	if (used == 0)
		snprintf(out, outsz, "none");
}

static unsigned planned(const struct dev_plan *p)
{
	unsigned set = 0;

	for (size_t i = 0; i < p->n; i++)
		set |= 1u << p->step[i].target;
	return set;
}

/* Is step i the last one this pass writes? Its record waits for the end of the package. */
static int last_of_pass(const struct dev_plan *p, size_t i)
{
	for (size_t k = i + 1; k < p->n; k++)
		if (p->step[k].pass == p->step[i].pass)
			return 0;
	return 1;
}

static int first_read_manifest(struct txn *u, const struct fw_manifest *m, const struct pkg_report *rep,
			       struct fw_err *err)
{
	snprintf(u->out->version, sizeof(u->out->version), "%s", m->version);
	snprintf(u->st.last.version, sizeof(u->st.last.version), "%s", m->version);
	if (m->type != FW_TYPE_FIRMWARE) {
		u->result = DEV_RESULT_FILE_NOT_MATCH;
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "a modification package, not firmware: 'upgrade' installs .pkg firmware bundles");
	}
	if ((u->req->golden ? dev_policy_golden(&u->pin, m, &u->plan, err) : dev_policy_check(&u->pin, m, &u->plan, err)) < 0) {
		u->result = DEV_RESULT_POLICY_REFUSED;
		return -1;
	}
	if ((u->first_manifest = malloc(rep->manifest_len ? rep->manifest_len : 1)) == NULL) {
		u->result = DEV_RESULT_SYSTEM_ERROR;
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	}
	memcpy(u->first_manifest, rep->manifest_bytes, rep->manifest_len);
	u->first_len = rep->manifest_len;
	if (u->plan.downgrade)
		dev_note(u->req->note, u->req->note_ctx, "upgrade: warning: %s is older than the running %s: restore factory defaults after the downgrade "
			"(copy the factory default configuration to the running one)", m->version, u->plan.running);
	if (u->plan.transition != 0)
		dev_note(u->req->note, u->req->note_ctx, "upgrade: %s image generation %u: writing secondary, bootloader and primary in one step; "
			"do not cut the power", u->plan.transition > 0 ? "entering" : "returning to", m->image_generation);
	if (u->plan.passes == 2)
		dev_note(u->req->note, u->req->note_ctx, "upgrade: the secondary is the only bootable image: writing the primary first, then reading "
			"the package again for the rest");
	/* From here on slots change: say so first, so a power cut shows up at the next boot. A new
	 * system image starts a new trial: its boot budget is whole. */
	u->st.last.result = DEV_RESULT_IN_PROGRESS;
	if (planned(&u->plan) & ((1u << FW_TARGET_PRI) | (1u << FW_TARGET_SEC)))
		u->st.trial_boots = 0;
	snprintf(u->st.last.message, sizeof(u->st.last.message), "writing %s", m->version);
	if (dev_state_save(u->root, &u->st, err) < 0) {
		u->result = DEV_RESULT_SYSTEM_ERROR;
		return -1;
	}
	return 0;
}

static int on_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct txn *u = ctx;

	u->rep = rep;
	if (u->pass == 0) {
		u->reached_manifest = 1;
		if (first_read_manifest(u, m, rep, err) < 0)
			return -1;
	} else if (rep->manifest_len != u->first_len || memcmp(rep->manifest_bytes, u->first_manifest, u->first_len) != 0) {
		u->result = DEV_RESULT_FILE_NOT_MATCH;
		return fw_err_set(err, FW_EXIT_REJECTED, "the package changed between its two reads: run the upgrade again");
	}
	u->result = DEV_RESULT_FILE_CHECK_FAILED;
	return 0;
}

static int on_begin(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct txn *u = ctx;
	struct dev_record inv;

	for (size_t i = 0; i < u->plan.n; i++) {
		enum fw_target t = u->plan.step[i].target;

		if (u->plan.step[i].payload != index || u->plan.step[i].pass != u->pass)
			continue;
		/* The record goes invalid, durably, before the first byte of the slot changes. */
		memset(&inv, 0, sizeof(inv));
		snprintf(inv.note, sizeof(inv.note), "incomplete: writing %s did not finish", m->version);
		if (dev_record_save(u->root, t, &inv, err) < 0) {
			u->result = DEV_RESULT_WRITE_FLASH_FAILED;
			return -1;
		}
		u->rec[t] = inv;
		u->touched |= 1u << t;
		dev_note(u->req->note, u->req->note_ctx, "upgrade: %s: writing %s %s (%llu bytes)", dev_slot_name(t), m->payloads[index].name,
		     m->version, (unsigned long long)m->payloads[index].size);
		if (dev_slot_open(&u->w, u->root, t, err) < 0) {
			u->result = DEV_RESULT_WRITE_FLASH_FAILED;
			return -1;
		}
		u->writing = 1;
		u->cur = i;
		return 1;
	}
	/* Another product's or target's image, or one for the other pass: verified, not written. */
	return 0;
}

static int on_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct txn *u = ctx;

	if (dev_slot_write(&u->w, buf, len, err) < 0) {
		u->result = DEV_RESULT_WRITE_FLASH_FAILED;
		return -1;
	}
	progress(u, 0);
	return 0;
}

static int commit(struct txn *u, enum fw_target t, const struct dev_record *rec, struct fw_err *err)
{
	if (dev_record_save(u->root, t, rec, err) < 0) {
		u->result = DEV_RESULT_WRITE_FLASH_FAILED;
		return -1;
	}
	u->rec[t] = *rec;
	u->out->installed |= 1u << t;
	dev_note(u->req->note, u->req->note_ctx, "upgrade: %s: %s verified and written", dev_slot_name(t), rec->version);
	return 0;
}

static int on_end(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct txn *u = ctx;
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
	/* Every chunk matched the signed list, and the slot's bytes are durable: it holds exactly the payload. */
	memset(&rec, 0, sizeof(rec));
	rec.valid = 1;
	snprintf(rec.version, sizeof(rec.version), "%s", m->version);
	snprintf(rec.bridge_down, sizeof(rec.bridge_down), "%s", m->bridge_down);
	rec.generation = m->image_generation;
	rec.size = p->size;
	rec.chunk_size = p->chunk_size;
	memcpy(rec.digest, p->digest, sizeof(rec.digest));
	rec.rollback_index = m->rollback_index;
	rec.installed = (long long)time(NULL);
	/* A new system image runs on trial until fwctl mark-good; the golden system is good as placed. */
	rec.trial = t == FW_TARGET_PRI || t == FW_TARGET_SEC;
	if (last_of_pass(&u->plan, u->cur)) {
		/* The package is not accepted until its end: what follows may still reject it. */
		u->staged = 1;
		u->staged_rec = rec;
		return 0;
	}
	return commit(u, t, &rec, err);
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

/* Remember how the attempt ended: the only trace a refused or failed upgrade leaves besides its slots. */
static int record(struct txn *u, enum dev_result res, const char *message, struct fw_err *err)
{
	char done[32], not_done[32];

	u->out->result = res;
	u->out->not_installed = planned(&u->plan) & ~u->out->installed;
	u->st.last.result = res;
	u->st.last.time = (long long)time(NULL);
	u->st.last.installed = u->out->installed;
	u->st.last.not_installed = u->out->not_installed;
	if (res != DEV_RESULT_SUCCESS && u->out->installed) {
		dev_targets_text(u->out->installed, done, sizeof(done));
		dev_targets_text(u->out->not_installed, not_done, sizeof(not_done));
		snprintf(u->st.last.message, sizeof(u->st.last.message), "%s (installed: %s; not installed: %s)",
			 message, done, not_done);
	} else {
		snprintf(u->st.last.message, sizeof(u->st.last.message), "%s", message);
	}
	return dev_state_save(u->root, &u->st, err);
}

/* A failure: sort it, record it, keep err as the reader or policy said it. */
static int fail(struct txn *u, enum dev_result res, struct fw_err *err)
{
	struct fw_err rerr = { 0, "" };

	if (u->writing) {
		dev_slot_abort(&u->w);
		u->writing = 0;
	}
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		if ((u->touched & (1u << t)) && !(u->out->installed & (1u << t)))
			dev_note(u->req->note, u->req->note_ctx, "upgrade: %s: holds no valid image now: run the upgrade again with an intact package",
			     dev_slot_name(t));
	if (res == DEV_RESULT_WRITE_FLASH_FAILED && err->code == FW_EXIT_REJECTED)
		err->code = FW_EXIT_IO;
	if (record(u, res, err->msg, &rerr) < 0)
		dev_note(u->req->note, u->req->note_ctx, "upgrade: the result could not be recorded: %s", rerr.msg);
	return -1;
}

/*
 * How the unpack hook ended, when that decides the outcome: 0 when it does not
 * (it exited 0, or it died of SIGPIPE because the reader stopped first and
 * says why), else -1 with err and *res.
 */
static int hook_verdict(struct txn *u, struct dev_hook *h, int read_failed, enum dev_result *res, struct fw_err *err)
{
	char first[160];
	int status;
	enum dev_hook_outcome o = dev_hook_finish(h, &status, u->st.last.hook_stderr, sizeof(u->st.last.hook_stderr));

	size_t len = strlen(u->st.last.hook_stderr);

	while (len > 0 && u->st.last.hook_stderr[len - 1] == '\n')
		u->st.last.hook_stderr[--len] = '\0';
	snprintf(first, sizeof(first), "%.159s", u->st.last.hook_stderr);
	first[strcspn(first, "\n")] = '\0';
	switch (o) {
	case DEV_HOOK_OK:
		return 0;
	case DEV_HOOK_REFUSED:
		*res = DEV_RESULT_SECURITY_VIOLATION;
		return fw_err_set(err, FW_EXIT_REJECTED, "the unpack hook refused the package (exit 1: security "
				  "violation)%s%s", first[0] ? ": " : "", first);
	case DEV_HOOK_TIMED_OUT:
		*res = DEV_RESULT_CANCELLED;
		return fw_err_set(err, FW_EXIT_REJECTED, "the unpack hook did not finish within %u s: stopped, "
				  "upgrade cancelled", u->root->cfg.hook_timeout);
	case DEV_HOOK_FAILED:
	default:
		/* Killed by SIGPIPE, or a shell reporting its child was (128 + 13): the reader stopped first. */
		if (read_failed && ((WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE) ||
				    (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGPIPE)))
			return 0;
		*res = DEV_RESULT_CANCELLED;
		if (WIFEXITED(status))
			return fw_err_set(err, FW_EXIT_REJECTED, "the unpack hook exited %d: upgrade cancelled%s%s",
					  WEXITSTATUS(status), first[0] ? ": " : "", first);
		return fw_err_set(err, FW_EXIT_REJECTED, "the unpack hook was killed by signal %d: upgrade cancelled",
				  WTERMSIG(status));
	}
}

/* One read of the package, writing the steps of pass u->pass; through the unpack hook when one is set. */
static int read_pass(struct txn *u, int *fdp, struct sig_trust *trust, struct fw_manifest **m, struct pkg_report *rep,
		     struct fw_err *err)
{
	/* No plain SHA-256 of the images: a second, serial hash of every byte would halve the install's speed;
	 * the record's digest (the signed chunk list's) identifies the image, as fwpkg inspect shows it. */
	struct pkg_read_opts ropts = { .trust = trust };
	struct pkg_reader_ops ops = { on_manifest, on_begin, on_data, on_end };
	struct dev_hook *hook = NULL;
	struct fw_err herr = { 0, "" };
	enum dev_result res;
	int fd = *fdp, in, rc;

	/* A second read starts at byte 0: a network source is fetched again (the transport seeks). */
	if (u->pass > 0 && u->net != NULL) {
		if (dev_transport_seek(u->net, 0, err) < 0 || (fd = *fdp = dev_transport_fd(u->net, err)) < 0) {
			net_err(u, err);
			return fail(u, err->code == FW_EXIT_NET ? DEV_RESULT_NET_ERROR : DEV_RESULT_SYSTEM_ERROR, err);
		}
	} else if (u->pass > 0 && lseek(fd, 0, SEEK_SET) != 0) {
		fw_err_set(err, FW_EXIT_IO, "cannot read the package again: %s", strerror(errno));
		return fail(u, DEV_RESULT_SYSTEM_ERROR, err);
	}
	in = fd;
	/* Bytes from a server or through a hook come no faster than one core
	 * hashes them (SHA-NI: about 1.8 GB/s): hashing them as they arrive
	 * needs two chunk buffers instead of one per core plus one. */
	if (u->net != NULL || u->root->cfg.unpack_hook != NULL)
		ropts.threads = CHUNK_PIPE_ON_FEED;
	clock_gettime(CLOCK_MONOTONIC, &u->pass_start);
	fw_manifest_free(*m);
	*m = NULL;
	pkg_report_free(rep);
	memset(rep, 0, sizeof(*rep));
	u->staged = 0;
	if (u->root->cfg.unpack_hook != NULL &&
	    dev_hook_start(u->root->cfg.unpack_hook, fd, u->root->cfg.hook_timeout, &hook, &in, err) < 0)
		return fail(u, DEV_RESULT_SYSTEM_ERROR, err);
	rc = pkg_read(in, &ropts, &ops, u, m, rep, err);
	if (u->net != NULL) {
		struct fw_err nerr = { 0, "" };

		progress(u, 1);
		*fdp = -1;
		/* A stream cut short looks like a short package to the reader (and to a hook): the
		 * transport's failure is what happened, so it is reported first, as netError. */
		if (dev_transport_fd_finish(u->net, &nerr) < 0) {
			if (hook != NULL)
				(void)hook_verdict(u, hook, 1, &res, &herr);
			*err = nerr;
			net_err(u, err);
			return fail(u, DEV_RESULT_NET_ERROR, err);
		}
	}
	/* The hook's verdict comes before the package's: its output only had to be read to be judged. */
	if (hook != NULL && hook_verdict(u, hook, rc < 0, &res, &herr) < 0) {
		*err = herr;
		return fail(u, res, err);
	}
	if (rc < 0) {
		res = u->reached_manifest ? u->result : early_failure(rep, err);
		if (res == DEV_RESULT_FILE_CHECK_FAILED && err->code != FW_EXIT_REJECTED)
			res = DEV_RESULT_SYSTEM_ERROR;   /* reading failed, not the package */
		return fail(u, res, err);
	}
	/* The whole package is accepted: now the pass's last image counts. */
	if (u->staged && commit(u, u->plan.step[u->cur].target, &u->staged_rec, err) < 0)
		return fail(u, u->result, err);
	u->staged = 0;
	return 0;
}

static void start(struct txn *u, struct dev_root *r, const struct dev_upgrade_req *req, struct dev_upgrade_out *out,
		  int rereadable)
{
	u->root = r;
	u->req = req;
	u->out = out;
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		dev_record_load(r, t, &u->rec[t]);
	for (int t = 0; t < FW_TARGET_COUNT; t++)
		u->pin.rec[t] = &u->rec[t];
	u->pin.golden = &u->rec[DEV_SLOT_GOLDEN];
	u->pin.product = r->cfg.product;
	u->pin.tpm = r->cfg.tpm;
	u->pin.all = req->all;
	u->pin.target = req->target;
	u->pin.force = req->force;
	u->pin.rereadable = rereadable;
	u->pin.rollback_index = u->st.rollback_index;
	memset(&u->st.last, 0, sizeof(u->st.last));
	u->st.last.time = (long long)time(NULL);
	snprintf(u->st.last.target, sizeof(u->st.last.target), "%s",
		 req->golden ? "golden" : req->all ? "all" : fw_target_name(req->target));
	fw_escape(req->src->shown, u->st.last.source, sizeof(u->st.last.source));
}

json_t *dev_progress_load(const struct dev_root *r)
{
	char *path = dev_root_file(r, DEV_PROGRESS_FILE);
	json_t *doc = path ? json_load_file(path, 0, NULL) : NULL;

	free(path);
	if (doc != NULL && !json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

void dev_progress_clear(const struct dev_root *r)
{
	char *path = dev_root_file(r, DEV_PROGRESS_FILE);

	if (path != NULL)
		unlink(path);
	free(path);
}

/* Open a network source: the transport with the device's network settings, and the fd the reader reads. */
static int net_open(struct txn *u, int *fd, struct fw_err *err)
{
	dev_transport_opts_init(&u->nopts);
	u->nopts.ca_file = u->root->cfg.ca_file;
	u->nopts.low_speed_limit = u->root->cfg.low_speed_limit;
	u->nopts.low_speed_time = u->root->cfg.low_speed_time;
	u->nopts.retries = u->root->cfg.net_retries;
	if ((u->progress_path = dev_root_file(u->root, DEV_PROGRESS_FILE)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (dev_transport_open(&u->net, u->req->src, &u->nopts, 0, err) < 0) {
		net_err(u, err);
		return -1;
	}
	/* Read before the fd thread starts: info is the thread's while it runs. */
	if (dev_transport_info(u->net)->id.size > 0)
		u->net_total = (uint64_t)dev_transport_info(u->net)->id.size;
	*fd = dev_transport_fd(u->net, err);
	return *fd < 0 ? -1 : 0;
}

int dev_upgrade(struct dev_root *r, const struct dev_upgrade_req *req, struct dev_upgrade_out *out,
		struct fw_err *err)
{
	static struct txn u;   /* big: records, plan and state */
	struct sig_trust trust;
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	int fd = -1, rereadable = 0, rc = -1;

	memset(&u, 0, sizeof(u));
	memset(out, 0, sizeof(*out));
	memset(&rep, 0, sizeof(rep));
	if (dev_state_load(r, &u.st, err) < 0)
		return -1;
	dev_progress_clear(r);
	/* A label the device does not have is a typing mistake, not an attempt: nothing to record. */
	if (req->src->kind == DEV_SRC_MEDIA && dev_root_media(r, req->src->label) == NULL)
		return fw_err_set(err, FW_EXIT_USAGE,
				  "no medium labelled \"%s\" on this device (media labels come from fwctl init --media)",
				  req->src->label);
	if (req->src->kind == DEV_SRC_NET) {
		/* A network source can be fetched again from byte 0: it counts as re-readable. */
		start(&u, r, req, out, 1);
		if (net_open(&u, &fd, err) < 0) {
			fail(&u, err->code == FW_EXIT_NET ? DEV_RESULT_NET_ERROR : DEV_RESULT_SYSTEM_ERROR, err);
			goto out;
		}
	} else {
		fd = dev_source_open(r, req->src, &rereadable, err);
		start(&u, r, req, out, rereadable);
		if (fd < 0) {
			fail(&u, err->code == FW_EXIT_IO ? DEV_RESULT_SYSTEM_ERROR : DEV_RESULT_POLICY_REFUSED, err);
			return -1;
		}
	}
	if (dev_root_trust(r, &trust, err) < 0) {
		err->code = FW_EXIT_IO;
		fail(&u, DEV_RESULT_SYSTEM_ERROR, err);
		goto out;
	}
	for (u.pass = 0; u.pass < (u.reached_manifest ? u.plan.passes : 1); u.pass++)
		if (read_pass(&u, &fd, &trust, &m, &rep, err) < 0)
			goto out;
	if (u.out->installed != planned(&u.plan)) {
		fw_err_set(err, FW_EXIT_IO, "wrote %u of %zu images", (unsigned)__builtin_popcount(u.out->installed),
			   u.plan.n);
		fail(&u, DEV_RESULT_SYSTEM_ERROR, err);
		goto out;
	}
	{
		char msg[64], done[32];
		dev_targets_text(out->installed, done, sizeof(done));
		snprintf(msg, sizeof(msg), "wrote %s", done);
		/* A golden system just placed is what the next boot starts. */
		if (req->golden)
			u.st.golden_next = 1;
		if (record(&u, DEV_RESULT_SUCCESS, msg, err) < 0)
			goto out;
	}
	rc = 0;
out:
	if (u.net != NULL) {
		const struct dev_transport_info *ni;
		struct fw_err ignored;

		if (fd >= 0)
			(void)dev_transport_fd_finish(u.net, &ignored);
		ni = dev_transport_info(u.net);
		dev_note(u.req->note, u.req->note_ctx, "upgrade: fetched %llu bytes over %s (%u connection%s, %u interruption%s)",
		     (unsigned long long)ni->fetched, dev_proto_name(ni->proto), ni->attempts, ni->attempts == 1 ? "" : "s",
		     ni->interruptions, ni->interruptions == 1 ? "" : "s");
		dev_transport_close(u.net);
		unlink(u.progress_path);
	} else if (fd > STDIN_FILENO) {
		close(fd);
	}
	free(u.progress_path);
	free(u.first_manifest);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	sig_trust_free(&trust);   /* CA certificates and CRLs live in an X.509 store */
	return rc;
}
