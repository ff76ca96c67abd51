/* zstd_write: compress an image into independent zstd frames on every core, hashing its chunks on the way. */
#ifndef FW_ZSTD_WRITE_H
#define FW_ZSTD_WRITE_H

#include <stdint.h>

#include "base/fw_err.h"
#include "manifest.h"

/*
 * Mark payload p to be compressed at `level` (FW_ZSTD_LEVEL_MIN to
 * FW_ZSTD_LEVEL_MAX) in frames of frame_size image bytes (0: the default,
 * FW_ZSTD_FRAME_DEFAULT, or FW_DELTA_FRAME_DEFAULT for a delta, whose
 * p->zstd.base the caller set before and is kept); the rest is filled in
 * when the package is written.
 */
void zstd_write_setup(struct fw_payload *p, int level, uint32_t frame_size);

/*
 * The p->size bytes of fd (read with pread from offset 0) as frames of
 * p->zstd.frame_size image bytes at p->zstd.level, each compressed
 * independently by one of `threads` threads (0: all CPUs) with its window
 * capped at FW_ZSTD_WINDOW_LOG_MAX (p->zstd.window_log says the cap used),
 * written in order to out_fd from its current offset. On the way: the
 * image's chunk list into `list` (one SHA-256 per p->chunk_size chunk) and,
 * when whole is not NULL, the plain SHA-256 of the image; and, hashed as
 * written, the compressed bytes' chunk list (fw_payload_zchunks(p) digests
 * of FW_ZSTD_CHUNK_MAX bytes) into *zlist, malloc'd, for the caller to free.
 * Sets p->zstd.size. A failed write returns -2 (the output's fault), else -1.
 */
int zstd_write_payload(int fd, struct fw_payload *p, unsigned threads, uint8_t *list, uint8_t whole[32], int out_fd,
		       uint8_t **zlist, struct fw_err *err);

/*
 * zstd_write_payload for a delta (p->zstd.base filled in: digest, size,
 * chunk_size, margin; p->zstd.frame_size set): frame k is compressed with
 * base bytes fw_delta_prefix(p, k) as its prefix (ZSTD_CCtx_refPrefix), with
 * long-distance matching, its window fw_delta_window_log. base holds the
 * base image's p->zstd.base.size bytes (a mapping of its file).
 */
int zstd_write_delta(int fd, struct fw_payload *p, const uint8_t *base, unsigned threads, uint8_t *list, int out_fd,
		     uint8_t **zlist, struct fw_err *err);

#endif
