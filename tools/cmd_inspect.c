/* cmd_inspect: fwpkg inspect — what a package holds, as a table for people or JSON for machines. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/isotime.h"
#include "formats/pkg_read.h"
#include "tools/cli.h"
#include "tools/cli_trust_opts.h"
#include "tools/cmd.h"


static void usage(FILE *f)
{
	fprintf(f,
		"usage: fwpkg inspect [--json | --sbom] [--sha256] [-p PUB]... [-P BASE64]... [--keyring DIR]\n"
		"                     [--ca FILE|DIR]... [--crl FILE]... [--signer CN|SHA256]...\n"
		"                     [--max-chain-depth N] [--no-check-time] PKG|-\n"
		"Show a package's manifest and signatures; with keys, verify it too.\n"
		"\n"
		"  -p, --pubkey PUB          verify with this public key file (repeatable)\n"
		"  -P, --pubkey-base64 KEY   verify with this public key given inline\n"
		"      --keyring DIR         verify with every *.pub file in DIR\n"
		"                            (without keys: signatures listed, not checked)\n"
		"      --ca FILE|DIR, --crl FILE, --signer CN|SHA256, --max-chain-depth N,\n"
		"      --no-check-time       X.509 trust for CMS signatures, as for verify; each\n"
		"                            CMS signer is shown with its certificate and chain\n"
		"      --json                one JSON document (sorted keys) instead of the table\n"
		"      --sha256              read every payload and show its plain SHA-256\n"
		"      --sbom                print the SBOM the package carries, as it is\n"
		"                            (checked against the manifest; with keys, signed)\n"
		"A catalog (fwpkg-catalog(5)) shows its releases; with keys, its .minisig (else .cms) is checked.\n"
		"  -h, --help                this help\n");
}

/* --sha256: take every payload (no bytes wanted: the reader reports its SHA-256). */
static int take_payload(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	(void)ctx;
	(void)m;
	(void)index;
	(void)err;
	return 1;
}

static const char *sig_status_name(enum pkg_sig_status s)
{
	switch (s) {
	case PKG_SIG_VALID: return "valid";
	case PKG_SIG_INVALID: return "INVALID";
	case PKG_SIG_UNKNOWN_KEY: return "unknown key";
	default: return "not checked";
	}
}

static const char *esc(const char *s, char *buf, size_t n)
{
	return fw_escape(s, buf, n);
}

/*
 * A trusted comment for the table: its fields (tab-separated) as spaces, and
 * the times minisign and fwpkg write there as epochs (timestamp:, signed:)
 * in ISO 8601 like every other time in the table. JSON keeps the comment as
 * it is.
 */
static const char *comment_shown(const char *comment, char *out, size_t n)
{
	static const char *const timed[] = { PKG_TIMESTAMP_FIELD, PKG_SIGNED_FIELD };
	size_t o = 0;

	out[0] = '\0';
	for (const char *f = comment; o < n;) {
		size_t len = strcspn(f, "\t"), name = 0;
		char when[FW_ISOTIME_LEN];

		for (size_t k = 0; k < sizeof(timed) / sizeof(timed[0]); k++) {
			size_t l = strlen(timed[k]);
			/* At most 18 digits: an int64_t whatever they say. */
			if (len > l && len - l <= 18 && strncmp(f, timed[k], l) == 0 && strspn(f + l, "0123456789") == len - l)
				name = l;
		}
		if (name > 0)
			o += (size_t)snprintf(out + o, n - o, "%s%.*s%s", f == comment ? "" : " ", (int)name, f,
					      fw_time_iso(strtoll(f + name, NULL, 10), when));
		else
			o += (size_t)snprintf(out + o, n - o, "%s%.*s", f == comment ? "" : " ", (int)len, f);
		if (f[len] == '\0')
			break;
		f += len + 1;
	}
	return out;
}

/* A CMS signer's certificate and its chain's status, under its signature line. */
static void print_cms(const struct sig_cms_info *c)
{
	char b[1024], from[32], to[32];

	fw_time_iso(c->not_before, from);
	fw_time_iso(c->not_after, to);
	printf("    %-10s %s\n", "Subject:", esc(c->subject, b, sizeof(b)));
	printf("    %-10s %s\n", "Issuer:", esc(c->issuer, b, sizeof(b)));
	printf("    %-10s %s\n", "Serial:", c->serial);
	printf("    %-10s %s to %s\n", "Validity:", from, to);
	printf("    %-10s %s\n", "Chain:", esc(c->chain, b, sizeof(b)));
}

static json_t *cms_json(const struct sig_cms_info *c)
{
	char from[32], to[32], cert[2 * SIG_FPR_LEN + 1], key[2 * SIG_FPR_LEN + 1];

	fw_time_iso(c->not_before, from);
	fw_time_iso(c->not_after, to);
	sig_hex(c->cert_sha256, SIG_FPR_LEN, cert);
	sig_hex(c->key_fpr, SIG_FPR_LEN, key);
	/* Names and the chain's text come from the package: through the one escaping function. */
	return json_pack("{s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:o}", "subject", fw_json_text(c->subject),
			 "issuer", fw_json_text(c->issuer), "serial", c->serial, "not_before", from, "not_after", to,
			 "sha256", cert, "key_sha256", key, "chain", fw_json_text(c->chain));
}

/* Name, firmware range and persistence of a modification package. */
static void print_modification_head(const struct fw_manifest *m)
{
	char b[1024];

	printf("%-14s %s\n", "Name:", esc(m->name, b, sizeof(b)));
	if (m->min_fw[0] && m->max_fw[0])
		printf("%-14s %s to %s\n", "Firmware:", m->min_fw, m->max_fw);
	else if (m->min_fw[0])
		printf("%-14s %s or later\n", "Firmware:", m->min_fw);
	else if (m->max_fw[0])
		printf("%-14s up to %s\n", "Firmware:", m->max_fw);
	else
		printf("%-14s any\n", "Firmware:");
	printf("%-14s %s\n", "Persistent:", m->persistent_allowed ? "allowed" : "not allowed");
}

/*
 * Compressed payloads (format version 3): per payload what it is on the
 * wire against what it writes, and what a reader needs (its window), then
 * the package's whole ratio. Nothing when none is compressed.
 */
static void print_compression(const struct fw_manifest *m)
{
	uint64_t plain = 0, packed = 0;
	size_t n = 0;

	for (size_t i = 0; i < m->n_payloads; i++) {
		const struct fw_payload *p = &m->payloads[i];

		plain += p->size;
		packed += fw_payload_entry_size(p);
		if (!p->zstd.on)
			continue;
		if (n++ == 0)
			printf("Compression:\n  %-28s %-6s %12s %12s %7s %9s %8s\n", "FILE", "ALGO", "SIZE", "COMPRESSED",
			       "RATIO", "FRAME", "WINDOW");
		/* A window of a MiB or more (a delta's: up to 128 MiB) in MiB, as the frame: it fits its column. */
		printf("  %-28s zstd:%-2d %11llu %12llu %6.2fx %6u MiB %4u %s\n", p->name, p->zstd.level,
		       (unsigned long long)p->size, (unsigned long long)p->zstd.size,
		       p->zstd.size ? (double)p->size / (double)p->zstd.size : 1.0, p->zstd.frame_size >> 20,
		       p->zstd.window_log >= 20 ? (1u << p->zstd.window_log) >> 20 : (1u << p->zstd.window_log) >> 10,
		       p->zstd.window_log >= 20 ? "MiB" : "KiB");
	}
	if (n > 0)
		printf("  %-28s %-6s %12llu %12llu %6.2fx\n", "(all payloads)", "", (unsigned long long)plain,
		       (unsigned long long)packed, packed ? (double)plain / (double)packed : 1.0);
	/* A delta's base: what a device must hold in another slot (its record's digest) to take it. */
	n = 0;
	for (size_t i = 0; i < m->n_payloads; i++) {
		const struct fw_delta *d = &m->payloads[i].zstd.base;
		char hex[2 * FW_DIGEST_LEN + 1];

		if (!m->payloads[i].zstd.on || !d->on)
			continue;
		if (n++ == 0)
			printf("Delta bases:\n  %-28s %12s %9s  %s\n", "FILE", "BASE SIZE", "MARGIN", "BASE CHUNK-LIST DIGEST");
		fw_hex(d->digest, FW_DIGEST_LEN, hex);
		printf("  %-28s %12llu %5u MiB  %s\n", m->payloads[i].name, (unsigned long long)d->size, d->margin >> 20, hex);
	}
}

/* The file tree and the hooks; hooks are shown, never run. */
static void print_files(const struct fw_manifest *m, int sha, const struct pkg_report *rep)
{
	char b[2 * FW_MOD_PATH_MAX + 1], hex[65];

	printf("Files:\n  %-4s %12s  %-64s  %s\n", "MODE", "SIZE", "SHA256", "PATH");
	for (size_t i = 0; i < m->n_files; i++) {
		const struct fw_mod_file *f = &m->files[i];
		const struct fw_payload *p = &m->payloads[f->payload];

		/* The signed SHA-256; with --sha256 the one just computed (the reader checked they agree). */
		fw_hex(sha ? rep->payload_sha256[f->payload] : p->sha256, 32, hex);
		printf("  %04o %12llu  %s  %s\n", f->mode, (unsigned long long)p->size, hex,
		       esc(f->path, b, sizeof(b)));
	}
	printf("Hooks:%s\n", m->hooks[FW_HOOK_ACTIVATE][0] || m->hooks[FW_HOOK_DEACTIVATE][0]
				       ? " (shown only: host tools never run them)" : " (none)");
	for (unsigned h = 0; h < FW_HOOK_COUNT; h++)
		if (m->hooks[h][0])
			printf("  %-10s %s\n", fw_hook_name((enum fw_hook)h), esc(m->hooks[h], b, sizeof(b)));
	/* A removal package: what it takes away at the device's next boot. */
	if (m->n_removes > 0) {
		printf("Removes:      ");
		for (size_t i = 0; i < m->n_removes; i++)
			printf(" %s%s", m->removes[i], i + 1 < m->n_removes ? "," : "\n");
	}
}

/* SBOM: the table's line about the SBOM a package carries (none: no line). */
static void print_sbom_line(const struct fw_manifest *m)
{
	char hex[2 * FW_DIGEST_LEN + 1];

	if (!m->sbom.present)
		return;
	fw_hex(m->sbom.sha256, FW_DIGEST_LEN, hex);
	printf("%-14s %s %s, %llu component%s, %llu bytes, sha256 %s (entry %s)\n", "SBOM:", FW_SBOM_FORMAT,
	       m->sbom.spec_version, (unsigned long long)m->sbom.components, m->sbom.components == 1 ? "" : "s",
	       (unsigned long long)m->sbom.size, hex, FW_SBOM_ENTRY);
}

/* SBOM: its description in inspect --json; null when the package carries none. */
static json_t *sbom_json(const struct fw_manifest *m, const struct pkg_report *rep)
{
	char hex[2 * FW_DIGEST_LEN + 1];

	if (!m->sbom.present)
		return json_null();
	fw_hex(m->sbom.sha256, FW_DIGEST_LEN, hex);
	/* "verified": its bytes matched a manifest whose signature a trusted key made. The reader
	 * keeps the bytes (rep->sbom) only once they matched: a refused read may have stopped on
	 * the SBOM itself, or before it, with the manifest's signature valid. */
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:b}", "format", FW_SBOM_FORMAT, "spec_version",
			 m->sbom.spec_version, "components", (json_int_t)m->sbom.components, "size",
			 (json_int_t)m->sbom.size, "sha256", hex, "entry", FW_SBOM_ENTRY, "verified",
			 rep->valid_sigs > 0 && rep->sbom != NULL);
}

/*
 * inspect --sbom: the document as the package carries it (the reader checked
 * its SHA-256 against the manifest, and the manifest's signature when keys
 * were given). Byte for byte into a pipe or file; on a terminal, line by line
 * through the one escaping function, as everything from a package is.
 */
static int print_sbom(const char *path, const struct fw_manifest *m, const struct pkg_report *rep)
{
	if (!m->sbom.present || rep->sbom == NULL) {
		msg_error("inspect", path, "carries no SBOM");
		return FW_EXIT_REJECTED;
	}
	if (isatty(STDOUT_FILENO)) {
		static char line[FW_ESCAPED_SIZE(4096)];
		const char *at = rep->sbom, *end = rep->sbom + rep->sbom_len;

		while (at < end) {
			const char *nl = memchr(at, '\n', (size_t)(end - at));
			size_t n = nl != NULL ? (size_t)(nl - at) : (size_t)(end - at);

			/* A long line goes out in pieces, each escaped whole and ending on a
			 * character: a UTF-8 sequence cut in two would show as \xNN escapes. */
			for (size_t o = 0, k; o < n; o += k) {
				k = n - o < 4096 ? n - o : 4096;
				for (size_t back = 0; k < n - o && back < 3 && ((unsigned char)at[o + k] & 0xc0) == 0x80; back++)
					k--;
				fputs(fw_escape_n(at + o, k, line, sizeof(line)), stdout);
			}
			putchar('\n');
			at += n + 1;
		}
	} else if (fwrite(rep->sbom, 1, rep->sbom_len, stdout) != rep->sbom_len) {
		msg_error("inspect", path, "cannot write the SBOM to standard output");
		return FW_EXIT_IO;
	}
	if (fflush(stdout) != 0) {
		msg_error("inspect", path, "cannot write the SBOM to standard output");
		return FW_EXIT_IO;
	}
	return FW_EXIT_OK;
}

static void print_table(const char *path, const struct fw_manifest *m, const struct pkg_report *rep,
			int have_keys, int sha, const char *name_problem, const struct fw_err *problem)
{
	char b[8192], when[32];
	int64_t at;
	int unbuilt = 0;

	for (size_t i = 0; i < m->n_payloads; i++)
		unbuilt |= rep->not_rebuilt[i];
	fw_time_iso(m->created, when);
	printf("%-14s %s\n", "Package:", esc(path, b, sizeof(b)));
	printf("%-14s %s (format %s %d)\n", "Type:", m->type == FW_TYPE_FIRMWARE ? "firmware" : "modification",
	       FW_FORMAT_ID, fw_manifest_format_version(m));
	printf("%-14s %s\n", "Version:", esc(m->version, b, sizeof(b)));
	printf("%-14s", "Products:");
	for (size_t i = 0; i < m->n_products; i++)
		printf(" %s", esc(m->products[i], b, sizeof(b)));
	printf("\n%-14s %s\n", "Created:", when);
	printf("%-14s %s\n", "Description:", esc(m->description, b, sizeof(b)));
	if (m->type == FW_TYPE_MODIFICATION)
		print_modification_head(m);
	if (name_problem != NULL)
		printf("%-14s %s\n", "WARNING:", esc(name_problem, b, sizeof(b)));
	if (m->type == FW_TYPE_FIRMWARE) {
		printf("%-14s %u\n", "Generation:", m->image_generation);
		printf("%-14s %llu\n", "Rollback:", (unsigned long long)m->rollback_index);
		printf("%-14s %s\n", "Requires TPM:", m->requires_tpm ? "yes" : "no");
		if (m->bridge_from[0] || m->bridge_down[0])
			printf("%-14s enter from %s, leave down from %s\n", "Transition:",
			       m->bridge_from[0] ? m->bridge_from : "-", m->bridge_down[0] ? m->bridge_down : "-");
	}
	printf("%-14s %s\n", "Status:",
	       problem != NULL ? (problem->code == FW_EXIT_REJECTED ? "REJECTED (see Problem)" : "NOT read to the end (see Problem)")
	       : rep->verified && unbuilt ? "verified (signature and every payload chunk); delta images not rebuilt "
					    "(fwpkg verify --base IMG rebuilds and checks them)"
	       : rep->verified ? "verified (signature and every payload chunk)"
	       : have_keys ? "NOT verified"
	       : rep->payloads_read ? "payloads match the manifest; signature not checked (no trusted key given)"
	       : "signature not checked (no trusted key given)");
	/* The message may hold escapes already (an entry's name): kept, not doubled. */
	if (problem != NULL)
		printf("%-14s %s\n", "Problem:", fw_escape_msg(problem->msg, b, sizeof(b)));
	printf("Signatures:\n");
	if (rep->n_sigs == 0)
		printf("  (none)\n");
	for (size_t i = 0; i < rep->n_sigs; i++) {
		/* minisign separates trusted comment fields with tabs: show them as
		 * spaces rather than escaped (JSON keeps them as they are). */
		char comment[2 * SIG_COMMENT_MAX + 1];

		/* A refused read may stop on a signature entry it could not parse: no id, no
		 * comment to show, only its entry name. */
		if (rep->sigs[i].keyid[0] == '\0') {
			printf("  %-16s  %-12s %s\n", "?", "unreadable", esc(rep->sigs[i].name, b, sizeof(b)));
			continue;
		}
		comment_shown(rep->sigs[i].trusted_comment, comment, sizeof(comment));
		if (rep->sigs[i].kind == SIG_KIND_CMS) {
			printf("  %s  %-12s CMS (X.509)\n", rep->sigs[i].keyid, sig_status_name(rep->sigs[i].status));
			print_cms(&rep->sigs[i].cms);
			continue;
		}
		printf("  %s  %-12s %s\n", rep->sigs[i].keyid, sig_status_name(rep->sigs[i].status),
		       esc(comment, b, sizeof(b)));
		if (pkg_comment_signed_at(rep->sigs[i].trusted_comment, &at) == 0)
			printf("  %16s  %-12s %s\n", "", "signed", fw_time_iso(at, when));
	}
	print_sbom_line(m);
	if (m->type == FW_TYPE_FIRMWARE) {
		printf("Images:\n  %-6s %-20s %-28s %12s %9s  %s\n", "TARGET", "PRODUCT", "FILE", "SIZE", "CHUNK",
		       sha ? "SHA256" : "CHUNK-LIST DIGEST");
		for (size_t i = 0; i < m->n_images; i++) {
			const struct fw_image *img = &m->images[i];
			const struct fw_payload *p = &m->payloads[img->payload];
			char hex[65];
			fw_hex(sha ? rep->payload_sha256[img->payload] : p->digest, 32, hex);
			printf("  %-6s %-20s %-28s %12llu %9u  %s\n", fw_target_name(img->target), img->product,
			       p->name, (unsigned long long)p->size, p->chunk_size,
			       sha && rep->not_rebuilt[img->payload] ? "not rebuilt (a delta: fwpkg verify --base IMG)" : hex);
		}
	} else {
		print_files(m, sha, rep);
	}
	print_compression(m);
}

static json_t *report_json(const char *path, const struct fw_manifest *m, const struct pkg_report *rep,
			   int sha, const char *name_problem)
{
	json_t *sigs = json_array(), *doc;

	for (size_t i = 0; i < rep->n_sigs; i++) {
		const struct pkg_sig_info *si = &rep->sigs[i];
		int cms = si->kind == SIG_KIND_CMS;
		char when[32];
		int64_t at;
		/* Every signature; a trusted comment that is no UTF-8 escaped (the table shows it too). */
		json_t *s = json_pack("{s:s, s:s, s:s, s:s}", "keyid", si->keyid, "status", sig_status_name(si->status),
				      "kind", cms ? "cms" : "minisign", "entry", si->name);
		if (s != NULL && cms)
			json_object_set_new(s, "certificate", cms_json(&si->cms));
		else if (s != NULL)
			json_object_set_new(s, "trusted_comment", fw_json_text(si->trusted_comment));
		if (s != NULL && !cms && pkg_comment_signed_at(si->trusted_comment, &at) == 0)
			json_object_set_new(s, "signed", json_string(fw_time_iso(at, when)));
		json_array_append_new(sigs, s);
	}
	doc = json_pack("{s:o, s:o, s:o, s:b, s:b, s:s, s:i}", "file", fw_json_text(path),
			"manifest", fw_manifest_to_json(m), "signatures", sigs, "verified", rep->verified,
			"payloads_checked", rep->payloads_read,
			"outcome", rep->verified ? "verified" : "unverified", "exit_code", 0);
	if (doc == NULL)
		return NULL;
	if (sha) {
		json_t *sums = json_object();
		for (size_t i = 0; i < m->n_payloads; i++) {
			char hex[65];
			fw_hex(rep->payload_sha256[i], 32, hex);
			/* A delta image not rebuilt has no SHA-256 to show: null, never a made-up one. */
			json_object_set_new(sums, m->payloads[i].name, rep->not_rebuilt[i] ? json_null() : json_string(hex));
		}
		json_object_set_new(doc, "sha256", sums);
	}
	/* As verify --json: the delta images whose compressed bytes were checked but that were not rebuilt. */
	{
		json_t *unbuilt = cli_not_rebuilt_json(m, rep);

		if (unbuilt != NULL)
			json_object_set_new(doc, "not_rebuilt", unbuilt);
	}
	json_object_set_new(doc, "sbom", sbom_json(m, rep));
	{
		/* The package's payload bytes on the wire against what they write (each payload's own
		 * figures are in the manifest's "compression"). */
		uint64_t plain = 0, packed = 0;

		for (size_t i = 0; i < m->n_payloads; i++) {
			plain += m->payloads[i].size;
			packed += fw_payload_entry_size(&m->payloads[i]);
		}
		json_object_set_new(doc, "payload_bytes", json_pack("{s:I, s:I, s:f}", "size", (json_int_t)plain,
								    "stored", (json_int_t)packed, "ratio",
								    packed ? (double)plain / (double)packed : 1.0));
	}
	/* The .wmopkg file-name rule (fwpkg verify refuses a package that breaks it). */
	json_object_set_new(doc, "file_name_ok", json_boolean(name_problem == NULL));
	if (name_problem != NULL)
		json_object_set_new(doc, "file_name_problem", json_string(name_problem));
	return doc;
}

/*
 * A package the read refused (a damaged chunk, a truncated file, a bad
 * signature) still shows what could be read, as rpm -qip and gpg --verify
 * do: the manifest at its front (signed or not: shown, never acted on), the
 * signatures as far as they were checked, and the problem; the exit status
 * stays the refusal's. Without a readable manifest, only the problem.
 */
static int show_refused(const char *path, const struct pkg_report *rep, int have_keys, int json,
			const struct fw_err *problem)
{
	struct fw_manifest *m = NULL;
	struct fw_err perr = { 0 };
	const char *name_problem;
	int rc = msg_fail("inspect", path, problem);

	if (rep->manifest_bytes == NULL || fw_manifest_parse(rep->manifest_bytes, rep->manifest_len, &m, &perr) < 0)
		return json ? cli_json_failure(path, rc, problem->msg) : rc;
	name_problem = fw_manifest_check_file_name(m, path, &perr) < 0 ? perr.msg : NULL;
	if (json) {
		json_t *doc = report_json(path, m, rep, 0, name_problem);
		if (doc != NULL) {
			json_object_set_new(doc, "outcome", json_string(rc == FW_EXIT_REJECTED ? "rejected" : "error"));
			json_object_set_new(doc, "exit_code", json_integer(rc));
			json_object_set_new(doc, "error", fw_json_text(problem->msg));
			json_object_set_new(doc, "verified", json_false());
			json_object_set_new(doc, "payloads_checked", json_false());
		}
		if (msg_print_json(doc) < 0)
			msg_error("inspect", NULL, "cannot print JSON");
	} else {
		print_table(path, m, rep, have_keys, 0, name_problem, problem);
	}
	fw_manifest_free(m);
	return rc;
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sha256", no_argument, NULL, 's' },
		{ "sbom", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		CLI_TRUST_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_keys keys = { .n_pubs = 0 };
	struct sig_trust trust;
	struct pkg_read_opts ropts = { 0 };
	struct pkg_reader_ops ops = { 0 };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	int c, fd, json = 0, sha = 0, sbom = 0, rc;
	const char *path, *name_problem;

	memset(&rep, 0, sizeof(rep));
	sig_trust_init(&trust);
	optind = 1;
	/* getopt would start its messages with the verb, not "fwpkg: verb:". */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:hP:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': sha = 1; break;
		case 'S': sbom = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		default:
			switch (cli_keys_option(&keys, c, optarg)) {
			case 1: break;
			case 0: return cli_bad_option("inspect", c, argv);
			default: return FW_EXIT_USAGE;
			}
			break;
		}
	}
	if (optind != argc - 1) {
		const char *why = optind == argc ? "no package given" : "one package at a time";
		msg_error("inspect", NULL, "%s", why);
		usage(stderr);
		return json ? cli_json_failure(NULL, FW_EXIT_USAGE, why) : FW_EXIT_USAGE;
	}
	if (sbom && (json || sha)) {
		msg_error("inspect", NULL, "--sbom prints the SBOM alone: not with %s", json ? "--json" : "--sha256");
		return FW_EXIT_USAGE;
	}
	path = argv[optind];
	if (cli_keys_given(&keys)) {
		if (cli_keys_load(&keys, &trust, &err) < 0) {
			rc = msg_fail("inspect", NULL, &err);
			return json ? cli_json_failure(path, rc, err.msg) : rc;
		}
		ropts.trust = &trust;
	} else if (!sha) {
		ropts.manifest_only = 1;
	}
	if (cli_is_catalog(path)) {
		/* --sbom prints an SBOM or nothing: never a catalog's table in its place. */
		if (sbom) {
			sig_trust_free(&trust);
			msg_error("inspect", path, "carries no SBOM (a catalog)");
			return FW_EXIT_REJECTED;
		}
		rc = cli_catalog_inspect(path, ropts.trust, json);
		sig_trust_free(&trust);
		return rc;
	}
	ropts.payload_sha256 = sha;
	/* The SBOM comes before the payloads: the manifest, its signatures and it are enough. */
	ropts.keep_sbom = 1;
	if (sbom)
		ropts.manifest_only = 1;
	ops.payload_begin = sha ? take_payload : NULL;
	if ((fd = cli_open_input(path, &err)) < 0) {
		sig_trust_free(&trust);
		rc = msg_fail("inspect", path, &err);
		return json ? cli_json_failure(path, rc, err.msg) : rc;
	}
	rc = pkg_read(fd, &ropts, &ops, NULL, &m, &rep, &err);
	sig_trust_free(&trust);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc < 0) {
		/* --sbom prints the document alone, or nothing: no table in its place. */
		rc = sbom ? msg_fail("inspect", path, &err) : show_refused(path, &rep, ropts.trust != NULL, json, &err);
		pkg_report_free(&rep);
		return rc;
	}
	if (sbom) {
		rc = print_sbom(path, m, &rep);
		fw_manifest_free(m);
		pkg_report_free(&rep);
		return rc;
	}
	/* Shown, not fatal: support staff must be able to look at a renamed package. */
	name_problem = fw_manifest_check_file_name(m, path, &err) < 0 ? err.msg : NULL;
	if (json)
		rc = msg_print_json(report_json(path, m, &rep, sha, name_problem));
	else
		print_table(path, m, &rep, ropts.trust != NULL, sha, name_problem, NULL);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	return rc < 0 ? FW_EXIT_IO : FW_EXIT_OK;
}
