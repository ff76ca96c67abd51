/* manifest: the signed manifest.json of .pkg and .wmopkg packages, parsed, validated and emitted. */
#ifndef FW_MANIFEST_H
#define FW_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/fw_err.h"
#include "version.h"

#define FW_FORMAT_ID "fwpkg"
#define FW_FORMAT_VERSION 1
/* The format version of a package that carries an SBOM: a reader of version 1
 * only refuses it by its version, not by an unknown entry or key. Packages
 * without one stay at FW_FORMAT_VERSION, byte for byte as before. */
#define FW_FORMAT_VERSION_SBOM 2
/* The format version of a package with a zstd-compressed payload, with or
 * without an SBOM: a version 3 reader reads every feature of 1 and 2 too, and
 * a reader of 1 or 2 refuses it by its version. */
#define FW_FORMAT_VERSION_ZSTD 3
/* The format version of a package with a delta payload (a compression with a
 * "base"): a reader of 3 or below refuses it by its version. */
#define FW_FORMAT_VERSION_DELTA 4

/* Limits (formats/pkg.md, "Limits"). */
#define FW_MANIFEST_MAX (1024 * 1024)       /* bytes of manifest.json */
#define FW_NAME_MAX 64                       /* payload entry names and product ids */
#define FW_MAX_PRODUCTS 64
#define FW_MAX_REMOVES 32                    /* packages one removal package names */
#define FW_MAX_PAYLOADS 256
#define FW_DESCRIPTION_MAX 4096              /* bytes */
#define FW_CHUNK_MIN 4096u
#define FW_CHUNK_MAX (8u * 1024 * 1024)
#define FW_CHUNK_DEFAULT (1024u * 1024)
/* 65536 chunks of 8 MiB: 512 GiB - 1. Above 8 GiB - 1 a payload's tar entry has a pax size record (formats/tar_pax.h). */
#define FW_PAYLOAD_MAX ((1ULL << 39) - 1)
#define FW_DIGEST_LEN 32                     /* SHA-256 */
#define FW_CHUNKS_SUFFIX ".chunks"
#define FW_SBOM_MAX (4 * 1024 * 1024)        /* bytes of an SBOM entry: read whole, hashed once */
#define FW_SBOM_ENTRY "sbom.cdx.json"        /* the tar entry of the SBOM, right after the signatures */
#define FW_SBOM_FORMAT "CycloneDX"
#define FW_SBOM_SPEC_LEN 7                   /* "1.5", "1.6" */

enum fw_pkg_type { FW_TYPE_FIRMWARE, FW_TYPE_MODIFICATION };

/* Modification packages (formats/wmopkg.md). */
#define FW_PKG_NAME_MAX 64                   /* a modification package's name */
#define FW_MOD_PATH_MAX 255                  /* bytes of a file's relative path */
#define FW_MOD_EXT ".wmopkg"                 /* a modification package's file name ends so */
#define FW_MOD_ENTRY_FMT "file-%04zu"        /* tar entry of files[i], numbered from 1 */
#define FW_MOD_MODE_PLAIN 0644u
#define FW_MOD_MODE_EXEC 0755u
enum fw_hook { FW_HOOK_ACTIVATE, FW_HOOK_DEACTIVATE };
#define FW_HOOK_COUNT 2

enum fw_target { FW_TARGET_PRI, FW_TARGET_SEC, FW_TARGET_BOOT };
#define FW_TARGET_COUNT 3

/*
 * A payload carried as independent zstd frames (formats/pkg.md, "Compressed
 * payloads"): the entry holds `size` compressed bytes, hashed in pieces of
 * `chunk_size` (at most 1 MiB) whose list follows the image's own in the
 * .chunks entry; `digest` is that list's SHA-256. Frame k decodes to exactly
 * frame_size bytes of the image (the last one to the rest), with a window of
 * at most 2^window_log bytes: what a reader needs is known from here.
 */
#define FW_ZSTD_CHUNK_MAX (1024u * 1024)          /* compressed bytes verified before the decoder sees them */
#define FW_ZSTD_FRAME_MIN (1024u * 1024)
#define FW_ZSTD_FRAME_MAX (256u * 1024 * 1024)
#define FW_ZSTD_FRAME_DEFAULT (32u * 1024 * 1024)
#define FW_ZSTD_WINDOW_LOG_MIN 10
#define FW_ZSTD_WINDOW_LOG_MAX 23                  /* 8 MiB: a compressed install stays within 24 MiB */
#define FW_ZSTD_LEVEL_MIN 1
#define FW_ZSTD_LEVEL_MAX 22
#define FW_ZSTD_LEVEL_DEFAULT 3
/*
 * A delta payload (formats/pkg.md, "Delta payloads"): compressed frames each
 * decoded with a window of the base image as its prefix: frame k with base
 * bytes [k*frame_size - margin, (k+1)*frame_size + margin), clipped to the
 * base. The base is named by its digest (the SHA-256 of its chunk list in
 * chunk_size chunks, as its own package and a device's record name it), and
 * a reader checks a base against it before it reads a byte of it.
 */
#define FW_DELTA_WINDOW_LOG_MAX 27                 /* match distances: frame + prefix */
#define FW_DELTA_FRAME_DEFAULT (8u * 1024 * 1024)
#define FW_DELTA_MARGIN_DEFAULT (24u * 1024 * 1024)
#define FW_DELTA_MARGIN_MAX (64u * 1024 * 1024)
struct fw_delta {
	int on;
	uint8_t digest[FW_DIGEST_LEN];       /* the base image's digest */
	uint64_t size;                       /* its bytes */
	uint32_t chunk_size;                 /* its chunk size, for its digest */
	uint32_t margin;                     /* base bytes either side of a frame's own range */
};

struct fw_zstd {
	int on;
	int level;                           /* what it was built with: information */
	unsigned window_log;
	uint32_t frame_size;                 /* image bytes per frame: a power of two, a multiple of the image's chunk_size */
	uint64_t size;                       /* compressed bytes: the tar entry's size */
	uint32_t chunk_size;                 /* compressed bytes per verified piece */
	uint8_t digest[FW_DIGEST_LEN];       /* SHA-256 of the compressed chunk list */
	struct fw_delta base;                /* on: a delta against that base (format version 4) */
};

/*
 * A payload as the container sees it: the tar entry `name`, preceded by the
 * entry `name`.chunks holding one SHA-256 per chunk of `chunk_size` bytes (the
 * last chunk may be short). `digest` is the SHA-256 of that chunk list.
 */
struct fw_payload {
	char name[FW_NAME_MAX + 1];
	uint64_t size;
	uint32_t chunk_size;
	uint8_t digest[FW_DIGEST_LEN];
	/* Optional plain SHA-256 of the whole payload (modification files carry
	 * one for people to compare); when set, readers and writers check it too. */
	int has_sha256;
	uint8_t sha256[FW_DIGEST_LEN];
	/* Compressed on the wire (format version 3); size, chunk_size and
	 * digest above still describe the image itself. */
	struct fw_zstd zstd;
};

/* A firmware image: which slot it is for, for which product, and its payload. */
struct fw_image {
	enum fw_target target;
	char product[FW_NAME_MAX + 1];
	size_t payload;                      /* index into fw_manifest.payloads */
};

/* A file a modification package adds: where it goes, its mode, and its payload. */
struct fw_mod_file {
	char path[FW_MOD_PATH_MAX + 1];      /* relative, under one of the fixed roots */
	unsigned mode;                       /* FW_MOD_MODE_PLAIN or FW_MOD_MODE_EXEC */
	size_t payload;                      /* index into fw_manifest.payloads (== its own index) */
};

/*
 * The software bill of materials a package carries (formats/pkg.md, "SBOM"):
 * a CycloneDX JSON document in the entry FW_SBOM_ENTRY, declared by the signed
 * manifest with its plain SHA-256, so the signature covers it.
 */
struct fw_sbom {
	int present;
	char spec_version[FW_SBOM_SPEC_LEN + 1];  /* "1.5" or "1.6" */
	uint64_t components;                    /* >= 1 */
	uint64_t size;                          /* 1..FW_SBOM_MAX bytes */
	uint8_t sha256[FW_DIGEST_LEN];
};

struct fw_manifest {
	enum fw_pkg_type type;
	char version[FW_VERSION_MAX_LEN + 1];
	struct fw_version ver;
	char *description;                   /* never NULL after parse; "" when absent */
	int64_t created;                     /* seconds since the epoch */
	size_t n_products;
	char products[FW_MAX_PRODUCTS][FW_NAME_MAX + 1];

	/* firmware only */
	uint32_t image_generation;           /* >= 1 */
	uint64_t rollback_index;
	int requires_tpm;
	/* Generation transition (DESIGN.md): this generation may be entered only
	 * from a device whose primary runs `bridge_from`, and left downwards only
	 * from `bridge_down`. Empty strings when the package does not say. */
	char bridge_from[FW_VERSION_MAX_LEN + 1];
	char bridge_down[FW_VERSION_MAX_LEN + 1];
	size_t n_images;
	struct fw_image images[FW_MAX_PAYLOADS];

	/* modification only */
	char name[FW_PKG_NAME_MAX + 1];      /* the package name on the device */
	/* Firmware versions the package applies to; "" when unbounded. */
	char min_fw[FW_VERSION_MAX_LEN + 1];
	char max_fw[FW_VERSION_MAX_LEN + 1];
	int persistent_allowed;
	/* Sorted by path; files[i] is payloads[i], entry "file-<i+1>", with a sha256. */
	size_t n_files;
	struct fw_mod_file files[FW_MAX_PAYLOADS];
	/* Paths of hook scripts by role (one of files, under scripts/, mode 0755); "" when none. */
	char hooks[FW_HOOK_COUNT][FW_MOD_PATH_MAX + 1];
	/* A removal package: the packages it removes at the next boot, sorted; it has no files then. */
	size_t n_removes;
	char removes[FW_MAX_REMOVES][FW_PKG_NAME_MAX + 1];

	/* both types: the SBOM, when the package carries one (format version 2) */
	struct fw_sbom sbom;

	/* every payload in container order */
	size_t n_payloads;
	struct fw_payload payloads[FW_MAX_PAYLOADS];
};

const char *fw_target_name(enum fw_target t);
int fw_target_parse(const char *s, enum fw_target *out);

/* The format_version a manifest is written with: FW_FORMAT_VERSION_ZSTD with a compressed
 * payload, else FW_FORMAT_VERSION_SBOM with an SBOM, else FW_FORMAT_VERSION. */
int fw_manifest_format_version(const struct fw_manifest *m);

/* "firmware" or "modification". */
const char *fw_pkg_type_name(enum fw_pkg_type t);

/* "activate", "deactivate"; parse returns -1 for anything else. */
const char *fw_hook_name(enum fw_hook h);
int fw_hook_parse(const char *s, enum fw_hook *out);

/* Modification package names: 1..FW_PKG_NAME_MAX of [A-Za-z0-9._-], not starting with '.'. */
int fw_pkg_name_valid(const char *s);

/*
 * The .wmopkg name rule, the one every program uses (mkwmopkg for its
 * output, fwpkg and fwctl for what they read): the package name a file name
 * gives is its base name without FW_MOD_EXT, which is required, and that
 * name must be fw_pkg_name_valid (so 1 to FW_PKG_NAME_MAX characters).
 * 0, or -1 with err (FW_EXIT_USAGE) saying which part is wrong.
 */
int fw_mod_name_from_path(const char *path, char name[FW_PKG_NAME_MAX + 1], struct fw_err *err);

/*
 * What is wrong with a modification file path, or NULL if nothing: it must be
 * relative, under factory-config/, branding/, services/, files/ or scripts/,
 * at most FW_MOD_PATH_MAX bytes of valid UTF-8, with no empty, "." or ".."
 * component, no backslash and no control character.
 */
const char *fw_mod_path_problem(const char *path);

/* The tar entry name of files[index]: "file-0001" for index 0. */
void fw_mod_entry_name(size_t index, char out[FW_NAME_MAX + 1]);

/*
 * For callers that handle one type only: 0 if m is of type t, else -1 with
 * "is a firmware package, not a modification package" (FW_EXIT_REJECTED).
 * The type comes from the signed manifest, never from a file name.
 */
int fw_manifest_expect_type(const struct fw_manifest *m, enum fw_pkg_type t, struct fw_err *err);

/*
 * The file-name rule of .wmopkg packages: when the base name of `path` ends in
 * ".wmopkg", the manifest must be a modification whose name is that base name
 * without the extension. Other names (and "-") are not checked. 0 or -1.
 */
int fw_manifest_check_file_name(const struct fw_manifest *m, const char *path, struct fw_err *err);

/*
 * Whether a modification package applies to a device running firmware
 * `running`: 0 if within [min_fw, max_fw], -1 with err saying why not (or
 * that `running` is no valid version). Firmware manifests always pass.
 */
int fw_manifest_check_firmware(const struct fw_manifest *m, const char *running, struct fw_err *err);

/*
 * Names of payload entries and product ids: 1..FW_NAME_MAX of [A-Za-z0-9._+-],
 * not starting with '.'. The one name rule: mkpkg checks product ids with it,
 * the manifest parser payload names, the reader every tar entry name
 * (fw_entry_name_valid), so whatever the writer accepts the reader reads.
 */
int fw_name_valid(const char *s);
/* A tar entry name in a package: a valid name, or a valid name + FW_CHUNKS_SUFFIX. */
int fw_entry_name_valid(const char *s);

struct fw_manifest *fw_manifest_new(enum fw_pkg_type type);
void fw_manifest_free(struct fw_manifest *m);

/*
 * Parse and validate manifest bytes. Strict: unknown keys, wrong types, values
 * out of range, duplicate payload names, an image for an unlisted product and
 * two images for the same product and target are all rejected (code
 * FW_EXIT_REJECTED), with a message naming the field.
 */
int fw_manifest_parse(const void *buf, size_t len, struct fw_manifest **out, struct fw_err *err);

/* Validate an in-memory manifest by the same rules as parse. */
int fw_manifest_validate(const struct fw_manifest *m, struct fw_err *err);

/* The manifest as a JSON object (caller json_decref()s), the same shape parse accepts. */
json_t *fw_manifest_to_json(const struct fw_manifest *m);

/* Deterministic bytes of manifest.json (sorted keys, 2-space indent, trailing newline); free() the result. */
int fw_manifest_emit(const struct fw_manifest *m, char **out, size_t *len, struct fw_err *err);

/* Number of chunks of a payload and the exact size of its chunk list. */
uint64_t fw_payload_chunks(const struct fw_payload *p);
/* Compressed pieces of a compressed payload (0 for others). */
uint64_t fw_payload_zchunks(const struct fw_payload *p);
/* Bytes of the payload's tar entry: the compressed size when compressed. */
uint64_t fw_payload_entry_size(const struct fw_payload *p);
/* Bytes of its .chunks entry: the image's list, then the compressed one when compressed. */
uint64_t fw_payload_list_size(const struct fw_payload *p);
/* Frames of a compressed payload (0 for others). */
uint64_t fw_payload_frames(const struct fw_payload *p);
/* The base bytes [*lo, *hi) frame k of a delta payload is decoded against (clipped to the base). */
void fw_delta_prefix(const struct fw_payload *p, uint64_t k, uint64_t *lo, uint64_t *hi);
/* The window a delta payload's frames need at most: a frame and its whole prefix (log2, rounded up). */
unsigned fw_delta_window_log(uint32_t frame_size, uint32_t margin);
/* The largest frame (a power of two) a delta with this margin may have: the window of its frame and prefix
 * within FW_DELTA_WINDOW_LOG_MAX; 0 if none. */
uint32_t fw_delta_frame_max(uint32_t margin);

/* Lower-case hex of `len` bytes into out (2*len+1 bytes). */
void fw_hex(const uint8_t *bytes, size_t len, char *out);
int fw_unhex(const char *hex, uint8_t *out, size_t len);

#endif
