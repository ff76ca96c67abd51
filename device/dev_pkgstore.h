/* dev_pkgstore: the device's installed .wmopkg packages: install, remove, list, factory reset. */
#ifndef FW_DEV_PKGSTORE_H
#define FW_DEV_PKGSTORE_H

#include <stddef.h>

#include <jansson.h>

#include "base/fw_err.h"
#include "device/dev_root.h"
#include "device/dev_source.h"
#include "device/dev_state.h"
#include "device/dev_upgrade.h"   /* dev_note_fn */
#include "formats/manifest.h"

/*
 * ROOT/packages/ (fwctl(8), "PACKAGES"):
 *   index.json        what is installed: the one commit point of install,
 *                     remove and factory-reset (replaced atomically);
 *   NAME-ID.wmopkg    each package's bytes as received (ID: the first 16 hex
 *                     digits of the SHA-256 of its manifest); a file the
 *                     index does not name is a leftover, removed at boot;
 *   verified.json     what the last boot found for each package;
 *   last.json         how the last install attempt ended.
 */
#define DEV_PKG_INDEX "index.json"
#define DEV_PKG_VERIFIED "verified.json"
#define DEV_PKG_LAST "last.json"
#define DEV_PKG_MAX 64   /* installed packages */

enum dev_pkg_verif {
	DEV_PKG_PENDING,       /* installed, not booted since */
	DEV_PKG_TRUSTED,
	DEV_PKG_UNSIGNED,
	DEV_PKG_UNTRUSTED,     /* signed, by no key the device trusts */
	DEV_PKG_FAILED,        /* did not verify, or its activate hook failed */
	DEV_PKG_INCOMPATIBLE,  /* does not fit the running firmware or product */
};

/* "pending", "trusted", "unsigned", "untrusted key", "failed", "incompatible firmware". */
const char *dev_pkg_verif_name(enum dev_pkg_verif v);

struct dev_pkg {
	char name[FW_PKG_NAME_MAX + 1];
	char version[FW_VERSION_MAX_LEN + 1];
	char *description;                     /* escaped when shown */
	int persistent;
	char file[FW_PKG_NAME_MAX + 32];       /* NAME-ID.wmopkg in ROOT/packages */
	char id[2 * FW_DIGEST_LEN + 1];        /* hex SHA-256 of its manifest.json */
	enum dev_pkg_verif signature;          /* at install: trusted, unsigned or untrusted */
	long long installed;
	char source[600];                      /* escaped */
	size_t n_paths;                        /* the files it adds outside scripts/ */
	char **paths;
	/* What the last boot found, when it saw these very bytes; else pending. */
	enum dev_pkg_verif verification;
	int active;
	char note[512];                        /* why not active; escaped */
};

struct dev_pkg_list {
	size_t n;
	struct dev_pkg pkg[DEV_PKG_MAX];
};

/* The installed packages, sorted by name, with the last boot's findings. Missing index: none. */
int dev_pkgs_load(const struct dev_root *r, struct dev_pkg_list *l, struct fw_err *err);
void dev_pkgs_free(struct dev_pkg_list *l);
/* The index (not the boot's findings), replaced atomically and durably. */
int dev_pkgs_save(const struct dev_root *r, const struct dev_pkg_list *l, struct fw_err *err);
struct dev_pkg *dev_pkgs_find(struct dev_pkg_list *l, const char *name);
/* Take package i out of the list (in memory only; dev_pkgs_save commits). */
void dev_pkgs_drop(struct dev_pkg_list *l, size_t i);
json_t *dev_pkg_to_json(const struct dev_pkg *p);
/* "ROOT/packages/rel" */
char *dev_pkg_path(const struct dev_root *r, const char *rel);

struct dev_pkg_install_req {
	const struct dev_source *src;  /* file, medium, stdin, or a network source (dev_transport) */
	const char *file_name;         /* NAME.wmopkg: the source's base name, or --name for stdin */
	int persistent;
	dev_note_fn note;              /* may be NULL */
	void *note_ctx;
};

/*
 * Install one package (fwctl(8), "PACKAGES") on a locked root: read the
 * source once (a network source through dev_transport, with the device's
 * network settings; a failed transfer is netError, code FW_EXIT_NET), storing its bytes in a hidden temporary while the reader
 * verifies them (signature if any, every chunk, the whole-file SHA-256s);
 * refuse another type, a renamed package, another product's, one that does
 * not fit the running firmware, `persistent` when the manifest does not
 * allow it, and one that writes a path another installed package writes;
 * then publish the file and the new index. An unsigned or untrusted package
 * is stored with a warning (note). Every attempt that got as far as the
 * source is recorded in last.json. 0, or -1 with err (code = exit code).
 */
int dev_pkg_install(struct dev_root *r, const struct dev_pkg_install_req *req, struct dev_pkg *out,
		    struct fw_err *err);


/*
 * Remove a package, or all (name NULL), from the index; its file goes after
 * the index no longer names it, and its files leave the active tree at the
 * next boot. *removed counts them. -1 with code FW_EXIT_USAGE when the name
 * is not installed.
 */
int dev_pkg_remove(struct dev_root *r, const char *name, size_t *removed, struct fw_err *err);

/*
 * Factory reset: drop every package not installed persistent (index first,
 * then their files), the running configuration (ROOT/running-config) and the
 * unlock token. Persistent packages stay and are active after the next boot.
 */
int dev_factory_reset(struct dev_root *r, size_t *removed, size_t *kept, struct fw_err *err);

/* Remove a directory tree without following symlinks (leftovers, old trees); -1 if anything stayed. */
int dev_remove_tree(const char *path);

/* Remove the package files the index does not name and leftover temporaries (boot, lock held). */
void dev_pkg_remove_leftovers(const struct dev_root *r, const struct dev_pkg_list *l);

#endif
