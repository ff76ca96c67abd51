/* pkg_write: hash payloads (pass one), then write manifest, signatures and payloads as ustar entries (pass two). */
#include "pkg_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunk.h"
#include "base/escape.h"
#include "base/outfile.h"
#include "base/sha256.h"
#include "pkg_read.h"
#include "tar_write.h"
#include "zstd_write.h"


/*
 * An output that can never be replaced by a file (a directory, even with -f)
 * is refused before any input is hashed, not by the final rename.
 */
static int check_out_path(const char *out_path, struct fw_err *err)
{
	struct stat st;

	if (stat(out_path, &st) == 0 && S_ISDIR(st.st_mode))
		return fw_err_set(err, FW_EXIT_USAGE, "%s: is a directory", out_path);
	return 0;
}

struct progress {
	const struct pkg_write_opts *opts;
	uint64_t done, total;
};

static void progress_add(void *ctx, uint64_t bytes)
{
	struct progress *p = ctx;

	p->done += bytes;
	if (p->opts->progress != NULL)
		p->opts->progress(p->opts->progress_ctx, p->done, p->total);
}

void pkg_trusted_comment(const struct fw_manifest *m, int64_t signed_at, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "timestamp:%lld\tfile:%s\ttype:%s\tversion:%s", (long long)m->created,
			 PKG_MANIFEST_NAME, m->type == FW_TYPE_FIRMWARE ? "firmware" : "modification",
			 m->version);

	if (signed_at >= 0 && n >= 0 && (size_t)n < outsz)
		snprintf(out + n, outsz - (size_t)n, "\t%s%lld", PKG_SIGNED_FIELD, (long long)signed_at);
}

/* Pass one feeds progress with absolute counts per payload; turn them into increments. */
struct hash_progress {
	struct progress *prog;
	uint64_t last;
	unsigned scale;   /* 2 when each byte hashed is also copied into the package */
};

static void hash_progress(void *ctx, uint64_t bytes)
{
	struct hash_progress *hp = ctx;

	if (bytes > hp->last) {
		progress_add(hp->prog, (bytes - hp->last) * hp->scale);
		hp->last = bytes;
	}
}

/*
 * Pass one: the chunk list of one payload file, and its digest into the
 * manifest; with out_fd >= 0, each chunk hashed is also written there, at
 * out_at + its offset (the package laid out ahead, pkg_write's one pass).
 */
static int hash_payload(int fd, const char *path, unsigned threads, struct fw_payload *p, int out_fd,
			const char *out_path, uint64_t out_at, uint8_t **list_out, struct progress *prog,
			struct fw_err *err)
{
	uint64_t nchunks = fw_payload_chunks(p);
	struct hash_progress hp = { prog, 0, out_fd >= 0 ? 2 : 1 };
	uint8_t *list = NULL;
	int rc = -1;

	if (nchunks > PKG_MAX_CHUNKS) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: %llu chunks of %u bytes, more than the limit of %u (use a larger chunk size)",
			   path, (unsigned long long)nchunks, p->chunk_size, PKG_MAX_CHUNKS);
		goto out;
	}
	list = malloc(nchunks ? nchunks * FW_DIGEST_LEN : 1);
	if (list == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	rc = chunk_hash_copy_fd(fd, p->size, p->chunk_size, threads, list, p->has_sha256 ? p->sha256 : NULL,
				hash_progress, &hp, out_fd, out_at, err);
	if (rc < 0 || chunk_sha256(list, (size_t)nchunks * FW_DIGEST_LEN, p->digest) < 0) {
		/* A full disk is the package's, not the image's. */
		fw_err_wrap(err, "%s", rc == -2 ? out_path : path);
		rc = -1;
		goto out;
	}
	*list_out = list;
	list = NULL;
	rc = 0;
out:
	free(list);
	return rc;
}

/*
 * Pass one of a compressed payload: the image compressed into an unlinked
 * temporary file (*tmp_fd) by every thread, its chunk list hashed by the
 * same threads from the same buffers, then the compressed bytes' own chunk
 * list; *list_out holds both lists, the image's first (the .chunks entry).
 */
static int compress_payload(int fd, const char *path, unsigned threads, struct fw_payload *p, const uint8_t *base,
			    int *tmp_fd, uint8_t **list_out, struct progress *prog, struct fw_err *err)
{
	uint64_t nchunks = fw_payload_chunks(p), zchunks;
	const char *dir = getenv("TMPDIR");
	char tmpl[4096];
	uint8_t *list = NULL, *zlist = NULL, *grown;
	int rc = -1, wr;

	if (nchunks > PKG_MAX_CHUNKS) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: %llu chunks of %u bytes, more than the limit of %u (use a larger chunk size)",
			   path, (unsigned long long)nchunks, p->chunk_size, PKG_MAX_CHUNKS);
		goto out;
	}
	if (p->zstd.base.on != (base != NULL)) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: a delta needs its base image (and only a delta has one)", path);
		goto out;
	}
	snprintf(tmpl, sizeof(tmpl), "%s/mkpkg-zstd-XXXXXX", dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	if ((*tmp_fd = mkstemp(tmpl)) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot make a temporary file: %s", tmpl, strerror(errno));
		goto out;
	}
	(void)unlink(tmpl);
	if ((list = malloc(nchunks ? nchunks * FW_DIGEST_LEN : 1)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if ((wr = base != NULL ? zstd_write_delta(fd, p, base, threads, list, *tmp_fd, &zlist, err)
			       : zstd_write_payload(fd, p, threads, list, p->has_sha256 ? p->sha256 : NULL, *tmp_fd, &zlist,
						    err)) < 0) {
		fw_err_wrap(err, "%s", wr == -2 ? "temporary file" : path);
		goto out;
	}
	progress_add(prog, p->size);
	zchunks = fw_payload_zchunks(p);
	if (zchunks > PKG_MAX_CHUNKS) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: %llu compressed chunks, more than the limit of %u", path,
			   (unsigned long long)zchunks, PKG_MAX_CHUNKS);
		goto out;
	}
	if ((grown = realloc(list, (size_t)fw_payload_list_size(p) + 1)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	list = grown;
	if (zchunks > 0)
		memcpy(list + nchunks * FW_DIGEST_LEN, zlist, (size_t)zchunks * FW_DIGEST_LEN);
	if (chunk_sha256(list, (size_t)nchunks * FW_DIGEST_LEN, p->digest) < 0 ||
	    chunk_sha256(list + nchunks * FW_DIGEST_LEN, (size_t)zchunks * FW_DIGEST_LEN, p->zstd.digest) < 0) {
		fw_err_wrap(err, "%s: compressed", path);
		goto out;
	}
	*list_out = list;
	list = NULL;
	rc = 0;
out:
	free(zlist);
	free(list);
	return rc;
}

/* Signature entries: "manifest.json.<KEYID>.minisig" and "manifest.json.<CERTID>.cms", sorted by name. */
struct sig_entry {
	char name[64];
	char *text;
	size_t len;
};

static int sig_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sig_entry *)a)->name, ((const struct sig_entry *)b)->name);
}

/* Merge the signatures of a package (old, may be NULL) with new ones; a new one replaces an old entry of the same name. */
static int make_signatures(const struct fw_manifest *m, const char *manifest, size_t manifest_len,
			   const struct pkg_report *old, struct sig_signer *const *signers, size_t n_signers,
			   int64_t signed_at, const char *const *remove, size_t n_remove,
			   struct sig_entry *out, size_t *n_out, struct fw_err *err)
{
	char comment[SIG_COMMENT_MAX];
	size_t n = 0;

	/* Every id to remove names a signature the package carries: a typo must not pass as done. */
	for (size_t r = 0; r < n_remove; r++) {
		int found = 0;

		for (size_t o = 0; old != NULL && o < old->n_sigs; o++)
			found |= strcasecmp(old->sigs[o].keyid, remove[r]) == 0;
		if (!found) {
			char shown[64];
			return fw_err_set(err, FW_EXIT_USAGE, "--remove %s: no signature by that key or certificate id",
					  fw_escape(remove[r], shown, sizeof(shown)));
		}
		/* Each id once, and not one that signs anew here: what is said to be removed is removed. */
		for (size_t q = 0; q < r; q++)
			if (strcasecmp(remove[q], remove[r]) == 0)
				return fw_err_set(err, FW_EXIT_USAGE, "--remove %s given twice", remove[r]);
		for (size_t k = 0; k < n_signers; k++)
			if (strcasecmp(signers[k]->id, remove[r]) == 0)
				return fw_err_set(err, FW_EXIT_USAGE,
						  "--remove %s: that key signs in this call too (its new signature "
						  "replaces the old one without --remove)", remove[r]);
	}

	/* *n_out counts every entry made so far, so the caller frees them on failure too. */
	*n_out = 0;
	pkg_trusted_comment(m, signed_at, comment, sizeof(comment));
	for (size_t k = 0; k < n_signers; k++) {
		const struct sig_signer *s = signers[k];
		int cms = s->kind == SIG_KIND_CMS;

		if (n == PKG_MAX_SIGNATURES)
			return fw_err_set(err, FW_EXIT_USAGE, "more than %d signatures", PKG_MAX_SIGNATURES);
		snprintf(out[n].name, sizeof(out[n].name), "%s%s%s", PKG_SIG_PREFIX, s->id,
			 cms ? PKG_CMS_SUFFIX : PKG_SIG_SUFFIX);
		for (size_t j = 0; j < n; j++)
			if (strcmp(out[j].name, out[n].name) == 0)
				return fw_err_set(err, FW_EXIT_USAGE, "%s %s given twice",
						  cms ? "certificate" : "key", s->id);
		if (sig_signer_sign(signers[k], manifest, manifest_len, comment, m->created, &out[n].text,
				    &out[n].len, err) < 0)
			return -1;
		*n_out = ++n;
	}
	for (size_t o = 0; old != NULL && o < old->n_sigs; o++) {
		int replaced = 0;

		for (size_t j = 0; j < n; j++)
			replaced |= strcmp(out[j].name, old->sigs[o].name) == 0;
		for (size_t r = 0; r < n_remove; r++)
			replaced |= strcasecmp(old->sigs[o].keyid, remove[r]) == 0;
		if (replaced)
			continue;
		if (n == PKG_MAX_SIGNATURES)
			return fw_err_set(err, FW_EXIT_USAGE, "more than %d signatures", PKG_MAX_SIGNATURES);
		memcpy(out[n].name, old->sigs[o].name, sizeof(out[n].name));
		out[n].text = malloc(old->sig_lens[o] ? old->sig_lens[o] : 1);
		if (out[n].text == NULL)
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
		memcpy(out[n].text, old->sig_texts[o], old->sig_lens[o]);
		out[n].len = old->sig_lens[o];
		*n_out = ++n;
	}
	if (n == 0 && n_remove > 0)
		return fw_err_set(err, FW_EXIT_USAGE, "refusing to remove the last signature: a package must carry one "
				  "(add the new one in the same call, -k KEY --remove ID)");
	qsort(out, n, sizeof(*out), sig_entry_cmp);
	*n_out = n;
	return 0;
}

static int write_head(struct tar_writer *w, const char *manifest, size_t manifest_len,
		      const struct sig_entry *sigs, size_t n_sigs, struct fw_err *err)
{
	if (tar_write_buffer(w, PKG_MANIFEST_NAME, manifest, manifest_len, err) < 0)
		return -1;
	for (size_t i = 0; i < n_sigs; i++)
		if (tar_write_buffer(w, sigs[i].name, sigs[i].text, sigs[i].len, err) < 0)
			return -1;
	return 0;
}

/*
 * The SBOM the caller checked must be the bytes the manifest describes:
 * a mismatch here would be signed, and every reader would refuse it.
 */
static int sbom_matches(const struct fw_manifest *m, const struct pkg_write_opts *opts, struct fw_err *err)
{
	uint8_t md[FW_DIGEST_LEN];

	if (!m->sbom.present && opts->sbom == NULL)
		return 0;
	if (!m->sbom.present || opts->sbom == NULL || opts->sbom_len != m->sbom.size)
		return fw_err_set(err, FW_EXIT_USAGE, "the SBOM given does not match the manifest's \"sbom\"");
	fw_sha256(opts->sbom, opts->sbom_len, md);
	if (memcmp(md, m->sbom.sha256, FW_DIGEST_LEN) != 0)
		return fw_err_set(err, FW_EXIT_USAGE, "the SBOM given does not match the manifest's \"sbom\"");
	return 0;
}

/* The SBOM entry, after the signatures and before the first payload. */
static int write_sbom(struct tar_writer *w, const struct fw_manifest *m, const struct pkg_write_opts *opts,
		      struct fw_err *err)
{
	if (!m->sbom.present)
		return 0;
	return tar_write_buffer(w, FW_SBOM_ENTRY, opts->sbom, opts->sbom_len, err);
}

/* Whether the file behind fd still has the size and modification time it had (a file rewritten meanwhile does not). */
static int unchanged_since(int fd, const struct stat *before)
{
	struct stat now;

	return fstat(fd, &now) == 0 && now.st_size == before->st_size && now.st_mtim.tv_sec == before->st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == before->st_mtim.tv_nsec;
}

/* Bytes the manifest, signature and SBOM entries take: where the payloads begin. */
static uint64_t head_bytes(const struct fw_manifest *m, size_t manifest_len, const size_t *sig_lens, size_t n_sigs)
{
	uint64_t at = tar_entry_bytes(manifest_len);

	if (m->sbom.present)
		at += tar_entry_bytes(m->sbom.size);
	for (size_t i = 0; i < n_sigs; i++)
		at += tar_entry_bytes(sig_lens[i]);
	return at;
}

/*
 * The head's length before the payloads are hashed, where it can be known:
 * the manifest's length does not depend on the digests' values (fixed-width
 * hex), nor a minisign signature's on anything but its comment. 0 where a
 * signer cannot say (CMS, an attached signature), or the manifest does not
 * emit: then the package is written in a second pass, as it comes.
 */
static uint64_t predict_head(const struct fw_manifest *m, struct sig_signer *const *signers, size_t n_signers)
{
	size_t lens[PKG_MAX_SIGNATURES], len = 0;
	char comment[SIG_COMMENT_MAX], *manifest = NULL;
	struct fw_err ignored;

	if (n_signers > PKG_MAX_SIGNATURES)
		return 0;
	pkg_trusted_comment(m, -1, comment, sizeof(comment));
	for (size_t k = 0; k < n_signers; k++) {
		if (signers[k]->text_len == NULL)
			return 0;
		lens[k] = signers[k]->text_len(comment);
	}
	if (fw_manifest_emit(m, &manifest, &len, &ignored) < 0)
		return 0;
	free(manifest);
	return head_bytes(m, len, lens, n_signers);
}

/* Where each payload's own bytes go after a head of `head` bytes: per payload its chunk list, then it. */
static void payload_offsets(const struct fw_manifest *m, uint64_t head, uint64_t *at)
{
	for (size_t i = 0; i < m->n_payloads; i++) {
		const struct fw_payload *p = &m->payloads[i];

		head += tar_entry_bytes(fw_payload_chunks(p) * FW_DIGEST_LEN);
		at[i] = head + tar_header_bytes(p->size);
		head += tar_entry_bytes(p->size);
	}
}

static void free_sigs(struct sig_entry *sigs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(sigs[i].text);
}

/*
 * Both entry points: payloads from the caller's descriptors (given_fds), or
 * opened here by path once the output file exists (given_fds NULL).
 */
static int write_package(const char *out_path, struct fw_manifest *m, const int *given_fds,
			 const char *const *payload_paths, struct sig_signer *const *signers, size_t n_signers,
			 const struct pkg_write_opts *opts, struct fw_err *err)
{
	int fds[FW_MAX_PAYLOADS];
	struct outfile of = { .fd = -1 };
	struct sig_entry sigs[PKG_MAX_SIGNATURES];
	size_t n_sigs = 0;
	struct stat st[FW_MAX_PAYLOADS];
	uint8_t *lists[FW_MAX_PAYLOADS] = { 0 };
	int zfds[FW_MAX_PAYLOADS];             /* compressed payloads, in unlinked temporary files */
	int compressed = 0;
	struct progress prog = { opts, 0, 0 };
	char *manifest = NULL;
	size_t manifest_len = 0;
	struct tar_writer w;
	/* One pass (payloads copied as they are hashed) where the head's length is known ahead. */
	uint64_t head = 0, data_at[FW_MAX_PAYLOADS] = { 0 };
	size_t sig_lens[PKG_MAX_SIGNATURES];
	int rc = -1, to_stdout = strcmp(out_path, "-") == 0;

	memset(sigs, 0, sizeof(sigs));
	for (size_t i = 0; i < FW_MAX_PAYLOADS; i++)
		fds[i] = zfds[i] = -1;
	if (n_signers == 0) {
		fw_err_set(err, FW_EXIT_USAGE, "no signing key given");
		goto out;
	}
	if (opts->zstd_frame_size != 0 && opts->zstd_level == 0) {
		fw_err_set(err, FW_EXIT_USAGE, "a frame size without compression: --frame-size goes with --compress");
		goto out;
	}
	/* Frames end on chunk boundaries (pkg.md section 9): said in the options' words, not the manifest's. */
	for (size_t i = 0; opts->zstd_frame_size != 0 && i < m->n_payloads; i++)
		if (m->payloads[i].chunk_size != 0 && opts->zstd_frame_size % m->payloads[i].chunk_size != 0) {
			fw_err_set(err, FW_EXIT_USAGE, "--frame-size %u is not a multiple of the chunk size %llu (--chunk-size)",
				   (unsigned)opts->zstd_frame_size, (unsigned long long)m->payloads[i].chunk_size);
			goto out;
		}
	if (opts->zstd_level != 0) {
		if (opts->zstd_level < FW_ZSTD_LEVEL_MIN || opts->zstd_level > FW_ZSTD_LEVEL_MAX) {
			fw_err_set(err, FW_EXIT_USAGE, "zstd level %d: expected %d to %d", opts->zstd_level,
				   FW_ZSTD_LEVEL_MIN, FW_ZSTD_LEVEL_MAX);
			goto out;
		}
		for (size_t i = 0; i < m->n_payloads; i++) {
			const struct fw_zstd *z = &m->payloads[i].zstd;
			uint32_t most;

			zstd_write_setup(&m->payloads[i], opts->zstd_level, opts->zstd_frame_size);
			/* A delta's frame and its base around it share one window (pkg.md section 10). */
			if (!z->base.on || z->frame_size <= (most = fw_delta_frame_max(z->base.margin)))
				continue;
			fw_err_set(err, FW_EXIT_USAGE, "--frame-size %u: a delta's frames are at most %u bytes (a frame and "
				   "%u bytes of its base either side take one window, at most 2^%d)", (unsigned)z->frame_size,
				   (unsigned)most, (unsigned)z->base.margin, FW_DELTA_WINDOW_LOG_MAX);
			goto out;
		}
	}
	/* The manifest is the caller's input: refuse it before hashing gigabytes. */
	if (fw_manifest_validate(m, err) < 0) {
		err->code = FW_EXIT_USAGE;
		goto out;
	}
	if (sbom_matches(m, opts, err) < 0)
		goto out;
	if (to_stdout) {
		/* A pipe to a verifier or an uploader; never binary onto a terminal. */
		if (isatty(STDOUT_FILENO)) {
			fw_err_set(err, FW_EXIT_USAGE, "-: standard output is a terminal: refusing to write a package to it");
			goto out;
		}
		of.fd = STDOUT_FILENO;
	} else if (check_out_path(out_path, err) < 0 ||
		   outfile_open(&of, out_path, 0644, opts->force ? OUTFILE_FORCE : 0, err) < 0) {
		goto out;
	}

	for (size_t i = 0; i < m->n_payloads; i++) {
		const char *path = payload_paths[i];
		fds[i] = given_fds != NULL ? given_fds[i]
			 : open(path, O_RDONLY | O_CLOEXEC | (opts->no_follow ? O_NOFOLLOW : 0));
		if (fds[i] < 0 || fstat(fds[i], &st[i]) < 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", path, strerror(errno));
			goto out;
		}
		if (!S_ISREG(st[i].st_mode)) {
			fw_err_set(err, FW_EXIT_USAGE, "%s: not a regular file", path);
			goto out;
		}
		/* No device can install an empty system image or bootloader. */
		if (st[i].st_size == 0 && m->type == FW_TYPE_FIRMWARE) {
			fw_err_set(err, FW_EXIT_USAGE, "%s: empty image", path);
			goto out;
		}
		if ((uint64_t)st[i].st_size > FW_PAYLOAD_MAX) {
			fw_err_set(err, FW_EXIT_USAGE, "%s: larger than the limit of %llu bytes", path,
				   (unsigned long long)FW_PAYLOAD_MAX);
			goto out;
		}
		m->payloads[i].size = (uint64_t)st[i].st_size;
		prog.total += 2 * m->payloads[i].size;
	}
	for (size_t i = 0; i < m->n_payloads; i++)
		compressed |= m->payloads[i].zstd.on;
	/* A compressed payload's size is known only once compressed: the second pass then. */
	if (!to_stdout && !compressed && (head = predict_head(m, signers, n_signers)) > 0)
		payload_offsets(m, head, data_at);
	for (size_t i = 0; i < m->n_payloads; i++)
		if ((m->payloads[i].zstd.on
		     ? compress_payload(fds[i], payload_paths[i], opts->threads, &m->payloads[i],
					opts->delta_base != NULL ? opts->delta_base[i] : NULL, &zfds[i], &lists[i], &prog, err)
		     : hash_payload(fds[i], payload_paths[i], opts->threads, &m->payloads[i], head > 0 ? of.fd : -1,
				    out_path, data_at[i], &lists[i], &prog, err)) < 0)
			goto out;

	if (fw_manifest_emit(m, &manifest, &manifest_len, err) < 0)
		goto out;
	/* Signed as it is built: the creation time says when, no second time in the comment. */
	if (make_signatures(m, manifest, manifest_len, NULL, signers, n_signers, -1, NULL, 0, sigs, &n_sigs, err) < 0)
		goto out;
	for (size_t k = 0; k < n_sigs; k++)
		sig_lens[k] = sigs[k].len;
	if (head > 0 && head != head_bytes(m, manifest_len, sig_lens, n_sigs)) {
		/* Not laid out as predicted: drop the payloads written ahead, copy them in a second pass. */
		head = 0;
		for (size_t i = 0; i < m->n_payloads; i++)
			prog.total += m->payloads[i].size;
		if (ftruncate(of.fd, 0) < 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: %s", out_path, strerror(errno));
			goto out;
		}
	}

	tar_writer_init(&w, of.fd, m->created);
	w.progress = progress_add;
	w.progress_ctx = &prog;
	if (write_head(&w, manifest, manifest_len, sigs, n_sigs, err) < 0 || write_sbom(&w, m, opts, err) < 0)
		goto write_failed;
	for (size_t i = 0; i < m->n_payloads; i++) {
		const struct fw_payload *p = &m->payloads[i];
		char list_name[FW_NAME_MAX + sizeof(FW_CHUNKS_SUFFIX)];

		snprintf(list_name, sizeof(list_name), "%s%s", p->name, FW_CHUNKS_SUFFIX);
		if (tar_write_buffer(&w, list_name, lists[i], (size_t)fw_payload_list_size(p), err) < 0)
			goto write_failed;
		if (p->zstd.on) {
			if (lseek(zfds[i], 0, SEEK_SET) < 0 || tar_write_copy(&w, p->name, zfds[i], p->zstd.size, err) < 0)
				goto write_failed;
			if (!unchanged_since(fds[i], &st[i])) {
				fw_err_set(err, FW_EXIT_IO, "%s: changed while being packaged", payload_paths[i]);
				goto out;
			}
			continue;
		}
		if (head > 0 && w.offset + tar_header_bytes(p->size) != data_at[i]) {
			fw_err_set(err, FW_EXIT_IO, "%s: internal error: payload %s laid out at %llu, not %llu", out_path,
				   p->name, (unsigned long long)(w.offset + tar_header_bytes(p->size)),
				   (unsigned long long)data_at[i]);
			goto out;
		}
		if ((head > 0 ? tar_write_placed(&w, p->name, p->size, err) : tar_write_copy(&w, p->name, fds[i], p->size, err)) < 0)
			goto write_failed;
		/* The bytes were hashed in pass one; a file changed since would give a broken package. */
		if (!unchanged_since(fds[i], &st[i])) {
			fw_err_set(err, FW_EXIT_IO, "%s: changed while being packaged", payload_paths[i]);
			goto out;
		}
	}
	if (tar_write_end(&w, err) < 0)
		goto write_failed;
	if (to_stdout) {
		of.fd = -1;
	} else if (outfile_commit(&of, (opts->force ? OUTFILE_FORCE : 0) | (opts->sync ? OUTFILE_DURABLE : 0),
				  err) < 0) {
		goto out;
	}
	rc = 0;
	goto out;
write_failed:
	fw_err_wrap(err, "%s", to_stdout ? "standard output" : out_path);
out:
	if (to_stdout)
		of.fd = -1;   /* not ours to close */
	outfile_abort(&of);
	free_sigs(sigs, n_sigs);
	free(manifest);
	for (size_t i = 0; i < FW_MAX_PAYLOADS; i++) {
		free(lists[i]);
		if (given_fds == NULL && fds[i] >= 0)
			close(fds[i]);
		if (zfds[i] >= 0)
			close(zfds[i]);
	}
	return rc;
}

int pkg_write(const char *out_path, struct fw_manifest *m, const char *const *payload_paths,
	      struct sig_signer *const *signers, size_t n_signers, const struct pkg_write_opts *opts,
	      struct fw_err *err)
{
	return write_package(out_path, m, NULL, payload_paths, signers, n_signers, opts, err);
}

int pkg_write_fds(const char *out_path, struct fw_manifest *m, const int *fds,
		  const char *const *payload_paths, struct sig_signer *const *signers, size_t n_signers,
		  const struct pkg_write_opts *opts, struct fw_err *err)
{
	return write_package(out_path, m, fds, payload_paths, signers, n_signers, opts, err);
}

int pkg_add_signatures(const char *in_path, const char *out_path, struct sig_signer *const *signers,
		       size_t n_signers, const struct pkg_write_opts *opts, struct fw_err *err)
{
	return pkg_change_signatures(in_path, out_path, signers, n_signers, NULL, 0, opts, NULL, err);
}

int pkg_change_signatures(const char *in_path, const char *out_path, struct sig_signer *const *signers,
			  size_t n_signers, const char *const *remove, size_t n_remove,
			  const struct pkg_write_opts *opts, size_t *n_now, struct fw_err *err)
{
	struct pkg_read_opts ropts = { .threads = opts->threads };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct sig_entry sigs[PKG_MAX_SIGNATURES];
	size_t n_sigs = 0;
	struct outfile of = { .fd = -1 };
	struct tar_writer w;
	struct stat st;
	uint64_t rest;
	char *real = NULL;
	int in = -1, rc = -1, in_place = strcmp(in_path, out_path) == 0;

	memset(sigs, 0, sizeof(sigs));
	memset(&rep, 0, sizeof(rep));
	/*
	 * In place, the package is the file a link (latest.pkg) points to: it is
	 * replaced and the link stays, still pointing at it.
	 */
	if (in_place) {
		if ((real = realpath(in_path, NULL)) == NULL) {
			fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", in_path, strerror(errno));
			goto out;
		}
		in_path = out_path = real;
	}
	if (!in_place && check_out_path(out_path, err) < 0)
		goto out;
	in = open(in_path, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", in_path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: not a regular file", in_path);
		goto out;
	}
	/* Structure and payload digests must hold before we put our name to it. */
	if (pkg_read(in, &ropts, NULL, NULL, &m, &rep, err) < 0) {
		fw_err_wrap(err, "%s", in_path);
		goto out;
	}
	if (make_signatures(m, rep.manifest_bytes, rep.manifest_len, &rep, signers, n_signers,
			    opts->say_signed_at ? opts->signed_at : -1, remove, n_remove, sigs, &n_sigs, err) < 0) {
		fw_err_wrap(err, "%s", in_path);
		goto out;
	}
	/* Writing over the input is allowed: it is read again from its own fd. */
	if (outfile_open(&of, out_path, 0644, opts->force || in_place ? OUTFILE_FORCE : 0, err) < 0)
		goto out;
	/* The signed package replaces the old one with its mode and group: a 0600 or 0640 package stays so. */
	if (in_place && (fchown(of.fd, (uid_t)-1, st.st_gid) < 0 || fchmod(of.fd, st.st_mode & 07777) < 0)) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot keep the package's group and mode: %s", out_path,
			   strerror(errno));
		goto out;
	}
	tar_writer_init(&w, of.fd, m->created);
	if (write_head(&w, rep.manifest_bytes, rep.manifest_len, sigs, n_sigs, err) < 0) {
		fw_err_wrap(err, "%s", out_path);
		goto out;
	}
	/* The rest, as it is: from the first entry after the signatures, or, in a package with
	 * none (a removal package), from its end-of-archive marker, right after them. */
	rest = rep.first_payload_offset;
	if (rest == 0 && m->n_payloads == 0 && !m->sbom.present) {
		rest = tar_entry_bytes(rep.manifest_len);
		for (size_t i = 0; i < rep.n_sigs; i++)
			rest += tar_entry_bytes(rep.sig_lens[i]);
	}
	if (rest == 0 || rest > (uint64_t)st.st_size || lseek(in, (off_t)rest, SEEK_SET) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot find the payloads", in_path);
		goto out;
	}
	if (tar_write_raw(&w, in, (uint64_t)st.st_size - rest, err) < 0) {
		fw_err_wrap(err, "%s", out_path);
		goto out;
	}
	/* The payloads were verified by the read above and copied by a second one: a package
	 * rewritten in between would come out signed but broken. */
	if (!unchanged_since(in, &st)) {
		fw_err_set(err, FW_EXIT_IO, "%s: changed while being signed", in_path);
		goto out;
	}
	if (outfile_commit(&of, (opts->force || in_place ? OUTFILE_FORCE : 0) | (opts->sync ? OUTFILE_DURABLE : 0),
			   err) < 0)
		goto out;
	if (n_now != NULL)
		*n_now = n_sigs;
	rc = 0;
out:
	free(real);
	outfile_abort(&of);
	free_sigs(sigs, n_sigs);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	if (in >= 0)
		close(in);
	return rc;
}
