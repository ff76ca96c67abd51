/* cmd_verify: fwpkg verify — the whole package, signature and every chunk, in one pass. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "formats/pkg_read.h"
#include "tools/cli.h"
#include "tools/cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwpkg verify [-q] [--json] [-p PUB]... [--keyring DIR] [--min-signatures N] PKG|-\n"
		   "Exit 0 if the package is signed by a trusted key and intact, 1 if not.\n");
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "keyring", required_argument, NULL, 'K' },
		{ "min-signatures", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_keys keys = { .n_pubs = 0 };
	struct sig_trust trust;
	struct pkg_read_opts ropts = { .trust = &trust };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0, "" };
	const char *path;
	int c, fd = -1, json = 0, rc;
	uint64_t n;

	memset(&rep, 0, sizeof(rep));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (cli_keys_add_pub(&keys, optarg) < 0)
				return FW_EXIT_USAGE;
			break;
		case 'K': keys.keyring = optarg; break;
		case 'n':
			if (cli_parse_u64(optarg, PKG_MAX_SIGNATURES, &n) < 0 || n == 0) {
				cli_error("verify", NULL, "--min-signatures %s: expected 1..%d", optarg, PKG_MAX_SIGNATURES);
				return FW_EXIT_USAGE;
			}
			ropts.min_signatures = (unsigned)n;
			break;
		case 'j': json = 1; break;
		case 'q': cli_quiet = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		default: return cli_bad_option("verify", c, argv);
		}
	}
	if (optind != argc - 1) {
		cli_error("verify", NULL, optind == argc ? "no package given" : "one package at a time");
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	path = argv[optind];
	if (cli_keys_load(&keys, &trust, &err) < 0)
		return cli_fail("verify", NULL, &err);
	if ((fd = cli_open_input(path, &err)) < 0)
		return cli_fail("verify", path, &err);
	rc = pkg_read(fd, &ropts, NULL, NULL, &m, &rep, &err);
	if (fd != STDIN_FILENO)
		close(fd);
	/* A .wmopkg is named by its file name: a renamed (or relabelled) package is refused. */
	if (rc == 0 && fw_manifest_check_file_name(m, path, &err) < 0) {
		fw_manifest_free(m);
		m = NULL;
		rc = -1;
	}
	if (rc < 0) {
		rc = cli_fail("verify", path, &err);
		if (json) {
			json_t *doc = json_pack("{s:s, s:b, s:s}", "file", path, "verified", 0, "error", err.msg);
			cli_print_json(doc);
		}
		pkg_report_free(&rep);
		return rc;
	}
	if (json) {
		json_t *signers = json_array();
		for (size_t i = 0; i < rep.n_sigs; i++)
			if (rep.sigs[i].status == PKG_SIG_VALID)
				json_array_append_new(signers, json_string(rep.sigs[i].keyid));
		cli_print_json(json_pack("{s:s, s:b, s:s, s:s, s:o}", "file", path, "verified", 1,
					 "type", m->type == FW_TYPE_FIRMWARE ? "firmware" : "modification",
					 "version", m->version, "signers", signers));
	} else if (!cli_quiet) {
		char shown[1024];
		int fw = m->type == FW_TYPE_FIRMWARE;

		printf("%s: verified: %s %s, %zu %s%s, signed by", fw_escape(path, shown, sizeof(shown)),
		       fw ? "firmware" : "modification", m->version, m->n_payloads, fw ? "image" : "file",
		       m->n_payloads == 1 ? "" : "s");
		for (size_t i = 0; i < rep.n_sigs; i++)
			if (rep.sigs[i].status == PKG_SIG_VALID)
				printf(" %s", rep.sigs[i].keyid);
		printf("\n");
	}
	fw_manifest_free(m);
	pkg_report_free(&rep);
	return FW_EXIT_OK;
}
