/* test_manifest: manifest.json parsing, rejection of each malformed field, emit/parse round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <jansson.h>

#include "formats/manifest.h"
#include "base/sha256.h"
#include "formats/sbom.h"
#include "tests/unit/manifest_checks.h"
#include "tests/unit/unit_main.h"

#define DIGEST0 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define DIGEST1 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define DIGEST2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST3 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* A valid firmware manifest: a common package for two products. */
static json_t *valid_json(void)
{
	json_t *j;
	json_error_t e;

	j = json_pack_ex(&e, 0,
		"{s:s, s:i, s:s, s:s, s:s, s:I, s:[s,s], s:i, s:I, s:b,"
		" s:{s:s, s:s},"
		" s:[{s:s, s:s, s:s, s:I, s:i, s:s}, {s:s, s:s, s:s, s:I, s:i, s:s},"
		"    {s:s, s:s, s:s, s:I, s:i, s:s}, {s:s, s:s, s:s, s:I, s:i, s:s}]}",
		"format", "fwpkg", "format_version", 1, "type", "firmware",
		"version", "5.22.2", "description", "WeOS 5.22.2 common package",
		"created", (json_int_t)1700000000, "products", "rsp-30", "rsp-40",
		"image_generation", 2, "rollback_index", (json_int_t)7, "requires_tpm", 0,
		"transition", "bridge_from", "5.21.2", "bridge_down", "5.22.2",
		"images",
		"target", "pri", "product", "rsp-30", "file", "rsp-30-pri.img",
		"size", (json_int_t)10000000, "chunk_size", 1048576, "digest", DIGEST0,
		"target", "sec", "product", "rsp-30", "file", "rsp-30-sec.img",
		"size", (json_int_t)0, "chunk_size", 4096, "digest", DIGEST1,
		"target", "boot", "product", "rsp-30", "file", "rsp-30-boot.bin",
		"size", (json_int_t)65536, "chunk_size", 8388608, "digest", DIGEST2,
		"target", "pri", "product", "rsp-40", "file", "rsp-40-pri.img",
		"size", (json_int_t)FW_PAYLOAD_MAX, "chunk_size", 1048576, "digest", DIGEST3);
	if (j == NULL) {
		fprintf(stderr, "valid_json: %s\n", e.text);
		abort();
	}
	return j;
}

static json_t *image0(json_t *j)
{
	return json_array_get(json_object_get(j, "images"), 0);
}

static struct fw_manifest *parse_ok(const char *buf, size_t len)
{
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	int rc;

	rc = fw_manifest_parse(buf, len, &m, &err);
	if (rc != 0)
		fprintf(stderr, "\n  parse failed: %s\n", err.msg);
	CU_ASSERT_EQUAL(rc, 0);
	return m;
}

/* j with "format_version" v: rejected, naming needle. */
static void reject_version(const char *what, json_t *j, int v, const char *needle)
{
	json_object_set_new(j, "format_version", json_integer(v));
	reject(what, j, needle);
}

static void reject_image(const char *key, json_t *val, const char *needle)
{
	json_t *j = valid_json();

	json_object_set_new(image0(j), key, val);
	reject(key, j, needle);
}

static void test_valid(void)
{
	json_t *j = valid_json();
	struct fw_manifest *m;
	char *s;
	size_t len;
	uint8_t d[FW_DIGEST_LEN];

	s = dump(j, &len);
	m = parse_ok(s, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->type, FW_TYPE_FIRMWARE);
	CU_ASSERT_STRING_EQUAL(m->version, "5.22.2");
	CU_ASSERT_EQUAL(m->ver.nfields, 3);
	CU_ASSERT_EQUAL(m->ver.field[1], 22);
	CU_ASSERT_STRING_EQUAL(m->description, "WeOS 5.22.2 common package");
	CU_ASSERT_EQUAL(m->created, 1700000000);
	CU_ASSERT_EQUAL(m->n_products, 2);
	CU_ASSERT_STRING_EQUAL(m->products[0], "rsp-30");
	CU_ASSERT_STRING_EQUAL(m->products[1], "rsp-40");
	CU_ASSERT_EQUAL(m->image_generation, 2);
	CU_ASSERT_EQUAL(m->rollback_index, 7);
	CU_ASSERT_EQUAL(m->requires_tpm, 0);
	CU_ASSERT_STRING_EQUAL(m->bridge_from, "5.21.2");
	CU_ASSERT_STRING_EQUAL(m->bridge_down, "5.22.2");
	CU_ASSERT_EQUAL(m->n_images, 4);
	CU_ASSERT_EQUAL(m->n_payloads, 4);
	CU_ASSERT_EQUAL(m->images[2].target, FW_TARGET_BOOT);
	CU_ASSERT_STRING_EQUAL(m->images[3].product, "rsp-40");
	CU_ASSERT_EQUAL(m->images[3].payload, 3);
	CU_ASSERT_STRING_EQUAL(m->payloads[2].name, "rsp-30-boot.bin");
	CU_ASSERT_EQUAL(m->payloads[0].size, 10000000);
	CU_ASSERT_EQUAL(m->payloads[0].chunk_size, 1048576);
	CU_ASSERT_EQUAL(m->payloads[3].size, FW_PAYLOAD_MAX);
	CU_ASSERT_EQUAL(fw_unhex(DIGEST1, d, sizeof(d)), 0);
	CU_ASSERT_EQUAL(memcmp(m->payloads[1].digest, d, sizeof(d)), 0);
	fw_manifest_free(m);
	free(s);
	json_decref(j);

	/* Optional keys left out: description "" and no bridges. */
	j = valid_json();
	json_object_del(j, "description");
	json_object_del(j, "transition");
	json_object_set_new(j, "requires_tpm", json_true());
	s = dump(j, &len);
	m = parse_ok(s, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->description, "");
	CU_ASSERT_STRING_EQUAL(m->bridge_from, "");
	CU_ASSERT_STRING_EQUAL(m->bridge_down, "");
	CU_ASSERT_EQUAL(m->requires_tpm, 1);
	fw_manifest_free(m);
	free(s);
	json_decref(j);

	/* Either bridge alone, and the largest rollback index. */
	j = valid_json();
	json_object_del(json_object_get(j, "transition"), "bridge_down");
	json_object_set_new(j, "rollback_index", json_integer((json_int_t)1 << 53));
	s = dump(j, &len);
	m = parse_ok(s, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(m->bridge_from, "5.21.2");
	CU_ASSERT_STRING_EQUAL(m->bridge_down, "");
	CU_ASSERT_EQUAL(m->rollback_index, (uint64_t)1 << 53);
	fw_manifest_free(m);
	free(s);
	json_decref(j);
}

static void check_equal(const struct fw_manifest *a, const struct fw_manifest *b)
{
	size_t i;

	CU_ASSERT_EQUAL(a->type, b->type);
	CU_ASSERT_STRING_EQUAL(a->version, b->version);
	CU_ASSERT_EQUAL(fw_version_cmp(&a->ver, &b->ver), 0);
	CU_ASSERT_EQUAL(a->ver.nfields, b->ver.nfields);
	CU_ASSERT_EQUAL(a->ver.has_rev, b->ver.has_rev);
	CU_ASSERT_STRING_EQUAL(a->description, b->description);
	CU_ASSERT_EQUAL(a->created, b->created);
	CU_ASSERT_EQUAL_FATAL(a->n_products, b->n_products);
	for (i = 0; i < a->n_products; i++)
		CU_ASSERT_STRING_EQUAL(a->products[i], b->products[i]);
	CU_ASSERT_EQUAL(a->image_generation, b->image_generation);
	CU_ASSERT_EQUAL(a->rollback_index, b->rollback_index);
	CU_ASSERT_EQUAL(a->requires_tpm, b->requires_tpm);
	CU_ASSERT_STRING_EQUAL(a->bridge_from, b->bridge_from);
	CU_ASSERT_STRING_EQUAL(a->bridge_down, b->bridge_down);
	CU_ASSERT_EQUAL_FATAL(a->n_images, b->n_images);
	CU_ASSERT_EQUAL_FATAL(a->n_payloads, b->n_payloads);
	for (i = 0; i < a->n_images; i++) {
		CU_ASSERT_EQUAL(a->images[i].target, b->images[i].target);
		CU_ASSERT_STRING_EQUAL(a->images[i].product, b->images[i].product);
		CU_ASSERT_EQUAL(a->images[i].payload, b->images[i].payload);
	}
	for (i = 0; i < a->n_payloads; i++) {
		CU_ASSERT_STRING_EQUAL(a->payloads[i].name, b->payloads[i].name);
		CU_ASSERT_EQUAL(a->payloads[i].size, b->payloads[i].size);
		CU_ASSERT_EQUAL(a->payloads[i].chunk_size, b->payloads[i].chunk_size);
		CU_ASSERT_EQUAL(memcmp(a->payloads[i].digest, b->payloads[i].digest,
			FW_DIGEST_LEN), 0);
	}
}

/* An in-memory manifest as mkpkg would build it: nproducts products, each with all three slots. */
static struct fw_manifest *build(size_t nproducts, const char *description)
{
	struct fw_manifest *m;
	struct fw_err err = { 0 };
	size_t p, i, k;

	m = fw_manifest_new(FW_TYPE_FIRMWARE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->image_generation, 1);
	CU_ASSERT_STRING_EQUAL(m->description, "");
	snprintf(m->version, sizeof(m->version), "5.26.0-rev1");
	CU_ASSERT_EQUAL(fw_version_parse(m->version, &m->ver, &err), 0);
	free(m->description);
	m->description = strdup(description);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->description);
	m->created = 1712345678;
	m->image_generation = 3;
	m->rollback_index = 42;
	m->requires_tpm = 1;
	snprintf(m->bridge_from, sizeof(m->bridge_from), "5.25.1");
	for (p = 0; p < nproducts; p++) {
		snprintf(m->products[p], sizeof(m->products[p]), "prod_%zu+x", p);
		for (k = 0; k < FW_TARGET_COUNT; k++) {
			i = m->n_images;
			m->images[i].target = (enum fw_target)k;
			snprintf(m->images[i].product, sizeof(m->images[i].product), "%s",
				m->products[p]);
			m->images[i].payload = i;
			snprintf(m->payloads[i].name, sizeof(m->payloads[i].name), "p%zu-%s.img",
				p, fw_target_name((enum fw_target)k));
			m->payloads[i].size = (uint64_t)i * 1000003u;
			m->payloads[i].chunk_size = FW_CHUNK_MIN << (i % 12);
			memset(m->payloads[i].digest, (int)i, FW_DIGEST_LEN);
			m->payloads[i].digest[0] = 0xab;
			m->n_images++;
			m->n_payloads++;
		}
	}
	m->n_products = nproducts;
	return m;
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
	CU_ASSERT_EQUAL(alen, strlen(a));
	CU_ASSERT(alen > 0 && a[alen - 1] == '\n');
	rc = fw_manifest_parse(a, alen, &back, &err);
	if (rc != 0)
		fprintf(stderr, "\n  parse(emit): %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	check_equal(m, back);
	/* Deterministic: the parsed copy emits the very same bytes. */
	CU_ASSERT_EQUAL_FATAL(fw_manifest_emit(back, &b, &blen, &err), 0);
	CU_ASSERT_EQUAL(alen, blen);
	CU_ASSERT(alen == blen && memcmp(a, b, alen) == 0);
	fw_manifest_free(back);
	free(a);
	free(b);
}

static void test_round_trip(void)
{
	struct fw_manifest *m;
	char *text = NULL;
	size_t len = 0;
	struct fw_err err = { 0 };
	char big[FW_DESCRIPTION_MAX + 1];

	/* Quotes, backslashes, control characters and UTF-8 survive the trip. */
	m = build(2, "Line 1\n\t\"quoted\" back\\slash \x01 \xc3\x9c" "bersicht \xe2\x82\xac");
	round_trip(m);
	/* The transition object appears only when a bridge is set. */
	CU_ASSERT_EQUAL_FATAL(fw_manifest_emit(m, &text, &len, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"transition\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"bridge_from\": \"5.25.1\""));
	CU_ASSERT_PTR_NULL(strstr(text, "bridge_down"));
	/* Sorted keys, 2-space indent. */
	CU_ASSERT_EQUAL(strncmp(text, "{\n  \"created\": 1712345678,\n", 27), 0);
	free(text);
	text = NULL;
	m->bridge_from[0] = '\0';
	round_trip(m);
	CU_ASSERT_EQUAL_FATAL(fw_manifest_emit(m, &text, &len, &err), 0);
	CU_ASSERT_PTR_NULL(strstr(text, "transition"));
	free(text);
	text = NULL;
	snprintf(m->bridge_down, sizeof(m->bridge_down), "5.22.2");
	round_trip(m);
	fw_manifest_free(m);

	/* The biggest manifest the rules allow: 64 products x 3 slots, longest description. */
	memset(big, 'd', FW_DESCRIPTION_MAX);
	big[FW_DESCRIPTION_MAX] = '\0';
	m = build(FW_MAX_PRODUCTS, big);
	CU_ASSERT_EQUAL(m->n_images, FW_MAX_PRODUCTS * FW_TARGET_COUNT);
	round_trip(m);
	fw_manifest_free(m);
}

static void test_emit_validates(void)
{
	/* Malformed UTF-8: a stray byte, overlong forms, a surrogate, past U+10FFFF, cut short. */
	static const char *const bad_utf8[] = {
		"bad \xff byte", "overlong \xc0\xaf", "surrogate \xed\xa0\x80", "overlong 3 \xe0\x80\xaf",
		"past U+10FFFF \xf4\x90\x80\x80", "truncated \xe2\x82",
	};
	struct fw_manifest *m;
	struct fw_err err = { 0 };
	char *text = (char *)1;
	size_t len = 99;

	m = build(1, "");
	m->payloads[1].chunk_size = 1000000;
	CU_ASSERT_EQUAL(fw_manifest_emit(m, &text, &len, &err), -1);
	CU_ASSERT_PTR_NULL(text);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "images[1].chunk_size"));
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	m->payloads[1].chunk_size = FW_CHUNK_DEFAULT;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0);

	/* Invalid UTF-8 can not be written as JSON. */
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		free(m->description);
		m->description = strdup(bad_utf8[i]);
		CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "description"));
	}
	free(m->description);
	m->description = strdup("fine \xf0\x9f\x93\xa6 \xef\xbf\xbf");
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0);
	free(m->description);
	m->description = calloc(1, FW_DESCRIPTION_MAX + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->description);
	memset(m->description, 'd', FW_DESCRIPTION_MAX + 1);
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"description\" is longer"));
	m->description[FW_DESCRIPTION_MAX] = '\0';
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0);
	free(m->description);
	m->description = strdup("");

	/* Range checks hold for in-memory manifests too, not only in parse. */
	m->rollback_index = (UINT64_C(1) << 53) + 1;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"rollback_index\""));
	m->rollback_index = UINT64_C(1) << 53;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0);
	m->payloads[2].size = FW_PAYLOAD_MAX + 1;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"images[2].size\""));
	m->payloads[2].size = FW_PAYLOAD_MAX;
	m->image_generation = 0;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"image_generation\""));
	m->image_generation = 1000;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0);
	m->n_products = FW_MAX_PRODUCTS + 1;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"products\""));
	m->n_products = 1;
	snprintf(m->payloads[0].name, sizeof(m->payloads[0].name), "x.chunks");
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"images[0].file\""));
	snprintf(m->payloads[0].name, sizeof(m->payloads[0].name), "x");
	snprintf(m->bridge_down, sizeof(m->bridge_down), "5.22.x");
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"transition.bridge_down\""));
	m->bridge_down[0] = '\0';
	/* A name filling its whole field, without a NUL, is refused, not overread. */
	memset(m->products[0], 'p', sizeof(m->products[0]));
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	snprintf(m->products[0], sizeof(m->products[0]), "prod_0+x");
	memset(m->version, '5', sizeof(m->version));
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	snprintf(m->version, sizeof(m->version), "5.26.0-rev1");
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0);

	m->images[2].target = (enum fw_target)7;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "target"));
	m->images[2].target = FW_TARGET_BOOT;

	m->images[1].payload = 0;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "payload"));
	m->images[1].payload = 1;

	m->n_payloads = 2;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	m->n_payloads = 3;

	m->requires_tpm = 2;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "requires_tpm"));
	m->requires_tpm = 0;

	m->version[0] = '\0';
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"version\""));
	snprintf(m->version, sizeof(m->version), "5.26.0");

	m->created = -1;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "created"));
	m->created = 0;

	m->n_products = 0;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "products"));
	m->n_products = 1;

	/* Relabelled as a modification it lacks a name (tests/unit/test_wmopkg.c has the rest). */
	m->type = FW_TYPE_MODIFICATION;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"name\""));
	m->type = (enum fw_pkg_type)7;
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NULL(fw_manifest_to_json(m));
	m->type = FW_TYPE_FIRMWARE;

	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0);
	fw_manifest_free(m);

	/* A fresh manifest has no version, products or images yet. */
	m = fw_manifest_new(FW_TYPE_FIRMWARE);
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	fw_manifest_free(m);
	fw_manifest_free(NULL);
}

static void test_reject_envelope(void)
{
	static const char dup[] =
		"{\"format\": \"fwpkg\", \"format_version\": 1, \"format_version\": 1}";
	static const char nul[] = "{\"format\": \"fwpkg\"}\0";
	static const char unull[] = "{\"format\": \"fw\\u0000pkg\"}";
	json_t *j;
	char *s, *big;
	size_t len;

	/* Duplicate keys would let two readers see different manifests. */
	reject_bytes("duplicate key", dup, sizeof(dup) - 1, "format_version");
	reject_bytes("duplicate key", dup, sizeof(dup) - 1, "duplicate");
	j = valid_json();
	s = dump(j, &len);
	/* Duplicate the "version" key inside the otherwise valid document. */
	{
		char *d = malloc(len + 32);

		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		snprintf(d, len + 32, "{\"version\": \"1.0\", %s", s + 1);
		reject_bytes("duplicate version", d, strlen(d), "\"version\"");
		free(d);
	}

	/* NUL anywhere, raw or escaped. */
	reject_bytes("NUL byte", nul, sizeof(nul) - 1, "NUL");
	{
		char *d = malloc(len);

		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		memcpy(d, s, len);
		d[len / 2] = '\0';
		reject_bytes("NUL byte inside", d, len, "NUL");
		free(d);
	}
	reject_bytes("escaped NUL", unull, sizeof(unull) - 1, "NUL");

	/* Over FW_MANIFEST_MAX, even if otherwise valid (padded with spaces). */
	big = malloc(FW_MANIFEST_MAX + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, ' ', FW_MANIFEST_MAX + 1);
	memcpy(big, s, len);
	reject_bytes("too big", big, FW_MANIFEST_MAX + 1, "larger than the limit of 1048576");
	/* ... while exactly FW_MANIFEST_MAX is fine. */
	{
		struct fw_manifest *m = parse_ok(big, FW_MANIFEST_MAX);

		fw_manifest_free(m);
	}
	free(big);
	free(s);
	json_decref(j);

	reject_bytes("empty", "", 0, "empty");
	reject_bytes("not JSON", "{\"format\": ", 11, "invalid JSON");
	reject_bytes("trailing garbage", "{} x", 4, "invalid JSON");
	reject_bytes("top-level array", "[1, 2]", 6, "object");
	reject_bytes("top-level string", "\"fwpkg\"", 7, "invalid JSON");

	/* format, format_version and type. */
	reject_top("format", json_string("fwpkgx"), "\"format\"");
	reject_top("format", json_integer(1), "\"format\"");
	reject_top("format_version", json_integer(2), "\"format_version\"");
	reject_top("format_version", json_integer(0), "\"format_version\"");
	reject_top("format_version", json_string("1"), "\"format_version\"");
	reject_top("format_version", json_real(1.0), "\"format_version\"");
	reject_top("type", json_string("firmwar"), "\"type\"");
	reject_top("type", json_null(), "\"type\"");
	/* A firmware manifest relabelled: its firmware keys give it away. */
	reject_top("type", json_string("modification"),
		"\"image_generation\" belongs to firmware manifests, not to a modification manifest");
}

static void test_reject_keys(void)
{
	static const char *const required[] = {
		"format", "format_version", "type", "version", "created", "products",
		"image_generation", "rollback_index", "requires_tpm", "images",
	};
	static const char *const image_required[] = {
		"target", "product", "file", "size", "chunk_size", "digest",
	};
	json_t *j;
	size_t i;
	char needle[64];

	reject_top("foo", json_integer(1), "manifest: unknown key \"foo\"");
	reject_top("Version", json_string("5.22"), "unknown key \"Version\"");
	reject_image("sha256", json_string(DIGEST0), "unknown key \"images[0].sha256\"");
	j = valid_json();
	json_object_set_new(json_object_get(j, "transition"), "bridge_up", json_string("1"));
	reject("transition key", j, "unknown key \"transition.bridge_up\"");
	/* A hostile key is not echoed raw to the terminal. */
	j = valid_json();
	json_object_set_new(j, "x\x1b[2Jy", json_integer(1));
	reject("escape in key", j, "unknown key \"x\\x1b[2Jy\"");

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		j = valid_json();
		json_object_del(j, required[i]);
		snprintf(needle, sizeof(needle), "\"%s\"", required[i]);
		reject(required[i], j, needle);
	}
	j = valid_json();
	json_object_del(j, "version");
	reject("missing version", j, "missing required key \"version\"");
	for (i = 0; i < sizeof(image_required) / sizeof(image_required[0]); i++) {
		j = valid_json();
		json_object_del(image0(j), image_required[i]);
		snprintf(needle, sizeof(needle), "missing required key \"images[0].%s\"",
			image_required[i]);
		reject(image_required[i], j, needle);
	}
}

static void test_reject_types(void)
{
	json_t *j;

	reject_top("version", json_integer(5), "\"version\" must be a string");
	reject_top("version", json_string("5.22.2-rc1"), "\"version\"");
	reject_top("version", json_string("v5.22"), "\"version\"");
	reject_top("version", json_string(""), "\"version\"");
	reject_top("description", json_integer(5), "\"description\" must be a string");
	reject_top("description", json_null(), "\"description\"");
	reject_top("created", json_string("now"), "\"created\" must be an integer >= 0");
	reject_top("created", json_integer(-1), "\"created\" must be an integer >= 0");
	reject_top("created", json_real(1.5), "\"created\"");
	reject_top("created", json_real(1700000000.0), "\"created\"");
	reject_top("rollback_index", json_string("1"), "\"rollback_index\" must be an integer");
	reject_top("rollback_index", json_integer(-1), "\"rollback_index\"");
	reject_top("rollback_index", json_true(), "\"rollback_index\"");
	reject_top("rollback_index", json_integer(((json_int_t)1 << 53) + 1),
		"\"rollback_index\"");
	reject_top("image_generation", json_integer(0), "\"image_generation\"");
	reject_top("image_generation", json_integer(1001), "\"image_generation\"");
	reject_top("image_generation", json_string("2"), "\"image_generation\"");
	reject_top("requires_tpm", json_integer(1), "\"requires_tpm\" must be true or false");
	reject_top("requires_tpm", json_string("false"), "\"requires_tpm\"");
	reject_top("products", json_string("rsp-30"), "\"products\"");
	reject_top("products", json_array(), "\"products\"");
	reject_top("products", json_pack("[s,i]", "rsp-30", 40), "\"products[1]\"");
	reject_top("images", json_object(), "\"images\"");
	reject_top("images", json_array(), "\"images\"");
	reject_top("images", json_pack("[s]", "pri"), "\"images[0]\" must be an object");
	reject_top("transition", json_string("5.21.2"), "\"transition\" must be an object");
	reject_top("transition", json_pack("{s:f}", "bridge_from", 5.21),
		"\"transition.bridge_from\" must be a string");
	reject_top("transition", json_pack("{s:s}", "bridge_down", "5.22.2-rc1"),
		"\"transition.bridge_down\"");
	reject_top("transition", json_pack("{s:s}", "bridge_from", ""),
		"\"transition.bridge_from\"");
	reject_image("size", json_string("10"), "\"images[0].size\" must be an integer");
	reject_image("size", json_real(4096.0), "\"images[0].size\"");
	reject_image("chunk_size", json_real(4096.0),
		"\"images[0].chunk_size\" must be a power of two");
	reject_image("target", json_integer(0), "\"images[0].target\" must be a string");
	reject_image("product", json_null(), "\"images[0].product\" must be a string");
	reject_image("file", json_pack("[s]", "a"), "\"images[0].file\" must be a string");
	reject_image("digest", json_integer(0), "\"images[0].digest\" must be a string");

	/* Too many products. */
	j = valid_json();
	{
		json_t *arr = json_object_get(j, "products");
		char name[16];
		int i;

		for (i = 0; i < FW_MAX_PRODUCTS - 1; i++) {
			snprintf(name, sizeof(name), "p%d", i);
			json_array_append_new(arr, json_string(name));
		}
	}
	reject("too many products", j, "\"products\"");

	/* Too many images. */
	j = valid_json();
	{
		json_t *arr = json_object_get(j, "images");
		int i;

		while (json_array_size(arr) <= FW_MAX_PAYLOADS)
			json_array_append_new(arr, json_deep_copy(json_array_get(arr, 0)));
		for (i = 0; i < (int)json_array_size(arr); i++) {
			char name[32];

			snprintf(name, sizeof(name), "f%d", i);
			json_object_set_new(json_array_get(arr, (size_t)i), "file",
				json_string(name));
		}
	}
	reject("too many images", j, "\"images\"");
}

static void test_reject_values(void)
{
	static const char *const bad_names[] = {
		"a/b", "..", ".", ".hidden", "a\001b", "", "a b", "a\\b", "\xc3\xa9",
		"x:y", "12345678901234567890123456789012345678901234567890123456789012345",
	};
	json_t *j;
	size_t i;
	char digest[80];

	/* digest */
	reject_image("digest",
		json_string("00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"),
		"\"images[0].digest\"");
	reject_image("digest", json_string("0011"), "\"images[0].digest\"");
	snprintf(digest, sizeof(digest), "%s00", DIGEST0);
	reject_image("digest", json_string(digest), "\"images[0].digest\"");
	snprintf(digest, sizeof(digest), "%.63sg", DIGEST0);
	reject_image("digest", json_string(digest), "\"images[0].digest\"");
	snprintf(digest, sizeof(digest), " %.63s", DIGEST0);
	reject_image("digest", json_string(digest), "\"images[0].digest\"");

	/* chunk_size: power of two, within limits */
	reject_image("chunk_size", json_integer(1000000),
		"\"images[0].chunk_size\" must be a power of two");
	reject_image("chunk_size", json_integer(3 * 4096), "\"images[0].chunk_size\"");
	reject_image("chunk_size", json_integer(2048),
		"\"images[0].chunk_size\" must be a power of two");
	reject_image("chunk_size", json_integer(0), "\"images[0].chunk_size\"");
	reject_image("chunk_size", json_integer(-4096), "\"images[0].chunk_size\"");
	reject_image("chunk_size", json_integer(16 * 1024 * 1024), "\"images[0].chunk_size\"");
	reject_image("chunk_size", json_integer((json_int_t)1 << 32), "\"images[0].chunk_size\"");

	/* size */
	reject_image("size", json_integer((json_int_t)FW_PAYLOAD_MAX + 1), "\"images[0].size\"");
	reject_image("size", json_integer(-1), "\"images[0].size\"");

	/* target */
	reject_image("target", json_string("flash"),
		"\"images[0].target\" must be \"pri\", \"sec\" or \"boot\"");
	reject_image("target", json_string("PRI"), "\"images[0].target\"");

	/* image for an unlisted product */
	reject_image("product", json_string("rsp-50"),
		"\"images[0].product\" is \"rsp-50\", which is not in \"products\"");

	/* duplicate file name */
	j = valid_json();
	json_object_set_new(json_array_get(json_object_get(j, "images"), 3), "file",
		json_string("rsp-30-sec.img"));
	reject("duplicate file", j, "\"images[3].file\" repeats \"rsp-30-sec.img\"");

	/* duplicate (product, target) */
	j = valid_json();
	json_object_set_new(json_array_get(json_object_get(j, "images"), 3), "product",
		json_string("rsp-30"));
	reject("duplicate slot", j, "\"product\" \"rsp-30\" and \"target\" \"pri\"");
	j = valid_json();
	json_object_set_new(json_array_get(json_object_get(j, "images"), 1), "target",
		json_string("pri"));
	reject("duplicate slot", j, "images[0] and images[1]");

	/* duplicate product */
	j = valid_json();
	json_array_append_new(json_object_get(j, "products"), json_string("rsp-30"));
	reject("duplicate product", j, "\"products[2]\" repeats product \"rsp-30\"");

	/* names: file, product in images, product in products */
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		reject_image("file", json_string(bad_names[i]),
			"\"images[0].file\" is not a valid name");
		reject_image("product", json_string(bad_names[i]),
			"\"images[0].product\" is not a valid name");
		j = valid_json();
		json_array_append_new(json_object_get(j, "products"), json_string(bad_names[i]));
		reject(bad_names[i], j, "\"products[2]\" is not a valid name");
	}
	/* A control character in a name is escaped in the message. */
	reject_image("file", json_string("a\x1b" "b"), "(\"a\\x1bb\")");
	reject_image("file", json_string("rsp-30-pri.img.chunks"),
		"\"images[0].file\" must not end in \".chunks\"");
	reject_image("file", json_string(".chunks"), "\"images[0].file\"");

	/* description */
	{
		char desc[FW_DESCRIPTION_MAX + 3];
		struct fw_manifest *m;
		char *s;
		size_t len;

		memset(desc, 'x', sizeof(desc));
		desc[FW_DESCRIPTION_MAX + 1] = '\0';
		reject_top("description", json_string(desc),
			"\"description\" is longer than 4096 bytes");
		/* 4096 bytes of 2-byte characters is 2048 characters and fine; one more is not. */
		for (i = 0; i < FW_DESCRIPTION_MAX; i += 2)
			memcpy(desc + i, "\xc3\xa9", 2);
		desc[FW_DESCRIPTION_MAX] = '\0';
		j = valid_json();
		json_object_set_new(j, "description", json_string(desc));
		s = dump(j, &len);
		m = parse_ok(s, len);
		CU_ASSERT_PTR_NOT_NULL(m);
		if (m != NULL)
			CU_ASSERT_EQUAL(strlen(m->description), FW_DESCRIPTION_MAX);
		fw_manifest_free(m);
		free(s);
		json_decref(j);
		memcpy(desc + FW_DESCRIPTION_MAX, "\xc3\xa9", 3);
		reject_top("description", json_string(desc), "\"description\"");
	}
}

static void test_names(void)
{
	char long_ok[FW_NAME_MAX + 1], too_long[FW_NAME_MAX + 2];

	CU_ASSERT_TRUE(fw_name_valid("rsp-30"));
	CU_ASSERT_TRUE(fw_name_valid("a"));
	CU_ASSERT_TRUE(fw_name_valid("A.b_c+d-9"));
	CU_ASSERT_TRUE(fw_name_valid("-a"));
	CU_ASSERT_TRUE(fw_name_valid("a.."));
	CU_ASSERT_FALSE(fw_name_valid(NULL));
	CU_ASSERT_FALSE(fw_name_valid(""));
	CU_ASSERT_FALSE(fw_name_valid("."));
	CU_ASSERT_FALSE(fw_name_valid(".."));
	CU_ASSERT_FALSE(fw_name_valid(".a"));
	CU_ASSERT_FALSE(fw_name_valid("a/b"));
	CU_ASSERT_FALSE(fw_name_valid("/a"));
	CU_ASSERT_FALSE(fw_name_valid("a\nb"));
	CU_ASSERT_FALSE(fw_name_valid("a\x7f"));
	CU_ASSERT_FALSE(fw_name_valid("a b"));
	CU_ASSERT_FALSE(fw_name_valid("\xc3\xa9"));
	memset(long_ok, 'n', FW_NAME_MAX);
	long_ok[FW_NAME_MAX] = '\0';
	CU_ASSERT_TRUE(fw_name_valid(long_ok));
	memset(too_long, 'n', FW_NAME_MAX + 1);
	too_long[FW_NAME_MAX + 1] = '\0';
	CU_ASSERT_FALSE(fw_name_valid(too_long));
}

/*
 * The writer and the reader share one name rule: every name fw_name_valid()
 * accepts (what mkpkg takes as a product id or the manifest as a payload
 * name) is an entry name the reader accepts, with and without the chunk-list
 * suffix, and as a firmware image name. All names of up to three characters
 * over an alphabet with every kind of character the rule cares about.
 */
static void test_entry_names(void)
{
	static const char alphabet[] = { 'a', 'Z', '0', '.', '_', '+', '-', '/', '\\', ' ', '\x1b', '\xc2', '\x9b' };
	const size_t k = sizeof(alphabet);
	char name[4], entry[FW_NAME_MAX + 16];
	size_t checked = 0;

	for (size_t n = 1; n <= 3; n++) {
		size_t total = 1;
		for (size_t i = 0; i < n; i++)
			total *= k;
		for (size_t code = 0; code < total; code++) {
			size_t c = code;
			for (size_t i = 0; i < n; i++, c /= k)
				name[i] = alphabet[c % k];
			name[n] = '\0';
			if (!fw_name_valid(name)) {
				CU_ASSERT_FALSE(fw_entry_name_valid(name));
				continue;
			}
			checked++;
			CU_ASSERT_TRUE(fw_entry_name_valid(name));
			snprintf(entry, sizeof(entry), "%s%s", name, FW_CHUNKS_SUFFIX);
			CU_ASSERT_TRUE(fw_entry_name_valid(entry));
			snprintf(entry, sizeof(entry), "%s-pri.img", name);
			CU_ASSERT_TRUE(fw_entry_name_valid(entry));
		}
	}
	CU_ASSERT_TRUE(checked > 100);
	CU_ASSERT_TRUE(fw_entry_name_valid("P..1-pri.img"));
	CU_ASSERT_TRUE(fw_entry_name_valid("manifest.json"));
	CU_ASSERT_TRUE(fw_entry_name_valid("manifest.json.0123456789ABCDEF.minisig"));
	CU_ASSERT_FALSE(fw_entry_name_valid(".chunks"));
	CU_ASSERT_FALSE(fw_entry_name_valid(".."));
	CU_ASSERT_FALSE(fw_entry_name_valid("a/../b"));
	CU_ASSERT_FALSE(fw_entry_name_valid("manifest.json.\xc2\x9b.minisig"));
}

static void test_helpers(void)
{
	struct fw_payload p = { .size = 0, .chunk_size = 4096 };
	static const uint8_t bytes[] = { 0x00, 0x0f, 0xa0, 0xff, 0x5c };
	uint8_t back[5];
	char hex[11];
	enum fw_target t = FW_TARGET_PRI;

	CU_ASSERT_EQUAL(fw_payload_chunks(&p), 0);
	p.size = 1;
	CU_ASSERT_EQUAL(fw_payload_chunks(&p), 1);
	p.size = 4096;
	CU_ASSERT_EQUAL(fw_payload_chunks(&p), 1);
	p.size = 4097;
	CU_ASSERT_EQUAL(fw_payload_chunks(&p), 2);
	p.size = FW_PAYLOAD_MAX;
	p.chunk_size = FW_CHUNK_MIN;
	CU_ASSERT_EQUAL(fw_payload_chunks(&p), (FW_PAYLOAD_MAX + 1) / FW_CHUNK_MIN);
	/* No overflow near the top of the range. */
	p.size = UINT64_MAX;
	p.chunk_size = 1;
	CU_ASSERT_EQUAL(fw_payload_chunks(&p), UINT64_MAX);
	p.chunk_size = FW_CHUNK_MAX;
	CU_ASSERT_EQUAL(fw_payload_chunks(&p), UINT64_C(1) << 41);
	p.chunk_size = 0;
	CU_ASSERT_EQUAL(fw_payload_chunks(&p), 0);

	fw_hex(bytes, sizeof(bytes), hex);
	CU_ASSERT_STRING_EQUAL(hex, "000fa0ff5c");
	CU_ASSERT_EQUAL(fw_unhex("000fa0ff5c", back, sizeof(back)), 0);
	CU_ASSERT_EQUAL(memcmp(back, bytes, sizeof(bytes)), 0);
	CU_ASSERT_EQUAL(fw_unhex("000FA0FF5C", back, sizeof(back)), -1);
	CU_ASSERT_EQUAL(fw_unhex("000fa0ff5", back, sizeof(back)), -1);
	CU_ASSERT_EQUAL(fw_unhex("000fa0ff5c0", back, sizeof(back)), -1);
	CU_ASSERT_EQUAL(fw_unhex("000fa0ff5g", back, sizeof(back)), -1);
	CU_ASSERT_EQUAL(fw_unhex("", back, 0), 0);

	CU_ASSERT_STRING_EQUAL(fw_target_name(FW_TARGET_PRI), "pri");
	CU_ASSERT_STRING_EQUAL(fw_target_name(FW_TARGET_SEC), "sec");
	CU_ASSERT_STRING_EQUAL(fw_target_name(FW_TARGET_BOOT), "boot");
	CU_ASSERT_PTR_NULL(fw_target_name((enum fw_target)FW_TARGET_COUNT));
	CU_ASSERT_EQUAL(fw_target_parse("boot", &t), 0);
	CU_ASSERT_EQUAL(t, FW_TARGET_BOOT);
	CU_ASSERT_EQUAL(fw_target_parse("sec", &t), 0);
	CU_ASSERT_EQUAL(t, FW_TARGET_SEC);
	CU_ASSERT_EQUAL(fw_target_parse("pri", &t), 0);
	CU_ASSERT_EQUAL(t, FW_TARGET_PRI);
	CU_ASSERT_EQUAL(fw_target_parse("all", &t), -1);
	CU_ASSERT_EQUAL(fw_target_parse("", &t), -1);
	CU_ASSERT_EQUAL(fw_target_parse(NULL, &t), -1);
}

/* SBOM: the valid manifest with an "sbom" object, at format version 2. */
static json_t *sbom_json(void)
{
	json_t *j = valid_json();

	json_object_set_new(j, "format_version", json_integer(FW_FORMAT_VERSION_SBOM));
	json_object_set_new(j, "sbom", json_pack("{s:s, s:s, s:i, s:i, s:s}", "format", "CycloneDX",
		"spec_version", "1.6", "components", 3, "size", 780, "sha256", DIGEST1));
	return j;
}

/* Set key of obj, a part of j, to val (NULL: delete it), then require j's rejection naming needle. */
static void reject_member(json_t *j, json_t *obj, const char *key, json_t *val, const char *needle)
{
	if (val == NULL)
		json_object_del(obj, key);
	else
		json_object_set_new(obj, key, val);
	reject(key, j, needle);
}

static void reject_sbom_field(const char *key, json_t *val, const char *needle)
{
	json_t *j = sbom_json();

	reject_member(j, json_object_get(j, "sbom"), key, val, needle);
}

static void test_sbom_manifest(void)
{
	json_t *j = sbom_json();
	struct fw_manifest *m, *m2;
	char *s, *out = NULL;
	size_t len, out_len = 0;
	struct fw_err err = { 0 };
	uint8_t d1[FW_DIGEST_LEN];

	s = dump(j, &len);
	m = parse_ok(s, len);
	free(s);
	json_decref(j);
	if (m == NULL)
		return;
	CU_ASSERT_TRUE(m->sbom.present);
	CU_ASSERT_STRING_EQUAL(m->sbom.spec_version, "1.6");
	CU_ASSERT_EQUAL(m->sbom.components, 3);
	CU_ASSERT_EQUAL(m->sbom.size, 780);
	CU_ASSERT_EQUAL(fw_unhex(DIGEST1, d1, sizeof(d1)), 0);
	CU_ASSERT_EQUAL(memcmp(m->sbom.sha256, d1, FW_DIGEST_LEN), 0);
	CU_ASSERT_EQUAL(fw_manifest_format_version(m), FW_FORMAT_VERSION_SBOM);
	/* Emitted at version 2 with the same "sbom", and read back alike. */
	CU_ASSERT_EQUAL(fw_manifest_emit(m, &out, &out_len, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"format_version\": 2"));
	m2 = parse_ok(out, out_len);
	if (m2 != NULL) {
		CU_ASSERT_EQUAL(memcmp(&m2->sbom, &m->sbom, sizeof(m->sbom)), 0);
		fw_manifest_free(m2);
	}
	free(out);
	/* Without one: version 1, no "sbom" key, as every package before. */
	memset(&m->sbom, 0, sizeof(m->sbom));
	CU_ASSERT_EQUAL(fw_manifest_emit(m, &out, &out_len, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"format_version\": 1"));
	CU_ASSERT_PTR_NULL(strstr(out, "sbom"));
	free(out);
	/* A payload may not take the SBOM entry's name. */
	m->sbom.present = 1;
	m->sbom.size = 10;
	m->sbom.components = 1;
	snprintf(m->sbom.spec_version, sizeof(m->sbom.spec_version), "1.5");
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), 0);
	snprintf(m->payloads[1].name, sizeof(m->payloads[1].name), "%s", FW_SBOM_ENTRY);
	CU_ASSERT_EQUAL(fw_manifest_validate(m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, FW_SBOM_ENTRY));
	fw_manifest_free(m);

	/* Version and SBOM go together, both ways; an older version number or a newer one is refused by name. */
	reject_version("sbom at version 1", sbom_json(), 1, "\"sbom\" needs \"format_version\" 2");
	reject_version("version 2 without sbom", valid_json(), 2, "\"format_version\" 2 is for a package with an \"sbom\"");
	j = sbom_json();
	json_object_set_new(j, "format_version", json_integer(3));
	/* Version 3 is compressed payloads (with or without an SBOM): an SBOM alone is version 2. */
	reject("version 3", j, "\"format_version\" 3 is for a package with a compressed payload");
	reject_version("version 4", sbom_json(), 4, "\"format_version\" 4 is for a package with a delta payload");
	reject_version("version 5", sbom_json(), 5, "\"format_version\" must be 1, 2, 3 or 4");

	reject_sbom_field("format", json_string("SPDX"), "\"sbom.format\" must be \"CycloneDX\"");
	reject_sbom_field("spec_version", json_string("1.4"), "\"sbom.spec_version\" must be \"1.5\" or \"1.6\"");
	reject_sbom_field("spec_version", json_integer(16), "\"sbom.spec_version\" must be a string");
	reject_sbom_field("components", json_integer(0), "\"sbom.components\"");
	reject_sbom_field("size", json_integer(0), "\"sbom.size\"");
	reject_sbom_field("size", json_integer(FW_SBOM_MAX + 1), "\"sbom.size\"");
	reject_sbom_field("sha256", json_string("ABC"), "\"sbom.sha256\"");
	reject_sbom_field("sha256", NULL, "missing required key \"sbom.sha256\"");
	reject_sbom_field("entry", json_string("x"), "unknown key \"sbom.entry\"");
	j = sbom_json();
	json_object_set_new(j, "sbom", json_string("inline"));
	reject("sbom not an object", j, "\"sbom\" must be an object");
}

/* fw_sbom_check: what a build accepts of a CycloneDX document, and the one-line reason it refuses. */
/* A manifest whose first image is compressed (format version 3). */
static json_t *zstd_json(void)
{
	json_t *j = valid_json();

	json_object_set_new(j, "format_version", json_integer(FW_FORMAT_VERSION_ZSTD));
	json_object_set_new(image0(j), "compression",
		json_pack("{s:s, s:i, s:i, s:i, s:I, s:i, s:s}", "algorithm", "zstd", "level", 19,
			  "window_log", 23, "frame_size", 33554432, "size", (json_int_t)2500000,
			  "chunk_size", 1048576, "digest", DIGEST2));
	return j;
}

static void reject_zstd_field(const char *key, json_t *val, const char *needle)
{
	json_t *j = zstd_json();

	reject_member(j, json_object_get(image0(j), "compression"), key, val, needle);
}

static void test_zstd_manifest(void)
{
	json_t *j = zstd_json();
	struct fw_manifest *m, *m2;
	char *s, *out = NULL;
	size_t len, out_len = 0;
	struct fw_err err = { 0 };

	s = dump(j, &len);
	m = parse_ok(s, len);
	free(s);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(m->payloads[0].zstd.on && !m->payloads[1].zstd.on);
	CU_ASSERT_EQUAL(m->payloads[0].zstd.window_log, 23);
	CU_ASSERT_EQUAL(fw_payload_entry_size(&m->payloads[0]), 2500000);
	CU_ASSERT_EQUAL(fw_payload_entry_size(&m->payloads[1]), 0);
	/* 10000000 bytes: 10 image chunks and 3 compressed pieces in its list; one 32 MiB frame. */
	CU_ASSERT_EQUAL(fw_payload_list_size(&m->payloads[0]), (10 + 3) * 32);
	CU_ASSERT_EQUAL(fw_payload_frames(&m->payloads[0]), 1);
	CU_ASSERT_EQUAL(fw_manifest_format_version(m), FW_FORMAT_VERSION_ZSTD);
	/* Emitted as parsed, then with an SBOM too: still version 3 (the ladder, not flags). */
	CU_ASSERT_EQUAL(fw_manifest_emit(m, &out, &out_len, &err), 0);
	m2 = parse_ok(out, out_len);
	CU_ASSERT(m2 != NULL && memcmp(&m2->payloads[0].zstd, &m->payloads[0].zstd, sizeof(m->payloads[0].zstd)) == 0);
	fw_manifest_free(m2);
	free(out);
	fw_manifest_free(m);
	json_object_set_new(j, "sbom", json_pack("{s:s, s:s, s:i, s:i, s:s}", "format", "CycloneDX",
		"spec_version", "1.6", "components", 3, "size", 780, "sha256", DIGEST1));
	s = dump(j, &len);
	m = parse_ok(s, len);
	CU_ASSERT(m != NULL && m->sbom.present && fw_manifest_format_version(m) == FW_FORMAT_VERSION_ZSTD);
	fw_manifest_free(m);
	free(s);
	reject_version("compression at version 2 with an sbom", j, FW_FORMAT_VERSION_SBOM, "needs \"format_version\" 3");

	/* The version says what a reader must support, both ways. */
	reject_version("compression at version 1", zstd_json(), 1, "needs \"format_version\" 3");
	reject_version("version 3 without compression", valid_json(), 3, "for a package with a compressed payload");
	reject_version("version 4 without a delta", valid_json(), 4, "for a package with a delta payload");
	reject_version("version 5", valid_json(), 5, "must be 1, 2, 3 or 4");

	reject_zstd_field("algorithm", json_string("xz"), "must be \"zstd\"");
	reject_zstd_field("algorithm", NULL, "algorithm");
	reject_zstd_field("window_log", json_integer(24), "window_log");
	reject_zstd_field("window_log", json_integer(9), "window_log");
	reject_zstd_field("level", json_integer(0), "level");
	reject_zstd_field("level", json_integer(23), "level");
	reject_zstd_field("frame_size", json_integer(3 * 1048576), "power of two");
	reject_zstd_field("frame_size", json_integer(512 * 1048576), "frame_size");
	reject_zstd_field("chunk_size", json_integer(2 * 1048576), "chunk_size");
	reject_zstd_field("chunk_size", json_integer(3 * 4096), "power of two");
	reject_zstd_field("size", json_integer(0), "compression.size");
	reject_zstd_field("digest", json_string("00"), "digest");
	reject_zstd_field("extra", json_integer(1), "extra");
	/* A frame must end on an image chunk boundary: the boot image's chunks are 8 MiB. */
	j = zstd_json();
	json_object_set_new(json_array_get(json_object_get(j, "images"), 2), "compression",
		json_pack("{s:s, s:i, s:i, s:i, s:I, s:i, s:s}", "algorithm", "zstd", "level", 3,
			  "window_log", 21, "frame_size", 4194304, "size", (json_int_t)100,
			  "chunk_size", 1048576, "digest", DIGEST2));
	reject("frame smaller than a chunk", j, "multiple of the chunk size");
}

/* A delta: image 0's compression has a base, at format version 4. */
static json_t *delta_json(void)
{
	json_t *j = zstd_json();
	json_t *c = json_object_get(image0(j), "compression");

	json_object_set_new(j, "format_version", json_integer(FW_FORMAT_VERSION_DELTA));
	json_object_set_new(c, "window_log", json_integer(26));
	json_object_set_new(c, "frame_size", json_integer(8388608));
	json_object_set_new(c, "base", json_pack("{s:s, s:I, s:i, s:i}", "digest", DIGEST2, "size", (json_int_t)40000000,
						 "chunk_size", 1048576, "margin", 25165824));
	return j;
}

static void reject_base_field(const char *key, json_t *val, const char *needle)
{
	json_t *j = delta_json();

	reject_member(j, json_object_get(json_object_get(image0(j), "compression"), "base"), key, val, needle);
}

static void test_delta_manifest(void)
{
	json_t *j = delta_json();
	struct fw_manifest *m, *m2;
	char *s, *out = NULL;
	size_t len, out_len = 0;
	struct fw_err err = { 0 };
	uint64_t lo, hi;

	s = dump(j, &len);
	json_decref(j);
	m = parse_ok(s, len);
	free(s);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(m->payloads[0].zstd.base.on && !m->payloads[1].zstd.base.on);
	CU_ASSERT_EQUAL(m->payloads[0].zstd.base.size, 40000000);
	CU_ASSERT_EQUAL(m->payloads[0].zstd.base.margin, 25165824);
	CU_ASSERT_EQUAL(fw_manifest_format_version(m), 4);
	/* Frame k's prefix: its own range and the margin either side, clipped to the base. */
	fw_delta_prefix(&m->payloads[0], 0, &lo, &hi);
	CU_ASSERT(lo == 0 && hi == 8388608 + 25165824);
	fw_delta_prefix(&m->payloads[0], 4, &lo, &hi);
	CU_ASSERT(lo == 4 * 8388608 - 25165824 && hi == 40000000);
	fw_delta_prefix(&m->payloads[0], 9, &lo, &hi);
	CU_ASSERT(lo == 40000000 && hi == 40000000);
	CU_ASSERT_EQUAL(fw_delta_window_log(FW_DELTA_FRAME_DEFAULT, FW_DELTA_MARGIN_DEFAULT), 26);
	/* Emitted and parsed again: the same. */
	CU_ASSERT_EQUAL_FATAL(fw_manifest_emit(m, &out, &out_len, &err), 0);
	m2 = parse_ok(out, out_len);
	CU_ASSERT_FATAL(m2 != NULL);
	CU_ASSERT(memcmp(&m->payloads[0].zstd, &m2->payloads[0].zstd, sizeof(m->payloads[0].zstd)) == 0);
	free(out);
	fw_manifest_free(m);
	fw_manifest_free(m2);

	reject_version("delta at version 3", delta_json(), 3, "needs \"format_version\" 4");
	reject_base_field("digest", json_string("00"), "base.digest");
	reject_base_field("size", NULL, "base.size");
	reject_base_field("chunk_size", json_integer(4097), "base.chunk_size");
	reject_base_field("margin", json_integer(64 * 1048576 + 1), "base.margin");
	reject_base_field("extra", json_integer(1), "extra");
	j = delta_json();
	json_object_set_new(json_object_get(image0(j), "compression"), "window_log", json_integer(28));
	reject("delta window above 2^27", j, "window_log");
	/* The window a delta declares covers its frame and prefix (the reader's memory): less is refused. */
	j = delta_json();
	json_object_set_new(json_object_get(image0(j), "compression"), "window_log", json_integer(25));
	reject("delta window below frame and prefix", j, "window_log\" is 25: a delta frame of 8388608 bytes and its prefix");
	j = delta_json();
	json_object_set_new(json_object_get(image0(j), "compression"), "frame_size", json_integer(268435456));
	reject("delta frame of 256 MiB under a window of 2^26", j, "need 2^30");
	j = delta_json();
	json_object_set_new(json_object_get(json_object_get(image0(j), "compression"), "base"), "margin",
			    json_integer(64 * 1048576));
	json_object_set_new(json_object_get(image0(j), "compression"), "window_log", json_integer(27));
	reject("delta margin of 64 MiB: no window covers it", j, "need 2^28");
	j = delta_json();
	json_object_set_new(json_object_get(image0(j), "compression"), "frame_size", json_integer(67108864));
	json_object_set_new(json_object_get(json_object_get(image0(j), "compression"), "base"), "margin", json_integer(0));
	json_object_set_new(json_object_get(image0(j), "compression"), "window_log", json_integer(27));
	s = dump(j, &len);
	json_decref(j);
	m = parse_ok(s, len);   /* 2 * 64 MiB: just covered */
	free(s);
	CU_ASSERT(m != NULL);
	fw_manifest_free(m);
	j = delta_json();
	json_object_set_new(json_object_get(image0(j), "compression"), "base", json_integer(1));
	reject("base not an object", j, "must be an object");
}

static void sbom_refused(const char *doc, const char *needle)
{
	struct fw_sbom b;
	struct fw_err err = { 0 };

	b.present = 7;
	CU_ASSERT_EQUAL(fw_sbom_check(doc, strlen(doc), &b, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_FALSE(b.present);
	if (strstr(err.msg, needle) == NULL)
		fprintf(stderr, "\n  %s: message \"%s\", wanted \"%s\"\n", doc, err.msg, needle);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
}

static void test_sbom_check(void)
{
	static const char good[] = "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\", \"version\": 1,"
				   " \"components\": [{\"type\": \"library\", \"name\": \"a\"}, {\"type\": \"library\", \"name\": \"b\"}]}";
	struct fw_sbom b;
	struct fw_err err = { 0 };
	uint8_t md[FW_DIGEST_LEN];

	CU_ASSERT_EQUAL(fw_sbom_check(good, strlen(good), &b, &err), 0);
	CU_ASSERT_TRUE(b.present);
	CU_ASSERT_STRING_EQUAL(b.spec_version, "1.5");
	CU_ASSERT_EQUAL(b.components, 2);
	CU_ASSERT_EQUAL(b.size, strlen(good));
	fw_sha256(good, strlen(good), md);
	CU_ASSERT_EQUAL(memcmp(md, b.sha256, sizeof(md)), 0);
	CU_ASSERT_TRUE(fw_sbom_spec_supported("1.6"));
	CU_ASSERT_FALSE(fw_sbom_spec_supported("1.4"));
	CU_ASSERT_FALSE(fw_sbom_spec_supported("1.6 "));
	CU_ASSERT_FALSE(fw_sbom_spec_supported(NULL));

	sbom_refused("", "empty");
	sbom_refused("{\"bomFormat\": \"CycloneDX\",", "not JSON: line 1");
	sbom_refused("{\"a\": 1, \"a\": 2}", "not JSON");
	sbom_refused("[]", "the top-level value is not an object");
	sbom_refused("{\"specVersion\": \"1.6\", \"components\": [{}]}", "\"bomFormat\" is missing, not \"CycloneDX\"");
	sbom_refused("{\"bomFormat\": \"SPDX\", \"specVersion\": \"1.6\", \"components\": [{}]}",
		     "\"bomFormat\" is \"SPDX\", not \"CycloneDX\"");
	sbom_refused("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.4\", \"components\": [{}]}",
		     "\"specVersion\" \"1.4\" is not supported (1.5 or 1.6)");
	sbom_refused("{\"bomFormat\": \"CycloneDX\", \"specVersion\": 1.6, \"components\": [{}]}",
		     "\"specVersion\" not a string is not supported");
	sbom_refused("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": []}",
		     "no components (\"components\" is empty)");
	sbom_refused("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\"}",
		     "no components (\"components\" is missing)");
	sbom_refused("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": {}}",
		     "no components (\"components\" is not an array)");
	{
		static const char nul[] = "{\"bomFormat\": \"CycloneDX\"}\0";
		CU_ASSERT_EQUAL(fw_sbom_check(nul, sizeof(nul) - 1, &b, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "NUL"));
	}
}

/* The one .wmopkg name rule at its boundaries; the reader's file-name check agrees with it. */
static void test_wmopkg_name_rule(void)
{
	char name[FW_PKG_NAME_MAX + 1], path[FW_PKG_NAME_MAX + 32];
	struct fw_manifest *m = fw_manifest_new(FW_TYPE_MODIFICATION);
	struct fw_err err = { 0 };

	CU_ASSERT_FATAL(m != NULL);
	/* Length: 1 and FW_PKG_NAME_MAX accepted, 0 and FW_PKG_NAME_MAX + 1 refused. */
	CU_ASSERT_EQUAL(fw_mod_name_from_path("a.wmopkg", name, &err), 0);
	CU_ASSERT_STRING_EQUAL(name, "a");
	CU_ASSERT_EQUAL(fw_mod_name_from_path(".wmopkg", name, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_EQUAL(fw_mod_name_from_path("dir/.wmopkg", name, &err), -1);
	memset(path, 'n', FW_PKG_NAME_MAX);
	snprintf(path + FW_PKG_NAME_MAX, sizeof(path) - FW_PKG_NAME_MAX, "%s", FW_MOD_EXT);
	CU_ASSERT_EQUAL(fw_mod_name_from_path(path, name, &err), 0);
	CU_ASSERT_EQUAL(strlen(name), FW_PKG_NAME_MAX);
	snprintf(m->name, sizeof(m->name), "%s", name);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(m, path, &err), 0);
	memset(path, 'n', FW_PKG_NAME_MAX + 1);
	snprintf(path + FW_PKG_NAME_MAX + 1, sizeof(path) - FW_PKG_NAME_MAX - 1, "%s", FW_MOD_EXT);
	CU_ASSERT_EQUAL(fw_mod_name_from_path(path, name, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "longer than"));
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(m, path, &err), -1);
	/* The extension: exact, at the end, of the base name only. */
	CU_ASSERT_EQUAL(fw_mod_name_from_path("wmopkg", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path("a.wmopk", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path("a.WMOPKG", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path("a.wmopkg/", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path("a.wmopkg.x", name, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not end in .wmopkg"));
	CU_ASSERT_EQUAL(fw_mod_name_from_path("x.wmopkg/b-1.2_c.wmopkg", name, &err), 0);
	CU_ASSERT_STRING_EQUAL(name, "b-1.2_c");
	/* The characters: fw_pkg_name_valid's. */
	CU_ASSERT_EQUAL(fw_mod_name_from_path(".a.wmopkg", name, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no valid package name"));
	CU_ASSERT_EQUAL(fw_mod_name_from_path("a+b.wmopkg", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path("a b.wmopkg", name, &err), -1);
	CU_ASSERT_EQUAL(fw_mod_name_from_path("a\033.wmopkg", name, &err), -1);
	CU_ASSERT_PTR_NULL(strchr(err.msg, '\033'));
	/* The reader: a name that is not NAME.wmopkg is not checked; a renamed one is refused. */
	snprintf(m->name, sizeof(m->name), "a");
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(m, "a.wmopkg", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(m, "d/a.wmopkg", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(m, "a.pkg", &err), 0);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(m, "ab.wmopkg", &err), -1);
	CU_ASSERT_EQUAL(fw_manifest_check_file_name(m, ".wmopkg", &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	fw_manifest_free(m);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "parses a valid manifest", test_valid },
		{ "emit/parse round trip", test_round_trip },
		{ "emit and validate refuse bad manifests", test_emit_validates },
		{ "rejects bad envelope", test_reject_envelope },
		{ "rejects unknown and missing keys", test_reject_keys },
		{ "rejects wrong types", test_reject_types },
		{ "rejects bad values", test_reject_values },
		{ "name rules", test_names },
		{ ".wmopkg name rule at its boundaries", test_wmopkg_name_rule },
		{ "the reader accepts every name the writer does", test_entry_names },
		{ "hex, chunks, targets", test_helpers },
		{ "SBOM: declared at format version 2, every field checked", test_sbom_manifest },
		{ "SBOM: the build-time check of a CycloneDX document", test_sbom_check },
		{ "compression: format version 3, every field checked", test_zstd_manifest },
		{ "delta: format version 4, the base checked, each frame's prefix", test_delta_manifest },
	};

	return unit_run("manifest", NULL, NULL, tests, UNIT_COUNT(tests));
}
