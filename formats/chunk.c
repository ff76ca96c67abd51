/* chunk: a ring of chunk buffers hashed by worker threads and delivered in order by the caller's thread. */
#include "chunk.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define MAX_THREADS 8
#define MAX_SLOTS 16
/* Buffers in flight are the pipe's whole memory: keep them to a few MiB. */
#define SLOT_BUDGET (8u * 1024 * 1024)

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_HASHING, SLOT_DONE };

struct slot {
	uint8_t *buf;
	size_t len;
	uint64_t index;
	enum slot_state state;
	int ok;
};

struct chunk_pipe {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;   /* a slot was queued, or stop */
	pthread_cond_t done_cv;   /* a slot finished hashing */
	pthread_t threads[MAX_THREADS];
	unsigned nthreads;
	int stop;
	EVP_MD *md;

	struct slot slots[MAX_SLOTS];
	unsigned nslots;          /* slots in use for the current chunk size */
	size_t slot_size;         /* bytes allocated per slot */

	/* the payload in progress */
	uint64_t size, fed, nchunks, next_index;
	uint32_t chunk_size;
	const uint8_t *expected;
	uint8_t *computed;
	chunk_sink_fn sink;
	void *sink_ctx;
	unsigned fill, deliver;   /* ring positions: slot being filled, next to hand on */
	int64_t bad_chunk;
};

int chunk_sha256(const void *buf, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	return EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
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

static void *worker(void *arg)
{
	struct chunk_pipe *p = arg;
	uint8_t md[32];

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct slot *s;
		int ok;

		while (!p->stop && (s = next_queued(p)) == NULL)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stop)
			break;
		s->state = SLOT_HASHING;
		pthread_mutex_unlock(&p->mu);

		ok = EVP_Digest(s->buf, s->len, md, NULL, p->md, NULL) == 1;

		pthread_mutex_lock(&p->mu);
		if (ok && p->computed != NULL)
			memcpy(p->computed + s->index * 32, md, 32);
		else if (ok)
			ok = memcmp(p->expected + s->index * 32, md, 32) == 0;
		s->ok = ok;
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&p->done_cv);
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
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	p->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (p->md == NULL) {
		fw_err_set(err, FW_EXIT_IO, "OpenSSL has no SHA-256");
		chunk_pipe_free(p);
		return NULL;
	}
	for (; p->nthreads < threads; p->nthreads++) {
		if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0) {
			fw_err_set(err, FW_EXIT_IO, "cannot start hashing thread");
			chunk_pipe_free(p);
			return NULL;
		}
	}
	p->bad_chunk = -1;
	return p;
}

void chunk_pipe_free(struct chunk_pipe *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		free(p->slots[i].buf);
	EVP_MD_free(p->md);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static int ensure_slots(struct chunk_pipe *p, uint32_t chunk_size, struct fw_err *err)
{
	unsigned want = 2 * p->nthreads;

	if (want > MAX_SLOTS)
		want = MAX_SLOTS;
	while (want > 2 && (size_t)want * chunk_size > SLOT_BUDGET)
		want--;
	if (want < 2)
		want = 2;
	if (chunk_size > p->slot_size) {
		for (unsigned i = 0; i < MAX_SLOTS; i++) {
			free(p->slots[i].buf);
			p->slots[i].buf = NULL;
		}
		p->slot_size = chunk_size;
	}
	for (unsigned i = 0; i < want; i++) {
		if (p->slots[i].buf == NULL && (p->slots[i].buf = malloc(p->slot_size)) == NULL)
			return fw_err_set(err, FW_EXIT_IO, "out of memory for %u chunk buffers", want);
		p->slots[i].state = SLOT_FREE;
		p->slots[i].len = 0;
	}
	p->nslots = want;
	return 0;
}

int chunk_pipe_begin(struct chunk_pipe *p, uint64_t size, uint32_t chunk_size,
		     const uint8_t *expected, uint8_t *computed,
		     chunk_sink_fn sink, void *sink_ctx, struct fw_err *err)
{
	if (chunk_size == 0 || (expected == NULL) == (computed == NULL))
		return fw_err_set(err, FW_EXIT_IO, "chunk_pipe_begin: bad arguments");
	if (ensure_slots(p, chunk_size, err) < 0)
		return -1;
	p->size = size;
	p->fed = 0;
	p->chunk_size = chunk_size;
	p->nchunks = size / chunk_size + (size % chunk_size != 0);
	p->next_index = 0;
	p->expected = expected;
	p->computed = computed;
	p->sink = sink;
	p->sink_ctx = sink_ctx;
	p->fill = p->deliver = 0;
	p->bad_chunk = -1;
	return 0;
}

static size_t chunk_len(const struct chunk_pipe *p, uint64_t index)
{
	uint64_t start = index * p->chunk_size;
	uint64_t left = p->size - start;

	return left < p->chunk_size ? (size_t)left : p->chunk_size;
}

/* Wait for the oldest chunk in flight, check it, and hand it on. */
static int deliver_one(struct chunk_pipe *p, struct fw_err *err)
{
	struct slot *s = &p->slots[p->deliver];
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	while (s->state != SLOT_DONE)
		pthread_cond_wait(&p->done_cv, &p->mu);
	pthread_mutex_unlock(&p->mu);

	if (!s->ok) {
		p->bad_chunk = (int64_t)s->index;
		rc = p->computed != NULL
			? fw_err_set(err, FW_EXIT_IO, "SHA-256 failed")
			: fw_err_set(err, FW_EXIT_REJECTED, "chunk %llu (bytes %llu..%llu): SHA-256 mismatch",
				     (unsigned long long)s->index,
				     (unsigned long long)(s->index * p->chunk_size),
				     (unsigned long long)(s->index * p->chunk_size + s->len - 1));
	} else if (p->sink != NULL) {
		rc = p->sink(p->sink_ctx, s->buf, s->len, err);
	}
	s->state = SLOT_FREE;
	s->len = 0;
	p->deliver = (p->deliver + 1) % p->nslots;
	return rc;
}

static void queue_slot(struct chunk_pipe *p, struct slot *s)
{
	pthread_mutex_lock(&p->mu);
	s->index = p->next_index++;
	s->state = SLOT_QUEUED;
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	p->fill = (p->fill + 1) % p->nslots;
}

int chunk_pipe_feed(struct chunk_pipe *p, const void *buf, size_t len, struct fw_err *err)
{
	const uint8_t *in = buf;

	if (len > p->size - p->fed)
		return fw_err_set(err, FW_EXIT_REJECTED, "more data than the declared %llu bytes",
				  (unsigned long long)p->size);
	p->fed += len;
	while (len > 0) {
		struct slot *s = &p->slots[p->fill];
		size_t want, n;

		if (s->state != SLOT_FREE && s->state != SLOT_FILLING) {
			if (deliver_one(p, err) < 0)
				return -1;
			continue;
		}
		s->state = SLOT_FILLING;
		want = chunk_len(p, p->next_index);
		n = want - s->len < len ? want - s->len : len;
		memcpy(s->buf + s->len, in, n);
		s->len += n;
		in += n;
		len -= n;
		if (s->len == want)
			queue_slot(p, s);
	}
	return 0;
}

static int in_flight(const struct chunk_pipe *p)
{
	const struct slot *s = &p->slots[p->deliver];

	return s->state != SLOT_FREE && s->state != SLOT_FILLING;
}

int chunk_pipe_end(struct chunk_pipe *p, struct fw_err *err)
{
	if (p->fed != p->size) {
		chunk_pipe_abort(p);
		return fw_err_set(err, FW_EXIT_REJECTED, "%llu of %llu bytes present",
				  (unsigned long long)p->fed, (unsigned long long)p->size);
	}
	while (in_flight(p)) {
		if (deliver_one(p, err) < 0) {
			chunk_pipe_abort(p);
			return -1;
		}
	}
	return 0;
}

void chunk_pipe_abort(struct chunk_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		/* A queued slot could still be picked up: take it back first. */
		if (s->state == SLOT_QUEUED)
			s->state = SLOT_FREE;
		while (s->state == SLOT_HASHING)
			pthread_cond_wait(&p->done_cv, &p->mu);
		s->state = SLOT_FREE;
		s->len = 0;
	}
	pthread_mutex_unlock(&p->mu);
	p->fill = p->deliver = 0;
}

int64_t chunk_pipe_bad_chunk(const struct chunk_pipe *p)
{
	return p->bad_chunk;
}
