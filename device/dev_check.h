/* dev_check: fetch the signed catalog, refuse what must be refused, and decide the device's next release. */
#ifndef FW_DEV_CHECK_H
#define FW_DEV_CHECK_H

#include <stdint.h>

#include "base/fw_err.h"
#include "device/dev_root.h"
#include "device/dev_slot.h"
#include "device/dev_smart.h"
#include "device/dev_transport.h"
#include "formats/catalog.h"

#define DEV_CHECK_SIG_MAX 4096   /* bytes of a catalog's .minisig a device fetches at most */

struct dev_check_out {
	enum dev_check_result result;
	char available[FW_VERSION_MAX_LEN + 1];  /* the release this device is to run; "" none */
	char step[FW_VERSION_MAX_LEN + 1];       /* the one to install next (a bridge first); "" none */
	uint64_t serial;
	int64_t expires;
	char note[512];                          /* why versionOptimal, or which bridge comes first */
};

/* What the decision needs to know of the device. */
struct dev_check_device {
	const char *product;
	const char *device_id;        /* for the rollout bucket; "" none */
	int tpm;                      /* the device has a TPM */
	uint64_t rollback_index;      /* the device's */
	const struct dev_record *rec[FW_TARGET_COUNT];   /* the slots' records, as the install's policy sees them */
	const struct dev_record *golden;                 /* the golden slot's; NULL: none */
	/* board running=rootfs: the root file system lives on system slot `booted`, as dev_running_now says */
	int rootfs;
	enum fw_target booted;
	/* Releases refused before (their manifest_sha256): never chosen again, so a refusal is not repeated. */
	const struct dev_smart_refusal *refused;
	size_t n_refused;
};

/*
 * The decision, from an accepted catalog, through the install's own policy
 * (dev_policy_check on the release as its signed manifest will say it,
 * installed with 'upgrade all' from the downloaded file): the candidates are
 * the device's product's releases above the running version whose rollout
 * takes the device (dev_smart_rollout_bucket) and that were not refused
 * before; a candidate is reachable when the policy accepts it from the
 * device as it is, or from the device as it will be after a reachable one
 * older than it. *target is the newest reachable candidate, *step the first
 * release on a shortest path to it (a bridge first: 5.20.0 -> 5.21.2 ->
 * 5.22.2 -> 5.23.0 when each is entered only from the one before). Both
 * NULL when the device is to stay; note says why (no release for the
 * product, none newer, the rollout, the policy's refusal of the newest). A
 * release the policy refuses is never chosen, so it is never downloaded.
 * -1 with err (FW_EXIT_REJECTED) when the newest candidate is unreachable
 * because the bridge version it names is not in the catalog.
 */
int dev_check_decide(const struct fw_catalog *c, const struct dev_check_device *dev, const struct fw_release **target,
		     const struct fw_release **step, char *note, size_t notesz, struct fw_err *err);

/*
 * A delta package of rel (the catalog's deltas, format version 3) this
 * device can take: not refused before (a delta that failed once is not tried
 * again for the release), and every base where the install would read it:
 * dev_policy_delta_bases, the install's own rule, on the plan the install's
 * policy makes for rel and the slots' records `rec` (golden included). NULL:
 * the full package.
 */
const struct fw_catalog_delta *dev_check_delta(const struct fw_catalog *c, const struct dev_check_device *dev,
				      const struct fw_release *rel, const struct dev_record rec[DEV_SLOT_COUNT]);

/*
 * fwctl check at `now` on a locked root: fetch the catalog (smart config's
 * server, at most FW_CATALOG_MAX_BYTES) and its signature (URL.minisig),
 * verify it against the device's trust store, refuse it when expired or
 * older (serial) than the last accepted, then decide (dev_check_decide).
 * Every outcome is recorded in ROOT/smart.json (the check's time, result and
 * message; the accepted catalog's serial and expiry; the next step (its
 * delta package instead when dev_check_delta finds one), whose
 * download is discarded when the step changed, and whose URLs are the newest
 * catalog's when it did not; the description and the recommended patch). 0
 * for needUpdate and versionOptimal; -1 with err otherwise: FW_EXIT_NET for
 * netError, serverSpecUpLimit and CertOutDate (by the error's kind; the next
 * check backs off, or waits for a busy server's Retry-After),
 * FW_EXIT_REJECTED for a refused catalog, FW_EXIT_USAGE when no server is
 * set, FW_EXIT_IO.
 */
int dev_check(struct dev_root *r, int64_t now, struct dev_check_out *out, struct fw_err *err);

/*
 * Would the install (dev_upgrade, 'upgrade all' from the downloaded file)
 * take this manifest on this device as it is now, its policy and, for a
 * delta, its bases (dev_policy_delta_bases)? The download asks before it
 * fetches a payload byte. 0, or -1 with err (FW_EXIT_REJECTED: the policy's
 * refusal, or kind FW_KIND_MISMATCH: a delta base no slot holds; FW_EXIT_IO).
 */
int dev_check_policy(const struct dev_root *r, const struct fw_manifest *m, struct fw_err *err);


#endif
