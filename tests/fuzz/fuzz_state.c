/* fuzz_state: libFuzzer target: the device's state file (ROOT/state.json) and slot records (ROOT/records/SLOT.json). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "device/dev_slot.h"
#include "device/dev_state.h"
#include "scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dev_root *r = scratch_root();
	static struct dev_state st;
	static struct dev_record rec;
	struct fw_err err;
	json_t *j;

	scratch_put(DEV_STATE_FILE, data, size);
	if (dev_state_load(r, &st, &err) == 0) {
		if (memchr(st.booted_version, '\0', sizeof(st.booted_version)) == NULL ||
		    memchr(st.last.message, '\0', sizeof(st.last.message)) == NULL)
			abort();
		json_decref(dev_state_to_json(&st));
		json_decref(dev_last_upgrade_to_json(&st.last));
		(void)dev_result_name(st.last.result);
	}
	scratch_put(DEV_RECORD_DIR "/pri.json", data, size);
	dev_record_load(r, 0, &rec);
	if (memchr(rec.version, '\0', sizeof(rec.version)) == NULL || memchr(rec.note, '\0', sizeof(rec.note)) == NULL)
		abort();
	j = dev_record_to_json(&rec);
	json_decref(j);
	if (rec.valid)
		(void)dev_slot_check(r, 0, &rec, &err);
	return 0;
}
