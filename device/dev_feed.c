/* dev_feed: a package stream spliced from local ranges (pread) and a transport (seeked past them), with an optional tee. */
#include "dev_feed.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LOCAL 16u

struct local_range {
	uint64_t start, end;   /* package offsets */
	int fd;
	uint64_t fd_offset;    /* fd's byte for start */
};

struct dev_feed {
	struct dev_transport *net;
	uint64_t total;                    /* 0: unknown, the transport's end is the end */
	struct local_range local[MAX_LOCAL];
	size_t n_local;
	int tee_fd;
	int started;                       /* a read happened: no more ranges */
	uint64_t pos;
	uint64_t fallback_until;           /* bytes before this come from the network although declared local */
	_Atomic uint64_t done;
	_Atomic uint64_t local_bytes, net_bytes, fallback_bytes;
	_Atomic unsigned seeks;
	/* the fd thread */
	int fds[2];
	pthread_t thread;
	int thread_on;
	_Atomic int stop;
	int thread_rc;
	struct fw_err thread_err;
};

int dev_feed_new(struct dev_feed **out, struct dev_transport *net, uint64_t total, struct fw_err *err)
{
	struct dev_feed *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	f->net = net;
	f->total = total;
	if (total == 0 && net != NULL && dev_transport_info(net)->id.size > 0)
		f->total = (uint64_t)dev_transport_info(net)->id.size;
	f->tee_fd = -1;
	f->fds[0] = f->fds[1] = -1;
	atomic_init(&f->done, 0);
	atomic_init(&f->local_bytes, 0);
	atomic_init(&f->net_bytes, 0);
	atomic_init(&f->fallback_bytes, 0);
	atomic_init(&f->seeks, 0);
	atomic_init(&f->stop, 0);
	*out = f;
	return 0;
}

int dev_feed_add_local(struct dev_feed *f, uint64_t start, uint64_t end, int fd, uint64_t fd_offset,
		       struct fw_err *err)
{
	if (f->started)
		return fw_err_set(err, FW_EXIT_USAGE, "a local range added after the first read");
	if (start >= end || fd < 0)
		return fw_err_set(err, FW_EXIT_USAGE, "an empty local range [%llu,%llu)", (unsigned long long)start,
				  (unsigned long long)end);
	if (f->n_local == MAX_LOCAL)
		return fw_err_set(err, FW_EXIT_USAGE, "more than %u local ranges", MAX_LOCAL);
	for (size_t i = 0; i < f->n_local; i++)
		if (start < f->local[i].end && f->local[i].start < end)
			return fw_err_set(err, FW_EXIT_USAGE, "local range [%llu,%llu) overlaps another",
					  (unsigned long long)start, (unsigned long long)end);
	f->local[f->n_local++] = (struct local_range){ start, end, fd, fd_offset };
	return 0;
}

void dev_feed_tee(struct dev_feed *f, int fd)
{
	f->tee_fd = fd;
}

uint64_t dev_feed_done(const struct dev_feed *f)
{
	return atomic_load(&((struct dev_feed *)f)->done);
}

void dev_feed_stats(const struct dev_feed *f, struct dev_feed_stats *out)
{
	struct dev_feed *m = (struct dev_feed *)f;

	out->local_bytes = atomic_load(&m->local_bytes);
	out->net_bytes = atomic_load(&m->net_bytes);
	out->fallback_bytes = atomic_load(&m->fallback_bytes);
	out->seeks = atomic_load(&m->seeks);
}

/* The local range holding pos, or NULL; *next_start says where the next local range begins (UINT64_MAX: none). */
static const struct local_range *local_at(const struct dev_feed *f, uint64_t pos, uint64_t *next_start)
{
	*next_start = UINT64_MAX;
	for (size_t i = 0; i < f->n_local; i++) {
		const struct local_range *l = &f->local[i];

		if (pos >= l->start && pos < l->end)
			return l;
		if (l->start > pos && l->start < *next_start)
			*next_start = l->start;
	}
	return NULL;
}

/* Up to len local bytes at f->pos; 0 when the file cannot deliver them (the caller fetches them instead). */
static size_t read_local(struct dev_feed *f, const struct local_range *l, void *buf, size_t len)
{
	ssize_t n;

	if (len > l->end - f->pos)
		len = (size_t)(l->end - f->pos);
	do
		n = pread(l->fd, buf, len, (off_t)(l->fd_offset + (f->pos - l->start)));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		/* The rest of this range is fetched: a short local copy costs bytes, never correctness. */
		f->fallback_until = l->end;
		atomic_fetch_add(&f->fallback_bytes, l->end - f->pos);
		return 0;
	}
	atomic_fetch_add(&f->local_bytes, (uint64_t)n);
	return (size_t)n;
}

static ssize_t read_net(struct dev_feed *f, void *buf, size_t len, struct fw_err *err)
{
	ssize_t n;

	if (f->net == NULL)
		return fw_err_set(err, FW_EXIT_IO, "byte %llu of the package is neither local nor fetchable",
				  (unsigned long long)f->pos);
	if (dev_transport_done(f->net) != f->pos) {
		if (dev_transport_seek(f->net, f->pos, err) < 0)
			return -1;
		atomic_fetch_add(&f->seeks, 1);
	}
	if ((n = dev_transport_read(f->net, buf, len, err)) <= 0)
		return n;
	if (f->tee_fd >= 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = pwrite(f->tee_fd, (char *)buf + off, (size_t)(n - off), (off_t)(f->pos + (uint64_t)off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return fw_err_set(err, FW_EXIT_IO, "writing the downloaded bytes at offset %llu: %s",
						  (unsigned long long)(f->pos + (uint64_t)off), w < 0 ? strerror(errno) : "no space");
			off += w;
		}
	}
	atomic_fetch_add(&f->net_bytes, (uint64_t)n);
	return n;
}

ssize_t dev_feed_read(struct dev_feed *f, void *buf, size_t len, struct fw_err *err)
{
	const struct local_range *l;
	uint64_t next;
	ssize_t n = 0;

	f->started = 1;
	while (n == 0) {
		size_t want = len;

		if (f->total > 0 && f->pos >= f->total)
			return 0;
		if (f->total > 0 && want > f->total - f->pos)
			want = (size_t)(f->total - f->pos);
		l = local_at(f, f->pos, &next);
		if (l != NULL && f->pos >= f->fallback_until) {
			n = (ssize_t)read_local(f, l, buf, want);
			continue;   /* 0: fetch the range instead */
		}
		if (l != NULL)
			next = f->fallback_until;   /* a local range its file could not deliver: fetched to its end */
		if (want > next - f->pos)
			want = (size_t)(next - f->pos);
		n = read_net(f, buf, want, err);
		if (n <= 0)
			return n;
	}
	f->pos += (uint64_t)n;
	atomic_store(&f->done, f->pos);
	return n;
}

/* The fd thread: pull, push into the socket pair, stop when the reader goes away. */
static void *feed_thread(void *arg)
{
	struct dev_feed *f = arg;
	static const size_t bufsz = 64 * 1024;
	unsigned char *buf = malloc(bufsz);
	ssize_t n;

	f->thread_rc = -1;
	if (buf == NULL) {
		fw_err_set(&f->thread_err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	while ((n = dev_feed_read(f, buf, bufsz, &f->thread_err)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(f->fds[1], buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				f->thread_rc = 1;   /* the reader closed or was stopped */
				goto out;
			}
			off += w;
		}
	}
	if (n == 0)
		f->thread_rc = 0;
	else if (atomic_load(&f->stop))
		f->thread_rc = 1;
out:
	free(buf);
	shutdown(f->fds[1], SHUT_WR);   /* EOF for the reader */
	return NULL;
}

int dev_feed_fd(struct dev_feed *f, struct fw_err *err)
{
	int rc, sockbuf = 1024 * 1024;

	if (f->thread_on)
		return f->fds[0];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->fds) < 0)
		return fw_err_set(err, FW_EXIT_IO, "socketpair: %s", strerror(errno));
	/* Room for a few blocks in flight, so the two threads do not hand over every 64 KiB (best effort). */
	setsockopt(f->fds[1], SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof(sockbuf));
	f->started = 1;
	if ((rc = pthread_create(&f->thread, NULL, feed_thread, f)) != 0) {
		close(f->fds[0]);
		close(f->fds[1]);
		f->fds[0] = f->fds[1] = -1;
		return fw_err_set(err, FW_EXIT_IO, "cannot start a thread: %s", strerror(rc));
	}
	f->thread_on = 1;
	return f->fds[0];
}

int dev_feed_finish(struct dev_feed *f, struct fw_err *err)
{
	if (!f->thread_on)
		return fw_err_set(err, FW_EXIT_USAGE, "no feed thread");
	atomic_store(&f->stop, 1);
	shutdown(f->fds[0], SHUT_RDWR);   /* a send blocked on a full socket fails now */
	pthread_join(f->thread, NULL);
	f->thread_on = 0;
	close(f->fds[0]);
	close(f->fds[1]);
	f->fds[0] = f->fds[1] = -1;
	atomic_store(&f->stop, 0);
	if (f->thread_rc < 0)
		*err = f->thread_err;
	return f->thread_rc;
}

void dev_feed_free(struct dev_feed *f)
{
	struct fw_err ignored;

	if (f == NULL)
		return;
	if (f->thread_on)
		dev_feed_finish(f, &ignored);
	free(f);
}
