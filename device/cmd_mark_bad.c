/* cmd_mark_bad: fwctl mark-bad — the running system does not work: the next boot starts the next good image. */
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_root.h"
#include "device/dev_trial.h"
#include "device/dev_upgrade.h"

int cmd_mark_bad_run(struct dev_root *r, const char *verb)
{
	struct dev_mark_bad_out out;
	struct fw_err err = { 0 };
	char marked[32];

	if (dev_mark_bad(r, &out, &err) < 0)
		return msg_fail(verb, NULL, &err);
	dev_targets_text(out.marked, marked, sizeof(marked));
	msg_note("%s: %s marked bad (%s)%s; the next boot starts %s %s", verb, out.version, marked,
		 out.was_trial ? ", its trial ended: rolledBack" : "", dev_slot_name(out.next), out.next_version);
	return FW_EXIT_OK;
}

int cmd_mark_bad(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
	int rc;

	if (cmd_no_words("mark-bad", argc, argv,
			 "usage: fwctl [--root DIR] mark-bad\nThe running system does not work: mark it bad (and the other "
			 "half of its 'upgrade all' on trial), so the next boot starts the next good image now instead "
			 "of spending the rest of the boot budget. Refused when no good image would be left. "
			 "'fwctl rollback' marks and reboots.\n",
			 &rc))
		return rc;
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("mark-bad", NULL, &err);
	rc = cmd_mark_bad_run(&r, "mark-bad");
	dev_root_close(&r);
	return rc;
}
