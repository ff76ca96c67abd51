/* cmd_boot_check: fwctl boot-check — on a board, after the bootloader chose: check the running image, activate packages. */
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_activate.h"
#include "device/dev_board.h"
#include "device/dev_boot.h"
#include "device/dev_root.h"
#include "device/dev_slot.h"
#include "device/dev_upgrade.h"

int cmd_boot_check(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct dev_boot_result res;
	struct fw_err err = { 0 };
	int booted, rc = FW_EXIT_OK;

	if (cmd_no_words("boot-check", argc, argv,
			 "usage: fwctl [--root DIR] boot-check\nOn a board, once the system has started (fwctl-boot-check."
			 "service): check the image the bootloader started (fwpkg.slot= on the kernel command line) against "
			 "its record, the rollback-index and golden floors and its bytes; mark it bad if it must not run; "
			 "roll back a trial the bootloader gave up on; activate the packages.\n",
			 &rc))
		return rc;
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("boot-check", NULL, &err);
	if (r.cfg.board.bootloader == DEV_BL_FILE) {
		msg_error("boot-check", NULL, "this device has no bootloader backend (board bootloader=file): run 'fwctl boot'");
		rc = FW_EXIT_USAGE;
	} else if (dev_slot_running(&r, &booted, &err) < 0 || dev_boot_check(&r, booted, &res, &err) < 0) {
		rc = msg_fail("boot-check", NULL, &err);
	} else {
		dev_progress_clear(&r);
		if (res.trial_note[0])
			msg_note("boot-check: %s", res.trial_note);
		rc = cmd_boot_report(&r, "boot-check", "running", &res);
	}
	dev_root_close(&r);
	return rc;
}
