/* cmd_package: fwctl package install|remove|show|list — parse the field's words, call the package store, print. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/cancel.h"
#include "base/escape.h"
#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_file.h"
#include "device/dev_pkgstore.h"
#include "device/dev_root.h"
#include "device/dev_source.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] package install [persistent] [--password-file F] SOURCE\n"
		   "       fwctl [--root DIR] package remove [-y] [NAME|all]\n"
		   "       fwctl [--root DIR] package list|show [NAME] [--json]\n"
		   "SOURCE: PATH/NAME.wmopkg | file://PATH | usb://PATH | media LABEL PATH | - --name NAME.wmopkg |\n"
		   "        [proto ftp|tftp|scp|sftp|http|https] [user USER] ADDRESS[:PORT] [DIR/]NAME.wmopkg |\n"
		   "        ftp|tftp|http|https|scp|sftp://[USER@]ADDRESS[:PORT]/PATH/NAME.wmopkg |\n"
		   "        ADDRESS[:PORT]/PATH/NAME.wmopkg\n"
		   "ADDRESS NAME without proto: FTP (anonymous unless user), then TFTP. scp and sftp log in as\n"
		   "the user running fwctl unless user USER, and check the server's key against the file\n"
		   "'fwctl config ssh-known-hosts' sets. A user's password comes from --password-file F (its\n"
		   "first line), else $FWCTL_PASSWORD, else it is asked on the terminal; with\n"
		   "'fwctl config ssh-key' set, scp and sftp log in with the device's key and ask nothing.\n"
		   "('password PASSWORD' is taken too, but every user of the device can read it in the\n"
		   "process list.)\n"
		   "remove asks y/N on a terminal (-y: it does not); without one, remove all needs -y.\n"
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
	/*
	 * Under package's cancel handler (fw_cancel) a Ctrl-C only sets a flag and the read
	 * would go on (SA_RESTART): the person would have to answer, and a "y" typed after
	 * the Ctrl-C still removed. poll is never restarted: the stop ends the question,
	 * before anything changed, as the signal does where nobody catches it.
	 */
	for (;;) {
		struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
		int sig = fw_cancel_requested();

		if (sig != 0) {
			if ((fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC)) >= 0) {
				if (write(fd, "\n", 1) < 0) {
					/* only the terminal's cursor */
				}
				close(fd);
			}
			signal(sig, SIG_DFL);
			raise(sig);
			return 0;
		}
		/* A stop and an answer that come together: the stop wins (its handler ran before poll returned). */
		if ((n = poll(&in, 1, -1)) > 0 && !fw_cancel_requested())
			break;
		if (n < 0 && errno != EINTR)
			return 0;
	}
	n = read(STDIN_FILENO, answer, sizeof(answer) - 1);
	if (n <= 0)
		return 0;
	answer[n] = '\0';
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* Where the password comes from: the field's `password` word, a file, the environment, or the terminal. */
struct pw_sources {
	char *word;            /* the argv string of `password PASSWORD` (wiped from the process listing once read) */
	const char *file;      /* --password-file F */
	int key_login;         /* scp, sftp with the device's key (config ssh-key): a password is optional, never asked */
};


/* While the echo is off: the terminal as it was, so Ctrl-C does not leave it silent. */
static struct termios tty_saved;
static volatile sig_atomic_t tty_fd = -1;

static void restore_tty(int sig)
{
	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSANOW, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Ask on the terminal, without echo. 0, or -1 (no terminal, or nothing typed). */
static int ask_password(const struct dev_source *src, char *out, size_t n)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa, was[4];
	struct termios old, quiet;
	char prompt[700];
	ssize_t got = 0, r;
	int fd;

	if (!isatty(STDIN_FILENO) || (fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return -1;
	snprintf(prompt, sizeof(prompt), "fwctl: password for %s@%s: ", src->user, src->host);
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	tty_saved = old;
	tty_fd = fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_tty;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &was[i]);
	/* Echo off (and typeahead dropped) before the prompt: an answer typed after it is never lost. */
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0 || write(fd, prompt, strlen(prompt)) < 0) {
		got = -1;
	} else {
		while ((size_t)got < n - 1 && (r = read(fd, out + got, 1)) == 1 && out[got] != '\n')
			got++;
		out[got] = '\0';
	}
	tcsetattr(fd, TCSANOW, &old);
	tty_fd = -1;
	for (size_t i = 0; i < 4; i++)
		sigaction(sigs[i], &was[i], NULL);
	if (write(fd, "\n", 1) < 0) {
		/* the answer is what counts */
	}
	close(fd);
	return got > 0 ? 0 : -1;
}

/* The first line of a file (the password for scripts). 0, or -1 with an exit code in *rc. */
static int read_password_file(const char *path, char *out, size_t n, int *rc)
{
	FILE *f = fopen(path, "re");
	size_t len;

	if (f == NULL) {
		msg_error("package install", path, "cannot read the password file: %s", strerror(errno));
		*rc = FW_EXIT_IO;
		return -1;
	}
	if (fgets(out, (int)n, f) == NULL)
		out[0] = '\0';
	fclose(f);
	len = strcspn(out, "\r\n");
	if (out[len] == '\0' && len == n - 1) {
		explicit_bzero(out, n);
		msg_error("package install", path, "the password is longer than %zu characters", n - 2);
		*rc = FW_EXIT_USAGE;
		return -1;
	}
	out[len] = '\0';
	if (len == 0) {
		msg_error("package install", path, "the password file's first line is empty");
		*rc = FW_EXIT_USAGE;
		return -1;
	}
	return 0;
}

/*
 * A login without a password gets one: from the `password` word, the file,
 * FWCTL_PASSWORD (wiped from the environment once read), or the terminal
 * (not asked when the device's ssh key logs in to an scp or sftp server).
 * 0, or -1 with an exit code in *rc.
 */
static int get_password(struct dev_source *src, const struct pw_sources *from, int *rc)
{
	char *env = getenv("FWCTL_PASSWORD");
	size_t n = sizeof(src->password);

	if (src->kind != DEV_SRC_NET || src->user[0] == '\0') {
		if (from->word != NULL || from->file != NULL) {
			msg_error("package install", NULL, "a password goes with a user: give user USER (ftp, http, https) "
							   "or use scp or sftp");
			*rc = FW_EXIT_USAGE;
			return -1;
		}
		return 0;
	}
	if (src->password[0] == '\0' && from->word != NULL) {
		if (strlen(from->word) >= n) {
			msg_error("package install", NULL, "password: longer than %zu characters", n - 1);
			*rc = FW_EXIT_USAGE;
			return -1;
		}
		snprintf(src->password, n, "%s", from->word);
	} else if (src->password[0] == '\0' && from->file != NULL) {
		if (read_password_file(from->file, src->password, n, rc) < 0)
			return -1;
	} else if (src->password[0] == '\0' && env != NULL && env[0] != '\0') {
		if (strlen(env) >= n) {
			msg_error("package install", NULL, "FWCTL_PASSWORD: longer than %zu characters", n - 1);
			*rc = FW_EXIT_USAGE;
			return -1;
		}
		snprintf(src->password, n, "%s", env);
	} else if (src->password[0] == '\0' && from->key_login) {
		/* the device's key logs in */
	} else if (src->password[0] == '\0' && ask_password(src, src->password, n) < 0) {
		msg_error("package install", src->shown, "user %s needs a password, and there is no terminal to ask on: "
							"give --password-file FILE or set FWCTL_PASSWORD", src->user);
		*rc = FW_EXIT_USAGE;
		return -1;
	}
	/* Only this process has it now: not /proc/PID/environ, nor a child's environment. */
	if (env != NULL) {
		explicit_bzero(env, strlen(env));
		unsetenv("FWCTL_PASSWORD");
	}
	return 0;
}

static int cmd_install(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct dev_source src;
	struct dev_pkg_install_req req = { .note = print_note };
	struct dev_pkg out;
	struct fw_err err = { 0 };
	struct pw_sources pw = { NULL, NULL, 0 };
	const char *label = NULL, *user = NULL, *name_opt = NULL, *words[3];
	enum dev_proto proto = DEV_PROTO_NONE;
	char name[FW_PKG_NAME_MAX + 1], file_name[FW_PKG_NAME_MAX + 16];
	int i = 1, n = 0, rc, word_at[2] = { 0, 0 };

	for (; i < argc; i++) {
		const char *w = argv[i];
		if (strcmp(w, "persistent") == 0) {
			req.persistent = 1;
		} else if ((strcmp(w, "media") == 0 || strcmp(w, "proto") == 0 || strcmp(w, "user") == 0 ||
			    strcmp(w, "password") == 0 || strcmp(w, "--name") == 0 || strcmp(w, "--password-file") == 0) &&
			   i + 1 < argc) {
			char *v = argv[++i];
			if (strcmp(w, "media") == 0) {
				label = v;
			} else if (strcmp(w, "proto") == 0) {
				static const enum dev_proto protos[] = { DEV_PROTO_FTP, DEV_PROTO_TFTP, DEV_PROTO_SCP,
									 DEV_PROTO_SFTP, DEV_PROTO_HTTP, DEV_PROTO_HTTPS };
				for (size_t k = 0; k < sizeof(protos) / sizeof(protos[0]); k++)
					if (strcmp(v, dev_proto_name(protos[k])) == 0)
						proto = protos[k];
				if (proto == DEV_PROTO_NONE) {
					msg_error("package install", NULL, "proto %s: use ftp, tftp, scp, sftp, http or https", v);
					return FW_EXIT_USAGE;
				}
			} else if (strcmp(w, "user") == 0) {
				user = v;
			} else if (strcmp(w, "password") == 0) {
				/* The field's word: taken, but argv is visible to every user of the device (ps). */
				pw.word = v;
			} else if (strcmp(w, "--password-file") == 0) {
				pw.file = v;
			} else {
				name_opt = v;
			}
		} else if (n < 2) {
			word_at[n] = i;
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
	if (label != NULL && (n != 1 || proto != DEV_PROTO_NONE || user != NULL || pw.word != NULL)) {
		msg_error("package install", NULL, "media LABEL PATH takes one path, and no proto, user or password");
		return FW_EXIT_USAGE;
	}
	{
		const char *media_words[3] = { "media", label, words[0] };
		if (dev_source_parse_package(label ? 3 : n, label ? (char *const *)media_words : (char *const *)words,
					     proto, user, &src, &err) < 0)
			return msg_fail("package install", NULL, &err);
	}
	/* Parsed into src: the process listing shows neither the URL's password nor the password word (its every byte). */
	for (int k = 0; k < n; k++)
		dev_source_hide_password(argv[word_at[k]]);
	if (src.kind == DEV_SRC_STDIN) {
		if (name_opt == NULL) {
			msg_error("package install", NULL, "-: give the package's file name with --name NAME%s", FW_MOD_EXT);
			return FW_EXIT_USAGE;
		}
		if (fw_mod_name_from_path(name_opt, name, &err) < 0)
			return msg_fail("package install", NULL, &err);
	} else {
		if (name_opt != NULL) {
			msg_error("package install", NULL, "--name is for - (stdin) only: a file's own name names its package");
			return FW_EXIT_USAGE;
		}
		if (fw_mod_name_from_path(src.path, name, &err) < 0)
			return msg_fail("package install", NULL, &err);
	}
	rc = FW_EXIT_OK;
	if (src.proto == DEV_PROTO_SCP || src.proto == DEV_PROTO_SFTP) {
		/* A look at the configuration (no lock: it is replaced atomically); the install reads it again. */
		if (dev_root_open(&r, env->root, 0, &err) < 0)
			return msg_fail("package install", NULL, &err);
		pw.key_login = r.cfg.ssh_key != NULL;
		dev_root_close(&r);
	}
	if (get_password(&src, &pw, &rc) < 0)
		goto wipe;
	if (pw.word != NULL)
		dev_source_hide_secret(pw.word);
	snprintf(file_name, sizeof(file_name), "%s%s", name, FW_MOD_EXT);
	req.src = &src;
	req.file_name = file_name;
	if (dev_root_open(&r, env->root, env->lock, &err) < 0) {
		rc = msg_fail("package install", NULL, &err);
		goto wipe;
	}
	if (dev_pkg_install(&r, &req, &out, &err) < 0) {
		rc = msg_fail("package install", src.shown, &err);
	} else {
		msg_note("package: installed %s %s%s (%s); it takes effect at the next boot", out.name, out.version,
			 out.persistent ? " persistent" : "", dev_pkg_verif_name(out.signature));
		/* As upgrade says it: a stop after the last safe point does not undo the install. */
		if (fw_cancel_requested())
			msg_note("package: the cancel came after the package was installed (cancellation failed); "
				 "'fwctl package remove %s' takes it out", out.name);
		rc = FW_EXIT_OK;
	}
	dev_root_close(&r);
wipe:
	explicit_bzero(&src, sizeof(src));
	return rc;
}

/*
 * package remove's one y/N question, for a name and for all (the field's
 * "Remove package NAME (y/N)?", "Remove all packages (y/N)?"): 1 yes, 0 no,
 * -1 no terminal to ask on (then a name is removed, all needs -y). A name
 * that is not installed is not asked about: dev_pkg_remove says so.
 */
static int confirm_remove(const struct dev_root *r, const char *name)
{
	struct dev_pkg_list l;
	struct fw_err err = { 0 };
	char question[FW_NAME_MAX * 4 + 64], shown[FW_NAME_MAX * 4 + 1];
	int installed;

	if (name == NULL)
		return cmd_confirm("fwctl: remove every installed package?");
	if (dev_pkgs_load(r, &l, &err) < 0)
		return 1;   /* dev_pkg_remove reads the list again and reports it */
	installed = dev_pkgs_find(&l, name) != NULL;
	dev_pkgs_free(&l);
	if (!installed)
		return 1;
	snprintf(question, sizeof(question), "fwctl: remove package %s?", fw_escape(name, shown, sizeof(shown)));
	return cmd_confirm(question);
}

static int cmd_remove(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
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
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("package remove", NULL, &err);
	if (!yes) {
		int a = confirm_remove(&r, name);
		if (a < 0 && name == NULL) {
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
	char when[FW_ISOTIME_LEN];

	/* The index keeps seconds; JSON output has one convention for times, ISO 8601 (fwctl(8)). */
	if (o == NULL || json_object_set_new(o, "installed", json_string(fw_time_iso(p->installed, when))) < 0 ||
	    json_object_set_new(o, "name", json_string(p->name)) < 0 ||
	    json_object_set_new(o, "verification", json_string(dev_pkg_verif_name(p->verification))) < 0 ||
	    json_object_set_new(o, "active", json_boolean(p->active)) < 0 ||
	    json_object_set_new(o, "note", fw_json_text(p->note)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int cmd_list(const struct cmd_env *env, int argc, char **argv)
{
	static struct dev_pkg_list l;
	struct dev_root r;
	struct fw_err err = { 0 };
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
	/* No lock (fwctl's table): the index and the boot's findings are each replaced atomically. */
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
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

int cmd_package(const struct cmd_env *env, int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	/* fwctl package --help, and fwctl package install|remove|list|show --help */
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0))) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	if (strcmp(argv[1], "install") == 0)
		return cmd_install(env, argc - 1, argv + 1);
	if (strcmp(argv[1], "remove") == 0)
		return cmd_remove(env, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "show") == 0)
		return cmd_list(env, argc - 1, argv + 1);
	msg_error("package", NULL, "unknown subcommand \"%s\": install, remove, show or list", argv[1]);
	usage(stderr);
	return FW_EXIT_USAGE;
}
