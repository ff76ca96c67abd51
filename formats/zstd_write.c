/* zstd_write: frames compressed on every core, written in order as they finish; the image hashed by the same threads. */
#include "zstd_write.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "base/sha256.h"
#include "chunk.h"

#define MAX_THREADS 16

/*
 * The pipeline. Frame k is compressed by whichever worker takes it, into
 * slot k % n_slots (n_slots = workers + 1), and written by the calling
 * thread in frame order. A slot goes FREE -> BUSY (a worker took frame k:
 * only once the slot's previous frame, k - n_slots, was written) -> DONE
 * (its bytes are in out) -> FREE (written). So the workers never wait for
 * each other, only for the writer when they are n_slots frames ahead, and
 * memory is n_slots output buffers, whatever the image's size.
 */
enum slot_state { SLOT_FREE, SLOT_BUSY, SLOT_DONE };

struct slot {
	enum slot_state state;
	uint64_t frame;
	uint8_t *out;
	size_t out_len;
	int failed;
	char why[160];
};

struct pipe {
	const struct fw_payload *p;
	int fd;
	uint8_t *list;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t frames, next;     /* frames in all; the next one to take */
	int stop;                  /* the writer gave up */
	const uint8_t *base;       /* a delta's base image (p->zstd.base.size bytes), or NULL */
	size_t n_slots;
	struct slot slots[MAX_THREADS + 1];
	unsigned window_log;
};

/* Compress frame k into s->out: read a chunk at a time (hashed as read), fed to the encoder as it comes. */
static void compress_frame(struct pipe *pp, ZSTD_CCtx *c, uint8_t *in, struct slot *s, uint64_t k)
{
	const struct fw_payload *p = pp->p;
	uint64_t at = k * p->zstd.frame_size, end = p->size - at < p->zstd.frame_size ? p->size : at + p->zstd.frame_size;
	ZSTD_outBuffer o = { s->out, ZSTD_compressBound(p->zstd.frame_size), 0 };
	size_t r;

	ZSTD_CCtx_reset(c, ZSTD_reset_session_only);
	ZSTD_CCtx_setPledgedSrcSize(c, end - at);
	if (pp->base != NULL) {
		uint64_t lo, hi;

		/* A delta: this frame's own window of the base, as the reader maps it (fw_delta_prefix). */
		fw_delta_prefix(p, k, &lo, &hi);
		if (hi > lo && ZSTD_isError(r = ZSTD_CCtx_refPrefix(c, pp->base + lo, (size_t)(hi - lo)))) {
			s->failed = 1;
			snprintf(s->why, sizeof(s->why), "zstd: %s", ZSTD_getErrorName(r));
			return;
		}
	}
	while (at < end) {
		size_t len = end - at < p->chunk_size ? (size_t)(end - at) : p->chunk_size, got = 0;
		ZSTD_inBuffer zi = { in, len, 0 };

		while (got < len) {
			ssize_t n = pread(pp->fd, in + got, len - got, (off_t)(at + got));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				s->failed = 1;
				snprintf(s->why, sizeof(s->why), "%s", n < 0 ? strerror(errno) : "file shrank while being read");
				return;
			}
			got += (size_t)n;
		}
		/* Frames start on chunk boundaries: this chunk is one of the image's. */
		chunk_sha256(in, len, pp->list + (at / p->chunk_size) * FW_DIGEST_LEN);
		at += len;
		do {
			r = ZSTD_compressStream2(c, &o, &zi, at < end ? ZSTD_e_continue : ZSTD_e_end);
			if (ZSTD_isError(r)) {
				s->failed = 1;
				snprintf(s->why, sizeof(s->why), "zstd: %s", ZSTD_getErrorName(r));
				return;
			}
		} while (zi.pos < zi.size || (at == end && r != 0));
	}
	s->out_len = o.pos;
}

static void *worker(void *arg)
{
	struct pipe *pp = arg;
	ZSTD_CCtx *c = ZSTD_createCCtx();
	uint8_t *in = malloc(pp->p->chunk_size);
	int bad = c == NULL || in == NULL;

	/* Content size in every frame header (a reader checks it against the frame's place); no
	 * checksum: every byte is covered by SHA-256 already. The window set explicitly, so what the
	 * manifest says is what every frame header says at most. */
	bad = bad || ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, pp->p->zstd.level)) ||
	      ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, (int)pp->window_log)) ||
	      ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1)) ||
	      ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0));
	/* A delta finds the base's bytes far back in its window: long-distance matching, as zstd --patch-from. */
	bad = bad || (pp->base != NULL && ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1)));
	pthread_mutex_lock(&pp->mu);
	for (;;) {
		struct slot *s;
		uint64_t k;

		while (!pp->stop && pp->next < pp->frames && pp->slots[pp->next % pp->n_slots].state != SLOT_FREE)
			pthread_cond_wait(&pp->cv, &pp->mu);
		if (pp->stop || pp->next >= pp->frames)
			break;
		k = pp->next++;
		s = &pp->slots[k % pp->n_slots];
		s->state = SLOT_BUSY;
		s->frame = k;
		s->failed = 0;
		pthread_mutex_unlock(&pp->mu);
		if (bad) {
			s->failed = 1;
			snprintf(s->why, sizeof(s->why), "zstd: cannot set up level %d (out of memory?)", pp->p->zstd.level);
		} else {
			compress_frame(pp, c, in, s, k);
		}
		pthread_mutex_lock(&pp->mu);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&pp->cv);
	}
	pthread_mutex_unlock(&pp->mu);
	ZSTD_freeCCtx(c);
	free(in);
	return NULL;
}

static unsigned level_window_log(int level)
{
	/* libzstd's own windows for inputs over 256 KiB, by level (ZSTD_getCParams is not in its stable API). */
	static const unsigned wlog[FW_ZSTD_LEVEL_MAX + 1] = {
		21, 19, 20, 21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 23, 25, 26, 27,
	};

	return level >= 0 && level <= FW_ZSTD_LEVEL_MAX ? wlog[level] : 21;
}

/*
 * The compressed bytes' chunk list, hashed by the writer as it writes them
 * (a second pass over the output would read it all again): chunks of
 * chunk_size compressed bytes, which straddle frames.
 */
struct out_chunks {
	uint32_t chunk_size;
	uint32_t in_chunk;         /* bytes of the current chunk hashed so far */
	struct fw_sha256 h;
	uint8_t *list;
	size_t n, cap;             /* digests done; room for */
};

static int out_chunks_close(struct out_chunks *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		uint8_t *grown = realloc(c->list, cap * FW_DIGEST_LEN);

		if (grown == NULL)
			return -1;
		c->list = grown;
		c->cap = cap;
	}
	fw_sha256_final(&c->h, c->list + c->n++ * FW_DIGEST_LEN);
	fw_sha256_init(&c->h);
	c->in_chunk = 0;
	return 0;
}

static int out_chunks_add(struct out_chunks *c, const uint8_t *b, size_t n)
{
	while (n > 0) {
		size_t take = c->chunk_size - c->in_chunk < n ? c->chunk_size - c->in_chunk : n;

		fw_sha256_update(&c->h, b, take);
		c->in_chunk += (uint32_t)take;
		b += take;
		n -= take;
		if (c->in_chunk == c->chunk_size && out_chunks_close(c) < 0)
			return -1;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

void zstd_write_setup(struct fw_payload *p, int level, uint32_t frame_size)
{
	struct fw_delta base = p->zstd.base;   /* a delta's base, set by the caller before */

	memset(&p->zstd, 0, sizeof(p->zstd));
	p->zstd.base = base;
	p->zstd.on = 1;
	p->zstd.level = level;
	p->zstd.frame_size = frame_size ? frame_size : base.on ? FW_DELTA_FRAME_DEFAULT : FW_ZSTD_FRAME_DEFAULT;
	/* Placeholders that validate until the payload is compressed. */
	p->zstd.chunk_size = FW_ZSTD_CHUNK_MAX;
	/* A delta's is the one write_frames gives it: a reader refuses a delta window short of frame and prefix. */
	p->zstd.window_log = base.on ? fw_delta_window_log(p->zstd.frame_size, base.margin) : FW_ZSTD_WINDOW_LOG_MAX;
}

/* The plain SHA-256 of the image, for payloads that declare one (modification files): a pass of its own. */
static int whole_sha256(int fd, uint64_t size, uint8_t out[32], struct fw_err *err)
{
	struct fw_sha256 h;
	uint8_t buf[64 * 1024];
	uint64_t at = 0;

	fw_sha256_init(&h);
	while (at < size) {
		ssize_t n = pread(fd, buf, size - at < sizeof(buf) ? (size_t)(size - at) : sizeof(buf), (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fw_err_set(err, FW_EXIT_IO, "%s", n < 0 ? strerror(errno) : "file shrank while being read");
		fw_sha256_update(&h, buf, (size_t)n);
		at += (uint64_t)n;
	}
	fw_sha256_final(&h, out);
	return 0;
}

static int write_frames(int fd, struct fw_payload *p, const uint8_t *base, unsigned threads, uint8_t *list,
			uint8_t whole[32], int out_fd, uint8_t **zlist, struct fw_err *err)
{
	struct out_chunks oc = { .chunk_size = FW_ZSTD_CHUNK_MAX };
	struct pipe pp;
	pthread_t tid[MAX_THREADS];
	unsigned started = 0;
	int rc = -1;

	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	memset(&pp, 0, sizeof(pp));
	p->zstd.chunk_size = FW_ZSTD_CHUNK_MAX;
	/* The level's own window, within the cap a device's memory is planned on. */
	pp.window_log = level_window_log(p->zstd.level);
	if (pp.window_log > FW_ZSTD_WINDOW_LOG_MAX)
		pp.window_log = FW_ZSTD_WINDOW_LOG_MAX;
	/* A delta's window reaches back over its whole prefix; the reader needs no window buffer for it. */
	if (base != NULL)
		pp.window_log = fw_delta_window_log(p->zstd.frame_size, p->zstd.base.margin);
	pp.base = base;
	p->zstd.window_log = pp.window_log;
	p->zstd.size = 0;
	pp.p = p;
	pp.fd = fd;
	pp.list = list;
	pp.frames = fw_payload_frames(p);
	if (pp.frames < threads)
		threads = pp.frames > 0 ? (unsigned)pp.frames : 1;
	pp.n_slots = threads + 1;
	pthread_mutex_init(&pp.mu, NULL);
	pthread_cond_init(&pp.cv, NULL);
	fw_sha256_init(&oc.h);
	if (whole != NULL && whole_sha256(fd, p->size, whole, err) < 0)
		goto out;
	for (size_t i = 0; i < pp.n_slots; i++)
		if ((pp.slots[i].out = malloc(ZSTD_compressBound(p->zstd.frame_size))) == NULL) {
			fw_err_set(err, FW_EXIT_IO, "out of memory");
			goto out;
		}
	for (; started < threads; started++)
		if (pthread_create(&tid[started], NULL, worker, &pp) != 0) {
			fw_err_set(err, FW_EXIT_IO, "cannot start a thread");
			goto out;
		}
	for (uint64_t k = 0; k < pp.frames; k++) {
		struct slot *s = &pp.slots[k % pp.n_slots];

		pthread_mutex_lock(&pp.mu);
		while (!(s->state == SLOT_DONE && s->frame == k))
			pthread_cond_wait(&pp.cv, &pp.mu);
		pthread_mutex_unlock(&pp.mu);
		if (s->failed) {
			fw_err_set(err, FW_EXIT_IO, "%s", s->why);
			goto out;
		}
		if (write_all(out_fd, s->out, s->out_len) < 0) {
			fw_err_set(err, FW_EXIT_IO, "output: write failed: %s", strerror(errno));
			rc = -2;
			goto out;
		}
		if (out_chunks_add(&oc, s->out, s->out_len) < 0) {
			fw_err_set(err, FW_EXIT_IO, "out of memory");
			goto out;
		}
		p->zstd.size += s->out_len;
		pthread_mutex_lock(&pp.mu);
		s->state = SLOT_FREE;
		pthread_cond_broadcast(&pp.cv);
		pthread_mutex_unlock(&pp.mu);
	}
	if (started == 0 && pp.frames > 0) {
		fw_err_set(err, FW_EXIT_IO, "cannot start a thread");
		goto out;
	}
	/* The last, short chunk (an empty payload has no chunk: fw_payload_zchunks). */
	if (oc.in_chunk > 0 && out_chunks_close(&oc) < 0) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	*zlist = oc.list;
	oc.list = NULL;
	rc = 0;
out:
	free(oc.list);
	pthread_mutex_lock(&pp.mu);
	pp.stop = 1;
	pthread_cond_broadcast(&pp.cv);
	pthread_mutex_unlock(&pp.mu);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	for (size_t i = 0; i < pp.n_slots; i++)
		free(pp.slots[i].out);
	pthread_cond_destroy(&pp.cv);
	pthread_mutex_destroy(&pp.mu);
	return rc;
}

int zstd_write_payload(int fd, struct fw_payload *p, unsigned threads, uint8_t *list, uint8_t whole[32], int out_fd,
		       uint8_t **zlist, struct fw_err *err)
{
	return write_frames(fd, p, NULL, threads, list, whole, out_fd, zlist, err);
}

int zstd_write_delta(int fd, struct fw_payload *p, const uint8_t *base, unsigned threads, uint8_t *list, int out_fd,
		     uint8_t **zlist, struct fw_err *err)
{
	if (p->zstd.frame_size > fw_delta_frame_max(p->zstd.base.margin))
		return fw_err_set(err, FW_EXIT_USAGE, "a delta's frame size and margin need a window above 2^%d bytes",
				  FW_DELTA_WINDOW_LOG_MAX);
	return write_frames(fd, p, base, threads, list, NULL, out_fd, zlist, err);
}
