/* cmd_verify: fwpkg verify — the whole package, signature and every chunk, in one pass. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "formats/pkg_read.h"
#include "tools/cli.h"
#include "tools/cli_trust_opts.h"
#include "tools/cmd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fwpkg verify [-q] [--json] [-p PUB]... [-P BASE64]... [--keyring DIR]\n"
		"                    [--ca FILE|DIR]... [--crl FILE]... [--signer CN|SHA256]...\n"
		"                    [--max-chain-depth N] [--no-check-time] [--min-signatures N]\n"
		"                    [--base IMG]... PKG|-...\n"
		"Verify each package: signatures by trusted keys, structure, every chunk.\n"
		"Exit 0 if all are verified, else the highest exit status of any\n"
		"(1 rejected, 2 usage, 3 cannot be read).\n"
		"\n"
		"  -p, --pubkey PUB          trust this minisign public key file (repeatable)\n"
		"  -P, --pubkey-base64 KEY   trust this public key given inline, as minisign -P\n"
		"      --keyring DIR         trust every *.pub file in DIR (default without -p/-P:\n"
		"                            $FWPKG_KEYRING, else /etc/fwpkg/keys)\n"
		"      --ca FILE|DIR         trust these CA certificates (PEM) for CMS signatures;\n"
		"                            certificates in a package are never anchors\n"
		"      --crl FILE            check revocation with these CRLs (each CA of a chain\n"
		"                            then needs one)\n"
		"      --signer CN|SHA256    accept only CMS signers with this subject CN or\n"
		"                            certificate SHA-256 (repeatable)\n"
		"      --max-chain-depth N   at most N intermediate CAs (default 4)\n"
		"      --no-check-time       do not check validity periods (no trustworthy clock)\n"
		"      --min-signatures N    need valid signatures by N distinct trusted keys\n"
		"                            (default 1; a keyring's policy.json may ask more)\n"
		"      --base IMG            a delta's base image: rebuild its image and check\n"
		"                            it too (without one, a delta's compressed bytes\n"
		"                            are verified, its image is not rebuilt)\n"
		"      --json                one JSON document on stdout, whatever the outcome\n"
		"  -q, --quiet               no line for a verified package\n"
		"  -h, --help                this help\n"
		"A package - is read from standard input. A catalog (fwpkg-catalog(5)) is verified\n"
		"with its .minisig beside it (else its .cms), and refused once expired.\n");
}

/* Where the trusted key with this displayed id came from; for a CMS signer, its subject. */
static const char *key_source(const struct sig_trust *t, const struct pkg_sig_info *si)
{
	const char *keyid = si->keyid;

	if (si->kind == SIG_KIND_CMS)
		return si->cms.subject;
	for (size_t i = 0; i < t->n; i++) {
		char id[17];
		sig_keyid_str(t->keys[i].keyid, id);
		if (strcmp(id, keyid) == 0)
			return sig_trust_source(t, &t->keys[i]);
	}
	return "";
}

/*
 * Every damaged chunk the read found (pkg_read_opts.all_bad_chunks), with
 * its image bytes and its offset in the package file: after the one error
 * line on stderr, or as JSON. Nothing if none. The error line names the first
 * when the read ended on the damage (FW_KIND_MISMATCH, pkg_read.h); when
 * something else ended it later (the file cut short, bytes after the end),
 * the error line says that, and every damaged chunk gets a line here.
 */
static void report_bad_chunks(const char *path, const struct pkg_report *rep, const struct fw_err *err,
			      json_t *obj)
{
	size_t from = err->kind == FW_KIND_MISMATCH ? 1 : 0;
	struct fw_manifest *m = NULL;
	struct fw_err perr = { 0 };
	json_t *list;

	/* Before the list is made: a rejection without damaged chunks has none to leak. */
	if (rep->bad_total == 0)
		return;
	/* The signed manifest the chunks were checked against: a modification file's path, as
	 * the error line gives it for the first (not parsed: the labels stay the entry names). */
	if (fw_manifest_parse(rep->manifest_bytes, rep->manifest_len, &m, &perr) < 0)
		m = NULL;
	list = obj != NULL ? json_array() : NULL;
	for (size_t i = 0; i < rep->n_bad; i++) {
		const struct pkg_bad_chunk *b = &rep->bad[i];
		const char *file = m != NULL && m->type == FW_TYPE_MODIFICATION && b->payload < m->n_files
					   ? m->files[b->payload].path : NULL;
		char shown[2 * FW_MOD_PATH_MAX];

		if (list != NULL) {
			json_t *c = json_pack("{s:s, s:I, s:I, s:I, s:I}", "payload", b->name, "chunk",
					      (json_int_t)b->chunk, "image_first", (json_int_t)b->first,
					      "image_last", (json_int_t)b->last, "package_offset", (json_int_t)b->offset);
			if (c != NULL && file != NULL)
				json_object_set_new(c, "file", fw_json_text(file));
			json_array_append_new(list, c);
		} else if (i >= from) {
			msg_error("verify", path, "payload %s%s%s%s: chunk %llu (image bytes %llu..%llu, package offset %llu): "
				  "SHA-256 mismatch", b->name, file ? " (file " : "", file ? fw_escape(file, shown, sizeof(shown)) : "",
				  file ? ")" : "", (unsigned long long)b->chunk, (unsigned long long)b->first,
				  (unsigned long long)b->last, (unsigned long long)b->offset);
		}
	}
	if (list != NULL) {
		json_object_set_new(obj, "damaged_chunks", list);
		json_object_set_new(obj, "damaged_chunks_total", json_integer((json_int_t)rep->bad_total));
	} else if (rep->bad_total > rep->n_bad) {
		msg_error("verify", path, "%llu more damaged chunks not listed", (unsigned long long)(rep->bad_total - rep->n_bad));
	}
	fw_manifest_free(m);
}

static int base_source(void *ctx, const struct fw_manifest *m, size_t index, int *fd, struct fw_err *err)
{
	return cli_bases_source(ctx, m, index, fd, err);
}

static const char *base_name(void *ctx, size_t index)
{
	(void)index;
	return cli_bases_name(ctx);
}

/* One package: a line (or a JSON object into `all`), and its exit code. */
static int verify_one(const char *path, const struct pkg_read_opts *ropts, struct cli_bases *bases, json_t *all)
{
	struct pkg_reader_ops ops = { .delta_source = base_source, .delta_name = base_name };
	json_t *unbuilt = NULL;
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	int fd, rc;

	memset(&rep, 0, sizeof(rep));
	if (cli_is_catalog(path))
		return cli_catalog_verify(path, ropts->trust, all);
	if ((fd = cli_open_input(path, &err)) < 0)
		goto failed;
	rc = pkg_read(fd, ropts, &ops, bases, &m, &rep, &err);
	if (fd != STDIN_FILENO)
		close(fd);
	/* A .wmopkg is named by its file name: a renamed (or relabelled) package is refused. */
	if (rc < 0 || fw_manifest_check_file_name(m, path, &err) < 0)
		goto failed;
	/* A delta without its base: every byte of the package verified, its image not rebuilt; said, not hidden. */
	for (size_t i = 0; all == NULL && i < m->n_payloads; i++)
		if (rep.not_rebuilt[i]) {
			char hex[2 * FW_DIGEST_LEN + 1];

			fw_hex(m->payloads[i].zstd.base.digest, FW_DIGEST_LEN, hex);
			msg_note("verify: %s: payload %s: a delta against base image %.16s...: its compressed bytes "
				 "verified, its image not rebuilt (--base IMG rebuilds and checks it)", path,
				 m->payloads[i].name, hex);
		}
	if (all != NULL)
		unbuilt = cli_not_rebuilt_json(m, &rep);
	if (all != NULL) {
		json_t *signers = json_array(), *sources = json_object();
		for (size_t i = 0; i < rep.n_sigs; i++)
			if (rep.sigs[i].status == PKG_SIG_VALID) {
				json_array_append_new(signers, json_string(rep.sigs[i].keyid));
				json_object_set_new(sources, rep.sigs[i].keyid, fw_json_text(key_source(ropts->trust, &rep.sigs[i])));
			}
		json_array_append_new(all, json_pack("{s:o, s:b, s:s, s:i, s:s, s:s, s:o}", "file", fw_json_text(path),
						     "verified", 1, "outcome", "verified", "exit_code", 0,
						     "type", m->type == FW_TYPE_FIRMWARE ? "firmware" : "modification",
						     "version", m->version, "signers", signers));
		json_object_set_new(json_array_get(all, json_array_size(all) - 1), "signer_keys", sources);
		if (unbuilt != NULL)
			json_object_set_new(json_array_get(all, json_array_size(all) - 1), "not_rebuilt", unbuilt);
	} else if (!msg_quiet) {
		char shown[1024];
		int fw = m->type == FW_TYPE_FIRMWARE;

		printf("%s: verified: %s %s, %zu %s%s, signed by", fw_escape(path, shown, sizeof(shown)),
		       fw ? "firmware" : "modification", m->version, m->n_payloads, fw ? "image" : "file",
		       m->n_payloads == 1 ? "" : "s");
		/* Each signer with the key that matched it: a keyring's file, -p's file or -P. */
		for (size_t i = 0; i < rep.n_sigs; i++)
			if (rep.sigs[i].status == PKG_SIG_VALID)
				printf(" %s (%s)", rep.sigs[i].keyid,
				       fw_escape(key_source(ropts->trust, &rep.sigs[i]), shown, sizeof(shown)));
		printf("\n");
	}
	fw_manifest_free(m);
	pkg_report_free(&rep);
	return FW_EXIT_OK;
failed:
	fw_manifest_free(m);
	rc = msg_fail("verify", path, &err);
	if (all != NULL) {
		json_t *obj = json_pack("{s:o, s:s, s:i, s:o, s:b}", "file", fw_json_text(path),
					"outcome", rc == FW_EXIT_REJECTED ? "rejected" : "error",
					"exit_code", rc, "error", fw_json_text(err.msg), "verified", 0);
		if (obj != NULL)
			report_bad_chunks(path, &rep, &err, obj);
		json_array_append_new(all, obj);
	} else {
		report_bad_chunks(path, &rep, &err, NULL);
	}
	pkg_report_free(&rep);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "min-signatures", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "base", required_argument, NULL, 'B' },
		CLI_TRUST_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	static struct cli_bases bases;
	struct cli_keys keys = { .n_pubs = 0 };
	struct sig_trust trust;
	/* Every damaged chunk, not only the first: a support engineer sees the extent of the damage. */
	struct pkg_read_opts ropts = { .trust = &trust, .all_bad_chunks = 1 };
	struct fw_err err = { 0 };
	json_t *all = NULL;
	int c, json = 0, worst = FW_EXIT_OK, stdin_used = 0;
	uint64_t n;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:qhP:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (msg_parse_u64(optarg, PKG_MAX_SIGNATURES, &n) < 0 || n == 0) {
				msg_error("verify", NULL, "--min-signatures %s: expected 1..%d", optarg, PKG_MAX_SIGNATURES);
				return FW_EXIT_USAGE;
			}
			ropts.min_signatures = (unsigned)n;
			break;
		case 'j': json = 1; break;
		case 'q': msg_quiet = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		case 'B':
			if (cli_bases_add(&bases, optarg) < 0)
				return FW_EXIT_USAGE;
			break;
		default:
			switch (cli_keys_option(&keys, c, optarg)) {
			case 1: break;
			case 0: return cli_bad_option("verify", c, argv);
			default: return FW_EXIT_USAGE;
			}
			break;
		}
	}
	if (optind == argc) {
		msg_error("verify", NULL, "no package given");
		usage(stderr);
		return json ? cli_json_failure(NULL, FW_EXIT_USAGE, "no package given") : FW_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		stdin_used += strcmp(argv[i], "-") == 0;
	if (stdin_used > 1) {
		msg_error("verify", NULL, "standard input (-) given twice");
		return json ? cli_json_failure(NULL, FW_EXIT_USAGE, "standard input (-) given twice") : FW_EXIT_USAGE;
	}
	if (cli_keys_load(&keys, &trust, &err) < 0) {
		c = msg_fail("verify", NULL, &err);
		return json ? cli_json_failure(argc - optind == 1 ? argv[optind] : NULL, c, err.msg) : c;
	}
	if (cli_bases_open(&bases, &err) < 0) {
		sig_trust_free(&trust);
		cli_bases_close(&bases);
		c = msg_fail("verify", NULL, &err);
		return json ? cli_json_failure(NULL, c, err.msg) : c;
	}
	if (json && (all = json_array()) == NULL) {
		sig_trust_free(&trust);
		msg_error("verify", NULL, "out of memory");
		return FW_EXIT_IO;
	}
	/* Each package on its own; the exit status is the highest any of them got. */
	for (int i = optind; i < argc; i++) {
		int rc = verify_one(argv[i], &ropts, &bases, all);
		if (rc > worst)
			worst = rc;
	}
	sig_trust_free(&trust);
	cli_bases_close(&bases);
	if (json) {
		/* One package, one object (as always); several, an array of them. */
		json_t *doc = argc - optind == 1 ? json_incref(json_array_get(all, 0)) : json_incref(all);
		json_decref(all);
		if (msg_print_json(doc) < 0 && worst == FW_EXIT_OK)
			worst = FW_EXIT_IO;
	}
	return worst;
}
