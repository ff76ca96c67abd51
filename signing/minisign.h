/* minisign: Ed25519 keys and signatures in minisign's file formats (libsodium). */
#ifndef FW_MINISIGN_H
#define FW_MINISIGN_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"

#define SIG_KEYID_LEN 8
#define SIG_PK_LEN 32
#define SIG_FILE_MAX 4096          /* bytes of a .minisig or .pub file read before parsing */
#define SIG_COMMENT_MAX 1024       /* trusted/untrusted comment, bytes */
#define SIG_PASSPHRASE_MAX 1024
/* Decoded key lines: a public key (alg, key id, key) and a secret key, so each is told from the other. */
#define SIG_PUBKEY_BYTES 42
#define SIG_SECKEY_BYTES 158

/* A public key as minisign stores it: key id (file byte order) and Ed25519 key. */
struct sig_pubkey {
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t pk[SIG_PK_LEN];
};

/* A secret key, held in sodium_malloc memory; opaque. */
struct sig_seckey;

/* A parsed .minisig file. */
struct sig_signature {
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t sig[64];                   /* over BLAKE2b-512(message) ("ED") */
	char trusted_comment[SIG_COMMENT_MAX + 1];
	uint8_t global_sig[64];            /* over sig || trusted_comment */
};

/* minisign's display form of a key id: 16 upper-case hex digits, little-endian. */
void sig_keyid_str(const uint8_t keyid[SIG_KEYID_LEN], char out[17]);

/*
 * Read a whole small file (a key or a .minisig) into buf, at most cap bytes:
 * a bigger file is refused rather than cut, so nothing unbounded is parsed.
 */
int sig_file_read(const char *path, void *buf, size_t cap, size_t *len, struct fw_err *err);

int sig_pubkey_parse(const char *text, size_t len, struct sig_pubkey *out, struct fw_err *err);
int sig_pubkey_load(const char *path, struct sig_pubkey *out, struct fw_err *err);

/*
 * Create a key pair. passphrase NULL writes an unencrypted secret key (-W).
 * Files are created O_EXCL|O_NOFOLLOW (secret 0600) unless force, written to
 * a temporary file and renamed into place, so a failure leaves nothing behind.
 */
int sig_keygen(const char *pub_path, const char *sec_path, const char *passphrase,
	       int force, struct fw_err *err);

/* Does the secret key file need a passphrase? 1 yes, 0 no, -1 error. */
int sig_seckey_encrypted(const char *path, struct fw_err *err);

/*
 * Load a secret key; passphrase is ignored for unencrypted keys. scrypt
 * limits read from the file are capped before use. A wrong passphrase is
 * reported as such (the key's checksum does not match).
 */
int sig_seckey_load(const char *path, const char *passphrase, struct sig_seckey **out,
		    struct fw_err *err);
void sig_seckey_free(struct sig_seckey *k);
void sig_seckey_pubkey(const struct sig_seckey *k, struct sig_pubkey *out);

/*
 * Sign msg (prehashed "ED" scheme) with the given trusted comment; returns the
 * .minisig text in a malloc'd buffer.
 */
int sig_sign(const struct sig_seckey *k, const void *msg, size_t len, const char *trusted_comment,
	     char **out, size_t *out_len, struct fw_err *err);

/*
 * Append one signature's bytes to *all (*all_len of them so far; NULL and 0
 * at first), NUL-terminated: several minisign signatures one after another,
 * as a .minisig file or an unlock token carries them. -1 with err when out of
 * memory.
 */
int sig_append(char **all, size_t *all_len, const char *one, size_t one_len, struct fw_err *err);

/* An Ed25519 signature of m by some key (a key in memory, a key on a token). */
typedef int (*sig_ed25519_fn)(void *ctx, const uint8_t *m, size_t n, uint8_t sig[64], struct fw_err *err);

/* sig_sign with the Ed25519 operation given: the key never needs to be in this process. */
/* The length of the signature text sig_sign_with makes for this trusted comment: known before signing. */
size_t sig_text_len(const char *trusted_comment);

int sig_sign_with(const uint8_t keyid[SIG_KEYID_LEN], sig_ed25519_fn ed25519, void *ctx, const void *msg,
		  size_t len, const char *trusted_comment, char **out, size_t *out_len, struct fw_err *err);

/* Write a minisign public key file (O_EXCL unless force, temporary file renamed into place). */
int sig_pubkey_write(const char *path, const struct sig_pubkey *k, int force, struct fw_err *err);

/* Parse .minisig text; legacy "Ed" (non-prehashed) signatures are refused. */
int sig_signature_parse(const char *text, size_t len, struct sig_signature *out, struct fw_err *err);

/* Check a parsed signature over msg with key k (key id and both signatures). 0 valid, -1 not. */
int sig_verify(const struct sig_pubkey *k, const struct sig_signature *s, const void *msg, size_t len,
	       struct fw_err *err);

/*
 * Take the next line of a key or signature file (line and len, without the LF
 * or a CR before it); -1 at the end. Shared by the parsing and signing halves.
 */
int sig_next_line(const char **p, const char *end, const char **line, size_t *len);

#endif
