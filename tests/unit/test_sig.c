/* test_sig: minisign keys, signatures and trust store (interop with stock minisign: tests/e2e/test_minisign_interop.sh). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <sodium.h>

#include "signing/accept.h"
#include "signing/minisign.h"
#include "signing/trust.h"
#include "tests/unit/unit_main.h"


/* Offsets in a decoded 158-byte minisign secret key. */
#define SK_LEN 158
#define SK_KDF 2
#define SK_SALT 6
#define SK_OPS 38
#define SK_MEM 46
#define SK_KEYID 54
#define SK_CHK 126

static char tmpdir[] = "/tmp/test_sig.XXXXXX";

/* A path in the test directory; a few rotating buffers so calls can nest. */
static const char *tp(const char *fmt, ...)
{
	static char bufs[8][512];
	static int next;
	char name[256];
	char *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return b;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, f) != len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* The whole file, NUL-terminated, in malloc'd memory; NULL if unreadable. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	long sz;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)sz + 1);
		if (buf != NULL) {
			n = fread(buf, 1, (size_t)sz, f);
			buf[n] = '\0';
		}
	}
	fclose(f);
	if (len != NULL)
		*len = n;
	return buf;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Number of entries in a directory, not counting . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Assert that err says what the test expects, and show it when it does not. */
#define ERR_HAS(err, needle)                                                          \
	do {                                                                          \
		int found_ = strstr((err).msg, (needle)) != NULL;                     \
		if (!found_)                                                          \
			fprintf(stderr, "\n  message \"%s\" lacks \"%s\"\n", (err).msg, \
				(needle));                                            \
		CU_ASSERT(found_);                                                    \
	} while (0)

/* Decode the key line of a secret key file into out[SK_LEN]. */
static int decode_seckey(const char *path, uint8_t out[SK_LEN])
{
	char *text = read_all(path, NULL);
	char *line, *nl;
	size_t got = 0;
	int rc = -1;

	if (text == NULL)
		return -1;
	line = strchr(text, '\n');
	if (line != NULL) {
		line++;
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (sodium_base642bin(out, SK_LEN, line, strlen(line), NULL, &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) == 0 && got == SK_LEN)
			rc = 0;
	}
	free(text);
	return rc;
}

static int encode_seckey(const char *path, const uint8_t bin[SK_LEN])
{
	char text[512];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "untrusted comment: minisign encrypted secret key\n");
	sodium_bin2base64(text + n, sizeof(text) - n, bin, SK_LEN, sodium_base64_VARIANT_ORIGINAL);
	strcat(text, "\n");
	return write_file(path, text, strlen(text));
}

/* A public key file's text for arbitrary key id and key bytes. */
static void make_pub_text(const uint8_t keyid[8], const uint8_t pk[32], char *out, size_t cap)
{
	uint8_t blob[42];
	char id[17];
	size_t n;

	memcpy(blob, "Ed", 2);
	memcpy(blob + 2, keyid, 8);
	memcpy(blob + 10, pk, 32);
	sig_keyid_str(keyid, id);
	n = (size_t)snprintf(out, cap, "untrusted comment: minisign public key %s\n", id);
	sodium_bin2base64(out + n, cap - n, blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
	strncat(out, "\n", cap - strlen(out) - 1);
}

/* Sign msg with a loaded key and parse the result back. */
static int sign_parse(const struct sig_seckey *k, const char *msg, const char *tc,
		      struct sig_signature *s, char **text, size_t *len)
{
	struct fw_err err = { 0 };
	char *t = NULL;
	size_t l = 0;
	int rc;

	rc = sig_sign(k, msg, strlen(msg), tc, &t, &l, &err);
	if (rc != 0) {
		fprintf(stderr, "\n  sig_sign: %s\n", err.msg);
		return -1;
	}
	rc = sig_signature_parse(t, l, s, &err);
	if (rc != 0)
		fprintf(stderr, "\n  sig_signature_parse: %s\n", err.msg);
	if (text != NULL) {
		*text = t;
		*len = l;
	} else {
		free(t);
	}
	return rc;
}

/* Shared unencrypted key pairs made by the suite setup: k1 and k2. */
static struct sig_seckey *k1, *k2;
static struct sig_pubkey p1, p2;

static int suite_init(void)
{
	struct fw_err err = { 0 };

	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
		return -1;
	if (sig_keygen(tp("k1.pub"), tp("k1.key"), NULL, 0, &err) != 0 ||
	    sig_keygen(tp("k2.pub"), tp("k2.key"), NULL, 0, &err) != 0 ||
	    sig_seckey_load(tp("k1.key"), NULL, &k1, &err) != 0 ||
	    sig_seckey_load(tp("k2.key"), NULL, &k2, &err) != 0 ||
	    sig_pubkey_load(tp("k1.pub"), &p1, &err) != 0 ||
	    sig_pubkey_load(tp("k2.pub"), &p2, &err) != 0) {
		fprintf(stderr, "suite setup: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	char cmd[600];

	sig_seckey_free(k1);
	sig_seckey_free(k2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_keyid_str(void)
{
	static const uint8_t id[8] = { 0xc5, 0xc6, 0x5e, 0x1e, 0xff, 0x7a, 0x4b, 0xe7 };
	char s[17];

	/* From a real minisign key: "minisign public key E74B7AFF1E5EC6C5". */
	sig_keyid_str(id, s);
	CU_ASSERT_STRING_EQUAL(s, "E74B7AFF1E5EC6C5");
	/* Always 16 digits, zero-padded, for a key id whose top byte is small. */
	sig_keyid_str((const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08", s);
	CU_ASSERT_STRING_EQUAL(s, "0807060504030201");
}

static void test_keygen_encrypted(void)
{
	struct fw_err err = { 0 };
	struct sig_seckey *k = NULL;
	struct sig_pubkey pub, derived;
	uint8_t bin[SK_LEN];
	char id[17], want[128];
	char *text;
	struct stat st;
	uint64_t ops = 0, mem = 0;
	int i;

	CU_ASSERT_EQUAL(mkdir(tp("enc"), 0700), 0);
	CU_ASSERT_EQUAL_FATAL(sig_keygen(tp("enc/a.pub"), tp("enc/a.key"), "correct horse", 0, &err), 0);
	CU_ASSERT_EQUAL(count_entries(tp("enc")), 2);  /* no temporary file left */
	CU_ASSERT_EQUAL(stat(tp("enc/a.key"), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 077, 0);
	CU_ASSERT_EQUAL(sig_seckey_encrypted(tp("enc/a.key"), &err), 1);

	CU_ASSERT_EQUAL_FATAL(sig_pubkey_load(tp("enc/a.pub"), &pub, &err), 0);
	sig_keyid_str(pub.keyid, id);
	snprintf(want, sizeof(want), "untrusted comment: minisign public key %s\n", id);
	text = read_all(tp("enc/a.pub"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strncmp(text, want, strlen(want)), 0);
	free(text);
	text = read_all(tp("enc/a.key"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strncmp(text, "untrusted comment: minisign encrypted secret key\n", 49), 0);
	free(text);

	/* scrypt tag and the interactive limits, little-endian. */
	CU_ASSERT_EQUAL_FATAL(decode_seckey(tp("enc/a.key"), bin), 0);
	CU_ASSERT_EQUAL(memcmp(bin, "EdScB2", 6), 0);
	for (i = 7; i >= 0; i--) {
		ops = (ops << 8) | bin[SK_OPS + i];
		mem = (mem << 8) | bin[SK_MEM + i];
	}
	CU_ASSERT_EQUAL(ops, crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_INTERACTIVE);
	CU_ASSERT_EQUAL(mem, crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE);
	/* Encrypted: the key id in the file is not the clear one. */
	CU_ASSERT(memcmp(bin + SK_KEYID, pub.keyid, 8) != 0);

	CU_ASSERT_EQUAL_FATAL(sig_seckey_load(tp("enc/a.key"), "correct horse", &k, &err), 0);
	sig_seckey_pubkey(k, &derived);
	CU_ASSERT_EQUAL(memcmp(&derived, &pub, sizeof(pub)), 0);
	sig_seckey_free(k);
	k = NULL;

	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_seckey_load(tp("enc/a.key"), "correct horsf", &k, &err), -1);
	CU_ASSERT_PTR_NULL(k);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_CREDENTIALS);
	ERR_HAS(err, "wrong passphrase or corrupt secret key");
	ERR_HAS(err, "enc/a.key");

	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_seckey_load(tp("enc/a.key"), NULL, &k, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_CREDENTIALS);
	ERR_HAS(err, "passphrase");

	/* Each half given for the other is named as what it is: the user's own key, exit 6. */
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_seckey_load(tp("enc/a.pub"), "correct horse", &k, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_CREDENTIALS);
	ERR_HAS(err, "enc/a.pub: a minisign public key, not a secret key");
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_pubkey_load(tp("enc/a.key"), &derived, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	ERR_HAS(err, "enc/a.key: a minisign secret key, not a public key");
}

static void test_keygen_unencrypted(void)
{
	struct fw_err err = { 0 };
	struct sig_seckey *k = NULL;
	struct sig_pubkey pub, derived;
	uint8_t bin[SK_LEN];

	CU_ASSERT_EQUAL(mkdir(tp("plain"), 0700), 0);
	CU_ASSERT_EQUAL_FATAL(sig_keygen(tp("plain/a.pub"), tp("plain/a.key"), NULL, 0, &err), 0);
	CU_ASSERT_EQUAL(sig_seckey_encrypted(tp("plain/a.key"), &err), 0);
	CU_ASSERT_EQUAL_FATAL(sig_pubkey_load(tp("plain/a.pub"), &pub, &err), 0);

	/* What minisign -W writes: no KDF tag, zero salt, limits and checksum. */
	CU_ASSERT_EQUAL_FATAL(decode_seckey(tp("plain/a.key"), bin), 0);
	CU_ASSERT_EQUAL(memcmp(bin, "Ed\0\0B2", 6), 0);
	CU_ASSERT(sodium_is_zero(bin + SK_SALT, 32 + 8 + 8));
	CU_ASSERT(sodium_is_zero(bin + SK_CHK, 32));
	CU_ASSERT_EQUAL(memcmp(bin + SK_KEYID, pub.keyid, 8), 0);

	/* The passphrase is ignored for an unencrypted key. */
	CU_ASSERT_EQUAL_FATAL(sig_seckey_load(tp("plain/a.key"), "anything", &k, &err), 0);
	sig_seckey_pubkey(k, &derived);
	CU_ASSERT_EQUAL(memcmp(&derived, &pub, sizeof(pub)), 0);
	sig_seckey_free(k);
	k = NULL;

	/* A damaged unencrypted key is caught (its public half no longer matches). */
	bin[SK_KEYID + 8 + 40] ^= 0x01;
	CU_ASSERT_EQUAL(encode_seckey(tp("plain/bad.key"), bin), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_seckey_load(tp("plain/bad.key"), NULL, &k, &err), -1);
	ERR_HAS(err, "corrupt secret key");
	/* ...and so is one whose checksum is present and wrong. */
	bin[SK_KEYID + 8 + 40] ^= 0x01;
	bin[SK_CHK] = 0x55;
	CU_ASSERT_EQUAL(encode_seckey(tp("plain/bad2.key"), bin), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_seckey_load(tp("plain/bad2.key"), NULL, &k, &err), -1);
	ERR_HAS(err, "checksum");
}

static void test_keygen_no_overwrite(void)
{
	struct fw_err err = { 0 };
	char *pub0, *sec0, *pub1, *sec1;

	CU_ASSERT_EQUAL(mkdir(tp("ow"), 0700), 0);
	CU_ASSERT_EQUAL_FATAL(sig_keygen(tp("ow/a.pub"), tp("ow/a.key"), NULL, 0, &err), 0);
	pub0 = read_all(tp("ow/a.pub"), NULL);
	sec0 = read_all(tp("ow/a.key"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sec0);

	CU_ASSERT_EQUAL(sig_keygen(tp("ow/a.pub"), tp("ow/a.key"), NULL, 0, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	ERR_HAS(err, "already exists");
	CU_ASSERT_EQUAL(count_entries(tp("ow")), 2);
	pub1 = read_all(tp("ow/a.pub"), NULL);
	sec1 = read_all(tp("ow/a.key"), NULL);
	CU_ASSERT(pub1 != NULL && strcmp(pub0, pub1) == 0);
	CU_ASSERT(sec1 != NULL && strcmp(sec0, sec1) == 0);
	free(pub1);
	free(sec1);

	/* Only the secret key exists: refused, and no public key appears. */
	CU_ASSERT_EQUAL(unlink(tp("ow/a.pub")), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_keygen(tp("ow/a.pub"), tp("ow/a.key"), NULL, 0, &err), -1);
	ERR_HAS(err, "ow/a.key");
	CU_ASSERT_FALSE(exists(tp("ow/a.pub")));
	CU_ASSERT_EQUAL(count_entries(tp("ow")), 1);

	/* A dangling symlink counts as existing: never written through. */
	CU_ASSERT_EQUAL(symlink(tp("ow/elsewhere"), tp("ow/b.key")), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_keygen(tp("ow/b.pub"), tp("ow/b.key"), NULL, 0, &err), -1);
	ERR_HAS(err, "ow/b.key");
	CU_ASSERT_FALSE(exists(tp("ow/elsewhere")));
	CU_ASSERT_FALSE(exists(tp("ow/b.pub")));

	/* With force both are replaced, nothing else is left behind. */
	CU_ASSERT_EQUAL_FATAL(sig_keygen(tp("ow/a.pub"), tp("ow/a.key"), "pw", 1, &err), 0);
	pub1 = read_all(tp("ow/a.pub"), NULL);
	sec1 = read_all(tp("ow/a.key"), NULL);
	CU_ASSERT(pub1 != NULL && strcmp(pub0, pub1) != 0);
	CU_ASSERT(sec1 != NULL && strcmp(sec0, sec1) != 0);
	CU_ASSERT_EQUAL(count_entries(tp("ow")), 3);  /* a.pub, a.key, b.key symlink */
	free(pub0);
	free(sec0);
	free(pub1);
	free(sec1);

	/* A missing directory is an I/O error and creates nothing. */
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_keygen(tp("nodir/a.pub"), tp("nodir/a.key"), NULL, 0, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
	ERR_HAS(err, "nodir/a.key");
}

static void test_sign_verify(void)
{
	struct fw_err err = { 0 };
	struct sig_signature s;
	char id[17], want[128], tc[SIG_COMMENT_MAX + 2];
	char *text = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(sign_parse(k1, "manifest bytes", "timestamp:1\tfile:manifest.json",
					 &s, &text, &len), 0);
	sig_keyid_str(p1.keyid, id);
	snprintf(want, sizeof(want), "untrusted comment: signature from fwpkg secret key %s\n", id);
	CU_ASSERT_EQUAL(strncmp(text, want, strlen(want)), 0);
	CU_ASSERT(strstr(text, "\ntrusted comment: timestamp:1\tfile:manifest.json\n") != NULL);
	CU_ASSERT_EQUAL(text[len - 1], '\n');
	CU_ASSERT_EQUAL(strlen(text), len);
	CU_ASSERT_STRING_EQUAL(s.trusted_comment, "timestamp:1\tfile:manifest.json");
	CU_ASSERT_EQUAL(memcmp(s.keyid, p1.keyid, 8), 0);
	CU_ASSERT_EQUAL(sig_verify(&p1, &s, "manifest bytes", 14, &err), 0);
	free(text);

	/* Empty message, no trusted comment. */
	CU_ASSERT_EQUAL_FATAL(sign_parse(k1, "", NULL, &s, NULL, NULL), 0);
	CU_ASSERT_STRING_EQUAL(s.trusted_comment, "");
	CU_ASSERT_EQUAL(sig_verify(&p1, &s, "", 0, &err), 0);

	/* The longest trusted comment allowed round-trips; one more byte is refused. */
	memset(tc, 'c', SIG_COMMENT_MAX);
	tc[SIG_COMMENT_MAX] = '\0';
	CU_ASSERT_EQUAL_FATAL(sign_parse(k1, "m", tc, &s, NULL, NULL), 0);
	CU_ASSERT_STRING_EQUAL(s.trusted_comment, tc);
	CU_ASSERT_EQUAL(sig_verify(&p1, &s, "m", 1, &err), 0);
	tc[SIG_COMMENT_MAX] = 'c';
	tc[SIG_COMMENT_MAX + 1] = '\0';
	text = NULL;
	CU_ASSERT_EQUAL(sig_sign(k1, "m", 1, tc, &text, &len, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_PTR_NULL(text);
	CU_ASSERT_EQUAL(sig_sign(k1, "m", 1, "two\nlines", &text, &len, &err), -1);
	CU_ASSERT_PTR_NULL(text);
}

static void test_tamper(void)
{
	struct fw_err err = { 0 };
	struct sig_signature s, t;
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *text = NULL, *copy;
	char *l2, *l4;
	size_t len = 0, i;
	int rejected_all = 1;

	CU_ASSERT_EQUAL_FATAL(sign_parse(k1, "firmware image", "v1", &s, &text, &len), 0);

	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_verify(&p1, &s, "firmware imagf", 14, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_STRING_EQUAL(err.msg, "signature does not match");
	CU_ASSERT_EQUAL(sig_verify(&p1, &s, "firmware imag", 13, &err), -1);

	t = s;
	t.sig[10] ^= 0x01;
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_verify(&p1, &t, "firmware image", 14, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "signature does not match");

	t = s;
	t.trusted_comment[1] = '2';
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_verify(&p1, &t, "firmware image", 14, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "trusted comment signature does not match");

	t = s;
	strcpy(t.trusted_comment, "v1 ");
	CU_ASSERT_EQUAL(sig_verify(&p1, &t, "firmware image", 14, &err), -1);

	t = s;
	t.global_sig[5] ^= 0x80;
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_verify(&p1, &t, "firmware image", 14, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "trusted comment signature does not match");

	/* Every change to any character of either base64 line is rejected. */
	copy = malloc(len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	l2 = strchr(text, '\n') + 1;
	l4 = strchr(strchr(l2, '\n') + 1, '\n') + 1;
	for (i = 0; i < len; i++) {
		const char *p = text + i;
		int in_b64 = (p >= l2 && *p != '\n' && p < strchr(l2, '\n')) ||
			     (p >= l4 && *p != '\n');

		if (!in_b64)
			continue;
		memcpy(copy, text, len + 1);
		if (text[i] == '=')
			copy[i] = 'A';
		else
			copy[i] = b64[(strchr(b64, text[i]) - b64 + 1) % 64];
		if (sig_signature_parse(copy, len, &t, &err) == 0 &&
		    sig_verify(&p1, &t, "firmware image", 14, &err) == 0) {
			fprintf(stderr, "\n  accepted with byte %zu changed\n", i);
			rejected_all = 0;
		}
	}
	CU_ASSERT(rejected_all);
	/* The trusted comment line too, in the text. */
	memcpy(copy, text, len + 1);
	*strstr(copy, "trusted comment: v1") = 'T';
	CU_ASSERT_EQUAL(sig_signature_parse(copy, len, &t, &err), -1);
	memcpy(copy, text, len + 1);
	strstr(copy, "trusted comment: v1")[18] = '2';
	CU_ASSERT_EQUAL_FATAL(sig_signature_parse(copy, len, &t, &err), 0);
	CU_ASSERT_EQUAL(sig_verify(&p1, &t, "firmware image", 14, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "trusted comment signature does not match");
	free(copy);
	free(text);
}

static void test_wrong_key(void)
{
	struct fw_err err = { 0 };
	struct sig_signature s;
	struct sig_pubkey mixed;
	char id1[17], id2[17];

	CU_ASSERT_EQUAL_FATAL(sign_parse(k1, "payload", "x", &s, NULL, NULL), 0);
	CU_ASSERT_EQUAL(sig_verify(&p2, &s, "payload", 7, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	sig_keyid_str(p1.keyid, id1);
	sig_keyid_str(p2.keyid, id2);
	ERR_HAS(err, "signed by key");
	ERR_HAS(err, id1);
	ERR_HAS(err, id2);
	CU_ASSERT(strstr(err.msg, id1) < strstr(err.msg, id2));

	/* A key claiming k1's id but holding another key: the signature fails. */
	mixed = p2;
	memcpy(mixed.keyid, p1.keyid, 8);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_verify(&mixed, &s, "payload", 7, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "signature does not match");
}

static void test_legacy_refused(void)
{
	struct fw_err err = { 0 };
	struct sig_signature s;
	uint8_t blob[74], gsig[64];
	char text[512];
	size_t n;

	memcpy(blob, "Ed", 2);
	memcpy(blob + 2, p1.keyid, 8);
	randombytes_buf(blob + 10, 64);
	randombytes_buf(gsig, sizeof(gsig));
	n = (size_t)snprintf(text, sizeof(text), "untrusted comment: legacy\n");
	sodium_bin2base64(text + n, sizeof(text) - n, blob, sizeof(blob),
			  sodium_base64_VARIANT_ORIGINAL);
	n = strlen(text);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\ntrusted comment: t\n");
	sodium_bin2base64(text + n, sizeof(text) - n, gsig, sizeof(gsig),
			  sodium_base64_VARIANT_ORIGINAL);
	strcat(text, "\n");
	CU_ASSERT_EQUAL(sig_signature_parse(text, strlen(text), &s, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	ERR_HAS(err, "legacy");
	ERR_HAS(err, "not accepted");

	/* Any other tag is unsupported. */
	memcpy(blob, "XY", 2);
	n = (size_t)snprintf(text, sizeof(text), "untrusted comment: other\n");
	sodium_bin2base64(text + n, sizeof(text) - n, blob, sizeof(blob),
			  sodium_base64_VARIANT_ORIGINAL);
	n = strlen(text);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\ntrusted comment: t\n");
	sodium_bin2base64(text + n, sizeof(text) - n, gsig, sizeof(gsig),
			  sodium_base64_VARIANT_ORIGINAL);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_signature_parse(text, strlen(text), &s, &err), -1);
	ERR_HAS(err, "unsupported algorithm");
}

static void set_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_kdf_limits(void)
{
	struct fw_err err = { 0 };
	struct sig_seckey *k = NULL;
	uint8_t bin[SK_LEN], mod[SK_LEN];

	CU_ASSERT_EQUAL(mkdir(tp("kdf"), 0700), 0);
	CU_ASSERT_EQUAL_FATAL(sig_keygen(tp("kdf/a.pub"), tp("kdf/a.key"), "pw", 0, &err), 0);
	CU_ASSERT_EQUAL_FATAL(decode_seckey(tp("kdf/a.key"), bin), 0);

	memcpy(mod, bin, SK_LEN);
	set_le64(mod + SK_OPS, (uint64_t)crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE + 1);
	CU_ASSERT_EQUAL(encode_seckey(tp("kdf/ops.key"), mod), 0);
	CU_ASSERT_EQUAL(sig_seckey_load(tp("kdf/ops.key"), "pw", &k, &err), -1);
	CU_ASSERT_PTR_NULL(k);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_CREDENTIALS);
	ERR_HAS(err, "kdf/ops.key");
	ERR_HAS(err, "above the accepted maximum");

	memcpy(mod, bin, SK_LEN);
	set_le64(mod + SK_MEM, (uint64_t)crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE * 4);
	CU_ASSERT_EQUAL(encode_seckey(tp("kdf/mem.key"), mod), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_seckey_load(tp("kdf/mem.key"), "pw", &k, &err), -1);
	ERR_HAS(err, "above the accepted maximum");

	memcpy(mod, bin, SK_LEN);
	set_le64(mod + SK_OPS, UINT64_MAX);
	CU_ASSERT_EQUAL(encode_seckey(tp("kdf/huge.key"), mod), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_seckey_load(tp("kdf/huge.key"), "pw", &k, &err), -1);
	ERR_HAS(err, "above the accepted maximum");

	/* An unknown KDF tag is refused, not taken as "unencrypted". */
	memcpy(mod, bin, SK_LEN);
	memcpy(mod + SK_KDF, "Ar", 2);
	CU_ASSERT_EQUAL(encode_seckey(tp("kdf/alg.key"), mod), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_seckey_load(tp("kdf/alg.key"), "pw", &k, &err), -1);
	ERR_HAS(err, "key derivation");
	CU_ASSERT_EQUAL(sig_seckey_encrypted(tp("kdf/alg.key"), &err), -1);
}

static void test_truncated(void)
{
	struct fw_err err = { 0 };
	struct sig_pubkey pk;
	struct sig_signature s;
	struct sig_seckey *k = NULL;
	char *pub, *sec, *sig = NULL;
	size_t pub_len = 0, sec_len = 0, sig_len = 0, l;
	int bad = 0;

	pub = read_all(tp("k1.pub"), &pub_len);
	sec = read_all(tp("k1.key"), &sec_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sec);
	CU_ASSERT_EQUAL_FATAL(sign_parse(k1, "msg", "tc", &s, &sig, &sig_len), 0);

	/* Dropping only the final newline is fine; any shorter prefix is not. */
	for (l = 0; l + 1 < pub_len; l++)
		if (sig_pubkey_parse(pub, l, &pk, &err) == 0)
			bad++;
	for (l = 0; l + 1 < sig_len; l++)
		if (sig_signature_parse(sig, l, &s, &err) == 0)
			bad++;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(sig_pubkey_parse(pub, pub_len - 1, &pk, &err), 0);
	CU_ASSERT_EQUAL(sig_signature_parse(sig, sig_len - 1, &s, &err), 0);
	CU_ASSERT_EQUAL(sig_verify(&p1, &s, "msg", 3, &err), 0);

	for (l = 0; l + 1 < sec_len; l += 7) {
		CU_ASSERT_EQUAL(write_file(tp("trunc.key"), sec, l), 0);
		if (sig_seckey_load(tp("trunc.key"), NULL, &k, &err) == 0) {
			fprintf(stderr, "\n  secret key cut to %zu bytes loaded\n", l);
			sig_seckey_free(k);
			k = NULL;
			bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(write_file(tp("trunc.key"), sec, sec_len - 1), 0);
	CU_ASSERT_EQUAL(sig_seckey_load(tp("trunc.key"), NULL, &k, &err), 0);
	sig_seckey_free(k);

	/* Through the file API the message names the file. */
	CU_ASSERT_EQUAL(write_file(tp("trunc.pub"), pub, pub_len / 2), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_pubkey_load(tp("trunc.pub"), &pk, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_EQUAL(strncmp(err.msg, tp("trunc.pub"), strlen(tp("trunc.pub"))), 0);
	ERR_HAS(err, "not a minisign public key");
	free(pub);
	free(sec);
	free(sig);
}

static void test_strict_parsing(void)
{
	struct fw_err err = { 0 };
	struct sig_pubkey pk;
	struct sig_signature s;
	char *pub, *sig = NULL, *buf, *p;
	size_t pub_len = 0, sig_len = 0;

	pub = read_all(tp("k1.pub"), &pub_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_EQUAL_FATAL(sign_parse(k1, "msg", "tc", &s, &sig, &sig_len), 0);
	buf = malloc(8192);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);

	/* Extra content after the last line. */
	snprintf(buf, 8192, "%s\n", pub);
	CU_ASSERT_EQUAL(sig_pubkey_parse(buf, strlen(buf), &pk, &err), -1);
	ERR_HAS(err, "extra content");
	snprintf(buf, 8192, "%sjunk\n", sig);
	CU_ASSERT_EQUAL(sig_signature_parse(buf, strlen(buf), &s, &err), -1);
	ERR_HAS(err, "extra content");

	/* CRLF line ends, as minisign tolerates them. */
	snprintf(buf, 8192, "%s", pub);
	p = strchr(buf, '\n');
	memmove(p + 1, p, strlen(p) + 1);
	*p = '\r';
	CU_ASSERT_EQUAL(sig_pubkey_parse(buf, strlen(buf), &pk, &err), 0);
	CU_ASSERT_EQUAL(memcmp(&pk, &p1, sizeof(pk)), 0);

	/* Comment line missing or misspelt. */
	p = strchr(pub, '\n') + 1;
	CU_ASSERT_EQUAL(sig_pubkey_parse(p, strlen(p), &pk, &err), -1);
	ERR_HAS(err, "untrusted comment");
	snprintf(buf, 8192, "%s", sig);
	buf[0] = 'U';
	CU_ASSERT_EQUAL(sig_signature_parse(buf, strlen(buf), &s, &err), -1);

	/* Bad base64, named with the file. */
	snprintf(buf, 8192, "%s", pub);
	*(strchr(buf, '\n') + 5) = '*';
	CU_ASSERT_EQUAL(write_file(tp("bad64.pub"), buf, strlen(buf)), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_pubkey_load(tp("bad64.pub"), &pk, &err), -1);
	CU_ASSERT(strstr(err.msg, "bad64.pub: not a minisign public key (bad base64)") != NULL);

	/* A well-formed line of the wrong length: a signature where a key goes. */
	snprintf(buf, 8192, "untrusted comment: x\n%.*s\n", 100, strchr(sig, '\n') + 1);
	CU_ASSERT_EQUAL(sig_pubkey_parse(buf, strlen(buf), &pk, &err), -1);
	ERR_HAS(err, "wrong length");

	/* NUL bytes. */
	memcpy(buf, sig, sig_len);
	buf[sig_len - 5] = '\0';
	CU_ASSERT_EQUAL(sig_signature_parse(buf, sig_len, &s, &err), -1);
	ERR_HAS(err, "NUL");

	/* Comment limits: SIG_COMMENT_MAX bytes pass, one more does not. */
	p = strchr(sig, '\n');
	snprintf(buf, 8192, "untrusted comment: %0*d%s", SIG_COMMENT_MAX, 0, p);
	CU_ASSERT_EQUAL(sig_signature_parse(buf, strlen(buf), &s, &err), 0);
	snprintf(buf, 8192, "untrusted comment: %0*d%s", SIG_COMMENT_MAX + 1, 0, p);
	CU_ASSERT_EQUAL(sig_signature_parse(buf, strlen(buf), &s, &err), -1);
	ERR_HAS(err, "longer than");
	p = strstr(sig, "trusted comment: tc");
	snprintf(buf, 8192, "%.*strusted comment: %0*d%s", (int)(p - sig), sig,
		 SIG_COMMENT_MAX + 1, 0, strchr(p, '\n'));
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_signature_parse(buf, strlen(buf), &s, &err), -1);
	ERR_HAS(err, "trusted comment longer than");

	/* Files bigger than SIG_FILE_MAX are refused before parsing. */
	memset(buf, '#', SIG_FILE_MAX + 1);
	CU_ASSERT_EQUAL(write_file(tp("big.pub"), buf, SIG_FILE_MAX + 1), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_pubkey_load(tp("big.pub"), &pk, &err), -1);
	ERR_HAS(err, "big.pub");
	ERR_HAS(err, "larger than");
	CU_ASSERT_EQUAL(sig_signature_parse(buf, SIG_FILE_MAX + 1, &s, &err), -1);

	/* A missing file is an I/O error that names it. */
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_pubkey_load(tp("missing.pub"), &pk, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
	ERR_HAS(err, "missing.pub");

	/* A public key with the wrong algorithm tag. */
	snprintf(buf, 8192, "%s", pub);
	p = strchr(buf, '\n') + 1;
	CU_ASSERT_EQUAL(p[0], 'R');  /* "Ed" encodes as "RW..." */
	p[1] = 'X';
	CU_ASSERT_EQUAL(sig_pubkey_parse(buf, strlen(buf), &pk, &err), -1);
	ERR_HAS(err, "unsupported algorithm");

	free(buf);
	free(pub);
	free(sig);
}

static void test_trust(void)
{
	struct fw_err err = { 0 };
	struct sig_trust t;
	const struct sig_pubkey *found;
	uint8_t id[8], pk[32];
	char text[256];
	char *pub1 = read_all(tp("k1.pub"), NULL);
	char *pub2 = read_all(tp("k2.pub"), NULL);
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pub1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub2);
	CU_ASSERT_EQUAL(mkdir(tp("trust"), 0700), 0);
	CU_ASSERT_EQUAL(write_file(tp("trust/a.pub"), pub1, strlen(pub1)), 0);
	CU_ASSERT_EQUAL(write_file(tp("trust/b.pub"), pub2, strlen(pub2)), 0);
	CU_ASSERT_EQUAL(write_file(tp("trust/c.pub"), pub1, strlen(pub1)), 0);  /* duplicate */
	CU_ASSERT_EQUAL(write_file(tp("trust/notes.txt"), "junk", 4), 0);
	CU_ASSERT_EQUAL(write_file(tp("trust/.hidden.pub"), "junk", 4), 0);

	sig_trust_init(&t);
	CU_ASSERT_EQUAL_FATAL(sig_trust_add_dir(&t, tp("trust"), &err), 0);
	CU_ASSERT_EQUAL(t.n, 2);
	found = sig_trust_find(&t, p1.keyid);
	CU_ASSERT(found != NULL && memcmp(found, &p1, sizeof(p1)) == 0);
	found = sig_trust_find(&t, p2.keyid);
	CU_ASSERT(found != NULL && memcmp(found, &p2, sizeof(p2)) == 0);
	randombytes_buf(id, sizeof(id));
	CU_ASSERT_PTR_NULL(sig_trust_find(&t, id));
	CU_ASSERT_EQUAL(sig_trust_add_file(&t, tp("k2.pub"), &err), 0);
	CU_ASSERT_EQUAL(t.n, 2);

	/* A directory without keys names itself. */
	CU_ASSERT_EQUAL(mkdir(tp("trust-empty"), 0700), 0);
	CU_ASSERT_EQUAL(write_file(tp("trust-empty/readme"), "x", 1), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_trust_add_dir(&t, tp("trust-empty"), &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	ERR_HAS(err, "trust-empty");
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_trust_add_dir(&t, tp("no-such-dir"), &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);

	/* A bad key file fails the whole directory and leaves the store as it was. */
	CU_ASSERT_EQUAL(mkdir(tp("trust-bad"), 0700), 0);
	randombytes_buf(id, sizeof(id));
	randombytes_buf(pk, sizeof(pk));
	make_pub_text(id, pk, text, sizeof(text));
	CU_ASSERT_EQUAL(write_file(tp("trust-bad/a.pub"), text, strlen(text)), 0);
	CU_ASSERT_EQUAL(write_file(tp("trust-bad/z.pub"), "garbage\n", 8), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_trust_add_dir(&t, tp("trust-bad"), &err), -1);
	ERR_HAS(err, "trust-bad/z.pub");
	CU_ASSERT_EQUAL(t.n, 2);
	CU_ASSERT_PTR_NULL(sig_trust_find(&t, id));

	/* Two different keys under one key id are refused. */
	randombytes_buf(pk, sizeof(pk));
	make_pub_text(p1.keyid, pk, text, sizeof(text));
	CU_ASSERT_EQUAL(write_file(tp("clash.pub"), text, strlen(text)), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_trust_add_file(&t, tp("clash.pub"), &err), -1);
	ERR_HAS(err, "different public key");
	CU_ASSERT_EQUAL(t.n, 2);

	/* SIG_TRUST_MAX keys fit; one more does not, reported in name order. */
	CU_ASSERT_EQUAL(mkdir(tp("trust-many"), 0700), 0);
	for (i = 0; i <= SIG_TRUST_MAX; i++) {
		randombytes_buf(id, sizeof(id));
		randombytes_buf(pk, sizeof(pk));
		make_pub_text(id, pk, text, sizeof(text));
		CU_ASSERT_EQUAL(write_file(tp("trust-many/k%03d.pub", i), text, strlen(text)), 0);
	}
	sig_trust_init(&t);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(sig_trust_add_dir(&t, tp("trust-many"), &err), -1);
	ERR_HAS(err, "more than");
	ERR_HAS(err, "k064.pub");
	CU_ASSERT_EQUAL(t.n, 0);
	CU_ASSERT_EQUAL(unlink(tp("trust-many/k064.pub")), 0);
	CU_ASSERT_EQUAL(sig_trust_add_dir(&t, tp("trust-many"), &err), 0);
	CU_ASSERT_EQUAL(t.n, SIG_TRUST_MAX);

	free(pub1);
	free(pub2);
}

/* The one trust decision: distinct keys counted once, against the larger of the caller's and the policy's need. */
static void test_trust_decide(void)
{
	uint8_t f[3][SIG_FPR_LEN];
	struct sig_trust t;
	struct fw_err err = { 0 };
	unsigned have;

	memset(f[0], 0xaa, SIG_FPR_LEN);
	memset(f[1], 0xaa, SIG_FPR_LEN);
	memset(f[2], 0xbb, SIG_FPR_LEN);
	sig_trust_init(&t);
	CU_ASSERT_EQUAL(sig_trust_need(&t, 0), 1);
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 0, (const uint8_t (*)[SIG_FPR_LEN])f, 0, &have, &err), -1);
	CU_ASSERT_EQUAL(have, 0);
	CU_ASSERT_EQUAL(err.kind, FW_KIND_SIGNATURE);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 0, (const uint8_t (*)[SIG_FPR_LEN])f, 1, &have, &err), 0);
	t.min_keys = 2;   /* as policy.json's min_signatures sets it */
	CU_ASSERT_EQUAL(sig_trust_need(&t, 0), 2);
	CU_ASSERT_EQUAL(sig_trust_need(&t, 3), 3);
	/* The same key twice is one key. */
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 0, (const uint8_t (*)[SIG_FPR_LEN])f, 2, &have, &err), -1);
	CU_ASSERT_EQUAL(have, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "have 1, need 2"));
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 0, (const uint8_t (*)[SIG_FPR_LEN])f, 3, &have, &err), 0);
	CU_ASSERT_EQUAL(have, 2);
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 3, (const uint8_t (*)[SIG_FPR_LEN])f, 3, &have, &err), -1);
}

/*
 * A key listed twice counts once wherever the copies stand (not only side by
 * side), and two keys whose fingerprints differ in one byte only, the first or
 * the last, are two keys.
 */
static void test_trust_decide_duplicates(void)
{
	uint8_t f[6][SIG_FPR_LEN];
	struct sig_trust t;
	struct fw_err err = { 0 };
	unsigned have = 99;

	memset(f[0], 0x11, SIG_FPR_LEN);              /* A */
	memset(f[1], 0x22, SIG_FPR_LEN);              /* B */
	memcpy(f[2], f[0], SIG_FPR_LEN);              /* A again, not beside the first */
	memcpy(f[3], f[0], SIG_FPR_LEN);
	f[3][SIG_FPR_LEN - 1] ^= 1;                   /* C: A but for the last byte */
	memcpy(f[4], f[0], SIG_FPR_LEN);
	f[4][0] ^= 1;                                 /* D: A but for the first byte */
	memcpy(f[5], f[1], SIG_FPR_LEN);              /* B again */
	sig_trust_init(&t);
	t.min_keys = 3;
	/* A, B, A: two keys, not three. */
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 0, (const uint8_t (*)[SIG_FPR_LEN])f, 3, &have, &err), -1);
	CU_ASSERT_EQUAL(have, 2);
	CU_ASSERT_EQUAL(err.kind, FW_KIND_SIGNATURE);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	/* A, B, A, C: three keys (C differs from A in its last byte). */
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 0, (const uint8_t (*)[SIG_FPR_LEN])f, 4, &have, &err), 0);
	CU_ASSERT_EQUAL(have, 3);
	/* A, B, A, C, D, B: four keys; a caller's need of 5 is not met. */
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 5, (const uint8_t (*)[SIG_FPR_LEN])f, 6, &have, &err), -1);
	CU_ASSERT_EQUAL(have, 4);
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 4, (const uint8_t (*)[SIG_FPR_LEN])f, 6, &have, &err), 0);
	CU_ASSERT_EQUAL(have, 4);
	/* One key three times is one key: policy min 2 refuses. */
	memcpy(f[1], f[0], SIG_FPR_LEN);
	t.min_keys = 2;
	CU_ASSERT_EQUAL(sig_trust_decide(&t, 0, (const uint8_t (*)[SIG_FPR_LEN])f, 3, &have, &err), -1);
	CU_ASSERT_EQUAL(have, 1);
	sig_trust_free(&t);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "key id display", test_keyid_str },
		{ "trust decision: a key listed twice counts once", test_trust_decide_duplicates },
		{ "keygen, encrypted", test_keygen_encrypted },
		{ "keygen, unencrypted (-W)", test_keygen_unencrypted },
		{ "keygen never overwrites without force", test_keygen_no_overwrite },
		{ "sign and verify", test_sign_verify },
		{ "tampering is rejected", test_tamper },
		{ "wrong key is rejected", test_wrong_key },
		{ "legacy Ed refused", test_legacy_refused },
		{ "oversized KDF limits refused", test_kdf_limits },
		{ "truncated files refused", test_truncated },
		{ "strict parsing", test_strict_parsing },
		{ "trust store", test_trust },
		{ "trust decision: distinct keys against the policy", test_trust_decide },
	};

	return unit_run("sig", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
