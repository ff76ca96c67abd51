/* cli_build: option handling shared by the package builders (mkpkg, mkwmopkg). */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_add_product(struct fw_manifest *m, const char *id)
{
	if (!fw_name_valid(id)) {
		cli_error(NULL, NULL, "invalid product id \"%s\" (letters, digits, . _ + -)", id);
		return -1;
	}
	for (size_t i = 0; i < m->n_products; i++)
		if (strcmp(m->products[i], id) == 0)
			return 0;
	if (m->n_products == FW_MAX_PRODUCTS) {
		cli_error(NULL, NULL, "too many products (limit %d)", FW_MAX_PRODUCTS);
		return -1;
	}
	snprintf(m->products[m->n_products++], FW_NAME_MAX + 1, "%s", id);
	return 0;
}

int cli_set_version(char *dst, const char *v, const char *what)
{
	struct fw_err err = { 0, "" };
	struct fw_version parsed;

	if (fw_version_parse(v, &parsed, &err) < 0) {
		cli_error(NULL, NULL, "%s: %s", what, err.msg);
		return -1;
	}
	snprintf(dst, FW_VERSION_MAX_LEN + 1, "%s", v);
	return 0;
}

int cli_set_description(struct fw_manifest *m, const char *text)
{
	char *copy = strdup(text);

	if (copy == NULL) {
		cli_error(NULL, NULL, "out of memory");
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
	if (cli_parse_u64(sde, 077777777777ULL, &v) < 0) {
		cli_error(NULL, NULL, "SOURCE_DATE_EPOCH \"%s\" is not a valid timestamp", sde);
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

int cli_load_seckeys(const char *const *paths, size_t n, const char *passphrase_file,
		     struct sig_seckey **keys)
{
	struct fw_err err = { 0, "" };

	for (size_t i = 0; i < n; i++)
		if (cli_load_seckey(paths[i], passphrase_file, &keys[i], &err) < 0)
			return cli_fail(NULL, NULL, &err);   /* the message names the key */
	return 0;
}

int cli_build_option(struct cli_build *b, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'o': b->out = arg; return 1;
	case 'f': b->force = 1; return 1;
	case 'q': cli_quiet = 1; return 1;
	case 'k':
		if (b->n_keys == CLI_MAX_KEYS) {
			cli_error(NULL, NULL, "at most %d signing keys", CLI_MAX_KEYS);
			return -1;
		}
		b->keys[b->n_keys++] = arg;
		return 1;
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
	case CLI_OPT_PASSFILE: b->passphrase_file = arg; return 1;
	case CLI_OPT_CHUNK:
		if (cli_parse_u64(arg, FW_CHUNK_MAX, &v) < 0 || v < FW_CHUNK_MIN || (v & (v - 1)) != 0) {
			cli_error(NULL, NULL, "--chunk-size %s: expected a power of two from %u to %u", arg,
				  FW_CHUNK_MIN, FW_CHUNK_MAX);
			return -1;
		}
		b->chunk_size = v;
		b->have_chunk = 1;
		return 1;
	case CLI_OPT_SYNC: b->sync = 1; return 1;
	default: return 0;
	}
}
