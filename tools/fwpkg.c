/* fwpkg: the host tool for .pkg and .wmopkg packages; dispatches to one cmd_*.c per subcommand. */
#include <stdio.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/cmd.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "keygen", cmd_keygen, "create a signing key pair (minisign format)" },
	{ "sign", cmd_sign, "add a signature to a package" },
	{ "verify", cmd_verify, "verify a package against trusted keys" },
	{ "inspect", cmd_inspect, "show what a package holds (table or --json)" },
	{ "extract", cmd_extract, "verify a package and write its payloads to a directory" },
	{ "catalog", cmd_catalog, "write a signed catalog of packages for devices that check for updates" },
	{ "unlock-token", cmd_unlock_token, "sign a token letting one secure-boot device activate unsigned packages" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fwpkg COMMAND [OPTIONS] ...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'fwpkg COMMAND --help' for a command's options; see fwpkg(1).\n");
}

int main(int argc, char **argv)
{
	msg_prog = "fwpkg";
	if (argc < 2) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return msg_finish(FW_EXIT_OK);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		msg_print_version(FW_FORMAT_VERSION);
		return msg_finish(FW_EXIT_OK);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return msg_finish(commands[i].run(argc - 1, argv + 1));
	msg_error(NULL, NULL, "unknown command \"%s\"", argv[1]);
	usage(stderr);
	return FW_EXIT_USAGE;
}
