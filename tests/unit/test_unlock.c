/* test_unlock: unlock tokens made, parsed, checked against trust, device and expiry, and forged (signing/unlock.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "signing/minisign.h"
#include "signing/trust.h"
#include "signing/unlock.h"
#include "tests/unit/unit_main.h"

static char dir[] = "/tmp/test_unlock.XXXXXX";
static char pub[128], sec[128], pub2[128], sec2[128];
static struct sig_seckey *key, *key2;
static struct sig_trust trust;

static int setup(void)
{
	struct fw_err err;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(pub, sizeof(pub), "%s/k.pub", dir);
	snprintf(sec, sizeof(sec), "%s/k.key", dir);
	snprintf(pub2, sizeof(pub2), "%s/o.pub", dir);
	snprintf(sec2, sizeof(sec2), "%s/o.key", dir);
	if (sig_keygen(pub, sec, NULL, 0, &err) < 0 || sig_keygen(pub2, sec2, NULL, 0, &err) < 0 ||
	    sig_seckey_load(sec, NULL, &key, &err) < 0 || sig_seckey_load(sec2, NULL, &key2, &err) < 0)
		return -1;
	sig_trust_init(&trust);
	return sig_trust_add_file(&trust, pub, &err);
}

static int teardown(void)
{
	sig_seckey_free(key);
	sig_seckey_free(key2);
	unlink(pub);
	unlink(sec);
	unlink(pub2);
	unlink(sec2);
	return rmdir(dir);
}

static void test_roundtrip(void)
{
	struct sig_unlock u;
	struct fw_err err = { 0 };
	char *text = NULL;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(sig_unlock_create(key, "SN-1", 2000, 1000, &text, &len, &err), 0);
	CU_ASSERT_EQUAL(sig_unlock_parse(text, len, &trust, &u, &err), 0);
	CU_ASSERT_STRING_EQUAL(u.device, "SN-1");
	CU_ASSERT_EQUAL(u.expires, 2000);
	CU_ASSERT_EQUAL(u.created, 1000);
	CU_ASSERT_EQUAL(sig_unlock_check(&u, "SN-1", 1999, &err), 0);
	CU_ASSERT_EQUAL(sig_unlock_check(&u, "SN-1", 2000, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expired"));
	CU_ASSERT_EQUAL(sig_unlock_check(&u, "SN-2", 1500, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is for device SN-1, not this device (SN-2)"));
	free(text);
}

static void test_untrusted_and_forged(void)
{
	struct sig_unlock u;
	struct fw_err err = { 0 };
	char *text = NULL, *p;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(sig_unlock_create(key2, "SN-1", 2000, 1000, &text, &len, &err), 0);
	CU_ASSERT_EQUAL(sig_unlock_parse(text, len, &trust, &u, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unlock token: signed by "));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ", which is not trusted"));
	CU_ASSERT_EQUAL(err.kind, FW_KIND_SIGNATURE);
	free(text);
	CU_ASSERT_EQUAL_FATAL(sig_unlock_create(key, "SN-1", 2000, 1000, &text, &len, &err), 0);
	/* Another device id in the body (and the comment, so only the signature can tell). */
	while ((p = strstr(text, "SN-1")) != NULL)
		p[3] = '2';
	CU_ASSERT_EQUAL(sig_unlock_parse(text, len, &trust, &u, &err), -1);
	free(text);
	/* A later expiry in the body only: the trusted comment no longer matches. */
	CU_ASSERT_EQUAL_FATAL(sig_unlock_create(key, "SN-1", 2000, 1000, &text, &len, &err), 0);
	p = strstr(text, "\"token\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p = strstr(p, "2000");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p[0] = '9';
	CU_ASSERT_EQUAL(sig_unlock_parse(text, len, &trust, &u, &err), -1);
	free(text);
	CU_ASSERT_EQUAL(sig_unlock_parse("{}", 2, &trust, &u, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not an unlock token"));
	CU_ASSERT_EQUAL(sig_unlock_parse("not json", 8, &trust, &u, &err), -1);
}

/* A trust store of both keys whose policy wants two of them: tokens meet the threshold as packages do. */
static void test_threshold(void)
{
	const struct sig_seckey *one[] = { key }, *two[] = { key, key2 }, *same[] = { key, key };
	struct sig_trust t2;
	struct sig_unlock u;
	struct fw_err err = { 0 };
	char policy[160], *text = NULL;
	size_t len;
	FILE *f;

	snprintf(policy, sizeof(policy), "%s/policy.json", dir);
	f = fopen(policy, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"min_signatures\": 2}\n", f);
	fclose(f);
	sig_trust_init(&t2);
	CU_ASSERT_EQUAL_FATAL(sig_trust_add_file(&t2, pub, &err), 0);
	CU_ASSERT_EQUAL_FATAL(sig_trust_add_file(&t2, pub2, &err), 0);
	CU_ASSERT_EQUAL_FATAL(sig_trust_add_policy_file(&t2, policy, &err), 0);

	CU_ASSERT_EQUAL_FATAL(sig_unlock_create_keys(one, 1, "SN-1", 2000, 1000, &text, &len, &err), 0);
	CU_ASSERT_EQUAL(sig_unlock_parse(text, len, &t2, &u, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too few signatures by trusted keys: have 1, need 2"));
	CU_ASSERT_EQUAL(err.kind, FW_KIND_SIGNATURE);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	/* Without the policy one key is enough. */
	CU_ASSERT_EQUAL(sig_unlock_parse(text, len, &trust, &u, &err), 0);
	free(text);

	CU_ASSERT_EQUAL_FATAL(sig_unlock_create_keys(same, 2, "SN-1", 2000, 1000, &text, &len, &err), 0);
	CU_ASSERT_EQUAL(sig_unlock_parse(text, len, &t2, &u, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "have 1, need 2"));
	free(text);

	CU_ASSERT_EQUAL_FATAL(sig_unlock_create_keys(two, 2, "SN-1", 2000, 1000, &text, &len, &err), 0);
	CU_ASSERT_EQUAL(sig_unlock_parse(text, len, &t2, &u, &err), 0);
	CU_ASSERT_STRING_EQUAL(u.device, "SN-1");
	free(text);
	sig_trust_free(&t2);
	unlink(policy);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "make, parse, device and expiry", test_roundtrip },
		{ "untrusted signer, forged device or expiry, not a token", test_untrusted_and_forged },
		{ "policy min_signatures 2: one key refused, the same key twice once, two keys accepted", test_threshold },
	};

	return unit_run("unlock", setup, teardown, tests, UNIT_COUNT(tests));
}
