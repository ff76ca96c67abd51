/* ossl: OpenSSL helpers the X.509/CMS modules share: error text, names, certificate facts. */
#ifndef FW_OSSL_H
#define FW_OSSL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "base/fw_err.h"

#define SIG_FPR_LEN 32          /* SHA-256 */
#define SIG_CERT_ID_LEN 16      /* hex digits of a certificate id in an entry name */
#define SIG_PEM_FILE_MAX (1024 * 1024)   /* bytes of a key, certificate or CRL file */

/*
 * A read-only memory BIO over the bytes of a small file (at most
 * SIG_PEM_FILE_MAX), held in *buf: the caller frees both (cleansing *buf if
 * it held a key). NULL with err when the file cannot be read.
 */
BIO *sig_file_bio(const char *path, char **buf, struct fw_err *err);

/* A pem_password_cb that refuses: OpenSSL's default would prompt on the terminal for an encrypted PEM object. */
int sig_no_passphrase(char *out, int size, int rwflag, void *u);

/*
 * Every certificate of a PEM file, appended to `into` in file order. A file
 * with none, or with anything but certificates after them, is refused
 * (FW_EXIT_USAGE, "not a PEM certificate file"). OpenSSL never prompts for a
 * passphrase (an "encrypted certificate" is refused, not asked about).
 */
int sig_pem_certs(const char *path, STACK_OF(X509) *into, struct fw_err *err);

/*
 * fw_err_set with OpenSSL's own reason appended (": why"), taken from and
 * clearing OpenSSL's error queue. Returns -1.
 */
int sig_ossl_err(struct fw_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A certificate's subject or issuer in RFC 2253 form ("CN=leaf,O=Example"), cut to fit. */
void sig_x509_name(const X509_NAME *name, char *out, size_t outsz);
/* The subject's commonName, or "" if it has none. */
void sig_x509_cn(const X509 *cert, char *out, size_t outsz);
/* How messages name a certificate: "certificate \"CN=...\"" with control characters escaped. */
void sig_x509_label(const X509 *cert, char *out, size_t outsz);
/* The serial number in upper-case hex. */
int sig_x509_serial(const X509 *cert, char *out, size_t outsz);
/* An ASN1_TIME as seconds since the epoch. */
int sig_asn1_time(const ASN1_TIME *t, int64_t *out);
/* SHA-256 of the DER certificate. */
int sig_x509_sha256(const X509 *cert, uint8_t out[SIG_FPR_LEN]);
/*
 * SHA-256 of the DER SubjectPublicKeyInfo, encoded again in one form (an EC
 * key's point uncompressed, its curve named): what identifies a key across
 * schemes and certificates. -1 (out unset) when the key cannot be encoded.
 */
int sig_x509_key_fpr(const X509 *cert, uint8_t out[SIG_FPR_LEN]);
/* The same fingerprint for a raw Ed25519 public key (minisign's), so a key counts once across schemes. */
int sig_ed25519_fpr(const uint8_t pk[32], uint8_t out[SIG_FPR_LEN]);
/* The id of a certificate in entry names: the first 8 bytes of its SHA-256, upper-case hex. */
int sig_x509_id(const X509 *cert, char out[SIG_CERT_ID_LEN + 1]);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void sig_hex(const uint8_t *in, size_t n, char *out);

#endif
