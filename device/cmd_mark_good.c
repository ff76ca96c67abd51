/* cmd_mark_good: fwctl mark-good — the running system works: end its trial. */
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_root.h"
#include "device/dev_trial.h"
#include "device/dev_upgrade.h"

int cmd_mark_good(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct dev_mark_good_out out;
	struct fw_err err = { 0 };
	char marked[32];
	int rc = FW_EXIT_OK;

	if (cmd_no_words("mark-good", argc, argv,
			 "usage: fwctl [--root DIR] mark-good\nThe running system works: end its trial, so no boot "
			 "rolls it back.\n",
			 &rc))
		return rc;
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("mark-good", NULL, &err);
	if (dev_mark_good(&r, &out, &err) < 0) {
		rc = msg_fail("mark-good", NULL, &err);
	} else if (!out.was_trial) {
		msg_note("mark-good: %s %s is not on trial: nothing to do", dev_slot_name(out.slot), out.version);
	} else {
		dev_targets_text(out.marked, marked, sizeof(marked));
		msg_note("mark-good: %s marked good (%s)", out.version, marked);
	}
	dev_root_close(&r);
	return rc;
}
