/* dev_download: fetch the next release into ROOT/download, verified as it arrives, resumable after a power cut. */
#ifndef FW_DEV_DOWNLOAD_H
#define FW_DEV_DOWNLOAD_H

#include <stdint.h>

#include "base/fw_err.h"
#include "device/dev_root.h"

#define DEV_DOWNLOAD_DIR "download"
#define DEV_DOWNLOAD_PART "download/package.part"   /* being fetched */
#define DEV_DOWNLOAD_FILE "download/package.pkg"    /* fetched whole and verified: what the install reads */
#define DEV_DOWNLOAD_SYNC (1024u * 1024)            /* bytes between two durable progress records */

struct dev_download_out {
	char version[FW_VERSION_MAX_LEN + 1];
	uint64_t length;        /* the package's, as the catalog says */
	uint64_t resumed_from;  /* bytes already on disk when this run began (re-verified, not fetched) */
	uint64_t fetched;       /* bytes received over the network in this run */
	unsigned interruptions; /* cut or stalled connections the transport resumed */
	int range_ignored;      /* asked for a range (a resume, a retry), an HTTP server sent the whole file (200) */
	uint64_t speed;         /* bytes per second over the network in this run */
	int already;            /* it was complete before: nothing done */
	int changed;            /* the file changed on the server: what was fetched was deleted and it was fetched again */
	int delta;              /* a delta package of the release (the catalog's): ... */
	uint64_t full_length;   /* ... instead of the full package's bytes */
	char result[32];        /* recorded in ROOT/smart.json: success, netError, fileNotMatch, ... */
};

/*
 * fwctl download at `now` on a locked root: fetch the step the last accepted
 * catalog named (ROOT/smart.json) into DEV_DOWNLOAD_PART, through a
 * dev_feed: the bytes already there are read back first and the network
 * continues from the first missing byte (HTTP Range; the server's ETag /
 * Last-Modified / size recorded so a changed file is never spliced on), each
 * network byte written to the file; all of it streams through pkg_read, which
 * checks the signature against the device's trust store and every chunk
 * against the signed manifest as it arrives (hashed where the reader has the
 * bytes: the tee keeps them, so no chunk buffer is needed). The
 * manifest.json's SHA-256 must equal the catalog's manifest_sha256 and the
 * length the catalog's. Each time chunks holding DEV_DOWNLOAD_SYNC bytes more
 * were verified, the file is fsync'd and the progress recorded.
 * When all of it checked out, the file is renamed to DEV_DOWNLOAD_FILE. Results
 * (ROOT/smart.json's download): netError (progress kept, the next attempt
 * backs off), fileNotMatch (another package than the catalog names),
 * fileCheckFailed / signatureFailed (the package is bad): these three discard
 * the download. A file that changed on the server since the bytes on disk
 * came (another ETag, Last-Modified or size) is not a network error: they
 * are deleted and the file is downloaded again in the same run (once). Nothing of the running system changes. 0, or -1 with err
 * (FW_EXIT_NET, FW_EXIT_REJECTED, FW_EXIT_USAGE when there is nothing to fetch, FW_EXIT_IO).
 */
int dev_download(struct dev_root *r, int64_t now, struct dev_download_out *out, struct fw_err *err);

/* Remove the download area's files (a changed step, a refused package, after the install). */
void dev_download_discard(const struct dev_root *r);

#endif
