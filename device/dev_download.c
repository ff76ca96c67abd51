/* dev_download: fetch the next release into ROOT/download, verified as it arrives, resumable after a power cut. */
#include "device/dev_download.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/crash.h"
#include "base/outfile.h"
#include "device/dev_check.h"
#include "device/dev_smart.h"
#include "device/dev_transport.h"
#include "formats/chunk.h"
#include "formats/pkg_read.h"
#include "signing/trust.h"

#define FEED_BUF (64u * 1024)

/*
 * Two threads share one download. The feeder (feed()) sends pkg_read the
 * bytes already in the part file, then the network's from the first missing
 * byte on, writing each network byte into the file before it sends it; every
 * DEV_DOWNLOAD_SYNC bytes, once the manifest checked out, it fsyncs the file
 * and records the progress. The reader (the calling thread) runs pkg_read on
 * the other end of a socket pair. The feeder alone touches the state while
 * it runs; manifest_ok is the one thing the reader tells it.
 */
struct dl {
	struct dev_root *r;
	struct dev_smart_state *s;
	int part_fd;
	char *part_path;
	int sock;                     /* the feeder's end */
	uint64_t have;                /* bytes in the part file at the start */
	atomic_int manifest_ok;       /* the reader found the manifest the catalog names */
	int mismatch;                 /* ... or another one (fileNotMatch) */
	/* the feeder's outcome */
	int failed;                   /* -1: the network or the file failed (err) */
	int reader_gone;              /* the reader stopped before the end */
	struct fw_err err;
	uint64_t written;             /* bytes in the file now */
	uint64_t fetched;
	unsigned interruptions;
	int changed;                  /* the file changed on the server: start over */
	double started;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_all(struct dl *d, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(d->sock, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			d->reader_gone = 1;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync the part file and record how far it is: the progress a power cut keeps. */
static int checkpoint(struct dl *d, const struct dev_transport_info *ti)
{
	double dt = now_s() - d->started;

	fw_crash_point("fsync of", d->part_path);
	if (fsync(d->part_fd) < 0)
		return fw_err_set(&d->err, FW_EXIT_IO, "%s: fsync: %s", d->part_path, strerror(errno));
	d->s->dl_bytes = d->written;
	if (ti != NULL) {
		snprintf(d->s->dl_etag, sizeof(d->s->dl_etag), "%s", ti->id.etag);
		d->s->dl_mtime = ti->id.mtime;
		d->s->dl_size = ti->id.size;
	}
	if (dt > 0)
		d->s->dl_speed = (uint64_t)((double)(d->written - d->have) / dt);
	return dev_smart_save(d->r, d->s, &d->err);
}

/* Open the step's package at `offset` on its first mirror that answers. */
static int open_net(struct dl *d, uint64_t offset, struct dev_transport **t, const struct dev_transport_opts *o)
{
	const struct dev_smart_release *st = &d->s->step;

	for (unsigned i = 0; i < st->n_urls; i++) {
		struct dev_source src;
		const char *url = st->url[i];

		if (dev_source_parse(1, (char *const *)&url, &src, &d->err) < 0)
			continue;
		if (dev_transport_open(t, &src, o, offset, &d->err) == 0)
			return 0;
		*t = NULL;
		/* A changed file is the same on every mirror: start over rather than try the next. */
		if (strstr(d->err.msg, "changed") != NULL) {
			d->changed = 1;
			break;
		}
	}
	return -1;
}

static void *feed(void *arg)
{
	struct dl *d = arg;
	struct dev_transport_opts o;
	struct dev_transport_id expect;
	struct dev_transport *t = NULL;
	uint8_t *buf = malloc(FEED_BUF);
	uint64_t off = 0, synced;
	ssize_t n;

	if (buf == NULL) {
		d->failed = fw_err_set(&d->err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	/* What is on disk first: the reader verifies it again like any other byte. */
	while (off < d->have) {
		size_t want = d->have - off < FEED_BUF ? (size_t)(d->have - off) : FEED_BUF;
		n = pread(d->part_fd, buf, want, (off_t)off);
		if (n <= 0) {
			d->failed = fw_err_set(&d->err, FW_EXIT_IO, "%s: read: %s", d->part_path,
					       n < 0 ? strerror(errno) : "shorter than before");
			goto out;
		}
		if (send_all(d, buf, (size_t)n) < 0)
			goto out;
		off += (uint64_t)n;
	}
	d->written = synced = d->have;
	if (d->have >= d->s->step.length)
		goto out;
	dev_check_net_opts(&d->r->cfg, &o);
	o.max_bytes = d->s->step.length;
	if (d->have > 0 && (d->s->dl_etag[0] || d->s->dl_mtime >= 0 || d->s->dl_size >= 0)) {
		snprintf(expect.etag, sizeof(expect.etag), "%s", d->s->dl_etag);
		expect.mtime = d->s->dl_mtime;
		expect.size = d->s->dl_size;
		o.expect = &expect;
	}
	if (open_net(d, d->have, &t, &o) < 0) {
		d->failed = -1;
		goto out;
	}
	while ((n = dev_transport_read(t, buf, FEED_BUF, &d->err)) != 0) {
		if (n < 0) {
			d->failed = -1;
			d->changed = dev_transport_info(t)->changed;
			break;
		}
		if (pwrite(d->part_fd, buf, (size_t)n, (off_t)d->written) != n) {
			d->failed = fw_err_set(&d->err, FW_EXIT_IO, "%s: write: %s", d->part_path, strerror(errno));
			break;
		}
		d->written += (uint64_t)n;
		if (send_all(d, buf, (size_t)n) < 0)
			break;
		if (d->written - synced >= DEV_DOWNLOAD_SYNC && atomic_load(&d->manifest_ok)) {
			if (checkpoint(d, dev_transport_info(t)) < 0) {
				d->failed = -1;
				break;
			}
			synced = d->written;
		}
	}
	d->fetched = dev_transport_info(t)->fetched;
	d->interruptions = dev_transport_info(t)->interruptions;
	/* A network failure keeps what arrived, for the next attempt to resume from. */
	if (d->failed && d->err.code == FW_EXIT_NET && !d->changed && atomic_load(&d->manifest_ok) &&
	    d->written > synced) {
		struct fw_err keep = d->err;
		if (checkpoint(d, dev_transport_info(t)) == 0)
			d->err = keep;
	}
out:
	if (t != NULL && d->fetched == 0) {
		d->fetched = dev_transport_info(t)->fetched;
		d->interruptions = dev_transport_info(t)->interruptions;
	}
	dev_transport_close(t);
	free(buf);
	shutdown(d->sock, SHUT_WR);
	return NULL;
}

/* pkg_read's look at the manifest: the one the catalog names, or nothing is kept. */
static int on_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct dl *d = ctx;
	uint8_t digest[FW_DIGEST_LEN];
	char want[2 * FW_DIGEST_LEN + 1], got[2 * FW_DIGEST_LEN + 1];

	(void)m;
	if (chunk_sha256(rep->manifest_bytes, rep->manifest_len, digest) < 0)
		return fw_err_set(err, FW_EXIT_IO, "SHA-256 failed");
	if (memcmp(digest, d->s->step.manifest_sha256, FW_DIGEST_LEN) != 0) {
		d->mismatch = 1;
		fw_hex(d->s->step.manifest_sha256, FW_DIGEST_LEN, want);
		fw_hex(digest, FW_DIGEST_LEN, got);
		return fw_err_set(err, FW_EXIT_REJECTED, "its manifest.json's SHA-256 is %.16s..., the catalog says "
				  "%.16s... (another package than the catalog names)", got, want);
	}
	atomic_store(&d->manifest_ok, 1);
	return 0;
}

static int verify_only(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	(void)ctx, (void)m, (void)index, (void)err;
	return 0;
}

void dev_download_discard(const struct dev_root *r)
{
	const char *names[] = { DEV_DOWNLOAD_PART, DEV_DOWNLOAD_FILE };

	for (size_t i = 0; i < 2; i++) {
		char *p = dev_root_file(r, names[i]);
		if (p != NULL && access(p, F_OK) == 0) {
			fw_crash_point("removing", p);
			unlink(p);
		}
		free(p);
	}
}

/* Record the attempt's end in the state. */
static void record(struct dev_root *r, struct dev_smart_state *s, int64_t now, const char *result, const char *msg)
{
	struct fw_err ignore;

	s->dl_time = now;
	snprintf(s->dl_result, sizeof(s->dl_result), "%s", result);
	snprintf(s->dl_message, sizeof(s->dl_message), "%s", msg);
	dev_smart_save(r, s, &ignore);
}

int dev_download(struct dev_root *r, int64_t now, struct dev_download_out *out, struct fw_err *err)
{
	struct dev_smart_state s;
	struct sig_trust trust;
	struct dl d;
	struct pkg_read_opts po;
	struct pkg_reader_ops ops = { .manifest = on_manifest, .payload_begin = verify_only };
	struct fw_manifest *m = NULL;
	struct pkg_report rep;
	struct stat sb;
	char *dir = NULL, *final = NULL, drain[4096];
	int sv[2] = { -1, -1 }, have_trust = 0, started = 0, rc = -1, read_rc;
	pthread_t th;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	memset(&rep, 0, sizeof(rep));
	d.part_fd = -1;
	if (dev_smart_load(r, &s, err) < 0)
		return -1;
	if (!s.has_step)
		return fw_err_set(err, FW_EXIT_USAGE, "nothing to download: the last check found no update (fwctl check)");
	snprintf(out->version, sizeof(out->version), "%s", s.step.version);
	out->length = s.step.length;
	if (s.dl_complete) {
		out->already = 1;
		snprintf(out->result, sizeof(out->result), "success");
		return 0;
	}
	d.r = r;
	d.s = &s;
	if ((dir = dev_root_file(r, DEV_DOWNLOAD_DIR)) == NULL || (d.part_path = dev_root_file(r, DEV_DOWNLOAD_PART)) == NULL ||
	    (final = dev_root_file(r, DEV_DOWNLOAD_FILE)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fw_err_set(err, FW_EXIT_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((d.part_fd = open(d.part_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    fstat(d.part_fd, &sb) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: %s", d.part_path, strerror(errno));
		goto out;
	}
	/* Resume from what is on disk; more than the package is not what the catalog names. */
	d.have = (uint64_t)sb.st_size <= s.step.length ? (uint64_t)sb.st_size : 0;
	if (d.have == 0 && sb.st_size > 0 && ftruncate(d.part_fd, 0) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: truncate: %s", d.part_path, strerror(errno));
		goto out;
	}
	out->resumed_from = d.have;
	sig_trust_init(&trust);
	have_trust = 1;
	if (dev_root_trust(r, &trust, err) < 0) {
		err->code = FW_EXIT_IO;
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		fw_err_set(err, FW_EXIT_IO, "socketpair: %s", strerror(errno));
		goto out;
	}
	d.sock = sv[1];
	d.started = now_s();
	if (pthread_create(&th, NULL, feed, &d) != 0) {
		fw_err_set(err, FW_EXIT_IO, "cannot start a thread");
		goto out;
	}
	started = 1;
	memset(&po, 0, sizeof(po));
	po.trust = &trust;
	po.threads = 1;   /* the network is the limit: one hashing thread, three chunk buffers */
	read_rc = pkg_read(sv[0], &po, &ops, &d, &m, &rep, err);
	/* The reader may stop before the tar's last padding: take the rest, so the file is whole. */
	while (read_rc == 0 && read(sv[0], drain, sizeof(drain)) > 0)
		;
	close(sv[0]);
	sv[0] = -1;
	pthread_join(th, NULL);
	started = 0;
	out->fetched = d.fetched;
	out->interruptions = d.interruptions;
	{
		double dt = now_s() - d.started;
		out->speed = dt > 0 ? (uint64_t)((double)d.fetched / dt) : 0;
	}
	s.dl_speed = out->speed;
	/* The network's failure first: a stream cut short also looks like a bad package to the reader. */
	if (d.failed && d.err.code == FW_EXIT_NET && !d.mismatch) {
		*err = d.err;
		if (d.changed) {
			dev_download_discard(r);
			s.dl_bytes = 0;
			s.dl_etag[0] = '\0';
			s.dl_mtime = s.dl_size = -1;
		}
		s.dl_failures++;
		s.dl_retry_after = now + dev_smart_backoff(s.dl_failures, r->cfg.smart.interval);
		snprintf(out->result, sizeof(out->result), "netError");
		record(r, &s, now, out->result, err->msg);
		goto out;
	}
	if (d.failed && !d.mismatch) {
		*err = d.err;
		snprintf(out->result, sizeof(out->result), "systemError");
		record(r, &s, now, out->result, err->msg);
		goto out;
	}
	if (read_rc < 0 || d.written != s.step.length) {
		if (read_rc == 0)
			fw_err_set(err, FW_EXIT_REJECTED, "%llu bytes, the catalog says %llu",
				   (unsigned long long)d.written, (unsigned long long)s.step.length);
		err->code = err->code == FW_EXIT_IO ? FW_EXIT_IO : FW_EXIT_REJECTED;
		snprintf(out->result, sizeof(out->result), "%s",
			 d.mismatch ? "fileNotMatch" : strstr(err->msg, "signature") || strstr(err->msg, "signed")
			 ? "signatureFailed" : err->code == FW_EXIT_IO ? "systemError" : "fileCheckFailed");
		fw_err_wrap(err, "%s", s.step.url[0]);
		/* Nothing of a package that is not the one named, or not whole and good, is kept. */
		close(d.part_fd);
		d.part_fd = -1;
		dev_download_discard(r);
		s.dl_bytes = 0;
		s.dl_etag[0] = '\0';
		s.dl_mtime = s.dl_size = -1;
		s.dl_failures = 0;
		record(r, &s, now, out->result, err->msg);
		goto out;
	}
	/* Whole and verified: durable under its final name, then the state says so. */
	fw_crash_point("fsync of", d.part_path);
	if (fsync(d.part_fd) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: fsync: %s", d.part_path, strerror(errno));
		goto out;
	}
	fw_crash_point("rename onto", final);
	if (rename(d.part_path, final) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: rename: %s", final, strerror(errno));
		goto out;
	}
	if (fw_fsync_dir(dir, err) < 0)
		goto out;
	s.dl_bytes = s.step.length;
	s.dl_complete = 1;
	s.dl_complete_time = now;
	s.dl_failures = 0;
	s.dl_retry_after = 0;
	snprintf(out->result, sizeof(out->result), "success");
	s.dl_time = now;
	snprintf(s.dl_result, sizeof(s.dl_result), "success");
	s.dl_message[0] = '\0';
	if (dev_smart_save(r, &s, err) < 0)
		goto out;
	rc = 0;
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (started)
		pthread_join(th, NULL);
	if (sv[1] >= 0)
		close(sv[1]);
	if (d.part_fd >= 0)
		close(d.part_fd);
	if (have_trust)
		sig_trust_free(&trust);
	fw_manifest_free(m);
	pkg_report_free(&rep);
	free(dir);
	free(final);
	free(d.part_path);
	return rc;
}
