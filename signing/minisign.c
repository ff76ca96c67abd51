/* minisign: read and verify minisign public keys and signatures (the half the device links). */
#include "minisign.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "

/* The decoded base64 lines, byte for byte as minisign lays them out. */
struct pk_blob {
	uint8_t alg[2];                 /* "Ed" */
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t pk[SIG_PK_LEN];
};

struct sig_blob {
	uint8_t alg[2];                 /* "ED" prehashed; "Ed" legacy, refused */
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t sig[64];
};

_Static_assert(sizeof(struct pk_blob) == 42, "minisign public key is 42 bytes");
_Static_assert(sizeof(struct sig_blob) == 74, "minisign signature is 74 bytes");
_Static_assert(crypto_sign_BYTES == 64 && crypto_sign_PUBLICKEYBYTES == SIG_PK_LEN,
	       "Ed25519 sizes");

void sig_keyid_str(const uint8_t keyid[SIG_KEYID_LEN], char out[17])
{
	uint64_t v = 0;
	int i;

	/* minisign prints the 8 file bytes as a little-endian integer. */
	for (i = SIG_KEYID_LEN - 1; i >= 0; i--)
		v = (v << 8) | keyid[i];
	snprintf(out, 17, "%016" PRIX64, v);
}

int sig_file_read(const char *path, void *buf, size_t cap, size_t *len, struct fw_err *err)
{
	unsigned char *p = buf;
	size_t got = 0;
	ssize_t n;
	char extra;
	int fd = -1;
	int rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	while (got < cap) {
		n = read(fd, p + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == cap) {
		/* Full buffer: one more byte tells "exactly cap" from "too big". */
		do
			n = read(fd, &extra, 1);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (n > 0) {
			fw_err_set(err, FW_EXIT_REJECTED, "%s: file larger than %zu bytes, refused",
				   path, cap);
			goto out;
		}
	}
	*len = got;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Take the next line of text. A missing final newline is tolerated, and so
 * is a CR before the LF (minisign itself trims both).
 */
int sig_next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *nl;

	if (*p >= end)
		return -1;
	*line = *p;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL) {
		*len = (size_t)(end - *p);
		*p = end;
	} else {
		*len = (size_t)(nl - *p);
		*p = nl + 1;
	}
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	return 0;
}

static int has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);

	return len >= plen && memcmp(line, prefix, plen) == 0;
}

/*
 * Decode one base64 line into exactly want bytes. buf has room for any line
 * of a SIG_FILE_MAX file, so a well-formed line of the wrong length is told
 * apart from garbage. Returns 0, or -1 with *what naming the fault.
 */
static int b64_exact(const char *s, size_t slen, uint8_t buf[SIG_FILE_MAX], size_t want,
		     const char **what)
{
	size_t got = 0;

	if (slen > SIG_FILE_MAX ||
	    sodium_base642bin(buf, SIG_FILE_MAX, s, slen, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		*what = "bad base64";
		return -1;
	}
	if (got != want) {
		*what = "wrong length";
		return -1;
	}
	return 0;
}

int sig_pubkey_parse(const char *text, size_t len, struct sig_pubkey *out, struct fw_err *err)
{
	uint8_t buf[SIG_FILE_MAX];
	struct pk_blob blob;
	const char *p = text;
	const char *end = text + len;
	const char *line;
	const char *what;
	size_t llen;

	if (len > SIG_FILE_MAX)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "not a minisign public key (larger than %d bytes)", SIG_FILE_MAX);
	if (memchr(text, '\0', len) != NULL)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "not a minisign public key (contains a NUL byte)");
	if (sig_next_line(&p, end, &line, &llen) != 0 || !has_prefix(line, llen, UNTRUSTED_PREFIX))
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "not a minisign public key (no \"untrusted comment:\" line)");
	if (llen - strlen(UNTRUSTED_PREFIX) > SIG_COMMENT_MAX)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "not a minisign public key (comment longer than %d bytes)",
				  SIG_COMMENT_MAX);
	if (sig_next_line(&p, end, &line, &llen) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "not a minisign public key (no key line)");
	if (b64_exact(line, llen, buf, sizeof(blob), &what) != 0) {
		size_t got = 0;
		/* Told apart by length: a secret key's line where a public key's should be. */
		int secret = sodium_base642bin(buf, SIG_FILE_MAX, line, llen, NULL, &got, NULL,
					       sodium_base64_VARIANT_ORIGINAL) == 0 && got == SIG_SECKEY_BYTES;

		sodium_memzero(buf, sizeof(buf));   /* it may hold an unencrypted secret key */
		if (secret)
			return fw_err_set(err, FW_EXIT_REJECTED, "a minisign secret key, not a public key");
		return fw_err_set(err, FW_EXIT_REJECTED, "not a minisign public key (%s)", what);
	}
	if (p != end)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "not a minisign public key (extra content after the key)");
	memcpy(&blob, buf, sizeof(blob));
	if (memcmp(blob.alg, "Ed", 2) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "not a minisign public key (unsupported algorithm)");
	memcpy(out->keyid, blob.keyid, SIG_KEYID_LEN);
	memcpy(out->pk, blob.pk, SIG_PK_LEN);
	return 0;
}

int sig_pubkey_load(const char *path, struct sig_pubkey *out, struct fw_err *err)
{
	char buf[SIG_FILE_MAX];
	size_t len;

	if (sig_file_read(path, buf, sizeof(buf), &len, err) != 0)
		return -1;
	if (sig_pubkey_parse(buf, len, out, err) != 0)
		return fw_err_wrap(err, "%s", path);
	return 0;
}

int sig_signature_parse(const char *text, size_t len, struct sig_signature *out, struct fw_err *err)
{
	uint8_t buf[SIG_FILE_MAX];
	struct sig_blob blob;
	uint8_t global_sig[64];
	const char *p = text;
	const char *end = text + len;
	const char *line;
	const char *what;
	const char *tc;
	size_t tc_len;
	size_t llen;

	if (len > SIG_FILE_MAX)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (larger than %d bytes)", SIG_FILE_MAX);
	/* A NUL would cut the trusted comment short of the bytes that were signed. */
	if (memchr(text, '\0', len) != NULL)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (contains a NUL byte)");
	if (sig_next_line(&p, end, &line, &llen) != 0 || !has_prefix(line, llen, UNTRUSTED_PREFIX))
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (no \"untrusted comment:\" line)");
	if (llen - strlen(UNTRUSTED_PREFIX) > SIG_COMMENT_MAX)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (untrusted comment longer than %d bytes)",
				   SIG_COMMENT_MAX);

	if (sig_next_line(&p, end, &line, &llen) != 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (no signature line)");
	if (b64_exact(line, llen, buf, sizeof(blob), &what) != 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (signature line: %s)", what);
	memcpy(&blob, buf, sizeof(blob));
	if (memcmp(blob.alg, "Ed", 2) == 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "legacy (non-prehashed \"Ed\") minisign signatures are not accepted");
	if (memcmp(blob.alg, "ED", 2) != 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (unsupported algorithm)");

	if (sig_next_line(&p, end, &line, &llen) != 0 || !has_prefix(line, llen, TRUSTED_PREFIX))
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (no \"trusted comment:\" line)");
	tc = line + strlen(TRUSTED_PREFIX);
	tc_len = llen - strlen(TRUSTED_PREFIX);
	if (tc_len > SIG_COMMENT_MAX)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (trusted comment longer than %d bytes)",
				   SIG_COMMENT_MAX);

	if (sig_next_line(&p, end, &line, &llen) != 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (no trusted comment signature line)");
	if (b64_exact(line, llen, buf, sizeof(global_sig), &what) != 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (trusted comment signature line: %s)", what);
	memcpy(global_sig, buf, sizeof(global_sig));
	if (p != end)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "not a minisign signature (extra content after the signature)");

	memcpy(out->keyid, blob.keyid, SIG_KEYID_LEN);
	memcpy(out->sig, blob.sig, sizeof(out->sig));
	memcpy(out->trusted_comment, tc, tc_len);
	out->trusted_comment[tc_len] = '\0';
	memcpy(out->global_sig, global_sig, sizeof(out->global_sig));
	return 0;
}

int sig_verify(const struct sig_pubkey *k, const struct sig_signature *s, const void *msg, size_t len,
	       struct fw_err *err)
{
	uint8_t hash[crypto_generichash_BYTES_MAX];
	uint8_t signed_tc[64 + SIG_COMMENT_MAX];
	char sig_id[17];
	char key_id[17];
	size_t tc_len;

	if (sodium_init() < 0)
		return fw_err_set(err, FW_EXIT_IO, "cannot initialise libsodium");
	if (memcmp(s->keyid, k->keyid, SIG_KEYID_LEN) != 0) {
		sig_keyid_str(s->keyid, sig_id);
		sig_keyid_str(k->keyid, key_id);
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "signed by key %s, not by key %s",
				   sig_id, key_id);
	}
	/* The "ED" scheme signs BLAKE2b-512 of the message, not the message. */
	if (crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0) != 0)
		return fw_err_set(err, FW_EXIT_IO, "cannot hash the signed data");
	if (crypto_sign_verify_detached(s->sig, hash, sizeof(hash), k->pk) != 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "signature does not match");

	/* Only a struct that did not come from sig_signature_parse can lack the NUL. */
	tc_len = strnlen(s->trusted_comment, sizeof(s->trusted_comment));
	if (tc_len > SIG_COMMENT_MAX)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "trusted comment is not terminated");
	memcpy(signed_tc, s->sig, 64);
	memcpy(signed_tc + 64, s->trusted_comment, tc_len);
	if (crypto_sign_verify_detached(s->global_sig, signed_tc, 64 + tc_len, k->pk) != 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "trusted comment signature does not match");
	return 0;
}
