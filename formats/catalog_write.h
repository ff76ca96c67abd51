/* catalog_write: make a catalog from packages and write it with its signature beside it. */
#ifndef FW_CATALOG_WRITE_H
#define FW_CATALOG_WRITE_H

#include "base/fw_err.h"
#include "formats/catalog.h"
#include "signing/minisign.h"

/*
 * Add one release per product of the package at path (each product with an
 * image in it): its manifest's fields, the file's length, the SHA-256 of its
 * manifest.json, and a URL per base URL (BASE/NAME, NAME percent-encoded).
 * The package's signature is not checked here; its manifest must parse.
 */
int fw_catalog_add_package(struct fw_catalog *c, const char *path, const char *const *base_urls, size_t n_urls,
			   unsigned rollout, struct fw_err *err);

/*
 * Write the catalog to out_path and its minisign signature by key to
 * out_path.minisig (trusted comment: serial and expiry), each replaced
 * atomically; force replaces existing files.
 */
int fw_catalog_write(const struct fw_catalog *c, const char *out_path, const struct sig_seckey *key, int force,
		     struct fw_err *err);

#endif
