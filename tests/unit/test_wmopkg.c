/* test_wmopkg: modification manifests (parse, validate, emit round trip, each rejection), type and name rules, tree scan. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <jansson.h>

#include "formats/manifest.h"
#include "tests/unit/manifest_checks.h"
#include "formats/wmopkg_write.h"
#include "tests/unit/unit_main.h"

#define D0 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define D1 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define D2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static json_t *file_json(const char *path, const char *mode, const char *entry, json_int_t size)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:I, s:i, s:s, s:s}", "path", path, "mode", mode,
			      "entry", entry, "size", size, "chunk_size", 1048576, "digest", D0,
			      "sha256", D1);

	if (f == NULL)
		abort();
	return f;
}

/* A valid modification manifest with three files and both hooks. */
static json_t *valid_json(void)
{
	json_t *j;
	json_error_t e;

	j = json_pack_ex(&e, 0,
		"{s:s, s:i, s:s, s:s, s:s, s:s, s:I, s:[s,s], s:{s:s, s:s}, s:b,"
		" s:[o, o, o], s:{s:s, s:s}}",
		"format", "fwpkg", "format_version", 1, "type", "modification",
		"name", "profinet-enable_1.0", "version", "1.0.2",
		"description", "Enable Profinet", "created", (json_int_t)1700000000,
		"products", "rsp-30", "rsp-40",
		"firmware", "min", "5.22.2", "max", "5.26.0-rev0",
		"persistent_allowed", 1,
		"files",
		file_json("branding/logo.png", "0644", "file-0001", 3000000),
		file_json("scripts/activate.sh", "0755", "file-0002", 18),
		file_json("scripts/deactivate.sh", "0755", "file-0003", 0),
		"hooks", "activate", "scripts/activate.sh", "deactivate", "scripts/deactivate.sh");
	if (j == NULL) {
		fprintf(stderr, "valid_json: %s\n", e.text);
		abort();
	}
	return j;
}

static json_t *file0(json_t *j)
{
	return json_array_get(json_object_get(j, "files"), 0);
}

static void reject_file(const char *key, json_t *val, const char *needle)
{
	json_t *j = valid_json();

	json_object_set_new(file0(j), key, val);
	reject(key, j, needle);
}

static void reject_path(const char *path, const char *needle)
{
	reject_file("path", json_string(path), needle);
}

static struct fw_manifest *parse_ok(const char *what, const json_t *j)
{
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	size_t len;
	char *s = dump(j, &len);
	int rc = fw_manifest_parse(s, len, &m, &err);

	if (rc != 0)
		fprintf(stderr, "\n  %s: parse failed: %s\n", what, err.msg);
	CU_ASSERT_EQUAL(rc, 0);
	free(s);
	return m;
}

static void test_valid(void)
{
	json_t *j = valid_json();
	struct fw_manifest *m = parse_ok("valid", j);
	uint8_t d[FW_DIGEST_LEN];

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->type, FW_TYPE_MODIFICATION);
	CU_ASSERT_STRING_EQUAL(m->name, "profinet-enable_1.0");
	CU_ASSERT_STRING_EQUAL(m->version, "1.0.2");
	CU_ASSERT_STRING_EQUAL(m->description, "Enable Profinet");
	CU_ASSERT_EQUAL(m->created, 1700000000);
	CU_ASSERT_EQUAL(m->n_products, 2);
	CU_ASSERT_STRING_EQUAL(m->min_fw, "5.22.2");
	CU_ASSERT_STRING_EQUAL(m->max_fw, "5.26.0-rev0");
	CU_ASSERT_EQUAL(m->persistent_allowed, 1);
	CU_ASSERT_EQUAL(m->n_files, 3);
	CU_ASSERT_EQUAL(m->n_payloads, 3);
	CU_ASSERT_EQUAL(m->n_images, 0);
	CU_ASSERT_STRING_EQUAL(m->files[1].path, "scripts/activate.sh");
	CU_ASSERT_EQUAL(m->files[0].mode, 0644);
	CU_ASSERT_EQUAL(m->files[1].mode, 0755);
	CU_ASSERT_EQUAL(m->files[2].payload, 2);
	CU_ASSERT_STRING_EQUAL(m->payloads[0].name, "file-0001");
	CU_ASSERT_STRING_EQUAL(m->payloads[2].name, "file-0003");
	CU_ASSERT_EQUAL(m->payloads[0].size, 3000000);
	CU_ASSERT_EQUAL(m->payloads[2].size, 0);
	CU_ASSERT_EQUAL(m->payloads[1].chunk_size, 1048576);
	CU_ASSERT_EQUAL(m->payloads[1].has_sha256, 1);
	CU_ASSERT_EQUAL(fw_unhex(D1, d, sizeof(d)), 0);
	CU_ASSERT_EQUAL(memcmp(m->payloads[1].sha256, d, sizeof(d)), 0);
	CU_ASSERT_EQUAL(fw_unhex(D0, d, sizeof(d)), 0);
	CU_ASSERT_EQUAL(memcmp(m->payloads[1].digest, d, sizeof(d)), 0);
	CU_ASSERT_STRING_EQUAL(m->hooks[FW_HOOK_ACTIVATE], "scripts/activate.sh");
	CU_ASSERT_STRING_EQUAL(m->hooks[FW_HOOK_DEACTIVATE], "scripts/deactivate.sh");
	fw_manifest_free(m);
	json_decref(j);

	/* The optional keys left out. */
	j = valid_json();
	json_object_del(j, "description");
	json_object_del(j, "firmware");
	json_object_del(j, "hooks");
	json_object_set_new(j, "persistent_allowed", json_false());
	m = parse_ok("minimal", j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->description, "");
	CU_ASSERT_STRING_EQUAL(m->min_fw, "");
	CU_ASSERT_STRING_EQUAL(m->max_fw, "");
	CU_ASSERT_EQUAL(m->persistent_allowed, 0);
	CU_ASSERT_STRING_EQUAL(m->hooks[FW_HOOK_ACTIVATE], "");
	fw_manifest_free(m);
	json_decref(j);

	/* One bound alone; min == max; one hook alone; a 255-byte path; dots inside names. */
	j = valid_json();
	json_object_del(json_object_get(j, "firmware"), "max");
	json_object_del(json_object_get(j, "hooks"), "activate");
	m = parse_ok("min only", j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->max_fw, "");
	CU_ASSERT_STRING_EQUAL(m->hooks[FW_HOOK_ACTIVATE], "");
	fw_manifest_free(m);
	json_decref(j);

	j = valid_json();
	json_object_set_new(json_object_get(j, "firmware"), "max", json_string("5.22.2"));
	{
		char p[FW_MOD_PATH_MAX + 1];
		memset(p, 'a', FW_MOD_PATH_MAX);
		memcpy(p, "branding/..a/.b/", 16);
		p[FW_MOD_PATH_MAX] = '\0';
		json_object_set_new(file0(j), "path", json_string(p));
		m = parse_ok("min == max, long path", j);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL(strlen(m->files[0].path), FW_MOD_PATH_MAX);
		fw_manifest_free(m);
	}
	json_decref(j);
}

/* A modification manifest as mkwmopkg builds it: n files under files/, the first executable and the activate hook. */
static struct fw_manifest *build(size_t n)
{
	struct fw_manifest *m = fw_manifest_new(FW_TYPE_MODIFICATION);
	struct fw_err err = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	snprintf(m->name, sizeof(m->name), "brand.x_y-z");
	snprintf(m->version, sizeof(m->version), "2.0-rev3");
	CU_ASSERT_EQUAL(fw_version_parse(m->version, &m->ver, &err), 0);
	free(m->description);
	m->description = strdup("Branding \"ACME\"\n\xe2\x82\xac");
	m->created = 1712345678;
	snprintf(m->products[0], sizeof(m->products[0]), "rsp-30");
	m->n_products = 1;
	snprintf(m->max_fw, sizeof(m->max_fw), "5.26");
	m->persistent_allowed = 1;
	for (size_t i = 0; i < n; i++) {
		struct fw_mod_file *f = &m->files[i];
		struct fw_payload *p = &m->payloads[i];

		if (i == 0)
			snprintf(f->path, sizeof(f->path), "scripts/on.sh");
		else
			snprintf(f->path, sizeof(f->path), "services/s%04zu \xc3\xa9.conf", i);
		f->mode = i == 0 ? FW_MOD_MODE_EXEC : FW_MOD_MODE_PLAIN;
		f->payload = i;
		fw_mod_entry_name(i, p->name);
		p->size = i * 7919;
		p->chunk_size = FW_CHUNK_MIN << (i % 12);
		memset(p->digest, (int)i, FW_DIGEST_LEN);
		memset(p->sha256, (int)(255 - i), FW_DIGEST_LEN);
		p->has_sha256 = 1;
	}
	m->n_files = m->n_payloads = n;
	snprintf(m->hooks[FW_HOOK_ACTIVATE], sizeof(m->hooks[0]), "scripts/on.sh");
	return m;
}

static void check_equal(const struct fw_manifest *a, const struct fw_manifest *b)
{
	CU_ASSERT_EQUAL(a->type, b->type);
	CU_ASSERT_STRING_EQUAL(a->name, b->name);
	CU_ASSERT_STRING_EQUAL(a->version, b->version);
	CU_ASSERT_STRING_EQUAL(a->description, b->description);
	CU_ASSERT_EQUAL(a->created, b->created);
	CU_ASSERT_EQUAL_FATAL(a->n_products, b->n_products);
	for (size_t i = 0; i < a->n_products; i++)
		CU_ASSERT_STRING_EQUAL(a->products[i], b->products[i]);
	CU_ASSERT_STRING_EQUAL(a->min_fw, b->min_fw);
	CU_ASSERT_STRING_EQUAL(a->max_fw, b->max_fw);
	CU_ASSERT_EQUAL(a->persistent_allowed, b->persistent_allowed);
	CU_ASSERT_EQUAL_FATAL(a->n_files, b->n_files);
	CU_ASSERT_EQUAL_FATAL(a->n_payloads, b->n_payloads);
	for (size_t i = 0; i < a->n_files; i++) {
		CU_ASSERT_STRING_EQUAL(a->files[i].path, b->files[i].path);
		CU_ASSERT_EQUAL(a->files[i].mode, b->files[i].mode);
		CU_ASSERT_EQUAL(a->files[i].payload, b->files[i].payload);
		CU_ASSERT_STRING_EQUAL(a->payloads[i].name, b->payloads[i].name);
		CU_ASSERT_EQUAL(a->payloads[i].size, b->payloads[i].size);
		CU_ASSERT_EQUAL(a->payloads[i].chunk_size, b->payloads[i].chunk_size);
		CU_ASSERT_EQUAL(a->payloads[i].has_sha256, b->payloads[i].has_sha256);
		CU_ASSERT_EQUAL(memcmp(a->payloads[i].digest, b->payloads[i].digest, FW_DIGEST_LEN), 0);
		CU_ASSERT_EQUAL(memcmp(a->payloads[i].sha256, b->payloads[i].sha256, FW_DIGEST_LEN), 0);
	}
	for (unsigned h = 0; h < FW_HOOK_COUNT; h++)
		CU_ASSERT_STRING_EQUAL(a->hooks[h], b->hooks[h]);
}

static void round_trip(struct fw_manifest *m)
{
	struct fw_manifest *back = NULL;
	struct fw_err err = { 0 };
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int rc;

	rc = fw_manifest_emit(m, &a, &alen, &err);
	if (rc != 0)
		fprintf(stderr, "\n  emit: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT(alen > 0 && a[alen - 1] == '\n');
	rc = fw_manifest_parse(a, alen, &back, &err);
	if (rc != 0)
		fprintf(stderr, "\n  parse(emit): %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	check_equal(m, back);
	CU_ASSERT_EQUAL_FATAL(fw_manifest_emit(back, &b, &blen, &err), 0);
	CU_ASSERT(alen == blen && memcmp(a, b, alen) == 0);
	fw_manifest_free(back);
	free(a);
	free(b);
}

static void test_round_trip(void)
{
	struct fw_manifest *m = build(3);
	char *text = NULL;
	size_t len = 0;
	struct fw_err err = { 0 };
	json_t *j;

	round_trip(m);
	CU_ASSERT_EQUAL_FATAL(fw_manifest_emit(m, &text, &len, &err), 0);
	/* Modes as strings; no firmware keys; optional objects only when set. */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"mode\": \"0755\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"mode\": \"0644\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"entry\": \"file-0003\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"type\": \"modification\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"firmware\": {\n    \"max\": \"5.26\"\n  }"));
	CU_ASSERT_PTR_NULL(strstr(text, "\"min\""));
	CU_ASSERT_PTR_NULL(strstr(text, "deactivate"));
	CU_ASSERT_PTR_NULL(strstr(text, "image_generation"));
	CU_ASSERT_PTR_NULL(strstr(text, "requires_tpm"));
	CU_ASSERT_PTR_NULL(strstr(text, "images"));
	free(text);
	text = NULL;

	m->max_fw[0] = '\0';
	m->hooks[FW_HOOK_ACTIVATE][0] = '\0';
	m->persistent_allowed = 0;
	round_trip(m);
	CU_ASSERT_EQUAL_FATAL(fw_manifest_emit(m, &text, &len, &err), 0);
	CU_ASSERT_PTR_NULL(strstr(text, "\"firmware\""));
	CU_ASSERT_PTR_NULL(strstr(text, "\"hooks\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"persistent_allowed\": false"));
	free(text);
	fw_manifest_free(m);

	/* The most files a package holds. */
	m = build(FW_MAX_PAYLOADS);
	round_trip(m);
	j = fw_manifest_to_json(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "files")), FW_MAX_PAYLOADS);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
		json_array_get(json_object_get(j, "files"), 255), "entry")), "file-0256");
	json_decref(j);
	fw_manifest_free(m);

	/* A parsed JSON document emits as the same manifest. */
	j = valid_json();
	m = parse_ok("valid", j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	round_trip(m);
	fw_manifest_free(m);
	json_decref(j);
}

/* validate guards hand-built manifests by the same rules. */
static void test_validate(void)
{
	struct fw_manifest *m = build(3);
	struct fw_err err = { 0 };
	char *text = NULL;
	size_t len = 0;

#define BAD(field_change, restore, needle) do { \
		field_change; \
		CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1); \
		if (strstr(err.msg, needle) == NULL) \
			fprintf(stderr, "\n  validate: \"%s\", wanted \"%s\"\n", err.msg, needle); \
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle)); \
		CU_ASSERT_EQUAL(fw_manifest_emit(m, &text, &len, &err), -1); \
		CU_ASSERT_PTR_NULL(text); \
		restore; \
		CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0); \
	} while (0)

	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0);
	BAD(m->name[0] = '\0', snprintf(m->name, sizeof(m->name), "brand.x_y-z"), "\"name\"");
	BAD(m->name[0] = '+', m->name[0] = 'b', "\"name\"");
	BAD(m->payloads[1].has_sha256 = 0, m->payloads[1].has_sha256 = 1, "files[1].sha256");
	BAD(m->files[1].payload = 2, m->files[1].payload = 1, "files[1] must use payload 1");
	BAD(m->n_payloads = 2, m->n_payloads = 3, "one payload per file");
	BAD(m->n_images = 1, m->n_images = 0, "images");
	BAD(m->files[2].mode = 0600, m->files[2].mode = 0644, "files[2].mode");
	BAD(m->payloads[2].name[5] = '9', m->payloads[2].name[5] = '0', "files[2].entry");
	BAD(m->payloads[2].chunk_size = 3000, m->payloads[2].chunk_size = 4096, "files[2].chunk_size");
	BAD(m->files[1].path[0] = 'x', m->files[1].path[0] = 's', "files[1].path");
	BAD(memcpy(m->files[2].path, m->files[1].path, sizeof(m->files[1].path)),
	    snprintf(m->files[2].path, sizeof(m->files[2].path), "services/s0002 \xc3\xa9.conf"),
	    "out of order");
	BAD(snprintf(m->min_fw, sizeof(m->min_fw), "6.0"), m->min_fw[0] = '\0', "\"firmware.min\" 6.0 is above");
	BAD(snprintf(m->max_fw, sizeof(m->max_fw), "x"), snprintf(m->max_fw, sizeof(m->max_fw), "5.26"),
	    "firmware.max");
	BAD(m->persistent_allowed = 2, m->persistent_allowed = 1, "persistent_allowed");
	BAD(m->n_files = m->n_payloads = 0, m->n_files = m->n_payloads = 3, "\"files\"");
	BAD(m->n_products = 0, m->n_products = 1, "products");
	BAD(m->files[0].mode = FW_MOD_MODE_PLAIN, m->files[0].mode = FW_MOD_MODE_EXEC, "mode 0755");
	BAD(snprintf(m->hooks[FW_HOOK_DEACTIVATE], sizeof(m->hooks[0]), "scripts/off.sh"),
	    m->hooks[FW_HOOK_DEACTIVATE][0] = '\0', "not one of the package's files");
	/* A file that is also the directory of another. */
	BAD(snprintf(m->files[1].path, sizeof(m->files[1].path), "services/a");
	    snprintf(m->files[2].path, sizeof(m->files[2].path), "services/a/b"),
	    (snprintf(m->files[1].path, sizeof(m->files[1].path), "services/s0001 \xc3\xa9.conf"),
	     snprintf(m->files[2].path, sizeof(m->files[2].path), "services/s0002 \xc3\xa9.conf")),
	    "also the directory of files[2]");
	/* A firmware manifest must not carry modification fields. */
	m->type = FW_TYPE_FIRMWARE;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	m->type = FW_TYPE_MODIFICATION;
#undef BAD
	fw_manifest_free(m);
}

static void test_reject_keys(void)
{
	static const char *const required[] = {
		"format", "format_version", "type", "name", "version", "created", "products",
		"persistent_allowed", "files",
	};
	static const char *const file_required[] = {
		"path", "mode", "size", "sha256", "chunk_size", "digest", "entry",
	};
	static const char *const firmware_keys[] = {
		"image_generation", "rollback_index", "requires_tpm", "transition", "images",
	};
	char needle[128];
	json_t *j;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		j = valid_json();
		json_object_del(j, required[i]);
		snprintf(needle, sizeof(needle), "missing required key \"%s\"", required[i]);
		reject(required[i], j, needle);
	}
	for (size_t i = 0; i < sizeof(file_required) / sizeof(file_required[0]); i++) {
		j = valid_json();
		json_object_del(file0(j), file_required[i]);
		snprintf(needle, sizeof(needle), "missing required key \"files[0].%s\"", file_required[i]);
		reject(file_required[i], j, needle);
	}
	/* Firmware keys in a modification manifest, whatever their value. */
	for (size_t i = 0; i < sizeof(firmware_keys) / sizeof(firmware_keys[0]); i++) {
		snprintf(needle, sizeof(needle), "\"%s\" belongs to firmware manifests", firmware_keys[i]);
		reject_top(firmware_keys[i], json_integer(1), needle);
	}
	reject_top("extra", json_true(), "unknown key \"extra\"");
	reject_file("mtime", json_integer(0), "unknown key \"files[0].mtime\"");
	reject_file("name", json_string("file-0001"), "unknown key \"files[0].name\"");
	j = valid_json();
	json_object_set_new(json_object_get(j, "firmware"), "exact", json_string("5.22"));
	reject("firmware key", j, "unknown key \"firmware.exact\"");
	j = valid_json();
	json_object_set_new(json_object_get(j, "hooks"), "install", json_string("scripts/activate.sh"));
	reject("hook role", j, "unknown key \"hooks.install\"");
}

/* Modification keys in a firmware manifest: a valid firmware manifest plus one key. */
static void test_reject_in_firmware(void)
{
	static const char *const keys[] = { "name", "firmware", "persistent_allowed", "files", "hooks" };
	char needle[128];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *j = json_pack("{s:s, s:i, s:s, s:s, s:I, s:[s], s:i, s:i, s:b,"
				      " s:[{s:s, s:s, s:s, s:i, s:i, s:s}]}",
				      "format", "fwpkg", "format_version", 1, "type", "firmware",
				      "version", "5.22.2", "created", (json_int_t)1700000000,
				      "products", "rsp-30", "image_generation", 1, "rollback_index", 0,
				      "requires_tpm", 0, "images", "target", "pri", "product", "rsp-30",
				      "file", "rsp-30-pri.img", "size", 10, "chunk_size", 4096, "digest", D0);
		struct fw_manifest *m;

		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		m = parse_ok("firmware control", j);
		CU_ASSERT_PTR_NOT_NULL(m);
		fw_manifest_free(m);
		json_object_set_new(j, keys[i], json_string("x"));
		snprintf(needle, sizeof(needle), "\"%s\" belongs to modification manifests, not to a firmware manifest",
			 keys[i]);
		reject(keys[i], j, needle);
	}
}

static void test_reject_values(void)
{
	json_t *j, *arr;
	char long_path[FW_MOD_PATH_MAX + 2], long_name[FW_PKG_NAME_MAX + 2];

	/* name */
	reject_top("name", json_string(""), "\"name\" is not a valid package name");
	reject_top("name", json_string(".hidden"), "\"name\" is not a valid package name");
	reject_top("name", json_string("a+b"), "\"name\" is not a valid package name");
	reject_top("name", json_string("a/b"), "\"name\" is not a valid package name");
	reject_top("name", json_string("a b"), "\"name\" is not a valid package name");
	reject_top("name", json_string("a\x1b[2J"), "(\"a\\x1b[2J\")");
	reject_top("name", json_integer(1), "\"name\" must be a string");
	memset(long_name, 'n', FW_PKG_NAME_MAX + 1);
	long_name[FW_PKG_NAME_MAX + 1] = '\0';
	reject_top("name", json_string(long_name), "\"name\" is not a valid package name");

	/* firmware range */
	reject_top("firmware", json_string("5.22"), "\"firmware\" must be an object");
	reject_top("firmware", json_object(), "\"firmware\" must be an object");
	reject_top("firmware", json_pack("{s:s}", "min", "5.x"), "\"firmware.min\"");
	reject_top("firmware", json_pack("{s:i}", "max", 5), "\"firmware.max\" must be a string");
	reject_top("firmware", json_pack("{s:s, s:s}", "min", "5.26", "max", "5.22.2"),
		   "\"firmware.min\" 5.26 is above \"firmware.max\" 5.22.2");
	reject_top("firmware", json_pack("{s:s, s:s}", "min", "5.22-rev1", "max", "5.22"),
		   "is above");

	/* persistent_allowed */
	reject_top("persistent_allowed", json_integer(1), "\"persistent_allowed\" must be true or false");
	reject_top("persistent_allowed", json_string("true"), "\"persistent_allowed\" must be true or false");

	/* files */
	reject_top("files", json_array(), "\"files\" must be an array of 1 to 256");
	reject_top("files", json_object(), "\"files\" must be an array");
	arr = json_array();
	for (size_t i = 0; i <= FW_MAX_PAYLOADS; i++) {
		char p[32], e[16];
		snprintf(p, sizeof(p), "files/f%04zu", i);
		snprintf(e, sizeof(e), "file-%04zu", i + 1);
		json_array_append_new(arr, file_json(p, "0644", e, 1));
	}
	j = valid_json();
	json_object_del(j, "hooks");
	json_object_set_new(j, "files", arr);
	reject("257 files", j, "\"files\" must be an array of 1 to 256");
	j = valid_json();
	json_array_set_new(json_object_get(j, "files"), 1, json_string("scripts/activate.sh"));
	reject("file not object", j, "\"files[1]\" must be an object");

	/* paths: traversal and every other rule */
	reject_path("../x", "\"files[0].path\" \"../x\" has a '.' or '..' component");
	reject_path("files/../../etc/passwd", "has a '.' or '..' component");
	reject_path("files/..", "has a '.' or '..' component");
	reject_path("files/./x", "has a '.' or '..' component");
	reject_path("/etc/passwd", "is absolute");
	reject_path("files//x", "has an empty component");
	reject_path("files/x/", "has an empty component");
	reject_path("", "is empty");
	reject_path("files", "names a root directory");
	reject_path("etc/passwd", "is not under factory-config/, branding/, services/, files/ or scripts/");
	reject_path("Files/x", "is not under");
	reject_path("filesx/y", "is not under");
	reject_path("files\\x", "contains a backslash");
	reject_path("files/a\\..\\b", "contains a backslash");
	reject_path("files/a\nb", "contains a control character");
	reject_path("files/a\x7f", "contains a control character");
	reject_path("files/a\xc2\x85", "contains a control character");
	reject_path("files/\x1b]0;x\x07", "\"files/\\x1b]0;x\\x07\" contains a control character");
	memset(long_path, 'a', sizeof(long_path) - 1);
	memcpy(long_path, "files/", 6);
	long_path[sizeof(long_path) - 1] = '\0';
	reject_path(long_path, "is longer than 255 bytes");
	reject_file("path", json_integer(1), "\"files[0].path\" must be a string");
	/* Not valid UTF-8: the JSON parser refuses it before we see it. */
	reject_bytes("bad UTF-8", "{\"format\": \"fwpkg\", \"x\": \"\xff\"}", 29, "invalid JSON");

	/* mode */
	reject_file("mode", json_string("0600"), "\"files[0].mode\" must be \"0644\" or \"0755\"");
	reject_file("mode", json_string("0777"), "\"files[0].mode\" must be");
	reject_file("mode", json_string("644"), "\"files[0].mode\" must be");
	reject_file("mode", json_string("04755"), "\"files[0].mode\" must be");
	reject_file("mode", json_integer(420), "\"files[0].mode\" must be");

	/* entry */
	reject_file("entry", json_string("file-0002"), "\"files[0].entry\" must be \"file-0001\"");
	reject_file("entry", json_string("../file-0001"), "\"files[0].entry\" must be \"file-0001\"");
	reject_file("entry", json_string("file-1"), "must be \"file-0001\"");
	reject_file("entry", json_null(), "\"files[0].entry\" must be a string");
	j = valid_json();
	json_object_set_new(json_array_get(json_object_get(j, "files"), 2), "entry", json_string("file-0002"));
	reject("duplicate entry", j, "\"files[2].entry\" must be \"file-0003\"");

	/* size, chunk_size, digests */
	reject_file("size", json_integer(-1), "\"files[0].size\"");
	reject_file("size", json_real(1.0), "\"files[0].size\"");
	reject_file("size", json_integer((json_int_t)FW_PAYLOAD_MAX + 1), "\"files[0].size\"");
	reject_file("chunk_size", json_integer(5000), "\"files[0].chunk_size\" must be a power of two");
	reject_file("chunk_size", json_integer(2048), "\"files[0].chunk_size\" must be a power of two");
	reject_file("chunk_size", json_string("4096"), "\"files[0].chunk_size\"");
	reject_file("sha256", json_string(D0 "00"), "\"files[0].sha256\" must be 64 lower-case hex");
	reject_file("sha256", json_string("00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"),
		    "\"files[0].sha256\" must be 64");
	reject_file("sha256", json_integer(0), "\"files[0].sha256\" must be a string");
	reject_file("digest", json_string("xyz"), "\"files[0].digest\" must be 64");

	/* order and repeats */
	j = valid_json();
	json_object_set_new(file0(j), "path", json_string("services/z"));
	reject("unsorted", j, "\"files[1].path\" \"scripts/activate.sh\" is a repeat or out of order");
	j = valid_json();
	json_object_set_new(file0(j), "path", json_string("scripts/activate.sh"));
	reject("repeat", j, "\"files[1].path\" \"scripts/activate.sh\" is a repeat");
	j = valid_json();
	json_object_set_new(file0(j), "path", json_string("scripts"));
	reject("root as file", j, "names a root directory");
	j = valid_json();
	json_object_set_new(file0(j), "path", json_string("scripts/activate.sh/x"));
	json_object_set_new(json_array_get(json_object_get(j, "files"), 1), "path",
			    json_string("scripts/activate.sh/y"));
	json_object_del(j, "hooks");
	json_object_set_new(json_array_get(json_object_get(j, "files"), 2), "path",
			    json_string("scripts/activate.sh"));
	reject("file is a directory", j, "out of order");
	j = valid_json();
	json_object_set_new(json_array_get(json_object_get(j, "files"), 1), "path",
			    json_string("branding/logo.png/x"));
	json_object_del(j, "hooks");
	reject("file and directory", j, "\"files[0].path\" \"branding/logo.png\" is a file and also the directory of files[1]");

	/* hooks */
	reject_top("hooks", json_string("scripts/activate.sh"), "\"hooks\" must be an object");
	reject_top("hooks", json_object(), "\"hooks\" must be an object");
	reject_top("hooks", json_pack("{s:i}", "activate", 1), "\"hooks.activate\" must be a string");
	reject_top("hooks", json_pack("{s:s}", "activate", "scripts/other.sh"),
		   "\"hooks.activate\" \"scripts/other.sh\" is not one of the package's files");
	reject_top("hooks", json_pack("{s:s}", "activate", "branding/logo.png"),
		   "\"hooks.activate\" \"branding/logo.png\" is not under scripts/");
	reject_top("hooks", json_pack("{s:s}", "deactivate", "../../bin/sh"),
		   "\"hooks.deactivate\" \"../../bin/sh\" has a '.' or '..' component");
	reject_top("hooks", json_pack("{s:s}", "deactivate", "/bin/sh"), "is absolute");
	j = valid_json();
	json_object_set_new(json_array_get(json_object_get(j, "files"), 1), "mode", json_string("0644"));
	reject("hook not executable", j, "\"hooks.activate\" \"scripts/activate.sh\" must have mode 0755");
}

static void test_names_paths(void)
{
	char name[FW_NAME_MAX + 1], long_ok[FW_PKG_NAME_MAX + 1];
	enum fw_hook h = FW_HOOK_DEACTIVATE;

	CU_ASSERT_TRUE(fw_pkg_name_valid("profinet"));
	CU_ASSERT_TRUE(fw_pkg_name_valid("A-b_c.1"));
	CU_ASSERT_TRUE(fw_pkg_name_valid("a..b"));
	CU_ASSERT_FALSE(fw_pkg_name_valid(""));
	CU_ASSERT_FALSE(fw_pkg_name_valid(NULL));
	CU_ASSERT_FALSE(fw_pkg_name_valid("."));
	CU_ASSERT_FALSE(fw_pkg_name_valid(".."));
	CU_ASSERT_FALSE(fw_pkg_name_valid(".x"));
	CU_ASSERT_FALSE(fw_pkg_name_valid("a+b"));
	CU_ASSERT_FALSE(fw_pkg_name_valid("a/b"));
	CU_ASSERT_FALSE(fw_pkg_name_valid("a\tb"));
	CU_ASSERT_FALSE(fw_pkg_name_valid("\xc3\xa9"));
	memset(long_ok, 'x', FW_PKG_NAME_MAX);
	long_ok[FW_PKG_NAME_MAX] = '\0';
	CU_ASSERT_TRUE(fw_pkg_name_valid(long_ok));

	CU_ASSERT_PTR_NULL(fw_mod_path_problem("factory-config/startup.cfg"));
	CU_ASSERT_PTR_NULL(fw_mod_path_problem("branding/a/b/c/logo.png"));
	CU_ASSERT_PTR_NULL(fw_mod_path_problem("services/.hidden"));
	CU_ASSERT_PTR_NULL(fw_mod_path_problem("files/...x"));
	CU_ASSERT_PTR_NULL(fw_mod_path_problem("files/\xc3\xa9t\xc3\xa9 \xe2\x82\xac"));
	CU_ASSERT_PTR_NULL(fw_mod_path_problem("scripts/a b"));
	CU_ASSERT_PTR_NOT_NULL(fw_mod_path_problem(NULL));
	CU_ASSERT_PTR_NOT_NULL(fw_mod_path_problem("files/\xff"));
	CU_ASSERT_PTR_NOT_NULL(fw_mod_path_problem("files/\xc0\xae"));
	CU_ASSERT_PTR_NOT_NULL(fw_mod_path_problem("./files/x"));
	CU_ASSERT_PTR_NOT_NULL(fw_mod_path_problem("scripts/../scripts/x"));

	fw_mod_entry_name(0, name);
	CU_ASSERT_STRING_EQUAL(name, "file-0001");
	fw_mod_entry_name(255, name);
	CU_ASSERT_STRING_EQUAL(name, "file-0256");
	CU_ASSERT_TRUE(fw_name_valid(name));

	CU_ASSERT_EQUAL(fw_hook_parse("activate", &h), 0);
	CU_ASSERT_EQUAL(h, FW_HOOK_ACTIVATE);
	CU_ASSERT_EQUAL(fw_hook_parse("deactivate", &h), 0);
	CU_ASSERT_EQUAL(h, FW_HOOK_DEACTIVATE);
	CU_ASSERT_EQUAL(fw_hook_parse("install", &h), -1);
	CU_ASSERT_EQUAL(fw_hook_parse(NULL, &h), -1);
	CU_ASSERT_STRING_EQUAL(fw_hook_name(FW_HOOK_DEACTIVATE), "deactivate");
	CU_ASSERT_PTR_NULL(fw_hook_name((enum fw_hook)FW_HOOK_COUNT));
	CU_ASSERT_STRING_EQUAL(fw_pkg_type_name(FW_TYPE_FIRMWARE), "firmware");
	CU_ASSERT_STRING_EQUAL(fw_pkg_type_name(FW_TYPE_MODIFICATION), "modification");
}

/* Type confusion and the file-name rule. */
static void test_type_and_file_name(void)
{
	struct fw_manifest *mod = build(1), *fw = fw_manifest_new(FW_TYPE_FIRMWARE);
	struct fw_err err = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(fw);
	CU_ASSERT_EQUAL(fw_manifest_expect_type(mod, FW_TYPE_MODIFICATION, &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_expect_type(fw, FW_TYPE_FIRMWARE, &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_expect_type(fw, FW_TYPE_MODIFICATION, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_STRING_EQUAL(err.msg, "is a firmware package, not a modification package");
	CU_ASSERT_EQUAL(fw_manifest_expect_type(mod, FW_TYPE_FIRMWARE, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "is a modification package, not a firmware package");

	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, "brand.x_y-z.wmopkg", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, "/srv/pkgs/brand.x_y-z.wmopkg", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, "-", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, "anything.bin", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(fw, "fw.pkg", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, "brand.wmopkg", &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "package name \"brand.x_y-z\" does not match the file name \"brand.wmopkg\""));
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, "brand.x_y-z.wmopkg/other.wmopkg", &err), -1);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, "brand.x_y-zz.wmopkg", &err), -1);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, "xbrand.x_y-z.wmopkg", &err), -1);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, ".wmopkg", &err), -1);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(mod, "a\x1b.wmopkg", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a\\x1b.wmopkg"));
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(fw, "x.wmopkg", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is a firmware package, not a modification package"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "x.wmopkg"));

	/* The firmware range. */
	CU_ASSERT_EQUAL(fw_manifest_check_firmware(fw, "1.0", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_firmware(mod, "5.26", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_firmware(mod, "5.26.0", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_firmware(mod, "4.0", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_firmware(mod, "5.26.0-rev1", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needs firmware 5.26 or earlier"));
	snprintf(mod->min_fw, sizeof(mod->min_fw), "5.22.2");
	CU_ASSERT_EQUAL(fw_manifest_check_firmware(mod, "5.22.1", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needs firmware 5.22.2 or later, not 5.22.1"));
	CU_ASSERT_EQUAL(fw_manifest_check_firmware(mod, "5.22.2", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_firmware(mod, "five", &err), -1);
	fw_manifest_free(mod);
	fw_manifest_free(fw);
}

/* Tree scanning, on real directories. */

static char tmpl[64];

static void mk(const char *rel, const char *text, mode_t mode)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpl, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	CU_ASSERT_EQUAL(chmod(path, mode), 0);
}

static void mkd(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpl, rel);
	CU_ASSERT_EQUAL(mkdir(path, 0755), 0);
}

static void rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void fresh_tree(void)
{
	snprintf(tmpl, sizeof(tmpl), "/tmp/test_wmopkg.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpl));
	mkd("scripts");
	mkd("services");
	mkd("files");
	mkd("files/empty");
	mkd("files/a");
	mkd("branding");
	mk("scripts/on.sh", "#!/bin/sh\n", 0700);
	mk("services/profinet.conf", "on\n", 0600);
	mk("files/a-c", "x", 0644);
	mk("files/a/b", "y", 0641);
}

/* Scan must fail with code and a message holding needle. */
static void scan_rejects(const char *needle, int code)
{
	struct wmopkg_tree *t = (struct wmopkg_tree *)1;
	struct fw_err err = { 0 };

	CU_ASSERT_EQUAL(wmopkg_tree_scan(tmpl, &t, &err), -1);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(err.code, code);
	if (strstr(err.msg, needle) == NULL)
		fprintf(stderr, "\n  scan: \"%s\", wanted \"%s\"\n", err.msg, needle);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
}

static void test_tree_scan(void)
{
	struct wmopkg_tree *t = NULL;
	struct fw_err err = { 0 };
	char path[512], other[512];

	fresh_tree();
	CU_ASSERT_EQUAL_FATAL(wmopkg_tree_scan(tmpl, &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t->n, 4);
	/* Sorted by whole path, byte by byte: "files/a-c" before "files/a/b". */
	CU_ASSERT_STRING_EQUAL(t->files[0].path, "files/a-c");
	CU_ASSERT_STRING_EQUAL(t->files[1].path, "files/a/b");
	CU_ASSERT_STRING_EQUAL(t->files[2].path, "scripts/on.sh");
	CU_ASSERT_STRING_EQUAL(t->files[3].path, "services/profinet.conf");
	/* Any execute bit makes 0755; else 0644. */
	CU_ASSERT_EQUAL(t->files[0].mode, 0644);
	CU_ASSERT_EQUAL(t->files[1].mode, 0755);
	CU_ASSERT_EQUAL(t->files[2].mode, 0755);
	CU_ASSERT_EQUAL(t->files[3].mode, 0644);
	snprintf(path, sizeof(path), "%s/scripts/on.sh", tmpl);
	CU_ASSERT_STRING_EQUAL(t->files[2].source, path);
	wmopkg_tree_free(t);
	t = NULL;

	/* A symlink, even to a file inside the tree. */
	snprintf(path, sizeof(path), "%s/files/link", tmpl);
	CU_ASSERT_EQUAL(symlink("a-c", path), 0);
	scan_rejects("files/link: a symbolic link", FW_EXIT_REJECTED);
	unlink(path);
	/* A symlinked directory. */
	snprintf(path, sizeof(path), "%s/branding/dir", tmpl);
	CU_ASSERT_EQUAL(symlink("/etc", path), 0);
	scan_rejects("branding/dir: a symbolic link", FW_EXIT_REJECTED);
	unlink(path);
	/* A root that is a symlink. */
	rm_rf(tmpl);
	fresh_tree();
	snprintf(path, sizeof(path), "%s/factory-config", tmpl);
	CU_ASSERT_EQUAL(symlink("/etc", path), 0);
	scan_rejects("factory-config: a symbolic link at the top of the tree", FW_EXIT_REJECTED);
	unlink(path);
	/* A hard link. */
	snprintf(path, sizeof(path), "%s/files/a-c", tmpl);
	snprintf(other, sizeof(other), "%s/files/a-c2", tmpl);
	CU_ASSERT_EQUAL(link(path, other), 0);
	scan_rejects("files/a-c: a hard link", FW_EXIT_REJECTED);
	unlink(other);
	/* A FIFO. */
	snprintf(path, sizeof(path), "%s/services/pipe", tmpl);
	CU_ASSERT_EQUAL(mkfifo(path, 0644), 0);
	scan_rejects("services/pipe: a FIFO", FW_EXIT_REJECTED);
	unlink(path);
	/* A socket. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/services/sock", tmpl);
		CU_ASSERT_EQUAL(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		scan_rejects("services/sock: a socket", FW_EXIT_REJECTED);
		close(s);
		unlink(sa.sun_path);
	}
	/* A name with a control character, shown escaped. */
	mk("files/bad\x1b[2Jname", "x", 0644);
	scan_rejects("files/bad\\x1b[2Jname: a name with a control character", FW_EXIT_REJECTED);
	snprintf(path, sizeof(path), "%s/files/bad\x1b[2Jname", tmpl);
	unlink(path);
	/* A backslash in a name. */
	mk("files/a\\b", "x", 0644);
	scan_rejects("contains a backslash", FW_EXIT_REJECTED);
	snprintf(path, sizeof(path), "%s/files/a\\b", tmpl);
	unlink(path);
	/* Outside the fixed roots: a file, a directory. */
	mk("README", "x", 0644);
	scan_rejects("README: a file at the top of the tree", FW_EXIT_REJECTED);
	snprintf(path, sizeof(path), "%s/README", tmpl);
	unlink(path);
	mkd("etc");
	scan_rejects("etc: a directory at the top of the tree", FW_EXIT_REJECTED);
	snprintf(path, sizeof(path), "%s/etc", tmpl);
	rmdir(path);
	/* Still good after all that. */
	CU_ASSERT_EQUAL(wmopkg_tree_scan(tmpl, &t, &err), 0);
	wmopkg_tree_free(t);
	t = NULL;
	rm_rf(tmpl);

	/* Only empty directories: nothing to package. */
	snprintf(tmpl, sizeof(tmpl), "/tmp/test_wmopkg.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpl));
	mkd("files");
	mkd("files/x");
	scan_rejects("no files under", FW_EXIT_REJECTED);
	/* Too many files. */
	for (int i = 0; i <= FW_MAX_PAYLOADS; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "files/x/%03d", i);
		mk(rel, "", 0644);
	}
	scan_rejects("more than 256 files", FW_EXIT_REJECTED);
	rm_rf(tmpl);
	/* No such directory. */
	scan_rejects("cannot open directory", FW_EXIT_IO);
}

static void test_name_from_path(void)
{
	char name[FW_PKG_NAME_MAX + 1];
	struct fw_err err = { 0 };
	char long_name[FW_PKG_NAME_MAX + 16];

	CU_ASSERT_EQUAL(fw_mod_name_from_path("profinet.wmopkg", name, &err), 0);
	CU_ASSERT_STRING_EQUAL(name, "profinet");
	CU_ASSERT_EQUAL(fw_mod_name_from_path("out/dir.wmopkg/a.b-c_d.wmopkg", name, &err), 0);
	CU_ASSERT_STRING_EQUAL(name, "a.b-c_d");
	CU_ASSERT_EQUAL(fw_mod_name_from_path("profinet.pkg", name, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not end in .wmopkg"));
	CU_ASSERT_EQUAL(fw_mod_name_from_path("profinet", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path("profinet.WMOPKG", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path("dir.wmopkg/", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path(".wmopkg", name, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no valid package name"));
	CU_ASSERT_EQUAL(fw_mod_name_from_path("a+b.wmopkg", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path(".x.wmopkg", name, &err), -1);
	memset(long_name, 'n', FW_PKG_NAME_MAX + 1);
	snprintf(long_name + FW_PKG_NAME_MAX + 1, 15, ".wmopkg");
	CU_ASSERT_EQUAL(fw_mod_name_from_path(long_name, name, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "longer than 64"));
	long_name[FW_PKG_NAME_MAX] = '\0';
	strcat(long_name, ".wmopkg");
	CU_ASSERT_EQUAL(fw_mod_name_from_path(long_name, name, &err), 0);
}

/* SBOM: a modification manifest declares one as a firmware manifest does, at format version 2. */
static void test_sbom(void)
{
	json_t *j = valid_json();
	struct fw_manifest *m = NULL, *m2 = NULL;
	struct fw_err err = { 0 };
	char *s, *out = NULL;
	size_t len, out_len = 0;

	json_object_set_new(j, "format_version", json_integer(FW_FORMAT_VERSION_SBOM));
	json_object_set_new(j, "sbom", json_pack("{s:s, s:s, s:i, s:i, s:s}", "format", "CycloneDX",
		"spec_version", "1.5", "components", 12, "size", 4096, "sha256",
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"));
	s = dump(j, &len);
	CU_ASSERT_EQUAL(fw_manifest_parse(s, len, &m, &err), 0);
	free(s);
	if (m != NULL) {
		CU_ASSERT_TRUE(m->sbom.present);
		CU_ASSERT_STRING_EQUAL(m->sbom.spec_version, "1.5");
		CU_ASSERT_EQUAL(m->sbom.components, 12);
		/* Not one of the files: the files and payloads are as without it. */
		CU_ASSERT_EQUAL(m->n_files, 3);
		CU_ASSERT_EQUAL(m->n_payloads, 3);
		CU_ASSERT_EQUAL(fw_manifest_emit(m, &out, &out_len, &err), 0);
		CU_ASSERT_EQUAL(fw_manifest_parse(out, out_len, &m2, &err), 0);
		if (m2 != NULL)
			CU_ASSERT_EQUAL(memcmp(&m2->sbom, &m->sbom, sizeof(m->sbom)), 0);
		fw_manifest_free(m2);
		free(out);
		fw_manifest_free(m);
	}
	/* At version 1 the key is refused by name. */
	json_object_set_new(j, "format_version", json_integer(1));
	reject("sbom at version 1", j, "\"sbom\" needs \"format_version\" 2");
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "parses a valid modification manifest", test_valid },
		{ "emit/parse round trip", test_round_trip },
		{ "validate and emit refuse bad manifests", test_validate },
		{ "rejects missing, unknown and firmware keys", test_reject_keys },
		{ "firmware manifests refuse modification keys", test_reject_in_firmware },
		{ "rejects bad values, paths, modes, order, hooks", test_reject_values },
		{ "names, paths, entries, hooks", test_names_paths },
		{ "type confusion and the file-name rule", test_type_and_file_name },
		{ "tree scan", test_tree_scan },
		{ "package name from the output path", test_name_from_path },
		{ "SBOM: declared at format version 2, not a file", test_sbom },
	};

	return unit_run("wmopkg", NULL, NULL, tests, UNIT_COUNT(tests));
}
