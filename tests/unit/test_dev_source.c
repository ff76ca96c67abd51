/* test_dev_source: the SOURCE words of `fwctl upgrade` and `package install`, accepted and refused (device/dev_source.c). */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

/* The device program is not a library: compile its source parser into the test. */
#include "device/dev_source.h"
#include "tests/unit/unit_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct accept_case {
	const char *words[3];
	enum dev_source_kind kind;
	enum dev_proto proto;
	const char *label, *path, *host;
	unsigned port;
	const char *user, *password, *shown;
};

/* None of these paths exist, so the words decide. */
static const struct accept_case accepted[] = {
	{ { "-" }, DEV_SRC_STDIN, DEV_PROTO_NONE, "", "", "", 0, "", "", "-" },
	{ { "/no/such/fw.pkg" }, DEV_SRC_FILE, DEV_PROTO_NONE, "", "/no/such/fw.pkg", "", 0, "", "", "/no/such/fw.pkg" },
	{ { "fw.pkg" }, DEV_SRC_FILE, DEV_PROTO_NONE, "", "fw.pkg", "", 0, "", "", "fw.pkg" },
	{ { "no-such-dir/fw.pkg" }, DEV_SRC_FILE, DEV_PROTO_NONE, "", "no-such-dir/fw.pkg", "", 0, "", "", NULL },
	{ { "./10.0.0.1/fw.pkg" }, DEV_SRC_FILE, DEV_PROTO_NONE, "", "./10.0.0.1/fw.pkg", "", 0, "", "", NULL },
	{ { "file:///tmp/fw.pkg" }, DEV_SRC_FILE, DEV_PROTO_NONE, "", "/tmp/fw.pkg", "", 0, "", "", "file:///tmp/fw.pkg" },
	{ { "usb://fw/x.pkg" }, DEV_SRC_MEDIA, DEV_PROTO_NONE, "external", "fw/x.pkg", "", 0, "", "", "usb://fw/x.pkg" },
	{ { "USB:///x.pkg" }, DEV_SRC_MEDIA, DEV_PROTO_NONE, "external", "x.pkg", "", 0, "", "", NULL },
	{ { "media", "stick", "a/b.pkg" }, DEV_SRC_MEDIA, DEV_PROTO_NONE, "stick", "a/b.pkg", "", 0, "", "",
	  "media stick a/b.pkg" },
	{ { "tftp://192.168.122.1/firmware.pkg" }, DEV_SRC_NET, DEV_PROTO_TFTP, "", "firmware.pkg", "192.168.122.1", 0,
	  "", "", "tftp://192.168.122.1/firmware.pkg" },
	{ { "ftp://username:password@host/path/to/firmware.pkg" }, DEV_SRC_NET, DEV_PROTO_FTP, "",
	  "path/to/firmware.pkg", "host", 0, "username", "password", "ftp://username:***@host/path/to/firmware.pkg" },
	{ { "ftp://anon@host:2121/f.pkg" }, DEV_SRC_NET, DEV_PROTO_FTP, "", "f.pkg", "host", 2121, "anon", "",
	  "ftp://anon@host:2121/f.pkg" },
	{ { "http://fw.example.com/a/b.pkg" }, DEV_SRC_NET, DEV_PROTO_HTTP, "", "a/b.pkg", "fw.example.com", 0, "", "",
	  NULL },
	{ { "https://[2001:db8::1]:8443/b.pkg" }, DEV_SRC_NET, DEV_PROTO_HTTPS, "", "b.pkg", "2001:db8::1", 8443, "",
	  "", "https://[2001:db8::1]:8443/b.pkg" },
	{ { "192.168.122.1", "firmware.pkg" }, DEV_SRC_NET, DEV_PROTO_AUTO, "", "firmware.pkg", "192.168.122.1", 0, "",
	  "", "192.168.122.1 firmware.pkg" },
	/* ADDRESS FILE takes any host name: no dot, no port needed (issue 21, item 8). */
	{ { "localhost", "fw.pkg" }, DEV_SRC_NET, DEV_PROTO_AUTO, "", "fw.pkg", "localhost", 0, "", "", "localhost fw.pkg" },
	{ { "fwserver", "pub/fw.pkg" }, DEV_SRC_NET, DEV_PROTO_AUTO, "", "pub/fw.pkg", "fwserver", 0, "", "",
	  "fwserver pub/fw.pkg" },
	{ { "[::1]", "fw.pkg" }, DEV_SRC_NET, DEV_PROTO_AUTO, "", "fw.pkg", "::1", 0, "", "", NULL },
	{ { "fwserver:21", "/pub/fw.pkg" }, DEV_SRC_NET, DEV_PROTO_AUTO, "", "/pub/fw.pkg", "fwserver", 21, "", "", "fwserver:21 /pub/fw.pkg" },
	{ { "192.168.122.1/firmware.pkg" }, DEV_SRC_NET, DEV_PROTO_AUTO, "", "firmware.pkg", "192.168.122.1", 0, "",
	  "", NULL },
	{ { "fw.example.com/x.pkg" }, DEV_SRC_NET, DEV_PROTO_AUTO, "", "x.pkg", "fw.example.com", 0, "", "", NULL },
	{ { "[::1]:69/x.pkg" }, DEV_SRC_NET, DEV_PROTO_AUTO, "", "x.pkg", "::1", 69, "", "", NULL },
	/* Bytes that are not text stay as they are in the path and are escaped in shown, which the
	 * state and the resume record keep as JSON text and compare with the next run's. */
	{ { "/no/such/caf\xe9\x1b\\.pkg" }, DEV_SRC_FILE, DEV_PROTO_NONE, "", "/no/such/caf\xe9\x1b\\.pkg", "", 0, "",
	  "", "/no/such/caf\\xe9\\x1b\\x5c.pkg" },
	{ { "http://fw.example.com/caf\xe9.pkg" }, DEV_SRC_NET, DEV_PROTO_HTTP, "", "caf\xe9.pkg", "fw.example.com", 0,
	  "", "", "http://fw.example.com/caf\\xe9.pkg" },
};

struct reject_case {
	const char *words[4];
	int code;
	const char *why;
};

static const struct reject_case rejected[] = {
	{ { "scp://host/fw.pkg" }, FW_EXIT_USAGE, "scp:// is not accepted for firmware" },
	{ { "SCP://host/fw.pkg" }, FW_EXIT_USAGE, "not accepted for firmware" },
	{ { "sftp://u@host/fw.pkg" }, FW_EXIT_USAGE, "sftp:// is not accepted" },
	{ { "gopher://host/fw.pkg" }, FW_EXIT_USAGE, "unknown protocol \"gopher\"" },
	{ { "" }, FW_EXIT_USAGE, "empty source" },
	{ { "file://" }, FW_EXIT_USAGE, "file:// needs a path" },
	{ { "usb://" }, FW_EXIT_USAGE, "no file name after the media label" },
	{ { "usb://../etc/x.pkg" }, FW_EXIT_USAGE, "may not leave the medium" },
	{ { "usb://a/../../x.pkg" }, FW_EXIT_USAGE, "may not leave the medium" },
	{ { "media", "stick" }, FW_EXIT_USAGE, "media LABEL PATH" },
	{ { "media", "../x", "f.pkg" }, FW_EXIT_USAGE, "not a valid label" },
	{ { "disk", "stick", "f.pkg" }, FW_EXIT_USAGE, "expected media LABEL PATH" },
	{ { "a", "b", "c", "d" }, FW_EXIT_USAGE, "expected one source" },
	{ { "ftp://host" }, FW_EXIT_USAGE, "no file after the server address" },
	{ { "ftp://host/" }, FW_EXIT_USAGE, "no file after the server address" },
	/* A refusal never shows a password: a URL with no file, a password holding '/' (cut short there). */
	{ { "ftp://bob:Secret@host" }, FW_EXIT_USAGE, "bob:***@host: no file after the server address" },
	{ { "ftp://bob:Secret@host/" }, FW_EXIT_USAGE, "bob:***@host/: no file after the server address" },
	{ { "ftp://bob:Se/cret@host/f" }, FW_EXIT_USAGE, "bob: what follows ':' is not a port number" },
	{ { "ftp://host:0/f" }, FW_EXIT_USAGE, "port must be 1 to 65535" },
	{ { "ftp://host:65536/f" }, FW_EXIT_USAGE, "port must be 1 to 65535" },
	{ { "ftp://host:/f" }, FW_EXIT_USAGE, "empty port" },
	{ { "ftp://ho st/f" }, FW_EXIT_USAGE, "not a server address" },
	{ { "ftp://:pw@host/f" }, FW_EXIT_USAGE, "empty user name" },
	{ { "tftp://u@host/f" }, FW_EXIT_USAGE, "tftp takes no user name" },
	{ { "http://[zz::1]/f" }, FW_EXIT_USAGE, "not an IPv6 address" },
	{ { "http://[::1/f" }, FW_EXIT_USAGE, "unterminated" },
	{ { "http://[::1]x/f" }, FW_EXIT_USAGE, "junk after the IPv6 address" },
	{ { "10.0.0.1", "" }, FW_EXIT_USAGE, "no file name" },
	{ { "bad host", "f.pkg" }, FW_EXIT_USAGE, "not a server address" },
	{ { "no/where", "f.pkg" }, FW_EXIT_USAGE, "\"no/where\" is not a server address" },
	{ { "localhost:0", "f.pkg" }, FW_EXIT_USAGE, "port must be 1 to 65535" },
	/* A host name starting with '-' would be an option to the next program: no host has one. */
	{ { "-evil", "f.pkg" }, FW_EXIT_USAGE, "-evil: not a server address: a host name does not start with '-'" },
	{ { "-evil:21", "f.pkg" }, FW_EXIT_USAGE, "-evil: not a server address: a host name does not start with '-'" },
	{ { "ftp://-evil/f" }, FW_EXIT_USAGE, "-evil: not a server address: a host name does not start with '-'" },
	{ { "http://u:p@-oProxy/f" }, FW_EXIT_USAGE, "-oProxy: not a server address" },
	{ { "host.-x", "f.pkg" }, FW_EXIT_USAGE, "host.-x: not a server address: a host name has no part that starts or ends with '-'" },
	{ { "host-.x", "f.pkg" }, FW_EXIT_USAGE, "no part that starts or ends with '-'" },
};

static int count(const char *const *w, int max)
{
	int n = 0;

	while (n < max && w[n] != NULL)
		n++;
	return n;
}

static void test_accept(void)
{
	for (size_t i = 0; i < N(accepted); i++) {
		const struct accept_case *c = &accepted[i];
		struct dev_source s;
		struct fw_err err = { 0 };
		int rc = dev_source_parse(count(c->words, 3), (char *const *)c->words, &s, &err);

		if (rc != 0)
			fprintf(stderr, "\n  refused \"%s\": %s\n", c->words[0], err.msg);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		CU_ASSERT_EQUAL(s.kind, c->kind);
		CU_ASSERT_EQUAL(s.proto, c->proto);
		CU_ASSERT_STRING_EQUAL(s.label, c->label);
		CU_ASSERT_STRING_EQUAL(s.path, c->path);
		CU_ASSERT_STRING_EQUAL(s.host, c->host);
		CU_ASSERT_EQUAL(s.port, c->port);
		CU_ASSERT_STRING_EQUAL(s.user, c->user);
		CU_ASSERT_STRING_EQUAL(s.password, c->password);
		if (c->shown != NULL)
			CU_ASSERT_STRING_EQUAL(s.shown, c->shown);
		CU_ASSERT_PTR_NULL(strstr(s.shown, "password"));
	}
}

static void test_reject(void)
{
	for (size_t i = 0; i < N(rejected); i++) {
		const struct reject_case *c = &rejected[i];
		struct dev_source s;
		struct fw_err err = { 0 };
		int rc = dev_source_parse(count(c->words, 4), (char *const *)c->words, &s, &err);

		if (rc == 0 || strstr(err.msg, c->why) == NULL)
			fprintf(stderr, "\n  \"%s\": rc %d, \"%s\", expected \"%s\"\n", c->words[0], rc, err.msg, c->why);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(err.code, c->code);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, c->why));
		CU_ASSERT_PTR_NULL(strstr(err.msg, "ecret"));   /* no byte of a password */
	}
}

/* package install: the field's proto and user words, scp and sftp, the user running fwctl by default. */
static void test_package_forms(void)
{
	static const struct {
		const char *words[2];
		enum dev_proto proto;
		const char *user;
		enum dev_proto want;
		const char *path, *want_user, *shown;   /* want_user NULL: the user running the test */
	} ok[] = {
		{ { "10.0.0.1", "pn.wmopkg" }, DEV_PROTO_NONE, NULL, DEV_PROTO_AUTO, "pn.wmopkg", "", "10.0.0.1/pn.wmopkg" },
		{ { "fileserver", "pkgs/pn.wmopkg" }, DEV_PROTO_SFTP, "joe", DEV_PROTO_SFTP, "pkgs/pn.wmopkg", "joe",
		  "sftp://joe@fileserver/pkgs/pn.wmopkg" },
		{ { "10.0.0.1:2222", "/srv/pn.wmopkg" }, DEV_PROTO_SCP, NULL, DEV_PROTO_SCP, "/srv/pn.wmopkg", NULL, NULL },
		{ { "sftp://ann@h/srv/pn.wmopkg" }, DEV_PROTO_NONE, NULL, DEV_PROTO_SFTP, "/srv/pn.wmopkg", "ann",
		  "sftp://ann@h/srv/pn.wmopkg" },
		{ { "scp://h/~/pn.wmopkg" }, DEV_PROTO_SCP, "bob", DEV_PROTO_SCP, "~/pn.wmopkg", "bob", "scp://bob@h/~/pn.wmopkg" },
		{ { "h.example/dir/pn.wmopkg" }, DEV_PROTO_HTTP, NULL, DEV_PROTO_HTTP, "dir/pn.wmopkg", "", NULL },
		{ { "ftp://h/pn.wmopkg" }, DEV_PROTO_FTP, "joe", DEV_PROTO_FTP, "pn.wmopkg", "joe", "ftp://joe@h/pn.wmopkg" },
	};
	static const struct {
		const char *words[2];
		enum dev_proto proto;
		const char *user, *why;
	} bad[] = {
		{ { "ftp://h/pn.wmopkg" }, DEV_PROTO_SFTP, NULL, "proto sftp, but the URI says ftp" },
		{ { "10.0.0.1", "pn.wmopkg" }, DEV_PROTO_TFTP, "joe", "tftp takes no user" },
		{ { "sftp://ann@h/pn.wmopkg" }, DEV_PROTO_NONE, "bob", "user bob, but the URI says ann" },
		{ { "/no/such/pn.wmopkg" }, DEV_PROTO_NONE, "bob", "only a network source has a login" },
		{ { "gopher://h/pn.wmopkg" }, DEV_PROTO_NONE, NULL, "use ftp, tftp, http, https, scp, sftp," },
	};
	struct passwd *pw = getpwuid(geteuid());

	CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
	for (size_t i = 0; i < N(ok); i++) {
		struct dev_source s;
		struct fw_err err = { 0 };
		int rc = dev_source_parse_package(ok[i].words[1] ? 2 : 1, (char *const *)ok[i].words, ok[i].proto,
						  ok[i].user, &s, &err);

		if (rc != 0)
			fprintf(stderr, "\n  refused \"%s\": %s\n", ok[i].words[0], err.msg);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		CU_ASSERT_EQUAL(s.kind, DEV_SRC_NET);
		CU_ASSERT_EQUAL(s.proto, ok[i].want);
		CU_ASSERT_STRING_EQUAL(s.path, ok[i].path);
		CU_ASSERT_STRING_EQUAL(s.user, ok[i].want_user ? ok[i].want_user : pw->pw_name);
		if (ok[i].shown != NULL)
			CU_ASSERT_STRING_EQUAL(s.shown, ok[i].shown);
	}
	for (size_t i = 0; i < N(bad); i++) {
		struct dev_source s;
		struct fw_err err = { 0 };
		int rc = dev_source_parse_package(bad[i].words[1] ? 2 : 1, (char *const *)bad[i].words, bad[i].proto,
						  bad[i].user, &s, &err);

		if (rc == 0 || strstr(err.msg, bad[i].why) == NULL)
			fprintf(stderr, "\n  \"%s\": rc %d, \"%s\", expected \"%s\"\n", bad[i].words[0], rc, err.msg,
				bad[i].why);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].why));
	}
}

/*
 * The password, and nothing else, turns to "***" (its length not shown: one
 * or two bytes keep that many '*'); as the parser reads the login. The word
 * shrinks in place and the bytes freed behind it are cleared (argv).
 */
static void test_hide_password(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "ftp://admin:admin@host/f.pkg", "ftp://admin:***@host/f.pkg" },
		{ "http://u:x@10.0.0.1:8080/a/b.wmopkg", "http://u:*@10.0.0.1:8080/a/b.wmopkg" },
		{ "admin:admin@host:21/f.wmopkg", "admin:***@host:21/f.wmopkg" },
		{ "ftp://a:b:c@d@host/f", "ftp://a:***@host/f" },    /* the last '@', the first ':' */
		{ "ftp://bob:a-long-Secret@host/f", "ftp://bob:***@host/f" },
		{ "ftp://u:@host/f", "ftp://u:@host/f" },              /* an empty password */
		{ "ftp://anon@host/f.pkg", "ftp://anon@host/f.pkg" },  /* no password */
		{ "ftp://host/u:p@x", "ftp://host/u:p@x" },            /* '@' in the path, not the login */
		{ "http://u:pw@host", "http://u:**@host" },            /* no file: all authority */
		{ "http://u:pw@host:8080", "http://u:**@host:8080" },
		{ "/tmp/a:b@c", "/tmp/a:b@c" },
		{ "fw.pkg", "fw.pkg" },
		{ "-", "-" },
	};
	char word[256];

	for (size_t i = 0; i < N(cases); i++) {
		memset(word, 'z', sizeof(word));
		snprintf(word, sizeof(word), "%s", cases[i].in);
		dev_source_hide_password(word);
		if (strcmp(word, cases[i].out) != 0)
			fprintf(stderr, "\n  \"%s\": \"%s\", expected \"%s\"\n", cases[i].in, word, cases[i].out);
		CU_ASSERT_STRING_EQUAL(word, cases[i].out);
		for (size_t k = strlen(word); k <= strlen(cases[i].in); k++)
			CU_ASSERT_EQUAL(word[k], 0);
	}
	/* A password of any length. */
	memset(word, 0, sizeof(word));
	strcpy(word, "http://u:");
	memset(word + 9, 'q', 200);
	strcat(word, "@h/f");
	dev_source_hide_password(word);
	CU_ASSERT_PTR_NULL(strchr(word, 'q'));
	CU_ASSERT_STRING_EQUAL(word, "http://u:***@h/f");
	for (size_t k = strlen(word); k < 9 + 200 + 4; k++)
		CU_ASSERT_EQUAL(word[k], 0);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "accepts every field form", test_accept },
		{ "refuses scp, sftp and malformed sources", test_reject },
		{ "package install: proto, user, scp and sftp", test_package_forms },
		{ "hides a URL's password in place", test_hide_password },
	};

	return unit_run("dev_source", NULL, NULL, tests, UNIT_COUNT(tests));
}
