/* tar_write: ustar headers written by hand so every byte of a package is ours to predict. */
#include "tar_write.h"
#include "tar_pax.h"

#include "base/outfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define COPY_BUF (256 * 1024)

struct ustar_header {
	char name[100];
	char mode[8];
	char uid[8];
	char gid[8];
	char size[12];
	char mtime[12];
	char chksum[8];
	char typeflag;
	char linkname[100];
	char magic[6];
	char version[2];
	char uname[32];
	char gname[32];
	char devmajor[8];
	char devminor[8];
	char prefix[155];
	char pad[12];
};

_Static_assert(sizeof(struct ustar_header) == TAR_BLOCK, "ustar header is one block");

void tar_writer_init(struct tar_writer *w, int fd, int64_t mtime)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->mtime = mtime;
}

static int write_all(struct tar_writer *w, const void *buf, size_t len, struct fw_err *err)
{
	if (fw_write_all(w->fd, buf, len, "output", err) < 0)
		return -1;
	w->offset += len;
	return 0;
}

/* Octal field of width w: w-1 digits and a NUL, as POSIX writes them. */
static int octal(char *field, size_t width, uint64_t value)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%0*llo", (int)width - 1, (unsigned long long)value);

	if (n < 0 || (size_t)n != width - 1)
		return -1;
	memcpy(field, tmp, width);  /* includes the NUL */
	return 0;
}

static int write_one_header(struct tar_writer *w, const char *name, uint64_t size, char typeflag,
			    struct fw_err *err)
{
	struct ustar_header h;
	const unsigned char *bytes = (const unsigned char *)&h;
	unsigned sum = 0;

	memset(&h, 0, sizeof(h));
	if (strlen(name) >= sizeof(h.name))
		return fw_err_set(err, FW_EXIT_USAGE, "entry name too long: %s", name);
	memcpy(h.name, name, strlen(name));
	if (w->mtime < 0 || octal(h.mtime, sizeof(h.mtime), (uint64_t)w->mtime) < 0)
		return fw_err_set(err, FW_EXIT_USAGE, "timestamp %lld does not fit a tar header",
				  (long long)w->mtime);
	if (octal(h.size, sizeof(h.size), size) < 0)
		return fw_err_set(err, FW_EXIT_USAGE, "%s: %llu bytes is too large for a package entry",
				  name, (unsigned long long)size);
	octal(h.mode, sizeof(h.mode), 0644);
	octal(h.uid, sizeof(h.uid), 0);
	octal(h.gid, sizeof(h.gid), 0);
	octal(h.devmajor, sizeof(h.devmajor), 0);
	octal(h.devminor, sizeof(h.devminor), 0);
	h.typeflag = typeflag;
	memcpy(h.magic, "ustar", 6);
	memcpy(h.version, "00", 2);
	memset(h.chksum, ' ', sizeof(h.chksum));
	for (size_t i = 0; i < sizeof(h); i++)
		sum += bytes[i];
	snprintf(h.chksum, sizeof(h.chksum), "%06o", sum);
	h.chksum[7] = ' ';
	return write_all(w, &h, sizeof(h), err);
}

static int write_padding(struct tar_writer *w, uint64_t size, struct fw_err *err)
{
	static const char zeros[TAR_BLOCK];
	size_t rem = (size_t)(size % TAR_BLOCK);

	return rem == 0 ? 0 : write_all(w, zeros, TAR_BLOCK - rem, err);
}

/*
 * An entry's header: plain ustar, or for a size beyond ustar's 11 octal
 * digits the one pax size record (tar_pax.h) first, and size 0 in the ustar
 * header. Only then: packages that need none stay byte-identical.
 */
static int write_header(struct tar_writer *w, const char *name, uint64_t size, struct fw_err *err)
{
	char pax_name[TAR_BLOCK], record[TAR_PAX_RECORD_MAX];
	size_t len;

	if (size <= TAR_USTAR_SIZE_MAX)
		return write_one_header(w, name, size, '0', err);
	if ((size_t)snprintf(pax_name, sizeof(pax_name), "%s%s", TAR_PAX_PREFIX, name) >= 100)
		return fw_err_set(err, FW_EXIT_USAGE, "entry name too long: %s", name);
	len = tar_pax_size_record(size, record);
	if (write_one_header(w, pax_name, len, 'x', err) < 0 || write_all(w, record, len, err) < 0 ||
	    write_padding(w, len, err) < 0)
		return -1;
	return write_one_header(w, name, 0, '0', err);
}

int tar_write_buffer(struct tar_writer *w, const char *name, const void *buf, size_t len,
		     struct fw_err *err)
{
	if (write_header(w, name, len, err) < 0 || write_all(w, buf, len, err) < 0)
		return -1;
	return write_padding(w, len, err);
}

/* Fallback copy through a buffer, for file systems without copy_file_range. */
static int copy_by_read(struct tar_writer *w, int src_fd, uint64_t size, uint64_t *done,
			struct fw_err *err)
{
	char buf[COPY_BUF];

	while (*done < size) {
		size_t want = size - *done < sizeof(buf) ? (size_t)(size - *done) : sizeof(buf);
		ssize_t n = read(src_fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fw_err_set(err, FW_EXIT_IO, "read failed: %s", strerror(errno));
		if (n == 0)
			return fw_err_set(err, FW_EXIT_IO, "file shrank while being packaged");
		if (write_all(w, buf, (size_t)n, err) < 0)
			return -1;
		*done += (uint64_t)n;
		if (w->progress)
			w->progress(w->progress_ctx, (uint64_t)n);
	}
	return 0;
}

int tar_write_raw(struct tar_writer *w, int src_fd, uint64_t size, struct fw_err *err)
{
	uint64_t done = 0;

	/* In-kernel copy first: payloads are the bulk of a package. */
	while (done < size) {
		/* Steps small enough for progress to move, large enough to be cheap. */
		size_t want = size - done < (64u << 20) ? (size_t)(size - done) : (64u << 20);
		ssize_t n = copy_file_range(src_fd, NULL, w->fd, NULL, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			      errno == EOPNOTSUPP || errno == EBADF))
			return copy_by_read(w, src_fd, size, &done, err);
		if (n < 0)
			return fw_err_set(err, FW_EXIT_IO, "copy failed: %s", strerror(errno));
		if (n == 0)
			return fw_err_set(err, FW_EXIT_IO, "file shrank while being packaged");
		done += (uint64_t)n;
		w->offset += (uint64_t)n;
		if (w->progress)
			w->progress(w->progress_ctx, (uint64_t)n);
	}
	return 0;
}

int tar_write_copy(struct tar_writer *w, const char *name, int src_fd, uint64_t size,
		   struct fw_err *err)
{
	if (write_header(w, name, size, err) < 0 || tar_write_raw(w, src_fd, size, err) < 0)
		return -1;
	return write_padding(w, size, err);
}

uint64_t tar_header_bytes(uint64_t size)
{
	return (size > TAR_USTAR_SIZE_MAX ? 3 : 1) * TAR_BLOCK;
}

uint64_t tar_entry_bytes(uint64_t size)
{
	return tar_header_bytes(size) + ((size + TAR_BLOCK - 1) & ~(uint64_t)(TAR_BLOCK - 1));
}

int tar_write_placed(struct tar_writer *w, const char *name, uint64_t size, struct fw_err *err)
{
	if (write_header(w, name, size, err) < 0)
		return -1;
	if (lseek(w->fd, (off_t)size, SEEK_CUR) < 0)
		return fw_err_set(err, FW_EXIT_IO, "output: cannot seek: %s", strerror(errno));
	w->offset += size;
	return write_padding(w, size, err);
}

int tar_write_end(struct tar_writer *w, struct fw_err *err)
{
	static const char zeros[TAR_BLOCK];

	if (write_all(w, zeros, TAR_BLOCK, err) < 0 || write_all(w, zeros, TAR_BLOCK, err) < 0)
		return -1;
	while (w->offset % TAR_RECORD != 0)
		if (write_all(w, zeros, TAR_BLOCK, err) < 0)
			return -1;
	return 0;
}
