/* dev_activate: verify installed packages at boot, build the active tree package by package, switch to it in one rename. */
#include "dev_activate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cancel.h"
#include "base/crash.h"
#include "base/escape.h"
#include "base/outfile.h"
#include "device/dev_file.h"
#include "device/dev_hook.h"
#include "device/dev_pkgstore.h"
#include "device/dev_unlock.h"
#include "formats/chunk.h"
#include "formats/pkg_read.h"

#define LINK_TMP ".active.new"
#define SCRIPTS "scripts/"
#define TREE_FORMAT "fwctl-active-tree"
#define VERIFY_THREADS_MAX 8   /* packages verified at once, one per core */

struct act {
	struct dev_root *root;
	const char *running;
	dev_note_fn note;
	void *note_ctx;
	struct dev_pkg_list list;
	int want[DEV_PKG_MAX];         /* verified and allowed: to be active */
	/* What each package (by its place in list) removes, when it is a removal package. */
	size_t n_removes[DEV_PKG_MAX];
	char removes[DEV_PKG_MAX][FW_MAX_REMOVES][FW_PKG_NAME_MAX + 1];
	struct sig_trust trust;
	/* the package being extracted */
	const struct dev_pkg *cur;
	char *tree;                    /* the tree being built */
	struct outfile of;
	int writing;
	char **made;                   /* files and directories this package created, in order */
	size_t n_made;
	size_t cap_made;
};

/* Where a package file goes in the tree: its path, except scripts/X, which is kept apart per package. */
static char *tree_path(const char *tree, const char *pkg, const char *path)
{
	char *s;

	if (strncmp(path, SCRIPTS, strlen(SCRIPTS)) == 0) {
		if (asprintf(&s, "%s/" SCRIPTS "%s/%s", tree, pkg, path + strlen(SCRIPTS)) < 0)
			return NULL;
	} else if (asprintf(&s, "%s/%s", tree, path) < 0) {
		return NULL;
	}
	return s;
}

/* ---- verification ---- */

struct vctx {
	struct act *a;
	const struct dev_pkg *p;
	size_t index;                      /* p's place in a->list */
	enum dev_pkg_verif incompatible;   /* set when the manifest does not fit */
	char why[512];
};

static int verify_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct vctx *v = ctx;
	struct fw_err why = { 0 };
	uint8_t md[FW_DIGEST_LEN];
	char id[2 * FW_DIGEST_LEN + 1];
	int fits = 0;

	if (fw_manifest_expect_type(m, FW_TYPE_MODIFICATION, err) < 0)
		return -1;
	if (strcmp(m->name, v->p->name) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "holds package %s, not %s", m->name, v->p->name);
	/* The bytes installed, not others with a valid signature put in their place. */
	if (chunk_sha256(rep->manifest_bytes, rep->manifest_len, md) < 0)
		return fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
	fw_hex(md, sizeof(md), id);
	if (strcmp(id, v->p->id) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "its manifest is not the one installed");
	for (size_t i = 0; i < m->n_products; i++)
		fits |= strcmp(m->products[i], v->a->root->cfg.product) == 0;
	if (!fits)
		snprintf(v->why, sizeof(v->why), "not for product %s", v->a->root->cfg.product);
	else if (fw_manifest_check_firmware(m, v->a->running, &why) < 0)
		snprintf(v->why, sizeof(v->why), "%s", why.msg);
	if (v->why[0])
		v->incompatible = DEV_PKG_INCOMPATIBLE;
	v->a->n_removes[v->index] = m->n_removes;
	memcpy(v->a->removes[v->index], m->removes, sizeof(m->removes));
	return 0;
}

/*
 * Removal packages that verified and may act (mkwmopkg --remove): the
 * packages they name leave the index, and so do they, their job done; one
 * index write commits it all. 1 when the list changed, 0 when not, -1 on an
 * error writing the index.
 */
static int apply_removals(struct act *a, struct fw_err *err)
{
	int changed = 0;

	for (size_t i = 0; i < a->list.n;) {
		char gone[FW_MAX_REMOVES * (FW_PKG_NAME_MAX + 2)] = "", name[FW_PKG_NAME_MAX + 1];
		size_t used = 0, n = a->n_removes[i];

		if (n == 0 || !a->list.pkg[i].active) {
			i++;
			continue;
		}
		snprintf(name, sizeof(name), "%s", a->list.pkg[i].name);
		for (size_t k = 0; k < n; k++) {
			for (size_t j = 0; j < a->list.n; j++) {
				if (strcmp(a->list.pkg[j].name, a->removes[i][k]) != 0)
					continue;
				used += (size_t)snprintf(gone + used, sizeof(gone) - used, "%s%s", used ? ", " : "",
							 a->removes[i][k]);
				dev_pkgs_drop(&a->list, j);
				/* Keep the per-package arrays in step with the list. */
				memmove(&a->n_removes[j], &a->n_removes[j + 1], (a->list.n - j) * sizeof(a->n_removes[0]));
				memmove(&a->removes[j], &a->removes[j + 1], (a->list.n - j) * sizeof(a->removes[0]));
				if (j < i)
					i--;
				break;
			}
		}
		dev_note(a->note, a->note_ctx, "boot: removal package %s: removed %s", name, used ? gone : "nothing (none of its packages is installed)");
		dev_pkgs_drop(&a->list, i);
		memmove(&a->n_removes[i], &a->n_removes[i + 1], (a->list.n - i) * sizeof(a->n_removes[0]));
		memmove(&a->removes[i], &a->removes[i + 1], (a->list.n - i) * sizeof(a->removes[0]));
		changed = 1;
	}
	if (changed && dev_pkgs_save(a->root, &a->list, err) < 0)
		return -1;
	if (changed)
		dev_pkg_remove_leftovers(a->root, &a->list);
	return changed;
}

/*
 * Verify one installed package in full, hashing in `pipe`; sets its
 * verification and note. Runs on several threads at once, each on its own
 * package: it writes only that package's entries (p, a->removes[its place]).
 */
static void verify_one(struct act *a, struct dev_pkg *p, int allow_untrusted, const char *untrusted_why,
		       struct chunk_pipe *pipe)
{
	struct pkg_read_opts ropts = { .trust = &a->trust, .signatures_optional = 1, .chunks_only = 1,
				       .pipe = pipe };
	struct pkg_reader_ops ops = { .manifest = verify_manifest };
	struct vctx v = { .a = a, .p = p, .index = (size_t)(p - a->list.pkg) };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	char *path = dev_pkg_path(a->root, p->file);
	int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;

	/* Read once, front to back: a larger read-ahead from flash. */
	if (fd >= 0)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	p->active = 0;
	p->note[0] = '\0';
	if (fd < 0) {
		p->verification = DEV_PKG_FAILED;
		snprintf(p->note, sizeof(p->note), "cannot open %s: %s", p->file, strerror(errno));
	} else if (pkg_read(fd, &ropts, &ops, &v, &m, &rep, &err) < 0) {
		p->verification = DEV_PKG_FAILED;
		fw_escape_msg(err.msg, p->note, sizeof(p->note));
	} else if (v.incompatible) {
		p->verification = DEV_PKG_INCOMPATIBLE;
		fw_escape_msg(v.why, p->note, sizeof(p->note));
	} else {
		p->verification = rep.valid_sigs > 0 ? DEV_PKG_TRUSTED : rep.n_sigs == 0 ? DEV_PKG_UNSIGNED : DEV_PKG_UNTRUSTED;
		if (p->verification == DEV_PKG_TRUSTED || allow_untrusted)
			p->active = 1;
		else
			snprintf(p->note, sizeof(p->note), "%s", untrusted_why);
	}
	if (fd >= 0)
		close(fd);
	free(path);
	fw_manifest_free(m);
	pkg_report_free(&rep);
}

/* Verifying workers: each takes the next package not taken yet and verifies it alone, on its own core. */
struct verifier {
	struct act *a;
	int allow_untrusted;
	const char *untrusted_why;
	atomic_size_t next;            /* the next package (its place in a->list) not taken yet */
};

struct verify_thread {
	struct verifier *w;
	struct chunk_pipe *pipe;       /* the thread's own */
};

static void verify_taken(struct verifier *w, struct chunk_pipe *pipe)
{
	size_t i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->a->list.n)
		verify_one(w->a, &w->a->list.pkg[i], w->allow_untrusted, w->untrusted_why, pipe);
}

static void *verify_worker(void *arg)
{
	struct verify_thread *t = arg;

	verify_taken(t->w, t->pipe);
	return NULL;
}

/*
 * Verify every installed package, on all cores. Several packages: one per
 * core at a time, each hashed on its own core as it is read (a pipe hashing
 * on feed, without a sink): no byte is copied after read(), each block is
 * hashed while it is still in the core's cache, and the cores never hand
 * chunks to each other. A single package (or a single core): its chunks
 * hashed on all cores through one pipe. The verdicts are the same either way.
 * (helgrind reports one race, inside libarchive: the tar reader's static
 * counters that make up entries' dev/ino numbers, which nothing here reads.)
 */
static int verify_all(struct act *a, int allow_untrusted, const char *untrusted_why, struct fw_err *err)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned cores = online < 1 ? 1 : online > VERIFY_THREADS_MAX ? VERIFY_THREADS_MAX : (unsigned)online;
	unsigned workers = a->list.n < cores ? (unsigned)a->list.n : cores;
	struct verifier w = { .a = a, .allow_untrusted = allow_untrusted, .untrusted_why = untrusted_why };
	struct chunk_pipe *pipes[VERIFY_THREADS_MAX] = { NULL };
	struct verify_thread args[VERIFY_THREADS_MAX];
	pthread_t th[VERIFY_THREADS_MAX];
	unsigned started = 0;
	int rc = -1;

	atomic_init(&w.next, 0);
	if (workers <= 1) {
		if ((pipes[0] = chunk_pipe_new(0, err)) == NULL)
			return -1;
		verify_taken(&w, pipes[0]);
		chunk_pipe_free(pipes[0]);
		return 0;
	}
	for (unsigned i = 0; i < workers; i++)
		if ((pipes[i] = chunk_pipe_new(CHUNK_PIPE_ON_FEED, err)) == NULL)
			goto out;
	/* This thread is the first worker; one that cannot start leaves its share to the others. */
	for (unsigned i = 1; i < workers; i++) {
		args[i] = (struct verify_thread){ &w, pipes[i] };
		if (pthread_create(&th[i], NULL, verify_worker, &args[i]) != 0)
			break;
		started++;
	}
	verify_taken(&w, pipes[0]);
	rc = 0;
out:
	for (unsigned i = 1; i <= started; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < workers; i++)
		chunk_pipe_free(pipes[i]);
	return rc;
}

/* ---- the tree record: trees/N.json ---- */

/*
 * What the tree was built for: "name id installed" lines of the packages meant
 * to be active. Installing the same package again changes it, so a package
 * whose hook failed is tried again then, not at every boot.
 */
static char *desired_key(const struct dev_pkg_list *l)
{
	char *key = strdup(""), *next;

	for (size_t i = 0; key != NULL && i < l->n; i++) {
		if (!l->pkg[i].active)
			continue;
		if (asprintf(&next, "%s%s %s %lld\n", key, l->pkg[i].name, l->pkg[i].id, l->pkg[i].installed) < 0)
			next = NULL;
		free(key);
		key = next;
	}
	return key;
}

/* The current tree's number from ROOT/active -> trees/N; 0 when there is none. */
static unsigned long current_tree(const struct dev_root *r)
{
	char *link = dev_root_file(r, DEV_ACTIVE_LINK), target[256], *end;
	ssize_t n = link ? readlink(link, target, sizeof(target) - 1) : -1;
	unsigned long seq;

	free(link);
	if (n <= (ssize_t)strlen(DEV_TREE_DIR "/"))
		return 0;
	target[n] = '\0';
	if (strncmp(target, DEV_TREE_DIR "/", strlen(DEV_TREE_DIR "/")) != 0)
		return 0;
	seq = strtoul(target + strlen(DEV_TREE_DIR "/"), &end, 10);
	return *end == '\0' ? seq : 0;
}

static char *tree_file(const struct dev_root *r, unsigned long seq, const char *suffix)
{
	char *s;

	if (asprintf(&s, "%s/%s/%lu%s", r->dir, DEV_TREE_DIR, seq, suffix) < 0)
		return NULL;
	return s;
}

/* Everything in ROOT/trees but the current tree and its record: leftovers of a cut build or a switch. */
static void remove_old_trees(const struct dev_root *r, unsigned long keep)
{
	char *dir = dev_root_file(r, DEV_TREE_DIR), *tmp = dev_root_file(r, LINK_TMP), name[64], rec[64];
	DIR *d;
	struct dirent *e;

	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	snprintf(name, sizeof(name), "%lu", keep);
	snprintf(rec, sizeof(rec), "%lu.json", keep);
	if (dir != NULL && (d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char *sub;
			if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
				continue;
			if (keep != 0 && (strcmp(e->d_name, name) == 0 || strcmp(e->d_name, rec) == 0))
				continue;
			if ((sub = dev_path_join(dir, e->d_name)) != NULL) {
				fw_crash_point("removing", sub);
				dev_remove_tree(sub);
			}
			free(sub);
		}
		closedir(d);
	}
	free(dir);
}

/* ---- extraction into the new tree ---- */

static int remember(struct act *a, const char *path)
{
	if (a->n_made == a->cap_made) {
		size_t cap = a->cap_made ? 2 * a->cap_made : 32;
		char **m = realloc(a->made, cap * sizeof(*m));
		if (m == NULL)
			return -1;
		a->made = m;
		a->cap_made = cap;
	}
	if ((a->made[a->n_made] = strdup(path)) == NULL)
		return -1;
	a->n_made++;
	return 0;
}

/* Take a failed package's files and directories out of the tree again, newest first. */
static void undo_package(struct act *a)
{
	while (a->n_made > 0) {
		char *p = a->made[--a->n_made];
		if (unlink(p) < 0)
			rmdir(p);
		free(p);
	}
}

static void forget_package(struct act *a)
{
	while (a->n_made > 0)
		free(a->made[--a->n_made]);
}

/* Make the directories above path (inside the tree), remembering those made; never through a symlink. */
static int make_parents(struct act *a, char *path, struct fw_err *err)
{
	struct stat st;

	for (char *q = path + strlen(a->tree) + 1; (q = strchr(q, '/')) != NULL; q++) {
		*q = '\0';
		if (mkdir(path, 0755) == 0) {
			if (remember(a, path) < 0) {
				*q = '/';
				return fw_err_set(err, FW_EXIT_IO, "out of memory");
			}
		} else if (errno != EEXIST || lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			int e = errno;
			fw_err_set(err, FW_EXIT_IO, "%s: cannot make the directory: %s", path,
				   e == EEXIST ? "a file is in the way" : strerror(e));
			*q = '/';
			return -1;
		}
		*q = '/';
	}
	return 0;
}

static int x_begin(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct act *a = ((struct vctx *)ctx)->a;
	char *path = tree_path(a->tree, a->cur->name, m->files[index].path);
	int rc = -1;

	if (path == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (make_parents(a, path, err) < 0)
		goto out;
	/* Not FORCE: a path another package of this tree wrote is refused, never overwritten. */
	if (outfile_open(&a->of, path, m->files[index].mode, OUTFILE_DURABLE, err) < 0)
		goto out;
	a->writing = 1;
	rc = 1;
out:
	free(path);
	return rc;
}

static int x_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct act *a = ((struct vctx *)ctx)->a;

	return fw_write_all(a->of.fd, buf, len, a->of.path, err);
}

static int x_end(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct act *a = ((struct vctx *)ctx)->a;
	char *path = strdup(a->of.path);
	int rc;

	(void)m;
	(void)index;
	a->writing = 0;
	rc = path == NULL ? fw_err_set(err, FW_EXIT_IO, "out of memory") : outfile_commit(&a->of, OUTFILE_DURABLE, err);
	outfile_abort(&a->of);
	if (rc == 0 && remember(a, path) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "out of memory");
	free(path);
	return rc;
}

/* Run a hook script with a timeout: 0, or -1 with why. */
static int run_hook(const struct act *a, const char *script, const char *tree, const struct fw_manifest *m,
		    const char *role, struct fw_err *why)
{
	unsigned timeout = a->root->cfg.pkg_hook_timeout;   /* 1 or more: dev_settings' range */
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return fw_err_set(why, FW_EXIT_IO, "%s hook: fork: %s", role, strerror(errno));
	if (pid == 0) {
		char e_root[4200], e_tree[4200], e_pkg[128], e_ver[64], e_hook[32];
		char *envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", e_root, e_tree, e_pkg, e_ver, e_hook, NULL };
		char abs_root[4096], abs_tree[4096];
		int null = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		snprintf(e_root, sizeof(e_root), "FWCTL_ROOT=%s",
			 realpath(a->root->dir, abs_root) ? abs_root : a->root->dir);
		snprintf(e_tree, sizeof(e_tree), "FWCTL_TREE=%s", realpath(tree, abs_tree) ? abs_tree : tree);
		snprintf(e_pkg, sizeof(e_pkg), "FWCTL_PACKAGE=%s", m->name);
		snprintf(e_ver, sizeof(e_ver), "FWCTL_PACKAGE_VERSION=%s", m->version);
		snprintf(e_hook, sizeof(e_hook), "FWCTL_HOOK=%s", role);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		if (chdir(tree) == 0)
			execle(script, script, (char *)NULL, envp);
		_exit(127);
	}
	setpgid(pid, pid);
	switch (dev_child_wait(pid, timeout, &status)) {
	case 1:
		return fw_err_set(why, FW_EXIT_REJECTED, "%s hook timed out after %u s", role, timeout);
	case 2:
		fw_cancel_check(why);
		return fw_err_wrap(why, "%s hook stopped", role);
	case -1:
		return fw_err_set(why, FW_EXIT_IO, "%s hook: wait: %s", role, strerror(errno));
	default:
		break;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return fw_err_set(why, FW_EXIT_REJECTED, "%s hook failed (exit %d)", role, WEXITSTATUS(status));
	return fw_err_set(why, FW_EXIT_REJECTED, "%s hook killed by signal %d", role, WTERMSIG(status));
}

/* Put one package into the tree: its files, then its activate hook. 0, or -1 with why (package left out). */
static int activate_one(struct act *a, struct dev_pkg *p, struct fw_err *why)
{
	struct pkg_read_opts ropts = { .trust = &a->trust, .signatures_optional = 1 };
	struct pkg_reader_ops ops = { .manifest = NULL, .payload_begin = x_begin, .payload_data = x_data,
				      .payload_end = x_end };
	struct vctx v = { .a = a, .p = p };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	char *path = dev_pkg_path(a->root, p->file), *script = NULL;
	int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1, rc = -1;

	ops.manifest = verify_manifest;
	a->cur = p;
	if (fd < 0) {
		fw_err_set(why, FW_EXIT_IO, "cannot open %s: %s", p->file, strerror(errno));
		goto out;
	}
	if (pkg_read(fd, &ropts, &ops, &v, &m, &rep, why) < 0) {
		if (a->writing)
			outfile_abort(&a->of);
		a->writing = 0;
		goto out;
	}
	if (v.incompatible) {
		fw_err_set(why, FW_EXIT_REJECTED, "%s", v.why);
		goto out;
	}
	if (m->hooks[FW_HOOK_ACTIVATE][0]) {
		/* Relative to the tree: the hook runs with the tree as its working directory. */
		if ((script = tree_path(".", p->name, m->hooks[FW_HOOK_ACTIVATE])) == NULL) {
			fw_err_set(why, FW_EXIT_IO, "out of memory");
			goto out;
		}
		if (run_hook(a, script, a->tree, m, "activate", why) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		undo_package(a);
	else
		forget_package(a);
	if (fd >= 0)
		close(fd);
	free(script);
	free(path);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	return rc;
}

/* Deactivate hooks of packages leaving the tree, run from the old tree (their scripts are there). */
static void deactivate_leaving(struct act *a, const json_t *old_rec, const char *old_tree)
{
	const json_t *hooks = json_object_get(old_rec, "deactivate");
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)hooks, name, v) {
		struct dev_pkg *p = dev_pkgs_find(&a->list, name);
		struct fw_manifest fake;
		struct fw_err why = { 0 };
		char *script;

		if ((p != NULL && p->active) || !json_is_string(v))
			continue;
		memset(&fake, 0, sizeof(fake));
		snprintf(fake.name, sizeof(fake.name), "%s", name);
		script = tree_path(".", name, json_string_value(v));
		if (script != NULL && run_hook(a, script, old_tree, &fake, "deactivate", &why) < 0)
			dev_note(a->note, a->note_ctx, "boot: package %s: %s (removed all the same)", name, why.msg);
		free(script);
	}
}

/* The deactivate hook of each active package, for when it leaves: read from its manifest again. */
static json_t *deactivate_hooks(struct act *a)
{
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < a->list.n; i++) {
		struct dev_pkg *p = &a->list.pkg[i];
		struct pkg_read_opts ropts = { .manifest_only = 1 };
		struct pkg_report rep;
		struct fw_manifest *m = NULL;
		struct fw_err err;
		char *path;
		int fd;

		if (!p->active || (path = dev_pkg_path(a->root, p->file)) == NULL)
			continue;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		free(path);
		if (fd >= 0 && pkg_read(fd, &ropts, NULL, NULL, &m, &rep, &err) == 0 && m->hooks[FW_HOOK_DEACTIVATE][0])
			json_object_set_new(o, p->name, fw_json_text(m->hooks[FW_HOOK_DEACTIVATE]));
		if (fd >= 0)
			close(fd);
		fw_manifest_free(m);
		pkg_report_free(&rep);
	}
	return o;
}

/* Build trees/seq, record it, switch ROOT/active to it. */
static int build_tree(struct act *a, unsigned long seq, const char *key, const json_t *old_rec, unsigned long old_seq,
		      struct fw_err *err)
{
	char *rec_path = tree_file(a->root, seq, ".json"), *link = dev_root_file(a->root, DEV_ACTIVE_LINK);
	char *tmp = dev_root_file(a->root, LINK_TMP), *old_tree = old_seq ? tree_file(a->root, old_seq, "") : NULL;
	char *trees = dev_root_file(a->root, DEV_TREE_DIR), target[64];
	json_t *rec = NULL, *active = json_array(), *failed = json_object();
	int rc = -1;

	a->tree = tree_file(a->root, seq, "");
	if (rec_path == NULL || link == NULL || tmp == NULL || a->tree == NULL || trees == NULL || active == NULL ||
	    failed == NULL || (old_seq && old_tree == NULL)) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if ((mkdir(trees, 0755) < 0 && errno != EEXIST) || mkdir(a->tree, 0755) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot create: %s", a->tree, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < a->list.n; i++) {
		struct dev_pkg *p = &a->list.pkg[i];
		struct fw_err why = { 0 };

		if (!p->active)
			continue;
		if (activate_one(a, p, &why) < 0) {
			p->active = 0;
			p->verification = DEV_PKG_FAILED;
			fw_escape_msg(why.msg, p->note, sizeof(p->note));
			dev_note(a->note, a->note_ctx, "boot: package %s: not activated: %s", p->name, p->note);
			json_object_set_new(failed, p->name, fw_json_text(p->note));
			continue;
		}
		json_array_append_new(active, json_string(p->name));
	}
	if (old_rec != NULL && old_tree != NULL)
		deactivate_leaving(a, old_rec, old_tree);
	/* The new tree's directories: durable before the switch, like its files. */
	if (fw_fsync_dir(a->tree, err) < 0 || fw_fsync_dir(trees, err) < 0)
		goto out;
	rec = json_object();
	if (rec == NULL || json_object_set_new(rec, "format", json_string(TREE_FORMAT)) < 0 ||
	    json_object_set_new(rec, "desired", json_string(key)) < 0 || json_object_set(rec, "active", active) < 0 ||
	    json_object_set(rec, "failed", failed) < 0 ||
	    json_object_set_new(rec, "deactivate", deactivate_hooks(a)) < 0) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (dev_json_write(rec_path, rec, err) < 0)
		goto out;
	/* The switch: one rename of a symlink; before it the old tree is active, after it the new one. */
	snprintf(target, sizeof(target), "%s/%lu", DEV_TREE_DIR, seq);
	unlink(tmp);
	fw_crash_point("linking", tmp);
	if (symlink(target, tmp) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fw_crash_point("rename onto", link);
	if (rename(tmp, link) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: rename: %s", link, strerror(errno));
		goto out;
	}
	fw_crash_point("fsync of the directory of", link);
	if (fw_fsync_dir(a->root->dir, err) < 0)
		goto out;
	rc = 0;
out:
	forget_package(a);
	json_decref(rec);
	json_decref(active);
	json_decref(failed);
	free(rec_path);
	free(link);
	free(tmp);
	free(old_tree);
	free(trees);
	free(a->tree);
	a->tree = NULL;
	return rc;
}

/* packages/verified.json from the list, written only when it changed. */
static int save_verified(struct act *a, struct fw_err *err)
{
	json_t *doc = json_object(), *pkgs = json_object(), *old;
	char *path = dev_pkg_path(a->root, DEV_PKG_VERIFIED);
	struct fw_err rerr;
	int rc = -1;

	for (size_t i = 0; doc != NULL && pkgs != NULL && i < a->list.n; i++) {
		const struct dev_pkg *p = &a->list.pkg[i];
		json_t *o = json_pack("{s:s, s:s, s:b, s:o}", "id", p->id, "verification",
				      dev_pkg_verif_name(p->verification), "active", p->active, "note", fw_json_text(p->note));
		if (o == NULL || json_object_set_new(pkgs, p->name, o) < 0)
			goto oom;
	}
	if (doc == NULL || pkgs == NULL || path == NULL || json_object_set(doc, "packages", pkgs) < 0)
		goto oom;
	old = dev_json_read(path, NULL, &rerr);
	if (old != NULL && json_equal(old, doc)) {
		json_decref(old);
		rc = 0;
		goto out;
	}
	json_decref(old);
	if (a->list.n == 0 && old == NULL) {
		rc = 0;   /* nothing installed, nothing recorded: a plain boot writes nothing */
		goto out;
	}
	rc = dev_json_write(path, doc, err);
	goto out;
oom:
	fw_err_set(err, FW_EXIT_IO, "out of memory");
out:
	json_decref(pkgs);
	json_decref(doc);
	free(path);
	return rc;
}

int dev_activate(struct dev_root *r, const char *running, dev_note_fn note_fn, void *note_ctx,
		 struct dev_activate_result *res, struct fw_err *err)
{
	static struct act a;   /* big: the package list */
	struct sig_unlock tok;
	struct fw_err why = { 0 };
	char *key = NULL, *old_rec_path = NULL, untrusted_why[480];
	json_t *old_rec = NULL;
	unsigned long seq;
	int allow, rc = -1;

	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	a.root = r;
	a.running = running;
	a.note = note_fn;
	a.note_ctx = note_ctx;
	a.of.fd = -1;
	if (dev_pkgs_load(r, &a.list, err) < 0)
		return -1;
	dev_pkg_remove_leftovers(r, &a.list);
	seq = current_tree(r);
	remove_old_trees(r, seq);
	res->installed = a.list.n;
	if (a.list.n == 0 && seq == 0) {
		rc = save_verified(&a, err);
		goto out;
	}
	if (dev_root_trust(r, &a.trust, err) < 0)
		goto out;
	/* Who may run unsigned code: the configuration, and on a secure-boot device a token for it too. */
	allow = r->cfg.allow_untrusted;
	snprintf(untrusted_why, sizeof(untrusted_why), "not activated: the device does not allow untrusted packages");
	if (allow && r->cfg.secure_boot) {
		enum dev_unlock_status us = dev_unlock_status(r, &tok, &why);
		if (us != DEV_UNLOCK_VALID) {
			allow = 0;
			snprintf(untrusted_why, sizeof(untrusted_why), "not activated: secure boot needs a valid unlock token for this device (%.380s)",
				 us == DEV_UNLOCK_NONE ? "none installed" : why.msg);
		}
	}
	if (verify_all(&a, allow, untrusted_why, err) < 0)
		goto out;
	if (apply_removals(&a, err) < 0)
		goto out;
	res->installed = a.list.n;
	for (size_t i = 0; i < a.list.n; i++) {
		struct dev_pkg *p = &a.list.pkg[i];
		if (p->verification != DEV_PKG_TRUSTED && p->verification != DEV_PKG_UNSIGNED &&
		    p->verification != DEV_PKG_UNTRUSTED)
			dev_note(a.note, a.note_ctx, "boot: package %s: %s: %s", p->name, dev_pkg_verif_name(p->verification), p->note);
		else if (!p->active)
			dev_note(a.note, a.note_ctx, "boot: package %s: %s: %s", p->name, dev_pkg_verif_name(p->verification), p->note);
	}
	if ((key = desired_key(&a.list)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (seq != 0 && (old_rec_path = tree_file(r, seq, ".json")) != NULL)
		old_rec = dev_json_read(old_rec_path, NULL, &why);
	if ((seq != 0 || key[0] != '\0') &&
	    !(old_rec != NULL && json_is_string(json_object_get(old_rec, "desired")) &&
	      strcmp(json_string_value(json_object_get(old_rec, "desired")), key) == 0)) {
		if (build_tree(&a, seq + 1, key, old_rec, seq, err) < 0)
			goto out;
		res->rebuilt = 1;
		remove_old_trees(r, seq + 1);
	} else if (old_rec != NULL) {
		/* The same packages as last time: the tree stands; what failed then (a hook) is still out. */
		const json_t *failed = json_object_get(old_rec, "failed");
		for (size_t i = 0; i < a.list.n; i++) {
			const json_t *f = json_object_get(failed, a.list.pkg[i].name);
			if (a.list.pkg[i].active && json_is_string(f)) {
				a.list.pkg[i].active = 0;
				a.list.pkg[i].verification = DEV_PKG_FAILED;
				snprintf(a.list.pkg[i].note, sizeof(a.list.pkg[i].note), "%s", json_string_value(f));
			}
		}
	}
	for (size_t i = 0; i < a.list.n; i++)
		res->active += (size_t)a.list.pkg[i].active;
	rc = save_verified(&a, err);
out:
	json_decref(old_rec);
	free(old_rec_path);
	free(key);
	free(a.made);
	dev_pkgs_free(&a.list);
	sig_trust_free(&a.trust);   /* CA certificates and CRLs live in an X.509 store */
	return rc;
}
