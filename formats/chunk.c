/* chunk: a ring of chunk buffers: filled by the caller, hashed by worker threads, handed on in order by a delivery thread. */
#include "chunk.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sha256.h"

#define MAX_THREADS 8
#define MAX_SLOTS 16
/* Buffers in flight are the pipe's whole memory: keep them to a few MiB. */
#define SLOT_BUDGET (8u * 1024 * 1024)
#define CHUNK_ALIGN 4096

/*
 * A slot goes FREE -> FILLING (caller) -> QUEUED -> HASHING -> DONE (a
 * worker) -> DELIVERING -> FREE (the delivery thread). The delivery thread
 * hands slots on strictly in ring order, so bytes leave in stream order, and
 * the caller keeps reading while the sink writes (to flash, to a file).
 */
enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_HASHING, SLOT_DONE, SLOT_DELIVERING };

struct slot {
	uint8_t *buf;
	size_t len;
	uint64_t index;
	enum slot_state state;
	int ok;                   /* 1 matched, 0 mismatch, -1 reading failed */
	/* Queued by chunk_pipe_feed_fd: the worker reads the chunk itself. */
	int read_fd;              /* -1: the bytes are in buf already */
	uint64_t read_at;
	int read_errno;           /* why reading failed: an errno, or 0 for a file that ended early */
};

struct chunk_pipe {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;   /* a slot was queued, or stop */
	pthread_cond_t done_cv;   /* a slot finished hashing, or the ring was reset */
	pthread_cond_t free_cv;   /* a slot was handed on and is free again */
	pthread_t threads[MAX_THREADS];
	unsigned nthreads;
	pthread_t deliverer;
	int have_deliverer;
	int stop;
	/* No workers (CHUNK_PIPE_ON_FEED): the feeding thread hashes each chunk
	 * as it copies it in, while the chunk still sits in the CPU's cache. */
	int hash_on_feed;
	struct fw_sha256 feed_hash;
	size_t in_chunk;          /* on feed without a sink: bytes of the current chunk hashed so far */
	uint64_t verified;        /* chunks of the payload verified (and handed on, with a sink) so far */

	struct slot slots[MAX_SLOTS];
	unsigned nslots;          /* slots in use for the current chunk size */
	size_t slot_size;         /* bytes allocated per slot */

	/* the payload in progress */
	uint64_t size, fed, nchunks, next_index;
	uint32_t chunk_size;
	const uint8_t *expected;
	chunk_sink_fn sink;
	void *sink_ctx;
	unsigned fill, deliver;   /* ring positions: slot being filled, next to hand on */
	int64_t bad_chunk;
	/* chunk_pipe_collect_bad, for a payload without a sink: a mismatch is
	 * recorded (the first CHUNK_MAX_BAD, and a count) and hashing goes on. */
	int collect;
	uint64_t bad[CHUNK_MAX_BAD];
	size_t n_bad;
	uint64_t bad_total;
	int failed;               /* a chunk mismatched or the sink failed: stop */
	struct fw_err fail;       /* why, for the caller */
};

int chunk_sha256(const void *buf, size_t len, uint8_t out[32])
{
	fw_sha256(buf, len, out);
	return 0;
}

static struct slot *next_queued(struct chunk_pipe *p)
{
	struct slot *best = NULL;

	for (unsigned i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		if (s->state == SLOT_QUEUED && (best == NULL || s->index < best->index))
			best = s;
	}
	return best;
}

/* A slot queued by chunk_pipe_feed_fd: its chunk, read by the worker into the slot. 0, or -1 with read_errno set. */
static int read_chunk(struct slot *s)
{
	size_t got = 0;

	while (got < s->len) {
		ssize_t n = pread(s->read_fd, s->buf + got, s->len - got, (off_t)(s->read_at + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->read_errno = n < 0 ? errno : 0;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static void *worker(void *arg)
{
	struct chunk_pipe *p = arg;
	uint8_t md[32];
	int ok;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct slot *s;

		while (!p->stop && (s = next_queued(p)) == NULL)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stop)
			break;
		s->state = SLOT_HASHING;
		pthread_mutex_unlock(&p->mu);

		ok = s->read_fd < 0 || read_chunk(s) == 0;
		if (ok)
			fw_sha256(s->buf, s->len, md);

		pthread_mutex_lock(&p->mu);
		s->ok = ok ? memcmp(p->expected + s->index * 32, md, 32) == 0 : -1;
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Record the first failure; the caller sees it at its next feed or end. */
static void fail_slot(struct chunk_pipe *p, const struct slot *s, const struct fw_err *why)
{
	if (p->failed)
		return;
	p->failed = 1;
	if (why != NULL) {
		p->fail = *why;
	} else if (s->ok < 0 && s->read_errno != 0) {
		fw_err_set(&p->fail, FW_EXIT_IO, "reading chunk %llu: %s", (unsigned long long)s->index,
			   strerror(s->read_errno));
	} else if (s->ok < 0) {
		/* The package ended under the reader (cut while being read): what a
		 * stream would call truncated, a rejection rather than an I/O error. */
		fw_err_set(&p->fail, FW_EXIT_REJECTED, "truncated: the file ends inside chunk %llu (it shrank while being read)",
			   (unsigned long long)s->index);
	} else {
		p->bad_chunk = (int64_t)s->index;
		fw_err_set(&p->fail, FW_EXIT_REJECTED, "chunk %llu (bytes %llu..%llu): SHA-256 mismatch",
			   (unsigned long long)s->index, (unsigned long long)(s->index * p->chunk_size),
			   (unsigned long long)(s->index * p->chunk_size + s->len - 1));
	}
}

/*
 * A mismatch while collecting (no sink: no byte is handed on anyway): noted,
 * and the payload goes on. Called with the lock held. 1 if noted.
 */
static int note_bad(struct chunk_pipe *p, const struct slot *s)
{
	if (!p->collect || p->sink != NULL || s->ok != 0)
		return 0;
	if (p->bad_total == 0)
		p->bad_chunk = (int64_t)s->index;
	if (p->n_bad < CHUNK_MAX_BAD)
		p->bad[p->n_bad++] = s->index;
	p->bad_total++;
	return 1;
}

/* Hands hashed slots on in ring order; after a failure it only frees them. */
static void *deliverer(void *arg)
{
	struct chunk_pipe *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct slot *s;
		struct fw_err why = { 0 };
		int rc = 0;

		while (!p->stop && p->slots[p->deliver].state != SLOT_DONE)
			pthread_cond_wait(&p->done_cv, &p->mu);
		if (p->stop)
			break;
		s = &p->slots[p->deliver];
		if (!p->failed && s->ok != 1 && note_bad(p, s)) {
			/* Collected, not handed on, not counted as verified. */
		} else if (!p->failed && s->ok != 1) {
			fail_slot(p, s, NULL);
		} else if (!p->failed && p->sink != NULL) {
			s->state = SLOT_DELIVERING;
			pthread_mutex_unlock(&p->mu);
			rc = p->sink(p->sink_ctx, s->buf, s->len, &why);
			pthread_mutex_lock(&p->mu);
			if (rc < 0)
				fail_slot(p, s, &why);
		}
		if (!p->failed && s->ok == 1)
			p->verified++;
		s->state = SLOT_FREE;
		s->len = 0;
		s->read_fd = -1;
		p->deliver = (p->deliver + 1) % p->nslots;
		pthread_cond_broadcast(&p->free_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct chunk_pipe *chunk_pipe_new(unsigned threads, struct fw_err *err)
{
	struct chunk_pipe *p;

	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n < 1 ? 1 : (unsigned)n;
	}
	if (threads > MAX_THREADS && threads != CHUNK_PIPE_ON_FEED)
		threads = MAX_THREADS;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	pthread_cond_init(&p->free_cv, NULL);
	p->nslots = 1;   /* until the first payload sizes the ring */
	p->bad_chunk = -1;
	if (threads == CHUNK_PIPE_ON_FEED) {
		p->hash_on_feed = 1;
		threads = 0;
	}
	for (; p->nthreads < threads; p->nthreads++) {
		if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0) {
			fw_err_set(err, FW_EXIT_IO, "cannot start hashing thread");
			chunk_pipe_free(p);
			return NULL;
		}
	}
	if (pthread_create(&p->deliverer, NULL, deliverer, p) != 0) {
		fw_err_set(err, FW_EXIT_IO, "cannot start delivery thread");
		chunk_pipe_free(p);
		return NULL;
	}
	p->have_deliverer = 1;
	return p;
}

void chunk_pipe_free(struct chunk_pipe *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_cond_broadcast(&p->done_cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	if (p->have_deliverer)
		pthread_join(p->deliverer, NULL);
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		free(p->slots[i].buf);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_cond_destroy(&p->free_cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Size the ring for this chunk size; called between payloads, with every slot free. */
static int ensure_slots(struct chunk_pipe *p, uint32_t chunk_size, struct fw_err *err)
{
	/* With workers: one slot filling while they hash the others, which are
	 * handed on in turn (a fourth measured no faster). Hashing on feed: the
	 * one slot is filled and hashed, then handed on while the feeder waits;
	 * its source (a server, a hook) keeps coming in its own buffers
	 * meanwhile: a second slot measured 12% faster from a loopback server
	 * for 1 MiB more, which a device's memory needs more. */
	unsigned want = p->hash_on_feed ? 1 : p->nthreads + 1;

	if (want > MAX_SLOTS)
		want = MAX_SLOTS;
	while (want > 3 && (size_t)want * chunk_size > SLOT_BUDGET)
		want--;
	if (chunk_size > p->slot_size) {
		for (unsigned i = 0; i < MAX_SLOTS; i++) {
			free(p->slots[i].buf);
			p->slots[i].buf = NULL;
		}
		p->slot_size = chunk_size;
	}
	for (unsigned i = 0; i < want; i++) {
		void *buf;
		/* Page-aligned, so a sink may write chunks with O_DIRECT. */
		if (p->slots[i].buf == NULL) {
			if (posix_memalign(&buf, CHUNK_ALIGN, p->slot_size) != 0)
				return fw_err_set(err, FW_EXIT_IO, "out of memory for %u chunk buffers", want);
			p->slots[i].buf = buf;
		}
	}
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		p->slots[i].state = SLOT_FREE;
		p->slots[i].len = 0;
		p->slots[i].read_fd = -1;
	}
	p->nslots = want;
	p->fill = p->deliver = 0;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int chunk_pipe_begin(struct chunk_pipe *p, uint64_t size, uint32_t chunk_size, const uint8_t *expected,
		     chunk_sink_fn sink, void *sink_ctx, struct fw_err *err)
{
	if (chunk_size == 0 || expected == NULL)
		return fw_err_set(err, FW_EXIT_IO, "chunk_pipe_begin: bad arguments");
	if (ensure_slots(p, chunk_size, err) < 0)
		return -1;
	pthread_mutex_lock(&p->mu);
	p->size = size;
	p->fed = 0;
	p->chunk_size = chunk_size;
	p->nchunks = size / chunk_size + (size % chunk_size != 0);
	p->next_index = 0;
	p->expected = expected;
	p->sink = sink;
	p->sink_ctx = sink_ctx;
	p->bad_chunk = -1;
	p->n_bad = 0;
	p->bad_total = 0;
	p->failed = 0;
	p->in_chunk = 0;
	p->verified = 0;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

static size_t chunk_len(const struct chunk_pipe *p, uint64_t index)
{
	uint64_t start = index * p->chunk_size;
	uint64_t left = p->size - start;

	return left < p->chunk_size ? (size_t)left : p->chunk_size;
}

/* The pipe's failure, if any, into the caller's err. Called with the lock held. */
static int failure(struct chunk_pipe *p, struct fw_err *err)
{
	if (err != NULL)
		*err = p->fail;
	return -1;
}

/*
 * On feed with no sink: nothing waits to be handed on, so the bytes are
 * hashed where the caller has them, a chunk's digest built across as many
 * feeds as its bytes come in; no slot is used, nothing is copied.
 */
static int hash_in_place(struct chunk_pipe *p, const uint8_t *in, size_t len, struct fw_err *err)
{
	if (p->failed)
		return failure(p, err);
	while (len > 0) {
		size_t want = chunk_len(p, p->next_index), n = want - p->in_chunk < len ? want - p->in_chunk : len;

		if (p->in_chunk == 0)
			fw_sha256_init(&p->feed_hash);
		fw_sha256_update(&p->feed_hash, in, n);
		p->in_chunk += n;
		in += n;
		len -= n;
		if (p->in_chunk == want) {
			struct slot s = { .len = want, .index = p->next_index };
			uint8_t md[32];

			fw_sha256_final(&p->feed_hash, md);
			s.ok = memcmp(p->expected + s.index * 32, md, 32) == 0;
			p->in_chunk = 0;
			p->next_index++;
			if (s.ok) {
				pthread_mutex_lock(&p->mu);
				p->verified++;
				pthread_mutex_unlock(&p->mu);
			}
			if (!s.ok) {
				int rc;

				pthread_mutex_lock(&p->mu);
				if (note_bad(p, &s)) {
					pthread_mutex_unlock(&p->mu);
					continue;
				}
				fail_slot(p, &s, NULL);
				rc = failure(p, err);
				pthread_mutex_unlock(&p->mu);
				return rc;
			}
		}
	}
	return 0;
}

int chunk_pipe_feed(struct chunk_pipe *p, const void *buf, size_t len, struct fw_err *err)
{
	const uint8_t *in = buf;

	if (len > p->size - p->fed)
		return fw_err_set(err, FW_EXIT_REJECTED, "more data than the declared %llu bytes",
				  (unsigned long long)p->size);
	p->fed += len;
	if (p->hash_on_feed && p->sink == NULL)
		return hash_in_place(p, in, len, err);
	while (len > 0) {
		struct slot *s = &p->slots[p->fill];
		size_t want, n;

		pthread_mutex_lock(&p->mu);
		while (!p->failed && s->state != SLOT_FREE && s->state != SLOT_FILLING)
			pthread_cond_wait(&p->free_cv, &p->mu);
		if (p->failed) {
			int rc = failure(p, err);
			pthread_mutex_unlock(&p->mu);
			return rc;
		}
		s->state = SLOT_FILLING;
		pthread_mutex_unlock(&p->mu);

		want = chunk_len(p, p->next_index);
		n = want - s->len < len ? want - s->len : len;
		memcpy(s->buf + s->len, in, n);
		if (p->hash_on_feed) {
			if (s->len == 0)
				fw_sha256_init(&p->feed_hash);
			fw_sha256_update(&p->feed_hash, s->buf + s->len, n);
		}
		s->len += n;
		in += n;
		len -= n;
		if (s->len == want) {
			uint8_t md[32];

			if (p->hash_on_feed)
				fw_sha256_final(&p->feed_hash, md);
			pthread_mutex_lock(&p->mu);
			s->index = p->next_index++;
			if (p->hash_on_feed) {
				s->ok = memcmp(p->expected + s->index * 32, md, 32) == 0;
				s->state = SLOT_DONE;
				pthread_cond_broadcast(&p->done_cv);
			} else {
				s->state = SLOT_QUEUED;
				pthread_cond_signal(&p->work_cv);
			}
			pthread_mutex_unlock(&p->mu);
			p->fill = (p->fill + 1) % p->nslots;
		}
	}
	return 0;
}

unsigned chunk_pipe_workers(const struct chunk_pipe *p)
{
	return p->nthreads;
}

/*
 * The main thread only hands out chunk numbers: each worker reads its chunk
 * straight into its slot and hashes it there, so no byte is copied on the
 * way, the reads run on every core, and what the sink gets is exactly the
 * buffer that was hashed.
 */
int chunk_pipe_feed_fd(struct chunk_pipe *p, int fd, uint64_t offset, struct fw_err *err)
{
	if (p->nthreads == 0 || p->fed != 0 || fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "chunk_pipe_feed_fd: needs workers, an unfed payload and a file");
	while (p->next_index < p->nchunks) {
		struct slot *s = &p->slots[p->fill];

		pthread_mutex_lock(&p->mu);
		while (!p->failed && s->state != SLOT_FREE)
			pthread_cond_wait(&p->free_cv, &p->mu);
		if (p->failed) {
			int rc = failure(p, err);
			pthread_mutex_unlock(&p->mu);
			return rc;
		}
		s->index = p->next_index++;
		s->len = chunk_len(p, s->index);
		s->read_fd = fd;
		s->read_at = offset + s->index * p->chunk_size;
		s->state = SLOT_QUEUED;
		pthread_cond_signal(&p->work_cv);
		pthread_mutex_unlock(&p->mu);
		p->fill = (p->fill + 1) % p->nslots;
	}
	p->fed = p->size;
	return 0;
}

static int all_free(const struct chunk_pipe *p)
{
	for (unsigned i = 0; i < p->nslots; i++)
		if (p->slots[i].state != SLOT_FREE)
			return 0;
	return 1;
}

int chunk_pipe_end(struct chunk_pipe *p, struct fw_err *err)
{
	int rc = 0;

	if (p->fed != p->size) {
		chunk_pipe_abort(p);
		return fw_err_set(err, FW_EXIT_REJECTED, "%llu of %llu bytes present",
				  (unsigned long long)p->fed, (unsigned long long)p->size);
	}
	pthread_mutex_lock(&p->mu);
	while (!all_free(p))
		pthread_cond_wait(&p->free_cv, &p->mu);
	if (p->failed)
		rc = failure(p, err);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void chunk_pipe_abort(struct chunk_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	/* Nothing more is handed on; let what is in flight finish. */
	if (!p->failed) {
		p->failed = 1;
		fw_err_set(&p->fail, FW_EXIT_IO, "payload abandoned");
	}
	for (unsigned i = 0; i < p->nslots; i++)
		if (p->slots[i].state == SLOT_QUEUED || p->slots[i].state == SLOT_FILLING)
			p->slots[i].state = SLOT_DONE;   /* the deliverer frees it unseen */
	pthread_cond_broadcast(&p->done_cv);
	while (!all_free(p))
		pthread_cond_wait(&p->free_cv, &p->mu);
	p->fill = p->deliver = 0;
	pthread_mutex_unlock(&p->mu);
}

uint64_t chunk_pipe_verified(struct chunk_pipe *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->mu);
	n = p->verified;
	pthread_mutex_unlock(&p->mu);
	return n;
}

int64_t chunk_pipe_bad_chunk(const struct chunk_pipe *p)
{
	return p->bad_chunk;
}

void chunk_pipe_collect_bad(struct chunk_pipe *p, int on)
{
	pthread_mutex_lock(&p->mu);
	p->collect = on;
	pthread_mutex_unlock(&p->mu);
}

uint64_t chunk_pipe_bad_chunks(struct chunk_pipe *p, const uint64_t **first, size_t *n_first)
{
	uint64_t total;

	pthread_mutex_lock(&p->mu);
	*first = p->bad;
	*n_first = p->n_bad;
	total = p->bad_total;
	pthread_mutex_unlock(&p->mu);
	return total;
}

/* chunk_hash_fd: workers claim chunk indices from a shared counter. */
struct fd_hash {
	void (*progress)(void *ctx, uint64_t bytes);   /* called by the caller's thread only */
	void *progress_ctx;
	int fd;
	uint64_t size, nchunks;
	uint32_t chunk_size;
	uint8_t *list;
	int out_fd;                    /* chunk_hash_copy_fd: where each chunk goes once hashed, or -1 */
	uint64_t out_at;
	/* One writer at a time: threads writing one file contend on its inode
	 * lock in the kernel, where they spin; here the others sleep or hash. */
	pthread_mutex_t write_mu;
	atomic_uint_fast64_t next;     /* next chunk to claim */
	atomic_uint_fast64_t done;     /* bytes hashed */
	atomic_int failed;             /* errno of the first failure, or -1 for "short file" */
	int write_failed;              /* the failure was writing to out_fd */
};

static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t at)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		at += (uint64_t)n;
	}
	return 0;
}

/* Hash claimed chunks until none is left; `report` on the caller's own thread. */
static void hash_chunks(struct fd_hash *h, int report)
{
	uint8_t *buf = malloc(h->chunk_size);

	if (buf == NULL) {
		atomic_store(&h->failed, ENOMEM);
		return;
	}
	for (;;) {
		uint64_t i = atomic_fetch_add(&h->next, 1);
		uint64_t off = i * h->chunk_size;
		size_t len, got = 0;

		if (i >= h->nchunks || atomic_load(&h->failed) != 0)
			break;
		len = h->size - off < h->chunk_size ? (size_t)(h->size - off) : h->chunk_size;
		while (got < len) {
			ssize_t n = pread(h->fd, buf + got, len - got, (off_t)(off + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				atomic_store(&h->failed, n < 0 ? errno : -1);
				break;
			}
			got += (size_t)n;
		}
		if (got < len) {
			if (atomic_load(&h->failed) == 0)
				atomic_store(&h->failed, EIO);
			break;
		}
		fw_sha256(buf, len, h->list + i * 32);
		if (h->out_fd >= 0) {
			int wrc;

			pthread_mutex_lock(&h->write_mu);
			wrc = pwrite_all(h->out_fd, buf, len, h->out_at + off);
			if (wrc < 0) {
				atomic_store(&h->failed, errno != 0 ? errno : EIO);
				h->write_failed = 1;
			}
			pthread_mutex_unlock(&h->write_mu);
			if (wrc < 0)
				break;
		}
		atomic_fetch_add(&h->done, len);
		if (report && h->progress != NULL)
			h->progress(h->progress_ctx, atomic_load(&h->done));
	}
	free(buf);
}

static void *hash_worker(void *arg)
{
	hash_chunks(arg, 0);
	return NULL;
}

static int whole_sha256(int fd, uint64_t size, uint8_t out[32], struct fw_err *err)
{
	struct fw_sha256 h;
	uint8_t *buf = malloc(1u << 20);
	uint64_t off = 0;

	if (buf == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	fw_sha256_init(&h);
	while (off < size) {
		ssize_t n = pread(fd, buf, size - off < (1u << 20) ? (size_t)(size - off) : (1u << 20), (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fw_err_set(err, FW_EXIT_IO, "%s", n < 0 ? strerror(errno) : "file shrank while being read");
			free(buf);
			return -1;
		}
		fw_sha256_update(&h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	fw_sha256_final(&h, out);
	free(buf);
	return 0;
}

int chunk_hash_fd(int fd, uint64_t size, uint32_t chunk_size, unsigned threads, uint8_t *list,
		  uint8_t whole[32], void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
		  struct fw_err *err)
{
	return chunk_hash_copy_fd(fd, size, chunk_size, threads, list, whole, progress, progress_ctx, -1, 0, err);
}

int chunk_hash_copy_fd(int fd, uint64_t size, uint32_t chunk_size, unsigned threads, uint8_t *list,
		       uint8_t whole[32], void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
		       int out_fd, uint64_t out_at, struct fw_err *err)
{
	struct fd_hash h;
	pthread_t tid[MAX_THREADS];
	unsigned started = 0;
	int failed;

	if (chunk_size == 0)
		return fw_err_set(err, FW_EXIT_IO, "chunk_hash_fd: chunk size 0");
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n < 1 ? 1 : (unsigned)n;
	}
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	memset(&h, 0, sizeof(h));
	h.fd = fd;
	h.size = size;
	h.chunk_size = chunk_size;
	h.nchunks = size / chunk_size + (size % chunk_size != 0);
	h.list = list;
	h.out_fd = out_fd;
	h.out_at = out_at;
	pthread_mutex_init(&h.write_mu, NULL);
	atomic_init(&h.next, 0);
	atomic_init(&h.done, 0);
	atomic_init(&h.failed, 0);
	h.progress = progress;
	h.progress_ctx = progress_ctx;
	/* The calling thread is one of the hashers, and the one that reports. */
	while (started + 1 < threads && pthread_create(&tid[started], NULL, hash_worker, &h) == 0)
		started++;
	hash_chunks(&h, 1);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&h.write_mu);
	failed = atomic_load(&h.failed);
	if (failed == -1)
		return fw_err_set(err, FW_EXIT_IO, "file shrank while being read");
	if (failed != 0 && h.write_failed) {
		fw_err_set(err, FW_EXIT_IO, "output: write failed: %s", strerror(failed));
		return -2;
	}
	if (failed != 0)
		return fw_err_set(err, FW_EXIT_IO, "read failed: %s", strerror(failed));
	if (progress != NULL)
		progress(progress_ctx, size);
	return whole != NULL ? whole_sha256(fd, size, whole, err) : 0;
}
