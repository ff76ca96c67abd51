/* dev_settings: the one table of the device's settings (key, type, range, default, help), and what reads and writes them. */
#ifndef FW_DEV_SETTINGS_H
#define FW_DEV_SETTINGS_H

#include <stddef.h>

#include <jansson.h>

#include "base/fw_err.h"
#include "device/dev_root.h"

enum dev_setting_type {
	DEV_SETTING_UINT,   /* a whole number from min to max */
	DEV_SETTING_EXEC,   /* an absolute path to an executable regular file, or none */
	DEV_SETTING_FILE,   /* an absolute path to a readable regular file, or none */
	DEV_SETTING_BOOL,   /* yes or no (int); init's option is a flag: --KEY alone is yes */
	DEV_SETTING_MEDIA,  /* the media labels (struct dev_config's media): LABEL=DIR adds one or gives it a new
			     * directory, LABEL=none removes it; init's --media repeats */
	/* Smart upgrade's (fwctl smart config --KEY VALUE; the "smart" object of config.json, dev_smart): */
	DEV_SETTING_URL,      /* the catalog: an http:// or https:// URL */
	DEV_SETTING_DURATION, /* seconds from min to max, written 90, 30m, 12h, 1d or 2w */
	DEV_SETTING_WINDOW,   /* HH:MM-HH:MM (UTC) or any */
	DEV_SETTING_TOD,      /* HH:MM (UTC) or any */
	DEV_SETTING_SWITCH,   /* on or off: smart config's --on and --off, not an option of its own (arg NULL) */
};

/*
 * One setting. `key` is its name in fwctl config, and with "--" in front
 * fwctl init's option; `json` is its key in ROOT/config.json. The smart
 * upgrade's (DEV_SETTING_URL and after) are fwctl smart config's options
 * instead, kept in config.json's "smart" object.
 */
struct dev_setting {
	const char *key;
	const char *json;
	enum dev_setting_type type;
	unsigned min, max, def;   /* DEV_SETTING_UINT and DURATION */
	const char *unit;         /* "seconds", "bytes/s" or "" (UINT); the file's name in messages (EXEC, FILE) */
	size_t offset;            /* of the field in struct dev_config: unsigned (UINT), char * (EXEC, FILE),
				   * int (BOOL), char[] (URL), int64_t (DURATION), int (TOD; WINDOW: start, then end);
				   * MEDIA: the media array */
	const char *arg;          /* what the value looks like in --help: "SECONDS", "PATH|none"; NULL: no option */
	const char *help;         /* one line */
};

extern const struct dev_setting dev_settings[];
extern const size_t dev_settings_count;

/* 1 for a smart upgrade setting (fwctl smart config), 0 for fwctl config's. */
int dev_setting_is_smart(const struct dev_setting *s);

/* The setting named key (fwctl config's name, or smart config's option without "--"), or NULL. */
const struct dev_setting *dev_setting_find(const char *key);

/*
 * Set s in c from the text value (for EXEC and FILE, "none" clears it);
 * `named` is how the messages name the setting ("--hook-timeout" or
 * "hook-timeout"). -1 with err (usage) on a value out of range or a bad file.
 */
int dev_setting_set(struct dev_config *c, const struct dev_setting *s, const char *named, const char *value,
		    struct fw_err *err);

/* s's value in c as text, escaped for a terminal ("none" for no file); buf holds n bytes. */
const char *dev_setting_show(const struct dev_config *c, const struct dev_setting *s, char *buf, size_t n);

/* getopt_long's has_arg for s as an init option: a BOOL is a flag, the rest take a value. */
int dev_setting_init_has_arg(const struct dev_setting *s);

/* Every setting at its default (files none, no media labels, smart upgrade off). */
void dev_settings_defaults(struct dev_config *c);

/* Add every setting to doc (config.json; the smart ones in its "smart" object); -1 when out of memory. */
int dev_settings_to_json(const struct dev_config *c, json_t *doc);

/* The smart upgrade's settings as config.json's "smart" object (and status --json's smart.config); NULL: out of memory. */
json_t *dev_settings_smart_json(const struct dev_config *c);

/*
 * Read every setting from doc (config.json): an absent one (or an absent
 * "smart" object) keeps its default; one of the wrong type or out of range
 * is an error (I/O: the file is damaged), as is a file path that is not a
 * string or null.
 */
int dev_settings_from_json(const json_t *doc, struct dev_config *c, struct fw_err *err);

#endif
