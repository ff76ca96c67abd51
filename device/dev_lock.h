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

/*
 * Does a process hold the device lock now? 1 yes, 0 no, -1 cannot tell.
 * Asked without taking it (an open file description lock, F_OFD_GETLK, that
 * dev_lock_take sets beside the flock), so a status that asks never makes a
 * starting fwctl find the device busy. A killed fwctl holds nothing: what
 * it left "in progress" was interrupted.
 */
int dev_lock_held(const char *root);

#endif
