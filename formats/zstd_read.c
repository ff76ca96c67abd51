/* zstd_read: verify each compressed piece, then decode it, each frame held to its declared length and window. */
#include "zstd_read.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ZSTD_STATIC_LINKING_ONLY   /* ZSTD_d_stableOutBuffer: a delta decodes into one frame buffer, no window of its own */
#include <zstd.h>
#include <zstd_errors.h>

#define OUT_BUF (256u * 1024)

struct zstd_read {
	const struct fw_payload *p;
	const uint8_t *zlist;
	chunk_sink_fn out;
	void *ctx;
	ZSTD_DCtx *d;
	uint8_t *piece;        /* the compressed piece being gathered, zstd.chunk_size bytes */
	size_t have;           /* bytes of it so far */
	uint64_t pieces;       /* pieces verified and decoded */
	uint8_t *obuf;         /* decoded bytes, OUT_BUF */
	uint64_t frame;        /* the frame being decoded */
	uint64_t frames;       /* frames the image has */
	uint64_t frame_len;    /* its declared length */
	uint64_t produced;     /* of it decoded so far */
	uint64_t taken;        /* its compressed bytes the decoder took so far */
	int in_frame;
	int verify_only;       /* pieces checked, nothing decoded */
	const uint8_t *base;   /* a delta's base image, mapped; NULL otherwise */
	uint8_t *fbuf;         /* a delta's frame buffer: frame_size + 1 bytes, the decoder's stable output */
	uint64_t lo, hi;       /* the base bytes the current frame refers to */
	int prefixed;          /* ... given to the decoder for it */
	uint64_t pass;         /* entry bytes still to pass over unread (zstd_read_start) */
	size_t dec_from;       /* the next piece is decoded from this byte of it on */
	uint64_t *starts;      /* the caller's frame table (zstd_read_frame_table); NULL */
};

struct zstd_read *zstd_read_new(const struct fw_payload *p, const uint8_t *zlist, chunk_sink_fn out, void *ctx,
				struct fw_err *err)
{
	struct zstd_read *z = calloc(1, sizeof(*z));

	if (z == NULL || (z->piece = malloc(p->zstd.chunk_size)) == NULL || (z->obuf = malloc(OUT_BUF)) == NULL ||
	    (z->d = ZSTD_createDCtx()) == NULL) {
		zstd_read_free(z);
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		return NULL;
	}
	/* The cap the package was built with: a frame asking for more is refused, not obeyed (a delta's
	 * window only bounds how far back it refers: it decodes into its frame buffer, no window of its own). */
	if (ZSTD_isError(ZSTD_DCtx_setParameter(z->d, ZSTD_d_windowLogMax, (int)p->zstd.window_log))) {
		zstd_read_free(z);
		fw_err_set(err, FW_EXIT_IO, "zstd: cannot cap the window at 2^%u bytes", p->zstd.window_log);
		return NULL;
	}
	z->p = p;
	z->zlist = zlist;
	z->out = out;
	z->ctx = ctx;
	z->frames = fw_payload_frames(p);
	return z;
}

void zstd_read_free(struct zstd_read *z)
{
	if (z == NULL)
		return;
	ZSTD_freeDCtx(z->d);
	free(z->piece);
	free(z->obuf);
	free(z->fbuf);
	free(z);
}

void zstd_read_verify_only(struct zstd_read *z)
{
	z->verify_only = 1;
}

int zstd_read_base(struct zstd_read *z, const uint8_t *base, struct fw_err *err)
{
	size_t r;

	/* The decoder writes each frame into one buffer and refers back into it: no window buffer of its own. */
	if ((z->fbuf = malloc((size_t)z->p->zstd.frame_size + 1)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (ZSTD_isError(r = ZSTD_DCtx_setParameter(z->d, ZSTD_d_stableOutBuffer, 1)))
		return fw_err_set(err, FW_EXIT_IO, "zstd: %s", ZSTD_getErrorName(r));
	z->base = base;
	return 0;
}

/*
 * Drop the base pages a finished frame read and the next frame will not: the
 * prefixes overlap (each reaches `margin` back), so dropping a whole prefix
 * would fault most of its pages in again, frame after frame. Memory stays one
 * prefix's pages at most.
 */
static void drop_prefix(struct zstd_read *z)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t mask = pg > 0 ? ~(uint64_t)(pg - 1) : ~(uint64_t)0, a = z->lo & mask, end = z->hi, nlo, nhi;

	if (z->frame + 1 < z->frames) {
		fw_delta_prefix(z->p, z->frame + 1, &nlo, &nhi);
		if (nlo < end)
			end = nlo & mask;
	}
	if (z->hi > z->lo && end > a)
		(void)madvise((void *)(uintptr_t)(z->base + a), (size_t)(end - a), MADV_DONTNEED);
	z->lo = z->hi = 0;
	z->prefixed = 0;
}

static int decoder_failed(const struct zstd_read *z, size_t ret, struct fw_err *err)
{
	if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge)
		return fw_err_set(err, FW_EXIT_REJECTED, "frame %llu asks for a window above the package's cap of 2^%u bytes",
				  (unsigned long long)z->frame, z->p->zstd.window_log);
	return fw_err_set(err, FW_EXIT_REJECTED, "frame %llu: zstd: %s", (unsigned long long)z->frame, ZSTD_getErrorName(ret));
}

static int too_long(const struct zstd_read *z, struct fw_err *err)
{
	return fw_err_set(err, FW_EXIT_REJECTED, "frame %llu decodes to more than its declared %llu bytes: stopped there",
			  (unsigned long long)z->frame, (unsigned long long)z->frame_len);
}

/* A delta frame: decoded into the frame buffer against its prefix of the base, handed on as it grows. */
static int decode_delta(struct zstd_read *z, ZSTD_inBuffer *in, struct fw_err *err)
{
	ZSTD_outBuffer o = { z->fbuf, (size_t)z->frame_len + 1, (size_t)z->produced };
	size_t ret;

	if (!z->prefixed) {
		fw_delta_prefix(z->p, z->frame, &z->lo, &z->hi);
		if (z->hi > z->lo && ZSTD_isError(ret = ZSTD_DCtx_refPrefix(z->d, z->base + z->lo, (size_t)(z->hi - z->lo))))
			return fw_err_set(err, FW_EXIT_IO, "zstd: %s", ZSTD_getErrorName(ret));
		z->prefixed = 1;
	}
	ret = ZSTD_decompressStream(z->d, &o, in);
	/* The frame buffer ends one byte past the frame: a decoder that needs more is stopped there too. */
	if (ZSTD_isError(ret) && ZSTD_getErrorCode(ret) != ZSTD_error_dstSize_tooSmall)
		return decoder_failed(z, ret, err);
	if (ZSTD_isError(ret) || o.pos > z->frame_len)
		return too_long(z, err);
	if (o.pos > z->produced && z->out(z->ctx, z->fbuf + z->produced, o.pos - (size_t)z->produced, err) < 0)
		return -1;
	z->produced = o.pos;
	return ret == 0 ? 1 : 0;
}

uint64_t zstd_read_verified(const struct zstd_read *z)
{
	return z->pieces;
}

/*
 * Before the decoder sees a frame's first bytes: they must be the magic of a
 * zstd frame (RFC 8878, what mkpkg writes). libzstd also decodes skippable
 * frames and its legacy formats (v0.5 to v0.7), and a legacy frame is decoded
 * by its own code, which takes no window cap: it would allocate the window
 * its header asks for (up to 2^27 bytes) whatever the manifest declares. The
 * magic may straddle two pieces: each part is checked as it comes.
 */
static int frame_magic(const struct zstd_read *z, const ZSTD_inBuffer *in, struct fw_err *err)
{
	static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };   /* ZSTD_MAGICNUMBER, little-endian */
	size_t n = in->size - in->pos;

	if (z->taken >= sizeof(magic))
		return 0;
	if (n > sizeof(magic) - z->taken)
		n = sizeof(magic) - (size_t)z->taken;
	if (memcmp((const uint8_t *)in->src + in->pos, magic + z->taken, n) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "frame %llu is not a zstd frame (RFC 8878): a skippable or "
				  "legacy-format frame is refused", (unsigned long long)z->frame);
	return 0;
}

void zstd_read_frame_table(struct zstd_read *z, uint64_t *table)
{
	z->starts = table;
}

/* Frame k begins at compressed offset at (k == frames: the entry ended there). */
static void frame_begins(struct zstd_read *z, uint64_t k, uint64_t at)
{
	if (z->starts != NULL && k <= z->frames)
		__atomic_store_n(&z->starts[k], at, __ATOMIC_RELEASE);
}

int zstd_read_start(struct zstd_read *z, uint64_t frame, uint64_t zoffset, struct fw_err *err)
{
	uint64_t piece = zoffset / z->p->zstd.chunk_size;

	if (frame > z->frames || zoffset > z->p->zstd.size || (frame == z->frames) != (zoffset == z->p->zstd.size) ||
	    z->pieces != 0 || z->have != 0)
		return fw_err_set(err, FW_EXIT_USAGE, "frame %llu at compressed byte %llu: no such place to continue",
				  (unsigned long long)frame, (unsigned long long)zoffset);
	z->pass = piece * z->p->zstd.chunk_size;
	z->pieces = piece;
	z->dec_from = (size_t)(zoffset - z->pass);
	z->frame = frame;
	frame_begins(z, frame, zoffset);
	return 0;
}

/* Decode one verified piece, whose first byte is the entry's compressed byte at; every frame stops at its declared length. */
static int decode(struct zstd_read *z, const uint8_t *buf, size_t len, uint64_t at, struct fw_err *err)
{
	ZSTD_inBuffer in = { buf, len, 0 };

	while (in.pos < in.size) {
		ZSTD_outBuffer o;
		size_t ret, from;

		if (!z->in_frame) {
			if (z->frame >= z->frames)
				return fw_err_set(err, FW_EXIT_REJECTED, "compressed data after the last of its %llu frames",
						  (unsigned long long)z->frames);
			z->frame_len = z->p->size - z->frame * z->p->zstd.frame_size;
			if (z->frame_len > z->p->zstd.frame_size)
				z->frame_len = z->p->zstd.frame_size;
			z->produced = 0;
			z->taken = 0;
			z->in_frame = 1;
			frame_begins(z, z->frame, at + in.pos);
		}
		if (frame_magic(z, &in, err) < 0)
			return -1;
		from = in.pos;
		if (z->base != NULL) {
			int done = decode_delta(z, &in, err);

			z->taken += in.pos - from;
			if (done < 0)
				return -1;
			if (done == 0)
				continue;
			drop_prefix(z);
			ret = 0;
		} else {
			/* Room for one byte beyond the frame's declared end, never handed on: a decoder that fills it is stopped. */
			o.dst = z->obuf;
			o.size = z->frame_len - z->produced + 1 < OUT_BUF ? (size_t)(z->frame_len - z->produced + 1) : OUT_BUF;
			o.pos = 0;
			ret = ZSTD_decompressStream(z->d, &o, &in);
			z->taken += in.pos - from;
			if (ZSTD_isError(ret))
				return decoder_failed(z, ret, err);
			if (z->produced + o.pos > z->frame_len)
				return too_long(z, err);
			if (o.pos > 0 && z->out(z->ctx, z->obuf, o.pos, err) < 0)
				return -1;
			z->produced += o.pos;
		}
		if (ret == 0) {
			if (z->produced != z->frame_len)
				return fw_err_set(err, FW_EXIT_REJECTED, "frame %llu decodes to %llu bytes, not its declared %llu",
						  (unsigned long long)z->frame, (unsigned long long)z->produced,
						  (unsigned long long)z->frame_len);
			z->in_frame = 0;
			z->frame++;
			if (z->frame == z->frames)
				frame_begins(z, z->frame, at + in.pos);
		}
	}
	return 0;
}

/* The piece gathered: its digest first, then the decoder. */
static int piece_done(struct zstd_read *z, struct fw_err *err)
{
	uint8_t md[FW_DIGEST_LEN];
	uint64_t start = z->pieces * z->p->zstd.chunk_size;

	if (z->pieces >= fw_payload_zchunks(z->p))
		return fw_err_set(err, FW_EXIT_REJECTED, "more compressed bytes than the manifest declares");
	if (chunk_sha256(z->piece, z->have, md) < 0)
		return fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
	if (memcmp(md, z->zlist + z->pieces * FW_DIGEST_LEN, FW_DIGEST_LEN) != 0)
		return fw_err_setk(err, FW_KIND_MISMATCH, FW_EXIT_REJECTED,
				   "compressed chunk %llu (compressed bytes %llu-%llu): SHA-256 mismatch",
				   (unsigned long long)z->pieces, (unsigned long long)start,
				   (unsigned long long)(start + z->have - 1));
	z->pieces++;
	/* A continued image (zstd_read_start) is decoded from its frame on: the piece's bytes before it were checked, not decoded. */
	if (!z->verify_only && z->have > z->dec_from &&
	    decode(z, z->piece + z->dec_from, z->have - z->dec_from, start + z->dec_from, err) < 0)
		return -1;
	z->have = 0;
	z->dec_from = 0;
	return 0;
}

int zstd_read_feed(struct zstd_read *z, const void *buf, size_t len, struct fw_err *err)
{
	const uint8_t *b = buf;

	/* Before a continued image's first piece: passed over, never looked at. */
	if (z->pass > 0) {
		size_t k = z->pass < len ? (size_t)z->pass : len;

		z->pass -= k;
		b += k;
		len -= k;
	}
	while (len > 0) {
		size_t k = z->p->zstd.chunk_size - z->have;

		if (k > len)
			k = len;
		memcpy(z->piece + z->have, b, k);
		z->have += k;
		b += k;
		len -= k;
		if (z->have == z->p->zstd.chunk_size && piece_done(z, err) < 0)
			return -1;
	}
	return 0;
}

int zstd_read_end(struct zstd_read *z, struct fw_err *err)
{
	if (z->pass > 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "truncated before compressed byte %llu",
				  (unsigned long long)(z->pieces * z->p->zstd.chunk_size));
	if (z->have > 0 && piece_done(z, err) < 0)
		return -1;
	if (z->pieces != fw_payload_zchunks(z->p))
		return fw_err_set(err, FW_EXIT_REJECTED, "truncated: %llu of %llu compressed chunks",
				  (unsigned long long)z->pieces, (unsigned long long)fw_payload_zchunks(z->p));
	if (!z->verify_only && (z->in_frame || z->frame != z->frames))
		return fw_err_set(err, FW_EXIT_REJECTED, "the compressed data ends inside frame %llu of %llu",
				  (unsigned long long)z->frame + (z->in_frame ? 1 : 0), (unsigned long long)z->frames);
	return 0;
}
