/* fwctl: the on-device verifier and installer; global options, then one cmd_*.c per command. */
#include <stdio.h>
#include <string.h>

#include "device/cmd.h"
#include "device/dev_root.h"
#include "base/crash.h"
#include "base/msg.h"

/* What a command needs (RAUC's src/main.c declares it the same way, beside the name). */
enum cmd_needs {
	NEEDS_NEW_ROOT,     /* makes the device root (init: dev_init takes the lock itself) */
	NEEDS_ROOT,         /* reads the root; files it reads are replaced atomically, so no lock */
	NEEDS_LOCK,         /* changes the device: the root, with the device lock held */
	NEEDS_LOCK_TO_SET,  /* reads, or with more words (lock_words), changes: then the lock */
};

/* config SETTING VALUE changes; config alone shows. */
static int config_sets(int argc, char **argv)
{
	(void)argv;
	return argc == 3;
}

/* smart config with options changes (without, it shows); smart tick and smart reset-serial change. */
static int smart_sets(int argc, char **argv)
{
	return argc < 2 || strcmp(argv[1], "config") != 0 || argc > 2;
}

/* package install and remove change; list and show read. */
static int package_sets(int argc, char **argv)
{
	return argc < 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "show") != 0);
}

static const struct {
	const char *name;
	int (*run)(const struct cmd_env *env, int argc, char **argv);
	enum cmd_needs needs;
	int (*lock_words)(int argc, char **argv);   /* NEEDS_LOCK_TO_SET: 1 when these words change the device */
	const char *summary;
} commands[] = {
	{ "init", cmd_init, NEEDS_NEW_ROOT, NULL, "create a device root (slots, records, trust store, state)" },
	{ "upgrade", cmd_upgrade, NEEDS_LOCK, NULL,
	  "verify a firmware package and install it: upgrade [force] [no-reboot] all|pri|sec|boot SOURCE" },
	{ "boot", cmd_boot, NEEDS_LOCK, NULL,
	  "run the boot step: the primary, else the secondary, else the golden system; trials" },
	{ "boot-check", cmd_boot_check, NEEDS_LOCK, NULL,
	  "on a board: check the image the bootloader started, mark it bad if it must not run" },
	{ "mark-good", cmd_mark_good, NEEDS_LOCK, NULL, "the running system works: end its trial (no rollback)" },
	{ "golden", cmd_golden, NEEDS_LOCK, NULL,
	  "golden install SOURCE: place the golden system, the floor no rollback goes below" },
	{ "config", cmd_config, NEEDS_LOCK_TO_SET, config_sets, "show the settings, or change one (listed below)" },
	{ "status", cmd_status, NEEDS_ROOT, NULL, "show the device: slots, booted image, last upgrade (table or --json)" },
	{ "package", cmd_package, NEEDS_LOCK_TO_SET, package_sets,
	  "modification packages: install [persistent] SOURCE, remove [NAME|all], show, list" },
	{ "factory-reset", cmd_factory_reset, NEEDS_LOCK, NULL,
	  "drop configuration and non-persistent packages (asks y/N; -y)" },
	{ "check", cmd_check, NEEDS_LOCK, NULL, "ask the catalog server: needUpdate VERSION, versionOptimal or netError" },
	{ "download", cmd_download, NEEDS_LOCK, NULL, "fetch the release the last check named (resumable; installs nothing)" },
	{ "smart", cmd_smart, NEEDS_LOCK_TO_SET, smart_sets,
	  "smart upgrade: smart config [--server URL ...], smart tick (do what is due), smart reset-serial, smart schedule download at DATE [reboot at DATE], smart install" },
	{ "unlock", cmd_unlock, NEEDS_LOCK, NULL,
	  "unlock install FILE: a signed token letting this secure-boot device run unsigned packages" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] [-q] COMMAND [ARGS]...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nsettings (fwctl config SETTING VALUE; fwctl init --SETTING VALUE):\n");
	cmd_settings_help(f, "", 0);
	fprintf(f, "\nsmart upgrade settings (fwctl smart config --SETTING VALUE):\n");
	cmd_settings_help(f, "--", 1);
	fprintf(f, "\nThe device root is --root DIR, else $FWCTL_ROOT, else %s. See fwctl(8).\n", DEV_DEFAULT_ROOT);
}

int main(int argc, char **argv)
{
	const char *root_opt = NULL;
	int i;

	msg_prog = "fwctl";
	fw_crash_enable("FWCTL_CRASH_AT");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			root_opt = argv[++i];
		} else if (strncmp(argv[i], "--root=", 7) == 0) {
			root_opt = argv[i] + 7;
		} else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
			msg_quiet = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return FW_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("fwctl 0.1 (package format 1)\n");
			return FW_EXIT_OK;
		} else {
			msg_error(NULL, NULL, "unknown option \"%s\"", argv[i]);
			usage(stderr);
			return FW_EXIT_USAGE;
		}
	}
	if (root_opt != NULL && root_opt[0] == '\0') {
		msg_error(NULL, NULL, "--root: empty directory name");
		return FW_EXIT_USAGE;
	}
	if (i == argc) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	/* Global options go before the command; after it they would be taken as the command's own words. */
	for (int k = i + 1; k < argc; k++)
		if (strcmp(argv[k], "--root") == 0 || strncmp(argv[k], "--root=", 7) == 0 || strcmp(argv[k], "-q") == 0 ||
		    strcmp(argv[k], "--quiet") == 0) {
			msg_error(NULL, NULL, "%s: global options go before the command: fwctl [--root DIR] [-q] %s ...",
				  argv[k], argv[i]);
			return FW_EXIT_USAGE;
		}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0) {
			struct cmd_env env = { dev_root_choose(root_opt), 0 };
			env.lock = commands[c].needs == NEEDS_LOCK ||
				   (commands[c].needs == NEEDS_LOCK_TO_SET && commands[c].lock_words(argc - i, argv + i));
			return commands[c].run(&env, argc - i, argv + i);
		}
	msg_error(NULL, NULL, "unknown command \"%s\"", argv[i]);
	usage(stderr);
	return FW_EXIT_USAGE;
}
