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

/* a is newer than b ("" is older than anything). */
static int newer(const char *a, const char *b)
{
	struct fw_err ignore;

	return b[0] == '\0' || fw_version_cmp_str(a, b, &ignore) > 0;
}

/*
 * The device as it is (node 0) or as it will be after a release is
 * installed with 'upgrade all' (every slot holding it, the rollback index
 * raised to it at the boot that follows).
 */
struct node {
	struct dev_record rec[FW_TARGET_COUNT];
	uint64_t rollback_index;
	const struct fw_release *rel;   /* NULL for the device as it is */
	int parent;                     /* the node it is reached from; -1 not reached */
};

/* The release as its signed manifest will say it, with the images 'upgrade all' writes, in their stream order. */
static void as_manifest(const struct fw_release *rel, struct fw_manifest *m)
{
	static const enum fw_target order[] = { FW_TARGET_SEC, FW_TARGET_BOOT, FW_TARGET_PRI };
	static char none[1];

	m->type = FW_TYPE_FIRMWARE;
	snprintf(m->version, sizeof(m->version), "%s", rel->version);
	m->ver = rel->ver;
	m->description = none;
	m->n_products = 1;
	snprintf(m->products[0], sizeof(m->products[0]), "%s", rel->product);
	m->image_generation = rel->generation;
	m->rollback_index = rel->rollback_index;
	m->requires_tpm = rel->requires_tpm;
	snprintf(m->bridge_from, sizeof(m->bridge_from), "%s", rel->bridge_from);
	snprintf(m->bridge_down, sizeof(m->bridge_down), "%s", rel->bridge_down);
	m->n_images = m->n_payloads = 3;
	for (size_t i = 0; i < 3; i++) {
		m->images[i].target = order[i];
		snprintf(m->images[i].product, sizeof(m->images[i].product), "%s", rel->product);
		m->images[i].payload = i;
	}
}

/* The slot dev_running is given for this device. */
static int running_slot(const struct dev_check_device *dev)
{
	return dev->rootfs ? (int)dev->booted : DEV_BOOTED_NONE;
}

/* Would the install's policy (dev_policy_check) take rel from the device at node n? */
static int accepts(const struct dev_check_device *dev, const struct node *n, const struct fw_release *rel,
		   struct fw_manifest *m, struct dev_plan *plan, struct fw_err *err)
{
	struct dev_policy_in in;

	memset(&in, 0, sizeof(in));
	in.product = dev->product;
	in.tpm = dev->tpm;
	in.all = 1;
	in.rereadable = 1;   /* the downloaded file */
	for (int t = 0; t < FW_TARGET_COUNT; t++)
		in.rec[t] = &n->rec[t];
	in.golden = dev->golden;
	in.rollback_index = n->rollback_index;
	in.rootfs = dev->rootfs;
	in.booted = dev->booted;
	as_manifest(rel, m);
	return dev_policy_check(&in, m, plan, err) == 0;
}

int dev_check_policy(const struct dev_root *r, const struct fw_manifest *m, struct fw_err *err)
{
	struct dev_record rec[DEV_SLOT_COUNT];
	struct dev_state st;
	struct dev_policy_in in;
	struct dev_plan plan;
	int rootfs;

	if (dev_state_load(r, &st, err) < 0) {
		err->code = FW_EXIT_IO;
		return -1;
	}
	memset(&in, 0, sizeof(in));
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		dev_record_load(r, t, &rec[t]);
	if (dev_running_now(r, &rec[FW_TARGET_PRI], &rec[FW_TARGET_SEC], NULL, &rootfs, err) < 0)
		return -1;
	in.rootfs = rootfs != DEV_BOOTED_NONE;
	in.booted = in.rootfs ? (enum fw_target)rootfs : FW_TARGET_PRI;
	for (int t = 0; t < FW_TARGET_COUNT; t++)
		in.rec[t] = &rec[t];
	in.golden = &rec[DEV_SLOT_GOLDEN];
	in.product = r->cfg.product;
	in.tpm = r->cfg.tpm;
	in.all = 1;
	in.rereadable = 1;
	in.rollback_index = st.rollback_index;
	if (dev_policy_check(&in, m, &plan, err) < 0)
		return -1;
	/* A delta's bases where the install reads them (the catalog's words of them were what the check took). */
	if (dev_policy_delta_bases(rec, &plan, m, err) < 0) {
		err->kind = FW_KIND_MISMATCH;
		return -1;
	}
	return 0;
}

static void after_install(const struct node *from, const struct fw_release *rel, struct node *n)
{
	memset(n, 0, sizeof(*n));
	for (int t = 0; t < FW_TARGET_COUNT; t++) {
		n->rec[t].valid = 1;
		snprintf(n->rec[t].version, sizeof(n->rec[t].version), "%s", rel->version);
		n->rec[t].generation = rel->generation;
		snprintf(n->rec[t].bridge_down, sizeof(n->rec[t].bridge_down), "%s", rel->bridge_down);
		n->rec[t].rollback_index = rel->rollback_index;
	}
	n->rollback_index = rel->rollback_index > from->rollback_index ? rel->rollback_index : from->rollback_index;
	n->rel = rel;
	n->parent = -1;
}

static int was_refused(const struct dev_check_device *dev, const uint8_t manifest_sha256[FW_DIGEST_LEN],
		       const char *running)
{
	for (size_t i = 0; i < dev->n_refused; i++)
		if (memcmp(dev->refused[i].manifest_sha256, manifest_sha256, FW_DIGEST_LEN) == 0 &&
		    dev_smart_refusal_holds(&dev->refused[i], running))
			return 1;
	return 0;
}

int dev_check_decide(const struct fw_catalog *c, const struct dev_check_device *dev, const struct fw_release **target,
		     const struct fw_release **step, char *note, size_t notesz, struct fw_err *err)
{
	const struct dev_record *run = dev_running(dev->rec[FW_TARGET_PRI], dev->rec[FW_TARGET_SEC], running_slot(dev));
	const char *running = run != NULL ? run->version : "";
	struct node *nodes = NULL;
	struct fw_manifest *m = NULL;
	struct dev_plan plan;
	struct fw_err why;
	int *queue = NULL, any = 0, held = 0, refused = 0, rc = -1;
	size_t n = 1, head = 0, tail = 0;

	*target = *step = NULL;
	note[0] = '\0';
	nodes = calloc(c->n + 1, sizeof(*nodes));
	queue = calloc(c->n + 1, sizeof(*queue));
	m = calloc(1, sizeof(*m));
	if (nodes == NULL || queue == NULL || m == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	for (int t = 0; t < FW_TARGET_COUNT; t++)
		nodes[0].rec[t] = *dev->rec[t];
	nodes[0].rollback_index = dev->rollback_index;
	nodes[0].parent = 0;
	/* The candidates, newest first (releases are sorted by product, then version). */
	for (size_t i = c->n; i-- > 0;) {
		const struct fw_release *rel = &c->rel[i];
		if (strcmp(rel->product, dev->product) != 0)
			continue;
		any = 1;
		if (!newer(rel->version, running))
			break;
		if (was_refused(dev, rel->manifest_sha256, running))
			refused = 1;
		else if (dev_smart_rollout_bucket(dev->device_id, dev->product, rel->version) >= rel->rollout)
			held = 1;
		else
			after_install(&nodes[0], rel, &nodes[n++]);
	}
	if (!any) {
		snprintf(note, notesz, "no release for product %s in the catalog", dev->product);
		rc = 0;
		goto out;
	}
	/* Breadth first, newest first: the fewest installs, and of those the largest first step. */
	queue[tail++] = 0;
	while (head < tail) {
		int u = queue[head++];
		for (size_t j = 1; j < n; j++) {
			if (nodes[j].parent >= 0 || (u > 0 && !newer(nodes[j].rel->version, nodes[u].rel->version)))
				continue;
			if (accepts(dev, &nodes[u], nodes[j].rel, m, &plan, &why)) {
				const struct fw_release *rel = nodes[j].rel;
				struct node *from = &nodes[u];

				after_install(from, rel, &nodes[j]);
				nodes[j].parent = u;
				queue[tail++] = (int)j;
			}
		}
	}
	for (size_t j = 1; j < n && *target == NULL; j++) {
		if (nodes[j].parent < 0)
			continue;
		*target = nodes[j].rel;
		size_t k = j;
		while (nodes[k].parent != 0)
			k = (size_t)nodes[k].parent;
		*step = nodes[k].rel;
	}
	if (*target == NULL && n > 1) {
		const struct fw_release *top = nodes[1].rel;
		/* The newest names a bridge the catalog does not hold: the catalog is wrong, not the device. */
		if (top->bridge_from[0] && (run == NULL || top->generation > run->generation) &&
		    fw_catalog_find(c, dev->product, top->bridge_from) == NULL) {
			fw_err_set(err, FW_EXIT_REJECTED, "%s %s needs bridge version %s first, which is not in the "
				   "catalog", dev->product, top->version, top->bridge_from);
			goto out;
		}
		accepts(dev, &nodes[0], top, m, &plan, &why);
		snprintf(note, notesz, "%s cannot be installed on this device, nor reached through the catalog's "
			 "releases: %s", top->version, why.msg);
	} else if (*target == NULL) {
		snprintf(note, notesz, "%s is the newest release%s%s", running[0] ? running : "none",
			 held ? " whose rollout takes this device" : "",
			 refused ? (held ? ", refused ones aside" : " not refused before") : "");
	} else if (*step != *target) {
		snprintf(note, notesz, "%s is the bridge to %s: it is installed first", (*step)->version,
			 (*target)->version);
	}
	rc = 0;
out:
	free(nodes);
	free(queue);
	free(m);
	return rc;
}

const struct fw_catalog_delta *dev_check_delta(const struct fw_catalog *c, const struct dev_check_device *dev,
				      const struct fw_release *rel, const struct dev_record rec[DEV_SLOT_COUNT])
{
	const struct dev_record *run = dev_running(dev->rec[FW_TARGET_PRI], dev->rec[FW_TARGET_SEC], running_slot(dev));
	const struct fw_catalog_delta *d, *found = NULL;
	struct fw_manifest *m = calloc(1, sizeof(*m));
	struct node now;
	struct dev_plan plan;
	struct fw_err why;
	size_t n;

	if (m == NULL || (d = fw_catalog_deltas_of(c, rel, &n)) == NULL) {
		free(m);
		return NULL;
	}
	memset(&now, 0, sizeof(now));
	for (int t = 0; t < FW_TARGET_COUNT; t++)
		now.rec[t] = *dev->rec[t];
	now.rollback_index = dev->rollback_index;
	for (size_t i = 0; i < n && found == NULL; i++) {
		int whole = 1;

		if (was_refused(dev, d[i].manifest_sha256, run != NULL ? run->version : ""))
			continue;   /* it failed once: the full package */
		/* The delta as its manifest will say it: the images 'upgrade all' writes, a delta's with its base. */
		memset(m->payloads, 0, sizeof(m->payloads));
		as_manifest(rel, m);
		for (size_t k = 0; k < m->n_images; k++) {
			const struct fw_catalog_image *im = NULL;
			struct fw_payload *p = &m->payloads[m->images[k].payload];

			for (size_t j = 0; j < d[i].n_images; j++)
				if (d[i].image[j].target == m->images[k].target)
					im = &d[i].image[j];
			if (im == NULL) {
				whole = 0;
				break;
			}
			snprintf(p->name, sizeof(p->name), "%s", fw_target_name(im->target));   /* for messages only */
			p->size = im->size;
			p->chunk_size = im->chunk_size;
			memcpy(p->digest, im->digest, FW_DIGEST_LEN);
			p->zstd.on = p->zstd.base.on = im->has_base;
			p->zstd.base.size = im->base_size;
			p->zstd.base.chunk_size = im->base_chunk_size;
			memcpy(p->zstd.base.digest, im->base_digest, FW_DIGEST_LEN);
		}
		/* The install's own plan, and its own rule of where each base is read from. */
		if (whole && accepts(dev, &now, rel, m, &plan, &why) && dev_policy_delta_bases(rec, &plan, m, &why) == 0)
			found = &d[i];
	}
	free(m);
	return found;
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
		       char **out, size_t *len, int *missing, int *too_large, long *retry_after, struct fw_err *err)
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
	o.retry_after = retry_after;
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
			   enum sig_kind *kind, int *missing, int *too_large, long *retry_after, struct fw_err *err)
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
				 missing, too_large, retry_after, err);
		if (rc == 0 || !*missing)
			break;
	}
	free(url);
	return rc;
}

/* A failed fetch's result: by the error's kind (dev_result_of_net), never its text. */
static enum dev_check_result fetch_result(const struct fw_err *err)
{
	switch (dev_result_of_net(err)) {
	case DEV_RESULT_SERVER_LIMIT: return DEV_CHECK_SERVER_LIMIT;
	case DEV_RESULT_CERT_OUT_DATE: return DEV_CHECK_CERT_OUT_DATE;
	case DEV_RESULT_NET_ERROR: return DEV_CHECK_NET_ERROR;
	default: return DEV_CHECK_SYSTEM_ERROR;
	}
}

/* Record a check that refused or failed, and pass err on; a network failure backs off (retry_after: a busy server's). */
static int refuse(const struct dev_root *r, struct dev_smart_state *s, enum dev_check_result res, int64_t now,
		  long retry_after, struct dev_check_out *out, struct fw_err *err)
{
	struct fw_err save_err;

	out->result = res;
	s->check_time = now;
	s->check_result = res;
	snprintf(s->check_message, sizeof(s->check_message), "%s", err->msg);
	if (res == DEV_CHECK_NET_ERROR || res == DEV_CHECK_SERVER_LIMIT || res == DEV_CHECK_CERT_OUT_DATE) {
		s->check_failures++;
		s->next_check = now + dev_smart_retry_wait(s->check_failures, r->cfg.smart.interval, retry_after);
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

/* The delta d of the step: fetched instead of the full package, which it says it saves bytes of. */
static void delta_of(struct dev_smart_release *st, const struct fw_release *rel, const struct fw_catalog_delta *d)
{
	for (size_t i = 0; i < d->n_urls; i++)
		snprintf(st->url[i], sizeof(st->url[i]), "%s", d->url[i]);
	st->n_urls = (unsigned)d->n_urls;
	st->length = d->length;
	memcpy(st->manifest_sha256, d->manifest_sha256, FW_DIGEST_LEN);
	st->delta = 1;
	snprintf(st->base_version, sizeof(st->base_version), "%s", d->base_version);
	st->full_length = rel->length;
}

/* The same package, said of in the same words (the URLs may change: a download goes on). */
static int same_release(const struct dev_smart_release *a, const struct dev_smart_release *b)
{
	const struct dev_smart_release bs = *b;

	return !a->delta == !bs.delta && strcmp(a->version, bs.version) == 0 && a->length == bs.length &&
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
	struct dev_record rec[DEV_SLOT_COUNT];
	struct dev_smart_release want;
	char *text = NULL, *sig = NULL, signer[FW_CATALOG_SIGNER_MAX];
	enum sig_kind kind;
	struct timespec started;
	size_t len = 0, sig_len = 0;
	int missing, too_large, rc = -1, have_trust = 0, fetched_again = 0, booted;
	long retry_after = 0;

	memset(out, 0, sizeof(*out));
	if (r->cfg.smart.server[0] == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "no catalog server set (fwctl smart config --server URL)");
	if (dev_smart_load(r, &s, err) < 0)
		return -1;
	/*
	 * The catalog first, its signature next. A catalog replaced between the
	 * two fetches fails its signature: both are fetched once more (within
	 * the same time bound) before that is called signatureFailed.
	 */
	clock_gettime(CLOCK_MONOTONIC, &started);
fetch_again:
	if (fetch_small(r, &started, r->cfg.smart.server, FW_CATALOG_MAX_BYTES, &text, &len, &missing, &too_large,
			&retry_after, err) < 0) {
		rc = refuse(r, &s, too_large ? DEV_CHECK_TOO_LARGE : fetch_result(err), now, retry_after, out, err);
		goto out;
	}
	if (fetch_signature(r, &started, &sig, &sig_len, &kind, &missing, &too_large, &retry_after, err) < 0) {
		if (missing) {
			fw_err_set(err, FW_EXIT_REJECTED, "%s: the catalog is not signed: no %s.minisig or .cms on the "
				   "server", r->cfg.smart.server, r->cfg.smart.server);
			rc = refuse(r, &s, DEV_CHECK_UNSIGNED, now, 0, out, err);
		} else {
			rc = refuse(r, &s, too_large ? DEV_CHECK_SIGNATURE_FAILED : fetch_result(err), now, retry_after, out,
				    err);
		}
		goto out;
	}
	sig_trust_init(&trust);
	have_trust = 1;
	if (dev_root_trust(r, &trust, err) < 0) {
		err->code = FW_EXIT_IO;
		rc = refuse(r, &s, DEV_CHECK_SYSTEM_ERROR, now, 0, out, err);
		goto out;
	}
	if ((cat = calloc(1, sizeof(*cat))) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (fw_catalog_verify(kind, text, len, sig, sig_len, &trust, cat, signer, err) < 0) {
		int bad_sig = err->kind == FW_KIND_SIGNATURE;

		if (bad_sig && !fetched_again) {
			fetched_again = 1;
			free(text);
			free(sig);
			text = sig = NULL;
			sig_trust_free(&trust);
			have_trust = 0;
			free(cat);
			cat = NULL;
			goto fetch_again;
		}
		fw_err_wrap(err, "%s", r->cfg.smart.server);
		err->code = FW_EXIT_REJECTED;
		rc = refuse(r, &s, bad_sig ? DEV_CHECK_SIGNATURE_FAILED : DEV_CHECK_INVALID, now, 0, out, err);
		goto out;
	}
	if (fw_catalog_check_time(cat, now, err) < 0) {
		fw_err_wrap(err, "%s", r->cfg.smart.server);
		rc = refuse(r, &s, DEV_CHECK_EXPIRED, now, 0, out, err);
		goto out;
	}
	if (s.has_serial && cat->serial < s.serial) {
		fw_err_set(err, FW_EXIT_REJECTED, "%s: serial %llu is lower than the %llu accepted before (a server "
			   "replaying an old catalog)", r->cfg.smart.server, (unsigned long long)cat->serial,
			   (unsigned long long)s.serial);
		rc = refuse(r, &s, DEV_CHECK_OLD_SERIAL, now, 0, out, err);
		goto out;
	}
	if (dev_state_load(r, &st, err) < 0) {
		err->code = FW_EXIT_IO;
		rc = refuse(r, &s, DEV_CHECK_SYSTEM_ERROR, now, 0, out, err);
		goto out;
	}
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		dev_record_load(r, t, &rec[t]);
	memset(&dev, 0, sizeof(dev));
	if (dev_running_now(r, &rec[FW_TARGET_PRI], &rec[FW_TARGET_SEC], NULL, &booted, err) < 0) {
		rc = refuse(r, &s, DEV_CHECK_SYSTEM_ERROR, now, 0, out, err);
		goto out;
	}
	dev.rootfs = booted != DEV_BOOTED_NONE;
	dev.booted = dev.rootfs ? (enum fw_target)booted : FW_TARGET_PRI;
	dev.product = r->cfg.product;
	dev.device_id = r->cfg.device_id;
	dev.tpm = r->cfg.tpm;
	dev.rollback_index = st.rollback_index;
	for (int t = 0; t < FW_TARGET_COUNT; t++)
		dev.rec[t] = &rec[t];
	dev.golden = &rec[DEV_SLOT_GOLDEN];
	dev.refused = s.refused;
	dev.n_refused = s.n_refused;
	if (dev_check_decide(cat, &dev, &target, &step, out->note, sizeof(out->note), err) < 0) {
		fw_err_wrap(err, "%s", r->cfg.smart.server);
		rc = refuse(r, &s, DEV_CHECK_INVALID, now, 0, out, err);
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
	if (step != NULL) {
		/* A delta when this device holds its bases where the install reads them, and it did not fail before. */
		const struct fw_catalog_delta *d = dev_check_delta(cat, &dev, step, rec);

		step_of(&want, step);
		if (d != NULL) {
			delta_of(&want, step, d);
			if (out->note[0] == '\0')
				snprintf(out->note, sizeof(out->note), "%s as a delta against %s: %llu bytes instead of %llu",
					 step->version, d->base_version, (unsigned long long)d->length,
					 (unsigned long long)step->length);
		}
	}
	if (step != NULL && !(s.has_step && same_release(&s.step, &want))) {
		/* Another release than the one being fetched: what was fetched of the old one goes. */
		dev_download_discard(r);
		dev_smart_forget_step(&s);
		s.has_step = 1;
		s.step = want;
		s.dl_result[0] = s.dl_message[0] = '\0';
	} else if (step != NULL) {
		/* The same package: the newest accepted catalog says where it is now (a release moved to new URLs). */
		for (size_t i = 0; i < want.n_urls; i++)
			snprintf(s.step.url[i], sizeof(s.step.url[i]), "%s", want.url[i]);
		s.step.n_urls = want.n_urls;
	} else if (step == NULL && s.has_step) {
		dev_download_discard(r);
		dev_smart_forget_step(&s);
	}
	out->result = s.check_result = step ? DEV_CHECK_NEED_UPDATE : DEV_CHECK_VERSION_OPTIMAL;
	snprintf(out->available, sizeof(out->available), "%s", target ? target->version : "");
	snprintf(out->step, sizeof(out->step), "%s", step ? step->version : "");
	snprintf(s.available, sizeof(s.available), "%s", out->available);
	snprintf(s.description, sizeof(s.description), "%s", target ? target->description : "");
	{
		/* The patch recommended for the release the device is heading for, else for the one it runs. */
		const struct dev_record *run = dev_running(&rec[FW_TARGET_PRI], &rec[FW_TARGET_SEC], running_slot(&dev));
		const struct fw_patch *p = fw_catalog_patch_for(cat, r->cfg.product, target ? target->version :
								 run != NULL ? run->version : "");

		s.has_patch = p != NULL;
		snprintf(s.patch_name, sizeof(s.patch_name), "%s", p ? p->name : "");
		snprintf(s.patch_version, sizeof(s.patch_version), "%s", p ? p->version : "");
		s.patch_length = p ? p->length : 0;
		snprintf(s.patch_description, sizeof(s.patch_description), "%s", p ? p->description : "");
	}
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
