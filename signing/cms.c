/* cms: read and verify detached CMS signatures with X.509 certificates (the half the device links). */
#include "cms.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* A parsed signature: the CMS structure, its one signer and the certificates it carries. */
struct cms_sig {
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	X509 *signer;                /* borrowed from certs */
	STACK_OF(X509) *certs;
	int digest_nid;              /* the signer's digest: SHA-256, -384 or -512 */
};

static void cms_sig_free(struct cms_sig *s)
{
	sk_X509_pop_free(s->certs, X509_free);
	CMS_ContentInfo_free(s->cms);
	memset(s, 0, sizeof(*s));
}

static void describe(const X509 *c, struct sig_cms_info *info)
{
	memset(info, 0, sizeof(*info));
	sig_x509_id(c, info->id);
	sig_x509_name(X509_get_subject_name(c), info->subject, sizeof(info->subject));
	sig_x509_name(X509_get_issuer_name(c), info->issuer, sizeof(info->issuer));
	sig_x509_serial(c, info->serial, sizeof(info->serial));
	sig_asn1_time(X509_get0_notBefore(c), &info->not_before);
	sig_asn1_time(X509_get0_notAfter(c), &info->not_after);
	sig_x509_sha256(c, info->cert_sha256);
	sig_x509_key_fpr(c, info->key_fpr);
	snprintf(info->chain, sizeof(info->chain), "not checked");
}

static int cms_open(const void *der, size_t len, struct cms_sig *s, struct sig_cms_info *info,
		    struct fw_err *err)
{
	const unsigned char *p = der;
	STACK_OF(CMS_SignerInfo) *sis;
	X509_ALGOR *dig = NULL;
	const ASN1_OBJECT *obj = NULL;
	int nid;

	memset(s, 0, sizeof(*s));
	ERR_clear_error();
	if (len > SIG_CMS_MAX)
		return fw_err_set(err, FW_EXIT_REJECTED, "CMS signature larger than %d bytes", SIG_CMS_MAX);
	s->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (s->cms == NULL)
		return sig_ossl_err(err, FW_EXIT_REJECTED, "not a DER CMS signature");
	if (p != (const unsigned char *)der + len)
		return fw_err_set(err, FW_EXIT_REJECTED, "CMS signature followed by %zu extra bytes",
				  len - (size_t)(p - (const unsigned char *)der));
	if (OBJ_obj2nid(CMS_get0_type(s->cms)) != NID_pkcs7_signed)
		return fw_err_set(err, FW_EXIT_REJECTED, "CMS structure is not SignedData");
	if (OBJ_obj2nid(CMS_get0_eContentType(s->cms)) != NID_pkcs7_data)
		return fw_err_set(err, FW_EXIT_REJECTED, "CMS signature is not over plain data");
	if (CMS_is_detached(s->cms) != 1)
		return fw_err_set(err, FW_EXIT_REJECTED, "CMS signature is not detached (it carries content)");
	sis = CMS_get0_SignerInfos(s->cms);
	if (sis == NULL || sk_CMS_SignerInfo_num(sis) != 1)
		return fw_err_set(err, FW_EXIT_REJECTED, "CMS signature has %d signers, expected one",
				  sis ? sk_CMS_SignerInfo_num(sis) : 0);
	s->si = sk_CMS_SignerInfo_value(sis, 0);
	CMS_SignerInfo_get0_algs(s->si, NULL, NULL, &dig, NULL);
	if (dig != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, dig);
	nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512)
		return fw_err_set(err, FW_EXIT_REJECTED, "CMS signature digest %s is not accepted (SHA-256, -384, -512)",
				  nid == NID_undef ? "unknown" : OBJ_nid2sn(nid));
	s->digest_nid = nid;
	s->certs = CMS_get1_certs(s->cms);
	for (int i = 0; s->certs != NULL && i < sk_X509_num(s->certs); i++)
		if (CMS_SignerInfo_cert_cmp(s->si, sk_X509_value(s->certs, i)) == 0) {
			s->signer = sk_X509_value(s->certs, i);
			break;
		}
	if (s->signer == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "CMS signature does not carry its signer's certificate");
	describe(s->signer, info);
	return 0;
}

/* A refused signature (malformed, untrusted, not matching) is a signature failure by kind, unless a finer kind was set. */
static int signature_kind(int rc, struct fw_err *err)
{
	if (rc != 0 && err->code == FW_EXIT_REJECTED && err->kind == FW_KIND_NONE)
		err->kind = FW_KIND_SIGNATURE;
	return rc;
}

int sig_cms_parse(const void *der, size_t len, struct sig_cms_info *info, struct fw_err *err)
{
	struct cms_sig s;
	int rc = cms_open(der, len, &s, info, err);

	cms_sig_free(&s);
	return signature_kind(rc, err);
}

/*
 * The signature over msg, under the signer certificate's key: the signed
 * attributes' signature, then the manifest's digest against messageDigest
 * (or the signature over the digest when there are no signed attributes).
 * Only the signer's own digest algorithm is computed: CMS_verify would set up
 * every algorithm the SignedData lists, and OpenSSL 3.0 leaks on an unknown
 * one (found by fuzz_cms).
 */
static int check_signature(struct cms_sig *s, const void *msg, size_t msg_len, struct fw_err *err)
{
	BIO *mem = NULL, *md = NULL;
	char label[200], scratch[4096];
	int n, ok = 0;

	sig_x509_label(s->signer, label, sizeof(label));
	ERR_clear_error();
	CMS_SignerInfo_set1_signer_cert(s->si, s->signer);
	if (CMS_signed_get_attr_count(s->si) >= 0 && CMS_SignerInfo_verify(s->si) != 1)
		goto out;
	mem = BIO_new_mem_buf(msg, (int)msg_len);
	md = BIO_new(BIO_f_md());
	if (mem == NULL || md == NULL || BIO_set_md(md, EVP_get_digestbynid(s->digest_nid)) != 1) {
		BIO_free(mem);
		BIO_free(md);
		return sig_ossl_err(err, FW_EXIT_IO, "cannot set up CMS verification");
	}
	BIO_push(md, mem);
	while ((n = BIO_read(md, scratch, sizeof(scratch))) > 0)
		;
	ok = n == 0 && CMS_SignerInfo_verify_content(s->si, md) == 1;
	BIO_free_all(md);
out:
	if (!ok)
		return sig_ossl_err(err, FW_EXIT_REJECTED, "signature by %s does not match", label);
	ERR_clear_error();
	return 0;
}

int sig_cms_check_signature(const void *der, size_t len, const void *msg, size_t msg_len,
			    struct sig_cms_info *info, struct fw_err *err)
{
	struct cms_sig s;
	int rc = cms_open(der, len, &s, info, err);

	if (rc == 0)
		rc = check_signature(&s, msg, msg_len, err);
	cms_sig_free(&s);
	return signature_kind(rc, err);
}

/* Chain errors that mean "no path to a trusted CA": the signer is unknown, not bad. */
static int unknown_issuer(int e)
{
	return e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	       e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	       e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

/* A pin matches the leaf's commonName exactly, or its certificate SHA-256 (hex, colons and case free). */
static int pinned(const struct sig_trust *t, const X509 *leaf, const struct sig_cms_info *info)
{
	char cn[256], hex[2 * SIG_FPR_LEN + 1], digits[SIG_PIN_LEN];

	if (t->n_pins == 0)
		return 1;
	sig_x509_cn(leaf, cn, sizeof(cn));
	sig_hex(info->cert_sha256, SIG_FPR_LEN, hex);
	for (size_t i = 0; i < t->n_pins; i++) {
		size_t n = 0;

		if (cn[0] != '\0' && strcmp(t->pins[i], cn) == 0)
			return 1;
		for (const char *p = t->pins[i]; *p && n + 1 < sizeof(digits); p++)
			if (*p != ':')
				digits[n++] = *p;
		digits[n] = '\0';
		if (strcasecmp(digits, hex) == 0)
			return 1;
	}
	return 0;
}

int sig_x509_check_code_signing(X509 *cert, int code, struct fw_err *err)
{
	/* OpenSSL 3.0 has no code-signing purpose: check the extensions here. */
	uint32_t flags = X509_get_extension_flags(cert), ku = X509_get_key_usage(cert);
	uint32_t xku = X509_get_extended_key_usage(cert);
	char label[200];

	sig_x509_label(cert, label, sizeof(label));
	if (!(flags & EXFLAG_KUSAGE) || !(ku & KU_DIGITAL_SIGNATURE))
		return fw_err_set(err, code, "%s: key usage does not include digitalSignature", label);
	if (!(flags & EXFLAG_XKUSAGE) || !(xku & XKU_CODE_SIGN))
		return fw_err_set(err, code, "%s: extended key usage does not include codeSigning", label);
	return 0;
}

/*
 * Build and check the leaf's chain to t's anchors. 0 valid, SIG_CMS_UNTRUSTED
 * when no chain reaches an anchor, -1 when one does but fails a check.
 */
static int chain_check(struct cms_sig *s, const struct sig_trust *t, struct sig_cms_info *info,
		       struct fw_err *err)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	STACK_OF(X509) *chain;
	unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
	char label[200], root[200];
	int rc = -1, e;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, t->x509, s->signer, s->certs) != 1) {
		sig_ossl_err(err, FW_EXIT_IO, "cannot set up certificate verification");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	/* Anchors are what the store holds (a trusted intermediate CA ends a
	 * chain too); what the package carries is only ever "untrusted". */
	/* With CRLs, every certificate in the chain is checked (as RAUC does):
	 * a revoked intermediate CA must not go on vouching for its leaves. */
	if (t->n_crls > 0)
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	if (t->no_check_time)
		flags |= X509_V_FLAG_NO_CHECK_TIME;
	X509_VERIFY_PARAM_set_flags(param, flags);
	X509_VERIFY_PARAM_set_depth(param, t->max_depth >= 0 ? t->max_depth : SIG_CHAIN_DEPTH_DEFAULT);
	if (X509_verify_cert(ctx) != 1) {
		const X509 *at = X509_STORE_CTX_get_current_cert(ctx);
		e = X509_STORE_CTX_get_error(ctx);
		sig_x509_label(at ? at : s->signer, label, sizeof(label));
		snprintf(info->chain, sizeof(info->chain), "%s: %s", label, X509_verify_cert_error_string(e));
		if (unknown_issuer(e)) {
			snprintf(info->chain, sizeof(info->chain), "no path to a trusted CA: %s: %s", label,
				 X509_verify_cert_error_string(e));
			fw_err_set(err, FW_EXIT_REJECTED, "%s", info->chain);
			rc = SIG_CMS_UNTRUSTED;
		} else {
			fw_err_set(err, FW_EXIT_REJECTED, "%s", info->chain);
		}
		ERR_clear_error();
		goto out;
	}
	if (sig_x509_check_code_signing(s->signer, FW_EXIT_REJECTED, err) < 0) {
		snprintf(info->chain, sizeof(info->chain), "%s", err->msg);
		goto out;
	}
	chain = X509_STORE_CTX_get0_chain(ctx);
	sig_x509_label(sk_X509_value(chain, sk_X509_num(chain) - 1), root, sizeof(root));
	snprintf(info->chain, sizeof(info->chain), "valid: %d certificates up to the trusted %s",
		 sk_X509_num(chain), root);
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	return rc;
}

int sig_cms_verify(const void *der, size_t len, const void *msg, size_t msg_len,
		   const struct sig_trust *t, struct sig_cms_info *info, struct fw_err *err)
{
	struct cms_sig s;
	char label[200];
	int rc;

	rc = cms_open(der, len, &s, info, err);
	if (rc < 0)
		goto out;
	sig_x509_label(s.signer, label, sizeof(label));
	if (t == NULL || t->x509 == NULL || t->n_cas == 0) {
		snprintf(info->chain, sizeof(info->chain), "no CA certificates are trusted");
		rc = fw_err_set(err, FW_EXIT_REJECTED, "%s: no CA certificates are trusted", label);
		rc = SIG_CMS_UNTRUSTED;
		goto out;
	}
	if (!pinned(t, s.signer, info)) {
		snprintf(info->chain, sizeof(info->chain), "%s: not an accepted signer (--signer)", label);
		fw_err_set(err, FW_EXIT_REJECTED, "%s", info->chain);
		rc = SIG_CMS_UNTRUSTED;
		goto out;
	}
	rc = chain_check(&s, t, info, err);
	if (rc != 0)
		goto out;
	/* Vouched for by a trusted CA: from here on a mismatch means tampering. */
	rc = check_signature(&s, msg, msg_len, err);
out:
	cms_sig_free(&s);
	return signature_kind(rc, err);
}
