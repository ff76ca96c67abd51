/* cmd_keygen: fwpkg keygen — a minisign-compatible Ed25519 key pair. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "signing/minisign.h"
#include "tools/cli.h"
#include "tools/cmd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fwpkg keygen [-Wfq] -p PUB -s SEC|pkcs11:URI [--passphrase-file FILE]\n"
		"Create an Ed25519 key pair in minisign's formats; the secret key is\n"
		"passphrase-encrypted (scrypt) unless -W, and created mode 0600.\n"
		"\n"
		"  -p, --pubkey PUB          write the public key to PUB\n"
		"  -s, --seckey SEC          write the secret key to SEC; a pkcs11: URI makes\n"
		"                            the key on that token (only PUB is written)\n"
		"  -W                        no passphrase: an unencrypted secret key\n"
		"  -f, --force               replace existing key files\n"
		"      --passphrase-file FILE  the passphrase is FILE's first line (else\n"
		"                            $FWPKG_PASSPHRASE, else asked twice on the terminal)\n"
		"  -q, --quiet               no note naming the new key id\n"
		"  -h, --help                this help\n");
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "seckey", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pub = NULL, *sec = NULL, *passfile = NULL;
	int c, unencrypted = 0, force = 0, rc;
	char *pass = NULL;
	struct fw_err err = { 0 };
	struct sig_pubkey key;
	char id[17];

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:s:fWqh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pub = optarg; break;
		case 's': sec = optarg; break;
		case 'f': force = 1; break;
		case 'W': unencrypted = 1; break;
		case 'P': passfile = optarg; break;
		case 'q': msg_quiet = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		default: return cli_bad_option("keygen", c, argv);
		}
	}
	if (pub == NULL || sec == NULL || optind != argc) {
		msg_error("keygen", NULL, optind != argc ? "unexpected argument \"%s\"" : "both -p PUB and -s SEC are needed",
			  optind != argc ? argv[optind] : "");
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	/* A key made on a token never leaves it: only the public key is written. */
	if (strncmp(sec, "pkcs11:", 7) == 0)
		return cli_pkcs11_keygen(sec, pub, force);
	if (!unencrypted && (pass = cli_passphrase(sec, passfile, 1, &err)) == NULL)
		return msg_fail("keygen", NULL, &err);
	rc = sig_keygen(pub, sec, pass, force, &err);
	cli_passphrase_free(pass);
	if (rc < 0)
		return msg_fail("keygen", NULL, &err);
	if (sig_pubkey_load(pub, &key, &err) < 0)
		return msg_fail("keygen", pub, &err);
	sig_keyid_str(key.keyid, id);
	msg_note("key %s: public key %s, secret key %s%s", id, pub, sec, unencrypted ? " (unencrypted)" : "");
	return FW_EXIT_OK;
}
