/* cmd_init: fwctl init — parse the options, make the device root (dev_init), boot its factory images. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_hook.h"
#include "device/dev_init.h"
#include "device/dev_root.h"
#include "formats/version.h"

#define MAX_GENERATION 1000u


static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] init --product ID --trust PUB|CA.crt|CRL|POLICY.json... [--tpm] [--allow-untrusted]\n"
		   "                 [--trial-boots N] [--unpack-hook PATH [--hook-timeout SECONDS]]\n"
		   "                 [--secure-boot] [--device-id ID] [--package-hook-timeout SECONDS]\n"
		   "                 [--ca-file PEM]\n"
		   "                 [--version V [--generation N] [--bridge-down V]] [--rollback-index N]\n"
		   "                 [--media LABEL=DIR]... [--slot pri|sec|boot|golden=PATH|/dev/BLOCKDEV]...\n"
		   "                 [--board bootloader=file|uboot|grub] [--board bootenv=PATH] [--board running=ram|rootfs]\n"
		   "Create a simulated device. With --version, every slot gets a factory image of that version.\n");
}

static int set_slot(struct dev_config *c, const char *arg, struct fw_err *err)
{
	const char *eq = strchr(arg, '=');
	char name[8];
	enum fw_target target;
	int t;

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(name) || eq[1] == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "--slot %s: expected TARGET=PATH", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	if (strcmp(name, "golden") == 0)
		t = DEV_SLOT_GOLDEN;
	else if (fw_target_parse(name, &target) == 0)
		t = (int)target;
	else
		return fw_err_set(err, FW_EXIT_USAGE, "--slot %s: the slot is pri, sec, boot or golden", arg);
	if (dev_config_path_check("--slot", eq + 1, err) < 0)
		return -1;
	free(c->slot[t]);
	if ((c->slot[t] = strdup(eq + 1)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	return 0;
}

static int add_media(struct dev_config *c, const char *arg, struct fw_err *err)
{
	const char *eq = strchr(arg, '=');
	char label[FW_NAME_MAX + 1];

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(label))
		return fw_err_set(err, FW_EXIT_USAGE, "--media %s: expected LABEL=DIR", arg);
	memcpy(label, arg, (size_t)(eq - arg));
	label[eq - arg] = '\0';
	return dev_config_add_media(c, label, eq + 1, err);
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

int cmd_init(const char *root, int argc, char **argv)
{
	enum { OPT_ALLOW = 256, OPT_BRIDGE_DOWN, OPT_ROLLBACK, OPT_TRIAL, OPT_HOOK, OPT_HOOK_TIMEOUT, OPT_SECURE, OPT_DEVID,
	       OPT_PKG_HOOKT, OPT_CA_FILE };
	static const struct option opts[] = {
		{ "product", required_argument, NULL, 'P' },
		{ "tpm", no_argument, NULL, 'T' },
		{ "trust", required_argument, NULL, 't' },
		{ "version", required_argument, NULL, 'V' },
		{ "generation", required_argument, NULL, 'g' },
		{ "bridge-down", required_argument, NULL, OPT_BRIDGE_DOWN },
		{ "rollback-index", required_argument, NULL, OPT_ROLLBACK },
		{ "media", required_argument, NULL, 'm' },
		{ "slot", required_argument, NULL, 's' },
		{ "board", required_argument, NULL, 'B' },   /* board (dev_board.h) */
		{ "allow-untrusted", no_argument, NULL, OPT_ALLOW },
		{ "trial-boots", required_argument, NULL, OPT_TRIAL },
		{ "unpack-hook", required_argument, NULL, OPT_HOOK },
		{ "hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT },
		{ "secure-boot", no_argument, NULL, OPT_SECURE },
		{ "device-id", required_argument, NULL, OPT_DEVID },
		{ "package-hook-timeout", required_argument, NULL, OPT_PKG_HOOKT },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dev_init_opts o = { .generation = 0 };
	struct dev_root r;
	struct fw_err err = { 0 };
	const char *product = NULL;
	int c, rc = FW_EXIT_USAGE;
	uint64_t n;

	memset(&r, 0, sizeof(r));
	r.lock_fd = -1;
	r.cfg.trial_boots = DEV_TRIAL_BOOTS_DEFAULT;
	r.cfg.hook_timeout = DEV_HOOK_TIMEOUT_DEFAULT;
	dev_config_net_defaults(&r.cfg);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'P': product = optarg; break;
		case 'T': r.cfg.tpm = 1; break;
		case OPT_ALLOW: r.cfg.allow_untrusted = 1; break;
		case OPT_SECURE: r.cfg.secure_boot = 1; break;
		case OPT_DEVID:
			if (!fw_name_valid(optarg)) {
				msg_error("init", NULL, "--device-id %s: use 1 to %d of letters, digits, '.', '_', '+', '-'",
					  optarg, FW_NAME_MAX);
				goto out;
			}
			snprintf(r.cfg.device_id, sizeof(r.cfg.device_id), "%s", optarg);
			break;
		case OPT_PKG_HOOKT: {
			uint64_t secs;
			if (msg_parse_u64(optarg, DEV_PKG_HOOK_TIMEOUT_MAX, &secs) < 0 || secs == 0) {
				msg_error("init", NULL, "--package-hook-timeout %s: expected 1 to %u seconds", optarg,
					  DEV_PKG_HOOK_TIMEOUT_MAX);
				goto out;
			}
			r.cfg.pkg_hook_timeout = (unsigned)secs;
			break;
		}
		case 't':
			if (o.n_trust == SIG_TRUST_MAX) {
				msg_error("init", NULL, "at most %d --trust keys", SIG_TRUST_MAX);
				goto out;
			}
			o.trust[o.n_trust++] = optarg;
			break;
		case 'V': o.version = optarg; break;
		case OPT_BRIDGE_DOWN: o.bridge_down = optarg; break;
		case 'g':
			if (msg_parse_u64(optarg, MAX_GENERATION, &o.generation) < 0 || o.generation == 0) {
				msg_error("init", NULL, "--generation %s: expected 1 to %u", optarg, MAX_GENERATION);
				goto out;
			}
			break;
		case OPT_ROLLBACK:
			if (msg_parse_u64(optarg, UINT64_C(1) << 53, &o.rollback_index) < 0) {
				msg_error("init", NULL, "--rollback-index %s: expected a number", optarg);
				goto out;
			}
			break;
		case OPT_TRIAL:
			if (msg_parse_u64(optarg, DEV_TRIAL_BOOTS_MAX, &n) < 0 || n == 0) {
				msg_error("init", NULL, "--trial-boots %s: expected 1 to %d", optarg, DEV_TRIAL_BOOTS_MAX);
				goto out;
			}
			r.cfg.trial_boots = (unsigned)n;
			break;
		case OPT_HOOK:
			if (dev_config_set_hook(&r.cfg, optarg, &err) < 0) {
				rc = msg_fail("init", NULL, &err);
				goto out;
			}
			break;
		case OPT_CA_FILE:
			if (dev_config_set_ca_file(&r.cfg, optarg, &err) < 0) {
				rc = msg_fail("init", NULL, &err);
				goto out;
			}
			break;
		case OPT_HOOK_TIMEOUT:
			if (msg_parse_u64(optarg, 86400, &n) < 0 || n == 0) {
				msg_error("init", NULL, "--hook-timeout %s: expected 1 to 86400 seconds", optarg);
				goto out;
			}
			r.cfg.hook_timeout = (unsigned)n;
			break;
		case 'm':
			if (add_media(&r.cfg, optarg, &err) < 0) {
				rc = msg_fail("init", NULL, &err);
				goto out;
			}
			break;
		case 's':
			if (set_slot(&r.cfg, optarg, &err) < 0) {
				rc = msg_fail("init", NULL, &err);
				goto out;
			}
			break;
		case 'B':   /* board */
			if (dev_board_set(&r.cfg.board, optarg, &err) < 0) {
				rc = msg_fail("init", NULL, &err);
				goto out;
			}
			break;
		case 'h': usage(stdout); rc = FW_EXIT_OK; goto out;
		default:
			msg_error("init", NULL, "unknown option or missing argument: %s", argv[optind - 1]);
			usage(stderr); goto out;
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
	if ((r.dir = strdup(root)) == NULL) {
		msg_error("init", NULL, "out of memory");
		rc = FW_EXIT_IO;
		goto out;
	}
	if (dev_init(&r, &o, &err) < 0) {
		rc = msg_fail("init", NULL, &err);   /* its messages name the path */
		goto out;
	}
	if (o.version != NULL)
		msg_note("init: %s: product %s%s, factory images %s (generation %llu) in every slot", root, product,
			 r.cfg.tpm ? " with TPM" : "", o.version, (unsigned long long)o.generation);
	else
		msg_note("init: %s: product %s%s, empty slots: install with 'fwctl upgrade all PKG'", root, product,
			 r.cfg.tpm ? " with TPM" : "");
	rc = o.version != NULL ? cmd_boot_run(&r) : FW_EXIT_OK;
out:
	dev_root_close(&r);
	return rc;
}
