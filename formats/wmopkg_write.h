/* wmopkg_write: build a .wmopkg modification package from a directory tree (creation code, host only). */
#ifndef FW_WMOPKG_WRITE_H
#define FW_WMOPKG_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/fw_err.h"
#include "manifest.h"
#include "pkg_write.h"

/* One regular file found under a tree's fixed roots. */
struct wmopkg_tree_file {
	char path[FW_MOD_PATH_MAX + 1];   /* relative to the tree, e.g. "scripts/activate.sh" */
	unsigned mode;                    /* FW_MOD_MODE_EXEC if any execute bit is set, else PLAIN */
	char *source;                     /* "DIR/path", owned; for messages */
	dev_t dev;                        /* the file the scan saw, to know it again */
	ino_t ino;
};

/* The files of a tree, sorted by path byte by byte (the order of the manifest). */
struct wmopkg_tree {
	int root_fd;                      /* the tree's directory, open since the scan */
	size_t n;
	struct wmopkg_tree_file files[FW_MAX_PAYLOADS];
};

/*
 * Walk `dir` without following symbolic links and collect its regular files.
 * Refused (FW_EXIT_REJECTED, the message naming the entry): a top-level
 * entry other than the directories factory-config, branding, services, files
 * and scripts; symbolic links, hard links (a regular file with more than one
 * link), devices, FIFOs, sockets; names with control characters; paths a
 * manifest could not carry (fw_mod_path_problem); more than FW_MAX_PAYLOADS
 * files; a tree without files. Empty directories are ignored. A message
 * names an entry by its path in the tree and never names `dir` itself: the
 * caller does.
 */
int wmopkg_tree_scan(const char *dir, struct wmopkg_tree **out, struct fw_err *err);
void wmopkg_tree_free(struct wmopkg_tree *t);

/*
 * Write the package `out_path` from manifest m (type modification, with
 * version, products, created and the optional fields set; hooks, if any, name
 * paths in the tree) and tree t, every file hashed in `chunk_size` chunks.
 * Sets m's name from out_path and its files and payloads from t, then signs
 * and writes as pkg_write() does: deterministic, atomic. Each file is opened
 * from t's root directory down, one component at a time, never following a
 * link, and must be the very file the scan saw: a directory swapped for a
 * symbolic link since (while a passphrase was typed, say) is refused
 * (FW_EXIT_REJECTED), so no file from outside the tree is ever signed.
 */
int wmopkg_write(const char *out_path, struct fw_manifest *m, const struct wmopkg_tree *t,
		 uint32_t chunk_size, struct sig_signer *const *signers, size_t n_signers,
		 const struct pkg_write_opts *opts, struct fw_err *err);

#endif
