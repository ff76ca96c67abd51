/* dev_root: a device root directory: its layout, its boot configuration, its trust store. */
#ifndef FW_DEV_ROOT_H
#define FW_DEV_ROOT_H

#include <stddef.h>

#include <jansson.h>

#include "base/fw_err.h"
#include "device/dev_board.h"
#include "device/dev_smart.h"
#include "formats/manifest.h"
#include "signing/trust.h"

#define DEV_DEFAULT_ROOT "/var/lib/fwctl"
#define DEV_CONFIG_FILE "config.json"
#define DEV_STATE_FILE "state.json"
#define DEV_RECORD_DIR "records"
#define DEV_TRUST_DIR "trust"
#define DEV_SLOT_DIR "slots"
#define DEV_PACKAGE_DIR "packages"
#define DEV_CONFIG_FORMAT "fwctl-device"
#define DEV_MEDIA_MAX 16
#define DEV_PKG_HOOK_TIMEOUT_MAX 3600u
#define DEV_USB_LABEL "external"   /* the medium usb://PATH reads from */
#define DEV_TRIAL_BOOTS_MAX 100
#define DEV_NET_SETTING_MAX 86400   /* low-speed-time (s) at most */
#define DEV_LOW_SPEED_MAX 1073741824 /* low-speed-limit (bytes/s) at most */
#define DEV_TRANSFER_TIMEOUT_MAX 604800 /* transfer-timeout (s) at most: a week */
#define DEV_NET_RETRIES_MAX 100

/* The device's slots: the package targets, then the read-only golden system (written only by golden install). */
#define DEV_SLOT_GOLDEN FW_TARGET_COUNT
#define DEV_SLOT_COUNT (FW_TARGET_COUNT + 1)

/* "pri", "sec", "boot" or "golden". */
const char *dev_slot_name(int slot);
/* The slot a name stands for (the inverse of dev_slot_name): 0 and *slot, or -1 for any other name (NULL too). */
int dev_slot_parse(const char *name, int *slot);

struct dev_media {
	char label[FW_NAME_MAX + 1];
	char *dir;
};

/* The boot configuration (ROOT/config.json). */
struct dev_config {
	char product[FW_NAME_MAX + 1];
	int tpm;
	int allow_untrusted;
	int secure_boot;               /* unsigned packages need an unlock token for device_id too */
	char device_id[FW_NAME_MAX + 1];
	unsigned pkg_hook_timeout;     /* seconds a package's hook may run at boot */
	size_t n_media;
	struct dev_media media[DEV_MEDIA_MAX];
	char *slot[DEV_SLOT_COUNT];    /* as configured: relative to the root, or absolute */
	unsigned trial_boots;          /* the boot-attempt budget of a system image on trial */
	char *unpack_hook;             /* the security-unpack hook's absolute path; NULL: none */
	unsigned hook_timeout;         /* seconds it may run */
	char *ca_file;                 /* https: CA certificates (PEM, absolute path); NULL: the system's */
	unsigned low_speed_limit;      /* network: bytes/s below which ... */
	unsigned low_speed_time;       /* ... for this many seconds an attempt counts as failed */
	unsigned net_retries;          /* network: attempts in a row without a new byte before netError */
	unsigned transfer_timeout;     /* network: seconds any one transfer may take in all before netError */
	char *ssh_known_hosts;         /* scp, sftp: the servers' host keys (OpenSSH known_hosts); NULL: none, refused */
	char *ssh_key;                 /* scp, sftp: the device's private key to log in with; NULL: password only */
	struct dev_smart_config smart; /* smart upgrade (fwctl smart config) */
	struct dev_board board;        /* board: bootloader backend, running-slot model (dev_board.h) */
};

struct dev_root {
	char *dir;
	int lock_fd;                       /* -1 unless locked */
	struct dev_config cfg;
	char *slot_path[DEV_SLOT_COUNT];   /* usable paths */
};

/* The root to work on: the --root option, else $FWCTL_ROOT, else DEV_DEFAULT_ROOT. */
const char *dev_root_choose(const char *opt);

/* Open an initialised root, taking the device lock first when `lock`. */
int dev_root_open(struct dev_root *r, const char *dir, int lock, struct fw_err *err);
void dev_root_close(struct dev_root *r);

/* Resolve r->cfg's slot paths against r->dir into r->slot_path. */
int dev_root_resolve(struct dev_root *r, struct fw_err *err);

/* "ROOT/rel" in a new string; NULL when out of memory. */
char *dev_root_file(const struct dev_root *r, const char *rel);

/* The trusted keys of ROOT/trust. */
int dev_root_trust(const struct dev_root *r, struct sig_trust *t, struct fw_err *err);

/* The directory a media label stands for, or NULL with err (usage: no such label). */
const char *dev_root_media(const struct dev_root *r, const char *label, struct fw_err *err);

json_t *dev_config_to_json(const struct dev_config *c);
int dev_config_from_json(const json_t *doc, struct dev_config *c, struct fw_err *err);

struct dev_transport_opts;
/* The transport's options as this device's configuration sets them (CA file, limits, ssh files). */
void dev_root_net_opts(const struct dev_root *r, struct dev_transport_opts *o);
/* A configuration before init's options: every setting (dev_settings) at its default, smart upgrade off. */
void dev_config_defaults(struct dev_config *c);

/* Replace ROOT/config.json with r->cfg (durably); the caller holds the lock. */
int dev_config_save(const struct dev_root *r, struct fw_err *err);

/*
 * 0 if path can be kept in the configuration: it is JSON, which holds only
 * UTF-8 (jansson would fail as if out of memory). Else -1 with err (usage),
 * naming `what` and the path, escaped.
 */
int dev_config_path_check(const char *what, const char *path, struct fw_err *err);

/* Add a media label (the media setting, dev_settings); -1 with err (usage) on a bad or repeated label. */
int dev_config_add_media(struct dev_config *c, const char *label, const char *dir, struct fw_err *err);
void dev_config_free(struct dev_config *c);

#endif
