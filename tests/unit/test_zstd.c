/* test_zstd: compressed payloads: pieces verified before decoding, frames held to their declared length and window. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <zstd.h>

#include "formats/chunk.h"
#include "formats/manifest.h"
#include "formats/zstd_read.h"
#include "formats/zstd_write.h"
#include "tests/unit/unit_main.h"

#define FRAME (1024u * 1024)
#define PIECE 4096u

struct sink {
	uint8_t *buf;
	size_t len, cap;
};

static int collect(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct sink *s = ctx;

	if (s->len + len > s->cap)
		return fw_err_set(err, FW_EXIT_IO, "sink overflow");
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	return 0;
}

/* A frame of len bytes of `data` at `level`, window 2^wlog; content size in the header unless unknown_size. */
static size_t frame(uint8_t *out, size_t cap, const uint8_t *data, size_t len, int wlog, int unknown_size)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_outBuffer o = { out, cap, 0 };
	ZSTD_inBuffer in = { data, len, 0 };
	size_t r;

	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog);
	if (!unknown_size) {
		ZSTD_CCtx_setPledgedSrcSize(c, len);
	} else {
		/* Fed in steps, not at once: libzstd then cannot know the size and keeps the window asked for. */
		while (in.pos < in.size) {
			r = ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue);
			CU_ASSERT_FATAL(!ZSTD_isError(r));
		}
		in.size = in.pos;
	}
	do
		r = ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
	while (r != 0 && !ZSTD_isError(r));
	ZSTD_freeCCtx(c);
	CU_ASSERT_FATAL(!ZSTD_isError(r));
	return o.pos;
}

/* The compressed chunk list of z's bytes, as a writer makes it. */
static uint8_t *zlist_of(const uint8_t *z, size_t len)
{
	size_t n = (len + PIECE - 1) / PIECE;
	uint8_t *list = malloc(n * 32 + 1);

	for (size_t i = 0; i < n; i++)
		chunk_sha256(z + i * PIECE, len - i * PIECE < PIECE ? len - i * PIECE : PIECE, list + i * 32);
	return list;
}

static void payload_for(struct fw_payload *p, uint64_t image_size, size_t zsize, unsigned wlog)
{
	memset(p, 0, sizeof(*p));
	p->size = image_size;
	p->chunk_size = 65536;
	p->zstd.on = 1;
	p->zstd.level = 3;
	p->zstd.window_log = wlog;
	p->zstd.frame_size = FRAME;
	p->zstd.chunk_size = PIECE;
	p->zstd.size = zsize;
}

/* Decode zsize bytes of z for payload p in odd-sized feeds; 0 or -1 with err. */
static int run(const struct fw_payload *p, const uint8_t *z, size_t zsize, const uint8_t *zlist, struct sink *s,
	       struct fw_err *err)
{
	struct zstd_read *r = zstd_read_new(p, zlist, collect, s, err);
	int rc = -1;

	CU_ASSERT_FATAL(r != NULL);
	for (size_t at = 0; at < zsize; at += 1000)
		if (zstd_read_feed(r, z + at, zsize - at < 1000 ? zsize - at : 1000, err) < 0)
			goto out;
	rc = zstd_read_end(r, err);
out:
	zstd_read_free(r);
	return rc;
}

static uint8_t *image(size_t len)
{
	uint8_t *d = malloc(len);

	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)((i / 7) ^ (i * 2654435761u >> 20));
	return d;
}

static void test_frames_round_trip(void)
{
	size_t len = 2 * FRAME + 12345, zsize = 0, cap = 3 * FRAME + 4096;
	uint8_t *img = image(len), *z = malloc(cap), *list;
	struct fw_payload p;
	struct sink s = { malloc(len), 0, len };
	struct fw_err err = { 0 };

	for (size_t at = 0; at < len; at += FRAME)
		zsize += frame(z + zsize, cap - zsize, img + at, len - at < FRAME ? len - at : FRAME, 20, 0);
	list = zlist_of(z, zsize);
	payload_for(&p, len, zsize, 20);
	CU_ASSERT_EQUAL(fw_payload_frames(&p), 3);
	CU_ASSERT_EQUAL(run(&p, z, zsize, list, &s, &err), 0);
	CU_ASSERT_EQUAL(s.len, len);
	CU_ASSERT(memcmp(s.buf, img, len) == 0);
	free(img);
	free(z);
	free(list);
	free(s.buf);
}

/*
 * Continued at a frame (zstd_read_start): the bytes before the frame's piece are passed over unread (garbage
 * there changes nothing), the piece is checked whole (a flipped byte in it before the frame is caught), the
 * output is the image from the frame on, and the frame table says where each frame begins. A place that is
 * not where a frame begins gives no image: refused by the decoder.
 */
static void test_start_at_frame(void)
{
	size_t len = 4 * FRAME + 777, zsize = 0, cap = 5 * FRAME + 4096, starts[6];
	uint8_t *img = image(len), *z = malloc(cap), *list, *copy = malloc(cap);
	uint64_t table[6];
	struct fw_payload p;
	struct sink s = { malloc(len), 0, len };
	struct fw_err err = { 0 };
	struct zstd_read *r;
	size_t k = 0;

	for (size_t at = 0; at < len; at += FRAME) {
		starts[k++] = zsize;
		zsize += frame(z + zsize, cap - zsize, img + at, len - at < FRAME ? len - at : FRAME, 20, 0);
	}
	starts[k] = zsize;
	list = zlist_of(z, zsize);
	payload_for(&p, len, zsize, 20);
	CU_ASSERT_FATAL(fw_payload_frames(&p) == 5 && starts[2] % PIECE != 0);
	/* The whole read fills the table. */
	memset(table, 0xff, sizeof(table));
	r = zstd_read_new(&p, list, collect, &s, &err);
	zstd_read_frame_table(r, table);
	CU_ASSERT_EQUAL(zstd_read_feed(r, z, zsize, &err), 0);
	CU_ASSERT_EQUAL(zstd_read_end(r, &err), 0);
	zstd_read_free(r);
	for (k = 0; k <= 5; k++)
		CU_ASSERT_EQUAL(table[k], starts[k]);
	/* From frame 2, with garbage before its piece. */
	memcpy(copy, z, zsize);
	memset(copy, 0xa5, starts[2] / PIECE * PIECE);
	s.len = 0;
	memset(table, 0xff, sizeof(table));
	r = zstd_read_new(&p, list, collect, &s, &err);
	zstd_read_frame_table(r, table);
	CU_ASSERT_EQUAL(zstd_read_start(r, 2, starts[2], &err), 0);
	for (size_t at = 0; at < zsize; at += 1000)
		CU_ASSERT_EQUAL_FATAL(zstd_read_feed(r, copy + at, zsize - at < 1000 ? zsize - at : 1000, &err), 0);
	CU_ASSERT_EQUAL(zstd_read_end(r, &err), 0);
	zstd_read_free(r);
	CU_ASSERT_EQUAL(s.len, len - 2 * FRAME);
	CU_ASSERT(memcmp(s.buf, img + 2 * FRAME, len - 2 * FRAME) == 0);
	CU_ASSERT_EQUAL(table[1], UINT64_MAX);
	CU_ASSERT_EQUAL(table[2], starts[2]);
	CU_ASSERT_EQUAL(table[5], zsize);
	/* A flipped byte in the frame's piece, before the frame: the piece is checked whole. */
	copy[starts[2] - 1] ^= 1;
	s.len = 0;
	r = zstd_read_new(&p, list, collect, &s, &err);
	CU_ASSERT_EQUAL(zstd_read_start(r, 2, starts[2], &err), 0);
	CU_ASSERT_EQUAL(zstd_read_feed(r, copy, zsize, &err), -1);
	CU_ASSERT_EQUAL(err.kind, FW_KIND_MISMATCH);
	CU_ASSERT_EQUAL(s.len, 0);
	zstd_read_free(r);
	/* One byte off: not a frame. */
	s.len = 0;
	r = zstd_read_new(&p, list, collect, &s, &err);
	CU_ASSERT_EQUAL(zstd_read_start(r, 2, starts[2] + 1, &err), 0);
	CU_ASSERT_EQUAL(zstd_read_feed(r, z, zsize, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	zstd_read_free(r);
	/* At the end: nothing to decode, the last piece checked. */
	s.len = 0;
	r = zstd_read_new(&p, list, collect, &s, &err);
	CU_ASSERT_EQUAL(zstd_read_start(r, 5, zsize, &err), 0);
	CU_ASSERT_EQUAL(zstd_read_feed(r, z, zsize, &err), 0);
	CU_ASSERT_EQUAL(zstd_read_end(r, &err), 0);
	CU_ASSERT_EQUAL(s.len, 0);
	zstd_read_free(r);
	/* No such place: past the payload, or the end named as a frame that is not the last. */
	r = zstd_read_new(&p, list, collect, &s, &err);
	CU_ASSERT_EQUAL(zstd_read_start(r, 6, zsize, &err), -1);
	CU_ASSERT_EQUAL(zstd_read_start(r, 4, zsize, &err), -1);
	CU_ASSERT_EQUAL(zstd_read_start(r, 2, zsize + 1, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	zstd_read_free(r);
	free(img);
	free(z);
	free(copy);
	free(list);
	free(s.buf);
}

/* A frame that decodes to more than its place in the image declares, even without a size in its header. */
static void test_bomb_stopped_at_declared_length(void)
{
	size_t big = 64u * 1024 * 1024, cap = 1024 * 1024;
	uint8_t *zeros = calloc(1, big), *z = malloc(cap), *list;
	struct fw_payload p;
	struct sink s = { malloc(FRAME), 0, FRAME };
	struct fw_err err = { 0 };
	size_t zsize = frame(z, cap, zeros, big, 20, 1);

	list = zlist_of(z, zsize);
	payload_for(&p, FRAME, zsize, 20);
	CU_ASSERT_EQUAL(run(&p, z, zsize, list, &s, &err), -1);
	CU_ASSERT(strstr(err.msg, "more than its declared") != NULL);
	CU_ASSERT(s.len <= FRAME);
	/* With its size in the header too. */
	zsize = frame(z, cap, zeros, 2 * FRAME, 20, 0);
	free(list);
	list = zlist_of(z, zsize);
	payload_for(&p, FRAME, zsize, 20);
	s.len = 0;
	CU_ASSERT_EQUAL(run(&p, z, zsize, list, &s, &err), -1);
	CU_ASSERT(s.len <= FRAME);
	free(zeros);
	free(z);
	free(list);
	free(s.buf);
}

/*
 * A one-frame payload for the refusals below: an image of FRAME bytes, one
 * frame of its first `data` bytes (window 2^wlog, content size in the header
 * unless unknown_size), the frame's chunk list, a payload declaring the image
 * and the frame (window 2^20) and a sink for what is decoded.
 */
struct one {
	uint8_t *img, *z, *list;
	size_t zsize;
	struct fw_payload p;
	struct sink s;
};

static void one_make(struct one *o, size_t data, int wlog, int unknown_size)
{
	o->img = image(FRAME);
	o->z = malloc(2 * FRAME);
	o->zsize = frame(o->z, 2 * FRAME, o->img, data, wlog, unknown_size);
	o->list = zlist_of(o->z, o->zsize);
	payload_for(&o->p, FRAME, o->zsize, 20);
	o->s.buf = malloc(FRAME);
	o->s.len = 0;
	o->s.cap = FRAME;
}

static void one_free(struct one *o)
{
	free(o->img);
	free(o->z);
	free(o->list);
	free(o->s.buf);
}

/* A frame whose header asks for a window above the package's cap is refused before anything is decoded. */
static void test_window_above_cap_refused(void)
{
	struct one o;
	struct fw_err err = { 0 };

	one_make(&o, FRAME, 27, 1);
	CU_ASSERT_EQUAL(run(&o.p, o.z, o.zsize, o.list, &o.s, &err), -1);
	CU_ASSERT(strstr(err.msg, "window above") != NULL);
	CU_ASSERT_EQUAL(o.s.len, 0);
	one_free(&o);
}

/* A changed compressed byte: refused by its piece's digest (kind MISMATCH), the decoder never sees it. */
static void test_bad_piece_never_decoded(void)
{
	struct one o;
	struct fw_err err = { 0 };

	one_make(&o, FRAME, 20, 0);
	o.z[o.zsize / 2] ^= 1;
	CU_ASSERT_EQUAL(run(&o.p, o.z, o.zsize, o.list, &o.s, &err), -1);
	CU_ASSERT_EQUAL(err.kind, FW_KIND_MISMATCH);
	/* Nothing of the damaged piece or after it reached the output. */
	CU_ASSERT(o.s.len < FRAME);
	one_free(&o);
}

/* Frames short of their declared length, and compressed bytes missing at the end, are refused. */
static void test_short_frame_and_truncation(void)
{
	struct one o;
	struct fw_err err = { 0 };

	one_make(&o, FRAME - 100, 20, 0);
	CU_ASSERT_EQUAL(run(&o.p, o.z, o.zsize, o.list, &o.s, &err), -1);
	CU_ASSERT(strstr(err.msg, "not its declared") != NULL);
	one_free(&o);
	one_make(&o, FRAME, 20, 0);
	CU_ASSERT_EQUAL(run(&o.p, o.z, o.zsize - PIECE, o.list, &o.s, &err), -1);
	one_free(&o);
}

/* Bytes zstd cannot shrink (a xorshift stream): frames of about FRAME bytes, compressed chunks that straddle them. */
static uint8_t *noise(size_t len)
{
	uint8_t *d = malloc(len);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d[i] = (uint8_t)x;
	}
	return d;
}

/*
 * The writer: frames every stock decoder reads back, the image's chunk list
 * as chunk_hash_fd makes it, and the compressed bytes' list (hashed as they
 * are written) as chunk_hash_fd makes it from the output afterwards.
 */
static void writer_on(uint8_t *img, size_t len)
{
	uint8_t *list = malloc((len / 65536 + 1) * 32), *want = malloc((len / 65536 + 1) * 32), *zlist = NULL, *zwant;
	char in_path[] = "/tmp/test_zstd_in.XXXXXX", out_path[] = "/tmp/test_zstd_out.XXXXXX";
	int in = mkstemp(in_path), out = mkstemp(out_path);
	struct fw_payload p;
	struct fw_err err = { 0 };
	uint8_t *z, *back;
	unsigned long long got;

	CU_ASSERT_FATAL(in >= 0 && out >= 0);
	CU_ASSERT_FATAL(write(in, img, len) == (ssize_t)len);
	memset(&p, 0, sizeof(p));
	p.size = len;
	p.chunk_size = 65536;
	zstd_write_setup(&p, 19, FRAME);
	CU_ASSERT_EQUAL(zstd_write_payload(in, &p, 2, list, NULL, out, &zlist, &err), 0);
	CU_ASSERT_EQUAL(p.zstd.window_log, 23);
	CU_ASSERT_EQUAL(chunk_hash_fd(in, len, 65536, 1, want, NULL, NULL, NULL, &err), 0);
	CU_ASSERT(memcmp(list, want, fw_payload_chunks(&p) * 32) == 0);
	zwant = malloc(fw_payload_zchunks(&p) * 32 + 1);
	CU_ASSERT_EQUAL(chunk_hash_fd(out, p.zstd.size, FW_ZSTD_CHUNK_MAX, 1, zwant, NULL, NULL, NULL, &err), 0);
	CU_ASSERT_FATAL(zlist != NULL);
	CU_ASSERT(memcmp(zlist, zwant, fw_payload_zchunks(&p) * 32) == 0);
	z = malloc(p.zstd.size);
	CU_ASSERT_FATAL(pread(out, z, p.zstd.size, 0) == (ssize_t)p.zstd.size);
	/* Independent frames, each with its content size: ZSTD_decompress reads them all, as zstd -d does. */
	CU_ASSERT_EQUAL(ZSTD_getFrameContentSize(z, p.zstd.size), FRAME);
	back = malloc(len);
	got = ZSTD_decompress(back, len, z, p.zstd.size);
	CU_ASSERT_EQUAL(got, len);
	CU_ASSERT(memcmp(back, img, len) == 0);
	close(in);
	close(out);
	unlink(in_path);
	unlink(out_path);
	free(img);
	free(list);
	free(want);
	free(zlist);
	free(zwant);
	free(z);
	free(back);
}

/* The compressed chunk list of z's bytes in pieces of `piece` bytes. */
static uint8_t *zlist_in(const uint8_t *z, size_t len, size_t piece)
{
	size_t n = (len + piece - 1) / piece;
	uint8_t *list = malloc(n * 32 + 1);

	for (size_t i = 0; i < n; i++)
		chunk_sha256(z + i * piece, len - i * piece < piece ? len - i * piece : piece, list + i * 32);
	return list;
}

/* Two frames of FRAME bytes, read in pieces that end two bytes into the second frame: its magic straddles them. */
static int run_straddled(uint8_t *z, size_t z0, size_t zsize, const uint8_t *img, struct fw_err *err)
{
	struct fw_payload p;
	struct sink s = { malloc(2 * FRAME), 0, 2 * FRAME };
	uint8_t *list = zlist_in(z, zsize, z0 + 2);
	int rc;

	payload_for(&p, 2 * FRAME, zsize, 20);
	p.zstd.chunk_size = (uint32_t)(z0 + 2);
	rc = run(&p, z, zsize, list, &s, err);
	if (rc == 0)
		CU_ASSERT(s.len == 2 * FRAME && memcmp(s.buf, img, 2 * FRAME) == 0);
	free(list);
	free(s.buf);
	return rc;
}

/*
 * Only zstd frames (RFC 8878) reach the decoder: libzstd would also take its legacy formats, whose decoders
 * ignore the window cap (a v0.7 frame asking for 2^27 bytes got them, under a manifest saying 2^20), and
 * skippable frames. The magic is checked where it straddles two pieces too, and a good one there decodes.
 */
static void test_only_zstd_frames(void)
{
	size_t cap = 3 * FRAME, z0, zsize;
	uint8_t *img = image(2 * FRAME), *z = malloc(cap), *v07 = malloc(FRAME + 4096), *list;
	struct fw_payload p;
	struct sink s = { malloc(2 * FRAME), 0, 2 * FRAME };
	struct fw_err err = { 0 };
	size_t n = 0;

	z0 = frame(z, cap, img, FRAME, 20, 0);
	zsize = z0 + frame(z + z0, cap - z0, img + FRAME, FRAME, 20, 0);
	CU_ASSERT_FATAL(z0 + 2 <= FW_ZSTD_CHUNK_MAX);
	CU_ASSERT_EQUAL(run_straddled(z, z0, zsize, img, &err), 0);
	/* The second frame's magic, its last byte changed: the part in the second piece is checked too. */
	z[z0 + 3] ^= 0x01;
	CU_ASSERT_EQUAL(run_straddled(z, z0, zsize, img, &err), -1);
	CU_ASSERT(strstr(err.msg, "frame 1 is not a zstd frame") != NULL);
	z[z0 + 3] ^= 0x01;
	/* A skippable frame's magic in its place. */
	memcpy(z + z0, "\x50\x2a\x4d\x18", 4);
	CU_ASSERT_EQUAL(run_straddled(z, z0, zsize, img, &err), -1);
	CU_ASSERT(strstr(err.msg, "frame 1 is not a zstd frame") != NULL);

	/* A v0.7 frame (libzstd decodes them): window 2^27, raw blocks holding the image's first FRAME bytes. */
	memcpy(v07, "\x27\xb5\x2f\xfd\x00\x88", 6);
	n = 6;
	for (size_t at = 0; at < FRAME; at += 128 * 1024) {
		v07[n++] = 1 << 6;   /* raw, 128 KiB: (size >> 16) & 7 is 2 */
		v07[n - 1] |= 2;
		v07[n++] = 0;
		v07[n++] = 0;
		memcpy(v07 + n, img + at, 128 * 1024);
		n += 128 * 1024;
	}
	memcpy(v07 + n, "\xc0\x00\x00", 3);
	n += 3;
	list = zlist_of(v07, n);
	payload_for(&p, FRAME, n, 20);
	CU_ASSERT_EQUAL(run(&p, v07, n, list, &s, &err), -1);
	CU_ASSERT(strstr(err.msg, "frame 0 is not a zstd frame") != NULL);
	CU_ASSERT_EQUAL(s.len, 0);
	free(list);
	free(img);
	free(z);
	free(v07);
	free(s.buf);
}

static void test_writer(void)
{
	writer_on(image(3 * FRAME + 777), 3 * FRAME + 777);
}

/* Compressed output over several FW_ZSTD_CHUNK_MAX chunks, their edges inside frames. */
static void test_writer_incompressible(void)
{
	size_t len = 3 * FRAME + 777;

	CU_ASSERT(FW_ZSTD_CHUNK_MAX < 3 * FRAME);
	writer_on(noise(len), len);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "frames decode to the image, fed in odd pieces", test_frames_round_trip },
		{ "a decompression bomb is stopped at the frame's declared length", test_bomb_stopped_at_declared_length },
		{ "a frame asking for a window above the cap is refused", test_window_above_cap_refused },
		{ "a damaged compressed piece is refused before the decoder sees it", test_bad_piece_never_decoded },
		{ "a short frame and a truncated payload are refused", test_short_frame_and_truncation },
		{ "only zstd frames reach the decoder: not legacy or skippable ones, a magic across pieces too",
		  test_only_zstd_frames },
		{ "continued at a frame: earlier pieces passed over, its piece checked whole", test_start_at_frame },
		{ "the writer's frames and chunk lists", test_writer },
		{ "the writer's compressed chunk list over bytes that do not compress", test_writer_incompressible },
	};

	return unit_run("zstd", NULL, NULL, tests, UNIT_COUNT(tests));
}
