/* test_chunk: the chunk pipeline computes per-chunk SHA-256, and delivers only verified chunks, in order. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "formats/chunk.h"

#define CHUNK 4096u

static uint8_t *data;
static size_t data_len;

/* What the sink received, to compare with what went in. */
struct sink {
	uint8_t *buf;
	size_t len;
	int calls;
};

static int collect(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct sink *s = ctx;

	(void)err;
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	s->calls++;
	return 0;
}

static int refuse(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return fw_err_set(err, FW_EXIT_IO, "flash write failed");
}

static void expected_list(size_t len, uint8_t *out)
{
	for (size_t off = 0, i = 0; off < len; off += CHUNK, i++)
		chunk_sha256(data + off, len - off < CHUNK ? len - off : CHUNK, out + 32 * i);
}

/* Feed `len` bytes of data in pieces of `step` bytes. */
static int feed_all(struct chunk_pipe *p, size_t len, size_t step, struct fw_err *err)
{
	for (size_t off = 0; off < len; off += step)
		if (chunk_pipe_feed(p, data + off, len - off < step ? len - off : step, err) < 0)
			return -1;
	return 0;
}

/* After feeding: end the payload if the feeds went through, else abandon it; the pipe's verdict. */
static int end_or_abort(struct chunk_pipe *p, int fed_rc, struct fw_err *err)
{
	if (fed_rc == 0)
		return chunk_pipe_end(p, err);
	chunk_pipe_abort(p);
	return fed_rc;
}

/* chunk_hash_fd (pread on several threads) gives the same list as hashing chunk by chunk. */
static void test_hash_fd_matches_direct_hash(void)
{
	static const size_t lens[] = { 0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 10 * CHUNK + 17 };
	char path[] = "/tmp/fwpkg-unit-chunk.XXXXXX";
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	unlink(path);
	CU_ASSERT_FATAL(write(fd, data, data_len) == (ssize_t)data_len);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		for (unsigned threads = 1; threads <= 3; threads++) {
			size_t n = lens[l] / CHUNK + (lens[l] % CHUNK != 0);
			uint8_t *want = calloc(n + 1, 32), *got = calloc(n + 1, 32), whole[32], direct[32];
			struct fw_err err = { 0 };

			expected_list(lens[l], want);
			CU_ASSERT_EQUAL(chunk_hash_fd(fd, lens[l], CHUNK, threads, got, whole, NULL, NULL, &err), 0);
			CU_ASSERT_EQUAL(memcmp(want, got, 32 * n), 0);
			chunk_sha256(data, lens[l], direct);
			CU_ASSERT_EQUAL(memcmp(whole, direct, 32), 0);
			free(want);
			free(got);
		}
	}
	/* a file shorter than the size asked for is an error, not a short list */
	{
		uint8_t list[64 * 32];
		struct fw_err err = { 0 };
		CU_ASSERT_EQUAL(chunk_hash_fd(fd, data_len + CHUNK, CHUNK, 2, list, NULL, NULL, NULL, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "shrank"));
	}
	close(fd);
}

static void verify_delivers_in_order(unsigned threads)
{
	size_t n = data_len / CHUNK + (data_len % CHUNK != 0);
	uint8_t *list = malloc(32 * n);
	struct sink s = { calloc(1, data_len), 0, 0 };
	struct fw_err err = { 0 };
	struct chunk_pipe *p = chunk_pipe_new(threads, &err);

	expected_list(data_len, list);
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, collect, &s, &err), 0);
	CU_ASSERT_EQUAL(feed_all(p, data_len, 777, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_end(p, &err), 0);
	CU_ASSERT_EQUAL(s.len, data_len);
	CU_ASSERT_EQUAL(memcmp(s.buf, data, data_len), 0);
	CU_ASSERT_EQUAL((size_t)s.calls, n);
	CU_ASSERT_EQUAL(chunk_pipe_bad_chunk(p), -1);
	chunk_pipe_free(p);
	free(list);
	free(s.buf);
}

/* Worker threads and hashing on the feeding thread hand on the same bytes. */
static void test_verify_delivers_in_order(void)
{
	verify_delivers_in_order(4);
	verify_delivers_in_order(1);
	verify_delivers_in_order(CHUNK_PIPE_ON_FEED);
}

/* A bad chunk is never handed on, nor anything after it. */
static void verify_stops_at_bad_chunk(unsigned threads)
{
	size_t n = data_len / CHUNK + (data_len % CHUNK != 0);
	uint8_t *list = malloc(32 * n);
	struct sink s = { calloc(1, data_len), 0, 0 };
	struct fw_err err = { 0 };
	struct chunk_pipe *p = chunk_pipe_new(threads, &err);
	int rc;

	expected_list(data_len, list);
	list[32 * 5] ^= 1;   /* chunk 5's expected digest is wrong */
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, collect, &s, &err), 0);
	rc = feed_all(p, data_len, CHUNK, &err);
	rc = end_or_abort(p, rc, &err);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chunk 5 "));
	CU_ASSERT_EQUAL(chunk_pipe_bad_chunk(p), 5);
	CU_ASSERT_EQUAL(s.len, 5 * CHUNK);
	CU_ASSERT_EQUAL(memcmp(s.buf, data, s.len), 0);
	chunk_pipe_free(p);
	free(list);
	free(s.buf);
}

static void test_verify_stops_at_bad_chunk(void)
{
	verify_stops_at_bad_chunk(2);
	verify_stops_at_bad_chunk(CHUNK_PIPE_ON_FEED);
}

/* Hashing on feed without a sink (fwctl boot): every chunk checked in place, fed in pieces that straddle chunks. */
static void test_verify_only_in_place(void)
{
	size_t n = data_len / CHUNK + (data_len % CHUNK != 0);
	uint8_t *list = malloc(32 * n);
	struct fw_err err = { 0 };
	struct chunk_pipe *p = chunk_pipe_new(CHUNK_PIPE_ON_FEED, &err);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	expected_list(data_len, list);
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(feed_all(p, data_len, 777, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_end(p, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_bad_chunk(p), -1);
	/* the same pipe, the next payload: chunk 5 is wrong, found whatever the feeds' sizes */
	list[32 * 5 + 7] ^= 1;
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, NULL, NULL, &err), 0);
	rc = feed_all(p, data_len, 3 * CHUNK + 5, &err);
	rc = end_or_abort(p, rc, &err);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chunk 5 (bytes 20480..24575): SHA-256 mismatch"));
	CU_ASSERT_EQUAL(chunk_pipe_bad_chunk(p), 5);
	/* and after the failure, a good payload passes again */
	list[32 * 5 + 7] ^= 1;
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(feed_all(p, data_len, CHUNK, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_end(p, &err), 0);
	chunk_pipe_free(p);
	free(list);
}

/*
 * Collecting (verify only): every bad chunk is found in one pass, the first
 * CHUNK_MAX_BAD listed and all counted, and the payload still ends cleanly;
 * with a sink the first still stops it (no unverified byte handed on).
 */
static void collects_bad_chunks(unsigned threads)
{
	size_t n = data_len / CHUNK + (data_len % CHUNK != 0);
	uint8_t *list = malloc(32 * n);
	struct sink s = { calloc(1, data_len), 0, 0 };
	struct fw_err err = { 0 };
	struct chunk_pipe *p = chunk_pipe_new(threads, &err);
	const uint64_t *first;
	size_t n_first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_FATAL(n > CHUNK_MAX_BAD + 3);
	expected_list(data_len, list);
	for (size_t i = 1; i < CHUNK_MAX_BAD + 3; i++)
		list[32 * i] ^= 1;   /* chunks 1..CHUNK_MAX_BAD+2 are wrong */
	chunk_pipe_collect_bad(p, 1);
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(feed_all(p, data_len, 3 * CHUNK + 5, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_end(p, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_bad_chunks(p, &first, &n_first), CHUNK_MAX_BAD + 2);
	CU_ASSERT_EQUAL(n_first, CHUNK_MAX_BAD);
	for (size_t i = 0; i < n_first; i++)
		CU_ASSERT_EQUAL(first[i], i + 1);
	CU_ASSERT_EQUAL(chunk_pipe_bad_chunk(p), 1);
	/* With a sink the first bad chunk stops the payload, collecting or not. */
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, collect, &s, &err), 0);
	CU_ASSERT_EQUAL(end_or_abort(p, feed_all(p, data_len, CHUNK, &err), &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chunk 1 "));
	CU_ASSERT_EQUAL(s.len, CHUNK);
	/* A good payload after it: nothing collected. */
	expected_list(data_len, list);
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(feed_all(p, data_len, CHUNK, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_end(p, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_bad_chunks(p, &first, &n_first), 0);
	chunk_pipe_free(p);
	free(list);
	free(s.buf);
}

static void test_collects_bad_chunks(void)
{
	collects_bad_chunks(2);
	collects_bad_chunks(CHUNK_PIPE_ON_FEED);
}

static void size_is_enforced(unsigned threads)
{
	uint8_t list[64];
	struct fw_err err = { 0 };
	struct chunk_pipe *p = chunk_pipe_new(threads, &err);

	expected_list(2 * CHUNK, list);
	/* too much */
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, CHUNK, CHUNK, list, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_feed(p, data, CHUNK + 1, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "more data than"));
	chunk_pipe_abort(p);
	/* too little */
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, 2 * CHUNK, CHUNK, list, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_feed(p, data, CHUNK, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_end(p, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "4096 of 8192 bytes"));
	/* the pipe is usable again after an abort */
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, 2 * CHUNK, CHUNK, list, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_feed(p, data, 2 * CHUNK, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_end(p, &err), 0);
	chunk_pipe_free(p);
}

static void test_size_is_enforced(void)
{
	size_is_enforced(1);
	size_is_enforced(CHUNK_PIPE_ON_FEED);
}

static void test_sink_error_stops(void)
{
	uint8_t list[64];
	struct fw_err err = { 0 };
	struct chunk_pipe *p = chunk_pipe_new(2, &err);
	int rc;

	expected_list(2 * CHUNK, list);
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, 2 * CHUNK, CHUNK, list, refuse, NULL, &err), 0);
	rc = chunk_pipe_feed(p, data, 2 * CHUNK, &err);
	rc = end_or_abort(p, rc, &err);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
	CU_ASSERT_STRING_EQUAL(err.msg, "flash write failed");
	chunk_pipe_free(p);
}

/* A file holding `pad` bytes of something else, then data: the payload at an offset, as in a package. */
static int payload_file(size_t pad)
{
	char path[] = "/tmp/fwpkg-unit-chunk.XXXXXX";
	int fd = mkstemp(path);
	uint8_t *junk = calloc(1, pad + 1);

	CU_ASSERT_FATAL(fd >= 0 && junk != NULL);
	unlink(path);
	memset(junk, 0xa5, pad);
	CU_ASSERT_FATAL(write(fd, junk, pad) == (ssize_t)pad);
	CU_ASSERT_FATAL(write(fd, data, data_len) == (ssize_t)data_len);
	free(junk);
	return fd;
}

/* chunk_pipe_feed_fd: the workers read each chunk by position; the sink gets every byte in order, once. */
static void test_feed_fd_delivers_in_order(void)
{
	size_t n = data_len / CHUNK + (data_len % CHUNK != 0);
	uint8_t *list = malloc(32 * n);
	int fd = payload_file(1536);

	expected_list(data_len, list);
	for (unsigned threads = 1; threads <= 3; threads++) {
		struct sink s = { calloc(1, data_len), 0, 0 };
		struct fw_err err = { 0 };
		struct chunk_pipe *p = chunk_pipe_new(threads, &err);

		CU_ASSERT_EQUAL(chunk_pipe_workers(p), threads);
		CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, collect, &s, &err), 0);
		CU_ASSERT_EQUAL(chunk_pipe_feed_fd(p, fd, 1536, &err), 0);
		CU_ASSERT_EQUAL(chunk_pipe_end(p, &err), 0);
		CU_ASSERT_EQUAL(s.len, data_len);
		CU_ASSERT_EQUAL(memcmp(s.buf, data, data_len), 0);
		CU_ASSERT_EQUAL((size_t)s.calls, n);
		CU_ASSERT_EQUAL(chunk_pipe_verified(p), n);
		/* verify only, on the same pipe */
		CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, NULL, NULL, &err), 0);
		CU_ASSERT_EQUAL(chunk_pipe_feed_fd(p, fd, 1536, &err), 0);
		CU_ASSERT_EQUAL(chunk_pipe_end(p, &err), 0);
		chunk_pipe_free(p);
		free(s.buf);
	}
	close(fd);
	free(list);
}

/* Read by position: a bad chunk is never handed on; a file that ends early fails as I/O; a pipe without workers refuses. */
static void test_feed_fd_failures(void)
{
	size_t n = data_len / CHUNK + (data_len % CHUNK != 0);
	uint8_t *list = malloc(32 * n);
	struct sink s = { calloc(1, data_len), 0, 0 };
	struct fw_err err = { 0 };
	struct chunk_pipe *p = chunk_pipe_new(2, &err), *on_feed = chunk_pipe_new(CHUNK_PIPE_ON_FEED, &err);
	int fd = payload_file(512), rc, wronly;

	expected_list(data_len, list);
	list[32 * 9] ^= 1;
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, collect, &s, &err), 0);
	rc = chunk_pipe_feed_fd(p, fd, 512, &err);
	rc = end_or_abort(p, rc, &err);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chunk 9 "));
	CU_ASSERT_EQUAL(s.len, 9 * CHUNK);
	CU_ASSERT_EQUAL(memcmp(s.buf, data, s.len), 0);
	list[32 * 9] ^= 1;

	/* a payload one chunk longer than the file holds: the good chunks pass, then the read comes up short */
	{
		uint8_t *longer = calloc(n + 2, 32);

		memcpy(longer, list, 32 * n);
		CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len + CHUNK, CHUNK, longer, NULL, NULL, &err), 0);
		rc = chunk_pipe_feed_fd(p, fd, 512, &err);
		rc = end_or_abort(p, rc, &err);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "truncated: the file ends inside chunk 37"));
		CU_ASSERT(chunk_pipe_verified(p) >= n - 1);
		free(longer);
	}

	/* a read that fails: a file opened for writing only */
	CU_ASSERT_EQUAL(chunk_pipe_begin(p, data_len, CHUNK, list, NULL, NULL, &err), 0);
	wronly = open("/dev/null", O_WRONLY);
	rc = chunk_pipe_feed_fd(p, wronly, 0, &err);
	close(wronly);
	rc = end_or_abort(p, rc, &err);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "Bad file descriptor"));

	CU_ASSERT_EQUAL(chunk_pipe_workers(on_feed), 0);
	CU_ASSERT_EQUAL(chunk_pipe_begin(on_feed, data_len, CHUNK, list, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(chunk_pipe_feed_fd(on_feed, fd, 512, &err), -1);
	chunk_pipe_abort(on_feed);
	chunk_pipe_free(on_feed);
	chunk_pipe_free(p);
	close(fd);
	free(list);
	free(s.buf);
}

int main(void)
{
	CU_pSuite suite;
	unsigned failures;

	data_len = 37 * CHUNK + 123;
	data = malloc(data_len);
	for (size_t i = 0; i < data_len; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	suite = CU_add_suite("chunk", NULL, NULL);
	CU_add_test(suite, "chunk_hash_fd equals direct SHA-256, any thread count", test_hash_fd_matches_direct_hash);
	CU_add_test(suite, "verify mode delivers every byte in order (workers, hashing on feed)", test_verify_delivers_in_order);
	CU_add_test(suite, "a bad chunk stops delivery before it (workers, hashing on feed)", test_verify_stops_at_bad_chunk);
	CU_add_test(suite, "declared size is enforced both ways (workers, hashing on feed)", test_size_is_enforced);
	CU_add_test(suite, "hashing on feed without a sink checks every chunk in place", test_verify_only_in_place);
	CU_add_test(suite, "a sink error stops the payload", test_sink_error_stops);
	CU_add_test(suite, "verify only: every bad chunk collected, capped; a sink still stops at the first", test_collects_bad_chunks);
	CU_add_test(suite, "read by position: every byte in order, any thread count", test_feed_fd_delivers_in_order);
	CU_add_test(suite, "read by position: bad chunk, short file, failed read, no workers", test_feed_fd_failures);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	free(data);
	return failures ? 1 : 0;
}
