/* zstd_write: frames compressed in parallel, a batch per round, written in order; the image hashed by the same threads. */
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

struct job {
	const struct fw_payload *p;
	int fd;
	uint64_t frame;        /* which frame */
	size_t len;            /* its image bytes */
	uint8_t *in, *out;
	size_t out_len;
	uint8_t *list;         /* the whole image's chunk list */
	ZSTD_CCtx *c;
	int failed, read_errno;
	char why[128];
};

static void *compress_frame(void *arg)
{
	struct job *j = arg;
	uint64_t at = j->frame * j->p->zstd.frame_size;
	size_t got = 0, r;

	while (got < j->len) {
		ssize_t n = pread(j->fd, j->in + got, j->len - got, (off_t)(at + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			j->failed = 1;
			j->read_errno = n < 0 ? errno : 0;
			snprintf(j->why, sizeof(j->why), "%s", n < 0 ? strerror(errno) : "file shrank while being read");
			return NULL;
		}
		got += (size_t)n;
	}
	/* Frames start on chunk boundaries: this frame's chunks are whole here (the image's last may be short). */
	for (size_t off = 0; off < j->len; off += j->p->chunk_size) {
		size_t n = j->len - off < j->p->chunk_size ? j->len - off : j->p->chunk_size;

		chunk_sha256(j->in + off, n, j->list + ((at + off) / j->p->chunk_size) * FW_DIGEST_LEN);
	}
	r = ZSTD_compress2(j->c, j->out, ZSTD_compressBound(j->p->zstd.frame_size), j->in, j->len);
	if (ZSTD_isError(r)) {
		j->failed = 1;
		snprintf(j->why, sizeof(j->why), "zstd: %s", ZSTD_getErrorName(r));
		return NULL;
	}
	j->out_len = r;
	return NULL;
}

static unsigned level_window_log(int level)
{
	static const unsigned wlog[FW_ZSTD_LEVEL_MAX + 1] = {
		21, 19, 20, 21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 23, 25, 26, 27,
	};

	return level >= 0 && level <= FW_ZSTD_LEVEL_MAX ? wlog[level] : 21;
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
	memset(&p->zstd, 0, sizeof(p->zstd));
	p->zstd.on = 1;
	p->zstd.level = level;
	p->zstd.frame_size = frame_size ? frame_size : FW_ZSTD_FRAME_DEFAULT;
	/* Placeholders that validate until the payload is compressed. */
	p->zstd.chunk_size = FW_ZSTD_CHUNK_MAX;
	p->zstd.window_log = FW_ZSTD_WINDOW_LOG_MAX;
}

int zstd_write_payload(int fd, struct fw_payload *p, unsigned threads, uint8_t *list, uint8_t whole[32], int out_fd,
		       struct fw_err *err)
{
	struct job jobs[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	uint64_t frames, done = 0;
	struct fw_sha256 h;
	unsigned wl;
	int rc = -1;

	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	p->zstd.chunk_size = FW_ZSTD_CHUNK_MAX;
	/* The level's own window for inputs over 256 KiB (libzstd's table; ZSTD_getCParams is not in
	 * its stable API), within the cap a device's memory is planned on: set explicitly, so what the
	 * manifest says is what every frame header says at most. */
	wl = level_window_log(p->zstd.level);
	if (wl > FW_ZSTD_WINDOW_LOG_MAX)
		wl = FW_ZSTD_WINDOW_LOG_MAX;
	if (wl < FW_ZSTD_WINDOW_LOG_MIN)
		wl = FW_ZSTD_WINDOW_LOG_MIN;
	p->zstd.window_log = wl;
	p->zstd.size = 0;
	frames = fw_payload_frames(p);
	if (frames < threads)
		threads = frames > 0 ? (unsigned)frames : 1;
	memset(jobs, 0, sizeof(jobs));
	for (unsigned t = 0; t < threads; t++) {
		struct job *j = &jobs[t];

		j->p = p;
		j->fd = fd;
		j->list = list;
		if ((j->in = malloc(p->zstd.frame_size)) == NULL ||
		    (j->out = malloc(ZSTD_compressBound(p->zstd.frame_size))) == NULL || (j->c = ZSTD_createCCtx()) == NULL) {
			fw_err_set(err, FW_EXIT_IO, "out of memory");
			goto out;
		}
		/* Content size in every frame header (a reader checks it against the frame's place); no
		 * checksum: every byte is covered by SHA-256 already. */
		if (ZSTD_isError(ZSTD_CCtx_setParameter(j->c, ZSTD_c_compressionLevel, p->zstd.level)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(j->c, ZSTD_c_windowLog, (int)wl)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(j->c, ZSTD_c_contentSizeFlag, 1)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(j->c, ZSTD_c_checksumFlag, 0))) {
			fw_err_set(err, FW_EXIT_USAGE, "zstd: level %d is not supported by this libzstd", p->zstd.level);
			goto out;
		}
	}
	if (whole != NULL)
		fw_sha256_init(&h);
	while (done < frames) {
		unsigned n = frames - done < threads ? (unsigned)(frames - done) : threads;

		for (unsigned t = 0; t < n; t++) {
			struct job *j = &jobs[t];
			uint64_t at = (done + t) * p->zstd.frame_size;

			j->frame = done + t;
			j->len = p->size - at < p->zstd.frame_size ? (size_t)(p->size - at) : p->zstd.frame_size;
			j->failed = 0;
			if (pthread_create(&tid[t], NULL, compress_frame, j) != 0) {
				for (unsigned k = 0; k < t; k++)
					pthread_join(tid[k], NULL);
				fw_err_set(err, FW_EXIT_IO, "cannot start a thread");
				goto out;
			}
		}
		for (unsigned t = 0; t < n; t++)
			pthread_join(tid[t], NULL);
		for (unsigned t = 0; t < n; t++) {
			struct job *j = &jobs[t];

			if (j->failed) {
				fw_err_set(err, j->read_errno ? FW_EXIT_IO : FW_EXIT_IO, "%s", j->why);
				goto out;
			}
			if (whole != NULL)
				fw_sha256_update(&h, j->in, j->len);
			if (write_all(out_fd, j->out, j->out_len) < 0) {
				fw_err_set(err, FW_EXIT_IO, "output: write failed: %s", strerror(errno));
				rc = -2;
				goto out;
			}
			p->zstd.size += j->out_len;
		}
		done += n;
	}
	if (whole != NULL)
		fw_sha256_final(&h, whole);
	rc = 0;
out:
	for (unsigned t = 0; t < MAX_THREADS; t++) {
		free(jobs[t].in);
		free(jobs[t].out);
		ZSTD_freeCCtx(jobs[t].c);
	}
	return rc;
}
