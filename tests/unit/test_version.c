/* test_version: version string parsing (what is accepted, what is refused) and ordering. */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "formats/version.h"
#include "tests/unit/unit_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct accept_case {
	const char *text;
	unsigned nfields;
	uint32_t field[FW_VERSION_MAX_FIELDS];
	int has_rev;
	uint32_t rev;
};

static const struct accept_case accepted[] = {
	{ "0", 1, { 0 }, 0, 0 },
	{ "5", 1, { 5 }, 0, 0 },
	{ "5.22", 2, { 5, 22 }, 0, 0 },
	{ "5.22.2", 3, { 5, 22, 2 }, 0, 0 },
	{ "1.2.3.4", 4, { 1, 2, 3, 4 }, 0, 0 },
	{ "5.0.10", 3, { 5, 0, 10 }, 0, 0 },
	{ "999999.0", 2, { 999999, 0 }, 0, 0 },
	{ "5.26.0-rev0", 3, { 5, 26, 0 }, 1, 0 },
	{ "5.26.0-rev1", 3, { 5, 26, 0 }, 1, 1 },
	{ "1.2.3.4-rev999999", 4, { 1, 2, 3, 4 }, 1, 999999 },
	{ "7-rev3", 1, { 7 }, 1, 3 },
	/* exactly FW_VERSION_MAX_LEN (31) characters */
	{ "100000.100000.100000.10-rev1000", 4, { 100000, 100000, 100000, 10 }, 1, 1000 },
};

static const char *const rejected[] = {
	"", "5.", ".5", "5..2", "5.22.2-rc1", "v5.22", " 5.22", "5.22 ", "5.22.2-rev",
	"5.22.2-rev01", "1.2.3.4.5", "-1", "5.1234567", "05.1", "5.01", "00",
	"5.22-", "5.22-rev1-rev2", "5.22-REV1", "+5", "5.22\n", "1000000",
	"5.22.2-rev1234567", "5,22", "5.22.2rev1", "5.-1",
	/* 32 characters: one too many */
	"100000.100000.100000.100-rev1000",
};

static void test_accept(void)
{
	size_t i;

	for (i = 0; i < N(accepted); i++) {
		const struct accept_case *c = &accepted[i];
		struct fw_version v;
		struct fw_err err = { 0 };
		unsigned f;
		int rc;

		memset(&v, 0xa5, sizeof(v));
		rc = fw_version_parse(c->text, &v, &err);
		if (rc != 0)
			fprintf(stderr, "\n  refused \"%s\": %s\n", c->text, err.msg);
		CU_ASSERT_EQUAL(rc, 0);
		if (rc != 0)
			continue;
		CU_ASSERT_EQUAL(v.nfields, c->nfields);
		for (f = 0; f < c->nfields && f < FW_VERSION_MAX_FIELDS; f++)
			CU_ASSERT_EQUAL(v.field[f], c->field[f]);
		CU_ASSERT_EQUAL(!!v.has_rev, c->has_rev);
		if (c->has_rev)
			CU_ASSERT_EQUAL(v.rev, c->rev);
	}
}

static void test_reject(void)
{
	size_t i;

	for (i = 0; i < N(rejected); i++) {
		struct fw_version v;
		struct fw_err err = { 0 };
		int rc;

		rc = fw_version_parse(rejected[i], &v, &err);
		if (rc != -1)
			fprintf(stderr, "\n  accepted \"%s\"\n", rejected[i]);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
		CU_ASSERT(err.msg[0] != '\0');
		/* The message says it is about a version. */
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "version"));
	}
	/* NULL is refused, not a crash. */
	{
		struct fw_err err = { 0 };
		struct fw_version v;

		CU_ASSERT_EQUAL(fw_version_parse(NULL, &v, &err), -1);
	}
}

static void test_reject_messages(void)
{
	struct fw_version v;
	struct fw_err err = { 0 };

	CU_ASSERT_EQUAL(fw_version_parse("5.01", &v, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "leading zero"));
	CU_ASSERT_EQUAL(fw_version_parse("5.1234567", &v, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "larger than 999999"));
	CU_ASSERT_EQUAL(fw_version_parse("1.2.3.4.5", &v, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "more than 4 fields"));
	CU_ASSERT_EQUAL(fw_version_parse("5.22.2-rc1", &v, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "-revN"));
	/* Control characters from a package are not echoed raw. */
	CU_ASSERT_EQUAL(fw_version_parse("5.2\x1b[2J", &v, &err), -1);
	CU_ASSERT_PTR_NULL(strchr(err.msg, '\x1b'));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\\x1b"));
	CU_ASSERT_EQUAL(fw_version_parse("100000.100000.100000.100-rev1000", &v, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "longer than 31"));
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

struct order_case {
	const char *a, *b;
	int want;       /* sign of cmp(a, b) */
};

static const struct order_case order[] = {
	{ "5.20.0", "5.21.2", -1 },
	{ "5.21.2", "5.22.2", -1 },
	{ "5.22.2", "5.23.0", -1 },
	{ "5.20.0", "5.23.0", -1 },
	{ "5.22", "5.22.0", 0 },
	{ "5.22.0", "5.22", 0 },
	{ "5", "5.0.0.0", 0 },
	{ "5.22.0.1", "5.22", 1 },
	{ "5.26.0", "5.26.0-rev0", -1 },
	{ "5.26.0-rev0", "5.26.0-rev1", -1 },
	{ "5.26.0", "5.26.0-rev1", -1 },
	{ "5.26.0-rev1", "5.26.0", 1 },
	{ "5.26-rev1", "5.26.0-rev1", 0 },
	{ "5.26.0-rev9", "5.26.0-rev10", -1 },
	{ "5.26.0-rev999", "5.26.1", -1 },
	{ "5.9.0", "5.10.0", -1 },
	{ "5.10.0", "5.9.0", 1 },
	{ "5.22.2", "5.22.2", 0 },
	{ "0", "0.0.0.1", -1 },
	{ "999999", "1000.999999", 1 },
};

static void test_order(void)
{
	size_t i;

	for (i = 0; i < N(order); i++) {
		struct fw_version a, b;
		struct fw_err err = { 0 };
		int got;

		CU_ASSERT_EQUAL_FATAL(fw_version_parse(order[i].a, &a, &err), 0);
		CU_ASSERT_EQUAL_FATAL(fw_version_parse(order[i].b, &b, &err), 0);
		got = sign(fw_version_cmp(&a, &b));
		if (got != order[i].want)
			fprintf(stderr, "\n  cmp(%s, %s) = %d, want %d\n", order[i].a,
				order[i].b, got, order[i].want);
		CU_ASSERT_EQUAL(got, order[i].want);
		/* Antisymmetric. */
		CU_ASSERT_EQUAL(sign(fw_version_cmp(&b, &a)), -order[i].want);
		/* cmp_str agrees and never returns -2 for valid input. */
		CU_ASSERT_EQUAL(fw_version_cmp_str(order[i].a, order[i].b, &err), order[i].want);
	}
}

static void test_cmp_str_error(void)
{
	struct fw_err err = { 0 };

	CU_ASSERT_EQUAL(fw_version_cmp_str("5.22", "5.22.x", &err), -2);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "5.22.x"));
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(fw_version_cmp_str("", "5.22", &err), -2);
	CU_ASSERT(err.msg[0] != '\0');
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "accepts valid versions", test_accept },
		{ "rejects malformed versions", test_reject },
		{ "names the problem", test_reject_messages },
		{ "orders numerically", test_order },
		{ "cmp_str reports parse errors", test_cmp_str_error },
	};

	return unit_run("version", NULL, NULL, tests, UNIT_COUNT(tests));
}
