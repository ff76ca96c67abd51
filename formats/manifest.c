/* manifest: strict parsing, validation and deterministic emission of manifest.json. */
#include "manifest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest integer a JSON reader using doubles (JavaScript, Python's float path) keeps exactly. */
#define ROLLBACK_INDEX_MAX (UINT64_C(1) << 53)
#define IMAGE_GENERATION_MAX 1000u
#define DIGEST_HEX_LEN (2 * FW_DIGEST_LEN)

/* Room for a JSON path such as "images[255].chunk_size" with a key quoted by printable(). */
#define PATH_MAX_LEN 320

static const char *const target_names[FW_TARGET_COUNT] = {
	[FW_TARGET_PRI] = "pri",
	[FW_TARGET_SEC] = "sec",
	[FW_TARGET_BOOT] = "boot",
};

static const char *const firmware_keys[] = {
	"format", "format_version", "type", "version", "description", "created",
	"products", "image_generation", "rollback_index", "requires_tpm",
	"transition", "images", NULL,
};
static const char *const modification_keys[] = {
	"format", "format_version", "type", "name", "version", "description", "created",
	"products", "firmware", "persistent_allowed", "files", "hooks", NULL,
};
/* Keys of one type that the other must not carry: named so in the message. */
static const char *const firmware_only_keys[] = {
	"image_generation", "rollback_index", "requires_tpm", "transition", "images", NULL,
};
static const char *const modification_only_keys[] = {
	"name", "firmware", "persistent_allowed", "files", "hooks", NULL,
};
static const char *const firmware_range_keys[] = { "min", "max", NULL };
static const char *const hook_keys[] = { "activate", "deactivate", NULL };
static const char *const file_keys[] = {
	"path", "mode", "size", "sha256", "chunk_size", "digest", "entry", NULL,
};
static const char *const mod_roots[] = {
	"factory-config", "branding", "services", "files", "scripts", NULL,
};
static const char *const hook_names[FW_HOOK_COUNT] = {
	[FW_HOOK_ACTIVATE] = "activate",
	[FW_HOOK_DEACTIVATE] = "deactivate",
};
static const char *const transition_keys[] = { "bridge_from", "bridge_down", NULL };
static const char *const image_keys[] = {
	"target", "product", "file", "size", "chunk_size", "digest", NULL,
};

const char *fw_target_name(enum fw_target t)
{
	if ((unsigned)t >= FW_TARGET_COUNT)
		return NULL;
	return target_names[t];
}

int fw_target_parse(const char *s, enum fw_target *out)
{
	unsigned i;

	if (s == NULL)
		return -1;
	for (i = 0; i < FW_TARGET_COUNT; i++) {
		if (strcmp(s, target_names[i]) == 0) {
			if (out != NULL)
				*out = (enum fw_target)i;
			return 0;
		}
	}
	return -1;
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

const char *fw_hook_name(enum fw_hook h)
{
	if ((unsigned)h >= FW_HOOK_COUNT)
		return NULL;
	return hook_names[h];
}

int fw_hook_parse(const char *s, enum fw_hook *out)
{
	unsigned i;

	if (s == NULL)
		return -1;
	for (i = 0; i < FW_HOOK_COUNT; i++) {
		if (strcmp(s, hook_names[i]) == 0) {
			if (out != NULL)
				*out = (enum fw_hook)i;
			return 0;
		}
	}
	return -1;
}

int fw_pkg_name_valid(const char *s)
{
	size_t i, len;

	if (s == NULL)
		return 0;
	len = strnlen(s, FW_PKG_NAME_MAX + 1);
	/* No '+' (unlike payload names): the name is typed on a device's CLI. */
	if (len == 0 || len > FW_PKG_NAME_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

void fw_mod_entry_name(size_t index, char out[FW_NAME_MAX + 1])
{
	snprintf(out, FW_NAME_MAX + 1, FW_MOD_ENTRY_FMT, index + 1);
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

uint64_t fw_payload_chunks(const struct fw_payload *p)
{
	if (p->size == 0 || p->chunk_size == 0)
		return 0;
	/* Not (size + chunk_size - 1) / chunk_size, which could wrap for huge sizes. */
	return (p->size - 1) / p->chunk_size + 1;
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
 * Copy `s` (at most 64 bytes of it) into `out`, writing every byte that is not
 * printable ASCII, and backslashes, as \xNN: keys and names come from
 * untrusted packages and the message ends up on a terminal.
 */
static void printable(const char *s, char *out, size_t outsz)
{
	size_t o = 0, n = 0;

	for (; *s != '\0' && o + 8 < outsz; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (n == 64) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), as JSON needs. */
static int utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s != '\0') {
		unsigned char c = *s;
		uint32_t cp;
		int n, i;

		if (c < 0x80) {
			s++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

const char *fw_mod_path_problem(const char *path)
{
	const unsigned char *p;
	const char *comp, *slash;
	size_t len, i;

	if (path == NULL || path[0] == '\0')
		return "is empty";
	len = strnlen(path, FW_MOD_PATH_MAX + 1);
	if (len > FW_MOD_PATH_MAX)
		return "is longer than 255 bytes";
	if (path[0] == '/')
		return "is absolute (starts with '/')";
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return "contains a control character";
		if (*p == '\\')
			return "contains a backslash";
	}
	if (!utf8_valid(path))
		return "is not valid UTF-8";
	/* Every component, so "a/../b" and "a//b" are refused as well as "../b". */
	for (comp = path;; comp = slash + 1) {
		slash = strchr(comp, '/');
		len = slash != NULL ? (size_t)(slash - comp) : strlen(comp);
		if (len == 0)
			return "has an empty component";
		if ((len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.'))
			return "has a '.' or '..' component";
		if (slash == NULL)
			break;
	}
	slash = strchr(path, '/');
	for (i = 0; mod_roots[i] != NULL; i++)
		if (slash != NULL && strlen(mod_roots[i]) == (size_t)(slash - path) &&
		    strncmp(path, mod_roots[i], (size_t)(slash - path)) == 0)
			return NULL;
	if (slash == NULL)
		for (i = 0; mod_roots[i] != NULL; i++)
			if (strcmp(path, mod_roots[i]) == 0)
				return "names a root directory, not a file in it";
	return "is not under factory-config/, branding/, services/, files/ or scripts/";
}

/*
 * Checks shared by parse and validate. `path` names the field as it appears
 * in manifest.json ("rollback_index", "images[2].chunk_size"), so a message
 * about an in-memory manifest reads the same as one about a file.
 */

static int range_err(const char *path, uint64_t min, uint64_t max, struct fw_err *err)
{
	if (max == UINT64_MAX || max == INT64_MAX)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be an integer >= %" PRIu64, path, min);
	return fw_err_set(err, FW_EXIT_REJECTED,
		"manifest: \"%s\" must be an integer from %" PRIu64 " to %" PRIu64,
		path, min, max);
}

static int check_range(const char *path, uint64_t v, uint64_t min, uint64_t max,
	struct fw_err *err)
{
	if (v < min || v > max)
		return range_err(path, min, max, err);
	return 0;
}

static int check_name(const char *path, const char *s, struct fw_err *err)
{
	char q[PATH_MAX_LEN];

	if (fw_name_valid(s))
		return 0;
	printable(s, q, sizeof(q));
	return fw_err_set(err, FW_EXIT_REJECTED,
		"manifest: \"%s\" is not a valid name (\"%s\"): it must be 1 to %d of "
		"A-Z a-z 0-9 . _ + -, not starting with '.'", path, q, FW_NAME_MAX);
}

static int check_payload_name(const char *path, const char *s, struct fw_err *err)
{
	size_t len, slen = strlen(FW_CHUNKS_SUFFIX);

	if (check_name(path, s, err) < 0)
		return -1;
	/* "X.chunks" is the container entry holding payload X's chunk digests. */
	len = strlen(s);
	if (len >= slen && strcmp(s + len - slen, FW_CHUNKS_SUFFIX) == 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must not end in \"%s\" (\"%s\")", path,
			FW_CHUNKS_SUFFIX, s);
	return 0;
}

static int check_chunk_size(const char *path, uint64_t v, struct fw_err *err)
{
	if (v < FW_CHUNK_MIN || v > FW_CHUNK_MAX || (v & (v - 1)) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be a power of two from %u to %u",
			path, FW_CHUNK_MIN, FW_CHUNK_MAX);
	return 0;
}

static int check_version(const char *path, const char *s, struct fw_version *out,
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
	if (!utf8_valid(s))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"description\" is not valid UTF-8");
	return 0;
}

/*
 * Rules across fields. Names, sizes and versions are checked again here
 * even after parse, because validate also guards hand-built manifests.
 */
static int check_products(const struct fw_manifest *m, struct fw_err *err)
{
	char path[PATH_MAX_LEN];
	size_t i, j;

	if (m->n_products == 0 || m->n_products > FW_MAX_PRODUCTS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"products\" must list 1 to %d products", FW_MAX_PRODUCTS);
	for (i = 0; i < m->n_products; i++) {
		snprintf(path, sizeof(path), "products[%zu]", i);
		if (check_name(path, m->products[i], err) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(m->products[i], m->products[j]) == 0)
				return fw_err_set(err, FW_EXIT_REJECTED,
					"manifest: \"%s\" repeats product \"%s\"", path,
					m->products[i]);
	}
	return 0;
}

static int validate_firmware(const struct fw_manifest *m, struct fw_err *err)
{
	char path[PATH_MAX_LEN];
	size_t i, j;

	if (check_products(m, err) < 0)
		return -1;
	if (m->name[0] != '\0' || m->min_fw[0] != '\0' || m->max_fw[0] != '\0' ||
	    m->persistent_allowed != 0 || m->n_files != 0 || m->hooks[FW_HOOK_ACTIVATE][0] != '\0' ||
	    m->hooks[FW_HOOK_DEACTIVATE][0] != '\0')
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: a firmware manifest has no name, firmware range, "
			"persistent_allowed, files or hooks");

	if (check_range("image_generation", m->image_generation, 1,
			IMAGE_GENERATION_MAX, err) < 0 ||
	    check_range("rollback_index", m->rollback_index, 0,
			ROLLBACK_INDEX_MAX, err) < 0)
		return -1;
	if (m->requires_tpm != 0 && m->requires_tpm != 1)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"requires_tpm\" must be true or false");
	if (m->bridge_from[0] != '\0' &&
	    check_version("transition.bridge_from", m->bridge_from, NULL, err) < 0)
		return -1;
	if (m->bridge_down[0] != '\0' &&
	    check_version("transition.bridge_down", m->bridge_down, NULL, err) < 0)
		return -1;

	if (m->n_images == 0 || m->n_images > FW_MAX_PAYLOADS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"images\" must list 1 to %d images", FW_MAX_PAYLOADS);
	/* Format version 1 carries each image and its payload in one "images" entry. */
	if (m->n_payloads != m->n_images)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: a firmware manifest needs one payload per image "
			"(%zu images, %zu payloads)", m->n_images, m->n_payloads);

	for (i = 0; i < m->n_images; i++) {
		const struct fw_image *im = &m->images[i];
		const struct fw_payload *p = &m->payloads[i];

		if (im->payload != i)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: images[%zu] must use payload %zu, not %zu", i, i,
				im->payload);
		snprintf(path, sizeof(path), "images[%zu].target", i);
		if (fw_target_name(im->target) == NULL)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"%s\" must be \"pri\", \"sec\" or \"boot\"", path);

		snprintf(path, sizeof(path), "images[%zu].product", i);
		if (check_name(path, im->product, err) < 0)
			return -1;
		for (j = 0; j < m->n_products; j++)
			if (strcmp(im->product, m->products[j]) == 0)
				break;
		if (j == m->n_products)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"%s\" is \"%s\", which is not in \"products\"", path,
				im->product);

		snprintf(path, sizeof(path), "images[%zu].file", i);
		if (check_payload_name(path, p->name, err) < 0)
			return -1;
		snprintf(path, sizeof(path), "images[%zu].size", i);
		if (check_range(path, p->size, 0, FW_PAYLOAD_MAX, err) < 0)
			return -1;
		snprintf(path, sizeof(path), "images[%zu].chunk_size", i);
		if (check_chunk_size(path, p->chunk_size, err) < 0)
			return -1;

		for (j = 0; j < i; j++) {
			if (strcmp(p->name, m->payloads[j].name) == 0)
				return fw_err_set(err, FW_EXIT_REJECTED,
					"manifest: \"images[%zu].file\" repeats \"%s\" "
					"of images[%zu]", i, p->name, j);
			/* A slot takes one image; two would make the install order decide. */
			if (im->target == m->images[j].target &&
			    strcmp(im->product, m->images[j].product) == 0)
				return fw_err_set(err, FW_EXIT_REJECTED,
					"manifest: images[%zu] and images[%zu] both have "
					"\"product\" \"%s\" and \"target\" \"%s\"", j, i,
					im->product, fw_target_name(im->target));
		}
	}
	return 0;
}

static int check_pkg_name(const char *s, struct fw_err *err)
{
	char q[PATH_MAX_LEN];

	if (fw_pkg_name_valid(s))
		return 0;
	printable(s, q, sizeof(q));
	return fw_err_set(err, FW_EXIT_REJECTED,
		"manifest: \"name\" is not a valid package name (\"%s\"): it must be 1 to %d "
		"of A-Z a-z 0-9 . _ -, not starting with '.'", q, FW_PKG_NAME_MAX);
}

static int check_mod_path(const char *field, const char *s, struct fw_err *err)
{
	const char *why = fw_mod_path_problem(s);
	char q[PATH_MAX_LEN];

	if (why == NULL)
		return 0;
	printable(s, q, sizeof(q));
	return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"%s\" \"%s\" %s", field, q, why);
}

static int check_mode(const char *field, unsigned mode, struct fw_err *err)
{
	if (mode != FW_MOD_MODE_PLAIN && mode != FW_MOD_MODE_EXEC)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be \"0644\" or \"0755\"", field);
	return 0;
}

/* The hooks name listed executables under scripts/. */
static int check_hooks(const struct fw_manifest *m, struct fw_err *err)
{
	char path[PATH_MAX_LEN], q[PATH_MAX_LEN];
	unsigned h;
	size_t j;

	for (h = 0; h < FW_HOOK_COUNT; h++) {
		const char *hook = m->hooks[h];

		if (strnlen(hook, sizeof(m->hooks[h])) == sizeof(m->hooks[h]))
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"hooks.%s\" is too long", hook_names[h]);
		if (hook[0] == '\0')
			continue;
		snprintf(path, sizeof(path), "hooks.%s", hook_names[h]);
		if (check_mod_path(path, hook, err) < 0)
			return -1;
		printable(hook, q, sizeof(q));
		if (strncmp(hook, "scripts/", 8) != 0)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"%s\" \"%s\" is not under scripts/", path, q);
		for (j = 0; j < m->n_files && j < FW_MAX_PAYLOADS; j++)
			if (strcmp(hook, m->files[j].path) == 0)
				break;
		if (j == m->n_files || j == FW_MAX_PAYLOADS)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"%s\" \"%s\" is not one of the package's files", path, q);
		if (m->files[j].mode != FW_MOD_MODE_EXEC)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"%s\" \"%s\" must have mode 0755", path, q);
	}
	return 0;
}

static int validate_modification(const struct fw_manifest *m, struct fw_err *err)
{
	struct fw_version lo, hi;
	char path[PATH_MAX_LEN], q[PATH_MAX_LEN], entry[FW_NAME_MAX + 1];
	size_t i, j;

	if (check_pkg_name(m->name, err) < 0 || check_products(m, err) < 0)
		return -1;
	if (m->min_fw[0] != '\0' && check_version("firmware.min", m->min_fw, &lo, err) < 0)
		return -1;
	if (m->max_fw[0] != '\0' && check_version("firmware.max", m->max_fw, &hi, err) < 0)
		return -1;
	if (m->min_fw[0] != '\0' && m->max_fw[0] != '\0' && fw_version_cmp(&lo, &hi) > 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"firmware.min\" %s is above \"firmware.max\" %s",
			m->min_fw, m->max_fw);
	if (m->persistent_allowed != 0 && m->persistent_allowed != 1)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"persistent_allowed\" must be true or false");
	if (m->n_images != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: a modification manifest has no \"images\"");

	if (m->n_files == 0 || m->n_files > FW_MAX_PAYLOADS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"files\" must list 1 to %d files", FW_MAX_PAYLOADS);
	if (m->n_payloads != m->n_files)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: a modification manifest needs one payload per file "
			"(%zu files, %zu payloads)", m->n_files, m->n_payloads);

	for (i = 0; i < m->n_files; i++) {
		const struct fw_mod_file *f = &m->files[i];
		const struct fw_payload *p = &m->payloads[i];

		if (f->payload != i)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: files[%zu] must use payload %zu, not %zu", i, i, f->payload);
		if (strnlen(f->path, sizeof(f->path)) == sizeof(f->path))
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"files[%zu].path\" is too long", i);
		snprintf(path, sizeof(path), "files[%zu].path", i);
		if (check_mod_path(path, f->path, err) < 0)
			return -1;
		/* Sorted without repeats: one order, so one manifest, per tree. */
		if (i > 0 && strcmp(m->files[i - 1].path, f->path) >= 0) {
			printable(f->path, q, sizeof(q));
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"%s\" \"%s\" is a repeat or out of order (files "
				"are sorted by path, byte by byte)", path, q);
		}
		snprintf(path, sizeof(path), "files[%zu].mode", i);
		if (check_mode(path, f->mode, err) < 0)
			return -1;
		fw_mod_entry_name(i, entry);
		if (strncmp(p->name, entry, sizeof(p->name)) != 0)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"files[%zu].entry\" must be \"%s\"", i, entry);
		snprintf(path, sizeof(path), "files[%zu].size", i);
		if (check_range(path, p->size, 0, FW_PAYLOAD_MAX, err) < 0)
			return -1;
		snprintf(path, sizeof(path), "files[%zu].chunk_size", i);
		if (check_chunk_size(path, p->chunk_size, err) < 0)
			return -1;
		if (!p->has_sha256)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"files[%zu].sha256\" is missing", i);
	}
	/* A path that is another's directory could not be extracted or installed. */
	for (i = 0; i < m->n_files; i++) {
		size_t n = strlen(m->files[i].path);

		for (j = 0; j < m->n_files; j++) {
			if (strncmp(m->files[j].path, m->files[i].path, n) == 0 &&
			    m->files[j].path[n] == '/') {
				printable(m->files[i].path, q, sizeof(q));
				return fw_err_set(err, FW_EXIT_REJECTED,
					"manifest: \"files[%zu].path\" \"%s\" is a file and also "
					"the directory of files[%zu]", i, q, j);
			}
		}
	}
	return check_hooks(m, err);
}

int fw_manifest_validate(const struct fw_manifest *m, struct fw_err *err)
{
	if (m == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: no manifest");
	if (check_version("version", m->version, NULL, err) < 0 ||
	    check_description(m->description, err) < 0)
		return -1;
	if (m->created < 0)
		return range_err("created", 0, INT64_MAX, err);

	switch (m->type) {
	case FW_TYPE_FIRMWARE:
		return validate_firmware(m, err);
	case FW_TYPE_MODIFICATION:
		return validate_modification(m, err);
	}
	return fw_err_set(err, FW_EXIT_REJECTED, "manifest: unknown package type %d",
		(int)m->type);
}

/* Parsing: every JSON value is type-checked before use. */

static void make_path(char *buf, size_t n, const char *prefix, const char *key)
{
	char q[PATH_MAX_LEN / 2];

	printable(key, q, sizeof(q));
	snprintf(buf, n, "%s%s", prefix, q);
}

/* Refuse keys a reader of this format version would silently ignore. */
static int check_keys(const json_t *obj, const char *const *allowed, const char *prefix,
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

static int need(const json_t *obj, const char *prefix, const char *key, json_t **out,
	struct fw_err *err)
{
	*out = json_object_get(obj, key);
	if (*out == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: missing required key \"%s%s\"", prefix, key);
	return 0;
}

static int get_string(const json_t *v, const char *path, const char **out,
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
static int get_uint(const json_t *v, const char *path, uint64_t min, uint64_t max,
	uint64_t *out, struct fw_err *err)
{
	json_int_t i;

	if (!json_is_integer(v))
		return range_err(path, min, max, err);
	i = json_integer_value(v);
	if (i < 0)
		return range_err(path, min, max, err);
	if (check_range(path, (uint64_t)i, min, max, err) < 0)
		return -1;
	*out = (uint64_t)i;
	return 0;
}

/* A name already checked by fw_name_valid() fits its FW_NAME_MAX + 1 field. */
static void copy_name(char dst[FW_NAME_MAX + 1], const char *src)
{
	size_t len = strlen(src);

	memcpy(dst, src, len + 1);
}

static int parse_products(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *arr, *v;
	size_t i;
	char path[PATH_MAX_LEN];

	if (need(root, "", "products", &arr, err) < 0)
		return -1;
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > FW_MAX_PRODUCTS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"products\" must be an array of 1 to %d names",
			FW_MAX_PRODUCTS);
	json_array_foreach(arr, i, v) {
		const char *s = NULL;

		snprintf(path, sizeof(path), "products[%zu]", i);
		if (get_string(v, path, &s, err) < 0 || check_name(path, s, err) < 0)
			return -1;
		copy_name(m->products[i], s);
	}
	m->n_products = json_array_size(arr);
	return 0;
}

static int parse_transition(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *t, *v;
	const char *s = NULL;

	t = json_object_get(root, "transition");
	if (t == NULL)
		return 0;
	if (!json_is_object(t))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"transition\" must be an object");
	if (check_keys(t, transition_keys, "transition.", err) < 0)
		return -1;

	v = json_object_get(t, "bridge_from");
	if (v != NULL) {
		if (get_string(v, "transition.bridge_from", &s, err) < 0 ||
		    check_version("transition.bridge_from", s, NULL, err) < 0)
			return -1;
		/* A valid version is at most FW_VERSION_MAX_LEN characters. */
		memcpy(m->bridge_from, s, strlen(s) + 1);
	}
	v = json_object_get(t, "bridge_down");
	if (v != NULL) {
		if (get_string(v, "transition.bridge_down", &s, err) < 0 ||
		    check_version("transition.bridge_down", s, NULL, err) < 0)
			return -1;
		memcpy(m->bridge_down, s, strlen(s) + 1);
	}
	return 0;
}

static int parse_image(const json_t *obj, size_t i, struct fw_manifest *m,
	struct fw_err *err)
{
	struct fw_image *im = &m->images[i];
	struct fw_payload *p = &m->payloads[i];
	char prefix[32], path[PATH_MAX_LEN];
	json_t *v;
	const char *s = NULL;

	snprintf(prefix, sizeof(prefix), "images[%zu].", i);
	if (!json_is_object(obj))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"images[%zu]\" must be an object", i);
	if (check_keys(obj, image_keys, prefix, err) < 0)
		return -1;

	snprintf(path, sizeof(path), "%starget", prefix);
	if (need(obj, prefix, "target", &v, err) < 0 || get_string(v, path, &s, err) < 0)
		return -1;
	if (fw_target_parse(s, &im->target) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be \"pri\", \"sec\" or \"boot\"", path);

	snprintf(path, sizeof(path), "%sproduct", prefix);
	if (need(obj, prefix, "product", &v, err) < 0 || get_string(v, path, &s, err) < 0 ||
	    check_name(path, s, err) < 0)
		return -1;
	copy_name(im->product, s);
	im->payload = i;

	snprintf(path, sizeof(path), "%sfile", prefix);
	if (need(obj, prefix, "file", &v, err) < 0 || get_string(v, path, &s, err) < 0 ||
	    check_payload_name(path, s, err) < 0)
		return -1;
	copy_name(p->name, s);

	snprintf(path, sizeof(path), "%ssize", prefix);
	if (need(obj, prefix, "size", &v, err) < 0 ||
	    get_uint(v, path, 0, FW_PAYLOAD_MAX, &p->size, err) < 0)
		return -1;

	snprintf(path, sizeof(path), "%schunk_size", prefix);
	if (need(obj, prefix, "chunk_size", &v, err) < 0)
		return -1;
	/* Not get_uint(): one message for every bad chunk size, whatever is wrong with it. */
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return check_chunk_size(path, 0, err);
	if (check_chunk_size(path, (uint64_t)json_integer_value(v), err) < 0)
		return -1;
	p->chunk_size = (uint32_t)json_integer_value(v);

	snprintf(path, sizeof(path), "%sdigest", prefix);
	if (need(obj, prefix, "digest", &v, err) < 0 || get_string(v, path, &s, err) < 0)
		return -1;
	if (fw_unhex(s, p->digest, FW_DIGEST_LEN) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be %d lower-case hex digits (a SHA-256)",
			path, DIGEST_HEX_LEN);
	return 0;
}

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
static int parse_common(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *v;
	const char *s = NULL;
	uint64_t n;

	if (need(root, "", "version", &v, err) < 0 || get_string(v, "version", &s, err) < 0 ||
	    check_version("version", s, &m->ver, err) < 0)
		return -1;
	memcpy(m->version, s, strlen(s) + 1);

	v = json_object_get(root, "description");
	if (v != NULL) {
		char *d;

		if (get_string(v, "description", &s, err) < 0)
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

	if (need(root, "", "created", &v, err) < 0 ||
	    get_uint(v, "created", 0, INT64_MAX, &n, err) < 0)
		return -1;
	m->created = (int64_t)n;

	return parse_products(root, m, err);
}

static int parse_firmware(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *v, *arr;
	uint64_t n;
	size_t i;

	if (check_foreign_keys(root, modification_only_keys, "firmware", "modification", err) < 0 ||
	    check_keys(root, firmware_keys, "", err) < 0 || parse_common(root, m, err) < 0)
		return -1;

	if (need(root, "", "image_generation", &v, err) < 0 ||
	    get_uint(v, "image_generation", 1, IMAGE_GENERATION_MAX, &n, err) < 0)
		return -1;
	m->image_generation = (uint32_t)n;

	if (need(root, "", "rollback_index", &v, err) < 0 ||
	    get_uint(v, "rollback_index", 0, ROLLBACK_INDEX_MAX, &m->rollback_index, err) < 0)
		return -1;

	if (need(root, "", "requires_tpm", &v, err) < 0)
		return -1;
	if (!json_is_boolean(v))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"requires_tpm\" must be true or false");
	m->requires_tpm = json_is_true(v);

	if (parse_transition(root, m, err) < 0)
		return -1;

	if (need(root, "", "images", &arr, err) < 0)
		return -1;
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > FW_MAX_PAYLOADS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"images\" must be an array of 1 to %d objects",
			FW_MAX_PAYLOADS);
	json_array_foreach(arr, i, v) {
		if (parse_image(v, i, m, err) < 0)
			return -1;
	}
	m->n_images = m->n_payloads = json_array_size(arr);
	return 0;
}

/* A string field holding a version ("firmware.min"), copied into a FW_VERSION_MAX_LEN + 1 field. */
static int parse_version_field(const json_t *v, const char *path, char *dst, struct fw_err *err)
{
	const char *s = NULL;

	if (get_string(v, path, &s, err) < 0 || check_version(path, s, NULL, err) < 0)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* A string field holding a modification path, checked before it is copied. */
static int parse_mod_path(const json_t *v, const char *path, char dst[FW_MOD_PATH_MAX + 1],
	struct fw_err *err)
{
	const char *s = NULL;

	if (get_string(v, path, &s, err) < 0)
		return -1;
	/* A NUL inside would make C and JSON readers see different paths. */
	if (strlen(s) != json_string_length(v))
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"%s\" contains a NUL", path);
	if (check_mod_path(path, s, err) < 0)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int parse_firmware_range(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *t, *v;

	t = json_object_get(root, "firmware");
	if (t == NULL)
		return 0;
	if (!json_is_object(t) || json_object_size(t) == 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"firmware\" must be an object with \"min\", \"max\" or both");
	if (check_keys(t, firmware_range_keys, "firmware.", err) < 0)
		return -1;
	v = json_object_get(t, "min");
	if (v != NULL && parse_version_field(v, "firmware.min", m->min_fw, err) < 0)
		return -1;
	v = json_object_get(t, "max");
	if (v != NULL && parse_version_field(v, "firmware.max", m->max_fw, err) < 0)
		return -1;
	return 0;
}

static int parse_hooks(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *t, *v;
	char path[PATH_MAX_LEN];
	unsigned h;

	t = json_object_get(root, "hooks");
	if (t == NULL)
		return 0;
	if (!json_is_object(t) || json_object_size(t) == 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"hooks\" must be an object with \"activate\", "
			"\"deactivate\" or both");
	if (check_keys(t, hook_keys, "hooks.", err) < 0)
		return -1;
	for (h = 0; h < FW_HOOK_COUNT; h++) {
		v = json_object_get(t, hook_names[h]);
		snprintf(path, sizeof(path), "hooks.%s", hook_names[h]);
		if (v != NULL && parse_mod_path(v, path, m->hooks[h], err) < 0)
			return -1;
	}
	return 0;
}

static int parse_file(const json_t *obj, size_t i, struct fw_manifest *m, struct fw_err *err)
{
	struct fw_mod_file *f = &m->files[i];
	struct fw_payload *p = &m->payloads[i];
	char prefix[32], path[PATH_MAX_LEN], entry[FW_NAME_MAX + 1];
	json_t *v;
	const char *s = NULL;

	snprintf(prefix, sizeof(prefix), "files[%zu].", i);
	if (!json_is_object(obj))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"files[%zu]\" must be an object", i);
	if (check_keys(obj, file_keys, prefix, err) < 0)
		return -1;

	snprintf(path, sizeof(path), "%spath", prefix);
	if (need(obj, prefix, "path", &v, err) < 0 || parse_mod_path(v, path, f->path, err) < 0)
		return -1;
	f->payload = i;

	/* A string, so the octal the reader sees is the octal the writer meant. */
	snprintf(path, sizeof(path), "%smode", prefix);
	if (need(obj, prefix, "mode", &v, err) < 0)
		return -1;
	s = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(s, "0644") == 0)
		f->mode = FW_MOD_MODE_PLAIN;
	else if (strcmp(s, "0755") == 0)
		f->mode = FW_MOD_MODE_EXEC;
	else
		return check_mode(path, 0, err);

	snprintf(path, sizeof(path), "%sentry", prefix);
	fw_mod_entry_name(i, entry);
	if (need(obj, prefix, "entry", &v, err) < 0 || get_string(v, path, &s, err) < 0)
		return -1;
	if (strcmp(s, entry) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be \"%s\"", path, entry);
	copy_name(p->name, entry);

	snprintf(path, sizeof(path), "%ssize", prefix);
	if (need(obj, prefix, "size", &v, err) < 0 ||
	    get_uint(v, path, 0, FW_PAYLOAD_MAX, &p->size, err) < 0)
		return -1;

	snprintf(path, sizeof(path), "%schunk_size", prefix);
	if (need(obj, prefix, "chunk_size", &v, err) < 0)
		return -1;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return check_chunk_size(path, 0, err);
	if (check_chunk_size(path, (uint64_t)json_integer_value(v), err) < 0)
		return -1;
	p->chunk_size = (uint32_t)json_integer_value(v);

	snprintf(path, sizeof(path), "%sdigest", prefix);
	if (need(obj, prefix, "digest", &v, err) < 0 || get_string(v, path, &s, err) < 0)
		return -1;
	if (fw_unhex(s, p->digest, FW_DIGEST_LEN) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be %d lower-case hex digits (a SHA-256)",
			path, DIGEST_HEX_LEN);

	snprintf(path, sizeof(path), "%ssha256", prefix);
	if (need(obj, prefix, "sha256", &v, err) < 0 || get_string(v, path, &s, err) < 0)
		return -1;
	if (fw_unhex(s, p->sha256, FW_DIGEST_LEN) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be %d lower-case hex digits (a SHA-256)",
			path, DIGEST_HEX_LEN);
	p->has_sha256 = 1;
	return 0;
}

static int parse_modification(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *v, *arr;
	const char *s = NULL;
	size_t i;

	if (check_foreign_keys(root, firmware_only_keys, "modification", "firmware", err) < 0 ||
	    check_keys(root, modification_keys, "", err) < 0)
		return -1;

	if (need(root, "", "name", &v, err) < 0 || get_string(v, "name", &s, err) < 0 ||
	    check_pkg_name(s, err) < 0)
		return -1;
	memcpy(m->name, s, strlen(s) + 1);

	if (parse_common(root, m, err) < 0 || parse_firmware_range(root, m, err) < 0)
		return -1;

	if (need(root, "", "persistent_allowed", &v, err) < 0)
		return -1;
	if (!json_is_boolean(v))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"persistent_allowed\" must be true or false");
	m->persistent_allowed = json_is_true(v);

	if (need(root, "", "files", &arr, err) < 0)
		return -1;
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > FW_MAX_PAYLOADS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"files\" must be an array of 1 to %d objects", FW_MAX_PAYLOADS);
	json_array_foreach(arr, i, v) {
		if (parse_file(v, i, m, err) < 0)
			return -1;
	}
	m->n_files = m->n_payloads = json_array_size(arr);
	return parse_hooks(root, m, err);
}

int fw_manifest_parse(const void *buf, size_t len, struct fw_manifest **out,
	struct fw_err *err)
{
	struct fw_manifest *m = NULL;
	json_t *root = NULL;
	json_t *v;
	json_error_t jerr;
	const char *s = NULL;
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

		printable(jerr.text, q, sizeof(q));
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
	if (need(root, "", "format", &v, err) < 0 || get_string(v, "format", &s, err) < 0)
		goto out;
	if (strcmp(s, FW_FORMAT_ID) != 0) {
		fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"format\" must be \"%s\"",
			FW_FORMAT_ID);
		goto out;
	}
	if (need(root, "", "format_version", &v, err) < 0)
		goto out;
	if (!json_is_integer(v) || json_integer_value(v) != FW_FORMAT_VERSION) {
		fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"format_version\" must be %d: this reader knows no other",
			FW_FORMAT_VERSION);
		goto out;
	}
	if (need(root, "", "type", &v, err) < 0 || get_string(v, "type", &s, err) < 0)
		goto out;

	if (strcmp(s, "firmware") == 0) {
		m = fw_manifest_new(FW_TYPE_FIRMWARE);
		if (m == NULL) {
			fw_err_set(err, FW_EXIT_IO, "manifest: out of memory");
			goto out;
		}
		if (parse_firmware(root, m, err) < 0)
			goto out;
	} else if (strcmp(s, "modification") == 0) {
		m = fw_manifest_new(FW_TYPE_MODIFICATION);
		if (m == NULL) {
			fw_err_set(err, FW_EXIT_IO, "manifest: out of memory");
			goto out;
		}
		if (parse_modification(root, m, err) < 0)
			goto out;
	} else {
		fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"type\" must be \"firmware\" or \"modification\"");
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
static json_t *field_string(const char *s, size_t size)
{
	return json_stringn(s, strnlen(s, size));
}

static json_t *image_to_json(const struct fw_manifest *m, size_t i)
{
	const struct fw_image *im = &m->images[i];
	const struct fw_payload *p = &m->payloads[im->payload];
	char hex[DIGEST_HEX_LEN + 1];
	json_t *o;
	int bad = 0;

	o = json_object();
	if (o == NULL)
		goto out;
	fw_hex(p->digest, FW_DIGEST_LEN, hex);
	bad |= json_object_set_new(o, "target", json_string(fw_target_name(im->target)));
	bad |= json_object_set_new(o, "product", field_string(im->product, sizeof(im->product)));
	bad |= json_object_set_new(o, "file", field_string(p->name, sizeof(p->name)));
	bad |= json_object_set_new(o, "size", json_integer((json_int_t)p->size));
	bad |= json_object_set_new(o, "chunk_size", json_integer((json_int_t)p->chunk_size));
	bad |= json_object_set_new(o, "digest", json_string(hex));
	if (bad) {
		json_decref(o);
		o = NULL;
	}
out:
	return o;
}

static json_t *file_to_json(const struct fw_manifest *m, size_t i)
{
	const struct fw_mod_file *f = &m->files[i];
	const struct fw_payload *p = &m->payloads[f->payload];
	char hex[DIGEST_HEX_LEN + 1];
	json_t *o;
	int bad = 0;

	o = json_object();
	if (o == NULL)
		goto out;
	bad |= json_object_set_new(o, "path", field_string(f->path, sizeof(f->path)));
	bad |= json_object_set_new(o, "mode",
		json_string(f->mode == FW_MOD_MODE_EXEC ? "0755" : f->mode == FW_MOD_MODE_PLAIN ? "0644" : "?"));
	bad |= json_object_set_new(o, "entry", field_string(p->name, sizeof(p->name)));
	bad |= json_object_set_new(o, "size", json_integer((json_int_t)p->size));
	bad |= json_object_set_new(o, "chunk_size", json_integer((json_int_t)p->chunk_size));
	fw_hex(p->digest, FW_DIGEST_LEN, hex);
	bad |= json_object_set_new(o, "digest", json_string(hex));
	fw_hex(p->sha256, FW_DIGEST_LEN, hex);
	bad |= json_object_set_new(o, "sha256", json_string(hex));
	if (bad) {
		json_decref(o);
		o = NULL;
	}
out:
	return o;
}

/* The modification-only part of the JSON shape, added to root. */
static int modification_to_json(const struct fw_manifest *m, json_t *root)
{
	json_t *arr, *t;
	size_t i;
	unsigned h;
	int bad = 0;

	bad |= json_object_set_new(root, "name", field_string(m->name, sizeof(m->name)));
	bad |= json_object_set_new(root, "persistent_allowed",
		json_boolean(m->persistent_allowed));
	/* Absent rather than empty, as "transition" is. */
	if (!bad && (m->min_fw[0] != '\0' || m->max_fw[0] != '\0')) {
		t = json_object();
		bad = json_object_set_new(root, "firmware", t);
		if (!bad && m->min_fw[0] != '\0')
			bad = json_object_set_new(t, "min", field_string(m->min_fw, sizeof(m->min_fw)));
		if (!bad && m->max_fw[0] != '\0')
			bad = json_object_set_new(t, "max", field_string(m->max_fw, sizeof(m->max_fw)));
	}
	if (!bad && (m->hooks[FW_HOOK_ACTIVATE][0] != '\0' || m->hooks[FW_HOOK_DEACTIVATE][0] != '\0')) {
		t = json_object();
		bad = json_object_set_new(root, "hooks", t);
		for (h = 0; !bad && h < FW_HOOK_COUNT; h++)
			if (m->hooks[h][0] != '\0')
				bad = json_object_set_new(t, hook_names[h],
					field_string(m->hooks[h], sizeof(m->hooks[h])));
	}
	if (bad)
		return -1;
	arr = json_array();
	bad = json_object_set_new(root, "files", arr);
	for (i = 0; !bad && i < m->n_files && i < FW_MAX_PAYLOADS; i++) {
		if (m->files[i].payload >= FW_MAX_PAYLOADS)
			bad = -1;
		else
			bad = json_array_append_new(arr, file_to_json(m, i));
	}
	return bad ? -1 : 0;
}

json_t *fw_manifest_to_json(const struct fw_manifest *m)
{
	json_t *root = NULL, *arr, *t;
	size_t i;
	int bad = 0;

	if (m == NULL || (m->type != FW_TYPE_FIRMWARE && m->type != FW_TYPE_MODIFICATION))
		goto out;
	if (m->type == FW_TYPE_MODIFICATION) {
		root = json_object();
		if (root == NULL)
			goto out;
		bad |= json_object_set_new(root, "format", json_string(FW_FORMAT_ID));
		bad |= json_object_set_new(root, "format_version", json_integer(FW_FORMAT_VERSION));
		bad |= json_object_set_new(root, "type", json_string("modification"));
		bad |= json_object_set_new(root, "version",
			field_string(m->version, sizeof(m->version)));
		bad |= json_object_set_new(root, "description",
			json_string(m->description != NULL ? m->description : ""));
		bad |= json_object_set_new(root, "created", json_integer(m->created));
		if (bad)
			goto out;
		arr = json_array();
		bad = json_object_set_new(root, "products", arr);
		for (i = 0; !bad && i < m->n_products && i < FW_MAX_PRODUCTS; i++)
			bad = json_array_append_new(arr,
				field_string(m->products[i], sizeof(m->products[i])));
		if (!bad)
			bad = modification_to_json(m, root);
		goto out;
	}
	root = json_object();
	if (root == NULL)
		goto out;
	/* json_object_set_new() takes (and on failure drops) the value, even a NULL one. */
	bad |= json_object_set_new(root, "format", json_string(FW_FORMAT_ID));
	bad |= json_object_set_new(root, "format_version", json_integer(FW_FORMAT_VERSION));
	bad |= json_object_set_new(root, "type", json_string("firmware"));
	bad |= json_object_set_new(root, "version", field_string(m->version, sizeof(m->version)));
	bad |= json_object_set_new(root, "description",
		json_string(m->description != NULL ? m->description : ""));
	bad |= json_object_set_new(root, "created", json_integer(m->created));
	bad |= json_object_set_new(root, "image_generation",
		json_integer(m->image_generation));
	bad |= json_object_set_new(root, "rollback_index",
		json_integer((json_int_t)m->rollback_index));
	bad |= json_object_set_new(root, "requires_tpm", json_boolean(m->requires_tpm));
	if (bad)
		goto out;

	arr = json_array();
	bad = json_object_set_new(root, "products", arr);
	for (i = 0; !bad && i < m->n_products && i < FW_MAX_PRODUCTS; i++)
		bad = json_array_append_new(arr,
			field_string(m->products[i], sizeof(m->products[i])));
	if (bad)
		goto out;

	/* Absent rather than empty: a package without a transition says nothing about it. */
	if (m->bridge_from[0] != '\0' || m->bridge_down[0] != '\0') {
		t = json_object();
		bad = json_object_set_new(root, "transition", t);
		if (!bad && m->bridge_from[0] != '\0')
			bad = json_object_set_new(t, "bridge_from",
				field_string(m->bridge_from, sizeof(m->bridge_from)));
		if (!bad && m->bridge_down[0] != '\0')
			bad = json_object_set_new(t, "bridge_down",
				field_string(m->bridge_down, sizeof(m->bridge_down)));
		if (bad)
			goto out;
	}

	arr = json_array();
	bad = json_object_set_new(root, "images", arr);
	for (i = 0; !bad && i < m->n_images && i < FW_MAX_PAYLOADS; i++) {
		/* The payload index comes from the caller: keep it inside the array. */
		if (m->images[i].payload >= FW_MAX_PAYLOADS)
			bad = -1;
		else
			bad = json_array_append_new(arr, image_to_json(m, i));
	}
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

/* Type and file-name checks for callers. */

int fw_manifest_expect_type(const struct fw_manifest *m, enum fw_pkg_type t, struct fw_err *err)
{
	if (m == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "no manifest");
	if (m->type != t)
		return fw_err_set(err, FW_EXIT_REJECTED, "is a %s package, not a %s package",
			fw_pkg_type_name(m->type), fw_pkg_type_name(t));
	return 0;
}

int fw_manifest_check_file_name(const struct fw_manifest *m, const char *path,
	struct fw_err *err)
{
	const char *base, *slash;
	size_t blen, elen = strlen(FW_MOD_EXT);
	char q[PATH_MAX_LEN];

	if (m == NULL || path == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "no manifest");
	slash = strrchr(path, '/');
	base = slash != NULL ? slash + 1 : path;
	blen = strlen(base);
	if (blen < elen || strcmp(base + blen - elen, FW_MOD_EXT) != 0)
		return 0;
	printable(base, q, sizeof(q));
	if (m->type != FW_TYPE_MODIFICATION)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"is a %s package, not a modification package, but its file name "
			"\"%s\" ends in %s", fw_pkg_type_name(m->type), q, FW_MOD_EXT);
	/* Only the base name names a package on a device: compare it whole. */
	if (blen - elen != strnlen(m->name, sizeof(m->name)) ||
	    strncmp(base, m->name, blen - elen) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"package name \"%s\" does not match the file name \"%s\" "
			"(a renamed package is refused; expected \"%s%s\")", m->name, q,
			m->name, FW_MOD_EXT);
	return 0;
}

int fw_manifest_check_firmware(const struct fw_manifest *m, const char *running,
	struct fw_err *err)
{
	struct fw_version run;
	int c;

	if (m == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "no manifest");
	if (m->type != FW_TYPE_MODIFICATION)
		return 0;
	if (fw_version_parse(running, &run, err) < 0)
		return fw_err_wrap(err, "running firmware version");
	if (m->min_fw[0] != '\0') {
		c = fw_version_cmp_str(running, m->min_fw, err);
		if (c == -2)
			return -1;
		if (c < 0)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"package %s needs firmware %s or later, not %s", m->name,
				m->min_fw, running);
	}
	if (m->max_fw[0] != '\0') {
		c = fw_version_cmp_str(running, m->max_fw, err);
		if (c == -2)
			return -1;
		if (c > 0)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"package %s needs firmware %s or earlier, not %s", m->name,
				m->max_fw, running);
	}
	return 0;
}
