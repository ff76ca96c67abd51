/* cms_sign: make detached CMS signatures with an X.509 certificate (creation code, host only). */
#include "cms_sign.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "cms.h"
#include "ossl.h"


struct cms_signer {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;
};

static void cms_signer_free(void *ctx)
{
	struct cms_signer *c = ctx;

	if (c == NULL)
		return;
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	sk_X509_pop_free(c->chain, X509_free);
	free(c);
}

int sig_pem_key_encrypted(const char *path, struct fw_err *err)
{
	char *buf = NULL;
	BIO *b = sig_file_bio(path, &buf, err);
	int rc = -1;

	if (b != NULL) {
		long len = BIO_get_mem_data(b, NULL);
		/* PKCS#8 "ENCRYPTED PRIVATE KEY" and the traditional "Proc-Type: 4,ENCRYPTED". */
		rc = memmem(buf, (size_t)len, "ENCRYPTED", 9) != NULL;
	}
	BIO_free(b);
	free(buf);
	return rc;
}

/* Never let OpenSSL prompt on its own: the passphrase comes from the caller or not at all. */
static int pass_cb(char *out, int size, int rwflag, void *u)
{
	size_t len;

	(void)rwflag;
	if (u == NULL)
		return -1;
	len = strlen(u);
	if (len > (size_t)size)
		return -1;
	memcpy(out, u, len);
	return (int)len;
}

/* The certificates of a PEM file appended to `into`; with `first`, the file's first one goes there instead. */
static int load_certs(const char *path, STACK_OF(X509) *into, X509 **first, struct fw_err *err)
{
	int had = sk_X509_num(into);

	if (sig_pem_certs(path, into, err) < 0)
		return -1;
	if (first != NULL && *first == NULL)
		*first = sk_X509_delete(into, had);
	return 0;
}

static int cms_sign(void *ctx, const void *msg, size_t len, const char *trusted_comment, int64_t when,
		    char **out, size_t *out_len, struct fw_err *err)
{
	struct cms_signer *c = ctx;
	const unsigned int flags = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_TIME *t = NULL;
	BIO *in = NULL;
	unsigned char *der = NULL;
	int der_len, rc = -1;

	(void)trusted_comment;
	ERR_clear_error();
	in = BIO_new_mem_buf(msg, (int)len);
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (in == NULL || cms == NULL) {
		sig_ossl_err(err, FW_EXIT_IO, "cannot start a CMS signature");
		goto out;
	}
	si = CMS_add1_signer(cms, c->cert, c->key, EVP_sha256(), flags);
	if (si == NULL) {
		sig_ossl_err(err, FW_EXIT_IO, "cannot add the CMS signer");
		goto out;
	}
	/* OpenSSL would stamp the current time; the manifest's keeps builds reproducible. */
	t = ASN1_TIME_set(NULL, (time_t)when);
	if (t == NULL || CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1) != 1) {
		sig_ossl_err(err, FW_EXIT_IO, "cannot set the CMS signing time");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(c->chain); i++)
		if (CMS_add1_cert(cms, sk_X509_value(c->chain, i)) != 1) {
			sig_ossl_err(err, FW_EXIT_IO, "cannot add an intermediate certificate");
			goto out;
		}
	if (CMS_final(cms, in, NULL, flags) != 1) {
		sig_ossl_err(err, FW_EXIT_IO, "cannot make the CMS signature");
		goto out;
	}
	der_len = i2d_CMS_ContentInfo(cms, &der);
	if (der_len <= 0) {
		sig_ossl_err(err, FW_EXIT_IO, "cannot encode the CMS signature");
		goto out;
	}
	if (der_len > SIG_CMS_MAX) {
		fw_err_set(err, FW_EXIT_USAGE, "CMS signature of %d bytes is larger than the limit of %d "
			   "(too many or too large intermediate certificates)", der_len, SIG_CMS_MAX);
		goto out;
	}
	*out = malloc((size_t)der_len);
	if (*out == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	memcpy(*out, der, (size_t)der_len);
	*out_len = (size_t)der_len;
	rc = 0;
out:
	OPENSSL_free(der);
	ASN1_TIME_free(t);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return rc;
}

int sig_signer_cms(EVP_PKEY *key, const char *cert_path, const char *const *inter, size_t n_inter,
		   struct sig_signer **out, struct fw_err *err)
{
	struct cms_signer *c = calloc(1, sizeof(*c));
	struct sig_signer *s = calloc(1, sizeof(*s));
	int rc = -1;

	if (c == NULL || s == NULL) {
		EVP_PKEY_free(key);
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	c->key = key;
	c->chain = sk_X509_new_null();
	if (c->chain == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (n_inter > SIG_CMS_CHAIN_MAX) {
		fw_err_set(err, FW_EXIT_USAGE, "more than %d intermediate certificates", SIG_CMS_CHAIN_MAX);
		goto out;
	}
	if (load_certs(cert_path, c->chain, &c->cert, err) < 0)
		goto out;
	/* A certificate file may hold the chain after the leaf; so may each --intermediate. */
	for (size_t i = 0; i < n_inter; i++)
		if (load_certs(inter[i], c->chain, NULL, err) < 0)
			goto out;
	if (X509_check_private_key(c->cert, c->key) != 1) {
		sig_ossl_err(err, FW_EXIT_CREDENTIALS, "%s: certificate does not match the private key", cert_path);
		err->kind = FW_KIND_KEY_MISMATCH;
		goto out;
	}
	/* Every verifier would refuse what this certificate signs: refuse it now, in the verifier's words. */
	if (sig_x509_check_code_signing(c->cert, FW_EXIT_USAGE, err) < 0) {
		fw_err_wrap(err, "%s", cert_path);
		goto out;
	}
	if (sig_x509_id(c->cert, s->id) < 0) {
		sig_ossl_err(err, FW_EXIT_IO, "%s: cannot hash the certificate", cert_path);
		goto out;
	}
	s->kind = SIG_KIND_CMS;
	s->sign = cms_sign;
	s->free = cms_signer_free;
	s->ctx = c;
	c = NULL;
	*out = s;
	s = NULL;
	rc = 0;
out:
	cms_signer_free(c);
	free(s);
	return rc;
}

int sig_signer_cms_files(const char *key_path, const char *passphrase, const char *cert_path,
			 const char *const *inter, size_t n_inter, struct sig_signer **out,
			 struct fw_err *err)
{
	char *buf = NULL;
	BIO *b = sig_file_bio(key_path, &buf, err);
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (b == NULL)
		goto out;
	ERR_clear_error();
	key = PEM_read_bio_PrivateKey(b, NULL, pass_cb, (void *)passphrase);
	if (key == NULL) {
		/* A passphrase is given only for an encrypted key: failing then means a wrong one. */
		sig_ossl_err(err, FW_EXIT_CREDENTIALS, "%s: %s", key_path,
			     passphrase != NULL ? "wrong passphrase" : "not a PEM private key");
		goto out;
	}
	rc = sig_signer_cms(key, cert_path, inter, n_inter, out, err);
out:
	BIO_free(b);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, SIG_PEM_FILE_MAX);
		free(buf);
	}
	return rc;
}
