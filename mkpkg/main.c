/* mkpkg: assemble and sign a .pkg firmware bundle from images given as options or in a spec file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fw_limits.h"
#include "formats/delta_write.h"
#include "formats/manifest.h"
#include "formats/pkg_write.h"
#include "tools/cli.h"

struct image_arg {
	char product[FW_NAME_MAX + 1];
	enum fw_target target;
	const char *path;
};

struct opts {
	struct cli_build b;                    /* the options every builder has */
	int have_generation, have_rollback, have_tpm;
	struct image_arg images[FW_MAX_PAYLOADS];
	size_t n_images;
	const char *single[FW_TARGET_COUNT];   /* --pri/--sec/--boot */
	char *spec_strings[FW_MAX_PAYLOADS];   /* paths resolved from the spec, owned */
	size_t n_spec_strings;
	const char *delta_from;                /* --delta-from OLD.pkg */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mkpkg [-fqV] -o OUT.pkg --version V --product ID... [--pri IMG] [--sec IMG] [--boot IMG]\n"
		"             [--image PRODUCT:TARGET=IMG]... [--generation N] [--rollback-index N] [--tpm]\n"
		"             [--bridge-from V] [--bridge-down V] [--description TEXT] [--chunk-size BYTES]\n"
		"             [--spec FILE.json] [--sbom FILE.cdx.json] [--passphrase-file FILE] [--sync]\n"
		"             [--compress zstd[:LEVEL]] [--frame-size BYTES] [--delta-from OLD.pkg]\n"
		"             (-k SECKEY | -k KEY.pem|pkcs11:URI --cert CERT.pem [--intermediate PEM]...)...\n"
		"Build a signed firmware bundle. See mkpkg(1).\n"
		"\n"
		"      --pri IMG, --sec IMG, --boot IMG\n"
		"                            primary, secondary image, bootloader of the one\n"
		"                            --product (each at most once)\n"
		"      --image PRODUCT:TARGET=IMG  an image for one of several products\n"
		"                            (TARGET pri, sec or boot)\n"
		"      --generation N        image format generation, 1..%u\n"
		"      --rollback-index N    anti-rollback index; devices refuse a lower one\n"
		"      --tpm                 only for products with a TPM\n"
		"      --bridge-from V       a new generation is entered only from version V\n"
		"      --bridge-down V       leaving it downwards needs the primary at V first\n"
		"      --delta-from OLD.pkg  carry each system image as a delta against the\n"
		"                            same product's other system image in OLD.pkg\n"
		"                            (pri against the old sec, sec against the old pri;\n"
		"                            the same target's where OLD.pkg has no other),\n"
		"                            compressed (zstd level 3 unless --compress says)\n",
		FW_GENERATION_MAX);
	cli_build_help(f);
}

static int add_image(struct opts *o, const char *product, enum fw_target target, const char *path)
{
	if (o->n_images == FW_MAX_PAYLOADS) {
		msg_error(NULL, NULL, "too many images (limit %d)", FW_MAX_PAYLOADS);
		return -1;
	}
	if (!fw_name_valid(product)) {
		msg_error(NULL, NULL, "invalid product id \"%s\"", product);
		return -1;
	}
	snprintf(o->images[o->n_images].product, sizeof(o->images[0].product), "%s", product);
	o->images[o->n_images].target = target;
	o->images[o->n_images].path = path;
	o->n_images++;
	return 0;
}

/* --image PRODUCT:TARGET=IMG */
static int parse_image_arg(struct opts *o, const char *arg)
{
	char product[FW_NAME_MAX + 2], target[8];
	const char *colon = strchr(arg, ':'), *eq = colon ? strchr(colon, '=') : NULL;
	enum fw_target t;

	if (colon == NULL || eq == NULL || (size_t)(colon - arg) > FW_NAME_MAX ||
	    (size_t)(eq - colon - 1) >= sizeof(target) || eq[1] == '\0') {
		msg_error(NULL, NULL, "--image %s: expected PRODUCT:TARGET=FILE", arg);
		return -1;
	}
	memcpy(product, arg, (size_t)(colon - arg));
	product[colon - arg] = '\0';
	memcpy(target, colon + 1, (size_t)(eq - colon - 1));
	target[eq - colon - 1] = '\0';
	if (fw_target_parse(target, &t) < 0) {
		msg_error(NULL, NULL, "--image %s: target must be pri, sec or boot", arg);
		return -1;
	}
	return add_image(o, product, t, eq + 1);
}

/*
 * A path from the spec, relative to the spec file's directory. Always a copy
 * we own: the JSON holding the original is freed before the images are read.
 */
static const char *spec_path(struct opts *o, const char *spec, const char *path)
{
	const char *slash = strrchr(spec, '/');
	char *joined;
	int n;

	if (o->n_spec_strings == FW_MAX_PAYLOADS) {
		msg_error(NULL, spec, "too many images (limit %d)", FW_MAX_PAYLOADS);
		return NULL;
	}
	if (path[0] == '/' || slash == NULL)
		n = asprintf(&joined, "%s", path);
	else
		n = asprintf(&joined, "%.*s/%s", (int)(slash - spec), spec, path);
	if (n < 0) {
		msg_error(NULL, NULL, "out of memory");
		return NULL;
	}
	o->spec_strings[o->n_spec_strings++] = joined;
	return joined;
}

/*
 * --spec FILE.json: the same settings as the options, as a JSON object;
 * options on the command line win. Returns an exit code.
 */
static int load_spec(struct opts *o, const char *spec)
{
	static const char *const known[] = { "image_generation", "rollback_index", "requires_tpm",
		"transition", "images", NULL };
	int rc = FW_EXIT_USAGE;
	json_t *root = cli_spec_open(spec, known, &rc), *v;
	const char *field = NULL;

	if (root == NULL)
		return rc;
	if (cli_spec_shared(&o->b, root, spec) < 0)
		goto out;
	if ((v = json_object_get(root, field = "image_generation")) && !o->have_generation) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > FW_GENERATION_MAX)
			goto bad;
		o->b.m->image_generation = (uint32_t)json_integer_value(v);
	}
	if ((v = json_object_get(root, field = "rollback_index")) && !o->have_rollback) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			goto bad;
		o->b.m->rollback_index = (uint64_t)json_integer_value(v);
	}
	if ((v = json_object_get(root, field = "requires_tpm")) && !o->have_tpm) {
		if (!json_is_boolean(v))
			goto bad;
		o->b.m->requires_tpm = json_is_true(v);
	}
	if ((v = json_object_get(root, field = "transition"))) {
		json_t *b;
		if (!json_is_object(v) || json_object_size(v) > 2)
			goto bad;
		if ((b = json_object_get(v, "bridge_from")) && !o->b.m->bridge_from[0] &&
		    (!json_is_string(b) || cli_set_version(o->b.m->bridge_from, json_string_value(b), spec) < 0))
			goto bad;
		if ((b = json_object_get(v, "bridge_down")) && !o->b.m->bridge_down[0] &&
		    (!json_is_string(b) || cli_set_version(o->b.m->bridge_down, json_string_value(b), spec) < 0))
			goto bad;
	}
	if ((v = json_object_get(root, field = "images"))) {
		size_t i;
		json_t *img;
		if (!json_is_array(v))
			goto bad;
		json_array_foreach(v, i, img) {
			json_t *pr = json_object_get(img, "product"), *tg = json_object_get(img, "target");
			json_t *pa = json_object_get(img, "path");
			enum fw_target t;
			const char *path;
			if (!json_is_object(img) || json_object_size(img) != 3 || !json_is_string(pr) ||
			    !json_is_string(tg) || !json_is_string(pa) ||
			    fw_target_parse(json_string_value(tg), &t) < 0) {
				msg_error(NULL, spec, "images[%zu]: expected {\"product\", \"target\": pri|sec|boot, \"path\"}", i);
				goto out;
			}
			path = spec_path(o, spec, json_string_value(pa));
			if (path == NULL || add_image(o, json_string_value(pr), t, path) < 0)
				goto out;
		}
	}
	rc = 0;
	goto out;
bad:
	msg_error(NULL, spec, "invalid value for \"%s\"", field);
out:
	json_decref(root);
	return rc;
}

/* Order payloads for a one-pass install: per product, secondary, bootloader, primary. */
static int build_manifest(struct opts *o, const char **paths)
{
	static const enum fw_target order[] = { FW_TARGET_SEC, FW_TARGET_BOOT, FW_TARGET_PRI };
	struct fw_manifest *m = o->b.m;

	for (size_t t = 0; t < FW_TARGET_COUNT; t++) {
		if (o->single[t] == NULL)
			continue;
		if (m->n_products != 1) {
			msg_error(NULL, NULL, "--%s needs exactly one --product; use --image PRODUCT:%s=FILE",
				  fw_target_name((enum fw_target)t), fw_target_name((enum fw_target)t));
			return -1;
		}
		if (add_image(o, m->products[0], (enum fw_target)t, o->single[t]) < 0)
			return -1;
	}
	if (o->n_images == 0) {
		msg_error(NULL, NULL, "no images given (--pri, --sec, --boot or --image)");
		return -1;
	}
	for (size_t p = 0; p < m->n_products; p++) {
		for (size_t k = 0; k < 3; k++) {
			for (size_t i = 0; i < o->n_images; i++) {
				struct image_arg *a = &o->images[i];
				struct fw_image *img;
				struct fw_payload *pl;

				if (strcmp(a->product, m->products[p]) != 0 || a->target != order[k])
					continue;
				img = &m->images[m->n_images];
				pl = &m->payloads[m->n_payloads];
				img->target = a->target;
				snprintf(img->product, sizeof(img->product), "%s", a->product);
				img->payload = m->n_payloads;
				if (snprintf(pl->name, sizeof(pl->name), "%s-%s.img", a->product,
					     fw_target_name(a->target)) >= (int)sizeof(pl->name)) {
					msg_error(NULL, NULL, "product id \"%s\" too long for an image name", a->product);
					return -1;
				}
				pl->chunk_size = (uint32_t)o->b.chunk_size;
				paths[m->n_payloads] = a->path;
				m->n_images++;
				m->n_payloads++;
			}
		}
	}
	for (size_t i = 0; i < o->n_images; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(o->images[i].product, o->images[j].product) == 0 &&
			    o->images[i].target == o->images[j].target) {
				msg_error(NULL, NULL, "two %s images for product \"%s\": %s and %s",
					  fw_target_name(o->images[i].target), o->images[i].product,
					  o->images[j].path, o->images[i].path);
				return -1;
			}
		}
	}
	for (size_t i = 0; i < o->n_images; i++) {
		int listed = 0;
		for (size_t p = 0; p < m->n_products; p++)
			listed |= strcmp(o->images[i].product, m->products[p]) == 0;
		if (!listed) {
			msg_error(NULL, NULL, "image %s is for product \"%s\", which is not given with --product",
				  o->images[i].path, o->images[i].product);
			return -1;
		}
	}
	/* A product without an image is one the package claims to fit but cannot upgrade. */
	for (size_t p = 0; p < m->n_products; p++) {
		int has = 0;
		for (size_t i = 0; i < o->n_images; i++)
			has |= strcmp(o->images[i].product, m->products[p]) == 0;
		if (!has) {
			msg_error(NULL, NULL, "product \"%s\" has no image (--image %s:TARGET=FILE)", m->products[p],
				  m->products[p]);
			return -1;
		}
	}
	return 0;
}


enum {
	OPT_PRI = CLI_OPT_PROGRAM, OPT_SEC, OPT_BOOT, OPT_IMAGE, OPT_GENERATION, OPT_ROLLBACK, OPT_TPM,
	OPT_BRIDGE_FROM, OPT_BRIDGE_DOWN, OPT_DELTA_FROM,
};

static const struct option long_opts[] = {
	CLI_BUILD_LONG_OPTS,
	{ "pri", required_argument, NULL, OPT_PRI },
	{ "sec", required_argument, NULL, OPT_SEC },
	{ "boot", required_argument, NULL, OPT_BOOT },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "generation", required_argument, NULL, OPT_GENERATION },
	{ "rollback-index", required_argument, NULL, OPT_ROLLBACK },
	{ "tpm", no_argument, NULL, OPT_TPM },
	{ "bridge-from", required_argument, NULL, OPT_BRIDGE_FROM },
	{ "bridge-down", required_argument, NULL, OPT_BRIDGE_DOWN },
	{ "delta-from", required_argument, NULL, OPT_DELTA_FROM },
	{ NULL, 0, NULL, 0 },
};

static int parse_args(struct opts *o, int argc, char **argv)
{
	uint64_t v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, CLI_BUILD_SHORT_OPTS, long_opts, NULL)) != -1) {
		int shared = cli_build_option(&o->b, c, optarg);

		if (shared < 0)
			return -1;
		if (shared > 0)
			continue;
		switch (c) {
		case OPT_PRI:
		case OPT_SEC:
		case OPT_BOOT: {
			enum fw_target t = c == OPT_PRI ? FW_TARGET_PRI : c == OPT_SEC ? FW_TARGET_SEC : FW_TARGET_BOOT;
			/* Like a repeated --image: the last one silently winning hides a typo. */
			if (o->single[t] != NULL) {
				msg_error(NULL, NULL, "--%s given twice (%s and %s)", fw_target_name(t),
					  o->single[t], optarg);
				return -1;
			}
			o->single[t] = optarg;
			break;
		}
		case OPT_IMAGE:
			if (parse_image_arg(o, optarg) < 0)
				return -1;
			break;
		case OPT_GENERATION:
			if (msg_parse_u64(optarg, FW_GENERATION_MAX, &v) < 0 || v == 0) {
				msg_error(NULL, NULL, "--generation %s: expected 1..%u", optarg, FW_GENERATION_MAX);
				return -1;
			}
			o->b.m->image_generation = (uint32_t)v;
			o->have_generation = 1;
			break;
		case OPT_ROLLBACK:
			if (msg_parse_u64(optarg, FW_JSON_INT_MAX, &v) < 0) {
				msg_error(NULL, NULL, "--rollback-index %s: expected an integer >= 0", optarg);
				return -1;
			}
			o->b.m->rollback_index = v;
			o->have_rollback = 1;
			break;
		case OPT_TPM: o->b.m->requires_tpm = 1; o->have_tpm = 1; break;
		case OPT_BRIDGE_FROM:
			if (cli_set_version(o->b.m->bridge_from, optarg, "--bridge-from") < 0)
				return -1;
			break;
		case OPT_BRIDGE_DOWN:
			if (cli_set_version(o->b.m->bridge_down, optarg, "--bridge-down") < 0)
				return -1;
			break;
		case OPT_DELTA_FROM:
			if (o->delta_from != NULL) {
				msg_error(NULL, NULL, "--delta-from given twice (%s and %s)", o->delta_from, optarg);
				return -1;
			}
			o->delta_from = optarg;
			break;
		case CLI_OPT_HELP:
		case 'h': usage(stdout); exit(0);
		case 'V': msg_print_version(FW_FORMAT_VERSION); exit(0);
		default: cli_bad_option(NULL, c, argv); return -1;
		}
	}
	if (optind != argc) {
		msg_error(NULL, NULL, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct fw_err err = { 0 };
	struct sig_signer *keys[CLI_MAX_KEYS] = { 0 };
	const char *paths[FW_MAX_PAYLOADS];
	struct pkg_write_opts wopts = { 0 };
	struct delta_bases bases;
	char shown[1024];
	int rc = FW_EXIT_USAGE;

	msg_prog = "mkpkg";
	memset(&o, 0, sizeof(o));
	memset(&bases, 0, sizeof(bases));
	if (cli_build_init(&o.b, FW_TYPE_FIRMWARE) < 0)
		return FW_EXIT_IO;
	if (parse_args(&o, argc, argv) < 0)
		goto out;
	if (o.b.spec != NULL && (rc = load_spec(&o, o.b.spec)) != 0)
		goto out;
	rc = FW_EXIT_USAGE;
	if (o.b.out == NULL || !o.b.have_version || o.b.m->n_products == 0 || o.b.n_keys == 0) {
		msg_error(NULL, NULL, "missing %s", o.b.out == NULL ? "-o OUT.pkg"
				      : !o.b.have_version ? "--version"
				      : o.b.m->n_products == 0 ? "--product" : "-k SECKEY");
		usage(stderr);
		goto out;
	}
	/* A device installs only NAME.pkg files: refuse an output it would not take. */
	if (strcmp(o.b.out, "-") != 0 &&
	    (strlen(o.b.out) < 5 || strcmp(o.b.out + strlen(o.b.out) - 4, ".pkg") != 0 || o.b.out[strlen(o.b.out) - 5] == '/')) {
		msg_error(NULL, o.b.out, "a firmware package's file name ends in .pkg (or -o - for standard output)");
		goto out;
	}
	if (build_manifest(&o, paths) < 0 || cli_created_time(&o.b.m->created) < 0)
		goto out;
	if ((rc = cli_build_sbom(&o.b)) != 0)
		goto out;
	rc = FW_EXIT_USAGE;
	if ((rc = cli_load_signers(NULL, o.b.keys, o.b.n_keys, o.b.passphrase_files, o.b.n_passphrase_files, keys)) != 0)
		goto out;
	cli_build_write_opts(&o.b, &wopts);
	if (o.delta_from != NULL) {
		int n = delta_bases_load(o.delta_from, o.b.m, 0, 0, &bases, &err);

		if (n < 0) {
			rc = msg_fail(NULL, NULL, &err);
			goto out;
		}
		if (n == 0) {
			msg_error(NULL, o.delta_from, "no primary or secondary image for these products: nothing to build a delta against");
			rc = FW_EXIT_USAGE;
			goto out;
		}
		/* A delta travels compressed: at the level asked for, else the default. */
		if (wopts.zstd_level == 0)
			wopts.zstd_level = FW_ZSTD_LEVEL_DEFAULT;
		wopts.delta_base = bases.map;
	}
	if (pkg_write(o.b.out, o.b.m, paths, keys, o.b.n_keys, &wopts, &err) < 0) {
		cli_progress_done();
		rc = msg_fail(NULL, NULL, &err);   /* the message names the file */
		goto out;
	}
	cli_progress_done();
	msg_note("wrote %s: version %s, %zu image%s, %zu signature%s", fw_escape(o.b.out, shown, sizeof(shown)),
		 o.b.m->version,
		 o.b.m->n_images, o.b.m->n_images == 1 ? "" : "s", o.b.n_keys, o.b.n_keys == 1 ? "" : "s");
	rc = FW_EXIT_OK;
out:
	delta_bases_free(&bases);
	for (size_t i = 0; i < CLI_MAX_KEYS; i++)
		sig_signer_free(keys[i]);
	for (size_t i = 0; i < o.n_spec_strings; i++)
		free(o.spec_strings[i]);
	free(o.b.sbom_doc);
	fw_manifest_free(o.b.m);
	return rc;
}
