/* version: strict parsing and numeric ordering of version strings ("5.22.2", "5.26.0-rev0"). */
#include "version.h"

#include "base/escape.h"

#include <stdio.h>
#include <string.h>

#define REV_TAG "-rev"

/*
 * Read one decimal field at *p and advance past it. Returns 0, or -1 when
 * there are no digits, -2 for a leading zero, -3 above FW_VERSION_FIELD_MAX.
 * Leading zeros are refused so that every version has exactly one spelling
 * and string equality of valid versions means version equality.
 */
static int parse_field(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint32_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return -2;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint32_t)(*s - '0');
		if (v > FW_VERSION_FIELD_MAX)
			return -3;
	}
	*p = s;
	*out = v;
	return 0;
}

static int field_err(int rc, const char *what, const char *text, struct fw_err *err)
{
	char q[FW_VERSION_MAX_LEN * 4 + 1];

	fw_escape(text, q, sizeof(q));
	if (rc == -2)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"version \"%s\": %s has a leading zero", q, what);
	if (rc == -3)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"version \"%s\": %s is larger than %u", q, what, FW_VERSION_FIELD_MAX);
	return fw_err_set(err, FW_EXIT_REJECTED,
		"version \"%s\": %s is empty or not a decimal number", q, what);
}

int fw_version_parse(const char *text, struct fw_version *out, struct fw_err *err)
{
	struct fw_version v;
	const char *p;
	char what[16];
	char q[FW_VERSION_MAX_LEN * 4 + 1];
	int rc = -1;

	memset(&v, 0, sizeof(v));
	if (text == NULL || text[0] == '\0') {
		fw_err_set(err, FW_EXIT_REJECTED, "version is empty");
		goto out;
	}
	/* strnlen: never read past a fixed-size field that lacks its NUL. */
	if (strnlen(text, FW_VERSION_MAX_LEN + 1) > FW_VERSION_MAX_LEN) {
		fw_err_set(err, FW_EXIT_REJECTED, "version is longer than %d characters",
			FW_VERSION_MAX_LEN);
		goto out;
	}
	fw_escape(text, q, sizeof(q));

	p = text;
	for (;;) {
		int frc;

		snprintf(what, sizeof(what), "field %u", v.nfields + 1);
		frc = parse_field(&p, &v.field[v.nfields]);
		if (frc < 0) {
			field_err(frc, what, text, err);
			goto out;
		}
		v.nfields++;
		if (*p != '.')
			break;
		if (v.nfields == FW_VERSION_MAX_FIELDS) {
			fw_err_set(err, FW_EXIT_REJECTED,
				"version \"%s\": more than %d fields", q, FW_VERSION_MAX_FIELDS);
			goto out;
		}
		p++;
	}

	if (*p == '-') {
		int frc;

		if (strncmp(p, REV_TAG, strlen(REV_TAG)) != 0) {
			fw_err_set(err, FW_EXIT_REJECTED,
				"version \"%s\": the only suffix allowed is \"-revN\"", q);
			goto out;
		}
		p += strlen(REV_TAG);
		frc = parse_field(&p, &v.rev);
		if (frc < 0) {
			field_err(frc, "the revision", text, err);
			goto out;
		}
		v.has_rev = 1;
	}
	if (*p != '\0') {
		fw_err_set(err, FW_EXIT_REJECTED,
			"version \"%s\": unexpected character at position %zu", q,
			(size_t)(p - text) + 1);
		goto out;
	}

	if (out != NULL)
		*out = v;
	rc = 0;
out:
	return rc;
}

int fw_version_cmp(const struct fw_version *a, const struct fw_version *b)
{
	unsigned i;

	for (i = 0; i < FW_VERSION_MAX_FIELDS; i++) {
		/* Missing fields count as 0, so "5.22" and "5.22.0" are the same release. */
		uint32_t x = i < a->nfields ? a->field[i] : 0;
		uint32_t y = i < b->nfields ? b->field[i] : 0;

		if (x != y)
			return x < y ? -1 : 1;
	}
	if (a->has_rev != b->has_rev)
		return a->has_rev ? 1 : -1;
	if (a->has_rev && a->rev != b->rev)
		return a->rev < b->rev ? -1 : 1;
	return 0;
}

int fw_version_cmp_str(const char *a, const char *b, struct fw_err *err)
{
	struct fw_version va, vb;

	/* fw_version_cmp returns only -1, 0 or 1, so -2 is free to mean "unparsable". */
	if (fw_version_parse(a, &va, err) < 0 || fw_version_parse(b, &vb, err) < 0)
		return -2;
	return fw_version_cmp(&va, &vb);
}
