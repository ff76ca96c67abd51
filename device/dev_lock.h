/* dev_lock: one fwctl at a time per device root (flock on ROOT/.lock). */
#ifndef FW_DEV_LOCK_H
#define FW_DEV_LOCK_H

#include "base/fw_err.h"

#define DEV_LOCK_FILE ".lock"

/*
 * Take the device lock without waiting. When another fwctl holds it, fails
 * with code FW_EXIT_REJECTED and a "busy" message (fwctl(8), EXIT STATUS).
 * The kernel drops the lock when the process ends, however it ends.
 */
int dev_lock_take(const char *root, int *fd_out, struct fw_err *err);
void dev_lock_release(int fd);

#endif
