/* dev_source: the field's SOURCE forms (path, file://, usb://, media, ftp/tftp/http(s) URIs, ADDRESS FILE; scp/sftp for packages). */
#include "dev_source.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/escape.h"
#include "device/dev_root.h"

static const char *const proto_names[] = {
	[DEV_PROTO_NONE] = "none",
	[DEV_PROTO_AUTO] = "ftp-then-tftp",
	[DEV_PROTO_FTP] = "ftp",
	[DEV_PROTO_TFTP] = "tftp",
	[DEV_PROTO_HTTP] = "http",
	[DEV_PROTO_HTTPS] = "https",
	[DEV_PROTO_SCP] = "scp",
	[DEV_PROTO_SFTP] = "sftp",
};

const char *dev_proto_name(enum dev_proto p)
{
	return (unsigned)p < sizeof(proto_names) / sizeof(proto_names[0]) ? proto_names[p] : "unknown";
}

static int copy(char *dst, size_t n, const char *src, size_t len, const char *what, struct fw_err *err)
{
	if (len >= n)
		return fw_err_set(err, FW_EXIT_USAGE, "%s too long", what);
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* A path on a medium: relative to the medium, no "..". */
static int media_path(struct dev_source *s, const char *path, struct fw_err *err)
{
	const char *p = path;

	while (*p == '/')
		p++;
	if (*p == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "no file name after the media label");
	for (const char *q = p; (q = strstr(q, "..")) != NULL; q += 2)
		if ((q == p || q[-1] == '/') && (q[2] == '\0' || q[2] == '/'))
			return fw_err_set(err, FW_EXIT_USAGE, "%s: \"..\" may not leave the medium", path);
	return copy(s->path, sizeof(s->path), p, strlen(p), "path", err);
}

static int host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '_';
}

/* ADDRESS[:PORT] of len bytes into s->host and s->port. */
static int parse_hostport(struct dev_source *s, const char *a, size_t len, struct fw_err *err)
{
	const char *end = a + len, *h = a, *he, *colon = NULL;

	if (len == 0)
		return fw_err_set(err, FW_EXIT_USAGE, "no server address");
	if (*a == '[') {
		const char *close = memchr(a, ']', len);
		if (close == NULL || close == a + 1)
			return fw_err_set(err, FW_EXIT_USAGE, "%.*s: unterminated [IPv6 address]", (int)len, a);
		for (const char *p = a + 1; p < close; p++)
			if (!strchr("0123456789abcdefABCDEF:.", *p))
				return fw_err_set(err, FW_EXIT_USAGE, "%.*s: not an IPv6 address", (int)len, a);
		h = a + 1;
		he = close;
		if (close + 1 < end) {
			if (close[1] != ':')
				return fw_err_set(err, FW_EXIT_USAGE, "%.*s: junk after the IPv6 address", (int)len, a);
			colon = close + 1;
		}
	} else {
		colon = memchr(a, ':', len);
		he = colon ? colon : end;
		if (he == h)
			return fw_err_set(err, FW_EXIT_USAGE, "no server address");
		for (const char *p = h; p < he; p++)
			if (!host_char(*p))
				return fw_err_set(err, FW_EXIT_USAGE, "%.*s: not a server address", (int)len, a);
		/* No part of a host name starts or ends with '-' (RFC 1123): "-evil" would read as an option to
		 * whatever program is handed the name next, and no server has it. */
		for (const char *p = h; p < he; p++)
			if (*p == '-' && (p == h || p[-1] == '.' || p + 1 == he || p[1] == '.'))
				return fw_err_set(err, FW_EXIT_USAGE, "%.*s: not a server address: a host name %s with '-'",
						  (int)(he - h), h, p == h ? "does not start" : "has no part that starts or ends");
	}
	if (copy(s->host, sizeof(s->host), h, (size_t)(he - h), "server address", err) < 0)
		return -1;
	s->port = 0;
	if (colon != NULL) {
		unsigned long v = 0;
		const char *p = colon + 1;
		if (p == end)
			return fw_err_set(err, FW_EXIT_USAGE, "%.*s: empty port", (int)len, a);
		for (; p < end; p++) {
			/* Not digits: maybe a password holding '/' cut short ("bob:pa/ss@host"): not shown. */
			if (*p < '0' || *p > '9')
				return fw_err_set(err, FW_EXIT_USAGE, "%.*s: what follows ':' is not a port number (1 to "
						  "65535)", (int)(colon - a), a);
			if ((v = v * 10 + (unsigned long)(*p - '0')) > 65535)
				return fw_err_set(err, FW_EXIT_USAGE, "%.*s: port must be 1 to 65535", (int)len, a);
		}
		if (v == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%.*s: port must be 1 to 65535", (int)len, a);
		s->port = (unsigned)v;
	}
	return 0;
}

/*
 * Where USER[:PASSWORD]@ lies in [USER[:PASSWORD]@]ADDRESS[:PORT]/FILE: the
 * '@' is the last before the first '/', the ':' the first before it. The one
 * reading of a login, for the parser and for hiding the password alike.
 * NULL when there is no '@'; *colon NULL when there is no password.
 */
static const char *userinfo(const char *rest, size_t alen, const char **colon)
{
	const char *at = memrchr(rest, '@', alen);

	*colon = at != NULL ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
	return at;
}

/*
 * The plen bytes of a password at pw (in the string it is part of) become
 * "***", the mark the source's display form uses too, so nothing shows the
 * password's length. The string only shrinks, in place (a password of one
 * or two bytes keeps that many '*'); the bytes freed at its end are cleared,
 * as /proc/PID/cmdline shows them when the string is one of argv.
 */
static void mark_password(char *pw, size_t plen)
{
	size_t keep = plen < 3 ? plen : 3, tail = strlen(pw + plen) + 1;

	memset(pw, '*', keep);
	memmove(pw + keep, pw + plen, tail);
	memset(pw + keep + tail, 0, plen - keep);
}

/* The PASSWORD of a USER:PASSWORD@ADDRESS authority of alen bytes, marked hidden. */
static void star_password(char *auth, size_t alen)
{
	const char *at, *colon;

	if ((at = userinfo(auth, alen, &colon)) != NULL && colon != NULL)
		mark_password(auth + (colon + 1 - auth), (size_t)(at - colon - 1));
}

void dev_source_hide_secret(char *word)
{
	mark_password(word, strlen(word));
}

/* [USER[:PASSWORD]@]ADDRESS[:PORT]/FILE, after "proto://". */
static int parse_remote(struct dev_source *s, const char *rest, struct fw_err *err)
{
	const char *slash = strchr(rest, '/'), *at, *colon;
	size_t alen;

	if (slash == NULL || slash[1] == '\0') {
		char shown[sizeof(err->msg)];

		snprintf(shown, sizeof(shown), "%s", rest);
		star_password(shown, strlen(shown));
		return fw_err_set(err, FW_EXIT_USAGE, "%s: no file after the server address (ADDRESS/FILE)", shown);
	}
	alen = (size_t)(slash - rest);
	at = userinfo(rest, alen, &colon);
	if (at != NULL) {
		if (s->proto == DEV_PROTO_TFTP)
			return fw_err_set(err, FW_EXIT_USAGE, "tftp takes no user name or password");
		if (copy(s->user, sizeof(s->user), rest, (size_t)((colon ? colon : at) - rest), "user name", err) < 0 ||
		    (colon && copy(s->password, sizeof(s->password), colon + 1, (size_t)(at - colon - 1), "password",
				   err) < 0))
			return -1;
		if (s->user[0] == '\0')
			return fw_err_set(err, FW_EXIT_USAGE, "empty user name before '@'");
		alen -= (size_t)(at + 1 - rest);
		rest = at + 1;
	}
	if (parse_hostport(s, rest, alen, err) < 0)
		return -1;
	/* The path on the server keeps its leading '/' off: servers take it relative to their root. */
	return copy(s->path, sizeof(s->path), slash + 1, strlen(slash + 1), "path", err);
}

/*
 * scp:// and sftp:// paths are curl's: sftp://HOST/PATH is absolute,
 * sftp://HOST/~/PATH in the login's home. Kept here as "/PATH" or "~/PATH";
 * a plain "PATH" (ADDRESS FILE) means the home too.
 */
static int ssh_uri_path(struct dev_source *s, struct fw_err *err)
{
	size_t len = strlen(s->path);

	if ((s->proto != DEV_PROTO_SCP && s->proto != DEV_PROTO_SFTP) || strncmp(s->path, "~/", 2) == 0)
		return 0;
	if (len + 1 >= sizeof(s->path))
		return fw_err_set(err, FW_EXIT_USAGE, "path too long");
	memmove(s->path + 1, s->path, len + 1);
	s->path[0] = '/';
	return 0;
}

/* Does a word without a protocol start with a server address (ADDRESS[:PORT]/FILE)? */
static int looks_remote(const char *w)
{
	const char *slash = strchr(w, '/');
	size_t len;
	int dots = 0, digits_only = 1;

	if (slash == NULL || slash == w || slash[1] == '\0')
		return 0;
	len = (size_t)(slash - w);
	if (w[0] == '[' || memchr(w, ':', len) != NULL)
		return 1;
	for (const char *p = w; p < slash; p++) {
		if (!host_char(*p))
			return 0;
		if (*p == '.')
			dots++;
		else if (*p < '0' || *p > '9')
			digits_only = 0;
	}
	return dots > 0 && (digits_only || w[0] != '.');
}

/* Messages may be cut short; an over-long source still parses in full. */
/* The field's two-word form, ADDRESS[:PORT] FILE: the server, then the file's path on it. */
static int parse_address_file(struct dev_source *s, const char *address, const char *file, struct fw_err *err)
{
	if (parse_hostport(s, address, strlen(address), err) < 0)
		return -1;
	if (file[0] == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "no file name after the server address");
	return copy(s->path, sizeof(s->path), file, strlen(file), "path", err);
}

static void shown(struct dev_source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * s->shown is what messages, the state and the resume record say of the
 * source: escaped here, once, so a path or URL with bytes that are not text
 * is stored as text (jansson refuses ill-formed UTF-8) and the next run's
 * source compares equal to the recorded one.
 */
static void shown(struct dev_source *s, const char *fmt, ...)
{
	char raw[sizeof(s->shown)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	fw_escape(raw, s->shown, sizeof(s->shown));
}

static int ssh(enum dev_proto p)
{
	return p == DEV_PROTO_SCP || p == DEV_PROTO_SFTP;
}

static void show(struct dev_source *s, const char *word)
{
	const char *scheme = s->proto == DEV_PROTO_AUTO ? NULL : dev_proto_name(s->proto);
	char port[16] = "";
	int v6 = strchr(s->host, ':') != NULL;

	if (s->kind != DEV_SRC_NET) {
		shown(s, "%s", word);
		return;
	}
	if (s->port)
		snprintf(port, sizeof(port), ":%u", s->port);
	shown(s, "%s%s%s%s%s%s%s%s%s%s%s", scheme ? scheme : "", scheme ? "://" : "",
		 s->user, s->password[0] ? ":***" : "", s->user[0] ? "@" : "", v6 ? "[" : "", s->host,
		 v6 ? "]" : "", port, ssh(s->proto) && s->path[0] == '/' ? "" : "/", s->path);
}

/* packages: scp:// and sftp:// are accepted (package install), not for firmware (upgrade). */
static int parse(int argc, char *const *argv, struct dev_source *s, int packages, struct fw_err *err)
{
	static const struct {
		const char *scheme;
		enum dev_proto proto;
	} net[] = {
		{ "ftp", DEV_PROTO_FTP }, { "tftp", DEV_PROTO_TFTP },
		{ "http", DEV_PROTO_HTTP }, { "https", DEV_PROTO_HTTPS },
		{ "scp", DEV_PROTO_SCP }, { "sftp", DEV_PROTO_SFTP },
	};
	const char *w, *sep;

	memset(s, 0, sizeof(*s));
	if (argc == 3) {
		if (strcmp(argv[0], "media") != 0)
			return fw_err_set(err, FW_EXIT_USAGE, "three words of source: expected media LABEL PATH");
		if (!fw_name_valid(argv[1]))
			return fw_err_set(err, FW_EXIT_USAGE, "media label \"%s\" is not a valid label", argv[1]);
		s->kind = DEV_SRC_MEDIA;
		snprintf(s->label, sizeof(s->label), "%s", argv[1]);
		if (media_path(s, argv[2], err) < 0)
			return -1;
		shown(s, "media %s %s", s->label, s->path);
		return 0;
	}
	if (argc == 2) {
		if (strcmp(argv[0], "media") == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "media needs a label and a path: media LABEL PATH");
		if (access(argv[0], F_OK) == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "\"%s\": one word too many after the source %s", argv[1],
					  argv[0]);
		/* Two words are ADDRESS FILE whatever the address looks like: any host name (localhost, a name
		 * without a dot), an IPv4 or [IPv6] address, with or without :PORT (parse_hostport's checks). */
		if (strchr(argv[0], '/') != NULL)
			return fw_err_set(err, FW_EXIT_USAGE,
					  "\"%s\" is not a server address: expected one source (PATH, -, URI, "
					  "media LABEL PATH) or ADDRESS FILE", argv[0]);
		s->kind = DEV_SRC_NET;
		s->proto = DEV_PROTO_AUTO;
		if (parse_address_file(s, argv[0], argv[1], err) < 0)
			return -1;
		shown(s, "%s %s", argv[0], argv[1]);
		return 0;
	}
	if (argc != 1)
		return fw_err_set(err, FW_EXIT_USAGE, "expected one source: PATH, -, URI, ADDRESS FILE or media LABEL PATH");
	w = argv[0];
	if (w[0] == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "empty source");
	if (strcmp(w, "-") == 0) {
		s->kind = DEV_SRC_STDIN;
		shown(s, "-");
		return 0;
	}
	sep = strstr(w, "://");
	if (sep != NULL) {
		size_t slen = (size_t)(sep - w);
		const char *rest = sep + 3;

		if (slen == 4 && strncasecmp(w, "file", 4) == 0) {
			if (*rest == '\0')
				return fw_err_set(err, FW_EXIT_USAGE, "file:// needs a path");
			s->kind = DEV_SRC_FILE;
			if (copy(s->path, sizeof(s->path), rest, strlen(rest), "path", err) < 0)
				return -1;
			show(s, w);
			return 0;
		}
		if (slen == 3 && strncasecmp(w, "usb", 3) == 0) {
			s->kind = DEV_SRC_MEDIA;
			snprintf(s->label, sizeof(s->label), "%s", DEV_USB_LABEL);
			if (media_path(s, rest, err) < 0)
				return -1;
			show(s, w);
			return 0;
		}
		if (!packages && ((slen == 3 && strncasecmp(w, "scp", 3) == 0) || (slen == 4 && strncasecmp(w, "sftp", 4) == 0)))
			return fw_err_set(err, FW_EXIT_USAGE,
					  "%.*s:// is not accepted for firmware: use ftp, tftp, http, https, usb or a local file",
					  (int)slen, w);
		for (size_t i = 0; i < sizeof(net) / sizeof(net[0]); i++) {
			if (strlen(net[i].scheme) == slen && strncasecmp(w, net[i].scheme, slen) == 0) {
				s->kind = DEV_SRC_NET;
				s->proto = net[i].proto;
				if (parse_remote(s, rest, err) < 0 || ssh_uri_path(s, err) < 0)
					return -1;
				show(s, w);
				return 0;
			}
		}
		return fw_err_set(err, FW_EXIT_USAGE, "unknown protocol \"%.*s\": use ftp, tftp, http, https,%s usb or file",
				  (int)(slen > 16 ? 16 : slen), w, packages ? " scp, sftp," : "");
	}
	if (w[0] == '/' || w[0] == '.' || access(w, F_OK) == 0 || !looks_remote(w)) {
		s->kind = DEV_SRC_FILE;
		if (copy(s->path, sizeof(s->path), w, strlen(w), "path", err) < 0)
			return -1;
		show(s, w);
		return 0;
	}
	s->kind = DEV_SRC_NET;
	s->proto = DEV_PROTO_AUTO;
	if (parse_remote(s, w, err) < 0)
		return -1;
	show(s, w);
	return 0;
}

void dev_source_hide_password(char *word)
{
	char *rest = strstr(word, "://"), *slash;

	if (rest != NULL) {
		/* A URL with no file (a refused catalog server, say) is all authority. */
		rest += 3;
		slash = strchr(rest, '/');
		star_password(rest, slash ? (size_t)(slash - rest) : strlen(rest));
	} else if ((slash = strchr(word, '/')) != NULL) {
		star_password(word, (size_t)(slash - word));
	}
}

int dev_source_parse(int argc, char *const *argv, struct dev_source *s, struct fw_err *err)
{
	return parse(argc, argv, s, 0, err);
}

int dev_source_parse_package(int argc, char *const *argv, enum dev_proto proto, const char *user,
			     struct dev_source *s, struct fw_err *err)
{
	if (proto != DEV_PROTO_NONE && (argc == 1 || argc == 2) && strstr(argv[0], "://") == NULL) {
		/* A protocol named: the words are the server's, never a local file. */
		memset(s, 0, sizeof(*s));
		s->kind = DEV_SRC_NET;
		s->proto = proto;
		if (argc == 1 && parse_remote(s, argv[0], err) < 0)
			return -1;
		if (argc == 2 && parse_address_file(s, argv[0], argv[1], err) < 0)
			return -1;
	} else {
		if (parse(argc, argv, s, 1, err) < 0)
			return -1;
		if (proto != DEV_PROTO_NONE && s->kind != DEV_SRC_NET)
			return fw_err_set(err, FW_EXIT_USAGE, "proto %s: the source is not a server address",
					  dev_proto_name(proto));
		if (proto != DEV_PROTO_NONE && s->proto != DEV_PROTO_AUTO && s->proto != proto)
			return fw_err_set(err, FW_EXIT_USAGE, "proto %s, but the URI says %s", dev_proto_name(proto),
					  dev_proto_name(s->proto));
		if (proto != DEV_PROTO_NONE)
			s->proto = proto;
	}
	if (user != NULL) {
		if (s->kind != DEV_SRC_NET)
			return fw_err_set(err, FW_EXIT_USAGE, "user %s: only a network source has a login", user);
		if (s->proto == DEV_PROTO_TFTP)
			return fw_err_set(err, FW_EXIT_USAGE, "tftp takes no user name or password");
		if (s->user[0] && strcmp(s->user, user) != 0)
			return fw_err_set(err, FW_EXIT_USAGE, "user %s, but the URI says %s", user, s->user);
		if (user[0] == '\0' || copy(s->user, sizeof(s->user), user, strlen(user), "user name", err) < 0)
			return fw_err_set(err, FW_EXIT_USAGE, "user: give a user name (at most %zu characters)",
					  sizeof(s->user) - 1);
	}
	if (ssh(s->proto) && s->user[0] == '\0') {
		/* The field's rule: the logged-in user. The account fwctl runs as, not $USER (anyone can set it). */
		struct passwd *pw = getpwuid(geteuid());
		if (pw == NULL || copy(s->user, sizeof(s->user), pw->pw_name, strlen(pw->pw_name), "user name", err) < 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%s: no user name given and none for uid %u: give user USER",
					  dev_proto_name(s->proto), (unsigned)geteuid());
	}
	if (s->kind == DEV_SRC_NET)
		show(s, NULL);
	return 0;
}

/*
 * Kernels before 5.6 have no openat2: walk the path a component at a time
 * with O_NOFOLLOW, so no symlink at all is followed (stricter than
 * RESOLVE_BENEATH, which allows those that stay inside).
 */
static int open_by_components(int dfd, const char *rel)
{
	char buf[sizeof(((struct dev_source *)0)->path)], *save = NULL, *comp, *next;
	struct stat st;
	int cur = dup(dfd), fd, e;

	snprintf(buf, sizeof(buf), "%s", rel);
	comp = strtok_r(buf, "/", &save);
	while (cur >= 0 && comp != NULL) {
		next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0) {
			close(cur);
			errno = EXDEV;
			return -1;
		}
		fd = openat(cur, comp, (next ? O_DIRECTORY | O_RDONLY : O_RDONLY | O_NONBLOCK | O_NOCTTY) |
					  O_NOFOLLOW | O_CLOEXEC);
		/* O_DIRECTORY | O_NOFOLLOW on a symlink fails with ENOTDIR: say it is a symlink, as openat2 would. */
		if (fd < 0 && errno == ENOTDIR && next != NULL && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			errno = ELOOP;
		e = errno;
		close(cur);
		errno = e;
		cur = fd;
		comp = next;
	}
	return cur;
}

/* path beneath dir, as a non-blocking read-only fd; errno set on failure. */
static int open_beneath(const char *dir, const char *rel)
{
	struct open_how how;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd, e;

	if (dfd < 0)
		return -1;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = open_by_components(dfd, rel);
	e = errno;
	close(dfd);
	errno = e;
	return fd;
}

/* Only a regular file, then back to blocking reads. */
static int regular_only(int fd, struct fw_err *err)
{
	struct stat st;
	int flags;

	if (fstat(fd, &st) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fw_err_set(err, FW_EXIT_REJECTED, "not a regular file: refused (give a package file, or - for a stream)");
	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s", strerror(errno));
	return 0;
}

int dev_source_open(const struct dev_root *r, const struct dev_source *src, int *rereadable, struct fw_err *err)
{
	const char *dir;
	struct stat st;
	int fd;

	*rereadable = 0;
	switch (src->kind) {
	case DEV_SRC_STDIN:
		*rereadable = fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
			      lseek(STDIN_FILENO, 0, SEEK_CUR) == 0;
		return STDIN_FILENO;
	case DEV_SRC_NET:
		return fw_err_set(err, FW_EXIT_USAGE, "%s: a network source, not a local one", src->shown);
	case DEV_SRC_MEDIA:
		if ((dir = dev_root_media(r, src->label, err)) == NULL)
			return -1;
		fd = open_beneath(dir, src->path);
		if (fd < 0 && (errno == EXDEV || errno == ELOOP))
			return fw_err_set(err, FW_EXIT_REJECTED, "%s/%s: leads out of the medium (a symlink?): refused", dir,
					  src->path);
		if (fd < 0)
			return fw_err_set(err, FW_EXIT_IO, "%s/%s: cannot open: %s", dir, src->path, strerror(errno));
		break;
	case DEV_SRC_FILE:
	default:
		fd = open(src->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return fw_err_set(err, FW_EXIT_IO, "cannot open: %s", strerror(errno));
		break;
	}
	if (regular_only(fd, err) < 0) {
		close(fd);
		return -1;
	}
	*rereadable = 1;
	return fd;
}
