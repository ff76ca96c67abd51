/* cms_sign: make detached CMS signatures with an X.509 certificate (creation code, host only). */
#ifndef FW_CMS_SIGN_H
#define FW_CMS_SIGN_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/fw_err.h"
#include "signer.h"

#define SIG_CMS_CHAIN_MAX 8   /* intermediate certificates per signer */

/* Does the PEM private key file need a passphrase? 1 yes, 0 no, -1 error. */
int sig_pem_key_encrypted(const char *path, struct fw_err *err);

/*
 * A CMS signer from a private key (taken: freed with the signer), the PEM
 * certificate file cert_path that matches it, and intermediate certificate
 * files (PEM) to carry along. The signature is DER, detached, binary, SHA-256,
 * with the signer certificate and the intermediates, without S/MIME
 * capabilities, its signing time the manifest's creation time.
 */
int sig_signer_cms(EVP_PKEY *key, const char *cert_path, const char *const *inter, size_t n_inter,
		   struct sig_signer **out, struct fw_err *err);

/* The same with the key from a PEM file (passphrase NULL if not encrypted). */
int sig_signer_cms_files(const char *key_path, const char *passphrase, const char *cert_path,
			 const char *const *inter, size_t n_inter, struct sig_signer **out,
			 struct fw_err *err);

#endif
