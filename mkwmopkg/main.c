/* mkwmopkg: assemble and sign a .wmopkg modification package from a directory tree. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "formats/manifest.h"
#include "formats/wmopkg_write.h"
#include "tools/cli.h"

struct opts {
	struct cli_build b;             /* the options every builder has */
	const char *dir;
	char *spec_dir;                 /* directory from the spec, resolved; owned */
	int have_persistent, have_min, have_max, have_hook[FW_HOOK_COUNT];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mkwmopkg [-fqV] -o NAME.wmopkg -C DIR --version V --product ID... [--description TEXT]\n"
		"                [--min-fw V] [--max-fw V] [--persistent-allowed] [--hook ROLE=PATH]...\n"
		"                [--chunk-size BYTES] [--spec FILE.json] [--sbom FILE.cdx.json] [--passphrase-file FILE] [--sync]\n"
		"                [--compress zstd[:LEVEL]] [--frame-size BYTES]\n"
		"                (-k SECKEY | -k KEY.pem|pkcs11:URI --cert CERT.pem [--intermediate PEM]...)...\n"
		"Build a signed modification package from DIR, which holds only the directories\n"
		"factory-config, branding, services, files and scripts. The package name is NAME.\n"
		"See mkwmopkg(1).\n"
		"\n"
		"  -C DIR                    the tree to package\n"
		"      --min-fw V            for firmware V or later\n"
		"      --max-fw V            for firmware V or earlier\n"
		"      --persistent-allowed  may be installed persistent (survives factory reset)\n"
		"      --hook ROLE=PATH      run PATH (under scripts/) on activate or deactivate\n"
		"      --remove NAME         instead of -C: a removal package, which removes the installed\n"
		"                            package NAME at the device's next boot (repeatable)\n"
		);
	cli_build_help(f);
}



/* A hook's path as it will be in the package: "scripts/activate.sh". */
static int set_hook(struct opts *o, enum fw_hook h, const char *path, const char *what)
{
	const char *why = fw_mod_path_problem(path);

	if (why != NULL) {
		msg_error(NULL, NULL, "%s: \"%s\" %s", what, path, why);
		return -1;
	}
	snprintf(o->b.m->hooks[h], sizeof(o->b.m->hooks[h]), "%s", path);
	o->have_hook[h] = 1;
	return 0;
}

/* --hook ROLE=PATH */
static int parse_hook_arg(struct opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char role[16];
	enum fw_hook h;

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(role) || eq[1] == '\0') {
		msg_error(NULL, NULL, "--hook %s: expected ROLE=PATH (ROLE activate or deactivate)", arg);
		return -1;
	}
	memcpy(role, arg, (size_t)(eq - arg));
	role[eq - arg] = '\0';
	if (fw_hook_parse(role, &h) < 0) {
		msg_error(NULL, NULL, "--hook %s: the role must be activate or deactivate", arg);
		return -1;
	}
	if (o->have_hook[h]) {
		msg_error(NULL, NULL, "--hook %s: a second %s hook", arg, role);
		return -1;
	}
	return set_hook(o, h, eq + 1, "--hook");
}

/*
 * --spec FILE.json: the same settings as the options, as a JSON object;
 * options on the command line win. "directory" is relative to the spec file.
 * Returns an exit code.
 */
static int load_spec(struct opts *o, const char *spec)
{
	static const char *const known[] = { "firmware", "persistent_allowed", "hooks", "directory", NULL };
	int rc = FW_EXIT_USAGE;
	json_t *root = cli_spec_open(spec, known, &rc), *v, *b;
	const char *key, *field = NULL;

	if (root == NULL)
		return rc;
	if (cli_spec_shared(&o->b, root, spec) < 0)
		goto out;
	if ((v = json_object_get(root, field = "persistent_allowed")) && !o->have_persistent) {
		if (!json_is_boolean(v))
			goto bad;
		o->b.m->persistent_allowed = json_is_true(v);
	}
	if ((v = json_object_get(root, field = "firmware"))) {
		if (!json_is_object(v))
			goto bad;
		json_object_foreach(v, key, b)
			if (strcmp(key, "min") != 0 && strcmp(key, "max") != 0)
				goto bad;
		if ((b = json_object_get(v, "min")) && !o->have_min &&
		    (!json_is_string(b) || cli_set_version(o->b.m->min_fw, json_string_value(b), spec) < 0))
			goto bad;
		if ((b = json_object_get(v, "max")) && !o->have_max &&
		    (!json_is_string(b) || cli_set_version(o->b.m->max_fw, json_string_value(b), spec) < 0))
			goto bad;
	}
	if ((v = json_object_get(root, field = "hooks"))) {
		enum fw_hook h;
		if (!json_is_object(v))
			goto bad;
		json_object_foreach(v, key, b) {
			if (fw_hook_parse(key, &h) < 0 || !json_is_string(b))
				goto bad;
			if (!o->have_hook[h] && set_hook(o, h, json_string_value(b), spec) < 0)
				goto bad;
		}
	}
	if ((v = json_object_get(root, field = "directory")) && o->dir == NULL) {
		const char *d, *slash = strrchr(spec, '/');
		if (!json_is_string(v) || (d = json_string_value(v))[0] == '\0')
			goto bad;
		if (d[0] == '/' || slash == NULL) {
			o->spec_dir = strdup(d);
		} else if (asprintf(&o->spec_dir, "%.*s/%s", (int)(slash - spec), spec, d) < 0) {
			o->spec_dir = NULL;
		}
		if (o->spec_dir == NULL) {
			msg_error(NULL, NULL, "out of memory");
			rc = FW_EXIT_IO;
			goto out;
		}
		o->dir = o->spec_dir;
	}
	rc = 0;
	goto out;
bad:
	msg_error(NULL, spec, "invalid value for \"%s\"", field);
out:
	json_decref(root);
	return rc;
}


enum { OPT_MIN_FW = CLI_OPT_PROGRAM, OPT_MAX_FW, OPT_PERSISTENT, OPT_HOOK, OPT_REMOVE };

static const struct option long_opts[] = {
	CLI_BUILD_LONG_OPTS,
	{ "min-fw", required_argument, NULL, OPT_MIN_FW },
	{ "max-fw", required_argument, NULL, OPT_MAX_FW },
	{ "persistent-allowed", no_argument, NULL, OPT_PERSISTENT },
	{ "hook", required_argument, NULL, OPT_HOOK },
	{ "remove", required_argument, NULL, OPT_REMOVE },
	{ NULL, 0, NULL, 0 },
};

/* 0 to go on, 1 after --help, -1 on a usage error. */
static int parse_args(struct opts *o, int argc, char **argv)
{
	int c;

	/* getopt's own messages would start with argv[0], not "mkwmopkg:". */
	opterr = 0;
	while ((c = getopt_long(argc, argv, CLI_BUILD_SHORT_OPTS "C:", long_opts, NULL)) != -1) {
		int shared = cli_build_option(&o->b, c, optarg);

		if (shared < 0)
			return -1;
		if (shared > 0)
			continue;
		switch (c) {
		case 'C': o->dir = optarg; break;
		case OPT_MIN_FW:
			if (cli_set_version(o->b.m->min_fw, optarg, "--min-fw") < 0)
				return -1;
			o->have_min = 1;
			break;
		case OPT_MAX_FW:
			if (cli_set_version(o->b.m->max_fw, optarg, "--max-fw") < 0)
				return -1;
			o->have_max = 1;
			break;
		case OPT_PERSISTENT:
			o->b.m->persistent_allowed = 1;
			o->have_persistent = 1;
			break;
		case OPT_HOOK:
			if (parse_hook_arg(o, optarg) < 0)
				return -1;
			break;
		case OPT_REMOVE:
			if (!fw_pkg_name_valid(optarg)) {
				msg_error(NULL, NULL, "--remove %s: not a package name", optarg);
				return -1;
			}
			if (o->b.m->n_removes == FW_MAX_REMOVES) {
				msg_error(NULL, NULL, "at most %d --remove names", FW_MAX_REMOVES);
				return -1;
			}
			snprintf(o->b.m->removes[o->b.m->n_removes++], sizeof(o->b.m->removes[0]), "%s", optarg);
			break;
		case CLI_OPT_HELP:
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			msg_print_version(FW_FORMAT_VERSION);
			return 1;
		default:
			cli_bad_option(NULL, c, argv);
			return -1;
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
	struct wmopkg_tree *tree = NULL;
	struct pkg_write_opts wopts = { 0 };
	struct stat st;
	char shown[1024];
	int rc = FW_EXIT_USAGE;

	msg_prog = "mkwmopkg";
	memset(&o, 0, sizeof(o));
	if (cli_build_init(&o.b, FW_TYPE_MODIFICATION) < 0)
		return FW_EXIT_IO;
	switch (parse_args(&o, argc, argv)) {
	case 0: break;
	case 1: rc = FW_EXIT_OK; goto out;
	default: goto out;
	}
	if (o.b.spec != NULL && (rc = load_spec(&o, o.b.spec)) != 0)
		goto out;
	rc = FW_EXIT_USAGE;
	if (o.dir != NULL && o.b.m->n_removes > 0) {
		msg_error(NULL, NULL, "-C and --remove: a removal package removes and holds no files");
		goto out;
	}
	if (o.b.out == NULL || (o.dir == NULL && o.b.m->n_removes == 0) || !o.b.have_version ||
	    o.b.m->n_products == 0 || o.b.n_keys == 0) {
		msg_error(NULL, NULL, "missing %s", o.b.out == NULL ? "-o NAME.wmopkg"
				      : o.dir == NULL ? "-C DIR (or --remove NAME)"
				      : !o.b.have_version ? "--version"
				      : o.b.m->n_products == 0 ? "--product" : "-k SECKEY");
		usage(stderr);
		goto out;
	}
	/* The name first: a wrong output name wastes no hashing and no passphrase. */
	if (fw_mod_name_from_path(o.b.out, o.b.m->name, &err) < 0) {
		rc = msg_fail(NULL, NULL, &err);
		goto out;
	}
	/* pkg_write checks again when it creates the file; this spares the hashing and the passphrase. */
	if (!o.b.force && lstat(o.b.out, &st) == 0) {
		msg_error(NULL, o.b.out, FW_MSG_EXISTS);
		goto out;
	}
	if (o.b.m->min_fw[0] && o.b.m->max_fw[0] &&
	    fw_version_cmp_str(o.b.m->min_fw, o.b.m->max_fw, &err) > 0) {
		msg_error(NULL, NULL, "--min-fw %s is above --max-fw %s", o.b.m->min_fw, o.b.m->max_fw);
		goto out;
	}
	if (cli_created_time(&o.b.m->created) < 0)
		goto out;
	if ((rc = cli_build_sbom(&o.b)) != 0)
		goto out;
	rc = FW_EXIT_USAGE;
	if (o.dir != NULL && wmopkg_tree_scan(o.dir, &tree, &err) < 0) {
		rc = msg_fail(NULL, o.dir, &err);   /* the scan names entries in the tree, never the tree */
		goto out;
	}
	if ((rc = cli_load_signers(NULL, o.b.keys, o.b.n_keys, o.b.passphrase_files, o.b.n_passphrase_files, keys)) != 0)
		goto out;
	cli_build_write_opts(&o.b, &wopts);
	/* Its messages name the file they are about (output, input or hook) themselves. */
	if (wmopkg_write(o.b.out, o.b.m, tree, (uint32_t)o.b.chunk_size, keys, o.b.n_keys, &wopts, &err) < 0) {
		cli_progress_done();
		rc = msg_fail(NULL, NULL, &err);
		goto out;
	}
	cli_progress_done();
	msg_note("wrote %s: %s %s, %zu file%s, %zu signature%s", fw_escape(o.b.out, shown, sizeof(shown)),
		 o.b.m->name, o.b.m->version,
		 o.b.m->n_files, o.b.m->n_files == 1 ? "" : "s", o.b.n_keys, o.b.n_keys == 1 ? "" : "s");
	rc = FW_EXIT_OK;
out:
	for (size_t i = 0; i < CLI_MAX_KEYS; i++)
		sig_signer_free(keys[i]);
	wmopkg_tree_free(tree);
	free(o.spec_dir);
	free(o.b.sbom_doc);
	fw_manifest_free(o.b.m);
	return rc;
}
