/* dev_check: fetch the signed catalog, refuse what must be refused, and decide the device's next release. */
#ifndef FW_DEV_CHECK_H
#define FW_DEV_CHECK_H

#include <stdint.h>

#include "base/fw_err.h"
#include "device/dev_root.h"
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
	const char *running;          /* the running version; "" none */
	uint32_t generation;          /* the running image's generation */
	const char *device_id;        /* for the rollout bucket; "" none */
	int tpm;                      /* a release must be marked for TPM products exactly when the device has one */
	uint64_t rollback_index;      /* a release below it would be refused: never chosen */
};

/*
 * The decision, from an accepted catalog: the newest release of the
 * device's product above the running version that the device could install
 * (TPM marking as the device, rollback index not below the device's) and
 * whose rollout takes it (dev_smart_rollout_bucket); then, while that release
 * enters a newer generation than the running one from a bridge version the
 * device does not run, the bridge release instead (it must be in the
 * catalog). *step is NULL when the device is to stay (note says why: no
 * release for the product, none newer, the rollout, an unreachable bridge);
 * *target the release it is heading for. -1 with err (FW_EXIT_REJECTED) when
 * a bridge named is missing.
 */
int dev_check_decide(const struct fw_catalog *c, const struct dev_check_device *dev, const struct fw_release **target,
		     const struct fw_release **step, char *note, size_t notesz, struct fw_err *err);

/*
 * fwctl check at `now` on a locked root: fetch the catalog (smart config's
 * server, at most FW_CATALOG_MAX_BYTES) and its signature (URL.minisig),
 * verify it against the device's trust store, refuse it when expired or
 * older (serial) than the last accepted, then decide (dev_check_decide).
 * Every outcome is recorded in ROOT/smart.json (the check's time, result and
 * message; the accepted catalog's serial and expiry; the next step, whose
 * download is discarded when the step changed). 0 for needUpdate and
 * versionOptimal; -1 with err otherwise: FW_EXIT_NET for netError (the next
 * check backs off), FW_EXIT_REJECTED for a refused catalog, FW_EXIT_USAGE when
 * no server is set, FW_EXIT_IO.
 */
int dev_check(struct dev_root *r, int64_t now, struct dev_check_out *out, struct fw_err *err);

/* The running system image as the upgrade policy sees it: the primary if valid, else the secondary; "" none. */
void dev_check_running(const struct dev_root *r, char version[FW_VERSION_MAX_LEN + 1], uint32_t *generation);

#endif
