/* pkg_read: the one streaming reader of .pkg and .wmopkg packages, used by every verifying program. */
#ifndef FW_PKG_READ_H
#define FW_PKG_READ_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "manifest.h"
#include "signing/cms.h"
#include "signing/minisign.h"
#include "signing/signer.h"
#include "signing/trust.h"

struct chunk_pipe;

#define PKG_MANIFEST_NAME "manifest.json"
#define PKG_SIG_PREFIX "manifest.json."
#define PKG_SIG_SUFFIX ".minisig"
#define PKG_CMS_SUFFIX ".cms"
#define PKG_MAX_SIGNATURES 8
#define PKG_SIGNED_FIELD "signed:"     /* trusted comment field: when fwpkg sign added the signature */
#define PKG_TIMESTAMP_FIELD "timestamp:" /* trusted comment field: when mkpkg (or minisign) signed */
#define PKG_MAX_CHUNKS 65536u          /* per payload: caps a chunk list at 2 MiB */
#define PKG_MAX_TRAILING_ZEROS (1024u * 1024)

enum pkg_sig_status {
	PKG_SIG_UNCHECKED,   /* no trust store given */
	PKG_SIG_UNKNOWN_KEY, /* signed by a key (or under a CA) that is not trusted: ignored */
	PKG_SIG_VALID,       /* trusted key, signature verified */
	PKG_SIG_INVALID,     /* trusted key, signature does not verify */
};

struct pkg_sig_info {
	enum sig_kind kind;
	char name[64];                             /* the entry's name */
	char keyid[17];                            /* minisign key id, or CMS certificate id */
	enum pkg_sig_status status;
	char trusted_comment[SIG_COMMENT_MAX + 1]; /* minisign only */
	struct sig_cms_info cms;                   /* CMS only: the signer and its chain */
	uint8_t key_fpr[SIG_FPR_LEN];              /* SHA-256 of the key's SubjectPublicKeyInfo, once VALID */
};

/* A damaged chunk, as opts.all_bad_chunks reports it. */
#define PKG_MAX_BAD_CHUNKS 32          /* listed per package; the rest are counted */
struct pkg_bad_chunk {
	size_t payload;            /* index into the manifest's payloads */
	char name[FW_NAME_MAX + 1]; /* its entry name */
	uint64_t chunk;            /* index in the payload */
	uint64_t first, last;      /* the chunk's bytes in the image (payload), inclusive */
	uint64_t offset;           /* where its first byte is in the package file */
};

/* What a read found out, for inspect and for logs. */
struct pkg_report {
	size_t n_sigs;
	struct pkg_sig_info sigs[PKG_MAX_SIGNATURES];
	unsigned valid_sigs;
	unsigned valid_keys;       /* distinct keys (by key material) among the valid signatures */
	int verified;              /* trusted signature checked and, if read, every payload matched */
	int payloads_read;         /* the payloads were streamed, not only the manifest */

	/* Raw material for re-signing; owned, freed by pkg_report_free(). */
	char *manifest_bytes;
	size_t manifest_len;
	char *sig_texts[PKG_MAX_SIGNATURES];
	size_t sig_lens[PKG_MAX_SIGNATURES];
	/* Where the first entry after the signatures starts: the SBOM's, when the
	 * manifest declares one, else the first chunk list's. */
	uint64_t first_payload_offset;
	/* The SBOM's bytes, checked against the manifest's sha256 (so signed where
	 * the manifest is verified), when opts.keep_sbom asked; owned, NUL-terminated. */
	char *sbom;
	size_t sbom_len;
	/* The chunk list (one SHA-256 per chunk, checked against the signed
	 * manifest) of the payload being read: set from payload_begin to
	 * payload_end, NULL otherwise. */
	const uint8_t *chunk_list;
	size_t chunk_list_len;

	/* Plain SHA-256 of a payload, set before payload_end when the manifest
	 * declares one, or opts.payload_sha256 asks and payload_begin took it (1). */
	uint8_t payload_sha256[FW_MAX_PAYLOADS][FW_DIGEST_LEN];
	uint8_t has_payload_sha256[FW_MAX_PAYLOADS];

	/* Delta payloads whose image was not rebuilt (no base: PKG_DELTA_NONE):
	 * their compressed bytes verified, their image unchecked. */
	uint8_t not_rebuilt[FW_MAX_PAYLOADS];

	/* opts.all_bad_chunks: the damaged chunks found, the first
	 * PKG_MAX_BAD_CHUNKS in package order, and how many in all. */
	struct pkg_bad_chunk bad[PKG_MAX_BAD_CHUNKS];
	size_t n_bad;
	uint64_t bad_total;

	/* The frames of the last compressed payload handed on (payload_begin
	 * returned 1), a delta's too: where each begins in its compressed bytes,
	 * as the decoding reaches it (none for an image copied whole,
	 * PKG_DELTA_TARGET); read with pkg_report_frame_at. Owned. */
	uint64_t *frame_at;
	uint64_t n_frame_at;
};

/*
 * Where frame k of the compressed payload being handed on begins in its
 * compressed bytes (k == its frame count: the entry's size, once the last
 * frame ended), or UINT64_MAX while the decoding has not reached it. From
 * any thread: a sink that got bytes of frame k may ask for k.
 */
uint64_t pkg_report_frame_at(const struct pkg_report *rep, uint64_t k);

void pkg_report_free(struct pkg_report *rep);

/*
 * The signing time a trusted comment records: its "signed:" field (fwpkg
 * sign), else its "timestamp:" field (mkpkg signs when it builds, minisign
 * -S writes its own time there). 0, or -1 if it has neither.
 */
int pkg_comment_signed_at(const char *comment, int64_t *out);

/*
 * Where a compressed image is continued (pkg_reader_ops.resume_at): fd holds
 * the image's first `image` bytes from offset 0 (a device's slot, written by
 * an interrupted install), `image` is a multiple of zstd.frame_size (or the
 * image's size), and the frame that begins there begins at `zoffset` in the
 * payload's compressed bytes.
 */
struct pkg_resume_at {
	int fd;
	uint64_t image;
	uint64_t zoffset;
};

/* Calls into the caller as the stream goes by. Any may be NULL. */
struct pkg_reader_ops {
	/* The manifest, after its signature checked out (or unchecked if no trust
	 * store). Return 0 to go on, 1 to stop after the manifest, -1 to refuse. */
	int (*manifest)(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep,
			struct fw_err *err);
	/* Return 1 to get the payload's verified bytes, 0 to only verify it,
	 * 2 to skip it unhashed (not wanted here), -1 to refuse. */
	int (*payload_begin)(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err);
	int (*payload_data)(void *ctx, const void *buf, size_t len, struct fw_err *err);
	int (*payload_end)(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err);
	/*
	 * A delta payload (zstd.base.on), asked before payload_begin (so a base
	 * that does not check out is refused before the caller acts on the
	 * payload; return PKG_DELTA_NONE for one it will skip): where its image
	 * comes from. Return PKG_DELTA_BASE with *fd open on the base
	 * image (from offset 0; checked here against zstd.base's digest before a
	 * byte of it is used: FW_KIND_MISMATCH if it differs), PKG_DELTA_TARGET
	 * with *fd open on the target image itself, already elsewhere (read from
	 * there, each chunk verified against the image's list; the compressed
	 * bytes are passed over unread: a network source need not fetch them),
	 * PKG_DELTA_NONE to verify the
	 * compressed bytes only (the image is not rebuilt: refused when
	 * payload_begin asked for its bytes), or -1 to refuse. *fd stays the
	 * caller's. NULL: PKG_DELTA_NONE for every delta.
	 */
	int (*delta_source)(void *ctx, const struct fw_manifest *m, size_t index, int *fd, struct fw_err *err);
	/*
	 * A compressed payload to be decoded (payload_begin returned 1 or 0; a
	 * delta's once its base checked out, delta_source PKG_DELTA_BASE: each
	 * frame has its own prefix of the base, so it continues at any frame as
	 * well), asked right after: return 1 with *at filled to
	 * continue it at a frame, 0 to read it whole, -1 to refuse. Continued,
	 * the image's bytes before at->image are read from at->fd and checked
	 * against the image's chunk list like decoded ones (a mismatch fails
	 * the payload, FW_EXIT_REJECTED), then handed on (payload_data) with the
	 * rest: a caller that takes the bytes gets the whole image as ever. The compressed bytes before the
	 * piece holding at->zoffset are passed over unread, neither checked nor
	 * decoded (zstd_read_start): the source need not deliver them (any bytes
	 * will do). fd stays the caller's. NULL: every image is read whole.
	 */
	int (*resume_at)(void *ctx, const struct fw_manifest *m, size_t index, struct pkg_resume_at *at,
			 struct fw_err *err);
	/* The name of the base delta_source gave for payload index (a file), for the message when it does not
	 * check out; NULL: the payload's name alone. */
	const char *(*delta_name)(void *ctx, size_t index);
};

enum { PKG_DELTA_NONE = 0, PKG_DELTA_BASE = 1, PKG_DELTA_TARGET = 2 };

struct pkg_read_opts {
	const struct sig_trust *trust;  /* NULL: do not check signatures (inspect, --no-verify) */
	unsigned min_signatures;        /* distinct trusted keys with valid signatures needed; 0 means 1 */
	int manifest_only;              /* stop after the manifest and signatures; a regular
					 * file shorter than the manifest declares is still
					 * rejected as truncated */
	unsigned threads;               /* hashing threads; 0 = all CPUs */
	int payload_sha256;             /* plain SHA-256 (report) of the payloads the caller takes */
	/* With a trust store: read a package no trusted key signed to its end
	 * (rep->valid_sigs says 0, rep->verified stays 0) instead of refusing
	 * it; a trusted key's signature that fails is still refused. For a
	 * device that stores unsigned packages and decides later. */
	int signatures_optional;
	/* Check payloads against their chunk lists only, not their declared
	 * whole-file SHA-256 too: for re-verifying bytes that passed a full read
	 * before (a device's boot step); every byte is still proved against the
	 * signed manifest, hashed once instead of twice. */
	int chunks_only;
	/* The hashing pipe to use (chunk_pipe_new; threads is then ignored),
	 * left to the caller; NULL: one of its own for this read. A caller
	 * reading many packages in a row keeps its buffers and threads so. */
	struct chunk_pipe *pipe;
	/* Called on the reader's thread when more chunks of a payload were
	 * verified, with how many bytes they hold: for a caller that only
	 * verifies (no payload_data) but wants to know how far it got, e.g. to
	 * make a download's progress durable. Return -1 with err to stop. */
	int (*chunks_verified)(void *ctx, uint64_t bytes, struct fw_err *err);
	/* Verify only (no payload handed on): a damaged chunk does not stop the
	 * read; every one is recorded in the report (rep->bad, rep->bad_total),
	 * the read goes on to the end, still in one pass and constant memory, and
	 * then fails (FW_KIND_MISMATCH) naming the first. For fwpkg verify. */
	int all_bad_chunks;
	/* Keep the SBOM's bytes in rep->sbom. Without it the entry is only
	 * hashed as it passes (a device never holds it whole). The SBOM is read
	 * before the manifest callback, so that callback has it. */
	int keep_sbom;
};

/*
 * Where payload index's own bytes begin in a package whose first chunk list
 * header is at first_payload_offset (rep->first_payload_offset), by the
 * layout the reader enforces: per payload its chunk list entry, then its
 * entry (fwpkg-pkg(5)), after the SBOM's entry if declared. index == m->n_payloads: where the end-of-archive
 * marker begins. For a device resuming from payload bytes it already holds.
 */
uint64_t pkg_payload_data_offset(const struct fw_manifest *m, uint64_t first_payload_offset, size_t index);

/*
 * Whether fd holds delta base b: the chunk list of its first b->size bytes
 * (b->chunk_size chunks, hashed by `threads` threads, 0: all CPUs) must hash
 * to b->digest. 0; -1 with FW_KIND_MISMATCH (exit 1) when it does not or the
 * file is shorter, FW_EXIT_IO when it cannot be read.
 */
int pkg_delta_base_check(int fd, const struct fw_delta *b, unsigned threads, struct fw_err *err);

/*
 * Read a package from fd (a file or a pipe) in one pass. On success *out holds the manifest (fw_manifest_free it). On
 * failure err says why; code FW_EXIT_REJECTED for anything wrong with the
 * package, FW_EXIT_IO when reading failed.
 */
int pkg_read(int fd, const struct pkg_read_opts *opts,
	     const struct pkg_reader_ops *ops, void *ctx, struct fw_manifest **out,
	     struct pkg_report *rep, struct fw_err *err);

#endif
