/* dev_upgrade: the upgrade transaction: plan, verify manifest and policy, stage each image, commit. */
#ifndef FW_DEV_UPGRADE_H
#define FW_DEV_UPGRADE_H

#include "base/fw_err.h"
#include "device/dev_root.h"
#include "device/dev_source.h"
#include "device/dev_state.h"

/* Progress and warnings for people; the library never prints. */
typedef void (*dev_note_fn)(void *ctx, const char *text);

struct dev_upgrade_req {
	int all;                      /* upgrade all; else `target` alone */
	enum fw_target target;
	int force;                    /* skip the version-order checks, nothing else */
	int golden;                   /* golden install: the package's primary image into the golden slot */
	const struct dev_source *src;
	dev_note_fn note;             /* may be NULL */
	void *note_ctx;
};

struct dev_upgrade_out {
	enum dev_result result;       /* as recorded in the state */
	char version[FW_VERSION_MAX_LEN + 1];   /* the package's, "" before its manifest was read */
	unsigned installed;           /* 1 << fw_target for each slot committed */
	unsigned not_installed;       /* ... for each planned and not committed */
};

/*
 * One upgrade on a locked root (fwctl(8), "UPGRADE TRANSACTION"):
 *   1. open the source; read the signed manifest; check it against the
 *      device (dev_policy_check), which gives a plan that never leaves the
 *      device without a bootable system image;
 *   2. record "inProgress", then stream each planned image into its slot,
 *      every chunk verified before it is written; a slot's record goes not
 *      valid before its first byte changes;
 *   3. commit each image's record as it completes, except the last of each
 *      pass, which is committed only once the reader has accepted the whole
 *      package, end of archive included.
 * Every outcome but a usage error is recorded in the state's last upgrade,
 * its text escaped. 0 on success; -1 with err, whose code is the exit code.
 */
int dev_upgrade(struct dev_root *r, const struct dev_upgrade_req *req, struct dev_upgrade_out *out,
		struct fw_err *err);

/* "sec, boot" for a set of 1 << fw_target, in slot order; "none" when empty. */
void dev_targets_text(unsigned set, char *out, size_t outsz);

#endif
