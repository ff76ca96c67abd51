/* test_dev_feed: device/dev_feed's splicing of local ranges and network bytes, against a fake transport that counts what it serves. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "device/dev_feed.h"

#define PKG_SIZE (5u * 4096 + 123)
#define CHUNK 4096u

/*
 * The fake network: the package in memory, served from its position; every
 * byte it serves and every seek is counted. The feed's calls into the
 * transport are renamed to it, so no server is needed (the real transport is
 * tested against servers in tests/e2e).
 */
struct fake_net {
	const unsigned char *data;
	uint64_t size, pos, served;
	unsigned seeks;
	uint64_t last_end;   /* the end the last seek asked for */
	uint64_t fail_at;   /* a read at this offset fails (UINT64_MAX: never) */
	int endless;        /* the package again and again, never an end */
	uint64_t read_ahead; /* bytes the connection has received past pos (dev_transport_received) */
	struct dev_transport_info info;
};

static ssize_t fake_read(struct dev_transport *t, void *buf, size_t len, struct fw_err *err)
{
	struct fake_net *n = (struct fake_net *)t;

	if (n->pos == n->fail_at)
		return fw_err_set(err, FW_EXIT_NET, "http://x/fw.pkg: connection cut");
	if (n->pos >= n->size || (n->info.end > 0 && n->pos >= n->info.end))
		return 0;
	if (n->info.end > 0 && len > n->info.end - n->pos)
		len = (size_t)(n->info.end - n->pos);
	if (len > 1000)
		len = 1000;   /* small reads, as a network gives */
	if (len > n->size - n->pos)
		len = (size_t)(n->size - n->pos);
	if (n->endless) {
		for (size_t i = 0; i < len; i++)
			((unsigned char *)buf)[i] = n->data[(n->pos + i) % PKG_SIZE];
		n->pos += len;
		return (ssize_t)len;
	}
	memcpy(buf, n->data + n->pos, len);
	n->pos += len;
	n->served += len;
	return (ssize_t)len;
}

static int fake_seek_to(struct dev_transport *t, uint64_t offset, uint64_t end, struct fw_err *err)
{
	struct fake_net *n = (struct fake_net *)t;

	(void)err;
	n->pos = offset;
	n->info.end = end;
	n->info.attempts++;   /* a new request, as the real transport makes for any jump it does not read through */
	n->seeks++;
	n->last_end = end;
	return 0;
}

static uint64_t fake_done(const struct dev_transport *t)
{
	return ((const struct fake_net *)t)->pos;
}

static uint64_t fake_received(const struct dev_transport *t)
{
	const struct fake_net *n = (const struct fake_net *)t;

	return n->size - n->pos < n->read_ahead ? n->size : n->pos + n->read_ahead;
}

static const struct dev_transport_info *fake_info(const struct dev_transport *t)
{
	return &((const struct fake_net *)t)->info;
}

static void fake_interrupt(struct dev_transport *t, int on)
{
	(void)t;
	(void)on;
}

#define dev_transport_interrupt fake_interrupt
#define dev_transport_read fake_read
#define dev_transport_seek_to fake_seek_to
#define dev_transport_done fake_done
#define dev_transport_info fake_info
#define dev_transport_received fake_received
#include "device/dev_feed.c"
#undef dev_transport_read
#undef dev_transport_interrupt
#undef dev_transport_seek_to
#undef dev_transport_done
#undef dev_transport_info
#undef dev_transport_received


static unsigned char pkg[PKG_SIZE];

static struct fake_net net_new(long long size_known)
{
	struct fake_net n;

	memset(&n, 0, sizeof(n));
	n.data = pkg;
	n.size = PKG_SIZE;
	n.fail_at = UINT64_MAX;
	n.info.id.size = size_known;
	return n;
}

/* A local file holding the package's bytes [from, to) at file offset at; the rest of the file is junk. */
static int local_copy(uint64_t from, uint64_t to, uint64_t at)
{
	char path[] = "/tmp/test_dev_feed.XXXXXX";
	int fd = mkstemp(path);
	unsigned char junk[64];

	CU_ASSERT_FATAL(fd >= 0);
	unlink(path);
	memset(junk, 0xEE, sizeof(junk));
	CU_ASSERT_EQUAL_FATAL(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	CU_ASSERT_EQUAL_FATAL(pwrite(fd, pkg + from, (size_t)(to - from), (off_t)at), (ssize_t)(to - from));
	return fd;
}

/* Read the whole feed with odd-sized reads; it must be the package byte for byte. */
static void read_all(struct dev_feed *f)
{
	unsigned char *got = malloc(PKG_SIZE + 10);
	uint64_t have = 0;
	ssize_t n;
	struct fw_err err = { 0 };

	while ((n = dev_feed_read(f, got + have, have % 3 ? 777 : 5000, &err)) > 0) {
		have += (uint64_t)n;
		CU_ASSERT_FATAL(have <= PKG_SIZE);
	}
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(have, PKG_SIZE);
	CU_ASSERT(memcmp(got, pkg, PKG_SIZE) == 0);
	CU_ASSERT_EQUAL(dev_feed_done(f), PKG_SIZE);
	free(got);
}

static void test_all_network(void)
{
	struct fake_net n = net_new(-1);
	struct dev_feed *f;
	struct fw_err err = { 0 };
	struct dev_feed_stats st;

	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, 0, &err), 0);
	read_all(f);
	dev_feed_stats(f, &st);
	CU_ASSERT_EQUAL(st.net_bytes, PKG_SIZE);
	CU_ASSERT_EQUAL(st.local_bytes, 0);
	CU_ASSERT_EQUAL(n.served, PKG_SIZE);
	CU_ASSERT_EQUAL(n.seeks, 0);
	dev_feed_free(f);
}

/* Local ranges at chunk boundaries: the network serves exactly the rest, once; the seek lands past each range. */
static void test_chunk_ranges(void)
{
	struct fake_net n = net_new(PKG_SIZE);
	struct dev_feed *f;
	struct fw_err err = { 0 };
	struct dev_feed_stats st;
	int a = local_copy(CHUNK, 3 * CHUNK, 100), b = local_copy(4 * CHUNK, 5 * CHUNK, 64);

	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, 0, &err), 0);
	/* Added out of order. */
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 4 * CHUNK, 5 * CHUNK, b, 64, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, CHUNK, 3 * CHUNK, a, 100, &err), 0);
	read_all(f);
	dev_feed_stats(f, &st);
	CU_ASSERT_EQUAL(st.local_bytes, 3 * CHUNK);
	CU_ASSERT_EQUAL(st.net_bytes, PKG_SIZE - 3 * CHUNK);
	CU_ASSERT_EQUAL(n.served, PKG_SIZE - 3 * CHUNK);
	CU_ASSERT_EQUAL(n.seeks, 2);
	CU_ASSERT_EQUAL(st.seeks, 2);
	CU_ASSERT_EQUAL(n.last_end, 0);   /* after the last range: to the end */
	dev_feed_free(f);
	close(a);
	close(b);
}

/* From byte 0, adjacent ranges in two files, and a range to the very end: no network byte after the last gap. */
static void test_edges(void)
{
	struct fake_net n = net_new(-1);
	struct dev_feed *f;
	struct fw_err err = { 0 };
	int a = local_copy(0, 100, 0), b = local_copy(100, 5000, 7), c = local_copy(9000, PKG_SIZE, 0);

	/* Size unknown to the transport: the caller's total ends the stream. */
	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, PKG_SIZE, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 0, 100, a, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 100, 5000, b, 7, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 9000, PKG_SIZE, c, 0, &err), 0);
	read_all(f);
	CU_ASSERT_EQUAL(n.served, 4000);
	CU_ASSERT_EQUAL(n.seeks, 1);
	CU_ASSERT_EQUAL(n.last_end, 9000);   /* only the gap is asked for */
	dev_feed_free(f);
	close(a);
	close(b);
	close(c);
}

/*
 * A skipped range (dev_feed_add_skipped): zeros in the stream, no byte of it
 * fetched, the transport moved past it. What the connection had received of
 * it before the move (read_ahead) is counted as received all the same; what
 * it had received of a local range is not.
 */
static void skipped_with(uint64_t read_ahead)
{
	struct fake_net n = net_new(PKG_SIZE);
	struct dev_feed *f;
	struct fw_err err = { 0 };
	struct dev_feed_stats st;
	unsigned char *got = malloc(PKG_SIZE);
	uint64_t have = 0;
	ssize_t r;
	int a = local_copy(4 * CHUNK, 5 * CHUNK, 0);

	n.read_ahead = read_ahead;
	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_skipped(f, CHUNK, 3 * CHUNK + 5, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 4 * CHUNK, 5 * CHUNK, a, 0, &err), 0);
	/* It is a range like a local one: no overlap. */
	CU_ASSERT_EQUAL(dev_feed_add_skipped(f, 3 * CHUNK, 4 * CHUNK, &err), -1);
	while ((r = dev_feed_read(f, got + have, 3000, &err)) > 0)
		have += (uint64_t)r;
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(have, PKG_SIZE);
	CU_ASSERT(memcmp(got, pkg, CHUNK) == 0);
	for (uint64_t i = CHUNK; i < 3 * CHUNK + 5; i++)
		CU_ASSERT_FATAL(got[i] == 0);
	CU_ASSERT(memcmp(got + 3 * CHUNK + 5, pkg + 3 * CHUNK + 5, PKG_SIZE - 3 * CHUNK - 5) == 0);
	dev_feed_stats(f, &st);
	CU_ASSERT_EQUAL(st.skipped_bytes, 2 * CHUNK + 5);
	CU_ASSERT_EQUAL(st.skipped_received, read_ahead);
	CU_ASSERT_EQUAL(st.local_bytes, CHUNK);
	CU_ASSERT_EQUAL(n.served, PKG_SIZE - 3 * CHUNK - 5);
	CU_ASSERT_EQUAL(n.seeks, 2);
	dev_feed_free(f);
	close(a);
	free(got);
}

static void test_skipped(void)
{
	skipped_with(0);
	skipped_with(500);
}

/* No transport: all local, and a gap is an error naming the byte. */
static void test_no_network(void)
{
	struct dev_feed *f;
	struct fw_err err = { 0 };
	unsigned char buf[8192];
	int a = local_copy(0, PKG_SIZE, 0);

	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, NULL, PKG_SIZE, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 0, PKG_SIZE, a, 0, &err), 0);
	read_all(f);
	dev_feed_free(f);

	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, NULL, PKG_SIZE, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 0, 100, a, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_read(f, buf, sizeof(buf), &err), 100);
	CU_ASSERT_EQUAL(dev_feed_read(f, buf, sizeof(buf), &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "byte 100 "));
	dev_feed_free(f);
	close(a);
}

/* Bad ranges are refused: empty, overlapping, after the first read. */
static void test_bad_ranges(void)
{
	struct fake_net n = net_new(PKG_SIZE);
	struct dev_feed *f;
	struct fw_err err = { 0 };
	unsigned char buf[10];

	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 10, 10, 0, 0, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 10, 20, 0, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 19, 30, 0, 0, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "overlaps"));
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 0, 10, 0, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_read(f, buf, sizeof(buf), &err), 10);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 30, 40, 0, 0, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "after the first read"));
	dev_feed_free(f);
}

/* A local file shorter than its range: the missing bytes are fetched, counted as fallback. */
static void test_short_local(void)
{
	struct fake_net n = net_new(PKG_SIZE);
	struct dev_feed *f;
	struct fw_err err = { 0 };
	struct dev_feed_stats st;
	int a = local_copy(CHUNK, 2 * CHUNK, 0);

	CU_ASSERT_EQUAL_FATAL(ftruncate(a, CHUNK / 2), 0);
	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, CHUNK, 3 * CHUNK, a, 0, &err), 0);
	read_all(f);
	dev_feed_stats(f, &st);
	CU_ASSERT_EQUAL(st.local_bytes, CHUNK / 2);
	CU_ASSERT_EQUAL(st.fallback_bytes, 2 * CHUNK - CHUNK / 2);
	CU_ASSERT_EQUAL(n.served, PKG_SIZE - CHUNK / 2);
	dev_feed_free(f);
	close(a);
}

/* The tee: network bytes land at their package offsets; local ones are left alone (they are there already). */
static void test_tee(void)
{
	struct fake_net n = net_new(PKG_SIZE);
	struct dev_feed *f;
	struct fw_err err = { 0 };
	int file = local_copy(2 * CHUNK, 3 * CHUNK, 2 * CHUNK);
	unsigned char *back = malloc(PKG_SIZE);

	/* The download file holds chunk 2 at its place and junk at 0..63; the feed fills the rest. */
	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, 2 * CHUNK, 3 * CHUNK, file, 2 * CHUNK, &err), 0);
	dev_feed_tee(f, file);
	read_all(f);
	CU_ASSERT_EQUAL(pread(file, back, PKG_SIZE, 0), (ssize_t)PKG_SIZE);
	CU_ASSERT(memcmp(back, pkg, PKG_SIZE) == 0);
	CU_ASSERT_EQUAL(n.served, PKG_SIZE - CHUNK);
	dev_feed_free(f);
	close(file);
	free(back);
}

/* Through the fd: the end, the reader stopping first, and a network failure told apart. */
static void test_fd_finish(void)
{
	struct fake_net n = net_new(PKG_SIZE);
	struct dev_feed *f;
	struct fw_err err = { 0 };
	unsigned char *got = malloc(PKG_SIZE);
	uint64_t have = 0;
	ssize_t r;
	int fd, a = local_copy(CHUNK, 2 * CHUNK, 0);

	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, CHUNK, 2 * CHUNK, a, 0, &err), 0);
	CU_ASSERT_FATAL((fd = dev_feed_fd(f, &err)) >= 0);
	while ((r = read(fd, got + have, PKG_SIZE - have)) > 0)
		have += (uint64_t)r;
	CU_ASSERT_EQUAL(have, PKG_SIZE);
	CU_ASSERT(memcmp(got, pkg, PKG_SIZE) == 0);
	CU_ASSERT_EQUAL(dev_feed_finish(f, &err), 0);
	dev_feed_free(f);

	/* The reader stops after one read (of a stream too long for the socket pair to hold). */
	n = net_new(-1);
	n.endless = 1;
	n.size = UINT64_MAX;
	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, 0, &err), 0);
	CU_ASSERT_FATAL((fd = dev_feed_fd(f, &err)) >= 0);
	CU_ASSERT(read(fd, got, 10) > 0);
	CU_ASSERT_EQUAL(dev_feed_finish(f, &err), 1);
	dev_feed_free(f);

	/* The network fails after the local range: EOF on the fd, the transport's error from finish. */
	n = net_new(PKG_SIZE);
	n.fail_at = 2 * CHUNK;
	CU_ASSERT_EQUAL_FATAL(dev_feed_new(&f, (struct dev_transport *)&n, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_feed_add_local(f, CHUNK, 2 * CHUNK, a, 0, &err), 0);
	CU_ASSERT_FATAL((fd = dev_feed_fd(f, &err)) >= 0);
	have = 0;
	while ((r = read(fd, got + have, PKG_SIZE - have)) > 0)
		have += (uint64_t)r;
	CU_ASSERT_EQUAL(have, 2 * CHUNK);
	CU_ASSERT_EQUAL(dev_feed_finish(f, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_NET);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "connection cut"));
	dev_feed_free(f);
	close(a);
	free(got);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	for (size_t i = 0; i < PKG_SIZE; i++)
		pkg[i] = (unsigned char)(i * 7 + i / 251);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 3;
	s = CU_add_suite("dev_feed", NULL, NULL);
	CU_add_test(s, "all from the network: no seek", test_all_network);
	CU_add_test(s, "local ranges at chunk boundaries: the rest fetched once", test_chunk_ranges);
	CU_add_test(s, "a skipped range: zeros, not fetched, the transport moved past it", test_skipped);
	CU_add_test(s, "ranges at 0, adjacent, to the end", test_edges);
	CU_add_test(s, "no transport: all local; a gap fails", test_no_network);
	CU_add_test(s, "empty, overlapping and late ranges refused", test_bad_ranges);
	CU_add_test(s, "a short local file: the rest fetched", test_short_local);
	CU_add_test(s, "tee: network bytes at their offsets", test_tee);
	CU_add_test(s, "fd: end, reader stopped, network failed", test_fd_finish);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
