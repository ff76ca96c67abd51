/* cmd_extract: fwpkg extract — verify while streaming into a hidden directory, publish only if all of it verified. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/outfile.h"
#include "formats/pkg_read.h"
#include "tools/cli.h"
#include "tools/cli_trust_opts.h"
#include "tools/cmd.h"

/*
 * Payloads stream into files named by their index inside a hidden staging
 * directory in DIR, and are renamed to their places only when the whole
 * package verified: a package that fails leaves DIR as it was. Publishing is
 * all-or-nothing too: a file replaced with -f is exchanged with its staged
 * successor (RENAME_EXCHANGE), so the old one waits in the staging directory
 * until the last rename succeeded; if one fails, every rename is undone and
 * the directories made for the package are removed again.
 */
#define MAX_MADE_DIRS 1024
struct extract {
	const char *pkg;                /* the package's path as given, for the file-name rule */
	int dirfd;
	int force;
	int cur_fd;
	int stage_fd;
	char stage[64];                 /* the staging directory's name in DIR; "" when none */
	const struct fw_manifest *m;
	size_t n_staged;                /* files 0..n_staged-1 exist in the staging directory */
	size_t n_published;
	uint8_t exchanged[FW_MAX_PAYLOADS];   /* published i replaced a file, now staged as i */
	char *made[MAX_MADE_DIRS];      /* directories made while publishing, relative to DIR */
	size_t n_made;
	/* The payloads asked for by name (PKG NAME...); none named: all of them. */
	char *const *names;
	size_t n_names;
	uint8_t selected[FW_MAX_PAYLOADS];
	/* The SBOM (sbom_*): staged as SBOM_STAGED, published as FW_SBOM_ENTRY in DIR after the payloads. */
	int sbom_staged, sbom_published, sbom_exchanged;
};

#define SBOM_STAGED "sbom"

/* The SBOM goes with a whole extract; one that names its payloads wants only those. */
static int sbom_wanted(const struct extract *x)
{
	return x->m->sbom.present && x->n_names == 0;
}

/* SBOM: nothing in the way of DIR/sbom.cdx.json (with -f, no directory). */
static int sbom_check_target(struct extract *x, struct fw_err *err)
{
	struct stat st;

	if (!sbom_wanted(x) || fstatat(x->dirfd, FW_SBOM_ENTRY, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!x->force)
		return fw_err_set(err, FW_EXIT_USAGE, "%s: " FW_MSG_EXISTS, FW_SBOM_ENTRY);
	if (S_ISDIR(st.st_mode))
		return fw_err_set(err, FW_EXIT_USAGE, "%s: exists and is a directory", FW_SBOM_ENTRY);
	return 0;
}

/* SBOM: the reader checked it against the manifest before the manifest callback; stage it with the payloads. */
static int sbom_stage(struct extract *x, const struct pkg_report *rep, struct fw_err *err)
{
	int fd, rc = 0;

	if (!sbom_wanted(x))
		return 0;
	if (rep->sbom == NULL)
		return fw_err_set(err, FW_EXIT_IO, "%s: not read", FW_SBOM_ENTRY);
	fd = openat(x->stage_fd, SBOM_STAGED, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot create: %s", FW_SBOM_ENTRY, strerror(errno));
	x->sbom_staged = 1;
	if (fw_write_all(fd, rep->sbom, rep->sbom_len, FW_SBOM_ENTRY, err) < 0)
		rc = -1;
	else if (fsync(fd) < 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: %s", FW_SBOM_ENTRY, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = fw_err_set(err, FW_EXIT_IO, "%s: %s", FW_SBOM_ENTRY, strerror(errno));
	return rc;
}

/* SBOM: into its place, last, all-or-nothing with the payloads (unpublish takes it back). */
static int sbom_publish(struct extract *x, struct fw_err *err)
{
	struct stat st;

	if (!x->sbom_staged)
		return 0;
	x->sbom_exchanged = x->force && fstatat(x->dirfd, FW_SBOM_ENTRY, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (renameat2(x->stage_fd, SBOM_STAGED, x->dirfd, FW_SBOM_ENTRY,
		      x->sbom_exchanged ? RENAME_EXCHANGE : RENAME_NOREPLACE) < 0)
		return fw_err_set(err, errno == EEXIST ? FW_EXIT_USAGE : FW_EXIT_IO, "%s: %s", FW_SBOM_ENTRY,
				  errno == EEXIST ? FW_MSG_EXISTS : strerror(errno));
	x->sbom_published = 1;
	if (fsync(x->dirfd) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: %s", FW_SBOM_ENTRY, strerror(errno));
	return 0;
}

static void sbom_unpublish(struct extract *x)
{
	if (!x->sbom_published)
		return;
	if (renameat2(x->dirfd, FW_SBOM_ENTRY, x->stage_fd, SBOM_STAGED,
		      x->sbom_exchanged ? RENAME_EXCHANGE : RENAME_NOREPLACE) < 0)
		msg_error("extract", NULL, "%s: cannot undo: %s", FW_SBOM_ENTRY, strerror(errno));
	x->sbom_published = 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fwpkg extract [-fq] [-C DIR] [-p PUB]... [-P BASE64]... [--keyring DIR] [--ca FILE|DIR]...\n"
		"                     [--crl FILE]... [--signer CN|SHA256]... [--max-chain-depth N]\n"
		"                     [--no-check-time] [--no-verify] [--base IMG]... PKG|- [NAME]...\n"
		"Verify a package and write its payloads (firmware images, or a modification\n"
		"package's files at their paths), and its SBOM as sbom.cdx.json, into DIR;\n"
		"all of them, or nothing. With NAMEs (image entry names or file paths, as\n"
		"inspect shows them) only those are verified and written, all or nothing;\n"
		"the others (and the SBOM) are skipped.\n"
		"\n"
		"  -C, --directory DIR       write into DIR (default: the current directory;\n"
		"                            made if missing, one level)\n"
		"  -p, --pubkey PUB          trust this public key file (repeatable)\n"
		"  -P, --pubkey-base64 KEY   trust this public key given inline\n"
		"      --keyring DIR         trust every *.pub file in DIR (default as verify)\n"
		"      --ca FILE|DIR         trust these CA certificates (CMS signatures; see verify)\n"
		"      --crl FILE, --signer CN|SHA256, --max-chain-depth N, --no-check-time\n"
		"                            as for verify\n"
		"      --no-verify           do not check signatures (payloads must still match)\n"
		"      --base IMG            a delta's base image (the older package's image it\n"
		"                            was built against): needed to extract a delta\n"
		"  -f, --force               replace existing files\n"
		"  -q, --quiet               no notes\n"
		"  -h, --help                this help\n");
}

/* Where payload i goes, relative to DIR: a modification's file path, a firmware image's name. */
static const char *target_of(const struct fw_manifest *m, size_t i)
{
	return m->type == FW_TYPE_MODIFICATION ? m->files[i].path : m->payloads[i].name;
}

/*
 * Open the directory holding `path` below dirfd one component at a time,
 * never following a symbolic link, creating missing directories if `create`
 * (and recording them there, to be removed again if publishing fails).
 * Returns a new descriptor, -2 if a directory is missing (and !create), -1 on
 * error. *base points at the last component.
 */
static int open_parent(int dirfd, const char *path, struct extract *create, const char **base,
		       struct fw_err *err)
{
	char comp[FW_MOD_PATH_MAX + 1], shown[2 * FW_MOD_PATH_MAX];
	const char *p = path, *slash;
	int fd = dup(dirfd);

	if (fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s", strerror(errno));
	while ((slash = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(slash - p);
		int next, e;

		if (n == 0 || (size_t)(slash - path) >= sizeof(comp)) {
			close(fd);
			return fw_err_set(err, FW_EXIT_REJECTED, "%s: bad path",
					  fw_escape(path, shown, sizeof(shown)));
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			int made = mkdirat(fd, comp, 0755) == 0;
			if (made) {
				char *rel = create->n_made < MAX_MADE_DIRS ? strndup(path, (size_t)(slash - path)) : NULL;
				if (rel == NULL) {
					/* Cannot remember it: take it back now rather than leave it. */
					unlinkat(fd, comp, AT_REMOVEDIR);
					close(fd);
					return fw_err_set(err, FW_EXIT_IO, "too many directories to create");
				}
				create->made[create->n_made++] = rel;
			}
			if (!made && errno != EEXIST) {
				e = errno;
				close(fd);
				memcpy(comp, path, (size_t)(slash - path));
				comp[slash - path] = '\0';
				return fw_err_set(err, FW_EXIT_IO, "%s: cannot create directory: %s",
						  fw_escape(comp, shown, sizeof(shown)), strerror(e));
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		e = errno;
		close(fd);
		if (next < 0) {
			memcpy(comp, path, (size_t)(slash - path));
			comp[slash - path] = '\0';
			fw_escape(comp, shown, sizeof(shown));
			if (e == ENOENT && !create)
				return -2;
			if (e == ELOOP || e == ENOTDIR)
				return fw_err_set(err, FW_EXIT_USAGE,
						  "%s: exists and is not a directory (or is a symbolic link): "
						  "refusing to write through it", shown);
			return fw_err_set(err, FW_EXIT_IO, "%s: %s", shown, strerror(e));
		}
		fd = next;
		p = slash + 1;
	}
	*base = p;
	return fd;
}

/*
 * Which payloads to write: those named (by entry name, or a modification
 * file's path, as inspect shows them), or all. A name the package does not
 * hold is refused before anything is written.
 */
static int select_payloads(struct extract *x, const struct fw_manifest *m, struct fw_err *err)
{
	memset(x->selected, x->n_names == 0, sizeof(x->selected));
	for (size_t k = 0; k < x->n_names; k++) {
		int found = 0;

		for (size_t i = 0; i < m->n_payloads; i++)
			if (strcmp(x->names[k], m->payloads[i].name) == 0 || strcmp(x->names[k], target_of(m, i)) == 0)
				x->selected[i] = found = 1;
		/* inspect shows the SBOM's entry name too: say where it is to be had, not that it is missing. */
		if (!found && m->sbom.present && strcmp(x->names[k], FW_SBOM_ENTRY) == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%s: the SBOM is written only by an extract without NAMEs "
					  "(fwpkg inspect --sbom prints it)", FW_SBOM_ENTRY);
		if (!found) {
			char shown[2 * FW_MOD_PATH_MAX];
			return fw_err_set(err, FW_EXIT_USAGE, "%s: no such %s in the package (fwpkg inspect lists them)",
					  fw_escape(x->names[k], shown, sizeof(shown)),
					  m->type == FW_TYPE_FIRMWARE ? "image" : "file");
		}
	}
	return 0;
}

/* Before any byte is written, and again before publishing: nothing in the way. */
static int check_targets(struct extract *x, struct fw_err *err)
{
	const struct fw_manifest *m = x->m;

	for (size_t i = 0; i < m->n_payloads; i++) {
		const char *path = target_of(m, i), *base = NULL;
		char shown[2 * FW_MOD_PATH_MAX];
		struct stat st;
		int pfd, rc = 0;

		if (!x->selected[i])
			continue;
		pfd = open_parent(x->dirfd, path, NULL, &base, err);
		if (pfd == -2)
			continue;
		if (pfd < 0)
			return -1;
		fw_escape(path, shown, sizeof(shown));
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (!x->force)
				rc = fw_err_set(err, FW_EXIT_USAGE, "%s: " FW_MSG_EXISTS, shown);
			else if (S_ISDIR(st.st_mode))
				rc = fw_err_set(err, FW_EXIT_USAGE, "%s: exists and is a directory", shown);
		}
		close(pfd);
		if (rc < 0)
			return -1;
	}
	return sbom_check_target(x, err);
}

/* The manifest verified: apply the file-name rule, check the targets, make the staging directory. */
static int x_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct extract *x = ctx;

	x->m = m;
	if (fw_manifest_check_file_name(m, x->pkg, err) < 0 || select_payloads(x, m, err) < 0 ||
	    check_targets(x, err) < 0)
		return -1;
	for (int n = 0; n < 100; n++) {
		snprintf(x->stage, sizeof(x->stage), ".fwpkg-extract-%d-%d", (int)getpid(), n);
		if (mkdirat(x->dirfd, x->stage, 0700) == 0)
			break;
		if (errno != EEXIST || n == 99) {
			int e = errno;
			x->stage[0] = '\0';
			return fw_err_set(err, FW_EXIT_IO, "cannot create a staging directory: %s", strerror(e));
		}
	}
	x->stage_fd = openat(x->dirfd, x->stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x->stage_fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: %s", x->stage, strerror(errno));
	return sbom_stage(x, rep, err);
}

static int x_begin(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct extract *x = ctx;
	char name[32], shown[2 * FW_MOD_PATH_MAX];

	/* Not asked for: skipped, not even hashed. */
	if (!x->selected[index])
		return 2;
	snprintf(name, sizeof(name), "%zu", index);
	/* Firmware images keep the 0644-less-umask they always had; modification files get their declared mode at the end. */
	x->cur_fd = openat(x->stage_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			   m->type == FW_TYPE_MODIFICATION ? 0600 : 0644);
	if (x->cur_fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot create: %s",
				  fw_escape(target_of(m, index), shown, sizeof(shown)), strerror(errno));
	x->n_staged = index + 1;
	return 1;
}

/* A delta's image is rebuilt from the --base file of its base's size, checked against its digest by the reader. */
static struct cli_bases bases;

static int x_delta(void *ctx, const struct fw_manifest *m, size_t index, int *fd, struct fw_err *err)
{
	struct extract *x = ctx;
	int rc;

	if (!x->selected[index])
		return PKG_DELTA_NONE;
	if ((rc = cli_bases_source(&bases, m, index, fd, err)) == PKG_DELTA_NONE)
		fw_err_set(err, FW_EXIT_USAGE, "%s is a delta: give its base image with --base IMG to extract it",
			   m->payloads[index].name);
	return rc == PKG_DELTA_NONE ? -1 : rc;
}

static const char *x_delta_name(void *ctx, size_t index)
{
	(void)ctx;
	(void)index;
	return cli_bases_name(&bases);
}

static int x_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct extract *x = ctx;
	char shown[2 * FW_MOD_PATH_MAX];

	return fw_write_all(x->cur_fd, buf, len, fw_escape(target_of(x->m, x->n_staged - 1), shown, sizeof(shown)),
			    err);
}

static int x_end(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct extract *x = ctx;
	char shown[2 * FW_MOD_PATH_MAX];
	int rc = 0;

	if (!x->selected[index])
		return 0;
	/* fchmod, not the open mode: the declared mode, whatever the umask. */
	if (m->type == FW_TYPE_MODIFICATION && fchmod(x->cur_fd, m->files[index].mode) < 0)
		rc = -1;
	if (rc == 0 && fsync(x->cur_fd) < 0)
		rc = -1;
	if (close(x->cur_fd) < 0)
		rc = -1;
	x->cur_fd = -1;
	return rc < 0 ? fw_err_set(err, FW_EXIT_IO, "%s: %s",
				   fw_escape(target_of(m, index), shown, sizeof(shown)), strerror(errno)) : 0;
}

/*
 * Undo the renames of a publish that failed half-way, newest first: an
 * exchanged file goes back (and its successor into the staging directory),
 * a new one into the staging directory; then the directories made for the
 * package go. Best effort: the first thing that cannot be undone is reported.
 */
static void unpublish(struct extract *x)
{
	sbom_unpublish(x);
	for (size_t i = x->n_published; i-- > 0;) {
		const char *base = NULL;
		char name[32], shown[2 * FW_MOD_PATH_MAX];
		struct fw_err e = { 0 };
		int pfd, rc = -1;

		if (!x->selected[i])
			continue;
		pfd = open_parent(x->dirfd, target_of(x->m, i), NULL, &base, &e);

		snprintf(name, sizeof(name), "%zu", i);
		if (pfd >= 0) {
			rc = x->exchanged[i] ? renameat2(pfd, base, x->stage_fd, name, RENAME_EXCHANGE)
					     : renameat2(pfd, base, x->stage_fd, name, RENAME_NOREPLACE);
			if (rc == 0)
				fsync(pfd);
			close(pfd);
		}
		if (rc < 0)
			msg_error("extract", NULL, "%s: cannot undo: %s",
				  fw_escape(target_of(x->m, i), shown, sizeof(shown)), e.msg[0] ? e.msg : strerror(errno));
	}
	x->n_published = 0;
	for (size_t i = x->n_made; i-- > 0;)
		unlinkat(x->dirfd, x->made[i], AT_REMOVEDIR);
}

/* Everything verified: move the staged files to their places, all of them or none. */
static int publish(struct extract *x, struct fw_err *err)
{
	const struct fw_manifest *m = x->m;

	/* A file may have appeared meanwhile: better to find out before the first rename. */
	if (check_targets(x, err) < 0)
		return -1;
	for (size_t i = 0; i < m->n_payloads; i++) {
		const char *path = target_of(m, i), *base = NULL;
		char name[32], shown[2 * FW_MOD_PATH_MAX];
		struct stat st;
		int pfd, rc, e;

		if (!x->selected[i])
			continue;
		snprintf(name, sizeof(name), "%zu", i);
		pfd = open_parent(x->dirfd, path, x, &base, err);
		if (pfd < 0)
			goto undo;
		/* check_targets allowed an existing file only with -f: swap it out, keep it until the end. */
		x->exchanged[i] = x->force && fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
		rc = renameat2(x->stage_fd, name, pfd, base, x->exchanged[i] ? RENAME_EXCHANGE : RENAME_NOREPLACE);
		if (rc == 0) {
			x->n_published = i + 1;
			if (fsync(pfd) < 0)
				rc = -1;
		}
		e = errno;
		close(pfd);
		if (rc < 0) {
			fw_escape(path, shown, sizeof(shown));
			fw_err_set(err, e == EEXIST ? FW_EXIT_USAGE : FW_EXIT_IO, "%s: %s", shown,
				   e == EEXIST ? FW_MSG_EXISTS : strerror(e));
			goto undo;
		}
	}
	if (sbom_publish(x, err) < 0)
		goto undo;
	return 0;
undo:
	unpublish(x);
	return -1;
}

/* Remove what is left of the staging directory. */
static void discard(struct extract *x)
{
	if (x->cur_fd >= 0)
		close(x->cur_fd);
	x->cur_fd = -1;
	if (x->stage_fd >= 0) {
		/* Files not published, or the old files that published ones replaced. */
		for (size_t i = 0; i < x->n_staged; i++) {
			char name[32];
			snprintf(name, sizeof(name), "%zu", i);
			unlinkat(x->stage_fd, name, 0);
		}
		if (x->sbom_staged)
			unlinkat(x->stage_fd, SBOM_STAGED, 0);
		close(x->stage_fd);
		x->stage_fd = -1;
	}
	if (x->stage[0] != '\0')
		unlinkat(x->dirfd, x->stage, AT_REMOVEDIR);
	x->stage[0] = '\0';
	for (size_t i = 0; i < x->n_made; i++)
		free(x->made[i]);
	x->n_made = 0;
}

int cmd_extract(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-verify", no_argument, NULL, 'N' },
		{ "directory", required_argument, NULL, 'C' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "base", required_argument, NULL, 'B' },
		CLI_TRUST_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	static struct extract x;
	struct cli_keys keys = { .n_pubs = 0 };
	struct sig_trust trust;
	struct pkg_read_opts ropts = { .trust = &trust, .keep_sbom = 1 };
	struct pkg_reader_ops ops = { .manifest = x_manifest, .payload_begin = x_begin,
				      .payload_data = x_data, .payload_end = x_end, .delta_source = x_delta,
				      .delta_name = x_delta_name };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	const char *dir = ".", *path;
	int c, fd = -1, no_verify = 0, rc = FW_EXIT_USAGE, made_dir = 0;

	memset(&rep, 0, sizeof(rep));
	sig_trust_init(&trust);
	memset(&x, 0, sizeof(x));
	x.cur_fd = -1;
	x.dirfd = -1;
	x.stage_fd = -1;
	optind = 1;
	/* getopt would start its messages with the verb, not "fwpkg: verb:". */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:C:fqhP:", opts, NULL)) != -1) {
		switch (c) {
		case 'N': no_verify = 1; break;
		case 'C': dir = optarg; break;
		case 'f': x.force = 1; break;
		case 'B':
			if (cli_bases_add(&bases, optarg) < 0)
				return FW_EXIT_USAGE;
			break;
		case 'q': msg_quiet = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		default:
			switch (cli_keys_option(&keys, c, optarg)) {
			case 1: break;
			case 0: return cli_bad_option("extract", c, argv);
			default: return FW_EXIT_USAGE;
			}
			break;
		}
	}
	if (optind == argc) {
		msg_error("extract", NULL, "no package given");
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	path = argv[optind];
	x.names = argv + optind + 1;
	x.n_names = (size_t)(argc - optind - 1);
	x.pkg = path;
	if (no_verify) {
		if (cli_keys_given(&keys)) {
			msg_error("extract", NULL, "--no-verify and trusted keys exclude each other");
			return FW_EXIT_USAGE;
		}
		ropts.trust = NULL;
		msg_note("warning: --no-verify: signatures are not checked (payloads still match the manifest)");
	} else if (cli_keys_load(&keys, &trust, &err) < 0) {
		return msg_fail("extract", NULL, &err);
	}
	/* Like unzip -d: a missing target directory is made (one level), and
	 * removed again if the package is rejected, so a failure leaves nothing. */
	if (mkdir(dir, 0755) == 0)
		made_dir = 1;
	x.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.dirfd < 0) {
		sig_trust_free(&trust);
		msg_error("extract", dir, "cannot open directory: %s", strerror(errno));
		if (made_dir)
			rmdir(dir);
		return FW_EXIT_IO;
	}
	if (cli_bases_open(&bases, &err) < 0) {
		rc = msg_fail("extract", NULL, &err);
		goto out;
	}
	if ((fd = cli_open_input(path, &err)) < 0) {
		rc = msg_fail("extract", path, &err);
		goto out;
	}
	if (pkg_read(fd, &ropts, &ops, &x, &m, &rep, &err) < 0) {
		rc = msg_fail("extract", path, &err);
		goto out;
	}
	/* pkg_read hands back the manifest it showed x_manifest; publish from that one. */
	x.m = m;
	if (publish(&x, &err) < 0) {
		rc = msg_fail("extract", path, &err);
		goto out;
	}
	for (size_t i = 0; i < m->n_payloads; i++) {
		char shown[2 * FW_MOD_PATH_MAX];
		if (x.selected[i])
			printf("%s\n", fw_escape(target_of(m, i), shown, sizeof(shown)));
	}
	if (sbom_wanted(&x))
		printf("%s\n", FW_SBOM_ENTRY);
	rc = FW_EXIT_OK;
out:
	cli_bases_close(&bases);
	discard(&x);
	if (fd > STDIN_FILENO)
		close(fd);
	close(x.dirfd);
	if (rc != FW_EXIT_OK && made_dir)
		rmdir(dir);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	sig_trust_free(&trust);
	return rc;
}
