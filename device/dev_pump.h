/* dev_pump: a thread that pulls a stream and pushes it into a socket pair, so that readers taking an fd (pkg_read) can read it. */
#ifndef FW_DEV_PUMP_H
#define FW_DEV_PUMP_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "base/fw_err.h"

/* Up to len bytes into buf: the count, 0 at the end, or -1 with err. */
typedef ssize_t (*dev_pull_fn)(void *ctx, void *buf, size_t len, struct fw_err *err);

/*
 * The one fd thread of libfwdev (dev_feed_fd). Memory is
 * constant: one 64 KiB block on the thread, the rest waits in the socket
 * pair's kernel buffer. The end of the stream and a failure both look like
 * EOF to the reader, who asks dev_pump_finish which it was.
 */
struct dev_pump {
	dev_pull_fn pull;
	void *ctx;
	pthread_t thread;
	int on;
	int fds[2];
	atomic_int stop;        /* finish has begun: a failing pull is the stop, not an error */
	int rc;
	struct fw_err err;
};

/* Start pulling on a thread. Returns the fd to read (owned by the pump) or -1 with err. */
int dev_pump_start(struct dev_pump *p, dev_pull_fn pull, void *ctx, struct fw_err *err);

/* Is the thread running? */
int dev_pump_running(const struct dev_pump *p);

/*
 * Stop the thread (the reader may have stopped first), close the fd, and say
 * how the stream ended: 0 every byte was delivered; 1 the reader stopped
 * first; -1 the pull failed (err says why). interrupt (may be NULL) is called
 * once the stop is marked, to make a pull blocked on the network give up.
 */
int dev_pump_finish(struct dev_pump *p, void (*interrupt)(void *ctx), struct fw_err *err);

#endif
