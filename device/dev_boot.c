/* dev_boot: pick the slot to boot by record, rollback index, golden floor, trial budget and bytes; remember it. */
#include "dev_boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/outfile.h"
#include "device/dev_board.h"
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
	/* The golden floor with no golden image left (a golden install cut short) and no system image at or
	 * above it: not kept by the boot step, which would otherwise start nothing (a system beats no system) */
	int floor_waived;
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
	return order[i] != DEV_SLOT_GOLDEN && !b->floor_waived && dev_below_golden(&b->rec[2], b->rec[i].version);
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
			   dev_golden_floor(&b->rec[2]));
		return 0;
	}
	if (dev_slot_check(b->r, order[i], rec, why) == 0) {
		b->checked[i] = 1;
		return 1;
	}
	if (why->code != FW_EXIT_REJECTED)
		return 0;
	dev_record_invalid(order[i], rec, &inv, "failed its check at boot: %s", why->msg);
	if (dev_record_save(b->r, order[i], &inv, err) < 0)
		return -1;
	fw_err_wrap(why, "%s failed its check", rec->version);
	*rec = inv;
	return 0;
}

int dev_boot_fallback(const struct dev_record rec[DEV_SLOT_COUNT], uint64_t rollback_index, unsigned skip)
{
	const struct dev_record *g = &rec[DEV_SLOT_GOLDEN];

	for (int i = 0; i < N_CAND; i++) {
		const struct dev_record *c = &rec[order[i]];

		if ((skip & (1u << order[i])) || !c->valid || c->trial || !dev_record_bootable(c, rollback_index))
			continue;
		if (order[i] != DEV_SLOT_GOLDEN && dev_below_golden(g, c->version))
			continue;
		return order[i];
	}
	return -1;
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

static struct boot cur;   /* big: records and errors */

/* Load the state and the records, and turn an upgrade a power cut left "inProgress" into writeFlashFailed. */
static int begin(struct dev_root *r, struct dev_boot_result *res, struct dev_state *old, struct fw_err *err)
{
	memset(res, 0, sizeof(*res));
	memset(&cur, 0, sizeof(cur));
	res->booted = DEV_BOOTED_NONE;
	cur.r = r;
	cur.budget = r->cfg.trial_boots;   /* 1 or more: dev_settings' range */
	remove_leftovers(r);
	if (dev_state_load(r, &cur.st, err) < 0)
		return -1;
	*old = cur.st;
	for (int i = 0; i < N_CAND; i++)
		dev_record_load(r, order[i], &cur.rec[i]);
	cur.floor_waived = !cur.rec[2].valid && dev_golden_floor(&cur.rec[2]) != NULL &&
			   !(cur.rec[0].valid && !dev_below_golden(&cur.rec[2], cur.rec[0].version)) &&
			   !(cur.rec[1].valid && !dev_below_golden(&cur.rec[2], cur.rec[1].version));
	/* Nobody runs an upgrade at boot: one still in progress was cut short by a restart or a kill. */
	if (cur.st.last.result == DEV_RESULT_IN_PROGRESS) {
		cur.st.last.result = DEV_RESULT_ABNORMAL_RESET;
		if (cur.st.last.cancel == DEV_CANCEL_CANCELLING)
			cur.st.last.cancel = DEV_CANCEL_FAILED;
		snprintf(cur.st.last.message, sizeof(cur.st.last.message),
			 "interrupted before it finished (a restart or a power loss): run the upgrade again");
	}
	return 0;
}

/* Remember what runs (candidate `chosen`, or none), raise the rollback floor, save the state if it changed. */
static int finish(const struct dev_state *old, int chosen, struct dev_boot_result *res, struct fw_err *err)
{
	cur.st.booted = DEV_BOOTED_NONE;
	cur.st.booted_version[0] = '\0';
	cur.st.booted_generation = 0;
	cur.st.booted_digest[0] = '\0';
	cur.st.partner_digest[0] = '\0';
	cur.st.boot_note[0] = '\0';
	if (chosen >= 0) {
		cur.st.booted = order[chosen];
		snprintf(cur.st.booted_version, sizeof(cur.st.booted_version), "%s", cur.rec[chosen].version);
		cur.st.booted_generation = cur.rec[chosen].generation;
		fw_hex(cur.rec[chosen].digest, FW_DIGEST_LEN, cur.st.booted_digest);
		if (chosen < 2 && cur.rec[1 - chosen].valid)
			fw_hex(cur.rec[1 - chosen].digest, FW_DIGEST_LEN, cur.st.partner_digest);
		if (chosen > 0)
			snprintf(cur.st.boot_note, sizeof(cur.st.boot_note), "primary: %.200s; booting the %s", cur.why[0].msg,
				 chosen == 1 ? "secondary" : "golden system");
		if (cur.floor_waived && chosen < 2)
			snprintf(cur.st.boot_note, sizeof(cur.st.boot_note), "below the golden floor %s, whose image is gone: "
				 "booting it all the same (place the golden system again with fwctl golden install)",
				 dev_golden_floor(&cur.rec[2]));
	}
	/* Both good system images carry at least this index: no fallback or rollback can fall below it. */
	if (cur.rec[0].valid && cur.rec[1].valid && !cur.rec[0].trial && !cur.rec[1].trial) {
		uint64_t floor = cur.rec[0].rollback_index < cur.rec[1].rollback_index ? cur.rec[0].rollback_index
										 : cur.rec[1].rollback_index;
		if (floor > cur.st.rollback_index)
			cur.st.rollback_index = floor;
	}
	/* Write only what changed: a plain reboot leaves the state file alone. */
	if (memcmp(&cur.st, old, sizeof(cur.st)) != 0 && dev_state_save(cur.r, &cur.st, err) < 0)
		return -1;
	res->rollback_index = cur.st.rollback_index;
	res->trial_boots = cur.st.trial_boots;
	res->budget = cur.budget;
	if (chosen < 0)
		return 0;
	res->booted = cur.st.booted;
	snprintf(res->version, sizeof(res->version), "%s", cur.st.booted_version);
	res->generation = cur.st.booted_generation;
	snprintf(res->note, sizeof(res->note), "%s", cur.st.boot_note);
	return 0;
}

int dev_boot(struct dev_root *r, struct dev_boot_result *res, struct fw_err *err)
{
	struct dev_state old;
	int chosen;

	if (begin(r, res, &old, err) < 0)
		return -1;
	if ((chosen = choose(&cur, res, err)) == -2)
		return -1;
	if (finish(&old, chosen, res, err) < 0)
		return -1;
	if (chosen < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "no bootable image: primary: %s; secondary: %s; golden: %s; install one with "
				  "'fwctl upgrade all PKG'", cur.why[0].msg, cur.why[1].msg, cur.why[2].msg);
	return 0;
}

int dev_boot_check(struct dev_root *r, int booted, struct dev_boot_result *res, struct fw_err *err)
{
	struct dev_bootenv env;
	struct dev_state old;
	struct dev_record inv;
	int i, ok;

	if (begin(r, res, &old, err) < 0)
		return -1;
	for (i = 0; i < N_CAND && order[i] != booted; i++)
		;
	if (i == N_CAND)
		return fw_err_set(err, FW_EXIT_IO, "the kernel command line names no fwpkg.slot=pri|sec|golden: "
				  "the boot script must pass the slot it started");
	if (dev_bootenv_load(&r->cfg.board, &env, err) < 0)
		return -1;
	/* The other system image on trial, its attempts spent, the bootloader fell back from it: roll it back. */
	for (int j = 0; j < 2; j++) {
		if (j == i || !cur.rec[j].valid || (env.good[order[j]] && env.left[order[j]] > 0))
			continue;
		if (!cur.rec[j].trial) {
			/* A good image a power cut left out of the order: back in, with its attempts whole. */
			if (dev_bootenv_mark(&r->cfg.board, order[j], 1, cur.budget, err) < 0)
				return -1;
			continue;
		}
		if (roll_back(&cur, j, i, err) < 0)
			return -1;
		snprintf(res->trial_note, sizeof(res->trial_note), "%s", cur.st.last.message);
	}
	if ((ok = bootable(&cur, i, err)) < 0)
		return -1;
	if (!ok && cur.why[i].code != FW_EXIT_REJECTED)   /* could not read it: no proof, nothing marked */
		return fw_err_set(err, cur.why[i].code, "the running %s: %s", dev_slot_name(booted), cur.why[i].msg);
	if (!ok) {
		/* It must not run: mark it bad (its record, and so the bootloader's order), and say so. */
		if (cur.rec[i].valid) {
			dev_record_invalid(booted, &cur.rec[i], &inv, "must not run: %s", cur.why[i].msg);
			if (dev_record_save(r, booted, &inv, err) < 0)
				return -1;
			cur.rec[i] = inv;
		}
		if (finish(&old, -1, res, err) < 0)
			return -1;
		return fw_err_set(err, FW_EXIT_REJECTED, "the running %s must not run: %s; marked bad: reboot, and the "
				  "bootloader starts the next image", dev_slot_name(booted), cur.why[i].msg);
	}
	if (cur.rec[i].trial && i < 2) {
		res->trial = 1;
		cur.st.trial_boots = cur.budget - (env.left[booted] < cur.budget ? env.left[booted] : cur.budget);
	} else if (i < 2 && (!env.good[booted] || env.left[booted] != cur.budget)) {
		/* A good image started: its attempts are whole again (RAUC's mark-good at every boot). */
		if (dev_bootenv_mark(&r->cfg.board, booted, 1, cur.budget, err) < 0)
			return -1;
	}
	return finish(&old, i, res, err);
}
