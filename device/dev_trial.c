/* dev_trial: mark-good ends the trial of the running image and of the other system image of its version; mark-bad rolls back. */
#include "dev_trial.h"

#include <stdio.h>
#include <string.h>

#include "device/dev_board.h"
#include "device/dev_boot.h"
#include "device/dev_slot.h"
#include "device/dev_state.h"
#include "formats/manifest.h"

/*
 * The state and the record of the image that runs, for mark-good and
 * mark-bad (`mark`: "good" or "bad", for the messages): -1 with err
 * (FW_EXIT_REJECTED) when nothing booted, or the slot no longer holds what booted.
 */
static int running(struct dev_root *r, const char *mark, struct dev_state *st, struct dev_record *run,
		   struct fw_err *err)
{
	char holds[2 * FW_DIGEST_LEN + 1];

	/* What records the boot: fwctl boot on the simulated device, boot-check after the bootloader on a board. */
	const char *boot = r->cfg.board.bootloader == DEV_BL_FILE ? "fwctl boot" : "fwctl boot-check";
	int cmdline;

	if (dev_state_load(r, st, err) < 0)
		return -1;
	if (st->booted == DEV_BOOTED_NONE)
		return fw_err_set(err, FW_EXIT_REJECTED, "nothing has booted: run '%s' first", boot);
	/*
	 * On a board the state says what the last boot-check found; the kernel
	 * command line says what runs now. Until boot-check has run after a
	 * boot, they can differ (the bootloader gave up on a trial and started
	 * the other slot): marking the slot the state names would judge an
	 * image that does not run, and mark-good would send a failed trial back
	 * to the head of the boot order with its attempts whole.
	 */
	if (r->cfg.board.bootloader != DEV_BL_FILE) {
		if (dev_slot_running(r, &cmdline, err) < 0)
			return -1;
		if (cmdline != st->booted)
			return fw_err_set(err, FW_EXIT_REJECTED, "the %s runs (kernel command line), but the last boot-check "
					  "recorded the %s: run 'fwctl boot-check' first, then mark-%s",
					  dev_slot_name(cmdline), dev_slot_name(st->booted), mark);
	}
	dev_record_load(r, st->booted, run);
	if (!run->valid)
		return fw_err_set(err, FW_EXIT_REJECTED, "the %s that booted is no longer valid (%s): run '%s'",
				  dev_slot_name(st->booted), run->note, boot);
	/*
	 * The slot's record says what the slot holds now; the state says what
	 * booted. An upgrade without reboot rewrites the slot under the running
	 * system: that image never ran, and marking it good would let it boot
	 * with no trial, so no rollback (marking it bad would judge an image
	 * that never ran). A state from before booted_digest existed cannot
	 * tell, and is refused too: the next boot records it.
	 */
	fw_hex(run->digest, FW_DIGEST_LEN, holds);
	if (strcmp(holds, st->booted_digest) != 0 || strcmp(run->version, st->booted_version) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "the %s now holds %s, written after the boot of %s: it has not run, so it cannot be "
				  "marked %s; %s and call mark-%s from the system that starts",
				  dev_slot_name(st->booted), run->version,
				  st->booted_digest[0] ? st->booted_version : "the running system (not recorded)", mark,
				  r->cfg.board.bootloader == DEV_BL_FILE ? "run 'fwctl boot' (reboot)"
									 : "reboot the board (then fwctl boot-check)",
				  mark);
	return 0;
}

/*
 * The system images that go with the running one: itself, and the other
 * system image on trial with its version only as it was at boot (its half of
 * the same 'upgrade all'): one written since, even under the same version
 * (upgrade force no-reboot sec), has not run and is left as it is.
 */
static unsigned halves(struct dev_root *r, const struct dev_state *st, const struct dev_record *run,
		       struct dev_record rec[DEV_SLOT_COUNT])
{
	char holds[2 * FW_DIGEST_LEN + 1];
	unsigned set = 0;

	for (int s = 0; s < DEV_SLOT_COUNT; s++)
		dev_record_load(r, s, &rec[s]);
	for (int s = FW_TARGET_PRI; s <= FW_TARGET_SEC; s++) {
		if (s == st->booted) {
			set |= 1u << s;
			continue;
		}
		if (!run->trial || !rec[s].valid || !rec[s].trial || strcmp(rec[s].version, run->version) != 0)
			continue;
		fw_hex(rec[s].digest, FW_DIGEST_LEN, holds);
		if (strcmp(holds, st->partner_digest) == 0)
			set |= 1u << s;
	}
	return set;
}

int dev_mark_good(struct dev_root *r, struct dev_mark_good_out *out, struct fw_err *err)
{
	struct dev_state st;
	struct dev_record run, rec[DEV_SLOT_COUNT];
	unsigned set;

	memset(out, 0, sizeof(*out));
	out->slot = DEV_BOOTED_NONE;
	if (running(r, "good", &st, &run, err) < 0)
		return -1;
	out->slot = st.booted;
	snprintf(out->version, sizeof(out->version), "%s", run.version);
	if (!run.trial)
		return 0;
	out->was_trial = 1;
	set = halves(r, &st, &run, rec);
	for (int s = FW_TARGET_PRI; s <= FW_TARGET_SEC; s++) {
		if (!(set & (1u << s)))
			continue;
		rec[s].trial = 0;
		if (dev_record_save(r, s, &rec[s], err) < 0)
			return -1;
		out->marked |= 1u << s;
	}
	st.trial_boots = 0;
	return dev_state_save(r, &st, err);
}

int dev_mark_bad(struct dev_root *r, struct dev_mark_bad_out *out, struct fw_err *err)
{
	struct dev_state st;
	struct dev_record run, rec[DEV_SLOT_COUNT], inv;
	unsigned set;

	memset(out, 0, sizeof(*out));
	out->slot = out->next = DEV_BOOTED_NONE;
	if (running(r, "bad", &st, &run, err) < 0)
		return -1;
	out->slot = st.booted;
	snprintf(out->version, sizeof(out->version), "%s", run.version);
	if (st.booted == DEV_SLOT_GOLDEN)
		return fw_err_set(err, FW_EXIT_REJECTED, "the golden system %s runs: it is the floor no rollback goes "
				  "below and cannot be marked bad; install a system image (fwctl upgrade all PKG)",
				  run.version);
	set = halves(r, &st, &run, rec);
	/* The device must stay bootable: the next boot needs a good image besides those marked. */
	if ((out->next = dev_boot_fallback(rec, st.rollback_index, set)) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "%s %s runs and there is no other good system image to start "
				  "instead (%s: %s; golden: %s): nothing marked; install one first (fwctl upgrade, "
				  "fwctl golden install)", dev_slot_name(st.booted), run.version,
				  dev_slot_name(1 - st.booted),
				  !rec[1 - st.booted].valid ? rec[1 - st.booted].note
				  : rec[1 - st.booted].trial ? "on trial" : "below the rollback index or the golden system",
				  rec[DEV_SLOT_GOLDEN].valid ? "below the rollback index" : "none placed");
	snprintf(out->next_version, sizeof(out->next_version), "%s", rec[out->next].version);
	out->was_trial = run.trial;
	for (int s = FW_TARGET_PRI; s <= FW_TARGET_SEC; s++) {
		if (!(set & (1u << s)))
			continue;
		memset(&inv, 0, sizeof(inv));
		snprintf(inv.note, sizeof(inv.note), "marked bad (fwctl mark-bad) while %s %s ran", dev_slot_name(st.booted),
			 run.version);
		if (dev_record_save(r, s, &inv, err) < 0)
			return -1;
		out->marked |= 1u << s;
	}
	st.trial_boots = 0;
	if (run.trial) {
		/* The last upgrade's image failed its trial: rolled back, as a spent budget would have it. */
		st.last.result = DEV_RESULT_ROLLED_BACK;
		snprintf(st.last.message, sizeof(st.last.message), "%s was marked bad (fwctl mark-bad): rolled back to %s %s",
			 run.version, dev_slot_name(out->next), out->next_version);
	}
	return dev_state_save(r, &st, err);
}
