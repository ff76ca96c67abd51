/* pkg_write: build a signed package (manifest, signatures, chunk lists, payloads) atomically and deterministically. */
#ifndef FW_PKG_WRITE_H
#define FW_PKG_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "manifest.h"
#include "signing/minisign.h"
#include "signing/signer.h"

typedef void (*pkg_progress_fn)(void *ctx, uint64_t done, uint64_t total);

struct pkg_write_opts {
	int force;                      /* replace an existing output file */
	int sync;                       /* fsync the output before renaming it into place */
	int no_follow;                  /* refuse payload paths that are symbolic links */
	unsigned threads;               /* hashing threads, 0 = all CPUs */
	int say_signed_at;              /* pkg_add_signatures: record signed_at in the trusted comment */
	int64_t signed_at;
	/* The SBOM's bytes when m->sbom.present (fw_sbom_load checked them and
	 * described them in m->sbom): written right after the signatures. */
	const char *sbom;
	size_t sbom_len;
	/* pkg_write, pkg_write_fds: carry every payload as zstd frames at this
	 * level (FW_ZSTD_LEVEL_MIN to FW_ZSTD_LEVEL_MAX; 0: uncompressed), frames
	 * of zstd_frame_size image bytes (0: FW_ZSTD_FRAME_DEFAULT). */
	int zstd_level;
	uint32_t zstd_frame_size;
	/* pkg_write, pkg_write_fds with zstd_level: payloads[i] is a delta
	 * (zstd_write_delta) when delta_base[i] is not NULL: a mapping of its
	 * base image, which m->payloads[i].zstd.base describes (delta_write.h). */
	const uint8_t *const *delta_base;
	pkg_progress_fn progress;       /* optional */
	void *progress_ctx;
};

/*
 * Write `out_path` from manifest m, whose payloads[i] come from the file
 * payload_paths[i]: sizes and digests are filled in here (chunk_size must be
 * set). Signed by every signer. Written to a temporary file in the same
 * directory, fsync'd and renamed into place; on failure nothing is left.
 * out_path "-" streams the package to standard output instead (refused if
 * that is a terminal); a reader there sees a failure as a truncated package.
 */
int pkg_write(const char *out_path, struct fw_manifest *m, const char *const *payload_paths,
	      struct sig_signer *const *signers, size_t n_signers, const struct pkg_write_opts *opts,
	      struct fw_err *err);

/*
 * The same from payload files the caller opened (fds[i], read from offset 0,
 * not closed here); payload_paths[i] names them in messages. For callers
 * that must open their inputs more carefully than by path (mkwmopkg).
 */
int pkg_write_fds(const char *out_path, struct fw_manifest *m, const int *fds,
		  const char *const *payload_paths, struct sig_signer *const *signers, size_t n_signers,
		  const struct pkg_write_opts *opts, struct fw_err *err);

/*
 * Add signatures by `signers` to the package at in_path, writing out_path
 * (which may be in_path): manifest and payload bytes stay as they are; a key
 * or certificate that already signed is replaced by its new signature. The package is fully read
 * (structure and payload digests) before anything is written. In place
 * (out_path == in_path) the file a symbolic link names is replaced, keeping
 * its mode and group, and the link stays.
 */
int pkg_add_signatures(const char *in_path, const char *out_path, struct sig_signer *const *signers,
		       size_t n_signers, const struct pkg_write_opts *opts, struct fw_err *err);

/*
 * pkg_add_signatures that also removes the signatures by the key or
 * certificate ids in remove (as inspect shows them, any case): each must be
 * in the package, and at least one signature must stay (FW_EXIT_USAGE
 * otherwise). Manifest and payload bytes stay as they are; the package is
 * rewritten to a temporary file and renamed into place. *n_now (may be NULL)
 * receives the number of signatures the package carries now.
 */
int pkg_change_signatures(const char *in_path, const char *out_path, struct sig_signer *const *signers,
			  size_t n_signers, const char *const *remove, size_t n_remove,
			  const struct pkg_write_opts *opts, size_t *n_now, struct fw_err *err);

/*
 * The trusted comment we sign with the manifest, deterministic for a manifest:
 * "timestamp:CREATED\tfile:manifest.json\ttype:T\tversion:V", and, for a
 * signature added later (fwpkg sign), "\tsigned:TIME" when signed_at >= 0.
 */
void pkg_trusted_comment(const struct fw_manifest *m, int64_t signed_at, char *out, size_t outsz);

#endif
