/* outfile: the one durable-write module: temp file beside the final name, write-all, fsync, rename, directory fsync. */
#ifndef FW_OUTFILE_H
#define FW_OUTFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/fw_err.h"

/*
 * Every file the project writes appears whole or not at all: it is written to
 * a hidden temporary beside its final name (".NAME.XXXXXX.tmp", created with
 * O_EXCL so nothing planted is reused) and renamed into place. Each step that
 * changes what survives a power cut is a crash point (base/crash.h): creating
 * the temporary, its fsync, the rename, the directory's fsync.
 */
struct outfile {
	int fd;
	char *path;       /* final name */
	char *tmp_path;   /* hidden temporary name in the same directory */
};

enum {
	OUTFILE_FORCE = 1,    /* replace an existing file; else "already exists (use -f to overwrite)" */
	OUTFILE_DURABLE = 2,  /* fsync the data before the rename and the directory after */
};

/*
 * Start writing `path` with final permissions `mode` (masked by umask). Unless
 * OUTFILE_FORCE, fails at once if path exists, so no work is wasted.
 */
int outfile_open(struct outfile *o, const char *path, mode_t mode, int flags, struct fw_err *err);

/*
 * Rename into place: never over an existing file unless OUTFILE_FORCE
 * (RENAME_NOREPLACE, so a file that appeared meanwhile is not replaced). With
 * OUTFILE_DURABLE the new file survives a power cut once this returns;
 * without, the rename is still atomic for other processes (what cp and tar
 * give), which is all a rebuildable host output needs.
 */
int outfile_commit(struct outfile *o, int flags, struct fw_err *err);

/* Release the outfile, removing the temporary file if not committed; call it in every case. */
void outfile_abort(struct outfile *o);

/* outfile_open, write all of buf, outfile_commit: a whole small file in one call. */
int outfile_write_file(const char *path, const void *buf, size_t len, mode_t mode, int flags,
		       struct fw_err *err);

/*
 * Remove the temporaries a power cut left in dir (names as above). Only for a
 * directory whose writers all hold one lock that the caller holds now.
 */
void outfile_remove_leftovers(const char *dir);

/* write(2) all of buf, retrying short writes and EINTR; -1 with err naming `what`. */
int fw_write_all(int fd, const void *buf, size_t len, const char *what, struct fw_err *err);

/* fsync a directory, or the directory holding path, so a rename in it is durable. */
int fw_fsync_dir(const char *dir, struct fw_err *err);
int fw_fsync_dir_of(const char *path, struct fw_err *err);

#endif
