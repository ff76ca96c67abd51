/* catalog_write: make a catalog from packages and write it with its signature beside it. */
#ifndef FW_CATALOG_WRITE_H
#define FW_CATALOG_WRITE_H

#include "base/fw_err.h"
#include "formats/catalog.h"
#include "signing/signer.h"

/*
 * Add one release per product of the package at path (each product with an
 * image in it): its manifest's fields, the file's length, the SHA-256 of its
 * manifest.json, and a URL per base URL (BASE/NAME, NAME percent-encoded).
 * The package's signature is not checked here; its manifest must parse.
 */
int fw_catalog_add_package(struct fw_catalog *c, const char *path, const char *const *base_urls, size_t n_urls,
			   unsigned rollout, struct fw_err *err);

/*
 * Write the catalog to out_path and its signature by signer beside it:
 * out_path.minisig for a minisign signer (trusted comment: serial and
 * expiry), out_path.cms for a CMS one (DER, its signing time the catalog's
 * creation time). The signature is replaced first, then the catalog, each
 * atomically; force replaces existing files, and then removes the other
 * kind's signature file (a stale .minisig would shadow a new .cms).
 */
int fw_catalog_write(const struct fw_catalog *c, const char *out_path, struct sig_signer *signer, int force,
		     struct fw_err *err);

#endif
