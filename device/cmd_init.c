/* cmd_init: fwctl init — make a device root: config, trust store, slots with their records, state. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "device/cmd.h"
#include "device/dev_file.h"
#include "device/dev_lock.h"
#include "device/dev_root.h"
#include "device/dev_slot.h"
#include "formats/chunk.h"
#include "device/dev_state.h"
#include "formats/version.h"
#include "base/msg.h"

#define MAX_GENERATION 1000u

struct init_opts {
	const char *trust[SIG_TRUST_MAX];
	size_t n_trust;
	const char *version;
	const char *bridge_down;
	uint64_t generation;
	uint64_t rollback_index;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] init --product ID --trust PUB... [--tpm] [--allow-untrusted]\n"
		   "                 [--version V [--generation N] [--bridge-down V]] [--rollback-index N]\n"
		   "                 [--media LABEL=DIR]... [--slot pri|sec|boot=PATH]...\n"
		   "Create a simulated device. With --version, every slot gets a factory image of that version.\n");
}

static int make_dir(const char *path, struct fw_err *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot create: %s", path, strerror(errno));
	return 0;
}

static int make_subdirs(const struct dev_root *r, struct fw_err *err)
{
	static const char *const dirs[] = { DEV_RECORD_DIR, DEV_TRUST_DIR, DEV_SLOT_DIR, DEV_PACKAGE_DIR };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *p = dev_root_file(r, dirs[i]);
		rc = p == NULL ? fw_err_set(err, FW_EXIT_IO, "out of memory") : make_dir(p, err);
		free(p);
	}
	return rc;
}

/* A slot path relative to the root may name directories that do not exist yet: make them. */
static int make_slot_dirs(const struct dev_root *r, struct fw_err *err)
{
	for (int t = 0; t < FW_TARGET_COUNT; t++) {
		char *p;
		int rc = 0;

		if (r->cfg.slot[t][0] == '/')
			continue;
		if ((p = dev_root_file(r, r->cfg.slot[t])) == NULL)
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
		for (char *q = p + strlen(r->dir) + 1; rc == 0 && (q = strchr(q, '/')) != NULL; q++) {
			*q = '\0';
			rc = make_dir(p, err);
			*q = '/';
		}
		free(p);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Copy each trusted key into ROOT/trust/KEYID.pub, checking it parses first. */
static int install_trust(const struct dev_root *r, const struct init_opts *o, struct fw_err *err)
{
	char buf[SIG_FILE_MAX], keyid[17], name[64];
	struct sig_pubkey pk;
	size_t len;

	for (size_t i = 0; i < o->n_trust; i++) {
		char *dst;
		int rc;

		if (sig_pubkey_load(o->trust[i], &pk, err) < 0 ||
		    sig_file_read(o->trust[i], buf, sizeof(buf), &len, err) < 0)
			return fw_err_wrap(err, "--trust");
		sig_keyid_str(pk.keyid, keyid);
		snprintf(name, sizeof(name), "%s/%s.pub", DEV_TRUST_DIR, keyid);
		if ((dst = dev_root_file(r, name)) == NULL)
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
		rc = dev_file_write(dst, buf, len, err);
		free(dst);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* A recognisable stand-in for the image a device leaves the factory with. */
static int factory_image(const struct dev_root *r, enum fw_target t, const struct init_opts *o,
			 struct fw_err *err)
{
	struct dev_slot_writer w;
	struct dev_record rec;
	char text[512];
	int n, fd;

	n = snprintf(text, sizeof(text), "fwctl factory image\nproduct: %s\nslot: %s\nversion: %s\ngeneration: %llu\n",
		     r->cfg.product, fw_target_name(t), o->version, (unsigned long long)o->generation);
	if (dev_slot_open(&w, r, t, err) < 0)
		return -1;
	if (dev_slot_write(&w, text, (size_t)n, err) < 0) {
		dev_slot_abort(&w);
		return -1;
	}
	if (dev_slot_finish(&w, err) < 0)
		return -1;
	memset(&rec, 0, sizeof(rec));
	rec.valid = 1;
	snprintf(rec.version, sizeof(rec.version), "%s", o->version);
	snprintf(rec.bridge_down, sizeof(rec.bridge_down), "%s", o->bridge_down ? o->bridge_down : "");
	rec.generation = (uint32_t)o->generation;
	rec.size = (uint64_t)n;
	rec.chunk_size = FW_CHUNK_DEFAULT;
	rec.rollback_index = o->rollback_index;
	rec.installed = (long long)time(NULL);
	if (chunk_sha256(text, (size_t)n, rec.sha256) < 0)
		return fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
	if ((fd = open(r->slot_path[t], O_RDONLY | O_CLOEXEC)) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: %s", r->slot_path[t], strerror(errno));
	n = dev_digest_fd(fd, rec.size, rec.chunk_size, rec.digest, err);
	close(fd);
	if (n < 0)
		return -1;
	return dev_record_save(r, t, &rec, err);
}

static int empty_slot(const struct dev_root *r, enum fw_target t, struct fw_err *err)
{
	struct dev_record rec;
	int fd = open(r->slot_path[t], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot create: %s", r->slot_path[t], strerror(errno));
	close(fd);
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.note, sizeof(rec.note), "empty: no image installed");
	return dev_record_save(r, t, &rec, err);
}

static int set_slot(struct dev_config *c, const char *arg, struct fw_err *err)
{
	const char *eq = strchr(arg, '=');
	char name[8];
	enum fw_target t;

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(name) || eq[1] == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "--slot %s: expected TARGET=PATH", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	if (fw_target_parse(name, &t) < 0)
		return fw_err_set(err, FW_EXIT_USAGE, "--slot %s: the target is pri, sec or boot", arg);
	free(c->slot[t]);
	if ((c->slot[t] = strdup(eq + 1)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	return 0;
}

static int add_media(struct dev_config *c, const char *arg, struct fw_err *err)
{
	const char *eq = strchr(arg, '=');
	char label[FW_NAME_MAX + 1];

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(label))
		return fw_err_set(err, FW_EXIT_USAGE, "--media %s: expected LABEL=DIR", arg);
	memcpy(label, arg, (size_t)(eq - arg));
	label[eq - arg] = '\0';
	return dev_config_add_media(c, label, eq + 1, err);
}

static int check_version(const char *opt, const char *v, struct fw_err *err)
{
	struct fw_version ver;

	if (v != NULL && fw_version_parse(v, &ver, err) < 0) {
		err->code = FW_EXIT_USAGE;
		return fw_err_wrap(err, "%s", opt);
	}
	return 0;
}

static int create(struct dev_root *r, const struct init_opts *o, struct fw_err *err)
{
	struct dev_state st;
	char *path = NULL;
	json_t *doc = NULL;
	int rc = -1;

	/* Check the keys before anything is made: a failed init leaves nothing. */
	for (size_t i = 0; i < o->n_trust; i++) {
		struct sig_pubkey pk;
		if (sig_pubkey_load(o->trust[i], &pk, err) < 0) {
			if (err->code == FW_EXIT_REJECTED)
				err->code = FW_EXIT_USAGE;   /* a bad key file is the caller's mistake */
			return fw_err_wrap(err, "--trust");
		}
	}
	if (make_dir(r->dir, err) < 0)
		return -1;
	if ((path = dev_root_file(r, DEV_CONFIG_FILE)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (dev_lock_take(r->dir, &r->lock_fd, err) < 0)
		goto out;
	if (access(path, F_OK) == 0) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: already a device root (it has %s)", r->dir, DEV_CONFIG_FILE);
		goto out;
	}
	if (make_subdirs(r, err) < 0 || make_slot_dirs(r, err) < 0 || dev_root_resolve(r, err) < 0 ||
	    install_trust(r, o, err) < 0)
		goto out;
	for (int t = 0; t < FW_TARGET_COUNT; t++)
		if ((o->version ? factory_image(r, (enum fw_target)t, o, err) : empty_slot(r, (enum fw_target)t, err)) < 0)
			goto out;
	memset(&st, 0, sizeof(st));
	st.booted = DEV_BOOTED_NONE;
	st.rollback_index = o->rollback_index;
	if (dev_state_save(r, &st, err) < 0)
		goto out;
	/* The configuration last: its presence is what makes a device root. */
	if ((doc = dev_config_to_json(&r->cfg)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (dev_json_write(path, doc, err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(doc);
	free(path);
	return rc;
}

int cmd_init(const char *root, int argc, char **argv)
{
	enum { OPT_ALLOW = 256, OPT_BRIDGE_DOWN, OPT_ROLLBACK };
	static const struct option opts[] = {
		{ "product", required_argument, NULL, 'P' },
		{ "tpm", no_argument, NULL, 'T' },
		{ "trust", required_argument, NULL, 't' },
		{ "version", required_argument, NULL, 'V' },
		{ "generation", required_argument, NULL, 'g' },
		{ "bridge-down", required_argument, NULL, OPT_BRIDGE_DOWN },
		{ "rollback-index", required_argument, NULL, OPT_ROLLBACK },
		{ "media", required_argument, NULL, 'm' },
		{ "slot", required_argument, NULL, 's' },
		{ "allow-untrusted", no_argument, NULL, OPT_ALLOW },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct init_opts o = { .generation = 0 };
	struct dev_root r;
	struct fw_err err = { 0, "" };
	const char *product = NULL;
	int c, rc = FW_EXIT_USAGE;

	memset(&r, 0, sizeof(r));
	r.lock_fd = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'P': product = optarg; break;
		case 'T': r.cfg.tpm = 1; break;
		case OPT_ALLOW: r.cfg.allow_untrusted = 1; break;
		case 't':
			if (o.n_trust == SIG_TRUST_MAX) {
				msg_error("init", NULL, "at most %d --trust keys", SIG_TRUST_MAX);
				goto out;
			}
			o.trust[o.n_trust++] = optarg;
			break;
		case 'V': o.version = optarg; break;
		case OPT_BRIDGE_DOWN: o.bridge_down = optarg; break;
		case 'g':
			if (msg_parse_u64(optarg, MAX_GENERATION, &o.generation) < 0 || o.generation == 0) {
				msg_error("init", NULL, "--generation %s: expected 1 to %u", optarg, MAX_GENERATION);
				goto out;
			}
			break;
		case OPT_ROLLBACK:
			if (msg_parse_u64(optarg, UINT64_C(1) << 53, &o.rollback_index) < 0) {
				msg_error("init", NULL, "--rollback-index %s: expected a number", optarg);
				goto out;
			}
			break;
		case 'm':
			if (add_media(&r.cfg, optarg, &err) < 0) {
				rc = msg_fail("init", NULL, &err);
				goto out;
			}
			break;
		case 's':
			if (set_slot(&r.cfg, optarg, &err) < 0) {
				rc = msg_fail("init", NULL, &err);
				goto out;
			}
			break;
		case 'h': usage(stdout); rc = FW_EXIT_OK; goto out;
		default:
			msg_error("init", NULL, "unknown option or missing argument: %s", argv[optind - 1]);
			usage(stderr); goto out;
		}
	}
	if (optind != argc || product == NULL || o.n_trust == 0) {
		if (optind == argc)
			msg_error("init", NULL, "--product and at least one --trust PUB are required");
		usage(stderr);
		goto out;
	}
	if (!fw_name_valid(product)) {
		msg_error("init", NULL, "--product %s: use 1 to %d of letters, digits, '.', '_', '+', '-'", product,
			  FW_NAME_MAX);
		goto out;
	}
	if ((o.generation || o.bridge_down) && o.version == NULL) {
		msg_error("init", NULL, "--generation and --bridge-down describe the factory image: give --version too");
		goto out;
	}
	if (check_version("--version", o.version, &err) < 0 || check_version("--bridge-down", o.bridge_down, &err) < 0) {
		rc = msg_fail("init", NULL, &err);
		goto out;
	}
	if (o.generation == 0)
		o.generation = 1;
	snprintf(r.cfg.product, sizeof(r.cfg.product), "%s", product);
	for (int t = 0; t < FW_TARGET_COUNT; t++) {
		char def[32];
		snprintf(def, sizeof(def), "%s/%s", DEV_SLOT_DIR, fw_target_name((enum fw_target)t));
		if (r.cfg.slot[t] == NULL && (r.cfg.slot[t] = strdup(def)) == NULL) {
			msg_error("init", NULL, "out of memory");
			rc = FW_EXIT_IO;
			goto out;
		}
	}
	if ((r.dir = strdup(root)) == NULL) {
		msg_error("init", NULL, "out of memory");
		rc = FW_EXIT_IO;
		goto out;
	}
	if (create(&r, &o, &err) < 0) {
		rc = msg_fail("init", NULL, &err);   /* its messages name the path */
		goto out;
	}
	if (o.version != NULL)
		msg_note("init: %s: product %s%s, factory images %s (generation %llu) in every slot", root, product,
			 r.cfg.tpm ? " with TPM" : "", o.version, (unsigned long long)o.generation);
	else
		msg_note("init: %s: product %s%s, empty slots: install with 'fwctl upgrade all PKG'", root, product,
			 r.cfg.tpm ? " with TPM" : "");
	rc = o.version != NULL ? cmd_boot_run(&r) : FW_EXIT_OK;
out:
	dev_root_close(&r);
	return rc;
}
