/* test_catalog: the catalog's emit/parse round trip, its strict parser, lookups and time checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "formats/catalog.h"
#include "formats/version.h"
#include "signing/minisign.h"
#include "signing/trust.h"
#include "tests/unit/unit_main.h"

#include <unistd.h>

static struct fw_catalog cat, back;
static struct fw_err err;

static void release(const char *product, const char *version, uint32_t gen, const char *from)
{
	struct fw_release *r = &cat.rel[cat.n++];

	memset(r, 0, sizeof(*r));
	snprintf(r->product, sizeof(r->product), "%s", product);
	snprintf(r->version, sizeof(r->version), "%s", version);
	CU_ASSERT_FATAL(fw_version_parse(version, &r->ver, &err) == 0);
	snprintf(r->bridge_from, sizeof(r->bridge_from), "%s", from);
	snprintf(r->url[0], sizeof(r->url[0]), "https://fw.example.com/%s-%s.pkg", product, version);
	snprintf(r->url[1], sizeof(r->url[1]), "http://mirror.example.com/%s-%s.pkg", product, version);
	r->n_urls = 2;
	r->length = 4096 * (1 + cat.n);
	memset(r->manifest_sha256, 0x11 * (int)cat.n, FW_DIGEST_LEN);
	r->generation = gen;
	r->rollout = 50;
}

static void make(void)
{
	memset(&cat, 0, sizeof(cat));
	cat.serial = 42;
	cat.created = 1700000000;
	cat.expires = 1700000000 + 86400;
	release("WX", "5.22.2", 2, "5.21.2");
	release("WX", "5.21.2", 1, "");
	release("WY", "1.0.0", 1, "");
	CU_ASSERT_FATAL(fw_catalog_sort(&cat, &err) == 0);
}

static void test_round_trip(void)
{
	char *text;

	make();
	text = fw_catalog_emit(&cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(fw_catalog_parse(text, strlen(text), &back, &err), 0);
	CU_ASSERT_EQUAL(back.n, 3);
	CU_ASSERT_EQUAL(back.serial, 42);
	CU_ASSERT_EQUAL(back.expires, cat.expires);
	for (size_t i = 0; i < back.n; i++) {
		CU_ASSERT_STRING_EQUAL(back.rel[i].version, cat.rel[i].version);
		CU_ASSERT_STRING_EQUAL(back.rel[i].url[1], cat.rel[i].url[1]);
		CU_ASSERT_EQUAL(memcmp(back.rel[i].manifest_sha256, cat.rel[i].manifest_sha256, FW_DIGEST_LEN), 0);
		CU_ASSERT_EQUAL(back.rel[i].rollout, 50);
	}
	CU_ASSERT_STRING_EQUAL(fw_catalog_newest(&back, "WX")->version, "5.22.2");
	CU_ASSERT_STRING_EQUAL(fw_catalog_find(&back, "WX", "5.21.2")->bridge_from, "");
	CU_ASSERT_PTR_NULL(fw_catalog_newest(&back, "WZ"));
	free(text);
}

/* A delta of WX 5.22.2 against 5.21.2: format version 3, read back whole; without deltas version 1 stays. */
static void test_deltas(void)
{
	struct fw_catalog_delta *d;
	char *text;
	size_t n;

	make();
	text = fw_catalog_emit(&cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"format_version\": 1,"));
	free(text);
	d = &cat.delta[cat.n_deltas++];
	snprintf(d->product, sizeof(d->product), "WX");
	snprintf(d->version, sizeof(d->version), "5.22.2");
	snprintf(d->base_version, sizeof(d->base_version), "5.21.2");
	snprintf(d->url[0], sizeof(d->url[0]), "https://fw.example.com/WX-5.22.2-from-5.21.2.pkg");
	d->n_urls = 1;
	d->length = 777;
	memset(d->manifest_sha256, 0x5a, FW_DIGEST_LEN);
	d->n_images = 2;
	d->image[0].target = FW_TARGET_SEC;
	d->image[0].size = 3 << 20;
	d->image[0].chunk_size = 1 << 20;
	memset(d->image[0].digest, 0x21, FW_DIGEST_LEN);
	d->image[0].has_base = 1;
	d->image[0].base_size = 2 << 20;
	d->image[0].base_chunk_size = 65536;
	memset(d->image[0].base_digest, 0x31, FW_DIGEST_LEN);
	d->image[1].target = FW_TARGET_BOOT;
	d->image[1].size = 4000;
	d->image[1].chunk_size = 1 << 20;
	CU_ASSERT_FATAL(fw_catalog_sort(&cat, &err) == 0);
	text = fw_catalog_emit(&cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"format_version\": 3,"));
	CU_ASSERT_EQUAL_FATAL(fw_catalog_parse(text, strlen(text), &back, &err), 0);
	CU_ASSERT_EQUAL_FATAL(back.n_deltas, 1);
	d = &back.delta[0];
	CU_ASSERT_STRING_EQUAL(d->product, "WX");
	CU_ASSERT_STRING_EQUAL(d->version, "5.22.2");
	CU_ASSERT_STRING_EQUAL(d->base_version, "5.21.2");
	CU_ASSERT_EQUAL(d->length, 777);
	CU_ASSERT_EQUAL(d->n_images, 2);
	CU_ASSERT_EQUAL(d->image[0].target, FW_TARGET_SEC);
	CU_ASSERT_TRUE(d->image[0].has_base);
	CU_ASSERT_EQUAL(d->image[0].base_size, 2 << 20);
	CU_ASSERT_EQUAL(d->image[0].base_chunk_size, 65536);
	CU_ASSERT_EQUAL(d->image[0].base_digest[5], 0x31);
	CU_ASSERT_FALSE(d->image[1].has_base);
	CU_ASSERT_PTR_EQUAL(fw_catalog_deltas_of(&back, fw_catalog_find(&back, "WX", "5.22.2"), &n), d);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_PTR_NULL(fw_catalog_deltas_of(&back, fw_catalog_find(&back, "WX", "5.21.2"), &n));
	/* A version 2 reader's keys: "deltas" under version 2 is an unknown key. */
	{
		char *at = strstr(text, "\"format_version\": 3,");

		at[18] = '2';
		CU_ASSERT_EQUAL(fw_catalog_parse(text, strlen(text), &back, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown key \"deltas\""));
	}
	free(text);
	/* A delta without its full package: refused. */
	snprintf(cat.delta[0].version, sizeof(cat.delta[0].version), "9.9.9");
	CU_ASSERT_EQUAL(fw_catalog_sort(&cat, &err), -1);
}

/* Parse text with `from` replaced by `to`; expect a refusal naming `want`. */
static void refused(const char *from, const char *to, const char *want)
{
	char *text, *edited, *at;

	make();
	text = fw_catalog_emit(&cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	at = strstr(text, from);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	edited = malloc(strlen(text) + strlen(to) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(edited);
	sprintf(edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	CU_ASSERT_EQUAL(fw_catalog_parse(edited, strlen(edited), &back, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	if (strstr(err.msg, want) == NULL)
		fprintf(stderr, "\n  \"%s\" lacks \"%s\"\n", err.msg, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
	free(edited);
	free(text);
}

static void test_strict(void)
{
	refused("\"format\": \"fwpkg-catalog\"", "\"format\": \"other\"", "format is not");
	refused("\"serial\": 42", "\"serial\": 42, \"extra\": 1", "unknown key \"extra\"");
	refused("\"serial\": 42", "\"serial\": -1", "serial: missing or out of range");
	refused("\"serial\": 42", "\"serial\": 42, \"serial\": 43", "duplicate");
	refused("\"rollout\": 50", "\"rollout\": 101", "rollout: missing or out of range");
	refused("\"version\": \"5.22.2\"", "\"version\": \"5.22.x\"", "version");
	refused("\"manifest_sha256\": \"", "\"manifest_sha256\": \"zz", "manifest_sha256: not 64 hex digits");
	refused("\"https://fw.example.com/WX-5.22.2.pkg\"", "\"https://fw.example.com/a b\"", "space or control");
	refused("\"urls\": [", "\"urls\": [], \"x\": [", "unknown key");
	refused("\"WY\": [", "\"../WY\": [", "is not a product");
	/* The same release twice. */
	refused("\"version\": \"5.21.2\"", "\"version\": \"5.22.2\"", "two packages of WX 5.22.2");
}

static void test_limits_and_time(void)
{
	char *big = malloc(FW_CATALOG_MAX_BYTES + 2);

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, ' ', FW_CATALOG_MAX_BYTES + 1);
	CU_ASSERT_EQUAL(fw_catalog_parse(big, FW_CATALOG_MAX_BYTES + 1, &back, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "larger than"));
	free(big);
	make();
	CU_ASSERT_EQUAL(fw_catalog_check_time(&cat, cat.created + 10, &err), 0);
	CU_ASSERT_EQUAL(fw_catalog_check_time(&cat, cat.expires, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expired at 2023-11-15T22:13:20Z"));
	CU_ASSERT_EQUAL(fw_catalog_check_time(&cat, cat.created - 3600, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "created in the future"));
}

/* Write a small file; 0 on success. */
static int put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Under policy.json min_signatures 2 a catalog needs two distinct trusted keys, as a package does. */
static void test_threshold(void)
{
	char dir[] = "/tmp/test_catalog.XXXXXX", p1[96], s1[96], p2[96], s2[96], pol[96];
	char signer[FW_CATALOG_SIGNER_MAX], *text, *a = NULL, *b = NULL, both[2 * SIG_FILE_MAX];
	struct sig_seckey *k1 = NULL, *k2 = NULL;
	struct sig_trust t;
	size_t alen, blen;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/1.pub", dir);
	snprintf(s1, sizeof(s1), "%s/1.key", dir);
	snprintf(p2, sizeof(p2), "%s/2.pub", dir);
	snprintf(s2, sizeof(s2), "%s/2.key", dir);
	snprintf(pol, sizeof(pol), "%s/policy.json", dir);
	CU_ASSERT_FATAL(sig_keygen(p1, s1, NULL, 0, &err) == 0 && sig_keygen(p2, s2, NULL, 0, &err) == 0);
	CU_ASSERT_FATAL(sig_seckey_load(s1, NULL, &k1, &err) == 0 && sig_seckey_load(s2, NULL, &k2, &err) == 0);
	CU_ASSERT_FATAL(put(pol, "{\"min_signatures\": 2}\n") == 0);
	sig_trust_init(&t);
	CU_ASSERT_FATAL(sig_trust_add_file(&t, p1, &err) == 0 && sig_trust_add_file(&t, p2, &err) == 0 &&
			sig_trust_add_policy_file(&t, pol, &err) == 0);
	make();
	text = fw_catalog_emit(&cat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_FATAL(sig_sign(k1, text, strlen(text), "c", &a, &alen, &err) == 0);
	CU_ASSERT_FATAL(sig_sign(k2, text, strlen(text), "c", &b, &blen, &err) == 0);

	/* One key. */
	CU_ASSERT_EQUAL(fw_catalog_verify(SIG_KIND_MINISIGN, text, strlen(text), a, alen, &t, &back, signer, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too few signatures by trusted keys: have 1, need 2"));
	CU_ASSERT_EQUAL(err.kind, FW_KIND_SIGNATURE);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	/* The same key twice. */
	memcpy(both, a, alen);
	memcpy(both + alen, a, alen);
	CU_ASSERT_EQUAL(fw_catalog_verify(SIG_KIND_MINISIGN, text, strlen(text), both, 2 * alen, &t, &back, signer,
					  &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "have 1, need 2"));
	/* Two keys, either order. */
	memcpy(both + alen, b, blen);
	CU_ASSERT_EQUAL(fw_catalog_verify(SIG_KIND_MINISIGN, text, strlen(text), both, alen + blen, &t, &back, signer,
					  &err), 0);
	CU_ASSERT_EQUAL(back.serial, 42);
	memcpy(both, b, blen);
	memcpy(both + blen, a, alen);
	CU_ASSERT_EQUAL(fw_catalog_verify(SIG_KIND_MINISIGN, text, strlen(text), both, alen + blen, &t, &back, signer,
					  &err), 0);
	/* A trusted key's signature that fails refuses the catalog, however many others verify. */
	both[blen + alen - 5] ^= 1;
	CU_ASSERT_EQUAL(fw_catalog_verify(SIG_KIND_MINISIGN, text, strlen(text), both, alen + blen, &t, &back, signer,
					  &err), -1);
	CU_ASSERT_EQUAL(err.kind, FW_KIND_SIGNATURE);
	free(a);
	free(b);
	free(text);
	sig_trust_free(&t);
	sig_seckey_free(k1);
	sig_seckey_free(k2);
	unlink(p1);
	unlink(s1);
	unlink(p2);
	unlink(s2);
	unlink(pol);
	rmdir(dir);
}

static void test_duration(void)
{
	int64_t v;

	CU_ASSERT(fw_duration_parse("90", &v) == 0 && v == 90);
	CU_ASSERT(fw_duration_parse("30m", &v) == 0 && v == 1800);
	CU_ASSERT(fw_duration_parse("12h", &v) == 0 && v == 43200);
	CU_ASSERT(fw_duration_parse("30d", &v) == 0 && v == 30 * 86400);
	CU_ASSERT(fw_duration_parse("2w", &v) == 0 && v == 14 * 86400);
	CU_ASSERT_EQUAL(fw_duration_parse("0", &v), -1);
	CU_ASSERT_EQUAL(fw_duration_parse("-5d", &v), -1);
	CU_ASSERT_EQUAL(fw_duration_parse("5y", &v), -1);
	CU_ASSERT_EQUAL(fw_duration_parse("5dd", &v), -1);
	CU_ASSERT_EQUAL(fw_duration_parse("", &v), -1);
	CU_ASSERT_EQUAL(fw_duration_parse("99999999999999999w", &v), -1);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "emit and parse round trip", test_round_trip },
		{ "strict parser", test_strict },
		{ "deltas: format version 3 only with them, round trip, need their release", test_deltas },
		{ "size limit and time", test_limits_and_time },
		{ "durations", test_duration },
		{ "policy min_signatures 2: one key, the same key twice refused; two keys accepted", test_threshold },
	};

	return unit_run("catalog", NULL, NULL, tests, UNIT_COUNT(tests));
}
