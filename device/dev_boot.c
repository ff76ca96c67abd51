/* dev_boot: pick the slot to boot by record, rollback index and bytes, and remember it in the state. */
#include "dev_boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/outfile.h"
#include "device/dev_policy.h"
#include "device/dev_slot.h"

/* Temporaries a power cut left behind: the device lock is held, nobody is writing them. */
static void remove_leftovers(struct dev_root *r)
{
	char *records = dev_root_file(r, DEV_RECORD_DIR);

	outfile_remove_leftovers(r->dir);
	if (records != NULL)
		outfile_remove_leftovers(records);
	free(records);
}

/*
 * Can slot t start? 0, or -1 with why. A record whose bytes turn out wrong is
 * marked not valid (durably), so that status and the upgrade policy stop
 * counting on it; an I/O error is not taken as proof and changes nothing.
 */
static int try_slot(struct dev_root *r, enum fw_target t, struct dev_record *rec, uint64_t rollback_index,
		    struct fw_err *why, struct fw_err *err)
{
	struct dev_record inv;

	if (!rec->valid)
		return fw_err_set(why, FW_EXIT_REJECTED, "record not valid (%s)", rec->note);
	if (!dev_record_bootable(rec, rollback_index))
		return fw_err_set(why, FW_EXIT_REJECTED, "%s has rollback index %llu, below the device's %llu",
				  rec->version, (unsigned long long)rec->rollback_index,
				  (unsigned long long)rollback_index);
	if (dev_slot_check(r, t, rec, why) == 0)
		return 0;
	if (why->code != FW_EXIT_REJECTED)
		return -1;
	memset(&inv, 0, sizeof(inv));
	snprintf(inv.note, sizeof(inv.note), "failed its check at boot: %s", why->msg);
	if (dev_record_save(r, t, &inv, err) < 0)
		return -2;
	fw_err_wrap(why, "%s failed its check", rec->version);
	*rec = inv;
	return -1;
}

int dev_boot(struct dev_root *r, struct dev_boot_result *res, struct fw_err *err)
{
	static const enum fw_target order[] = { FW_TARGET_PRI, FW_TARGET_SEC };
	struct dev_record rec[2];
	struct fw_err why[2] = { { 0, "" }, { 0, "" } };
	struct dev_state st, old;
	int chosen = -1;

	memset(res, 0, sizeof(*res));
	res->booted = DEV_BOOTED_NONE;
	remove_leftovers(r);
	if (dev_state_load(r, &st, err) < 0)
		return -1;
	old = st;
	for (int i = 0; i < 2; i++)
		dev_record_load(r, order[i], &rec[i]);
	for (int i = 0; i < 2 && chosen < 0; i++) {
		int rc = try_slot(r, order[i], &rec[i], st.rollback_index, &why[i], err);
		if (rc == -2)
			return -1;
		if (rc == 0)
			chosen = i;
	}
	if (st.last.result == DEV_RESULT_IN_PROGRESS) {
		st.last.result = DEV_RESULT_WRITE_FLASH_FAILED;
		snprintf(st.last.message, sizeof(st.last.message),
			 "interrupted before it finished (power loss?): run the upgrade again");
	}
	st.booted = DEV_BOOTED_NONE;
	st.booted_version[0] = '\0';
	st.booted_generation = 0;
	st.boot_note[0] = '\0';
	if (chosen >= 0) {
		st.booted = (int)order[chosen];
		snprintf(st.booted_version, sizeof(st.booted_version), "%s", rec[chosen].version);
		st.booted_generation = rec[chosen].generation;
		if (chosen == 1)
			snprintf(st.boot_note, sizeof(st.boot_note), "primary: %.200s; booting the secondary", why[0].msg);
	}
	/* Both system images carry at least this index: neither a fallback nor a rollback can fall below it. */
	if (rec[0].valid && rec[1].valid) {
		uint64_t floor = rec[0].rollback_index < rec[1].rollback_index ? rec[0].rollback_index
									     : rec[1].rollback_index;
		if (floor > st.rollback_index)
			st.rollback_index = floor;
	}
	/* Write only what changed: a plain reboot leaves the state file alone. */
	if (memcmp(&st, &old, sizeof(st)) != 0 && dev_state_save(r, &st, err) < 0)
		return -1;
	res->rollback_index = st.rollback_index;
	if (chosen < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "no bootable image: primary: %s; secondary: %s; install one with 'fwctl upgrade all PKG'",
				  why[0].msg, why[1].msg);
	res->booted = st.booted;
	snprintf(res->version, sizeof(res->version), "%s", st.booted_version);
	res->generation = st.booted_generation;
	snprintf(res->note, sizeof(res->note), "%s", st.boot_note);
	return 0;
}
