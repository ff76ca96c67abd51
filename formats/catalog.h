/* catalog: the signed list of releases a fleet's devices check for updates (formats/catalog.md). */
#ifndef FW_CATALOG_H
#define FW_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "formats/manifest.h"
#include "signing/signer.h"   /* enum sig_kind */

#define FW_CATALOG_FORMAT "fwpkg-catalog"
#define FW_CATALOG_MAX_BYTES (1024 * 1024)  /* a device fetches no more than this */
#define FW_CATALOG_MAX_RELEASES 256
#define FW_CATALOG_MAX_URLS 8
#define FW_CATALOG_URL_MAX 1024
#define FW_CATALOG_MAX_PATCHES 64
#define FW_CATALOG_MAX_DELTAS 64

/* An image a package writes, as a device's slot record will name it; a delta's names its base too. */
struct fw_catalog_image {
	enum fw_target target;
	uint64_t size;
	uint32_t chunk_size;
	uint8_t digest[FW_DIGEST_LEN];         /* the image's digest (SHA-256 of its chunk list) */
	int has_base;                          /* a delta payload, rebuilt from the image below */
	uint64_t base_size;
	uint32_t base_chunk_size;
	uint8_t base_digest[FW_DIGEST_LEN];
};

/* One package, as a device needs to know it before fetching it. */
struct fw_release {
	char product[FW_NAME_MAX + 1];
	char version[FW_VERSION_MAX_LEN + 1];
	struct fw_version ver;
	char url[FW_CATALOG_MAX_URLS][FW_CATALOG_URL_MAX + 1];   /* mirrors, tried in order */
	size_t n_urls;
	uint64_t length;                       /* bytes of the package file */
	uint8_t manifest_sha256[FW_DIGEST_LEN];  /* SHA-256 of its manifest.json: no mix-and-match */
	uint32_t generation;
	char bridge_from[FW_VERSION_MAX_LEN + 1];
	char bridge_down[FW_VERSION_MAX_LEN + 1];
	uint64_t rollback_index;
	int requires_tpm;
	unsigned rollout;                      /* percent of devices that take it, 0 to 100 */
	char description[FW_DESCRIPTION_MAX + 1];  /* the manifest's (format version 2); "" none */
	/* Its images for the product (fwpkg catalog only, to find a delta's base version; not in the catalog). */
	size_t n_images;
	struct fw_catalog_image image[FW_TARGET_COUNT];
};

/*
 * A delta package of a release (format version 3): the same version, the
 * same manifest words, but its images rebuilt from the base version's
 * images on the device (formats/pkg.md, section 10).
 */
struct fw_catalog_delta {
	char product[FW_NAME_MAX + 1];
	char version[FW_VERSION_MAX_LEN + 1];  /* the release it stands for */
	char base_version[FW_VERSION_MAX_LEN + 1];
	char url[FW_CATALOG_MAX_URLS][FW_CATALOG_URL_MAX + 1];
	size_t n_urls;
	uint64_t length;
	uint8_t manifest_sha256[FW_DIGEST_LEN];
	size_t n_images;
	struct fw_catalog_image image[FW_TARGET_COUNT];   /* every image of the product it writes, a base or not */
	/* What its manifest says of the release, held up to the full package's when a catalog is made (not written). */
	uint32_t generation;
	uint64_t rollback_index;
	int requires_tpm;
	char bridge_from[FW_VERSION_MAX_LEN + 1];
	char bridge_down[FW_VERSION_MAX_LEN + 1];
};

/* A patch: a modification package (.wmopkg) for a product, recommended with the releases it fits. */
struct fw_patch {
	char product[FW_NAME_MAX + 1];
	char name[FW_PKG_NAME_MAX + 1];        /* the package name on the device */
	char version[FW_VERSION_MAX_LEN + 1];
	struct fw_version ver;
	char url[FW_CATALOG_MAX_URLS][FW_CATALOG_URL_MAX + 1];
	size_t n_urls;
	uint64_t length;
	uint8_t manifest_sha256[FW_DIGEST_LEN];
	char min_fw[FW_VERSION_MAX_LEN + 1];   /* the firmware versions it applies to; "" unbounded */
	char max_fw[FW_VERSION_MAX_LEN + 1];
	char description[FW_DESCRIPTION_MAX + 1];
};

struct fw_catalog {
	uint64_t serial;                       /* a device never accepts a lower one than it last did */
	int64_t created, expires;              /* seconds since the epoch */
	size_t n;
	struct fw_release rel[FW_CATALOG_MAX_RELEASES];   /* sorted by product, then version */
	size_t n_patches;
	struct fw_patch patch[FW_CATALOG_MAX_PATCHES];    /* sorted by product, then version */
	size_t n_deltas;
	struct fw_catalog_delta delta[FW_CATALOG_MAX_DELTAS];   /* each of a release in rel[] */
};

/* The newest patch for product that applies to firmware `version` (its min_fw and max_fw), or NULL. */
const struct fw_patch *fw_catalog_patch_for(const struct fw_catalog *c, const char *product, const char *version);

/* The catalog as JSON text (sorted keys, deterministic, trailing newline); malloc'd, NULL when out of memory. */
char *fw_catalog_emit(const struct fw_catalog *c);

/*
 * Parse catalog text strictly: size, format, every key known and typed,
 * versions and digests well formed, releases sorted and unique. -1 with err
 * (code FW_EXIT_REJECTED) saying what is wrong. Checks no signature and no
 * time: the caller does (fw_catalog_check_time).
 */
int fw_catalog_parse(const char *text, size_t len, struct fw_catalog *c, struct fw_err *err);

/* Expired, or created in the future beyond a minute? -1 with err (FW_EXIT_REJECTED). */
int fw_catalog_check_time(const struct fw_catalog *c, int64_t now, struct fw_err *err);

/* The signature file beside a catalog: CATALOG.minisig (minisign) or CATALOG.cms (CMS, DER). */
const char *fw_catalog_sig_suffix(enum sig_kind kind);

/* Room for who signed a catalog: a key id, or a certificate's subject (escaped) and id. */
#define FW_CATALOG_SIGNER_MAX 600

/*
 * Check the catalog's signature of the given kind (sig: a .minisig file's
 * bytes, one or more minisign signatures one after another, or a DER CMS
 * signature) through the one trust decision (sig_accept_detached: minisign
 * keys; X.509 anchors, chain, codeSigning, CRLs and pins as for packages; the
 * policy's key threshold), then parse it (fw_catalog_parse). Who signed goes
 * to signer (once known). -1 with err (FW_EXIT_REJECTED, FW_EXIT_IO for a
 * system error; FW_KIND_SIGNATURE for any signature failure): "signed by ...,
 * which is not trusted", "signature...: " a bad signature or chain, "too few
 * signatures by trusted keys", or not a valid catalog. Time and serial are
 * the caller's to check.
 */
struct sig_trust;
int fw_catalog_verify(enum sig_kind kind, const char *text, size_t len, const char *sig, size_t sig_len,
		      const struct sig_trust *t, struct fw_catalog *c, char signer[FW_CATALOG_SIGNER_MAX],
		      struct fw_err *err);

/* The newest release for product, or NULL. */
const struct fw_release *fw_catalog_newest(const struct fw_catalog *c, const char *product);
/* The release of product at version, or NULL. */
const struct fw_release *fw_catalog_find(const struct fw_catalog *c, const char *product, const char *version);

/*
 * Sort releases by product then version; -1 with err when one appears
 * twice, or a delta has no release of its product and version (its full
 * package: what a device falls back to).
 */
int fw_catalog_sort(struct fw_catalog *c, struct fw_err *err);

/* Parse a duration ("90", "30m", "12h", "30d", "2w") into seconds; -1 if malformed. */
int fw_duration_parse(const char *s, int64_t *out);

/* The deltas of a release (product and version), through *n; NULL when none. */
const struct fw_catalog_delta *fw_catalog_deltas_of(const struct fw_catalog *c, const struct fw_release *rel, size_t *n);

/* 1 if a URL's text may stand in a catalog: UTF-8, with no space or control character (formats/catalog.md). */
int fw_catalog_url_text_ok(const char *url);

#endif
