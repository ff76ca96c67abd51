/* dev_activate: the boot step's second half: verify every installed package, activate those that pass. */
#ifndef FW_DEV_ACTIVATE_H
#define FW_DEV_ACTIVATE_H

#include <stddef.h>

#include "base/fw_err.h"
#include "device/dev_root.h"
#include "device/dev_upgrade.h"   /* dev_note_fn */

#define DEV_ACTIVE_LINK "active"   /* ROOT/active -> trees/N: the active tree */
#define DEV_TREE_DIR "trees"

struct dev_activate_result {
	size_t installed;   /* packages in the index */
	size_t active;      /* of them, active now */
	int rebuilt;        /* a new active tree replaced the old one */
};

/*
 * After the bootloader picked an image running firmware `running` (fwctl(8),
 * "PACKAGES AT BOOT"), on a locked root:
 *   1. remove what a power cut left (package files no index names, trees
 *      the active link does not point to);
 *   2. verify every installed package in full (signature, every chunk), on
 *      all cores, and decide: trusted ones activate; unsigned or untrusted
 *      ones only when the configuration allows untrusted packages (and, with
 *      secure boot, a valid unlock token for this device is installed);
 *      those that fail, or do not fit the firmware or product, stay inactive;
 *   3. when that set differs from the one the active tree was built for,
 *      build a new tree in ROOT/trees/N+1, package by package, all or
 *      nothing each: its files, then its activate hook (with the configured
 *      timeout); a package whose files or hook fail is taken out again;
 *      deactivate hooks of packages leaving run from the old tree; then the
 *      link ROOT/active is switched to the new tree in one rename;
 *   4. record what was found (packages/verified.json) when it changed.
 * A package's failure is a note, never a failed boot: -1 only on an I/O
 * error of the device itself. Boot after boot with the same packages writes
 * nothing.
 */
int dev_activate(struct dev_root *r, const char *running, dev_note_fn note, void *note_ctx,
		 struct dev_activate_result *res, struct fw_err *err);

#endif
