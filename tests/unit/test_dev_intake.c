/* test_dev_intake: device/dev_intake's one outcome, and the upgrade transaction and the download on it, driven by a scripted fake source: a cut at every read, a hook that refuses, a source that changes. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "device/dev_download.h"
#include "device/dev_init.h"
#include "device/dev_intake.h"
#include "device/dev_slot.h"
#include "device/dev_smart.h"
#include "device/dev_upgrade.h"
#include "formats/chunk.h"
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
	struct pkg_reader_ops ops = { on_manifest, on_begin, on_data, on_end, NULL, NULL, NULL };
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
	m->image_generation = 1;
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
	sig_signer_free(sk);   /* and the key it took */
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
	snprintf(cmd, sizeof(cmd), "%s %s", getenv("KEEP") ? "echo" : "rm -rf", dir);
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

/* ---- the upgrade transaction (dev_upgrade) over the intake, on a device root, the package on its stdin ---- */

static char devdir[300];
static struct dev_root dev;

static int dev_setup(void)
{
	struct dev_init_opts o = { .version = "5.20.0", .generation = 1 };
	struct fw_err err = { 0 };

	snprintf(devdir, sizeof(devdir), "%s/dev", dir);
	memset(&dev, 0, sizeof(dev));
	dev.lock_fd = -1;
	dev_config_defaults(&dev.cfg);
	dev.cfg.hook_timeout = 10;
	dev.cfg.trial_boots = 3;
	snprintf(dev.cfg.product, sizeof(dev.cfg.product), "WX");
	for (int t = 0; t < DEV_SLOT_COUNT; t++) {
		char def[32];

		snprintf(def, sizeof(def), "slots/%s", dev_slot_name(t));
		dev.cfg.slot[t] = strdup(def);
	}
	o.trust[o.n_trust++] = pub;
	dev.dir = strdup(devdir);
	if (dev_init(&dev, &o, &err) < 0) {
		fprintf(stderr, "dev_init: %s\n", err.msg);
		return -1;
	}
	/* As fwctl opens it: the configuration read back, the slot paths resolved, the lock taken. */
	dev_root_close(&dev);
	if (dev_root_open(&dev, devdir, 1, &err) < 0) {
		fprintf(stderr, "dev_root_open: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int dev_teardown(void)
{
	dev_root_close(&dev);
	return teardown();
}

/* A digest of a slot's bytes, to prove a refusal left it as it was. */
static unsigned long long slot_sum(int t)
{
	unsigned long long h = 1469598103934665603ull;
	FILE *f = fopen(dev.slot_path[t], "rb");
	int c;

	if (f == NULL)
		return 0;
	while ((c = fgetc(f)) != EOF)
		h = (h ^ (unsigned)c) * 1099511628211ull;
	fclose(f);
	return h;
}

/* `upgrade force pri -` with the scripted source on stdin. */
static int upgrade(size_t cut, size_t flip, struct dev_upgrade_out *out, struct fw_err *err)
{
	struct dev_source src = { .kind = DEV_SRC_STDIN };
	struct dev_upgrade_req req = { .target = FW_TARGET_PRI, .force = 1, .src = &src };
	struct script sc = { cut, flip, -1 };
	pthread_t th;
	int p[2], saved = dup(STDIN_FILENO), rc;

	snprintf(src.shown, sizeof(src.shown), "-");
	memset(err, 0, sizeof(*err));
	if (pipe2(p, O_CLOEXEC) < 0)
		return -2;
	sc.fd = p[1];
	pthread_create(&th, NULL, serve, &sc);
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	rc = dev_upgrade(&dev, &req, out, err);
	dup2(saved, STDIN_FILENO);   /* the intake leaves stdin open; closing ours lets a writer still serving stop */
	close(saved);
	pthread_join(th, NULL);
	return rc;
}

static void last_is(enum dev_result want)
{
	struct dev_state st;
	struct fw_err err = { 0 };

	CU_ASSERT_EQUAL_FATAL(dev_state_load(&dev, &st, &err), 0);
	CU_ASSERT_EQUAL(st.last.result, want);
}

static void test_txn_whole(void)
{
	struct dev_upgrade_out out;
	struct dev_record rec;
	struct fw_err err;

	CU_ASSERT_EQUAL(upgrade(pkg_len, SIZE_MAX, &out, &err), 0);
	CU_ASSERT_EQUAL(out.result, DEV_RESULT_SUCCESS);
	CU_ASSERT_EQUAL(out.installed, 1u << FW_TARGET_PRI);
	dev_record_load(&dev, FW_TARGET_PRI, &rec);
	CU_ASSERT(rec.valid && strcmp(rec.version, "5.22.2") == 0);
	last_is(DEV_RESULT_SUCCESS);
}

/*
 * A cut after every read: never committed, the secondary (the fallback)
 * never touched, each attempt recorded with the intake's one result; the
 * primary's record goes not valid before its first byte changes.
 */
static void test_txn_cut_at_every_read(void)
{
	struct dev_upgrade_out out;
	struct dev_record rec;
	struct fw_err err;
	unsigned long long sec = slot_sum(FW_TARGET_SEC);

	for (size_t cut = 0; cut < eoa; cut += PIECE) {
		unsigned long long pri = slot_sum(FW_TARGET_PRI);

		CU_ASSERT_EQUAL(upgrade(cut, SIZE_MAX, &out, &err), -1);
		CU_ASSERT_EQUAL(out.installed, 0);
		CU_ASSERT(out.result == DEV_RESULT_FILE_CHECK_FAILED || out.result == DEV_RESULT_SIGNATURE_FAILED);
		CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
		last_is(out.result);
		/* Valid only as long as its bytes are the ones it vouched for. */
		dev_record_load(&dev, FW_TARGET_PRI, &rec);
		if (rec.valid)
			CU_ASSERT_EQUAL(slot_sum(FW_TARGET_PRI), pri);
	}
	CU_ASSERT_EQUAL(slot_sum(FW_TARGET_SEC), sec);
	/* And the whole package again: committed. */
	CU_ASSERT_EQUAL(upgrade(pkg_len, SIZE_MAX, &out, &err), 0);
}

/* A source that changes under the transaction: refused, the primary not committed, sec untouched. */
static void test_txn_source_changes(void)
{
	struct dev_upgrade_out out;
	struct dev_record rec;
	struct fw_err err;
	unsigned long long sec = slot_sum(FW_TARGET_SEC);

	for (size_t at = 100; at < eoa; at += 2999) {
		unsigned long long pri = slot_sum(FW_TARGET_PRI);

		CU_ASSERT_EQUAL(upgrade(pkg_len, at, &out, &err), -1);
		CU_ASSERT_EQUAL(out.installed, 0);
		CU_ASSERT_NOT_EQUAL(out.result, DEV_RESULT_SUCCESS);
		/* Valid only as long as its bytes are the ones it vouched for. */
		dev_record_load(&dev, FW_TARGET_PRI, &rec);
		if (rec.valid)
			CU_ASSERT_EQUAL(slot_sum(FW_TARGET_PRI), pri);
	}
	CU_ASSERT_EQUAL(slot_sum(FW_TARGET_SEC), sec);
	CU_ASSERT_EQUAL(upgrade(pkg_len, SIZE_MAX, &out, &err), 0);
}

/* A hook that refuses everything stops the transaction: securityViolation, its stderr recorded, no slot changed. */
static void test_txn_hook_refuses(void)
{
	struct dev_upgrade_out out;
	struct dev_state st;
	struct fw_err err;
	unsigned long long pri = slot_sum(FW_TARGET_PRI), sec = slot_sum(FW_TARGET_SEC);

	dev.cfg.unpack_hook = strdup(hook_refuse);
	CU_ASSERT_EQUAL(upgrade(pkg_len, SIZE_MAX, &out, &err), -1);
	CU_ASSERT_EQUAL(out.result, DEV_RESULT_SECURITY_VIOLATION);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_EQUAL(out.installed, 0);
	CU_ASSERT_EQUAL(dev_state_load(&dev, &st, &err), 0);
	CU_ASSERT_EQUAL(st.last.result, DEV_RESULT_SECURITY_VIOLATION);
	CU_ASSERT_STRING_EQUAL(st.last.hook_stderr, "scanner: refused");
	CU_ASSERT_EQUAL(slot_sum(FW_TARGET_PRI), pri);
	CU_ASSERT_EQUAL(slot_sum(FW_TARGET_SEC), sec);
	free(dev.cfg.unpack_hook);
	dev.cfg.unpack_hook = NULL;
}

/* ---- the download (dev_download) over the intake: the scripted source is a small HTTP server ---- */

/*
 * One connection at a time, Connection: close. It honours "Range: bytes=A-"
 * (and A-B), serves the package with the byte at `flip` inverted, cuts the
 * first `cuts` connections after `cut` body bytes, and once `dead` closes
 * every connection unanswered (a server gone).
 */
static struct {
	int lfd;
	unsigned port;
	size_t cut, flip;
	int cuts, dead;
	pthread_t th;
} web;

static void *web_run(void *arg)
{
	char req[4096], head[512];
	int c;

	(void)arg;
	while ((c = accept(web.lfd, NULL, NULL)) >= 0) {
		size_t got = 0, a = 0, b = pkg_len - 1;
		const char *r;
		ssize_t n;

		while (got < sizeof(req) - 1 && (n = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[got] = '\0';
		if (web.dead) {
			close(c);
			continue;
		}
		if ((r = strstr(req, "Range: bytes=")) != NULL && sscanf(r, "Range: bytes=%zu-%zu", &a, &b) < 1)
			a = 0;
		if (b >= pkg_len)
			b = pkg_len - 1;
		n = a > 0 || r != NULL
			    ? snprintf(head, sizeof(head), "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %zu-%zu/%zu\r\n", a, b, pkg_len)
			    : snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n");
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\nETag: \"e1\"\r\n"
			      "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\nConnection: close\r\n\r\n", b + 1 - a);
		if (write(c, head, (size_t)n) == n) {
			size_t end = b + 1;

			if (web.cuts > 0 && a + web.cut < end) {
				end = a + web.cut;
				web.cuts--;
			}
			for (size_t off = a; off < end; off++) {
				unsigned char byte = pkg[off] ^ (off == web.flip ? 0xff : 0);

				if (write(c, &byte, 1) != 1)
					break;
			}
		}
		close(c);
	}
	return NULL;
}

static int web_start(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((web.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 || bind(web.lfd, (struct sockaddr *)&sa, len) < 0 ||
	    listen(web.lfd, 8) < 0 || getsockname(web.lfd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	web.port = ntohs(sa.sin_port);
	web.flip = SIZE_MAX;
	return pthread_create(&web.th, NULL, web_run, NULL) == 0 ? 0 : -1;
}

static struct dev_smart_release dl_step;

/* The catalog's step, as a check that accepted it would leave it; no download under way. */
static int dl_setup(void)
{
	struct dev_smart_state st;
	struct pkg_read_opts o = { .manifest_only = 1 };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	int fd = open(pkg_path, O_RDONLY | O_CLOEXEC), rc;

	memset(&rep, 0, sizeof(rep));
	if (fd < 0 || web_start() < 0)
		return -1;
	rc = pkg_read(fd, &o, &(struct pkg_reader_ops){ 0 }, NULL, &m, &rep, &err);
	close(fd);
	if (rc < 0 || dev_smart_load(&dev, &st, &err) < 0)
		return -1;
	st.has_step = 1;
	snprintf(st.step.version, sizeof(st.step.version), "5.22.2");
	snprintf(st.step.url[0], sizeof(st.step.url[0]), "http://127.0.0.1:%u/fw.pkg", web.port);
	st.step.n_urls = 1;
	st.step.length = pkg_len;
	chunk_sha256(rep.manifest_bytes, rep.manifest_len, st.step.manifest_sha256);
	snprintf(st.step.product, sizeof(st.step.product), "WX");
	st.step.generation = 1;
	fw_manifest_free(m);
	pkg_report_free(&rep);
	dev.cfg.net_retries = 2;
	dl_step = st.step;
	/* The device runs 5.20.0 again (the upgrade tests installed 5.22.2): the download asks the install's policy. */
	for (int t = 0; t < FW_TARGET_COUNT; t++) {
		struct dev_record rec;

		dev_record_load(&dev, t, &rec);
		if (rec.valid && strcmp(rec.version, "5.22.2") == 0) {
			snprintf(rec.version, sizeof(rec.version), "5.20.0");
			if (dev_record_save(&dev, t, &rec, &err) < 0)
				return -1;
		}
	}
	return dev_smart_save(&dev, &st, &err);
}

static int dl_teardown(void)
{
	shutdown(web.lfd, SHUT_RDWR);
	close(web.lfd);
	pthread_join(web.th, NULL);
	return dev_teardown();
}

/* Forget the last download: nothing on disk, nothing in the state; the step as the check left it, nothing refused. */
static void dl_reset(void)
{
	struct dev_smart_state st;
	struct fw_err err = { 0 };

	dev_download_discard(&dev);
	CU_ASSERT_EQUAL_FATAL(dev_smart_load(&dev, &st, &err), 0);
	st.has_step = 1;
	st.step = dl_step;
	st.n_refused = 0;
	st.dl_complete = 0;
	st.dl_bytes = 0;
	st.dl_etag[0] = '\0';
	st.dl_mtime = st.dl_size = -1;
	CU_ASSERT_EQUAL_FATAL(dev_smart_save(&dev, &st, &err), 0);
}

/* Is the file at ROOT/rel the package, byte for byte (1), another (0), or missing (-1)? */
static int holds_pkg(const char *rel)
{
	char *path = dev_root_file(&dev, rel);
	unsigned char *back = malloc(pkg_len + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC), same = -1;

	if (fd >= 0) {
		same = pread(fd, back, pkg_len + 1, 0) == (ssize_t)pkg_len && memcmp(back, pkg, pkg_len) == 0;
		close(fd);
	}
	free(back);
	free(path);
	return same;
}

static void test_dl_whole(void)
{
	struct dev_download_out out;
	struct fw_err err = { 0 };

	dl_reset();
	CU_ASSERT_EQUAL(dev_download(&dev, 1700000000, &out, &err), 0);
	CU_ASSERT_STRING_EQUAL(out.result, "success");
	CU_ASSERT_EQUAL(holds_pkg(DEV_DOWNLOAD_FILE), 1);
}

/*
 * A cut after every 4000 bytes, the server then gone: netError, the bytes so
 * far kept; with the server back the next download splices them in through
 * the intake (read back, verified again) and fetches only the rest.
 */
static void test_dl_cut_then_resume(void)
{
	struct dev_download_out out;
	struct fw_err err;

	for (size_t cut = 4000; cut < pkg_len; cut += 4000) {
		dl_reset();
		memset(&err, 0, sizeof(err));
		/* The connection is cut after `cut` bytes, and no retry is allowed: netError, the bytes kept. */
		web.cut = cut;
		web.cuts = 1;
		dev.cfg.net_retries = 0;
		CU_ASSERT_EQUAL(dev_download(&dev, 1700000000, &out, &err), -1);
		CU_ASSERT_STRING_EQUAL(out.result, "netError");
		CU_ASSERT_EQUAL(err.code, FW_EXIT_NET);
		CU_ASSERT_EQUAL(holds_pkg(DEV_DOWNLOAD_FILE), -1);
		dev.cfg.net_retries = 2;
		web.cuts = 0;
		memset(&err, 0, sizeof(err));
		CU_ASSERT_EQUAL(dev_download(&dev, 1700000000, &out, &err), 0);
		CU_ASSERT_STRING_EQUAL(out.result, "success");
		CU_ASSERT_EQUAL(out.resumed_from, cut);
		CU_ASSERT_EQUAL(out.fetched, pkg_len - cut);
		CU_ASSERT_EQUAL(holds_pkg(DEV_DOWNLOAD_FILE), 1);
	}
}

/* A source that changes: the package is refused and nothing of it is kept. */
static void test_dl_source_changes(void)
{
	struct dev_download_out out;
	struct fw_err err;

	for (size_t at = 100; at < eoa; at += 2999) {
		dl_reset();
		memset(&err, 0, sizeof(err));
		web.flip = at;
		CU_ASSERT_EQUAL(dev_download(&dev, 1700000000, &out, &err), -1);
		CU_ASSERT(strcmp(out.result, "fileCheckFailed") == 0 || strcmp(out.result, "signatureFailed") == 0 ||
			  strcmp(out.result, "fileNotMatch") == 0);
		CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
		CU_ASSERT_EQUAL(holds_pkg(DEV_DOWNLOAD_FILE), -1);
		CU_ASSERT_EQUAL(holds_pkg(DEV_DOWNLOAD_PART), -1);
	}
	web.flip = SIZE_MAX;
}

/* A hook that refuses everything stops a download as it stops an upgrade: securityViolation, nothing kept. */
static void test_dl_hook_refuses(void)
{
	struct dev_download_out out;
	struct fw_err err = { 0 };

	dl_reset();
	dev.cfg.unpack_hook = strdup(hook_refuse);
	CU_ASSERT_EQUAL(dev_download(&dev, 1700000000, &out, &err), -1);
	CU_ASSERT_STRING_EQUAL(out.result, "securityViolation");
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "scanner: refused"));
	CU_ASSERT_EQUAL(holds_pkg(DEV_DOWNLOAD_FILE), -1);
	CU_ASSERT_EQUAL(holds_pkg(DEV_DOWNLOAD_PART), -1);
	free(dev.cfg.unpack_hook);
	dev.cfg.unpack_hook = NULL;
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("dev_intake", setup, NULL);   /* the package and scripts serve the next suite too */
	CU_add_test(s, "a whole package: success, every sink called once", test_whole);
	CU_add_test(s, "a cut at every read: never success, nothing ended, one classification", test_cut_at_every_read);
	CU_add_test(s, "a source that changes: refused, nothing past the change ended", test_source_changes);
	CU_add_test(s, "a hook that refuses everything: securityViolation before the reader's verdict", test_hook);
	CU_add_test(s, "a tee keeps exactly the verified bytes, through a hook too", test_tee);
	s = CU_add_suite("dev_upgrade over the intake", dev_setup, NULL);   /* the device serves the next suite too */
	CU_add_test(s, "a whole package from stdin: pri committed, recorded", test_txn_whole);
	CU_add_test(s, "a cut at every read: nothing committed, sec untouched, recorded", test_txn_cut_at_every_read);
	CU_add_test(s, "a source that changes: nothing committed, sec untouched", test_txn_source_changes);
	CU_add_test(s, "a hook that refuses everything: securityViolation, no slot changed", test_txn_hook_refuses);
	s = CU_add_suite("dev_download over the intake", dl_setup, dl_teardown);
	CU_add_test(s, "a whole package over HTTP: kept whole", test_dl_whole);
	CU_add_test(s, "a cut after every 4000 bytes: netError, then resumed from the kept bytes", test_dl_cut_then_resume);
	CU_add_test(s, "a source that changes: refused, nothing kept", test_dl_source_changes);
	CU_add_test(s, "a hook that refuses everything: securityViolation, nothing kept", test_dl_hook_refuses);
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
