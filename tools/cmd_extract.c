/* cmd_extract: fwpkg extract — verify while streaming into hidden files, publish them only if all of it verified. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/outfile.h"
#include "formats/pkg_read.h"
#include "tools/cli.h"
#include "tools/cmd.h"

struct extract {
	int dirfd;
	int force;
	int cur_fd;
	size_t n_tmp;
	char tmp[FW_MAX_PAYLOADS][64];
	char final[FW_MAX_PAYLOADS][FW_NAME_MAX + 1];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fwpkg extract [-fq] [-C DIR] [-p PUB]... [--keyring DIR] [--no-verify] PKG|-\n"
		   "Verify a package and write its payloads into DIR (default: the current directory).\n");
}

static int x_begin(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct extract *x = ctx;
	const char *name = m->payloads[index].name;
	struct stat st;

	if (!x->force && fstatat(x->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return fw_err_set(err, FW_EXIT_USAGE, "%s: already exists (use -f to overwrite)", name);
	snprintf(x->tmp[x->n_tmp], sizeof(x->tmp[0]), ".fwpkg-extract-%d-%zu", (int)getpid(), index);
	snprintf(x->final[x->n_tmp], sizeof(x->final[0]), "%s", name);
	x->cur_fd = openat(x->dirfd, x->tmp[x->n_tmp], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (x->cur_fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot create: %s", name, strerror(errno));
	x->n_tmp++;
	return 1;
}

static int x_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct extract *x = ctx;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(x->cur_fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fw_err_set(err, FW_EXIT_IO, "%s: write failed: %s", x->final[x->n_tmp - 1], strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int x_end(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct extract *x = ctx;
	int rc = fsync(x->cur_fd);

	(void)m;
	(void)index;
	if (close(x->cur_fd) < 0)
		rc = -1;
	x->cur_fd = -1;
	return rc < 0 ? fw_err_set(err, FW_EXIT_IO, "%s: %s", x->final[x->n_tmp - 1], strerror(errno)) : 0;
}

/* Everything verified: move the hidden files to their names. */
static int publish(struct extract *x, struct fw_err *err)
{
	for (size_t i = 0; i < x->n_tmp; i++) {
		int rc = x->force ? renameat(x->dirfd, x->tmp[i], x->dirfd, x->final[i])
				  : renameat2(x->dirfd, x->tmp[i], x->dirfd, x->final[i], RENAME_NOREPLACE);
		if (rc < 0)
			return fw_err_set(err, errno == EEXIST ? FW_EXIT_USAGE : FW_EXIT_IO, "%s: %s", x->final[i],
					  errno == EEXIST ? "already exists (use -f to overwrite)" : strerror(errno));
		x->tmp[i][0] = '\0';
	}
	return fsync(x->dirfd) < 0 ? fw_err_set(err, FW_EXIT_IO, "cannot sync directory: %s", strerror(errno)) : 0;
}

static void discard(struct extract *x)
{
	if (x->cur_fd >= 0)
		close(x->cur_fd);
	for (size_t i = 0; i < x->n_tmp; i++)
		if (x->tmp[i][0] != '\0')
			unlinkat(x->dirfd, x->tmp[i], 0);
}

int cmd_extract(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "keyring", required_argument, NULL, 'K' },
		{ "no-verify", no_argument, NULL, 'N' },
		{ "directory", required_argument, NULL, 'C' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct extract x;
	struct cli_keys keys = { .n_pubs = 0 };
	struct sig_trust trust;
	struct pkg_read_opts ropts = { .trust = &trust };
	struct pkg_reader_ops ops = { .payload_begin = x_begin, .payload_data = x_data, .payload_end = x_end };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0, "" };
	const char *dir = ".", *path;
	int c, fd = -1, no_verify = 0, rc = FW_EXIT_USAGE;

	memset(&rep, 0, sizeof(rep));
	x.cur_fd = -1;
	x.dirfd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:C:fqh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (cli_keys_add_pub(&keys, optarg) < 0)
				return FW_EXIT_USAGE;
			break;
		case 'K': keys.keyring = optarg; break;
		case 'N': no_verify = 1; break;
		case 'C': dir = optarg; break;
		case 'f': x.force = 1; break;
		case 'q': cli_quiet = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		default: usage(stderr); return FW_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	path = argv[optind];
	if (no_verify) {
		if (keys.n_pubs > 0 || keys.keyring != NULL) {
			cli_error("extract", NULL, "--no-verify and trusted keys exclude each other");
			return FW_EXIT_USAGE;
		}
		ropts.trust = NULL;
		cli_note("warning: --no-verify: signatures are not checked (payloads still match the manifest)");
	} else if (cli_keys_load(&keys, &trust, &err) < 0) {
		return cli_fail("extract", NULL, &err);
	}
	x.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.dirfd < 0) {
		cli_error("extract", dir, "cannot open directory: %s", strerror(errno));
		return FW_EXIT_IO;
	}
	if ((fd = cli_open_input(path, &err)) < 0) {
		rc = cli_fail("extract", path, &err);
		goto out;
	}
	if (pkg_read(fd, &ropts, &ops, &x, &m, &rep, &err) < 0 || publish(&x, &err) < 0) {
		rc = cli_fail("extract", path, &err);
		goto out;
	}
	for (size_t i = 0; i < m->n_payloads; i++)
		printf("%s\n", m->payloads[i].name);
	rc = FW_EXIT_OK;
out:
	discard(&x);
	if (fd > STDIN_FILENO)
		close(fd);
	close(x.dirfd);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	return rc;
}
