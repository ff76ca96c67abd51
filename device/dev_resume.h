/* dev_resume: the durable record that lets a network upgrade cut by a power loss continue from what its slots hold. */
#ifndef FW_DEV_RESUME_H
#define FW_DEV_RESUME_H

#include <stdint.h>

#include "base/fw_err.h"
#include "device/dev_root.h"
#include "device/dev_slot.h"
#include "device/dev_transport.h"
#include "formats/manifest.h"

#define DEV_RESUME_FILE "upgrade.resume"

/*
 * ROOT/DEV_RESUME_FILE, JSON, replaced durably (dev_json_write) by the
 * upgrade of a network source as it goes; removed when the upgrade ends,
 * except by a network error (then the next run resumes too). It vouches only
 * for bytes already durable in their slot (dev_slot_sync first), and nothing
 * in it is trusted: every byte it points at is verified again by the reader,
 * so a wrong record costs a restart, never a wrong image.
 *
 * One entry per slot and one per payload (dev_resume_load refuses a record
 * with two for either). An image entry says: the package's payload whose bytes begin at package
 * offset `offset` (`size` bytes, chunk list digest `digest`) was being
 * written into `slot`, and the slot's first `kept` bytes are that payload's,
 * verified and durable. When the slot's record is valid with that digest the
 * whole image is there (it was committed).
 *
 * A compressed image (formats/pkg.md, section 9; a delta rebuilt from its
 * base too, section 10; not one copied whole from another slot, which is
 * copied again) has `compressed` set: its slot holds decoded bytes, so `kept` is
 * where a frame begins (a multiple of the frame size, or the image's size),
 * `frame_at` where that frame begins in the payload's compressed bytes (the
 * payload's size for the image's end), and `skip` the compressed bytes
 * before the piece holding it: a resume does not fetch them (the reader
 * passes over them: pkg_reader_ops.resume_at) and verifies the slot's kept
 * bytes against the image's chunk list instead. A delta's whole image names
 * no `skip` (0): a later pass or run may only verify its compressed bytes,
 * with no base to continue at a frame, and must fetch them all.
 */
struct dev_resume_image {
	int slot;                       /* enum fw_target, or DEV_SLOT_GOLDEN */
	uint64_t offset;                /* package offset of the payload's first byte */
	uint64_t size;
	uint64_t kept;                  /* bytes from the slot's start, durable and verified */
	uint8_t digest[FW_DIGEST_LEN];  /* the payload's, from the signed manifest */
	int compressed;
	uint64_t frame_at;              /* compressed: where the frame at `kept` begins in the payload */
	uint64_t skip;                  /* compressed: payload bytes a resume does not fetch */
};

struct dev_resume {
	char source[600];               /* dev_source.shown: the password is never in it */
	char request[16];               /* "all", "pri", "sec", "boot" or "golden" */
	struct dev_transport_id id;     /* the file on the server, as the interrupted run saw it */
	uint8_t manifest_sha256[FW_DIGEST_LEN];   /* SHA-256 of the exact manifest bytes */
	long long started;              /* seconds since the epoch */
	unsigned n;
	struct dev_resume_image image[DEV_SLOT_COUNT];
};

/* 1 and *out when a record is there; 0 when none; -1 when one is there but unreadable or malformed (err says why). */
int dev_resume_load(const struct dev_root *r, struct dev_resume *out, struct fw_err *err);

/* Replace the record durably. */
int dev_resume_save(const struct dev_root *r, const struct dev_resume *res, struct fw_err *err);

/* Remove the record and the chunk lists beside it (best effort: a stale one never blocks anything, it is checked at every use). */
void dev_resume_clear(const struct dev_root *r);

/*
 * Keep the chunk list of the image about to be written into slot (and its
 * chunk size) beside the record, durably, as ROOT/DEV_RESUME_FILE.SLOT: once
 * per image, before its first byte, so that after a power cut the slot's
 * bytes can be checked chunk by chunk (dev_resume_extend) beyond what the
 * record vouched for when it was last replaced.
 */
int dev_resume_save_chunks(const struct dev_root *r, int slot, uint32_t chunk_size, const uint8_t *list, size_t len,
			   struct fw_err *err);

/*
 * After a cut: extend im->kept over the slot's further chunks, in order, as
 * long as each matches the saved chunk list, itself checked against the
 * image's signed digest (im->digest). The record is replaced only now and
 * then (writing it costs a sync), so the slot often holds more than it says:
 * with this, what a power cut costs is what never reached the disk, not what
 * the record had yet to say. Nothing here is trusted either: the reader
 * verifies the slot's bytes again. Best effort; returns the bytes added.
 * Not for a compressed image: it continues where a frame begins, and only
 * the record says where that is in the payload.
 */
uint64_t dev_resume_extend(const struct dev_root *r, struct dev_resume_image *im);

/*
 * For status: NULL when there is no readable record; else {source, request,
 * kept, started}: kept counts a whole image for each slot whose record (rec,
 * indexed by slot) is valid with the entry's digest, as a resume would.
 */
json_t *dev_resume_status(const struct dev_root *r, const struct dev_record rec[DEV_SLOT_COUNT]);

/* The entry for slot, adding an empty one when absent; NULL when full. */
struct dev_resume_image *dev_resume_image(struct dev_resume *res, int slot);

/*
 * The resume policy, one home for it (the upgrade transaction asks):
 *
 * dev_resume_whole: is the image im describes whole in its slot: the slot's
 * record valid with the payload's digest and size, and the image written by
 * the interrupted run (kept == size, or `inherited`: the record named the
 * slot) or by this run's earlier pass? A slot that held the same image before
 * the upgrade is not: it is written as it always was (upgrade force).
 */
int dev_resume_whole(const struct dev_resume_image *im, const struct dev_record *rec, int inherited);

/*
 * Whether the interrupted run `old` (found: dev_resume_load's answer) may be
 * continued by `upgrade REQUEST SOURCE` reading the file `id` over `proto`:
 * the same source as shown, the same request, no unpack hook (its output has
 * offsets of its own), not TFTP (it cannot start in the middle of a file),
 * the same file on the server (ETag, time and size). 1 yes; 0 no, why says
 * why when there was a record to refuse ("" when there was none).
 */
int dev_resume_may(int found, const struct dev_resume *old, const char *source, const char *request, int hook,
		   enum dev_proto proto, const struct dev_transport_id *id, char *why, size_t n);

/*
 * Where the first byte a resume would take from a slot lies, 0 when none: the
 * transport is opened to stop there, so a server that honours ranges sends
 * only the bytes before it (the manifest, signatures, chunk lists). A guess
 * from the record alone (no server asked yet): dev_resume_may decides once
 * the transport is open, and the caller reopens when the guess was wrong.
 */
uint64_t dev_resume_first_byte(int found, const struct dev_resume *old, const char *source, const char *request,
			       int hook, const struct dev_record rec[DEV_SLOT_COUNT]);

#endif
