/* chunk: hash a payload in fixed-size chunks on several cores, handing bytes on only once verified. */
#ifndef FW_CHUNK_H
#define FW_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"

/*
 * Receives verified bytes, in order, one whole chunk per call, from the
 * pipe's delivery thread; buf is 4096-byte aligned. Returns 0, or -1 with err
 * filled to stop.
 */
typedef int (*chunk_sink_fn)(void *ctx, const void *buf, size_t len, struct fw_err *err);

struct chunk_pipe;

/*
 * A pipe with `threads` hashing workers (0: one per online CPU, at most 8),
 * or CHUNK_PIPE_ON_FEED: no workers, each chunk hashed by the thread that
 * feeds it, as it is copied in, and one chunk buffer in all (the least
 * memory; for a device, whose reads are no faster than one core hashes).
 * Without a sink (verify only) such a pipe copies nothing: the bytes are
 * hashed where the caller has them, and no chunk buffer is touched; for a
 * caller that runs one pipe per core itself (fwctl boot: one package each).
 */
#define CHUNK_PIPE_ON_FEED 0xffffffffu
struct chunk_pipe *chunk_pipe_new(unsigned threads, struct fw_err *err);

void chunk_pipe_free(struct chunk_pipe *p);

/*
 * Start a payload of `size` bytes hashed in `chunk_size` chunks. `expected`
 * holds one SHA-256 per chunk; each chunk is handed to `sink` (may be NULL:
 * verify only) after its digest matched, and a mismatch stops the payload.
 * (To compute a file's chunk list, see chunk_hash_fd.)
 */
int chunk_pipe_begin(struct chunk_pipe *p, uint64_t size, uint32_t chunk_size, const uint8_t *expected,
		     chunk_sink_fn sink, void *sink_ctx, struct fw_err *err);

/* Feed the next bytes of the payload, split anywhere. */
int chunk_pipe_feed(struct chunk_pipe *p, const void *buf, size_t len, struct fw_err *err);

/*
 * Feed the whole payload from a file instead: its bytes are at `offset` in
 * fd, read with pread by the workers, each into the chunk buffer it hashes
 * (no copy on the way). Only for a pipe with workers (chunk_pipe_workers),
 * before any chunk_pipe_feed; then chunk_pipe_end as usual. A file that
 * ends early fails the payload as truncated (FW_EXIT_REJECTED), a failed
 * read with FW_EXIT_IO.
 */
int chunk_pipe_feed_fd(struct chunk_pipe *p, int fd, uint64_t offset, struct fw_err *err);

/* Hashing threads of the pipe: 0 for CHUNK_PIPE_ON_FEED. */
unsigned chunk_pipe_workers(const struct chunk_pipe *p);

/*
 * Finish the payload: hash what is left, deliver the rest, and fail unless
 * exactly `size` bytes were fed. On a mismatch err names the first bad chunk.
 */
int chunk_pipe_end(struct chunk_pipe *p, struct fw_err *err);

/* Abandon the current payload (after an error), waiting for the workers. */
void chunk_pipe_abort(struct chunk_pipe *p);

/* Chunks of the current payload verified so far (and handed to the sink, when there is one). */
uint64_t chunk_pipe_verified(struct chunk_pipe *p);

/* Index of the first chunk that failed verification, or -1. */
int64_t chunk_pipe_bad_chunk(const struct chunk_pipe *p);

/*
 * Collect mismatches instead of stopping at the first (for payloads begun
 * after this call without a sink, i.e. verify only; with a sink the first
 * mismatch still stops the payload, so no unverified byte is ever handed
 * on): each bad chunk is recorded, the first CHUNK_MAX_BAD by index and all
 * by count (constant memory), hashing goes on, and chunk_pipe_end succeeds
 * unless something else failed; chunk_pipe_bad_chunks then tells.
 */
#define CHUNK_MAX_BAD 32
void chunk_pipe_collect_bad(struct chunk_pipe *p, int on);

/*
 * The bad chunks of the payload just ended while collecting: returns how
 * many there were; *first (valid until the next chunk_pipe_begin) holds the
 * indexes of the first *n_first of them, in the order found (ascending).
 */
uint64_t chunk_pipe_bad_chunks(struct chunk_pipe *p, const uint64_t **first, size_t *n_first);

/*
 * The chunk list of the `size` bytes of a file (from offset 0), hashed by
 * `threads` threads (0: all CPUs) each reading its own chunks with pread:
 * no byte is copied twice. `list` receives one SHA-256 per chunk. If
 * `whole` is not NULL it receives the plain SHA-256 of all the bytes (one
 * more pass, on the calling thread). progress (may be NULL) is told the
 * bytes done so far, from the calling thread.
 */
int chunk_hash_fd(int fd, uint64_t size, uint32_t chunk_size, unsigned threads, uint8_t *list,
		  uint8_t whole[32], void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
		  struct fw_err *err);

/*
 * chunk_hash_fd that also writes each chunk, once hashed, to out_fd at
 * out_at + the chunk's offset (pwrite, from the buffer just hashed): a
 * package's payload is copied in the pass that hashes it, by every thread.
 * A failed write says "output: write failed" and returns -2 (not -1), so
 * the caller can name the output rather than the file read.
 */
int chunk_hash_copy_fd(int fd, uint64_t size, uint32_t chunk_size, unsigned threads, uint8_t *list,
		       uint8_t whole[32], void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
		       int out_fd, uint64_t out_at, struct fw_err *err);

/* Plain SHA-256 of a buffer (OpenSSL); 0 or -1. */
int chunk_sha256(const void *buf, size_t len, uint8_t out[32]);

#endif
