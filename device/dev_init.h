/* dev_init: make a device root: directories, trust store, slots with their records, state, then its configuration. */
#ifndef FW_DEV_INIT_H
#define FW_DEV_INIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "device/dev_root.h"
#include "signing/trust.h"

struct dev_init_opts {
	const char *trust[SIG_TRUST_MAX];   /* minisign public key files to trust */
	size_t n_trust;
	const char *version;                /* factory images of this version in every slot; NULL: empty slots */
	const char *bridge_down;
	uint64_t generation;
	uint64_t rollback_index;
};

/*
 * Create the device root r->dir with r->cfg (product, media, slot paths),
 * taking its lock. The keys are checked before anything is made, and the
 * configuration is written last: its presence is what makes a device root,
 * so a failed init leaves none. -1 with err; code FW_EXIT_USAGE for a bad key
 * file or an existing device root.
 */
int dev_init(struct dev_root *r, const struct dev_init_opts *o, struct fw_err *err);

#endif
