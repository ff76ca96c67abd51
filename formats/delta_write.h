/* delta_write: the base images a delta package is built against, taken from the older package it updates. */
#ifndef FW_DELTA_WRITE_H
#define FW_DELTA_WRITE_H

#include <stdint.h>

#include "base/fw_err.h"
#include "manifest.h"

struct delta_bases {
	const uint8_t *map[FW_MAX_PAYLOADS];  /* payloads[i]'s base image, mapped read-only; NULL: not a delta */
	/* The older package's images those are, by its payload index (one may be the base of two). */
	const uint8_t *omap[FW_MAX_PAYLOADS];
	uint64_t olen[FW_MAX_PAYLOADS];
};

/*
 * Read the older package old_path (every chunk verified against its own
 * manifest; its signature is not checked: it is the builder's own input) and,
 * for each system image of m (pri, sec; the bootloader travels whole) whose
 * product has a system image there, make payloads[i] a delta against the
 * old image of the other system slot (the old primary for the secondary and
 * the other way round: a device reads a base from the slot it does not
 * write), else of the same slot: m->payloads[i].zstd.base gets the old image's digest,
 * size and chunk size and `margin` (0: FW_DELTA_MARGIN_DEFAULT), and b->map[i]
 * its bytes (decoded into an unlinked temporary file, mapped). An older
 * package that is itself a delta is refused: its images need their own base.
 * Returns how many images became deltas (0 is no error), or -1 with err.
 */
int delta_bases_load(const char *old_path, struct fw_manifest *m, uint32_t margin, unsigned threads,
		     struct delta_bases *b, struct fw_err *err);

void delta_bases_free(struct delta_bases *b);

#endif
