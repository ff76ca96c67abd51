/* cmd_unlock: fwctl unlock install FILE — install a signed unlock token for this device. */
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_file.h"
#include "device/dev_root.h"
#include "device/dev_unlock.h"

int cmd_unlock(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct sig_unlock tok;
	struct fw_err err = { 0 };
	char when[32];
	int rc;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: fwctl [--root DIR] unlock install FILE|-\nInstall an unlock token made by 'fwpkg unlock-token' "
		       "for this device (- reads it from standard input):\non a secure-boot device that allows untrusted packages, unsigned ones are then "
		       "activated until it expires.\n");
		return FW_EXIT_OK;
	}
	if (argc != 3 || strcmp(argv[1], "install") != 0) {
		msg_error("unlock", NULL, "usage: fwctl unlock install FILE");
		return FW_EXIT_USAGE;
	}
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("unlock", NULL, &err);
	/* "-": the token from standard input, read once like any file. */
	if (dev_unlock_install(&r, strcmp(argv[2], "-") == 0 ? "/dev/stdin" : argv[2], &tok, &err) < 0) {
		rc = msg_fail("unlock", argv[2], &err);
	} else {
		fw_time_iso(tok.expires, when);
		msg_note("unlock: installed a token for device %s, signed by %s, valid until %s", tok.device, tok.keyid, when);
		rc = FW_EXIT_OK;
	}
	dev_root_close(&r);
	return rc;
}
