/* dev_pkgstore: ROOT/packages: the index as the one commit point, package files beside it, install in one read. */
#include "dev_pkgstore.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/crash.h"
#include "base/escape.h"
#include "base/outfile.h"
#include "device/dev_file.h"
#include "device/dev_slot.h"
#include "device/dev_intake.h"
#include "device/dev_unlock.h"
#include "formats/chunk.h"
#include "formats/pkg_read.h"

#define INDEX_FORMAT "fwctl-packages"
#define RUNNING_CONFIG "running-config"

static const char *const verif_names[] = {
	[DEV_PKG_PENDING] = "pending",
	[DEV_PKG_TRUSTED] = "trusted",
	[DEV_PKG_UNSIGNED] = "unsigned",
	[DEV_PKG_UNTRUSTED] = "untrusted key",
	[DEV_PKG_FAILED] = "failed",
	[DEV_PKG_INCOMPATIBLE] = "incompatible firmware",
};
#define N_VERIF (sizeof(verif_names) / sizeof(verif_names[0]))

const char *dev_pkg_verif_name(enum dev_pkg_verif v)
{
	return (unsigned)v < N_VERIF ? verif_names[v] : "unknown";
}

static enum dev_pkg_verif verif_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < N_VERIF; i++)
		if (strcmp(s, verif_names[i]) == 0)
			return (enum dev_pkg_verif)i;
	return DEV_PKG_PENDING;
}

char *dev_pkg_path(const struct dev_root *r, const char *rel)
{
	char *s;

	if (asprintf(&s, "%s/%s/%s", r->dir, DEV_PACKAGE_DIR, rel) < 0)
		return NULL;
	return s;
}

static void pkg_free(struct dev_pkg *p)
{
	free(p->description);
	for (size_t i = 0; i < p->n_paths; i++)
		free(p->paths[i]);
	free(p->paths);
	memset(p, 0, sizeof(*p));
}

void dev_pkgs_free(struct dev_pkg_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pkg_free(&l->pkg[i]);
	l->n = 0;
}

void dev_pkgs_drop(struct dev_pkg_list *l, size_t i)
{
	if (i >= l->n)
		return;
	pkg_free(&l->pkg[i]);
	memmove(&l->pkg[i], &l->pkg[i + 1], (l->n - i - 1) * sizeof(l->pkg[0]));
	l->n--;
	memset(&l->pkg[l->n], 0, sizeof(l->pkg[0]));
}

struct dev_pkg *dev_pkgs_find(struct dev_pkg_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->pkg[i].name, name) == 0)
			return &l->pkg[i];
	return NULL;
}

static void copy_str(char *dst, size_t n, const json_t *v)
{
	snprintf(dst, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static int pkg_from_json(const char *name, const json_t *o, struct dev_pkg *p, struct fw_err *err)
{
	const json_t *paths = json_object_get(o, "paths"), *v;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (!fw_pkg_name_valid(name) || !json_is_object(o))
		return fw_err_set(err, FW_EXIT_IO, "package \"%s\": not a valid entry", name);
	snprintf(p->name, sizeof(p->name), "%s", name);
	copy_str(p->version, sizeof(p->version), json_object_get(o, "version"));
	copy_str(p->file, sizeof(p->file), json_object_get(o, "file"));
	copy_str(p->id, sizeof(p->id), json_object_get(o, "id"));
	copy_str(p->source, sizeof(p->source), json_object_get(o, "source"));
	p->persistent = json_is_true(json_object_get(o, "persistent"));
	p->signature = verif_parse(json_string_value(json_object_get(o, "signature")));
	v = json_object_get(o, "installed");
	p->installed = json_is_integer(v) ? (long long)json_integer_value(v) : 0;
	v = json_object_get(o, "description");
	p->description = strdup(json_is_string(v) ? json_string_value(v) : "");
	/* The file name is joined to a directory: it must be a plain name. */
	if (p->file[0] == '\0' || p->file[0] == '.' || strchr(p->file, '/') != NULL || p->description == NULL) {
		pkg_free(p);
		return fw_err_set(err, FW_EXIT_IO, "package %s: no valid file name in the index", name);
	}
	if (json_is_array(paths) && json_array_size(paths) > 0) {
		if ((p->paths = calloc(json_array_size(paths), sizeof(char *))) == NULL) {
			pkg_free(p);
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
		}
		json_array_foreach(paths, i, v)
			if (json_is_string(v) && (p->paths[p->n_paths] = strdup(json_string_value(v))) != NULL)
				p->n_paths++;
	}
	return 0;
}

json_t *dev_pkg_to_json(const struct dev_pkg *p)
{
	json_t *o = json_object(), *paths = json_array();
	int bad = o == NULL || paths == NULL;

	for (size_t i = 0; !bad && i < p->n_paths; i++)
		bad = json_array_append_new(paths, fw_json_text(p->paths[i])) < 0;
	if (!bad)
		bad = json_object_set_new(o, "version", json_string(p->version)) < 0 ||
		      json_object_set_new(o, "description", fw_json_text(p->description ? p->description : "")) < 0 ||
		      json_object_set_new(o, "persistent", json_boolean(p->persistent)) < 0 ||
		      json_object_set_new(o, "file", json_string(p->file)) < 0 ||
		      json_object_set_new(o, "id", json_string(p->id)) < 0 ||
		      json_object_set_new(o, "signature", json_string(dev_pkg_verif_name(p->signature))) < 0 ||
		      json_object_set_new(o, "installed", json_integer(p->installed)) < 0 ||
		      json_object_set_new(o, "source", fw_json_text(p->source)) < 0 ||
		      json_object_set(o, "paths", paths) < 0;
	json_decref(paths);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct dev_pkg *)a)->name, ((const struct dev_pkg *)b)->name);
}

/* Merge what the last boot found, where it saw these very bytes (same manifest id). */
static void merge_verified(const struct dev_root *r, struct dev_pkg_list *l)
{
	char *path = dev_pkg_path(r, DEV_PKG_VERIFIED);
	struct fw_err err;
	json_t *doc = path ? dev_json_read(path, NULL, &err) : NULL;

	for (size_t i = 0; doc != NULL && i < l->n; i++) {
		struct dev_pkg *p = &l->pkg[i];
		const json_t *o = json_object_get(json_object_get(doc, "packages"), p->name);

		if (!json_is_object(o) || !json_is_string(json_object_get(o, "id")) ||
		    strcmp(json_string_value(json_object_get(o, "id")), p->id) != 0)
			continue;
		p->verification = verif_parse(json_string_value(json_object_get(o, "verification")));
		p->active = json_is_true(json_object_get(o, "active"));
		copy_str(p->note, sizeof(p->note), json_object_get(o, "note"));
	}
	json_decref(doc);
	free(path);
}

int dev_pkgs_load(const struct dev_root *r, struct dev_pkg_list *l, struct fw_err *err)
{
	char *path = dev_pkg_path(r, DEV_PKG_INDEX);
	json_t *doc = NULL, *pkgs, *o;
	const char *name;
	int missing = 0, rc = -1;

	memset(l, 0, sizeof(*l));
	if (path == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if ((doc = dev_json_read(path, &missing, err)) == NULL) {
		rc = missing ? 0 : -1;
		goto out;
	}
	if (!json_is_string(json_object_get(doc, "format")) ||
	    strcmp(json_string_value(json_object_get(doc, "format")), INDEX_FORMAT) != 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: not a package index (format is not \"%s\")", path, INDEX_FORMAT);
		goto out;
	}
	pkgs = json_object_get(doc, "packages");
	json_object_foreach(pkgs, name, o) {
		if (l->n == DEV_PKG_MAX) {
			fw_err_set(err, FW_EXIT_IO, "%s: more than %d packages", path, DEV_PKG_MAX);
			goto out;
		}
		if (pkg_from_json(name, o, &l->pkg[l->n], err) < 0) {
			fw_err_wrap(err, "%s", path);
			goto out;
		}
		l->n++;
	}
	qsort(l->pkg, l->n, sizeof(l->pkg[0]), by_name);
	merge_verified(r, l);
	rc = 0;
out:
	if (rc < 0)
		dev_pkgs_free(l);
	json_decref(doc);
	free(path);
	return rc;
}

int dev_pkgs_save(const struct dev_root *r, const struct dev_pkg_list *l, struct fw_err *err)
{
	json_t *doc = json_object(), *pkgs = json_object();
	int bad = doc == NULL || pkgs == NULL;

	for (size_t i = 0; !bad && i < l->n; i++)
		bad = json_object_set_new(pkgs, l->pkg[i].name, dev_pkg_to_json(&l->pkg[i])) < 0;
	if (!bad)
		bad = json_object_set_new(doc, "format", json_string(INDEX_FORMAT)) < 0 ||
		      json_object_set_new(doc, "format_version", json_integer(1)) < 0 ||
		      json_object_set(doc, "packages", pkgs) < 0;
	json_decref(pkgs);
	if (bad) {
		json_decref(doc);
		doc = NULL;
	}
	return dev_json_save(dev_pkg_path(r, DEV_PKG_INDEX), doc, err);
}

/* How the last install attempt ended (last.json), for `package list --json`. */
static int record(const struct dev_root *r, enum dev_result res, const char *name, const char *source,
		  const char *message, struct fw_err *err)
{
	json_t *doc = json_object();
	char when[32];
	long long now = (long long)time(NULL);

	fw_time_iso(now, when);
	if (doc != NULL &&
	    (json_object_set_new(doc, "result", json_string(dev_result_name(res))) < 0 ||
	     json_object_set_new(doc, "time", json_string(when)) < 0 ||
	     json_object_set_new(doc, "name", fw_json_text(name ? name : "")) < 0 ||
	     json_object_set_new(doc, "source", fw_json_text(source ? source : "")) < 0 ||
	     json_object_set_new(doc, "message", fw_json_text(message ? message : "")) < 0)) {
		json_decref(doc);
		doc = NULL;
	}
	return dev_json_save(dev_pkg_path(r, DEV_PKG_LAST), doc, err);
}

/* Remove one file of ROOT/packages durably: a crash point first, as for every durable step. */
static void remove_pkg_file(const struct dev_root *r, const char *file)
{
	char *path = dev_pkg_path(r, file);

	if (path == NULL)
		return;
	fw_crash_point("removing", path);
	if (unlink(path) == 0)
		fw_fsync_dir_of(path, &(struct fw_err){ 0 });
	free(path);
}

/* ---- install ---- */

/*
 * The source is read once, through the intake (dev_intake): the bytes the
 * reader verifies (the unpack hook's output when one is set) are kept in the
 * hidden temporary as they go by, so what is stored is exactly what was
 * verified. A network source is the same stream, the same checks.
 */
struct inst {
	struct dev_root *root;
	const struct dev_pkg_install_req *req;
	struct dev_pkg_list list;
	char running[FW_VERSION_MAX_LEN + 1];
	char path_for_name[FW_PKG_NAME_MAX + 16];
	enum dev_result result;
	int reached;                   /* the manifest callback ran: result says what failed */
	char name[FW_PKG_NAME_MAX + 1];
	struct dev_pkg *old;
};

/* Does a path equal another or lie beneath it (a file where the other needs a directory)? */
static int paths_clash(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

	if (strncmp(a, b, n) != 0)
		return 0;
	return la == lb || (la < lb ? b[la] == '/' : a[lb] == '/');
}

static int is_script(const char *path)
{
	return strncmp(path, "scripts/", 8) == 0;
}

static int on_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct inst *u = ctx;
	int fits = 0;

	(void)rep;
	u->reached = 1;
	snprintf(u->name, sizeof(u->name), "%s", m->name);
	u->result = DEV_RESULT_FILE_NOT_MATCH;
	if (fw_manifest_expect_type(m, FW_TYPE_MODIFICATION, err) < 0)
		return fw_err_wrap(err, "'package install' takes .wmopkg modification packages ('upgrade' takes firmware)");
	if (fw_manifest_check_file_name(m, u->path_for_name, err) < 0)
		return -1;
	u->result = DEV_RESULT_POLICY_REFUSED;
	for (size_t i = 0; i < m->n_products; i++)
		fits |= strcmp(m->products[i], u->root->cfg.product) == 0;
	if (!fits)
		return fw_err_set(err, FW_EXIT_REJECTED, "package %s is for %s%s, not this device's product %s", m->name,
				  m->products[0], m->n_products > 1 ? " and others" : "", u->root->cfg.product);
	if (u->running[0] == '\0')
		return fw_err_set(err, FW_EXIT_REJECTED, "no firmware runs on this device: install one with 'fwctl upgrade all PKG' first");
	if (fw_manifest_check_firmware(m, u->running, err) < 0)
		return fw_err_wrap(err, "incompatible firmware");
	if (u->req->persistent && !m->persistent_allowed)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "package %s may not be installed persistent (its manifest does not allow it): install it without 'persistent'",
				  m->name);
	for (size_t i = 0; i < u->list.n; i++) {
		const struct dev_pkg *o = &u->list.pkg[i];
		if (strcmp(o->name, m->name) == 0)
			continue;   /* re-installing replaces */
		for (size_t f = 0; f < m->n_files; f++)
			for (size_t k = 0; !is_script(m->files[f].path) && k < o->n_paths; k++)
				if (paths_clash(m->files[f].path, o->paths[k])) {
					char shown[FW_ESCAPED_SIZE(FW_MOD_PATH_MAX)];
					return fw_err_set(err, FW_EXIT_REJECTED,
							  "conflicts with installed package %s: both write %s (remove %s first)",
							  o->name, fw_escape(m->files[f].path, shown, sizeof(shown)), o->name);
				}
	}
	u->old = dev_pkgs_find(&u->list, m->name);
	if (u->old != NULL) {
		struct fw_err verr;
		int c = fw_version_cmp_str(m->version, u->old->version, &verr);
		if (c == -1)
			dev_note(u->req->note, u->req->note_ctx, "package: warning: %s %s is older than the installed %s: replacing it", m->name, m->version,
			      u->old->version);
	}
	u->result = DEV_RESULT_FILE_CHECK_FAILED;
	return 0;
}

static int fill_entry(struct dev_pkg *p, const struct fw_manifest *m, const struct pkg_report *rep,
		      const struct dev_pkg_install_req *req, struct fw_err *err)
{
	uint8_t md[FW_DIGEST_LEN];

	memset(p, 0, sizeof(*p));
	if (chunk_sha256(rep->manifest_bytes, rep->manifest_len, md) < 0)
		return fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
	fw_hex(md, sizeof(md), p->id);
	snprintf(p->name, sizeof(p->name), "%s", m->name);
	snprintf(p->version, sizeof(p->version), "%s", m->version);
	snprintf(p->file, sizeof(p->file), "%s-%.16s%s", m->name, p->id, FW_MOD_EXT);
	p->persistent = req->persistent;
	p->signature = rep->valid_sigs > 0 ? DEV_PKG_TRUSTED : rep->n_sigs == 0 ? DEV_PKG_UNSIGNED : DEV_PKG_UNTRUSTED;
	p->installed = (long long)time(NULL);
	snprintf(p->source, sizeof(p->source), "%s", req->src->shown);   /* escaped already (dev_source) */
	if ((p->description = strdup(m->description)) == NULL ||
	    (p->paths = calloc(m->n_files ? m->n_files : 1, sizeof(char *))) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	for (size_t i = 0; i < m->n_files; i++) {
		if (is_script(m->files[i].path))
			continue;
		if ((p->paths[p->n_paths] = strdup(m->files[i].path)) == NULL)
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
		p->n_paths++;
	}
	return 0;
}

int dev_pkg_install(struct dev_root *r, const struct dev_pkg_install_req *req, struct dev_pkg *out,
		    struct fw_err *err)
{
	static struct inst u;   /* big: the package list */
	struct pkg_read_opts ropts = { .signatures_optional = 1 };
	struct pkg_reader_ops ops = { .manifest = on_manifest };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct sig_trust trust;
	struct outfile of = { .fd = -1 };
	struct dev_pkg entry, *placed;
	struct dev_intake in;
	enum dev_result res;
	struct dev_record sys[FW_TARGET_SEC + 1];
	const struct dev_record *run;
	int rc = -1;
	char *final = NULL, *tmpname = NULL, old_file[sizeof(entry.file)] = "";

	memset(&u, 0, sizeof(u));
	memset(&rep, 0, sizeof(rep));
	memset(&entry, 0, sizeof(entry));
	memset(out, 0, sizeof(*out));
	sig_trust_init(&trust);
	u.root = r;
	u.req = req;
	u.result = DEV_RESULT_SYSTEM_ERROR;
	snprintf(u.path_for_name, sizeof(u.path_for_name), "%s", req->file_name);
	if (dev_intake_open(&in, r, req->src, "package install", NULL, 0, &res, err) < 0) {
		u.result = res;
		/* A label the device does not have is a typing mistake, not an attempt: nothing to record. */
		if (res == DEV_RESULT_NONE)
			goto out;
		goto fail;
	}
	if (dev_pkgs_load(r, &u.list, err) < 0)
		goto out;
	/* The firmware bounds (min_fw, max_fw) are judged against what runs now (dev_running). */
	for (int t = FW_TARGET_PRI; t <= FW_TARGET_SEC; t++)
		dev_record_load(r, (enum fw_target)t, &sys[t]);
	if (dev_running_now(r, &sys[FW_TARGET_PRI], &sys[FW_TARGET_SEC], &run, NULL, err) < 0)
		goto out;
	snprintf(u.running, sizeof(u.running), "%s", run != NULL ? run->version : "");
	if (dev_root_trust(r, &trust, err) < 0) {
		err->code = FW_EXIT_IO;
		goto fail;
	}
	ropts.trust = &trust;
	/* The temporary's name does not matter yet: it is renamed once the manifest names the package. */
	if ((tmpname = dev_pkg_path(r, "incoming.wmopkg")) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto fail;
	}
	if (outfile_open(&of, tmpname, 0644, OUTFILE_FORCE, err) < 0)
		goto fail;
	dev_intake_tee(&in, of.fd, DEV_INTAKE_TEE_READ);
	if ((res = dev_intake_read(&in, &ropts, &ops, &u, &u.result, &m, &rep, err)) != DEV_RESULT_SUCCESS) {
		u.result = res;
		goto fail;
	}
	u.result = DEV_RESULT_SYSTEM_ERROR;
	if (fill_entry(&entry, m, &rep, req, err) < 0)
		goto fail;
	/* Publish the file under its final name, then the index that names it: the index is the commit. */
	if ((final = dev_pkg_path(r, entry.file)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto fail;
	}
	/* Same directory, so the hidden temporary can take its final name now the manifest gave it. */
	free(of.path);
	of.path = final;
	final = NULL;
	if (outfile_commit(&of, OUTFILE_FORCE | OUTFILE_DURABLE, err) < 0) {
		u.result = DEV_RESULT_WRITE_FLASH_FAILED;
		goto fail;
	}
	if (u.old != NULL) {
		snprintf(old_file, sizeof(old_file), "%s", u.old->file);
		pkg_free(u.old);
		*u.old = entry;
		placed = u.old;
	} else if (u.list.n == DEV_PKG_MAX) {
		fw_err_set(err, FW_EXIT_REJECTED, "%d packages are installed already: remove one first", DEV_PKG_MAX);
		u.result = DEV_RESULT_POLICY_REFUSED;
		remove_pkg_file(r, entry.file);
		goto fail;
	} else {
		placed = &u.list.pkg[u.list.n++];
		*placed = entry;
	}
	memset(&entry, 0, sizeof(entry));
	if (dev_pkgs_save(r, &u.list, err) < 0) {
		u.result = DEV_RESULT_WRITE_FLASH_FAILED;
		goto fail;
	}
	/* Now the old bytes are named by nothing: a crash here leaves a leftover the next boot removes. */
	if (old_file[0] && strcmp(old_file, placed->file) != 0)
		remove_pkg_file(r, old_file);
	*out = *placed;
	out->description = NULL;
	out->paths = NULL;
	out->n_paths = 0;
	if (out->signature != DEV_PKG_TRUSTED)
		dev_note(u.req->note, u.req->note_ctx, "package: warning: %s is %s: stored, but activated only where the device allows untrusted packages%s",
		      m->name, out->signature == DEV_PKG_UNSIGNED ? "unsigned" : "signed by no key this device trusts",
		      r->cfg.secure_boot ? " and an unlock token for this device is installed (secure boot)" : "");
	{
		struct fw_err rerr;
		char msg[128];
		snprintf(msg, sizeof(msg), "installed %s %s (%s)", m->name, m->version, dev_pkg_verif_name(out->signature));
		if (record(r, DEV_RESULT_SUCCESS, m->name, req->src->shown, msg, &rerr) < 0)
			dev_note(u.req->note, u.req->note_ctx, "package: the result could not be recorded: %s", rerr.msg);
	}
	rc = 0;
	goto out;
fail:
	{
		struct fw_err rerr;
		/* Before its manifest was read (a network failure, say), the file's name names the package. */
		if (u.name[0] == '\0' && strlen(req->file_name) > strlen(FW_MOD_EXT))
			snprintf(u.name, sizeof(u.name), "%.*s", (int)(strlen(req->file_name) - strlen(FW_MOD_EXT)),
				 req->file_name);
		if (record(r, u.result, u.name, req->src->shown, err->msg, &rerr) < 0)
			dev_note(u.req->note, u.req->note_ctx, "package: the result could not be recorded: %s", rerr.msg);
	}
	if (u.result == DEV_RESULT_WRITE_FLASH_FAILED && err->code == FW_EXIT_REJECTED)
		err->code = FW_EXIT_IO;
out:
	outfile_abort(&of);
	if (in.net != NULL) {
		const struct dev_transport_info *ni = dev_transport_info(in.net);

		dev_note(req->note, req->note_ctx, "package: fetched %llu bytes over %s (%u connection%s, %u interruption%s)",
			 (unsigned long long)ni->fetched, dev_proto_name(ni->proto), ni->attempts,
			 ni->attempts == 1 ? "" : "s", ni->interruptions, ni->interruptions == 1 ? "" : "s");
	}
	dev_intake_close(&in);   /* closes the source, wipes a password */
	pkg_free(&entry);
	free(final);
	free(tmpname);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	dev_pkgs_free(&u.list);
	sig_trust_free(&trust);   /* CA certificates and CRLs live in an X.509 store */
	return rc;
}

/* ---- remove, factory reset ---- */

/* Save the index without the packages `drop` marks, then remove their files. */
static int drop_packages(struct dev_root *r, struct dev_pkg_list *l, const int *drop, struct fw_err *err)
{
	struct dev_pkg_list *keep = calloc(1, sizeof(*keep));
	char(*gone)[sizeof(l->pkg[0].file)] = calloc(DEV_PKG_MAX, sizeof(*gone));
	size_t n_gone = 0;
	int rc = -1;

	if (keep == NULL || gone == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (drop[i])
			snprintf(gone[n_gone++], sizeof(gone[0]), "%s", l->pkg[i].file);
		else
			keep->pkg[keep->n++] = l->pkg[i];
	}
	if (dev_pkgs_save(r, keep, err) < 0)
		goto out;
	for (size_t i = 0; i < n_gone; i++)
		remove_pkg_file(r, gone[i]);
	rc = 0;
out:
	free(keep);   /* its entries are l's */
	free(gone);
	return rc;
}

int dev_pkg_remove(struct dev_root *r, const char *name, size_t *removed, struct fw_err *err)
{
	struct dev_pkg_list *l = calloc(1, sizeof(*l));
	int drop[DEV_PKG_MAX] = { 0 }, rc = -1;

	*removed = 0;
	if (l == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (dev_pkgs_load(r, l, err) < 0)
		goto out;
	for (size_t i = 0; i < l->n; i++)
		if (name == NULL || strcmp(l->pkg[i].name, name) == 0) {
			drop[i] = 1;
			(*removed)++;
		}
	if (name != NULL && *removed == 0) {
		char shown[FW_ESCAPED_SIZE(FW_PKG_NAME_MAX + 8)];
		fw_err_set(err, FW_EXIT_USAGE, "no package \"%s\" is installed (see 'fwctl package list')",
			   fw_escape(name, shown, sizeof(shown)));
		goto out;
	}
	rc = *removed ? drop_packages(r, l, drop, err) : 0;
out:
	dev_pkgs_free(l);
	free(l);
	return rc;
}

int dev_remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *sub;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((sub = dev_path_join(path, e->d_name)) == NULL) {
			rc = -1;
			break;
		}
		if (dev_remove_tree(sub) < 0)
			rc = -1;
		free(sub);
	}
	closedir(d);
	return rmdir(path) < 0 ? -1 : rc;
}

int dev_factory_reset(struct dev_root *r, size_t *removed, size_t *kept, struct fw_err *err)
{
	struct dev_pkg_list *l = calloc(1, sizeof(*l));
	int drop[DEV_PKG_MAX] = { 0 }, rc = -1;
	char *cfg = NULL, *trash = NULL;

	*removed = *kept = 0;
	if (l == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (dev_pkgs_load(r, l, err) < 0)
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		drop[i] = !l->pkg[i].persistent;
		*removed += (size_t)drop[i];
	}
	*kept = l->n - *removed;
	if (*removed && drop_packages(r, l, drop, err) < 0)
		goto out;
	if (dev_unlock_remove(r, err) < 0)
		goto out;
	/* The running configuration goes whole: renamed away (atomic), then deleted. */
	cfg = dev_root_file(r, RUNNING_CONFIG);
	trash = dev_root_file(r, RUNNING_CONFIG ".removing");
	if (cfg == NULL || trash == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (access(cfg, F_OK) == 0) {
		fw_crash_point("removing", cfg);
		if (rename(cfg, trash) < 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: cannot remove: %s", cfg, strerror(errno));
			goto out;
		}
		if (fw_fsync_dir(r->dir, err) < 0)
			goto out;
	}
	dev_remove_tree(trash);
	rc = 0;
out:
	free(cfg);
	free(trash);
	dev_pkgs_free(l);
	free(l);
	return rc;
}

void dev_pkg_remove_leftovers(const struct dev_root *r, const struct dev_pkg_list *l)
{
	char *dir = dev_root_file(r, DEV_PACKAGE_DIR), *trash = dev_root_file(r, RUNNING_CONFIG ".removing");
	DIR *d;
	struct dirent *e;
	size_t len;

	if (trash != NULL)
		dev_remove_tree(trash);
	free(trash);
	if (dir == NULL)
		return;
	outfile_remove_leftovers(dir);
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			int named = 0;
			len = strlen(e->d_name);
			if (len <= strlen(FW_MOD_EXT) || strcmp(e->d_name + len - strlen(FW_MOD_EXT), FW_MOD_EXT) != 0)
				continue;
			for (size_t i = 0; i < l->n; i++)
				named |= strcmp(l->pkg[i].file, e->d_name) == 0;
			if (!named)
				remove_pkg_file(r, e->d_name);
		}
		closedir(d);
	}
	free(dir);
}
