/*
 * test_dev_pkgstore: the package store (index load and save, find, drop, remove, factory reset, leftovers)
 * and activation at boot (device/dev_pkgstore.c, device/dev_activate.c), on real device roots made by
 * build/fwctl init with real packages made by build/mkwmopkg; the install intake is not used: packages are
 * put in the store by hand, as an install leaves them.
 */
#include <errno.h>
#include <stdarg.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "device/dev_activate.h"
#include "device/dev_pkgstore.h"
#include "device/dev_root.h"
#include "tests/unit/unit_main.h"

static char bin[512];    /* the build directory: fwctl, mkwmopkg, fwpkg */
static char work[512];   /* this run's scratch directory */
static char root[600];
static struct dev_root r;
static int r_open;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int suite_init(void)
{
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -1;
	exe[n] = '\0';
	snprintf(bin, sizeof(bin), "%s", dirname(dirname(exe)));   /* build/tests/test_x -> build */
	snprintf(work, sizeof(work), "%s/fwpkgstore.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(work) == NULL)
		return -1;
	/* Keys k (trusted) and o; packages a and b (persistent allowed) signed by k, u by o (untrusted). */
	return sh("set -e; cd '%s'; '%s/fwpkg' keygen -q -W -p k.pub -s k.key; '%s/fwpkg' keygen -q -W -p o.pub -s o.key; "
		  "mkdir -p ta/files tb/files tu/files; echo a >ta/files/a.conf; echo b >tb/files/b.conf; echo u >tu/files/u.conf; "
		  "'%s/mkwmopkg' -q -o a.wmopkg -C ta --version 1.0 --product WX --chunk-size 4096 -k k.key; "
		  "mkdir v2; '%s/mkwmopkg' -q -o v2/a.wmopkg -C ta --version 1.1 --product WX --chunk-size 4096 -k k.key; "
		  "'%s/mkwmopkg' -q -o b.wmopkg -C tb --version 2.0 --product WX --chunk-size 4096 --persistent-allowed -k k.key; "
		  "'%s/mkwmopkg' -q -o u.wmopkg -C tu --version 3.0 --product WX --chunk-size 4096 -k o.key",
		  work, bin, bin, bin, bin, bin, bin) == 0 ? 0 : -1;
}

static int suite_clean(void)
{
	if (r_open)
		dev_root_close(&r);
	sh("rm -rf '%s'", work);
	return 0;
}

/* A fresh device root, open and locked; extra: more init options. */
static void fresh(const char *extra)
{
	struct fw_err err = { 0 };

	if (r_open)
		dev_root_close(&r);
	r_open = 0;
	snprintf(root, sizeof(root), "%s/dev", work);
	CU_ASSERT_EQUAL_FATAL(sh("rm -rf '%s' && '%s/fwctl' --root '%s' -q init --product WX --trust '%s/k.pub' "
				 "--version 5.22.0 %s >/dev/null", root, bin, root, work, extra), 0);
	CU_ASSERT_EQUAL_FATAL(dev_root_open(&r, root, 1, &err), 0);
	r_open = 1;
}

/* Put package NAME (work/NAME.wmopkg) in the store as an install leaves it: its file and its index entry. */
static void store(struct dev_pkg_list *l, const char *name, int persistent, enum dev_pkg_verif sig)
{
	struct dev_pkg *p = &l->pkg[l->n++];
	char cmd[2048];
	FILE *f;

	memset(p, 0, sizeof(*p));
	strncpy(p->name, name, sizeof(p->name) - 1);
	snprintf(cmd, sizeof(cmd), "tar -xOf '%s/%s.wmopkg' manifest.json | sha256sum", work, name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = popen(cmd, "r"));
	CU_ASSERT_EQUAL(fscanf(f, "%64s", p->id), 1);
	pclose(f);
	snprintf(p->version, sizeof(p->version), "%s", name[0] == 'a' ? "1.0" : name[0] == 'b' ? "2.0" : "3.0");
	{
		char id16[17];

		memcpy(id16, p->id, 16);
		id16[16] = '\0';
		snprintf(p->file, sizeof(p->file), "%s-%s.wmopkg", name, id16);
	}
	p->description = strdup("");
	p->persistent = persistent;
	p->signature = sig;
	p->installed = 1700000000;
	snprintf(p->source, sizeof(p->source), "%s.wmopkg", name);
	p->n_paths = 1;
	p->paths = calloc(1, sizeof(char *));
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->paths);
	CU_ASSERT_FATAL(asprintf(&p->paths[0], "files/%s.conf", name) > 0);
	CU_ASSERT_EQUAL(sh("cp '%s/%s.wmopkg' '%s/packages/%s'", work, name, root, p->file), 0);
}

static int exists(const char *rel)
{
	char path[2048];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return lstat(path, &st) == 0;
}

static void put(const char *rel, const char *text)
{
	char path[2048];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static struct dev_pkg_list l, back;

/* Saved and loaded back: every field, sorted by name, whatever the order saved. */
static void test_index_roundtrip(void)
{
	struct fw_err err = { 0 };
	const struct dev_pkg *p;

	fresh("");
	memset(&l, 0, sizeof(l));
	CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), 0);   /* no index: nothing installed */
	CU_ASSERT_EQUAL(back.n, 0);
	store(&l, "u", 0, DEV_PKG_UNTRUSTED);
	store(&l, "b", 1, DEV_PKG_TRUSTED);
	store(&l, "a", 0, DEV_PKG_TRUSTED);
	free(l.pkg[0].description);
	l.pkg[0].description = strdup("tab\there, \"quoted\"");
	CU_ASSERT_EQUAL(dev_pkgs_save(&r, &l, &err), 0);
	CU_ASSERT_EQUAL_FATAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL_FATAL(back.n, 3);
	CU_ASSERT_STRING_EQUAL(back.pkg[0].name, "a");
	CU_ASSERT_STRING_EQUAL(back.pkg[1].name, "b");
	CU_ASSERT_STRING_EQUAL(back.pkg[2].name, "u");
	p = dev_pkgs_find(&back, "b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->persistent, 1);
	CU_ASSERT_EQUAL(p->signature, DEV_PKG_TRUSTED);
	CU_ASSERT_STRING_EQUAL(p->version, "2.0");
	CU_ASSERT_STRING_EQUAL(p->id, l.pkg[1].id);
	CU_ASSERT_STRING_EQUAL(p->file, l.pkg[1].file);
	CU_ASSERT_EQUAL(p->installed, 1700000000);
	CU_ASSERT_EQUAL_FATAL(p->n_paths, 1);
	CU_ASSERT_STRING_EQUAL(p->paths[0], "files/b.conf");
	CU_ASSERT_EQUAL(p->verification, DEV_PKG_PENDING);   /* no boot saw it yet */
	p = dev_pkgs_find(&back, "u");
	CU_ASSERT_EQUAL(p->persistent, 0);
	CU_ASSERT_EQUAL(p->signature, DEV_PKG_UNTRUSTED);
	CU_ASSERT_STRING_EQUAL(p->description, "tab\there, \"quoted\"");
	CU_ASSERT_PTR_NULL(dev_pkgs_find(&back, "c"));
	/* drop: in memory only, the rest still sorted */
	dev_pkgs_drop(&back, 1);
	CU_ASSERT_EQUAL(back.n, 2);
	CU_ASSERT_STRING_EQUAL(back.pkg[1].name, "u");
	dev_pkgs_drop(&back, 5);
	CU_ASSERT_EQUAL(back.n, 2);
	dev_pkgs_free(&back);
	CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL(back.n, 3);
	dev_pkgs_free(&back);
	dev_pkgs_free(&l);
}

/* An index that is not one: refused (-1, FW_EXIT_IO), nothing loaded. */
static void test_index_refusals(void)
{
	static const char *const bad[] = {
		"[]",
		"{\"format\":\"other\",\"packages\":{}}",
		"{\"packages\":{}}",
		"{\"format\":\"fwctl-packages\",\"packages\":{\"a\":{\"file\":\"../x.wmopkg\"}}}",
		"{\"format\":\"fwctl-packages\",\"packages\":{\"a\":{\"file\":\"d/x.wmopkg\"}}}",
		"{\"format\":\"fwctl-packages\",\"packages\":{\"a\":{\"file\":\".x.wmopkg\"}}}",
		"{\"format\":\"fwctl-packages\",\"packages\":{\"a\":{\"file\":\"\"}}}",
		"{\"format\":\"fwctl-packages\",\"packages\":{\"a\":{}}}",
		"{\"format\":\"fwctl-packages\",\"packages\":{\"a\":7}}",
		"{\"format\":\"fwctl-packages\",\"packages\":{\"../a\":{\"file\":\"a.wmopkg\"}}}",
		"{\"format\":\"fwctl-packages\",\"packages\":{\"\":{\"file\":\"a.wmopkg\"}}}",
		"not json",
	};
	struct fw_err err;
	char many[64 * 80 + 200];
	size_t o;

	fresh("");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		put("packages/index.json", bad[i]);
		CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), -1);
		CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
		CU_ASSERT_EQUAL(back.n, 0);
		if (dev_pkgs_load(&r, &back, &err) == 0)
			fprintf(stderr, "\n  accepted: %s\n", bad[i]);
		dev_pkgs_free(&back);
	}
	/* DEV_PKG_MAX packages load; one more is refused. */
	for (int extra = 0; extra < 2; extra++) {
		o = (size_t)snprintf(many, sizeof(many), "{\"format\":\"fwctl-packages\",\"packages\":{");
		for (int i = 0; i < DEV_PKG_MAX + extra; i++)
			o += (size_t)snprintf(many + o, sizeof(many) - o, "%s\"p%02d\":{\"file\":\"p%02d.wmopkg\"}", i ? "," : "",
					      i, i);
		snprintf(many + o, sizeof(many) - o, "}}");
		put("packages/index.json", many);
		memset(&err, 0, sizeof(err));
		CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), extra ? -1 : 0);
		CU_ASSERT_EQUAL(back.n, extra ? 0 : DEV_PKG_MAX);
		dev_pkgs_free(&back);
	}
}

/* What the last boot found is merged only for the very bytes it saw (the same manifest id). */
static void test_index_findings(void)
{
	struct fw_err err = { 0 };
	char text[1024];

	fresh("");
	memset(&l, 0, sizeof(l));
	store(&l, "a", 0, DEV_PKG_TRUSTED);
	store(&l, "b", 0, DEV_PKG_TRUSTED);
	CU_ASSERT_EQUAL(dev_pkgs_save(&r, &l, &err), 0);
	snprintf(text, sizeof(text), "{\"packages\":{\"a\":{\"id\":\"%s\",\"verification\":\"failed\",\"active\":false,"
		 "\"note\":\"bad chunk\"},\"b\":{\"id\":\"%064d\",\"verification\":\"trusted\",\"active\":true}}}",
		 l.pkg[0].id, 0);
	put("packages/verified.json", text);
	CU_ASSERT_EQUAL_FATAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL(dev_pkgs_find(&back, "a")->verification, DEV_PKG_FAILED);
	CU_ASSERT_STRING_EQUAL(dev_pkgs_find(&back, "a")->note, "bad chunk");
	CU_ASSERT_EQUAL(dev_pkgs_find(&back, "b")->verification, DEV_PKG_PENDING);   /* other bytes */
	CU_ASSERT_EQUAL(dev_pkgs_find(&back, "b")->active, 0);
	dev_pkgs_free(&back);
	dev_pkgs_free(&l);
}

/* remove NAME: from the index, then its file; an unknown name is a usage error that changes nothing; all. */
static void test_remove(void)
{
	struct fw_err err = { 0 };
	char fa[sizeof(l.pkg[0].file) + 16], fb[sizeof(fa)], fu[sizeof(fa)];
	size_t n = 99;

	fresh("");
	memset(&l, 0, sizeof(l));
	store(&l, "a", 0, DEV_PKG_TRUSTED);
	store(&l, "b", 1, DEV_PKG_TRUSTED);
	store(&l, "u", 0, DEV_PKG_UNTRUSTED);
	snprintf(fa, sizeof(fa), "packages/%s", l.pkg[0].file);
	snprintf(fb, sizeof(fb), "packages/%s", l.pkg[1].file);
	snprintf(fu, sizeof(fu), "packages/%s", l.pkg[2].file);
	CU_ASSERT_EQUAL(dev_pkgs_save(&r, &l, &err), 0);
	dev_pkgs_free(&l);

	CU_ASSERT_EQUAL(dev_pkg_remove(&r, "nosuch", &n, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT(exists(fa) && exists(fb) && exists(fu));
	CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL(back.n, 3);
	dev_pkgs_free(&back);

	/* A persistent package goes by remove too. */
	CU_ASSERT_EQUAL(dev_pkg_remove(&r, "b", &n, &err), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(!exists(fb));
	CU_ASSERT(exists(fa) && exists(fu));
	CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL(back.n, 2);
	CU_ASSERT_PTR_NULL(dev_pkgs_find(&back, "b"));
	dev_pkgs_free(&back);

	CU_ASSERT_EQUAL(dev_pkg_remove(&r, NULL, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(!exists(fa) && !exists(fu));
	CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL(back.n, 0);
	CU_ASSERT_EQUAL(dev_pkg_remove(&r, NULL, &n, &err), 0);   /* nothing left: nothing to do */
	CU_ASSERT_EQUAL(n, 0);
}

/* Factory reset keeps persistent packages only, drops the running configuration; leftovers go at boot. */
static void test_factory_reset_and_leftovers(void)
{
	struct fw_err err = { 0 };
	char fa[sizeof(l.pkg[0].file) + 16], fb[sizeof(fa)];
	size_t removed = 99, kept = 99;

	fresh("");
	memset(&l, 0, sizeof(l));
	store(&l, "a", 0, DEV_PKG_TRUSTED);
	store(&l, "b", 1, DEV_PKG_TRUSTED);
	snprintf(fa, sizeof(fa), "packages/%s", l.pkg[0].file);
	snprintf(fb, sizeof(fb), "packages/%s", l.pkg[1].file);
	CU_ASSERT_EQUAL(dev_pkgs_save(&r, &l, &err), 0);
	dev_pkgs_free(&l);
	CU_ASSERT_EQUAL(sh("mkdir '%s/running-config'", root), 0);
	put("running-config/x", "y");
	CU_ASSERT_EQUAL(dev_factory_reset(&r, &removed, &kept, &err), 0);
	CU_ASSERT_EQUAL(removed, 1);
	CU_ASSERT_EQUAL(kept, 1);
	CU_ASSERT(!exists(fa));
	CU_ASSERT(exists(fb));
	CU_ASSERT(!exists("running-config"));
	CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL_FATAL(back.n, 1);
	CU_ASSERT_STRING_EQUAL(back.pkg[0].name, "b");

	/* A package file the index does not name (a power cut between file and index) is a leftover. */
	put("packages/z-0000000000000000.wmopkg", "leftover");
	put("packages/notes.txt", "not a package");
	dev_pkg_remove_leftovers(&r, &back);
	CU_ASSERT(!exists("packages/z-0000000000000000.wmopkg"));
	CU_ASSERT(exists("packages/notes.txt"));
	CU_ASSERT(exists(fb));
	dev_pkgs_free(&back);
}

static int notes;
static void count_note(void *ctx, const char *text)
{
	(void)ctx;
	(void)text;
	notes++;
}

/* A file under ROOT/active: the active tree as the running system sees it. */
static int active_has(const char *rel)
{
	char path[1024];

	snprintf(path, sizeof(path), "active/%s", rel);
	return exists(path);
}

/* Activation: trusted ones go in; untrusted only where allowed; a broken or swapped file stays out, never a failed boot. */
static void test_activate(void)
{
	struct dev_activate_result res;
	struct fw_err err = { 0 };
	char verified[1024];
	struct stat st1, st2;

	fresh("");
	CU_ASSERT_EQUAL(dev_activate(&r, "5.22.0", count_note, NULL, &res, &err), 0);   /* nothing installed */
	CU_ASSERT_EQUAL(res.installed, 0);
	CU_ASSERT_EQUAL(res.active, 0);
	CU_ASSERT(!exists("packages/verified.json"));   /* a plain boot writes nothing */

	memset(&l, 0, sizeof(l));
	store(&l, "a", 0, DEV_PKG_TRUSTED);
	store(&l, "u", 0, DEV_PKG_UNTRUSTED);
	CU_ASSERT_EQUAL(dev_pkgs_save(&r, &l, &err), 0);
	notes = 0;
	CU_ASSERT_EQUAL(dev_activate(&r, "5.22.0", count_note, NULL, &res, &err), 0);
	CU_ASSERT_EQUAL(res.installed, 2);
	CU_ASSERT_EQUAL(res.active, 1);
	CU_ASSERT_EQUAL(res.rebuilt, 1);
	CU_ASSERT(notes >= 1);   /* u: not activated, said so */
	CU_ASSERT(active_has("files/a.conf"));
	CU_ASSERT(!active_has("files/u.conf"));
	CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL(dev_pkgs_find(&back, "a")->verification, DEV_PKG_TRUSTED);
	CU_ASSERT_EQUAL(dev_pkgs_find(&back, "a")->active, 1);
	CU_ASSERT_EQUAL(dev_pkgs_find(&back, "u")->verification, DEV_PKG_UNTRUSTED);
	CU_ASSERT_EQUAL(dev_pkgs_find(&back, "u")->active, 0);
	dev_pkgs_free(&back);

	/* The same packages again: nothing rebuilt, nothing written. */
	snprintf(verified, sizeof(verified), "%s/packages/verified.json", root);
	CU_ASSERT_EQUAL(stat(verified, &st1), 0);
	CU_ASSERT_EQUAL(dev_activate(&r, "5.22.0", NULL, NULL, &res, &err), 0);
	CU_ASSERT_EQUAL(res.rebuilt, 0);
	CU_ASSERT_EQUAL(res.active, 1);
	CU_ASSERT_EQUAL(stat(verified, &st2), 0);
	CU_ASSERT_EQUAL(st1.st_ino, st2.st_ino);

	/* The file of a swapped for another version of a, signed by the same key: not the manifest installed. */
	CU_ASSERT_EQUAL(sh("cp '%s/v2/a.wmopkg' '%s/packages/%s'", work, root, l.pkg[0].file), 0);
	CU_ASSERT_EQUAL(dev_activate(&r, "5.22.0", NULL, NULL, &res, &err), 0);
	CU_ASSERT_EQUAL(res.active, 0);
	CU_ASSERT(!active_has("files/a.conf"));
	CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL(dev_pkgs_find(&back, "a")->verification, DEV_PKG_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(dev_pkgs_find(&back, "a")->note, "not the one installed"));
	dev_pkgs_free(&back);

	/* The file of a swapped for b's bytes (signed by the same key): its manifest is not the one installed. */
	CU_ASSERT_EQUAL(sh("cp '%s/b.wmopkg' '%s/packages/%s'", work, root, l.pkg[0].file), 0);
	CU_ASSERT_EQUAL(dev_activate(&r, "5.22.0", NULL, NULL, &res, &err), 0);
	CU_ASSERT_EQUAL(res.active, 0);
	CU_ASSERT(!active_has("files/a.conf"));
	CU_ASSERT(!active_has("files/b.conf"));
	CU_ASSERT_EQUAL(dev_pkgs_load(&r, &back, &err), 0);
	CU_ASSERT_EQUAL(dev_pkgs_find(&back, "a")->verification, DEV_PKG_FAILED);
	dev_pkgs_free(&back);

	/* Its own bytes with one flipped (a chunk that does not verify): failed, not active. */
	CU_ASSERT_EQUAL(sh("cp '%s/a.wmopkg' '%s/packages/%s' && printf X | dd of='%s/packages/%s' bs=1 seek=3000 "
			   "conv=notrunc 2>/dev/null", work, root, l.pkg[0].file, root, l.pkg[0].file), 0);
	CU_ASSERT_EQUAL(dev_activate(&r, "5.22.0", NULL, NULL, &res, &err), 0);
	CU_ASSERT_EQUAL(res.active, 0);
	CU_ASSERT(!active_has("files/a.conf"));

	/* Restored: active again. */
	CU_ASSERT_EQUAL(sh("cp '%s/a.wmopkg' '%s/packages/%s'", work, root, l.pkg[0].file), 0);
	CU_ASSERT_EQUAL(dev_activate(&r, "5.22.0", NULL, NULL, &res, &err), 0);
	CU_ASSERT_EQUAL(res.active, 1);
	CU_ASSERT(active_has("files/a.conf"));
	dev_pkgs_free(&l);

	/* A device that allows untrusted packages activates the untrusted one too. */
	fresh("--allow-untrusted");
	memset(&l, 0, sizeof(l));
	store(&l, "a", 0, DEV_PKG_TRUSTED);
	store(&l, "u", 0, DEV_PKG_UNTRUSTED);
	CU_ASSERT_EQUAL(dev_pkgs_save(&r, &l, &err), 0);
	CU_ASSERT_EQUAL(dev_activate(&r, "5.22.0", NULL, NULL, &res, &err), 0);
	CU_ASSERT_EQUAL(res.active, 2);
	CU_ASSERT(active_has("files/a.conf") && active_has("files/u.conf"));
	/* Removed from the index: its files leave the active tree at the next activation. */
	dev_pkgs_drop(&l, 1);
	CU_ASSERT_EQUAL(dev_pkgs_save(&r, &l, &err), 0);
	CU_ASSERT_EQUAL(dev_activate(&r, "5.22.0", NULL, NULL, &res, &err), 0);
	CU_ASSERT_EQUAL(res.active, 1);
	CU_ASSERT_EQUAL(res.rebuilt, 1);
	CU_ASSERT(active_has("files/a.conf") && !active_has("files/u.conf"));
	dev_pkgs_free(&l);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "index: save and load back", test_index_roundtrip },
		{ "index: refusals", test_index_refusals },
		{ "index: the boot's findings for the same bytes only", test_index_findings },
		{ "remove: one, unknown, all", test_remove },
		{ "factory reset keeps persistent packages; leftovers", test_factory_reset_and_leftovers },
		{ "activation at boot", test_activate },
	};

	return unit_run("dev_pkgstore", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
