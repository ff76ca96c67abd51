/* dev_intake: open a source, splice kept bytes, run the unpack hook, run the reader, sort the outcome into one result. */
#include "device/dev_intake.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/cancel.h"
#include "formats/chunk.h"

int dev_intake_open(struct dev_intake *in, struct dev_root *r, const struct dev_source *src, const char *verb,
		    const struct dev_transport_opts *o, uint64_t offset, enum dev_result *res, struct fw_err *err)
{
	struct dev_transport_opts nopts;

	memset(in, 0, sizeof(*in));
	in->root = r;
	in->src = src;
	in->verb = verb;
	in->fd = in->tee_fd = -1;
	*res = DEV_RESULT_SYSTEM_ERROR;
	if (src->kind == DEV_SRC_MEDIA && dev_root_media(r, src->label, err) == NULL) {
		*res = DEV_RESULT_NONE;
		return -1;
	}
	if (src->kind == DEV_SRC_NET) {
		/* With the device's settings the caller names the source (prog: verb: SOURCE: why). */
		if (o == NULL) {
			dev_root_net_opts(r, &nopts);
			nopts.unnamed = 1;
		} else {
			nopts = *o;
		}
		/* A network source can be fetched again from byte 0: it counts as re-readable. */
		in->rereadable = 1;
		if (dev_transport_open(&in->net, src, &nopts, offset, err) < 0) {
			in->net = NULL;
			*res = err->kind == FW_KIND_CANCELLED ? DEV_RESULT_CANCELLED : dev_result_of_net(err);
			return -1;
		}
		return 0;
	}
	if ((in->fd = dev_source_open(r, src, &in->rereadable, err)) < 0) {
		*res = err->code == FW_EXIT_IO ? DEV_RESULT_SYSTEM_ERROR : DEV_RESULT_POLICY_REFUSED;
		return -1;
	}
	return 0;
}

void dev_intake_open_fd(struct dev_intake *in, struct dev_root *r, int fd, const char *verb)
{
	memset(in, 0, sizeof(*in));
	in->root = r;
	in->verb = verb;
	in->fd = fd;
	in->tee_fd = -1;
	in->rereadable = 1;
}

int dev_intake_splice(struct dev_intake *in, uint64_t start, uint64_t end, int fd, struct fw_err *err)
{
	if (in->net == NULL)
		return fw_err_set(err, FW_EXIT_USAGE, "kept bytes are spliced into a network source only");
	if (in->n_local == DEV_INTAKE_MAX_LOCAL)
		return fw_err_set(err, FW_EXIT_USAGE, "more than %u kept ranges", DEV_INTAKE_MAX_LOCAL);
	in->local[in->n_local].start = start;
	in->local[in->n_local].end = end;
	in->local[in->n_local].fd = fd;
	in->n_local++;
	return 0;
}

void dev_intake_pass_over(struct dev_intake *in, uint64_t start, uint64_t end)
{
	/* Only where the reader's offsets are the server's (no hook between) and nothing keeps the stream. */
	if (in->net != NULL && in->feed != NULL && in->root->cfg.unpack_hook == NULL && in->tee == DEV_INTAKE_TEE_NONE)
		dev_feed_pass_over(in->feed, start, end);
}

void dev_intake_tee(struct dev_intake *in, int fd, enum dev_intake_tee which)
{
	in->tee_fd = fd;
	in->tee = fd >= 0 ? which : DEV_INTAKE_TEE_NONE;
	in->drain = fd >= 0;
}

uint64_t dev_intake_done(const struct dev_intake *in)
{
	return in->feed != NULL ? dev_feed_done(in->feed) : in->last_done;
}

enum dev_result dev_intake_early_result(const struct pkg_report *rep, const struct fw_err *err, int signatures_optional)
{
	if (err->code != FW_EXIT_REJECTED)
		return DEV_RESULT_SYSTEM_ERROR;
	/* The trust decision's refusals (too few trusted keys included) say so by their kind. */
	if (err->kind == FW_KIND_SIGNATURE)
		return DEV_RESULT_SIGNATURE_FAILED;
	if (rep->manifest_bytes == NULL)
		return DEV_RESULT_FILE_CHECK_FAILED;
	for (size_t i = 0; i < rep->n_sigs; i++)
		if (rep->sigs[i].status == PKG_SIG_INVALID)
			return DEV_RESULT_SIGNATURE_FAILED;
	return rep->valid_sigs == 0 && !signatures_optional ? DEV_RESULT_SIGNATURE_FAILED : DEV_RESULT_FILE_CHECK_FAILED;
}

/* The caller's callbacks, seen on the way: the intake needs to know whether the manifest callback ran. */
static int on_manifest(void *ctx, const struct fw_manifest *m, const struct pkg_report *rep, struct fw_err *err)
{
	struct dev_intake *in = ctx;

	in->reached = 1;
	return in->ops->manifest != NULL ? in->ops->manifest(in->ctx, m, rep, err) : 0;
}

static int on_begin(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct dev_intake *in = ctx;

	return in->ops->payload_begin != NULL ? in->ops->payload_begin(in->ctx, m, index, err) : 0;
}

static int on_data(void *ctx, const void *buf, size_t len, struct fw_err *err)
{
	struct dev_intake *in = ctx;

	return in->ops->payload_data(in->ctx, buf, len, err);
}

static int on_end(void *ctx, const struct fw_manifest *m, size_t index, struct fw_err *err)
{
	struct dev_intake *in = ctx;

	return in->ops->payload_end != NULL ? in->ops->payload_end(in->ctx, m, index, err) : 0;
}

static int on_delta(void *ctx, const struct fw_manifest *m, size_t index, int *fd, struct fw_err *err)
{
	struct dev_intake *in = ctx;

	return in->ops->delta_source != NULL ? in->ops->delta_source(in->ctx, m, index, fd, err) : PKG_DELTA_NONE;
}

static const char *on_delta_name(void *ctx, size_t index)
{
	struct dev_intake *in = ctx;

	return in->ops->delta_name != NULL ? in->ops->delta_name(in->ctx, index) : NULL;
}

static int on_resume_at(void *ctx, const struct fw_manifest *m, size_t index, struct pkg_resume_at *at, struct fw_err *err)
{
	struct dev_intake *in = ctx;

	return in->ops->resume_at != NULL ? in->ops->resume_at(in->ctx, m, index, at, err) : 0;
}

static int on_verified(void *ctx, uint64_t bytes, struct fw_err *err)
{
	struct dev_intake *in = ctx;

	/* A user's stop, between two verified chunks (fw_cancel). */
	if (fw_cancel_check(err) < 0)
		return -1;
	return in->chunks_verified != NULL ? in->chunks_verified(in->ctx, bytes, err) : 0;
}

/* The source's stream for this read: the fd itself, or a feed (network, kept ranges, a tee of the source). */
static int source_stream(struct dev_intake *in, int hook, int *fd, struct fw_err *err)
{
	int tee_here = in->tee == DEV_INTAKE_TEE_SOURCE || (in->tee == DEV_INTAKE_TEE_READ && !hook);

	if (in->net == NULL && in->reads > 0 && lseek(in->fd, 0, SEEK_SET) != 0)
		return fw_err_set(err, FW_EXIT_IO, "cannot read the package again: %s", strerror(errno));
	if (in->net == NULL && !tee_here) {
		*fd = in->fd;
		return 0;
	}
	if ((in->net != NULL ? dev_feed_new(&in->feed, in->net, in->total, err)
			     : dev_feed_new_fd(&in->feed, in->fd, in->total, err)) < 0)
		return -1;
	for (unsigned i = 0; i < in->n_local; i++) {
		struct fw_err ignored;
		/* A range that does not fit is fetched instead: kept bytes save bytes, never decide anything. */
		if (in->local[i].fd < 0)
			(void)dev_feed_add_skipped(in->feed, in->local[i].start, in->local[i].end, &ignored);
		else
			(void)dev_feed_add_local(in->feed, in->local[i].start, in->local[i].end, in->local[i].fd, 0, &ignored);
	}
	if (tee_here)
		dev_feed_tee(in->feed, in->tee_fd);
	return (*fd = dev_feed_fd(in->feed, err)) < 0 ? -1 : 0;
}

enum dev_result dev_intake_read(struct dev_intake *in, const struct pkg_read_opts *opts,
				const struct pkg_reader_ops *ops, void *ctx, const enum dev_result *stage,
				struct fw_manifest **m, struct pkg_report *rep, struct fw_err *err)
{
	struct pkg_reader_ops seen = { on_manifest, on_begin, on_data, on_end, on_delta, on_resume_at, on_delta_name };
	struct pkg_read_opts ropts = *opts;
	struct dev_hook *hook = NULL;
	struct fw_err ferr = { 0 }, oerr = { 0 }, herr = { 0 };
	enum dev_hook_outcome ho;
	enum dev_result res = DEV_RESULT_SUCCESS;
	const char *hook_path = in->root->cfg.unpack_hook;
	int fd = -1, rc, frc = 0, orc = 0, hrc = 0;
	char drain[4096];

	fw_manifest_free(*m);
	*m = NULL;
	pkg_report_free(rep);
	memset(rep, 0, sizeof(*rep));
	in->ops = ops;
	in->ctx = ctx;
	in->chunks_verified = opts->chunks_verified;
	/*
	 * The user's stop is taken between two verified chunks: by the caller's payload_data
	 * (an upgrade writing slots), else here, for a caller that only keeps the bytes (package
	 * install: without this a Ctrl-C during a package from a file or a medium did nothing).
	 */
	if (opts->chunks_verified != NULL || ops->payload_data == NULL)
		ropts.chunks_verified = on_verified;
	if (ops->payload_data == NULL)
		seen.payload_data = NULL;
	in->reached = 0;
	in->last_done = 0;
	in->hook_stderr[0] = '\0';
	memset(&in->stats, 0, sizeof(in->stats));
	if (source_stream(in, hook_path != NULL, &fd, err) < 0) {
		res = dev_result_of_net(err);
		goto out;
	}
	in->reads++;
	in->n_local = 0;
	/* Bytes from a server or through a hook come no faster than one core hashes them: hashing them as
	 * they arrive needs one chunk buffer instead of one per core plus one. */
	if (in->net != NULL || hook_path != NULL)
		ropts.threads = CHUNK_PIPE_ON_FEED;
	if (hook_path != NULL) {
		if (dev_hook_start(hook_path, fd, in->root->cfg.hook_timeout, &hook, &fd, err) < 0) {
			hook = NULL;
			res = DEV_RESULT_SYSTEM_ERROR;
			goto out;
		}
		/* What the reader verifies is what is kept: the hook's output, through a feed of its own. */
		if (in->tee == DEV_INTAKE_TEE_READ) {
			if (dev_feed_new_fd(&in->out_feed, fd, 0, err) < 0) {
				res = DEV_RESULT_SYSTEM_ERROR;
				goto out;
			}
			dev_feed_tee(in->out_feed, in->tee_fd);
			if ((fd = dev_feed_fd(in->out_feed, err)) < 0) {
				res = DEV_RESULT_SYSTEM_ERROR;
				goto out;
			}
		}
	}
	rc = pkg_read(fd, &ropts, &seen, in, m, rep, err);
	/* The reader may stop before the tar's last padding: take the rest, so what is kept is whole. */
	while (rc == 0 && in->drain && read(fd, drain, sizeof(drain)) > 0)
		;
	if (in->out_feed != NULL)
		orc = dev_feed_finish(in->out_feed, &oerr);
	if (in->feed != NULL) {
		frc = dev_feed_finish(in->feed, &ferr);
		dev_feed_stats(in->feed, &in->stats);
		in->last_done = dev_feed_done(in->feed);
		in->spliced += in->stats.local_bytes;
		in->skipped += in->stats.skipped_bytes;
		in->skipped_received += in->stats.skipped_received;
	}
	if (hook != NULL)
		hrc = dev_hook_verdict(hook, rc < 0 || frc < 0 || orc < 0, in->root->cfg.hook_timeout, in->verb,
				       in->hook_stderr, sizeof(in->hook_stderr), &ho, &herr);
	hook = NULL;
	/* A file read as it is (by the reader and the drain, or by the hook, which shares its offset): its stream ended there. */
	if (in->net == NULL && in->feed == NULL) {
		off_t at = lseek(in->fd, 0, SEEK_CUR);

		if (at > 0)
			in->last_done = (uint64_t)at;
	}
	/* The source's failure first: a stream cut short looks like a short package to the reader and the hook. */
	if (frc < 0) {
		*err = ferr;
		res = dev_result_of_net(err);
		goto out;
	}
	/* The hook's verdict comes before the package's: its output only had to be read to be judged. */
	if (hrc < 0) {
		*err = herr;
		res = ho == DEV_HOOK_REFUSED ? DEV_RESULT_SECURITY_VIOLATION : DEV_RESULT_CANCELLED;
		goto out;
	}
	if (orc < 0) {
		*err = oerr;
		res = DEV_RESULT_SYSTEM_ERROR;
		goto out;
	}
	if (rc < 0) {
		res = in->reached ? *stage : dev_intake_early_result(rep, err, opts->signatures_optional);
		if (res == DEV_RESULT_FILE_CHECK_FAILED && err->code != FW_EXIT_REJECTED)
			res = DEV_RESULT_SYSTEM_ERROR;   /* reading failed, not the package */
	}
out:
	if (hook != NULL)
		(void)dev_hook_verdict(hook, 1, in->root->cfg.hook_timeout, in->verb, in->hook_stderr,
				       sizeof(in->hook_stderr), &ho, &herr);
	/* The user's stop, wherever it was noticed (the transport, the hook's watchdog, a caller's callback). */
	if (res != DEV_RESULT_SUCCESS && err->kind == FW_KIND_CANCELLED)
		res = DEV_RESULT_CANCELLED;
	dev_feed_free(in->out_feed);
	in->out_feed = NULL;
	dev_feed_free(in->feed);
	in->feed = NULL;
	in->n_local = 0;
	if ((res == DEV_RESULT_WRITE_FLASH_FAILED || res == DEV_RESULT_SYSTEM_ERROR) && err->code == FW_EXIT_REJECTED)
		err->code = FW_EXIT_IO;
	return res;
}

void dev_intake_close(struct dev_intake *in)
{
	dev_feed_free(in->out_feed);
	in->out_feed = NULL;
	dev_feed_free(in->feed);
	in->feed = NULL;
	dev_transport_close(in->net);   /* wipes the password */
	in->net = NULL;
	if (in->fd > STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
}
