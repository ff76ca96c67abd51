/* test_pkg: pkg_write and pkg_read together: callback order, verified-only delivery, refusals, determinism, re-signing. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "formats/pkg_read.h"
#include "formats/pkg_write.h"
#include "formats/sbom.h"
#include "signing/minisign.h"
#include "signing/trust.h"
#include "tests/unit/unit_main.h"

#define CHUNK 4096u

static char dir[] = "/tmp/fwpkg-unit-pkg.XXXXXX";
static char path_a[256], path_b[256], key1[256], pub1[256], key2[256], pub2[256];
static char img_sec[256], img_pri[256];
static struct sig_signer *sk1, *sk2;   /* minisign signers of k1 and k2 */
static struct sig_trust trust1, trust2, trust_both;

static void write_file(const char *path, size_t len, unsigned seed)
{
	FILE *f = fopen(path, "wb");

	for (size_t i = 0; i < len; i++)
		fputc((int)((i * 2654435761u + seed) >> 11) & 0xff, f);
	fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	FILE *f = fopen(path, "rb");

	if (f == NULL || fstat(fileno(f), &st) < 0)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	return buf;
}

static struct fw_manifest *sample_manifest(void)
{
	struct fw_manifest *m = fw_manifest_new(FW_TYPE_FIRMWARE);

	snprintf(m->version, sizeof(m->version), "5.22.2");
	fw_version_parse(m->version, &m->ver, NULL);
	m->created = 1700000000;
	m->n_products = 1;
	snprintf(m->products[0], sizeof(m->products[0]), "RFIR");
	m->n_images = m->n_payloads = 2;
	m->images[0] = (struct fw_image){ FW_TARGET_SEC, "RFIR", 0 };
	m->images[1] = (struct fw_image){ FW_TARGET_PRI, "RFIR", 1 };
	snprintf(m->payloads[0].name, sizeof(m->payloads[0].name), "RFIR-sec.img");
	snprintf(m->payloads[1].name, sizeof(m->payloads[1].name), "RFIR-pri.img");
	m->payloads[0].chunk_size = m->payloads[1].chunk_size = CHUNK;
	return m;
}

static int build(const char *out, struct sig_signer *const *keys, size_t n)
{
	const char *paths[] = { img_sec, img_pri };
	struct pkg_write_opts o = { .force = 1 };
	struct fw_err err = { 0 };
	struct fw_manifest *m = sample_manifest();
	int rc = pkg_write(out, m, paths, keys, n, &o, &err);

	if (rc < 0)
		fprintf(stderr, "pkg_write: %s\n", err.msg);
	fw_manifest_free(m);
	return rc;
}

static int setup(void)
{
	struct fw_err err = { 0 };
	struct sig_seckey *k1 = NULL, *k2 = NULL;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path_a, sizeof(path_a), "%s/a.pkg", dir);
	snprintf(path_b, sizeof(path_b), "%s/b.pkg", dir);
	snprintf(key1, sizeof(key1), "%s/k1.key", dir);
	snprintf(pub1, sizeof(pub1), "%s/k1.pub", dir);
	snprintf(key2, sizeof(key2), "%s/k2.key", dir);
	snprintf(pub2, sizeof(pub2), "%s/k2.pub", dir);
	snprintf(img_sec, sizeof(img_sec), "%s/sec.img", dir);
	snprintf(img_pri, sizeof(img_pri), "%s/pri.img", dir);
	write_file(img_sec, 3 * CHUNK + 100, 1);
	write_file(img_pri, 10 * CHUNK, 2);
	if (sig_keygen(pub1, key1, NULL, 0, &err) < 0 || sig_keygen(pub2, key2, NULL, 0, &err) < 0 ||
	    sig_seckey_load(key1, NULL, &k1, &err) < 0 || sig_signer_minisign(k1, &sk1, &err) < 0 ||
	    sig_seckey_load(key2, NULL, &k2, &err) < 0 || sig_signer_minisign(k2, &sk2, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	sig_trust_init(&trust1);
	sig_trust_init(&trust2);
	sig_trust_init(&trust_both);
	if (sig_trust_add_file(&trust1, pub1, &err) < 0 || sig_trust_add_file(&trust2, pub2, &err) < 0 ||
	    sig_trust_add_file(&trust_both, pub1, &err) < 0 || sig_trust_add_file(&trust_both, pub2, &err) < 0)
		return -1;
	return build(path_a, &sk1, 1);
}

static int teardown(void)
{
	char cmd[300];

	sig_signer_free(sk1);
	sig_signer_free(sk2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A consumer that records the order of calls and the bytes it got. */
struct recorder {
	char log[512];
	char *bytes[2];
	size_t len[2];
	size_t cur;
	int refuse_manifest;
};

static int rec_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct recorder *r = ctx;

	strcat(r->log, rep->valid_sigs ? "M+" : "M?");
	if (r->refuse_manifest)
		return fw_err_set(err, FW_EXIT_REJECTED, "policy: product %s not allowed", m->products[0]);
	return 0;
}

static int rec_begin(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct recorder *r = ctx;

	(void)m;
	(void)err;
	strcat(r->log, index == 0 ? "B0" : "B1");
	r->cur = index;
	r->bytes[index] = malloc(m->payloads[index].size + 1);
	return 1;
}

static int rec_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct recorder *r = ctx;

	(void)err;
	memcpy(r->bytes[r->cur] + r->len[r->cur], buf, len);
	r->len[r->cur] += len;
	return 0;
}

static int rec_end(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct recorder *r = ctx;

	(void)m;
	(void)err;
	strcat(r->log, index == 0 ? "E0" : "E1");
	return 0;
}

static const struct pkg_reader_ops rec_ops = { rec_manifest, rec_begin, rec_data, rec_end, NULL, NULL, NULL };

static int read_path(const char *path, const struct sig_trust *t, struct recorder *r,
		     struct pkg_report *rep, struct fw_err *err)
{
	struct pkg_read_opts o = { .trust = t, .threads = 2 };
	struct fw_manifest *m = NULL;
	int fd = open(path, O_RDONLY);
	int rc = pkg_read(fd, &o, &rec_ops, r, &m, rep, err);

	close(fd);
	fw_manifest_free(m);
	return rc;
}

static void free_recorder(struct recorder *r)
{
	free(r->bytes[0]);
	free(r->bytes[1]);
}

static void test_roundtrip_order_and_bytes(void)
{
	struct recorder r = { .log = "" };
	struct pkg_report rep;
	struct fw_err err = { 0 };
	size_t len;
	char *want;

	CU_ASSERT_EQUAL_FATAL(read_path(path_a, &trust1, &r, &rep, &err), 0);
	CU_ASSERT_STRING_EQUAL(r.log, "M+B0E0B1E1");
	CU_ASSERT_TRUE(rep.verified);
	CU_ASSERT_EQUAL(rep.valid_sigs, 1);
	want = slurp(img_sec, &len);
	CU_ASSERT_EQUAL(r.len[0], len);
	CU_ASSERT_EQUAL(memcmp(r.bytes[0], want, len), 0);
	free(want);
	want = slurp(img_pri, &len);
	CU_ASSERT_EQUAL(r.len[1], len);
	CU_ASSERT_EQUAL(memcmp(r.bytes[1], want, len), 0);
	free(want);
	pkg_report_free(&rep);
	free_recorder(&r);
}

static void test_policy_refusal_reads_no_payload(void)
{
	struct recorder r = { .log = "", .refuse_manifest = 1 };
	struct pkg_report rep;
	struct fw_err err = { 0 };

	CU_ASSERT_EQUAL(read_path(path_a, &trust1, &r, &rep, &err), -1);
	CU_ASSERT_STRING_EQUAL(r.log, "M+");
	CU_ASSERT_STRING_EQUAL(err.msg, "policy: product RFIR not allowed");
	pkg_report_free(&rep);
	free_recorder(&r);
}

static void test_untrusted_key_never_reaches_manifest(void)
{
	struct recorder r = { .log = "" };
	struct pkg_report rep;
	struct fw_err err = { 0 };

	CU_ASSERT_EQUAL(read_path(path_a, &trust2, &r, &rep, &err), -1);
	CU_ASSERT_STRING_EQUAL(r.log, "");
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no signature by a trusted key"));
	CU_ASSERT_EQUAL(rep.sigs[0].status, PKG_SIG_UNKNOWN_KEY);
	pkg_report_free(&rep);
	free_recorder(&r);
}

/* Flip one byte in chunk 3 of the primary: chunks 0-2 arrive, nothing after. */
static void test_tampered_chunk_not_delivered(void)
{
	struct recorder r = { .log = "" };
	struct pkg_report rep;
	struct fw_err err = { 0 };
	size_t len, pri_len;
	char *pkg = slurp(path_a, &len), *pri = slurp(img_pri, &pri_len);
	char *hit = memmem(pkg, len, pri, pri_len);
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(hit);
	hit[3 * CHUNK + 7] ^= 0x40;
	f = fopen(path_b, "wb");
	fwrite(pkg, 1, len, f);
	fclose(f);
	CU_ASSERT_EQUAL(read_path(path_b, &trust1, &r, &rep, &err), -1);
	CU_ASSERT_STRING_EQUAL(r.log, "M+B0E0B1");
	CU_ASSERT_EQUAL(r.len[1], 3 * CHUNK);
	CU_ASSERT_EQUAL(memcmp(r.bytes[1], pri, 3 * CHUNK), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "payload RFIR-pri.img: chunk 3 "));
	pkg_report_free(&rep);
	free_recorder(&r);
	free(pkg);
	free(pri);
}

static void test_deterministic(void)
{
	size_t la, lb;
	char *a, *b;

	CU_ASSERT_EQUAL_FATAL(build(path_b, &sk1, 1), 0);
	a = slurp(path_a, &la);
	b = slurp(path_b, &lb);
	CU_ASSERT_EQUAL(la, lb);
	CU_ASSERT_EQUAL(memcmp(a, b, la), 0);
	CU_ASSERT_EQUAL(la % 10240, 0);
	free(a);
	free(b);
}

/* A signature one block longer than the minisign signer predicts. */
static size_t wrong_len(const char *trusted_comment)
{
	return sig_text_len(trusted_comment) + 512;
}

/*
 * One pass (payloads written where the predicted layout puts them, as they
 * are hashed), two passes (no prediction: a CMS-like signer), and a wrong
 * prediction (the payloads written ahead are dropped and copied again) all
 * write the same bytes, and the package reads back.
 */
static void test_one_pass_and_two_passes_agree(void)
{
	size_t (*const lens[])(const char *) = { NULL, wrong_len };
	size_t la, lb;
	char *a, *b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sk1->text_len);
	CU_ASSERT_EQUAL_FATAL(build(path_a, &sk1, 1), 0);
	a = slurp(path_a, &la);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct sig_signer s = *sk1, *sp = &s;

		s.text_len = lens[i];
		CU_ASSERT_EQUAL_FATAL(build(path_b, &sp, 1), 0);
		b = slurp(path_b, &lb);
		CU_ASSERT_EQUAL(la, lb);
		CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
		free(b);
	}
	free(a);
}

static void test_add_signature_keeps_payload_bytes(void)
{
	struct pkg_write_opts o = { .force = 1 };
	struct recorder r = { .log = "" };
	struct pkg_report before, after;
	struct fw_err err = { 0 };
	struct pkg_read_opts ro = { .manifest_only = 1 };
	struct fw_manifest *m = NULL;
	size_t la, lb;
	char *a, *b;
	int fd;

	CU_ASSERT_EQUAL_FATAL(pkg_add_signatures(path_a, path_b, &sk2, 1, &o, &err), 0);
	fd = open(path_a, O_RDONLY);
	CU_ASSERT_EQUAL(pkg_read(fd, &ro, NULL, NULL, &m, &before, &err), 0);
	close(fd);
	fw_manifest_free(m);
	fd = open(path_b, O_RDONLY);
	CU_ASSERT_EQUAL(pkg_read(fd, &ro, NULL, NULL, &m, &after, &err), 0);
	close(fd);
	fw_manifest_free(m);
	CU_ASSERT_EQUAL(after.n_sigs, 2);
	CU_ASSERT_EQUAL(before.manifest_len, after.manifest_len);
	CU_ASSERT_EQUAL(memcmp(before.manifest_bytes, after.manifest_bytes, after.manifest_len), 0);
	a = slurp(path_a, &la);
	b = slurp(path_b, &lb);
	CU_ASSERT_EQUAL(la - before.first_payload_offset, lb - after.first_payload_offset);
	CU_ASSERT_EQUAL(memcmp(a + before.first_payload_offset, b + after.first_payload_offset,
			       la - before.first_payload_offset), 0);
	free(a);
	free(b);
	pkg_report_free(&before);
	pkg_report_free(&after);
	/* both keys verify it now, and two signatures are required and present */
	CU_ASSERT_EQUAL(read_path(path_b, &trust_both, &r, &after, &err), 0);
	CU_ASSERT_EQUAL(after.valid_sigs, 2);
	pkg_report_free(&after);
	free_recorder(&r);
}

/* SBOM: a package carrying one, built from the checked document. */
static const char sbom_doc[] = "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"version\": 1,\n"
			       " \"components\": [{\"type\": \"library\", \"name\": \"zlib\", \"version\": \"1.2.13\"}]}\n";

static int build_sbom(const char *out, const char *doc, size_t doc_len, struct fw_err *err)
{
	const char *paths[] = { img_sec, img_pri };
	struct pkg_write_opts o = { .force = 1, .sbom = sbom_doc, .sbom_len = sizeof(sbom_doc) - 1 };
	struct fw_manifest *m = sample_manifest();
	int rc = fw_sbom_check(sbom_doc, sizeof(sbom_doc) - 1, &m->sbom, err);

	/* The caller may hand over other bytes than it described: the writer must notice. */
	o.sbom = doc;
	o.sbom_len = doc_len;
	if (rc == 0)
		rc = pkg_write(out, m, paths, &sk1, 1, &o, err);
	fw_manifest_free(m);
	return rc;
}

static int sbom_seen(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	(void)err;
	/* Read and checked before the manifest callback, so inspect can show it. */
	*(int *)ctx = m->sbom.present && rep->sbom != NULL && rep->sbom_len == sizeof(sbom_doc) - 1 &&
		      memcmp(rep->sbom, sbom_doc, rep->sbom_len) == 0;
	return 0;
}

static int read_sbom_pkg(const char *path, int keep, int *seen, struct fw_manifest **m, struct pkg_report *rep,
			 struct fw_err *err)
{
	struct pkg_read_opts o = { .trust = &trust1, .threads = 2, .keep_sbom = keep };
	struct pkg_reader_ops ops = { .manifest = sbom_seen };
	int fd = open(path, O_RDONLY);
	int rc = pkg_read(fd, &o, &ops, seen, m, rep, err);

	close(fd);
	return rc;
}

/* A compressed package (format version 3): the consumer sees the same calls and image bytes as for
 * the uncompressed one, the image digests are the same, and a changed compressed byte stops the read. */
static void test_zstd_roundtrip(void)
{
	const char *paths[] = { img_sec, img_pri };
	struct pkg_write_opts o = { .force = 1, .zstd_level = 3, .zstd_frame_size = FW_ZSTD_FRAME_MIN };
	struct recorder r = { .log = "" }, plain = { .log = "" };
	struct pkg_report rep, rep_plain;
	struct fw_err err = { 0 };
	struct fw_manifest *m = sample_manifest(), *got = NULL, *ref = NULL;
	char path[300], bad[300], cmd[1024], *pkg;
	size_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/z.pkg", dir);
	snprintf(bad, sizeof(bad), "%s/zbad.pkg", dir);
	CU_ASSERT_EQUAL_FATAL(pkg_write(path, m, paths, &sk1, 1, &o, &err), 0);
	fw_manifest_free(m);
	CU_ASSERT_EQUAL_FATAL(read_path(path, &trust1, &r, &rep, &err), 0);
	CU_ASSERT_EQUAL_FATAL(read_path(path_a, &trust1, &plain, &rep_plain, &err), 0);
	CU_ASSERT_STRING_EQUAL(r.log, "M+B0E0B1E1");
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(r.len[i], plain.len[i]);
		CU_ASSERT(r.bytes[i] != NULL && memcmp(r.bytes[i], plain.bytes[i], plain.len[i]) == 0);
	}
	/* The manifests: version 3, the same image digests, and the payload offsets point at the frames. */
	fd = open(path, O_RDONLY);
	{
		struct pkg_read_opts ro = { .trust = &trust1, .manifest_only = 1 };
		struct pkg_report r2;

		CU_ASSERT_EQUAL(pkg_read(fd, &ro, NULL, NULL, &got, &r2, &err), 0);
		close(fd);
		fd = open(path_a, O_RDONLY);
		pkg_report_free(&rep_plain);   /* read again, manifest only */
		CU_ASSERT_EQUAL(pkg_read(fd, &ro, NULL, NULL, &ref, &rep_plain, &err), 0);
		close(fd);
		CU_ASSERT_FATAL(got != NULL && ref != NULL);
		CU_ASSERT_EQUAL(fw_manifest_format_version(got), FW_FORMAT_VERSION_ZSTD);
		for (int i = 0; i < 2; i++) {
			CU_ASSERT(got->payloads[i].zstd.on);
			CU_ASSERT_EQUAL(memcmp(got->payloads[i].digest, ref->payloads[i].digest, FW_DIGEST_LEN), 0);
		}
		pkg = slurp(path, &len);
		for (size_t i = 0; i < 2; i++) {
			uint64_t at = pkg_payload_data_offset(got, r2.first_payload_offset, i);

			CU_ASSERT(at + 4 <= len && memcmp(pkg + at, "\x28\xb5\x2f\xfd", 4) == 0);
			CU_ASSERT(at >= 512 && strcmp(pkg + at - 512, got->payloads[i].name) == 0);
		}
		/* A changed byte in the middle of pri's frames: refused, nothing of pri handed on. */
		{
			uint64_t at = pkg_payload_data_offset(got, r2.first_payload_offset, 1) + got->payloads[1].zstd.size / 2;
			struct recorder rb = { .log = "" };
			struct pkg_report rep_bad;

			snprintf(cmd, sizeof(cmd), "cp %s %s && printf 'X' | dd of=%s bs=1 seek=%llu conv=notrunc 2>/dev/null",
				 path, bad, bad, (unsigned long long)at);
			CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
			CU_ASSERT_EQUAL(read_path(bad, &trust1, &rb, &rep_bad, &err), -1);
			CU_ASSERT_EQUAL(err.kind, FW_KIND_MISMATCH);
			CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "compressed chunk"));
			CU_ASSERT_EQUAL(rb.len[1], 0);
			pkg_report_free(&rep_bad);
			free_recorder(&rb);
		}
		free(pkg);
		pkg_report_free(&r2);
	}
	fw_manifest_free(got);
	fw_manifest_free(ref);
	pkg_report_free(&rep);
	pkg_report_free(&rep_plain);
	free_recorder(&r);
	free_recorder(&plain);
}

/* A recorder that continues payload 1 (compressed) at a frame, from fd's first `image` bytes. */
struct zres {
	struct recorder r;   /* first: the rec_* callbacks take the context as a recorder */
	int fd;
	uint64_t image, zoffset;
	unsigned asked;
};

static int zres_at(void *ctx, const struct fw_manifest *m, size_t index, struct pkg_resume_at *at, struct fw_err *err)
{
	struct zres *z = ctx;

	(void)m;
	(void)err;
	z->asked |= 1u << index;
	if (index != 1 || z->fd < 0)
		return 0;
	at->fd = z->fd;
	at->image = z->image;
	at->zoffset = z->zoffset;
	return 1;
}

static int read_zres(const char *path, struct zres *z, struct pkg_report *rep, struct fw_err *err)
{
	static const struct pkg_reader_ops ops = { rec_manifest, rec_begin, rec_data, rec_end, NULL, zres_at, NULL };
	struct pkg_read_opts o = { .trust = &trust1, .threads = 2 };
	struct fw_manifest *m = NULL;
	int fd = open(path, O_RDONLY), rc;

	memset(&z->r, 0, sizeof(z->r));
	rc = pkg_read(fd, &o, &ops, z, &m, rep, err);
	close(fd);
	fw_manifest_free(m);
	return rc;
}

/*
 * A compressed image continued at a frame (pkg_reader_ops.resume_at): the report says where each frame
 * begins; continued at frame 2 from a file holding the image's first two frames, the caller gets the whole
 * image, though the package's compressed bytes before the frame's piece are garbage (passed over unread);
 * a flipped byte in the file's kept frames, or a frame offset that lies, fails the payload.
 */
static void test_zstd_resume_at(void)
{
	char big[300], kept[300], path[300], cmd[1200];
	const char *paths[] = { img_sec, big };
	struct pkg_write_opts o = { .force = 1, .zstd_level = 3, .zstd_frame_size = FW_ZSTD_FRAME_MIN };
	struct fw_manifest *m = sample_manifest();
	struct zres z = { .fd = -1 };
	struct pkg_report rep, rep2;
	struct fw_err err = { 0 };
	uint64_t z2, at, piece;
	size_t len;
	char *want;

	snprintf(big, sizeof(big), "%s/big.img", dir);
	snprintf(kept, sizeof(kept), "%s/kept.img", dir);
	snprintf(path, sizeof(path), "%s/zbig.pkg", dir);
	write_file(big, 3 * FW_ZSTD_FRAME_MIN + 500000, 9);
	want = slurp(big, &len);
	CU_ASSERT_EQUAL_FATAL(pkg_write(path, m, paths, &sk1, 1, &o, &err), 0);
	fw_manifest_free(m);
	/* Read whole: asked for both payloads, answered no; the frame table of pri, the last one handed on. */
	CU_ASSERT_EQUAL_FATAL(read_zres(path, &z, &rep, &err), 0);
	CU_ASSERT_EQUAL(z.asked, 3u);
	CU_ASSERT_EQUAL(rep.n_frame_at, 5);
	CU_ASSERT_EQUAL(pkg_report_frame_at(&rep, 0), 0);
	z2 = pkg_report_frame_at(&rep, 2);
	CU_ASSERT_FATAL(z2 > 0 && z2 < pkg_report_frame_at(&rep, 3) && pkg_report_frame_at(&rep, 5) == UINT64_MAX);
	free_recorder(&z.r);
	{
		struct pkg_read_opts ro = { .trust = &trust1, .manifest_only = 1 };
		struct fw_manifest *got = NULL;
		int fd = open(path, O_RDONLY);

		CU_ASSERT_EQUAL_FATAL(pkg_read(fd, &ro, NULL, NULL, &got, &rep2, &err), 0);
		close(fd);
		at = pkg_payload_data_offset(got, rep2.first_payload_offset, 1);
		piece = got->payloads[1].zstd.chunk_size;
		CU_ASSERT_EQUAL(pkg_report_frame_at(&rep, 4), got->payloads[1].zstd.size);
		fw_manifest_free(got);
		pkg_report_free(&rep2);
	}
	pkg_report_free(&rep);
	/* Garbage over pri's compressed bytes before frame 2's piece; the kept file: its first two frames. */
	snprintf(cmd, sizeof(cmd), "head -c %llu /dev/zero | tr '\\0' 'G' | dd of=%s bs=1M seek=%llu oflag=seek_bytes conv=notrunc 2>/dev/null"
		 " && head -c %u %s >%s", (unsigned long long)(z2 / piece * piece), path, (unsigned long long)at,
		 2 * FW_ZSTD_FRAME_MIN, big, kept);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	z.fd = open(kept, O_RDONLY);
	z.image = 2 * FW_ZSTD_FRAME_MIN;
	z.zoffset = z2;
	CU_ASSERT_EQUAL(read_zres(path, &z, &rep, &err), 0);
	CU_ASSERT_EQUAL(z.r.len[1], len);
	CU_ASSERT(z.r.bytes[1] != NULL && memcmp(z.r.bytes[1], want, len) == 0);
	CU_ASSERT_EQUAL(pkg_report_frame_at(&rep, 1), UINT64_MAX);
	CU_ASSERT_EQUAL(pkg_report_frame_at(&rep, 2), z2);
	free_recorder(&z.r);
	pkg_report_free(&rep);
	/* The offset one byte off: refused. */
	z.zoffset = z2 + 1;
	CU_ASSERT_EQUAL(read_zres(path, &z, &rep, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	free_recorder(&z.r);
	pkg_report_free(&rep);
	/* A flipped byte in the kept frames: the image's chunk list catches it. */
	close(z.fd);
	snprintf(cmd, sizeof(cmd), "printf 'X' | dd of=%s bs=1 seek=%u conv=notrunc 2>/dev/null", kept, FW_ZSTD_FRAME_MIN + 3);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	z.fd = open(kept, O_RDONLY);
	z.zoffset = z2;
	CU_ASSERT_EQUAL(read_zres(path, &z, &rep, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "SHA-256 mismatch"));
	CU_ASSERT(z.r.len[1] <= FW_ZSTD_FRAME_MIN);
	free_recorder(&z.r);
	pkg_report_free(&rep);
	close(z.fd);
	free(want);
}

static void test_sbom_roundtrip(void)
{
	char path[300];
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	size_t len, img_len;
	char *pkg, *img, *at;
	int seen = 0;

	snprintf(path, sizeof(path), "%s/sbom.pkg", dir);
	CU_ASSERT_EQUAL_FATAL(build_sbom(path, sbom_doc, sizeof(sbom_doc) - 1, &err), 0);
	CU_ASSERT_EQUAL_FATAL(read_sbom_pkg(path, 1, &seen, &m, &rep, &err), 0);
	CU_ASSERT_TRUE(seen);
	CU_ASSERT_TRUE(rep.verified);
	CU_ASSERT_TRUE(m->sbom.present);
	CU_ASSERT_EQUAL(m->sbom.components, 1);
	CU_ASSERT_EQUAL(rep.sbom_len, sizeof(sbom_doc) - 1);
	/* The payload offsets a device resumes from count the SBOM's entry. */
	pkg = slurp(path, &len);
	img = slurp(img_sec, &img_len);
	at = memmem(pkg, len, img, img_len);
	CU_ASSERT_PTR_NOT_NULL(at);
	if (at != NULL)
		CU_ASSERT_EQUAL(pkg_payload_data_offset(m, rep.first_payload_offset, 0), (uint64_t)(at - pkg));
	/* The first entry after the signatures is the SBOM's. */
	CU_ASSERT_EQUAL(memcmp(pkg + rep.first_payload_offset, FW_SBOM_ENTRY, sizeof(FW_SBOM_ENTRY)), 0);
	free(pkg);
	free(img);
	fw_manifest_free(m);
	pkg_report_free(&rep);

	/* Not kept unless asked (a device): still hashed and checked. */
	m = NULL;
	seen = 0;
	CU_ASSERT_EQUAL(read_sbom_pkg(path, 0, &seen, &m, &rep, &err), 0);
	CU_ASSERT_PTR_NULL(rep.sbom);
	CU_ASSERT_FALSE(seen);
	fw_manifest_free(m);
	pkg_report_free(&rep);
}

static void test_sbom_tampered(void)
{
	char path[300], bad[300];
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	size_t len;
	char *pkg, *hit;
	FILE *f;
	int seen = -1;

	snprintf(path, sizeof(path), "%s/sbom.pkg", dir);
	snprintf(bad, sizeof(bad), "%s/sbom-bad.pkg", dir);
	CU_ASSERT_EQUAL_FATAL(build_sbom(path, sbom_doc, sizeof(sbom_doc) - 1, &err), 0);
	pkg = slurp(path, &len);
	hit = memmem(pkg, len, "zlib", 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hit);
	hit[3] = 'x';
	f = fopen(bad, "wb");
	fwrite(pkg, 1, len, f);
	fclose(f);
	free(pkg);
	CU_ASSERT_EQUAL(read_sbom_pkg(bad, 1, &seen, &m, &rep, &err), -1);
	CU_ASSERT_PTR_NULL(m);
	CU_ASSERT_EQUAL(seen, -1);   /* the manifest callback never ran */
	CU_ASSERT_PTR_NULL(rep.sbom);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_EQUAL(err.kind, FW_KIND_MISMATCH);
	CU_ASSERT_STRING_EQUAL(err.msg, "sbom.cdx.json: SHA-256 does not match the signed manifest");
	pkg_report_free(&rep);
}

static void test_sbom_writer_checks(void)
{
	char path[300];
	struct fw_err err = { 0 };
	static const char other[] = "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": [{}]}";
	struct stat st;

	snprintf(path, sizeof(path), "%s/sbom-mismatch.pkg", dir);
	CU_ASSERT_EQUAL(build_sbom(path, other, sizeof(other) - 1, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not match the manifest's \"sbom\""));
	CU_ASSERT_EQUAL(stat(path, &st), -1);
}

static void test_sbom_kept_by_add_signature(void)
{
	char path[300];
	struct pkg_write_opts o = { .force = 1 };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	int seen = 0;

	snprintf(path, sizeof(path), "%s/sbom2.pkg", dir);
	CU_ASSERT_EQUAL_FATAL(build_sbom(path, sbom_doc, sizeof(sbom_doc) - 1, &err), 0);
	CU_ASSERT_EQUAL_FATAL(pkg_add_signatures(path, path, &sk2, 1, &o, &err), 0);
	CU_ASSERT_EQUAL(read_sbom_pkg(path, 1, &seen, &m, &rep, &err), 0);
	CU_ASSERT_TRUE(seen);
	CU_ASSERT_EQUAL(rep.n_sigs, 2);
	fw_manifest_free(m);
	pkg_report_free(&rep);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "round trip: callback order and bytes", test_roundtrip_order_and_bytes },
		{ "a policy refusal reads no payload", test_policy_refusal_reads_no_payload },
		{ "an untrusted signer never reaches the manifest", test_untrusted_key_never_reaches_manifest },
		{ "a tampered chunk is not delivered", test_tampered_chunk_not_delivered },
		{ "same inputs, same bytes", test_deterministic },
		{ "one pass, two passes, a wrong layout guess: same bytes", test_one_pass_and_two_passes_agree },
		{ "adding a signature keeps payload bytes", test_add_signature_keeps_payload_bytes },
		{ "SBOM: carried, read before the manifest callback, payload offsets count it", test_sbom_roundtrip },
		{ "SBOM: a tampered one is refused before anyone sees it", test_sbom_tampered },
		{ "SBOM: the writer refuses bytes other than the manifest describes", test_sbom_writer_checks },
		{ "SBOM: adding a signature keeps it", test_sbom_kept_by_add_signature },
		{ "compressed: the same calls and bytes, the same image digests, a changed byte refused", test_zstd_roundtrip },
		{ "compressed: continued at a frame from kept image bytes, earlier pieces unread", test_zstd_resume_at },
	};

	return unit_run("pkg", setup, teardown, tests, UNIT_COUNT(tests));
}
