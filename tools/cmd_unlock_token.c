/* cmd_unlock_token: fwpkg unlock-token — sign a token that lets one secure-boot device activate unsigned packages. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/outfile.h"
#include "signing/minisign.h"
#include "signing/unlock.h"
#include "tools/cli.h"
#include "tools/cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwpkg unlock-token [-fq] --device ID --expires DATE -k SECKEY... -o FILE [--passphrase-file FILE]\n"
		   "DATE: YYYY-MM-DD (midnight UTC), YYYY-MM-DDTHH:MM:SSZ, or @SECONDS since the epoch.\n"
		   "Make a signed unlock token for 'fwctl unlock install' on that device.\n");
}

/* DATE as seconds since the epoch (UTC); -1 if it is none of the accepted forms. */
static int device_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.')
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") == n;
}

int cmd_unlock_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "expires", required_argument, NULL, 'e' },
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = NULL, *expires_s = NULL, *keys[SIG_UNLOCK_KEYS_MAX], *out = NULL, *passfile = NULL;
	struct sig_seckey *k[SIG_UNLOCK_KEYS_MAX] = { NULL };
	size_t n_keys = 0;
	struct fw_err err = { 0 };
	char *text = NULL;
	size_t len;
	int64_t expires, now;
	int c, force = 0, rc = FW_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:e:k:o:fqh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': device = optarg; break;
		case 'e': expires_s = optarg; break;
		case 'k':
			if (n_keys == SIG_UNLOCK_KEYS_MAX) {
				msg_error("unlock-token", NULL, "-k: at most %d keys", SIG_UNLOCK_KEYS_MAX);
				return FW_EXIT_USAGE;
			}
			keys[n_keys++] = optarg;
			break;
		case 'o': out = optarg; break;
		case 'P': passfile = optarg; break;
		case 'f': force = 1; break;
		case 'q': msg_quiet = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		default: return cli_bad_option("unlock-token", c, argv);
		}
	}
	if (optind != argc || device == NULL || expires_s == NULL || n_keys == 0 || out == NULL) {
		msg_error("unlock-token", NULL, "--device, --expires, -k and -o are required");
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (!device_ok(device)) {
		msg_error("unlock-token", NULL, "--device %s: use 1 to 64 of letters, digits, '.', '_', '+', '-'", device);
		return FW_EXIT_USAGE;
	}
	if ((expires = cli_parse_date(expires_s)) <= 0) {
		msg_error("unlock-token", NULL, "--expires %s: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @SECONDS",
			  expires_s);
		return FW_EXIT_USAGE;
	}
	/* Never dead on arrival, as a catalog: a token no device would accept is refused here, not in the field. */
	if (cli_now(&now) < 0)
		return FW_EXIT_USAGE;
	if (expires <= now) {
		msg_error("unlock-token", NULL, "--expires %s is not in the future: no device would accept this token",
			  expires_s);
		return FW_EXIT_USAGE;
	}
	for (size_t i = 0; i < n_keys; i++)
		if (cli_load_seckey(keys[i], passfile, &k[i], &err) < 0) {
			rc = msg_fail("unlock-token", keys[i], &err);
			goto out;
		}
	if (sig_unlock_create_keys((const struct sig_seckey *const *)k, n_keys, device, expires, now, &text, &len,
				   &err) < 0 ||
	    outfile_write_file(out, text, len, 0644, force ? OUTFILE_FORCE : 0, &err) < 0) {
		rc = msg_fail("unlock-token", out, &err);
		goto out;
	}
	msg_note("unlock-token: %s: for device %s until %s", out, device, expires_s);
	rc = FW_EXIT_OK;
out:
	free(text);
	for (size_t i = 0; i < n_keys; i++)
		sig_seckey_free(k[i]);
	return rc;
}
