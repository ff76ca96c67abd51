/* cmd_package: fwctl package install|remove|show|list — parse the field's words, call the package store, print. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_file.h"
#include "device/dev_pkgstore.h"
#include "device/dev_root.h"
#include "device/dev_source.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] package install [persistent] SOURCE\n"
		   "       fwctl [--root DIR] package remove [-y] [NAME|all]\n"
		   "       fwctl [--root DIR] package list|show [NAME] [--json]\n"
		   "SOURCE: PATH/NAME.wmopkg | file://PATH | usb://PATH | media LABEL PATH | - --name NAME.wmopkg |\n"
		   "        [proto ftp|tftp|scp|sftp|http|https] [user USER] ADDRESS[:PORT] NAME.wmopkg\n"
		   "        (network sources are not supported yet; a password is never taken from the command line)\n"
		   "Packages take effect at the next boot ('fwctl boot').\n");
}

static void print_note(void *ctx, const char *text)
{
	(void)ctx;
	msg_note("%s", text);
}

/*
 * Only when standard input is a terminal (a person is there): the question
 * goes to the terminal itself, the answer comes from standard input; a
 * script, whose input is a file or a pipe, is never asked (it gives -y).
 */
int cmd_confirm(const char *question)
{
	char answer[16] = "";
	int fd;
	ssize_t n;

	if (!isatty(STDIN_FILENO) || (fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC)) < 0)
		return -1;
	if (write(fd, question, strlen(question)) < 0 || write(fd, " [y/N] ", 7) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	n = read(STDIN_FILENO, answer, sizeof(answer) - 1);
	if (n <= 0)
		return 0;
	answer[n] = '\0';
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* The package name a file name gives: base name, ".wmopkg" required. 0 or -1 (usage). */
static int name_from_file(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t blen = strlen(base), elen = strlen(FW_MOD_EXT);
	char shown[FW_ESCAPED_SIZE(256)];

	if (blen <= elen || strcmp(base + blen - elen, FW_MOD_EXT) != 0 || blen - elen >= n) {
		msg_error("package install", NULL, "%s: a package file is named NAME%s (only its base name names the package)",
			  fw_escape(base, shown, sizeof(shown)), FW_MOD_EXT);
		return -1;
	}
	memcpy(out, base, blen - elen);
	out[blen - elen] = '\0';
	if (!fw_pkg_name_valid(out)) {
		msg_error("package install", NULL, "%s: not a valid package name (letters, digits, '.', '_', '-')",
			  fw_escape(base, shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

/* A network form: parsed, recorded as netError, refused with exit 4 until the transport module is in. */
static int install_net(const char *root, const char *shown_src, const char *file)
{
	struct dev_root r;
	struct fw_err err = { 0, "" };
	char name[FW_PKG_NAME_MAX + 1], msg[256];

	if (name_from_file(file, name, sizeof(name)) < 0)
		return FW_EXIT_USAGE;
	if (dev_root_open(&r, root, 1, &err) < 0)
		return msg_fail("package install", NULL, &err);
	snprintf(msg, sizeof(msg), "network sources are not supported yet: copy the package to the device and give its "
				   "path, or use usb:// or media LABEL PATH");
	if (dev_pkg_record(&r, DEV_RESULT_NET_ERROR, name, shown_src, msg, &err) < 0)
		msg_error("package install", NULL, "the result could not be recorded: %s", err.msg);
	dev_root_close(&r);
	msg_error("package install", shown_src, "%s", msg);
	return FW_EXIT_NET;
}

static int cmd_install(const char *root, int argc, char **argv)
{
	struct dev_root r;
	struct dev_source src;
	struct dev_pkg_install_req req = { .note = print_note };
	struct dev_pkg out;
	struct fw_err err = { 0, "" };
	const char *label = NULL, *proto = NULL, *user = NULL, *name_opt = NULL, *words[3];
	char name[FW_PKG_NAME_MAX + 1], file_name[FW_PKG_NAME_MAX + 16], shown[700];
	int i = 1, n = 0, rc;

	for (; i < argc; i++) {
		const char *w = argv[i];
		if (strcmp(w, "persistent") == 0) {
			req.persistent = 1;
		} else if ((strcmp(w, "media") == 0 || strcmp(w, "proto") == 0 || strcmp(w, "user") == 0 ||
			    strcmp(w, "password") == 0 || strcmp(w, "--name") == 0) && i + 1 < argc) {
			const char *v = argv[++i];
			if (strcmp(w, "media") == 0)
				label = v;
			else if (strcmp(w, "proto") == 0)
				proto = v;
			else if (strcmp(w, "user") == 0)
				user = v;
			else if (strcmp(w, "password") == 0) {
				/* The field's word, refused: argv is visible to every user of the device (ps). */
				msg_error("package install", NULL, "password: not on the command line (others can read it): "
								   "it is asked on the terminal");
				return FW_EXIT_USAGE;
			}
			else
				name_opt = v;
		} else if (n < 2) {
			words[n++] = w;
		} else {
			msg_error("package install", NULL, "too many words");
			usage(stderr);
			return FW_EXIT_USAGE;
		}
	}
	if (n == 0) {
		msg_error("package install", NULL, "no source: give NAME.wmopkg's path, a URI, media LABEL PATH or ADDRESS NAME.wmopkg");
		return FW_EXIT_USAGE;
	}
	if (proto != NULL && strcmp(proto, "ftp") != 0 && strcmp(proto, "tftp") != 0 && strcmp(proto, "scp") != 0 &&
	    strcmp(proto, "sftp") != 0 && strcmp(proto, "http") != 0 && strcmp(proto, "https") != 0) {
		msg_error("package install", NULL, "proto %s: use ftp, tftp, scp, sftp, http or https", proto);
		return FW_EXIT_USAGE;
	}
	/* ADDRESS NAME.wmopkg, a proto, a user or a password: the network forms of the field. */
	if (n == 2 || proto != NULL || user != NULL || strncmp(words[0], "scp://", 6) == 0 ||
	    strncmp(words[0], "sftp://", 7) == 0) {
		if (label != NULL) {
			msg_error("package install", NULL, "media LABEL and a network address exclude each other");
			return FW_EXIT_USAGE;
		}
		snprintf(shown, sizeof(shown), "%s%s%s%s%s", proto ? proto : "", proto ? " " : "", words[0],
			 n == 2 ? " " : "", n == 2 ? words[1] : "");
		return install_net(root, shown, n == 2 ? words[1] : words[0]);
	}
	{
		const char *media_words[3] = { "media", label, words[0] };
		if (dev_source_parse(label ? 3 : 1, label ? (char *const *)media_words : (char *const *)words, &src,
				     &err) < 0)
			return msg_fail("package install", NULL, &err);
	}
	if (src.kind == DEV_SRC_NET)
		return install_net(root, src.shown, src.path);
	if (src.kind == DEV_SRC_STDIN) {
		if (name_opt == NULL) {
			msg_error("package install", NULL, "-: give the package's file name with --name NAME%s", FW_MOD_EXT);
			return FW_EXIT_USAGE;
		}
		if (name_from_file(name_opt, name, sizeof(name)) < 0)
			return FW_EXIT_USAGE;
	} else {
		if (name_opt != NULL) {
			msg_error("package install", NULL, "--name is for - (stdin) only: a file's own name names its package");
			return FW_EXIT_USAGE;
		}
		if (name_from_file(src.path, name, sizeof(name)) < 0)
			return FW_EXIT_USAGE;
	}
	snprintf(file_name, sizeof(file_name), "%s%s", name, FW_MOD_EXT);
	req.src = &src;
	req.file_name = file_name;
	if (dev_root_open(&r, root, 1, &err) < 0)
		return msg_fail("package install", NULL, &err);
	if (dev_pkg_install(&r, &req, &out, &err) < 0) {
		rc = msg_fail("package install", src.shown, &err);
	} else {
		msg_note("package: installed %s %s%s (%s); it takes effect at the next boot", out.name, out.version,
			 out.persistent ? " persistent" : "", dev_pkg_verif_name(out.signature));
		rc = FW_EXIT_OK;
	}
	dev_root_close(&r);
	return rc;
}

static int cmd_remove(const char *root, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0, "" };
	const char *name = NULL;
	int yes = 0, rc;
	size_t removed;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-y") == 0 || strcmp(argv[i], "--yes") == 0) {
			yes = 1;
		} else if (name == NULL && argv[i][0] != '-') {
			name = argv[i];
		} else {
			msg_error("package remove", NULL, "unexpected \"%s\"", argv[i]);
			usage(stderr);
			return FW_EXIT_USAGE;
		}
	}
	if (name != NULL && strcmp(name, "all") == 0)
		name = NULL;
	if (dev_root_open(&r, root, 1, &err) < 0)
		return msg_fail("package remove", NULL, &err);
	if (name == NULL && !yes) {
		int a = cmd_confirm("fwctl: remove every installed package?");
		if (a < 0) {
			msg_error("package remove", NULL, "removing all packages asks y/N on a terminal; without one, give -y");
			rc = FW_EXIT_USAGE;
			goto out;
		}
		if (a == 0) {
			msg_note("package: nothing removed");
			rc = FW_EXIT_OK;
			goto out;
		}
	}
	if (dev_pkg_remove(&r, name, &removed, &err) < 0) {
		rc = msg_fail("package remove", NULL, &err);
		goto out;
	}
	msg_note("package: removed %zu package%s; %s at the next boot", removed, removed == 1 ? "" : "s",
		 removed == 1 ? "its files go" : "their files go");
	rc = FW_EXIT_OK;
out:
	dev_root_close(&r);
	return rc;
}

static void print_table(const struct dev_pkg_list *l)
{
	char desc[FW_ESCAPED_SIZE(200)], d[201];

	printf("%-20s %-12s %-10s %-21s %-6s %s\n", "NAME", "VERSION", "PERSISTENT", "VERIFICATION", "ACTIVE",
	       "DESCRIPTION");
	for (size_t i = 0; i < l->n; i++) {
		const struct dev_pkg *p = &l->pkg[i];
		snprintf(d, sizeof(d), "%s", p->description);
		printf("%-20s %-12s %-10s %-21s %-6s %s\n", p->name, p->version, p->persistent ? "yes" : "no",
		       dev_pkg_verif_name(p->verification), p->active ? "yes" : "no", fw_escape(d, desc, sizeof(desc)));
	}
}

static void print_one(const struct dev_pkg *p)
{
	char shown[FW_ESCAPED_SIZE(FW_DESCRIPTION_MAX)], when[32];

	fw_time_iso(p->installed, when);
	printf("%-14s %s\n", "name", p->name);
	printf("%-14s %s\n", "version", p->version);
	printf("%-14s %s\n", "description", fw_escape(p->description, shown, sizeof(shown)));
	printf("%-14s %s\n", "persistent", p->persistent ? "yes" : "no");
	printf("%-14s %s\n", "verification", dev_pkg_verif_name(p->verification));
	printf("%-14s %s\n", "active", p->active ? "yes" : "no");
	if (p->note[0])
		printf("%-14s %s\n", "why", fw_escape_msg(p->note, shown, sizeof(shown)));
	printf("%-14s %s\n", "signature", dev_pkg_verif_name(p->signature));
	printf("%-14s %s\n", "installed", when);
	printf("%-14s %s\n", "source", fw_escape_msg(p->source, shown, sizeof(shown)));
	printf("%-14s %s\n", "file", p->file);
	for (size_t i = 0; i < p->n_paths; i++)
		printf("%-14s %s\n", i == 0 ? "files" : "", fw_escape(p->paths[i], shown, sizeof(shown)));
}

static json_t *pkg_json(const struct dev_pkg *p)
{
	json_t *o = dev_pkg_to_json(p);

	if (o == NULL || json_object_set_new(o, "name", json_string(p->name)) < 0 ||
	    json_object_set_new(o, "verification", json_string(dev_pkg_verif_name(p->verification))) < 0 ||
	    json_object_set_new(o, "active", json_boolean(p->active)) < 0 ||
	    json_object_set_new(o, "note", fw_json_text(p->note)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int cmd_list(const char *root, int argc, char **argv)
{
	static struct dev_pkg_list l;
	struct dev_root r;
	struct fw_err err = { 0, "" };
	const char *name = NULL;
	int json = 0, rc = FW_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (name == NULL && argv[i][0] != '-' && strcmp(argv[0], "show") == 0)
			name = argv[i];
		else {
			msg_error("package", NULL, "%s: unexpected \"%s\"", argv[0], argv[i]);
			usage(stderr);
			return FW_EXIT_USAGE;
		}
	}
	/* No lock: the index and the boot's findings are each replaced atomically. */
	if (dev_root_open(&r, root, 0, &err) < 0)
		return msg_fail("package", NULL, &err);
	if (dev_pkgs_load(&r, &l, &err) < 0) {
		rc = msg_fail("package", NULL, &err);
		goto out;
	}
	if (name != NULL && dev_pkgs_find(&l, name) == NULL) {
		char shown[FW_ESCAPED_SIZE(128)];
		msg_error("package", NULL, "show: no package \"%s\" is installed", fw_escape(name, shown, sizeof(shown)));
		rc = FW_EXIT_USAGE;
		goto out;
	}
	if (json) {
		json_t *doc = NULL, *arr = json_array(), *last;
		char *lp = dev_pkg_path(&r, DEV_PKG_LAST);
		int bad = arr == NULL || lp == NULL;

		for (size_t i = 0; !bad && i < l.n; i++)
			if (name == NULL || strcmp(l.pkg[i].name, name) == 0)
				bad = json_array_append_new(arr, pkg_json(&l.pkg[i])) < 0;
		last = lp ? dev_json_read(lp, NULL, &err) : NULL;
		free(lp);
		if (!bad && name != NULL) {
			doc = json_incref(json_array_get(arr, 0));
		} else if (!bad) {
			doc = json_object();
			bad = doc == NULL || json_object_set(doc, "packages", arr) < 0 ||
			      json_object_set_new(doc, "last_install", last ? last : json_null()) < 0;
			last = NULL;
		}
		json_decref(last);
		json_decref(arr);
		if (bad || doc == NULL) {
			json_decref(doc);
			msg_error("package", NULL, "out of memory");
			rc = FW_EXIT_IO;
		} else if (msg_print_json(doc) < 0) {
			rc = FW_EXIT_IO;
		}
	} else {
		if (name != NULL)
			print_one(dev_pkgs_find(&l, name));
		else
			print_table(&l);
		rc = fflush(stdout) == 0 ? FW_EXIT_OK : FW_EXIT_IO;
	}
out:
	dev_pkgs_free(&l);
	dev_root_close(&r);
	return rc;
}

int cmd_package(const char *root, int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	if (strcmp(argv[1], "install") == 0)
		return cmd_install(root, argc - 1, argv + 1);
	if (strcmp(argv[1], "remove") == 0)
		return cmd_remove(root, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "show") == 0)
		return cmd_list(root, argc - 1, argv + 1);
	msg_error("package", NULL, "unknown subcommand \"%s\": install, remove, show or list", argv[1]);
	usage(stderr);
	return FW_EXIT_USAGE;
}
