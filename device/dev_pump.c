/* dev_pump: pull on a thread, push into a socket pair, stop when the reader goes away or finish says so. */
#include "dev_pump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PUMP_BLOCK (64u * 1024)

static void *pump_thread(void *arg)
{
	struct dev_pump *p = arg;
	unsigned char *buf = malloc(PUMP_BLOCK);
	ssize_t n;

	p->rc = -1;
	if (buf == NULL) {
		fw_err_set(&p->err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	while ((n = p->pull(p->ctx, buf, PUMP_BLOCK, &p->err)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(p->fds[1], buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				p->rc = 1;   /* the reader closed or was stopped */
				goto out;
			}
			off += w;
		}
	}
	if (n == 0)
		p->rc = 0;
	else if (atomic_load(&p->stop))
		p->rc = 1;
out:
	free(buf);
	shutdown(p->fds[1], SHUT_WR);   /* EOF for the reader */
	return NULL;
}

int dev_pump_start(struct dev_pump *p, dev_pull_fn pull, void *ctx, struct fw_err *err)
{
	int rc, sockbuf = 1024 * 1024;

	if (p->on)
		return p->fds[0];
	p->pull = pull;
	p->ctx = ctx;
	atomic_init(&p->stop, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->fds) < 0)
		return fw_err_set(err, FW_EXIT_IO, "socketpair: %s", strerror(errno));
	/* Room for a few blocks in flight, so the two threads do not hand over every 64 KiB (best effort). */
	setsockopt(p->fds[1], SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof(sockbuf));
	if ((rc = pthread_create(&p->thread, NULL, pump_thread, p)) != 0) {
		close(p->fds[0]);
		close(p->fds[1]);
		p->fds[0] = p->fds[1] = -1;
		return fw_err_set(err, FW_EXIT_IO, "cannot start a thread: %s", strerror(rc));
	}
	p->on = 1;
	return p->fds[0];
}

int dev_pump_running(const struct dev_pump *p)
{
	return p->on;
}

int dev_pump_finish(struct dev_pump *p, void (*interrupt)(void *ctx), struct fw_err *err)
{
	if (!p->on)
		return fw_err_set(err, FW_EXIT_USAGE, "no fd thread");
	atomic_store(&p->stop, 1);
	if (interrupt != NULL)
		interrupt(p->ctx);
	shutdown(p->fds[0], SHUT_RDWR);   /* a send blocked on a full socket fails now */
	pthread_join(p->thread, NULL);
	p->on = 0;
	close(p->fds[0]);
	close(p->fds[1]);
	p->fds[0] = p->fds[1] = -1;
	if (p->rc < 0)
		*err = p->err;
	return p->rc;
}
