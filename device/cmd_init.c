/* cmd_init: fwctl init — parse the options, make the device root (dev_init), boot its factory images. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fw_limits.h"
#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_init.h"
#include "device/dev_root.h"
#include "device/dev_settings.h"
#include "formats/version.h"


static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] init --product ID --trust PUB|CA.crt|CRL|POLICY.json... [--tpm]\n"
		   "                 [--secure-boot] [--device-id ID] [--SETTING VALUE]...\n"
		   "                 [--version V [--generation N] [--bridge-down V]] [--rollback-index N]\n"
		   "                 [--slot pri|sec|boot|golden=PATH|/dev/BLOCKDEV]...\n"
		   "                 [--board bootloader=file|uboot|grub] [--board bootenv=PATH] [--board running=ram|rootfs]\n"
		   "Create a simulated device. With --version, every slot gets a factory image of that version.\n"
		   "The settings (as fwctl config changes them later):\n");
	cmd_settings_help(f, "--", 0);
}

static int set_slot(struct dev_config *c, const char *arg, struct fw_err *err)
{
	const char *eq = strchr(arg, '=');
	char name[8];
	int t;

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(name) || eq[1] == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "--slot %s: expected TARGET=PATH", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	if (dev_slot_parse(name, &t) < 0)
		return fw_err_set(err, FW_EXIT_USAGE, "--slot %s: the slot is pri, sec, boot or golden", arg);
	if (dev_config_path_check("--slot", eq + 1, err) < 0)
		return -1;
	free(c->slot[t]);
	if ((c->slot[t] = strdup(eq + 1)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	return 0;
}

static int check_version(const char *opt, const char *v, struct fw_err *err)
{
	struct fw_version ver;

	if (v != NULL && fw_version_parse(v, &ver, err) < 0) {
		err->code = FW_EXIT_USAGE;
		return fw_err_wrap(err, "%s", opt);
	}
	return 0;
}

/* init's own options, then one --KEY VALUE per setting of the table (option value OPT_SETTING + its index). */
enum { OPT_BRIDGE_DOWN = 256, OPT_ROLLBACK, OPT_SECURE, OPT_DEVID, OPT_SETTING };
static const struct option own_opts[] = {
	{ "product", required_argument, NULL, 'P' },
	{ "tpm", no_argument, NULL, 'T' },
	{ "trust", required_argument, NULL, 't' },
	{ "version", required_argument, NULL, 'V' },
	{ "generation", required_argument, NULL, 'g' },
	{ "bridge-down", required_argument, NULL, OPT_BRIDGE_DOWN },
	{ "rollback-index", required_argument, NULL, OPT_ROLLBACK },
	{ "slot", required_argument, NULL, 's' },
	{ "board", required_argument, NULL, 'B' },   /* board (dev_board.h) */
	{ "secure-boot", no_argument, NULL, OPT_SECURE },
	{ "device-id", required_argument, NULL, OPT_DEVID },
	{ "help", no_argument, NULL, 'h' },
};
#define N_OWN (sizeof(own_opts) / sizeof(own_opts[0]))

/* One init option: 0, or -1 with err. */
static int take_option(int c, struct dev_root *r, struct dev_init_opts *o, const char **product, struct fw_err *err)
{
	char named[64];

	switch (c) {
	case 'P': *product = optarg; return 0;
	case 'T': r->cfg.tpm = 1; return 0;
	case OPT_SECURE: r->cfg.secure_boot = 1; return 0;
	case 'V': o->version = optarg; return 0;
	case OPT_BRIDGE_DOWN: o->bridge_down = optarg; return 0;
	case 's': return set_slot(&r->cfg, optarg, err);
	case 'B': return dev_board_set(&r->cfg.board, optarg, err);   /* board */
	case OPT_DEVID:
		if (!fw_name_valid(optarg))
			return fw_err_set(err, FW_EXIT_USAGE, "--device-id %s: use 1 to %d of letters, digits, '.', '_', "
					  "'+', '-'", optarg, FW_NAME_MAX);
		snprintf(r->cfg.device_id, sizeof(r->cfg.device_id), "%s", optarg);
		return 0;
	case 't':
		if (o->n_trust == SIG_TRUST_MAX)
			return fw_err_set(err, FW_EXIT_USAGE, "at most %d --trust keys", SIG_TRUST_MAX);
		o->trust[o->n_trust++] = optarg;
		return 0;
	case 'g':
		if (msg_parse_u64(optarg, FW_GENERATION_MAX, &o->generation) < 0 || o->generation == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "--generation %s: expected 1 to %u", optarg, FW_GENERATION_MAX);
		return 0;
	case OPT_ROLLBACK:
		if (msg_parse_u64(optarg, FW_JSON_INT_MAX, &o->rollback_index) < 0)
			return fw_err_set(err, FW_EXIT_USAGE, "--rollback-index %s: expected 0 to %llu", optarg,
					  (unsigned long long)FW_JSON_INT_MAX);
		return 0;
	default:
		if (c < OPT_SETTING || (size_t)(c - OPT_SETTING) >= dev_settings_count ||
		    dev_setting_is_smart(&dev_settings[c - OPT_SETTING]))
			return fw_err_set(err, FW_EXIT_USAGE, "unknown option or missing argument: %s", optarg ? optarg : "");
		snprintf(named, sizeof(named), "--%s", dev_settings[c - OPT_SETTING].key);
		/* A flag (allow-untrusted) says yes. */
		return dev_setting_set(&r->cfg, &dev_settings[c - OPT_SETTING], named, optarg ? optarg : "yes", err);
	}
}

int cmd_init(const struct cmd_env *env, int argc, char **argv)
{
	struct option opts[N_OWN + 32];
	struct dev_init_opts o = { .generation = 0 };
	struct dev_root r;
	struct fw_err err = { 0 };
	const char *product = NULL;
	int c, rc = FW_EXIT_USAGE;

	memset(&r, 0, sizeof(r));
	r.lock_fd = -1;
	dev_config_defaults(&r.cfg);
	memcpy(opts, own_opts, sizeof(own_opts));
	cmd_settings_options(opts, N_OWN, sizeof(opts) / sizeof(opts[0]), OPT_SETTING, 0);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			rc = FW_EXIT_OK;
			goto out;
		}
		if (c == '?' || c == ':') {
			msg_error("init", NULL, "unknown option or missing argument: %s", argv[optind - 1]);
			usage(stderr);
			goto out;
		}
		if (take_option(c, &r, &o, &product, &err) < 0) {
			rc = msg_fail("init", NULL, &err);
			goto out;
		}
	}
	if (optind != argc || product == NULL || o.n_trust == 0) {
		if (optind == argc)
			msg_error("init", NULL, "--product and at least one --trust PUB are required");
		usage(stderr);
		goto out;
	}
	if (!fw_name_valid(product)) {
		msg_error("init", NULL, "--product %s: use 1 to %d of letters, digits, '.', '_', '+', '-'", product,
			  FW_NAME_MAX);
		goto out;
	}
	if ((o.generation || o.bridge_down) && o.version == NULL) {
		msg_error("init", NULL, "--generation and --bridge-down describe the factory image: give --version too");
		goto out;
	}
	if (check_version("--version", o.version, &err) < 0 || check_version("--bridge-down", o.bridge_down, &err) < 0) {
		rc = msg_fail("init", NULL, &err);
		goto out;
	}
	if (dev_board_check(&r.cfg.board, &err) < 0) {   /* board */
		rc = msg_fail("init", NULL, &err);
		goto out;
	}
	if (o.generation == 0)
		o.generation = 1;
	snprintf(r.cfg.product, sizeof(r.cfg.product), "%s", product);
	for (int t = 0; t < DEV_SLOT_COUNT; t++) {
		char def[32];
		snprintf(def, sizeof(def), "%s/%s", DEV_SLOT_DIR, dev_slot_name(t));
		if (r.cfg.slot[t] == NULL && (r.cfg.slot[t] = strdup(def)) == NULL) {
			msg_error("init", NULL, "out of memory");
			rc = FW_EXIT_IO;
			goto out;
		}
	}
	if ((r.dir = strdup(env->root)) == NULL) {
		msg_error("init", NULL, "out of memory");
		rc = FW_EXIT_IO;
		goto out;
	}
	if (dev_init(&r, &o, &err) < 0) {
		rc = msg_fail("init", NULL, &err);   /* its messages name the path */
		goto out;
	}
	if (o.version != NULL)
		msg_note("init: %s: product %s%s, factory images %s (generation %llu) in every slot", env->root, product,
			 r.cfg.tpm ? " with TPM" : "", o.version, (unsigned long long)o.generation);
	else
		msg_note("init: %s: product %s%s, empty slots: install with 'fwctl upgrade all PKG'", env->root, product,
			 r.cfg.tpm ? " with TPM" : "");
	rc = o.version != NULL ? cmd_boot_run(&r) : FW_EXIT_OK;
out:
	dev_root_close(&r);
	return rc;
}
