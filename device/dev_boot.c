/* dev_boot: pick the slot to boot by record and bytes, and remember it in the state. */
#include "dev_boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/dev_file.h"
#include "device/dev_slot.h"
#include "device/dev_state.h"
#include "base/msg.h"
#include "base/outfile.h"

/* Temporaries a power cut left behind: the device lock is held, nobody is writing them. */
static void remove_leftovers(struct dev_root *r)
{
	char *records = dev_root_file(r, DEV_RECORD_DIR);

	outfile_remove_leftovers(r->dir);
	if (records != NULL)
		outfile_remove_leftovers(records);
	free(records);
}

int dev_boot(struct dev_root *r, struct fw_err *err)
{
	static const enum fw_target order[] = { FW_TARGET_PRI, FW_TARGET_SEC };
	struct dev_record rec[2];
	struct fw_err why[2] = { { 0, "" }, { 0, "" } };
	struct dev_state st;
	int chosen = -1, changed = 0;

	remove_leftovers(r);
	if (dev_state_load(r, &st, err) < 0)
		return -1;
	for (int i = 0; i < 2 && chosen < 0; i++) {
		dev_record_load(r, order[i], &rec[i]);
		if (dev_slot_check(r, order[i], &rec[i], &why[i]) == 0)
			chosen = i;
	}
	if (chosen == 1)
		msg_note("boot: pri: %s; booting the secondary", why[0].msg);
	if (st.last.result == DEV_RESULT_IN_PROGRESS) {
		changed = 1;
		st.last.result = DEV_RESULT_WRITE_FLASH_FAILED;
		snprintf(st.last.message, sizeof(st.last.message),
			 "interrupted before it finished (power loss?): run the upgrade again");
	}
	if (chosen < 0) {
		changed |= st.booted != DEV_BOOTED_NONE;
		st.booted = DEV_BOOTED_NONE;
		st.booted_version[0] = '\0';
		st.booted_generation = 0;
	} else {
		const struct dev_record *b = &rec[chosen];
		changed |= st.booted != (int)order[chosen] || strcmp(st.booted_version, b->version) != 0 ||
			   st.booted_generation != b->generation || b->rollback_index > st.rollback_index;
		st.booted = (int)order[chosen];
		snprintf(st.booted_version, sizeof(st.booted_version), "%s", b->version);
		st.booted_generation = b->generation;
		if (b->rollback_index > st.rollback_index)
			st.rollback_index = b->rollback_index;
	}
	/* Write only what changed: a plain reboot leaves the state file alone. */
	if (changed && dev_state_save(r, &st, err) < 0)
		return -1;
	if (chosen < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "no bootable image: primary: %s; secondary: %s; install one with 'fwctl upgrade all PKG'",
				  why[0].msg, why[1].msg);
	printf("booted %s %s (generation %u)\n", fw_target_name(order[chosen]), rec[chosen].version,
	       rec[chosen].generation);
	return 0;
}
