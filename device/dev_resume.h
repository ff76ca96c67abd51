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
 * An image entry says: the package's payload whose bytes begin at package
 * offset `offset` (`size` bytes, chunk list digest `digest`) was being
 * written into `slot`, and the slot's first `kept` bytes are that payload's,
 * verified and durable. When the slot's record is valid with that digest the
 * whole image is there (it was committed).
 */
struct dev_resume_image {
	int slot;                       /* enum fw_target, or DEV_SLOT_GOLDEN */
	uint64_t offset;                /* package offset of the payload's first byte */
	uint64_t size;
	uint64_t kept;                  /* bytes from the slot's start, durable and verified */
	uint8_t digest[FW_DIGEST_LEN];  /* the payload's, from the signed manifest */
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

/* Remove the record (best effort: a stale one never blocks anything, it is checked at every use). */
void dev_resume_clear(const struct dev_root *r);

/*
 * For status: NULL when there is no readable record; else {source, request,
 * kept, started}: kept counts a whole image for each slot whose record (rec,
 * indexed by slot) is valid with the entry's digest, as a resume would.
 */
json_t *dev_resume_status(const struct dev_root *r, const struct dev_record rec[DEV_SLOT_COUNT]);

/* The entry for slot, adding an empty one when absent; NULL when full. */
struct dev_resume_image *dev_resume_image(struct dev_resume *res, int slot);

#endif
