/* manifest: the parts both package types share, and parse, validate and emit dispatched by type. */
#include "manifest.h"
#include "manifest_int.h"

#include "base/escape.h"
#include "sbom.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const target_names[FW_TARGET_COUNT] = {
	[FW_TARGET_PRI] = "pri",
	[FW_TARGET_SEC] = "sec",
	[FW_TARGET_BOOT] = "boot",
};

const char *fw_target_name(enum fw_target t)
{
	if ((unsigned)t >= FW_TARGET_COUNT)
		return NULL;
	return target_names[t];
}

int fw_target_parse(const char *s, enum fw_target *out)
{
	int i = fw_mf_name_index(target_names, FW_TARGET_COUNT, s);

	if (i < 0)
		return -1;
	if (out != NULL)
		*out = (enum fw_target)i;
	return 0;
}

int fw_mf_name_index(const char *const *names, unsigned count, const char *s)
{
	unsigned i;

	if (s == NULL)
		return -1;
	for (i = 0; i < count; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static int any_compressed(const struct fw_manifest *m)
{
	for (size_t i = 0; i < m->n_payloads && i < FW_MAX_PAYLOADS; i++)
		if (m->payloads[i].zstd.on)
			return 1;
	return 0;
}

static int any_delta(const struct fw_manifest *m)
{
	for (size_t i = 0; i < m->n_payloads && i < FW_MAX_PAYLOADS; i++)
		if (m->payloads[i].zstd.on && m->payloads[i].zstd.base.on)
			return 1;
	return 0;
}

int fw_manifest_format_version(const struct fw_manifest *m)
{
	if (any_delta(m))
		return FW_FORMAT_VERSION_DELTA;
	if (any_compressed(m))
		return FW_FORMAT_VERSION_ZSTD;
	return m->sbom.present ? FW_FORMAT_VERSION_SBOM : FW_FORMAT_VERSION;
}

const char *fw_pkg_type_name(enum fw_pkg_type t)
{
	switch (t) {
	case FW_TYPE_FIRMWARE:
		return "firmware";
	case FW_TYPE_MODIFICATION:
		return "modification";
	}
	return "unknown";
}

int fw_name_valid(const char *s)
{
	size_t i, len;

	if (s == NULL)
		return 0;
	/* strnlen: the fixed-size name fields must not be read past their end. */
	len = strnlen(s, FW_NAME_MAX + 1);
	/* A leading '.' also rules out "." and "..", and hidden files on extraction. */
	if (len == 0 || len > FW_NAME_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

int fw_entry_name_valid(const char *s)
{
	char base[FW_NAME_MAX + 1];
	size_t len, slen = strlen(FW_CHUNKS_SUFFIX);

	if (fw_name_valid(s))
		return 1;
	len = strnlen(s, FW_NAME_MAX + slen + 1);
	if (len <= slen || len > FW_NAME_MAX + slen || strcmp(s + len - slen, FW_CHUNKS_SUFFIX) != 0)
		return 0;
	memcpy(base, s, len - slen);
	base[len - slen] = '\0';
	return fw_name_valid(base);
}

uint64_t fw_payload_chunks(const struct fw_payload *p)
{
	if (p->size == 0 || p->chunk_size == 0)
		return 0;
	/* Not (size + chunk_size - 1) / chunk_size, which could wrap for huge sizes. */
	return (p->size - 1) / p->chunk_size + 1;
}

uint64_t fw_payload_zchunks(const struct fw_payload *p)
{
	if (!p->zstd.on || p->zstd.size == 0 || p->zstd.chunk_size == 0)
		return 0;
	return (p->zstd.size - 1) / p->zstd.chunk_size + 1;
}

uint64_t fw_payload_entry_size(const struct fw_payload *p)
{
	return p->zstd.on ? p->zstd.size : p->size;
}

uint64_t fw_payload_list_size(const struct fw_payload *p)
{
	return (fw_payload_chunks(p) + fw_payload_zchunks(p)) * FW_DIGEST_LEN;
}

void fw_delta_prefix(const struct fw_payload *p, uint64_t k, uint64_t *lo, uint64_t *hi)
{
	const struct fw_delta *b = &p->zstd.base;
	uint64_t at = k * p->zstd.frame_size;

	*lo = at > b->margin ? at - b->margin : 0;
	*hi = at + p->zstd.frame_size + b->margin;
	if (*hi > b->size)
		*hi = b->size;
	if (*lo > *hi)
		*lo = *hi;
}

unsigned fw_delta_window_log(uint32_t frame_size, uint32_t margin)
{
	uint64_t need = 2 * (uint64_t)frame_size + 2 * (uint64_t)margin;
	unsigned log = FW_ZSTD_WINDOW_LOG_MIN;

	while (log < 40 && (UINT64_C(1) << log) < need)
		log++;
	return log;
}

uint32_t fw_delta_frame_max(uint32_t margin)
{
	uint32_t most = 0;

	for (uint32_t k = FW_ZSTD_FRAME_MIN; k <= FW_ZSTD_FRAME_MAX && fw_delta_window_log(k, margin) <= FW_DELTA_WINDOW_LOG_MAX;
	     k *= 2)
		most = k;
	return most;
}

uint64_t fw_payload_frames(const struct fw_payload *p)
{
	if (!p->zstd.on || p->size == 0 || p->zstd.frame_size == 0)
		return 0;
	return (p->size - 1) / p->zstd.frame_size + 1;
}

void fw_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	/* Lower case only: one spelling per digest, so signed manifests compare byte for byte. */
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int fw_unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t i;

	if (hex == NULL || strnlen(hex, 2 * len + 1) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		int hi = hex_value(hex[2 * i]);
		int lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

struct fw_manifest *fw_manifest_new(enum fw_pkg_type type)
{
	struct fw_manifest *m;

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto out;
	m->type = type;
	m->image_generation = 1;
	/* Never NULL, so readers can print it without a check. */
	m->description = strdup("");
	if (m->description == NULL) {
		free(m);
		m = NULL;
	}
out:
	return m;
}

void fw_manifest_free(struct fw_manifest *m)
{
	if (m == NULL)
		return;
	free(m->description);
	free(m);
}


/*
 * Checks shared by parse and validate. `path` names the field as it appears
 * in manifest.json ("rollback_index", "images[2].chunk_size"), so a message
 * about an in-memory manifest reads the same as one about a file.
 */

int fw_mf_range_err(const char *path, uint64_t min, uint64_t max, struct fw_err *err)
{
	if (max == UINT64_MAX || max == INT64_MAX)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be an integer >= %" PRIu64, path, min);
	return fw_err_set(err, FW_EXIT_REJECTED,
		"manifest: \"%s\" must be an integer from %" PRIu64 " to %" PRIu64,
		path, min, max);
}

int fw_mf_check_range(const char *path, uint64_t v, uint64_t min, uint64_t max,
	struct fw_err *err)
{
	if (v < min || v > max)
		return fw_mf_range_err(path, min, max, err);
	return 0;
}

int fw_mf_check_name(const char *path, const char *s, struct fw_err *err)
{
	char q[PATH_MAX_LEN];

	if (fw_name_valid(s))
		return 0;
	fw_escape_cap(s, FW_MF_SHOWN_MAX, q, sizeof(q));
	return fw_err_set(err, FW_EXIT_REJECTED,
		"manifest: \"%s\" is not a valid name (\"%s\"): it must be 1 to %d of "
		"A-Z a-z 0-9 . _ + -, not starting with '.'", path, q, FW_NAME_MAX);
}

int fw_mf_check_chunk_size(const char *path, uint64_t v, struct fw_err *err)
{
	if (v < FW_CHUNK_MIN || v > FW_CHUNK_MAX || (v & (v - 1)) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be a power of two from %u to %u",
			path, FW_CHUNK_MIN, FW_CHUNK_MAX);
	return 0;
}

int fw_mf_check_version(const char *path, const char *s, struct fw_version *out,
	struct fw_err *err)
{
	if (fw_version_parse(s, out, err) < 0)
		return fw_err_wrap(err, "manifest: \"%s\"", path);
	return 0;
}

static int check_description(const char *s, struct fw_err *err)
{
	if (s == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"description\" is missing");
	if (strnlen(s, FW_DESCRIPTION_MAX + 1) > FW_DESCRIPTION_MAX)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"description\" is longer than %d bytes", FW_DESCRIPTION_MAX);
	if (!fw_utf8_valid(s))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"description\" is not valid UTF-8");
	return 0;
}

/*
 * Rules across fields. Names, sizes and versions are checked again here
 * even after parse, because validate also guards hand-built manifests.
 */
int fw_mf_check_products(const struct fw_manifest *m, struct fw_err *err)
{
	char path[PATH_MAX_LEN];
	size_t i, j;

	if (m->n_products == 0 || m->n_products > FW_MAX_PRODUCTS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"products\" must list 1 to %d products", FW_MAX_PRODUCTS);
	for (i = 0; i < m->n_products; i++) {
		snprintf(path, sizeof(path), "products[%zu]", i);
		if (fw_mf_check_name(path, m->products[i], err) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(m->products[i], m->products[j]) == 0)
				return fw_err_set(err, FW_EXIT_REJECTED,
					"manifest: \"%s\" repeats product \"%s\"", path,
					m->products[i]);
	}
	return 0;
}

int fw_mf_check_payload_size(const char *array, size_t i, const struct fw_payload *p,
	struct fw_err *err)
{
	char path[PATH_MAX_LEN];

	snprintf(path, sizeof(path), "%s[%zu].size", array, i);
	if (fw_mf_check_range(path, p->size, 0, FW_PAYLOAD_MAX, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s[%zu].chunk_size", array, i);
	if (fw_mf_check_chunk_size(path, p->chunk_size, err) < 0)
		return -1;
	return fw_mf_check_zstd(array, i, p, err);
}

int fw_mf_check_zstd(const char *array, size_t i, const struct fw_payload *p, struct fw_err *err)
{
	const struct fw_zstd *z = &p->zstd;
	char path[PATH_MAX_LEN];

	if (!z->on)
		return 0;
	snprintf(path, sizeof(path), "%s[%zu].compression.level", array, i);
	if (fw_mf_check_range(path, (uint64_t)(z->level < 0 ? 0 : z->level), FW_ZSTD_LEVEL_MIN, FW_ZSTD_LEVEL_MAX, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s[%zu].compression.window_log", array, i);
	if (fw_mf_check_range(path, z->window_log, FW_ZSTD_WINDOW_LOG_MIN,
			      z->base.on ? FW_DELTA_WINDOW_LOG_MAX : FW_ZSTD_WINDOW_LOG_MAX, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s[%zu].compression.frame_size", array, i);
	if (fw_mf_check_range(path, z->frame_size, FW_ZSTD_FRAME_MIN, FW_ZSTD_FRAME_MAX, err) < 0)
		return -1;
	/* Frames end on image chunk boundaries: a frame boundary is a place to restart at. */
	if ((z->frame_size & (z->frame_size - 1)) != 0 || z->frame_size % p->chunk_size != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be a power of two and a multiple of the chunk size", path);
	snprintf(path, sizeof(path), "%s[%zu].compression.size", array, i);
	/* Every frame takes some bytes: an empty image has no frame at all. */
	if (fw_mf_check_range(path, z->size, p->size > 0 ? 1 : 0, p->size > 0 ? FW_PAYLOAD_MAX : 0, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s[%zu].compression.chunk_size", array, i);
	if (fw_mf_check_range(path, z->chunk_size, FW_CHUNK_MIN, FW_ZSTD_CHUNK_MAX, err) < 0)
		return -1;
	if ((z->chunk_size & (z->chunk_size - 1)) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"%s\" must be a power of two", path);
	if (!z->base.on)
		return 0;
	snprintf(path, sizeof(path), "%s[%zu].compression.base.size", array, i);
	if (fw_mf_check_range(path, z->base.size, 0, FW_PAYLOAD_MAX, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s[%zu].compression.base.chunk_size", array, i);
	if (fw_mf_check_chunk_size(path, z->base.chunk_size, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s[%zu].compression.base.margin", array, i);
	if (fw_mf_check_range(path, z->base.margin, 0, FW_DELTA_MARGIN_MAX, err) < 0)
		return -1;
	/* A delta's memory is its frame buffer and its prefix of the base, not a decoder window: the window_log
	 * the manifest declares must cover them (as mkpkg writes it), or it would say nothing of that memory. */
	if (fw_delta_window_log(z->frame_size, z->base.margin) > z->window_log)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s[%zu].compression.window_log\" is %u: a delta frame of %u bytes and its prefix "
			"(margin %u) need 2^%u", array, i, z->window_log, z->frame_size, z->base.margin,
			fw_delta_window_log(z->frame_size, z->base.margin));
	return 0;
}

/* The SBOM's declaration: what a build checked of the document, and where it is. */
static int check_sbom(const struct fw_manifest *m, struct fw_err *err)
{
	const struct fw_sbom *b = &m->sbom;

	if (!b->present)
		return 0;
	if (!fw_sbom_spec_supported(b->spec_version))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"sbom.spec_version\" must be \"1.5\" or \"1.6\"");
	if (fw_mf_check_range("sbom.size", b->size, 1, FW_SBOM_MAX, err) < 0 ||
	    fw_mf_check_range("sbom.components", b->components, 1, FW_SBOM_MAX, err) < 0)
		return -1;
	/* The entry name is the SBOM's alone: no payload (nor its chunk list) may take it. */
	for (size_t i = 0; i < m->n_payloads && i < FW_MAX_PAYLOADS; i++)
		if (strcmp(m->payloads[i].name, FW_SBOM_ENTRY) == 0)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: payload \"%s\" has the name of the SBOM entry", FW_SBOM_ENTRY);
	return 0;
}

int fw_manifest_validate(const struct fw_manifest *m, struct fw_err *err)
{
	if (m == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: no manifest");
	if (fw_mf_check_version("version", m->version, NULL, err) < 0 ||
	    check_description(m->description, err) < 0 || check_sbom(m, err) < 0)
		return -1;
	if (m->created < 0)
		return fw_mf_range_err("created", 0, INT64_MAX, err);

	switch (m->type) {
	case FW_TYPE_FIRMWARE:
		return fw_mf_validate_firmware(m, err);
	case FW_TYPE_MODIFICATION:
		/* A modification's files have no slot to hold a base: deltas are for firmware images. */
		if (any_delta(m))
			return fw_err_set(err, FW_EXIT_REJECTED, "manifest: a modification package carries no delta (\"base\")");
		return fw_mf_validate_modification(m, err);
	}
	return fw_err_set(err, FW_EXIT_REJECTED, "manifest: unknown package type %d",
		(int)m->type);
}

/* Parsing: every JSON value is type-checked before use. */

static void make_path(char *buf, size_t n, const char *prefix, const char *key)
{
	char q[PATH_MAX_LEN / 2];

	fw_escape_cap(key, FW_MF_SHOWN_MAX, q, sizeof(q));
	snprintf(buf, n, "%s%s", prefix, q);
}

/* Refuse keys a reader of this format version would silently ignore. */
int fw_mf_check_keys(const json_t *obj, const char *const *allowed, const char *prefix,
	struct fw_err *err)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)obj, key, value) {
		const char *const *a;
		char path[PATH_MAX_LEN];

		for (a = allowed; *a != NULL; a++)
			if (strcmp(key, *a) == 0)
				break;
		if (*a == NULL) {
			make_path(path, sizeof(path), prefix, key);
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: unknown key \"%s\"", path);
		}
	}
	return 0;
}

int fw_mf_need(const json_t *obj, const char *prefix, const char *key, json_t **out,
	struct fw_err *err)
{
	*out = json_object_get(obj, key);
	if (*out == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: missing required key \"%s%s\"", prefix, key);
	return 0;
}

int fw_mf_get_string(const json_t *v, const char *path, const char **out,
	struct fw_err *err)
{
	if (!json_is_string(v))
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"%s\" must be a string",
			path);
	*out = json_string_value(v);
	return 0;
}

/*
 * json_integer_value() quietly returns 0 for anything that is not an
 * integer, and a real such as 1.0 or 1e3 is no integer here: every integer
 * goes through this check.
 */
int fw_mf_get_uint(const json_t *v, const char *path, uint64_t min, uint64_t max,
	uint64_t *out, struct fw_err *err)
{
	json_int_t i;

	if (!json_is_integer(v))
		return fw_mf_range_err(path, min, max, err);
	i = json_integer_value(v);
	if (i < 0)
		return fw_mf_range_err(path, min, max, err);
	if (fw_mf_check_range(path, (uint64_t)i, min, max, err) < 0)
		return -1;
	*out = (uint64_t)i;
	return 0;
}

/* A name already checked by fw_name_valid() fits its FW_NAME_MAX + 1 field. */
void fw_mf_copy_name(char dst[FW_NAME_MAX + 1], const char *src)
{
	size_t len = strlen(src);

	memcpy(dst, src, len + 1);
}

static int parse_products(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *arr, *v;
	size_t i;
	char path[PATH_MAX_LEN];

	if (fw_mf_need(root, "", "products", &arr, err) < 0)
		return -1;
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > FW_MAX_PRODUCTS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"products\" must be an array of 1 to %d names",
			FW_MAX_PRODUCTS);
	json_array_foreach(arr, i, v) {
		const char *s = NULL;

		snprintf(path, sizeof(path), "products[%zu]", i);
		if (fw_mf_get_string(v, path, &s, err) < 0 || fw_mf_check_name(path, s, err) < 0)
			return -1;
		fw_mf_copy_name(m->products[i], s);
	}
	m->n_products = json_array_size(arr);
	return 0;
}

/* Keys of one type that the other must not carry: named so in the message. */
static const char *const firmware_only_keys[] = {
	"image_generation", "rollback_index", "requires_tpm", "transition", "images", NULL,
};
static const char *const modification_only_keys[] = {
	"name", "firmware", "persistent_allowed", "files", "hooks", NULL,
};

/* A key the other package type uses gets a message saying so, not "unknown key". */
static int check_foreign_keys(const json_t *root, const char *const *foreign,
	const char *type, const char *other, struct fw_err *err)
{
	const char *const *k;

	for (k = foreign; *k != NULL; k++)
		if (json_object_get(root, *k) != NULL)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"%s\" belongs to %s manifests, not to a %s manifest",
				*k, other, type);
	return 0;
}

/* The keys both types share, after the envelope: version, description, created, products. */
int fw_mf_parse_common(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *v;
	const char *s = NULL;
	uint64_t n;

	if (fw_mf_need(root, "", "version", &v, err) < 0 ||
	    fw_mf_get_string(v, "version", &s, err) < 0 ||
	    fw_mf_check_version("version", s, &m->ver, err) < 0)
		return -1;
	memcpy(m->version, s, strlen(s) + 1);

	v = json_object_get(root, "description");
	if (v != NULL) {
		char *d;

		if (fw_mf_get_string(v, "description", &s, err) < 0)
			return -1;
		/* Length in bytes, before strdup, so a huge string is never copied. */
		if (json_string_length(v) > FW_DESCRIPTION_MAX)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"description\" is longer than %d bytes",
				FW_DESCRIPTION_MAX);
		d = strdup(s);
		if (d == NULL)
			return fw_err_set(err, FW_EXIT_IO, "manifest: out of memory");
		free(m->description);
		m->description = d;
	}

	if (fw_mf_need(root, "", "created", &v, err) < 0 ||
	    fw_mf_get_uint(v, "created", 0, INT64_MAX, &n, err) < 0)
		return -1;
	m->created = (int64_t)n;

	return parse_products(root, m, err);
}

/* A string field holding a version ("firmware.min"), copied into a FW_VERSION_MAX_LEN + 1 field. */
int fw_mf_parse_version_field(const json_t *v, const char *path, char *dst,
	struct fw_err *err)
{
	const char *s = NULL;

	if (fw_mf_get_string(v, path, &s, err) < 0 ||
	    fw_mf_check_version(path, s, NULL, err) < 0)
		return -1;
	/* A valid version is at most FW_VERSION_MAX_LEN characters. */
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int fw_mf_get_digest(const json_t *obj, const char *prefix, const char *key,
	uint8_t out[FW_DIGEST_LEN], struct fw_err *err)
{
	char path[PATH_MAX_LEN];
	json_t *v;
	const char *s = NULL;

	snprintf(path, sizeof(path), "%s%s", prefix, key);
	if (fw_mf_need(obj, prefix, key, &v, err) < 0 || fw_mf_get_string(v, path, &s, err) < 0)
		return -1;
	if (fw_unhex(s, out, FW_DIGEST_LEN) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be %d lower-case hex digits (a SHA-256)",
			path, DIGEST_HEX_LEN);
	return 0;
}

static const char *const zstd_keys[] = {
	"algorithm", "level", "window_log", "frame_size", "size", "chunk_size", "digest", "base", NULL,
};

static const char *const base_keys[] = { "digest", "size", "chunk_size", "margin", NULL };

/* A delta's "base" inside "compression": the image its frames are decoded against. */
static int parse_base(const json_t *c, const char *zp, struct fw_delta *b, struct fw_err *err)
{
	char bp[PATH_MAX_LEN + 8], path[PATH_MAX_LEN + 32];
	const json_t *o = json_object_get(c, "base");
	json_t *v;
	uint64_t n;

	if (o == NULL)
		return 0;
	snprintf(bp, sizeof(bp), "%sbase.", zp);
	if (!json_is_object(o))
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"%sbase\" must be an object", zp);
	if (fw_mf_check_keys(o, base_keys, bp, err) < 0 || fw_mf_get_digest(o, bp, "digest", b->digest, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%ssize", bp);
	if (fw_mf_need(o, bp, "size", &v, err) < 0 || fw_mf_get_uint(v, path, 0, FW_PAYLOAD_MAX, &b->size, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%schunk_size", bp);
	if (fw_mf_need(o, bp, "chunk_size", &v, err) < 0)
		return -1;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fw_mf_check_chunk_size(path, 0, err);
	if (fw_mf_check_chunk_size(path, (uint64_t)json_integer_value(v), err) < 0)
		return -1;
	b->chunk_size = (uint32_t)json_integer_value(v);
	snprintf(path, sizeof(path), "%smargin", bp);
	if (fw_mf_need(o, bp, "margin", &v, err) < 0 || fw_mf_get_uint(v, path, 0, FW_DELTA_MARGIN_MAX, &n, err) < 0)
		return -1;
	b->margin = (uint32_t)n;
	b->on = 1;
	return 0;
}

/* The optional "compression" object of an image or a file; ranges are checked with the payload's size. */
static int parse_zstd(const json_t *obj, const char *prefix, struct fw_payload *p, struct fw_err *err)
{
	struct fw_zstd *z = &p->zstd;
	char zp[PATH_MAX_LEN], path[PATH_MAX_LEN + 16];
	const json_t *c = json_object_get(obj, "compression");
	const char *s = NULL;
	json_t *v;
	uint64_t n;

	memset(z, 0, sizeof(*z));
	if (c == NULL)
		return 0;
	snprintf(zp, sizeof(zp), "%scompression.", prefix);
	if (!json_is_object(c))
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"%scompression\" must be an object", prefix);
	if (fw_mf_check_keys(c, zstd_keys, zp, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%salgorithm", zp);
	if (fw_mf_need(c, zp, "algorithm", &v, err) < 0 || fw_mf_get_string(v, path, &s, err) < 0)
		return -1;
	if (strcmp(s, "zstd") != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"%s\" must be \"zstd\": this reader knows no other", path);
	snprintf(path, sizeof(path), "%slevel", zp);
	if (fw_mf_need(c, zp, "level", &v, err) < 0 ||
	    fw_mf_get_uint(v, path, FW_ZSTD_LEVEL_MIN, FW_ZSTD_LEVEL_MAX, &n, err) < 0)
		return -1;
	z->level = (int)n;
	if (parse_base(c, zp, &z->base, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%swindow_log", zp);
	if (fw_mf_need(c, zp, "window_log", &v, err) < 0 ||
	    fw_mf_get_uint(v, path, FW_ZSTD_WINDOW_LOG_MIN,
			   z->base.on ? FW_DELTA_WINDOW_LOG_MAX : FW_ZSTD_WINDOW_LOG_MAX, &n, err) < 0)
		return -1;
	z->window_log = (unsigned)n;
	snprintf(path, sizeof(path), "%sframe_size", zp);
	if (fw_mf_need(c, zp, "frame_size", &v, err) < 0 ||
	    fw_mf_get_uint(v, path, FW_ZSTD_FRAME_MIN, FW_ZSTD_FRAME_MAX, &n, err) < 0)
		return -1;
	z->frame_size = (uint32_t)n;
	snprintf(path, sizeof(path), "%ssize", zp);
	if (fw_mf_need(c, zp, "size", &v, err) < 0 || fw_mf_get_uint(v, path, 0, FW_PAYLOAD_MAX, &z->size, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%schunk_size", zp);
	if (fw_mf_need(c, zp, "chunk_size", &v, err) < 0 ||
	    fw_mf_get_uint(v, path, FW_CHUNK_MIN, FW_ZSTD_CHUNK_MAX, &n, err) < 0)
		return -1;
	z->chunk_size = (uint32_t)n;
	if (fw_mf_get_digest(c, zp, "digest", z->digest, err) < 0)
		return -1;
	z->on = 1;
	return 0;
}

int fw_mf_parse_payload(const json_t *obj, const char *prefix, struct fw_payload *p,
	struct fw_err *err)
{
	char path[PATH_MAX_LEN];
	json_t *v;

	snprintf(path, sizeof(path), "%ssize", prefix);
	if (fw_mf_need(obj, prefix, "size", &v, err) < 0 ||
	    fw_mf_get_uint(v, path, 0, FW_PAYLOAD_MAX, &p->size, err) < 0)
		return -1;

	snprintf(path, sizeof(path), "%schunk_size", prefix);
	if (fw_mf_need(obj, prefix, "chunk_size", &v, err) < 0)
		return -1;
	/* Not get_uint(): one message for every bad chunk size, whatever is wrong with it. */
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fw_mf_check_chunk_size(path, 0, err);
	if (fw_mf_check_chunk_size(path, (uint64_t)json_integer_value(v), err) < 0)
		return -1;
	p->chunk_size = (uint32_t)json_integer_value(v);

	if (fw_mf_get_digest(obj, prefix, "digest", p->digest, err) < 0)
		return -1;
	return parse_zstd(obj, prefix, p, err);
}

static const char *const sbom_keys[] = {
	"format", "spec_version", "components", "size", "sha256", NULL,
};

/* "sbom": { "format": "CycloneDX", "spec_version", "components", "size", "sha256" }. */
static int parse_sbom(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	struct fw_sbom *b = &m->sbom;
	json_t *o, *v;
	const char *s = NULL;

	o = json_object_get(root, "sbom");
	if (o == NULL)
		return 0;
	if (!json_is_object(o))
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"sbom\" must be an object");
	if (fw_mf_check_keys(o, sbom_keys, "sbom.", err) < 0)
		return -1;
	if (fw_mf_need(o, "sbom.", "format", &v, err) < 0 ||
	    fw_mf_get_string(v, "sbom.format", &s, err) < 0)
		return -1;
	if (strcmp(s, FW_SBOM_FORMAT) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"sbom.format\" must be \"%s\"",
			FW_SBOM_FORMAT);
	if (fw_mf_need(o, "sbom.", "spec_version", &v, err) < 0 ||
	    fw_mf_get_string(v, "sbom.spec_version", &s, err) < 0)
		return -1;
	if (!fw_sbom_spec_supported(s))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"sbom.spec_version\" must be \"1.5\" or \"1.6\"");
	memcpy(b->spec_version, s, strlen(s) + 1);
	if (fw_mf_need(o, "sbom.", "components", &v, err) < 0 ||
	    fw_mf_get_uint(v, "sbom.components", 1, FW_SBOM_MAX, &b->components, err) < 0 ||
	    fw_mf_need(o, "sbom.", "size", &v, err) < 0 ||
	    fw_mf_get_uint(v, "sbom.size", 1, FW_SBOM_MAX, &b->size, err) < 0 ||
	    fw_mf_get_digest(o, "sbom.", "sha256", b->sha256, err) < 0)
		return -1;
	b->present = 1;
	return 0;
}

int fw_manifest_parse(const void *buf, size_t len, struct fw_manifest **out,
	struct fw_err *err)
{
	struct fw_manifest *m = NULL;
	json_t *root = NULL;
	json_t *v;
	json_error_t jerr;
	const char *s = NULL;
	json_int_t format_version;
	int rc = -1;

	*out = NULL;
	/* Cap before parsing: the manifest is read before its signature is checked. */
	if (len > FW_MANIFEST_MAX) {
		fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: %zu bytes is larger than the limit of %d bytes", len,
			FW_MANIFEST_MAX);
		goto out;
	}
	if (buf == NULL || len == 0) {
		fw_err_set(err, FW_EXIT_REJECTED, "manifest: empty");
		goto out;
	}
	/* A NUL byte could make C tools and this parser read different documents. */
	if (memchr(buf, '\0', len) != NULL) {
		fw_err_set(err, FW_EXIT_REJECTED, "manifest: contains a NUL byte");
		goto out;
	}
	/* Duplicate keys would let two readers see two different manifests. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		char q[PATH_MAX_LEN];

		fw_escape_cap(jerr.text, FW_MF_SHOWN_MAX, q, sizeof(q));
		fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: invalid JSON at line %d, column %d: %s", jerr.line,
			jerr.column, q);
		goto out;
	}
	if (!json_is_object(root)) {
		fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: the top-level value must be an object");
		goto out;
	}

	/* "format" first: for some other JSON file this is the one message that helps. */
	if (fw_mf_need(root, "", "format", &v, err) < 0 ||
	    fw_mf_get_string(v, "format", &s, err) < 0)
		goto out;
	if (strcmp(s, FW_FORMAT_ID) != 0) {
		fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"format\" must be \"%s\"",
			FW_FORMAT_ID);
		goto out;
	}
	if (fw_mf_need(root, "", "format_version", &v, err) < 0)
		goto out;
	format_version = json_is_integer(v) ? json_integer_value(v) : 0;
	if (format_version != FW_FORMAT_VERSION && format_version != FW_FORMAT_VERSION_SBOM &&
	    format_version != FW_FORMAT_VERSION_ZSTD && format_version != FW_FORMAT_VERSION_DELTA) {
		fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"format_version\" must be %d, %d, %d or %d: this reader knows no other",
			FW_FORMAT_VERSION, FW_FORMAT_VERSION_SBOM, FW_FORMAT_VERSION_ZSTD, FW_FORMAT_VERSION_DELTA);
		goto out;
	}
	if (fw_mf_need(root, "", "type", &v, err) < 0 ||
	    fw_mf_get_string(v, "type", &s, err) < 0)
		goto out;

	if (strcmp(s, "firmware") == 0) {
		m = fw_manifest_new(FW_TYPE_FIRMWARE);
		if (m == NULL) {
			fw_err_set(err, FW_EXIT_IO, "manifest: out of memory");
			goto out;
		}
		if (check_foreign_keys(root, modification_only_keys, "firmware", "modification",
			err) < 0 || fw_mf_parse_firmware(root, m, err) < 0)
			goto out;
	} else if (strcmp(s, "modification") == 0) {
		m = fw_manifest_new(FW_TYPE_MODIFICATION);
		if (m == NULL) {
			fw_err_set(err, FW_EXIT_IO, "manifest: out of memory");
			goto out;
		}
		if (check_foreign_keys(root, firmware_only_keys, "modification", "firmware",
			err) < 0 || fw_mf_parse_modification(root, m, err) < 0)
			goto out;
	} else {
		fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"type\" must be \"firmware\" or \"modification\"");
		goto out;
	}

	if (parse_sbom(root, m, err) < 0)
		goto out;
	/* One spelling per package: version 3 exactly when a payload is compressed (an SBOM
	 * or not), else version 2 exactly when there is an SBOM. */
	/* Version 4 exactly when a payload is a delta: a version 3 reader refuses it by its version. */
	if (any_delta(m) != (format_version == FW_FORMAT_VERSION_DELTA)) {
		fw_err_set(err, FW_EXIT_REJECTED, any_delta(m)
			? "manifest: a delta (\"compression\" with a \"base\") needs \"format_version\" %d"
			: "manifest: \"format_version\" %d is for a package with a delta payload",
			FW_FORMAT_VERSION_DELTA);
		goto out;
	}
	if (format_version != FW_FORMAT_VERSION_DELTA && any_compressed(m) != (format_version == FW_FORMAT_VERSION_ZSTD)) {
		fw_err_set(err, FW_EXIT_REJECTED, any_compressed(m)
			? "manifest: a \"compression\" needs \"format_version\" %d"
			: "manifest: \"format_version\" %d is for a package with a compressed payload",
			FW_FORMAT_VERSION_ZSTD);
		goto out;
	}
	if (format_version < FW_FORMAT_VERSION_ZSTD && m->sbom.present != (format_version == FW_FORMAT_VERSION_SBOM)) {
		fw_err_set(err, FW_EXIT_REJECTED, m->sbom.present
			? "manifest: \"sbom\" needs \"format_version\" %d"
			: "manifest: \"format_version\" %d is for a package with an \"sbom\"",
			FW_FORMAT_VERSION_SBOM);
		goto out;
	}

	/* The rules across fields: image products, duplicate files and slots. */
	if (fw_manifest_validate(m, err) < 0)
		goto out;

	*out = m;
	m = NULL;
	rc = 0;
out:
	fw_manifest_free(m);
	json_decref(root);
	return rc;
}

/* Emission. */

/* A JSON string from a fixed-size field: a hand-built manifest may lack the NUL. */
json_t *fw_mf_field_string(const char *s, size_t size)
{
	return json_stringn(s, strnlen(s, size));
}

int fw_mf_products_to_json(const struct fw_manifest *m, json_t *root)
{
	json_t *arr;
	size_t i;
	int bad;

	arr = json_array();
	bad = json_object_set_new(root, "products", arr);
	for (i = 0; !bad && i < m->n_products && i < FW_MAX_PRODUCTS; i++)
		bad = json_array_append_new(arr,
			fw_mf_field_string(m->products[i], sizeof(m->products[i])));
	return bad ? -1 : 0;
}

int fw_mf_payload_to_json(const struct fw_payload *p, json_t *o)
{
	char hex[DIGEST_HEX_LEN + 1];
	int bad = 0;

	fw_hex(p->digest, FW_DIGEST_LEN, hex);
	bad |= json_object_set_new(o, "size", json_integer((json_int_t)p->size));
	bad |= json_object_set_new(o, "chunk_size", json_integer((json_int_t)p->chunk_size));
	bad |= json_object_set_new(o, "digest", json_string(hex));
	if (p->zstd.on) {
		json_t *c = json_object();

		fw_hex(p->zstd.digest, FW_DIGEST_LEN, hex);
		bad |= c == NULL;
		bad |= json_object_set_new(c, "algorithm", json_string("zstd"));
		bad |= json_object_set_new(c, "level", json_integer(p->zstd.level));
		bad |= json_object_set_new(c, "window_log", json_integer((json_int_t)p->zstd.window_log));
		bad |= json_object_set_new(c, "frame_size", json_integer((json_int_t)p->zstd.frame_size));
		bad |= json_object_set_new(c, "size", json_integer((json_int_t)p->zstd.size));
		bad |= json_object_set_new(c, "chunk_size", json_integer((json_int_t)p->zstd.chunk_size));
		bad |= json_object_set_new(c, "digest", json_string(hex));
		if (p->zstd.base.on) {
			json_t *b = json_object();

			fw_hex(p->zstd.base.digest, FW_DIGEST_LEN, hex);
			bad |= b == NULL;
			bad |= json_object_set_new(b, "digest", json_string(hex));
			bad |= json_object_set_new(b, "size", json_integer((json_int_t)p->zstd.base.size));
			bad |= json_object_set_new(b, "chunk_size", json_integer((json_int_t)p->zstd.base.chunk_size));
			bad |= json_object_set_new(b, "margin", json_integer((json_int_t)p->zstd.base.margin));
			bad |= json_object_set_new(c, "base", b);
		}
		bad |= json_object_set_new(o, "compression", c);
	}
	return bad;
}

static int sbom_to_json(const struct fw_sbom *b, json_t *root)
{
	char hex[DIGEST_HEX_LEN + 1];
	json_t *o = json_object();
	int bad;

	fw_hex(b->sha256, FW_DIGEST_LEN, hex);
	bad = json_object_set_new(root, "sbom", o);
	if (bad)
		return -1;
	bad |= json_object_set_new(o, "format", json_string(FW_SBOM_FORMAT));
	bad |= json_object_set_new(o, "spec_version",
		fw_mf_field_string(b->spec_version, sizeof(b->spec_version)));
	bad |= json_object_set_new(o, "components", json_integer((json_int_t)b->components));
	bad |= json_object_set_new(o, "size", json_integer((json_int_t)b->size));
	bad |= json_object_set_new(o, "sha256", json_string(hex));
	return bad ? -1 : 0;
}

json_t *fw_manifest_to_json(const struct fw_manifest *m)
{
	json_t *root = NULL;
	int bad = 0;

	if (m == NULL || (m->type != FW_TYPE_FIRMWARE && m->type != FW_TYPE_MODIFICATION))
		goto out;
	root = json_object();
	if (root == NULL)
		goto out;
	/* json_object_set_new() takes (and on failure drops) the value, even a NULL one. */
	bad |= json_object_set_new(root, "format", json_string(FW_FORMAT_ID));
	bad |= json_object_set_new(root, "format_version",
		json_integer(fw_manifest_format_version(m)));
	bad |= json_object_set_new(root, "type", json_string(fw_pkg_type_name(m->type)));
	bad |= json_object_set_new(root, "version",
		fw_mf_field_string(m->version, sizeof(m->version)));
	bad |= json_object_set_new(root, "description",
		json_string(m->description != NULL ? m->description : ""));
	bad |= json_object_set_new(root, "created", json_integer(m->created));
	if (!bad && m->sbom.present)
		bad = sbom_to_json(&m->sbom, root);
	if (bad)
		goto out;
	if (m->type == FW_TYPE_FIRMWARE)
		bad = fw_mf_firmware_to_json(m, root);
	else
		bad = fw_mf_modification_to_json(m, root);
out:
	if (bad) {
		json_decref(root);
		root = NULL;
	}
	return root;
}

int fw_manifest_emit(const struct fw_manifest *m, char **out, size_t *len,
	struct fw_err *err)
{
	json_t *root = NULL;
	char *text = NULL, *grown;
	size_t n;
	int rc = -1;

	*out = NULL;
	*len = 0;
	/* Never sign what a reader would refuse. */
	if (fw_manifest_validate(m, err) < 0)
		goto out;
	root = fw_manifest_to_json(m);
	if (root == NULL) {
		fw_err_set(err, FW_EXIT_IO, "manifest: out of memory building JSON");
		goto out;
	}
	text = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2));
	if (text == NULL) {
		fw_err_set(err, FW_EXIT_IO, "manifest: out of memory writing JSON");
		goto out;
	}
	n = strlen(text);
	if (n + 1 > FW_MANIFEST_MAX) {
		fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: %zu bytes is larger than the limit of %d bytes", n + 1,
			FW_MANIFEST_MAX);
		goto out;
	}
	grown = realloc(text, n + 2);
	if (grown == NULL) {
		fw_err_set(err, FW_EXIT_IO, "manifest: out of memory");
		goto out;
	}
	text = grown;
	text[n] = '\n';
	text[n + 1] = '\0';

	*out = text;
	*len = n + 1;
	text = NULL;
	rc = 0;
out:
	free(text);
	json_decref(root);
	return rc;
}

/* Type check for callers. */

int fw_manifest_expect_type(const struct fw_manifest *m, enum fw_pkg_type t, struct fw_err *err)
{
	if (m == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "no manifest");
	if (m->type != t)
		return fw_err_set(err, FW_EXIT_REJECTED, "is a %s package, not a %s package",
			fw_pkg_type_name(m->type), fw_pkg_type_name(t));
	return 0;
}

