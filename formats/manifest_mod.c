/* manifest_mod: modification manifests: name, files, paths, modes, hooks, firmware range. */
#include "manifest.h"
#include "manifest_int.h"

#include "base/escape.h"

#include <stdio.h>
#include <string.h>

static const char *const modification_keys[] = {
	"format", "format_version", "type", "name", "version", "description", "created",
	"products", "firmware", "persistent_allowed", "files", "hooks", "removes", "sbom", NULL,
};
static const char *const firmware_range_keys[] = { "min", "max", NULL };
static const char *const hook_keys[] = { "activate", "deactivate", NULL };
static const char *const file_keys[] = {
	"path", "mode", "size", "sha256", "chunk_size", "digest", "entry", "compression", NULL,
};
static const char *const mod_roots[] = {
	"factory-config", "branding", "services", "files", "scripts", NULL,
};
static const char *const hook_names[FW_HOOK_COUNT] = {
	[FW_HOOK_ACTIVATE] = "activate",
	[FW_HOOK_DEACTIVATE] = "deactivate",
};

const char *fw_hook_name(enum fw_hook h)
{
	if ((unsigned)h >= FW_HOOK_COUNT)
		return NULL;
	return hook_names[h];
}

int fw_hook_parse(const char *s, enum fw_hook *out)
{
	int i = fw_mf_name_index(hook_names, FW_HOOK_COUNT, s);

	if (i < 0)
		return -1;
	if (out != NULL)
		*out = (enum fw_hook)i;
	return 0;
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
	if (!fw_utf8_valid(path))
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

/* Validation. */

static int check_pkg_name(const char *s, struct fw_err *err)
{
	char q[PATH_MAX_LEN];

	if (fw_pkg_name_valid(s))
		return 0;
	fw_escape_cap(s, FW_MF_SHOWN_MAX, q, sizeof(q));
	return fw_err_set(err, FW_EXIT_REJECTED,
		"manifest: \"name\" is not a valid package name (\"%s\"): it must be 1 to %d "
		"of A-Z a-z 0-9 . _ -, not starting with '.'", q, FW_PKG_NAME_MAX);
}

/*
 * A removal package removes, and does nothing else: 1 to FW_MAX_REMOVES
 * valid package names, sorted and unique, not its own name; no files, no
 * hooks, never persistent.
 */
static int check_removes(const struct fw_manifest *m, struct fw_err *err)
{
	if (m->n_removes > FW_MAX_REMOVES)
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"removes\" lists more than %d packages",
				  FW_MAX_REMOVES);
	if (m->n_files != 0 || m->n_payloads != 0 || m->hooks[FW_HOOK_ACTIVATE][0] != '\0' ||
	    m->hooks[FW_HOOK_DEACTIVATE][0] != '\0' || m->persistent_allowed)
		return fw_err_set(err, FW_EXIT_REJECTED, "manifest: a removal package (\"removes\") has no files, "
				  "no hooks and is not persistent");
	for (size_t i = 0; i < m->n_removes; i++) {
		if (check_pkg_name(m->removes[i], err) < 0)
			return fw_err_wrap(err, "removes");
		if (strcmp(m->removes[i], m->name) == 0)
			return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"removes\" names the package itself");
		if (i > 0 && strcmp(m->removes[i - 1], m->removes[i]) >= 0)
			return fw_err_set(err, FW_EXIT_REJECTED, "manifest: \"removes\" must be sorted, without repeats");
	}
	return 0;
}

static int check_mod_path(const char *field, const char *s, struct fw_err *err)
{
	const char *why = fw_mod_path_problem(s);
	char q[PATH_MAX_LEN];

	if (why == NULL)
		return 0;
	fw_escape_cap(s, FW_MF_SHOWN_MAX, q, sizeof(q));
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
		fw_escape_cap(hook, FW_MF_SHOWN_MAX, q, sizeof(q));
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

int fw_mf_validate_modification(const struct fw_manifest *m, struct fw_err *err)
{
	struct fw_version lo, hi;
	char path[PATH_MAX_LEN], q[PATH_MAX_LEN], entry[FW_NAME_MAX + 1];
	size_t i, j;

	if (check_pkg_name(m->name, err) < 0 || fw_mf_check_products(m, err) < 0)
		return -1;
	if (m->min_fw[0] != '\0' &&
	    fw_mf_check_version("firmware.min", m->min_fw, &lo, err) < 0)
		return -1;
	if (m->max_fw[0] != '\0' &&
	    fw_mf_check_version("firmware.max", m->max_fw, &hi, err) < 0)
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

	if (m->n_removes > 0) {
		if (check_removes(m, err) < 0)
			return -1;
	} else if (m->n_files == 0 || m->n_files > FW_MAX_PAYLOADS) {
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"files\" must list 1 to %d files", FW_MAX_PAYLOADS);
	}
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
			fw_escape_cap(f->path, FW_MF_SHOWN_MAX, q, sizeof(q));
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
		if (fw_mf_check_payload_size("files", i, p, err) < 0)
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
				fw_escape_cap(m->files[i].path, FW_MF_SHOWN_MAX, q, sizeof(q));
				return fw_err_set(err, FW_EXIT_REJECTED,
					"manifest: \"files[%zu].path\" \"%s\" is a file and also "
					"the directory of files[%zu]", i, q, j);
			}
		}
	}
	return check_hooks(m, err);
}

/* Parsing. */

/* A string field holding a modification path, checked before it is copied. */
static int parse_mod_path(const json_t *v, const char *path, char dst[FW_MOD_PATH_MAX + 1],
	struct fw_err *err)
{
	const char *s = NULL;

	if (fw_mf_get_string(v, path, &s, err) < 0)
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
	if (fw_mf_check_keys(t, firmware_range_keys, "firmware.", err) < 0)
		return -1;
	v = json_object_get(t, "min");
	if (v != NULL && fw_mf_parse_version_field(v, "firmware.min", m->min_fw, err) < 0)
		return -1;
	v = json_object_get(t, "max");
	if (v != NULL && fw_mf_parse_version_field(v, "firmware.max", m->max_fw, err) < 0)
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
	if (fw_mf_check_keys(t, hook_keys, "hooks.", err) < 0)
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
	if (fw_mf_check_keys(obj, file_keys, prefix, err) < 0)
		return -1;

	snprintf(path, sizeof(path), "%spath", prefix);
	if (fw_mf_need(obj, prefix, "path", &v, err) < 0 ||
	    parse_mod_path(v, path, f->path, err) < 0)
		return -1;
	f->payload = i;

	/* A string, so the octal the reader sees is the octal the writer meant. */
	snprintf(path, sizeof(path), "%smode", prefix);
	if (fw_mf_need(obj, prefix, "mode", &v, err) < 0)
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
	if (fw_mf_need(obj, prefix, "entry", &v, err) < 0 ||
	    fw_mf_get_string(v, path, &s, err) < 0)
		return -1;
	if (strcmp(s, entry) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be \"%s\"", path, entry);
	fw_mf_copy_name(p->name, entry);

	if (fw_mf_parse_payload(obj, prefix, p, err) < 0 ||
	    fw_mf_get_digest(obj, prefix, "sha256", p->sha256, err) < 0)
		return -1;
	p->has_sha256 = 1;
	return 0;
}

/* The other type's keys are refused before this, by the caller. */
int fw_mf_parse_modification(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *v, *arr;
	const char *s = NULL;
	size_t i;

	if (fw_mf_check_keys(root, modification_keys, "", err) < 0)
		return -1;

	if (fw_mf_need(root, "", "name", &v, err) < 0 ||
	    fw_mf_get_string(v, "name", &s, err) < 0 || check_pkg_name(s, err) < 0)
		return -1;
	memcpy(m->name, s, strlen(s) + 1);

	if (fw_mf_parse_common(root, m, err) < 0 || parse_firmware_range(root, m, err) < 0)
		return -1;

	if (fw_mf_need(root, "", "persistent_allowed", &v, err) < 0)
		return -1;
	if (!json_is_boolean(v))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"persistent_allowed\" must be true or false");
	m->persistent_allowed = json_is_true(v);

	if ((v = json_object_get(root, "removes")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > FW_MAX_REMOVES)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"removes\" must be an array of 1 to %d package names", FW_MAX_REMOVES);
		json_array_foreach(v, i, arr) {
			if (fw_mf_get_string(arr, "removes", &s, err) < 0 || check_pkg_name(s, err) < 0)
				return -1;
			memcpy(m->removes[i], s, strlen(s) + 1);
		}
		m->n_removes = json_array_size(v);
	}
	if (fw_mf_need(root, "", "files", &arr, err) < 0)
		return -1;
	if (!json_is_array(arr) || (json_array_size(arr) == 0 && m->n_removes == 0) ||
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

/* Emission. */

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
	bad |= json_object_set_new(o, "path", fw_mf_field_string(f->path, sizeof(f->path)));
	bad |= json_object_set_new(o, "mode",
		json_string(f->mode == FW_MOD_MODE_EXEC ? "0755" :
			f->mode == FW_MOD_MODE_PLAIN ? "0644" : "?"));
	bad |= json_object_set_new(o, "entry", fw_mf_field_string(p->name, sizeof(p->name)));
	bad |= fw_mf_payload_to_json(p, o);
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
int fw_mf_modification_to_json(const struct fw_manifest *m, json_t *root)
{
	json_t *arr, *t;
	size_t i;
	unsigned h;
	int bad = 0;

	if (fw_mf_products_to_json(m, root) < 0)
		return -1;
	bad |= json_object_set_new(root, "name", fw_mf_field_string(m->name, sizeof(m->name)));
	bad |= json_object_set_new(root, "persistent_allowed",
		json_boolean(m->persistent_allowed));
	if (!bad && m->n_removes > 0) {
		t = json_array();
		bad = json_object_set_new(root, "removes", t);
		for (i = 0; !bad && i < m->n_removes; i++)
			bad = json_array_append_new(t, fw_mf_field_string(m->removes[i], sizeof(m->removes[i])));
	}
	/* Absent rather than empty, as "transition" is. */
	if (!bad && (m->min_fw[0] != '\0' || m->max_fw[0] != '\0')) {
		t = json_object();
		bad = json_object_set_new(root, "firmware", t);
		if (!bad && m->min_fw[0] != '\0')
			bad = json_object_set_new(t, "min",
				fw_mf_field_string(m->min_fw, sizeof(m->min_fw)));
		if (!bad && m->max_fw[0] != '\0')
			bad = json_object_set_new(t, "max",
				fw_mf_field_string(m->max_fw, sizeof(m->max_fw)));
	}
	if (!bad && (m->hooks[FW_HOOK_ACTIVATE][0] != '\0' ||
		     m->hooks[FW_HOOK_DEACTIVATE][0] != '\0')) {
		t = json_object();
		bad = json_object_set_new(root, "hooks", t);
		for (h = 0; !bad && h < FW_HOOK_COUNT; h++)
			if (m->hooks[h][0] != '\0')
				bad = json_object_set_new(t, hook_names[h],
					fw_mf_field_string(m->hooks[h], sizeof(m->hooks[h])));
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

/* Checks for callers. */

/* The base name of path; 1 when it ends in FW_MOD_EXT (the name before it, *name_len bytes, may be empty), else 0. */
static int mod_file_base(const char *path, const char **base, size_t *name_len)
{
	const char *slash = strrchr(path, '/');
	size_t blen, elen = strlen(FW_MOD_EXT);

	*base = slash != NULL ? slash + 1 : path;
	blen = strlen(*base);
	if (blen < elen || strcmp(*base + blen - elen, FW_MOD_EXT) != 0)
		return 0;
	*name_len = blen - elen;
	return 1;
}

int fw_mod_name_from_path(const char *path, char name[FW_PKG_NAME_MAX + 1], struct fw_err *err)
{
	const char *base;
	size_t len;
	char shown[FW_ESCAPED_SIZE(256)];

	if (!mod_file_base(path, &base, &len))
		return fw_err_set(err, FW_EXIT_USAGE, "the file name \"%s\" does not end in %s (a package file is "
				  "named NAME%s: only its base name names the package)",
				  fw_escape(base, shown, sizeof(shown)), FW_MOD_EXT, FW_MOD_EXT);
	if (len > FW_PKG_NAME_MAX)
		return fw_err_set(err, FW_EXIT_USAGE, "the package name in \"%s\" is longer than %d characters",
				  fw_escape(base, shown, sizeof(shown)), FW_PKG_NAME_MAX);
	memcpy(name, base, len);
	name[len] = '\0';
	if (!fw_pkg_name_valid(name))
		return fw_err_set(err, FW_EXIT_USAGE, "\"%s\" is no valid package name: 1 to %d of A-Z a-z 0-9 . _ -, "
				  "not starting with '.', then %s", fw_escape(base, shown, sizeof(shown)),
				  FW_PKG_NAME_MAX, FW_MOD_EXT);
	return 0;
}

int fw_manifest_check_file_name(const struct fw_manifest *m, const char *path,
	struct fw_err *err)
{
	const char *base;
	size_t len;
	char q[PATH_MAX_LEN];

	if (m == NULL || path == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "no manifest");
	if (!mod_file_base(path, &base, &len))
		return 0;
	fw_escape_cap(base, FW_MF_SHOWN_MAX, q, sizeof(q));
	if (m->type != FW_TYPE_MODIFICATION)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"is a %s package, not a modification package, but its file name "
			"\"%s\" ends in %s", fw_pkg_type_name(m->type), q, FW_MOD_EXT);
	/* Only the base name names a package on a device: compare it whole. */
	if (len != strnlen(m->name, sizeof(m->name)) || strncmp(base, m->name, len) != 0)
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
