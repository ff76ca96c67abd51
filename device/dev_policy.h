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
	const struct dev_record *rec[FW_TARGET_COUNT];
	uint64_t rollback_index;                  /* the device's */
};

struct dev_plan_step {
	enum fw_target target;
	size_t payload;                           /* index into the manifest's payloads */
};

struct dev_plan {
	size_t n;
	struct dev_plan_step step[FW_TARGET_COUNT];  /* in stream order */
	int transition;                           /* +1 entering a higher generation, -1 leaving one downwards */
	int downgrade;                            /* older than the running version: warn */
	char running[FW_VERSION_MAX_LEN + 1];     /* the version policy compared against; "" if none valid */
};

/*
 * The upgrade policy of fwctl(8), decided on the signed manifest before any
 * payload byte is read. 0 and a plan, or -1 with err (code FW_EXIT_REJECTED)
 * saying what is wrong and what to do next. The running image is the
 * primary's record if valid, else the secondary's.
 */
int dev_policy_check(const struct dev_policy_in *in, const struct fw_manifest *m, struct dev_plan *plan,
		     struct fw_err *err);

#endif
