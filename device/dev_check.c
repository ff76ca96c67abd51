/* dev_check: fetch the signed catalog, refuse what must be refused, and decide the device's next release. */
#include "device/dev_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/dev_download.h"
#include "device/dev_slot.h"
#include "device/dev_policy.h"
#include "device/dev_state.h"
#include "formats/version.h"
#include "signing/cms.h"
#include "signing/trust.h"

void dev_check_running(const struct dev_root *r, char version[FW_VERSION_MAX_LEN + 1], uint32_t *generation)
{
	struct dev_record pri, sec;
	const struct dev_record *run;

	dev_record_load(r, FW_TARGET_PRI, &pri);
	dev_record_load(r, FW_TARGET_SEC, &sec);
	run = dev_running(&pri, &sec);
	snprintf(version, FW_VERSION_MAX_LEN + 1, "%s", run != NULL ? run->version : "");
	*generation = run != NULL ? run->generation : 0;
}

/* a is newer than b ("" is older than anything). */
static int newer(const char *a, const char *b)
{
	struct fw_err ignore;

	return b[0] == '\0' || fw_version_cmp_str(a, b, &ignore) > 0;
}

/* Could the device install it at all (dev_policy's TPM and rollback rules)? */
static int installable(const struct fw_release *rel, const struct dev_check_device *dev)
{
	return !rel->requires_tpm == !dev->tpm && rel->rollback_index >= dev->rollback_index;
}

int dev_check_decide(const struct fw_catalog *c, const struct dev_check_device *dev, const struct fw_release **target,
		     const struct fw_release **step, char *note, size_t notesz, struct fw_err *err)
{
	const struct fw_release *t = NULL, *s;
	int any = 0, held = 0, unfit = 0;

	*target = *step = NULL;
	note[0] = '\0';
	/* Releases are sorted by product, then version: the newest the rollout gives this device, from the top. */
	for (size_t i = c->n; i-- > 0;) {
		const struct fw_release *rel = &c->rel[i];
		if (strcmp(rel->product, dev->product) != 0)
			continue;
		any = 1;
		if (!newer(rel->version, dev->running))
			break;
		if (!installable(rel, dev)) {
			unfit = 1;
		} else if (dev_smart_rollout_bucket(dev->device_id, dev->product, rel->version) < rel->rollout) {
			t = rel;
			break;
		} else {
			held = 1;
		}
	}
	if (!any) {
		snprintf(note, notesz, "no release for product %s in the catalog", dev->product);
		return 0;
	}
	if (t == NULL) {
		snprintf(note, notesz, "%s is the newest release%s%s", dev->running[0] ? dev->running : "none",
			 held ? " whose rollout takes this device" : "",
			 unfit ? (dev->tpm ? " marked for TPM products with a rollback index this device accepts"
					   : " not marked for TPM products with a rollback index this device accepts") : "");
		return 0;
	}
	*target = t;
	/* A new generation is entered from its bridge version only: install the bridge first (and its own, if any). */
	s = t;
	for (int hops = 0; s->generation > dev->generation && s->bridge_from[0] &&
			   strcmp(s->bridge_from, dev->running) != 0; hops++) {
		const struct fw_release *b = fw_catalog_find(c, dev->product, s->bridge_from);
		if (b == NULL || hops == 8)
			return fw_err_set(err, FW_EXIT_REJECTED, "%s %s needs bridge version %s first, which is not in "
					  "the catalog", dev->product, s->version, s->bridge_from);
		if (!newer(b->version, dev->running) || !installable(b, dev)) {
			snprintf(note, notesz, "%s is reached only from bridge version %s, which this device (at %s) cannot "
				 "install", t->version, b->version, dev->running);
			*target = NULL;
			return 0;
		}
		s = b;
	}
	*step = s;
	if (s != t)
		snprintf(note, notesz, "%s is the bridge to %s: it is installed first", s->version, t->version);
	return 0;
}

/*
 * GET url into a new buffer of at most `limit` bytes. -1 with err: FW_EXIT_NET
 * for the network (*missing when the server said there is no such file),
 * FW_EXIT_REJECTED with *too_large for a file over the limit.
 */
/* Seconds since start on the monotonic clock. */
static long since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec);
}

/* transfer-timeout bounds the check (the catalog and each signature file tried), not each file. */
static int fetch_small(const struct dev_root *r, const struct timespec *start, const char *url, size_t limit,
		       char **out, size_t *len, int *missing, int *too_large, struct fw_err *err)
{
	struct dev_source src;
	struct dev_transport_opts o;
	struct dev_transport *t = NULL;
	char *buf = NULL;
	size_t n = 0;
	ssize_t got;
	int rc = -1;

	*out = NULL;
	*missing = *too_large = 0;
	if (dev_source_parse(1, (char *const *)&url, &src, err) < 0)
		return -1;
	if (src.kind != DEV_SRC_NET)
		return fw_err_set(err, FW_EXIT_USAGE, "%s: not a network URL", url);
	dev_root_net_opts(r, &o);
	if (o.timeout > 0) {
		long left = o.timeout - since(start);

		if (left <= 0)
			return fw_err_setk(err, FW_KIND_TIMEOUT, FW_EXIT_NET, "%s: the check did not finish within %ld s "
					   "(transfer-timeout)", src.shown, o.timeout);
		o.timeout = left;
	}
	if (dev_transport_open(&t, &src, &o, 0, err) < 0) {
		*missing = err->kind == FW_KIND_NOT_FOUND;
		goto out;
	}
	if (dev_transport_info(t)->id.size > (long long)limit) {
		*too_large = 1;
		fw_err_set(err, FW_EXIT_REJECTED, "%s: %lld bytes, more than the %zu a device fetches", src.shown,
			   dev_transport_info(t)->id.size, limit);
		goto out;
	}
	if ((buf = malloc(limit + 1)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	/* One byte beyond the limit tells a file that is too large from one that just fits. */
	while (n <= limit && (got = dev_transport_read(t, buf + n, limit + 1 - n, err)) != 0) {
		if (got < 0)
			goto out;
		n += (size_t)got;
	}
	if (n > limit) {
		*too_large = 1;
		fw_err_set(err, FW_EXIT_REJECTED, "%s: more than the %zu bytes a device fetches", src.shown, limit);
		goto out;
	}
	*out = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	dev_transport_close(t);
	return rc;
}

/*
 * The catalog's signature: SERVER.minisig, else (the server has none)
 * SERVER.cms. -1 as fetch_small, *missing when the server has neither.
 */
static int fetch_signature(const struct dev_root *r, const struct timespec *start, char **sig, size_t *sig_len,
			   enum sig_kind *kind, int *missing, int *too_large, struct fw_err *err)
{
	static const enum sig_kind kinds[] = { SIG_KIND_MINISIGN, SIG_KIND_CMS };
	char *url = NULL;
	int rc = -1;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		free(url);
		if (asprintf(&url, "%s%s", r->cfg.smart.server, fw_catalog_sig_suffix(kinds[i])) < 0) {
			url = NULL;
			*missing = *too_large = 0;
			fw_err_set(err, FW_EXIT_IO, "out of memory");
			break;
		}
		*kind = kinds[i];
		rc = fetch_small(r, start, url, kinds[i] == SIG_KIND_CMS ? SIG_CMS_MAX : DEV_CHECK_SIG_MAX, sig, sig_len,
				 missing, too_large, err);
		if (rc == 0 || !*missing)
			break;
	}
	free(url);
	return rc;
}

/* Record a check that refused or failed, and pass err on. */
static int refuse(const struct dev_root *r, struct dev_smart_state *s, enum dev_check_result res, int64_t now,
		  struct dev_check_out *out, struct fw_err *err)
{
	struct fw_err save_err;

	out->result = res;
	s->check_time = now;
	s->check_result = res;
	snprintf(s->check_message, sizeof(s->check_message), "%s", err->msg);
	if (res == DEV_CHECK_NET_ERROR) {
		s->check_failures++;
		s->next_check = now + dev_smart_backoff(s->check_failures, r->cfg.smart.interval);
	} else {
		s->check_failures = 0;
		s->next_check = 0;
	}
	if (dev_smart_save(r, s, &save_err) < 0)
		fw_err_wrap(err, "(not recorded: %s)", save_err.msg);
	return -1;
}

/* The step as the smart state keeps it: everything of the release the device decided on. */
static void step_of(struct dev_smart_release *st, const struct fw_release *rel)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->version, sizeof(st->version), "%s", rel->version);
	for (size_t i = 0; i < rel->n_urls; i++)
		snprintf(st->url[i], sizeof(st->url[i]), "%s", rel->url[i]);
	st->n_urls = (unsigned)rel->n_urls;
	st->length = rel->length;
	memcpy(st->manifest_sha256, rel->manifest_sha256, FW_DIGEST_LEN);
	snprintf(st->product, sizeof(st->product), "%s", rel->product);
	st->generation = rel->generation;
	snprintf(st->bridge_from, sizeof(st->bridge_from), "%s", rel->bridge_from);
	snprintf(st->bridge_down, sizeof(st->bridge_down), "%s", rel->bridge_down);
	st->rollback_index = rel->rollback_index;
	st->requires_tpm = rel->requires_tpm;
}

/* The same package, said of in the same words (the URLs may change: a download goes on). */
static int same_release(const struct dev_smart_release *a, const struct fw_release *b)
{
	struct dev_smart_release bs;

	step_of(&bs, b);
	return strcmp(a->version, bs.version) == 0 && a->length == bs.length &&
	       memcmp(a->manifest_sha256, bs.manifest_sha256, FW_DIGEST_LEN) == 0 &&
	       strcmp(a->product, bs.product) == 0 && a->generation == bs.generation &&
	       strcmp(a->bridge_from, bs.bridge_from) == 0 && strcmp(a->bridge_down, bs.bridge_down) == 0 &&
	       a->rollback_index == bs.rollback_index && !a->requires_tpm == !bs.requires_tpm;
}

int dev_check(struct dev_root *r, int64_t now, struct dev_check_out *out, struct fw_err *err)
{
	struct dev_smart_state s;
	struct dev_state st;
	struct dev_check_device dev;
	struct sig_trust trust;
	struct fw_catalog *cat = NULL;
	const struct fw_release *target, *step;
	char *text = NULL, *sig = NULL, signer[FW_CATALOG_SIGNER_MAX], running[FW_VERSION_MAX_LEN + 1];
	enum sig_kind kind;
	struct timespec started;
	size_t len = 0, sig_len = 0;
	int missing, too_large, rc = -1, have_trust = 0;
	uint32_t generation;

	memset(out, 0, sizeof(*out));
	if (r->cfg.smart.server[0] == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "no catalog server set (fwctl smart config --server URL)");
	if (dev_smart_load(r, &s, err) < 0)
		return -1;
	/* The catalog first, its signature next: a catalog replaced between the two fails its signature and is tried again later. */
	clock_gettime(CLOCK_MONOTONIC, &started);
	if (fetch_small(r, &started, r->cfg.smart.server, FW_CATALOG_MAX_BYTES, &text, &len, &missing, &too_large, err) < 0) {
		rc = refuse(r, &s, too_large ? DEV_CHECK_TOO_LARGE : err->code == FW_EXIT_NET ? DEV_CHECK_NET_ERROR
							 : DEV_CHECK_SYSTEM_ERROR, now, out, err);
		goto out;
	}
	if (fetch_signature(r, &started, &sig, &sig_len, &kind, &missing, &too_large, err) < 0) {
		if (missing) {
			fw_err_set(err, FW_EXIT_REJECTED, "%s: the catalog is not signed: no %s.minisig or .cms on the "
				   "server", r->cfg.smart.server, r->cfg.smart.server);
			rc = refuse(r, &s, DEV_CHECK_UNSIGNED, now, out, err);
		} else {
			rc = refuse(r, &s, too_large ? DEV_CHECK_SIGNATURE_FAILED : err->code == FW_EXIT_NET
					   ? DEV_CHECK_NET_ERROR : DEV_CHECK_SYSTEM_ERROR, now, out, err);
		}
		goto out;
	}
	sig_trust_init(&trust);
	have_trust = 1;
	if (dev_root_trust(r, &trust, err) < 0) {
		err->code = FW_EXIT_IO;
		rc = refuse(r, &s, DEV_CHECK_SYSTEM_ERROR, now, out, err);
		goto out;
	}
	if ((cat = calloc(1, sizeof(*cat))) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (fw_catalog_verify(kind, text, len, sig, sig_len, &trust, cat, signer, err) < 0) {
		int bad_sig = err->kind == FW_KIND_SIGNATURE;
		fw_err_wrap(err, "%s", r->cfg.smart.server);
		err->code = FW_EXIT_REJECTED;
		rc = refuse(r, &s, bad_sig ? DEV_CHECK_SIGNATURE_FAILED : DEV_CHECK_INVALID, now, out, err);
		goto out;
	}
	if (fw_catalog_check_time(cat, now, err) < 0) {
		fw_err_wrap(err, "%s", r->cfg.smart.server);
		rc = refuse(r, &s, DEV_CHECK_EXPIRED, now, out, err);
		goto out;
	}
	if (s.has_serial && cat->serial < s.serial) {
		fw_err_set(err, FW_EXIT_REJECTED, "%s: serial %llu is lower than the %llu accepted before (a server "
			   "replaying an old catalog)", r->cfg.smart.server, (unsigned long long)cat->serial,
			   (unsigned long long)s.serial);
		rc = refuse(r, &s, DEV_CHECK_OLD_SERIAL, now, out, err);
		goto out;
	}
	dev_check_running(r, running, &generation);
	if (dev_state_load(r, &st, err) < 0) {
		err->code = FW_EXIT_IO;
		rc = refuse(r, &s, DEV_CHECK_SYSTEM_ERROR, now, out, err);
		goto out;
	}
	dev.product = r->cfg.product;
	dev.running = running;
	dev.generation = generation;
	dev.device_id = r->cfg.device_id;
	dev.tpm = r->cfg.tpm;
	dev.rollback_index = st.rollback_index;
	if (dev_check_decide(cat, &dev, &target, &step, out->note, sizeof(out->note), err) < 0) {
		fw_err_wrap(err, "%s", r->cfg.smart.server);
		rc = refuse(r, &s, DEV_CHECK_INVALID, now, out, err);
		goto out;
	}
	/* Accepted: the serial to compare the next catalog with, and the step. */
	s.has_serial = 1;
	s.serial = cat->serial;
	s.expires = cat->expires;
	s.check_time = now;
	s.check_failures = 0;
	s.next_check = 0;
	out->serial = cat->serial;
	out->expires = cat->expires;
	if (step != NULL && !(s.has_step && same_release(&s.step, step))) {
		/* Another release than the one being fetched: what was fetched of the old one goes. */
		dev_download_discard(r);
		dev_smart_forget_step(&s);
		s.has_step = 1;
		step_of(&s.step, step);
		s.dl_result[0] = s.dl_message[0] = '\0';
	} else if (step == NULL && s.has_step) {
		dev_download_discard(r);
		dev_smart_forget_step(&s);
	}
	out->result = s.check_result = step ? DEV_CHECK_NEED_UPDATE : DEV_CHECK_VERSION_OPTIMAL;
	snprintf(out->available, sizeof(out->available), "%s", target ? target->version : "");
	snprintf(out->step, sizeof(out->step), "%s", step ? step->version : "");
	snprintf(s.available, sizeof(s.available), "%s", out->available);
	snprintf(s.check_message, sizeof(s.check_message), "%s", out->note);
	if (dev_smart_save(r, &s, err) < 0)
		goto out;
	rc = 0;
out:
	if (have_trust)
		sig_trust_free(&trust);
	free(cat);
	free(text);
	free(sig);
	return rc;
}
