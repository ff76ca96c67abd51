/* test_base: the bottom layer: escaping (every control byte and ill-formed UTF-8 out) and durable files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "base/escape.h"
#include "base/isotime.h"
#include "base/outfile.h"
#include "base/sha256.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in;
	size_t len;
	const char *out;
} cases[] = {
	{ "plain text", 10, "plain text" },
	{ "tab\there", 8, "tab\\x09here" },
	{ "esc\x1b[31m", 8, "esc\\x1b[31m" },
	{ "back\\slash", 10, "back\\x5cslash" },
	{ "del\x7f", 4, "del\\x7f" },
	{ "csi\xc2\x9b" "2J", 7, "csi\\xc2\\x9b2J" },          /* U+009B, a C1 control */
	{ "nel\xc2\x85", 5, "nel\\xc2\\x85" },                 /* U+0085 */
	{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },                   /* é passes */
	{ "\xe2\x82\xac", 3, "\xe2\x82\xac" },                 /* € passes */
	{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },         /* an emoji passes */
	{ "latin1 \xe9t\xe9", 10, "latin1 \\xe9t\\xe9" },      /* Latin-1 bytes: ill-formed */
	{ "\xff\xfe", 2, "\\xff\\xfe" },
	{ "\xc0\xaf", 2, "\\xc0\\xaf" },                       /* overlong '/' */
	{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },              /* a surrogate */
	{ "\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80" },     /* above U+10FFFF */
	{ "cut\xe2\x82", 5, "cut\\xe2\\x82" },                 /* a sequence cut short */
	{ "nul\0inside", 10, "nul\\x00inside" },
};

static void test_escape_cases(void)
{
	char out[256];

	for (size_t i = 0; i < N(cases); i++) {
		fw_escape_n(cases[i].in, cases[i].len, out, sizeof(out));
		if (strcmp(out, cases[i].out) != 0)
			fprintf(stderr, "\n  case %zu: got \"%s\"\n", i, out);
		CU_ASSERT_STRING_EQUAL(out, cases[i].out);
	}
	CU_ASSERT_STRING_EQUAL(fw_escape("a\\x1b\x1b", out, sizeof(out)), "a\\x5cx1b\\x1b");
	CU_ASSERT_STRING_EQUAL(fw_escape_msg("a\\x1b\x1b\xff", out, sizeof(out)), "a\\x1b\\x1b\\xff");
}

/* What comes out is always valid UTF-8 without controls, whatever goes in: jansson takes it. */
static void test_escape_any_bytes(void)
{
	unsigned char in[64];
	char out[FW_ESCAPED_SIZE(sizeof(in))];

	srand(7);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand() % sizeof(in);
		for (size_t i = 0; i < len; i++)
			in[i] = (unsigned char)(round % 3 == 0 ? 0x80 + rand() % 0x80 : rand() % 256);
		fw_escape_n((const char *)in, len, out, sizeof(out));
		json_t *s = json_string(out);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		json_decref(s);
		for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
			CU_ASSERT(*p >= 0x20 && *p != 0x7f);
			if (p[0] == 0xc2)
				CU_ASSERT(p[1] > 0x9f);
		}
	}
}

/* A small buffer cuts at a character boundary: never half an escape or half a sequence. */
/* The length cap: at most cap bytes of input, cut at a character boundary, "..." after; under it, fw_escape. */
static void test_escape_cap(void)
{
	char out[64];

	CU_ASSERT_STRING_EQUAL(fw_escape_cap("abc", 3, out, sizeof(out)), "abc");
	CU_ASSERT_STRING_EQUAL(fw_escape_cap("abcd", 3, out, sizeof(out)), "abc...");
	CU_ASSERT_STRING_EQUAL(fw_escape_cap("", 0, out, sizeof(out)), "");
	CU_ASSERT_STRING_EQUAL(fw_escape_cap("a", 0, out, sizeof(out)), "...");
	CU_ASSERT_STRING_EQUAL(fw_escape_cap("a\033b", 8, out, sizeof(out)), "a\\x1bb");
	CU_ASSERT_STRING_EQUAL(fw_escape_cap("a\033bcdef", 2, out, sizeof(out)), "a\\x1b...");
	/* "\xc3\xa9" (é) is not split: cap 2 keeps "a" only. */
	CU_ASSERT_STRING_EQUAL(fw_escape_cap("a\xc3\xa9z", 2, out, sizeof(out)), "a...");
	CU_ASSERT_STRING_EQUAL(fw_escape_cap("a\xc3\xa9z", 3, out, sizeof(out)), "a\xc3\xa9...");
	/* A small buffer still ends in "..." and its terminator. */
	CU_ASSERT_STRING_EQUAL(fw_escape_cap("abcdefgh", 6, out, 6), "ab...");
	CU_ASSERT_STRING_EQUAL(fw_escape_cap("abcdefgh", 6, out, 4), "...");
}

static void test_escape_truncation(void)
{
	char out[8];

	CU_ASSERT_STRING_EQUAL(fw_escape("ab\x1b" "cdef", out, sizeof(out)), "ab\\x1bc");
	CU_ASSERT_STRING_EQUAL(fw_escape("abcd\x1b", out, sizeof(out)), "abcd");
	CU_ASSERT_STRING_EQUAL(fw_escape("abcde\xe2\x82\xac", out, sizeof(out)), "abcde");
	CU_ASSERT_STRING_EQUAL(fw_escape("abcd\xe2\x82\xac", out, sizeof(out)), "abcd\xe2\x82\xac");
	CU_ASSERT_STRING_EQUAL(fw_escape("x", out, 1), "");
}

/* JSON carries text as itself; only what is not UTF-8 (and NUL) keeps \xNN, with the backslash then. */
static void json_is(const char *in, size_t len, const char *want)
{
	json_t *s = fw_json_text_n(in, len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	if (strcmp(json_string_value(s), want) != 0)
		fprintf(stderr, "\n  json text: got \"%s\"\n", json_string_value(s));
	CU_ASSERT_STRING_EQUAL(json_string_value(s), want);
	json_decref(s);
}

static void test_json_text(void)
{
	json_t *doc;
	char *dump;

	json_is("a\tb\x1b[2J\\x09 caf\xc3\xa9", 17, "a\tb\x1b[2J\\x09 caf\xc3\xa9");
	json_is("caf\xe9\t\\", 6, "caf\\xe9\t\\x5c");
	json_is("nul\0in", 6, "nul\\x00in");
	json_is("\xc2\x9b", 2, "\xc2\x9b");
	/* As written: JSON's own escapes for a tab and ESC. */
	doc = json_pack("{s:o}", "t", fw_json_text("a\tb\x1b"));
	dump = json_dumps(doc, JSON_COMPACT);
	CU_ASSERT(strcasecmp(dump, "{\"t\":\"a\\tb\\u001b\"}") == 0);
	free(dump);
	json_decref(doc);
}

static char dir[] = "/tmp/fwpkg-test-base.XXXXXX";

static int count_entries(void)
{
	char cmd[128];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	p = popen(cmd, "r");
	if (p != NULL && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p != NULL)
		pclose(p);
	return n;
}

static void test_outfile(void)
{
	char path[256], buf[32];
	struct fw_err err = { 0 };
	struct outfile o;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	CU_ASSERT_EQUAL(outfile_write_file(path, "one\n", 4, 0640, OUTFILE_DURABLE, &err), 0);
	CU_ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == (0640 & ~umask(022)));
	/* Not over an existing file without force: the old bytes stay, no temporary is left. */
	CU_ASSERT_EQUAL(outfile_write_file(path, "two\n", 4, 0640, OUTFILE_DURABLE, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "already exists (use -f to overwrite)"));
	CU_ASSERT_EQUAL(count_entries(), 1);
	CU_ASSERT_EQUAL(outfile_write_file(path, "two\n", 4, 0640, OUTFILE_FORCE | OUTFILE_DURABLE, &err), 0);
	fd = open(path, O_RDONLY);
	CU_ASSERT(fd >= 0 && read(fd, buf, sizeof(buf)) == 4 && memcmp(buf, "two\n", 4) == 0);
	close(fd);

	/* A file that appears between open and commit is not replaced. */
	snprintf(path, sizeof(path), "%s/g", dir);
	CU_ASSERT_EQUAL_FATAL(outfile_open(&o, path, 0644, 0, &err), 0);
	CU_ASSERT_EQUAL(fw_write_all(o.fd, "new", 3, path, &err), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CU_ASSERT(fd >= 0 && write(fd, "racer", 5) == 5);
	close(fd);
	CU_ASSERT_EQUAL(outfile_commit(&o, 0, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "already exists"));
	outfile_abort(&o);
	fd = open(path, O_RDONLY);
	CU_ASSERT(fd >= 0 && read(fd, buf, sizeof(buf)) == 5);
	close(fd);
	CU_ASSERT_EQUAL(count_entries(), 2);

	/* An abandoned write leaves nothing; a power cut's leftovers are recognised and removed. */
	snprintf(path, sizeof(path), "%s/h", dir);
	CU_ASSERT_EQUAL_FATAL(outfile_open(&o, path, 0644, 0, &err), 0);
	CU_ASSERT_EQUAL(count_entries(), 3);
	close(o.fd);
	o.fd = -1;
	free(o.path);
	free(o.tmp_path);      /* as if the process had died: the temporary stays */
	CU_ASSERT_EQUAL(count_entries(), 3);
	snprintf(path, sizeof(path), "%s/.keep.tmp", dir);   /* not one of ours: too short a name */
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	outfile_remove_leftovers(dir);
	CU_ASSERT_EQUAL(count_entries(), 3);
	unlink(path);
}

/* Real dates only: what timegm would move on (Feb 30th, 24:00, a leap second) is refused. */
static void test_time_parse(void)
{
	static const char *bad[] = { "2023-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2023-11-31T10:00:00Z",
				     "2023-13-01T00:00:00Z", "2023-01-01T24:00:00Z", "2023-01-01T23:59:60Z",
				     "2023-01-01T00:60:00Z", "2023-01-01T00:00:00", "2023-01-01 00:00:00Z" };
	int64_t t = 0;
	char iso[FW_ISOTIME_LEN];

	CU_ASSERT_EQUAL(fw_time_parse("2024-02-29T23:59:59Z", &t), 0);
	CU_ASSERT_EQUAL(t, 1709251199);
	CU_ASSERT_STRING_EQUAL(fw_time_iso(t, iso), "2024-02-29T23:59:59Z");
	CU_ASSERT_EQUAL(fw_time_parse("2023-11-14T22:13:20Z", &t), 0);
	CU_ASSERT_EQUAL(t, 1700000000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 42;
		CU_ASSERT_EQUAL(fw_time_parse(bad[i], &t), -1);
		CU_ASSERT_EQUAL(t, 42);
	}
}

static void test_write_all_error(void)
{
	struct fw_err err = { 0 };
	int fd = open("/dev/full", O_WRONLY);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fw_write_all(fd, "x", 1, "/dev/full", &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/dev/full: write failed: "));
	close(fd);
}

/* SHA-256 by OpenSSL's EVP interface: another path than fw_sha256's, with no shortcut of its own. */
static void evp_sha256(const void *buf, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	CU_ASSERT_FATAL(EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32);
}

/* The shortcut for zeros gives SHA-256's digest: per length, again from the cache, and not for a buffer that
 * is zeros but for one byte (first, middle, last), nor for a zero buffer of another length after it. */
static void test_sha256_zeros(void)
{
	static const size_t lens[] = { 1, 2, 63, 64, 65, 4096, 1048576, 1048575, 1048576, 3 };
	uint8_t *buf = calloc(1, 1048576), got[32], want[32];

	CU_ASSERT_FATAL(buf != NULL);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i], at[3] = { 0, len / 2, len - 1 };

		for (int twice = 0; twice < 2; twice++) {
			fw_sha256(buf, len, got);
			evp_sha256(buf, len, want);
			CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
		}
		for (int k = 0; k < 3; k++) {
			buf[at[k]] = 0x01;
			fw_sha256(buf, len, got);
			evp_sha256(buf, len, want);
			CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
			buf[at[k]] = 0;
		}
	}
	fw_sha256(buf, 0, got);
	evp_sha256(buf, 0, want);
	CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
	free(buf);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;
	char cmd[64];

	if (mkdtemp(dir) == NULL)
		return 2;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite("base", NULL, NULL);
	if (s == NULL || CU_add_test(s, "escape: each kind of byte", test_escape_cases) == NULL ||
	    CU_add_test(s, "escape: any bytes give clean UTF-8", test_escape_any_bytes) == NULL ||
	    CU_add_test(s, "escape: cut at a boundary", test_escape_truncation) == NULL ||
	    CU_add_test(s, "escape: the length cap", test_escape_cap) == NULL ||
	    CU_add_test(s, "json text: UTF-8 as itself, \\xNN only for the rest", test_json_text) == NULL ||
	    CU_add_test(s, "outfile: whole or nothing, no replace", test_outfile) == NULL ||
	    CU_add_test(s, "write_all: names the failure", test_write_all_error) == NULL ||
	    CU_add_test(s, "isotime: real dates only", test_time_parse) == NULL ||
	    CU_add_test(s, "sha256: a buffer of zeros, by its shortcut", test_sha256_zeros) == NULL) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		failed++;
	return failed != 0;
}
