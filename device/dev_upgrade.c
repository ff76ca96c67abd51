/* dev_upgrade: one upgrade as a transaction over the streaming reader: plan, verify, stage, commit. */
#include "dev_upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cancel.h"
#include "base/escape.h"
#include "base/isotime.h"
#include "base/outfile.h"
#include "device/dev_intake.h"
#include "device/dev_resume.h"
#include "device/dev_policy.h"
#include "device/dev_slot.h"
#include "formats/chunk.h"
#include "formats/pkg_read.h"

/*
 * How far a network upgrade records its progress (dev_resume.h): the record
 * vouches for the bytes of the slot whose writeback completed (dev_slot's
 * write-behind windows of 8 MiB, sync_file_range WAIT_AFTER), and is replaced
 * durably when that advances: at the first window of each image, then at most
 * once every DEV_RESUME_SECONDS. Each durable replacement costs about an
 * fdatasync of the slot (ext4 commits the slot's new blocks with it): in make
 * bench at 256 MiB, a record every window took 1.55x curl && sync, an
 * fdatasync every 8 MiB 2.2x, every 1 MiB chunk 3x; once a second costs
 * nothing measurable. Each image's chunk list is kept beside the record before
 * its first byte, so a resume counts every chunk the slot holds that matches
 * it (dev_resume_extend), not only those the record had vouched for: a cut
 * costs the bytes in flight and, after a real power loss, those not yet
 * written back (two windows at most). The record is a hint,
 * never trusted: were a power cut to lose bytes it vouches for, the reader
 * would reject them and the upgrade start over. fwctl(8), "Resuming after a
 * power cut".
 */
#define DEV_RESUME_SECONDS 1.0

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
	enum fw_target staged_t;       /* ... its slot (a step verified in place may follow it: cur moves on) */
	unsigned touched;              /* slots whose record went not valid */
	struct dev_intake in;          /* the source, its kept bytes, the hook, the reader */
	/* Resuming after a power cut (dev_resume.h): network sources without an unpack hook. */
	int resume_on;                 /* this run keeps ROOT/DEV_RESUME_FILE up to date */
	int resuming;                  /* res came from an interrupted run of the same upgrade */
	int restart;                   /* the interrupted run's bytes are of no use: start over without them */
	struct dev_resume res;         /* what the record says, as this run goes */
	int slot_fd[DEV_SLOT_COUNT];   /* read-only slot descriptors for the feed's local ranges; -1 */
	uint64_t skip;                 /* bytes of the image in writing that its slot holds already */
	uint64_t delivered;            /* bytes of that image handed to on_data so far */
	uint64_t synced;               /* bytes of that image the record vouches for */
	struct timespec saved_at;      /* when a window's bytes were last recorded */
	int in_place;                  /* plan.step[cur]'s image is whole in its slot: verified there, not written */
	unsigned inherited;            /* 1 << slot for each image entry the interrupted run recorded */
	/* plan.step[cur]'s image travels compressed (a delta rebuilt from its base too): its slot holds
	 * decoded bytes, no package bytes, so the record names where a frame begins (dev_resume.h) and a
	 * resume continues there (formats/pkg.md); the frame size, the image's and the payload's sizes, the
	 * compressed piece size. An image copied whole from another slot (a delta's, PKG_DELTA_TARGET:
	 * copying) is never named: it needs no byte of the package, and a resume copies it again. */
	int compressed, copying;
	uint64_t z_frame, z_image, z_size, z_piece;
	int zcontinued;                /* this pass continued a compressed image at a frame (resume_at) */
	int delta_fd;                  /* the slot a delta's image is rebuilt (or copied) from, read-only; -1 */
	int delta_src;                 /* ... which it is, for the payload on_delta was last asked about (PKG_DELTA_*) */
	int delta_here;                /* ... which is its own slot, holding the image already: verified there, not written */
	char delta_from[32];           /* ... named for messages: "the image in pri" */
	unsigned recorded;             /* ... and for each entry the record on disk holds */
	char *progress_path;           /* ROOT/DEV_PROGRESS_FILE while a network source is read */
	uint64_t net_total;            /* the file's size as the server said at open; 0 unknown */
	struct timespec pass_start, last_progress;
};

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
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
	char *text, when[FW_ISOTIME_LEN];
	double secs;

	if (u->in.net == NULL)
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
	p.done = dev_intake_done(&u->in);
	p.total = u->net_total;
	p.speed = secs > 0.001 ? (uint64_t)((double)p.done / secs) : 0;
	p.last = last;
	if (u->req->progress != NULL)
		u->req->progress(u->req->progress_ctx, &p);
	if (u->progress_path == NULL)
		return;
	doc = json_pack("{s:o, s:I, s:o, s:I, s:i, s:i, s:s}", "source", fw_json_text(u->req->src->shown), "bytes", (json_int_t)p.done,
			"total", p.total ? json_integer((json_int_t)p.total) : json_null(), "speed", (json_int_t)p.speed,
			"pass", (int)p.pass, "passes", (int)p.passes, "updated", fw_time_iso((int64_t)time(NULL), when));
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

/* A note of this transaction, named by its command: "upgrade: ..." or, for a golden install, "golden: ...". */
static void tnote(const struct txn *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tnote(const struct txn *u, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (u->req == NULL || u->req->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	dev_note(u->req->note, u->req->note_ctx, "%s: %s", u->req->golden ? "golden" : "upgrade", text);
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

/* Is the image whole in its slot (dev_resume_whole), written by the interrupted run or this run's earlier pass? */
static int image_whole(const struct txn *u, const struct dev_resume_image *im)
{
	return dev_resume_whole(im, &u->rec[im->slot], (u->inherited & (1u << im->slot)) != 0);
}

/* Replace the resume record; one that cannot be written ends the recording, not the upgrade. */
static void resume_save(struct txn *u)
{
	struct fw_err rerr = { 0 };

	if (!u->resume_on)
		return;
	if (dev_resume_save(u->root, &u->res, &rerr) == 0) {
		for (unsigned i = 0; i < u->res.n; i++)
			u->recorded |= 1u << u->res.image[i].slot;
		return;
	}
	tnote(u, "warning: cannot record the progress for a resume after a power cut: %s",
		 rerr.msg);
	u->resume_on = 0;
	dev_resume_clear(u->root);
}

/*
 * A compressed image's entry made to say the last frame whose image bytes
 * before it are among the slot's first `durable` bytes, and where that frame
 * begins in the payload (the reader says so once its decoding reached it:
 * pkg_report_frame_at). 1 when it moved on.
 */
static int frame_point(struct txn *u, struct dev_resume_image *im, uint64_t durable)
{
	uint64_t k = durable >= u->z_image ? (u->z_image + u->z_frame - 1) / u->z_frame : durable / u->z_frame, at, kept;

	/* The frame at `durable` may not have begun decoding yet: the one before it has (its bytes are here). */
	while ((at = pkg_report_frame_at(u->rep, k)) == UINT64_MAX && k > 0)
		k--;
	kept = k * u->z_frame < u->z_image ? k * u->z_frame : u->z_image;
	if (at == UINT64_MAX || kept <= im->kept)
		return 0;
	im->kept = kept;
	im->frame_at = at;
	im->skip = at / u->z_piece * u->z_piece;
	return 1;
}

/*
 * Let the record vouch for the slot's bytes on disk: those written back so
 * far, or (sync) every byte written, after an fdatasync.
 */
static int checkpoint(struct txn *u, int sync, struct fw_err *err)
{
	struct dev_resume_image *im = u->copying ? NULL : dev_resume_image(&u->res, u->plan.step[u->cur].target);

	if (sync && dev_slot_sync(&u->w, err) < 0)
		return -1;
	u->synced = sync ? u->w.written : u->w.waited;
	if (im == NULL || (u->compressed && !frame_point(u, im, u->synced)))
		return 0;
	if (!u->compressed)
		im->kept = u->synced;
	resume_save(u);
	return 0;
}

/*
 * At the start of a network upgrade, with the transport open: continue the
 * interrupted run of the same upgrade (same source as shown, same request,
 * the same file on the server: ETag, time and size), or drop its record and
 * start one of our own. The manifest is compared when it arrives (on_manifest).
 */
static int resume_begin(struct txn *u, int may_resume, int found, const struct dev_resume *oldp,
			const struct fw_err *rerr, struct fw_err *err)
{
	const struct dev_transport_info *ni = dev_transport_info(u->in.net);
	const struct dev_resume old = *oldp;
	char why[700] = "";
	uint64_t kept = 0, zimage = 0, zskip = 0;

	/* An unpack hook's output has offsets of its own; TFTP cannot start in the middle of a file. */
	u->resume_on = u->root->cfg.unpack_hook == NULL && ni->proto != DEV_PROTO_TFTP;
	if (found < 0) {
		tnote(u, "ignoring the record of an interrupted upgrade: %s", rerr->msg);
	} else if (found > 0 && may_resume) {
		if (!dev_resume_may(found, &old, u->req->src->shown, u->st.last.target, u->root->cfg.unpack_hook != NULL,
				    ni->proto, &ni->id, why, sizeof(why))) {
			tnote(u, "not resuming the interrupted upgrade: %s", why);
		} else if (dev_transport_range_ignored(ni)) {
			/* Asked for the bytes before the kept ones alone, it sent the whole file (200, not 206): every
			 * later range would cost the file again. Fetched whole once, as curl -C - would have to. */
			tnote(u, "not resuming the interrupted upgrade: the server "
				 "ignored the Range request (HTTP 200, not 206): the package is fetched whole");
		} else {
			u->res = old;
			u->resuming = 1;
			for (unsigned i = 0; i < old.n; i++)
				u->inherited |= 1u << old.image[i].slot;
			u->recorded = u->inherited;
			/* The slots hold more than the record said when it was last replaced: every chunk that reached them. */
			for (unsigned i = 0; i < u->res.n; i++)
				if (!image_whole(u, &u->res.image[i]))
					(void)dev_resume_extend(u->root, &u->res.image[i]);
			for (unsigned i = 0; i < u->res.n; i++) {
				const struct dev_resume_image *im = &u->res.image[i];
				uint64_t in_slot = image_whole(u, im) ? im->size : im->kept;

				if (im->compressed) {
					zimage += in_slot;
					zskip += im->skip;
				} else {
					kept += in_slot;
				}
			}
			/* The server answered the range before them (206): it serves ranges, these are not fetched. */
			if (kept > 0 || zimage == 0)
				tnote(u, "resuming the interrupted upgrade: %llu bytes of the package are in the slots "
					 "already and are not fetched again (they are verified again)", (unsigned long long)kept);
			if (zimage > 0)
				tnote(u, "resuming the interrupted upgrade: compressed images continue at a frame: %llu bytes of "
					 "their images are in the slots (verified again), %llu compressed bytes are not fetched",
				      (unsigned long long)zimage, (unsigned long long)zskip);
		}
	}
	if (u->resuming)
		return 0;
	if (found != 0)
		dev_resume_clear(u->root);
	/* Opened for a resume that is not to be (resume_first_byte): the whole file after all. */
	if (dev_transport_info(u->in.net)->end != 0 && dev_transport_seek_to(u->in.net, 0, 0, err) < 0)
		return -1;
	memset(&u->res, 0, sizeof(u->res));
	snprintf(u->res.source, sizeof(u->res.source), "%s", u->req->src->shown);
	snprintf(u->res.request, sizeof(u->res.request), "%s", u->st.last.target);
	u->res.id = ni->id;
	u->res.started = (long long)time(NULL);
	return 0;
}

/*
 * Before anything is written: every delta the plan installs has its base (or
 * its image) in another slot (dev_policy_delta_bases, the rule the smart
 * check applies too). Else the whole upgrade is refused (fileNotMatch),
 * nothing written: the device needs the full package.
 */
static int deltas_have_bases(struct txn *u, const struct fw_manifest *m, struct fw_err *err)
{
	if (dev_policy_delta_bases(u->rec, &u->plan, m, err) < 0) {
		u->result = DEV_RESULT_FILE_NOT_MATCH;
		return -1;
	}
	return 0;
}

static int first_read_manifest(struct txn *u, const struct fw_manifest *m, const struct pkg_report *rep,
			       struct fw_err *err)
{
	int booted;

	snprintf(u->out->version, sizeof(u->out->version), "%s", m->version);
	snprintf(u->st.last.version, sizeof(u->st.last.version), "%s", m->version);
	if (m->type != FW_TYPE_FIRMWARE) {
		u->result = DEV_RESULT_FILE_NOT_MATCH;
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "a modification package, not firmware: 'upgrade' installs .pkg firmware bundles");
	}
	/* A board whose root file system lives on the slot that booted: the planner leaves that slot out. */
	if (dev_running_now(u->root, u->pin.rec[FW_TARGET_PRI], u->pin.rec[FW_TARGET_SEC], NULL, &booted, err) < 0) {
		u->result = DEV_RESULT_SYSTEM_ERROR;
		return -1;
	}
	u->pin.rootfs = booted != DEV_BOOTED_NONE;
	u->pin.booted = u->pin.rootfs ? (enum fw_target)booted : FW_TARGET_PRI;
	if ((u->req->golden ? dev_policy_golden(&u->pin, m, &u->plan, err) : dev_policy_check(&u->pin, m, &u->plan, err)) < 0) {
		u->result = DEV_RESULT_POLICY_REFUSED;
		return -1;
	}
	/* board: each planned slot can take its image (device size, mounts, the running slot) before anything changes. */
	for (size_t i = 0; i < u->plan.n; i++)
		if (dev_slot_usable(u->root, u->plan.step[i].target, m->payloads[u->plan.step[i].payload].size, err) < 0) {
			u->result = err->code == FW_EXIT_REJECTED ? DEV_RESULT_POLICY_REFUSED : DEV_RESULT_WRITE_FLASH_FAILED;
			return -1;
		}
	if (deltas_have_bases(u, m, err) < 0)
		return -1;
	if ((u->first_manifest = malloc(rep->manifest_len ? rep->manifest_len : 1)) == NULL) {
		u->result = DEV_RESULT_SYSTEM_ERROR;
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	}
	memcpy(u->first_manifest, rep->manifest_bytes, rep->manifest_len);
	u->first_len = rep->manifest_len;
	if (u->plan.downgrade)
		tnote(u, "warning: %s is older than the running %s: restore factory defaults after the downgrade "
			"(copy the factory default configuration to the running one)", m->version, u->plan.running);
	if (u->plan.transition != 0)
		tnote(u, "%s image generation %u: writing secondary, bootloader and primary in one step; "
			"do not cut the power", u->plan.transition > 0 ? "entering" : "returning to", m->image_generation);
	if (u->plan.left_running) {
		int sys = 0;

		for (size_t i = 0; i < u->plan.n; i++)
			sys |= u->plan.step[i].target != FW_TARGET_BOOT;
		tnote(u, "%s: left as it is: it holds the running system (board running=rootfs)%s",
			 dev_slot_name(u->pin.booted), sys ? "; the bootloader tries the new image first at the next boot" : "");
	}
	if (u->plan.passes == 2)
		tnote(u, "the secondary is the only bootable image: writing the primary first, then reading "
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

/*
 * A delta step whose image another slot holds whole by its turn (the primary
 * copied from the secondary this pass rebuilds: PKG_DELTA_TARGET) needs none
 * of the package's bytes for it; the reader passes over them. Said to the
 * intake now, at the manifest, so a network source skips them instead of
 * fetching them ahead of the reader (`upgrade all` of a delta downloads
 * nothing for the primary). Best effort: bytes not skipped are fetched.
 */
static void announce_passed_over(struct txn *u, const struct fw_manifest *m, const struct pkg_report *rep)
{
	int src[FW_TARGET_COUNT];
	struct fw_err ignored;

	if (dev_plan_delta_sources(u->rec, &u->plan, m, src, &ignored) < 0)
		return;
	for (size_t i = 0; i < u->plan.n; i++) {
		size_t index = u->plan.step[i].payload;
		uint64_t at;

		if (u->plan.step[i].pass != u->pass || src[i] != PKG_DELTA_TARGET)
			continue;
		at = pkg_payload_data_offset(m, rep->first_payload_offset, index);
		dev_intake_pass_over(&u->in, at, at + fw_payload_entry_size(&m->payloads[index]));
	}
}

static int on_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct txn *u = ctx;

	u->rep = rep;
	if (u->pass == 0) {
		uint8_t md[FW_DIGEST_LEN];

		if (u->resume_on) {
			/* The kept bytes belong to one manifest exactly: another one, even a valid one, starts over. */
			if (chunk_sha256(rep->manifest_bytes, rep->manifest_len, md) < 0) {
				u->result = DEV_RESULT_SYSTEM_ERROR;
				return fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
			}
			if (u->resuming && memcmp(md, u->res.manifest_sha256, sizeof(md)) != 0) {
				u->restart = 1;
				return fw_err_set(err, FW_EXIT_REJECTED, "the package's manifest is not the one the interrupted upgrade read");
			}
			memcpy(u->res.manifest_sha256, md, sizeof(md));
		}
		u->reached_manifest = 1;
		if (first_read_manifest(u, m, rep, err) < 0)
			return -1;
	} else if (rep->manifest_len != u->first_len || memcmp(rep->manifest_bytes, u->first_manifest, u->first_len) != 0) {
		u->result = DEV_RESULT_FILE_NOT_MATCH;
		return fw_err_set(err, FW_EXIT_REJECTED, "the package changed between its two reads: run the upgrade again");
	}
	announce_passed_over(u, m, rep);
	u->result = DEV_RESULT_FILE_CHECK_FAILED;
	return 0;
}

/*
 * The resume record's entry for the image about to go into slot t, made to
 * describe this payload. 1 when the image is whole in the slot already.
 */
/*
 * Will a later step of this pass write its slot? Not one whose image is whole
 * there already (verified in place): the image written now is then the
 * pass's last, committed only once the reader accepts the whole package.
 */
static int written_later(struct txn *u, const struct fw_manifest *m, size_t i)
{
	for (size_t k = i + 1; k < u->plan.n; k++) {
		const struct dev_plan_step *s = &u->plan.step[k];
		const struct dev_resume_image *im = NULL;

		if (s->pass != u->plan.step[i].pass)
			continue;
		/* A delta whose image its slot holds already is verified there, not written. */
		if (m->payloads[s->payload].zstd.base.on &&
		    dev_record_holds(&u->rec[s->target], m->payloads[s->payload].digest, m->payloads[s->payload].size,
			  m->payloads[s->payload].chunk_size))
			continue;
		for (unsigned e = 0; u->resume_on && e < u->res.n; e++)
			if (u->res.image[e].slot == (int)s->target)
				im = &u->res.image[e];
		if (im == NULL || memcmp(im->digest, m->payloads[s->payload].digest, FW_DIGEST_LEN) != 0 ||
		    !image_whole(u, im))
			return 1;
	}
	return 0;
}

/* A compressed image's entry names a place the reader can continue at (zstd_read_start); the rest is checked there. */
static int frame_point_valid(const struct dev_resume_image *im, const struct fw_payload *p)
{
	return im->kept <= p->size && (im->kept % p->zstd.frame_size == 0 || im->kept == p->size) &&
	       im->frame_at <= p->zstd.size && (im->kept == p->size) == (im->frame_at == p->zstd.size) &&
	       im->skip <= im->frame_at;
}

/* Remove the record's entry i (in memory: the record on disk learns it at its next replacement). */
static void drop_entry(struct txn *u, unsigned i)
{
	u->inherited &= ~(1u << u->res.image[i].slot);
	memmove(&u->res.image[i], &u->res.image[i + 1], (u->res.n - i - 1) * sizeof(u->res.image[i]));
	u->res.n--;
}

static int resume_image(struct txn *u, const struct fw_manifest *m, size_t index, enum fw_target t)
{
	const struct fw_payload *p = &m->payloads[index];
	uint64_t offset = pkg_payload_data_offset(m, u->rep->first_payload_offset, index);
	struct dev_resume_image *im;

	/* The plan writes this payload into t: an entry of another slot naming it lies (dev_resume_load keeps one
	 * entry per payload), and a resume must never check one slot's kept bytes and keep another's. */
	for (unsigned i = 0; i < u->res.n;)
		if (u->res.image[i].slot != (int)t && u->res.image[i].offset == offset)
			drop_entry(u, i);
		else
			i++;
	im = dev_resume_image(&u->res, t);

	if (u->copying) {
		/* An image copied from another slot is copied again from its first byte: its record entry goes. */
		if (im != NULL)
			drop_entry(u, (unsigned)(im - u->res.image));
		u->inherited &= ~(1u << t);
		return 0;
	}
	if (im == NULL)
		return 0;
	if (im->offset != offset || im->size != p->size || memcmp(im->digest, p->digest, FW_DIGEST_LEN) != 0 ||
	    im->compressed != p->zstd.on || (p->zstd.on && !frame_point_valid(im, p))) {
		int vouched = im->kept > 0;

		im->offset = offset;
		im->size = p->size;
		im->kept = 0;
		im->compressed = p->zstd.on;
		im->frame_at = im->skip = 0;
		memcpy(im->digest, p->digest, FW_DIGEST_LEN);
		u->inherited &= ~(1u << t);
		/* A new entry is recorded with the first bytes it vouches for, or when its image is committed. */
		if (vouched)
			resume_save(u);
	}
	return image_whole(u, im);
}

/*
 * Open slot t for the image: continued after the bytes the interrupted run
 * kept, when there are any and the slot still holds them; else from byte 0,
 * the record first saying nothing is kept.
 */
static int open_slot(struct txn *u, enum fw_target t, const struct fw_payload *p, struct fw_err *err)
{
	struct dev_resume_image *im = u->resume_on && !u->copying ? dev_resume_image(&u->res, t) : NULL;
	struct fw_err oerr = { 0 };

	u->compressed = p->zstd.on;
	u->z_frame = p->zstd.frame_size;
	u->z_image = p->size;
	u->z_size = p->zstd.size;
	u->z_piece = p->zstd.chunk_size;
	u->skip = u->delivered = u->synced = 0;
	if (im != NULL && im->kept > 0) {
		if (dev_slot_open_at(&u->w, u->root, t, im->kept, &oerr) == 0) {
			dev_slot_reserve(&u->w, p->size);
			u->skip = u->synced = im->kept;
			if (u->compressed)
				tnote(u, "%s: continuing after the %llu bytes the interrupted upgrade wrote, at frame %llu "
					 "(compressed byte %llu of %llu; the %llu before its piece are not fetched)",
				      dev_slot_name(t), (unsigned long long)im->kept, (unsigned long long)(im->kept / u->z_frame),
				      (unsigned long long)im->frame_at, (unsigned long long)u->z_size, (unsigned long long)im->skip);
			else
				tnote(u, "%s: continuing after the %llu bytes the interrupted upgrade wrote",
				      dev_slot_name(t), (unsigned long long)im->kept);
			return 0;
		}
		tnote(u, "%s: cannot continue the interrupted write (%s): writing it whole",
			 dev_slot_name(t), oerr.msg);
		im->kept = 0;
		resume_save(u);
	}
	/* Before the image's first byte: its chunk list, then the record naming it, so that after a power
	 * cut every chunk that reached the slot counts (dev_resume_extend), not only those recorded. */
	if (im != NULL && !u->compressed && u->rep->chunk_list != NULL) {
		struct fw_err rerr = { 0 };

		if (dev_resume_save_chunks(u->root, t, p->chunk_size, u->rep->chunk_list, u->rep->chunk_list_len, &rerr) == 0)
			resume_save(u);
	}
	if (dev_slot_open(&u->w, u->root, t, err) < 0)
		return -1;
	dev_slot_reserve(&u->w, p->size);
	return 0;
}

/* A slot whose record names payload p: its bytes checked whole against p's digest (fileNotMatch when they are not p). */
static int target_check(struct txn *u, const struct fw_payload *p, int slot, struct fw_err *err)
{
	struct fw_delta whole = { .on = 1, .size = p->size, .chunk_size = p->chunk_size };

	memcpy(whole.digest, p->digest, FW_DIGEST_LEN);
	if (pkg_delta_base_check(u->delta_fd, &whole, 0, err) == 0)
		return 0;
	if (err->kind != FW_KIND_MISMATCH) {
		u->result = DEV_RESULT_SYSTEM_ERROR;
		return fw_err_wrap(err, "%s", dev_slot_name(slot));
	}
	u->result = DEV_RESULT_FILE_NOT_MATCH;
	return fw_err_setk(err, FW_KIND_MISMATCH, FW_EXIT_REJECTED,
			   "%s: its bytes are not %s %s, which its record names: nothing written; install the full package",
			   dev_slot_name(slot), p->name, u->rec[slot].version);
}

/*
 * A delta payload, before on_begin: for a step of this pass, the other slot
 * its image comes from (delta_slot), opened read-only; the reader checks a
 * base against its digest before it reads it, and a slot that does not hold
 * what its record says is fileNotMatch, refused before this step's slot
 * changes. Another product's or pass's delta is only verified.
 */
static int on_delta(void *ctx, const struct fw_manifest *m, size_t index, int *fd, struct fw_err *err)
{
	struct txn *u = ctx;
	int src, slot;

	for (size_t i = 0; i < u->plan.n; i++) {
		const struct dev_plan_step *st = &u->plan.step[i];

		if (st->payload != index || st->pass != u->pass)
			continue;
		if ((src = dev_delta_slot(u->rec, st->target, &m->payloads[index], &slot)) == PKG_DELTA_NONE) {
			u->result = DEV_RESULT_FILE_NOT_MATCH;
			return fw_err_set(err, FW_EXIT_REJECTED, "%s: no other slot holds the delta's base: install the full package",
					  dev_slot_name(st->target));
		}
		if (u->delta_fd >= 0)
			close(u->delta_fd);
		if ((u->delta_fd = open(u->root->slot_path[slot], O_RDONLY | O_CLOEXEC)) < 0) {
			u->result = DEV_RESULT_SYSTEM_ERROR;
			return fw_err_set(err, FW_EXIT_IO, "%s: cannot read it for the delta: %s", dev_slot_name(slot), strerror(errno));
		}
		u->delta_here = slot == (int)st->target;
		u->delta_src = src;
		snprintf(u->delta_from, sizeof(u->delta_from), "the image in %s", dev_slot_name(slot));
		/* A slot the image is copied from (or verified in) that this run did not write is checked whole first,
		 * as a base is by the reader: its record is no proof of its bytes, and a copy found bad half way
		 * would have spent the slot it writes (the last valid image, for 'upgrade pri'). */
		if (src == PKG_DELTA_TARGET && !(u->out->installed & (1u << slot)) &&
		    target_check(u, &m->payloads[index], slot, err) < 0)
			return -1;
		if (src == PKG_DELTA_BASE)
			tnote(u, "%s: rebuilding %s from the delta against the image in %s",
				 dev_slot_name(st->target), m->payloads[index].name, dev_slot_name(slot));
		else if (!u->delta_here)
			tnote(u, "%s: copying %s from %s, which holds it verified",
				 dev_slot_name(st->target), m->payloads[index].name, dev_slot_name(slot));
		u->result = DEV_RESULT_FILE_NOT_MATCH;   /* until the base checked out (on_begin) */
		*fd = u->delta_fd;
		return src;
	}
	return PKG_DELTA_NONE;
}

/* The slot on_delta gave, for the reader's message when its bytes are not the base. */
static const char *on_delta_name(void *ctx, size_t index)
{
	struct txn *u = ctx;

	(void)index;
	return u->delta_from[0] != '\0' ? u->delta_from : NULL;
}

static int on_begin(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct txn *u = ctx;
	struct dev_record inv;

	u->result = DEV_RESULT_FILE_CHECK_FAILED;
	/* on_delta ran just before for a delta of this pass: a copy from another slot is never resumed. */
	u->copying = u->delta_src == PKG_DELTA_TARGET;
	u->delta_src = PKG_DELTA_NONE;

	for (size_t i = 0; i < u->plan.n; i++) {
		enum fw_target t = u->plan.step[i].target;

		if (u->plan.step[i].payload != index || u->plan.step[i].pass != u->pass)
			continue;
		u->cur = i;
		if (u->delta_here) {
			/* The delta's image is whole in its slot already (a run cut short after it was committed). */
			u->delta_here = 0;
			u->in_place = 1;
			tnote(u, "%s: holds %s %s already: verifying it in place",
				 dev_slot_name(t), m->payloads[index].name, m->version);
			return 0;
		}
		if (u->resume_on && resume_image(u, m, index, t) == 1) {
			/* Whole in its slot already: the reader verifies the slot's own bytes, nothing is written. */
			u->in_place = 1;
			tnote(u, "%s: %s %s was written by the interrupted upgrade: verifying it in place",
				 dev_slot_name(t), m->payloads[index].name, m->version);
			return 0;
		}
		/* The record goes invalid, durably, before the first byte of the slot changes. */
		/* A golden install cut short keeps the floor: the golden system it replaces was never rolled back past. */
		dev_record_invalid(t, &u->rec[t], &inv, "incomplete: writing %s did not finish", m->version);
		if (dev_record_save(u->root, t, &inv, err) < 0) {
			u->result = DEV_RESULT_WRITE_FLASH_FAILED;
			return -1;
		}
		u->rec[t] = inv;
		u->touched |= 1u << t;
		tnote(u, "%s: writing %s %s (%llu bytes)", dev_slot_name(t), m->payloads[index].name,
		     m->version, (unsigned long long)m->payloads[index].size);
		if (open_slot(u, t, &m->payloads[index], err) < 0) {
			u->result = DEV_RESULT_WRITE_FLASH_FAILED;
			return -1;
		}
		u->writing = 1;
		return 1;
	}
	/* Another product's or target's image, or one for the other pass: verified, not written. */
	return 0;
}

/*
 * A compressed payload the reader is about to read (pkg_reader_ops.resume_at;
 * a delta once its base checked out):
 * continued at a frame when the record's entry for it holds a part of its
 * image in its slot (the image written now continues after them: open_slot)
 * or the whole image (verified in place). The reader checks the slot's bytes
 * against the image's chunk list, and passes over the compressed bytes
 * before the frame's piece: those splice_kept left unfetched.
 */
static int on_resume_at(void *ctx, const struct fw_manifest *m, size_t index, struct pkg_resume_at *at,
			struct fw_err *err)
{
	struct txn *u = ctx;
	const struct fw_payload *p = &m->payloads[index];
	uint64_t offset = pkg_payload_data_offset(m, u->rep->first_payload_offset, index);

	(void)err;
	for (unsigned i = 0; u->resume_on && i < u->res.n; i++) {
		const struct dev_resume_image *im = &u->res.image[i];
		int whole = image_whole(u, im);

		/* An entry for a payload this pass only verifies was never checked by resume_image: a place that
		 * is no frame's is a hint to ignore, not a reason to fail the upgrade. */
		if (!im->compressed || im->offset != offset || im->size != p->size ||
		    memcmp(im->digest, p->digest, FW_DIGEST_LEN) != 0 || (!whole && (im->kept == 0 || !frame_point_valid(im, p))))
			continue;
		if (u->slot_fd[im->slot] < 0)
			u->slot_fd[im->slot] = open(u->root->slot_path[im->slot], O_RDONLY | O_CLOEXEC);
		if (u->slot_fd[im->slot] < 0)
			return 0;
		at->fd = u->slot_fd[im->slot];
		at->image = whole ? p->size : im->kept;
		at->zoffset = whole ? p->zstd.size : im->frame_at;
		u->zcontinued = 1;
		return 1;
	}
	return 0;
}

static int on_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct txn *u = ctx;

	/* A user's stop is taken between two chunks: the slot then holds whole verified chunks only. */
	if (fw_cancel_check(err) < 0) {
		u->result = DEV_RESULT_CANCELLED;
		return -1;
	}
	/* The bytes the slot kept from the interrupted run: verified again, not written again. */
	if (u->delivered < u->skip) {
		size_t drop = u->skip - u->delivered < len ? (size_t)(u->skip - u->delivered) : len;

		u->delivered += drop;
		buf = (const char *)buf + drop;
		len -= drop;
	}
	u->delivered += len;
	if (len > 0 && dev_slot_write(&u->w, buf, len, err) < 0) {
		u->result = DEV_RESULT_WRITE_FLASH_FAILED;
		return -1;
	}
	if (u->resume_on && u->w.waited > u->synced) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (u->synced == u->skip || since(&u->saved_at, &now) >= DEV_RESUME_SECONDS) {
			u->saved_at = now;
			(void)checkpoint(u, 0, err);
		}
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
	tnote(u, "%s: %s verified and written", dev_slot_name(t), rec->version);
	return 0;
}

static int on_end(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct txn *u = ctx;
	const struct fw_payload *p = &m->payloads[index];
	struct dev_record rec;
	enum fw_target t;

	if (u->in_place && u->plan.step[u->cur].payload == index) {
		/* Its record is valid since the interrupted run committed it. */
		u->in_place = 0;
		u->out->installed |= 1u << u->plan.step[u->cur].target;
		tnote(u, "%s: %s verified in place", dev_slot_name(u->plan.step[u->cur].target),
			 m->version);
		return 0;
	}
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
	rec.has_sbom = m->sbom.present;
	memcpy(rec.sbom_sha256, m->sbom.sha256, sizeof(rec.sbom_sha256));
	rec.installed = (long long)time(NULL);
	/* A new system image runs on trial until fwctl mark-good; the golden system is good as placed. */
	rec.trial = t == FW_TARGET_PRI || t == FW_TARGET_SEC;
	/* Its bytes are durable now. The record learns it with its next replacement; until then it
	 * vouches for the windows it named (a power cut costs at most the rest of this image). */
	if (u->resume_on && !u->copying && dev_resume_image(&u->res, t) != NULL) {
		struct dev_resume_image *im = dev_resume_image(&u->res, t);

		im->kept = p->size;
		im->frame_at = p->zstd.size;
		/* A delta's compressed bytes may go unfetched only in a pass that rebuilds it from its base (the
		 * reader continues at the frame then). A later pass, or a later run, that only verifies them (the
		 * second pass of `upgrade all`, a resume after the other slot's copy) must fetch them all. */
		im->skip = p->zstd.on && !p->zstd.base.on ? p->zstd.size / p->zstd.chunk_size * p->zstd.chunk_size : 0;
	}
	if (!written_later(u, m, u->cur)) {
		/* The package is not accepted until its end: what follows may still reject it. */
		u->staged = 1;
		u->staged_rec = rec;
		u->staged_t = t;
		return 0;
	}
	if (commit(u, t, &rec, err) < 0)
		return -1;
	/* Committed: whole for a resume once the record names the slot (an image too short for a window). */
	if (!(u->recorded & (1u << t)))
		resume_save(u);
	return 0;
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
	struct fw_err rerr = { 0 };

	if (u->restart) {
		/* Not an outcome: dev_upgrade runs the upgrade again from byte 0. */
		if (u->writing)
			dev_slot_abort(&u->w);
		u->writing = 0;
		return -1;
	}
	/* A user's stop (not a hook's exit, which is upgradeCancelled too): say so first (status shows
	 * "cancelling" while the slot is synced), then leave everything as a network failure does, resumable. */
	int stop = res == DEV_RESULT_CANCELLED && err->kind == FW_KIND_CANCELLED;

	if (stop) {
		u->st.last.cancel = DEV_CANCEL_CANCELLING;
		if (dev_state_save(u->root, &u->st, &rerr) < 0)
			u->st.last.cancel = DEV_CANCEL_FAILED;
	}
	/* A network failure (netError, serverSpecUpLimit, CertOutDate) or a user's stop is what resuming is for: keep what is written, for the next
	 * run. Any other failure is final, and the record goes with it. */
	if ((dev_result_network(res) || stop) && u->writing && u->resume_on) {
		if (checkpoint(u, 1, &rerr) < 0 && stop)
			u->st.last.cancel = DEV_CANCEL_FAILED;
	} else if (!dev_result_network(res) && !stop) {
		dev_resume_clear(u->root);
	}
	if (stop && u->st.last.cancel == DEV_CANCEL_CANCELLING)
		u->st.last.cancel = DEV_CANCEL_SUCCESSFUL;
	if (u->writing) {
		dev_slot_abort(&u->w);
		u->writing = 0;
	}
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		if ((u->touched & (1u << t)) && !(u->out->installed & (1u << t)))
			/* What to do next follows whose fault it was: a network failure or a stop is finished by the same
			 * command (resuming), a failed write is the storage's (the package was fine), else the package's. */
			tnote(u, stop || dev_result_network(res) ? "%s: holds no valid image now: run the same %s again to finish it"
				      : res == DEV_RESULT_WRITE_FLASH_FAILED
				      ? "%s: holds no valid image now: the %s failed writing it (see above); run it again once the storage is fixed"
				      : "%s: holds no valid image now: run the %s again with an intact package",
			      dev_slot_name(t), u->req->golden ? "golden install" : "upgrade");
	if (res == DEV_RESULT_WRITE_FLASH_FAILED && err->code == FW_EXIT_REJECTED)
		err->code = FW_EXIT_IO;
	if (record(u, res, err->msg, &rerr) < 0)
		tnote(u, "the result could not be recorded: %s", rerr.msg);
	return -1;
}

/* This pass's kept bytes: what the slots hold of the package, spliced into the network stream. */
static void splice_kept(struct txn *u)
{
	for (unsigned i = 0; u->resume_on && i < u->res.n; i++) {
		const struct dev_resume_image *im = &u->res.image[i];
		uint64_t len = image_whole(u, im) ? im->size : im->kept;
		struct fw_err ignored;

		/* A compressed image's compressed bytes before the frame the reader continues at (on_resume_at): not fetched. */
		if (im->compressed) {
			if (im->skip > 0)
				(void)dev_intake_splice(&u->in, im->offset, im->offset + im->skip, -1, &ignored);
			continue;
		}
		if (len == 0)
			continue;
		if (u->slot_fd[im->slot] < 0)
			u->slot_fd[im->slot] = open(u->root->slot_path[im->slot], O_RDONLY | O_CLOEXEC);
		/* A slot that cannot be read, or a range that does not fit, is fetched instead. */
		if (u->slot_fd[im->slot] >= 0)
			(void)dev_intake_splice(&u->in, im->offset, im->offset + len, u->slot_fd[im->slot], &ignored);
	}
}

/* One read of the package through the intake, writing the steps of pass u->pass. */
static int read_pass(struct txn *u, struct sig_trust *trust, struct fw_manifest **m, struct pkg_report *rep,
		     struct fw_err *err)
{
	/* No plain SHA-256 of the images: a second, serial hash of every byte would halve the install's speed;
	 * the record's digest (the signed chunk list's) identifies the image, as fwpkg inspect shows it. */
	struct pkg_read_opts ropts = { .trust = trust };
	struct pkg_reader_ops ops = { on_manifest, on_begin, on_data, on_end, on_delta, on_resume_at, on_delta_name };
	enum dev_result res;

	/* A scheduled install hashes as it reads, into one chunk buffer: memory counts there, a second core does not. */
	if (u->req->hash_on_read)
		ropts.threads = CHUNK_PIPE_ON_FEED;
	clock_gettime(CLOCK_MONOTONIC, &u->pass_start);
	u->staged = 0;
	u->zcontinued = 0;
	splice_kept(u);
	res = dev_intake_read(&u->in, &ropts, &ops, u, &u->result, m, rep, err);
	progress(u, 1);
	snprintf(u->st.last.hook_stderr, sizeof(u->st.last.hook_stderr), "%s", u->in.hook_stderr);
	/* Bytes kept in the slots that do not verify (a flipped bit, a slot written meanwhile, a record whose
	 * ranges fall in the package's head, before its manifest was even read): start over from byte 0 rather
	 * than fail; the reader caught them before any use. */
	if (u->resuming && (u->in.stats.local_bytes > 0 || u->in.stats.skipped_bytes > 0 || u->zcontinued) &&
	    err->code == FW_EXIT_REJECTED &&
	    res != DEV_RESULT_SUCCESS &&
	    (!u->reached_manifest || u->result == DEV_RESULT_FILE_CHECK_FAILED)) {
		u->restart = 1;
		fw_err_wrap(err, "the bytes kept from the interrupted upgrade do not verify");
	}
	if (res != DEV_RESULT_SUCCESS)
		return fail(u, res, err);
	/* The whole package is accepted: now the pass's last image counts. */
	if (u->staged && commit(u, u->staged_t, &u->staged_rec, err) < 0)
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
	/* shown is escaped already (dev_source). */
	snprintf(u->st.last.source, sizeof(u->st.last.source), "%s", req->src->shown);
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

/*
 * Open the source through the intake. A network source first learns what an
 * interrupted run left (the record, read once): the transport is opened to
 * stop where the kept bytes begin, then the record is taken or dropped.
 * Anything else makes that record stale. 0, or -1 with err and *res.
 */
static int open_source(struct txn *u, struct dev_root *r, const struct dev_upgrade_req *req,
		       struct dev_upgrade_out *out, int may_resume, enum dev_result *res, struct fw_err *err)
{
	struct dev_transport_opts o;
	struct dev_resume old;
	struct fw_err rerr = { 0 };
	int found;
	const char *verb = req->golden ? "golden install" : "upgrade";

	if (req->src->kind != DEV_SRC_NET) {
		int rc = dev_intake_open(&u->in, r, req->src, verb, NULL, 0, res, err);

		if (rc < 0 && *res == DEV_RESULT_NONE)
			return -1;
		start(u, r, req, out, u->in.rereadable);
		found = dev_resume_load(r, &old, &rerr);
		if (found != 0) {
			tnote(u, "the interrupted network upgrade will not be resumed: "
				 "this upgrade replaces it");
			dev_resume_clear(r);
		}
		return rc;
	}
	/* A network source can be fetched again from byte 0: it counts as re-readable. */
	start(u, r, req, out, 1);
	*res = DEV_RESULT_SYSTEM_ERROR;
	if ((u->progress_path = dev_root_file(r, DEV_PROGRESS_FILE)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	found = dev_resume_load(r, &old, &rerr);
	dev_root_net_opts(r, &o);
	o.unnamed = 1;   /* the caller names the source (prog: upgrade: SOURCE: why) */
	o.end = may_resume ? dev_resume_first_byte(found, &old, req->src->shown, u->st.last.target,
						  r->cfg.unpack_hook != NULL, u->rec) : 0;
	if (dev_intake_open(&u->in, r, req->src, verb, &o, 0, res, err) < 0)
		return -1;
	/* Read before the fd thread starts: info is the thread's while it runs. */
	if (dev_transport_info(u->in.net)->id.size > 0)
		u->net_total = (uint64_t)dev_transport_info(u->in.net)->id.size;
	if (resume_begin(u, may_resume, found, &old, &rerr, err) < 0) {
		*res = dev_result_of_net(err);
		return -1;
	}
	return 0;
}

static struct txn u;   /* big: records, plan and state */

/* One run of the transaction; may_resume: an interrupted run's kept bytes may be used, else its record goes. */
static int attempt(struct dev_root *r, const struct dev_upgrade_req *req, struct dev_upgrade_out *out, int may_resume,
		   struct fw_err *err)
{
	struct sig_trust trust;
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	enum dev_result res;
	int rc = -1;

	memset(&u, 0, sizeof(u));
	memset(out, 0, sizeof(*out));
	memset(&rep, 0, sizeof(rep));
	sig_trust_init(&trust);
	u.in.fd = -1;
	u.delta_fd = -1;
	u.delta_src = PKG_DELTA_NONE;
	for (int s = 0; s < DEV_SLOT_COUNT; s++)
		u.slot_fd[s] = -1;
	if (dev_state_load(r, &u.st, err) < 0)
		return -1;
	dev_progress_clear(r);
	if (open_source(&u, r, req, out, may_resume, &res, err) < 0) {
		/* A label the device does not have is a typing mistake, not an attempt: nothing to record. */
		if (res != DEV_RESULT_NONE)
			fail(&u, res, err);
		goto out;
	}
	if (dev_root_trust(r, &trust, err) < 0) {
		err->code = FW_EXIT_IO;
		fail(&u, DEV_RESULT_SYSTEM_ERROR, err);
		goto out;
	}
	for (u.pass = 0; u.pass < (u.reached_manifest ? u.plan.passes : 1); u.pass++)
		if (read_pass(&u, &trust, &m, &rep, err) < 0)
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
		/* A stop asked for after the last safe point: the upgrade is whole, the stop did not take. */
		if (fw_cancel_requested())
			u.st.last.cancel = DEV_CANCEL_FAILED;
		if (record(&u, DEV_RESULT_SUCCESS, msg, err) < 0)
			goto out;
		dev_resume_clear(r);
	}
	rc = 0;
out:
	if (u.in.net != NULL) {
		const struct dev_transport_info *ni = dev_transport_info(u.in.net);
		char spliced[224] = "";

		if (u.in.spliced > 0)
			snprintf(spliced, sizeof(spliced), "; %llu bytes taken from the slots", (unsigned long long)u.in.spliced);
		/* A server that said it serves ranges (Accept-Ranges: bytes) and then answered the jump past them
		 * with the whole file sent them anyway, and the bytes before them again: not "not fetched". */
		int ignored = dev_transport_range_ignored(ni);

		/* Bytes read ahead before the transport moved past them came all the same: counted so, not as spared. */
		uint64_t received = ignored ? u.in.skipped : u.in.skipped_received;

		if (received > 0)
			snprintf(spliced + strlen(spliced), sizeof(spliced) - strlen(spliced),
				 "; %llu bytes not needed (received all the same)", (unsigned long long)received);
		if (u.in.skipped > received)
			snprintf(spliced + strlen(spliced), sizeof(spliced) - strlen(spliced),
				 "; %llu bytes not fetched (not needed)", (unsigned long long)(u.in.skipped - received));
		/* A retry or a seek the server answered with the whole file: say where the extra bytes came from. */
		if (ignored && (u.resuming || ni->interruptions > 0 || u.in.skipped > 0))
			tnote(&u, "the server ignored a Range request (HTTP 200, not 206): "
				 "it sent the file from byte 0 again, and the bytes before the range were skipped");
		tnote(&u, "fetched %llu bytes over %s (%u connection%s, %u interruption%s%s)",
		     (unsigned long long)ni->fetched, dev_proto_name(ni->proto), ni->attempts, ni->attempts == 1 ? "" : "s",
		     ni->interruptions, ni->interruptions == 1 ? "" : "s", spliced);
	}
	dev_intake_close(&u.in);
	if (u.progress_path != NULL)
		unlink(u.progress_path);
	for (int s = 0; s < DEV_SLOT_COUNT; s++)
		if (u.slot_fd[s] >= 0)
			close(u.slot_fd[s]);
	if (u.delta_fd >= 0)
		close(u.delta_fd);
	free(u.progress_path);
	free(u.first_manifest);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	sig_trust_free(&trust);   /* CA certificates and CRLs live in an X.509 store */
	return rc;
}

int dev_upgrade(struct dev_root *r, const struct dev_upgrade_req *req, struct dev_upgrade_out *out,
		struct fw_err *err)
{
	if (attempt(r, req, out, 1, err) == 0)
		return 0;
	if (!u.restart)
		return -1;
	/* The interrupted run's bytes were of no use (another manifest, a slot that does not verify):
	 * nothing was trusted, nothing is lost but bytes. The same upgrade once more, from byte 0. */
	tnote(&u, "%s: starting over from byte 0", err->msg);
	dev_resume_clear(r);
	return attempt(r, req, out, 0, err);
}
