/* test_dev_smart: what smart tick finds due at many clock values, windows across midnight, backoff, rollout, the decision (device/dev_smart.c, dev_check.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "device/dev_check.h"
#include "device/dev_smart.h"
#include "formats/chunk.h"
#include "tests/unit/unit_main.h"

#define DAY 86400
#define T0 (19000LL * DAY)   /* a midnight UTC */

static int64_t at(int day, int h, int m)
{
	return T0 + (int64_t)day * DAY + h * 3600 + m * 60;
}

static void test_tod(void)
{
	CU_ASSERT_EQUAL(dev_smart_parse_tod("00:00"), 0);
	CU_ASSERT_EQUAL(dev_smart_parse_tod("23:59"), 23 * 60 + 59);
	CU_ASSERT_EQUAL(dev_smart_parse_tod("03:07"), 187);
	CU_ASSERT_EQUAL(dev_smart_parse_tod("24:00"), -1);
	CU_ASSERT_EQUAL(dev_smart_parse_tod("12:60"), -1);
	CU_ASSERT_EQUAL(dev_smart_parse_tod("1:00"), -1);
	CU_ASSERT_EQUAL(dev_smart_parse_tod("01:00 "), -1);
	CU_ASSERT_EQUAL(dev_smart_parse_tod("aa:bb"), -1);
	CU_ASSERT_EQUAL(dev_smart_parse_tod(""), -1);
	/* The next 03:00 from every minute of a day: today's until 03:00 included, then tomorrow's. */
	for (int m = 0; m < 24 * 60; m++) {
		int64_t t = at(0, 0, m), want = m <= 180 ? at(0, 3, 0) : at(1, 3, 0);
		CU_ASSERT_EQUAL(dev_smart_next_tod(t, 180), want);
		CU_ASSERT_EQUAL(dev_smart_next_tod(t + 30, 180), m < 180 ? at(0, 3, 0) : at(1, 3, 0));
	}
	CU_ASSERT_EQUAL(dev_smart_next_tod(at(0, 23, 59) + 59, 0), at(1, 0, 0));
	/* Before 1970 too (floor, not truncation). */
	CU_ASSERT_EQUAL(dev_smart_next_tod(-DAY + 3600, 120), -DAY + 7200);
}

static void test_window(void)
{
	for (int m = 0; m < 24 * 60; m++) {
		int64_t t = at(3, 0, m);
		CU_ASSERT_EQUAL(dev_smart_in_window(t, 120, 240), m >= 120 && m < 240);
		/* crossing midnight: 22:00 to 04:00 */
		CU_ASSERT_EQUAL(dev_smart_in_window(t, 22 * 60, 4 * 60), m >= 22 * 60 || m < 4 * 60);
		CU_ASSERT_EQUAL(dev_smart_in_window(t, DEV_SMART_ANY_TIME, DEV_SMART_ANY_TIME), 1);
		CU_ASSERT_EQUAL(dev_smart_in_window(t, 300, 300), 1);
	}
}

static void test_backoff(void)
{
	CU_ASSERT_EQUAL(dev_smart_backoff(1, DAY), 60);
	CU_ASSERT_EQUAL(dev_smart_backoff(2, DAY), 120);
	CU_ASSERT_EQUAL(dev_smart_backoff(3, DAY), 240);
	CU_ASSERT_EQUAL(dev_smart_backoff(30, DAY), DEV_SMART_BACKOFF_MAX);
	CU_ASSERT_EQUAL(dev_smart_backoff(1000000, DAY), DEV_SMART_BACKOFF_MAX);
	CU_ASSERT_EQUAL(dev_smart_backoff(30, 3600), 3600);   /* never later than the next regular check */
	CU_ASSERT_EQUAL(dev_smart_backoff(1, 60), 60);
}

static struct dev_smart_config cfg;
static struct dev_smart_state st;

static void setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.window_start = cfg.window_end = cfg.install_at = DEV_SMART_ANY_TIME;
	cfg.enabled = 1;
	strcpy(cfg.server, "http://updates.example/catalog.json");
	cfg.interval = 6 * 3600;
	dev_smart_state_init(&st);
}

static enum dev_smart_action due(int64_t now, int trial)
{
	struct dev_smart_plan p;

	dev_smart_plan(&cfg, &st, now, trial, 0, &p);
	return p.due;
}

static void test_check_schedule(void)
{
	struct dev_smart_plan p;

	setup();
	cfg.enabled = 0;
	CU_ASSERT_EQUAL(due(at(0, 1, 0), 0), DEV_SMART_NOTHING);
	cfg.enabled = 1;
	cfg.server[0] = '\0';
	CU_ASSERT_EQUAL(due(at(0, 1, 0), 0), DEV_SMART_NOTHING);
	setup();
	CU_ASSERT_EQUAL(due(at(0, 1, 0), 0), DEV_SMART_CHECK);   /* never checked: at once */
	st.check_time = at(0, 1, 0);
	st.check_result = DEV_CHECK_VERSION_OPTIMAL;
	for (int m = 0; m < 12 * 60; m += 7) {
		int64_t t = at(0, 1, 0) + m * 60;
		CU_ASSERT_EQUAL(due(t, 0), t >= at(0, 7, 0) ? DEV_SMART_CHECK : DEV_SMART_NOTHING);
	}
	dev_smart_plan(&cfg, &st, at(0, 2, 0), 0, 0, &p);
	CU_ASSERT_EQUAL(p.next_check, at(0, 7, 0));
	CU_ASSERT_EQUAL(p.next_download, -1);
	CU_ASSERT_EQUAL(p.next_install, -1);
	/* A backoff after netError: earlier than the interval. */
	st.check_result = DEV_CHECK_NET_ERROR;
	st.next_check = at(0, 1, 1);
	CU_ASSERT_EQUAL(due(at(0, 1, 0) + 59, 0), DEV_SMART_NOTHING);
	CU_ASSERT_EQUAL(due(at(0, 1, 1), 0), DEV_SMART_CHECK);
	/* A shorter interval set since: counted from the last check. */
	st.next_check = at(0, 9, 0);
	cfg.interval = 3600;
	CU_ASSERT_EQUAL(due(at(0, 2, 0), 0), DEV_SMART_CHECK);
	/* A check just run in this tick is not run again. */
	dev_smart_plan(&cfg, &st, at(0, 2, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_NOTHING);
}

static void test_download_window(void)
{
	struct dev_smart_plan p;

	setup();
	cfg.window_start = 22 * 60;   /* 22:00 to 04:00 */
	cfg.window_end = 4 * 60;
	st.check_time = at(0, 12, 0);
	st.check_result = DEV_CHECK_NEED_UPDATE;
	st.has_step = 1;
	strcpy(st.step.version, "2.0.0");
	for (int m = 0; m < 24 * 60; m += 5) {
		int64_t t = at(1, 0, m);
		int inside = m >= 22 * 60 || m < 4 * 60;
		dev_smart_plan(&cfg, &st, t, 0, 1u << DEV_SMART_CHECK, &p);
		CU_ASSERT_EQUAL(p.due, inside ? DEV_SMART_DOWNLOAD : DEV_SMART_NOTHING);
		CU_ASSERT_EQUAL(p.next_download, inside ? t : at(1, 22, 0));
	}
	/* After a netError: not before its backoff, and still only inside the window. */
	st.dl_retry_after = at(1, 3, 59) + 30;
	dev_smart_plan(&cfg, &st, at(1, 3, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_NOTHING);
	CU_ASSERT_EQUAL(p.next_download, at(1, 3, 59) + 30);
	st.dl_retry_after = at(1, 4, 10);
	dev_smart_plan(&cfg, &st, at(1, 3, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_NOTHING);
	CU_ASSERT_EQUAL(p.next_download, at(1, 22, 0));
	st.dl_retry_after = at(1, 2, 0);
	dev_smart_plan(&cfg, &st, at(1, 1, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.next_download, at(1, 2, 0));
	st.check_time = at(1, 1, 0);
	CU_ASSERT_EQUAL(due(at(1, 2, 0), 0), DEV_SMART_DOWNLOAD);
}

static void test_install_time(void)
{
	struct dev_smart_plan p;

	setup();
	cfg.install_at = 3 * 60;
	st.check_time = at(0, 23, 0);
	st.has_step = 1;
	st.dl_complete = 1;
	st.dl_complete_time = at(0, 23, 30);
	for (int m = 0; m < 48 * 60; m += 11) {
		int64_t t = at(0, 23, 30) + m * 60;
		dev_smart_plan(&cfg, &st, t, 0, 1u << DEV_SMART_CHECK, &p);
		CU_ASSERT_EQUAL(p.due, t >= at(1, 3, 0) ? DEV_SMART_INSTALL : DEV_SMART_NOTHING);
		CU_ASSERT_EQUAL(p.next_install, t >= at(1, 3, 0) ? t : at(1, 3, 0));
		CU_ASSERT_EQUAL(p.next_download, -1);
	}
	/* Downloaded at 03:00 sharp: installed at once. */
	st.dl_complete_time = at(2, 3, 0);
	dev_smart_plan(&cfg, &st, at(2, 3, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_INSTALL);
	/* On trial: it waits for mark-good, however late it is. */
	dev_smart_plan(&cfg, &st, at(5, 3, 0), 1, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_NOTHING);
	/* No install time: as soon as downloaded. */
	cfg.install_at = DEV_SMART_ANY_TIME;
	st.dl_complete_time = at(2, 13, 7);
	st.check_time = at(2, 13, 0);
	CU_ASSERT_EQUAL(due(at(2, 13, 7), 0), DEV_SMART_INSTALL);
	/* A check that is due comes first, the install after it in the same tick. */
	st.check_time = at(0, 0, 0);
	CU_ASSERT_EQUAL(due(at(2, 13, 7), 0), DEV_SMART_CHECK);
}

static void test_rollout_bucket(void)
{
	uint8_t d[32];
	const char *text = "dev-1\nSX\n2.0.0";
	uint64_t v = 0;
	unsigned counts[100] = { 0 };
	char id[32];

	CU_ASSERT_EQUAL(chunk_sha256(text, strlen(text), d), 0);
	for (int i = 0; i < 8; i++)
		v = v << 8 | d[i];
	CU_ASSERT_EQUAL(dev_smart_rollout_bucket("dev-1", "SX", "2.0.0"), (unsigned)(v % 100));
	/* Spread: 10000 ids land in every bucket, none far from 100. */
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "dev-%d", i);
		unsigned b = dev_smart_rollout_bucket(id, "SX", "2.0.0");
		CU_ASSERT(b < 100);
		counts[b < 100 ? b : 0]++;
	}
	for (int b = 0; b < 100; b++)
		CU_ASSERT(counts[b] > 50 && counts[b] < 160);
}

/* A one-shot schedule overrides the window and the install time: check and download at its time, install at reboot. */
static void test_schedule(void)
{
	struct dev_smart_plan p;

	setup();
	cfg.window_start = 2 * 60;
	cfg.window_end = 4 * 60;
	cfg.install_at = 3 * 60;
	st.check_time = at(0, 1, 0);
	st.has_step = 1;
	st.sched_download = at(0, 22, 0);
	st.sched_reboot = at(1, 5, 0);
	/* Inside the window, before the scheduled time: no download (the schedule decides when). */
	dev_smart_plan(&cfg, &st, at(0, 2, 30), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_NOTHING);
	CU_ASSERT_EQUAL(p.next_download, -1);
	/* At the scheduled time, outside the window: a check first (none since), then the download. */
	dev_smart_plan(&cfg, &st, at(0, 22, 0), 0, 0, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_CHECK);
	st.check_time = at(0, 22, 0);
	dev_smart_plan(&cfg, &st, at(0, 22, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_DOWNLOAD);
	/* Downloaded: installed at the reboot time, not at the install time. */
	st.sched_dl_done = 1;
	st.dl_complete = 1;
	st.dl_complete_time = at(0, 22, 10);
	dev_smart_plan(&cfg, &st, at(1, 3, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_NOTHING);
	CU_ASSERT_EQUAL(p.next_install, at(1, 5, 0));
	dev_smart_plan(&cfg, &st, at(1, 5, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_INSTALL);
	/* A failed scheduled download is tried again at the reboot time, not before. */
	st.dl_complete = 0;
	st.sched_dl_failed = 1;
	dev_smart_plan(&cfg, &st, at(1, 3, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_NOTHING);
	CU_ASSERT(dev_smart_sched_download_at(&st) == at(1, 5, 0));
	dev_smart_plan(&cfg, &st, at(1, 5, 0), 0, 0, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_CHECK);   /* a check first: none since the reboot time */
	/* Without a reboot time: downloaded, then never installed by itself. */
	st.sched_reboot = 0;
	st.sched_dl_failed = 0;
	st.dl_complete = 1;
	CU_ASSERT(!dev_smart_scheduled(&st));
	dev_smart_plan(&cfg, &st, at(3, 3, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_NOTHING);
	CU_ASSERT_EQUAL(p.next_install, -1);
	/* Unscheduled: the install time again. */
	dev_smart_unschedule(&st);
	dev_smart_plan(&cfg, &st, at(3, 3, 0), 0, 1u << DEV_SMART_CHECK, &p);
	CU_ASSERT_EQUAL(p.due, DEV_SMART_INSTALL);
	/* A busy server's Retry-After: longer than the backoff wins, never beyond the interval. */
	CU_ASSERT_EQUAL(dev_smart_retry_wait(1, 6 * 3600, 0), 60);
	CU_ASSERT_EQUAL(dev_smart_retry_wait(1, 6 * 3600, 600), 600);
	CU_ASSERT_EQUAL(dev_smart_retry_wait(3, 6 * 3600, 30), 240);
	CU_ASSERT_EQUAL(dev_smart_retry_wait(1, 6 * 3600, 99999), 6 * 3600);
}

/* A catalog in memory: product, version, generation, bridge_from, rollout. */
static void rel(struct fw_catalog *c, const char *product, const char *version, uint32_t gen, const char *from,
		unsigned rollout)
{
	struct fw_release *r = &c->rel[c->n++];
	struct fw_err e;

	memset(r, 0, sizeof(*r));
	strcpy(r->product, product);
	strcpy(r->version, version);
	CU_ASSERT_EQUAL(fw_version_parse(version, &r->ver, &e), 0);
	r->generation = gen;
	strcpy(r->bridge_from, from);
	r->rollout = rollout;
	r->n_urls = 1;
	strcpy(r->url[0], "http://x/p.pkg");
}

/* A release of the decision tests: product, version, generation, bridge_from (rollout 100). */
struct relspec {
	const char *product, *version;
	uint32_t gen;
	const char *from;
};

/* A catalog of these releases, sorted (free() it); fatal when it cannot be. */
static struct fw_catalog *catalog_of(const struct relspec *rs, size_t n)
{
	struct fw_catalog *c = calloc(1, sizeof(*c));
	struct fw_err e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (size_t i = 0; i < n; i++)
		rel(c, rs[i].product, rs[i].version, rs[i].gen, rs[i].from, 100);
	CU_ASSERT_EQUAL_FATAL(fw_catalog_sort(c, &e), 0);
	return c;
}

static int dev_tpm;
static uint64_t dev_rollback;

static struct dev_smart_refusal dev_refused[2];
static size_t dev_n_refused;

/* A device whose three slots hold `running` of generation gen (none valid when running is ""). */
static int decide(const struct fw_catalog *c, const char *product, const char *running, uint32_t gen,
		  const struct fw_release **t, const struct fw_release **s, char *note, size_t notesz, struct fw_err *e)
{
	struct dev_record rec[FW_TARGET_COUNT], golden;
	struct dev_check_device d;

	memset(&d, 0, sizeof(d));
	memset(&golden, 0, sizeof(golden));
	for (int i = 0; i < FW_TARGET_COUNT; i++) {
		memset(&rec[i], 0, sizeof(rec[i]));
		rec[i].valid = running[0] != '\0';
		strcpy(rec[i].version, running);
		rec[i].generation = gen;
		rec[i].rollback_index = dev_rollback;
		d.rec[i] = &rec[i];
	}
	d.golden = &golden;
	d.product = product;
	d.device_id = "d";
	d.tpm = dev_tpm;
	d.rollback_index = dev_rollback;
	d.refused = dev_refused;
	d.n_refused = dev_n_refused;
	return dev_check_decide(c, &d, t, s, note, notesz, e);
}

/* Image digests in this test: 0xA0 + n. */
static void image(struct fw_catalog_image *im, enum fw_target t, int digest, int base)
{
	memset(im, 0, sizeof(*im));
	im->target = t;
	im->size = 1 << 20;
	im->chunk_size = 1 << 20;
	memset(im->digest, 0xA0 + digest, FW_DIGEST_LEN);
	if (base >= 0) {
		im->has_base = 1;
		im->base_size = 1 << 20;
		im->base_chunk_size = 1 << 20;
		memset(im->base_digest, 0xA0 + base, FW_DIGEST_LEN);
	}
}

/* Which delta of 2.0.0 (or none) a 1.0.0 device takes whose pri, sec and golden hold images pri, sec, gold (-1: none). */
static const struct fw_catalog_delta *delta_for(const struct fw_catalog *c, int pri, int sec, int gold)
{
	struct dev_record rec[DEV_SLOT_COUNT];
	struct dev_check_device d;
	const int held[DEV_SLOT_COUNT] = { [FW_TARGET_PRI] = pri, [FW_TARGET_SEC] = sec, [FW_TARGET_BOOT] = 9,
					   [DEV_SLOT_GOLDEN] = gold };

	memset(&d, 0, sizeof(d));
	memset(rec, 0, sizeof(rec));
	for (int i = 0; i < DEV_SLOT_COUNT; i++) {
		rec[i].valid = held[i] >= 0;
		strcpy(rec[i].version, "1.0.0");
		rec[i].generation = 1;
		rec[i].size = rec[i].chunk_size = 1 << 20;
		memset(rec[i].digest, 0xA0 + held[i], FW_DIGEST_LEN);
		if (i < FW_TARGET_COUNT)
			d.rec[i] = &rec[i];
	}
	d.golden = &rec[DEV_SLOT_GOLDEN];
	d.product = "SX";
	d.device_id = "d";
	d.refused = dev_refused;
	d.n_refused = dev_n_refused;
	return dev_check_delta(c, &d, fw_catalog_find(c, "SX", "2.0.0"), rec);
}

/*
 * The check's delta choice is the install's rule (dev_policy_delta_bases): the
 * secondary is rebuilt from a base in another slot, the primary then copied
 * from the new secondary; a refused delta is not taken again.
 */
static void test_delta_choice(void)
{
	struct fw_catalog *c = calloc(1, sizeof(*c));
	struct fw_catalog_delta *dl;
	struct fw_err e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rel(c, "SX", "1.0.0", 1, "", 100);
	rel(c, "SX", "2.0.0", 1, "", 100);
	/* 2.0.0's images: pri and sec 2 (deltas: pri against 1, sec against 1), boot 9 whole. */
	dl = &c->delta[c->n_deltas++];
	strcpy(dl->product, "SX");
	strcpy(dl->version, "2.0.0");
	strcpy(dl->base_version, "1.0.0");
	memset(dl->manifest_sha256, 0x77, FW_DIGEST_LEN);
	dl->n_images = 3;
	image(&dl->image[0], FW_TARGET_SEC, 2, 1);
	image(&dl->image[1], FW_TARGET_BOOT, 9, -1);
	image(&dl->image[2], FW_TARGET_PRI, 2, 1);
	CU_ASSERT_EQUAL_FATAL(fw_catalog_sort(c, &e), 0);
	/* Both slots on the base, or only the primary: the secondary from the primary, then the primary copied. */
	CU_ASSERT_PTR_EQUAL(delta_for(c, 1, 1, -1), &c->delta[0]);
	CU_ASSERT_PTR_EQUAL(delta_for(c, 1, 3, -1), &c->delta[0]);
	/* Only the secondary on the base: it would be the base of its own slot, which a delta never reads. */
	CU_ASSERT_PTR_NULL(delta_for(c, 3, 1, -1));
	/* ... unless the golden slot holds it. */
	CU_ASSERT_PTR_EQUAL(delta_for(c, 3, 1, 1), &c->delta[0]);
	/* Off the base: the full package. */
	CU_ASSERT_PTR_NULL(delta_for(c, 3, 3, -1));
	/* A delta that failed once (refused): the full package, whatever the slots hold. */
	memset(&dev_refused[0], 0, sizeof(dev_refused[0]));
	memset(dev_refused[0].manifest_sha256, 0x77, FW_DIGEST_LEN);
	strcpy(dev_refused[0].result, "fileNotMatch");
	dev_n_refused = 1;
	CU_ASSERT_PTR_NULL(delta_for(c, 1, 1, -1));
	dev_n_refused = 0;
	free(c);
}

static void test_decide(void)
{
	static const struct relspec rs[] = {
		{ "A", "1.0.0", 1, "" }, { "SX", "1.0.0", 1, "" }, { "SX", "1.5.0", 1, "" }, { "SX", "2.0.0", 2, "1.5.0" },
	};
	struct fw_catalog *c = catalog_of(rs, sizeof(rs) / sizeof(rs[0]));
	const struct fw_release *t, *s;
	struct fw_err e;
	char note[512];

	/* From 1.0.0: 2.0.0 is the target, 1.5.0 (its bridge) the step. */
	CU_ASSERT_EQUAL(decide(c, "SX", "1.0.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(t != NULL && s != NULL && strcmp(t->version, "2.0.0") == 0 && strcmp(s->version, "1.5.0") == 0);
	CU_ASSERT(strstr(note, "bridge") != NULL);
	/* From the bridge itself: straight on. */
	CU_ASSERT_EQUAL(decide(c, "SX", "1.5.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s != NULL && strcmp(s->version, "2.0.0") == 0);
	/* At the newest, or above it: stay. */
	CU_ASSERT_EQUAL(decide(c, "SX", "2.0.0", 2, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s == NULL && t == NULL);
	CU_ASSERT_EQUAL(decide(c, "SX", "2.1.0", 2, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s == NULL);
	/* Another product only. */
	CU_ASSERT_EQUAL(decide(c, "ZZ", "1.0.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s == NULL && strstr(note, "no release for product ZZ") != NULL);
	/* Past the bridge version in the old generation: unreachable, said so. */
	CU_ASSERT_EQUAL(decide(c, "SX", "1.6.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s == NULL && strstr(note, "1.5.0 first") != NULL);
	/* A device with a TPM takes only releases marked for TPM products; one with a rollback index none below it. */
	dev_tpm = 1;
	CU_ASSERT_EQUAL(decide(c, "SX", "1.0.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s == NULL && strstr(note, "marked for TPM") != NULL);
	c->rel[2].requires_tpm = 1;   /* 1.5.0 */
	CU_ASSERT_EQUAL(decide(c, "SX", "1.0.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s != NULL && strcmp(s->version, "1.5.0") == 0);
	dev_tpm = 0;
	c->rel[2].requires_tpm = 0;
	dev_rollback = 1;
	c->rel[3].rollback_index = 1;  /* 2.0.0, whose bridge 1.5.0 has index 0: unreachable */
	CU_ASSERT_EQUAL(decide(c, "SX", "1.0.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s == NULL);
	dev_rollback = 0;
	c->rel[3].rollback_index = 0;
	/* Rollout 0 on the newest: the one before it, when that one takes the device. */
	c->rel[3].rollout = 0;
	CU_ASSERT_EQUAL(decide(c, "SX", "1.0.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s != NULL && strcmp(s->version, "1.5.0") == 0 && t == s);
	c->rel[2].rollout = 0;
	CU_ASSERT_EQUAL(decide(c, "SX", "1.0.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s == NULL && strstr(note, "rollout") != NULL);
	/* A bridge the catalog lacks is an invalid catalog. */
	c->rel[3].rollout = 100;
	strcpy(c->rel[3].bridge_from, "1.4.0");
	CU_ASSERT_EQUAL(decide(c, "SX", "1.0.0", 1, &t, &s, note, sizeof(note), &e), -1);
	CU_ASSERT(strstr(e.msg, "1.4.0") != NULL);
	free(c);
}

/* The field's path: 5.20.0 -> 5.21.2 (bridge of gen 1) -> 5.22.2 (gen 2, entered only from 5.21.2) -> 5.23.0. */
static void test_decide_path(void)
{
	static const struct relspec rs[] = {
		{ "W", "5.20.0", 1, "" }, { "W", "5.21.0", 1, "" }, { "W", "5.21.2", 1, "" },
		{ "W", "5.22.2", 2, "5.21.2" }, { "W", "5.23.0", 2, "5.22.2" },
	};
	struct fw_catalog *c = catalog_of(rs, sizeof(rs) / sizeof(rs[0]));
	const struct fw_release *t, *s;
	struct fw_err e;
	char note[512];

	for (size_t i = 0; i < c->n; i++)
		c->rel[i].manifest_sha256[0] = (uint8_t)(i + 1);
	/* Not 5.23.0 (refused from 5.20.0), not 5.21.0 (a dead end): the bridge. */
	CU_ASSERT_EQUAL(decide(c, "W", "5.20.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(t != NULL && s != NULL && strcmp(t->version, "5.23.0") == 0 && strcmp(s->version, "5.21.2") == 0);
	CU_ASSERT_EQUAL(decide(c, "W", "5.21.2", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s != NULL && strcmp(s->version, "5.22.2") == 0 && strcmp(t->version, "5.23.0") == 0);
	CU_ASSERT_EQUAL(decide(c, "W", "5.22.2", 2, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s != NULL && strcmp(s->version, "5.23.0") == 0 && t == s);
	/* Past the bridge in generation 1 (5.21.5 here): nothing reachable, the policy's reason said. */
	CU_ASSERT_EQUAL(decide(c, "W", "5.21.5", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s == NULL && t == NULL && strstr(note, "5.23.0 cannot be installed") != NULL && strstr(note, "first") != NULL);
	/* A refused bridge is never chosen again: the device stays where it can. */
	memcpy(dev_refused[0].manifest_sha256, c->rel[2].manifest_sha256, FW_DIGEST_LEN);   /* 5.21.2 */
	dev_n_refused = 1;
	CU_ASSERT_EQUAL(decide(c, "W", "5.20.0", 1, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s != NULL && strcmp(s->version, "5.21.0") == 0 && t == s);
	dev_n_refused = 0;
	/* A device with no valid system image takes the newest it may enter from nothing ('upgrade all'). */
	CU_ASSERT_EQUAL(decide(c, "W", "", 0, &t, &s, note, sizeof(note), &e), 0);
	CU_ASSERT(s != NULL && strcmp(s->version, "5.23.0") == 0);
	free(c);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "times of day", test_tod },
		{ "download windows, across midnight", test_window },
		{ "backoff after netError", test_backoff },
		{ "checks: interval, backoff, once a tick", test_check_schedule },
		{ "downloads: only inside the window", test_download_window },
		{ "installs: at the install time, not on trial", test_install_time },
		{ "rollout bucket: documented hash, spread", test_rollout_bucket },
		{ "the decision: newest, bridge, rollout, product", test_decide },
		{ "the decision: a bridge path through the install's policy", test_decide_path },
		{ "a delta only where the install finds its bases, never after it failed", test_delta_choice },
		{ "one-shot schedule: download at, reboot at, retry, by hand", test_schedule },
	};

	return unit_run("dev_smart", NULL, NULL, tests, UNIT_COUNT(tests));
}
