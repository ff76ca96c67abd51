/* catalog_write: releases from package manifests, and the signed catalog files. */
#include "catalog_write.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/outfile.h"
#include "formats/chunk.h"
#include "formats/pkg_read.h"

/* BASE/NAME with NAME's bytes outside RFC 3986's unreserved set percent-encoded. */
static int make_url(char *out, size_t outsz, const char *base, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = (size_t)snprintf(out, outsz, "%s%s", base, base[0] && base[strlen(base) - 1] == '/' ? "" : "/");

	for (const unsigned char *p = (const unsigned char *)name; *p && o + 4 < outsz; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '.' || *p == '_' || *p == '~') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return o + 4 < outsz ? 0 : -1;
}

static int has_images_for(const struct fw_manifest *m, const char *product)
{
	for (size_t i = 0; i < m->n_images; i++)
		if (strcmp(m->images[i].product, product) == 0)
			return 1;
	return 0;
}

/* The package being added, as every entry of it names it. */
struct added {
	const struct pkg_report *rep;
	const char *const *base_urls;
	size_t n_urls;
	const char *name;                      /* the file name the URLs end in */
	uint64_t length;
};

/* The next entry of a table of cap entries (*n in use), zeroed; NULL with err when the table is full. */
static void *next_entry(void *table, size_t size, size_t n, size_t cap, const char *what, struct fw_err *err)
{
	if (n == cap) {
		fw_err_set(err, FW_EXIT_USAGE, "more than %zu %s", cap, what);
		return NULL;
	}
	return memset((char *)table + n * size, 0, size);
}

/* What names a package in a catalog: its length, its manifest's SHA-256 and its URLs, BASE/NAME for each base. */
static int identify(const struct added *a, uint64_t *length, uint8_t sha[FW_DIGEST_LEN],
		    char (*url)[FW_CATALOG_URL_MAX + 1], size_t *n, struct fw_err *err)
{
	*length = a->length;
	if (chunk_sha256(a->rep->manifest_bytes, a->rep->manifest_len, sha) < 0)
		return fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
	for (size_t u = 0; u < a->n_urls; u++)
		if (make_url(url[u], FW_CATALOG_URL_MAX + 1, a->base_urls[u], a->name) < 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%s: the URL is longer than %d bytes", a->base_urls[u],
					  FW_CATALOG_URL_MAX);
	*n = a->n_urls;
	return 0;
}

/* The images m writes for product, as records will name them (a delta's with its base). */
static size_t images_for(const struct fw_manifest *m, const char *product, struct fw_catalog_image *img)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_images && n < FW_TARGET_COUNT; i++) {
		const struct fw_payload *p = &m->payloads[m->images[i].payload];

		if (strcmp(m->images[i].product, product) != 0)
			continue;
		memset(&img[n], 0, sizeof(img[n]));
		img[n].target = m->images[i].target;
		img[n].size = p->size;
		img[n].chunk_size = p->chunk_size;
		memcpy(img[n].digest, p->digest, FW_DIGEST_LEN);
		if (p->zstd.on && p->zstd.base.on) {
			img[n].has_base = 1;
			img[n].base_size = p->zstd.base.size;
			img[n].base_chunk_size = p->zstd.base.chunk_size;
			memcpy(img[n].base_digest, p->zstd.base.digest, FW_DIGEST_LEN);
		}
		n++;
	}
	return n;
}

static int is_delta(const struct fw_manifest *m)
{
	for (size_t i = 0; i < m->n_payloads; i++)
		if (m->payloads[i].zstd.on && m->payloads[i].zstd.base.on)
			return 1;
	return 0;
}

/*
 * A delta says of its release what the full package says, and rebuilds the
 * very images of it: else a device on the base would run another release
 * than one off it, or refuse the delta the check chose.
 */
static int same_as_full(const struct fw_catalog_delta *dl, const struct fw_release *r, struct fw_err *err)
{
	if (dl->rollback_index != r->rollback_index)
		return fw_err_set(err, FW_EXIT_USAGE, "its manifest says rollback index %llu, the full package %llu",
				  (unsigned long long)dl->rollback_index, (unsigned long long)r->rollback_index);
	if (dl->generation != r->generation)
		return fw_err_set(err, FW_EXIT_USAGE, "its manifest says generation %u, the full package %u",
				  (unsigned)dl->generation, (unsigned)r->generation);
	if (strcmp(dl->bridge_from, r->bridge_from) != 0 || strcmp(dl->bridge_down, r->bridge_down) != 0)
		return fw_err_set(err, FW_EXIT_USAGE, "its manifest says bridge_from \"%s\", bridge_down \"%s\"; the full "
				  "package \"%s\", \"%s\"", dl->bridge_from, dl->bridge_down, r->bridge_from, r->bridge_down);
	if (!dl->requires_tpm != !r->requires_tpm)
		return fw_err_set(err, FW_EXIT_USAGE, "its manifest says requires_tpm %s, the full package %s",
				  dl->requires_tpm ? "true" : "false", r->requires_tpm ? "true" : "false");
	if (dl->n_images != r->n_images)
		return fw_err_set(err, FW_EXIT_USAGE, "it writes %zu images, the full package %zu", dl->n_images,
				  r->n_images);
	for (size_t a = 0; a < dl->n_images; a++) {
		const struct fw_catalog_image *im = NULL;

		for (size_t b = 0; b < r->n_images; b++)
			if (r->image[b].target == dl->image[a].target)
				im = &r->image[b];
		if (im == NULL || im->size != dl->image[a].size || im->chunk_size != dl->image[a].chunk_size ||
		    memcmp(im->digest, dl->image[a].digest, FW_DIGEST_LEN) != 0)
			return fw_err_set(err, FW_EXIT_USAGE, "its %s image is not the full package's",
					  fw_target_name(dl->image[a].target));
	}
	return 0;
}

int fw_catalog_link_deltas(struct fw_catalog *c, struct fw_err *err)
{
	for (size_t d = 0; d < c->n_deltas; d++) {
		struct fw_catalog_delta *dl = &c->delta[d];
		const struct fw_release *base = NULL;
		char hex[2 * FW_DIGEST_LEN + 1] = "";

		for (size_t i = 0; i < c->n && base == NULL; i++) {
			const struct fw_release *r = &c->rel[i];

			if (strcmp(r->product, dl->product) != 0)
				continue;
			for (size_t a = 0; a < dl->n_images && base == NULL; a++)
				for (size_t b = 0; dl->image[a].has_base && b < r->n_images; b++)
					if (memcmp(dl->image[a].base_digest, r->image[b].digest, FW_DIGEST_LEN) == 0 &&
					    dl->image[a].base_size == r->image[b].size) {
						base = r;
						break;
					}
		}
		for (size_t a = 0; a < dl->n_images && hex[0] == '\0'; a++)
			if (dl->image[a].has_base)
				fw_hex(dl->image[a].base_digest, FW_DIGEST_LEN, hex);
		if (base == NULL)
			return fw_err_set(err, FW_EXIT_USAGE, "the delta of %s %s (%s): its base image %.16s... is an image "
					  "of none of the given packages: give the package it was built from too",
					  dl->product, dl->version, dl->url[0], hex);
		snprintf(dl->base_version, sizeof(dl->base_version), "%s", base->version);
		if (same_as_full(dl, fw_catalog_find(c, dl->product, dl->version), err) < 0)
			return fw_err_wrap(err, "the delta of %s %s (%s)", dl->product, dl->version, dl->url[0]);
	}
	return 0;
}

int fw_catalog_add_package(struct fw_catalog *c, const char *path, const char *const *base_urls, size_t n_urls,
			   unsigned rollout, struct fw_err *err)
{
	struct pkg_read_opts ropts = { .manifest_only = 1 };
	struct pkg_report rep;
	struct added added;
	struct fw_manifest *m = NULL;
	struct stat st;
	char *copy = NULL, shown[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	memset(&rep, 0, sizeof(rep));
	fw_escape(path, shown, sizeof(shown));
	if (fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", shown, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: not a regular file", shown);
		goto out;
	}
	if (pkg_read(fd, &ropts, NULL, NULL, &m, &rep, err) < 0) {
		fw_err_wrap(err, "%s", shown);
		goto out;
	}
	if ((copy = strdup(path)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	added.rep = &rep, added.base_urls = base_urls, added.n_urls = n_urls, added.name = basename(copy);
	added.length = (uint64_t)st.st_size;
	/* A modification package is a patch for each product it names (formats/catalog.md, format version 2). */
	for (size_t p = 0; m->type != FW_TYPE_FIRMWARE && p < m->n_products; p++) {
		struct fw_patch *pt = next_entry(c->patch, sizeof(*pt), c->n_patches, FW_CATALOG_MAX_PATCHES, "patches", err);

		if (pt == NULL)
			goto out;
		snprintf(pt->product, sizeof(pt->product), "%s", m->products[p]);
		snprintf(pt->name, sizeof(pt->name), "%s", m->name);
		snprintf(pt->version, sizeof(pt->version), "%s", m->version);
		pt->ver = m->ver;
		snprintf(pt->min_fw, sizeof(pt->min_fw), "%s", m->min_fw);
		snprintf(pt->max_fw, sizeof(pt->max_fw), "%s", m->max_fw);
		snprintf(pt->description, sizeof(pt->description), "%s", m->description);
		if (identify(&added, &pt->length, pt->manifest_sha256, pt->url, &pt->n_urls, err) < 0)
			goto out;
		c->n_patches++;
	}
	/*
	 * A firmware package is a release for each product it has images for; a
	 * delta package a delta of that release (format version 3).
	 */
	for (size_t p = 0; m->type == FW_TYPE_FIRMWARE && p < m->n_products; p++) {
		struct fw_catalog_delta *dl;
		struct fw_release *r;

		if (!has_images_for(m, m->products[p]))
			continue;
		if (is_delta(m)) {
			dl = next_entry(c->delta, sizeof(*dl), c->n_deltas, FW_CATALOG_MAX_DELTAS, "delta packages", err);
			if (dl == NULL)
				goto out;
			snprintf(dl->product, sizeof(dl->product), "%s", m->products[p]);
			snprintf(dl->version, sizeof(dl->version), "%s", m->version);
			dl->n_images = images_for(m, m->products[p], dl->image);
			/* What it says of its release, for the check against the full package's (same_as_full). */
			dl->generation = m->image_generation;
			dl->rollback_index = m->rollback_index;
			dl->requires_tpm = m->requires_tpm;
			snprintf(dl->bridge_from, sizeof(dl->bridge_from), "%s", m->bridge_from);
			snprintf(dl->bridge_down, sizeof(dl->bridge_down), "%s", m->bridge_down);
			if (identify(&added, &dl->length, dl->manifest_sha256, dl->url, &dl->n_urls, err) < 0)
				goto out;
			c->n_deltas++;
			continue;
		}
		if ((r = next_entry(c->rel, sizeof(*r), c->n, FW_CATALOG_MAX_RELEASES, "releases", err)) == NULL)
			goto out;
		snprintf(r->product, sizeof(r->product), "%s", m->products[p]);
		snprintf(r->version, sizeof(r->version), "%s", m->version);
		r->ver = m->ver;
		snprintf(r->bridge_from, sizeof(r->bridge_from), "%s", m->bridge_from);
		snprintf(r->bridge_down, sizeof(r->bridge_down), "%s", m->bridge_down);
		r->generation = m->image_generation;
		r->rollback_index = m->rollback_index;
		r->requires_tpm = m->requires_tpm;
		r->rollout = rollout;
		snprintf(r->description, sizeof(r->description), "%s", m->description);
		r->n_images = images_for(m, m->products[p], r->image);
		if (identify(&added, &r->length, r->manifest_sha256, r->url, &r->n_urls, err) < 0)
			goto out;
		c->n++;
	}
	rc = 0;
out:
	free(copy);
	close(fd);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	return rc;
}

/* Remove the other kind's signature file, if any: a device reads a .minisig before a .cms. */
static int remove_stale(const char *path, struct fw_err *err)
{
	char shown[512];

	if (unlink(path) < 0 && errno != ENOENT)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot remove the old signature: %s",
				  fw_escape(path, shown, sizeof(shown)), strerror(errno));
	return 0;
}

int fw_catalog_write(const struct fw_catalog *c, const char *out_path, struct sig_signer *const *signers, size_t n,
		     int force, struct fw_err *err)
{
	const struct sig_signer *signer = signers[0];
	enum sig_kind other = signer->kind == SIG_KIND_CMS ? SIG_KIND_MINISIGN : SIG_KIND_CMS;
	char *text = fw_catalog_emit(c), *sig = NULL, *one = NULL, *sig_path = NULL, *other_path = NULL, comment[128];
	const char *paths[3];
	size_t sig_len = 0, one_len;
	int flags = force ? OUTFILE_FORCE : 0, rc = -1;

	for (size_t i = 0; i < n; i++)
		if (n > 1 && signers[i]->kind != SIG_KIND_MINISIGN)
			return fw_err_set(err, FW_EXIT_USAGE, "a CMS signature has one signer: sign a catalog with one "
					  "X.509 key, or with minisign keys only");

	if (asprintf(&sig_path, "%s%s", out_path, fw_catalog_sig_suffix(signer->kind)) < 0)
		sig_path = NULL;
	if (asprintf(&other_path, "%s%s", out_path, fw_catalog_sig_suffix(other)) < 0)
		other_path = NULL;
	if (text == NULL || sig_path == NULL || other_path == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	/* All or nothing: refuse before writing the first. */
	paths[0] = sig_path, paths[1] = other_path, paths[2] = out_path;
	for (int i = 0; !force && i < 3; i++)
		if (access(paths[i], F_OK) == 0) {
			fw_err_set(err, FW_EXIT_USAGE, "%s: already exists (use -f to overwrite)", paths[i]);
			goto out;
		}
	snprintf(comment, sizeof(comment), "fwpkg catalog serial %llu expires %lld", (unsigned long long)c->serial,
		 (long long)c->expires);
	/* Several keys: their minisign signatures one after another in the one .minisig file. */
	for (size_t i = 0; i < n; i++) {
		if (sig_signer_sign(signers[i], text, strlen(text), comment, c->created, &one, &one_len, err) < 0 ||
		    sig_append(&sig, &sig_len, one, one_len, err) < 0)
			goto out;
		free(one);
		one = NULL;
	}
	/* The signature first: a reader that finds the new catalog finds its signature too. */
	if (outfile_write_file(sig_path, sig, sig_len, 0644, flags, err) < 0 ||
	    outfile_write_file(out_path, text, strlen(text), 0644, flags, err) < 0 || remove_stale(other_path, err) < 0)
		goto out;
	rc = 0;
out:
	free(text);
	free(one);
	free(sig);
	free(sig_path);
	free(other_path);
	return rc;
}
