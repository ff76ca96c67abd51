/* cmd_golden: fwctl golden install SOURCE — place the golden system (what a factory tool or a modem update does). */
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_root.h"
#include "device/dev_source.h"
#include "device/dev_upgrade.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] golden install SOURCE\n"
		   "Verify a signed firmware package and place its primary image as the golden system: booted\n"
		   "next and taken as good; no rollback goes below it. SOURCE as for upgrade.\n");
}

static void print_note(void *ctx, const char *text)
{
	(void)ctx;
	msg_note("%s", text);
}

int cmd_golden(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct dev_source src;
	struct dev_upgrade_req req = { .golden = 1, .note = print_note };
	struct dev_upgrade_out out;
	struct fw_err err = { 0 };
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	if (argc < 3 || strcmp(argv[1], "install") != 0) {
		msg_error("golden", NULL, argc < 2 || strcmp(argv[1], "install") != 0 ? "expected: golden install SOURCE"
											  : "no source");
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (dev_source_parse(argc - 2, argv + 2, &src, &err) < 0)
		return msg_fail("golden", NULL, &err);
	/* Parsed into src: the process listing need not show the password for the whole transfer. */
	for (int k = 2; k < argc; k++)
		dev_source_hide_password(argv[k]);
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("golden", NULL, &err);
	req.src = &src;
	if (dev_upgrade(&r, &req, &out, &err) < 0) {
		rc = msg_fail("golden", src.shown, &err);
	} else {
		msg_note("golden: %s placed: the next boot starts it", out.version);
		rc = FW_EXIT_OK;
	}
	dev_root_close(&r);
	return rc;
}
