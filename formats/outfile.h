/* outfile: write a file beside its final name and rename it into place, so failures leave nothing half-written. */
#ifndef FW_OUTFILE_H
#define FW_OUTFILE_H

#include <sys/types.h>

#include "fw_err.h"

struct outfile {
	int fd;
	char *path;       /* final name */
	char *tmp_path;   /* hidden temporary name in the same directory */
};

/*
 * Start writing `path` with final permissions `mode` (masked by umask). Unless
 * force, fails at once if path exists, so no work is wasted.
 */
int outfile_open(struct outfile *o, const char *path, mode_t mode, int force, struct fw_err *err);

/*
 * Rename into place (never over an existing file unless force). With durable,
 * fsync the data first and the directory after, so the new file survives a
 * power cut; without, the rename is still atomic for other processes (what
 * cp and tar give), which is all a rebuildable host output needs.
 */
int outfile_commit(struct outfile *o, int force, int durable, struct fw_err *err);

/* Release the outfile, removing the temporary file if not committed; call it in every case. */
void outfile_abort(struct outfile *o);

/* fsync the directory holding path, so a rename in it is durable. */
int fw_fsync_dir_of(const char *path, struct fw_err *err);

#endif
