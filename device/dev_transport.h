/* dev_transport: a package fetched over ftp, tftp, http, https, scp or sftp (libcurl), pulled as a resumable byte stream. */
#ifndef FW_DEV_TRANSPORT_H
#define FW_DEV_TRANSPORT_H

#include <stdint.h>
#include <sys/types.h>

#include "device/dev_source.h"
#include "base/fw_err.h"

/*
 * The one place fwctl talks to a server; nothing else links libcurl.
 *
 * A transport is a stream of the file's bytes from an offset on. The caller
 * pulls (dev_transport_read), or reads a file descriptor a dev_feed's
 * thread fills from it (dev_feed_fd); either way memory is constant: at most
 * DEV_TRANSPORT_BUFFER bytes wait between the network and the caller, and
 * curl is paused while they do.
 *
 * Network trouble in the middle of the stream (a cut connection, a stalled
 * server, a 5xx answer) is handled here: the transport reconnects after a
 * backoff and continues exactly where the caller is, so the caller sees one
 * unbroken stream or, when the retry budget is spent, an error. How it
 * continues:
 *   http/https  Range: bytes=N-, and the answer must be 206 from byte N with
 *               the same ETag / Last-Modified / length as before; a 200
 *               (a server that ignores Range) is read and its first N bytes
 *               skipped (info.can_resume becomes 0, info.fetched shows it).
 *   ftp         REST N, and the same MDTM time and SIZE as before.
 *   sftp        an SFTP seek to N, and the same time and size as before.
 *   tftp, scp   the protocols cannot start in the middle: the file is read
 *               again from byte 0 and the first N bytes are skipped.
 * A file that changed on the server (another ETag, Last-Modified, MDTM or
 * size) is never spliced onto the old bytes: the read fails with
 * info.changed set, and the caller starts over from byte 0 with a new open.
 *
 * Not retried: 4xx answers (404, 403...), a refused login, a missing FTP
 * file, TLS verification failures, a changed file, and a server that says
 * it is busy (HTTP 429 or 503: FW_KIND_THROTTLED, its Retry-After in
 * *opts.retry_after, for the caller's schedule to honour). Retried, up to
 * opts.retries attempts in a row that bring no new byte, with a backoff from
 * opts.backoff_ms doubling up to 30 s: refused or cut connections, timeouts,
 * the low-speed limit, other 5xx answers. A server certificate that has
 * expired or is not valid yet is FW_KIND_CERT_TIME (OpenSSL's verify
 * result, never the message).
 *
 * Limits (struct dev_transport_opts, defaults in dev_transport_opts_init):
 *   connect_timeout  15 s to connect (TCP and TLS; for TFTP, per packet)
 *   low_speed_limit  1024 bytes/s averaged over low_speed_time (30 s):
 *                    slower counts as a failed attempt (a stalled server),
 *                    and as one without progress, whatever bytes it brought:
 *                    a server that dribbles cannot renew the retry budget
 *   retries          5 attempts in a row without progress
 *   timeout          3600 s from dev_transport_open for the whole transfer,
 *                    every attempt, backoff and seek included: past it every
 *                    read fails (FW_EXIT_NET, FW_KIND_TIMEOUT). A bound no
 *                    server can stretch (TUF's slow-retrieval attack)
 *   max_bytes        a file longer than this is refused before or while it is
 *                    read (0: no cap; the caller sets it once it knows)
 * Redirects are followed only to http and https, at most 5, and none at all
 * when a pinned public key is set (a pin names one server). Proxies named in
 * the environment (http_proxy...) are not used.
 *
 * Errors fill a struct fw_err with code FW_EXIT_NET (4), naming the source
 * first as dev_source.shown does (the password shown as ***), or not at all
 * when opts.unnamed says the caller names it; FW_EXIT_USAGE for a source this
 * module does not fetch. Passwords go to curl through
 * CURLOPT_PASSWORD, never into a URL, message or the process listing.
 *
 * scp and sftp (packages only: dev_source_parse refuses them for firmware)
 * need opts.ssh_known_hosts: the server's host key must be in that file
 * (OpenSSH's format, "[ADDRESS]:PORT" for a port other than 22); an unknown
 * or different key is refused, never learnt. Authentication is by password,
 * and by opts.ssh_key when set; never by the keys in ~/.ssh.
 *
 * Sources without a protocol (ADDRESS FILE, ADDRESS[:PORT]/FILE) try FTP
 * first and TFTP when FTP cannot connect, does not answer as an FTP server,
 * refuses the (anonymous) login or has no such file; info.proto says which
 * one served. A path that starts with '/' is absolute on FTP and TFTP servers
 * (sent as %2F); otherwise FTP takes it relative to the login directory.
 *
 * Not thread-safe per transport: one transport, one caller (or its fd thread).
 */

#define DEV_TRANSPORT_BUFFER (128u * 1024)
#define DEV_TRANSPORT_CONNECT_TIMEOUT 15L
#define DEV_TRANSPORT_LOW_SPEED_LIMIT 1024L
#define DEV_TRANSPORT_LOW_SPEED_TIME 30L
#define DEV_TRANSPORT_RETRIES 5u
#define DEV_TRANSPORT_BACKOFF_MS 1000L
#define DEV_TRANSPORT_TIMEOUT 3600L

/* What identifies one version of the file on the server; compared on every reconnection. */
struct dev_transport_id {
	char etag[128];         /* HTTP ETag as sent (quotes included); "" when none */
	long long mtime;        /* HTTP Last-Modified or FTP MDTM, seconds since the epoch; -1 unknown */
	long long size;         /* whole file's length; -1 unknown (TFTP, chunked HTTP) */
};

struct dev_transport_opts {
	const char *ca_file;      /* https: CA certificates (PEM) to verify the server; NULL: the system's */
	const char *pinned_key;   /* https: CURLOPT_PINNEDPUBLICKEY ("sha256//BASE64" or a key file); NULL: none */
	long connect_timeout;     /* seconds */
	long low_speed_limit;     /* bytes per second ... */
	long low_speed_time;      /* ... over this many seconds */
	unsigned retries;         /* attempts in a row without a new byte before giving up; 0: fail at once */
	long timeout;             /* seconds from open the whole transfer may take; 0: none */
	long backoff_ms;          /* wait before the first retry; doubles, at most 30 s */
	uint64_t max_bytes;       /* refuse a file longer than this; 0: no cap */
	unsigned tftp_blksize;    /* TFTP block size (RFC 2348); 0: 512 */
	const char *ssh_known_hosts;  /* scp, sftp: the host keys the server's must be among; required */
	const char *ssh_key;      /* scp, sftp: a private key file to log in with; NULL: password only */
	int unnamed;              /* errors do not begin "SOURCE: ": the caller names the source itself */
	/* Resuming a download an earlier process began (after a power cut): the
	 * identity it recorded from dev_transport_info()->id. NULL: none, the
	 * first answer sets it. Copied at open. */
	const struct dev_transport_id *expect;
	/* Out: a 429/503 answer's Retry-After in seconds (0 when it said none); NULL: not wanted. */
	long *retry_after;
	/* Stop the stream here, as dev_transport_seek_to does (0: the file's end): for a caller
	 * that holds the bytes from there on already. */
	uint64_t end;
};

struct dev_transport_info {
	enum dev_proto proto;     /* the protocol that served (AUTO resolved to FTP or TFTP) */
	struct dev_transport_id id;
	int can_resume;           /* 1: the server started in the middle (206, REST); 0: it did not
				   * (TFTP, a 200 to a Range); -1: not asked yet */
	int ranges_said;          /* HTTP: the last answer said "Accept-Ranges: bytes" (a promise, not yet a proof) */
	int changed;              /* the file changed on the server: start over from byte 0 */
	uint64_t offset;          /* the offset of the next byte read returns */
	uint64_t end;             /* the stream stops here (dev_transport_seek_to); 0: at the file's end */
	uint64_t fetched;         /* bytes received over the network in all attempts, skipped ones included */
	unsigned attempts;        /* connections made (every retry and seek counts) */
	unsigned interruptions;   /* attempts that failed and were retried */
	char shown[600];          /* the source for messages, password hidden */
};

struct dev_transport;

/* Defaults for every limit above. */
void dev_transport_opts_init(struct dev_transport_opts *o);

/*
 * Open src (kind DEV_SRC_NET) at byte offset and wait for the server's first
 * answer, so a missing file, a refused login or a changed file is an error
 * here, not at the first read. opts may be NULL (defaults); its strings must
 * outlive the transport. On success *out is the transport (dev_transport_close it).
 */
int dev_transport_open(struct dev_transport **out, const struct dev_source *src, const struct dev_transport_opts *opts,
		       uint64_t offset, struct fw_err *err);

/*
 * Up to len bytes of the file at info.offset into buf. Returns the count
 * (> 0), 0 at the end of the file (its whole length arrived, when the server
 * said it), or -1 with err (code FW_EXIT_NET; info.changed when the file
 * changed). Retries as described above before it fails.
 */
ssize_t dev_transport_read(struct dev_transport *t, void *buf, size_t len, struct fw_err *err);

/*
 * Continue at offset instead (before or after info.offset): for the upgrade's
 * resume from its first unverified chunk. A short skip forward reads through;
 * anything else reconnects as a resume does. Not while an fd thread runs.
 */
int dev_transport_seek(struct dev_transport *t, uint64_t offset, struct fw_err *err);

/*
 * dev_transport_seek, and stop the stream at end (exclusive; 0: the file's
 * end): read returns 0 there until the next seek. For a caller that holds
 * the bytes from end on already (dev_feed): over HTTP the request asks for
 * [offset, end) alone (Range: bytes=offset-(end-1)), so the server sends
 * nothing beyond; FTP and TFTP read on, and what arrives past end is dropped
 * at the next seek. A seek to another end reconnects.
 */
int dev_transport_seek_to(struct dev_transport *t, uint64_t offset, uint64_t end, struct fw_err *err);

/*
 * Lower (or set) the cap on the file's length once the caller knows it, e.g.
 * from a manifest; safe from the reader's thread while the fd thread runs.
 * Beyond it the stream fails (FW_EXIT_NET) instead of delivering the byte.
 */
void dev_transport_set_limit(struct dev_transport *t, uint64_t max_bytes);

/* The offset of the next byte the stream delivers: safe from any thread, e.g. for progress while the fd thread runs. */
/*
 * Whether moving forward (dev_transport_seek_to) is a new request that
 * starts there, so the bytes between are not fetched: HTTP from a server
 * that answered a Range (206) or said "Accept-Ranges: bytes" and has not
 * ignored one since, FTP and SFTP; never TFTP (it starts at byte 0) nor a
 * transport that failed.
 */
int dev_transport_jumps(const struct dev_transport *t);

/* An HTTP server answered a Range with the whole file (200, not 206): the bytes before the range came again. */
int dev_transport_range_ignored(const struct dev_transport_info *i);

uint64_t dev_transport_done(const struct dev_transport *t);

/* The file offset past the last byte the current connection received (read ahead of dev_transport_done); from
 * the thread that reads. */
uint64_t dev_transport_received(const struct dev_transport *t);

/* Counters and identity so far; valid until close. While a feed's fd thread reads it, look after dev_feed_finish. */
const struct dev_transport_info *dev_transport_info(const struct dev_transport *t);

/* An fd for readers that take one (pkg_read): a dev_feed over the transport (dev_feed_fd), the one fd thread. */

/*
 * From another thread: make a read blocked on the network (and every read
 * until turned off again) give up at once with an error, the stream staying
 * where it is. For a caller running its own thread over the transport
 * (dev_feed_finish).
 */
void dev_transport_interrupt(struct dev_transport *t, int on);

/* End the transfer, wipe the password, free. NULL is fine. */
void dev_transport_close(struct dev_transport *t);

#endif
