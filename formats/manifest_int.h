/* manifest_int: helpers the manifest*.c files share; included by them only, never by callers. */
#ifndef FW_MANIFEST_INT_H
#define FW_MANIFEST_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/fw_err.h"
#include "manifest.h"

#define DIGEST_HEX_LEN (2 * FW_DIGEST_LEN)

/* Room for a JSON path such as "images[255].chunk_size" with a key quoted by fw_escape_cap(..., FW_MF_SHOWN_MAX, ...). */
#define PATH_MAX_LEN 320

/* Index of s in names[0..count), or -1 (also for NULL). */
int fw_mf_name_index(const char *const *names, unsigned count, const char *s);

/* How much of a name or key from a package a message quotes (fw_escape_cap). */
#define FW_MF_SHOWN_MAX 64

/*
 * Checks shared by parse and validate; `path` names the field as it appears
 * in manifest.json. Each returns 0, or -1 with err set (FW_EXIT_REJECTED).
 */
int fw_mf_range_err(const char *path, uint64_t min, uint64_t max, struct fw_err *err);
int fw_mf_check_range(const char *path, uint64_t v, uint64_t min, uint64_t max,
	struct fw_err *err);
int fw_mf_check_name(const char *path, const char *s, struct fw_err *err);
int fw_mf_check_chunk_size(const char *path, uint64_t v, struct fw_err *err);
int fw_mf_check_version(const char *path, const char *s, struct fw_version *out,
	struct fw_err *err);
int fw_mf_check_products(const struct fw_manifest *m, struct fw_err *err);
/* "<array>[i].size" and "<array>[i].chunk_size" of payload p. */
int fw_mf_check_payload_size(const char *array, size_t i, const struct fw_payload *p,
	struct fw_err *err);

/* The "compression" of payload p, when it has one: ranges and its fit with the image's chunk size. */
int fw_mf_check_zstd(const char *array, size_t i, const struct fw_payload *p, struct fw_err *err);

/* Parsing: every JSON value is type-checked before use. */

int fw_mf_check_keys(const json_t *obj, const char *const *allowed, const char *prefix,
	struct fw_err *err);
/* The value of required key `key` of obj into *out; `prefix` only names it in the message. */
int fw_mf_need(const json_t *obj, const char *prefix, const char *key, json_t **out,
	struct fw_err *err);
int fw_mf_get_string(const json_t *v, const char *path, const char **out,
	struct fw_err *err);
int fw_mf_get_uint(const json_t *v, const char *path, uint64_t min, uint64_t max,
	uint64_t *out, struct fw_err *err);
/* Required key `key` of obj, FW_DIGEST_LEN bytes in lower-case hex, into out. */
int fw_mf_get_digest(const json_t *obj, const char *prefix, const char *key,
	uint8_t out[FW_DIGEST_LEN], struct fw_err *err);
void fw_mf_copy_name(char dst[FW_NAME_MAX + 1], const char *src);
int fw_mf_parse_version_field(const json_t *v, const char *path, char *dst,
	struct fw_err *err);
int fw_mf_parse_common(const json_t *root, struct fw_manifest *m, struct fw_err *err);
/* The "size", "chunk_size" and "digest" keys of obj (an image or a file) into p. */
int fw_mf_parse_payload(const json_t *obj, const char *prefix, struct fw_payload *p,
	struct fw_err *err);

/* Emission. */

json_t *fw_mf_field_string(const char *s, size_t size);
/* Adds "products" to root; 0 or -1 (out of memory). */
int fw_mf_products_to_json(const struct fw_manifest *m, json_t *root);
/* Adds "size", "chunk_size" and "digest" of p to o; nonzero if any failed. */
int fw_mf_payload_to_json(const struct fw_payload *p, json_t *o);

/* The per-type halves: manifest_firmware.c and manifest_mod.c. */
int fw_mf_validate_firmware(const struct fw_manifest *m, struct fw_err *err);
int fw_mf_parse_firmware(const json_t *root, struct fw_manifest *m, struct fw_err *err);
/* The type's own fields added to root, which already holds the common ones; 0 or -1. */
int fw_mf_firmware_to_json(const struct fw_manifest *m, json_t *root);

int fw_mf_validate_modification(const struct fw_manifest *m, struct fw_err *err);
int fw_mf_parse_modification(const json_t *root, struct fw_manifest *m, struct fw_err *err);
int fw_mf_modification_to_json(const struct fw_manifest *m, json_t *root);

#endif
