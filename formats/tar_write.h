/* tar_write: a deterministic ustar writer: fixed modes, owner 0, no user names, one mtime. */
#ifndef FW_TAR_WRITE_H
#define FW_TAR_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"

#define TAR_BLOCK 512
#define TAR_RECORD 10240

typedef void (*tar_progress_fn)(void *ctx, uint64_t bytes);

struct tar_writer {
	int fd;
	uint64_t offset;          /* bytes written so far */
	int64_t mtime;
	tar_progress_fn progress; /* optional, called as payload bytes are copied */
	void *progress_ctx;
};

void tar_writer_init(struct tar_writer *w, int fd, int64_t mtime);

/* A regular file entry (mode 0644) holding `len` bytes of `buf`. */
int tar_write_buffer(struct tar_writer *w, const char *name, const void *buf, size_t len,
		     struct fw_err *err);

/* A regular file entry with `size` bytes copied from src_fd's current offset. */
int tar_write_copy(struct tar_writer *w, const char *name, int src_fd, uint64_t size,
		   struct fw_err *err);

/*
 * An entry whose `size` bytes the caller has already written into the file,
 * right after where this header goes (pwrite): the header, then a step over
 * the bytes, then the padding. For a seekable output only.
 */
int tar_write_placed(struct tar_writer *w, const char *name, uint64_t size, struct fw_err *err);

/* Bytes an entry of `size` bytes takes: its header (three blocks with a pax size record), data and padding. */
uint64_t tar_entry_bytes(uint64_t size);
/* ... of which the header. */
uint64_t tar_header_bytes(uint64_t size);

/* Copy `size` raw bytes from src_fd into the archive as they are (used to keep entries byte-identical). */
int tar_write_raw(struct tar_writer *w, int src_fd, uint64_t size, struct fw_err *err);

/* The end-of-archive marker, padded to a whole record. */
int tar_write_end(struct tar_writer *w, struct fw_err *err);

#endif
