/* cms: read and verify detached CMS signatures with X.509 certificates (the half the device links). */
#ifndef FW_CMS_H
#define FW_CMS_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "ossl.h"
#include "trust.h"

#define SIG_CMS_MAX (64 * 1024)     /* bytes of a CMS signature entry */

/* What a CMS signature says about its signer, for reports. Text is raw: escape it to print. */
struct sig_cms_info {
	char id[SIG_CERT_ID_LEN + 1];       /* the signer certificate's id (entry names) */
	char subject[256];
	char issuer[256];
	char serial[80];                    /* upper-case hex */
	int64_t not_before, not_after;
	uint8_t cert_sha256[SIG_FPR_LEN];
	uint8_t key_fpr[SIG_FPR_LEN];       /* SHA-256 of the signer's SubjectPublicKeyInfo */
	char chain[512];                    /* the chain's status: "not checked", "valid ...", or why not */
};

enum sig_cms_result {
	SIG_CMS_VALID = 0,
	SIG_CMS_UNTRUSTED = 1,   /* no path to a trusted CA, or not an accepted signer: ignored */
};

/*
 * Parse a DER CMS signature and describe its signer. Refused: anything but
 * one detached SignedData over id-data with exactly one signer, a SHA-2
 * digest and the signer's certificate included; trailing bytes.
 */
int sig_cms_parse(const void *der, size_t len, struct sig_cms_info *info, struct fw_err *err);

/*
 * Check a CMS signature over msg against the trust store t. The signer
 * certificate's chain is built from t's anchors, with the certificates
 * carried in the signature only as intermediates (never as anchors), checked
 * for validity (unless t->no_check_time), revocation (when t has CRLs), the
 * depth limit; the leaf must carry key usage digitalSignature and extended
 * key usage codeSigning, and match a pin if t has any. Returns SIG_CMS_VALID;
 * SIG_CMS_UNTRUSTED (err and info->chain say why) when no chain reaches a
 * trusted CA or the signer is not pinned; -1 when the signature is malformed
 * or does not match, or a chain to a trusted CA fails a check.
 */
int sig_cms_verify(const void *der, size_t len, const void *msg, size_t msg_len,
		   const struct sig_trust *t, struct sig_cms_info *info, struct fw_err *err);

/*
 * Whether cert may sign packages: key usage with digitalSignature and
 * extended key usage with codeSigning. The verifier checks a signer with it
 * and the signing programs their own certificate, in the same words. 0, or
 * -1 with err (exit code `code`): "certificate \"CN=...\": extended key
 * usage does not include codeSigning".
 */
int sig_x509_check_code_signing(X509 *cert, int code, struct fw_err *err);

/* Only the signature's mathematics: msg matches under the included signer certificate's key. */
int sig_cms_check_signature(const void *der, size_t len, const void *msg, size_t msg_len,
			    struct sig_cms_info *info, struct fw_err *err);

#endif
