/* sbom: the CycloneDX document a package may carry: what a build checks of it, and its description in the manifest. */
#ifndef FW_SBOM_H
#define FW_SBOM_H

#include <stddef.h>

#include "base/fw_err.h"
#include "manifest.h"

/* Whether a CycloneDX specVersion is one packages may carry: "1.5" or "1.6". */
int fw_sbom_spec_supported(const char *spec_version);

/*
 * Check the document buf[0..len): JSON (UTF-8, no duplicate keys), a
 * top-level object with "bomFormat" "CycloneDX", "specVersion" "1.5" or
 * "1.6", and a "components" array of at least one. On success *out
 * describes it (present, spec_version, components, size, sha256). On failure
 * err says what is wrong, code FW_EXIT_USAGE: the document is a builder's
 * input; a reader checks the entry's digest against the signed manifest instead.
 */
int fw_sbom_check(const void *buf, size_t len, struct fw_sbom *out, struct fw_err *err);

/*
 * Read the file `path` (a regular file of at most FW_SBOM_MAX bytes) and
 * fw_sbom_check it. *doc (free()) and *len hold its bytes; messages start
 * with the path. FW_EXIT_IO when it cannot be read.
 */
int fw_sbom_load(const char *path, char **doc, size_t *len, struct fw_sbom *out, struct fw_err *err);

#endif
