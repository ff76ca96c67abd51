/* pkg_read: stream a package with libarchive, verify the signed manifest first, then every chunk before handing it on. */
#include "pkg_read.h"

#include "base/escape.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include "base/sha256.h"
#include "signing/accept.h"

#include "chunk.h"
#include "tar_pax.h"
#include "zstd_read.h"

#define READ_BLOCK (128 * 1024)
#define TAR_BLOCK 512

/* Our read callback: keeps the last block so the bytes after the archive's end can be checked. */
struct source {
	int fd;
	/* A regular file: payloads are read by position (chunk_pipe_feed_fd) and skipped here. */
	int seekable;
	uint64_t base;       /* fd's offset when the read began: where the package starts */
	uint8_t *buf;
	size_t last_len;     /* bytes of buf handed to libarchive by the last read */
	uint64_t total;      /* bytes read from fd so far */
	int read_errno;
	/* The raw bytes of the header expected next, copied as they pass, so
	 * the typeflag and magic can be checked as written: three blocks, for
	 * an entry with a pax size record (pax header, its record, ustar header). */
	uint64_t hdr_pos;
	uint8_t hdr[3 * 512];
	/* The first bytes, to say what a file that is not a package is. */
	uint8_t head[8];
	size_t head_len;
};

/* Copy whatever part of [hdr_pos, hdr_pos + 512) the bytes buf[0..len) at offset `at` hold. */
static void capture_header(struct source *s, const uint8_t *buf, size_t len, uint64_t at)
{
	uint64_t from = s->hdr_pos > at ? s->hdr_pos : at;
	uint64_t to = s->hdr_pos + sizeof(s->hdr) < at + len ? s->hdr_pos + sizeof(s->hdr) : at + len;

	if (from < to)
		memcpy(s->hdr + (from - s->hdr_pos), buf + (from - at), (size_t)(to - from));
}

struct reader {
	struct archive *a;
	struct source src;
	const struct pkg_read_opts *opts;
	const struct pkg_reader_ops *ops;
	void *ctx;
	struct pkg_report *rep;
	struct fw_manifest *m;
	struct chunk_pipe *pipe;
	struct archive_entry *entry;  /* the current header, owned by libarchive */
	int at_eof;
	uint64_t expect_pos;          /* where the next header must start: right after the last entry */
	uint64_t entry_pos;           /* where the current entry's first header starts */
	int pax;                      /* the current entry has a pax size record (tar_pax.h) */
	int pax_seen;                 /* an entry before had one */
	struct fw_sha256 whole;          /* plain SHA-256 of the payload, when asked for or declared */
	int whole_on;                    /* a compressed payload's decoded bytes go into whole too */
	/* The current payload's delta source (pkg_reader_ops.delta_source), asked before payload_begin
	 * so that a base that does not check out is refused before the caller acts on the payload. */
	int dsrc, dfd;
	void *dmap;                      /* the base, mapped; MAP_FAILED when none */
};

static la_ssize_t source_read(struct archive *a, void *ctx, const void **out)
{
	struct source *s = ctx;
	ssize_t n;

	(void)a;
	do
		n = read(s->fd, s->buf, READ_BLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		s->read_errno = errno;
		archive_set_error(a, errno, "read failed: %s", strerror(errno));
		return -1;
	}
	s->last_len = (size_t)n;
	capture_header(s, s->buf, (size_t)n, s->total);
	if (s->total < sizeof(s->head)) {
		size_t k = sizeof(s->head) - (size_t)s->total;

		if (k > (size_t)n)
			k = (size_t)n;
		memcpy(s->head + s->total, s->buf, k);
		s->head_len = (size_t)s->total + k;
	}
	s->total += (uint64_t)n;
	*out = s->buf;
	return n;
}

/*
 * Our skip callback: a payload the workers read by position (or one not
 * wanted) is passed over with lseek. Returns 0, so libarchive reads and
 * discards instead, where the source cannot seek (a pipe, a socket), and
 * where the file ends before the bytes to skip do: lseek would go past the
 * end without complaint, and the next header read would find nothing, which
 * looks like a missing end-of-archive marker; read, libarchive reports the
 * file as truncated, as it does from a pipe.
 */
static la_int64_t source_skip(struct archive *a, void *ctx, la_int64_t request)
{
	struct source *s = ctx;
	struct stat st;
	off_t at;

	(void)a;
	if (!s->seekable || request <= 0 || fstat(s->fd, &st) < 0 || (at = lseek(s->fd, 0, SEEK_CUR)) < 0 ||
	    at > st.st_size || request > st.st_size - at || lseek(s->fd, request, SEEK_CUR) < 0)
		return 0;
	s->total += (uint64_t)request;
	/* The block in buf no longer ends at s->total: no header is in it. */
	s->last_len = 0;
	return request;
}

void pkg_report_free(struct pkg_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->manifest_bytes);
	free(rep->sbom);
	free(rep->frame_at);
	for (size_t i = 0; i < PKG_MAX_SIGNATURES; i++)
		free(rep->sig_texts[i]);
	memset(rep, 0, sizeof(*rep));
}

/* The number of a trusted comment's field `name` ("name:DIGITS", first or after a tab): 0, or -1 if none. */
static int comment_time(const char *comment, const char *name, int64_t *out)
{
	size_t n = strlen(name);
	const char *f = NULL;
	char *end;
	long long v;

	for (const char *p = comment; p != NULL; p = strchr(p, '\t')) {
		if (*p == '\t')
			p++;
		if (strncmp(p, name, n) == 0) {
			f = p + n;
			break;
		}
	}
	if (f == NULL || *f < '0' || *f > '9')
		return -1;
	errno = 0;
	v = strtoll(f, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '\t'))
		return -1;
	*out = v;
	return 0;
}

int pkg_comment_signed_at(const char *comment, int64_t *out)
{
	return comment_time(comment, PKG_SIGNED_FIELD, out) == 0 ? 0 : comment_time(comment, PKG_TIMESTAMP_FIELD, out);
}

/* libarchive's complaint, sorted into "the package is bad" and "reading failed". */
static int archive_failure(struct reader *r, const char *what, struct fw_err *err)
{
	const char *why = archive_error_string(r->a);

	if (r->src.read_errno != 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: %s", what, strerror(r->src.read_errno));
	return fw_err_set(err, FW_EXIT_REJECTED, "%s: %s", what, why ? why : "malformed tar archive");
}

/* What the first bytes say a file is, when it is a compressed file or another archive; NULL if they say nothing. */
static const char *what_else(const uint8_t *h, size_t n)
{
	static const struct { const char *magic; size_t len; const char *what; } known[] = {
		{ "\x1f\x8b", 2, "gzip-compressed data" },
		{ "BZh", 3, "bzip2-compressed data" },
		{ "\xfd" "7zXZ\0", 6, "xz-compressed data" },
		{ "\x28\xb5\x2f\xfd", 4, "zstd-compressed data" },
		{ "PK\x03\x04", 4, "a zip archive" },
		{ "PK\x05\x06", 4, "a zip archive" },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (n >= known[i].len && memcmp(h, known[i].magic, known[i].len) == 0)
			return known[i].what;
	return NULL;
}

/*
 * The input is no package at all: say so first, and what it is when its
 * first bytes tell (a compressed package, a zip), or what its tar lacks.
 */
static int not_a_package(struct reader *r, const char *why, struct fw_err *err)
{
	const char *what = what_else(r->src.head, r->src.head_len);

	if (r->src.read_errno != 0)
		return fw_err_set(err, FW_EXIT_IO, "cannot read: %s", strerror(r->src.read_errno));
	if (what != NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "not a fwpkg package: %s (a package is an uncompressed tar "
				  "archive, manifest.json first)", what);
	if (r->src.total == 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "not a fwpkg package: an empty file");
	return fw_err_set(err, FW_EXIT_REJECTED, "not a fwpkg package: %s", why);
}

/* An octal ustar field as fwpkg writes it: width - 1 digits and a NUL. */
static int octal_field_is(const uint8_t *field, size_t width, uint64_t value)
{
	char want[16];

	snprintf(want, sizeof(want), "%0*llo", (int)width - 1, (unsigned long long)value);
	return strlen(want) == width - 1 && memcmp(field, want, width) == 0;
}

/*
 * The three blocks at the entry's start are exactly what tar_write writes
 * for an entry over TAR_USTAR_SIZE_MAX: a pax header ('x', ustar magic)
 * named TAR_PAX_PREFIX + the entry's name, holding only the size record
 * for the size libarchive took from it (and that size needs it), then the
 * entry's ustar header saying size 0.
 */
static int pax_size_record_ok(struct reader *r)
{
	const uint8_t *x = r->src.hdr, *data = r->src.hdr + TAR_BLOCK, *h = r->src.hdr + 2 * TAR_BLOCK;
	const char *name = archive_entry_pathname(r->entry);
	char want_name[TAR_BLOCK], record[TAR_PAX_RECORD_MAX];
	uint64_t size;
	size_t len;

	if ((uint64_t)archive_filter_bytes(r->a, 0) != r->expect_pos + 3 * TAR_BLOCK || name == NULL ||
	    !archive_entry_size_is_set(r->entry) || archive_entry_size(r->entry) < 0)
		return 0;
	size = (uint64_t)archive_entry_size(r->entry);
	if (size <= TAR_USTAR_SIZE_MAX || (size_t)snprintf(want_name, sizeof(want_name), "%s%s", TAR_PAX_PREFIX, name) >= 100)
		return 0;
	len = tar_pax_size_record(size, record);
	for (size_t i = strlen(want_name); i < 100; i++)
		if (x[i] != 0)
			return 0;
	if (memcmp(x, want_name, strlen(want_name)) != 0 || x[156] != 'x' || memcmp(x + 257, "ustar\0" "00", 8) != 0 ||
	    !octal_field_is(x + 124, 12, len) || memcmp(data, record, len) != 0)
		return 0;
	for (size_t i = len; i < TAR_BLOCK; i++)
		if (data[i] != 0)
			return 0;
	return octal_field_is(h + 124, 12, 0);
}

/* Advance to the next header; 1 at the end of the archive, 0 on a header, -1 on error. */
static int next_entry(struct reader *r, struct fw_err *err)
{
	int rc;

	if (r->at_eof)
		return 1;
	/*
	 * Arm the raw header capture for the next header. Its first bytes may
	 * be in the last block read already (never further back: libarchive
	 * reads only as far as it must). The first header is armed from the
	 * start, since format detection reads it before any next_header call.
	 */
	if (r->src.hdr_pos != r->expect_pos) {
		memset(r->src.hdr, 0, sizeof(r->src.hdr));
		r->src.hdr_pos = r->expect_pos;
		capture_header(&r->src, r->src.buf, r->src.last_len, r->src.total - r->src.last_len);
	}
	rc = archive_read_next_header(r->a, &r->entry);
	if (rc == ARCHIVE_EOF) {
		r->at_eof = 1;
		/* Exactly the two zero blocks right after the last entry: no hidden
		 * record (a pax global header, say) before them, none missing. */
		if ((uint64_t)archive_filter_bytes(r->a, 0) != r->expect_pos + 2 * TAR_BLOCK)
			return fw_err_set(err, FW_EXIT_REJECTED,
					  "end-of-archive marker missing, short, or preceded by hidden tar records");
		return 1;
	}
	if (rc != ARCHIVE_OK)
		return archive_failure(r, "reading the next entry", err);
	/*
	 * libarchive folds extension records (GNU long names, volume labels,
	 * pax headers) into the entry it returns; they show as a header that
	 * starts early or spans more than one block. The one exception is the
	 * pax size record fwpkg writes for an entry over 8 GiB - 1, exactly as
	 * it writes it (three blocks); anything else is refused.
	 */
	r->pax = 0;
	r->entry_pos = r->expect_pos;
	if ((uint64_t)archive_read_header_position(r->a) != r->expect_pos ||
	    ((uint64_t)archive_filter_bytes(r->a, 0) != r->expect_pos + TAR_BLOCK &&
	     !(r->pax = pax_size_record_ok(r)))) {
		char shown[256];
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "entry \"%s\": extension records (pax, GNU long name, volume label) are not allowed",
				  fw_escape(archive_entry_pathname(r->entry) ? archive_entry_pathname(r->entry) : "",
					    shown, sizeof(shown)));
	}
	r->pax_seen |= r->pax;
	if (archive_entry_size_is_set(r->entry) && archive_entry_size(r->entry) >= 0)
		r->expect_pos += (r->pax ? 3 : 1) * TAR_BLOCK +
				 (((uint64_t)archive_entry_size(r->entry) + TAR_BLOCK - 1) & ~(uint64_t)(TAR_BLOCK - 1));
	return 0;
}

/* Every entry must be a plain ustar regular file with a plain name. */
static int check_entry(struct reader *r, struct fw_err *err)
{
	struct archive_entry *e = r->entry;
	const char *name = archive_entry_pathname(e);
	char shown[256];
	int format = archive_format(r->a);
	const uint8_t *ustar = r->src.hdr + (r->pax ? 2 * TAR_BLOCK : 0);   /* the entry's own header */

	if (name == NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "entry without a name");
	fw_escape(name, shown, sizeof(shown));
	/* next_entry checked a pax size record byte for byte; no other pax is let through.
	 * libarchive keeps saying pax for every ustar header after the first pax
	 * header it read; next_entry found no record folded into this one. */
	if ((r->pax || r->pax_seen) && format == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE)
		format = ARCHIVE_FORMAT_TAR_USTAR;
	if (format == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "entry \"%s\": pax extended or global headers are not allowed", shown);
	if (format == ARCHIVE_FORMAT_TAR_GNUTAR)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "entry \"%s\": GNU tar extensions (long names, sparse files) are not allowed",
				  shown);
	if (format != ARCHIVE_FORMAT_TAR_USTAR)
		return fw_err_set(err, FW_EXIT_REJECTED, "entry \"%s\": not a ustar header", shown);
	if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != NULL ||
	    archive_entry_symlink(e) != NULL)
		return fw_err_set(err, FW_EXIT_REJECTED, "entry \"%s\": not a regular file", shown);
	if (archive_entry_sparse_count(e) > 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "entry \"%s\": sparse files are not allowed", shown);
	/* As fwpkg writes them: POSIX ustar magic and version, typeflag '0'
	 * (libarchive reads some other typeflags, e.g. 'S', as regular files). */
	if (memcmp(ustar + 257, "ustar\0" "00", 8) != 0 || ustar[156] != '0')
		return fw_err_set(err, FW_EXIT_REJECTED, "entry \"%s\": not a plain ustar regular file (typeflag '%c')",
				  shown, ustar[156] >= 0x20 && ustar[156] < 0x7f ? ustar[156] : '?');
	/* The writer's rule, so every package mkpkg builds reads back. */
	if (!fw_entry_name_valid(name))
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "entry \"%s\": unsafe name (only 1 to %d of A-Z a-z 0-9 . _ + -, not starting with '.')",
				  shown, FW_NAME_MAX);
	if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "entry \"%s\": no size", shown);
	return 0;
}

/* Read the whole (small, capped) current entry into a new NUL-terminated buffer. */
static int read_small(struct reader *r, size_t cap, char **out, size_t *len, struct fw_err *err)
{
	const char *name = archive_entry_pathname(r->entry);
	int64_t size = archive_entry_size(r->entry);
	char *buf;
	size_t got = 0;

	if (size > (int64_t)cap)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: %lld bytes, more than the limit of %zu",
				  name, (long long)size, cap);
	buf = malloc((size_t)size + 1);
	if (buf == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	while (got < (size_t)size) {
		la_ssize_t n = archive_read_data(r->a, buf + got, (size_t)size - got);
		if (n <= 0) {
			free(buf);
			return n < 0 ? archive_failure(r, name, err)
				     : fw_err_set(err, FW_EXIT_REJECTED, "%s: truncated", name);
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static int has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), p = strlen(PKG_SIG_PREFIX), s = strlen(suffix);

	return n > p + s && strncmp(name, PKG_SIG_PREFIX, p) == 0 && strcmp(name + n - s, suffix) == 0;
}

static int sig_entry_name(const char *name)
{
	return has_suffix(name, PKG_SIG_SUFFIX) || has_suffix(name, PKG_CMS_SUFFIX);
}

/* A minisign entry: parse, name check, verify with the trusted key of its id. */
static int minisign_entry(struct reader *r, const char *name, struct pkg_sig_info *si, size_t i,
			  struct fw_err *err)
{
	struct pkg_report *rep = r->rep;
	struct sig_signature sig;
	char expect[64];

	si->kind = SIG_KIND_MINISIGN;
	if (sig_signature_parse(rep->sig_texts[i], rep->sig_lens[i], &sig, err) < 0)
		return fw_err_wrap(err, "%s", name);
	sig_keyid_str(sig.keyid, si->keyid);
	snprintf(si->trusted_comment, sizeof(si->trusted_comment), "%s", sig.trusted_comment);
	snprintf(expect, sizeof(expect), "%s%s%s", PKG_SIG_PREFIX, si->keyid, PKG_SIG_SUFFIX);
	if (strcmp(name, expect) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: holds a signature by key %s", name, si->keyid);
	if (r->opts->trust != NULL) {
		const struct sig_pubkey *key = sig_trust_find(r->opts->trust, sig.keyid);
		struct fw_err why = { 0 };

		if (key == NULL) {
			si->status = PKG_SIG_UNKNOWN_KEY;
		} else if (sig_verify(key, &sig, rep->manifest_bytes, rep->manifest_len, &why) < 0) {
			si->status = PKG_SIG_INVALID;
			/* A trusted key's signature that fails means tampering: no second chances. */
			return fw_err_set(err, FW_EXIT_REJECTED, "signature by trusted key %s: %s", si->keyid,
					  why.msg);
		} else if (sig_ed25519_fpr(key->pk, si->key_fpr) < 0) {
			return fw_err_set(err, FW_EXIT_IO, "cannot hash key %s", si->keyid);
		} else {
			si->status = PKG_SIG_VALID;
		}
	}
	return 0;
}

/* A CMS entry: parse, name check, verify against the trusted CAs. */
static int cms_entry(struct reader *r, const char *name, struct pkg_sig_info *si, size_t i,
		     struct fw_err *err)
{
	struct pkg_report *rep = r->rep;
	struct fw_err why = { 0 };
	char expect[64];
	int rc;

	si->kind = SIG_KIND_CMS;
	if (sig_cms_parse(rep->sig_texts[i], rep->sig_lens[i], &si->cms, err) < 0)
		return fw_err_wrap(err, "%s", name);
	memcpy(si->keyid, si->cms.id, sizeof(si->keyid));
	snprintf(expect, sizeof(expect), "%s%s%s", PKG_SIG_PREFIX, si->keyid, PKG_CMS_SUFFIX);
	if (strcmp(name, expect) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: holds a signature by certificate %s", name,
				  si->keyid);
	if (r->opts->trust == NULL)
		return 0;
	rc = sig_cms_verify(rep->sig_texts[i], rep->sig_lens[i], rep->manifest_bytes, rep->manifest_len,
			    r->opts->trust, &si->cms, &why);
	if (rc == SIG_CMS_UNTRUSTED) {
		si->status = PKG_SIG_UNKNOWN_KEY;
		return 0;
	}
	if (rc != SIG_CMS_VALID) {
		si->status = PKG_SIG_INVALID;
		/* Under a trusted CA, a bad chain or a bad signature is refused, as a trusted key's is. */
		if (why.code == FW_EXIT_IO)
			return fw_err_set(err, FW_EXIT_IO, "%s: %s", name, why.msg);
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: %s", name, why.msg);
	}
	memcpy(si->key_fpr, si->cms.key_fpr, SIG_FPR_LEN);
	si->status = PKG_SIG_VALID;
	return 0;
}

/* Count the valid signatures and the distinct keys behind them. */
static void count_valid(struct pkg_report *rep)
{
	rep->valid_sigs = rep->valid_keys = 0;
	for (size_t i = 0; i < rep->n_sigs; i++) {
		int seen = 0;

		if (rep->sigs[i].status != PKG_SIG_VALID)
			continue;
		rep->valid_sigs++;
		for (size_t j = 0; j < i; j++)
			seen |= rep->sigs[j].status == PKG_SIG_VALID &&
				memcmp(rep->sigs[j].key_fpr, rep->sigs[i].key_fpr, SIG_FPR_LEN) == 0;
		if (!seen)
			rep->valid_keys++;
	}
}

/*
 * Why too few signatures counted, for the refusal: who signed, whom we trust
 * (everything a support engineer needs to see the mismatch), and why a CMS
 * signer's chain reached no trusted CA.
 */
static int too_few(const struct pkg_report *rep, const struct sig_trust *t, unsigned need, struct fw_err *err)
{
	char signers[PKG_MAX_SIGNATURES * 30 + 1] = "", trusted[200], why[300] = "";
	size_t o = 0, n;

	for (size_t i = 0; i < rep->n_sigs && o < sizeof(signers); i++)
		o += (size_t)snprintf(signers + o, sizeof(signers) - o, "%s%s%s", i ? ", " : "",
				      rep->sigs[i].kind == SIG_KIND_CMS ? "certificate " : "", rep->sigs[i].keyid);
	sig_trust_ids(t, trusted, sizeof(trusted));
	if (t->n_cas > 0) {
		n = strlen(trusted);
		if (t->n == 0)
			n = 0;   /* no keys: not "none, 1 CA certificate" */
		snprintf(trusted + n, sizeof(trusted) - n, "%s%zu CA certificate%s", n ? ", " : "", t->n_cas,
			 t->n_cas == 1 ? "" : "s");
	}
	for (size_t i = 0; i < rep->n_sigs && why[0] == '\0'; i++)
		if (rep->sigs[i].kind == SIG_KIND_CMS && rep->sigs[i].status == PKG_SIG_UNKNOWN_KEY)
			snprintf(why, sizeof(why), "; %s", rep->sigs[i].cms.chain);
	if (rep->valid_keys == 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "no signature by a trusted key (signed by %s; trusted: %s%s)",
				  signers, trusted, why);
	/* Counted by key: the same key under two certificates, or listed twice, is one. */
	return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
			  "too few signatures by trusted keys: have %u, need %u (signed by %s; trusted: %s%s)",
			  rep->valid_keys, need, signers, trusted, why);
}

/* manifest.json, then its signatures; leaves r->entry at the first entry after them. */
static int read_manifest_and_signatures(struct reader *r, struct fw_err *err)
{
	struct pkg_report *rep = r->rep;
	int rc;

	rc = next_entry(r, err);
	if (rc < 0 && err->code == FW_EXIT_REJECTED)
		return fw_err_wrap(err, "not a fwpkg package");   /* no package starts so (a POSIX tar's pax header) */
	if (rc != 0)
		return rc < 0 ? -1 : fw_err_set(err, FW_EXIT_REJECTED, "empty archive: no manifest.json");
	/* A tar without manifest.json first is some other archive (a plain GNU tar, say), not a damaged package. */
	if (archive_entry_pathname(r->entry) == NULL || strcmp(archive_entry_pathname(r->entry), PKG_MANIFEST_NAME) != 0) {
		char shown[256], why[400];

		snprintf(why, sizeof(why), "a tar archive whose first entry is \"%s\", not manifest.json",
			 fw_escape(archive_entry_pathname(r->entry) ? archive_entry_pathname(r->entry) : "", shown,
				   sizeof(shown)));
		return not_a_package(r, why, err);
	}
	/* GNU tar's default format, e.g. an extracted package packed again with tar -cf. */
	if (archive_format(r->a) == ARCHIVE_FORMAT_TAR_GNUTAR)
		return not_a_package(r, "a GNU tar archive (a package is POSIX ustar, as mkpkg writes it)", err);
	if (check_entry(r, err) < 0)
		return -1;
	if (read_small(r, FW_MANIFEST_MAX, &rep->manifest_bytes, &rep->manifest_len, err) < 0)
		return -1;

	for (;;) {
		const char *name;
		size_t i = rep->n_sigs;
		struct pkg_sig_info *si = &rep->sigs[i];
		int cms;

		rc = next_entry(r, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			break;
		if (check_entry(r, err) < 0)
			return -1;
		name = archive_entry_pathname(r->entry);
		if (strcmp(name, PKG_MANIFEST_NAME) == 0)
			return fw_err_set(err, FW_EXIT_REJECTED, "entry manifest.json duplicated");
		if (!sig_entry_name(name))
			break;
		if (i == PKG_MAX_SIGNATURES)
			return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "more than %d signatures",
					   PKG_MAX_SIGNATURES);
		/* Sorted by name: one signature per key or certificate, in a predictable order. */
		if (strlen(name) >= sizeof(si->name))
			return fw_err_set(err, FW_EXIT_REJECTED, "%s: not a signature entry name", name);
		if (i > 0 && strcmp(rep->sigs[i - 1].name, name) >= 0)
			return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "%s: signatures duplicated or out of order",
					   name);
		memset(si, 0, sizeof(*si));
		snprintf(si->name, sizeof(si->name), "%s", name);
		si->status = PKG_SIG_UNCHECKED;
		cms = has_suffix(name, PKG_CMS_SUFFIX);
		if (read_small(r, cms ? SIG_CMS_MAX : SIG_FILE_MAX, &rep->sig_texts[i], &rep->sig_lens[i], err) < 0)
			return -1;
		rep->n_sigs++;
		if ((cms ? cms_entry(r, name, si, i, err) : minisign_entry(r, name, si, i, err)) < 0) {
			if (err->code != FW_EXIT_IO)
				err->kind = FW_KIND_SIGNATURE;
			return -1;
		}
	}
	if (r->at_eof == 0)
		rep->first_payload_offset = r->entry_pos;
	count_valid(rep);

	if (r->opts->trust != NULL && !(r->opts->signatures_optional && rep->valid_sigs == 0)) {
		uint8_t fprs[PKG_MAX_SIGNATURES][SIG_FPR_LEN];
		size_t n = 0;
		unsigned have;

		if (rep->n_sigs == 0)
			return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "unsigned package: no signature entries");
		for (size_t i = 0; i < rep->n_sigs; i++)
			if (rep->sigs[i].status == PKG_SIG_VALID)
				memcpy(fprs[n++], rep->sigs[i].key_fpr, SIG_FPR_LEN);
		/* The one trust decision: the caller's setting or the trust store's policy, whichever asks more. */
		if (sig_trust_decide(r->opts->trust, r->opts->min_signatures, (const uint8_t (*)[SIG_FPR_LEN])fprs, n,
				     &have, err) < 0)
			return too_few(rep, r->opts->trust, sig_trust_need(r->opts->trust, r->opts->min_signatures), err);
	}
	return 0;
}

/* Why the entry in hand is not `expect`: unlisted, duplicate, out of order. */
static int wrong_entry(struct reader *r, const char *expect, struct fw_err *err)
{
	const char *name = archive_entry_pathname(r->entry);
	char shown[256];
	int listed = 0;

	fw_escape(name, shown, sizeof(shown));
	for (size_t i = 0; i < r->m->n_payloads; i++) {
		const char *p = r->m->payloads[i].name;
		size_t n = strlen(p);
		if (strcmp(name, p) == 0 ||
		    (strncmp(name, p, n) == 0 && strcmp(name + n, FW_CHUNKS_SUFFIX) == 0))
			listed = 1;
	}
	listed |= r->m->sbom.present && strcmp(name, FW_SBOM_ENTRY) == 0;
	if (strcmp(name, PKG_MANIFEST_NAME) == 0 || sig_entry_name(name))
		return fw_err_set(err, FW_EXIT_REJECTED, "entry \"%s\" out of place (expected %s)", shown, expect);
	if (!listed)
		return fw_err_set(err, FW_EXIT_REJECTED, "unlisted entry \"%s\" (expected %s)", shown, expect);
	return fw_err_set(err, FW_EXIT_REJECTED, "entry \"%s\" duplicated or out of order (expected %s)",
			  shown, expect);
}

/* Position on the entry named `name` of `size` bytes, the next one in the stream. */
static int expect_entry(struct reader *r, const char *name, uint64_t size, struct fw_err *err)
{
	int rc = r->entry == NULL ? next_entry(r, err) : 0;

	if (rc < 0)
		return -1;
	if (rc == 1)
		return fw_err_set(err, FW_EXIT_REJECTED, "missing entry %s (archive ends early)", name);
	if (check_entry(r, err) < 0)
		return -1;
	if (strcmp(archive_entry_pathname(r->entry), name) != 0)
		return wrong_entry(r, name, err);
	if ((uint64_t)archive_entry_size(r->entry) != size)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: %lld bytes, but the manifest says %llu",
				  name, (long long)archive_entry_size(r->entry), (unsigned long long)size);
	return 0;
}

static int deliver(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct reader *r = ctx;

	return r->ops->payload_data(r->ctx, buf, len, err);
}

/* How messages name a payload: its entry name, and a modification file's path too. */
static const char *payload_label(const struct fw_manifest *m, size_t index, char *buf, size_t n)
{
	char shown[2 * FW_MOD_PATH_MAX];

	if (m->type == FW_TYPE_MODIFICATION && index < m->n_files)
		snprintf(buf, n, "payload %s (file %s)", m->payloads[index].name,
			 fw_escape(m->files[index].path, shown, sizeof(shown)));
	else
		snprintf(buf, n, "payload %s", m->payloads[index].name);
	return buf;
}

/*
 * The plain SHA-256 of a payload, once every chunk verified (so the raw bytes
 * hashed are the verified ones): into the report, and checked against the
 * manifest where it declares one.
 */
static int finish_whole_sha256(struct reader *r, size_t index, struct fw_err *err)
{
	uint8_t *md = r->rep->payload_sha256[index];
	char label[512];

	fw_sha256_final(&r->whole, md);
	if (r->m->payloads[index].has_sha256 && !r->opts->chunks_only && memcmp(md, r->m->payloads[index].sha256, FW_DIGEST_LEN) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s: SHA-256 mismatch",
				  payload_label(r->m, index, label, sizeof(label)));
	r->rep->has_payload_sha256[index] = 1;
	return 0;
}

/* Where the current entry's bytes start in the file. */
static uint64_t payload_at(const struct reader *r)
{
	return r->src.base + r->entry_pos + (r->pax ? 3 : 1) * TAR_BLOCK;
}

/*
 * Whether the current payload is read by position, by the hashing workers
 * in parallel, rather than through the stream: from a regular file that
 * holds all of it and its padding (a shorter one takes the stream, which
 * reports the truncation as such, in the words it uses from a pipe), with a
 * pipe that has workers.
 */
static int by_position(const struct reader *r, const struct fw_payload *p)
{
	struct stat st;

	return r->src.seekable && chunk_pipe_workers(r->pipe) > 0 && p->size > 0 &&
	       fstat(r->src.fd, &st) == 0 &&
	       (uint64_t)st.st_size >= payload_at(r) + ((p->size + TAR_BLOCK - 1) & ~(uint64_t)(TAR_BLOCK - 1));
}

/*
 * After a payload hashed while collecting (opts.all_bad_chunks): its damaged
 * chunks into the report, with their image bytes and their place in the
 * package (its bytes start at `at`). 1 if it had any.
 */
static int note_bad_chunks(struct reader *r, size_t index, uint64_t at)
{
	const struct fw_payload *p = &r->m->payloads[index];
	struct pkg_report *rep = r->rep;
	const uint64_t *first;
	size_t n_first;
	uint64_t total;

	if (!r->opts->all_bad_chunks || (total = chunk_pipe_bad_chunks(r->pipe, &first, &n_first)) == 0)
		return 0;
	for (size_t i = 0; i < n_first && rep->n_bad < PKG_MAX_BAD_CHUNKS; i++) {
		struct pkg_bad_chunk *b = &rep->bad[rep->n_bad++];
		uint64_t start = first[i] * p->chunk_size;

		b->payload = index;
		snprintf(b->name, sizeof(b->name), "%s", p->name);
		b->chunk = first[i];
		b->first = start;
		b->last = (p->size - start < p->chunk_size ? p->size : start + p->chunk_size) - 1;
		b->offset = at + start;
	}
	rep->bad_total += total;
	return 1;
}

/* Decoded bytes of a compressed payload: into the image's chunk pipe, which verifies them against the image's own list. */
static int decoded(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct reader *r = ctx;

	if (r->whole_on)
		fw_sha256_update(&r->whole, buf, len);
	return chunk_pipe_feed(r->pipe, buf, len, err);
}

int pkg_delta_base_check(int fd, const struct fw_delta *b, unsigned threads, struct fw_err *err)
{
	uint64_t n = b->size ? (b->size - 1) / b->chunk_size + 1 : 0;
	uint8_t *list = NULL, md[FW_DIGEST_LEN];
	struct stat st;
	int rc = -1;

	if (fstat(fd, &st) < 0)
		return fw_err_set(err, FW_EXIT_IO, "cannot read the base: %s", strerror(errno));
	/* A block device's size is not st_size: a short read tells there. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < b->size)
		return fw_err_setk(err, FW_KIND_MISMATCH, FW_EXIT_REJECTED, "the base holds %llu bytes, not the %llu of the delta's base",
				   (unsigned long long)st.st_size, (unsigned long long)b->size);
	if (n > PKG_MAX_CHUNKS)
		return fw_err_set(err, FW_EXIT_REJECTED, "the delta's base has more than %u chunks", PKG_MAX_CHUNKS);
	if ((list = malloc(n ? n * FW_DIGEST_LEN : 1)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (chunk_hash_fd(fd, b->size, b->chunk_size, threads, list, NULL, NULL, NULL, err) < 0) {
		fw_err_wrap(err, "the base");
		goto out;
	}
	if (chunk_sha256(list, (size_t)n * FW_DIGEST_LEN, md) < 0) {
		fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
		goto out;
	}
	if (memcmp(md, b->digest, FW_DIGEST_LEN) != 0) {
		char want[2 * FW_DIGEST_LEN + 1];

		fw_hex(b->digest, FW_DIGEST_LEN, want);
		fw_err_setk(err, FW_KIND_MISMATCH, FW_EXIT_REJECTED, "the base is not the delta's base image %.16s...", want);
		goto out;
	}
	rc = 0;
out:
	free(list);
	return rc;
}

uint64_t pkg_report_frame_at(const struct pkg_report *rep, uint64_t k)
{
	return rep->frame_at != NULL && k < rep->n_frame_at ? __atomic_load_n(&rep->frame_at[k], __ATOMIC_ACQUIRE)
							     : UINT64_MAX;
}

/* An image's first len bytes from fd (offset 0) into the pipe as decoded ones; what names fd in errors. */
static int feed_image_fd(struct reader *r, int fd, uint64_t len, const char *what, struct fw_err *err)
{
	uint8_t buf[64 * 1024];
	uint64_t at = 0;

	while (at < len) {
		ssize_t n = pread(fd, buf, len - at < sizeof(buf) ? (size_t)(len - at) : sizeof(buf), (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fw_err_set(err, n < 0 ? FW_EXIT_IO : FW_EXIT_REJECTED, "%s: %s", what,
					  n < 0 ? strerror(errno) : "truncated");
		if (decoded(r, buf, (size_t)n, err) < 0)
			return -1;
		at += (uint64_t)n;
	}
	return 0;
}

/* The target image of a delta, already whole elsewhere (PKG_DELTA_TARGET): its chunks from fd into the pipe. */
static int feed_target(struct reader *r, const struct fw_payload *p, int fd, struct fw_err *err)
{
	if (chunk_pipe_workers(r->pipe) > 0)
		return chunk_pipe_feed_fd(r->pipe, fd, 0, err);
	return feed_image_fd(r, fd, p->size, "the image it copies", err);
}

/*
 * A compressed image the caller continues at a frame (pkg_reader_ops.resume_at):
 * its bytes before the frame from the caller's fd, checked against the image's
 * chunk list as they go into the pipe; the decoder starts at the frame, on the
 * first piece it needs, checked whole.
 */
static int resume_frames(struct reader *r, const struct fw_payload *p, size_t index, struct zstd_read *z,
			 struct fw_err *err)
{
	struct pkg_resume_at at = { .fd = -1 };
	uint64_t fs = p->zstd.frame_size;
	int c = r->ops->resume_at(r->ctx, r->m, index, &at, err);

	if (c <= 0)
		return c;
	if (at.image > p->size || (at.image % fs != 0 && at.image != p->size))
		return fw_err_set(err, FW_EXIT_USAGE, "continuing at image byte %llu: not where a frame begins",
				  (unsigned long long)at.image);
	if (zstd_read_start(z, (at.image + fs - 1) / fs, at.zoffset, err) < 0)
		return -1;
	return feed_image_fd(r, at.fd, at.image, "the image bytes it continues after", err);
}

/* Pass over the current payload's bytes unread. */
static int pass_over(struct reader *r, const struct fw_payload *p, struct fw_err *err)
{
	if (archive_read_data_skip(r->a) != ARCHIVE_OK) {
		archive_failure(r, p->name, err);
		return -1;
	}
	return 0;
}

/*
 * A compressed payload (formats/pkg.md, "Compressed payloads"), in the one
 * pass: each compressed piece is checked against the compressed chunk list
 * before the decoder sees it (zstd_read), and each decoded chunk against the
 * image's own chunk list before it is handed on, through the same pipe and
 * sink as an uncompressed payload. So every consumer (verify, extract, a
 * device) gets the image's verified chunks as if it had travelled whole.
 * list holds both lists, the image's first.
 * A delta (section 10) rebuilds its image from the base the caller's
 * delta_source gives, checked whole first, or copies it from where it is
 * already whole (its compressed bytes passed over), or (no base) only
 * verifies the compressed bytes.
 */
static int read_compressed(struct reader *r, size_t index, const uint8_t *list, int want, const char *label,
			   struct fw_err *err)
{
	const struct fw_payload *p = &r->m->payloads[index];
	int forward = want == 1 && r->ops->payload_data != NULL;
	struct zstd_read *z = NULL;
	const void *block;
	size_t len;
	la_int64_t offset;
	uint64_t verified = 0;
	int ar, begun = 0, rc = -1, src = r->dsrc, fd = r->dfd;
	void *map = r->dmap;

	if (p->zstd.base.on && src == PKG_DELTA_NONE && forward) {
		char hex[2 * FW_DIGEST_LEN + 1];

		fw_hex(p->zstd.base.digest, FW_DIGEST_LEN, hex);
		fw_err_set(err, FW_EXIT_USAGE, "a delta against base image %.16s... (%llu bytes): "
			   "its image cannot be rebuilt without that base", hex, (unsigned long long)p->zstd.base.size);
		goto failed;
	}
	r->whole_on = (p->has_sha256 && !r->opts->chunks_only) || (r->opts->payload_sha256 && want == 1);
	if (r->whole_on)
		fw_sha256_init(&r->whole);
	/* A bad compressed piece stops the decoder: there is nothing to collect beyond it. */
	chunk_pipe_collect_bad(r->pipe, 0);
	if ((z = zstd_read_new(p, list + fw_payload_chunks(p) * FW_DIGEST_LEN, decoded, r, err)) == NULL)
		goto out;
	/* Where each frame begins, for a caller that may continue the image after a cut (pkg_report_frame_at);
	 * a delta's too (its frames are as independent, each with its own prefix of the base). An image copied
	 * whole from elsewhere decodes no frame: its table stays empty, and names no point to continue at. */
	if (forward) {
		uint64_t n = fw_payload_frames(p) + 1;

		free(r->rep->frame_at);
		r->rep->n_frame_at = 0;
		if ((r->rep->frame_at = malloc(n * sizeof(uint64_t))) == NULL) {
			fw_err_set(err, FW_EXIT_IO, "out of memory");
			goto out;
		}
		memset(r->rep->frame_at, 0xff, n * sizeof(uint64_t));
		r->rep->n_frame_at = n;
		zstd_read_frame_table(z, r->rep->frame_at);
	}
	if (src == PKG_DELTA_NONE && p->zstd.base.on) {
		/* Every compressed byte checked against the signed list; the image itself is not rebuilt. */
		zstd_read_verify_only(z);
		r->rep->not_rebuilt[index] = 1;
		r->whole_on = 0;
	} else {
		if (chunk_pipe_begin(r->pipe, p->size, p->chunk_size, list, forward ? deliver : NULL, r, err) < 0)
			goto out;
		begun = 1;
	}
	if (src == PKG_DELTA_BASE && zstd_read_base(z, map == MAP_FAILED ? (const uint8_t *)"" : map, err) < 0)
		goto out;
	if (src == PKG_DELTA_TARGET) {
		/* The image is whole elsewhere: copied from there, each chunk checked against the image's own list.
		 * The package's bytes of it are of no use then: passed over unread, so a network source need not
		 * fetch them (`upgrade all` writing pri from the sec it just rebuilt downloads nothing for pri). */
		if (feed_target(r, p, fd, err) < 0)
			goto failed;
		if (pass_over(r, p, err) < 0)
			goto out;
		begun = 0;
		rc = chunk_pipe_end(r->pipe, err) < 0 ? -1 : 0;
		if (rc < 0)
			goto failed;
		if (r->whole_on && finish_whole_sha256(r, index, err) < 0)
			rc = -1;
		goto out;
	}
	/* A delta continues at a frame as any compressed image, once its base checked out (delta_begin). */
	if ((!p->zstd.base.on || src == PKG_DELTA_BASE) && r->ops->resume_at != NULL && resume_frames(r, p, index, z, err) < 0)
		goto failed;
	while ((ar = archive_read_data_block(r->a, &block, &len, &offset)) == ARCHIVE_OK) {
		if (zstd_read_feed(z, block, len, err) < 0)
			goto failed;
		if (r->opts->chunks_verified != NULL && chunk_pipe_verified(r->pipe) > verified) {
			uint64_t now = chunk_pipe_verified(r->pipe), bytes = (now - verified) * p->chunk_size;

			if (now * p->chunk_size > p->size)
				bytes -= now * p->chunk_size - p->size;
			verified = now;
			if (r->opts->chunks_verified(r->ctx, bytes, err) < 0)
				goto out;
		}
	}
	if (ar != ARCHIVE_EOF) {
		archive_failure(r, p->name, err);
		goto out;
	}
	if (zstd_read_end(z, err) < 0)
		goto failed;
	begun = 0;
	if (!(src == PKG_DELTA_NONE && p->zstd.base.on) && chunk_pipe_end(r->pipe, err) < 0)
		goto failed;
	if (r->whole_on && finish_whole_sha256(r, index, err) < 0)
		goto out;
	rc = 0;
	goto out;
failed:
	fw_err_wrap(err, "%s", label);
out:
	if (rc < 0 && begun)
		chunk_pipe_abort(r->pipe);
	r->whole_on = 0;
	zstd_read_free(z);
	return rc;
}

/*
 * Before payload_begin: a delta payload's source, from the caller; a base is
 * checked whole against its digest and mapped here, so a wrong one is
 * refused before the caller does anything for the payload.
 */
static int delta_begin(struct reader *r, size_t index, const char *label, struct fw_err *err)
{
	const struct fw_payload *p = &r->m->payloads[index];
	unsigned threads = chunk_pipe_workers(r->pipe);

	r->dsrc = PKG_DELTA_NONE;
	r->dfd = -1;
	r->dmap = MAP_FAILED;
	if (!p->zstd.on || !p->zstd.base.on || r->ops->delta_source == NULL)
		return 0;
	if ((r->dsrc = r->ops->delta_source(r->ctx, r->m, index, &r->dfd, err)) < 0)
		return fw_err_wrap(err, "%s", label);
	if (r->dsrc != PKG_DELTA_BASE)
		return 0;
	if (pkg_delta_base_check(r->dfd, &p->zstd.base, threads ? threads : 1, err) < 0) {
		const char *base = r->ops->delta_name != NULL ? r->ops->delta_name(r->ctx, index) : NULL;

		return base != NULL ? fw_err_wrap(err, "%s: %s", label, base) : fw_err_wrap(err, "%s", label);
	}
	if (p->zstd.base.size > 0 &&
	    (r->dmap = mmap(NULL, (size_t)p->zstd.base.size, PROT_READ, MAP_SHARED, r->dfd, 0)) == MAP_FAILED)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot map the base: %s", label, strerror(errno));
	return 0;
}

static void delta_end(struct reader *r, size_t index)
{
	if (r->dmap != MAP_FAILED)
		munmap(r->dmap, (size_t)r->m->payloads[index].zstd.base.size);
	r->dmap = MAP_FAILED;
	r->dsrc = PKG_DELTA_NONE;
	r->dfd = -1;
}

static int read_payload(struct reader *r, size_t index, struct fw_err *err)
{
	const struct fw_payload *p = &r->m->payloads[index];
	uint64_t nchunks = fw_payload_chunks(p);
	char list_name[FW_NAME_MAX + sizeof(FW_CHUNKS_SUFFIX)];
	char label[512];
	char *list = NULL;
	size_t list_len = 0;
	uint8_t digest[FW_DIGEST_LEN];
	uint64_t at = 0;
	int want = 0, rc = -1;

	snprintf(list_name, sizeof(list_name), "%s%s", p->name, FW_CHUNKS_SUFFIX);
	payload_label(r->m, index, label, sizeof(label));
	if (nchunks > PKG_MAX_CHUNKS || fw_payload_zchunks(p) > PKG_MAX_CHUNKS) {
		fw_err_set(err, FW_EXIT_REJECTED, "%s: %llu chunks, more than the limit of %u",
			   label, (unsigned long long)(nchunks > PKG_MAX_CHUNKS ? nchunks : fw_payload_zchunks(p)),
			   PKG_MAX_CHUNKS);
		goto out;
	}
	/* A compressed payload's list: the image's chunks, then the compressed pieces'. */
	if (expect_entry(r, list_name, fw_payload_list_size(p), err) < 0 ||
	    read_small(r, (size_t)fw_payload_list_size(p), &list, &list_len, err) < 0)
		goto out;
	if (chunk_sha256(list, (size_t)nchunks * FW_DIGEST_LEN, digest) < 0 || memcmp(digest, p->digest, sizeof(digest)) != 0 ||
	    (p->zstd.on && (chunk_sha256(list + nchunks * FW_DIGEST_LEN, list_len - (size_t)nchunks * FW_DIGEST_LEN, digest) < 0 ||
			    memcmp(digest, p->zstd.digest, sizeof(digest)) != 0))) {
		fw_err_set(err, FW_EXIT_REJECTED, "%s: chunk list does not match the signed manifest", label);
		goto out;
	}
	r->entry = NULL;
	if (expect_entry(r, p->name, fw_payload_entry_size(p), err) < 0)
		goto out;

	r->rep->chunk_list = (const uint8_t *)list;
	r->rep->chunk_list_len = (size_t)nchunks * FW_DIGEST_LEN;
	at = payload_at(r);
	if (delta_begin(r, index, label, err) < 0)
		goto out;
	if (r->ops->payload_begin != NULL && (want = r->ops->payload_begin(r->ctx, r->m, index, err)) < 0)
		goto out;
	if (p->zstd.on && want != 2) {
		if (read_compressed(r, index, (const uint8_t *)list, want, label, err) < 0)
			goto out;
	} else if (want == 2) {
		if (pass_over(r, p, err) < 0)
			goto out;
	} else {
		const void *block;
		size_t len;
		la_int64_t offset;
		int ar;
		uint64_t verified = 0;

		int forward = want == 1 && r->ops->payload_data != NULL;
		/* On this thread, as the bytes pass: the hashing threads have the
		 * chunks, the delivery thread the writing. */
		int whole = (p->has_sha256 && !r->opts->chunks_only) || (r->opts->payload_sha256 && want == 1);

		if (whole)
			fw_sha256_init(&r->whole);
		chunk_pipe_collect_bad(r->pipe, r->opts->all_bad_chunks && !forward);
		if (chunk_pipe_begin(r->pipe, p->size, p->chunk_size, (const uint8_t *)list,
				     forward ? deliver : NULL, r, err) < 0)
			goto out;
		if (!whole && r->opts->chunks_verified == NULL && by_position(r, p)) {
			if (chunk_pipe_feed_fd(r->pipe, r->src.fd, payload_at(r), err) < 0 ||
			    chunk_pipe_end(r->pipe, err) < 0) {
				chunk_pipe_abort(r->pipe);
				fw_err_wrap(err, "%s", label);
				goto out;
			}
			if (archive_read_data_skip(r->a) != ARCHIVE_OK) {
				archive_failure(r, p->name, err);
				goto out;
			}
			if (note_bad_chunks(r, index, at))
				goto bad;
			goto payload_done;
		}
		while ((ar = archive_read_data_block(r->a, &block, &len, &offset)) == ARCHIVE_OK) {
			if (whole)
				fw_sha256_update(&r->whole, block, len);
			if (chunk_pipe_feed(r->pipe, block, len, err) < 0) {
				chunk_pipe_abort(r->pipe);
				fw_err_wrap(err, "%s", label);
				goto out;
			}
			if (r->opts->chunks_verified != NULL && chunk_pipe_verified(r->pipe) > verified) {
				uint64_t now = chunk_pipe_verified(r->pipe), bytes = (now - verified) * p->chunk_size;

				/* The last chunk may be short. */
				if (now * p->chunk_size > p->size)
					bytes -= now * p->chunk_size - p->size;
				verified = now;
				if (r->opts->chunks_verified(r->ctx, bytes, err) < 0) {
					chunk_pipe_abort(r->pipe);
					goto out;
				}
			}
		}
		if (ar != ARCHIVE_EOF) {
			chunk_pipe_abort(r->pipe);
			archive_failure(r, p->name, err);
			goto out;
		}
		if (chunk_pipe_end(r->pipe, err) < 0) {
			fw_err_wrap(err, "%s", label);
			goto out;
		}
		/* Damaged chunks collected: the whole-file digest cannot match either. */
		if (note_bad_chunks(r, index, at))
			goto bad;
		if (whole && finish_whole_sha256(r, index, err) < 0)
			goto out;
	}
payload_done:
	if (r->ops->payload_end != NULL && r->ops->payload_end(r->ctx, r->m, index, err) < 0)
		goto out;
bad:
	r->entry = NULL;
	rc = 0;
out:
	delta_end(r, index);
	r->rep->chunk_list = NULL;
	r->rep->chunk_list_len = 0;
	free(list);
	return rc;
}

/* After the end-of-archive marker only zero padding may follow. */
static int check_trailing(struct reader *r, struct fw_err *err)
{
	uint64_t consumed = (uint64_t)archive_filter_bytes(r->a, 0);
	uint64_t buffered = r->src.total - consumed;
	uint64_t extra = 0;

	if (consumed > r->src.total || buffered > r->src.last_len)
		return fw_err_set(err, FW_EXIT_REJECTED, "cannot locate the end of the archive");
	for (size_t i = r->src.last_len - (size_t)buffered; i < r->src.last_len; i++)
		if (r->src.buf[i] != 0)
			return fw_err_set(err, FW_EXIT_REJECTED, "data after the end of the archive");
	extra = buffered;
	for (;;) {
		ssize_t n = read(r->src.fd, r->src.buf, READ_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fw_err_set(err, FW_EXIT_IO, "read failed: %s", strerror(errno));
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (r->src.buf[i] != 0)
				return fw_err_set(err, FW_EXIT_REJECTED, "data after the end of the archive");
		extra += (uint64_t)n;
		if (extra > PKG_MAX_TRAILING_ZEROS)
			return fw_err_set(err, FW_EXIT_REJECTED, "more than %u bytes of padding after the archive",
					  PKG_MAX_TRAILING_ZEROS);
	}
	return 0;
}

/* A payload's two entries: its chunk list, then its bytes (with a pax size record beyond the ustar limit). */
static uint64_t chunk_list_entry(const struct fw_payload *p)
{
	return TAR_BLOCK + ((fw_payload_list_size(p) + TAR_BLOCK - 1) & ~(uint64_t)(TAR_BLOCK - 1));
}

uint64_t pkg_payload_data_offset(const struct fw_manifest *m, uint64_t first_payload_offset, size_t index)
{
	uint64_t at = first_payload_offset;

	if (m->sbom.present)
		at += TAR_BLOCK + ((m->sbom.size + TAR_BLOCK - 1) & ~(uint64_t)(TAR_BLOCK - 1));

	for (size_t i = 0; i < index && i < m->n_payloads; i++) {
		const struct fw_payload *p = &m->payloads[i];
		uint64_t size = fw_payload_entry_size(p);

		at += chunk_list_entry(p) + (size > TAR_USTAR_SIZE_MAX ? 3 : 1) * TAR_BLOCK +
		      ((size + TAR_BLOCK - 1) & ~(uint64_t)(TAR_BLOCK - 1));
	}
	if (index >= m->n_payloads)
		return at;
	return at + chunk_list_entry(&m->payloads[index]) +
	       (fw_payload_entry_size(&m->payloads[index]) > TAR_USTAR_SIZE_MAX ? 3 : 1) * TAR_BLOCK;
}

/*
 * Reading only the manifest of a package in a regular file: the file must be
 * as long as the entries the manifest declares, so a half-copied package is
 * reported as truncated even though its payloads are not read.
 */
static int check_declared_size(struct reader *r, struct fw_err *err)
{
	uint64_t need = r->rep->first_payload_offset;
	struct stat st;

	if (fstat(r->src.fd, &st) < 0 || !S_ISREG(st.st_mode) || (r->m->n_payloads == 0 && !r->m->sbom.present))
		return 0;
	if (need == 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "truncated: no payload after the signatures, but the manifest lists %zu",
				  r->m->n_payloads);
	need = pkg_payload_data_offset(r->m, need, r->m->n_payloads) + 2 * TAR_BLOCK;
	if ((uint64_t)st.st_size < need)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "truncated: the manifest declares %llu bytes of package, the file holds %llu",
				  (unsigned long long)need, (unsigned long long)st.st_size);
	return 0;
}

/*
 * The SBOM entry, right after the signatures: exactly the size the manifest
 * declares (capped at FW_SBOM_MAX by the parser), hashed as it passes and
 * checked against the manifest's sha256 before anyone sees a byte of it.
 */
static int read_sbom(struct reader *r, struct fw_err *err)
{
	const struct fw_sbom *b = &r->m->sbom;
	struct fw_sha256 h;
	uint8_t md[FW_DIGEST_LEN];
	char *keep = NULL;
	uint64_t got = 0;
	const void *block;
	size_t len;
	la_int64_t offset;
	int ar, rc = -1;

	if (r->at_eof) {
		fw_err_set(err, FW_EXIT_REJECTED, "missing entry %s (archive ends early)", FW_SBOM_ENTRY);
		goto out;
	}
	if (expect_entry(r, FW_SBOM_ENTRY, b->size, err) < 0)
		goto out;
	if (r->opts->keep_sbom && (keep = malloc((size_t)b->size + 1)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	fw_sha256_init(&h);
	while ((ar = archive_read_data_block(r->a, &block, &len, &offset)) == ARCHIVE_OK) {
		if (len > b->size - got) {
			fw_err_set(err, FW_EXIT_REJECTED, "%s: longer than the manifest says", FW_SBOM_ENTRY);
			goto out;
		}
		fw_sha256_update(&h, block, len);
		if (keep != NULL)
			memcpy(keep + got, block, len);
		got += len;
	}
	if (ar != ARCHIVE_EOF) {
		archive_failure(r, FW_SBOM_ENTRY, err);
		goto out;
	}
	fw_sha256_final(&h, md);
	if (got != b->size || memcmp(md, b->sha256, FW_DIGEST_LEN) != 0) {
		fw_err_setk(err, FW_KIND_MISMATCH, FW_EXIT_REJECTED, "%s: SHA-256 does not match the signed manifest",
			    FW_SBOM_ENTRY);
		goto out;
	}
	if (keep != NULL) {
		keep[got] = '\0';
		r->rep->sbom = keep;
		r->rep->sbom_len = (size_t)got;
		keep = NULL;
	}
	r->entry = NULL;
	rc = 0;
out:
	free(keep);
	return rc;
}

static int read_all(struct reader *r, struct fw_err *err)
{
	int rc;

	if (read_manifest_and_signatures(r, err) < 0)
		return -1;
	if (fw_manifest_parse(r->rep->manifest_bytes, r->rep->manifest_len, &r->m, err) < 0)
		return -1;
	if (r->m->sbom.present && read_sbom(r, err) < 0)
		return -1;
	if (r->ops->manifest != NULL) {
		rc = r->ops->manifest(r->ctx, r->m, r->rep, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			return 0;
	}
	if (r->opts->manifest_only) {
		r->rep->verified = 0;
		return check_declared_size(r, err);
	}
	if ((r->pipe = r->opts->pipe ? r->opts->pipe : chunk_pipe_new(r->opts->threads, err)) == NULL)
		return -1;
	/* read_manifest_and_signatures stopped on the first payload entry, if any. */
	if (r->at_eof)
		r->entry = NULL;
	for (size_t i = 0; i < r->m->n_payloads; i++)
		if (read_payload(r, i, err) < 0)
			return -1;
	/* A header may still be in hand if the manifest lists no payload. */
	rc = r->entry != NULL ? 0 : next_entry(r, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		char shown[256];
		return fw_err_set(err, FW_EXIT_REJECTED, "unlisted entry \"%s\" after the last payload",
				  fw_escape(archive_entry_pathname(r->entry), shown, sizeof(shown)));
	}
	if (check_trailing(r, err) < 0)
		return -1;
	if (r->rep->bad_total > 0) {
		const struct pkg_bad_chunk *b = &r->rep->bad[0];
		uint64_t more = r->rep->bad_total - 1;
		char label[512], rest[64] = "";

		if (more > 0)
			snprintf(rest, sizeof(rest), ", and %llu more damaged chunk%s", (unsigned long long)more,
				 more == 1 ? "" : "s");
		return fw_err_setk(err, FW_KIND_MISMATCH, FW_EXIT_REJECTED,
				   "%s: chunk %llu (image bytes %llu..%llu, package offset %llu): SHA-256 mismatch%s",
				   payload_label(r->m, b->payload, label, sizeof(label)), (unsigned long long)b->chunk,
				   (unsigned long long)b->first, (unsigned long long)b->last, (unsigned long long)b->offset,
				   rest);
	}
	r->rep->payloads_read = 1;
	r->rep->verified = r->opts->trust != NULL && r->rep->valid_sigs > 0;
	return 0;
}

int pkg_read(int fd, const struct pkg_read_opts *opts, const struct pkg_reader_ops *ops, void *ctx,
	     struct fw_manifest **out, struct pkg_report *rep, struct fw_err *err)
{
	static const struct pkg_reader_ops no_ops;
	struct reader r;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.dmap = MAP_FAILED;
	r.dfd = -1;
	memset(rep, 0, sizeof(*rep));
	r.opts = opts;
	r.ops = ops ? ops : &no_ops;
	r.ctx = ctx;
	r.rep = rep;
	r.src.fd = fd;
	r.src.buf = malloc(READ_BLOCK);
	r.a = archive_read_new();
	if (r.src.buf == NULL || r.a == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	{
		struct stat st;
		off_t at = lseek(fd, 0, SEEK_CUR);

		/* The package starts where fd stands (a caller may have read past a prefix). */
		r.src.seekable = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && at >= 0;
		r.src.base = at >= 0 ? (uint64_t)at : 0;
	}
	/* Only tar: no compression filters, no other formats. */
	if (archive_read_support_format_tar(r.a) != ARCHIVE_OK) {
		archive_failure(&r, "cannot read tar archives", err);
		goto out;
	}
	if (archive_read_open2(r.a, &r.src, NULL, source_read, source_skip, NULL) != ARCHIVE_OK) {
		not_a_package(&r, "not a tar archive", err);
		goto out;
	}
	if (read_all(&r, err) < 0)
		goto out;
	*out = r.m;
	r.m = NULL;
	rc = 0;
out:
	if (r.a != NULL)
		archive_read_free(r.a);
	if (r.pipe != opts->pipe)
		chunk_pipe_free(r.pipe);
	fw_manifest_free(r.m);
	free(r.src.buf);
	return rc;
}
