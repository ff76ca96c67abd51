/* cmd_check: fwctl check — ask the catalog server whether this device needs an update (needUpdate, versionOptimal, netError). */
#include <stdio.h>
#include <string.h>

#include "base/escape.h"
#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_check.h"
#include "device/dev_root.h"
#include "device/dev_smart.h"

/* Does this successful answer repeat the last check's (before)? */
static int same_answer(const struct dev_smart_state *before, const struct dev_check_out *out)
{
	return before->check_time != 0 && before->check_result == out->result &&
	       strcmp(before->available, out->available) == 0 &&
	       strcmp(before->has_step ? before->step.version : "", out->step) == 0;
}

/* What 004's display shows of the catalog: the upgrade description and the recommended patch. */
static void print_shown(const struct dev_root *r)
{
	struct dev_smart_state s;
	struct fw_err err;
	char shown[1200];

	if (dev_smart_load(r, &s, &err) < 0)
		return;
	if (s.available[0] && s.description[0])
		msg_note("check: %s: %s", s.available, fw_escape_msg(s.description, shown, sizeof(shown)));
	if (s.has_patch)
		msg_note("check: recommended patch %s %s (%llu bytes)%s%s", s.patch_name, s.patch_version,
			 (unsigned long long)s.patch_length, s.patch_description[0] ? ": " : "",
			 fw_escape_msg(s.patch_description, shown, sizeof(shown)));
}

int cmd_check_run(struct dev_root *r, int64_t now, int changes_only)
{
	struct dev_check_out out;
	struct dev_smart_state before;
	struct fw_err err = { 0 };
	char shown[600];

	/* Unreadable: every answer counts as a change (dev_check reports the state's damage itself). */
	if (changes_only && dev_smart_load(r, &before, &err) < 0)
		changes_only = 0;
	if (dev_check(r, now, &out, &err) < 0) {
		/* The answer on stdout for scripts, the reason on stderr. */
		if (out.result != DEV_CHECK_NONE)
			printf("%s\n", dev_check_result_name(out.result));
		return msg_fail("check", NULL, &err);
	}
	if (out.note[0])
		msg_note("check: %s", fw_escape_msg(out.note, shown, sizeof(shown)));
	if (changes_only && same_answer(&before, &out))
		return FW_EXIT_OK;
	print_shown(r);
	if (out.result == DEV_CHECK_NEED_UPDATE)
		printf("needUpdate %s\n", out.step);
	else
		printf("versionOptimal\n");
	return FW_EXIT_OK;
}

int cmd_check(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
	int64_t now;
	int rc;

	if (cmd_no_words("check", argc, argv,
			 "usage: fwctl [--root DIR] check\nFetch the signed catalog (fwctl smart config --server) and say "
			 "whether this device needs an update:\n  needUpdate VERSION | versionOptimal | netError | "
			 "serverSpecUpLimit | CertOutDate | catalogExpired | catalogOld | catalogUnsigned | signatureFailed | catalogTooLarge | catalogInvalid\n",
			 &rc))
		return rc;
	if (dev_smart_now(&now, &err) < 0)
		return msg_fail("check", NULL, &err);
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("check", NULL, &err);
	rc = cmd_check_run(&r, now, 0);
	dev_root_close(&r);
	return rc;
}
