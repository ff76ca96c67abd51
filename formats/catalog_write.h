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
 * A modification package (.wmopkg) adds a patch for each of its products
 * instead (formats/catalog.md, format version 2), and a delta package
 * (mkpkg --delta-from) a delta of its release for each product (format
 * version 3; fw_catalog_link_deltas names its base version). The package's
 * signature is not checked here; its manifest must parse.
 */
int fw_catalog_add_package(struct fw_catalog *c, const char *path, const char *const *base_urls, size_t n_urls,
			   unsigned rollout, struct fw_err *err);

/*
 * After every package was added and sorted: each delta's base_version, the
 * release of its product one of whose images is a base image of the delta.
 * -1 with err (FW_EXIT_USAGE) when none is: give the package it was built
 * from too; and when the delta says of its release otherwise than the full
 * package (rollback index, generation, bridges, TPM mark) or rebuilds other
 * images: a device on the base would get another release than one off it.
 */
int fw_catalog_link_deltas(struct fw_catalog *c, struct fw_err *err);

/*
 * Write the catalog to out_path and its signature by the n signers beside
 * it: out_path.minisig for minisign signers (trusted comment: serial and
 * expiry; several keys' signatures one after another, for a device whose
 * trust policy asks for more than one key), out_path.cms for one CMS signer
 * (DER, its signing time the catalog's creation time; a CMS signature has
 * one signer, so it signs alone). The signature is replaced first, then the
 * catalog, each atomically; force replaces existing files, and then removes
 * the other kind's signature file (a stale .minisig would shadow a new .cms).
 */
int fw_catalog_write(const struct fw_catalog *c, const char *out_path, struct sig_signer *const *signers, size_t n,
		     int force, struct fw_err *err);

#endif
