/* catalog: emit and strictly parse the update catalog; sorting, lookups and time checks. */
#include "catalog.h"

#include "base/escape.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/fw_limits.h"
#include "base/isotime.h"
#include "formats/version.h"
#include "signing/accept.h"
#include "signing/trust.h"

#define CLOCK_SKEW 60

int fw_catalog_url_text_ok(const char *url)
{
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	return fw_utf8_valid(url);
}

static int cmp_release(const void *a, const void *b)
{
	const struct fw_release *x = a, *y = b;
	int c = strcmp(x->product, y->product);

	return c != 0 ? c : fw_version_cmp(&x->ver, &y->ver);
}

static int cmp_delta(const void *a, const void *b)
{
	const struct fw_catalog_delta *x = a, *y = b;
	int c = strcmp(x->product, y->product);

	if (c == 0)
		c = strcmp(x->version, y->version);
	return c != 0 ? c : memcmp(x->manifest_sha256, y->manifest_sha256, FW_DIGEST_LEN);
}

int fw_catalog_sort(struct fw_catalog *c, struct fw_err *err)
{
	qsort(c->rel, c->n, sizeof(c->rel[0]), cmp_release);
	qsort(c->delta, c->n_deltas, sizeof(c->delta[0]), cmp_delta);
	for (size_t i = 1; i < c->n; i++)
		if (cmp_release(&c->rel[i - 1], &c->rel[i]) == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "two packages of %s %s: keep one", c->rel[i].product,
					  c->rel[i].version);
	/* A delta stands beside its full package: what a device off its base, or whose delta failed, takes. */
	for (size_t d = 0; d < c->n_deltas; d++)
		if (fw_catalog_find(c, c->delta[d].product, c->delta[d].version) == NULL)
			return fw_err_set(err, FW_EXIT_USAGE, "a delta of %s %s without the full package of %s %s: give "
					  "it too", c->delta[d].product, c->delta[d].version, c->delta[d].product,
					  c->delta[d].version);
	return 0;
}

const struct fw_catalog_delta *fw_catalog_deltas_of(const struct fw_catalog *c, const struct fw_release *rel, size_t *n)
{
	const struct fw_catalog_delta *first = NULL;

	*n = 0;
	for (size_t d = 0; d < c->n_deltas; d++)
		if (strcmp(c->delta[d].product, rel->product) == 0 && strcmp(c->delta[d].version, rel->version) == 0) {
			if (first == NULL)
				first = &c->delta[d];
			(*n)++;
		}
	return first;
}


static json_t *urls_json(const char (*url)[FW_CATALOG_URL_MAX + 1], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(url[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *patch_json(const struct fw_patch *p)
{
	char hex[2 * FW_DIGEST_LEN + 1];

	fw_hex(p->manifest_sha256, FW_DIGEST_LEN, hex);
	return json_pack("{s:s, s:s, s:o, s:I, s:s, s:s, s:s, s:s}", "name", p->name, "version", p->version, "urls",
			 urls_json(p->url, p->n_urls), "length", (json_int_t)p->length, "manifest_sha256", hex, "min_fw",
			 p->min_fw, "max_fw", p->max_fw, "description", p->description);
}

/*
 * The lowest format version that holds what is used: 3 with deltas, 2 with
 * patches or descriptions, else 1, so a catalog without them stays readable
 * by older readers.
 */
static int format_version(const struct fw_catalog *c)
{
	if (c->n_deltas > 0)
		return 3;
	if (c->n_patches > 0)
		return 2;
	for (size_t i = 0; i < c->n; i++)
		if (c->rel[i].description[0])
			return 2;
	return 1;
}

static json_t *digest_json(const uint8_t d[FW_DIGEST_LEN], uint64_t size, uint32_t chunk_size)
{
	char hex[2 * FW_DIGEST_LEN + 1];

	fw_hex(d, FW_DIGEST_LEN, hex);
	return json_pack("{s:s, s:I, s:I}", "digest", hex, "size", (json_int_t)size, "chunk_size", (json_int_t)chunk_size);
}

static json_t *image_json(const struct fw_catalog_image *im)
{
	json_t *o = digest_json(im->digest, im->size, im->chunk_size);

	if (o != NULL && (json_object_set_new(o, "target", json_string(fw_target_name(im->target))) < 0 ||
			  (im->has_base && json_object_set_new(o, "base", digest_json(im->base_digest, im->base_size,
										       im->base_chunk_size)) < 0))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *delta_json(const struct fw_catalog_delta *d)
{
	json_t *images = json_array();
	char hex[2 * FW_DIGEST_LEN + 1];

	for (size_t i = 0; images != NULL && i < d->n_images; i++)
		if (json_array_append_new(images, image_json(&d->image[i])) < 0) {
			json_decref(images);
			return NULL;
		}
	fw_hex(d->manifest_sha256, FW_DIGEST_LEN, hex);
	return json_pack("{s:s, s:o, s:I, s:s, s:o}", "base_version", d->base_version, "urls",
			 urls_json(d->url, d->n_urls), "length", (json_int_t)d->length, "manifest_sha256", hex, "images",
			 images);
}

static json_t *release_json(const struct fw_catalog *c, const struct fw_release *r)
{
	size_t n_deltas;
	const struct fw_catalog_delta *deltas = fw_catalog_deltas_of(c, r, &n_deltas);
	json_t *dl = n_deltas > 0 ? json_array() : NULL;
	json_t *o = json_object(), *urls = json_array();
	char hex[2 * FW_DIGEST_LEN + 1];
	int bad = o == NULL || urls == NULL;

	for (size_t i = 0; !bad && i < r->n_urls; i++)
		bad = json_array_append_new(urls, json_string(r->url[i])) < 0;
	fw_hex(r->manifest_sha256, FW_DIGEST_LEN, hex);
	if (!bad)
		bad = json_object_set_new(o, "version", json_string(r->version)) < 0 ||
		      json_object_set(o, "urls", urls) < 0 ||
		      json_object_set_new(o, "length", json_integer((json_int_t)r->length)) < 0 ||
		      json_object_set_new(o, "manifest_sha256", json_string(hex)) < 0 ||
		      json_object_set_new(o, "generation", json_integer(r->generation)) < 0 ||
		      json_object_set_new(o, "bridge_from", json_string(r->bridge_from)) < 0 ||
		      json_object_set_new(o, "bridge_down", json_string(r->bridge_down)) < 0 ||
		      json_object_set_new(o, "rollback_index", json_integer((json_int_t)r->rollback_index)) < 0 ||
		      json_object_set_new(o, "requires_tpm", json_boolean(r->requires_tpm)) < 0 ||
		      json_object_set_new(o, "rollout", json_integer(r->rollout)) < 0 ||
		      (r->description[0] && json_object_set_new(o, "description", json_string(r->description)) < 0);
	/* Sorted by product and version, so a release's deltas stand together. */
	for (size_t i = 0; !bad && i < n_deltas; i++)
		bad = dl == NULL || json_array_append_new(dl, delta_json(&deltas[i])) < 0;
	if (!bad && n_deltas > 0)
		bad = json_object_set(o, "deltas", dl) < 0;
	json_decref(dl);
	json_decref(urls);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *fw_catalog_emit(const struct fw_catalog *c)
{
	json_t *doc = json_object(), *products = json_object();
	char created[32], expires[32], *text = NULL, *out = NULL;
	int bad = doc == NULL || products == NULL;

	for (size_t i = 0; !bad && i < c->n; i++) {
		json_t *list = json_object_get(products, c->rel[i].product), *r;
		if (list == NULL && (json_object_set_new(products, c->rel[i].product, json_array()) < 0 ||
				     (list = json_object_get(products, c->rel[i].product)) == NULL)) {
			bad = 1;
			break;
		}
		bad = (r = release_json(c, &c->rel[i])) == NULL || json_array_append_new(list, r) < 0;
	}
	if (!bad && c->n_patches > 0) {
		json_t *patches = json_object();

		bad = patches == NULL || json_object_set_new(doc, "patches", patches) < 0;
		for (size_t i = 0; !bad && i < c->n_patches; i++) {
			json_t *list = json_object_get(patches, c->patch[i].product), *p;
			if (list == NULL && (json_object_set_new(patches, c->patch[i].product, json_array()) < 0 ||
					     (list = json_object_get(patches, c->patch[i].product)) == NULL)) {
				bad = 1;
				break;
			}
			bad = (p = patch_json(&c->patch[i])) == NULL || json_array_append_new(list, p) < 0;
		}
	}
	fw_time_iso(c->created, created);
	fw_time_iso(c->expires, expires);
	if (!bad)
		bad = json_object_set_new(doc, "format", json_string(FW_CATALOG_FORMAT)) < 0 ||
		      json_object_set_new(doc, "format_version", json_integer(format_version(c))) < 0 ||
		      json_object_set_new(doc, "serial", json_integer((json_int_t)c->serial)) < 0 ||
		      json_object_set_new(doc, "created", json_integer(c->created)) < 0 ||
		      json_object_set_new(doc, "created_time", json_string(created)) < 0 ||
		      json_object_set_new(doc, "expires", json_integer(c->expires)) < 0 ||
		      json_object_set_new(doc, "expires_time", json_string(expires)) < 0 ||
		      json_object_set(doc, "products", products) < 0;
	if (!bad)
		text = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2));
	if (text != NULL && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
	free(text);
	json_decref(products);
	json_decref(doc);
	return out;
}

/* Every key of o must be in keys (NULL-terminated). */
static int only_keys(const json_t *o, const char *const *keys, const char *where, struct fw_err *err)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		size_t i;
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL)
			return fw_err_set(err, FW_EXIT_REJECTED, "%s: unknown key \"%.64s\"", where, k);
	}
	return 0;
}

static int get_uint(const json_t *o, const char *key, uint64_t max, uint64_t *out, const char *where,
		    struct fw_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: %s: missing or out of range", where, key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_version(const json_t *o, const char *key, int may_be_empty, char out[FW_VERSION_MAX_LEN + 1],
		       const char *where, struct fw_err *err)
{
	const json_t *v = json_object_get(o, key);
	struct fw_version ver;

	if (!json_is_string(v))
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: %s: missing", where, key);
	if (!(may_be_empty && json_string_value(v)[0] == '\0') && fw_version_parse(json_string_value(v), &ver, err) < 0) {
		err->code = FW_EXIT_REJECTED;
		return fw_err_wrap(err, "%s: %s", where, key);
	}
	snprintf(out, FW_VERSION_MAX_LEN + 1, "%s", json_string_value(v));
	return 0;
}

/* A description: text a device shows, so UTF-8 and capped as the manifest's. */
static int get_description(const json_t *o, char out[FW_DESCRIPTION_MAX + 1], const char *where, struct fw_err *err)
{
	const json_t *v = json_object_get(o, "description");

	out[0] = '\0';
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) > FW_DESCRIPTION_MAX ||
	    !fw_utf8_valid(json_string_value(v)))
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: description: not text of at most %d bytes", where,
				  FW_DESCRIPTION_MAX);
	snprintf(out, FW_DESCRIPTION_MAX + 1, "%s", json_string_value(v));
	return 0;
}

static int parse_urls(const json_t *urls, char (*url)[FW_CATALOG_URL_MAX + 1], size_t *n, const char *where,
		      const char *version, struct fw_err *err)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(urls) || json_array_size(urls) == 0 || json_array_size(urls) > FW_CATALOG_MAX_URLS)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s %s: urls: 1 to %d URLs", where, version,
				  FW_CATALOG_MAX_URLS);
	json_array_foreach(urls, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) == 0 ||
		    strlen(json_string_value(v)) > FW_CATALOG_URL_MAX)
			return fw_err_set(err, FW_EXIT_REJECTED, "%s %s: urls: not a URL", where, version);
		if (!fw_catalog_url_text_ok(json_string_value(v)))
			return fw_err_set(err, FW_EXIT_REJECTED, "%s %s: urls: a space or control character",
					  where, version);
		snprintf(url[i], FW_CATALOG_URL_MAX + 1, "%s", json_string_value(v));
	}
	*n = json_array_size(urls);
	return 0;
}

static int get_sha(const json_t *o, uint8_t out[FW_DIGEST_LEN], const char *where, const char *version,
		   struct fw_err *err)
{
	const json_t *v = json_object_get(o, "manifest_sha256");

	if (!json_is_string(v) || strlen(json_string_value(v)) != 2 * FW_DIGEST_LEN ||
	    fw_unhex(json_string_value(v), out, FW_DIGEST_LEN) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s %s: manifest_sha256: not 64 hex digits", where, version);
	return 0;
}

static int parse_patch(const json_t *o, const char *product, struct fw_patch *p, struct fw_err *err)
{
	static const char *const keys[] = { "name", "version", "urls", "length", "manifest_sha256", "min_fw", "max_fw",
					    "description", NULL };
	char where[FW_NAME_MAX + 32];
	const json_t *v = json_object_get(o, "name");

	snprintf(where, sizeof(where), "patches.%s", product);
	if (!json_is_object(o))
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: a patch is not an object", where);
	if (only_keys(o, keys, where, err) < 0)
		return -1;
	snprintf(p->product, sizeof(p->product), "%s", product);
	if (!json_is_string(v) || !fw_name_valid(json_string_value(v)) ||
	    strlen(json_string_value(v)) > FW_PKG_NAME_MAX)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: name: not a package name", where);
	snprintf(p->name, sizeof(p->name), "%s", json_string_value(v));
	if (get_version(o, "version", 0, p->version, where, err) < 0 ||
	    get_version(o, "min_fw", 1, p->min_fw, where, err) < 0 ||
	    get_version(o, "max_fw", 1, p->max_fw, where, err) < 0 ||
	    parse_urls(json_object_get(o, "urls"), p->url, &p->n_urls, where, p->version, err) < 0 ||
	    get_sha(o, p->manifest_sha256, where, p->version, err) < 0 ||
	    get_uint(o, "length", FW_PAYLOAD_MAX * FW_MAX_PAYLOADS, &p->length, where, err) < 0 ||
	    get_description(o, p->description, where, err) < 0)
		return -1;
	fw_version_parse(p->version, &p->ver, err);
	return 0;
}

static int cmp_patch(const void *a, const void *b)
{
	const struct fw_patch *x = a, *y = b;
	int c = strcmp(x->product, y->product);

	return c != 0 ? c : fw_version_cmp(&x->ver, &y->ver);
}

const struct fw_patch *fw_catalog_patch_for(const struct fw_catalog *c, const char *product, const char *version)
{
	const struct fw_patch *best = NULL;
	struct fw_err ignore;

	for (size_t i = 0; i < c->n_patches; i++) {
		const struct fw_patch *p = &c->patch[i];
		if (strcmp(p->product, product) != 0)
			continue;
		if (p->min_fw[0] && (version[0] == '\0' || fw_version_cmp_str(version, p->min_fw, &ignore) < 0))
			continue;
		if (p->max_fw[0] && version[0] && fw_version_cmp_str(version, p->max_fw, &ignore) > 0)
			continue;
		best = p;   /* sorted: the last that fits is the newest */
	}
	return best;
}

static int get_digest(const json_t *o, const char *where, uint8_t out[FW_DIGEST_LEN], uint64_t *size,
		      uint32_t *chunk_size, struct fw_err *err)
{
	static const char *const keys[] = { "digest", "size", "chunk_size", "target", "base", NULL };
	const json_t *v = json_object_get(o, "digest");
	uint64_t n;

	if (!json_is_object(o))
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: not an object", where);
	if (only_keys(o, keys, where, err) < 0)
		return -1;
	if (!json_is_string(v) || strlen(json_string_value(v)) != 2 * FW_DIGEST_LEN ||
	    fw_unhex(json_string_value(v), out, FW_DIGEST_LEN) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: digest: not 64 hex digits", where);
	if (get_uint(o, "size", FW_PAYLOAD_MAX, size, where, err) < 0 ||
	    get_uint(o, "chunk_size", UINT32_MAX, &n, where, err) < 0)
		return -1;
	if (n == 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: chunk_size: 0", where);
	*chunk_size = (uint32_t)n;
	return 0;
}

/* A delta package of release r (format version 3): its images, each a target once, and where it is. */
static int parse_delta(const json_t *o, const struct fw_release *r, struct fw_catalog_delta *d, struct fw_err *err)
{
	static const char *const keys[] = { "base_version", "urls", "length", "manifest_sha256", "images", NULL };
	char where[FW_NAME_MAX + FW_VERSION_MAX_LEN + 64];
	const json_t *images = json_object_get(o, "images"), *im;
	unsigned seen = 0;
	size_t i;

	snprintf(where, sizeof(where), "products.%s %s: deltas", r->product, r->version);
	if (!json_is_object(o))
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: a delta is not an object", where);
	if (only_keys(o, keys, where, err) < 0 || get_version(o, "base_version", 0, d->base_version, where, err) < 0 ||
	    parse_urls(json_object_get(o, "urls"), d->url, &d->n_urls, where, d->base_version, err) < 0 ||
	    get_sha(o, d->manifest_sha256, where, d->base_version, err) < 0 ||
	    get_uint(o, "length", FW_PAYLOAD_MAX * FW_MAX_PAYLOADS, &d->length, where, err) < 0)
		return -1;
	memcpy(d->product, r->product, sizeof(d->product));
	memcpy(d->version, r->version, sizeof(d->version));
	if (!json_is_array(images) || json_array_size(images) == 0 || json_array_size(images) > FW_TARGET_COUNT)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: images: 1 to %d images", where, FW_TARGET_COUNT);
	json_array_foreach(images, i, im) {
		struct fw_catalog_image *x = &d->image[i];
		const json_t *t = json_object_get(im, "target"), *b = json_object_get(im, "base");

		if (get_digest(im, where, x->digest, &x->size, &x->chunk_size, err) < 0)
			return -1;
		if (!json_is_string(t) || fw_target_parse(json_string_value(t), &x->target) < 0 ||
		    (seen & (1u << x->target)))
			return fw_err_set(err, FW_EXIT_REJECTED, "%s: images: target: not pri, sec or boot, once each",
					  where);
		seen |= 1u << x->target;
		if (b != NULL) {
			if (json_object_get(b, "target") != NULL || json_object_get(b, "base") != NULL)
				return fw_err_set(err, FW_EXIT_REJECTED, "%s: images: base: unknown key", where);
			if (get_digest(b, where, x->base_digest, &x->base_size, &x->base_chunk_size, err) < 0)
				return -1;
			x->has_base = 1;
		}
	}
	d->n_images = json_array_size(images);
	return 0;
}

static int parse_release(const json_t *o, const char *product, struct fw_release *r, int v2, struct fw_err *err)
{
	static const char *const keys[] = { "version", "urls", "length", "manifest_sha256", "generation",
					    "bridge_from", "bridge_down", "rollback_index", "requires_tpm",
					    "rollout", NULL };
	static const char *const keys2[] = { "version", "urls", "length", "manifest_sha256", "generation",
					     "bridge_from", "bridge_down", "rollback_index", "requires_tpm",
					     "rollout", "description", NULL };
	static const char *const keys3[] = { "version", "urls", "length", "manifest_sha256", "generation",
					     "bridge_from", "bridge_down", "rollback_index", "requires_tpm",
					     "rollout", "description", "deltas", NULL };
	char where[FW_NAME_MAX + 32];
	const json_t *urls = json_object_get(o, "urls"), *v;
	uint64_t n;

	snprintf(where, sizeof(where), "products.%s", product);
	if (!json_is_object(o))
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: a release is not an object", where);
	if (only_keys(o, v2 >= 3 ? keys3 : v2 ? keys2 : keys, where, err) < 0 || get_description(o, r->description, where, err) < 0)
		return -1;
	snprintf(r->product, sizeof(r->product), "%s", product);
	if (get_version(o, "version", 0, r->version, where, err) < 0 ||
	    get_version(o, "bridge_from", 1, r->bridge_from, where, err) < 0 ||
	    get_version(o, "bridge_down", 1, r->bridge_down, where, err) < 0)
		return -1;
	fw_version_parse(r->version, &r->ver, err);
	if (parse_urls(urls, r->url, &r->n_urls, where, r->version, err) < 0 ||
	    get_sha(o, r->manifest_sha256, where, r->version, err) < 0)
		return -1;
	if (get_uint(o, "length", FW_PAYLOAD_MAX * FW_MAX_PAYLOADS, &r->length, where, err) < 0 ||
	    get_uint(o, "rollback_index", FW_JSON_INT_MAX, &r->rollback_index, where, err) < 0 ||
	    get_uint(o, "generation", UINT32_MAX, &n, where, err) < 0)
		return -1;
	r->generation = (uint32_t)n;
	if (get_uint(o, "rollout", 100, &n, where, err) < 0)
		return -1;
	r->rollout = (unsigned)n;
	v = json_object_get(o, "requires_tpm");
	if (!json_is_boolean(v))
		return fw_err_set(err, FW_EXIT_REJECTED, "%s %s: requires_tpm: missing", where, r->version);
	r->requires_tpm = json_is_true(v);
	return 0;
}

int fw_catalog_parse(const char *text, size_t len, struct fw_catalog *c, struct fw_err *err)
{
	static const char *const keys[] = { "format", "format_version", "serial", "created", "created_time",
					    "expires", "expires_time", "products", NULL };
	static const char *const keys2[] = { "format", "format_version", "serial", "created", "created_time",
					     "expires", "expires_time", "products", "patches", NULL };
	json_error_t jerr;
	json_t *doc;
	const json_t *v, *products, *list, *patches;
	const char *product;
	uint64_t n;
	int rc = -1, v2;

	/* Only what is used: a device's RSS should not pay for 256 empty releases (2 MiB). */
	memset(c, 0, offsetof(struct fw_catalog, rel));
	c->n_patches = 0;
	c->n_deltas = 0;
	if (len > FW_CATALOG_MAX_BYTES)
		return fw_err_set(err, FW_EXIT_REJECTED, "larger than %d bytes", FW_CATALOG_MAX_BYTES);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "not a catalog: line %d: %s", jerr.line, jerr.text);
	if (!json_is_object(doc)) {
		fw_err_set(err, FW_EXIT_REJECTED, "not a catalog: not a JSON object");
		goto out;
	}
	v = json_object_get(doc, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), FW_CATALOG_FORMAT) != 0) {
		fw_err_set(err, FW_EXIT_REJECTED, "not a catalog: format is not \"%s\"", FW_CATALOG_FORMAT);
		goto out;
	}
	if (get_uint(doc, "format_version", 3, &n, "catalog", err) < 0 || n == 0) {
		fw_err_set(err, FW_EXIT_REJECTED, "catalog: format_version: only 1, 2 and 3 are known");
		goto out;
	}
	v2 = n >= 2 ? (int)n : 0;   /* 2 or 3: what each adds is allowed */
	if (only_keys(doc, v2 ? keys2 : keys, "catalog", err) < 0)
		goto out;
	if (get_uint(doc, "serial", FW_JSON_INT_MAX, &c->serial, "catalog", err) < 0 ||
	    get_uint(doc, "created", INT64_MAX, &n, "catalog", err) < 0)
		goto out;
	c->created = (int64_t)n;
	if (get_uint(doc, "expires", INT64_MAX, &n, "catalog", err) < 0)
		goto out;
	c->expires = (int64_t)n;
	products = json_object_get(doc, "products");
	if (!json_is_object(products)) {
		fw_err_set(err, FW_EXIT_REJECTED, "catalog: products: missing");
		goto out;
	}
	json_object_foreach((json_t *)products, product, list) {
		size_t i, j;
		const json_t *o, *deltas, *d;

		if (!fw_name_valid(product) || !json_is_array(list)) {
			fw_err_set(err, FW_EXIT_REJECTED, "catalog: products: \"%.64s\" is not a product with a list",
				   product);
			goto out;
		}
		json_array_foreach(list, i, o) {
			if (c->n == FW_CATALOG_MAX_RELEASES) {
				fw_err_set(err, FW_EXIT_REJECTED, "catalog: more than %d releases",
					   FW_CATALOG_MAX_RELEASES);
				goto out;
			}
			memset(&c->rel[c->n], 0, sizeof(c->rel[0]));
			if (parse_release(o, product, &c->rel[c->n], v2, err) < 0)
				goto out;
			deltas = json_object_get(o, "deltas");
			if (deltas != NULL && (!json_is_array(deltas) || json_array_size(deltas) == 0)) {
				fw_err_set(err, FW_EXIT_REJECTED, "products.%s %s: deltas: not a list of deltas", product,
					   c->rel[c->n].version);
				goto out;
			}
			json_array_foreach(deltas, j, d) {
				if (c->n_deltas == FW_CATALOG_MAX_DELTAS) {
					fw_err_set(err, FW_EXIT_REJECTED, "catalog: more than %d deltas",
						   FW_CATALOG_MAX_DELTAS);
					goto out;
				}
				memset(&c->delta[c->n_deltas], 0, sizeof(c->delta[0]));
				if (parse_delta(d, &c->rel[c->n], &c->delta[c->n_deltas], err) < 0)
					goto out;
				c->n_deltas++;
			}
			c->n++;
		}
	}
	if (fw_catalog_sort(c, err) < 0) {
		err->code = FW_EXIT_REJECTED;
		goto out;
	}
	patches = json_object_get(doc, "patches");
	if (patches != NULL && !json_is_object(patches)) {
		fw_err_set(err, FW_EXIT_REJECTED, "catalog: patches: not an object");
		goto out;
	}
	json_object_foreach((json_t *)patches, product, list) {
		size_t i;
		const json_t *o;

		if (!fw_name_valid(product) || !json_is_array(list)) {
			fw_err_set(err, FW_EXIT_REJECTED, "catalog: patches: \"%.64s\" is not a product with a list",
				   product);
			goto out;
		}
		json_array_foreach(list, i, o) {
			if (c->n_patches == FW_CATALOG_MAX_PATCHES) {
				fw_err_set(err, FW_EXIT_REJECTED, "catalog: more than %d patches", FW_CATALOG_MAX_PATCHES);
				goto out;
			}
			memset(&c->patch[c->n_patches], 0, sizeof(c->patch[0]));
			if (parse_patch(o, product, &c->patch[c->n_patches], err) < 0)
				goto out;
			c->n_patches++;
		}
	}
	qsort(c->patch, c->n_patches, sizeof(c->patch[0]), cmp_patch);
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

const char *fw_catalog_sig_suffix(enum sig_kind kind)
{
	return kind == SIG_KIND_CMS ? ".cms" : ".minisig";
}

int fw_catalog_verify(enum sig_kind kind, const char *text, size_t len, const char *sig, size_t sig_len,
		      const struct sig_trust *t, struct fw_catalog *c, char signer[FW_CATALOG_SIGNER_MAX],
		      struct fw_err *err)
{
	int rc;

	signer[0] = '\0';
	if (len > FW_CATALOG_MAX_BYTES)
		return fw_err_set(err, FW_EXIT_REJECTED, "larger than %d bytes", FW_CATALOG_MAX_BYTES);
	/* The one trust decision: trust store and policy, key threshold included. */
	rc = sig_accept_detached(t, kind, text, len, sig, sig_len, NULL, signer, err);
	return rc < 0 ? -1 : fw_catalog_parse(text, len, c, err);
}

int fw_catalog_check_time(const struct fw_catalog *c, int64_t now, struct fw_err *err)
{
	char when[32];

	if (now >= c->expires) {
		fw_time_iso(c->expires, when);
		return fw_err_set(err, FW_EXIT_REJECTED, "expired at %s: a server that keeps serving an old catalog "
				  "(or a clock that is wrong)", when);
	}
	if (c->created > now + CLOCK_SKEW) {
		fw_time_iso(c->created, when);
		return fw_err_set(err, FW_EXIT_REJECTED, "created in the future (%s): check the clock", when);
	}
	return 0;
}

const struct fw_release *fw_catalog_newest(const struct fw_catalog *c, const char *product)
{
	const struct fw_release *best = NULL;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->rel[i].product, product) == 0)
			best = &c->rel[i];   /* sorted: the last one is the newest */
	return best;
}

const struct fw_release *fw_catalog_find(const struct fw_catalog *c, const char *product, const char *version)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->rel[i].product, product) == 0 && strcmp(c->rel[i].version, version) == 0)
			return &c->rel[i];
	return NULL;
}

int fw_duration_parse(const char *s, int64_t *out)
{
	char *end;
	long long v;
	int64_t unit = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	if (end[0] != '\0' && end[1] != '\0')
		return -1;
	switch (end[0]) {
	case '\0': case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	if (v <= 0 || v > INT64_MAX / unit / 2)
		return -1;
	*out = v * unit;
	return 0;
}
