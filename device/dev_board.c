/* dev_board: board settings, the booted slot from the kernel command line, and the U-Boot and GRUB environments. */
#include "dev_board.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libuboot.h>

#include "base/crash.h"
#include "base/outfile.h"
#include "formats/manifest.h"

#define DEV_BOOTED_NONE_SLOT (-1)
#define GRUBENV_SIZE 1024
#define GRUBENV_HEADER "# GRUB Environment Block\n"
#define CMDLINE_MAX 4096

static const char *const bl_names[] = { "file", "uboot", "grub" };
static const char slot_letter[2] = { 'A', 'B' };   /* FW_TARGET_PRI, FW_TARGET_SEC */

const char *dev_bootloader_name(enum dev_bootloader bl)
{
	return bl_names[bl];
}

static int set_path(char **out, const char *key, const char *path, struct fw_err *err)
{
	char *copy;

	if (path[0] != '/')
		return fw_err_set(err, FW_EXIT_USAGE, "--board %s=%s: an absolute path is needed", key, path);
	if ((copy = strdup(path)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	free(*out);
	*out = copy;
	return 0;
}

int dev_board_set(struct dev_board *b, const char *arg, struct fw_err *err)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : 0;

	if (eq == NULL)
		return fw_err_set(err, FW_EXIT_USAGE, "--board %s: expected KEY=VALUE", arg);
	if (klen == 10 && strncmp(arg, "bootloader", klen) == 0) {
		for (size_t i = 0; i < sizeof(bl_names) / sizeof(bl_names[0]); i++)
			if (strcmp(eq + 1, bl_names[i]) == 0) {
				b->bootloader = (enum dev_bootloader)i;
				return 0;
			}
		return fw_err_set(err, FW_EXIT_USAGE, "--board %s: the bootloader is file, uboot or grub", arg);
	}
	if (klen == 7 && strncmp(arg, "bootenv", klen) == 0)
		return set_path(&b->bootenv, "bootenv", eq + 1, err);
	if (klen == 7 && strncmp(arg, "running", klen) == 0) {
		if (strcmp(eq + 1, "ram") == 0)
			b->running = DEV_RUN_RAM;
		else if (strcmp(eq + 1, "rootfs") == 0)
			b->running = DEV_RUN_ROOTFS;
		else
			return fw_err_set(err, FW_EXIT_USAGE, "--board %s: running is ram or rootfs", arg);
		return 0;
	}
	return fw_err_set(err, FW_EXIT_USAGE, "--board %s: the settings are bootloader, bootenv and running", arg);
}

int dev_board_check(const struct dev_board *b, struct fw_err *err)
{
	if (b->bootloader != DEV_BL_FILE && b->bootenv == NULL)
		return fw_err_set(err, FW_EXIT_USAGE, "--board bootloader=%s needs --board bootenv=PATH (%s)",
				  bl_names[b->bootloader],
				  b->bootloader == DEV_BL_UBOOT ? "libubootenv's fw_env.config" : "the grubenv file");
	return 0;
}

json_t *dev_board_to_json(const struct dev_board *b)
{
	json_t *o = json_object();

	if (o == NULL ||
	    json_object_set_new(o, "bootloader", json_string(bl_names[b->bootloader])) < 0 ||
	    json_object_set_new(o, "bootenv", b->bootenv ? json_string(b->bootenv) : json_null()) < 0 ||
	    json_object_set_new(o, "running", json_string(b->running == DEV_RUN_ROOTFS ? "rootfs" : "ram")) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int dev_board_from_json(const json_t *v, struct dev_board *b, struct fw_err *err)
{
	const json_t *bl, *env, *run;
	char arg[32];

	memset(b, 0, sizeof(*b));
	if (v == NULL)
		return 0;
	bl = json_object_get(v, "bootloader");
	env = json_object_get(v, "bootenv");
	run = json_object_get(v, "running");
	if (!json_is_object(v) || !json_is_string(bl) || !json_is_string(run) || (env && !json_is_string(env) && !json_is_null(env)))
		return fw_err_set(err, FW_EXIT_IO, "board: bootloader, bootenv or running missing or malformed");
	snprintf(arg, sizeof(arg), "bootloader=%s", json_string_value(bl));
	if (dev_board_set(b, arg, err) < 0)
		goto bad;
	snprintf(arg, sizeof(arg), "running=%s", json_string_value(run));
	if (dev_board_set(b, arg, err) < 0)
		goto bad;
	if (json_is_string(env) && (b->bootenv = strdup(json_string_value(env))) == NULL)
		goto bad;
	if (dev_board_check(b, err) == 0)
		return 0;
bad:
	dev_board_free(b);
	return fw_err_set(err, FW_EXIT_IO, "board: %s", err->msg[0] ? err->msg : "out of memory");
}

void dev_board_free(struct dev_board *b)
{
	free(b->bootenv);
	memset(b, 0, sizeof(*b));
}

int dev_board_booted_slot(int *slot, struct fw_err *err)
{
	const char *path = getenv("FWCTL_CMDLINE");
	char line[CMDLINE_MAX + 1], *w, *save = NULL;
	size_t n;
	FILE *f;

	*slot = DEV_BOOTED_NONE_SLOT;
	if (path == NULL || path[0] == '\0')
		path = "/proc/cmdline";
	if ((f = fopen(path, "re")) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot read the kernel command line: %s", path, strerror(errno));
	n = fread(line, 1, CMDLINE_MAX, f);
	fclose(f);
	line[n] = '\0';
	for (w = strtok_r(line, " \t\n", &save); w != NULL; w = strtok_r(NULL, " \t\n", &save)) {
		enum fw_target t;

		if (strncmp(w, "fwpkg.slot=", 11) != 0)
			continue;
		w += 11;
		if (strcmp(w, "golden") == 0)
			*slot = FW_TARGET_COUNT;
		else if (fw_target_parse(w, &t) == 0 && t != FW_TARGET_BOOT)
			*slot = (int)t;
		else
			return fw_err_set(err, FW_EXIT_IO, "%s: fwpkg.slot=%s: not pri, sec or golden", path, w);
	}
	return 0;
}

/* ---- GRUB: the grubenv block, 1024 bytes of "# GRUB Environment Block\n", NAME=VALUE lines and '#' padding ---- */

#define GRUB_VARS_MAX 64

struct grubenv {
	char buf[GRUBENV_SIZE + 1];
	char *name[GRUB_VARS_MAX], *value[GRUB_VARS_MAX];
	size_t n;
};

static int grub_read(const char *path, struct grubenv *g, struct fw_err *err)
{
	FILE *f = fopen(path, "re");
	size_t len;
	char *p, *nl;

	memset(g, 0, sizeof(*g));
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		return fw_err_set(err, FW_EXIT_IO, "%s: %s", path, strerror(errno));
	}
	len = fread(g->buf, 1, GRUBENV_SIZE, f);
	fclose(f);
	if (len != GRUBENV_SIZE || strncmp(g->buf, GRUBENV_HEADER, strlen(GRUBENV_HEADER)) != 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: not a GRUB environment block (1024 bytes)", path);
	for (p = g->buf + strlen(GRUBENV_HEADER); *p != '\0' && *p != '#'; p = nl + 1) {
		char *eq;

		if ((nl = strchr(p, '\n')) == NULL || (eq = memchr(p, '=', (size_t)(nl - p))) == NULL || g->n == GRUB_VARS_MAX)
			return fw_err_set(err, FW_EXIT_IO, "%s: malformed GRUB environment block", path);
		*eq = *nl = '\0';
		g->name[g->n] = p;
		g->value[g->n++] = eq + 1;
	}
	return 0;
}

static const char *grub_get(const struct grubenv *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->name[i], name) == 0)
			return g->value[i];
	return NULL;
}

/* Write the block with our variables replaced and every other variable kept. */
static int grub_write(const char *path, const struct grubenv *g, const char *const *names, const char *const *values, size_t nset,
		      struct fw_err *err)
{
	char out[GRUBENV_SIZE];
	size_t len = strlen(GRUBENV_HEADER);
	int n;

	memcpy(out, GRUBENV_HEADER, len);
	for (size_t i = 0; i < g->n + nset; i++) {
		const char *k = i < g->n ? g->name[i] : names[i - g->n], *v = i < g->n ? g->value[i] : values[i - g->n];
		int ours = 0;

		for (size_t j = 0; i < g->n && j < nset; j++)
			ours |= strcmp(k, names[j]) == 0;
		if (ours)
			continue;
		n = snprintf(out + len, sizeof(out) - len, "%s=%s\n", k, v);
		if (n < 0 || (size_t)n >= sizeof(out) - len)
			return fw_err_set(err, FW_EXIT_IO, "%s: the GRUB environment does not fit 1024 bytes", path);
		len += (size_t)n;
	}
	memset(out + len, '#', sizeof(out) - len);
	/* No checksum guards the block: it appears whole by rename, each step a crash point (outfile). */
	return outfile_write_file(path, out, sizeof(out), 0644, OUTFILE_FORCE | OUTFILE_DURABLE, err);
}

static void order_parse(const char *s, struct dev_bootenv *env)
{
	for (; s != NULL && *s != '\0' && env->n < 2; s++)
		for (int t = 0; t < 2; t++)
			if (*s == slot_letter[t] && (s[1] == ' ' || s[1] == '\0')) {
				int dup = env->n == 1 && env->order[0] == t;
				if (!dup)
					env->order[env->n++] = t;
			}
}

static int in_order(const struct dev_bootenv *env, int t)
{
	for (int i = 0; i < env->n; i++)
		if (env->order[i] == t)
			return 1;
	return 0;
}

static void order_text(const struct dev_bootenv *env, char out[8])
{
	out[0] = '\0';
	for (int i = 0; i < env->n; i++) {
		size_t l = strlen(out);
		snprintf(out + l, 8 - l, "%s%c", i ? " " : "", slot_letter[env->order[i]]);
	}
}

static int grub_load(const char *path, struct dev_bootenv *env, struct fw_err *err)
{
	struct grubenv g;

	if (grub_read(path, &g, err) < 0)
		return -1;
	order_parse(grub_get(&g, "ORDER"), env);
	for (int t = 0; t < 2; t++) {
		char k[8];
		const char *ok, *try;

		snprintf(k, sizeof(k), "%c_OK", slot_letter[t]);
		ok = grub_get(&g, k);
		snprintf(k, sizeof(k), "%c_TRY", slot_letter[t]);
		try = grub_get(&g, k);
		env->good[t] = ok != NULL && strcmp(ok, "1") == 0 && in_order(env, t);
		env->left[t] = env->good[t] && (try == NULL || strcmp(try, "0") == 0) ? 1 : 0;
	}
	return 0;
}

static int grub_store(const char *path, const struct dev_bootenv *env, struct fw_err *err)
{
	struct grubenv g;
	char order[8], vals[4][2], keys[4][8];
	const char *names[5], *values[5];

	if (grub_read(path, &g, err) < 0)
		return -1;
	order_text(env, order);
	names[0] = "ORDER";
	values[0] = order;
	for (int t = 0; t < 2; t++) {
		snprintf(keys[2 * t], sizeof(keys[0]), "%c_OK", slot_letter[t]);
		snprintf(keys[2 * t + 1], sizeof(keys[0]), "%c_TRY", slot_letter[t]);
		snprintf(vals[2 * t], sizeof(vals[0]), "%d", env->good[t] ? 1 : 0);
		snprintf(vals[2 * t + 1], sizeof(vals[0]), "%d", env->good[t] && env->left[t] == 0 ? 1 : 0);
		names[1 + 2 * t] = keys[2 * t];
		values[1 + 2 * t] = vals[2 * t];
		names[2 + 2 * t] = keys[2 * t + 1];
		values[2 + 2 * t] = vals[2 * t + 1];
	}
	return grub_write(path, &g, names, values, 5, err);
}

/* ---- U-Boot, through libubootenv, loaded when first needed: a board without U-Boot needs no libubootenv ---- */

#define LIBUBOOTENV_SONAME "libubootenv.so.0"

static struct {
	void *lib;
	__typeof__(libuboot_initialize) *initialize;
	__typeof__(libuboot_read_config) *read_config;
	__typeof__(libuboot_open) *open;
	__typeof__(libuboot_get_env) *get_env;
	__typeof__(libuboot_set_env) *set_env;
	__typeof__(libuboot_env_store) *env_store;
	__typeof__(libuboot_close) *close;
	__typeof__(libuboot_exit) *exit;
} ub;

#define UB_SYM(field, symbol) (*(void **)(&ub.field) = dlsym(ub.lib, symbol)) == NULL

static int uboot_load_lib(struct fw_err *err)
{
	if (ub.lib != NULL)
		return 0;
	if ((ub.lib = dlopen(LIBUBOOTENV_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "the U-Boot backend needs %s (Debian: libubootenv0.1): %s",
				  LIBUBOOTENV_SONAME, dlerror());
	if (UB_SYM(initialize, "libuboot_initialize") || UB_SYM(read_config, "libuboot_read_config") ||
	    UB_SYM(open, "libuboot_open") || UB_SYM(get_env, "libuboot_get_env") || UB_SYM(set_env, "libuboot_set_env") ||
	    UB_SYM(env_store, "libuboot_env_store") || UB_SYM(close, "libuboot_close") || UB_SYM(exit, "libuboot_exit")) {
		dlclose(ub.lib);
		ub.lib = NULL;
		return fw_err_set(err, FW_EXIT_IO, "%s: a function is missing", LIBUBOOTENV_SONAME);
	}
	return 0;
}

static int uboot_open(const char *config, struct uboot_ctx **ctx, struct fw_err *err)
{
	int rc;

	*ctx = NULL;
	if (uboot_load_lib(err) < 0)
		return -1;
	if (ub.initialize(ctx, NULL) < 0)
		return fw_err_set(err, FW_EXIT_IO, "libubootenv: cannot initialise");
	if (ub.read_config(*ctx, config) < 0) {
		ub.exit(*ctx);
		*ctx = NULL;
		return fw_err_set(err, FW_EXIT_IO, "%s: libubootenv cannot use this configuration", config);
	}
	/* No valid copy (a blank environment) opens as empty: the boot script then has no slot to try. */
	rc = ub.open(*ctx);
	if (rc < 0 && rc != -ENODATA) {
		ub.exit(*ctx);
		*ctx = NULL;
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot open the U-Boot environment: %s", config, strerror(-rc));
	}
	return 0;
}

static void uboot_done(struct uboot_ctx *ctx)
{
	ub.close(ctx);
	ub.exit(ctx);
}

static int uboot_load(const char *config, struct dev_bootenv *env, struct fw_err *err)
{
	struct uboot_ctx *ctx;
	char *order;

	if (uboot_open(config, &ctx, err) < 0)
		return -1;
	order = ub.get_env(ctx, "BOOT_ORDER");
	order_parse(order, env);
	free(order);
	for (int t = 0; t < 2; t++) {
		char k[16], *v;

		snprintf(k, sizeof(k), "BOOT_%c_LEFT", slot_letter[t]);
		v = ub.get_env(ctx, k);
		env->good[t] = in_order(env, t);
		env->left[t] = v != NULL ? (unsigned)strtoul(v, NULL, 10) : 0;
		free(v);
	}
	uboot_done(ctx);
	return 0;
}

static int uboot_store(const char *config, const struct dev_bootenv *env, struct fw_err *err)
{
	struct uboot_ctx *ctx;
	char order[8], k[16], v[16];
	int rc = 0;

	if (uboot_open(config, &ctx, err) < 0)
		return -1;
	order_text(env, order);
	if (ub.set_env(ctx, "BOOT_ORDER", order) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: cannot set BOOT_ORDER", config);
	for (int t = 0; rc == 0 && t < 2; t++) {
		snprintf(k, sizeof(k), "BOOT_%c_LEFT", slot_letter[t]);
		snprintf(v, sizeof(v), "%u", env->good[t] ? env->left[t] : 0);
		if (ub.set_env(ctx, k, v) < 0)
			rc = fw_err_set(err, FW_EXIT_IO, "%s: cannot set %s", config, k);
	}
	/* With two copies, libubootenv writes the one not in use and then flags it current: a power cut
	 * leaves the old copy or the new one. With one copy a cut can leave neither (fwctl(8)). */
	if (rc == 0) {
		fw_crash_point("storing the U-Boot environment of", config);
		if (ub.env_store(ctx) < 0)
			rc = fw_err_set(err, FW_EXIT_IO, "%s: cannot store the U-Boot environment", config);
	}
	uboot_done(ctx);
	return rc;
}

/* ---- the interface ---- */

int dev_bootenv_load(const struct dev_board *b, struct dev_bootenv *env, struct fw_err *err)
{
	memset(env, 0, sizeof(*env));
	if (b->bootloader == DEV_BL_UBOOT)
		return uboot_load(b->bootenv, env, err);
	if (b->bootloader == DEV_BL_GRUB)
		return grub_load(b->bootenv, env, err);
	return 0;
}

int dev_bootenv_store(const struct dev_board *b, const struct dev_bootenv *env, struct fw_err *err)
{
	if (b->bootloader == DEV_BL_UBOOT)
		return uboot_store(b->bootenv, env, err);
	if (b->bootloader == DEV_BL_GRUB)
		return grub_store(b->bootenv, env, err);
	return 0;
}

int dev_bootenv_mark(const struct dev_board *b, int t, int ok, unsigned left, struct fw_err *err)
{
	struct dev_bootenv env, old;

	if (b->bootloader == DEV_BL_FILE || (t != FW_TARGET_PRI && t != FW_TARGET_SEC))
		return 0;
	if (dev_bootenv_load(b, &env, err) < 0)
		return -1;
	old = env;
	if (ok && !in_order(&env, t)) {
		/* The primary is tried first, as fwctl boot does: A B. */
		if (t == FW_TARGET_PRI && env.n == 1) {
			env.order[1] = env.order[0];
			env.order[0] = t;
			env.n = 2;
		} else {
			env.order[env.n++] = t;
		}
	} else if (!ok && in_order(&env, t)) {
		int k = 0;
		for (int i = 0; i < env.n; i++)
			if (env.order[i] != t)
				env.order[k++] = env.order[i];
		env.n = k;
		for (; k < 2; k++)
			env.order[k] = 0;
	}
	env.good[t] = ok;
	env.left[t] = ok ? left : 0;
	if (memcmp(&env, &old, sizeof(env)) == 0)
		return 0;
	return dev_bootenv_store(b, &env, err);
}
