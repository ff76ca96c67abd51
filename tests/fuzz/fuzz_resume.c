/* fuzz_resume: libFuzzer target: the resume record (ROOT/upgrade.resume) and a saved chunk list (upgrade.resume.SLOT). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/sha256.h"
#include "device/dev_resume.h"
#include "device/dev_slot.h"
#include "scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dev_root *r = scratch_root();
	static struct dev_resume res;
	static struct dev_record rec[DEV_SLOT_COUNT];
	static uint8_t slot[64 * 1024];
	struct dev_resume_image im;
	struct fw_err err;
	json_t *st;

	/* The record, as the next run and status read it. */
	scratch_put(DEV_RESUME_FILE, data, size);
	if (dev_resume_load(r, &res, &err) == 1) {
		for (unsigned i = 0; i < res.n; i++)
			if (res.image[i].slot < 0 || res.image[i].slot >= DEV_SLOT_COUNT || res.image[i].kept > res.image[i].size ||
			    res.image[i].skip > res.image[i].frame_at || (!res.image[i].compressed && res.image[i].frame_at != 0))
				abort();
	}
	st = dev_resume_status(r, rec);
	json_decref(st);

	/*
	 * The same bytes as a saved chunk list of the primary slot. The image's
	 * digest is that of the bytes after the header, so the parser goes past the
	 * digest check; size and kept come from the input's tail, so they disagree
	 * with the list as a stale or forged record would.
	 */
	if (size < 12 + 8)
		return 0;
	memset(&im, 0, sizeof(im));
	im.slot = 0;
	fw_sha256(data + 12, size - 12, im.digest);
	memcpy(&im.size, data + size - 8, 4);
	memcpy(&im.kept, data + size - 4, 4);
	im.kept %= im.size + 1;   /* as dev_resume_load guarantees */
	scratch_put(DEV_RESUME_FILE ".pri", data, size);
	for (size_t i = 0; i < sizeof(slot); i++)
		slot[i] = (uint8_t)(i * 7);
	scratch_put_path(r->slot_path[0], slot, sizeof(slot) - data[12] * 97u);
	(void)dev_resume_extend(r, &im);
	if (im.kept > im.size)
		abort();
	return 0;
}
