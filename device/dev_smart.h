/* dev_smart: smart upgrade's settings, what the device remembers of it, and what is due when (pure decisions). */
#ifndef FW_DEV_SMART_H
#define FW_DEV_SMART_H

#include <stdint.h>

#include <jansson.h>

#include "base/fw_err.h"
#include "formats/catalog.h"
#include "formats/manifest.h"

#define DEV_SMART_FILE "smart.json"              /* ROOT/smart.json: the smart state below */
#define DEV_SMART_INTERVAL_MIN 60
#define DEV_SMART_INTERVAL_MAX (365LL * 86400)
#define DEV_SMART_BACKOFF_FIRST 60               /* seconds before the first retry after a netError ... */
#define DEV_SMART_BACKOFF_MAX (6 * 3600)         /* ... doubling up to this, and never beyond the interval */
#define DEV_SMART_ANY_TIME (-1)                  /* no download window / install as soon as downloaded */
#define DEV_SMART_URL_MAX FW_CATALOG_URL_MAX

/* The settings (the "smart" object of ROOT/config.json; fwctl smart config). */
struct dev_smart_config {
	int enabled;                          /* smart tick does nothing when 0 */
	char server[DEV_SMART_URL_MAX + 1];   /* the catalog's URL; its signature is URL.minisig; "" unset */
	int64_t interval;                     /* seconds between checks */
	int window_start, window_end;         /* minutes of the day (UTC) downloads may run in, start
					       * included, end not; crossing midnight when end < start;
					       * DEV_SMART_ANY_TIME: any time */
	int install_at;                       /* minute of the day (UTC) to install; DEV_SMART_ANY_TIME: at once */
};

/* In config.json and status --json these settings are written and read, and their defaults set, by dev_settings' table. */

/* What the last check said (fwctl(8), "SMART UPGRADE"). */
enum dev_check_result {
	DEV_CHECK_NONE,
	DEV_CHECK_NEED_UPDATE,
	DEV_CHECK_VERSION_OPTIMAL,
	DEV_CHECK_NET_ERROR,
	DEV_CHECK_EXPIRED,            /* catalogExpired: a freeze attack, or a server nobody updates */
	DEV_CHECK_OLD_SERIAL,         /* catalogOld: lower serial than the last accepted (a replay) */
	DEV_CHECK_UNSIGNED,           /* catalogUnsigned: no signature file */
	DEV_CHECK_SIGNATURE_FAILED,   /* signatureFailed: not signed by a trusted key, or a bad signature */
	DEV_CHECK_TOO_LARGE,          /* catalogTooLarge: over FW_CATALOG_MAX_BYTES */
	DEV_CHECK_INVALID,            /* catalogInvalid: signed, but not a catalog this device can use */
	DEV_CHECK_SYSTEM_ERROR,
	DEV_CHECK_SERVER_LIMIT,       /* serverSpecUpLimit: the server said it is busy (HTTP 429/503); Retry-After honoured */
	DEV_CHECK_CERT_OUT_DATE,      /* CertOutDate: the server's certificate expired or is not valid yet */
};
const char *dev_check_result_name(enum dev_check_result r);

/* A release the device is to fetch and install next, as the last accepted catalog named it. */
struct dev_smart_release {
	char version[FW_VERSION_MAX_LEN + 1];
	char url[FW_CATALOG_MAX_URLS][DEV_SMART_URL_MAX + 1];
	unsigned n_urls;
	uint64_t length;
	uint8_t manifest_sha256[FW_DIGEST_LEN];
	/* What the catalog says of it besides, which the device decided on: the
	 * manifest must say the same (dev_download), else fileNotMatch. */
	char product[FW_NAME_MAX + 1];
	uint32_t generation;
	char bridge_from[FW_VERSION_MAX_LEN + 1];
	char bridge_down[FW_VERSION_MAX_LEN + 1];
	uint64_t rollback_index;
	int requires_tpm;
	/* A delta package of the release (the catalog's deltas, format version 3): url, length and
	 * manifest_sha256 above are the delta's; the full package is full_length bytes. */
	int delta;
	char base_version[FW_VERSION_MAX_LEN + 1];
	uint64_t full_length;
};

/*
 * A release this device refused for what the package is: its manifest says
 * otherwise than the catalog (fileNotMatch: another product, generation...),
 * no trusted signature (signatureFailed), or the install's policy refused
 * it (policyRefused, which holds while the device runs the version it ran
 * then). The check never
 * chooses it again (its manifest_sha256 names it), so a refused package is
 * not fetched at every interval. A fixed package has a new manifest. Not
 * here: a server that serves another file than the catalog names, bytes
 * that fail their chunk digests (the file on the server can be put right),
 * an unpack hook's refusal (the hook is the administrator's to change).
 */
struct dev_smart_refusal {
	char version[FW_VERSION_MAX_LEN + 1];
	uint8_t manifest_sha256[FW_DIGEST_LEN];
	char result[32];
	char running[FW_VERSION_MAX_LEN + 1];   /* the device's version when it refused */
};
#define DEV_SMART_REFUSED_MAX 16   /* the newest ones kept */

/* ROOT/smart.json: written durably after each step of check, download and install. */
struct dev_smart_state {
	/* the last check */
	int64_t check_time;                        /* 0: never */
	enum dev_check_result check_result;
	char check_message[512];
	char available[FW_VERSION_MAX_LEN + 1];    /* the release this device is to run ("" none) */
	char description[FW_DESCRIPTION_MAX + 1];  /* its description in the catalog (the upgrade description) */
	/* the catalog's recommended patch for the release the device is to run (or runs): a .wmopkg */
	int has_patch;
	char patch_name[FW_PKG_NAME_MAX + 1];
	char patch_version[FW_VERSION_MAX_LEN + 1];
	uint64_t patch_length;
	char patch_description[FW_DESCRIPTION_MAX + 1];
	int64_t next_check;                        /* no check before this (a retry's backoff); 0: due */
	unsigned check_failures;                   /* netErrors in a row */
	/* the last accepted catalog */
	int has_serial;
	uint64_t serial;
	int64_t expires;
	/* the next step: the release to fetch and install next (the bridge first, when one is needed) */
	int has_step;
	struct dev_smart_release step;
	/* its download (ROOT/download/) */
	uint64_t dl_bytes;                         /* bytes of step on disk, fsync'd */
	int dl_complete;                           /* all of it, verified; waiting for the install time */
	int64_t dl_complete_time;
	int64_t dl_time;                           /* the last download attempt's end */
	uint64_t dl_speed;                         /* its bytes per second */
	char dl_etag[128];                         /* the server's identity of the file, to resume across runs */
	long long dl_mtime, dl_size;
	char dl_result[32];                        /* "" none, "success", "netError", "fileNotMatch", ... */
	char dl_message[512];
	unsigned dl_failures;                      /* netErrors in a row */
	int64_t dl_retry_after;
	/* the last install smart tick ran */
	int64_t install_time;                      /* 0: none */
	char install_result[32];
	char install_version[FW_VERSION_MAX_LEN + 1];
	/* the one-shot schedule (fwctl smart schedule download at DATE [reboot at DATE]); 0: none */
	int64_t sched_download;                    /* check and download at this time (not before), the window aside */
	int64_t sched_reboot;                      /* install at this time (and retry a failed download); 0: by hand */
	int sched_dl_done;                         /* the scheduled download ran ... */
	int sched_dl_failed;                       /* ... and failed (retried at the reboot time) */
	int sched_reboot_done;                     /* the scheduled install ran, or gave up */
	char sched_reboot_result[16];              /* "succeeded", "failed", "" */
	/* releases refused for good, oldest first */
	size_t n_refused;
	struct dev_smart_refusal refused[DEV_SMART_REFUSED_MAX];
};

struct dev_root;
/* A missing file loads as a fresh state; -1 with err when it is unreadable or malformed. */
int dev_smart_load(const struct dev_root *r, struct dev_smart_state *s, struct fw_err *err);
int dev_smart_save(const struct dev_root *r, const struct dev_smart_state *s, struct fw_err *err);
/*
 * Forget the serial of the last accepted catalog (locked root), so that the
 * next catalog that meets the trust policy sets it, whatever its serial: the
 * administrator's way back when a catalog server starts over from a lower
 * serial. *had says whether there was one, *old which. The step and its
 * download stay.
 */
int dev_smart_reset_serial(const struct dev_root *r, int *had, uint64_t *old, struct fw_err *err);
json_t *dev_smart_state_to_json(const struct dev_smart_state *s);

/*
 * What status --json shows as "smart" (fwctl(8), "SMART UPGRADE"), but for the settings (its "config",
 * dev_settings_smart_json): the last check, the
 * accepted catalog, the next release, the download's progress, the scheduled times at `now`, the last install.
 */
json_t *dev_smart_status_json(const struct dev_smart_config *c, const struct dev_smart_state *s, int64_t now,
			      int on_trial);

/* A fresh device's state: never checked, nothing to fetch. */
void dev_smart_state_init(struct dev_smart_state *s);

/* Remember the step as refused with result on a device running `running` (the oldest refusal goes when full). */
void dev_smart_refuse_step(struct dev_smart_state *s, const char *result, const char *running);
/* Is a result one that refuses the package for good (signatureFailed, policyRefused)? */
int dev_smart_result_refuses(const char *result);
/* Does a refusal still hold on a device running `running`? */
int dev_smart_refusal_holds(const struct dev_smart_refusal *f, const char *running);

/* Forget the one-shot schedule (a download or install by hand, smart upgrade turned off, a new schedule). */
void dev_smart_unschedule(struct dev_smart_state *s);
/* Is a one-shot schedule set and not over? */
int dev_smart_scheduled(const struct dev_smart_state *s);
/* When the schedule wants the download now: its download time, else (that one failed) its reboot time; -1 none. */
int64_t dev_smart_sched_download_at(const struct dev_smart_state *s);

/* Forget the step and its download's progress (not the file: dev_download_discard). */
void dev_smart_forget_step(struct dev_smart_state *s);

/* ---- decisions: pure functions of settings, state and the time ---- */

enum dev_smart_action { DEV_SMART_NOTHING, DEV_SMART_CHECK, DEV_SMART_DOWNLOAD, DEV_SMART_INSTALL };
const char *dev_smart_action_name(enum dev_smart_action a);

struct dev_smart_plan {
	enum dev_smart_action due;   /* what to do now; check before download before install */
	int64_t next_check;          /* when each is due next (now when due now); -1: not scheduled */
	int64_t next_download;
	int64_t next_install;
};

/*
 * What is due at `now`, and when each step is due next. A check: smart
 * upgrade on with a server set, and now at or past the last check + the
 * interval (at once when never checked), or past next_check when that is
 * earlier (0 after an install: at once, so a bridge's target is found; a
 * backoff after netError, never longer than the interval). A download: a
 * step not downloaded yet, now inside the download window and past its retry
 * backoff. An install: the download complete, now at or past the first
 * install-at time at or after it completed (at once without one), and no
 * system image on trial (`on_trial`: it waits for mark-good). A one-shot
 * schedule (dev_smart_scheduled) overrides the window and the install time:
 * at its download time a check (unless one ran since) and the download; a
 * download that failed is tried again at its reboot time; the install at
 * the reboot time, or never by itself without one (fwctl smart install).
 * `skip`
 * (1 << action) leaves out the actions this tick already ran.
 */
void dev_smart_plan(const struct dev_smart_config *c, const struct dev_smart_state *s, int64_t now, int on_trial,
		    unsigned skip, struct dev_smart_plan *p);

/* The wait after the nth netError in a row (n >= 1): 60 s doubling, at most 6 h and at most the interval. */
int64_t dev_smart_backoff(unsigned n, int64_t interval);
/* The wait after the nth failure in a row: a busy server's Retry-After (seconds, 0 none) when longer than the backoff, at most the interval. */
int64_t dev_smart_retry_wait(unsigned n, int64_t interval, long retry_after);

/* "HH:MM" (00:00 to 23:59) into minutes of the day; -1 if malformed. */
int dev_smart_parse_tod(const char *s);
/* The first time >= t whose time of day (UTC) is `minute`. */
int64_t dev_smart_next_tod(int64_t t, int minute);
/* Is t inside the window [start, end) (minutes of the day, UTC; start == end or DEV_SMART_ANY_TIME: always)? */
int dev_smart_in_window(int64_t t, int start, int end);

/*
 * The rollout bucket of a device for a release, 0 to 99: the first 8 bytes
 * of SHA-256("DEVICE_ID\nPRODUCT\nVERSION") as a big-endian integer, modulo
 * 100. A device takes a release whose rollout is R when its bucket is below R:
 * 0 none, 100 all. (sh: printf '%s\n%s\n%s' ID PRODUCT VERSION | sha256sum.)
 */
unsigned dev_smart_rollout_bucket(const char *device_id, const char *product, const char *version);

/* The clock: $FWCTL_NOW (ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" or seconds since the epoch; for tests) or the real one. */
int dev_smart_now(int64_t *now, struct fw_err *err);

#endif
