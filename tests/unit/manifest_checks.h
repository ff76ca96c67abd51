/* manifest_checks: assertions shared by the manifest unit tests (test_manifest, test_wmopkg). */
#ifndef FW_TEST_MANIFEST_CHECKS_H
#define FW_TEST_MANIFEST_CHECKS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "formats/manifest.h"

/* Each test file defines the valid manifest its rejections start from. */
static json_t *valid_json(void);

static char *dump(const json_t *j, size_t *len)
{
	char *s = json_dumps(j, JSON_SORT_KEYS);

	if (s == NULL)
		abort();
	*len = strlen(s);
	return s;
}

/*
 * Parse buf and require a rejection whose message starts with "manifest: "
 * and mentions `needle` (the offending field). `what` labels failures.
 */
static void reject_bytes(const char *what, const void *buf, size_t len, const char *needle)
{
	struct fw_manifest *m = (struct fw_manifest *)1;
	struct fw_err err = { 0 };
	int rc;

	rc = fw_manifest_parse(buf, len, &m, &err);
	if (rc != -1 || strstr(err.msg, needle) == NULL || strncmp(err.msg, "manifest: ", 10) != 0)
		fprintf(stderr, "\n  %s: rc %d, message \"%s\", wanted \"%s\"\n", what, rc, err.msg, needle);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NULL(m);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_EQUAL(strncmp(err.msg, "manifest: ", 10), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
	if (rc == 0)
		fw_manifest_free(m);
}

/* Dump j (and drop it), then require the rejection as reject_bytes() does. */
static void reject(const char *what, json_t *j, const char *needle)
{
	size_t len;
	char *s = dump(j, &len);

	reject_bytes(what, s, len, needle);
	free(s);
	json_decref(j);
}

/* Set a top-level key of the valid manifest to val and require a rejection naming needle. */
static void reject_top(const char *key, json_t *val, const char *needle)
{
	json_t *j = valid_json();

	json_object_set_new(j, key, val);
	reject(key, j, needle);
}

#endif
