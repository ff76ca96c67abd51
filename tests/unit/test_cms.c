/* test_cms: CMS signing and verification against a test PKI, CMS parsing limits, trust files, key fingerprints, pkcs11: URIs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "signing/cms.h"
#include "signing/cms_sign.h"
#include "signing/ossl.h"
#include "signing/pkcs11_sign.h"
#include "signing/trust.h"

static char dir[] = "/tmp/fwpkg-unit-cms.XXXXXX";
static const char msg[] = "{\"format\": \"fwpkg\"}\n";

static const char *path(const char *name)
{
	static char buf[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int n;

	n = snprintf(cmd, sizeof(cmd), "cd '%s' && exec >/dev/null 2>&1 && ", dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	return system(cmd);
}

static char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	char *buf = malloc(1 << 20);

	*len = f ? fread(buf, 1, 1 << 20, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

/* A CMS signature of msg by NAME (leaf certificate NAME.crt, the intermediate carried). */
static char *sign_with(const char *name, size_t *len)
{
	const char *inter[] = { path("inter.crt") };
	struct sig_signer *s = NULL;
	struct fw_err err = { 0 };
	char key[600], crt[600], *out = NULL;

	snprintf(key, sizeof(key), "%s.key", path(name));
	snprintf(crt, sizeof(crt), "%s.crt", path(name));
	if (sig_signer_cms_files(key, NULL, crt, inter, 1, &s, &err) < 0 ||
	    sig_signer_sign(s, msg, strlen(msg), NULL, 1700000000, &out, len, &err) < 0)
		fprintf(stderr, "\n  signing as %s: %s\n", name, err.msg);
	sig_signer_free(s);
	return out;
}

/* The same, made by stock openssl: for certificates our signer refuses, as a package signed elsewhere reaches a verifier. */
static char *sign_elsewhere(const char *name, size_t *len)
{
	char out[64];

	snprintf(out, sizeof(out), "%.32s.elsewhere.der", name);
	if (sh("openssl cms -sign -binary -nosmimecap -outform DER -md sha256 -in msg.txt -signer %s.crt -inkey %s.key "
	       "-certfile inter.crt -out %s", name, name, out) != 0)
		return NULL;
	return slurp(path(out), len);
}

static int setup(void)
{
	char cwd[4096];

	if (mkdtemp(dir) == NULL || getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	return sh(". '%s/tests/e2e/pki.sh' && pki_make && printf '%%s' '%s' >msg.txt && "
		  "openssl genpkey -algorithm ED25519 -out ed.key && "
		  "openssl req -new -key ed.key -subj /CN=Ed -out ed.csr -config inter.ca/ca.cnf && "
		  "openssl ca -batch -config inter.ca/ca.cnf -cert inter.crt -keyfile inter.key -in ed.csr -out ed.crt "
		  "-extensions v3_sign -notext", cwd, msg) == 0 ? 0 : -1;
}

static int teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void trust_root(struct sig_trust *t, const char *ca)
{
	struct fw_err err = { 0 };

	sig_trust_init(t);
	CU_ASSERT_EQUAL_FATAL(sig_trust_add_ca_file(t, path(ca), &err), 0);
}

static void test_sign_verify(void)
{
	struct sig_trust t;
	struct sig_cms_info info;
	struct fw_err err = { 0 };
	size_t len;
	char *der = sign_with("leaf", &len);
	char changed[sizeof(msg)];

	CU_ASSERT_PTR_NOT_NULL_FATAL(der);
	trust_root(&t, "root.crt");
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), SIG_CMS_VALID);
	CU_ASSERT_STRING_EQUAL(info.subject, "CN=Firmware Signer");
	CU_ASSERT_STRING_EQUAL(info.issuer, "CN=Test Signing CA");
	CU_ASSERT_EQUAL(strncmp(info.chain, "valid: 3 certificates", 21), 0);
	CU_ASSERT_EQUAL(info.not_before, 1577836800);   /* 2020-01-01 */
	/* One byte changed in the message: a trusted signer's mismatch is a rejection. */
	memcpy(changed, msg, sizeof(msg));
	changed[3] ^= 1;
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, changed, strlen(changed), &t, &info, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not match"));
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	/* The mathematics alone (--attach) agree. */
	CU_ASSERT_EQUAL(sig_cms_check_signature(der, len, msg, strlen(msg), &info, &err), 0);
	CU_ASSERT_EQUAL(sig_cms_check_signature(der, len, changed, strlen(changed), &info, &err), -1);
	/* Not every signature matches stock OpenSSL's reading: it must. */
	{
		FILE *f = fopen(path("sig.der"), "wb");
		fwrite(der, 1, len, f);
		fclose(f);
		CU_ASSERT_EQUAL(sh("openssl cms -verify -binary -inform DER -in sig.der -content msg.txt -CAfile root.crt "
				   "-purpose any -out /dev/null"), 0);
	}
	sig_trust_free(&t);
	free(der);
}

static void test_untrusted_and_rejected(void)
{
	struct sig_trust t, none;
	struct sig_cms_info info;
	struct fw_err err = { 0 };
	size_t len;
	char *der = sign_with("leaf", &len);

	trust_root(&t, "other-root.crt");
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), SIG_CMS_UNTRUSTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(info.chain, "no path to a trusted CA"));
	sig_trust_free(&t);
	sig_trust_init(&none);
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &none, &info, &err), SIG_CMS_UNTRUSTED);
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), NULL, &info, &err), SIG_CMS_UNTRUSTED);
	free(der);

	static const struct { const char *name, *why; } bad[] = {
		{ "expired", "certificate has expired" },
		{ "notyet", "certificate is not yet valid" },
		{ "noku", "key usage does not include digitalSignature" },
		{ "noeku", "extended key usage does not include codeSigning" },
	};
	trust_root(&t, "root.crt");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		der = i < 2 ? sign_with(bad[i].name, &len) : sign_elsewhere(bad[i].name, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(der);
		CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), -1);
		if (strstr(err.msg, bad[i].why) == NULL)
			fprintf(stderr, "\n  %s: %s\n", bad[i].name, err.msg);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].why));
		if (i == 0) {
			t.no_check_time = 1;
			CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), SIG_CMS_VALID);
			t.no_check_time = 0;
		}
		free(der);
	}
	/* Revoked, once the CRLs of the whole chain are known. */
	der = sign_with("revoked", &len);
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), SIG_CMS_VALID);
	CU_ASSERT_EQUAL(sig_trust_add_crl_file(&t, path("inter.crl"), &err), 0);
	CU_ASSERT_EQUAL(sig_trust_add_crl_file(&t, path("root.crl"), &err), 0);
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "certificate revoked"));
	free(der);
	sig_trust_free(&t);
}

/* A certificate every verifier would refuse is refused when signing, in the verifier's words, as a usage error. */
static void test_signer_refuses_usage(void)
{
	static const struct { const char *name, *why; } bad[] = {
		{ "noku", "certificate \"CN=No KU Signer\": key usage does not include digitalSignature" },
		{ "noeku", "certificate \"CN=Server Cert\": extended key usage does not include codeSigning" },
	};
	struct sig_signer *s = NULL;
	struct fw_err err = { 0 };
	char key[600], crt[600], want[700];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(key, sizeof(key), "%s.key", path(bad[i].name));
		snprintf(crt, sizeof(crt), "%s.crt", path(bad[i].name));
		snprintf(want, sizeof(want), "%s: %s", crt, bad[i].why);
		memset(&err, 0, sizeof(err));
		CU_ASSERT_EQUAL(sig_signer_cms_files(key, NULL, crt, NULL, 0, &s, &err), -1);
		CU_ASSERT_PTR_NULL(s);
		CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
		CU_ASSERT_STRING_EQUAL(err.msg, want);
	}
	/* A key that is not the certificate's: the user's credentials (6), a kind code decides on. */
	snprintf(key, sizeof(key), "%s", path("leaf2.key"));
	snprintf(crt, sizeof(crt), "%s", path("leaf.crt"));
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_signer_cms_files(key, NULL, crt, NULL, 0, &s, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_CREDENTIALS);
	CU_ASSERT_EQUAL(err.kind, FW_KIND_KEY_MISMATCH);
}

static void test_pins_and_depth(void)
{
	struct sig_trust t;
	struct sig_cms_info info;
	struct fw_err err = { 0 };
	size_t len;
	char *der = sign_with("leaf", &len), hex[65];

	trust_root(&t, "root.crt");
	CU_ASSERT_EQUAL(sig_trust_add_pin(&t, "Firmware Signer 2", &err), 0);
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), SIG_CMS_UNTRUSTED);
	sig_hex(info.cert_sha256, 32, hex);
	CU_ASSERT_EQUAL(sig_trust_add_pin(&t, hex, &err), 0);
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), SIG_CMS_VALID);
	t.max_depth = 0;
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chain too long"));
	t.max_depth = 1;
	CU_ASSERT_EQUAL(sig_cms_verify(der, len, msg, strlen(msg), &t, &info, &err), SIG_CMS_VALID);
	sig_trust_free(&t);
	free(der);
}

/* Signatures stock openssl makes that the reader must refuse, each for its reason. */
static void test_parse_refusals(void)
{
	static const struct { const char *args, *why; } cases[] = {
		{ "-signer leaf.crt -inkey leaf.key -nodetach", "not detached" },
		{ "-signer leaf.crt -inkey leaf.key -md sha1", "digest SHA1 is not accepted" },
		{ "-signer leaf.crt -inkey leaf.key -nocerts", "does not carry its signer's certificate" },
		{ "-signer leaf.crt -inkey leaf.key -signer leaf2.crt -inkey leaf2.key", "2 signers, expected one" },
	};
	struct sig_cms_info info;
	struct fw_err err = { 0 };
	size_t len;
	char *der;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(sh("openssl cms -sign -binary -nosmimecap -outform DER -in msg.txt %s -out bad.der",
					 cases[i].args), 0);
		der = slurp(path("bad.der"), &len);
		CU_ASSERT_EQUAL(sig_cms_parse(der, len, &info, &err), -1);
		if (strstr(err.msg, cases[i].why) == NULL)
			fprintf(stderr, "\n  %s: %s\n", cases[i].args, err.msg);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].why));
		free(der);
	}
	/* A good one, then damaged: trailing bytes, cut short, garbage. */
	der = sign_with("leaf", &len);
	CU_ASSERT_EQUAL(sig_cms_parse(der, len, &info, &err), 0);
	der = realloc(der, len + 1);
	der[len] = 0;
	CU_ASSERT_EQUAL(sig_cms_parse(der, len + 1, &info, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "followed by 1 extra bytes"));
	CU_ASSERT_EQUAL(sig_cms_parse(der, len - 10, &info, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a DER CMS signature"));
	CU_ASSERT_EQUAL(sig_cms_parse("garbage", 7, &info, &err), -1);
	CU_ASSERT_EQUAL(sig_cms_parse(der, SIG_CMS_MAX + 1, &info, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "larger than"));
	free(der);
}

/* A key is the same key whichever scheme carries it: minisign's raw Ed25519 key and a certificate's. */
static void test_fingerprint_across_schemes(void)
{
	FILE *f = fopen(path("ed.crt"), "r");
	X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k;
	uint8_t raw[32], a[SIG_FPR_LEN], b[SIG_FPR_LEN];
	size_t n = sizeof(raw);

	if (f)
		fclose(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	k = X509_get0_pubkey(cert);
	CU_ASSERT_EQUAL_FATAL(EVP_PKEY_get_raw_public_key(k, raw, &n), 1);
	CU_ASSERT_EQUAL(sig_ed25519_fpr(raw, a), 0);
	CU_ASSERT_EQUAL(sig_x509_key_fpr(cert, b), 0);
	CU_ASSERT_EQUAL(memcmp(a, b, SIG_FPR_LEN), 0);
	raw[0] ^= 1;
	CU_ASSERT_EQUAL(sig_ed25519_fpr(raw, a), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, SIG_FPR_LEN), 0);
	X509_free(cert);
}

/* A public key as the given type ("RSA" or "RSA-PSS") with n and e from src. */
static EVP_PKEY *rsa_as(const EVP_PKEY *src, const char *type)
{
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *out = NULL;

	CU_ASSERT_EQUAL(EVP_PKEY_get_bn_param(src, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	CU_ASSERT_EQUAL(EVP_PKEY_get_bn_param(src, OSSL_PKEY_PARAM_RSA_E, &e), 1);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
	params = OSSL_PARAM_BLD_to_param(bld);
	CU_ASSERT_EQUAL(EVP_PKEY_fromdata_init(ctx), 1);
	CU_ASSERT_EQUAL(EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return out;
}

static X509 *cert_for(EVP_PKEY *key)
{
	X509 *c = X509_new();

	CU_ASSERT_EQUAL(X509_set_pubkey(c, key), 1);
	return c;
}

/*
 * One RSA key certified as rsaEncryption and as RSASSA-PSS (another OID, the
 * SubjectPublicKeyInfo's bytes differ) is one key: else a single signer
 * would count twice towards a key threshold.
 */
static void test_fingerprint_rsa_pss(void)
{
	EVP_PKEY *a = EVP_RSA_gen(1024), *b = EVP_RSA_gen(1024), *pss, *plain;
	X509 *ca, *cpss, *cplain, *cb;
	uint8_t fa[SIG_FPR_LEN], fpss[SIG_FPR_LEN], fplain[SIG_FPR_LEN], fb[SIG_FPR_LEN];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pss = rsa_as(a, "RSA-PSS");
	plain = rsa_as(a, "RSA");
	CU_ASSERT_PTR_NOT_NULL_FATAL(pss);
	CU_ASSERT(EVP_PKEY_is_a(pss, "RSA-PSS"));
	ca = cert_for(a);
	cpss = cert_for(pss);
	cplain = cert_for(plain);
	cb = cert_for(b);
	CU_ASSERT_EQUAL(sig_x509_key_fpr(ca, fa), 0);
	CU_ASSERT_EQUAL(sig_x509_key_fpr(cpss, fpss), 0);
	CU_ASSERT_EQUAL(sig_x509_key_fpr(cplain, fplain), 0);
	CU_ASSERT_EQUAL(sig_x509_key_fpr(cb, fb), 0);
	CU_ASSERT_EQUAL(memcmp(fa, fpss, SIG_FPR_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(fa, fplain, SIG_FPR_LEN), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(fa, fb, SIG_FPR_LEN), 0);
	X509_free(ca);
	X509_free(cpss);
	X509_free(cplain);
	X509_free(cb);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(pss);
	EVP_PKEY_free(plain);
}

static void test_trust_files(void)
{
	enum sig_trust_kind kind;
	struct sig_trust t;
	struct fw_err err = { 0 };
	char name[64];

	CU_ASSERT_EQUAL(sig_trust_file_check(path("root.crt"), &kind, name, sizeof(name), &err), 0);
	CU_ASSERT_EQUAL(kind, SIG_TRUST_CA);
	CU_ASSERT_EQUAL(strlen(name), 20);
	CU_ASSERT_STRING_EQUAL(name + 16, ".crt");
	CU_ASSERT_EQUAL(sig_trust_file_check(path("inter.crl"), &kind, name, sizeof(name), &err), 0);
	CU_ASSERT_EQUAL(kind, SIG_TRUST_CRL);
	CU_ASSERT_EQUAL(sig_trust_file_check(path("leaf.crt"), &kind, name, sizeof(name), &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is not a CA certificate"));
	CU_ASSERT_EQUAL(err.kind, FW_KIND_NOT_CA);   /* what sig_trust_file_check decided on */
	CU_ASSERT_EQUAL(sig_trust_file_check(path("leaf.key"), &kind, name, sizeof(name), &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	/* A directory with one bad certificate file changes nothing. */
	CU_ASSERT_EQUAL_FATAL(sh("mkdir ring && cp root.crt ring/a.crt && cp inter.crl ring/b.crl && cp leaf.crt ring/c.pem"), 0);
	sig_trust_init(&t);
	CU_ASSERT_EQUAL(sig_trust_add_dir(&t, path("ring"), &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "c.pem"));
	CU_ASSERT_EQUAL(t.n_cas, 0);
	CU_ASSERT_EQUAL(t.n_crls, 0);
	CU_ASSERT_PTR_NULL(t.x509);
	CU_ASSERT_EQUAL_FATAL(sh("rm ring/c.pem"), 0);
	CU_ASSERT_EQUAL(sig_trust_add_dir(&t, path("ring"), &err), 0);
	CU_ASSERT_EQUAL(t.n_cas, 1);
	CU_ASSERT_EQUAL(t.n_crls, 1);
	sig_trust_free(&t);

	/* A policy: checked, named policy.json, taken whole or not at all, one per store. */
	CU_ASSERT_EQUAL_FATAL(sh("printf '{\"min_signatures\": 2, \"check_time\": false, \"signers\": [\"A\", \"B\"]}' >p.json && "
				 "printf '{\"min_signatures\": 2, \"signers\": [\"A\", 3]}' >bad.json"), 0);
	CU_ASSERT_EQUAL(sig_trust_file_check(path("p.json"), &kind, name, sizeof(name), &err), 0);
	CU_ASSERT_EQUAL(kind, SIG_TRUST_POLICY);
	CU_ASSERT_STRING_EQUAL(name, "policy.json");
	sig_trust_init(&t);
	CU_ASSERT_EQUAL(sig_trust_add_policy_file(&t, path("bad.json"), &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "signers: expected strings"));
	CU_ASSERT(t.min_keys == 0 && t.n_pins == 0 && !t.have_policy);
	CU_ASSERT_EQUAL(sig_trust_add_policy_file(&t, path("p.json"), &err), 0);
	CU_ASSERT(t.min_keys == 2 && t.no_check_time == 1 && t.n_pins == 2 && t.have_policy);
	CU_ASSERT_EQUAL(sig_trust_add_policy_file(&t, path("p.json"), &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "one policy"));
	sig_trust_free(&t);
}

static void test_pkcs11_uri(void)
{
	struct sig_p11_uri u;
	struct fw_err err = { 0 };

	CU_ASSERT_EQUAL(sig_p11_uri_parse("pkcs11:token=My%20Token;object=release;id=%01%ff;type=private"
					  "?module-path=/usr/lib/x.so&pin-source=file:/run/pin", &u, &err), 0);
	CU_ASSERT_STRING_EQUAL(u.token, "My Token");
	CU_ASSERT_STRING_EQUAL(u.object, "release");
	CU_ASSERT_EQUAL(u.id_len, 2);
	CU_ASSERT(u.has_id && u.id[0] == 0x01 && u.id[1] == 0xff);
	CU_ASSERT_STRING_EQUAL(u.module, "/usr/lib/x.so");
	CU_ASSERT_STRING_EQUAL(u.pin_source, "/run/pin");
	CU_ASSERT_STRING_EQUAL(u.clean, "pkcs11:token=My%20Token;object=release;id=%01%ff;type=private");
	CU_ASSERT_EQUAL(sig_p11_uri_parse("pkcs11:token=t?pin-value=1234", &u, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "pin-value"));
	CU_ASSERT_EQUAL(sig_p11_uri_parse("pkcs11:token=t;serial=1", &u, &err), -1);
	CU_ASSERT_EQUAL(sig_p11_uri_parse("pkcs11:token=%zz", &u, &err), -1);
	CU_ASSERT_EQUAL(sig_p11_uri_parse("pkcs11:token=%4", &u, &err), -1);
	CU_ASSERT_EQUAL(sig_p11_uri_parse("pkcs11:object=a%00b", &u, &err), -1);
	CU_ASSERT_EQUAL(sig_p11_uri_parse("pkcs11:type=secret-key", &u, &err), -1);
	CU_ASSERT_EQUAL(sig_p11_uri_parse("file:x", &u, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
}

int main(void)
{
	CU_pSuite suite;
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 3;
	suite = CU_add_suite("cms", setup, teardown);
	CU_add_test(suite, "sign and verify, openssl agrees", test_sign_verify);
	CU_add_test(suite, "untrusted is ignored, bad under a trusted CA is rejected", test_untrusted_and_rejected);
	CU_add_test(suite, "signing refuses a certificate that cannot sign code", test_signer_refuses_usage);
	CU_add_test(suite, "signer pins and chain depth", test_pins_and_depth);
	CU_add_test(suite, "CMS structures refused", test_parse_refusals);
	CU_add_test(suite, "one key fingerprint across schemes", test_fingerprint_across_schemes);
	CU_add_test(suite, "one RSA key as rsaEncryption and as RSASSA-PSS", test_fingerprint_rsa_pss);
	CU_add_test(suite, "trust files and directories", test_trust_files);
	CU_add_test(suite, "pkcs11 URIs", test_pkcs11_uri);
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
