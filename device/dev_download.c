/* dev_download: fetch the next release into ROOT/download, verified as it arrives, resumable after a power cut. */
#include "device/dev_download.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/crash.h"
#include "base/outfile.h"
#include "device/dev_check.h"
#include "device/dev_intake.h"
#include "device/dev_policy.h"
#include "device/dev_slot.h"
#include "device/dev_smart.h"
#include "formats/chunk.h"
#include "formats/pkg_read.h"
#include "signing/trust.h"

/*
 * The stream pkg_read verifies comes from the intake (dev_intake): the bytes
 * already in the part file first (read back, not trusted), then the
 * network's from the first missing byte, each network byte written into the
 * part file (the tee of the source) before the hook, when one is set, and the
 * reader see it. The reader's thread, as each
 * verified chunk goes by, fsyncs the file and records how far it is, once the
 * manifest checked out: the progress a power cut keeps.
 */
struct dl {
	struct dev_root *r;
	struct dev_smart_state *s;
	struct dev_source src;        /* the mirror the intake reads */
	struct dev_intake in;
	enum dev_result stage;        /* what a failure past the manifest is: fileNotMatch, or fileCheckFailed */
	int part_fd;
	char *part_path;
	uint64_t have;                /* bytes in the part file at the start */
	uint64_t synced;              /* bytes fsync'd and recorded */
	uint64_t unsynced;            /* bytes verified since the last record */
	int manifest_ok;              /* the manifest is the one the catalog names */
	int mismatch;                 /* ... or another one (fileNotMatch) */
	int unbound;                  /* the catalog's words of it are not its manifest's: refused for good */
	double started;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fsync the part file and record how far it is. */
static int checkpoint(struct dl *d, struct fw_err *err)
{
	uint64_t done = dev_intake_done(&d->in);   /* every byte before it is in the file (tee, then delivery) */
	double dt = now_s() - d->started;

	fw_crash_point("fsync of", d->part_path);
	if (fsync(d->part_fd) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: fsync: %s", d->part_path, strerror(errno));
	d->s->dl_bytes = done;
	if (dt > 0)
		d->s->dl_speed = (uint64_t)((double)(done - d->have) / dt);
	if (dev_smart_save(d->r, d->s, err) < 0)
		return -1;
	d->synced = done;
	return 0;
}

/* Open the step's package at `offset` on its first mirror that answers; its identity goes to the state. */
static int open_net(struct dl *d, uint64_t offset, const struct dev_transport_opts *o, int *changed, struct fw_err *err)
{
	const struct dev_smart_release *st = &d->s->step;
	enum dev_result res;
	struct dev_transport_opts mo = *o;
	double start = now_s();

	*changed = 0;
	for (unsigned i = 0; i < st->n_urls; i++) {
		const char *url = st->url[i];

		/* transfer-timeout bounds the download, not each mirror: the next one gets what is left. */
		if (o->timeout > 0 && i > 0) {
			long left = o->timeout - (long)(now_s() - start);

			if (left <= 0)
				break;   /* err says why the last mirror failed */
			mo.timeout = left;
		}
		if (dev_source_parse(1, (char *const *)&url, &d->src, err) < 0)
			continue;
		if (d->src.kind != DEV_SRC_NET) {
			fw_err_set(err, FW_EXIT_NET, "%s: not a network source", d->src.shown);
			continue;
		}
		if (dev_intake_open(&d->in, d->r, &d->src, "download", &mo, offset, &res, err) == 0) {
			const struct dev_transport_info *ti = dev_transport_info(d->in.net);
			snprintf(d->s->dl_etag, sizeof(d->s->dl_etag), "%s", ti->id.etag);
			d->s->dl_mtime = ti->id.mtime;
			d->s->dl_size = ti->id.size;
			return 0;
		}
		/* A changed file is the same on every mirror: start over rather than try the next. */
		if (err->kind == FW_KIND_CHANGED) {
			*changed = 1;
			break;
		}
	}
	return -1;
}

/*
 * Every word the catalog said of the release and the device decided on must
 * be the signed manifest's own: a validly signed catalog that lists an old
 * package under a newer version, another product, generation, bridge,
 * rollback index or TPM mark installs nothing.
 */
static int bound(const struct fw_manifest *m, const struct dev_smart_release *st, struct fw_err *err)
{
	int product = 0;

	for (size_t i = 0; i < m->n_products; i++)
		product |= strcmp(m->products[i], st->product) == 0;
	if (m->type != FW_TYPE_FIRMWARE)
		return fw_err_set(err, FW_EXIT_REJECTED, "a %s package, not firmware", fw_pkg_type_name(m->type));
	if (strcmp(m->version, st->version) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "its manifest says version %s, the catalog says %s", m->version,
				  st->version);
	if (!product)
		return fw_err_set(err, FW_EXIT_REJECTED, "its manifest is not for product %s, as the catalog says",
				  st->product[0] ? st->product : "(none)");
	if (m->image_generation != st->generation)
		return fw_err_set(err, FW_EXIT_REJECTED, "its manifest says generation %u, the catalog says %u",
				  (unsigned)m->image_generation, (unsigned)st->generation);
	if (strcmp(m->bridge_from, st->bridge_from) != 0 || strcmp(m->bridge_down, st->bridge_down) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "its manifest says bridge_from \"%s\", bridge_down \"%s\"; "
				  "the catalog says \"%s\", \"%s\"", m->bridge_from, m->bridge_down, st->bridge_from,
				  st->bridge_down);
	if (m->rollback_index != st->rollback_index)
		return fw_err_set(err, FW_EXIT_REJECTED, "its manifest says rollback index %llu, the catalog says %llu",
				  (unsigned long long)m->rollback_index, (unsigned long long)st->rollback_index);
	if (!m->requires_tpm != !st->requires_tpm)
		return fw_err_set(err, FW_EXIT_REJECTED, "its manifest says requires_tpm %s, the catalog says %s",
				  m->requires_tpm ? "true" : "false", st->requires_tpm ? "true" : "false");
	return 0;
}

/* pkg_read's look at the manifest: the one the catalog names, and as it names it, or nothing is kept. */
static int on_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct dl *d = ctx;
	uint8_t digest[FW_DIGEST_LEN];

	d->stage = DEV_RESULT_FILE_NOT_MATCH;
	char want[2 * FW_DIGEST_LEN + 1], got[2 * FW_DIGEST_LEN + 1];

	if (chunk_sha256(rep->manifest_bytes, rep->manifest_len, digest) < 0)
		return fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
	if (memcmp(digest, d->s->step.manifest_sha256, FW_DIGEST_LEN) != 0) {
		d->mismatch = 1;
		fw_hex(d->s->step.manifest_sha256, FW_DIGEST_LEN, want);
		fw_hex(digest, FW_DIGEST_LEN, got);
		return fw_err_set(err, FW_EXIT_REJECTED, "its manifest.json's SHA-256 is %.16s..., the catalog says "
				  "%.16s... (another package than the catalog names)", got, want);
	}
	if (bound(m, &d->s->step, err) < 0) {
		d->mismatch = d->unbound = 1;
		return -1;
	}
	/* The install's own policy, before a payload byte is fetched: a package it would refuse is not downloaded. */
	if (dev_check_policy(d->r, m, err) < 0) {
		if (err->kind == FW_KIND_MISMATCH) {
			d->mismatch = 1;   /* a delta whose base no slot holds: fileNotMatch, as the install says */
		} else if (err->code != FW_EXIT_IO) {
			d->stage = DEV_RESULT_POLICY_REFUSED;
			d->manifest_ok = 1;   /* the catalog's package, refused as it is */
		}
		return -1;
	}
	d->manifest_ok = 1;
	d->stage = DEV_RESULT_FILE_CHECK_FAILED;
	return 0;
}

/* Every payload's verified chunks come by here: the time to make them durable. */
/* More chunks verified: the bytes before them are in the file (the tee writes before it delivers). */
static int on_verified(void *ctx, uint64_t bytes, struct fw_err *err)
{
	struct dl *d = ctx;

	d->unsynced += bytes;
	/* Read back from the disk, nothing new arrives: only a fetch has progress to record. */
	if (d->in.net != NULL && d->manifest_ok && d->unsynced >= DEV_DOWNLOAD_SYNC) {
		d->unsynced = 0;
		return checkpoint(d, err);
	}
	return 0;
}

void dev_download_discard(const struct dev_root *r)
{
	const char *names[] = { DEV_DOWNLOAD_PART, DEV_DOWNLOAD_FILE };

	for (size_t i = 0; i < 2; i++) {
		char *p = dev_root_file(r, names[i]);
		if (p != NULL && access(p, F_OK) == 0) {
			fw_crash_point("removing", p);
			unlink(p);
		}
		free(p);
	}
}

/* Record the attempt's end in the state. */
static void record(struct dev_root *r, struct dev_smart_state *s, int64_t now, const char *result, const char *msg)
{
	struct fw_err ignore;

	s->dl_time = now;
	snprintf(s->dl_result, sizeof(s->dl_result), "%s", result);
	snprintf(s->dl_message, sizeof(s->dl_message), "%s", msg);
	dev_smart_save(r, s, &ignore);
}

/* A refused package: nothing of it is kept. */
static void drop(struct dev_root *r, struct dev_smart_state *s, struct dl *d)
{
	close(d->part_fd);
	d->part_fd = -1;
	dev_download_discard(r);
	s->dl_bytes = 0;
	s->dl_etag[0] = '\0';
	s->dl_mtime = s->dl_size = -1;
}

/*
 * Is the refusal about the package the catalog names, for good? Its
 * manifest is the catalog's (its SHA-256) and says otherwise than the
 * catalog, or carries no signature this device trusts, or the policy
 * refused it. Not when the bytes are not the catalog's package at all (a
 * damaged transfer, another file): that can be put right on the server.
 * A delta, though, is refused for good whatever was wrong with it: the full
 * package is there to fall back on, and a damaged delta fetched again at
 * every interval would keep the device from ever updating.
 */
static int refused_for_good(const struct dl *d, enum dev_result res, const struct pkg_report *rep)
{
	uint8_t digest[FW_DIGEST_LEN];

	if (d->unbound || d->s->step.delta || (res == DEV_RESULT_POLICY_REFUSED && d->manifest_ok))
		return 1;
	return res == DEV_RESULT_SIGNATURE_FAILED && rep != NULL && rep->manifest_bytes != NULL &&
	       chunk_sha256(rep->manifest_bytes, rep->manifest_len, digest) == 0 &&
	       memcmp(digest, d->s->step.manifest_sha256, FW_DIGEST_LEN) == 0;
}

/* The step refused for what it is: never chosen again, and the next check looks for another way at once. */
static void never_again(struct dev_root *r, struct dev_smart_state *s, const char *result, int64_t now)
{
	struct dev_record rec[FW_TARGET_COUNT];
	const struct dev_record *run;
	struct fw_err ignore;

	for (int t = 0; t < FW_TARGET_COUNT; t++)
		dev_record_load(r, t, &rec[t]);
	/* A board that cannot tell what runs: recorded against none (the check stops on such a board first). */
	if (dev_running_now(r, &rec[FW_TARGET_PRI], &rec[FW_TARGET_SEC], &run, NULL, &ignore) < 0)
		run = NULL;
	dev_smart_refuse_step(s, result, run != NULL ? run->version : "");
	dev_smart_forget_step(s);
	s->next_check = now;
}

/* A package refused (not the one named, not whole, not good, refused by the hook): its result recorded, nothing of it kept. */
static void refuse_package(struct dev_root *r, struct dev_smart_state *s, struct dl *d, enum dev_result res, int64_t now,
			   const struct pkg_report *rep, struct dev_download_out *out, struct fw_err *err)
{
	if (err->code != FW_EXIT_IO)
		err->code = FW_EXIT_REJECTED;
	snprintf(out->result, sizeof(out->result), "%s", dev_result_name(d->mismatch ? DEV_RESULT_FILE_NOT_MATCH : res));
	fw_err_wrap(err, "%s", s->step.url[0]);
	drop(r, s, d);
	s->dl_failures = 0;
	if (refused_for_good(d, res, rep))
		never_again(r, s, out->result, now);
	record(r, s, now, out->result, err->msg);
}

/* One run; *restart when the file changed on the server: what was fetched is deleted, and the caller runs again. */
static int download_once(struct dev_root *r, int64_t now, int last, int *restart, struct dev_download_out *out,
			 struct fw_err *err)
{
	struct dev_smart_state s;
	struct sig_trust trust;
	static struct dl d;   /* big: the source words */
	struct dev_transport_opts o;
	struct pkg_read_opts po;
	struct pkg_reader_ops ops = { .manifest = on_manifest };
	struct fw_manifest *m = NULL;
	struct pkg_report rep;
	struct stat sb;
	char *dir = NULL, *final = NULL;
	int have_trust = 0, rc = -1, changed = 0;
	long retry_after = 0;
	enum dev_result res;
	double dt;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	memset(&rep, 0, sizeof(rep));
	d.part_fd = -1;
	d.in.fd = d.in.tee_fd = -1;
	if (dev_smart_load(r, &s, err) < 0)
		return -1;
	if (!s.has_step && s.check_result != DEV_CHECK_NONE && s.check_result != DEV_CHECK_NEED_UPDATE &&
	    s.check_result != DEV_CHECK_VERSION_OPTIMAL)
		return fw_err_set(err, FW_EXIT_USAGE, "nothing to download: the last check failed (%s: %s): run fwctl "
				  "check again", dev_check_result_name(s.check_result), s.check_message);
	if (!s.has_step)
		return fw_err_set(err, FW_EXIT_USAGE, "nothing to download: the last check found no update (fwctl check)");
	snprintf(out->version, sizeof(out->version), "%s", s.step.version);
	out->length = s.step.length;
	out->delta = s.step.delta;
	out->full_length = s.step.full_length;
	if (s.dl_complete) {
		out->already = 1;
		snprintf(out->result, sizeof(out->result), "success");
		return 0;
	}
	d.r = r;
	d.s = &s;
	d.stage = DEV_RESULT_FILE_CHECK_FAILED;
	if ((dir = dev_root_file(r, DEV_DOWNLOAD_DIR)) == NULL || (d.part_path = dev_root_file(r, DEV_DOWNLOAD_PART)) == NULL ||
	    (final = dev_root_file(r, DEV_DOWNLOAD_FILE)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fw_err_set(err, FW_EXIT_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((d.part_fd = open(d.part_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    fstat(d.part_fd, &sb) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: %s", d.part_path, strerror(errno));
		goto out;
	}
	/* Resume from what is on disk (the reader verifies it again); more than the package is not what the catalog names. */
	d.have = (uint64_t)sb.st_size <= s.step.length ? (uint64_t)sb.st_size : 0;
	if (d.have == 0 && sb.st_size > 0 && ftruncate(d.part_fd, 0) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: truncate: %s", d.part_path, strerror(errno));
		goto out;
	}
	d.synced = d.have;
	out->resumed_from = d.have;
	sig_trust_init(&trust);
	have_trust = 1;
	if (dev_root_trust(r, &trust, err) < 0) {
		err->code = FW_EXIT_IO;
		goto out;
	}
	d.started = now_s();
	if (d.have < s.step.length) {
		struct dev_transport_id expect;

		dev_root_net_opts(r, &o);
		o.max_bytes = s.step.length;
		o.retry_after = &retry_after;
		/* The file the bytes on disk came from, or none at all: never another one spliced on. */
		if (d.have > 0 && (s.dl_etag[0] || s.dl_mtime >= 0 || s.dl_size >= 0)) {
			snprintf(expect.etag, sizeof(expect.etag), "%s", s.dl_etag);
			expect.mtime = s.dl_mtime;
			expect.size = s.dl_size;
			o.expect = &expect;
		}
		if (open_net(&d, d.have, &o, &changed, err) < 0) {
			/* Longer than the catalog says: not the package it names, whatever the network did. */
			if (err->kind == FW_KIND_MISMATCH) {
				d.mismatch = 1;
				refuse_package(r, &s, &d, DEV_RESULT_FILE_NOT_MATCH, now, NULL, out, err);
				goto out;
			}
			if (err->kind == FW_KIND_CANCELLED)
				goto cancelled;
			goto net_failed;
		}
		if (d.have > 0 && dev_intake_splice(&d.in, 0, d.have, d.part_fd, err) < 0)
			goto out;
		dev_intake_tee(&d.in, d.part_fd, DEV_INTAKE_TEE_SOURCE);
	} else {
		/* Every byte is on disk already: read back, verified again, nothing fetched. */
		int fd = dup(d.part_fd);

		if (fd < 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: %s", d.part_path, strerror(errno));
			goto out;
		}
		dev_intake_open_fd(&d.in, r, fd, "download");
		d.in.drain = 1;   /* read to its end: its length is checked against the catalog's */
	}
	d.in.total = s.step.length;
	memset(&po, 0, sizeof(po));
	po.trust = &trust;
	/* Verify only (the tee keeps the bytes): each chunk hashed where the reader has it, no chunk buffer. */
	po.threads = CHUNK_PIPE_ON_FEED;
	po.chunks_verified = on_verified;
	res = dev_intake_read(&d.in, &po, &ops, &d, &d.stage, &m, &rep, err);
	dt = now_s() - d.started;
	out->fetched = d.in.net ? dev_transport_info(d.in.net)->fetched : 0;
	out->interruptions = d.in.net ? dev_transport_info(d.in.net)->interruptions : 0;
	if (d.in.net != NULL) {
		const struct dev_transport_info *ti = dev_transport_info(d.in.net);

		/* As upgrade says it: the bytes on disk were not what saved the fetch (curl -C - says the same). */
		out->range_ignored = dev_transport_range_ignored(ti) && (d.have > 0 || ti->interruptions > 0);
	}
	out->speed = dt > 0 ? (uint64_t)((double)d.in.stats.net_bytes / dt) : 0;
	s.dl_speed = out->speed;
	/* Longer than the catalog says: not the package it names, whatever the network did. */
	if (res == DEV_RESULT_NET_ERROR && err->kind == FW_KIND_MISMATCH)
		d.mismatch = 1;
	if (res == DEV_RESULT_CANCELLED && err->kind == FW_KIND_CANCELLED && !d.mismatch) {
		if (d.manifest_ok && dev_intake_done(&d.in) > d.synced) {
			struct fw_err ignore;
			checkpoint(&d, &ignore);   /* what arrived stays, for the next run to resume from */
		}
		goto cancelled;
	}
	if (dev_result_network(res) && !d.mismatch) {
		changed = dev_transport_info(d.in.net)->changed;
		if (!changed && d.manifest_ok && dev_intake_done(&d.in) > d.synced) {
			struct fw_err ignore;
			checkpoint(&d, &ignore);   /* keep what arrived for the next attempt */
		}
		goto net_failed;
	}
	/* Writing the file or reading it back failed: the device's fault, not the package's; progress kept. */
	if (res == DEV_RESULT_SYSTEM_ERROR && !d.mismatch) {
		snprintf(out->result, sizeof(out->result), "systemError");
		record(r, &s, now, out->result, err->msg);
		goto out;
	}
	if (res == DEV_RESULT_SUCCESS && dev_intake_done(&d.in) != s.step.length) {
		/* A whole, verified package of another length than the catalog's is not the one it names. */
		d.mismatch = 1;
		res = DEV_RESULT_FILE_NOT_MATCH;
		fw_err_set(err, FW_EXIT_REJECTED, "%llu bytes, the catalog says %llu",
			   (unsigned long long)dev_intake_done(&d.in), (unsigned long long)s.step.length);
	}
	if (res != DEV_RESULT_SUCCESS) {
		refuse_package(r, &s, &d, res, now, &rep, out, err);
		goto out;
	}
	/* Whole and verified: durable under its final name, then the state says so. */
	fw_crash_point("fsync of", d.part_path);
	if (fsync(d.part_fd) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: fsync: %s", d.part_path, strerror(errno));
		goto out;
	}
	fw_crash_point("rename onto", final);
	if (rename(d.part_path, final) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: rename: %s", final, strerror(errno));
		goto out;
	}
	if (fw_fsync_dir(dir, err) < 0)
		goto out;
	s.dl_bytes = s.step.length;
	s.dl_complete = 1;
	s.dl_complete_time = now;
	s.dl_failures = 0;
	s.dl_retry_after = 0;
	snprintf(out->result, sizeof(out->result), "success");
	s.dl_time = now;
	snprintf(s.dl_result, sizeof(s.dl_result), "success");
	s.dl_message[0] = '\0';
	if (dev_smart_save(r, &s, err) < 0)
		goto out;
	rc = 0;
	goto out;
cancelled:
	/* The user's stop: progress kept, no backoff (nothing failed), the next run resumes. */
	snprintf(out->result, sizeof(out->result), "%s", dev_result_name(DEV_RESULT_CANCELLED));
	record(r, &s, now, out->result, err->msg);
	goto out;
net_failed:
	/* Progress kept (unless the file changed on the server); the next attempt backs off, or waits as long
	 * as a busy server asked (Retry-After, never longer than the check interval). */
	if (changed)
		drop(r, &s, &d);
	/* The file changed on the server: not a network error. What was fetched is deleted and the file is
	 * downloaded again, in this run (once: a file that keeps changing is the network's trouble). */
	if (changed && !last) {
		struct fw_err ignore;

		*restart = 1;
		dev_smart_save(r, &s, &ignore);
		goto out;
	}
	snprintf(out->result, sizeof(out->result), "%s", dev_result_name(dev_result_of_net(err)));
	if (s.step.delta && err->kind == FW_KIND_NOT_FOUND) {
		/* A delta no mirror has: the full package the catalog names is there to fall back on. */
		drop(r, &s, &d);
		s.dl_failures = 0;
		never_again(r, &s, out->result, now);
	} else {
		s.dl_failures++;
		s.dl_retry_after = now + dev_smart_retry_wait(s.dl_failures, r->cfg.smart.interval, retry_after);
	}
	record(r, &s, now, out->result, err->msg);
out:
	dev_intake_close(&d.in);
	if (d.part_fd >= 0)
		close(d.part_fd);
	if (have_trust)
		sig_trust_free(&trust);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	free(dir);
	free(final);
	free(d.part_path);
	return rc;
}

int dev_download(struct dev_root *r, int64_t now, struct dev_download_out *out, struct fw_err *err)
{
	int restart = 0, rc = download_once(r, now, 0, &restart, out, err);

	if (restart) {
		struct dev_download_out first = *out;

		memset(err, 0, sizeof(*err));
		rc = download_once(r, now, 1, &restart, out, err);
		out->changed = 1;
		out->fetched += first.fetched;
		out->range_ignored |= first.range_ignored;
	}
	return rc;
}
