/* dev_state: what the device remembers between runs: rollback index, what booted, the last upgrade. */
#ifndef FW_DEV_STATE_H
#define FW_DEV_STATE_H

#include <stdint.h>

#include <jansson.h>

#include "device/dev_root.h"
#include "base/fw_err.h"
#include "formats/manifest.h"
#include "formats/version.h"

enum dev_result {
	DEV_RESULT_NONE,            /* no upgrade yet */
	DEV_RESULT_SUCCESS,
	DEV_RESULT_SIGNATURE_FAILED,
	DEV_RESULT_POLICY_REFUSED,
	DEV_RESULT_FILE_CHECK_FAILED,
	DEV_RESULT_WRITE_FLASH_FAILED,
	DEV_RESULT_FILE_NOT_MATCH,
	DEV_RESULT_NET_ERROR,
	DEV_RESULT_CANCELLED,
	DEV_RESULT_SYSTEM_ERROR,
	DEV_RESULT_IN_PROGRESS,     /* written before the first slot; the boot step turns a leftover into abnormalReset */
	DEV_RESULT_ROLLED_BACK,     /* the new system image was not marked good within its boot budget */
	DEV_RESULT_SECURITY_VIOLATION, /* the unpack hook refused the package (exit 1) */
	DEV_RESULT_ABNORMAL_RESET,  /* cut short: the device restarted, or fwctl was killed, while it ran */
	DEV_RESULT_SERVER_LIMIT,    /* the server said it is busy (HTTP 429/503): serverSpecUpLimit */
	DEV_RESULT_CERT_OUT_DATE,   /* the server's certificate expired or is not valid yet: CertOutDate */
};

/* The field's "Cancellation status" of the last upgrade: did a user's stop (SIGINT, SIGTERM) take? */
enum dev_cancel {
	DEV_CANCEL_NONE,            /* nobody asked ("-") */
	DEV_CANCEL_CANCELLING,      /* asked; the slots are being left resumable */
	DEV_CANCEL_SUCCESSFUL,      /* stopped: upgradeCancelled recorded, resumable */
	DEV_CANCEL_FAILED,          /* asked too late (the upgrade had finished) or the stop could not be recorded */
};

/* A transport failure's result: serverSpecUpLimit and CertOutDate by the error's kind, else netError (FW_EXIT_NET) or systemError. */
enum dev_result dev_result_of_net(const struct fw_err *err);
/* One of those three network results: what was fetched is kept for a resume. */
int dev_result_network(enum dev_result r);

#define DEV_BOOTED_NONE (-1)

struct dev_last_upgrade {
	enum dev_result result;
	long long time;
	char target[8];
	char source[600];
	char version[FW_VERSION_MAX_LEN + 1];  /* the package's, "" before its manifest was read */
	char message[512];
	char hook_stderr[1025];    /* the unpack hook's standard error, capped; "" without a hook */
	unsigned installed;        /* 1 << fw_target for each slot this upgrade committed */
	unsigned not_installed;    /* ... and for each it planned and did not (slot left not valid or as it was) */
	enum dev_cancel cancel;
};

/* ROOT/state.json */
struct dev_state {
	uint64_t rollback_index;   /* the highest rollback index of any image that booted */
	int booted;                /* an enum fw_target, or DEV_BOOTED_NONE */
	char booted_version[FW_VERSION_MAX_LEN + 1];
	uint32_t booted_generation;
	/* SHA-256 (hex) of the booted image's chunk list, as its record said at boot: the image that runs,
	 * whatever an upgrade without reboot wrote into its slot since; "" when none booted */
	char booted_digest[2 * FW_DIGEST_LEN + 1];
	/* The same for the other system image (sec when pri booted, pri when sec did) as its record said at
	 * boot: mark-good ends its trial with the booted one's only if its slot still holds it; "" none */
	char partner_digest[2 * FW_DIGEST_LEN + 1];
	char boot_note[256];       /* why the boot step did not start the primary; "" when it did */
	unsigned trial_boots;      /* boots spent by the image on trial since it was written */
	int golden_next;           /* a golden system was just placed: the next boot starts it */
	struct dev_last_upgrade last;
};

const char *dev_result_name(enum dev_result r);
/* "cancelling", "successful", "failed"; NULL for DEV_CANCEL_NONE. */
const char *dev_cancel_name(enum dev_cancel c);

/* Load; a missing state file loads as a fresh device. -1 only when the file is unreadable. */
int dev_state_load(const struct dev_root *r, struct dev_state *st, struct fw_err *err);
int dev_state_save(const struct dev_root *r, const struct dev_state *st, struct fw_err *err);
json_t *dev_state_to_json(const struct dev_state *st);
json_t *dev_last_upgrade_to_json(const struct dev_last_upgrade *l);

#endif
