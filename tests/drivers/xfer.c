/* xfer: a test driver for device/dev_transport: fetch a SOURCE to stdout and say what the transport saw. */
/*
 * usage: xfer [options] SOURCE-WORDS...
 *   -o N        open at byte offset N
 *   -s A:B      after reading up to offset A, seek to offset B (repeatable, in order)
 *   -r N        retries (default 5);  -b MS  first backoff (default 20 ms here)
 *   -l L:T      low-speed limit L bytes/s over T s;  -c S  connect timeout
 *   -a CAFILE   CA certificates for https;  -P PIN  pinned public key
 *   -m N        refuse more than N bytes;  -k N  read in blocks of N bytes (default 65536)
 *   -M N        after the open, lower the cap to N bytes (dev_transport_set_limit: a manifest's bound)
 *   -e ETAG -t MTIME -z SIZE   the identity an earlier download recorded (a resume after a restart)
 *   -F          read through a dev_feed's fd (the fd thread) instead of dev_transport_read
 *   -n N        with -F: stop reading after N bytes, as a reader that refuses a package does
 *   -i FILE     write the transport's info there as KEY=VALUE lines
 * Exit: 0, or the error's fw_exit code with "xfer: MESSAGE" on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/dev_feed.h"
#include "device/dev_source.h"
#include "device/dev_transport.h"

#define MAX_SEEKS 16

static int write_all(const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(STDOUT_FILENO, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void write_info(const char *path, const struct dev_transport_info *in, int rc)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return;
	fprintf(f, "rc=%d\nproto=%s\nfetched=%llu\noffset=%llu\nattempts=%u\ninterruptions=%u\ncan_resume=%d\n"
		   "changed=%d\netag=%s\nmtime=%lld\nsize=%lld\n",
		rc, dev_proto_name(in->proto), (unsigned long long)in->fetched, (unsigned long long)in->offset,
		in->attempts, in->interruptions, in->can_resume, in->changed, in->id.etag, in->id.mtime, in->id.size);
	fclose(f);
}

static int by_fd(struct dev_transport *t, size_t block, unsigned long long stop_after, struct fw_err *err)
{
	char *buf = malloc(block);
	unsigned long long got = 0;
	struct dev_feed *f = NULL;
	int fd, rc = -1;
	ssize_t n;

	if (buf == NULL || dev_feed_new(&f, t, 0, err) < 0 || (fd = dev_feed_fd(f, err)) < 0)
		goto out;
	while (got < stop_after && (n = read(fd, buf, stop_after - got < block ? stop_after - got : block)) > 0) {
		if (write_all(buf, (size_t)n) < 0)
			break;
		got += (unsigned long long)n;
	}
	/* EOF on the fd says nothing about why: the transport does. */
	rc = dev_feed_finish(f, err);
	if (rc == 1) {
		fprintf(stderr, "xfer: the reader stopped first\n");
		rc = 0;
	}
out:
	dev_feed_free(f);
	free(buf);
	return rc;
}

static int by_read(struct dev_transport *t, size_t block, const unsigned long long (*seeks)[2], size_t nseeks,
		   struct fw_err *err)
{
	char *buf = malloc(block);
	size_t next = 0;
	int rc = -1;

	if (buf == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	for (;;) {
		const struct dev_transport_info *in = dev_transport_info(t);
		size_t want = block;
		ssize_t n;

		if (next < nseeks && in->offset >= seeks[next][0]) {
			if (dev_transport_seek(t, seeks[next][1], err) < 0)
				goto out;
			next++;
			continue;
		}
		if (next < nseeks && seeks[next][0] - in->offset < want)
			want = (size_t)(seeks[next][0] - in->offset);
		if ((n = dev_transport_read(t, buf, want, err)) < 0)
			goto out;
		if (n == 0)
			break;
		if (write_all(buf, (size_t)n) < 0) {
			fw_err_set(err, FW_EXIT_IO, "stdout: %s", strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	struct dev_transport_opts o;
	struct dev_transport_id expect = { "", -1, -1 };
	struct dev_source src;
	struct dev_transport *t = NULL;
	struct fw_err err = { 0 };
	unsigned long long seeks[MAX_SEEKS][2], offset = 0, stop_after = ~0ULL, late_limit = 0;
	size_t nseeks = 0, block = 65536;
	const char *info = NULL;
	int c, use_fd = 0, have_expect = 0, rc;

	dev_transport_opts_init(&o);
	o.backoff_ms = 20;
	while ((c = getopt(argc, argv, "o:s:r:b:l:c:a:P:m:M:k:e:t:z:Fn:i:")) != -1) {
		switch (c) {
		case 'o': offset = strtoull(optarg, NULL, 10); break;
		case 's':
			if (nseeks == MAX_SEEKS || sscanf(optarg, "%llu:%llu", &seeks[nseeks][0], &seeks[nseeks][1]) != 2)
				return 2;
			nseeks++;
			break;
		case 'r': o.retries = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': o.backoff_ms = strtol(optarg, NULL, 10); break;
		case 'l':
			if (sscanf(optarg, "%ld:%ld", &o.low_speed_limit, &o.low_speed_time) != 2)
				return 2;
			break;
		case 'c': o.connect_timeout = strtol(optarg, NULL, 10); break;
		case 'a': o.ca_file = optarg; break;
		case 'P': o.pinned_key = optarg; break;
		case 'm': o.max_bytes = strtoull(optarg, NULL, 10); break;
		case 'M': late_limit = strtoull(optarg, NULL, 10); break;
		case 'k': block = strtoul(optarg, NULL, 10); break;
		case 'e': snprintf(expect.etag, sizeof(expect.etag), "%s", optarg); have_expect = 1; break;
		case 't': expect.mtime = strtoll(optarg, NULL, 10); have_expect = 1; break;
		case 'z': expect.size = strtoll(optarg, NULL, 10); have_expect = 1; break;
		case 'F': use_fd = 1; break;
		case 'n': stop_after = strtoull(optarg, NULL, 10); break;
		case 'i': info = optarg; break;
		default: return 2;
		}
	}
	if (block == 0)
		return 2;
	if (have_expect)
		o.expect = &expect;
	if (dev_source_parse(argc - optind, argv + optind, &src, &err) < 0 ||
	    dev_transport_open(&t, &src, &o, offset, &err) < 0) {
		fprintf(stderr, "xfer: %s\n", err.msg);
		return err.code;
	}
	if (late_limit)
		dev_transport_set_limit(t, late_limit);
	rc = use_fd ? by_fd(t, block, stop_after, &err) : by_read(t, block, (const unsigned long long (*)[2])seeks, nseeks, &err);
	if (info)
		write_info(info, dev_transport_info(t), rc < 0 ? err.code : 0);
	dev_transport_close(t);
	if (rc < 0) {
		fprintf(stderr, "xfer: %s\n", err.msg);
		return err.code;
	}
	return 0;
}
