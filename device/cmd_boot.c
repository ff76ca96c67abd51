/* cmd_boot: fwctl boot — the bootloader's step, run at power-on or after an upgrade. */
#include <stdio.h>
#include <string.h>

#include "device/cmd.h"
#include "device/dev_boot.h"
#include "device/dev_root.h"
#include "base/msg.h"

int cmd_boot(const char *root, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0, "" };
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: fwctl [--root DIR] boot\nBoot the primary image if its record and bytes check out, "
		       "else the secondary.\n");
		return FW_EXIT_OK;
	}
	if (argc != 1) {
		msg_error("boot", NULL, "takes no arguments");
		return FW_EXIT_USAGE;
	}
	if (dev_root_open(&r, root, 1, &err) < 0)
		return msg_fail("boot", NULL, &err);
	rc = dev_boot(&r, &err) < 0 ? msg_fail("boot", NULL, &err) : FW_EXIT_OK;
	dev_root_close(&r);
	return rc;
}
