/* pkcs11_sign: keys on a token through PKCS#11 (RFC 7512 URIs): Ed25519 minisign signatures, CMS keys, key generation (host only). */
#ifndef FW_PKCS11_SIGN_H
#define FW_PKCS11_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "signing/minisign.h"
#include "signing/signer.h"

#define SIG_P11_TEXT_MAX 256

/* What a pkcs11: URI selects, and how to reach it. */
struct sig_p11_uri {
	char token[SIG_P11_TEXT_MAX];       /* token label; "" matches any token */
	char object[SIG_P11_TEXT_MAX];      /* key label; "" matches any */
	uint8_t id[SIG_P11_TEXT_MAX];       /* CKA_ID */
	size_t id_len;
	int has_id;
	char module[4096];                  /* query module-path; "" if not given */
	char pin_source[4096];              /* query pin-source (a file); "" if not given */
	char clean[1024];                   /* the URI without its query, for the OpenSSL engine */
};

/*
 * Parse a pkcs11: URI. Path attributes token, object, id, type (private,
 * public or absent) and query attributes module-path and pin-source are
 * taken; pin-value is refused (a PIN never comes from the command line),
 * and so is any other attribute rather than ignored, so a URI never selects
 * more than it says.
 */
int sig_p11_uri_parse(const char *uri, struct sig_p11_uri *out, struct fw_err *err);

/*
 * An Ed25519 (CKM_EDDSA) minisign signer for the private key u selects in
 * the PKCS#11 module `module`, logged in with pin. The minisign key id is
 * the first 8 bytes of the SHA-256 of the key's SubjectPublicKeyInfo (as
 * sig_p11_keygen writes it into the .pub file).
 */
int sig_signer_pkcs11_ed25519(const struct sig_p11_uri *u, const char *module, const char *pin,
			      struct sig_signer **out, struct fw_err *err);

/* Make an Ed25519 key pair on the token (label = object, CKA_ID = id) and write its minisign .pub file. */
int sig_p11_keygen(const struct sig_p11_uri *u, const char *module, const char *pin, const char *pub_path,
		   int force, struct sig_pubkey *pub, struct fw_err *err);

/*
 * After a certificate did not match u's private key (FW_KIND_KEY_MISMATCH):
 * when the token holds that private key and no public key beside it (a key
 * imported without its public half), err is replaced by a message saying
 * so and how to add one, and 1 returned; else 0 and err untouched.
 */
int sig_p11_explain_mismatch(const struct sig_p11_uri *u, const char *module, const char *pin, const char *cert_path,
			     struct fw_err *err);

/*
 * A CMS signer whose private key (EC or RSA) stays on the token, used through
 * OpenSSL's pkcs11 engine (signing/pkcs11_engine_sign.c, the one file that
 * uses the deprecated ENGINE API).
 */
int sig_signer_pkcs11_cms(const struct sig_p11_uri *u, const char *module, const char *pin,
			  const char *cert_path, const char *const *inter, size_t n_inter,
			  struct sig_signer **out, struct fw_err *err);

#endif
