/* cmd_sign: fwpkg sign — add signatures to a package without touching a payload byte. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "formats/pkg_read.h"
#include "formats/pkg_write.h"
#include "tools/cli.h"
#include "tools/cmd.h"

#define MAX_KEYS CLI_MAX_KEYS

enum { OPT_CERT = 256, OPT_INTERMEDIATE, OPT_EXPORT, OPT_ATTACH, OPT_REMOVE };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fwpkg sign [-fq] [-o OUT] [--passphrase-file FILE]...\n"
		"                  (-k SECKEY | -k KEY.pem|pkcs11:URI --cert CERT.pem [--intermediate PEM]...\n"
		"                   | --attach SIGFILE [-p PUB] | --remove ID)... PKG\n"
		"       fwpkg sign [-f] --export-manifest OUT|- PKG\n"
		"Add a signature by each key, or a signature made elsewhere (checked first);\n"
		"manifest and payload bytes stay as they are. The package is fully checked\n"
		"first; its trusted comment records when it was signed ($SOURCE_DATE_EPOCH\n"
		"when set).\n"
		"\n"
		"  -k, --key SECKEY          sign with this minisign secret key (repeatable), or\n"
		"                            a pkcs11: URI (an Ed25519 key on a token)\n"
		"      --cert CERT.pem       the -k before is a CMS signer: a PEM key or a\n"
		"                            pkcs11: URI with this X.509 certificate\n"
		"      --intermediate PEM    carry these CA certificates in that CMS signature\n"
		"      --attach SIGFILE      add a signature made elsewhere over the exported\n"
		"                            manifest: .minisig (checked with -p PUB) or CMS\n"
		"  -p, --pubkey PUB          the public key that checks an attached .minisig\n"
		"      --remove ID           remove the signature by this key or certificate id\n"
		"                            (as inspect shows it); never the last one\n"
		"      --export-manifest OUT write the bytes to sign (the manifest) to OUT or -\n"
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
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "intermediate", required_argument, NULL, OPT_INTERMEDIATE },
		{ "attach", required_argument, NULL, OPT_ATTACH },
		{ "remove", required_argument, NULL, OPT_REMOVE },
		{ "pubkey", required_argument, NULL, 'p' },
		{ "export-manifest", required_argument, NULL, OPT_EXPORT },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_key key_opts[MAX_KEYS];
	const char *attach[MAX_KEYS], *passfiles[MAX_KEYS], *remove[PKG_MAX_SIGNATURES], *out = NULL, *export = NULL, *in;
	struct sig_signer *keys[2 * MAX_KEYS] = { 0 };
	struct cli_keys pubs = { .n_pubs = 0 };
	struct sig_trust trust;
	struct pkg_write_opts wopts = { 0 };
	struct fw_err err = { 0 };
	size_t n_keys = 0, n_attach = 0, n_passfiles = 0, n_remove = 0, n, n_now = 0;
	char shown[1024];
	int c, rc = FW_EXIT_USAGE;

	memset(key_opts, 0, sizeof(key_opts));
	sig_trust_init(&trust);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:o:p:fqh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (n_keys == MAX_KEYS) {
				msg_error("sign", NULL, "at most %d keys", MAX_KEYS);
				return FW_EXIT_USAGE;
			}
			key_opts[n_keys++].key = optarg;
			break;
		case OPT_CERT:
			if (cli_key_cert(key_opts, n_keys, optarg) < 0)
				return FW_EXIT_USAGE;
			break;
		case OPT_INTERMEDIATE:
			if (cli_key_intermediate(key_opts, n_keys, optarg) < 0)
				return FW_EXIT_USAGE;
			break;
		case OPT_ATTACH:
			if (n_attach == MAX_KEYS) {
				msg_error("sign", NULL, "at most %d --attach signatures", MAX_KEYS);
				return FW_EXIT_USAGE;
			}
			attach[n_attach++] = optarg;
			break;
		case OPT_REMOVE:
			if (n_remove == PKG_MAX_SIGNATURES) {
				msg_error("sign", NULL, "at most %d --remove", PKG_MAX_SIGNATURES);
				return FW_EXIT_USAGE;
			}
			remove[n_remove++] = optarg;
			break;
		case 'p':
			if (cli_keys_add_pub(&pubs, optarg) < 0)
				return FW_EXIT_USAGE;
			break;
		case OPT_EXPORT: export = optarg; break;
		case 'o': out = optarg; break;
		case 'f': wopts.force = 1; break;
		case 'P':
			if (n_passfiles == MAX_KEYS) {
				msg_error("sign", NULL, "at most %d --passphrase-file", MAX_KEYS);
				return FW_EXIT_USAGE;
			}
			passfiles[n_passfiles++] = optarg;
			break;
		case 'q': msg_quiet = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		default: return cli_bad_option("sign", c, argv);
		}
	}
	if (export != NULL && (n_keys > 0 || n_attach > 0 || n_remove > 0 || out != NULL)) {
		msg_error("sign", NULL, "--export-manifest takes no keys, signatures, --remove or -o");
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if ((export == NULL && n_keys + n_attach + n_remove == 0) || optind != argc - 1) {
		msg_error("sign", NULL, optind == argc ? "no package given"
					: optind != argc - 1 ? "one package at a time"
					: "no signing key (-k SECKEY), signature (--attach SIGFILE) or --remove ID");
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	in = argv[optind];
	if (export != NULL)
		return cli_export_manifest(in, export, wopts.force);
	for (size_t i = 0; i < pubs.n_pubs; i++)
		if (cli_credential(sig_trust_add_file(&trust, pubs.pubs[i], &err), &err) < 0) {
			rc = msg_fail("sign", NULL, &err);
			goto out;
		}
	/* When it was signed, apart from when it was built: SOURCE_DATE_EPOCH or now. */
	if (cli_created_time(&wopts.signed_at) < 0)
		goto out;
	wopts.say_signed_at = 1;
	if ((rc = cli_load_signers("sign", key_opts, n_keys, passfiles, n_passfiles, keys)) != 0)
		goto out;
	for (size_t i = 0; i < n_attach; i++)
		if (sig_signer_attach(attach[i], &trust, &keys[n_keys + i], &err) < 0) {
			rc = msg_fail("sign", NULL, &err);   /* the message names the file */
			goto out;
		}
	n = n_keys + n_attach;
	if (pkg_change_signatures(in, out ? out : in, keys, n, remove, n_remove, &wopts, &n_now, &err) < 0) {
		rc = msg_fail("sign", NULL, &err);   /* the message names the file */
		goto out;
	}
	/* What was done, and what the package carries now (old signatures stay unless replaced or removed). */
	fw_escape(out ? out : in, shown, sizeof(shown));
	if (n > 0 && n_remove > 0)
		msg_note("signed %s with %zu and removed %zu signature%s: it now carries %zu", shown, n, n_remove,
			 n_remove == 1 ? "" : "s", n_now);
	else if (n > 0)
		msg_note("signed %s with %zu signature%s: it now carries %zu", shown, n, n == 1 ? "" : "s", n_now);
	else
		msg_note("removed %zu signature%s from %s: it now carries %zu", n_remove, n_remove == 1 ? "" : "s",
			 shown, n_now);
	rc = FW_EXIT_OK;
out:
	for (size_t i = 0; i < 2 * MAX_KEYS; i++)
		sig_signer_free(keys[i]);
	sig_trust_free(&trust);
	return rc;
}
