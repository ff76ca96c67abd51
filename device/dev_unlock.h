/* dev_unlock: the unlock token a secure-boot device needs before it activates unsigned packages. */
#ifndef FW_DEV_UNLOCK_H
#define FW_DEV_UNLOCK_H

#include "base/fw_err.h"
#include "device/dev_root.h"
#include "signing/unlock.h"

#define DEV_UNLOCK_FILE "unlock-token.json"

enum dev_unlock_status { DEV_UNLOCK_NONE, DEV_UNLOCK_VALID, DEV_UNLOCK_INVALID };

/*
 * Install the token in `path` (locked root): it must be signed by a key of
 * the trust store, for this device's id, and not expired; else code
 * FW_EXIT_REJECTED and nothing is stored. Replaces an earlier token.
 */
int dev_unlock_install(struct dev_root *r, const char *path, struct sig_unlock *out, struct fw_err *err);

/* The installed token, checked again now: NONE, VALID, or INVALID with why. */
enum dev_unlock_status dev_unlock_status(const struct dev_root *r, struct sig_unlock *u, struct fw_err *why);

/* Remove the installed token, if any (factory reset). */
int dev_unlock_remove(const struct dev_root *r, struct fw_err *err);

#endif
