/* cli_build: option handling shared by the package builders (mkpkg, mkwmopkg). */
#include "cli.h"

#include "base/isotime.h"
#include "formats/pkg_write.h"
#include "formats/sbom.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_add_product(struct fw_manifest *m, const char *id)
{
	if (!fw_name_valid(id)) {
		msg_error(NULL, NULL, "invalid product id \"%s\" (letters, digits, . _ + -)", id);
		return -1;
	}
	for (size_t i = 0; i < m->n_products; i++)
		if (strcmp(m->products[i], id) == 0)
			return 0;
	if (m->n_products == FW_MAX_PRODUCTS) {
		msg_error(NULL, NULL, "too many products (limit %d)", FW_MAX_PRODUCTS);
		return -1;
	}
	snprintf(m->products[m->n_products++], FW_NAME_MAX + 1, "%s", id);
	return 0;
}

int cli_set_version(char *dst, const char *v, const char *what)
{
	struct fw_err err = { 0 };
	struct fw_version parsed;

	if (fw_version_parse(v, &parsed, &err) < 0) {
		msg_error(NULL, NULL, "%s: %s", what, err.msg);
		return -1;
	}
	snprintf(dst, FW_VERSION_MAX_LEN + 1, "%s", v);
	return 0;
}

int cli_set_description(struct fw_manifest *m, const char *text)
{
	char *copy = strdup(text);

	if (copy == NULL) {
		msg_error(NULL, NULL, "out of memory");
		return -1;
	}
	free(m->description);
	m->description = copy;
	return 0;
}

int cli_created_time(int64_t *out)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;

	if (sde == NULL || sde[0] == '\0') {
		*out = (int64_t)time(NULL);
		return 0;
	}
	/* The largest time a ustar header can hold. */
	if (msg_parse_u64(sde, 077777777777ULL, &v) < 0) {
		msg_error(NULL, NULL, "SOURCE_DATE_EPOCH \"%s\" is not a valid timestamp", sde);
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

int cli_now(int64_t *out)
{
	const char *e = getenv("FWPKG_NOW");
	uint64_t v;

	if (e == NULL || e[0] == '\0') {
		*out = (int64_t)time(NULL);
		return 0;
	}
	if (msg_parse_u64(e, UINT64_C(1) << 40, &v) < 0) {
		msg_error(NULL, NULL, "FWPKG_NOW \"%s\" is not a valid timestamp", e);
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

int64_t cli_parse_date(const char *s)
{
	struct tm tm;
	const char *end;
	uint64_t v;
	int64_t t;

	if (s[0] == '@')
		return msg_parse_u64(s + 1, (uint64_t)1 << 40, &v) < 0 ? -1 : (int64_t)v;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end != NULL && *end == 'T')
		end = strptime(end, "T%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0' || fw_time_of_tm(&tm, &t) < 0)
		return -1;
	return t;
}

void cli_build_help(FILE *f)
{
	fprintf(f,
		"  -o, --output OUT          the package to write\n"
		"  -k, --key SECKEY          sign with this minisign secret key (repeatable), or\n"
		"                            a pkcs11: URI (an Ed25519 key on a token)\n"
		"      --cert CERT.pem       the -k before is a CMS signer: a PEM key or a pkcs11:\n"
		"                            URI with this X.509 certificate\n"
		"      --intermediate PEM    carry these CA certificates in that CMS signature\n"
		"      --version V           the package version (1 to 4 numbers, optional -revN)\n"
		"      --product ID          a product the package fits (repeatable)\n"
		"      --description TEXT    free text shown by fwpkg inspect\n"
		"      --chunk-size BYTES    hash in chunks of BYTES, a power of two 4096..8388608\n"
		"                            (default 1048576)\n"
		"      --spec FILE.json      the same settings as a JSON object (options win)\n"
		"      --passphrase-file FILE  passphrase of encrypted keys: once for all keys,\n"
		"                            or once per -k in the same order (else\n"
		"                            $FWPKG_PASSPHRASE, else the terminal)\n"
		"      --sbom FILE           carry this CycloneDX JSON SBOM (specVersion 1.5 or\n"
		"                            1.6) in the package, covered by the signature\n"
		"      --compress zstd[:LEVEL]  carry the payloads as independent zstd frames\n"
		"                            (LEVEL 1..22, default 3; window at most 8 MiB)\n"
		"      --frame-size BYTES    with --compress: image bytes per frame, a power of\n"
		"                            two 1048576..268435456 and a multiple of the chunk\n"
		"                            size (default 33554432; mkpkg's deltas: 8388608, at\n"
		"                            most 33554432)\n"
		"      --sync                fsync the package before renaming it into place\n"
		"  -f, --force               replace an existing output file\n"
		"  -q, --quiet               no notes, no progress bar\n"
		"  -V                        print this program's version and exit\n"
		"  -h, --help                this help\n"
		);
}

int cli_build_option(struct cli_build *b, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'o': b->out = arg; return 1;
	case 'f': b->force = 1; return 1;
	case 'q': msg_quiet = 1; return 1;
	case 'k':
		if (b->n_keys == CLI_MAX_KEYS) {
			msg_error(NULL, NULL, "at most %d signing keys", CLI_MAX_KEYS);
			return -1;
		}
		b->keys[b->n_keys++].key = arg;
		return 1;
	case CLI_OPT_CERT:
		return cli_key_cert(b->keys, b->n_keys, arg) < 0 ? -1 : 1;
	case CLI_OPT_INTERMEDIATE:
		return cli_key_intermediate(b->keys, b->n_keys, arg) < 0 ? -1 : 1;
	case CLI_OPT_VERSION:
		if (cli_set_version(b->m->version, arg, "--version") < 0)
			return -1;
		b->have_version = 1;
		return 1;
	case CLI_OPT_PRODUCT:
		return cli_add_product(b->m, arg) < 0 ? -1 : 1;
	case CLI_OPT_DESCRIPTION:
		if (cli_set_description(b->m, arg) < 0)
			return -1;
		b->have_description = 1;
		return 1;
	case CLI_OPT_SPEC: b->spec = arg; return 1;
	case CLI_OPT_PASSFILE:
		if (b->n_passphrase_files == CLI_MAX_KEYS) {
			msg_error(NULL, NULL, "at most %d --passphrase-file", CLI_MAX_KEYS);
			return -1;
		}
		b->passphrase_files[b->n_passphrase_files++] = arg;
		return 1;
	case CLI_OPT_CHUNK:
		if (msg_parse_u64(arg, FW_CHUNK_MAX, &v) < 0 || v < FW_CHUNK_MIN || (v & (v - 1)) != 0) {
			msg_error(NULL, NULL, "--chunk-size %s: expected a power of two from %u to %u", arg,
				  FW_CHUNK_MIN, FW_CHUNK_MAX);
			return -1;
		}
		b->chunk_size = v;
		b->have_chunk = 1;
		return 1;
	case CLI_OPT_SYNC: b->sync = 1; return 1;
	case CLI_OPT_COMPRESS:
		if (strcmp(arg, "zstd") == 0) {
			b->zstd_level = FW_ZSTD_LEVEL_DEFAULT;
			return 1;
		}
		if (strncmp(arg, "zstd:", 5) != 0 || msg_parse_u64(arg + 5, FW_ZSTD_LEVEL_MAX, &v) < 0 ||
		    v < FW_ZSTD_LEVEL_MIN) {
			msg_error(NULL, NULL, "--compress %s: expected zstd or zstd:LEVEL, LEVEL from %d to %d", arg,
				  FW_ZSTD_LEVEL_MIN, FW_ZSTD_LEVEL_MAX);
			return -1;
		}
		b->zstd_level = (int)v;
		return 1;
	case CLI_OPT_FRAME:
		if (msg_parse_u64(arg, FW_ZSTD_FRAME_MAX, &v) < 0 || v < FW_ZSTD_FRAME_MIN || (v & (v - 1)) != 0) {
			msg_error(NULL, NULL, "--frame-size %s: expected a power of two from %u to %u", arg,
				  FW_ZSTD_FRAME_MIN, FW_ZSTD_FRAME_MAX);
			return -1;
		}
		b->zstd_frame_size = (uint32_t)v;
		return 1;
	case CLI_OPT_SBOM:
		if (b->sbom != NULL) {
			msg_error(NULL, NULL, "--sbom given twice (%s and %s)", b->sbom, arg);
			return -1;
		}
		b->sbom = arg;
		return 1;
	default: return 0;
	}
}

static const char *const shared_spec_keys[] = { "version", "products", "description", "chunk_size", NULL };

static int listed(const char *const *list, const char *key)
{
	for (size_t k = 0; list != NULL && list[k] != NULL; k++)
		if (strcmp(list[k], key) == 0)
			return 1;
	return 0;
}

json_t *cli_spec_open(const char *spec, const char *const *program_keys, int *exit_code)
{
	json_error_t jerr;
	json_t *root = NULL, *v;
	const char *key;
	FILE *f = fopen(spec, "re");

	*exit_code = FW_EXIT_USAGE;
	/* Opened here, not by jansson: a file that cannot be read is an I/O error, not bad JSON. */
	if (f == NULL) {
		msg_error(NULL, spec, "cannot open: %s", strerror(errno));
		*exit_code = FW_EXIT_IO;
		return NULL;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL && ferror(f)) {
		msg_error(NULL, spec, "read failed: %s", strerror(errno));
		*exit_code = FW_EXIT_IO;
		fclose(f);
		return NULL;
	}
	fclose(f);
	if (root == NULL) {
		msg_error(NULL, spec, "line %d: %s", jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		msg_error(NULL, spec, "not a JSON object");
		json_decref(root);
		return NULL;
	}
	json_object_foreach(root, key, v) {
		if (!listed(shared_spec_keys, key) && !listed(program_keys, key)) {
			msg_error(NULL, spec, "unknown key \"%s\"", key);
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

int cli_spec_shared(struct cli_build *b, json_t *root, const char *spec)
{
	const char *field;
	json_t *v;

	if ((v = json_object_get(root, field = "version")) && !b->have_version) {
		if (!json_is_string(v) || cli_set_version(b->m->version, json_string_value(v), spec) < 0)
			goto bad;
		b->have_version = 1;
	}
	if ((v = json_object_get(root, field = "products")) && b->m->n_products == 0) {
		size_t i;
		json_t *p;
		if (!json_is_array(v))
			goto bad;
		json_array_foreach(v, i, p)
			if (!json_is_string(p) || cli_add_product(b->m, json_string_value(p)) < 0)
				goto bad;
	}
	if ((v = json_object_get(root, field = "description")) && !b->have_description) {
		if (!json_is_string(v) || cli_set_description(b->m, json_string_value(v)) < 0)
			goto bad;
		b->have_description = 1;
	}
	if ((v = json_object_get(root, field = "chunk_size")) && !b->have_chunk) {
		json_int_t c = json_is_integer(v) ? json_integer_value(v) : 0;
		if (c < FW_CHUNK_MIN || c > FW_CHUNK_MAX || (c & (c - 1)) != 0)
			goto bad;
		b->chunk_size = (uint64_t)c;
		b->have_chunk = 1;
	}
	return 0;
bad:
	msg_error(NULL, spec, "invalid value for \"%s\"", field);
	return -1;
}

int cli_build_sbom(struct cli_build *b)
{
	struct fw_err err = { 0 };

	if (b->sbom == NULL)
		return 0;
	/* The message starts with the file's name. */
	if (fw_sbom_load(b->sbom, &b->sbom_doc, &b->sbom_len, &b->m->sbom, &err) < 0)
		return msg_fail(NULL, NULL, &err);
	return 0;
}

void cli_build_write_opts(const struct cli_build *b, struct pkg_write_opts *w)
{
	w->force = b->force;
	w->sync = b->sync;
	w->progress = cli_progress;
	w->sbom = b->sbom_doc;
	w->sbom_len = b->sbom_len;
	w->zstd_level = b->zstd_level;
	w->zstd_frame_size = b->zstd_frame_size;
}

int cli_build_init(struct cli_build *b, enum fw_pkg_type type)
{
	b->chunk_size = FW_CHUNK_DEFAULT;
	if ((b->m = fw_manifest_new(type)) == NULL) {
		msg_error(NULL, NULL, "out of memory");
		return -1;
	}
	return 0;
}
