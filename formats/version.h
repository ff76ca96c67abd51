/* version: parsing and numeric ordering of package version strings ("5.22.2", "5.26.0-rev0"). */
#ifndef FW_VERSION_H
#define FW_VERSION_H

#include <stdint.h>

#include "base/fw_err.h"

#define FW_VERSION_MAX_LEN 31   /* characters, not counting the NUL */
#define FW_VERSION_MAX_FIELDS 4
#define FW_VERSION_FIELD_MAX 999999u

/*
 * A version is 1 to 4 decimal fields separated by '.', each 0..999999 without
 * leading zeros, optionally followed by "-revN" (N decimal, same limits).
 * Nothing else is accepted: no spaces, signs, letters or empty fields.
 */
struct fw_version {
	unsigned nfields;
	uint32_t field[FW_VERSION_MAX_FIELDS];
	int has_rev;
	uint32_t rev;
};

/* Parse `text`; on failure fill err (code FW_EXIT_REJECTED) naming the problem. */
int fw_version_parse(const char *text, struct fw_version *out, struct fw_err *err);

/*
 * Compare field by field numerically, missing fields counting as 0
 * ("5.22" == "5.22.0"); when the fields are equal, a version without a
 * revision sorts before the same version with one, and revisions compare
 * numerically. Returns <0, 0 or >0.
 */
int fw_version_cmp(const struct fw_version *a, const struct fw_version *b);

/* Parse both and compare; returns -2 if either fails to parse (err filled). */
int fw_version_cmp_str(const char *a, const char *b, struct fw_err *err);

#endif
