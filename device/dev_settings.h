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
};

/*
 * One setting. `key` is its name in fwctl config, and with "--" in front
 * fwctl init's option; `json` is its key in ROOT/config.json.
 */
struct dev_setting {
	const char *key;
	const char *json;
	enum dev_setting_type type;
	unsigned min, max, def;   /* DEV_SETTING_UINT only */
	const char *unit;         /* "seconds", "bytes/s" or "" (UINT); the file's name in messages (EXEC, FILE) */
	size_t offset;            /* of the field in struct dev_config: unsigned (UINT) or char * (EXEC, FILE) */
	const char *arg;          /* what the value looks like in --help: "SECONDS", "PATH|none" */
	const char *help;         /* one line */
};

extern const struct dev_setting dev_settings[];
extern const size_t dev_settings_count;

/* The setting named key (fwctl config's name), or NULL. */
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

/* Every setting at its default (files none). */
void dev_settings_defaults(struct dev_config *c);

/* Add every setting to doc (config.json); -1 when out of memory. */
int dev_settings_to_json(const struct dev_config *c, json_t *doc);

/*
 * Read every setting from doc (config.json): an absent one keeps its
 * default; one of the wrong type or out of range is an error (I/O: the
 * file is damaged), as is a file path that is not a string or null.
 */
int dev_settings_from_json(const json_t *doc, struct dev_config *c, struct fw_err *err);

#endif
