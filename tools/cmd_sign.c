/* cmd_sign: fwpkg sign — add signatures to a package without touching a payload byte. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "formats/pkg_write.h"
#include "tools/cli.h"
#include "tools/cmd.h"

#define MAX_KEYS CLI_MAX_KEYS

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fwpkg sign [-fq] -k SECKEY... [-o OUT] [--passphrase-file FILE]... PKG\n"
		"Add a signature by each key; manifest and payload bytes stay as they are.\n"
		"The package is fully checked first; its trusted comment records when it was\n"
		"signed ($SOURCE_DATE_EPOCH when set).\n"
		"\n"
		"  -k, --key SECKEY          sign with this minisign secret key (repeatable)\n"
		"  -o, --output OUT          write OUT; without it PKG is replaced in place,\n"
		"                            keeping its mode and group (a symlink stays one)\n"
		"  -f, --force               replace an existing OUT\n"
		"      --passphrase-file FILE  passphrase of encrypted keys: once for all keys,\n"
		"                            or once per -k in the same order\n"
		"  -q, --quiet               no note\n"
		"  -h, --help                this help\n");
}

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_paths[MAX_KEYS], *passfiles[MAX_KEYS], *out = NULL, *in;
	struct sig_seckey *keys[MAX_KEYS] = { 0 };
	struct pkg_write_opts wopts = { 0 };
	struct fw_err err = { 0, "" };
	size_t n_keys = 0, n_passfiles = 0;
	char shown[1024];
	int c, rc = FW_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:o:fqh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (n_keys == MAX_KEYS) {
				cli_error("sign", NULL, "at most %d keys", MAX_KEYS);
				return FW_EXIT_USAGE;
			}
			key_paths[n_keys++] = optarg;
			break;
		case 'o': out = optarg; break;
		case 'f': wopts.force = 1; break;
		case 'P':
			if (n_passfiles == MAX_KEYS) {
				cli_error("sign", NULL, "at most %d --passphrase-file", MAX_KEYS);
				return FW_EXIT_USAGE;
			}
			passfiles[n_passfiles++] = optarg;
			break;
		case 'q': cli_quiet = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		default: return cli_bad_option("sign", c, argv);
		}
	}
	if (n_keys == 0 || optind != argc - 1) {
		cli_error("sign", NULL, n_keys == 0 ? "no signing key (-k SECKEY)"
					   : optind == argc ? "no package given" : "one package at a time");
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	in = argv[optind];
	/* When it was signed, apart from when it was built: SOURCE_DATE_EPOCH or now. */
	if (cli_created_time(&wopts.signed_at) < 0)
		goto out;
	wopts.say_signed_at = 1;
	if ((rc = cli_load_seckeys("sign", key_paths, n_keys, passfiles, n_passfiles, keys)) != 0)
		goto out;
	if (pkg_add_signatures(in, out ? out : in, keys, n_keys, &wopts, &err) < 0) {
		rc = cli_fail("sign", NULL, &err);   /* the message names the file */
		goto out;
	}
	cli_note("signed %s with %zu key%s", fw_escape(out ? out : in, shown, sizeof(shown)), n_keys, n_keys == 1 ? "" : "s");
	rc = FW_EXIT_OK;
out:
	for (size_t i = 0; i < MAX_KEYS; i++)
		sig_seckey_free(keys[i]);
	return rc;
}
