/* dev_boot: pick the slot to boot by record, rollback index, golden floor, trial budget and bytes; remember it. */
#include "dev_boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/outfile.h"
#include "device/dev_policy.h"
#include "device/dev_slot.h"
#include "formats/version.h"

#define N_CAND 3
static const int order[N_CAND] = { FW_TARGET_PRI, FW_TARGET_SEC, DEV_SLOT_GOLDEN };

struct boot {
	struct dev_root *r;
	struct dev_state st;
	struct dev_record rec[N_CAND];
	struct fw_err why[N_CAND];
	int checked[N_CAND];   /* 0 not yet, 1 bootable, -1 not */
	unsigned budget;
};

/* Temporaries a power cut left behind: the device lock is held, nobody is writing them. */
static void remove_leftovers(struct dev_root *r)
{
	char *records = dev_root_file(r, DEV_RECORD_DIR);

	outfile_remove_leftovers(r->dir);
	if (records != NULL)
		outfile_remove_leftovers(records);
	free(records);
}

static int older_than_golden(const struct boot *b, int i)
{
	const struct dev_record *g = &b->rec[2];
	struct fw_err err;

	return order[i] != DEV_SLOT_GOLDEN && g->valid && fw_version_cmp_str(b->rec[i].version, g->version, &err) < 0;
}

/*
 * Can candidate i start? 1 yes, 0 no (why[i] says why), -1 on an error
 * writing. A record whose bytes turn out wrong is marked not valid (durably),
 * so that status and the upgrade policy stop counting on it; an I/O error is
 * not taken as proof and changes nothing.
 */
static int bootable(struct boot *b, int i, struct fw_err *err)
{
	struct dev_record *rec = &b->rec[i], inv;
	struct fw_err *why = &b->why[i];

	if (b->checked[i])
		return b->checked[i] > 0;
	b->checked[i] = -1;
	if (!rec->valid && order[i] == DEV_SLOT_GOLDEN && strcmp(rec->note, "no record") == 0) {
		fw_err_set(why, FW_EXIT_REJECTED, "none placed");
		return 0;
	}
	if (!rec->valid) {
		fw_err_set(why, FW_EXIT_REJECTED, "record not valid (%s)", rec->note);
		return 0;
	}
	if (!dev_record_bootable(rec, b->st.rollback_index)) {
		fw_err_set(why, FW_EXIT_REJECTED, "%s has rollback index %llu, below the device's %llu", rec->version,
			   (unsigned long long)rec->rollback_index, (unsigned long long)b->st.rollback_index);
		return 0;
	}
	if (older_than_golden(b, i)) {
		fw_err_set(why, FW_EXIT_REJECTED, "%s is older than the golden system %s", rec->version,
			   b->rec[2].version);
		return 0;
	}
	if (dev_slot_check(b->r, order[i], rec, why) == 0) {
		b->checked[i] = 1;
		return 1;
	}
	if (why->code != FW_EXIT_REJECTED)
		return 0;
	memset(&inv, 0, sizeof(inv));
	snprintf(inv.note, sizeof(inv.note), "failed its check at boot: %s", why->msg);
	if (dev_record_save(b->r, order[i], &inv, err) < 0)
		return -1;
	fw_err_wrap(why, "%s failed its check", rec->version);
	*rec = inv;
	return 0;
}

/* The first candidate after i that boots and is not on trial itself: where a failed trial rolls back to. */
static int good_after(struct boot *b, int i, struct fw_err *err)
{
	for (int j = i + 1; j < N_CAND; j++) {
		int ok = bootable(b, j, err);
		if (ok < 0)
			return -2;
		if (ok && !b->rec[j].trial)
			return j;
	}
	return -1;
}

/* Candidate i's trial budget is spent: mark it not valid, so no boot starts it again. */
static int roll_back(struct boot *b, int i, int to, struct fw_err *err)
{
	struct dev_record inv;
	char failed[FW_VERSION_MAX_LEN + 1];

	snprintf(failed, sizeof(failed), "%s", b->rec[i].version);
	memset(&inv, 0, sizeof(inv));
	snprintf(inv.note, sizeof(inv.note), "rolled back: %s was not marked good within %u boots", failed, b->budget);
	if (dev_record_save(b->r, order[i], &inv, err) < 0)
		return -1;
	b->rec[i] = inv;
	b->checked[i] = -1;
	fw_err_set(&b->why[i], FW_EXIT_REJECTED, "%s", inv.note);
	b->st.last.result = DEV_RESULT_ROLLED_BACK;
	snprintf(b->st.last.message, sizeof(b->st.last.message),
		 "%s was not marked good within %u boots: rolled back to %s %s", failed, b->budget,
		 dev_slot_name(order[to]), b->rec[to].version);
	b->st.trial_boots = 0;
	return 0;
}

/* The candidate to boot, or -1; -2 on an error writing. */
static int choose(struct boot *b, struct dev_boot_result *res, struct fw_err *err)
{
	int ok;

	/* A golden system just placed is booted first, and taken as good. */
	if (b->st.golden_next) {
		b->st.golden_next = 0;
		if ((ok = bootable(b, 2, err)) < 0)
			return -2;
		if (ok) {
			snprintf(b->why[0].msg, sizeof(b->why[0].msg), "not started: a golden system was just placed");
			return 2;
		}
	}
	for (int i = 0; i < N_CAND; i++) {
		int to;

		if ((ok = bootable(b, i, err)) < 0)
			return -2;
		if (!ok)
			continue;
		if (!b->rec[i].trial)
			return i;
		if (b->st.trial_boots < b->budget) {
			/* Spend an attempt, durably, before the image starts: a crash in it counts. */
			b->st.trial_boots++;
			res->trial = 1;
			return i;
		}
		if ((to = good_after(b, i, err)) == -2)
			return -2;
		if (to < 0) {
			/* Nothing good to roll back to: an image on trial still beats no image. */
			snprintf(res->trial_note, sizeof(res->trial_note),
				 "%s was not marked good within %u boots, and there is no good system to roll back to",
				 b->rec[i].version, b->budget);
			return i;
		}
		if (roll_back(b, i, to, err) < 0)
			return -2;
		snprintf(res->trial_note, sizeof(res->trial_note), "%s", b->st.last.message);
	}
	return -1;
}

int dev_boot(struct dev_root *r, struct dev_boot_result *res, struct fw_err *err)
{
	static struct boot b;
	struct dev_state old;
	int chosen;

	memset(res, 0, sizeof(*res));
	memset(&b, 0, sizeof(b));
	res->booted = DEV_BOOTED_NONE;
	b.r = r;
	b.budget = r->cfg.trial_boots;   /* 1 or more: dev_settings' range */
	remove_leftovers(r);
	if (dev_state_load(r, &b.st, err) < 0)
		return -1;
	old = b.st;
	for (int i = 0; i < N_CAND; i++)
		dev_record_load(r, order[i], &b.rec[i]);
	if (b.st.last.result == DEV_RESULT_IN_PROGRESS) {
		b.st.last.result = DEV_RESULT_WRITE_FLASH_FAILED;
		snprintf(b.st.last.message, sizeof(b.st.last.message),
			 "interrupted before it finished (power loss?): run the upgrade again");
	}
	if ((chosen = choose(&b, res, err)) == -2)
		return -1;
	b.st.booted = DEV_BOOTED_NONE;
	b.st.booted_version[0] = '\0';
	b.st.booted_generation = 0;
	b.st.booted_digest[0] = '\0';
	b.st.boot_note[0] = '\0';
	if (chosen >= 0) {
		b.st.booted = order[chosen];
		snprintf(b.st.booted_version, sizeof(b.st.booted_version), "%s", b.rec[chosen].version);
		b.st.booted_generation = b.rec[chosen].generation;
		fw_hex(b.rec[chosen].digest, FW_DIGEST_LEN, b.st.booted_digest);
		if (chosen > 0)
			snprintf(b.st.boot_note, sizeof(b.st.boot_note), "primary: %.200s; booting the %s", b.why[0].msg,
				 chosen == 1 ? "secondary" : "golden system");
	}
	/* Both good system images carry at least this index: no fallback or rollback can fall below it. */
	if (b.rec[0].valid && b.rec[1].valid && !b.rec[0].trial && !b.rec[1].trial) {
		uint64_t floor = b.rec[0].rollback_index < b.rec[1].rollback_index ? b.rec[0].rollback_index
										 : b.rec[1].rollback_index;
		if (floor > b.st.rollback_index)
			b.st.rollback_index = floor;
	}
	/* Write only what changed: a plain reboot leaves the state file alone. */
	if (memcmp(&b.st, &old, sizeof(b.st)) != 0 && dev_state_save(r, &b.st, err) < 0)
		return -1;
	res->rollback_index = b.st.rollback_index;
	res->trial_boots = b.st.trial_boots;
	res->budget = b.budget;
	if (chosen < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "no bootable image: primary: %s; secondary: %s; golden: %s; install one with "
				  "'fwctl upgrade all PKG'", b.why[0].msg, b.why[1].msg, b.why[2].msg);
	res->booted = b.st.booted;
	snprintf(res->version, sizeof(res->version), "%s", b.st.booted_version);
	res->generation = b.st.booted_generation;
	snprintf(res->note, sizeof(res->note), "%s", b.st.boot_note);
	return 0;
}
