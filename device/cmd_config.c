/* cmd_config: fwctl config — show the device's settings (dev_settings' table), or change one. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_root.h"
#include "device/dev_settings.h"

void cmd_settings_help(FILE *f, const char *prefix, int smart)
{
	for (size_t i = 0; i < dev_settings_count; i++) {
		const struct dev_setting *s = &dev_settings[i];
		char name[64];

		if (dev_setting_is_smart(s) != smart || s->arg == NULL)
			continue;
		if (prefix[0] && dev_setting_init_has_arg(s) == no_argument)
			snprintf(name, sizeof(name), "%s%s", prefix, s->key);   /* init's flag */
		else
			snprintf(name, sizeof(name), "%s%s %s", prefix, s->key, s->arg);
		if (s->type == DEV_SETTING_UINT)
			fprintf(f, "  %-32s %s (%u to %u%s%s; default %u)\n", name, s->help, s->min, s->max,
				s->unit[0] ? " " : "", s->unit, s->def);
		else if (smart)
			fprintf(f, "  %-32s %s\n", name, s->help);
		else if (s->type == DEV_SETTING_BOOL)
			fprintf(f, "  %-32s %s (default %s)\n", name, s->help, s->def ? "yes" : "no");
		else if (s->type == DEV_SETTING_MEDIA)
			fprintf(f, "  %-32s %s (at most %u; default none)\n", name, s->help, s->max);
		else
			fprintf(f, "  %-32s %s (default none)\n", name, s->help);
	}
}

void cmd_settings_options(struct option *opts, size_t n_own, size_t cap, int base, int smart)
{
	size_t o = n_own;

	for (size_t i = 0; i < dev_settings_count && o + 1 < cap; i++)
		if (dev_setting_is_smart(&dev_settings[i]) == smart && dev_settings[i].arg != NULL)
			opts[o++] = (struct option){ dev_settings[i].key, smart ? required_argument :
						     dev_setting_init_has_arg(&dev_settings[i]), NULL, base + (int)i };
	memset(&opts[o], 0, sizeof(opts[o]));
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] config [SETTING VALUE]\n"
		   "Without arguments, show the settings; with a setting and a value, change it:\n");
	cmd_settings_help(f, "", 0);
}

static void show(const struct dev_config *c)
{
	char shown[1024];

	for (size_t i = 0; i < dev_settings_count; i++)
		if (!dev_setting_is_smart(&dev_settings[i]))
			printf("%-20s %s\n", dev_settings[i].key, dev_setting_show(c, &dev_settings[i], shown, sizeof(shown)));
}

static int change(struct dev_config *c, const char *key, const char *value, struct fw_err *err)
{
	const struct dev_setting *s = dev_setting_find(key);
	char known[512];
	size_t len = 0;

	if (s != NULL && !dev_setting_is_smart(s))
		return dev_setting_set(c, s, key, value, err);
	known[0] = '\0';
	for (size_t i = 0; i < dev_settings_count && len < sizeof(known); i++)
		if (!dev_setting_is_smart(&dev_settings[i]))
			len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s", len ? ", " : "",
						dev_settings[i].key);
	return fw_err_set(err, FW_EXIT_USAGE, "\"%s\": the settings are %s", key, known);
}

int cmd_config(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
	int rc = FW_EXIT_OK;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	if (argc != 1 && argc != 3) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
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
