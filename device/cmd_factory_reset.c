/* cmd_factory_reset: fwctl factory-reset — confirm, drop configuration and non-persistent packages. */
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_pkgstore.h"
#include "device/dev_root.h"

int cmd_factory_reset(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
	size_t removed, kept;
	int yes = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-y") == 0 || strcmp(argv[i], "--yes") == 0) {
			yes = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: fwctl [--root DIR] factory-reset [-y]\nRemove the running configuration, the unlock "
			       "token and every package not installed persistent;\npersistent packages stay, active after "
			       "the next boot. Asks y/N on a terminal; -y for scripts.\n");
			return FW_EXIT_OK;
		} else {
			msg_error("factory-reset", NULL, "unexpected \"%s\": fwctl factory-reset [-y]", argv[i]);
			return FW_EXIT_USAGE;
		}
	}
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("factory-reset", NULL, &err);
	if (!yes) {
		int a = cmd_confirm("fwctl: restore factory defaults (configuration and non-persistent packages go)?");
		if (a < 0) {
			msg_error("factory-reset", NULL, "asks y/N on a terminal; without one, give -y");
			rc = FW_EXIT_USAGE;
			goto out;
		}
		if (a == 0) {
			msg_note("factory-reset: nothing changed");
			rc = FW_EXIT_OK;
			goto out;
		}
	}
	if (dev_factory_reset(&r, &removed, &kept, &err) < 0) {
		rc = msg_fail("factory-reset", NULL, &err);
		goto out;
	}
	msg_note("factory-reset: removed %zu package%s, kept %zu persistent; takes effect at the next boot", removed,
		 removed == 1 ? "" : "s", kept);
	rc = FW_EXIT_OK;
out:
	dev_root_close(&r);
	return rc;
}
