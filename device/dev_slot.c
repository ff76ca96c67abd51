/* dev_slot: slot records as JSON, slot verification by chunk digest, and the slot writer. */
#include "dev_slot.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/crash.h"
#include "base/escape.h"
#include "base/outfile.h"
#include "device/dev_board.h"
#include "device/dev_file.h"
#include "device/dev_state.h"

#define WRITEBACK_WINDOW (8u * 1024 * 1024)
#include "formats/chunk.h"
#include "formats/pkg_read.h"
#include "formats/version.h"

#define DIGEST_HEX (2 * FW_DIGEST_LEN)

static char *record_path(const struct dev_root *r, int slot)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "%s/%s.json", DEV_RECORD_DIR, dev_slot_name(slot));
	return dev_root_file(r, rel);
}

/* The SBOM's SHA-256 of the package that wrote the slot, or null (none, or a record from before SBOMs). */
static json_t *sbom_json(const struct dev_record *rec)
{
	char hex[DIGEST_HEX + 1];

	if (!rec->has_sbom)
		return json_null();
	fw_hex(rec->sbom_sha256, FW_DIGEST_LEN, hex);
	return json_string(hex);
}

json_t *dev_record_to_json(const struct dev_record *rec)
{
	json_t *o = json_object();
	char hex[DIGEST_HEX + 1], when[32];
	int bad;

	if (o == NULL)
		return NULL;
	if (!rec->valid) {
		bad = json_object_set_new(o, "valid", json_false()) < 0 ||
		      json_object_set_new(o, "note", fw_json_text(rec->note)) < 0 ||
		      (rec->floor[0] && json_object_set_new(o, "floor", json_string(rec->floor)) < 0);
	} else {
		fw_hex(rec->digest, FW_DIGEST_LEN, hex);
		fw_time_iso(rec->installed, when);
		bad = json_object_set_new(o, "valid", json_true()) < 0 ||
		      json_object_set_new(o, "version", json_string(rec->version)) < 0 ||
		      json_object_set_new(o, "generation", json_integer(rec->generation)) < 0 ||
		      json_object_set_new(o, "size", json_integer((json_int_t)rec->size)) < 0 ||
		      json_object_set_new(o, "chunk_size", json_integer(rec->chunk_size)) < 0 ||
		      json_object_set_new(o, "digest", json_string(hex)) < 0 ||
		      json_object_set_new(o, "bridge_down", json_string(rec->bridge_down)) < 0 ||
		      json_object_set_new(o, "rollback_index", json_integer((json_int_t)rec->rollback_index)) < 0 ||
		      json_object_set_new(o, "installed", json_integer(rec->installed)) < 0 ||
		      json_object_set_new(o, "trial", json_boolean(rec->trial)) < 0 ||
		      json_object_set_new(o, "installed_time", json_string(when)) < 0 ||
		      json_object_set_new(o, "sbom_sha256", sbom_json(rec)) < 0;
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void invalid(struct dev_record *rec, const char *fmt, const char *arg)
{
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->note, sizeof(rec->note), fmt, arg);
}

static int get_u64(const json_t *o, const char *key, uint64_t max, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_version(const json_t *o, const char *key, int may_be_empty, char out[FW_VERSION_MAX_LEN + 1])
{
	const json_t *v = json_object_get(o, key);
	struct fw_version ver;
	struct fw_err err;

	if (!json_is_string(v))
		return -1;
	if (json_string_value(v)[0] == '\0' && may_be_empty) {
		out[0] = '\0';
		return 0;
	}
	if (fw_version_parse(json_string_value(v), &ver, &err) < 0)
		return -1;
	snprintf(out, FW_VERSION_MAX_LEN + 1, "%s", json_string_value(v));
	return 0;
}

void dev_record_load(const struct dev_root *r, int slot, struct dev_record *rec)
{
	char *path = record_path(r, slot);
	struct fw_err err = { 0 };
	json_t *doc = NULL;
	const json_t *v;
	uint64_t gen, chunk, size, rb, when;
	int missing = 0;

	memset(rec, 0, sizeof(*rec));
	if (path == NULL) {
		invalid(rec, "%s", "out of memory");
		return;
	}
	doc = dev_json_read(path, &missing, &err);
	if (doc == NULL) {
		invalid(rec, missing ? "%s" : "record unreadable: %s", missing ? "no record" : err.msg);
		goto out;
	}
	v = json_object_get(doc, "valid");
	if (!json_is_true(v)) {
		v = json_object_get(doc, "note");
		invalid(rec, "%s", json_is_string(v) ? json_string_value(v) : "not valid");
		if (slot == DEV_SLOT_GOLDEN && json_object_get(doc, "floor") != NULL &&
		    get_version(doc, "floor", 0, rec->floor) < 0)
			invalid(rec, "record unreadable: %s: floor is not a version", path);
		goto out;
	}
	v = json_object_get(doc, "digest");
	if (get_version(doc, "version", 0, rec->version) < 0 || get_version(doc, "bridge_down", 1, rec->bridge_down) < 0 ||
	    get_u64(doc, "generation", UINT32_MAX, &gen) < 0 || gen == 0 ||
	    get_u64(doc, "chunk_size", FW_CHUNK_MAX, &chunk) < 0 || chunk < FW_CHUNK_MIN ||
	    get_u64(doc, "size", FW_PAYLOAD_MAX, &size) < 0 ||
	    get_u64(doc, "rollback_index", UINT64_MAX, &rb) < 0 ||
	    get_u64(doc, "installed", INT64_MAX, &when) < 0 ||
	    !json_is_string(v) || strlen(json_string_value(v)) != DIGEST_HEX ||
	    fw_unhex(json_string_value(v), rec->digest, FW_DIGEST_LEN) < 0) {
		invalid(rec, "record unreadable: %s: a field is missing or out of range", path);
		goto out;
	}
	rec->generation = (uint32_t)gen;
	rec->chunk_size = (uint32_t)chunk;
	rec->size = size;
	rec->rollback_index = rb;
	rec->installed = (long long)when;
	rec->trial = json_is_true(json_object_get(doc, "trial"));
	v = json_object_get(doc, "sbom_sha256");
	rec->has_sbom = json_is_string(v) && fw_unhex(json_string_value(v), rec->sbom_sha256, FW_DIGEST_LEN) == 0;
	rec->valid = 1;
out:
	json_decref(doc);
	free(path);
}

const char *dev_golden_floor(const struct dev_record *golden)
{
	if (golden == NULL)
		return NULL;
	if (golden->valid)
		return golden->version;
	return golden->floor[0] ? golden->floor : NULL;
}

int dev_below_golden(const struct dev_record *golden, const char *version)
{
	const char *floor = dev_golden_floor(golden);
	struct fw_err err;

	return floor != NULL && fw_version_cmp_str(version, floor, &err) < 0;
}

void dev_record_invalid(int slot, const struct dev_record *old, struct dev_record *inv, const char *fmt, ...)
{
	const char *floor = slot == DEV_SLOT_GOLDEN ? dev_golden_floor(old) : NULL;
	char keep[FW_VERSION_MAX_LEN + 1] = "";
	va_list ap;

	if (floor != NULL)
		snprintf(keep, sizeof(keep), "%s", floor);   /* old and inv may be the same record */

	memset(inv, 0, sizeof(*inv));
	va_start(ap, fmt);
	vsnprintf(inv->note, sizeof(inv->note), fmt, ap);
	va_end(ap);
	snprintf(inv->floor, sizeof(inv->floor), "%s", keep);
}

/*
 * On a board the bootloader's environment follows the system slots' records
 * (dev_board.h), so that it never selects a slot whose record is not valid:
 * a slot leaves the boot order before its record goes not valid, and comes
 * back, with a whole budget of attempts, after its record is valid again (a
 * new image on trial, or one marked good). A power cut between the two
 * leaves a valid record out of the order: the bootloader starts the other
 * image, and boot-check puts a good one back (one on trial is rolled back).
 */
int dev_record_save(const struct dev_root *r, int slot, const struct dev_record *rec, struct fw_err *err)
{
	unsigned budget = r->cfg.trial_boots;   /* 1 or more: dev_settings' range */

	if (!rec->valid && dev_bootenv_mark(&r->cfg.board, slot, 0, 0, err) < 0)
		return -1;
	if (dev_json_save(record_path(r, slot), dev_record_to_json(rec), err) < 0)
		return -1;
	if (!rec->valid)
		return 0;
	return rec->trial ? dev_bootenv_try(&r->cfg.board, slot, budget, err)
			  : dev_bootenv_mark(&r->cfg.board, slot, 1, budget, err);
}

int dev_digest_fd(int fd, uint64_t size, uint32_t chunk_size, uint8_t out[FW_DIGEST_LEN], struct fw_err *err)
{
	struct fw_payload p = { .size = size, .chunk_size = chunk_size };
	uint64_t nchunks = fw_payload_chunks(&p);
	uint8_t *list = NULL;
	int rc = -1;

	if (chunk_size < FW_CHUNK_MIN || chunk_size > FW_CHUNK_MAX || nchunks > PKG_MAX_CHUNKS)
		return fw_err_set(err, FW_EXIT_IO, "chunk size %u does not fit a size of %llu bytes", chunk_size,
				  (unsigned long long)size);
	list = malloc(nchunks ? (size_t)nchunks * FW_DIGEST_LEN : 1);
	if (list == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	/* The slot's record holds the same digest as the signed manifest: the
	 * SHA-256 of the chunk list, hashed on all cores. */
	if (chunk_hash_fd(fd, size, chunk_size, 0, list, NULL, NULL, NULL, err) < 0)
		rc = -1;
	else if (chunk_sha256(list, (size_t)nchunks * FW_DIGEST_LEN, out) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
	else
		rc = 0;
	free(list);
	return rc;
}

int dev_slot_check(const struct dev_root *r, int t, const struct dev_record *rec, struct fw_err *err)
{
	uint8_t digest[FW_DIGEST_LEN];
	struct stat st;
	uint64_t cap = 0;
	int fd, rc = -1;

	if (!rec->valid)
		return fw_err_set(err, FW_EXIT_REJECTED, "record not valid (%s)", rec->note);
	fd = open(r->slot_path[t], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", r->slot_path[t], strerror(errno));
	if (fstat(fd, &st) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: %s", r->slot_path[t], strerror(errno));
	} else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size != rec->size) {
		fw_err_set(err, FW_EXIT_REJECTED, "holds %llu bytes, the record says %llu",
			   (unsigned long long)st.st_size, (unsigned long long)rec->size);
	} else if (S_ISBLK(st.st_mode) && dev_slot_size(fd, r->slot_path[t], &cap, err) < 0) {
		;
	} else if (S_ISBLK(st.st_mode) && cap < rec->size) {
		fw_err_set(err, FW_EXIT_REJECTED, "a device of %llu bytes cannot hold the record's %llu",
			   (unsigned long long)cap, (unsigned long long)rec->size);
	} else if (dev_digest_fd(fd, rec->size, rec->chunk_size, digest, err) == 0) {
		if (memcmp(digest, rec->digest, FW_DIGEST_LEN) == 0)
			rc = 0;
		else
			fw_err_set(err, FW_EXIT_REJECTED, "bytes do not match the record's digest");
	}
	close(fd);
	return rc;
}

/* ---- block-device slots ---- */

int dev_slot_size(int fd, const char *path, uint64_t *size, struct fw_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: %s", path, strerror(errno));
	if (!S_ISBLK(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (ioctl(fd, BLKGETSIZE64, size) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot read the device's size: %s", path, strerror(errno));
	return 0;
}

/* Where device dev is mounted, from /proc/self/mountinfo (field 3 MAJOR:MINOR, field 5 the mount point). */
static int mounted_at(dev_t dev, char *where, size_t len, struct fw_err *err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = 0;

	if (f == NULL)
		return fw_err_set(err, FW_EXIT_IO, "/proc/self/mountinfo: %s: cannot tell whether a slot is mounted",
				  strerror(errno));
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		unsigned maj, min;
		char point[1024];

		if (sscanf(line, "%*s %*s %u:%u %*s %1023s", &maj, &min, point) == 3 && maj == major(dev) &&
		    min == minor(dev)) {
			snprintf(where, len, "%s", point);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

int dev_slot_booted(const struct dev_root *r, int *slot, struct fw_err *err)
{
	struct stat rs, ss;
	char root[1024];

	int named, root_slot = DEV_BOOTED_NONE;

	if (dev_board_booted_slot(&named, err) < 0)
		return -1;
	/* As RAUC does without rauc.slot=: the root file system's device, if it is a slot's. */
	if (dev_board_cmdline_root(root, sizeof(root), err) < 0)
		return -1;
	if (root[0] == '/' && stat(root, &rs) == 0 && S_ISBLK(rs.st_mode))
		for (int t = 0; t < DEV_SLOT_COUNT; t++)
			if (t != FW_TARGET_BOOT && r->slot_path[t] != NULL && stat(r->slot_path[t], &ss) == 0 &&
			    S_ISBLK(ss.st_mode) && ss.st_rdev == rs.st_rdev) {
				root_slot = t;
				break;
			}
	/* A boot script that names one slot while the kernel mounts another's device: trusting either
	 * could write the running system (running=rootfs) or judge an image that does not run. */
	if (named != DEV_BOOTED_NONE && root_slot != DEV_BOOTED_NONE && named != root_slot)
		return fw_err_set(err, FW_EXIT_IO, "%s: the kernel command line contradicts itself: fwpkg.slot=%s, but root=%s "
				  "is the %s slot's device: fix the boot script", dev_board_cmdline_path(), dev_slot_name(named), root,
				  dev_slot_name(root_slot));
	*slot = named != DEV_BOOTED_NONE ? named : root_slot;
	return 0;
}

int dev_slot_running(const struct dev_root *r, int *slot, struct fw_err *err)
{
	if (dev_slot_booted(r, slot, err) < 0)
		return -1;
	if (*slot == DEV_BOOTED_NONE)
		return fw_err_set(err, FW_EXIT_IO, "%s: the kernel command line names no fwpkg.slot= and no slot as root=: "
				  "fwctl cannot tell which slot holds the running system (the boot script must pass "
				  "fwpkg.slot=pri|sec|golden)", dev_board_cmdline_path());
	return 0;
}

int dev_slot_rootfs(const struct dev_root *r, int *slot, struct fw_err *err)
{
	*slot = DEV_BOOTED_NONE;
	if (r->cfg.board.running != DEV_RUN_ROOTFS)
		return 0;
	return dev_slot_running(r, slot, err);
}

const struct dev_record *dev_running(const struct dev_record *pri, const struct dev_record *sec, int rootfs)
{
	if (rootfs == FW_TARGET_PRI && pri->valid)
		return pri;
	if (rootfs == FW_TARGET_SEC && sec->valid)
		return sec;
	if (pri->valid)
		return pri;
	if (sec->valid)
		return sec;
	return NULL;
}

int dev_running_now(const struct dev_root *r, const struct dev_record *pri, const struct dev_record *sec,
		    const struct dev_record **run, int *rootfs, struct fw_err *err)
{
	int booted;

	if (run != NULL)
		*run = NULL;
	if (rootfs != NULL)
		*rootfs = DEV_BOOTED_NONE;
	if (dev_slot_rootfs(r, &booted, err) < 0)
		return -1;
	if (booted != FW_TARGET_PRI && booted != FW_TARGET_SEC)
		booted = DEV_BOOTED_NONE;   /* the golden system: never what an upgrade is judged against */
	if (rootfs != NULL)
		*rootfs = booted;
	if (run != NULL)
		*run = dev_running(pri, sec, booted);
	return 0;
}

/* Is slot t the one that booted, on a board whose root file system lives on it? */
static int running_slot(const struct dev_root *r, int t, struct fw_err *err)
{
	int booted;

	if (dev_slot_rootfs(r, &booted, err) < 0)
		return -1;
	return booted != DEV_BOOTED_NONE && booted == t;
}

int dev_slot_usable(const struct dev_root *r, int t, uint64_t size, struct fw_err *err)
{
	const char *path = r->slot_path[t];
	char where[1024];
	struct stat st;
	uint64_t cap;
	int fd, rc;

	if ((rc = running_slot(r, t, err)) < 0)
		return -1;
	if (rc > 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: the %s slot holds the running system (board running=rootfs): "
				  "boot the other image first, or upgrade the other slot", path, dev_slot_name(t));
	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return 0;   /* a file slot: made or grown as it is written */
	if ((rc = mounted_at(st.st_rdev, where, sizeof(where), err)) < 0)
		return -1;
	if (rc > 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: mounted on %s: unmount it before writing the %s slot", path,
				  where, dev_slot_name(t));
	/*
	 * O_EXCL, as the writer opens it: a device the kernel holds without a mount (swap, a device
	 * mapper or RAID member, a mounted partition of it) is refused here, before the plan writes
	 * anything, not when its turn comes after the other images are committed.
	 */
	if ((fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC)) < 0 && errno == EBUSY)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: in use (held by the kernel: swap, a device mapper or RAID "
				  "member, a mounted partition, or another program): release it before writing the %s slot",
				  path, dev_slot_name(t));
	if (fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", path, strerror(errno));
	rc = dev_slot_size(fd, path, &cap, err);
	close(fd);
	if (rc == 0 && cap < size)
		rc = fw_err_set(err, FW_EXIT_REJECTED, "%s: the %s slot holds %llu bytes, the image needs %llu", path,
				dev_slot_name(t), (unsigned long long)cap, (unsigned long long)size);
	return rc;
}

/*
 * A file slot's writes are buffered with write-behind: every WRITEBACK_WINDOW
 * bytes, writeback of the window just written starts (sync_file_range
 * WRITE), and the writer waits for the window before it
 * (WAIT_BEFORE|WRITE|WAIT_AFTER), so at most two windows are dirty and the
 * disk works while the stream is hashed; one fdatasync at the end makes the
 * rest, and the file's size, durable before the record may say valid.
 * Measured against O_DIRECT in 1 MiB writes (make bench): O_DIRECT waits for
 * each write in turn and took twice as long as cp && sync; this keeps to the
 * disk's speed. Each window written back leaves the page cache
 * (POSIX_FADV_DONTNEED): a 1 GiB install then cycles through a few windows'
 * pages instead of taking 1 GiB of fresh ones, which on the test VM took
 * 0.9-1.4 s against a steady 0.7-0.9 s.
 *
 * A block-device slot is written with O_DIRECT, as dd oflag=direct does: the
 * writes come from the chunk pipe's delivery thread (formats/chunk.c) in
 * whole chunks from page-aligned buffers, while the workers hash the next
 * chunks, so the device is kept busy without a copy into the page cache.
 * Buffered write-behind to a loop device took 2.0 s for 1 GiB against dd's
 * 0.94 s (one interleaved run). A write that is not aligned to the device's
 * logical block (an image's last chunk, a resume from an odd offset) goes
 * through the page cache. The fdatasync at the end is still what makes the
 * slot durable (it flushes the device's write cache).
 */
static int open_slot(struct dev_slot_writer *w, const struct dev_root *r, int t, int keep, uint64_t offset,
		     struct fw_err *err)
{
	struct stat st;
	int blk, busy, lbs = 0;

	memset(w, 0, sizeof(*w));
	w->slot = t;
	w->path = r->slot_path[t];
	w->capacity = UINT64_MAX;
	/* The planner checked (dev_slot_usable); a direct caller is held to the same rules. */
	if (dev_slot_usable(r, t, offset, err) < 0)
		return -1;
	blk = stat(w->path, &st) == 0 && S_ISBLK(st.st_mode);
	/* Opening for writing may change a file slot's bytes (a new file; dev_slot_finish cuts it). */
	fw_crash_point("opening for writing", w->path);
	/* The golden slot is read-only (0444) between golden installs. */
	if (!blk && t == DEV_SLOT_GOLDEN && chmod(w->path, 0600) < 0 && errno != ENOENT)
		return fw_err_set(err, FW_EXIT_IO, "%s: chmod: %s", w->path, strerror(errno));
	/* A block device is opened exclusively (O_EXCL without O_CREAT): the kernel then refuses it while it
	 * is mounted or another program holds it so, and nobody else gets it while fwctl writes. */
	w->fd = blk ? open(w->path, O_WRONLY | O_EXCL | O_CLOEXEC | O_DIRECT) : open(w->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	w->direct = blk && w->fd >= 0;
	if (blk && w->fd < 0 && errno == EINVAL)   /* a device without direct I/O: written through the page cache */
		w->fd = open(w->path, O_WRONLY | O_EXCL | O_CLOEXEC);
	w->direct_on = w->direct;
	if (w->fd < 0) {
		busy = blk && errno == EBUSY;
		return fw_err_set(err, busy ? FW_EXIT_REJECTED : FW_EXIT_IO, "%s: cannot open for writing: %s", w->path,
				  busy ? "in use (mounted, or held by another program)" : strerror(errno));
	}
	/*
	 * A file slot is not truncated here but overwritten in place, and cut to
	 * the image's length when finished: truncating a slot that holds an image
	 * frees all its blocks, and writing allocates them again. Measured on a
	 * 400 MiB slot holding an image (4 runs each, by hand): 0.73-0.82 s to write a
	 * compressed image over it, 0.59-0.67 s into a new file. The slot's
	 * record says it is invalid before this (dev_upgrade's on_begin), and a
	 * resume keeps only the chunks whose bytes match the new image's digests.
	 */
	if (fstat(w->fd, &st) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: %s", w->path, strerror(errno));
		dev_slot_abort(w);
		return -1;
	}
	w->cut = S_ISREG(st.st_mode);   /* a resumed one too: its old tail may lie beyond the new image's end */
	if (S_ISBLK(st.st_mode) && dev_slot_size(w->fd, w->path, &w->capacity, err) < 0) {
		dev_slot_abort(w);
		return -1;
	}
	if (w->direct && (ioctl(w->fd, BLKSSZGET, &lbs) < 0 || lbs <= 0 || (lbs & (lbs - 1)) != 0))
		lbs = 4096;   /* cannot tell: a page, which every device's logical block divides */
	w->align = w->direct ? (unsigned)lbs : 1;
	if (keep && ((S_ISREG(st.st_mode) && (uint64_t)st.st_size < offset) || offset > w->capacity ||
		     lseek(w->fd, (off_t)offset, SEEK_SET) < 0)) {
		fw_err_set(err, FW_EXIT_IO, "%s: does not hold the %llu bytes to keep", w->path, (unsigned long long)offset);
		dev_slot_abort(w);
		return -1;
	}
	w->written = w->flushed = w->waited = offset;
	return 0;
}

int dev_slot_open(struct dev_slot_writer *w, const struct dev_root *r, int t, struct fw_err *err)
{
	return open_slot(w, r, t, 0, 0, err);
}

int dev_slot_open_at(struct dev_slot_writer *w, const struct dev_root *r, int t, uint64_t offset, struct fw_err *err)
{
	return open_slot(w, r, t, 1, offset, err);
}

int dev_slot_sync(struct dev_slot_writer *w, struct fw_err *err)
{
	fw_crash_point("fsync of", w->path);
	if (fdatasync(w->fd) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: fsync: %s", w->path, strerror(errno));
	return 0;
}

/* Can this write go to the device directly: its address, length and the slot offset on the device's block? */
static int aligned(const struct dev_slot_writer *w, const void *buf, size_t len)
{
	return len > 0 && (uintptr_t)buf % w->align == 0 && len % w->align == 0 && w->written % w->align == 0;
}

static int set_direct(struct dev_slot_writer *w, int on)
{
	int fl;

	if (on == w->direct_on)
		return 0;
	if ((fl = fcntl(w->fd, F_GETFL)) < 0 || fcntl(w->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) < 0)
		return -1;
	w->direct_on = on;
	return 0;
}

int dev_slot_write(struct dev_slot_writer *w, const void *buf, size_t len, struct fw_err *err)
{
	if (len > w->capacity - w->written)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: the image does not fit the device's %llu bytes", w->path,
				  (unsigned long long)w->capacity);
	fw_crash_point("writing to", w->path);
	if (w->direct && set_direct(w, aligned(w, buf, len)) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: fcntl: %s", w->path, strerror(errno));
	if (fw_write_all(w->fd, buf, len, w->path, err) < 0)
		return -1;
	if (w->direct_on && w->waited == w->written) {
		/* On the device already, as a written-back window would be. */
		w->written = w->flushed = w->waited = w->written + len;
		return 0;
	}
	w->written += len;
	if (w->written - w->flushed >= WRITEBACK_WINDOW) {
		/* Errors here surface at the final fdatasync; these calls only pace the writeback. */
		(void)sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->written - w->flushed),
				      SYNC_FILE_RANGE_WRITE);
		if (w->flushed > w->waited) {   /* (a length of 0 would mean "to the end of the file") */
			(void)sync_file_range(w->fd, (off_t)w->waited, (off_t)(w->flushed - w->waited),
					      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
						      SYNC_FILE_RANGE_WAIT_AFTER);
			/* The window is on the storage: drop its pages from the cache, so the
			 * next windows reuse them instead of taking fresh memory (and evicting
			 * what the device's programs keep cached) for an image read only at boot. */
			(void)posix_fadvise(w->fd, (off_t)w->waited, (off_t)(w->flushed - w->waited),
					    POSIX_FADV_DONTNEED);
		}
		w->waited = w->flushed;
		w->flushed = w->written;
	}
	return 0;
}

/*
 * ext4 otherwise reserves each 4 KiB block as it is written (delayed
 * allocation): measured, 0.31-0.37 s of system time for 1 GiB of
 * write-behind against 0.39-0.55 s. FALLOC_FL_KEEP_SIZE leaves the file's
 * size to say how much was written (dev_resume counts on it). A block
 * device, or a file system without fallocate, simply gets the writes.
 */
void dev_slot_reserve(struct dev_slot_writer *w, uint64_t size)
{
	struct stat st;

	if (size > w->written && fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode))
		(void)fallocate(w->fd, FALLOC_FL_KEEP_SIZE, (off_t)w->written, (off_t)(size - w->written));
}

int dev_slot_finish(struct dev_slot_writer *w, struct fw_err *err)
{
	int rc = 0;

	fw_crash_point("fsync of", w->path);
	if (w->slot == DEV_SLOT_GOLDEN && w->capacity == UINT64_MAX && fchmod(w->fd, 0444) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: chmod: %s", w->path, strerror(errno));
	if (rc == 0 && w->cut && ftruncate(w->fd, (off_t)w->written) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: truncate: %s", w->path, strerror(errno));
	if (rc == 0 && fdatasync(w->fd) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: fsync: %s", w->path, strerror(errno));
	if (close(w->fd) < 0 && rc == 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: close: %s", w->path, strerror(errno));
	w->fd = -1;
	return rc;
}

void dev_slot_abort(struct dev_slot_writer *w)
{
	if (w->fd >= 0) {
		/* Refused or failed part way: the slot holds the new image's verified chunks only, no old tail. */
		if (w->cut)
			(void)ftruncate(w->fd, (off_t)w->written);
		/* A golden install cut short (a cancel, a network error): the slot goes back to read-only. */
		if (w->slot == DEV_SLOT_GOLDEN && w->capacity == UINT64_MAX)
			(void)fchmod(w->fd, 0444);
		close(w->fd);
	}
	w->fd = -1;
}
