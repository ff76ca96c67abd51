/* dev_policy: may this firmware package go onto this device, and which of its images go where. */
#ifndef FW_DEV_POLICY_H
#define FW_DEV_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "device/dev_slot.h"
#include "base/fw_err.h"
#include "formats/manifest.h"

struct dev_policy_in {
	const char *product;
	int tpm;
	int all;                                  /* target all */
	enum fw_target target;                    /* the single target, when not all */
	int force;                                /* skip the version-order checks, nothing else */
	int rereadable;                           /* the source can be read a second time from its start */
	const struct dev_record *rec[FW_TARGET_COUNT];
	const struct dev_record *golden;          /* the golden slot's record; NULL or not valid: none */
	uint64_t rollback_index;                  /* the device's */
	/* board running=rootfs: the root file system lives on system slot `booted` (pri or sec), never written */
	int rootfs;
	enum fw_target booted;
};

struct dev_plan_step {
	enum fw_target target;
	size_t payload;                           /* index into the manifest's payloads */
	unsigned pass;                            /* 0, or 1: written in a second read of the package */
};

/*
 * Steps are written pass by pass, each pass in stream order: a slot's record
 * goes not valid before its first byte changes and valid again when its image
 * is whole and verified; a pass's last image only once the reader has
 * accepted the whole package. Two passes exist for one case: `all` on a
 * device whose only bootable system image is the secondary, from a source
 * that can be read twice: the primary first, then the rest.
 */
struct dev_plan {
	size_t n;
	unsigned passes;                          /* 1 or 2 */
	struct dev_plan_step step[FW_TARGET_COUNT];  /* in writing order */
	int transition;                           /* +1 entering a higher generation, -1 leaving one downwards */
	int downgrade;                            /* older than the running version: warn */
	char running[FW_VERSION_MAX_LEN + 1];     /* the version policy compared against; "" if none valid */
	int left_running;                         /* rootfs: 'all' leaves the running slot's image out */
};

/* Can the boot step start this record's image? Valid, and not below the device's rollback index. */
int dev_record_bootable(const struct dev_record *rec, uint64_t device_rollback_index);

/*
 * Walk the plan as the transaction writes it, from a device whose system
 * images are bootable as given (indexed by target; boot is ignored). Returns
 * the index of the first step during which no system image would be
 * bootable, or -1 when there is none (or nothing was bootable to begin with).
 */
long dev_plan_unsafe_step(const struct dev_plan *plan, const int bootable[FW_TARGET_COUNT]);

/*
 * The upgrade policy of fwctl(8), decided on the signed manifest before any
 * payload byte is read. 0 and a plan, or -1 with err (code FW_EXIT_REJECTED)
 * saying what is wrong and what to do next. The running image is
 * dev_running's (dev_slot.h): on a board whose root file system lives on a
 * slot (in->rootfs), the booted slot's, else the primary's or the
 * secondary's. There 'all'
 * writes the package's images for every slot but the booted one, which it
 * leaves as it is (plan->left_running), and an image generation change,
 * which must write the three slots in one step, is refused. A plan never
 * makes the device unbootable (dev_plan_unsafe_step): it is reordered when it
 * can be and refused, naming the commands to run instead, when it cannot.
 */
int dev_policy_check(const struct dev_policy_in *in, const struct fw_manifest *m, struct dev_plan *plan,
		     struct fw_err *err);

/*
 * golden install: the package's primary image for the product goes into the
 * golden slot. Product, TPM and the rollback index are checked as for an
 * upgrade; version order and generations are not (the factory or a modem
 * update places the golden system, older or newer than what runs).
 */
int dev_policy_golden(const struct dev_policy_in *in, const struct fw_manifest *m, struct dev_plan *plan,
		      struct fw_err *err);

/* Does a record name this image (digest, size, chunk size)? */
int dev_record_holds(const struct dev_record *rec, const uint8_t digest[FW_DIGEST_LEN], uint64_t size, uint32_t chunk_size);

/*
 * Where a delta's image for slot t comes from (formats/pkg.md, section 10),
 * by the records `rec`: slot t itself when it holds the image already (an
 * upgrade run again after a power cut: verified there, not written), another
 * slot holding the image (copied, each chunk verified: the primary from the
 * secondary just written), else another slot holding its base. Never a base
 * in slot t: a power cut would destroy it. PKG_DELTA_TARGET or
 * PKG_DELTA_BASE with *slot, or PKG_DELTA_NONE.
 */
int dev_delta_slot(const struct dev_record rec[DEV_SLOT_COUNT], enum fw_target t, const struct fw_payload *p, int *slot);

/*
 * The one rule of where a delta's base is: every delta payload the plan
 * installs has its base (or its image) in another slot (dev_delta_slot) at
 * the moment its step runs, each earlier step's image counted as written.
 * The install refuses a package that fails it (fileNotMatch, nothing
 * written); the smart check fetches the full package instead. 0, or -1 with
 * err (FW_EXIT_REJECTED) naming the base no slot holds.
 */
int dev_policy_delta_bases(const struct dev_record rec[DEV_SLOT_COUNT], const struct dev_plan *plan,
			   const struct fw_manifest *m, struct fw_err *err);

/* The same walk, saying for each step i of the plan where its delta's image will come from (src[i]: PKG_DELTA_BASE,
 * PKG_DELTA_TARGET, or PKG_DELTA_NONE for a step that is no delta). */
int dev_plan_delta_sources(const struct dev_record rec[DEV_SLOT_COUNT], const struct dev_plan *plan,
			   const struct fw_manifest *m, int src[FW_TARGET_COUNT], struct fw_err *err);

#endif
