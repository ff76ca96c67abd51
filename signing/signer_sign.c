/* signer_sign: the signer interface, and the signers that need no more than it (minisign key files, attached signatures). */
#include "signer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>   /* before cms.h, which declares its PEM functions only then */
#include <openssl/cms.h>

#include "cms.h"

int sig_signer_sign(struct sig_signer *s, const void *msg, size_t len, const char *trusted_comment,
		    int64_t when, char **out, size_t *out_len, struct fw_err *err)
{
	return s->sign(s->ctx, msg, len, trusted_comment, when, out, out_len, err);
}

void sig_signer_free(struct sig_signer *s)
{
	if (s == NULL)
		return;
	if (s->free != NULL)
		s->free(s->ctx);
	free(s);
}

static int minisign_sign(void *ctx, const void *msg, size_t len, const char *trusted_comment, int64_t when,
			 char **out, size_t *out_len, struct fw_err *err)
{
	(void)when;
	return sig_sign(ctx, msg, len, trusted_comment, out, out_len, err);
}

static void minisign_free(void *ctx)
{
	sig_seckey_free(ctx);
}

int sig_signer_minisign(struct sig_seckey *k, struct sig_signer **out, struct fw_err *err)
{
	struct sig_signer *s = calloc(1, sizeof(*s));
	struct sig_pubkey pub;

	if (s == NULL) {
		sig_seckey_free(k);
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	}
	sig_seckey_pubkey(k, &pub);
	s->kind = SIG_KIND_MINISIGN;
	sig_keyid_str(pub.keyid, s->id);
	s->sign = minisign_sign;
	s->text_len = sig_text_len;
	s->free = minisign_free;
	s->ctx = k;
	*out = s;
	return 0;
}

/* A signature made elsewhere: its bytes, checked over the manifest when "signing". */
struct attached {
	char path[512];
	int have_pub;
	struct sig_pubkey pub;         /* minisign: the key that must have made it */
	size_t len;
	char bytes[];
};

static int attached_sign(void *ctx, const void *msg, size_t len, const char *trusted_comment, int64_t when,
			 char **out, size_t *out_len, struct fw_err *err)
{
	const struct attached *a = ctx;
	struct sig_signature sig;
	struct sig_cms_info info;

	(void)trusted_comment, (void)when;
	if (a->have_pub) {
		if (sig_signature_parse(a->bytes, a->len, &sig, err) < 0 ||
		    sig_verify(&a->pub, &sig, msg, len, err) < 0)
			return fw_err_wrap(err, "%s: not a signature of this package's manifest", a->path);
	} else if (sig_cms_check_signature(a->bytes, a->len, msg, len, &info, err) < 0) {
		return fw_err_wrap(err, "%s: not a signature of this package's manifest", a->path);
	}
	*out = malloc(a->len ? a->len : 1);
	if (*out == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	memcpy(*out, a->bytes, a->len);
	*out_len = a->len;
	return 0;
}

/* PEM CMS ("-----BEGIN CMS-----", as openssl cms -outform PEM writes) to DER. */
static int pem_cms_to_der(const char *text, size_t len, unsigned char **der, int *der_len,
			  struct fw_err *err)
{
	BIO *b = BIO_new_mem_buf(text, (int)len);
	CMS_ContentInfo *cms = b ? PEM_read_bio_CMS(b, NULL, NULL, NULL) : NULL;
	int rc = -1;

	*der = NULL;
	if (cms == NULL || (*der_len = i2d_CMS_ContentInfo(cms, der)) <= 0)
		sig_ossl_err(err, FW_EXIT_REJECTED, "not a PEM CMS signature");
	else
		rc = 0;
	CMS_ContentInfo_free(cms);
	BIO_free(b);
	return rc;
}

int sig_signer_attach(const char *path, const struct sig_trust *pubs, struct sig_signer **out,
		      struct fw_err *err)
{
	char *buf = malloc(SIG_CMS_MAX);
	unsigned char *der = NULL;
	const void *bytes;
	struct attached *a = NULL;
	struct sig_signer *s = NULL;
	struct sig_signature sig;
	struct sig_cms_info info;
	size_t len = 0;
	int der_len = 0, rc = -1;

	s = calloc(1, sizeof(*s));
	if (buf == NULL || s == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (sig_file_read(path, buf, SIG_CMS_MAX, &len, err) < 0)
		goto out;
	bytes = buf;
	if (len >= 19 && memcmp(buf, "untrusted comment: ", 19) == 0) {
		const struct sig_pubkey *pub;

		if (sig_signature_parse(buf, len, &sig, err) < 0) {
			fw_err_wrap(err, "%s", path);
			goto out;
		}
		s->kind = SIG_KIND_MINISIGN;
		sig_keyid_str(sig.keyid, s->id);
		pub = pubs ? sig_trust_find(pubs, sig.keyid) : NULL;
		if (pub == NULL) {
			fw_err_set(err, FW_EXIT_USAGE, "%s: minisign signature by key %s: give its public key (-p PUB) to check it",
				   path, s->id);
			goto out;
		}
		a = malloc(sizeof(*a) + len);
		if (a == NULL)
			goto oom;
		a->have_pub = 1;
		a->pub = *pub;
	} else {
		if (len >= 11 && memcmp(buf, "-----BEGIN ", 11) == 0) {
			if (pem_cms_to_der(buf, len, &der, &der_len, err) < 0) {
				fw_err_wrap(err, "%s", path);
				goto out;
			}
			bytes = der;
			len = (size_t)der_len;
		}
		if (sig_cms_parse(bytes, len, &info, err) < 0) {
			fw_err_wrap(err, "%s", path);
			goto out;
		}
		s->kind = SIG_KIND_CMS;
		memcpy(s->id, info.id, sizeof(s->id));
		a = malloc(sizeof(*a) + len);
		if (a == NULL)
			goto oom;
		a->have_pub = 0;
	}
	snprintf(a->path, sizeof(a->path), "%s", path);
	a->len = len;
	memcpy(a->bytes, bytes, len);
	s->sign = attached_sign;
	s->free = free;
	s->ctx = a;
	*out = s;
	s = NULL;
	rc = 0;
	goto out;
oom:
	fw_err_set(err, FW_EXIT_IO, "out of memory");
out:
	free(s);
	free(buf);
	OPENSSL_free(der);
	return rc;
}
