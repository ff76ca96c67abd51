/* dev_transport: ftp, tftp, http(s), scp, sftp downloads through libcurl, pulled by the caller, resumed after network trouble. */
#include "dev_transport.h"

#include "base/cancel.h"
#include "base/escape.h"
#include "device/dev_curl.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/x509_vfy.h>

#define SKIP_THROUGH (64u * 1024)   /* a seek forward this short reads through instead of reconnecting */
#define BACKOFF_MAX_MS 30000L
#define RECV_BLOCK (64L * 1024)      /* curl's receive buffer; at most DEV_TRANSPORT_BUFFER */
#define POLL_MS 200                 /* how often a waiting read looks at the stop flag */

/* A block curl hands over must fit the empty buffer whole (on_body pauses only a non-empty one). */
_Static_assert(RECV_BLOCK <= DEV_TRANSPORT_BUFFER && CURL_MAX_WRITE_SIZE <= DEV_TRANSPORT_BUFFER, "buffer too small");

/*
 * One attempt is one curl transfer. Its bytes arrive in on_body at stream
 * offset `at`; those before `pos` (already buffered or delivered: a 200 to a
 * Range, a TFTP re-read) are counted and dropped, the rest go to the buffer.
 * The buffer holds bytes [info.offset, pos); read() takes from its front.
 * When it cannot take a block curl is paused, and let go once it is empty.
 */
struct dev_transport {
	struct dev_source src;
	struct dev_transport_opts o;
	struct dev_transport_id ref;   /* the file every attempt must still be */
	int have_ref;
	struct dev_transport_info info;
	enum dev_proto proto;          /* this attempt's protocol */
	char ftp_failure[CURL_ERROR_SIZE + 16];   /* why FTP did not serve ADDRESS FILE: for TFTP's error */
	char last_failure[CURL_ERROR_SIZE];       /* why the last retried attempt failed: for transfer-timeout's error */
	enum curl_khmatch host_key;    /* scp, sftp: how the server's host key compared with known_hosts */

	CURLM *multi;
	CURL *easy;
	CURLU *url;                    /* this attempt's URL (make_url), the easy handle's */
	char errbuf[CURL_ERROR_SIZE];
	int done;                      /* the attempt ended; result says how */
	CURLcode result;
	int answered;                  /* the attempt's answer passed check_answer */
	int paused;
	int progress;                  /* the attempt brought a new byte */
	uint64_t at;                   /* stream offset of the attempt's next byte */
	uint64_t pos;                  /* end of the buffered bytes */

	unsigned char *buf;
	size_t head, len;

	_Atomic uint64_t limit;        /* opts.max_bytes, then dev_transport_set_limit's (from any thread) */
	int cb_failed;                 /* on_body refused the answer: cb_err says why, never retried */
	struct fw_err cb_err;
	int failed;                    /* sticky: a read failed, the stream is over */
	struct fw_err fail_err;
	int eof;
	unsigned fails;                /* attempts in a row without a new byte */
	struct timespec opened;        /* when dev_transport_open began: opts.timeout counts from here */
	long backoff_ms;

	const struct dev_curl *curl;   /* libcurl's functions (loaded at the first open) */
	atomic_int stop;               /* reads give up at once (dev_transport_interrupt) */
	_Atomic uint64_t delivered;    /* info.offset, for dev_transport_done from another thread */
};


void dev_transport_opts_init(struct dev_transport_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout = DEV_TRANSPORT_CONNECT_TIMEOUT;
	o->low_speed_limit = DEV_TRANSPORT_LOW_SPEED_LIMIT;
	o->low_speed_time = DEV_TRANSPORT_LOW_SPEED_TIME;
	o->retries = DEV_TRANSPORT_RETRIES;
	o->backoff_ms = DEV_TRANSPORT_BACKOFF_MS;
	o->timeout = DEV_TRANSPORT_TIMEOUT;
}

/*
 * Errors are made here without the source's name; each public function
 * names it on the way out ("SOURCE: why"), unless the caller names it itself
 * (opts.unnamed). Named once, where the error leaves: nothing ever has to
 * take a name off a message again.
 */
static int named(const char *shown, int unnamed, struct fw_err *err)
{
	if (!unnamed)
		fw_err_wrap(err, "%s", shown);
	return -1;
}

static const char *scheme(enum dev_proto p)
{
	switch (p) {
	case DEV_PROTO_FTP: return "ftp";
	case DEV_PROTO_TFTP: return "tftp";
	case DEV_PROTO_HTTP: return "http";
	case DEV_PROTO_HTTPS: return "https";
	case DEV_PROTO_SCP: return "scp";
	case DEV_PROTO_SFTP: return "sftp";
	default: return NULL;
	}
}

static int ssh_proto(enum dev_proto p)
{
	return p == DEV_PROTO_SCP || p == DEV_PROTO_SFTP;
}

/*
 * The URL of the file for protocol p, without user or password (they go to
 * curl apart), as a CURLU handle built from the source's parts: curl encodes
 * the path; nothing is written as URL text and parsed again. NULL when curl
 * refuses a part (a path too long, out of memory).
 */
static CURLU *make_url(const struct dev_transport *t, enum dev_proto p)
{
	const struct dev_curl *c = t->curl;
	const unsigned plain = CURLU_NON_SUPPORT_SCHEME;
	const char *path = t->src.path;
	char host[sizeof(t->src.host) + 2], port[16], *rel = NULL, *enc = NULL;
	CURLU *u = c->url();
	int abs_ftp = 0, ok = u != NULL;

	snprintf(host, sizeof(host), strchr(t->src.host, ':') != NULL ? "[%s]" : "%s", t->src.host);
	snprintf(port, sizeof(port), "%u", t->src.port);
	/* scp, sftp (curl's syntax): "/PATH" is absolute, "/~/PATH" in the login's home, where a plain PATH is too. */
	if (ssh_proto(p) && *path == '/')
		path++;
	else if (ssh_proto(p) && strncmp(path, "~/", 2) != 0)
		abs_ftp = -1;
	/* An absolute path on an FTP or TFTP server is "%2F..." (RFC 1738); HTTP paths are all absolute. */
	if (*path == '/' && (p == DEV_PROTO_FTP || p == DEV_PROTO_TFTP)) {
		abs_ftp = 1;
		path++;
	}
	if (ok && asprintf(&rel, "/%s%s", abs_ftp < 0 ? "~/" : "", path) < 0)
		rel = NULL;
	ok = ok && rel != NULL && c->url_set(u, CURLUPART_SCHEME, scheme(p), plain) == CURLUE_OK &&
	     c->url_set(u, CURLUPART_HOST, host, plain) == CURLUE_OK &&
	     (t->src.port == 0 || c->url_set(u, CURLUPART_PORT, port, plain) == CURLUE_OK) &&
	     c->url_set(u, CURLUPART_PATH, rel, plain | CURLU_URLENCODE) == CURLUE_OK;
	if (ok && abs_ftp == 1) {
		/* The "%2F" must stay as it is: the rest is curl's encoding of the path, then the prefix goes before it. */
		char *whole = NULL;

		ok = c->url_get(u, CURLUPART_PATH, &enc, 0) == CURLUE_OK && asprintf(&whole, "/%%2F%s", enc + 1) >= 0 &&
		     c->url_set(u, CURLUPART_PATH, whole, plain) == CURLUE_OK;
		free(whole);
	}
	if (enc != NULL)
		c->free(enc);
	free(rel);
	if (!ok && u != NULL) {
		c->url_cleanup(u);
		u = NULL;
	}
	return u;
}

/* This attempt's curl text, e.g. "Failed to connect to 127.0.0.1 port 2121 after 0 ms: Couldn't connect to server". */
static const char *curl_why(const struct dev_transport *t)
{
	return t->errbuf[0] ? t->errbuf : t->curl->easy_strerror(t->result);
}

static int http(const struct dev_transport *t)
{
	return t->proto == DEV_PROTO_HTTP || t->proto == DEV_PROTO_HTTPS;
}

static void describe_id(const struct dev_transport_id *id, char *out, size_t n)
{
	snprintf(out, n, "ETag %s, time %lld, size %lld", id->etag[0] ? id->etag : "none", id->mtime, id->size);
}

/* Is the answer's file the one the stream began with? */
static int same_file(const struct dev_transport_id *a, const struct dev_transport_id *b)
{
	if (a->etag[0] && strcmp(a->etag, b->etag) != 0)
		return 0;
	if (a->mtime >= 0 && a->mtime != b->mtime)
		return 0;
	return !(a->size >= 0 && b->size >= 0 && a->size != b->size);
}

/* A refusal found in an answer; never retried. Returns -1. */
static int refuse(struct dev_transport *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(struct dev_transport *t, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	t->cb_failed = 1;
	return fw_err_set(&t->cb_err, FW_EXIT_NET, "%s", why);
}

/*
 * The first sign of an answer (its first body byte, or its end when it has
 * none): learn where its bytes start and which file they belong to.
 */
static int check_answer(struct dev_transport *t, uint64_t asked)
{
	struct dev_transport_id id = { "", -1, -1 };
	curl_off_t len = -1, ftime = -1;
	long code = 0;
	struct curl_header *h;
	uint64_t limit;

	t->curl->easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (t->curl->easy_getinfo(t->easy, CURLINFO_FILETIME_T, &ftime) == CURLE_OK && ftime >= 0)
		id.mtime = (long long)ftime;
	t->at = 0;
	if (http(t)) {
		t->curl->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
		/* The server's bytes, kept in the resume record and the smart state and compared with the
		 * next answer's: escaped here, once, so every copy is text and compares equal. */
		if (t->curl->easy_header(t->easy, "ETag", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
			fw_escape_msg(h->value, id.etag, sizeof(id.etag));
		t->info.ranges_said = t->curl->easy_header(t->easy, "Accept-Ranges", 0, CURLH_HEADER, -1, &h) == CURLHE_OK &&
				      strcasecmp(h->value, "bytes") == 0;
		if (code == 206) {
			unsigned long long first, last;
			char total[32];

			if (t->curl->easy_header(t->easy, "Content-Range", 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
			    sscanf(h->value, "bytes %llu-%llu/%31s", &first, &last, total) != 3 || first != asked)
				return refuse(t, "the server answered a range request with the wrong bytes");
			if (strcmp(total, "*") != 0)
				id.size = strtoll(total, NULL, 10);
			t->at = first;
			t->info.can_resume = 1;
		} else if (code == 200) {
			id.size = len;
			/* Range ignored (asked from byte 0 with an end, too): the whole file again, skipped up to pos */
			if (asked > 0 || t->info.end > 0)
				t->info.can_resume = 0;
		} else if (code >= 300 && code < 400 && t->o.pinned_key) {
			return refuse(t, "redirected (HTTP %ld): redirects are not followed when a public key is pinned",
				      code);
		} else {
			return refuse(t, "unexpected HTTP answer %ld", code);
		}
	} else if (t->proto == DEV_PROTO_FTP || t->proto == DEV_PROTO_SFTP) {
		/* After REST (or an SFTP seek), curl's length is what is left of the file (SIZE minus the offset). */
		id.size = len >= 0 ? (long long)(len + (curl_off_t)asked) : -1;
		t->at = asked;
		if (asked > 0)
			t->info.can_resume = 1;
	} else {
		id.size = len;  /* the tsize option, when the server sends it */
		if (asked > 0)
			t->info.can_resume = 0;
	}
	if (!t->have_ref) {
		t->ref = id;
		t->have_ref = 1;
	} else if (!same_file(&t->ref, &id)) {
		char was[200], now[200];

		describe_id(&t->ref, was, sizeof(was));
		describe_id(&id, now, sizeof(now));
		t->info.changed = 1;
		refuse(t, "the file changed on the server since the download began (%s; now %s): start over", was, now);
		t->cb_err.kind = FW_KIND_CHANGED;
		return -1;
	}
	/* Keep what the first answer did not say but this one does. */
	if (t->ref.size < 0)
		t->ref.size = id.size;
	t->info.id = t->ref;
	limit = atomic_load(&t->limit);
	if (limit && t->ref.size >= 0 && (uint64_t)t->ref.size > limit) {
		refuse(t, "the file is %lld bytes, more than the %llu expected", t->ref.size, (unsigned long long)limit);
		t->cb_err.kind = FW_KIND_MISMATCH;
		return -1;
	}
	t->answered = 1;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct dev_transport *t = ud;
	size_t n = size * nmemb, drop = 0;
	uint64_t limit;

	if (!t->answered && check_answer(t, t->pos) < 0)
		return CURL_WRITEFUNC_ERROR;
	if (t->len > 0 && t->len + n > DEV_TRANSPORT_BUFFER) {
		t->paused = 1;   /* the same bytes come again after t->curl->easy_pause(CONTINUE) */
		return CURL_WRITEFUNC_PAUSE;
	}
	t->info.fetched += n;
	if (t->at < t->pos)
		drop = t->pos - t->at < n ? (size_t)(t->pos - t->at) : n;
	t->at += n;
	if (drop == n)
		return n;
	if ((limit = atomic_load(&t->limit)) != 0 && t->at > limit) {
		refuse(t, "more than the %llu bytes expected", (unsigned long long)limit);
		t->cb_err.kind = FW_KIND_MISMATCH;
		return CURL_WRITEFUNC_ERROR;
	}
	if (t->head + t->len + (n - drop) > DEV_TRANSPORT_BUFFER) {
		memmove(t->buf, t->buf + t->head, t->len);
		t->head = 0;
	}
	memcpy(t->buf + t->head + t->len, data + drop, n - drop);
	t->len += n - drop;
	t->pos += n - drop;
	t->progress = 1;
	return n;
}

static void end_attempt(struct dev_transport *t)
{
	if (t->easy != NULL) {
		t->curl->multi_remove_handle(t->multi, t->easy);
		t->curl->easy_cleanup(t->easy);
		t->easy = NULL;
	}
	if (t->url != NULL) {
		t->curl->url_cleanup(t->url);
		t->url = NULL;
	}
}

/* scp, sftp: only a key known_hosts lists for this host; remember why another is refused. */
static int on_host_key(CURL *easy, const struct curl_khkey *known, const struct curl_khkey *found,
		       enum curl_khmatch match, void *ud)
{
	struct dev_transport *t = ud;

	(void)easy;
	(void)known;
	(void)found;
	t->host_key = match;
	return match == CURLKHMATCH_OK ? CURLKHSTAT_FINE : CURLKHSTAT_REJECT;
}

#define SET(opt, val)                                                                                    \
	do {                                                                                             \
		if ((rc = t->curl->easy_setopt(t->easy, opt, val)) != CURLE_OK)                             \
			goto out;                                                                        \
	} while (0)

/* Start a transfer that continues at t->pos. */
static int start_attempt(struct dev_transport *t, struct fw_err *err)
{
	char range[48];
	CURLcode rc = CURLE_OK;
	CURLMcode mrc;

	end_attempt(t);
	t->done = t->answered = t->paused = t->progress = t->cb_failed = 0;
	t->result = CURLE_OK;
	t->errbuf[0] = '\0';
	t->info.attempts++;
	if ((t->url = make_url(t, t->proto)) == NULL)
		return fw_err_set(err, FW_EXIT_USAGE, "the path is too long, or curl cannot make a URL of it");
	if ((t->easy = t->curl->easy_init()) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "cannot start a transfer: out of memory");
	SET(CURLOPT_CURLU, t->url);
	SET(CURLOPT_PROTOCOLS_STR, http(t) ? "http,https" : scheme(t->proto));
	/* No proxy from the environment: the device's configuration names its servers, nothing else does. */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOSIGNAL, 1L);  /* no SIGALRM: the fd thread and the caller share the process */
	SET(CURLOPT_ERRORBUFFER, t->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, t);
	SET(CURLOPT_CONNECTTIMEOUT, t->o.connect_timeout);
	SET(CURLOPT_LOW_SPEED_LIMIT, t->o.low_speed_limit);
	SET(CURLOPT_LOW_SPEED_TIME, t->o.low_speed_time);
	SET(CURLOPT_FILETIME, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	/* Fewer, larger socket reads (as the curl tool does); a block still fits the buffer whole. */
	SET(CURLOPT_BUFFERSIZE, (long)RECV_BLOCK);
	if (t->src.user[0] && t->proto != DEV_PROTO_TFTP) {
		SET(CURLOPT_USERNAME, t->src.user);
		SET(CURLOPT_PASSWORD, t->src.password);
	}
	/* HTTP asks for the bytes up to info.end alone, so the server sends nothing the caller has already. */
	if (http(t) && t->info.end > t->pos)
		snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)t->pos, (unsigned long long)(t->info.end - 1));
	else
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)t->pos);
	switch (t->proto) {
	case DEV_PROTO_HTTP:
	case DEV_PROTO_HTTPS:
		SET(CURLOPT_USERAGENT, "fwctl");
		SET(CURLOPT_FAILONERROR, 1L);
		/* A pin names one server: a redirect elsewhere must not get around it. */
		SET(CURLOPT_FOLLOWLOCATION, t->o.pinned_key ? 0L : 1L);
		SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		SET(CURLOPT_MAXREDIRS, 5L);
		if (t->o.ca_file)
			SET(CURLOPT_CAINFO, t->o.ca_file);
		if (t->o.pinned_key)
			SET(CURLOPT_PINNEDPUBLICKEY, t->o.pinned_key);
		/* Our own Range, not RESUME_FROM: curl would fail a 200 answer, and we can use it. */
		if (t->pos > 0 || t->info.end > 0)
			SET(CURLOPT_RANGE, range);
		break;
	case DEV_PROTO_FTP:
		SET(CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t->pos);
		break;
	case DEV_PROTO_TFTP:
		if (t->o.tftp_blksize)
			SET(CURLOPT_TFTP_BLKSIZE, (long)t->o.tftp_blksize);
		break;
	case DEV_PROTO_SFTP:
		SET(CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t->pos);
		/* fall through */
	case DEV_PROTO_SCP:
		t->host_key = CURLKHMATCH_OK;
		SET(CURLOPT_SSH_KNOWNHOSTS, t->o.ssh_known_hosts);
		SET(CURLOPT_SSH_KEYFUNCTION, on_host_key);
		SET(CURLOPT_SSH_KEYDATA, t);
		/* Never the keys in ~/.ssh: the device's key file, when one is set, and the password. */
		SET(CURLOPT_SSH_AUTH_TYPES, CURLSSH_AUTH_PASSWORD | (t->o.ssh_key ? CURLSSH_AUTH_PUBLICKEY : 0L));
		if (t->o.ssh_key)
			SET(CURLOPT_SSH_PRIVATE_KEYFILE, t->o.ssh_key);
		break;
	default:
		break;
	}
	if ((mrc = t->curl->multi_add_handle(t->multi, t->easy)) != CURLM_OK)
		return fw_err_set(err, FW_EXIT_IO, "cannot start a transfer: %s", t->curl->multi_strerror(mrc));
out:
	if (rc != CURLE_OK)
		return fw_err_set(err, FW_EXIT_IO, "cannot set up the transfer: %s", t->curl->easy_strerror(rc));
	return 0;
}

#undef SET

/* Move the transfer on: let curl work, wait for the network up to POLL_MS. */
static int pump(struct dev_transport *t, struct fw_err *err)
{
	CURLMcode mrc;
	CURLMsg *msg;
	int running = 0, left;

	if (t->paused && t->len == 0) {
		t->paused = 0;
		t->curl->easy_pause(t->easy, CURLPAUSE_CONT);  /* may call on_body at once */
	}
	if ((mrc = t->curl->multi_perform(t->multi, &running)) != CURLM_OK)
		return fw_err_set(err, FW_EXIT_IO, "%s", t->curl->multi_strerror(mrc));
	while ((msg = t->curl->multi_info_read(t->multi, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->easy) {
			t->done = 1;
			t->result = msg->data.result;
		}
	}
	if (!t->done && t->len == 0 && !t->paused &&
	    (mrc = t->curl->multi_poll(t->multi, NULL, 0, POLL_MS, NULL)) != CURLM_OK)
		return fw_err_set(err, FW_EXIT_IO, "%s", t->curl->multi_strerror(mrc));
	return 0;
}

/* The server's own word that it is over its limit: 429 Too Many Requests, 503 Service Unavailable. */
static int busy(long code)
{
	return code == 429 || code == 503;
}

/* A failure worth another attempt: the network, not the file or the credentials. */
static int transient(const struct dev_transport *t)
{
	long code = 0;

	switch (t->result) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:   /* a handshake cut short; a certificate that fails is PEER_FAILED_VERIFICATION */
	case CURLE_FTP_ACCEPT_TIMEOUT:
	case CURLE_FTP_CANT_GET_HOST:
		return 1;
	case CURLE_HTTP_RETURNED_ERROR:
		t->curl->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
		return code >= 500 && !busy(code);   /* a busy server is asked again when it says, not at once */
	case CURLE_SSH:
		/* libssh2's catch-all: a session cut mid-file is worth a retry, a refusal before the file is not. */
		return t->answered;
	default:
		return 0;
	}
}

/* With no protocol given, FTP that is not there (or has no such file) hands over to TFTP. */
static int ftp_gives_way(const struct dev_transport *t)
{
	if (t->src.proto != DEV_PROTO_AUTO || t->proto != DEV_PROTO_FTP || t->answered)
		return 0;
	switch (t->result) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_FTP_WEIRD_PASV_REPLY:
	case CURLE_FTP_WEIRD_227_FORMAT:
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_REMOTE_FILE_NOT_FOUND:
	case CURLE_FTP_COULDNT_RETR_FILE:
	case CURLE_RECV_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* OpenSSL's verdict on the server's chain: a certificate in it has expired or is not valid yet. */
static int cert_out_of_date(const struct dev_transport *t)
{
	long v = 0;

	if (t->curl->easy_getinfo(t->easy, CURLINFO_SSL_VERIFYRESULT, &v) != CURLE_OK)
		return 0;
	return v == X509_V_ERR_CERT_HAS_EXPIRED || v == X509_V_ERR_CERT_NOT_YET_VALID;
}

/* This attempt's failure in words, naming the source. */
static int attempt_error(struct dev_transport *t, struct fw_err *err)
{
	const char *pre = t->ftp_failure[0] ? t->ftp_failure : "";
	const char *sep = t->ftp_failure[0] ? "; tftp: " : "";
	long code = 0;

	if (t->cb_failed) {
		*err = t->cb_err;
		return -1;
	}
	switch (t->result) {
	case CURLE_HTTP_RETURNED_ERROR:
		t->curl->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
		if (busy(code)) {
			curl_off_t after = 0;

			if (t->curl->easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &after) != CURLE_OK || after < 0)
				after = 0;
			if (t->o.retry_after != NULL)
				*t->o.retry_after = after > LONG_MAX ? LONG_MAX : (long)after;
			if (after > 0)
				return fw_err_setk(err, FW_KIND_THROTTLED, FW_EXIT_NET, "the server answered HTTP %ld (busy: "
						   "over its limit), Retry-After %lld s", code, (long long)after);
			return fw_err_setk(err, FW_KIND_THROTTLED, FW_EXIT_NET, "the server answered HTTP %ld (busy: over "
					   "its limit)", code);
		}
		return fw_err_setk(err, code == 404 ? FW_KIND_NOT_FOUND : FW_KIND_NONE, FW_EXIT_NET,
				   "the server answered HTTP %ld%s", code,
				  code == 404 ? " (no such file)" : code == 401 || code == 403 ? " (not allowed)" : "");
	case CURLE_LOGIN_DENIED:
		return fw_err_set(err, FW_EXIT_NET, "%slogin refused%s", pre,
				  t->src.user[0] ? " (wrong user name or password?)" : " (the server wants a user name)");
	case CURLE_REMOTE_FILE_NOT_FOUND:
	case CURLE_TFTP_NOTFOUND:
	case CURLE_REMOTE_ACCESS_DENIED:
		return fw_err_setk(err, FW_KIND_NOT_FOUND, FW_EXIT_NET, "%s%sno such file on the server (%s)", pre, sep,
				  curl_why(t));
	case CURLE_OPERATION_TIMEDOUT:
		return fw_err_setk(err, FW_KIND_TIMEOUT, FW_EXIT_NET,
				  "%s%stimed out or too slow (%s; limits: %ld s to connect, at least %ld bytes/s over %ld s)",
				  pre, sep, curl_why(t), t->o.connect_timeout, t->o.low_speed_limit,
				  t->o.low_speed_time);
	case CURLE_BAD_DOWNLOAD_RESUME:
		/* REST past the end: the file is shorter than when the download began. */
		if (t->have_ref)
			t->info.changed = 1;
		return fw_err_setk(err, t->have_ref ? FW_KIND_CHANGED : FW_KIND_NONE, FW_EXIT_NET,
				   "the file on the server is shorter than offset %llu%s", (unsigned long long)t->pos,
				  t->have_ref ? ": it changed since the download began, start over" : "");
	case CURLE_PEER_FAILED_VERIFICATION:
		if (ssh_proto(t->proto) && t->host_key == CURLKHMATCH_MISMATCH)
			return fw_err_set(err, FW_EXIT_NET, "the server's host key is not the one %s lists for it: "
					  "refused (a changed server, or another one in its place)", t->o.ssh_known_hosts);
		if (ssh_proto(t->proto))
			return fw_err_set(err, FW_EXIT_NET, "the server's host key is not in %s: refused (add the "
					  "server's key to that file to trust it)", t->o.ssh_known_hosts);
		if (cert_out_of_date(t))
			return fw_err_setk(err, FW_KIND_CERT_TIME, FW_EXIT_NET, "the server's certificate is out of date "
					   "(%s): check the server's certificate, and the device's clock", curl_why(t));
		return fw_err_set(err, FW_EXIT_NET, "the server's certificate does not verify (%s)", curl_why(t));
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return fw_err_set(err, FW_EXIT_NET, "the server's public key is not the pinned one");
	default:
		break;
	}
	return fw_err_set(err, FW_EXIT_NET, "%s%s%s", pre, sep, curl_why(t));
}

static int stopped(struct dev_transport *t, struct fw_err *err)
{
	struct timespec now;

	/* The user's stop (fw_cancel) is looked at in the same wait, so it ends a transfer within POLL_MS. */
	if (fw_cancel_check(err) < 0)
		return -1;
	if (atomic_load(&t->stop))
		return fw_err_set(err, FW_EXIT_NET, "stopped");
	if (t->o.timeout <= 0)
		return 0;
	/* Looked at once per wait for the network (POLL_MS at most), never per byte. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - t->opened.tv_sec < (time_t)t->o.timeout)
		return 0;
	/* Name every attempt the bound cut short: FTP's failure before TFTP's (ADDRESS FILE), the last retry's. */
	return fw_err_setk(err, FW_KIND_TIMEOUT, FW_EXIT_NET,
			   "the transfer did not finish within %ld s (transfer-timeout): given up after %llu bytes "
			   "(%s%s%s: %s)", t->o.timeout, (unsigned long long)t->info.offset, t->ftp_failure,
			   t->ftp_failure[0] ? "; " : "", scheme(t->proto),
			   t->last_failure[0] ? t->last_failure : "no answer yet");
}

/* Sleep the backoff, waking to look at the stop flag. */
static int back_off(struct dev_transport *t, struct fw_err *err)
{
	long left = t->backoff_ms;

	while (left > 0) {
		long step = left < POLL_MS ? left : POLL_MS;
		struct timespec ts = { step / 1000, (step % 1000) * 1000000L };

		if (stopped(t, err) < 0)
			return -1;
		nanosleep(&ts, NULL);
		left -= step;
	}
	t->backoff_ms = t->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : t->backoff_ms * 2;
	return 0;
}

/*
 * The attempt is over: the end of the file, or a failure that is retried
 * (a new attempt from pos), handed to TFTP, or final (-1).
 */
static int finish_attempt(struct dev_transport *t, struct fw_err *err)
{
	if (t->result == CURLE_OK && !t->answered && !t->cb_failed && check_answer(t, t->pos) < 0)
		return attempt_error(t, err);
	if (t->result == CURLE_OK) {
		/* TFTP and chunked HTTP do not say the length beforehand; a short FTP or HTTP body is curl's error. */
		if (t->ref.size < 0 || t->pos >= (uint64_t)t->ref.size || (t->info.end > 0 && t->pos >= t->info.end)) {
			t->eof = 1;
			end_attempt(t);
			return 0;
		}
		t->result = CURLE_PARTIAL_FILE;
		snprintf(t->errbuf, sizeof(t->errbuf), "the transfer ended at byte %llu of %lld",
			 (unsigned long long)t->pos, t->ref.size);
	}
	if (ftp_gives_way(t)) {
		attempt_error(t, err);
		snprintf(t->ftp_failure, sizeof(t->ftp_failure), "ftp: %s", curl_why(t));
		t->proto = DEV_PROTO_TFTP;
		t->info.proto = DEV_PROTO_TFTP;
		return start_attempt(t, err);
	}
	if (t->cb_failed || !transient(t))
		return attempt_error(t, err);
	/* A new byte renews the retry budget, unless the attempt was too slow: a server that dribbles
	 * a few bytes into every attempt must still run out of retries. */
	if (t->progress && t->result != CURLE_OPERATION_TIMEDOUT) {
		t->fails = 0;
		t->backoff_ms = t->o.backoff_ms;
	}
	if (++t->fails > t->o.retries) {
		size_t used;

		attempt_error(t, err);
		used = strlen(err->msg);
		snprintf(err->msg + used, sizeof(err->msg) - used, " (gave up after %u attempt%s)", t->info.attempts,
			 t->info.attempts == 1 ? "" : "s");
		return -1;
	}
	t->info.interruptions++;
	snprintf(t->last_failure, sizeof(t->last_failure), "%s", curl_why(t));
	if (back_off(t, err) < 0)
		return -1;
	return start_attempt(t, err);
}

/* Wait for the server's answer (or the end, or a final failure) after an attempt started. */
static int await_answer(struct dev_transport *t, struct fw_err *err)
{
	while (!t->answered && !t->eof) {
		if (stopped(t, err) < 0)
			return -1;
		if (t->done) {
			if (finish_attempt(t, err) < 0)
				return -1;
		} else if (pump(t, err) < 0) {
			return -1;
		}
	}
	return 0;
}

static int open_transport(struct dev_transport **out, const struct dev_source *src,
			  const struct dev_transport_opts *opts, uint64_t offset, struct fw_err *err)
{
	struct dev_transport *t = NULL;
	const struct dev_curl *curl;

	*out = NULL;
	if (src->kind != DEV_SRC_NET || (src->proto != DEV_PROTO_AUTO && scheme(src->proto) == NULL))
		return fw_err_set(err, FW_EXIT_USAGE, "not a network source");
	if (ssh_proto(src->proto) && (opts == NULL || opts->ssh_known_hosts == NULL))
		return fw_err_set(err, FW_EXIT_USAGE, "no known_hosts file to check the server's host key against "
				  "(fwctl config ssh-known-hosts FILE)");
	if ((curl = dev_curl(err)) == NULL)
		return -1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	t->curl = curl;
	clock_gettime(CLOCK_MONOTONIC, &t->opened);
	if ((t->buf = malloc(DEV_TRANSPORT_BUFFER)) == NULL || (t->multi = curl->multi_init()) == NULL) {
		dev_transport_close(t);
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	}
	t->src = *src;
	if (opts)
		t->o = *opts;
	else
		dev_transport_opts_init(&t->o);
	t->o.expect = NULL;
	atomic_init(&t->stop, 0);
	atomic_init(&t->limit, t->o.max_bytes);
	t->backoff_ms = t->o.backoff_ms;
	t->ref = (struct dev_transport_id){ "", -1, -1 };
	if (opts && opts->expect) {
		t->ref = *opts->expect;
		t->have_ref = 1;
	}
	t->info.id = t->ref;
	t->proto = src->proto == DEV_PROTO_AUTO ? DEV_PROTO_FTP : src->proto;
	t->info.proto = t->proto;
	t->info.can_resume = -1;
	t->info.offset = t->pos = offset;
	t->info.end = t->o.end > offset ? t->o.end : 0;
	atomic_store(&t->delivered, offset);
	snprintf(t->info.shown, sizeof(t->info.shown), "%s", src->shown);
	if (t->have_ref && t->ref.size >= 0 && offset >= (uint64_t)t->ref.size) {
		t->eof = offset == (uint64_t)t->ref.size;
		if (!t->eof) {
			fw_err_set(err, FW_EXIT_USAGE, "offset %llu is past the end of the file (%lld bytes)",
				   (unsigned long long)offset, t->ref.size);
			goto fail;
		}
	} else if (start_attempt(t, err) < 0 || await_answer(t, err) < 0) {
		goto fail;
	}
	*out = t;
	return 0;
fail:
	dev_transport_close(t);
	return -1;
}

int dev_transport_open(struct dev_transport **out, const struct dev_source *src, const struct dev_transport_opts *opts,
		       uint64_t offset, struct fw_err *err)
{
	if (open_transport(out, src, opts, offset, err) < 0)
		return named(src->shown, opts != NULL && opts->unnamed, err);
	return 0;
}

static ssize_t read_stream(struct dev_transport *t, void *buf, size_t len, struct fw_err *err)
{
	if (t->info.end > 0) {
		if (t->info.offset >= t->info.end)
			return 0;
		if (len > t->info.end - t->info.offset)
			len = (size_t)(t->info.end - t->info.offset);
	}
	while (t->len == 0) {
		if (t->eof)
			return 0;
		if (t->failed) {
			*err = t->fail_err;
			return -1;
		}
		/* Interrupted: this read gives up, the stream stays where it is. */
		if (stopped(t, err) < 0)
			return -1;
		if ((t->done ? finish_attempt(t, err) : pump(t, err)) < 0) {
			t->failed = 1;
			t->fail_err = *err;
			end_attempt(t);
			return -1;
		}
	}
	if (len > t->len)
		len = t->len;
	memcpy(buf, t->buf + t->head, len);
	t->head += len;
	t->len -= len;
	if (t->len == 0)
		t->head = 0;
	t->info.offset += len;
	atomic_store(&t->delivered, t->info.offset);
	return (ssize_t)len;
}

int dev_transport_seek(struct dev_transport *t, uint64_t offset, struct fw_err *err)
{
	return dev_transport_seek_to(t, offset, 0, err);
}

ssize_t dev_transport_read(struct dev_transport *t, void *buf, size_t len, struct fw_err *err)
{
	ssize_t n = read_stream(t, buf, len, err);

	if (n < 0)
		return named(t->info.shown, t->o.unnamed, err);
	return n;
}

static int seek_stream(struct dev_transport *t, uint64_t offset, uint64_t end, struct fw_err *err)
{
	unsigned char sink[16384];
	uint64_t cur = t->info.offset;
	/* Another end is another request (over HTTP): read through only within the same one. */
	int same_end = end == t->info.end;

	if (t->failed && !t->info.changed) {
		t->failed = 0;   /* a new position is a new start: the retry budget too */
		t->fails = 0;
	}
	if (same_end && offset >= cur && offset - cur <= SKIP_THROUGH && !t->failed && (end == 0 || offset < end)) {
		while (t->info.offset < offset) {
			uint64_t want = offset - t->info.offset;
			ssize_t n = read_stream(t, sink, want < sizeof(sink) ? (size_t)want : sizeof(sink), err);
			if (n < 0)
				return -1;
			if (n == 0)
				return fw_err_set(err, FW_EXIT_NET, "offset %llu is past the end of the file",
						  (unsigned long long)offset);
		}
		return 0;
	}
	if (t->failed) {
		*err = t->fail_err;
		return -1;
	}
	end_attempt(t);
	t->head = t->len = 0;
	t->eof = 0;
	t->info.end = end;
	t->info.offset = t->pos = offset;
	atomic_store(&t->delivered, offset);
	t->fails = 0;
	t->backoff_ms = t->o.backoff_ms;
	if (t->ref.size >= 0 && offset >= (uint64_t)t->ref.size) {
		if (offset > (uint64_t)t->ref.size)
			return fw_err_set(err, FW_EXIT_NET, "offset %llu is past the end of the file (%lld bytes)",
					  (unsigned long long)offset, t->ref.size);
		t->eof = 1;
		return 0;
	}
	if (start_attempt(t, err) < 0 || await_answer(t, err) < 0) {
		t->failed = 1;
		t->fail_err = *err;
		return -1;
	}
	return 0;
}

int dev_transport_seek_to(struct dev_transport *t, uint64_t offset, uint64_t end, struct fw_err *err)
{
	if (seek_stream(t, offset, end, err) < 0)
		return named(t->info.shown, t->o.unnamed, err);
	return 0;
}

int dev_transport_jumps(const struct dev_transport *t)
{
	if (t->info.can_resume == 0 || t->failed)
		return 0;
	if (http(t))
		return t->info.can_resume == 1 || t->info.ranges_said;
	/* FTP's REST and SFTP's seek start where asked; TFTP always starts at byte 0. */
	return t->proto == DEV_PROTO_FTP || t->proto == DEV_PROTO_SFTP;
}

int dev_transport_range_ignored(const struct dev_transport_info *i)
{
	return i->can_resume == 0 && (i->proto == DEV_PROTO_HTTP || i->proto == DEV_PROTO_HTTPS);
}

uint64_t dev_transport_done(const struct dev_transport *t)
{
	return atomic_load(&((struct dev_transport *)t)->delivered);
}

uint64_t dev_transport_received(const struct dev_transport *t)
{
	return t->at;
}

void dev_transport_set_limit(struct dev_transport *t, uint64_t max_bytes)
{
	atomic_store(&t->limit, max_bytes);
}

const struct dev_transport_info *dev_transport_info(const struct dev_transport *t)
{
	return &t->info;
}

void dev_transport_interrupt(struct dev_transport *t, int on)
{
	atomic_store(&t->stop, on);
}

void dev_transport_close(struct dev_transport *t)
{
	if (t == NULL)
		return;
	end_attempt(t);
	if (t->multi)
		t->curl->multi_cleanup(t->multi);
	free(t->buf);
	explicit_bzero(&t->src, sizeof(t->src));
	free(t);
}
