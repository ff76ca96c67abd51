/* dev_feed: a package stream spliced from local ranges (pread) and a transport (seeked past them), with an optional tee. */
#include "dev_feed.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/dev_pump.h"

#define MAX_LOCAL 16u

struct local_range {
	uint64_t start, end;   /* package offsets */
	int fd;                /* -1: skipped (dev_feed_add_skipped), delivered as zeros */
	uint64_t fd_offset;    /* fd's byte for start */
};

struct dev_feed {
	struct dev_transport *net;
	int src_fd;                        /* a plain stream instead of a transport (dev_feed_new_fd); -1 */
	uint64_t total;                    /* 0: unknown, the transport's end is the end */
	struct local_range local[MAX_LOCAL];
	size_t n_local;
	int tee_fd;
	int started;                       /* a read happened: no more ranges */
	uint64_t pos;
	uint64_t fallback_until;           /* bytes before this come from the network although declared local */
	_Atomic uint64_t done;
	_Atomic uint64_t local_bytes, net_bytes, fallback_bytes, skipped_bytes, skipped_received;
	_Atomic unsigned seeks;
	struct dev_pump pump;              /* the fd thread (dev_feed_fd) */
	/* Ranges the reader will pass over, told from its thread (dev_feed_pass_over) while this one reads;
	 * taken as skipped ranges at the next read. */
	pthread_mutex_t pass_mu;
	struct { uint64_t start, end; } pass[MAX_LOCAL];
	size_t n_pass;
};

int dev_feed_new(struct dev_feed **out, struct dev_transport *net, uint64_t total, struct fw_err *err)
{
	struct dev_feed *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	f->net = net;
	f->src_fd = -1;
	f->total = total;
	if (total == 0 && net != NULL && dev_transport_info(net)->id.size > 0)
		f->total = (uint64_t)dev_transport_info(net)->id.size;
	f->tee_fd = -1;
	f->pump.fds[0] = f->pump.fds[1] = -1;
	atomic_init(&f->done, 0);
	atomic_init(&f->local_bytes, 0);
	atomic_init(&f->net_bytes, 0);
	atomic_init(&f->fallback_bytes, 0);
	atomic_init(&f->skipped_bytes, 0);
	atomic_init(&f->skipped_received, 0);
	atomic_init(&f->seeks, 0);
	pthread_mutex_init(&f->pass_mu, NULL);
	*out = f;
	return 0;
}

int dev_feed_new_fd(struct dev_feed **out, int fd, uint64_t total, struct fw_err *err)
{
	if (dev_feed_new(out, NULL, total, err) < 0)
		return -1;
	(*out)->src_fd = fd;
	return 0;
}

/* The next bytes of a plain stream (a file, a pipe): read in order, never sought. */
static ssize_t read_fd(struct dev_feed *f, void *buf, size_t len, struct fw_err *err)
{
	ssize_t n;

	do
		n = read(f->src_fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fw_err_set(err, FW_EXIT_IO, "reading the package at offset %llu: %s", (unsigned long long)f->pos,
				  strerror(errno));
	return n;
}

static int add_range(struct dev_feed *f, uint64_t start, uint64_t end, int fd, uint64_t fd_offset, struct fw_err *err)
{
	if (f->started)
		return fw_err_set(err, FW_EXIT_USAGE, "a local range added after the first read");
	if (f->src_fd >= 0)
		return fw_err_set(err, FW_EXIT_USAGE, "a local range in a plain stream");
	if (start >= end)
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

int dev_feed_add_local(struct dev_feed *f, uint64_t start, uint64_t end, int fd, uint64_t fd_offset,
		       struct fw_err *err)
{
	if (fd < 0)
		return fw_err_set(err, FW_EXIT_USAGE, "a local range without a file");
	return add_range(f, start, end, fd, fd_offset, err);
}

int dev_feed_add_skipped(struct dev_feed *f, uint64_t start, uint64_t end, struct fw_err *err)
{
	return add_range(f, start, end, -1, 0, err);
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
	out->skipped_bytes = atomic_load(&m->skipped_bytes);
	out->skipped_received = atomic_load(&m->skipped_received);
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
	if (l->fd < 0) {
		memset(buf, 0, len);
		atomic_fetch_add(&f->skipped_bytes, (uint64_t)len);
		return len;
	}
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

/* Package bytes [from, to) came over the network unused: those of skipped ranges were not spared after all. */
static void received_unused(struct dev_feed *f, uint64_t from, uint64_t to)
{
	for (size_t i = 0; i < f->n_local; i++) {
		const struct local_range *l = &f->local[i];
		uint64_t a = from > l->start ? from : l->start, b = to < l->end ? to : l->end;

		if (l->fd < 0 && a < b)
			atomic_fetch_add(&f->skipped_received, b - a);
	}
}

static ssize_t read_net(struct dev_feed *f, uint64_t next, void *buf, size_t len, struct fw_err *err)
{
	uint64_t end, have_end;
	ssize_t n;

	if (f->net == NULL && f->src_fd >= 0) {
		if ((n = read_fd(f, buf, len, err)) <= 0)
			return n;
		goto tee;
	}
	if (f->net == NULL)
		return fw_err_set(err, FW_EXIT_IO, "byte %llu of the package is neither local nor fetchable",
				  (unsigned long long)f->pos);
	/* Ask for the bytes up to the next local range alone (over HTTP the server sends no more); a stream
	 * already at pos that does not stop before that is used as it is. */
	end = next == UINT64_MAX || (f->total > 0 && next >= f->total) ? 0 : next;
	have_end = dev_transport_info(f->net)->end;
	if (dev_transport_done(f->net) != f->pos || (have_end != 0 && (end == 0 || have_end < end))) {
		uint64_t from = dev_transport_done(f->net), to = dev_transport_received(f->net);
		unsigned attempts = dev_transport_info(f->net)->attempts;

		if (dev_transport_seek_to(f->net, f->pos, end, err) < 0)
			return -1;
		/* What the transport had received past its reader went with the old connection; a short jump
		 * forward is read through on the same one. */
		if (dev_transport_info(f->net)->attempts == attempts && f->pos > from)
			to = f->pos;
		received_unused(f, from, to);
		atomic_fetch_add(&f->seeks, 1);
	}
	if ((n = dev_transport_read(f->net, buf, len, err)) <= 0)
		return n;
tee:
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

void dev_feed_pass_over(struct dev_feed *f, uint64_t start, uint64_t end)
{
	if (f->net == NULL || start >= end)
		return;
	pthread_mutex_lock(&f->pass_mu);
	if (f->n_pass < MAX_LOCAL) {
		f->pass[f->n_pass].start = start;
		f->pass[f->n_pass].end = end;
		f->n_pass++;
	}
	pthread_mutex_unlock(&f->pass_mu);
}

/*
 * The reading thread takes the ranges the reader said it will pass over: what
 * is left of each after pos becomes a skipped range (zeros, the transport
 * moved past it), when the transport starts a request where it is asked to
 * (dev_transport_jumps: else the bytes are read through as before) and the
 * range overlaps no other.
 */
static void take_pass_over(struct dev_feed *f)
{
	pthread_mutex_lock(&f->pass_mu);
	for (size_t k = 0; k < f->n_pass; k++) {
		uint64_t start = f->pass[k].start < f->pos ? f->pos : f->pass[k].start, end = f->pass[k].end;
		int clear = end > start && f->n_local < MAX_LOCAL && dev_transport_jumps(f->net);

		for (size_t i = 0; clear && i < f->n_local; i++)
			clear = !(start < f->local[i].end && f->local[i].start < end);
		if (clear)
			f->local[f->n_local++] = (struct local_range){ start, end, -1, 0 };
	}
	f->n_pass = 0;
	pthread_mutex_unlock(&f->pass_mu);
}

ssize_t dev_feed_read(struct dev_feed *f, void *buf, size_t len, struct fw_err *err)
{
	const struct local_range *l;
	uint64_t next;
	ssize_t n = 0;

	f->started = 1;
	if (f->net != NULL)
		take_pass_over(f);
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
		n = read_net(f, next, buf, want, err);
		if (n <= 0)
			return n;
	}
	f->pos += (uint64_t)n;
	atomic_store(&f->done, f->pos);
	return n;
}

static ssize_t pull(void *ctx, void *buf, size_t len, struct fw_err *err)
{
	return dev_feed_read(ctx, buf, len, err);
}

/* A read blocked on the network gives up at once: the reader is gone. */
static void interrupt(void *ctx)
{
	struct dev_feed *f = ctx;

	if (f->net != NULL)
		dev_transport_interrupt(f->net, 1);
}

int dev_feed_fd(struct dev_feed *f, struct fw_err *err)
{
	f->started = 1;
	return dev_pump_start(&f->pump, pull, f, err);
}

int dev_feed_finish(struct dev_feed *f, struct fw_err *err)
{
	int rc;

	if (!dev_pump_running(&f->pump))
		return fw_err_set(err, FW_EXIT_USAGE, "no feed thread");
	rc = dev_pump_finish(&f->pump, interrupt, err);
	if (f->net != NULL)
		dev_transport_interrupt(f->net, 0);
	return rc;
}

void dev_feed_free(struct dev_feed *f)
{
	struct fw_err ignored;

	if (f == NULL)
		return;
	if (dev_pump_running(&f->pump))
		dev_feed_finish(f, &ignored);
	pthread_mutex_destroy(&f->pass_mu);
	free(f);
}
