/* wmopkg_write: walk a modification tree without following links, then sign and write it as a .wmopkg. */
#include "wmopkg_write.h"

#include "base/dirnames.h"
#include "base/escape.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const roots[] = {
	"factory-config", "branding", "services", "files", "scripts", NULL,
};

static int is_root(const char *name)
{
	for (size_t i = 0; roots[i] != NULL; i++)
		if (strcmp(name, roots[i]) == 0)
			return 1;
	return 0;
}

/* C0 and C1 controls and DEL, as fw_escape() escapes them. */
static int has_control(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 1;
	return 0;
}

static const char *kind_of(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file or directory";
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct wmopkg_tree_file *)a)->path,
		      ((const struct wmopkg_tree_file *)b)->path);
}

/*
 * The names in an open directory, sorted (so errors and walks are reproducible).
 * shown is its path in the tree, NULL for the top: the caller names the tree.
 */
static int list_dir(int dfd, const char *shown, char ***names_out, size_t *n_out, struct fw_err *err)
{
	DIR *d = NULL;
	int fd, rc = -1;

	fd = dup(dfd);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s%scannot read directory: %s", shown ? shown : "", shown ? ": " : "",
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (fw_dir_names(d, NULL, names_out, n_out) < 0) {
		if (errno == ENOMEM)
			fw_err_set(err, FW_EXIT_IO, "out of memory");
		else
			fw_err_set(err, FW_EXIT_IO, "%s%scannot read directory: %s", shown ? shown : "",
				   shown ? ": " : "", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	return rc;
}

struct walk {
	const char *dir;
	struct wmopkg_tree *t;
};

/*
 * Scan the directory open as dfd, whose path in the tree is rel ("" for the
 * top). Entries are looked at with fstatat(AT_SYMLINK_NOFOLLOW) and
 * directories opened with O_NOFOLLOW, so no link is ever followed.
 */
static int scan_dir(struct walk *w, int dfd, const char *rel, struct fw_err *err)
{
	char **names = NULL;
	size_t n = 0, i;
	char path[FW_MOD_PATH_MAX + 2], shown[2 * FW_MOD_PATH_MAX];
	int rc = -1, sub = -1;

	if (list_dir(dfd, rel[0] ? rel : NULL, &names, &n, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		const char *name = names[i], *why;
		struct stat st;
		int len;

		len = snprintf(path, sizeof(path), "%s%s%s", rel, rel[0] ? "/" : "", name);
		fw_escape(len >= 0 && (size_t)len < sizeof(path) ? path : name, shown, sizeof(shown));
		if (has_control(name)) {
			fw_err_set(err, FW_EXIT_REJECTED, "%s: a name with a control character", shown);
			goto out;
		}
		if (len < 0 || (size_t)len > FW_MOD_PATH_MAX) {
			fw_err_set(err, FW_EXIT_REJECTED, "%s...: path longer than %d bytes", shown,
				   FW_MOD_PATH_MAX);
			goto out;
		}
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: %s", shown, strerror(errno));
			goto out;
		}
		if (rel[0] == '\0' && (!is_root(name) || !S_ISDIR(st.st_mode))) {
			fw_err_set(err, FW_EXIT_REJECTED,
				   "%s: %s at the top of the tree, which holds only the directories "
				   "factory-config, branding, services, files and scripts", shown,
				   S_ISDIR(st.st_mode) ? "a directory" : S_ISREG(st.st_mode) ? "a file"
				   : kind_of(st.st_mode));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			/* Checked as a path too: a directory named "..." is fine, one with '\' is not. */
			if (rel[0] != '\0') {
				char probe[FW_MOD_PATH_MAX + 4];
				if (strlen(path) + 2 <= FW_MOD_PATH_MAX &&
				    snprintf(probe, sizeof(probe), "%s/x", path) > 0 &&
				    (why = fw_mod_path_problem(probe)) != NULL) {
					fw_err_set(err, FW_EXIT_REJECTED, "%s: directory path %s", shown, why);
					goto out;
				}
			}
			sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				fw_err_set(err, FW_EXIT_IO, "%s: cannot open directory: %s", shown,
					   strerror(errno));
				goto out;
			}
			if (scan_dir(w, sub, path, err) < 0)
				goto out;
			close(sub);
			sub = -1;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			fw_err_set(err, FW_EXIT_REJECTED,
				   "%s: %s (a package tree holds only regular files and directories)",
				   shown, kind_of(st.st_mode));
			goto out;
		}
		/* The other names of a hard-linked file are unknown: it may lie outside the tree. */
		if (st.st_nlink > 1) {
			fw_err_set(err, FW_EXIT_REJECTED,
				   "%s: a hard link (%ju names for one file; a package tree must not "
				   "share files)", shown, (uintmax_t)st.st_nlink);
			goto out;
		}
		if ((why = fw_mod_path_problem(path)) != NULL) {
			fw_err_set(err, FW_EXIT_REJECTED, "%s: path %s", shown, why);
			goto out;
		}
		if (w->t->n == FW_MAX_PAYLOADS) {
			fw_err_set(err, FW_EXIT_REJECTED, "more than %d files in the tree",
				   FW_MAX_PAYLOADS);
			goto out;
		}
		{
			struct wmopkg_tree_file *f = &w->t->files[w->t->n];

			memcpy(f->path, path, (size_t)len + 1);
			f->dev = st.st_dev;
			f->ino = st.st_ino;
			f->mode = (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) ? FW_MOD_MODE_EXEC
									       : FW_MOD_MODE_PLAIN;
			if (asprintf(&f->source, "%s/%s", w->dir, path) < 0) {
				f->source = NULL;
				fw_err_set(err, FW_EXIT_IO, "out of memory");
				goto out;
			}
			w->t->n++;
		}
	}
	rc = 0;
out:
	if (sub >= 0)
		close(sub);
	fw_dir_names_free(names, n);
	return rc;
}

void wmopkg_tree_free(struct wmopkg_tree *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->files[i].source);
	if (t->root_fd >= 0)
		close(t->root_fd);
	free(t);
}

int wmopkg_tree_scan(const char *dir, struct wmopkg_tree **out, struct fw_err *err)
{
	struct walk w = { dir, NULL };
	struct stat st;
	int dfd = -1, rc = -1;

	*out = NULL;
	w.t = calloc(1, sizeof(*w.t));
	if (w.t == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	w.t->root_fd = -1;
	/* The tree itself may be reached through a link (-C /path/via/link); nothing inside it. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		fw_err_set(err, errno == ENOTDIR ? FW_EXIT_USAGE : FW_EXIT_IO,
			   "cannot open directory: %s", strerror(errno));
		goto out;
	}
	if (scan_dir(&w, dfd, "", err) < 0)
		goto out;
	if (w.t->n == 0) {
		fw_err_set(err, FW_EXIT_REJECTED,
			   "no files under factory-config/, branding/, services/, files/ or scripts/");
		goto out;
	}
	qsort(w.t->files, w.t->n, sizeof(w.t->files[0]), cmp_files);
	/* Kept: the files are opened again from this directory, not by path. */
	w.t->root_fd = dfd;
	dfd = -1;
	*out = w.t;
	w.t = NULL;
	rc = 0;
out:
	if (dfd >= 0)
		close(dfd);
	wmopkg_tree_free(w.t);
	return rc;
}

/* Hooks name executables in the tree under scripts/: say which rule a --hook breaks. */
static int check_hooks(const struct fw_manifest *m, const struct wmopkg_tree *t, struct fw_err *err)
{
	for (unsigned h = 0; h < FW_HOOK_COUNT; h++) {
		const char *hook = m->hooks[h];
		char shown[2 * FW_MOD_PATH_MAX];
		size_t i;

		if (hook[0] == '\0')
			continue;
		fw_escape(hook, shown, sizeof(shown));
		if (strncmp(hook, "scripts/", 8) != 0)
			return fw_err_set(err, FW_EXIT_USAGE, "hook %s: %s is not under scripts/",
					  fw_hook_name((enum fw_hook)h), shown);
		for (i = 0; i < t->n; i++)
			if (strcmp(t->files[i].path, hook) == 0)
				break;
		if (i == t->n)
			return fw_err_set(err, FW_EXIT_USAGE, "hook %s: %s is not a file in the tree",
					  fw_hook_name((enum fw_hook)h), shown);
		if (t->files[i].mode != FW_MOD_MODE_EXEC)
			return fw_err_set(err, FW_EXIT_USAGE,
					  "hook %s: %s is not executable (hooks need mode 0755)",
					  fw_hook_name((enum fw_hook)h), shown);
	}
	return 0;
}

/*
 * Open a tree file again for packing: every directory from the root down
 * with O_NOFOLLOW, then the file, and it must be the one the scan recorded.
 */
static int open_tree_file(const struct wmopkg_tree *t, const struct wmopkg_tree_file *f, struct fw_err *err)
{
	char comp[FW_MOD_PATH_MAX + 1], shown[2 * FW_MOD_PATH_MAX];
	const char *p = f->path, *slash;
	struct stat st;
	int dfd = dup(t->root_fd), fd = -1;

	fw_escape(f->path, shown, sizeof(shown));
	if (dfd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: %s", shown, strerror(errno));
	while ((slash = strchr(p, '/')) != NULL) {
		int next;

		memcpy(comp, p, (size_t)(slash - p));
		comp[slash - p] = '\0';
		next = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		if (next < 0)
			goto changed;
		dfd = next;
		p = slash + 1;
	}
	fd = openat(dfd, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != f->dev || st.st_ino != f->ino)
		goto changed;
	return fd;
changed:
	if (fd >= 0)
		close(fd);
	return fw_err_set(err, FW_EXIT_REJECTED,
			  "%s: changed since the tree was scanned (a symbolic link or another file in its place?): refusing to pack it",
			  shown);
}

static int cmp_removes(const void *a, const void *b)
{
	return strcmp(a, b);   /* rows of one char array: the row is the string */
}

/* A removal package: the sorted names, no files. */
static int write_removal(const char *out_path, struct fw_manifest *m, struct sig_signer *const *signers,
			 size_t n_signers, const struct pkg_write_opts *opts, struct fw_err *err)
{
	int fds[1] = { -1 };
	const char *paths[1] = { NULL };

	if (fw_mod_name_from_path(out_path, m->name, err) < 0)
		return -1;
	qsort(m->removes, m->n_removes, sizeof(m->removes[0]), cmp_removes);
	for (size_t i = 1; i < m->n_removes; i++)
		if (strcmp(m->removes[i - 1], m->removes[i]) == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "--remove %s given twice", m->removes[i]);
	for (size_t i = 0; i < m->n_removes; i++)
		if (strcmp(m->removes[i], m->name) == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%s cannot remove itself", m->name);
	if (m->persistent_allowed || m->hooks[FW_HOOK_ACTIVATE][0] || m->hooks[FW_HOOK_DEACTIVATE][0])
		return fw_err_set(err, FW_EXIT_USAGE, "a removal package has no hooks and is never persistent");
	memset(m->files, 0, sizeof(m->files));
	memset(m->payloads, 0, sizeof(m->payloads));
	m->n_files = m->n_payloads = 0;
	return pkg_write_fds(out_path, m, fds, paths, signers, n_signers, opts, err);
}

int wmopkg_write(const char *out_path, struct fw_manifest *m, const struct wmopkg_tree *t,
		 uint32_t chunk_size, struct sig_signer *const *signers, size_t n_signers,
		 const struct pkg_write_opts *opts, struct fw_err *err)
{
	const char *paths[FW_MAX_PAYLOADS];
	int fds[FW_MAX_PAYLOADS], rc = -1;

	if (m->type != FW_TYPE_MODIFICATION)
		return fw_err_set(err, FW_EXIT_USAGE, "not a modification manifest");
	if (m->n_removes > 0)
		return write_removal(out_path, m, signers, n_signers, opts, err);
	if (t == NULL || t->n == 0 || t->n > FW_MAX_PAYLOADS)
		return fw_err_set(err, FW_EXIT_USAGE, "a package holds 1 to %d files", FW_MAX_PAYLOADS);
	if (fw_mod_name_from_path(out_path, m->name, err) < 0 || check_hooks(m, t, err) < 0)
		return -1;
	memset(m->files, 0, sizeof(m->files));
	memset(m->payloads, 0, sizeof(m->payloads));
	for (size_t i = 0; i < t->n; i++) {
		struct fw_mod_file *f = &m->files[i];
		struct fw_payload *p = &m->payloads[i];

		memcpy(f->path, t->files[i].path, sizeof(f->path));
		f->mode = t->files[i].mode;
		f->payload = i;
		fw_mod_entry_name(i, p->name);
		p->chunk_size = chunk_size;
		p->has_sha256 = 1;
		paths[i] = t->files[i].source;
	}
	m->n_files = m->n_payloads = t->n;
	for (size_t i = 0; i < FW_MAX_PAYLOADS; i++)
		fds[i] = -1;
	for (size_t i = 0; i < t->n; i++)
		if ((fds[i] = open_tree_file(t, &t->files[i], err)) < 0)
			goto out;
	rc = pkg_write_fds(out_path, m, fds, paths, signers, n_signers, opts, err);
out:
	for (size_t i = 0; i < FW_MAX_PAYLOADS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}
