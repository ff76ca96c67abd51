/* cmd_boot: fwctl boot — the bootloader's step, run at power-on or after an upgrade. */
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_activate.h"
#include "device/dev_board.h"
#include "device/dev_boot.h"
#include "device/dev_root.h"
#include "device/dev_upgrade.h"

static void print_note(void *ctx, const char *text)
{
	(void)ctx;
	msg_note("%s", text);
}

int cmd_boot_report(struct dev_root *r, const char *verb, const char *word, const struct dev_boot_result *res)
{
	struct dev_activate_result act;
	struct fw_err err = { 0 };

	printf("%s %s %s (generation %u)%s", word, dev_slot_name(res->booted), res->version, res->generation,
	       res->trial ? "" : "\n");
	if (res->trial)
		printf(" on trial: boot %u of %u; run 'fwctl mark-good' once it works\n", res->trial_boots, res->budget);
	/* Then the packages, for the firmware that booted (dev_activate.h). */
	if (dev_activate(r, res->version, print_note, NULL, &act, &err) < 0)
		return msg_fail(verb, NULL, &err);
	if (act.installed > 0)
		printf("packages: %zu of %zu active\n", act.active, act.installed);
	return FW_EXIT_OK;
}

int cmd_boot_run(struct dev_root *r)
{
	struct dev_boot_result res;
	struct fw_err err = { 0 };

	/* On a board the bootloader chooses, by the environment the records keep (dev_board.h). */
	if (r->cfg.board.bootloader != DEV_BL_FILE) {
		msg_note("boot: the %s environment selects the image: reboot the board to start it "
			 "(fwctl boot-check runs once it is up)", dev_bootloader_name(r->cfg.board.bootloader));
		return FW_EXIT_OK;
	}
	if (dev_boot(r, &res, &err) < 0)
		return msg_fail("boot", NULL, &err);
	/* No download runs at boot: a progress report left by a power cut is stale. */
	dev_progress_clear(r);
	if (res.trial_note[0])
		msg_note("boot: %s", res.trial_note);
	if (res.note[0])
		msg_note("boot: %s", res.note);
	return cmd_boot_report(r, "boot", "booted", &res);
}

int cmd_boot(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
	int rc;

	if (cmd_no_words("boot", argc, argv,
			 "usage: fwctl [--root DIR] boot\nBoot the primary image if its record, rollback index and bytes "
			 "check out, else the secondary.\n",
			 &rc))
		return rc;
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("boot", NULL, &err);
	if (r.cfg.board.bootloader != DEV_BL_FILE) {
		msg_error("boot", NULL, "this board's bootloader (%s) chooses the image: 'fwctl boot' plays the bootloader "
			  "only for the simulated device; run 'fwctl boot-check' after the system starts",
			  dev_bootloader_name(r.cfg.board.bootloader));
		dev_root_close(&r);
		return FW_EXIT_USAGE;
	}
	rc = cmd_boot_run(&r);
	dev_root_close(&r);
	return rc;
}
