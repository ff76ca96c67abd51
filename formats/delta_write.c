/* delta_write: one pass over the older package, each base image decoded and verified into a temporary file, mapped. */
#include "delta_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pkg_read.h"

struct load {
	struct fw_manifest *m;                /* the new package's */
	struct delta_bases *b;
	int fd[FW_MAX_PAYLOADS];              /* by the old package's payload index: its temporary file, or -1 */
	int want[FW_MAX_PAYLOADS];            /* ... it is some new payload's base */
	int base_of[FW_MAX_PAYLOADS];         /* by the new package's payload index: its base's old index, or -1 */
	int cur;                              /* the old payload being written, or -1 */
	uint64_t at;
};

static int old_manifest(void *ctx, const struct fw_manifest *old, const struct pkg_report *rep, struct fw_err *err)
{
	struct load *l = ctx;

	(void)rep;
	if (old->type != FW_TYPE_FIRMWARE)
		return fw_err_set(err, FW_EXIT_USAGE, "a modification package, not firmware");
	for (size_t i = 0; i < old->n_payloads; i++)
		if (old->payloads[i].zstd.base.on)
			return fw_err_set(err, FW_EXIT_USAGE, "a delta package itself: build against a full package");
	for (size_t j = 0; j < l->m->n_images; j++) {
		const struct fw_image *nw = &l->m->images[j];
		/* The other system slot's old image first: the slot a device reads the base from is never the one it
		 * writes, so the secondary's base is the old primary (and the other way round). Where the two were
		 * the same image, as in most installations, this changes nothing. */
		enum fw_target want[2] = { nw->target == FW_TARGET_PRI ? FW_TARGET_SEC : FW_TARGET_PRI, nw->target };
		int found = 0;

		if (nw->target == FW_TARGET_BOOT)
			continue;
		for (int w = 0; w < 2 && !found; w++)
			for (size_t i = 0; i < old->n_images && !found; i++) {
				size_t op = old->images[i].payload;

				if (old->images[i].target != want[w] || strcmp(old->images[i].product, nw->product) != 0 ||
				    old->payloads[op].size == 0)
					continue;
				l->base_of[nw->payload] = (int)op;
				l->want[op] = 1;
				found = 1;
			}
	}
	return 0;
}

static int old_begin(void *ctx, const struct fw_manifest *old, size_t index, struct fw_err *err)
{
	struct load *l = ctx;
	const char *dir = getenv("TMPDIR");
	char tmpl[4096];

	(void)old;
	if (!l->want[index])
		return 2;
	snprintf(tmpl, sizeof(tmpl), "%s/mkpkg-base-XXXXXX", dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	if ((l->fd[index] = mkstemp(tmpl)) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot make a temporary file: %s", tmpl, strerror(errno));
	(void)unlink(tmpl);
	l->cur = (int)index;
	l->at = 0;
	return 1;
}

static int old_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct load *l = ctx;
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t w = pwrite(l->fd[l->cur], p, len, (off_t)l->at);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fw_err_set(err, FW_EXIT_IO, "temporary file: write failed: %s", w < 0 ? strerror(errno) : "no space");
		p += w;
		len -= (size_t)w;
		l->at += (uint64_t)w;
	}
	return 0;
}

int delta_bases_load(const char *old_path, struct fw_manifest *m, uint32_t margin, unsigned threads,
		     struct delta_bases *b, struct fw_err *err)
{
	struct load l;
	struct pkg_read_opts ro = { .threads = threads };
	struct pkg_reader_ops ops = { old_manifest, old_begin, old_data, NULL, NULL, NULL, NULL };
	struct pkg_report rep;
	struct fw_manifest *old = NULL;
	int fd, rc = -1, n = 0;

	memset(b, 0, sizeof(*b));
	memset(&l, 0, sizeof(l));
	memset(&rep, 0, sizeof(rep));
	l.m = m;
	l.b = b;
	l.cur = -1;
	for (size_t i = 0; i < FW_MAX_PAYLOADS; i++)
		l.fd[i] = l.base_of[i] = -1;
	if ((fd = open(old_path, O_RDONLY | O_CLOEXEC)) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", old_path, strerror(errno));
		return -1;
	}
	if (pkg_read(fd, &ro, &ops, &l, &old, &rep, err) < 0) {
		fw_err_wrap(err, "%s", old_path);
		goto out;
	}
	for (size_t i = 0; i < old->n_payloads; i++) {
		if (l.fd[i] < 0)
			continue;
		b->omap[i] = mmap(NULL, (size_t)old->payloads[i].size, PROT_READ, MAP_SHARED, l.fd[i], 0);
		if (b->omap[i] == MAP_FAILED) {
			b->omap[i] = NULL;
			fw_err_set(err, FW_EXIT_IO, "%s: cannot map its image %s: %s", old_path, old->payloads[i].name, strerror(errno));
			goto out;
		}
		b->olen[i] = old->payloads[i].size;
	}
	for (size_t j = 0; j < m->n_payloads; j++) {
		const struct fw_payload *op;
		struct fw_delta *d;

		if (l.base_of[j] < 0)
			continue;
		op = &old->payloads[l.base_of[j]];
		b->map[j] = b->omap[l.base_of[j]];
		d = &m->payloads[j].zstd.base;
		d->on = 1;
		memcpy(d->digest, op->digest, FW_DIGEST_LEN);
		d->size = op->size;
		d->chunk_size = op->chunk_size;
		d->margin = margin ? margin : FW_DELTA_MARGIN_DEFAULT;
		n++;
	}
	rc = n;
out:
	if (rc < 0)
		delta_bases_free(b);
	for (size_t i = 0; i < FW_MAX_PAYLOADS; i++)
		if (l.fd[i] >= 0)
			close(l.fd[i]);
	close(fd);
	fw_manifest_free(old);
	pkg_report_free(&rep);
	return rc;
}

void delta_bases_free(struct delta_bases *b)
{
	for (size_t i = 0; i < FW_MAX_PAYLOADS; i++)
		if (b->omap[i] != NULL)
			munmap((void *)(uintptr_t)b->omap[i], (size_t)b->olen[i]);
	memset(b, 0, sizeof(*b));
}
