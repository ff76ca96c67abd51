/* cmd_config: fwctl config — show the boot configuration's settings, or change one. */
#include <stdio.h>
#include <string.h>

#include "base/escape.h"
#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_root.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] config [unpack-hook PATH|none | hook-timeout SECONDS | trial-boots N]\n"
		   "Without arguments, show the settings; with a setting and a value, change it.\n");
}

static void show(const struct dev_config *c)
{
	char shown[1024];

	printf("%-14s %s\n", "unpack-hook", c->unpack_hook ? fw_escape(c->unpack_hook, shown, sizeof(shown)) : "none");
	printf("%-14s %u\n", "hook-timeout", c->hook_timeout);
	printf("%-14s %u\n", "trial-boots", c->trial_boots);
}

static int change(struct dev_config *c, const char *key, const char *value, struct fw_err *err)
{
	uint64_t n;

	if (strcmp(key, "unpack-hook") == 0)
		return dev_config_set_hook(c, strcmp(value, "none") == 0 ? NULL : value, err);
	if (strcmp(key, "hook-timeout") == 0) {
		if (msg_parse_u64(value, 86400, &n) < 0 || n == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "hook-timeout %s: expected 1 to 86400 seconds", value);
		c->hook_timeout = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "trial-boots") == 0) {
		if (msg_parse_u64(value, DEV_TRIAL_BOOTS_MAX, &n) < 0 || n == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "trial-boots %s: expected 1 to %d", value,
					  DEV_TRIAL_BOOTS_MAX);
		c->trial_boots = (unsigned)n;
		return 0;
	}
	return fw_err_set(err, FW_EXIT_USAGE, "\"%s\": the settings are unpack-hook, hook-timeout and trial-boots", key);
}

int cmd_config(const char *root, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0, "" };
	int rc = FW_EXIT_OK;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	if (argc != 1 && argc != 3) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (dev_root_open(&r, root, argc == 3, &err) < 0)
		return msg_fail("config", NULL, &err);
	if (argc == 1) {
		show(&r.cfg);
	} else if (change(&r.cfg, argv[1], argv[2], &err) < 0 || dev_config_save(&r, &err) < 0) {
		rc = msg_fail("config", NULL, &err);
	} else {
		msg_note("config: %s set", argv[1]);
	}
	dev_root_close(&r);
	return rc;
}
