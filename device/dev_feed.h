/* dev_feed: one stream of a package's bytes from 0 to its end, some ranges read from local files, the rest from a transport. */
#ifndef FW_DEV_FEED_H
#define FW_DEV_FEED_H

#include <stdint.h>
#include <sys/types.h>

#include "base/fw_err.h"
#include "device/dev_transport.h"

/*
 * Why: a download or an upgrade that a power cut interrupted already holds
 * some of the package's bytes on the device (in a slot, in a partial
 * download file). The reader (formats/pkg_read) reads a package from byte 0
 * and verifies every byte; it stays unchanged. A feed gives it that stream,
 * where each byte range the caller declares local comes from a local file and
 * every other byte from the network, so no byte held locally is fetched
 * again. Local bytes are not trusted: they go through the reader like any
 * other byte, so a wrong local range just fails verification.
 *
 * Use:
 *   dev_feed_new(&f, net, total, &err);           net opened at any offset
 *   dev_feed_add_local(f, start, end, fd, off, &err);   [start,end) = fd's bytes from off
 *   dev_feed_add_skipped(f, start, end, &err);     [start,end) not fetched: zeros
 *   dev_feed_tee(f, fd);                           optional
 *   then either pull with dev_feed_read, or hand dev_feed_fd's fd to a reader
 *   and call dev_feed_finish when it is done; dev_feed_free at the end.
 *
 * Local ranges: [start, end) in package offsets, start < end, not
 * overlapping (adjacent is fine), added in any order before the first read.
 * The fd is read with pread (its own offset untouched), stays the caller's and
 * must stay open until dev_feed_free. A local range the file cannot deliver
 * whole (it is shorter, or a read fails) is not an error: its missing bytes
 * come from the network instead and count in stats.fallback_bytes.
 *
 * Network ranges: every byte not local. The feed moves the transport
 * (dev_transport_seek_to) to the first byte after a local range only when it
 * needs a network byte there, asking for the bytes up to the next local range
 * alone (over HTTP the server then sends nothing the device holds), so a
 * transport opened at 0 whose first bytes are local reconnects once, at the
 * first network byte. A transport already at the right offset whose stream
 * does not stop too early is used as it is. The transport stays the
 * caller's; one feed reads it at a time. NULL:
 * no network at all, every byte must be local (else the read fails,
 * FW_EXIT_IO).
 *
 * End: at `total` bytes when the caller gives it (> 0), else at the
 * transport's size when the server said it (dev_transport_info()->id.size),
 * else where the transport's stream ends. Local ranges beyond the end are
 * never read.
 *
 * Tee: with dev_feed_tee(f, fd), every byte that came from the network is
 * also written to fd with pwrite at its package offset (local bytes are not,
 * they are there already when fd is the file they come from). Writes are not
 * synced: the caller makes them durable (fdatasync) before it records them.
 * A failed tee write fails the stream (FW_EXIT_IO).
 *
 * Errors: the transport's own (FW_EXIT_NET, naming the source), or
 * FW_EXIT_IO for a failed tee write or a byte nobody can deliver.
 *
 * Not thread-safe: one feed, one caller (or its fd thread); dev_feed_done and
 * dev_feed_stats may be read from any thread.
 */

struct dev_feed;

/* Where the delivered bytes came from so far. */
struct dev_feed_stats {
	uint64_t local_bytes;      /* delivered from local ranges */
	uint64_t net_bytes;        /* delivered from the transport (the tee wrote these) */
	uint64_t fallback_bytes;   /* declared local, but fetched because the file could not deliver them */
	uint64_t skipped_bytes;    /* delivered as zeros from skipped ranges */
	uint64_t skipped_received; /* of those, bytes the transport received all the same (read ahead before it was
				    * moved past them, or read through a short jump) */
	unsigned seeks;            /* times the transport was moved to another offset */
};

/*
 * A feed over net (may be NULL, see above) ending at total (0: as above).
 * Returns 0 and *out, or -1 with err (out of memory).
 */
int dev_feed_new(struct dev_feed **out, struct dev_transport *net, uint64_t total, struct fw_err *err);

/*
 * A feed over a plain stream fd (a file read in order, a pipe, a hook's
 * output) instead of a transport: no local ranges, no seeks; the tee and the
 * fd thread work as above (a tee then keeps every byte). The fd stays the
 * caller's. A read error is FW_EXIT_IO.
 */
int dev_feed_new_fd(struct dev_feed **out, int fd, uint64_t total, struct fw_err *err);

/* Declare [start, end) local: the bytes of fd from fd_offset on. -1 with err (FW_EXIT_USAGE) for an empty,
 * overlapping or late range. */
int dev_feed_add_local(struct dev_feed *f, uint64_t start, uint64_t end, int fd, uint64_t fd_offset,
		       struct fw_err *err);

/*
 * Declare [start, end) skipped: bytes the reader passes over unread (a
 * compressed image continued at a frame: pkg_reader_ops.resume_at), neither
 * fetched nor read from a file; the stream has zeros there. A local range in
 * every other respect (the transport is moved past it). Not for a byte the
 * reader verifies: zeros there fail it, which costs a restart, never a
 * wrong byte.
 */
int dev_feed_add_skipped(struct dev_feed *f, uint64_t start, uint64_t end, struct fw_err *err);

/*
 * From the reader's thread while the fd thread reads: the reader will pass
 * over the package's bytes [start, end) unread (a delta image copied from
 * another slot). What the stream has not yet delivered of them becomes a
 * skipped range (as dev_feed_add_skipped: zeros, not fetched) when the
 * transport starts a new request where it is asked (dev_transport_jumps);
 * else they are fetched as ever. A range over a local one is ignored, as are
 * more than 16. Not for a feed with a tee (its file would have zeros there)
 * nor for bytes anything verifies.
 */
void dev_feed_pass_over(struct dev_feed *f, uint64_t start, uint64_t end);

/* Also write every network byte to fd at its package offset (-1: no tee). Before the first read. */
void dev_feed_tee(struct dev_feed *f, int fd);

/*
 * Up to len bytes of the package at the feed's offset. Returns the count
 * (> 0), 0 at the end (see End above), or -1 with err. A read never mixes a
 * local and a network range.
 */
ssize_t dev_feed_read(struct dev_feed *f, void *buf, size_t len, struct fw_err *err);

/* The package offset of the next byte the feed delivers: from any thread, e.g. for progress. */
uint64_t dev_feed_done(const struct dev_feed *f);

/* A snapshot of the counters; from any thread. */
void dev_feed_stats(const struct dev_feed *f, struct dev_feed_stats *out);

/*
 * A file descriptor (one end of a socket pair) yielding the stream from the
 * current offset to the end, fed by a thread calling dev_feed_read: for
 * readers that take an fd (pkg_read). The end and a failure both look like
 * EOF on the fd; ask dev_feed_finish which it was. Returns the fd (owned by
 * the feed) or -1 with err.
 */
int dev_feed_fd(struct dev_feed *f, struct fw_err *err);

/*
 * Stop the fd thread (the reader may have stopped early), close the fd and
 * say how the stream ended: 0 every byte to
 * the end was delivered; 1 the reader stopped first (no error); -1 the feed
 * failed, err saying why (the transport's error as it gave it).
 */
int dev_feed_finish(struct dev_feed *f, struct fw_err *err);

/* Stop a running fd thread, free. The transport and the local fds stay open (the caller's). NULL is fine. */
void dev_feed_free(struct dev_feed *f);

#endif
