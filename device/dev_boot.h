/* dev_boot: the bootloader model: boot the primary if it checks out, else the secondary. */
#ifndef FW_DEV_BOOT_H
#define FW_DEV_BOOT_H

#include "device/dev_root.h"
#include "base/fw_err.h"

/*
 * Run the boot step on a locked root: check the primary's record and bytes,
 * then the secondary's; record in the state what booted, raise the device's
 * rollback index to the booted image's, and turn an upgrade left "inProgress"
 * by a power cut into writeFlashFailed. Prints what booted on stdout. 0 when
 * an image booted; -1 with err (code FW_EXIT_REJECTED) when none could.
 */
int dev_boot(struct dev_root *r, struct fw_err *err);

#endif
