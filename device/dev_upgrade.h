/* dev_upgrade: the upgrade transaction: plan, verify manifest and policy, stage each image, commit. */
#ifndef FW_DEV_UPGRADE_H
#define FW_DEV_UPGRADE_H

#include <stdint.h>

#include "base/fw_err.h"
#include "device/dev_root.h"
#include "device/dev_source.h"
#include "device/dev_state.h"

/* Progress and warnings for people; the library never prints. */
typedef void (*dev_note_fn)(void *ctx, const char *text);

/* A download's progress, a few times a second while a network source is read. */
struct dev_progress {
	const char *source;           /* as shown (password hidden), escaped */
	unsigned pass, passes;        /* the read of the package under way (1-based), of how many */
	uint64_t done;                /* bytes of the package read in this pass */
	uint64_t total;               /* the package's size as the server gave it; 0 unknown (TFTP) */
	uint64_t speed;               /* bytes per second in this pass so far */
	int last;                     /* the pass ended */
};
typedef void (*dev_progress_fn)(void *ctx, const struct dev_progress *p);

struct dev_upgrade_req {
	int all;                      /* upgrade all; else `target` alone */
	enum fw_target target;
	int force;                    /* skip the version-order checks, nothing else */
	int golden;                   /* golden install: the package's primary image into the golden slot */
	const struct dev_source *src;
	/* Hash each chunk as it is read, into one chunk buffer, even from a
	 * local file (a network source always is): for a scheduled install,
	 * where memory counts and a second core's speed does not. */
	int hash_on_read;
	dev_note_fn note;             /* may be NULL */
	void *note_ctx;
	dev_progress_fn progress;     /* may be NULL; network sources only */
	void *progress_ctx;
};

#define DEV_PROGRESS_FILE "progress.json"

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
 * its text escaped. A network source (DEV_SRC_NET) is fetched by
 * dev_transport as it is read, never stored whole; a failure of the network
 * is netError (FW_EXIT_NET), told apart from a rejected package. While it is
 * read, ROOT/DEV_PROGRESS_FILE shows how far (not durable; removed at the end). 0 on success; -1 with err, whose code is the exit code.
 */
int dev_upgrade(struct dev_root *r, const struct dev_upgrade_req *req, struct dev_upgrade_out *out,
		struct fw_err *err);

/*
 * The download's progress while an upgrade reads a network source (the
 * object status --json shows as "download"), or NULL when none runs.
 */
json_t *dev_progress_load(const struct dev_root *r);

/* Forget a progress file a power cut left behind (boot, and the start of an upgrade). */
void dev_progress_clear(const struct dev_root *r);

/* Format a note and hand it to fn (NULL: dropped); the one way libfwdev's modules speak to people. */
void dev_note(dev_note_fn fn, void *ctx, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "sec, boot" for a set of 1 << fw_target, in slot order; "none" when empty. */
void dev_targets_text(unsigned set, char *out, size_t outsz);

#endif
