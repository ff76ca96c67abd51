/* dev_trial: ending a system image's trial: fwctl mark-good. */
#ifndef FW_DEV_TRIAL_H
#define FW_DEV_TRIAL_H

#include "base/fw_err.h"
#include "device/dev_root.h"

struct dev_mark_good_out {
	int slot;                                  /* the image that runs, or DEV_BOOTED_NONE */
	char version[FW_VERSION_MAX_LEN + 1];
	int was_trial;                             /* 0: it was good already, nothing changed */
	unsigned marked;                           /* 1 << slot for each record marked good */
};

/*
 * What a supervisor calls once the running system's services run: the image
 * that booted, and the other system image if it is on trial with the same
 * version (the other half of an `upgrade all`), are marked good, and the boot budget is reset.
 * Records first, then the state: a power cut between leaves good records and
 * a count no image on trial uses. -1 with err when nothing booted, and
 * (FW_EXIT_REJECTED, nothing changed) when the booted slot no longer holds
 * the image that booted (an upgrade without reboot wrote it since), or, on
 * a board, the kernel command line names another slot than the last
 * boot-check recorded (the bootloader gave up on a trial; boot-check has not run).
 */
int dev_mark_good(struct dev_root *r, struct dev_mark_good_out *out, struct fw_err *err);

struct dev_mark_bad_out {
	int slot;                                  /* the image that runs, or DEV_BOOTED_NONE */
	char version[FW_VERSION_MAX_LEN + 1];
	int was_trial;                             /* it was on trial: the last upgrade is rolledBack */
	unsigned marked;                           /* 1 << slot for each record marked bad */
	int next;                                  /* the slot the next boot starts (dev_boot_fallback) */
	char next_version[FW_VERSION_MAX_LEN + 1];
};

/*
 * fwctl mark-bad (RAUC's `status mark-bad`): the running system does not
 * work. Its record, and the other system image's when it is the other half
 * of the same 'upgrade all' still on trial (as mark-good pairs them), go not
 * valid, so that the next boot starts the next good image now (on a board,
 * they leave the bootloader's order first) instead of spending the rest of
 * the boot budget; the trial count is reset, and a trial marked bad is the
 * last upgrade's rolledBack. Records first, then the state. Refused
 * (FW_EXIT_REJECTED, nothing changed): nothing booted, the golden system
 * runs (it is the floor), the slot no longer holds the image that booted,
 * or no good image would be left to start (the device must stay bootable).
 */
int dev_mark_bad(struct dev_root *r, struct dev_mark_bad_out *out, struct fw_err *err);

#endif
