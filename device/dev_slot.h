/* dev_slot: the slots pri, sec, boot and golden, and the record that says what each holds. */
#ifndef FW_DEV_SLOT_H
#define FW_DEV_SLOT_H

#include <stdint.h>

#include <jansson.h>

#include "device/dev_root.h"
#include "base/fw_err.h"
#include "formats/manifest.h"

/*
 * ROOT/records/TARGET.json. A slot is trusted only when its record is valid
 * and the slot's first `size` bytes hash to `digest`: the SHA-256 of the list
 * of SHA-256s of its `chunk_size` chunks, which is exactly the payload digest
 * the package's signed manifest carries (fwpkg-pkg(5)).
 */
struct dev_record {
	int valid;
	char version[FW_VERSION_MAX_LEN + 1];
	uint32_t generation;
	uint64_t size;
	uint32_t chunk_size;
	uint8_t digest[FW_DIGEST_LEN];             /* SHA-256 of the chunk list, as in the signed manifest */
	char bridge_down[FW_VERSION_MAX_LEN + 1];  /* from the package that wrote it; "" if none */
	uint64_t rollback_index;
	long long installed;                        /* seconds since the epoch */
	int trial;                                  /* a system image not yet marked good (fwctl mark-good) */
	char note[160];                             /* why it is not valid */
	int has_sbom;                               /* the package carried an SBOM (never written to a slot) */
	uint8_t sbom_sha256[FW_DIGEST_LEN];         /* its SHA-256, as in the signed manifest */
	/* The golden slot's record when not valid: the golden system it held, still the floor ("" none) */
	char floor[FW_VERSION_MAX_LEN + 1];
};

/*
 * The golden floor: no boot starts a primary or secondary older than it and
 * no upgrade installs one. The golden record's version when it is valid;
 * else the golden system the record last held (`floor`), which a golden
 * install cut short (a cancel, a failure, a crash) or an image failing its
 * check at boot does not take away: the field's golden system is never
 * rolled back past. NULL when no golden system was ever placed.
 */
const char *dev_golden_floor(const struct dev_record *golden);
/* Is `version` below the golden floor? */
int dev_below_golden(const struct dev_record *golden, const char *version);
/* The record slot gets when it goes not valid, replacing old: the note, and the golden slot's floor kept. */
void dev_record_invalid(int slot, const struct dev_record *old, struct dev_record *inv, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Load a record. Never fails: a missing or unreadable record loads as not valid, with a note saying why. */
void dev_record_load(const struct dev_root *r, int slot, struct dev_record *rec);
/* Replace a record durably (dev_json_write). */
int dev_record_save(const struct dev_root *r, int slot, const struct dev_record *rec, struct fw_err *err);
json_t *dev_record_to_json(const struct dev_record *rec);

/* Digest of the first `size` bytes of fd in chunks of chunk_size, as above. */
int dev_digest_fd(int fd, uint64_t size, uint32_t chunk_size, uint8_t out[FW_DIGEST_LEN], struct fw_err *err);

/* Does the slot hold what its record says? 0 yes; -1 no, err saying why. */
int dev_slot_check(const struct dev_root *r, int slot, const struct dev_record *rec, struct fw_err *err);

/*
 * Can slot t take an image of `size` bytes now? Checked for every planned
 * slot before anything changes. A block device must be as large as the
 * image and not mounted (the refusal names the mount point); on a board
 * whose root file system lives on the slot that booted (board running=rootfs)
 * that slot is never written. 0 yes; -1 with err (FW_EXIT_REJECTED: refused;
 * FW_EXIT_IO: could not tell).
 */
int dev_slot_usable(const struct dev_root *r, int slot, uint64_t size, struct fw_err *err);
/*
 * The slot that booted, from the kernel command line: fwpkg.slot=
 * (dev_board_booted_slot), else a root= naming a slot's block device (as RAUC
 * finds it without rauc.slot=). DEV_BOOTED_NONE when it names neither; -1
 * with err (FW_EXIT_IO) when the two name different slots.
 */
int dev_slot_booted(const struct dev_root *r, int *slot, struct fw_err *err);
/* The same, for a command that needs the answer: -1 with err (FW_EXIT_IO, naming the file) when it names neither. */
int dev_slot_running(const struct dev_root *r, int *slot, struct fw_err *err);
/*
 * On a board whose root file system lives on the slot that booted (board
 * running=rootfs): that slot (pri, sec or golden, dev_slot_booted).
 * DEV_BOOTED_NONE on a board that runs from RAM. -1 with err (FW_EXIT_IO)
 * when the command line does not say.
 */
int dev_slot_rootfs(const struct dev_root *r, int *slot, struct fw_err *err);
/*
 * What runs now: the one rule the upgrade policy, the smart check and
 * download, the packages' firmware bounds and status share. On a board whose
 * root file system lives on a slot (board running=rootfs), the system slot
 * that booted (`rootfs`: pri or sec, as dev_slot_rootfs says) if its record
 * is valid. Otherwise the primary if its record is valid, else the secondary
 * if its is (the field's model: the system runs from RAM, and what an
 * upgrade wrote is what the next boot starts); else NULL. The golden system
 * is a fallback of the boot step, never the image an upgrade is judged
 * against. `rootfs` is DEV_BOOTED_NONE on a board that runs from RAM.
 */
const struct dev_record *dev_running(const struct dev_record *pri, const struct dev_record *sec, int rootfs);
/*
 * dev_running for this device, its board model included: *run its answer,
 * *rootfs the slot it was given (DEV_BOOTED_NONE but on a rootfs board
 * booted from pri or sec); either may be NULL. 0, or -1 with err (FW_EXIT_IO, naming the kernel
 * command line) when a rootfs board cannot tell which slot booted.
 */
int dev_running_now(const struct dev_root *r, const struct dev_record *pri, const struct dev_record *sec,
		    const struct dev_record **run, int *rootfs, struct fw_err *err);
/* A block device slot's size in bytes (BLKGETSIZE64), a file's length otherwise. */
int dev_slot_size(int fd, const char *path, uint64_t *size, struct fw_err *err);

/* Streaming an image into a slot; each write and the fsync is a crash point. */
struct dev_slot_writer {
	int fd;
	int slot;            /* an enum fw_target, or DEV_SLOT_GOLDEN */
	const char *path;
	uint64_t written;
	uint64_t flushed;   /* bytes handed to writeback so far */
	uint64_t waited;    /* bytes whose writeback has completed */
	uint64_t capacity;  /* a block device's size; UINT64_MAX for a file */
	int direct;         /* a block device opened O_DIRECT: aligned writes bypass the page cache */
	int direct_on;      /* O_DIRECT is set on fd now (an unaligned write clears it for itself) */
	unsigned align;     /* the device's logical block size: what an O_DIRECT write must be aligned to */
	int cut;            /* a regular file: cut to the bytes written when finished */
};

/*
 * Open the slot for writing from its start. A regular file is overwritten in
 * place and cut to the image's length when finished (dev_slot_finish).
 */
int dev_slot_open(struct dev_slot_writer *w, const struct dev_root *r, int slot, struct fw_err *err);
/*
 * Open the slot to continue an image at offset: its first offset bytes stay
 * as they are (an interrupted upgrade wrote and synced them; dev_resume.h),
 * nothing is truncated. -1 when the slot holds fewer bytes than that.
 */
int dev_slot_open_at(struct dev_slot_writer *w, const struct dev_root *r, int slot, uint64_t offset, struct fw_err *err);
/* Make every byte written so far durable (fdatasync), still open: before a record vouches for them. A crash point. */
int dev_slot_sync(struct dev_slot_writer *w, struct fw_err *err);
int dev_slot_write(struct dev_slot_writer *w, const void *buf, size_t len, struct fw_err *err);
/*
 * Best effort: reserve the blocks for an image of `size` bytes in a file
 * slot before writing it (fallocate, the file's size unchanged), so each
 * write only fills blocks that exist.
 */
void dev_slot_reserve(struct dev_slot_writer *w, uint64_t size);
/* fdatasync and close: once this returns, the slot's bytes are durable. */
int dev_slot_finish(struct dev_slot_writer *w, struct fw_err *err);
/* Close without a sync, after a failure: a file slot is cut to the bytes written (no old image tail). */
void dev_slot_abort(struct dev_slot_writer *w);

#endif
