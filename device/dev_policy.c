/* dev_policy: product, TPM, rollback, image generation transitions and version order, checked on the manifest. */
#include "dev_policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "device/dev_state.h"
#include "formats/pkg_read.h"
#include "formats/version.h"

static const char *const long_names[FW_TARGET_COUNT] = {
	[FW_TARGET_PRI] = "primary",
	[FW_TARGET_SEC] = "secondary",
	[FW_TARGET_BOOT] = "bootloader",
};

static int refuse(struct fw_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(struct fw_err *err, const char *fmt, ...)
{
	va_list ap;

	err->code = FW_EXIT_REJECTED;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Version strings from records were validated when loaded; compare them as versions. */
static int vcmp(const char *a, const struct fw_version *b)
{
	struct fw_version va;
	struct fw_err err;

	if (fw_version_parse(a, &va, &err) < 0)
		return -2;
	return fw_version_cmp(&va, b);
}

static int vcmp_str(const char *a, const char *b)
{
	struct fw_version vb;
	struct fw_err err;

	if (fw_version_parse(b, &vb, &err) < 0)
		return -2;
	return vcmp(a, &vb);
}

/* Index into m->images of this product's image for t, or -1. */
static long find_image(const struct fw_manifest *m, const char *product, enum fw_target t)
{
	for (size_t i = 0; i < m->n_images; i++)
		if (m->images[i].target == t && strcmp(m->images[i].product, product) == 0)
			return (long)i;
	return -1;
}

static int check_product(const struct dev_policy_in *in, const struct fw_manifest *m, struct fw_err *err)
{
	char list[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < m->n_products; i++) {
		if (strcmp(m->products[i], in->product) == 0)
			return 0;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
						 m->products[i]);
	}
	return refuse(err, "package is for %s, not for this device's product %s: use the package built for %s",
		      list, in->product, in->product);
}

static int check_tpm(const struct dev_policy_in *in, const struct fw_manifest *m, struct fw_err *err)
{
	if (in->tpm && !m->requires_tpm)
		return refuse(err, "this %s has a TPM and the package is not marked for TPM products: "
				   "use the package for %s with TPM", in->product, in->product);
	if (!in->tpm && m->requires_tpm)
		return refuse(err, "the package is marked for TPM products and this %s has no TPM: "
				   "use the package for %s without TPM", in->product, in->product);
	return 0;
}

/* Which images go where, in stream order; `all` takes every image for the product, secondary first. */
static int make_plan(const struct dev_policy_in *in, const struct fw_manifest *m, struct dev_plan *plan,
		     struct fw_err *err)
{
	static const enum fw_target order[] = { FW_TARGET_SEC, FW_TARGET_BOOT, FW_TARGET_PRI };
	size_t last_payload = 0;

	plan->n = 0;
	if (!in->all) {
		long i = find_image(m, in->product, in->target);
		if (i < 0)
			return refuse(err, "the package has no %s image for %s: use a package that has one%s",
				      long_names[in->target], in->product,
				      find_image(m, in->product, FW_TARGET_PRI) >= 0 ||
				      find_image(m, in->product, FW_TARGET_SEC) >= 0 ||
				      find_image(m, in->product, FW_TARGET_BOOT) >= 0 ? ", or 'upgrade all'" : "");
		plan->step[0].target = in->target;
		plan->step[0].payload = m->images[i].payload;
		plan->n = 1;
		return 0;
	}
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		long i = find_image(m, in->product, order[k]);
		if (i < 0)
			continue;
		if (in->rootfs && order[k] == in->booted) {
			plan->left_running = 1;   /* the system runs from it: the other slots only */
			continue;
		}
		if (plan->n > 0 && m->images[i].payload < last_payload)
			return refuse(err, "the package does not hold the images for %s in the order 'upgrade all' "
					   "writes them (secondary, bootloader, primary): rebuild it with mkpkg",
				      in->product);
		last_payload = m->images[i].payload;
		plan->step[plan->n].target = order[k];
		plan->step[plan->n].payload = m->images[i].payload;
		plan->n++;
	}
	if (plan->n == 0 && plan->left_running)
		return refuse(err, "the package's only image for %s is the %s's, and the %s slot holds the running system "
				   "(board running=rootfs): boot the other slot, then run the upgrade again",
			      in->product, long_names[in->booted], fw_target_name(in->booted));
	if (plan->n == 0)
		return refuse(err, "the package lists %s but has no images for it: use a package with images for %s",
			      in->product, in->product);
	return 0;
}

/* A generation change writes everything at once: secondary, bootloader and primary. */
static int need_all_three(const struct dev_policy_in *in, const struct fw_manifest *m, const char *what,
			  struct fw_err *err)
{
	for (int t = 0; t < FW_TARGET_COUNT; t++)
		if (find_image(m, in->product, (enum fw_target)t) < 0)
			return refuse(err, "%s image generation %u needs secondary, bootloader and primary images in "
					   "one package; this one has no %s image for %s",
				      what, m->image_generation, long_names[t], in->product);
	return 0;
}

static int check_generation(const struct dev_policy_in *in, const struct fw_manifest *m,
			    const struct dev_record *run, struct dev_plan *plan, struct fw_err *err)
{
	uint32_t g = m->image_generation, cur = run->generation;

	if (g != cur && in->rootfs)
		return refuse(err, "the package is image generation %u and the device runs generation %u: a generation "
				   "change writes secondary, bootloader and primary in one step, and the %s slot holds the "
				   "running system (board running=rootfs); install it from a system that runs from RAM "
				   "(board running=ram, e.g. a rescue image)", g, cur, fw_target_name(in->booted));
	if (g > cur) {
		if (!in->all)
			return refuse(err, "the package is image generation %u and the device runs generation %u: "
					   "entering a new generation needs 'upgrade all' (secondary, bootloader and "
					   "primary in one step)", g, cur);
		if (m->bridge_from[0] == '\0')
			return refuse(err, "the package is image generation %u and names no version to enter it from: "
					   "it cannot be installed over generation %u; use a package that declares "
					   "its bridge version", g, cur);
		if (vcmp_str(run->version, m->bridge_from) != 0)
			return refuse(err, "entering image generation %u needs the primary at %s first (it runs %s): "
					   "run 'upgrade pri' with the %s package, then 'upgrade all' with this one",
				      g, m->bridge_from, run->version, m->bridge_from);
		if (need_all_three(in, m, "entering", err) < 0)
			return -1;
		plan->transition = 1;
	} else if (g < cur) {
		if (run->bridge_down[0] == '\0')
			return refuse(err, "the device runs %s (generation %u), installed from a package that names no "
					   "version to leave generation %u from: install a generation %u release that "
					   "does, then try again", run->version, cur, cur, cur);
		if (vcmp_str(run->version, run->bridge_down) != 0)
			return refuse(err, "leaving image generation %u downwards needs the primary at %s first (it "
					   "runs %s): run 'upgrade pri' with the %s package, then 'upgrade all' with "
					   "this one", cur, run->bridge_down, run->version, run->bridge_down);
		if (!in->all)
			return refuse(err, "the package is image generation %u and the device runs generation %u: "
					   "leaving a generation downwards needs 'upgrade all' (secondary, bootloader "
					   "and primary in one step)", g, cur);
		if (vcmp(run->version, &m->ver) <= 0)
			return refuse(err, "the package (%s) is an older image generation (%u) but not an older version "
					   "than the running %s: refused; use a release older than %s",
				      m->version, g, run->version, run->version);
		if (need_all_three(in, m, "returning to", err) < 0)
			return -1;
		plan->transition = -1;
	}
	return 0;
}

int dev_record_bootable(const struct dev_record *rec, uint64_t device_rollback_index)
{
	return rec->valid && rec->rollback_index >= device_rollback_index;
}

static int is_system(enum fw_target t)
{
	return t == FW_TARGET_PRI || t == FW_TARGET_SEC;
}

long dev_plan_unsafe_step(const struct dev_plan *plan, const int bootable[FW_TARGET_COUNT])
{
	int ok[FW_TARGET_COUNT];

	memcpy(ok, bootable, sizeof(ok));
	if (!ok[FW_TARGET_PRI] && !ok[FW_TARGET_SEC])
		return -1;   /* nothing to lose */
	for (unsigned pass = 0; pass < plan->passes; pass++) {
		for (size_t i = 0; i < plan->n; i++) {
			const struct dev_plan_step *s = &plan->step[i];
			if (s->pass != pass)
				continue;
			ok[s->target] = 0;   /* from the record's invalidation to its commit */
			if (!ok[FW_TARGET_PRI] && !ok[FW_TARGET_SEC])
				return (long)i;
			ok[s->target] = 1;
		}
	}
	return -1;
}

/* Make the plan safe, or refuse naming what to run instead. */
static int check_safety(const struct dev_policy_in *in, const struct fw_manifest *m, struct dev_plan *plan,
			struct fw_err *err)
{
	int ok[FW_TARGET_COUNT];
	long bad;

	for (int t = 0; t < FW_TARGET_COUNT; t++)
		ok[t] = is_system((enum fw_target)t) && dev_record_bootable(in->rec[t], in->rollback_index);
	if ((bad = dev_plan_unsafe_step(plan, ok)) < 0)
		return 0;
	if (in->rootfs && (in->all || in->target != in->booted))   /* the running slot is not bootable, and stays */
		return refuse(err, "the %s is the only bootable system image, and the %s slot the system runs from "
				   "(board running=rootfs) is not (%s): writing the %s could leave nothing to boot; run "
				   "'fwctl boot-check', which marks the running image bad, and boot the %s",
			      long_names[plan->step[bad].target], fw_target_name(in->booted),
			      in->rec[in->booted]->valid ? "below the rollback index" : in->rec[in->booted]->note,
			      long_names[plan->step[bad].target], long_names[plan->step[bad].target]);
	if (!in->all) {
		enum fw_target other = in->target == FW_TARGET_PRI ? FW_TARGET_SEC : FW_TARGET_PRI;
		return refuse(err, "the %s is the only bootable system image (the %s is not): writing it could leave "
				   "nothing to boot; run 'fwctl upgrade %s' with a package first, then this upgrade, "
				   "or use 'upgrade all'", long_names[in->target], long_names[other],
			      fw_target_name(other));
	}
	/* all: the secondary is the only bootable image and comes first in the stream. */
	if (find_image(m, in->product, FW_TARGET_PRI) < 0)
		return refuse(err, "the %s is the only bootable system image and the package has no primary image "
				   "for %s to write first: use a package with a primary image",
			      long_names[plan->step[bad].target], in->product);
	if (!in->rereadable)
		return refuse(err, "the secondary is the only bootable system image and 'upgrade all' from a stream "
				   "would overwrite it first: run 'fwctl upgrade pri' with this package, then "
				   "'fwctl upgrade all' with it (or give a file, which is read twice: primary first)");
	for (size_t i = 0; i < plan->n; i++)
		plan->step[i].pass = plan->step[i].target == FW_TARGET_PRI ? 0 : 1;
	plan->passes = 2;
	/* Keep the writing order: pass 0's step first. */
	for (size_t i = 0; i < plan->n; i++) {
		if (plan->step[i].pass == 0 && i > 0) {
			struct dev_plan_step s = plan->step[i];
			memmove(&plan->step[1], &plan->step[0], i * sizeof(s));
			plan->step[0] = s;
		}
	}
	if (dev_plan_unsafe_step(plan, ok) >= 0)
		return refuse(err, "no order of writing keeps a bootable system image: run 'fwctl upgrade pri' with "
				   "this package first");
	return 0;
}

int dev_policy_golden(const struct dev_policy_in *in, const struct fw_manifest *m, struct dev_plan *plan,
		      struct fw_err *err)
{
	long i;

	memset(plan, 0, sizeof(*plan));
	plan->passes = 1;
	if (m->type != FW_TYPE_FIRMWARE)
		return refuse(err, "not a firmware package (a modification package?): 'golden install' takes .pkg firmware");
	if (check_product(in, m, err) < 0 || check_tpm(in, m, err) < 0)
		return -1;
	if (m->rollback_index < in->rollback_index)
		return refuse(err, "the package's rollback index %llu is below the device's %llu: use a release with "
				   "rollback index %llu or higher", (unsigned long long)m->rollback_index,
			      (unsigned long long)in->rollback_index, (unsigned long long)in->rollback_index);
	if ((i = find_image(m, in->product, FW_TARGET_PRI)) < 0)
		return refuse(err, "the package has no primary image for %s: a golden system is a primary image",
			      in->product);
	plan->step[0].target = (enum fw_target)DEV_SLOT_GOLDEN;
	plan->step[0].payload = m->images[i].payload;
	plan->n = 1;
	return 0;
}

int dev_policy_check(const struct dev_policy_in *in, const struct fw_manifest *m, struct dev_plan *plan,
		     struct fw_err *err)
{
	const struct dev_record *run = NULL;
	size_t same = 0;

	memset(plan, 0, sizeof(*plan));
	plan->passes = 1;
	if (m->type != FW_TYPE_FIRMWARE)
		return refuse(err, "not a firmware package (a modification package?): 'upgrade' takes .pkg firmware");
	if (check_product(in, m, err) < 0 || check_tpm(in, m, err) < 0 || make_plan(in, m, plan, err) < 0)
		return -1;
	if (m->rollback_index < in->rollback_index)
		return refuse(err, "the package's rollback index %llu is below the device's %llu: this release may "
				   "no longer run here; use a release with rollback index %llu or higher",
			      (unsigned long long)m->rollback_index, (unsigned long long)in->rollback_index,
			      (unsigned long long)in->rollback_index);
	/* The boot step never starts a system older than the golden one: installing it would leave nothing new to run. */
	if (dev_below_golden(in->golden, m->version))
		return refuse(err, "the package (%s) is older than the golden system %s, which no boot goes below: "
				   "use %s or newer", m->version, dev_golden_floor(in->golden), dev_golden_floor(in->golden));
	/* Raising the index only with both system images keeps the fallback bootable (the boot step's rule). */
	if (m->rollback_index > in->rollback_index && !in->all)
		return refuse(err, "the package raises the rollback index from %llu to %llu: install it with "
				   "'upgrade all', so that both system images carry it",
			      (unsigned long long)in->rollback_index, (unsigned long long)m->rollback_index);

	run = dev_running(in->rec[FW_TARGET_PRI], in->rec[FW_TARGET_SEC], in->rootfs ? (int)in->booted : DEV_BOOTED_NONE);
	if (run == NULL) {
		if (!in->all)
			return refuse(err, "the device holds no valid system image: only 'upgrade all' can restore it");
		return 0;
	}
	snprintf(plan->running, sizeof(plan->running), "%s", run->version);
	if (check_generation(in, m, run, plan, err) < 0)
		return -1;

	/* Version order: the only checks that force skips. */
	for (size_t i = 0; i < plan->n; i++) {
		const struct dev_record *r = in->rec[plan->step[i].target];
		if (r->valid && vcmp(r->version, &m->ver) == 0)
			same++;
	}
	if (!in->force && same == plan->n)
		return refuse(err, "the %s already %s %s: nothing to do (use 'upgrade force' to write %s again)",
			      plan->n > 1 ? "slots the package writes" : long_names[plan->step[0].target],
			      plan->n > 1 ? "hold" : "holds", m->version, plan->n > 1 ? "them" : "it");
	plan->downgrade = vcmp(run->version, &m->ver) > 0;
	return check_safety(in, m, plan, err);
}

/* Does a record name this image (digest, size, chunk size)? */
int dev_record_holds(const struct dev_record *rec, const uint8_t digest[FW_DIGEST_LEN], uint64_t size, uint32_t chunk_size)
{
	return rec->valid && rec->size == size && rec->chunk_size == chunk_size &&
	       memcmp(rec->digest, digest, FW_DIGEST_LEN) == 0;
}

/*
 * Where a delta's image for slot t comes from (formats/pkg.md, section 10),
 * by the records `rec`: slot t itself when it holds the image already (an
 * upgrade run again after a power cut: verified there, not written), another
 * slot holding the image (copied, each chunk verified: the primary from the
 * secondary just written), else another slot holding its base. Never a base
 * in slot t: a power cut would destroy it. PKG_DELTA_TARGET or
 * PKG_DELTA_BASE with *slot, or PKG_DELTA_NONE.
 */
int dev_delta_slot(const struct dev_record rec[DEV_SLOT_COUNT], enum fw_target t, const struct fw_payload *p, int *slot)
{
	*slot = (int)t;
	if (dev_record_holds(&rec[t], p->digest, p->size, p->chunk_size))
		return PKG_DELTA_TARGET;
	for (int s = 0; s < DEV_SLOT_COUNT; s++)
		if (s != (int)t && dev_record_holds(&rec[s], p->digest, p->size, p->chunk_size)) {
			*slot = s;
			return PKG_DELTA_TARGET;
		}
	for (int s = 0; s < DEV_SLOT_COUNT; s++)
		if (s != (int)t && dev_record_holds(&rec[s], p->zstd.base.digest, p->zstd.base.size, p->zstd.base.chunk_size)) {
			*slot = s;
			return PKG_DELTA_BASE;
		}
	return PKG_DELTA_NONE;
}

int dev_policy_delta_bases(const struct dev_record rec[DEV_SLOT_COUNT], const struct dev_plan *plan,
			   const struct fw_manifest *m, struct fw_err *err)
{
	int src[FW_TARGET_COUNT];

	return dev_plan_delta_sources(rec, plan, m, src, err);
}

int dev_plan_delta_sources(const struct dev_record rec[DEV_SLOT_COUNT], const struct dev_plan *plan,
			   const struct fw_manifest *m, int src[FW_TARGET_COUNT], struct fw_err *err)
{
	struct dev_record sim[DEV_SLOT_COUNT];
	int slot;

	for (size_t i = 0; i < FW_TARGET_COUNT; i++)
		src[i] = PKG_DELTA_NONE;
	memcpy(sim, rec, sizeof(sim));
	for (unsigned pass = 0; pass < (plan->passes ? plan->passes : 1); pass++)
		for (size_t i = 0; i < plan->n; i++) {
			const struct dev_plan_step *st = &plan->step[i];
			const struct fw_payload *p = &m->payloads[st->payload];
			char hex[2 * FW_DIGEST_LEN + 1];

			if (st->pass != pass)
				continue;
			if (p->zstd.on && p->zstd.base.on && (src[i] = dev_delta_slot(sim, st->target, p, &slot)) == PKG_DELTA_NONE) {
				fw_hex(p->zstd.base.digest, FW_DIGEST_LEN, hex);
				return fw_err_set(err, FW_EXIT_REJECTED,
						  "%s: %s is a delta against base image %.16s..., which no other slot holds: "
						  "install the full package", dev_slot_name(st->target), p->name, hex);
			}
			memset(&sim[st->target], 0, sizeof(sim[st->target]));
			sim[st->target].valid = 1;
			sim[st->target].size = p->size;
			sim[st->target].chunk_size = p->chunk_size;
			memcpy(sim[st->target].digest, p->digest, FW_DIGEST_LEN);
		}
	return 0;
}
