/* minisign_sign: create minisign key pairs, load secret keys and sign (host only, never on the device). */
#include "minisign.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/outfile.h"

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
/* minisign writes this comment whether or not the key is encrypted. */
#define SECKEY_COMMENT "minisign encrypted secret key"
#define SIG_COMMENT "signature from fwpkg secret key "

#define KDF_OPSLIMIT crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_INTERACTIVE
#define KDF_MEMLIMIT crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE

struct sig_seckey {
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];  /* seed || public key, libsodium's layout */
};

/* The part of a secret key file the passphrase stream encrypts. */
struct sk_keynum {
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t chk[32];                /* BLAKE2b-256(sig_alg || keyid || sk) */
};

/* A decoded secret key file, byte for byte as minisign lays it out. */
struct sk_blob {
	uint8_t sig_alg[2];             /* "Ed" */
	uint8_t kdf_alg[2];             /* "Sc" scrypt, or two zero bytes: unencrypted */
	uint8_t chk_alg[2];             /* "B2" */
	uint8_t salt[crypto_pwhash_scryptsalsa208sha256_SALTBYTES];
	uint8_t opslimit_le[8];
	uint8_t memlimit_le[8];
	struct sk_keynum kn;
};

struct pk_blob {
	uint8_t alg[2];
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t pk[SIG_PK_LEN];
};

struct sig_blob {
	uint8_t alg[2];
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t sig[crypto_sign_BYTES];
};

_Static_assert(sizeof(struct sk_keynum) == 104, "minisign keynum_sk is 104 bytes");
_Static_assert(sizeof(struct sk_blob) == SIG_SECKEY_BYTES, "minisign secret key is 158 bytes");
_Static_assert(sizeof(struct pk_blob) == SIG_PUBKEY_BYTES, "minisign public key is 42 bytes");
_Static_assert(sizeof(struct sig_blob) == 74, "minisign signature is 74 bytes");

/* Scratch space for everything derived from a secret, kept out of the stack. */
struct sk_scratch {
	uint8_t stream[sizeof(struct sk_keynum)];
	uint8_t chk[32];
	uint8_t seed[crypto_sign_SEEDBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};

#define B64_LEN(n) sodium_base64_ENCODED_LEN((n), sodium_base64_VARIANT_ORIGINAL)

static void le64_store(uint8_t out[8], uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le64_load(const uint8_t in[8])
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | in[i];
	return v;
}

static int sodium_ready(struct fw_err *err)
{
	if (sodium_init() < 0)
		return fw_err_set(err, FW_EXIT_IO, "cannot initialise libsodium");
	return 0;
}

static void sk_checksum(const struct sk_blob *b, uint8_t chk[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, b->sig_alg, sizeof(b->sig_alg));
	crypto_generichash_update(&st, b->kn.keyid, sizeof(b->kn.keyid));
	crypto_generichash_update(&st, b->kn.sk, sizeof(b->kn.sk));
	crypto_generichash_final(&st, chk, 32);
	sodium_memzero(&st, sizeof(st));
}

/* Encrypting and decrypting are the same XOR with the scrypt stream. */
static int sk_crypt(struct sk_blob *b, const char *passphrase, struct sk_scratch *s,
		    struct fw_err *err)
{
	uint8_t *kn = (uint8_t *)&b->kn;
	size_t i;

	if (crypto_pwhash_scryptsalsa208sha256(s->stream, sizeof(s->stream), passphrase,
					       strlen(passphrase), b->salt,
					       le64_load(b->opslimit_le),
					       (size_t)le64_load(b->memlimit_le)) != 0)
		return fw_err_set(err, FW_EXIT_IO,
				  "cannot derive the key from the passphrase (out of memory?)");
	for (i = 0; i < sizeof(b->kn); i++)
		kn[i] ^= s->stream[i];
	sodium_memzero(s->stream, sizeof(s->stream));
	return 0;
}

/* Read and decode a secret key file into b (sodium memory); nothing decrypted yet. */
static int seckey_read(const char *path, struct sk_blob *b, struct fw_err *err)
{
	uint8_t *bin = NULL;
	char *text = NULL;
	const char *p, *end, *line;
	size_t len, llen, got = 0;
	/* Room for any line, so a wrong length is told apart from bad base64. */
	const size_t binmax = SIG_FILE_MAX;
	int rc = -1;

	text = sodium_malloc(SIG_FILE_MAX);
	bin = sodium_malloc(binmax);
	if (text == NULL || bin == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: out of memory", path);
		goto out;
	}
	if (sig_file_read(path, text, SIG_FILE_MAX, &len, err) != 0)
		goto out;
	p = text;
	end = text + len;
	if (sig_next_line(&p, end, &line, &llen) != 0 || llen < strlen(UNTRUSTED_PREFIX) ||
	    memcmp(line, UNTRUSTED_PREFIX, strlen(UNTRUSTED_PREFIX)) != 0) {
		fw_err_set(err, FW_EXIT_CREDENTIALS,
			   "%s: not a minisign secret key (no \"untrusted comment:\" line)", path);
		goto out;
	}
	if (sig_next_line(&p, end, &line, &llen) != 0) {
		fw_err_set(err, FW_EXIT_CREDENTIALS, "%s: not a minisign secret key (no key line)",
			   path);
		goto out;
	}
	if (sodium_base642bin(bin, binmax, line, llen, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		fw_err_set(err, FW_EXIT_CREDENTIALS, "%s: not a minisign secret key (bad base64)",
			   path);
		goto out;
	}
	if (got == SIG_PUBKEY_BYTES) {
		fw_err_set(err, FW_EXIT_CREDENTIALS, "%s: a minisign public key, not a secret key", path);
		goto out;
	}
	if (got != sizeof(*b)) {
		fw_err_set(err, FW_EXIT_CREDENTIALS, "%s: not a minisign secret key (wrong length)",
			   path);
		goto out;
	}
	if (p != end) {
		fw_err_set(err, FW_EXIT_CREDENTIALS,
			   "%s: not a minisign secret key (extra content after the key)", path);
		goto out;
	}
	memcpy(b, bin, sizeof(*b));
	if (memcmp(b->sig_alg, "Ed", 2) != 0 || memcmp(b->chk_alg, "B2", 2) != 0) {
		fw_err_set(err, FW_EXIT_CREDENTIALS,
			   "%s: not a minisign secret key (unsupported algorithm)", path);
		goto out;
	}
	if (memcmp(b->kdf_alg, "Sc", 2) != 0 && memcmp(b->kdf_alg, "\0\0", 2) != 0) {
		fw_err_set(err, FW_EXIT_CREDENTIALS,
			   "%s: not a minisign secret key (unsupported key derivation function)",
			   path);
		goto out;
	}
	rc = 0;
out:
	sodium_free(text);
	sodium_free(bin);
	return rc;
}

static int seckey_is_encrypted(const struct sk_blob *b)
{
	return memcmp(b->kdf_alg, "Sc", 2) == 0;
}

int sig_seckey_encrypted(const char *path, struct fw_err *err)
{
	struct sk_blob *b = NULL;
	int rc = -1;

	if (sodium_ready(err) != 0)
		return -1;
	b = sodium_malloc(sizeof(*b));
	if (b == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: out of memory", path);
		goto out;
	}
	if (seckey_read(path, b, err) != 0)
		goto out;
	rc = seckey_is_encrypted(b);
out:
	sodium_free(b);
	return rc;
}

int sig_seckey_load(const char *path, const char *passphrase, struct sig_seckey **out,
		    struct fw_err *err)
{
	struct sk_blob *b = NULL;
	struct sk_scratch *s = NULL;
	struct sig_seckey *k = NULL;
	uint64_t ops, mem;
	int rc = -1;

	if (sodium_ready(err) != 0)
		return -1;
	b = sodium_malloc(sizeof(*b));
	s = sodium_malloc(sizeof(*s));
	k = sodium_malloc(sizeof(*k));
	if (b == NULL || s == NULL || k == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: out of memory", path);
		goto out;
	}
	if (seckey_read(path, b, err) != 0)
		goto out;

	if (seckey_is_encrypted(b)) {
		if (passphrase == NULL) {
			fw_err_set(err, FW_EXIT_CREDENTIALS,
				   "%s: secret key is encrypted and no passphrase was given", path);
			goto out;
		}
		if (strlen(passphrase) > SIG_PASSPHRASE_MAX) {
			fw_err_set(err, FW_EXIT_CREDENTIALS, "passphrase longer than %d bytes",
				   SIG_PASSPHRASE_MAX);
			goto out;
		}
		/*
		 * The file chooses the scrypt cost; cap it so a hostile key file
		 * cannot make us spin or eat memory. Lowering it instead would
		 * derive a different stream, so refuse.
		 */
		ops = le64_load(b->opslimit_le);
		mem = le64_load(b->memlimit_le);
		if (ops > crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE ||
		    mem > crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE) {
			fw_err_set(err, FW_EXIT_CREDENTIALS,
				   "%s: secret key asks for key derivation limits (opslimit %" PRIu64
				   ", memlimit %" PRIu64 ") above the accepted maximum "
				   "(opslimit %llu, memlimit %llu)", path, ops, mem,
				   (unsigned long long)crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE,
				   (unsigned long long)crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE);
			goto out;
		}
		if (sk_crypt(b, passphrase, s, err) != 0) {
			fw_err_wrap(err, "%s", path);
			goto out;
		}
		sk_checksum(b, s->chk);
		if (sodium_memcmp(s->chk, b->kn.chk, sizeof(s->chk)) != 0) {
			fw_err_set(err, FW_EXIT_CREDENTIALS,
				   "%s: wrong passphrase or corrupt secret key", path);
			goto out;
		}
	} else if (!sodium_is_zero(b->kn.chk, sizeof(b->kn.chk))) {
		/* minisign -W leaves the checksum zero; when one is there, check it. */
		sk_checksum(b, s->chk);
		if (sodium_memcmp(s->chk, b->kn.chk, sizeof(s->chk)) != 0) {
			fw_err_set(err, FW_EXIT_CREDENTIALS,
				   "%s: corrupt secret key (checksum mismatch)", path);
			goto out;
		}
	}

	/*
	 * The key holds its own public half: rebuilding it from the seed
	 * catches a damaged unencrypted key, which has no checksum to fail.
	 */
	crypto_sign_ed25519_sk_to_seed(s->seed, b->kn.sk);
	if (crypto_sign_seed_keypair(s->pk, s->sk, s->seed) != 0 ||
	    sodium_memcmp(s->pk, b->kn.sk + crypto_sign_SEEDBYTES, sizeof(s->pk)) != 0) {
		fw_err_set(err, FW_EXIT_CREDENTIALS,
			   "%s: corrupt secret key (public half does not match)", path);
		goto out;
	}
	memcpy(k->keyid, b->kn.keyid, sizeof(k->keyid));
	memcpy(k->sk, b->kn.sk, sizeof(k->sk));
	*out = k;
	k = NULL;
	rc = 0;
out:
	sig_seckey_free(k);
	if (b != NULL)
		sodium_memzero(b, sizeof(*b));
	if (s != NULL)
		sodium_memzero(s, sizeof(*s));
	sodium_free(b);
	sodium_free(s);
	return rc;
}

void sig_seckey_free(struct sig_seckey *k)
{
	if (k == NULL)
		return;
	sodium_memzero(k, sizeof(*k));
	sodium_free(k);
}

void sig_seckey_pubkey(const struct sig_seckey *k, struct sig_pubkey *out)
{
	memcpy(out->keyid, k->keyid, SIG_KEYID_LEN);
	crypto_sign_ed25519_sk_to_pk(out->pk, k->sk);
}

/* Ed25519 with a key in memory: the signature operation of a minisign key file. */
static int file_ed25519(void *ctx, const uint8_t *m, size_t n, uint8_t sig[64], struct fw_err *err)
{
	const struct sig_seckey *k = ctx;

	if (crypto_sign_detached(sig, NULL, m, n, k->sk) != 0)
		return fw_err_set(err, FW_EXIT_IO, "cannot compute an Ed25519 signature");
	return 0;
}

int sig_sign(const struct sig_seckey *k, const void *msg, size_t len, const char *trusted_comment,
	     char **out, size_t *out_len, struct fw_err *err)
{
	return sig_sign_with(k->keyid, file_ed25519, (void *)k, msg, len, trusted_comment, out, out_len, err);
}

/* Each base64 line without its NUL; the key id is 16 hex digits. */
size_t sig_text_len(const char *trusted_comment)
{
	return strlen(UNTRUSTED_PREFIX SIG_COMMENT) + 16 + 1 + (B64_LEN(sizeof(struct sig_blob)) - 1) + 1 +
	       strlen(TRUSTED_PREFIX) + strlen(trusted_comment) + 1 + (B64_LEN(crypto_sign_BYTES) - 1) + 1;
}

int sig_sign_with(const uint8_t keyid_bytes[SIG_KEYID_LEN], sig_ed25519_fn ed25519, void *ctx,
		  const void *msg, size_t len, const char *trusted_comment, char **out, size_t *out_len,
		  struct fw_err *err)
{
	uint8_t hash[crypto_generichash_BYTES_MAX];
	uint8_t signed_tc[crypto_sign_BYTES + SIG_COMMENT_MAX];
	uint8_t global_sig[crypto_sign_BYTES];
	struct sig_blob blob;
	char keyid[17];
	char *text = NULL;
	size_t tc_len, cap;
	int n;
	int rc = -1;

	if (sodium_ready(err) != 0)
		return -1;
	if (trusted_comment == NULL)
		trusted_comment = "";
	tc_len = strlen(trusted_comment);
	if (tc_len > SIG_COMMENT_MAX) {
		fw_err_set(err, FW_EXIT_USAGE, "trusted comment longer than %d bytes",
			   SIG_COMMENT_MAX);
		goto out;
	}
	if (strpbrk(trusted_comment, "\r\n") != NULL) {
		fw_err_set(err, FW_EXIT_USAGE, "trusted comment must be a single line");
		goto out;
	}

	memcpy(blob.alg, "ED", 2);
	memcpy(blob.keyid, keyid_bytes, SIG_KEYID_LEN);
	if (crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0) != 0) {
		fw_err_set(err, FW_EXIT_IO, "cannot hash the manifest");
		goto out;
	}
	if (ed25519(ctx, hash, sizeof(hash), blob.sig, err) != 0)
		goto out;
	memcpy(signed_tc, blob.sig, sizeof(blob.sig));
	memcpy(signed_tc + sizeof(blob.sig), trusted_comment, tc_len);
	if (ed25519(ctx, signed_tc, sizeof(blob.sig) + tc_len, global_sig, err) != 0)
		goto out;

	sig_keyid_str(keyid_bytes, keyid);
	cap = strlen(UNTRUSTED_PREFIX SIG_COMMENT) + 16 + 1 + B64_LEN(sizeof(blob)) +
	      strlen(TRUSTED_PREFIX) + tc_len + 1 + B64_LEN(sizeof(global_sig)) + 1;
	text = malloc(cap);
	if (text == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	n = snprintf(text, cap, UNTRUSTED_PREFIX SIG_COMMENT "%s\n", keyid);
	sodium_bin2base64(text + n, cap - (size_t)n, (const uint8_t *)&blob, sizeof(blob),
			  sodium_base64_VARIANT_ORIGINAL);
	n += (int)strlen(text + n);
	n += snprintf(text + n, cap - (size_t)n, "\n" TRUSTED_PREFIX "%s\n", trusted_comment);
	sodium_bin2base64(text + n, cap - (size_t)n, global_sig, sizeof(global_sig),
			  sodium_base64_VARIANT_ORIGINAL);
	n += (int)strlen(text + n);
	n += snprintf(text + n, cap - (size_t)n, "\n");
	*out = text;
	*out_len = (size_t)n;
	text = NULL;
	rc = 0;
out:
	free(text);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int sig_keygen(const char *pub_path, const char *sec_path, const char *passphrase,
	       int force, struct fw_err *err)
{
	struct sk_blob *b = NULL;
	struct sk_scratch *s = NULL;
	char *sec_text = NULL;
	struct outfile sec_out = { .fd = -1 }, pub_out = { .fd = -1 };
	const int flags = (force ? OUTFILE_FORCE : 0) | OUTFILE_DURABLE;
	struct pk_blob pub;
	char pub_text[sizeof(UNTRUSTED_PREFIX "minisign public key ") + 16 + 1 +
		      B64_LEN(sizeof(struct pk_blob)) + 1];
	char keyid[17];
	const size_t sec_cap = strlen(UNTRUSTED_PREFIX SECKEY_COMMENT) + 1 +
			       B64_LEN(sizeof(struct sk_blob)) + 1;
	size_t n;
	int sec_placed = 0;
	int rc = -1;

	if (sodium_ready(err) != 0)
		return -1;
	if (strcmp(pub_path, sec_path) == 0)
		return fw_err_set(err, FW_EXIT_USAGE,
				  "%s: public and secret key cannot be the same file", pub_path);
	if (passphrase != NULL && strlen(passphrase) > SIG_PASSPHRASE_MAX)
		return fw_err_set(err, FW_EXIT_CREDENTIALS, "passphrase longer than %d bytes",
				  SIG_PASSPHRASE_MAX);
	/* Fail before the slow part; the commit's no-replace rename closes the race that remains. */
	if (outfile_open(&sec_out, sec_path, 0600, flags, err) != 0 ||
	    outfile_open(&pub_out, pub_path, 0644, flags, err) != 0)
		goto out;

	b = sodium_malloc(sizeof(*b));
	s = sodium_malloc(sizeof(*s));
	sec_text = sodium_malloc(sec_cap);
	if (b == NULL || s == NULL || sec_text == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	/* Unencrypted, this is what minisign -W writes: zero salt, limits and checksum. */
	memset(b, 0, sizeof(*b));
	memcpy(b->sig_alg, "Ed", 2);
	memcpy(b->chk_alg, "B2", 2);
	randombytes_buf(b->kn.keyid, sizeof(b->kn.keyid));
	if (crypto_sign_keypair(pub.pk, b->kn.sk) != 0) {
		fw_err_set(err, FW_EXIT_IO, "cannot generate a key pair");
		goto out;
	}
	memcpy(pub.alg, "Ed", 2);
	memcpy(pub.keyid, b->kn.keyid, sizeof(pub.keyid));
	if (passphrase != NULL) {
		memcpy(b->kdf_alg, "Sc", 2);
		randombytes_buf(b->salt, sizeof(b->salt));
		le64_store(b->opslimit_le, KDF_OPSLIMIT);
		le64_store(b->memlimit_le, KDF_MEMLIMIT);
		sk_checksum(b, b->kn.chk);
		if (sk_crypt(b, passphrase, s, err) != 0)
			goto out;
	}

	n = (size_t)snprintf(sec_text, sec_cap, UNTRUSTED_PREFIX SECKEY_COMMENT "\n");
	sodium_bin2base64(sec_text + n, sec_cap - n, (const uint8_t *)b, sizeof(*b),
			  sodium_base64_VARIANT_ORIGINAL);
	n += strlen(sec_text + n);
	n += (size_t)snprintf(sec_text + n, sec_cap - n, "\n");

	sig_keyid_str(pub.keyid, keyid);
	n = (size_t)snprintf(pub_text, sizeof(pub_text),
			     UNTRUSTED_PREFIX "minisign public key %s\n", keyid);
	sodium_bin2base64(pub_text + n, sizeof(pub_text) - n, (const uint8_t *)&pub, sizeof(pub),
			  sodium_base64_VARIANT_ORIGINAL);
	n += strlen(pub_text + n);
	n += (size_t)snprintf(pub_text + n, sizeof(pub_text) - n, "\n");

	if (fw_write_all(sec_out.fd, sec_text, strlen(sec_text), sec_path, err) != 0 ||
	    fw_write_all(pub_out.fd, pub_text, n, pub_path, err) != 0)
		goto out;
	if (outfile_commit(&sec_out, flags, err) != 0)
		goto out;
	sec_placed = 1;
	if (outfile_commit(&pub_out, flags, err) != 0)
		goto out;
	rc = 0;
out:
	/* Without force the secret key we just placed is ours: take it back out. */
	if (rc != 0 && sec_placed && !force)
		unlink(sec_path);
	outfile_abort(&sec_out);
	outfile_abort(&pub_out);
	if (sec_text != NULL)
		sodium_memzero(sec_text, sec_cap);
	if (b != NULL)
		sodium_memzero(b, sizeof(*b));
	sodium_free(sec_text);
	sodium_free(b);
	sodium_free(s);
	return rc;
}

int sig_pubkey_write(const char *path, const struct sig_pubkey *k, int force, struct fw_err *err)
{
	struct pk_blob pub;
	char text[sizeof(UNTRUSTED_PREFIX "minisign public key ") + 16 + 1 + B64_LEN(sizeof(struct pk_blob)) + 1];
	char keyid[17];
	size_t n;

	memcpy(pub.alg, "Ed", 2);
	memcpy(pub.keyid, k->keyid, SIG_KEYID_LEN);
	memcpy(pub.pk, k->pk, SIG_PK_LEN);
	sig_keyid_str(k->keyid, keyid);
	n = (size_t)snprintf(text, sizeof(text), UNTRUSTED_PREFIX "minisign public key %s\n", keyid);
	sodium_bin2base64(text + n, sizeof(text) - n, (const uint8_t *)&pub, sizeof(pub),
			  sodium_base64_VARIANT_ORIGINAL);
	n += strlen(text + n);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\n");
	return outfile_write_file(path, text, n, 0644, (force ? OUTFILE_FORCE : 0) | OUTFILE_DURABLE, err);
}

int sig_append(char **all, size_t *all_len, const char *one, size_t one_len, struct fw_err *err)
{
	char *grown = realloc(*all, *all_len + one_len + 1);

	if (grown == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	memcpy(grown + *all_len, one, one_len);
	*all = grown;
	*all_len += one_len;
	grown[*all_len] = '\0';
	return 0;
}
