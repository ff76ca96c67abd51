/* dev_intake: the one way a package comes into the device: source, kept bytes spliced in, the unpack hook, the reader, one result. */
#ifndef FW_DEV_INTAKE_H
#define FW_DEV_INTAKE_H

#include <stdint.h>

#include "base/fw_err.h"
#include "device/dev_feed.h"
#include "device/dev_hook.h"
#include "device/dev_root.h"
#include "device/dev_source.h"
#include "device/dev_state.h"
#include "device/dev_transport.h"
#include "formats/pkg_read.h"

/*
 * Why: upgrade, golden install, package install and download each read a
 * package from a source and decide what its end means. When each did it
 * its own way the copies drifted (the hook ran on one path in three, each
 * classified failures its own way). They all come through here; what stays
 * theirs is what they do with the verified bytes (their reader callbacks)
 * and their own transaction or tee.
 *
 * The stream of one read (dev_intake_read), from the source to the reader:
 *
 *   source (a local fd, or a transport) -- kept ranges spliced in --
 *   [tee SOURCE] -- unpack hook, when the device sets one -- [tee READ] -- pkg_read
 *
 * A local file with nothing to splice and nothing to keep is handed to the
 * reader (or the hook) as the fd itself: the reader's positional reads and
 * its hashing on all cores stay. Anything else goes through a dev_feed.
 *
 * Tee: DEV_INTAKE_TEE_SOURCE keeps the source's bytes (a download resumes
 * from them; the hook runs again when they are installed); TEE_READ keeps
 * what the reader verified (a package install stores exactly that). Without
 * a hook the two are the same bytes.
 *
 * One outcome, an enum dev_result, for every way in: the network's failure
 * first (a stream cut short also looks like a bad package), then the hook's
 * verdict (its output only had to be read to be judged), then the reader's:
 * before the manifest callback ran, a signature or a package failure; after
 * it, what the caller's *stage says a failure there is.
 */

enum dev_intake_tee {
	DEV_INTAKE_TEE_NONE,
	DEV_INTAKE_TEE_SOURCE,   /* every byte from the source, pwritten at its offset */
	DEV_INTAKE_TEE_READ,     /* every byte the reader read (after the hook) */
};

#define DEV_INTAKE_MAX_LOCAL 8u

struct dev_intake {
	struct dev_root *root;
	const struct dev_source *src;
	const char *verb;             /* "upgrade", "package install", "download": the hook's messages say what stops */
	struct dev_transport *net;    /* a network source's transport; NULL for a local one */
	int fd;                       /* a local source's fd; -1 */
	int rereadable;               /* a local source can be read again from byte 0 */
	uint64_t total;               /* the package's length when the caller knows it (a catalog's); 0: the source's end */
	int tee_fd;                   /* -1: no tee */
	enum dev_intake_tee tee;
	struct {
		uint64_t start, end;
		int fd;
	} local[DEV_INTAKE_MAX_LOCAL];   /* this read's kept ranges: [start,end) of the package = fd's bytes from 0; fd -1: skipped */
	unsigned n_local;
	unsigned reads;               /* reads done */
	struct dev_feed *feed;        /* this read's stream from the source, when one is needed */
	struct dev_feed *out_feed;    /* the hook's output, kept (TEE_READ with a hook) */
	struct dev_feed_stats stats;  /* the last read's, of the source's feed */
	uint64_t spliced;             /* bytes taken from kept ranges, every read */
	uint64_t skipped;             /* bytes of skipped ranges (not read from the source), every read */
	uint64_t skipped_received;    /* of those, bytes the transport received all the same, every read */
	uint64_t last_done;           /* where the last read's source stream ended */
	int reached;                  /* the last read's manifest callback ran */
	int drain;                    /* after an accepted package, read its stream to the end (a tee keeps it whole) */
	char hook_stderr[DEV_HOOK_STDERR_MAX + 1];   /* the last hook's stderr, capped, trailing newlines cut */
	/* the caller's reader callbacks, for the one read under way */
	const struct pkg_reader_ops *ops;
	int (*chunks_verified)(void *ctx, uint64_t bytes, struct fw_err *err);
	void *ctx;
};

/*
 * Open src on r (a medium by its label; the network at offset, with the
 * device's settings, the caller naming the source in errors, or with *o
 * as it is). 0, or -1 with err and *res: DEV_RESULT_NONE for a
 * medium the device does not have (a typing mistake, not an attempt:
 * FW_EXIT_USAGE), netError, policyRefused (a path that is no regular file
 * there) or systemError.
 */
int dev_intake_open(struct dev_intake *in, struct dev_root *r, const struct dev_source *src, const char *verb,
		    const struct dev_transport_opts *o, uint64_t offset, enum dev_result *res, struct fw_err *err);

/* A local package the caller opened already (fd, owned by the intake from now on, read from its offset 0). */
void dev_intake_open_fd(struct dev_intake *in, struct dev_root *r, int fd, const char *verb);

/*
 * For the next read only: the package's bytes [start, end) are fd's from byte
 * 0 on (verified like any byte); fd -1: bytes the reader will pass over
 * unread (dev_feed_add_skipped), not fetched.
 */
int dev_intake_splice(struct dev_intake *in, uint64_t start, uint64_t end, int fd, struct fw_err *err);

/*
 * During a read, from a reader callback: the reader will pass over the
 * package's bytes [start, end) unread, so a network source need not fetch
 * them (dev_feed_pass_over). Nothing happens for a local source, with an
 * unpack hook (its output has offsets of its own) or a tee (it keeps every
 * byte).
 */
void dev_intake_pass_over(struct dev_intake *in, uint64_t start, uint64_t end);

/* Keep the stream's bytes (see Tee above) in fd, at their offsets; the caller makes them durable. */
void dev_intake_tee(struct dev_intake *in, int fd, enum dev_intake_tee which);

/*
 * Read the package once from byte 0, through the hook when one is set, with
 * the caller's options and callbacks (ctx is theirs). stage: what a failure
 * after the manifest callback counts as (the callbacks keep it current).
 * DEV_RESULT_SUCCESS when the reader accepted the whole package, else the
 * failure's result with err (the network's error, the hook's verdict or the
 * reader's, as above; code FW_EXIT_IO for writeFlashFailed and systemError).
 */
enum dev_result dev_intake_read(struct dev_intake *in, const struct pkg_read_opts *opts,
				const struct pkg_reader_ops *ops, void *ctx, const enum dev_result *stage,
				struct fw_manifest **m, struct pkg_report *rep, struct fw_err *err);

/* How far this read has come in the source's stream, from any thread (progress, checkpoints). */
uint64_t dev_intake_done(const struct dev_intake *in);

/* Close the source (a transport wipes its password); the fds the caller spliced or teed stay theirs. */
void dev_intake_close(struct dev_intake *in);

/*
 * How a reader failure before its manifest callback ran is sorted: a
 * signature the trust decision refused, or a bad package, or reading that
 * failed. signatures_optional: a package no trusted key signed is no
 * failure by itself.
 */
enum dev_result dev_intake_early_result(const struct pkg_report *rep, const struct fw_err *err, int signatures_optional);

#endif
