/* cli_base: the base images fwpkg verify and extract are given (--base FILE) to rebuild delta payloads against. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/pkg_read.h"

int cli_bases_add(struct cli_bases *b, const char *path)
{
	if (b->n == CLI_MAX_BASES) {
		msg_error(NULL, NULL, "more than %d --base files", CLI_MAX_BASES);
		return -1;
	}
	b->path[b->n++] = path;
	return 0;
}

int cli_bases_open(struct cli_bases *b, struct fw_err *err)
{
	for (size_t i = 0; i < b->n; i++) {
		struct stat st;

		if ((b->fd[i] = open(b->path[i], O_RDONLY | O_CLOEXEC)) < 0 || fstat(b->fd[i], &st) < 0)
			return fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", b->path[i], strerror(errno));
		/* An image is a file or a block device (a slot); a directory would pass for an image of its size. */
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
			return fw_err_set(err, FW_EXIT_USAGE, "%s: %s: --base takes an image file",
					  b->path[i], S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
		b->size[i] = (uint64_t)st.st_size;
	}
	return 0;
}

void cli_bases_close(struct cli_bases *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->fd[i] > 0)
			close(b->fd[i]);
}

/*
 * The --base file of a delta payload: the one of its size (several of that
 * size: the one whose chunk list hashes to the base digest). The reader
 * checks it against the digest whatever is chosen here.
 */
int cli_bases_source(struct cli_bases *b, const struct fw_manifest *m, size_t index, int *fd, struct fw_err *err)
{
	const struct fw_delta *d = &m->payloads[index].zstd.base;
	size_t n = 0, pick = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->size[i] == d->size)
			n++, pick = i;
	if (n == 0 && b->n > 0)
		return fw_err_set(err, FW_EXIT_USAGE, "no --base file holds %llu bytes, the size of %s's base image",
				  (unsigned long long)d->size, m->payloads[index].name);
	if (n == 0)
		return PKG_DELTA_NONE;
	for (size_t i = 0; n > 1 && i < b->n; i++) {
		struct fw_err ignored;

		if (b->size[i] == d->size && pkg_delta_base_check(b->fd[i], d, 0, &ignored) == 0) {
			pick = i;
			break;
		}
	}
	*fd = b->fd[pick];
	b->picked = b->path[pick];
	return PKG_DELTA_BASE;
}

const char *cli_bases_name(struct cli_bases *b)
{
	static char name[PATH_MAX + 16];

	if (b->picked == NULL)
		return NULL;
	snprintf(name, sizeof(name), "--base %s", b->picked);
	return name;
}

json_t *cli_not_rebuilt_json(const struct fw_manifest *m, const struct pkg_report *rep)
{
	json_t *names = NULL;

	for (size_t i = 0; i < m->n_payloads; i++)
		if (rep->not_rebuilt[i]) {
			if (names == NULL)
				names = json_array();
			json_array_append_new(names, json_string(m->payloads[i].name));
		}
	return names;
}
