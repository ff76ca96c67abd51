/* cmd_catalog: fwpkg catalog — a signed catalog of the newest packages, for devices that check for updates. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fw_limits.h"
#include "base/isotime.h"
#include "formats/catalog.h"
#include "formats/catalog_write.h"
#include "tools/cli.h"
#include "tools/cmd.h"

#define MAX_MIRRORS FW_CATALOG_MAX_URLS

static void usage(FILE *f)
{
	fprintf(f, "usage: fwpkg catalog [-fq] -o CATALOG.json --base-url URL... --expires DURATION --serial N\n"
		   "                     (-k SECKEY... | -k KEY.pem|pkcs11:URI --cert CERT.pem [--intermediate PEM]...)\n"
		   "                     [--rollout PERCENT] [--passphrase-file FILE] PKG...\n"
		   "Write a catalog of the given firmware packages (and .wmopkg patches, and delta packages\n"
		   "beside their full ones: mkpkg --delta-from) and its signature:\n"
		   "CATALOG.json.minisig,\n"
		   "or CATALOG.json.cms (detached CMS, DER) for a key with a certificate.\n"
		   "  -o, --output FILE        the catalog; the signature goes beside it\n"
		   "  --base-url URL           where the packages are served (repeatable: mirrors, in order)\n"
		   "  --expires DURATION|DATE  how long devices accept it: 90 (s), 30m, 12h, 30d, 2w after the\n"
		   "                           creation time, or until YYYY-MM-DD[THH:MM:SSZ] or @SECONDS\n"
		   "  --serial N               a number higher than the last catalog's (devices refuse a lower one)\n"
		   "  -k, --key SECKEY         the catalog signing key: a minisign secret key or a pkcs11: URI\n"
		   "                           (repeatable: each key's signature in the .minisig, one after another)\n"
		   "  --cert CERT.pem          -k is a CMS signer (a PEM key or a pkcs11: URI) with this certificate\n"
		   "  --intermediate PEM       carry this CA certificate in the CMS signature (repeatable)\n"
		   "  --rollout PERCENT        the share of devices that take these releases (default 100)\n"
		   "  --passphrase-file FILE   the key's passphrase (else $FWPKG_PASSPHRASE, else a prompt)\n"
		   "  -f, --force              replace an existing catalog\n"
		   "  -q, --quiet              no notes\n"
		   "The creation time is $SOURCE_DATE_EPOCH when set (a DURATION counts from it); a catalog\n"
		   "that devices would refuse now (expired, or created in the future) is not written.\n"
		   "See fwpkg-catalog(5).\n");
}

/*
 * Reproducible (created is SOURCE_DATE_EPOCH when set) but never dead on
 * arrival: a catalog whose window does not hold the real clock's present is
 * refused by every device (the same check, fw_catalog_check_time), so it is
 * not written. 1 after printing why, 0 if it is fine.
 */
static int dead_on_arrival(const struct fw_catalog *cat, const char *out, const char *expires_arg, int relative,
			   int64_t now)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char c_iso[FW_ISOTIME_LEN], e_iso[FW_ISOTIME_LEN], now_iso[FW_ISOTIME_LEN], from[200] = "";
	struct fw_err ignore = { 0 };
	int set = sde != NULL && sde[0] != '\0';

	fw_time_iso(cat->created, c_iso);
	fw_time_iso(cat->expires, e_iso);
	fw_time_iso(now, now_iso);
	if (cat->expires <= cat->created) {
		msg_error("catalog", out, "--expires %s (%s) is not after the creation time (%s%s)", expires_arg, e_iso,
			  c_iso, set ? ", SOURCE_DATE_EPOCH" : "");
		return 1;
	}
	if (fw_catalog_check_time(cat, now, &ignore) == 0)
		return 0;
	if (set)
		snprintf(from, sizeof(from), " (SOURCE_DATE_EPOCH)");
	if (now >= cat->expires) {
		if (set && relative)
			msg_error("catalog", out, "it would expire at %s, before now (%s), and every device would refuse it: "
				  "--expires %s counts from the creation time %s (SOURCE_DATE_EPOCH); give --expires DATE "
				  "or unset SOURCE_DATE_EPOCH", e_iso, now_iso, expires_arg, c_iso);
		else
			msg_error("catalog", out, "it would expire at %s, before now (%s), and every device would refuse it%s%s%s",
				  e_iso, now_iso, set ? "; created " : "", set ? c_iso : "", from);
	} else {
		msg_error("catalog", out, "it would be created at %s%s, later than now (%s): every device would "
			  "refuse it until then", c_iso, from, now_iso);
	}
	return 1;
}

int cmd_catalog(int argc, char **argv)
{
	enum { OPT_BASE = 256, OPT_EXPIRES, OPT_SERIAL, OPT_ROLLOUT, OPT_PASSFILE, OPT_CERT, OPT_INTERMEDIATE };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "base-url", required_argument, NULL, OPT_BASE },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "rollout", required_argument, NULL, OPT_ROLLOUT },
		{ "passphrase-file", required_argument, NULL, OPT_PASSFILE },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "intermediate", required_argument, NULL, OPT_INTERMEDIATE },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *passfile = NULL, *base[MAX_MIRRORS];
	struct fw_catalog *cat = calloc(1, sizeof(*cat));
	struct cli_key key_opt[CLI_MAX_KEYS] = { { 0 } };
	struct sig_signer *signer[CLI_MAX_KEYS] = { NULL };
	struct fw_err err = { 0 };
	size_t n_base = 0, n_keys = 0;
	int64_t expires = 0, until = 0, created, now;
	const char *expires_arg = NULL;
	char deltas[32];
	uint64_t serial = 0, rollout = 100;
	int c, force = 0, have_serial = 0, rc = FW_EXIT_USAGE;

	if (cat == NULL) {
		msg_error("catalog", NULL, "out of memory");
		return FW_EXIT_IO;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:k:fqh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'k':
			if (n_keys == CLI_MAX_KEYS) {
				msg_error("catalog", NULL, "at most %d -k keys sign a catalog", CLI_MAX_KEYS);
				goto out;
			}
			key_opt[n_keys++].key = optarg;
			break;
		case OPT_CERT:
			if (cli_key_cert(key_opt, n_keys, optarg) < 0)
				goto out;
			break;
		case OPT_INTERMEDIATE:
			if (cli_key_intermediate(key_opt, n_keys, optarg) < 0)
				goto out;
			break;
		case OPT_BASE:
			if (n_base == MAX_MIRRORS) {
				msg_error("catalog", NULL, "at most %d --base-url mirrors", MAX_MIRRORS);
				goto out;
			}
			if (!fw_catalog_url_text_ok(optarg)) {
				char shown[600];

				msg_error("catalog", NULL, "--base-url %s: a URL is UTF-8 text without spaces or "
					  "control characters", fw_escape(optarg, shown, sizeof(shown)));
				goto out;
			}
			base[n_base++] = optarg;
			break;
		case OPT_EXPIRES:
			/* A date has a '-' or starts with '@'; a duration never does. */
			expires_arg = optarg;
			expires = until = 0;
			if (optarg[0] == '@' || strchr(optarg, '-') != NULL ? (until = cli_parse_date(optarg)) <= 0
			    : fw_duration_parse(optarg, &expires) < 0) {
				msg_error("catalog", NULL, "--expires %s: expected a duration such as 90, 30m, 12h, 30d, 2w, "
					  "or a date YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @SECONDS", optarg);
				goto out;
			}
			break;
		case OPT_SERIAL:
			if (msg_parse_u64(optarg, FW_JSON_INT_MAX, &serial) < 0) {
				msg_error("catalog", NULL, "--serial %s: expected a number", optarg);
				goto out;
			}
			have_serial = 1;
			break;
		case OPT_ROLLOUT:
			if (msg_parse_u64(optarg, 100, &rollout) < 0) {
				msg_error("catalog", NULL, "--rollout %s: expected 0 to 100", optarg);
				goto out;
			}
			break;
		case OPT_PASSFILE: passfile = optarg; break;
		case 'f': force = 1; break;
		case 'q': msg_quiet = 1; break;
		case 'h': usage(stdout); rc = FW_EXIT_OK; goto out;
		default: rc = cli_bad_option("catalog", c, argv); goto out;
		}
	}
	if (out == NULL || n_keys == 0 || n_base == 0 || expires_arg == NULL || !have_serial || optind == argc) {
		msg_error("catalog", NULL, "%s is required",
			  out == NULL ? "-o CATALOG.json" : n_keys == 0 ? "-k SECKEY" : n_base == 0 ? "--base-url URL"
			  : expires_arg == NULL ? "--expires DURATION|DATE" : !have_serial ? "--serial N" : "at least one package");
		usage(stderr);
		goto out;
	}
	for (size_t i = 0; n_keys > 1 && i < n_keys; i++)
		if (key_opt[i].cert != NULL) {
			msg_error("catalog", NULL, "-k %s --cert: a CMS signature has one signer; several -k keys sign a "
				  "catalog only as minisign keys", key_opt[i].key);
			goto out;
		}
	if (cli_created_time(&created) < 0 || cli_now(&now) < 0)
		goto out;
	cat->serial = serial;
	cat->created = created;
	cat->expires = until != 0 ? until : created + expires;
	if (dead_on_arrival(cat, out, expires_arg, until == 0, now))
		goto out;
	for (int i = optind; i < argc; i++)
		if (fw_catalog_add_package(cat, argv[i], base, n_base, (unsigned)rollout, &err) < 0) {
			rc = msg_fail("catalog", NULL, &err);
			goto out;
		}
	if (fw_catalog_sort(cat, &err) < 0 || fw_catalog_link_deltas(cat, &err) < 0) {
		rc = msg_fail("catalog", NULL, &err);
		goto out;
	}
	if ((rc = cli_load_signers("catalog", key_opt, n_keys, &passfile, passfile != NULL, signer)) != 0)
		goto out;
	if (fw_catalog_write(cat, out, signer, n_keys, force, &err) < 0) {
		rc = msg_fail("catalog", NULL, &err);
		goto out;
	}
	snprintf(deltas, sizeof(deltas), cat->n_deltas == 0 ? "" : cat->n_deltas == 1 ? ", 1 delta" : ", %zu deltas",
		 cat->n_deltas);
	msg_note("catalog: wrote %s (serial %llu, %zu release%s%s) and %s%s", out, (unsigned long long)serial,
		 cat->n, cat->n == 1 ? "" : "s", deltas, out, fw_catalog_sig_suffix(signer[0]->kind));
	rc = FW_EXIT_OK;
out:
	for (size_t i = 0; i < n_keys; i++)
		sig_signer_free(signer[i]);
	free(cat);
	return rc;
}
