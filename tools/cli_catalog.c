/* cli_catalog: fwpkg verify and inspect given a catalog (formats/catalog.md) instead of a package. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/isotime.h"
#include "formats/catalog.h"
#include "signing/cms.h"
#include "tools/cli.h"

int cli_is_catalog(const char *path)
{
	unsigned char head[256];
	ssize_t n;
	int fd;

	if (strcmp(path, "-") == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return 0;
	n = read(fd, head, sizeof(head));
	close(fd);
	/*
	 * A package starts with a tar header ("manifest.json"); a catalog is JSON text,
	 * '{' first. A '{' alone is not enough: one file in 256 of random bytes starts
	 * with it, and a damaged package must still be named "not a fwpkg package".
	 * So the whole head must read as text: no NUL, no control but tab and newline.
	 */
	if (n <= 0)
		return 0;
	ssize_t i = 0;
	while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	if (i == n || head[i] != '{')
		return 0;
	for (i = 0; i < n; i++)
		if ((head[i] < 0x20 && head[i] != '\t' && head[i] != '\n' && head[i] != '\r') || head[i] == 0x7f)
			return 0;
	return 1;
}

/* The catalog, read whole (it is small and capped). */
static int load(const char *path, char **text, size_t *len, struct fw_err *err)
{
	FILE *f = NULL;
	int rc = -1;

	if ((*text = malloc(FW_CATALOG_MAX_BYTES + 1)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if ((f = fopen(path, "rb")) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "cannot open: %s", strerror(errno));
		goto out;
	}
	*len = fread(*text, 1, FW_CATALOG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		fw_err_set(err, FW_EXIT_IO, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (*len > FW_CATALOG_MAX_BYTES) {
		fw_err_set(err, FW_EXIT_REJECTED, "larger than %d bytes: not a catalog", FW_CATALOG_MAX_BYTES);
		goto out;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	return rc;
}

/* The signature beside the catalog: its .minisig, else its .cms (a missing .minisig is reported when neither is there). */
static int load_sig(const char *path, char *sig, size_t *sig_len, enum sig_kind *kind, struct fw_err *err)
{
	char *minisig = NULL, *cms = NULL;
	int rc = -1;

	if (asprintf(&minisig, "%s%s", path, fw_catalog_sig_suffix(SIG_KIND_MINISIGN)) < 0)
		minisig = NULL;
	if (asprintf(&cms, "%s%s", path, fw_catalog_sig_suffix(SIG_KIND_CMS)) < 0)
		cms = NULL;
	if (minisig == NULL || cms == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	*kind = access(minisig, F_OK) != 0 && access(cms, F_OK) == 0 ? SIG_KIND_CMS : SIG_KIND_MINISIGN;
	rc = sig_file_read(*kind == SIG_KIND_CMS ? cms : minisig, sig,
			   *kind == SIG_KIND_CMS ? SIG_CMS_MAX : SIG_FILE_MAX, sig_len, err);
out:
	free(minisig);
	free(cms);
	return rc;
}

/*
 * Verify (trust given) or only parse (trust NULL: inspect without keys) a
 * catalog; an expired one is rejected when verifying and shown when
 * inspecting. 0, or an exit code after printing why.
 */
static int read_catalog(const char *verb, const char *path, const struct sig_trust *trust, struct fw_catalog *c,
			char signer[FW_CATALOG_SIGNER_MAX], int check_time, struct fw_err *err)
{
	char *text = NULL, *sig = NULL;
	size_t len = 0, sig_len = 0;
	enum sig_kind kind;
	int rc = -1;

	signer[0] = '\0';
	if (load(path, &text, &len, err) < 0)
		goto out;
	if (trust == NULL) {
		rc = fw_catalog_parse(text, len, c, err);
		goto out;
	}
	if ((sig = malloc(SIG_CMS_MAX)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (load_sig(path, sig, &sig_len, &kind, err) == 0)
		rc = fw_catalog_verify(kind, text, len, sig, sig_len, trust, c, signer, err);
out:
	if (rc == 0 && check_time)
		rc = fw_catalog_check_time(c, (int64_t)time(NULL), err);
	free(text);
	free(sig);
	return rc < 0 ? msg_fail(verb, path, err) : 0;
}

int cli_catalog_verify(const char *path, const struct sig_trust *trust, json_t *all)
{
	struct fw_catalog *c = malloc(sizeof(*c));
	struct fw_err err = { 0 };
	char keyid[FW_CATALOG_SIGNER_MAX], when[32];
	int rc;

	if (c == NULL) {
		msg_error("verify", path, "out of memory");
		return FW_EXIT_IO;
	}
	rc = read_catalog("verify", path, trust, c, keyid, 1, &err);
	if (all != NULL)
		json_array_append_new(all, rc == 0 ? json_pack("{s:o, s:b, s:s, s:i, s:s, s:I, s:i, s:s, s:[s]}", "file",
							       fw_json_text(path), "verified", 1, "outcome", "verified",
							       "exit_code", 0, "type", "catalog", "serial",
							       (json_int_t)c->serial, "releases", (int)c->n, "expires",
							       fw_time_iso(c->expires, when), "signers", keyid)
						  : cli_json_failure_doc(path, rc, err.msg));
	else if (rc == 0 && !msg_quiet) {
		char shown[1024];
		fw_time_iso(c->expires, when);
		printf("%s: verified: catalog serial %llu, %zu release%s, expires %s, signed by %s\n",
		       fw_escape(path, shown, sizeof(shown)), (unsigned long long)c->serial, c->n, c->n == 1 ? "" : "s",
		       when, keyid);
	}
	free(c);
	return rc;
}

int cli_catalog_inspect(const char *path, const struct sig_trust *trust, int json)
{
	struct fw_catalog *c = malloc(sizeof(*c));
	struct fw_err err = { 0 };
	char keyid[FW_CATALOG_SIGNER_MAX], created[32], expires[32], hex[2 * FW_DIGEST_LEN + 1], shown[2048];
	int rc, expired;

	if (c == NULL) {
		msg_error("inspect", path, "out of memory");
		return FW_EXIT_IO;
	}
	if ((rc = read_catalog("inspect", path, trust, c, keyid, 0, &err)) != 0) {
		free(c);
		return json ? cli_json_failure(path, rc, err.msg) : rc;
	}
	expired = fw_catalog_check_time(c, (int64_t)time(NULL), &err) < 0;
	fw_time_iso(c->created, created);
	fw_time_iso(c->expires, expires);
	if (json) {
		json_t *doc = json_pack("{s:s, s:o, s:I, s:s, s:s, s:b, s:s, s:o}", "type", "catalog", "file",
					fw_json_text(path), "serial", (json_int_t)c->serial, "created",
					created, "expires", expires, "expired", expired,
					"signature", trust == NULL ? "not checked" : "valid", "releases", json_array());
		json_t *list = json_object_get(doc, "releases");
		for (size_t i = 0; i < c->n; i++) {
			const struct fw_release *r = &c->rel[i];
			json_t *urls = json_array();
			fw_hex(r->manifest_sha256, FW_DIGEST_LEN, hex);
			for (size_t u = 0; u < r->n_urls; u++)
				json_array_append_new(urls, fw_json_text(r->url[u]));
			json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:I, s:s, s:i, s:s, s:s, s:I, s:b, s:i}",
							      "product", r->product, "version", r->version, "urls", urls,
							      "length", (json_int_t)r->length, "manifest_sha256", hex,
							      "generation", (int)r->generation, "bridge_from", r->bridge_from,
							      "bridge_down", r->bridge_down, "rollback_index",
							      (json_int_t)r->rollback_index, "requires_tpm", r->requires_tpm,
							      "rollout", (int)r->rollout));
		}
		if (trust != NULL)
			json_object_set_new(doc, "signer", json_string(keyid));
		rc = msg_print_json(doc) < 0 ? FW_EXIT_IO : FW_EXIT_OK;
	} else {
		printf("%-14s %s\n", "File:", fw_escape(path, shown, sizeof(shown)));
		printf("%-14s %s\n", "Type:", "catalog");
		printf("%-14s %llu\n", "Serial:", (unsigned long long)c->serial);
		printf("%-14s %s\n", "Created:", created);
		printf("%-14s %s%s\n", "Expires:", expires, expired ? " (EXPIRED: devices refuse it)" : "");
		printf("%-14s %s%s\n", "Signature:", trust == NULL ? "not checked (give -p PUB or --ca CA)" : "valid, by ", keyid);
		printf("\n%-12s %-12s %-4s %-12s %-8s %12s  %s\n", "PRODUCT", "VERSION", "GEN", "BRIDGE-FROM", "ROLLOUT",
		       "LENGTH", "URL");
		for (size_t i = 0; i < c->n; i++) {
			const struct fw_release *r = &c->rel[i];
			printf("%-12s %-12s %-4u %-12s %7u%% %12llu  %s\n", r->product, r->version, r->generation,
			       r->bridge_from[0] ? r->bridge_from : "-", r->rollout, (unsigned long long)r->length,
			       fw_escape(r->url[0], shown, sizeof(shown)));
			for (size_t u = 1; u < r->n_urls; u++)
				printf("%-12s %-12s %-4s %-12s %-8s %12s  %s\n", "", "", "", "", "", "",
				       fw_escape(r->url[u], shown, sizeof(shown)));
		}
		rc = fflush(stdout) == 0 ? FW_EXIT_OK : FW_EXIT_IO;
	}
	free(c);
	return rc;
}
