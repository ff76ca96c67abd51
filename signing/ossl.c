/* ossl: OpenSSL helpers the X.509/CMS modules share: error text, names, certificate facts. */
#include "ossl.h"

#include "base/escape.h"
#include "base/sha256.h"
#include "minisign.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

int sig_ossl_err(struct fw_err *err, int code, const char *fmt, ...)
{
	char what[384];
	char why[256] = "";
	unsigned long e, last = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* The earliest error is the cause; later ones only say who noticed. */
	while ((e = ERR_get_error()) != 0)
		if (last == 0)
			last = e;
	if (last != 0) {
		const char *r = ERR_reason_error_string(last);
		if (r != NULL)
			snprintf(why, sizeof(why), "%s", r);
		else
			ERR_error_string_n(last, why, sizeof(why));
	}
	if (why[0] != '\0')
		return fw_err_set(err, code, "%s: %s", what, why);
	return fw_err_set(err, code, "%s", what);
}

void sig_x509_name(const X509_NAME *name, char *out, size_t outsz)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(b, out, (int)outsz - 1);
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
}

void sig_x509_cn(const X509 *cert, char *out, size_t outsz)
{
	out[0] = '\0';
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)outsz) < 0)
		out[0] = '\0';
}

void sig_x509_label(const X509 *cert, char *out, size_t outsz)
{
	char name[256], shown[512];

	sig_x509_name(X509_get_subject_name(cert), name, sizeof(name));
	snprintf(out, outsz, "certificate \"%s\"", fw_escape(name, shown, sizeof(shown)));
}

int sig_x509_serial(const X509 *cert, char *out, size_t outsz)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	BN_free(bn);
	if (hex == NULL) {
		snprintf(out, outsz, "?");
		return -1;
	}
	snprintf(out, outsz, "%s", hex);
	OPENSSL_free(hex);
	return 0;
}

int sig_asn1_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* fw_sha256, not EVP: a device that only checks minisign signatures never starts OpenSSL's provider machinery. */
static int sha256(const unsigned char *der, int len, uint8_t out[SIG_FPR_LEN])
{
	if (len <= 0)
		return -1;
	fw_sha256(der, (size_t)len, out);
	return 0;
}

int sig_x509_sha256(const X509 *cert, uint8_t out[SIG_FPR_LEN])
{
	unsigned char *der = NULL;
	int len = i2d_X509(cert, &der);
	int rc = sha256(der, len, out);

	OPENSSL_free(der);
	return rc;
}

/* An RSA-PSS key as the plain RSA key of the same modulus and exponent (NULL on failure). */
static EVP_PKEY *rsa_of_pss(const EVP_PKEY *pss)
{
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *rsa = NULL;

	if (bld != NULL && ctx != NULL && EVP_PKEY_get_bn_param(pss, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(pss, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1 && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &rsa, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return rsa;
}

int sig_x509_key_fpr(const X509 *cert, uint8_t out[SIG_FPR_LEN])
{
	/*
	 * The key, not the certificate's bytes for it: one EC key certified once with
	 * a compressed and once with an uncompressed point (or explicit curve
	 * parameters) is one key, so its SubjectPublicKeyInfo is encoded again in one
	 * form (uncompressed point, named curve) before it is hashed. Likewise an RSA
	 * key certified once as rsaEncryption and once as RSASSA-PSS (another OID,
	 * parameters) is one key: hashed as the plain RSA key. Else one signer could
	 * count twice towards a key threshold.
	 */
	EVP_PKEY *key = X509_get0_pubkey(cert), *dup = NULL;
	unsigned char *der = NULL;
	int len = -1, rc;

	ERR_set_mark();
	if (key != NULL && EVP_PKEY_is_a(key, "RSA-PSS"))
		dup = rsa_of_pss(key);
	else if (key != NULL)
		dup = EVP_PKEY_dup(key);
	if (dup != NULL) {
		if (EVP_PKEY_is_a(dup, "EC") &&
		    (EVP_PKEY_set_utf8_string_param(dup, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
						    OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 1 ||
		     EVP_PKEY_set_utf8_string_param(dup, OSSL_PKEY_PARAM_EC_ENCODING,
						    OSSL_PKEY_EC_ENCODING_GROUP) != 1))
			len = -1;
		else
			len = i2d_PUBKEY(dup, &der);
	}
	rc = sha256(der, len, out);
	EVP_PKEY_free(dup);
	OPENSSL_free(der);
	ERR_pop_to_mark();
	return rc;
}

int sig_ed25519_fpr(const uint8_t pk[32], uint8_t out[SIG_FPR_LEN])
{
	/* DER SubjectPublicKeyInfo of id-Ed25519 (RFC 8410): a fixed prefix, then the key. */
	static const uint8_t prefix[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	uint8_t spki[sizeof(prefix) + 32];

	memcpy(spki, prefix, sizeof(prefix));
	memcpy(spki + sizeof(prefix), pk, 32);
	return sha256(spki, (int)sizeof(spki), out);
}

int sig_x509_id(const X509 *cert, char out[SIG_CERT_ID_LEN + 1])
{
	uint8_t h[SIG_FPR_LEN];

	if (sig_x509_sha256(cert, h) < 0)
		return -1;
	for (int i = 0; i < SIG_CERT_ID_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02X", h[i]);
	return 0;
}

void sig_hex(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
	out[2 * n] = '\0';
}

BIO *sig_file_bio(const char *path, char **buf, struct fw_err *err)
{
	size_t len = 0;
	BIO *b = NULL;

	*buf = malloc(SIG_PEM_FILE_MAX);
	if (*buf == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		return NULL;
	}
	if (sig_file_read(path, *buf, SIG_PEM_FILE_MAX, &len, err) == 0 &&
	    (b = BIO_new_mem_buf(*buf, (int)len)) == NULL)
		sig_ossl_err(err, FW_EXIT_IO, "%s: cannot read", path);
	return b;
}

int sig_no_passphrase(char *out, int size, int rwflag, void *u)
{
	(void)out;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int sig_pem_certs(const char *path, STACK_OF(X509) *into, struct fw_err *err)
{
	char *buf = NULL;
	BIO *b = sig_file_bio(path, &buf, err);
	X509 *c;
	int n = 0, rc = -1;

	if (b == NULL)
		goto out;
	ERR_clear_error();
	while ((c = PEM_read_bio_X509(b, NULL, sig_no_passphrase, NULL)) != NULL) {
		if (!sk_X509_push(into, c)) {
			X509_free(c);
			sig_ossl_err(err, FW_EXIT_IO, "%s", path);
			goto out;
		}
		n++;
	}
	/* The loop ends at the end of the file (no start line) or at something that is not a certificate. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE || n == 0) {
		sig_ossl_err(err, FW_EXIT_USAGE, "%s: not a PEM certificate file", path);
		goto out;
	}
	ERR_clear_error();
	rc = 0;
out:
	BIO_free(b);
	free(buf);
	return rc;
}
