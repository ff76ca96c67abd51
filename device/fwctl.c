/* fwctl: the on-device verifier and installer; global options, then one cmd_*.c per command. */
#include <stdio.h>
#include <string.h>

#include "device/cmd.h"
#include "device/dev_root.h"
#include "base/cancel.h"
#include "base/crash.h"
#include "base/msg.h"
#include "formats/manifest.h"

/* What a command needs (RAUC's src/main.c declares it the same way, beside the name). */
enum cmd_needs {
	NEEDS_NEW_ROOT,     /* makes the device root (init: dev_init takes the lock itself) */
	NEEDS_ROOT,         /* reads the root; files it reads are replaced atomically, so no lock */
	NEEDS_LOCK,         /* changes the device: the root, with the device lock held */
	NEEDS_LOCK_TO_SET,  /* reads with the words of `reads`; with any others it changes: then the lock */
};
/*
 * Or'ed with the above: when it holds the lock, SIGINT/SIGTERM ask the command
 * to stop at a safe point (fw_cancel: upgradeCancelled, exit 7, resumable)
 * instead of killing it. The others are short, and crash-safe as they are.
 */
#define CANCELS 0x100

#define READS_MAX 2

/*
 * Do the words after a NEEDS_LOCK_TO_SET command only read? Each of `reads`
 * is "" (the command alone), "WORD" (the command and that word alone) or
 * "WORD *" (that word, then any more); any other words change the device.
 */
static int only_reads(const char *const reads[READS_MAX], int argc, char **argv)
{
	for (int k = 0; k < READS_MAX && reads[k] != NULL; k++) {
		size_t len = strcspn(reads[k], " ");
		int more = reads[k][len] == ' ';

		if (len == 0 && argc == 1)
			return 1;
		if (len > 0 && argc >= 2 && strlen(argv[1]) == len && strncmp(argv[1], reads[k], len) == 0 &&
		    (more || argc == 2))
			return 1;
	}
	return 0;
}

static const struct {
	const char *name;
	int (*run)(const struct cmd_env *env, int argc, char **argv);
	int needs;          /* an enum cmd_needs, | CANCELS */
	const char *reads[READS_MAX];   /* NEEDS_LOCK_TO_SET: the words that only read (only_reads) */
	const char *summary;
} commands[] = {
	{ "init", cmd_init, NEEDS_NEW_ROOT, { NULL }, "create a device root (slots, records, trust store, state)" },
	{ "upgrade", cmd_upgrade, NEEDS_LOCK | CANCELS, { NULL },
	  "verify a firmware package and install it: upgrade [force] [no-reboot] all|pri|sec|boot SOURCE" },
	{ "boot", cmd_boot, NEEDS_LOCK, { NULL },
	  "run the boot step: the primary, else the secondary, else the golden system; trials" },
	{ "boot-check", cmd_boot_check, NEEDS_LOCK, { NULL },
	  "on a board: check the image the bootloader started, mark it bad if it must not run" },
	{ "mark-good", cmd_mark_good, NEEDS_LOCK, { NULL }, "the running system works: end its trial (no rollback)" },
	{ "mark-bad", cmd_mark_bad, NEEDS_LOCK, { NULL },
	  "the running system does not work: the next boot starts the next good image (no waiting for the budget)" },
	{ "rollback", cmd_rollback, NEEDS_LOCK, { NULL }, "roll back now: mark-bad, then reboot" },
	{ "golden", cmd_golden, NEEDS_LOCK | CANCELS, { NULL },
	  "golden install SOURCE: place the golden system, the floor no rollback goes below" },
	{ "config", cmd_config, NEEDS_LOCK_TO_SET, { "" }, "show the settings, or change one (listed below)" },
	{ "status", cmd_status, NEEDS_ROOT, { NULL }, "show the device: slots, booted image, last upgrade (table or --json)" },
	{ "package", cmd_package, NEEDS_LOCK_TO_SET | CANCELS, { "list *", "show *" },
	  "modification packages: install [persistent] SOURCE, remove [NAME|all], show, list" },
	{ "factory-reset", cmd_factory_reset, NEEDS_LOCK, { NULL },
	  "drop configuration and non-persistent packages (asks y/N; -y)" },
	{ "check", cmd_check, NEEDS_LOCK, { NULL }, "ask the catalog server: needUpdate VERSION, versionOptimal or netError" },
	{ "download", cmd_download, NEEDS_LOCK | CANCELS, { NULL }, "fetch the release the last check named (resumable; installs nothing)" },
	{ "smart", cmd_smart, NEEDS_LOCK_TO_SET | CANCELS, { "config", "schedule" },
	  "smart upgrade: smart config [--server URL ...], smart tick (do what is due), smart reset-serial, smart schedule download at DATE [reboot at DATE], smart install" },
	{ "unlock", cmd_unlock, NEEDS_LOCK, { NULL },
	  "unlock install FILE: a signed token letting this secure-boot device run unsigned packages" },
};

int cmd_no_words(const char *verb, int argc, char **argv, const char *help, int *rc)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(help, stdout);
		*rc = FW_EXIT_OK;
		return 1;
	}
	if (argc != 1) {
		msg_error(verb, NULL, "takes no arguments");
		*rc = FW_EXIT_USAGE;
		return 1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] [-q] COMMAND [ARGS]...\n       fwctl -V|--version|-h|--help\n\ncommands:\n");
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
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			msg_print_version(FW_FORMAT_VERSION);
			return msg_finish(FW_EXIT_OK);
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
			int needs = commands[c].needs & ~CANCELS;

			env.lock = needs == NEEDS_LOCK ||
				   (needs == NEEDS_LOCK_TO_SET && !only_reads(commands[c].reads, argc - i, argv + i));
			if (env.lock && (commands[c].needs & CANCELS))
				fw_cancel_catch();
			return commands[c].run(&env, argc - i, argv + i);
		}
	msg_error(NULL, NULL, "unknown command \"%s\"", argv[i]);
	usage(stderr);
	return FW_EXIT_USAGE;
}
