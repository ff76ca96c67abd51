/* dev_trial: mark-good ends the trial of the running image and of the other system image of its version. */
#include "dev_trial.h"

#include <stdio.h>
#include <string.h>

#include "device/dev_slot.h"
#include "device/dev_state.h"
#include "formats/manifest.h"

int dev_mark_good(struct dev_root *r, struct dev_mark_good_out *out, struct fw_err *err)
{
	struct dev_state st;
	struct dev_record run, rec;
	char holds[2 * FW_DIGEST_LEN + 1];

	memset(out, 0, sizeof(*out));
	out->slot = DEV_BOOTED_NONE;
	if (dev_state_load(r, &st, err) < 0)
		return -1;
	if (st.booted == DEV_BOOTED_NONE)
		return fw_err_set(err, FW_EXIT_REJECTED, "nothing has booted: run 'fwctl boot' first");
	out->slot = st.booted;
	dev_record_load(r, st.booted, &run);
	if (!run.valid)
		return fw_err_set(err, FW_EXIT_REJECTED, "the %s that booted is no longer valid (%s): run 'fwctl boot'",
				  dev_slot_name(st.booted), run.note);
	/*
	 * The slot's record says what the slot holds now; the state says what
	 * booted. An upgrade without reboot rewrites the slot under the running
	 * system: that image never ran, and marking it good would let it boot
	 * with no trial, so no rollback. A state from before booted_digest
	 * existed cannot tell, and is refused too: the next boot records it.
	 */
	fw_hex(run.digest, FW_DIGEST_LEN, holds);
	if (strcmp(holds, st.booted_digest) != 0 || strcmp(run.version, st.booted_version) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "the %s now holds %s, written after the boot of %s: it has not run, so it cannot be "
				  "marked good; run 'fwctl boot' (reboot) and call mark-good from the system that starts",
				  dev_slot_name(st.booted), run.version,
				  st.booted_digest[0] ? st.booted_version : "the running system (not recorded)");
	snprintf(out->version, sizeof(out->version), "%s", run.version);
	if (!run.trial)
		return 0;
	out->was_trial = 1;
	for (int s = FW_TARGET_PRI; s <= FW_TARGET_SEC; s++) {
		dev_record_load(r, s, &rec);
		if (!rec.valid || !rec.trial || strcmp(rec.version, run.version) != 0)
			continue;
		/*
		 * The other image of its version only as it was at boot (its half of the
		 * same 'upgrade all'): one written since, even under the same version
		 * (upgrade force no-reboot sec), has not run and stays on trial.
		 */
		fw_hex(rec.digest, FW_DIGEST_LEN, holds);
		if (s != st.booted && strcmp(holds, st.partner_digest) != 0)
			continue;
		rec.trial = 0;
		if (dev_record_save(r, s, &rec, err) < 0)
			return -1;
		out->marked |= 1u << s;
	}
	st.trial_boots = 0;
	return dev_state_save(r, &st, err);
}
