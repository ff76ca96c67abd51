/* zstd_read: a compressed payload's bytes verified in pieces, then decoded frame by frame within declared bounds. */
#ifndef FW_ZSTD_READ_H
#define FW_ZSTD_READ_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "chunk.h"
#include "manifest.h"

struct zstd_read;

/*
 * A decoder for payload p (p->zstd.on), whose compressed chunk list (one
 * SHA-256 per p->zstd.chunk_size piece, checked against the signed manifest
 * by the caller) is zlist. Decoded image bytes go to out, in order, split
 * anywhere; they are not verified here (the caller's chunk pipe does that
 * against the image's own chunk list). What is guaranteed:
 *   - no compressed byte reaches the decoder before the piece holding it
 *     matched its digest (pieces are at most FW_ZSTD_CHUNK_MAX bytes);
 *   - frame k gives exactly its declared length (frame_size, the last one
 *     the rest of the image): a frame that would decode beyond it is stopped
 *     there, one that ends short is refused;
 *   - a frame that needs a window above 2^window_log is refused by the
 *     decoder before it allocates one (ZSTD_d_windowLogMax);
 * so memory is the piece buffer, the decoder's window and a small output
 * buffer, whatever the input. Failures: FW_EXIT_REJECTED, kind
 * FW_KIND_MISMATCH for a piece that does not match its digest; out's own.
 */
struct zstd_read *zstd_read_new(const struct fw_payload *p, const uint8_t *zlist, chunk_sink_fn out, void *ctx,
				struct fw_err *err);

/* The next compressed bytes of the entry, split anywhere. */
int zstd_read_feed(struct zstd_read *z, const void *buf, size_t len, struct fw_err *err);

/* The entry ended: verify and decode the last piece; fail unless every frame was whole. */
int zstd_read_end(struct zstd_read *z, struct fw_err *err);

/*
 * Before the first feed. verify_only: each piece is checked against its
 * digest and not decoded (a delta whose base the reader does not have; out
 * gets nothing). base: payload p is a delta (p->zstd.base.on) and base maps
 * the base image's p->zstd.base.size bytes, already checked against its
 * digest by the caller: frame k is decoded against base bytes
 * fw_delta_prefix(p, k) into one buffer of frame_size + 1 bytes (the
 * decoder's stable output, so it holds no window of its own), handed on as
 * it grows, held to its declared length as any frame; the base pages no
 * later frame reads are dropped (MADV_DONTNEED) once the frame is done, so
 * memory is one frame and one prefix, known from the manifest.
 */
void zstd_read_verify_only(struct zstd_read *z);
int zstd_read_base(struct zstd_read *z, const uint8_t *base, struct fw_err *err);

/*
 * Before the first feed: continue the image at frame `frame`, which begins at
 * compressed offset `zoffset` of the entry (frame == the image's frame count
 * with zoffset == the entry's size: nothing is left to decode). The entry is
 * still fed from its byte 0, but the bytes before the piece holding zoffset
 * are passed over unread: neither checked nor decoded (the caller holds the
 * image bytes they decode to, and checks those against the image's own chunk
 * list). That piece is checked whole, as any, before the decoder sees its
 * bytes from zoffset on; every later one too. A zoffset that is not where the
 * frame begins cannot produce a wrong image: the decoder refuses what is not a
 * frame, and the image's chunk list whatever decodes to other bytes.
 * FW_EXIT_USAGE for a point outside the payload.
 */
int zstd_read_start(struct zstd_read *z, uint64_t frame, uint64_t zoffset, struct fw_err *err);

/*
 * Frame starts, as the decoding reaches them: table[k] (table has frames + 1
 * entries, the caller's, each set to UINT64_MAX first) receives the
 * compressed offset of frame k before a byte of its output is handed on, and
 * table[frames] the entry's size once the last frame ended. Stored with
 * release semantics: another thread that has frame k's output may read
 * table[k] (pkg_report_frame_at).
 */
void zstd_read_frame_table(struct zstd_read *z, uint64_t *table);

/* Compressed pieces verified so far. */
uint64_t zstd_read_verified(const struct zstd_read *z);

void zstd_read_free(struct zstd_read *z);

#endif
