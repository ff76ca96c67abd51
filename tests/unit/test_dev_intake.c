/* test_dev_intake: device/dev_intake's one outcome, driven by a scripted fake source: a cut at every read, a hook that refuses, a source that changes. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "device/dev_intake.h"
#include "formats/pkg_write.h"
#include "signing/minisign.h"
#include "signing/trust.h"

#define CHUNK 4096u
#define PIECE 1000u   /* the fake source's reads: small, as a network's */

static char dir[] = "/tmp/fwpkg-unit-intake.XXXXXX";
static char pkg_path[256], img_pri[256], key[256], pub[256], hook_refuse[256], hook_cat[256], kept_path[256];
static unsigned char *pkg;
static size_t pkg_len, eoa;   /* the package's length, where its tar end-of-archive marker ends */
static struct sig_trust trust;
static struct dev_root root;

/*
 * The scripted fake source: a pipe whose writer serves the package in
 * PIECE-byte reads and, as its script says, stops after `cut` bytes (the
 * stream ends there, as a cut connection's does) or flips the byte at
 * `flip` (the source changed under us).
 */
struct script {
	size_t cut;      /* bytes served before the end; pkg_len: all */
	size_t flip;     /* offset whose byte is served inverted; SIZE_MAX: none */
	int fd;
};

static void *serve(void *arg)
{
	struct script *s = arg;
	unsigned char buf[PIECE];

	for (size_t off = 0; off < s->cut;) {
		size_t n = s->cut - off < PIECE ? s->cut - off : PIECE;

		memcpy(buf, pkg + off, n);
		if (s->flip >= off && s->flip < off + n)
			buf[s->flip - off] ^= 0xff;
		if (write(s->fd, buf, n) != (ssize_t)n)
			break;   /* the reader stopped first */
		off += n;
	}
	close(s->fd);
	return NULL;
}

/* What the caller's sinks saw: a transaction's view of one read. */
struct sinks {
	int manifest, begun, ended;
	uint64_t data;
	enum dev_result stage;
};

static int on_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct sinks *k = ctx;

	(void)m;
	(void)rep;
	(void)err;
	k->manifest++;
	k->stage = DEV_RESULT_FILE_CHECK_FAILED;
	return 0;
}

static int on_begin(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct sinks *k = ctx;

	(void)m;
	(void)index;
	(void)err;
	k->begun++;
	return 1;
}

static int on_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct sinks *k = ctx;

	(void)buf;
	(void)err;
	k->data += len;
	return 0;
}

static int on_end(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct sinks *k = ctx;

	(void)m;
	(void)index;
	(void)err;
	k->ended++;
	return 0;
}

/* One read of the scripted source through the intake; the result, the sinks' view and err. */
static enum dev_result run(size_t cut, size_t flip, int tee_fd, struct sinks *k, struct fw_err *err)
{
	struct pkg_read_opts o = { .trust = &trust };
	struct pkg_reader_ops ops = { on_manifest, on_begin, on_data, on_end };
	struct dev_intake in;
	struct script s = { cut, flip, -1 };
	struct fw_manifest *m = NULL;
	struct pkg_report rep;
	pthread_t th;
	int p[2];
	enum dev_result res;

	memset(&rep, 0, sizeof(rep));
	memset(k, 0, sizeof(*k));
	k->stage = DEV_RESULT_POLICY_REFUSED;
	memset(err, 0, sizeof(*err));
	/* Close-on-exec, as every fd of fwctl's: a hook must not inherit the writing end and wait on itself. */
	if (pipe2(p, O_CLOEXEC) < 0)
		return DEV_RESULT_NONE;
	s.fd = p[1];
	pthread_create(&th, NULL, serve, &s);
	dev_intake_open_fd(&in, &root, p[0], "upgrade");
	if (tee_fd >= 0)
		dev_intake_tee(&in, tee_fd, DEV_INTAKE_TEE_READ);
	res = dev_intake_read(&in, &o, &ops, k, &k->stage, &m, &rep, err);
	dev_intake_close(&in);   /* closes p[0]: a writer still serving stops */
	pthread_join(th, NULL);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	return res;
}

static void write_file(const char *path, size_t len, unsigned seed)
{
	FILE *f = fopen(path, "wb");

	for (size_t i = 0; i < len; i++)
		fputc((int)((i * 2654435761u + seed) >> 11) & 0xff, f);
	fclose(f);
}

static int script_file(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	return chmod(path, 0755);
}

static int setup(void)
{
	struct fw_err err = { 0 };
	struct sig_seckey *k = NULL;
	struct sig_signer *sk = NULL;
	struct pkg_write_opts wo = { .force = 1 };
	struct fw_manifest *m = fw_manifest_new(FW_TYPE_FIRMWARE);
	const char *paths[] = { img_pri };
	struct stat st;
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(pkg_path, sizeof(pkg_path), "%s/fw.pkg", dir);
	snprintf(img_pri, sizeof(img_pri), "%s/pri.img", dir);
	snprintf(key, sizeof(key), "%s/k.key", dir);
	snprintf(pub, sizeof(pub), "%s/k.pub", dir);
	snprintf(hook_refuse, sizeof(hook_refuse), "%s/refuse", dir);
	snprintf(hook_cat, sizeof(hook_cat), "%s/cat", dir);
	snprintf(kept_path, sizeof(kept_path), "%s/kept", dir);
	write_file(img_pri, 5 * CHUNK + 77, 3);
	snprintf(m->version, sizeof(m->version), "5.22.2");
	fw_version_parse(m->version, &m->ver, NULL);
	m->created = 1700000000;
	m->n_products = 1;
	snprintf(m->products[0], sizeof(m->products[0]), "WX");
	m->n_images = m->n_payloads = 1;
	m->images[0] = (struct fw_image){ FW_TARGET_PRI, "WX", 0 };
	snprintf(m->payloads[0].name, sizeof(m->payloads[0].name), "WX-pri.img");
	m->payloads[0].chunk_size = CHUNK;
	if (sig_keygen(pub, key, NULL, 0, &err) < 0 || sig_seckey_load(key, NULL, &k, &err) < 0 ||
	    sig_signer_minisign(k, &sk, &err) < 0 || pkg_write(pkg_path, m, paths, &sk, 1, &wo, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	fw_manifest_free(m);
	sig_trust_init(&trust);
	if (sig_trust_add_file(&trust, pub, &err) < 0)
		return -1;
	if ((f = fopen(pkg_path, "rb")) == NULL || fstat(fileno(f), &st) < 0)
		return -1;
	pkg_len = (size_t)st.st_size;
	pkg = malloc(pkg_len);
	if (fread(pkg, 1, pkg_len, f) != pkg_len)
		return -1;
	fclose(f);
	/* The marker is two zero blocks after the last entry's last block; zeros after it are record padding. */
	for (eoa = pkg_len; eoa > 0 && pkg[eoa - 1] == 0; eoa--)
		;
	eoa = (eoa + 511) / 512 * 512 + 1024;
	if (script_file(hook_refuse, "cat >/dev/null; echo 'scanner: refused' >&2; exit 1") < 0 ||
	    script_file(hook_cat, "exec cat") < 0)
		return -1;
	memset(&root, 0, sizeof(root));
	root.cfg.hook_timeout = 10;
	return 0;
}

static int teardown(void)
{
	char cmd[300];

	free(pkg);
	sig_trust_free(&trust);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_whole(void)
{
	struct sinks k;
	struct fw_err err;

	CU_ASSERT_EQUAL(run(pkg_len, SIZE_MAX, -1, &k, &err), DEV_RESULT_SUCCESS);
	CU_ASSERT_EQUAL(k.manifest, 1);
	CU_ASSERT_EQUAL(k.begun, 1);
	CU_ASSERT_EQUAL(k.ended, 1);
	CU_ASSERT_EQUAL(k.data, 5 * CHUNK + 77);
}

/*
 * A cut after every read the source makes (and in the middle of each): never
 * success before the end-of-archive marker, and the result is the one
 * outcome the intake gives for where it stopped: before the manifest a bad
 * package (or its signature), after it the caller's stage.
 */
static void test_cut_at_every_read(void)
{
	struct sinks k;
	struct fw_err err;
	size_t cuts = 0;

	for (size_t cut = 0; cut < eoa; cut += PIECE / 2) {
		enum dev_result res = run(cut, SIZE_MAX, -1, &k, &err);

		cuts++;
		CU_ASSERT_NOT_EQUAL(res, DEV_RESULT_SUCCESS);
		if (res == DEV_RESULT_SUCCESS)
			fprintf(stderr, "cut at %zu of %zu: accepted\n", cut, pkg_len);
		CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
		CU_ASSERT(err.msg[0] != '\0');
		if (k.manifest)
			CU_ASSERT_EQUAL(res, DEV_RESULT_FILE_CHECK_FAILED)
		else
			CU_ASSERT(res == DEV_RESULT_FILE_CHECK_FAILED || res == DEV_RESULT_SIGNATURE_FAILED);
	}
	CU_ASSERT(cuts > eoa / PIECE);
	/* The last byte of the marker is needed too. */
	CU_ASSERT_NOT_EQUAL(run(eoa - 1, SIZE_MAX, -1, &k, &err), DEV_RESULT_SUCCESS);
}

/* A source that changes under the reader: one byte different anywhere is refused, nothing past it ended. */
static void test_source_changes(void)
{
	struct sinks k;
	struct fw_err err;

	for (size_t at = 100; at < eoa; at += 2999) {
		enum dev_result res = run(pkg_len, at, -1, &k, &err);

		CU_ASSERT_NOT_EQUAL(res, DEV_RESULT_SUCCESS);
		if (at < pkg_len / 2)
			CU_ASSERT_EQUAL(k.ended, 0);
		CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	}
}

/* A hook that refuses everything: securityViolation, whatever the package, with its stderr; a passing hook changes nothing. */
static void test_hook(void)
{
	struct sinks k;
	struct fw_err err;

	root.cfg.unpack_hook = hook_refuse;
	CU_ASSERT_EQUAL(run(pkg_len, SIZE_MAX, -1, &k, &err), DEV_RESULT_SECURITY_VIOLATION);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "scanner: refused"));
	CU_ASSERT_EQUAL(k.ended, 0);
	/* The hook's verdict comes before the reader's: a cut package is still its refusal. */
	CU_ASSERT_EQUAL(run(pkg_len / 2, SIZE_MAX, -1, &k, &err), DEV_RESULT_SECURITY_VIOLATION);
	root.cfg.unpack_hook = hook_cat;
	CU_ASSERT_EQUAL(run(pkg_len, SIZE_MAX, -1, &k, &err), DEV_RESULT_SUCCESS);
	CU_ASSERT_EQUAL(k.ended, 1);
	CU_ASSERT_EQUAL(run(pkg_len / 2, SIZE_MAX, -1, &k, &err), DEV_RESULT_FILE_CHECK_FAILED);
	CU_ASSERT_EQUAL(k.ended, 0);
	root.cfg.unpack_hook = NULL;
}

/* TEE_READ keeps exactly what the reader verified, with a hook or without. */
static void test_tee(void)
{
	struct sinks k;
	struct fw_err err;

	for (int h = 0; h < 2; h++) {
		int fd = open(kept_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		unsigned char *back = malloc(pkg_len + 1);

		root.cfg.unpack_hook = h ? hook_cat : NULL;
		CU_ASSERT_EQUAL(run(pkg_len, SIZE_MAX, fd, &k, &err), DEV_RESULT_SUCCESS);
		CU_ASSERT_EQUAL(pread(fd, back, pkg_len + 1, 0), (ssize_t)pkg_len);
		CU_ASSERT_EQUAL(memcmp(back, pkg, pkg_len), 0);
		free(back);
		close(fd);
	}
	root.cfg.unpack_hook = NULL;
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("dev_intake", setup, teardown);
	CU_add_test(s, "a whole package: success, every sink called once", test_whole);
	CU_add_test(s, "a cut at every read: never success, nothing ended, one classification", test_cut_at_every_read);
	CU_add_test(s, "a source that changes: refused, nothing past the change ended", test_source_changes);
	CU_add_test(s, "a hook that refuses everything: securityViolation before the reader's verdict", test_hook);
	CU_add_test(s, "a tee keeps exactly the verified bytes, through a hook too", test_tee);
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
