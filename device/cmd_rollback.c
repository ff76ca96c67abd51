/* cmd_rollback: fwctl rollback — roll back now: mark the running system bad, then reboot into the next good image. */
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_root.h"

int cmd_rollback(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
	int rc;

	if (cmd_no_words("rollback", argc, argv,
			 "usage: fwctl [--root DIR] rollback\nRoll back now: 'fwctl mark-bad', then the reboot (the boot "
			 "step on the simulated device; on a board, reboot it).\n",
			 &rc))
		return rc;
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("rollback", NULL, &err);
	if ((rc = cmd_mark_bad_run(&r, "rollback")) == FW_EXIT_OK) {
		msg_note("rollback: rebooting");
		rc = cmd_boot_run(&r);
	}
	dev_root_close(&r);
	return rc;
}
