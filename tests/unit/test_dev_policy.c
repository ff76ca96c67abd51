/* test_dev_policy: fwctl's upgrade policy on in-memory manifests and slot records (device/dev_policy.c). */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "device/dev_policy.h"
#include "device/dev_state.h"

static struct fw_manifest *man;
static struct dev_record rec[FW_TARGET_COUNT];
static struct dev_policy_in in;
static struct dev_plan plan;
static struct fw_err err;

/* A manifest for `products` (space-separated); images for product P in the order given ("sec boot pri"). */
static void manifest(const char *version, uint32_t gen, const char *from, const char *down, const char *order)
{
	char buf[64], *tok, *save;

	fw_manifest_free(man);
	man = fw_manifest_new(FW_TYPE_FIRMWARE);
	CU_ASSERT_FATAL(man != NULL);
	snprintf(man->version, sizeof(man->version), "%s", version);
	CU_ASSERT_FATAL(fw_version_parse(version, &man->ver, &err) == 0);
	man->image_generation = gen;
	snprintf(man->bridge_from, sizeof(man->bridge_from), "%s", from);
	snprintf(man->bridge_down, sizeof(man->bridge_down), "%s", down);
	man->n_products = 2;
	snprintf(man->products[0], sizeof(man->products[0]), "Q");
	snprintf(man->products[1], sizeof(man->products[1]), "P");
	/* Payload 0 belongs to product Q, so P's indexes start at 1. */
	snprintf(man->payloads[0].name, sizeof(man->payloads[0].name), "Q-pri.img");
	man->images[0].target = FW_TARGET_PRI;
	snprintf(man->images[0].product, sizeof(man->images[0].product), "Q");
	man->images[0].payload = 0;
	man->n_images = man->n_payloads = 1;
	snprintf(buf, sizeof(buf), "%s", order);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		size_t i = man->n_images;
		CU_ASSERT_FATAL(fw_target_parse(tok, &man->images[i].target) == 0);
		snprintf(man->images[i].product, sizeof(man->images[i].product), "P");
		snprintf(man->payloads[i].name, sizeof(man->payloads[i].name), "P-%s.img", tok);
		man->images[i].payload = i;
		man->n_images++;
		man->n_payloads++;
	}
}

static void slot(enum fw_target t, const char *version, uint32_t gen, const char *down)
{
	memset(&rec[t], 0, sizeof(rec[t]));
	if (version == NULL) {
		snprintf(rec[t].note, sizeof(rec[t].note), "empty");
		return;
	}
	rec[t].valid = 1;
	snprintf(rec[t].version, sizeof(rec[t].version), "%s", version);
	rec[t].generation = gen;
	snprintf(rec[t].bridge_down, sizeof(rec[t].bridge_down), "%s", down);
}

/* A device of product P, every slot at `version` of generation `gen`. */
static void device(const char *version, uint32_t gen, const char *down)
{
	memset(&in, 0, sizeof(in));
	in.product = "P";
	in.all = 1;
	for (int t = 0; t < FW_TARGET_COUNT; t++) {
		slot((enum fw_target)t, version, gen, down);
		in.rec[t] = &rec[t];
	}
}

static void single(enum fw_target t)
{
	in.all = 0;
	in.target = t;
}

static int check(void)
{
	memset(&err, 0, sizeof(err));
	return dev_policy_check(&in, man, &plan, &err);
}

/* Refused with a message containing `want`. */
static void refused(const char *want)
{
	CU_ASSERT_EQUAL(check(), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
	if (strstr(err.msg, want) == NULL)
		fprintf(stderr, "\n  message \"%s\" lacks \"%s\"\n", err.msg, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
}

static void test_product_and_images(void)
{
	device("5.20.0", 1, "");
	manifest("5.21.2", 1, "", "", "sec boot pri");
	in.product = "R";
	refused("package is for Q, P, not for this device's product R");
	in.product = "P";
	manifest("5.21.2", 1, "", "", "");
	refused("lists P but has no images for it");
	manifest("5.21.2", 1, "", "", "sec pri");
	single(FW_TARGET_BOOT);
	refused("no bootloader image for P: use a package that has one, or 'upgrade all'");
	single(FW_TARGET_PRI);
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_EQUAL(plan.n, 1);
	CU_ASSERT_EQUAL(plan.step[0].target, FW_TARGET_PRI);
	CU_ASSERT_EQUAL(plan.step[0].payload, 2);
}

static void test_all_plan_order(void)
{
	device("5.20.0", 1, "");
	manifest("5.21.2", 1, "", "", "sec boot pri");
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_EQUAL(plan.n, 3);
	CU_ASSERT_EQUAL(plan.step[0].target, FW_TARGET_SEC);
	CU_ASSERT_EQUAL(plan.step[1].target, FW_TARGET_BOOT);
	CU_ASSERT_EQUAL(plan.step[2].target, FW_TARGET_PRI);
	CU_ASSERT_EQUAL(plan.step[2].payload, 3);
	CU_ASSERT_EQUAL(plan.transition, 0);
	CU_ASSERT_EQUAL(plan.downgrade, 0);
	manifest("5.21.2", 1, "", "", "pri sec boot");
	refused("in the order 'upgrade all' writes them");
	single(FW_TARGET_PRI);
	CU_ASSERT_EQUAL(check(), 0);   /* a single target does not care */
}

static void test_tpm(void)
{
	device("5.20.0", 1, "");
	manifest("5.21.2", 1, "", "", "sec boot pri");
	in.tpm = 1;
	refused("has a TPM and the package is not marked for TPM products");
	man->requires_tpm = 1;
	CU_ASSERT_EQUAL(check(), 0);
	in.tpm = 0;
	refused("marked for TPM products and this P has no TPM");
}

static void test_rollback(void)
{
	device("5.20.0", 1, "");
	manifest("5.21.2", 1, "", "", "sec boot pri");
	man->rollback_index = 4;
	in.rollback_index = 5;
	refused("rollback index 4 is below the device's 5");
	in.force = 1;
	refused("rollback index 4 is below");
	in.rollback_index = 4;
	CU_ASSERT_EQUAL(check(), 0);
}

static void test_enter_generation(void)
{
	device("5.21.2", 1, "");
	manifest("5.22.2", 2, "", "5.22.2", "sec boot pri");
	refused("names no version to enter it from");
	manifest("5.22.2", 2, "5.21.2", "5.22.2", "sec boot pri");
	single(FW_TARGET_PRI);
	refused("entering a new generation needs 'upgrade all'");
	in.all = 1;
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_EQUAL(plan.transition, 1);
	slot(FW_TARGET_PRI, "5.20.0", 1, "");
	refused("needs the primary at 5.21.2 first (it runs 5.20.0)");
	in.force = 1;
	refused("needs the primary at 5.21.2 first");   /* force never skips generation rules */
	slot(FW_TARGET_PRI, "5.21.2", 1, "");
	manifest("5.22.2", 2, "5.21.2", "5.22.2", "sec pri");
	refused("no bootloader image for P");
}

static void test_leave_generation(void)
{
	device("5.23.0", 2, "5.22.2");
	manifest("5.21.2", 1, "", "", "sec boot pri");
	refused("needs the primary at 5.22.2 first (it runs 5.23.0)");
	slot(FW_TARGET_PRI, "5.22.2", 2, "5.22.2");
	single(FW_TARGET_SEC);
	refused("leaving a generation downwards needs 'upgrade all'");
	in.all = 1;
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_EQUAL(plan.transition, -1);
	CU_ASSERT_EQUAL(plan.downgrade, 1);
	CU_ASSERT_STRING_EQUAL(plan.running, "5.22.2");
	manifest("5.22.3", 1, "", "", "sec boot pri");
	refused("not an older version");
	slot(FW_TARGET_PRI, "5.22.2", 2, "");
	manifest("5.21.2", 1, "", "", "sec boot pri");
	refused("names no version to leave generation 2 from");
}

/* dev_running: the one rule of what runs now, on a board that runs from RAM and on a rootfs board. */
static void test_dev_running(void)
{
	struct dev_record pri, sec;

	memset(&pri, 0, sizeof(pri));
	memset(&sec, 0, sizeof(sec));
	CU_ASSERT_PTR_NULL(dev_running(&pri, &sec, DEV_BOOTED_NONE));
	CU_ASSERT_PTR_NULL(dev_running(&pri, &sec, FW_TARGET_SEC));
	sec.valid = 1;
	CU_ASSERT_PTR_EQUAL(dev_running(&pri, &sec, DEV_BOOTED_NONE), &sec);
	pri.valid = 1;
	CU_ASSERT_PTR_EQUAL(dev_running(&pri, &sec, DEV_BOOTED_NONE), &pri);
	/* A rootfs board booted from sec runs sec, whatever the primary holds. */
	CU_ASSERT_PTR_EQUAL(dev_running(&pri, &sec, FW_TARGET_SEC), &sec);
	CU_ASSERT_PTR_EQUAL(dev_running(&pri, &sec, FW_TARGET_PRI), &pri);
	/* The booted slot marked bad: the records' rule again. */
	sec.valid = 0;
	CU_ASSERT_PTR_EQUAL(dev_running(&pri, &sec, FW_TARGET_SEC), &pri);
	CU_ASSERT_PTR_EQUAL(dev_running(&pri, &sec, DEV_BOOTED_NONE), &pri);
}

static void test_running_image(void)
{
	/* The primary is not valid (an upgrade was cut short): the secondary is what runs. */
	device("5.22.2", 2, "5.22.2");
	slot(FW_TARGET_PRI, NULL, 0, "");
	manifest("5.22.2", 2, "5.21.2", "5.22.2", "sec boot pri");
	/* The secondary is the only bootable image: from a stream, `all` would overwrite it first. */
	refused("run 'fwctl upgrade pri' with this package, then 'fwctl upgrade all'");
	/* From a file: read twice, the primary first. */
	in.rereadable = 1;
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_EQUAL(plan.passes, 2);
	CU_ASSERT_EQUAL(plan.step[0].target, FW_TARGET_PRI);
	CU_ASSERT_EQUAL(plan.step[0].pass, 0);
	CU_ASSERT(plan.step[1].pass == 1 && plan.step[2].pass == 1);
	CU_ASSERT(plan.step[1].target == FW_TARGET_SEC && plan.step[2].target == FW_TARGET_BOOT);
	CU_ASSERT_EQUAL(plan.transition, 0);
	CU_ASSERT_STRING_EQUAL(plan.running, "5.22.2");
	/* A single target over the only bootable image is refused, naming what to run first. */
	manifest("5.22.3", 2, "5.21.2", "5.22.2", "sec boot pri");
	single(FW_TARGET_SEC);
	refused("the secondary is the only bootable system image (the primary is not): writing it could leave "
		"nothing to boot; run 'fwctl upgrade pri'");
	single(FW_TARGET_PRI);
	CU_ASSERT_EQUAL(check(), 0);
	single(FW_TARGET_BOOT);
	CU_ASSERT_EQUAL(check(), 0);
	device("5.22.2", 2, "5.22.2");
	slot(FW_TARGET_SEC, NULL, 0, "");
	single(FW_TARGET_PRI);
	refused("the primary is the only bootable system image (the secondary is not): writing it could leave "
		"nothing to boot; run 'fwctl upgrade sec'");
	in.all = 1;
	in.rereadable = 0;
	CU_ASSERT_EQUAL(check(), 0);   /* secondary, bootloader, primary: the primary stands until the secondary is back */
	CU_ASSERT_EQUAL(plan.passes, 1);
	device("5.22.2", 2, "5.22.2");
	slot(FW_TARGET_PRI, NULL, 0, "");
	/* Nothing valid at all: only `all` can help, and nothing to transition from. */
	slot(FW_TARGET_SEC, NULL, 0, "");
	single(FW_TARGET_PRI);
	refused("holds no valid system image: only 'upgrade all'");
	in.all = 1;
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_STRING_EQUAL(plan.running, "");
}

/*
 * The oracle for plan safety, written apart from dev_plan_unsafe_step: replay
 * the durable events the transaction makes (record invalid, record valid),
 * and after each, ask whether the boot step would find a system image.
 */
static int oracle_safe(const struct dev_plan *p, int pri, int sec)
{
	int slot_ok[FW_TARGET_COUNT] = { [FW_TARGET_PRI] = pri, [FW_TARGET_SEC] = sec };
	int order[2 * FW_TARGET_COUNT], n = 0;

	if (!pri && !sec)
		return 1;
	for (unsigned pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p->n; i++)
			if (p->step[i].pass == pass)
				order[n++] = (int)i;
	for (int k = 0; k < n; k++) {
		enum fw_target t = p->step[order[k]].target;
		slot_ok[t] = 0;
		if (!slot_ok[FW_TARGET_PRI] && !slot_ok[FW_TARGET_SEC])
			return 0;
		slot_ok[t] = 1;
	}
	return 1;
}

/* Every starting state times every target and source kind: no accepted plan has an unbootable moment. */
static void test_plans_exhaustive(void)
{
	/* A slot: 0 empty, 1 valid, 2 valid but below the device's rollback index. */
	unsigned accepted = 0, refused_n = 0;

	for (int pri = 0; pri < 3; pri++)
	for (int sec = 0; sec < 3; sec++)
	for (int boot = 0; boot < 2; boot++)
	for (int target = -1; target < FW_TARGET_COUNT; target++)
	for (int reread = 0; reread < 2; reread++)
	for (int raise = 0; raise < 2; raise++)
	for (int order = 0; order < 2; order++)
	for (int run = 0; run < 3; run++) {   /* runs from RAM, or its root file system on pri or on sec */
		device("5.21.0", 1, "");
		in.rootfs = run > 0;
		in.booted = run == 2 ? FW_TARGET_SEC : FW_TARGET_PRI;
		in.rollback_index = 3;
		for (int t = 0; t < FW_TARGET_COUNT; t++)
			rec[t].rollback_index = 3;
		if (pri == 0) slot(FW_TARGET_PRI, NULL, 0, "");
		if (sec == 0) slot(FW_TARGET_SEC, NULL, 0, "");
		if (boot == 0) slot(FW_TARGET_BOOT, NULL, 0, "");
		if (pri == 2) rec[FW_TARGET_PRI].rollback_index = 2;
		if (sec == 2) rec[FW_TARGET_SEC].rollback_index = 2;
		manifest("5.22.0", 1, "", "", order ? "pri boot sec" : "sec boot pri");
		man->rollback_index = raise ? 4 : 3;
		in.rereadable = reread;
		if (target < 0) {
			in.all = 1;
		} else {
			in.all = 0;
			in.target = (enum fw_target)target;
		}
		if (in.rootfs && !in.all && in.target == in.booted)
			continue;   /* the slot layer refuses it (dev_slot_usable; test_fwctl_board) */
		if (check() < 0) {
			refused_n++;
			CU_ASSERT_EQUAL(err.code, FW_EXIT_REJECTED);
			CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":"));   /* says what to do */
			continue;
		}
		accepted++;
		if (!oracle_safe(&plan, pri == 1, sec == 1))
			fprintf(stderr, "\n  unsafe: pri %d sec %d boot %d target %d reread %d raise %d order %d\n", pri,
				sec, boot, target, reread, raise, order);
		CU_ASSERT(oracle_safe(&plan, pri == 1, sec == 1));
		/* What the transaction writes is what the policy was asked for. */
		CU_ASSERT(plan.n >= 1 && plan.passes >= 1 && plan.passes <= 2);
		if (!in.all)
			CU_ASSERT(plan.n == 1 && plan.step[0].target == in.target);
		/* The slot the system runs from is never in a plan. */
		for (size_t i = 0; in.rootfs && i < plan.n; i++)
			CU_ASSERT(plan.step[i].target != in.booted);
		/* Raising the rollback index takes `all`. */
		if (raise)
			CU_ASSERT(in.all);
	}
	/* Both outcomes occur, or the loop proves nothing. */
	CU_ASSERT(accepted > 50 && refused_n > 50);
}

/* board running=rootfs: 'all' writes every slot but the one the system runs from. */
static void test_rootfs(void)
{
	device("5.21.0", 1, "");
	manifest("5.21.2", 1, "", "", "sec boot pri");
	in.rootfs = 1;
	in.booted = FW_TARGET_PRI;
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT(plan.n == 2 && plan.step[0].target == FW_TARGET_SEC && plan.step[1].target == FW_TARGET_BOOT);
	CU_ASSERT(plan.left_running && plan.passes == 1);
	in.booted = FW_TARGET_SEC;
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT(plan.n == 2 && plan.step[0].target == FW_TARGET_BOOT && plan.step[1].target == FW_TARGET_PRI);
	/* In RAM the same package writes all three. */
	in.rootfs = 0;
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT(plan.n == 3 && !plan.left_running);
	/* Only an image for the running slot: nothing to write, and it says how to go on. */
	in.rootfs = 1;
	in.booted = FW_TARGET_PRI;
	manifest("5.21.2", 1, "", "", "pri");
	refused("the package's only image for P is the primary's, and the pri slot holds the running system "
		"(board running=rootfs): boot the other slot");
	/* The running version is the booted slot's, not the primary's. */
	manifest("5.21.2", 1, "", "", "sec boot pri");
	slot(FW_TARGET_SEC, "5.22.0", 1, "");
	in.booted = FW_TARGET_SEC;
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_STRING_EQUAL(plan.running, "5.22.0");
	CU_ASSERT_EQUAL(plan.downgrade, 1);
	in.booted = FW_TARGET_PRI;
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_STRING_EQUAL(plan.running, "5.21.0");
	CU_ASSERT_EQUAL(plan.downgrade, 0);
	/* A generation change writes the three slots at once: not on a rootfs board. */
	device("5.21.2", 1, "");
	in.rootfs = 1;
	manifest("5.22.2", 2, "5.21.2", "5.22.2", "sec boot pri");
	refused("a generation change writes secondary, bootloader and primary in one step, and the pri slot holds "
		"the running system (board running=rootfs)");
	/* The running slot's record is not valid and the other is the only bootable image: never written. */
	device("5.21.0", 1, "");
	in.rootfs = 1;
	slot(FW_TARGET_PRI, NULL, 0, "");
	manifest("5.21.2", 1, "", "", "sec boot pri");
	in.rereadable = 1;
	refused("the secondary is the only bootable system image, and the pri slot the system runs from");
	single(FW_TARGET_SEC);
	refused("run 'fwctl boot-check'");
}

static void test_version_order(void)
{
	device("5.22.2", 2, "5.22.2");
	manifest("5.22.2", 2, "5.21.2", "5.22.2", "sec boot pri");
	refused("already hold 5.22.2: nothing to do (use 'upgrade force'");
	single(FW_TARGET_SEC);
	refused("the secondary already holds 5.22.2");
	in.force = 1;
	CU_ASSERT_EQUAL(check(), 0);
	in.force = 0;
	in.all = 1;
	slot(FW_TARGET_BOOT, "5.22.0", 2, "5.22.2");
	CU_ASSERT_EQUAL(check(), 0);                      /* one slot differs: not a no-op */
	manifest("5.22.1", 2, "5.21.2", "5.22.2", "sec boot pri");
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_EQUAL(plan.downgrade, 1);               /* warned about, never refused */
	manifest("5.23.0", 2, "5.21.2", "5.22.2", "sec boot pri");
	CU_ASSERT_EQUAL(check(), 0);
	CU_ASSERT_EQUAL(plan.downgrade, 0);
}

static void test_not_firmware(void)
{
	device("5.20.0", 1, "");
	manifest("5.21.2", 1, "", "", "sec boot pri");
	man->type = FW_TYPE_MODIFICATION;
	refused("not a firmware package");
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite("dev_policy", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "product and images", test_product_and_images) == NULL ||
	    CU_add_test(s, "all: secondary, bootloader, primary", test_all_plan_order) == NULL ||
	    CU_add_test(s, "TPM both ways", test_tpm) == NULL ||
	    CU_add_test(s, "rollback index", test_rollback) == NULL ||
	    CU_add_test(s, "entering a generation", test_enter_generation) == NULL ||
	    CU_add_test(s, "leaving a generation downwards", test_leave_generation) == NULL ||
	    CU_add_test(s, "the running image", test_running_image) == NULL ||
	    CU_add_test(s, "dev_running: the rootfs board's booted slot, else primary, else secondary", test_dev_running) == NULL ||
	    CU_add_test(s, "version order and force", test_version_order) == NULL ||
	    CU_add_test(s, "every state, every target: never unbootable", test_plans_exhaustive) == NULL ||
	    CU_add_test(s, "board running=rootfs", test_rootfs) == NULL ||
	    CU_add_test(s, "modification packages", test_not_firmware) == NULL) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	fw_manifest_free(man);
	return failed != 0;
}
