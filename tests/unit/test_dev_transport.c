/* test_dev_transport: URLs, identity checks and failures of device/dev_transport that need no server (the servers are in tests/e2e/test_transport.sh). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

/* The URL builder and identity rules are static: compile the module into the test. */
#include "device/dev_transport.c"

static struct dev_source parse(const char *a, const char *b)
{
	char *argv[2] = { (char *)a, (char *)b };
	struct dev_source s;
	struct fw_err err = { 0 };

	CU_ASSERT_EQUAL_FATAL(dev_source_parse(b ? 2 : 1, argv, &s, &err), 0);
	return s;
}

static void url_of(const char *a, const char *b, enum dev_proto p, const char *want)
{
	struct dev_transport t;
	struct fw_err err = { 0 };
	CURLU *u;
	char *url = NULL;

	memset(&t, 0, sizeof(t));
	t.src = parse(a, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.curl = dev_curl(&err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(u = make_url(&t, p));
	/* What curl makes of the parts it was given: the URL the transfer uses. */
	CU_ASSERT_EQUAL(t.curl->url_get(u, CURLUPART_URL, &url, 0), CURLUE_OK);
	CU_ASSERT_STRING_EQUAL(url, want);
	if (url != NULL && strcmp(url, want) != 0)
		fprintf(stderr, "\n%s: got %s\n", a, url);
	t.curl->free(url);
	t.curl->url_cleanup(u);
}

static void test_urls(void)
{
	url_of("ftp://u:secret@10.0.0.1:2121/dir/fw.pkg", NULL, DEV_PROTO_FTP, "ftp://10.0.0.1:2121/dir/fw.pkg");
	url_of("http://fw.example.com/a b/%x.pkg", NULL, DEV_PROTO_HTTP, "http://fw.example.com/a%20b/%25x.pkg");
	url_of("https://[2001:db8::1]:8443/b.pkg", NULL, DEV_PROTO_HTTPS, "https://[2001:db8::1]:8443/b.pkg");
	/* ADDRESS FILE with an absolute path: absolute on the FTP and TFTP servers too (curl writes hex in lower case). */
	url_of("fwserver:21", "/pub/fw.pkg", DEV_PROTO_FTP, "ftp://fwserver:21/%2fpub/fw.pkg");
	url_of("fwserver:21", "/pub/fw.pkg", DEV_PROTO_TFTP, "tftp://fwserver:21/%2fpub/fw.pkg");
	url_of("192.168.1.10", "fw.pkg", DEV_PROTO_TFTP, "tftp://192.168.1.10/fw.pkg");
	url_of("ftp://h/%2e%2e?#;", NULL, DEV_PROTO_FTP, "ftp://h/%252e%252e%3f%23%3b");
}

static void test_same_file(void)
{
	struct dev_transport_id a = { "\"abc\"", 100, 5000 }, b = a;

	CU_ASSERT(same_file(&a, &b));
	snprintf(b.etag, sizeof(b.etag), "\"abd\"");
	CU_ASSERT(!same_file(&a, &b));
	b = a;
	b.mtime = 101;
	CU_ASSERT(!same_file(&a, &b));
	b = a;
	b.size = 5001;
	CU_ASSERT(!same_file(&a, &b));
	b = a;
	b.etag[0] = '\0';   /* a server that stops sending the ETag cannot prove it is the same file */
	CU_ASSERT(!same_file(&a, &b));
	/* What the first answer did not say is not held against later ones (TFTP says nothing). */
	a = (struct dev_transport_id){ "", -1, -1 };
	b = (struct dev_transport_id){ "\"x\"", 7, 9 };
	CU_ASSERT(same_file(&a, &b));
	b.size = -1;
	a.size = 10;
	CU_ASSERT(same_file(&a, &b));
}

static void test_defaults(void)
{
	struct dev_transport_opts o;

	memset(&o, 0xa5, sizeof(o));
	dev_transport_opts_init(&o);
	CU_ASSERT_EQUAL(o.connect_timeout, DEV_TRANSPORT_CONNECT_TIMEOUT);
	CU_ASSERT_EQUAL(o.low_speed_limit, DEV_TRANSPORT_LOW_SPEED_LIMIT);
	CU_ASSERT_EQUAL(o.low_speed_time, DEV_TRANSPORT_LOW_SPEED_TIME);
	CU_ASSERT_EQUAL(o.retries, DEV_TRANSPORT_RETRIES);
	CU_ASSERT_EQUAL(o.backoff_ms, DEV_TRANSPORT_BACKOFF_MS);
	CU_ASSERT_PTR_NULL(o.ca_file);
	CU_ASSERT_PTR_NULL(o.pinned_key);
	CU_ASSERT_PTR_NULL(o.expect);
	CU_ASSERT_EQUAL(o.max_bytes, 0);
}

static void test_not_network(void)
{
	struct dev_source s = parse("/tmp/fw.pkg", NULL);
	struct dev_transport *t = (struct dev_transport *)1;
	struct fw_err err = { 0 };

	CU_ASSERT_EQUAL(dev_transport_open(&t, &s, NULL, 0, &err), -1);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/tmp/fw.pkg: not a network source"));
}

/* A loopback port that refuses connections: bound, never listening, for as long as fd stays open. */
static unsigned closed_port(int *fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(*fd >= 0);
	CU_ASSERT_FATAL(bind(*fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CU_ASSERT_FATAL(getsockname(*fd, (struct sockaddr *)&a, &len) == 0);
	return ntohs(a.sin_port);
}

static void test_refused_hides_password(void)
{
	struct dev_transport_opts o;
	struct dev_transport *t = NULL;
	struct fw_err err = { 0 };
	char word[128], want[128];
	struct dev_source s;
	int fd;
	unsigned port = closed_port(&fd);

	snprintf(word, sizeof(word), "ftp://fw:hunter2@127.0.0.1:%u/fw.pkg", port);
	snprintf(want, sizeof(want), "ftp://fw:***@127.0.0.1:%u/fw.pkg: ", port);
	s = parse(word, NULL);
	dev_transport_opts_init(&o);
	o.retries = 2;
	o.backoff_ms = 1;
	CU_ASSERT_EQUAL(dev_transport_open(&t, &s, &o, 0, &err), -1);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_NET);
	CU_ASSERT_EQUAL(strncmp(err.msg, want, strlen(want)), 0);
	CU_ASSERT_PTR_NULL(strstr(err.msg, "hunter2"));
	/* Refused is worth retrying (a server restarting), within the budget: 1 + 2 attempts. */
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "(gave up after 3 attempts)"));
	if (strncmp(err.msg, want, strlen(want)) != 0 || strstr(err.msg, "gave up after 3") == NULL)
		fprintf(stderr, "\n%s\n", err.msg);
	close(fd);
}

/* A resume at the very end of a file whose length was recorded needs no connection at all. */
static void test_resume_at_end(void)
{
	struct dev_transport_id id = { "\"e\"", 5, 1000 };
	struct dev_transport_opts o;
	struct dev_transport *t = NULL;
	struct fw_err err = { 0 };
	struct dev_source s = parse("http://127.0.0.1:1/fw.pkg", NULL);
	char buf[16];

	dev_transport_opts_init(&o);
	o.expect = &id;
	CU_ASSERT_EQUAL_FATAL(dev_transport_open(&t, &s, &o, 1000, &err), 0);
	CU_ASSERT_EQUAL(dev_transport_read(t, buf, sizeof(buf), &err), 0);
	CU_ASSERT_EQUAL(dev_transport_info(t)->attempts, 0);
	CU_ASSERT_EQUAL(dev_transport_info(t)->offset, 1000);
	CU_ASSERT_STRING_EQUAL(dev_transport_info(t)->id.etag, "\"e\"");
	CU_ASSERT_EQUAL(dev_transport_seek(t, 1001, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "past the end of the file"));
	dev_transport_close(t);

	CU_ASSERT_EQUAL(dev_transport_open(&t, &s, &o, 1001, &err), -1);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "offset 1001 is past the end of the file (1000 bytes)"));
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 3;
	s = CU_add_suite("dev_transport", NULL, NULL);
	CU_add_test(s, "URLs: escaping, IPv6, absolute FTP/TFTP paths, no credentials", test_urls);
	CU_add_test(s, "the same file: ETag, time and size rules", test_same_file);
	CU_add_test(s, "documented defaults", test_defaults);
	CU_add_test(s, "a local source is refused (usage)", test_not_network);
	CU_add_test(s, "refused connection: retried within budget, password hidden", test_refused_hides_password);
	CU_add_test(s, "resume at the recorded end: no connection, EOF", test_resume_at_end);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
