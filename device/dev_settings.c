/* dev_settings: the one table of the device's settings; init, config, the config.json loader and --help all read it. */
#include "dev_settings.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/fw_limits.h"
#include "base/msg.h"
#include "formats/catalog.h"
#include "device/dev_hook.h"
#include "device/dev_smart.h"
#include "device/dev_source.h"
#include "device/dev_transport.h"

/* The defaults of settings no other module has a default for: they live here alone. */
#define DEV_HOOK_TIMEOUT_DEFAULT 300u       /* seconds the security-unpack hook may run before it is stopped */
#define DEV_PKG_HOOK_TIMEOUT_DEFAULT 30u    /* seconds a package's activate or deactivate hook may run */
#define DEV_TRIAL_BOOTS_DEFAULT 3u          /* boots a new system image gets to be marked good */
#define DEV_SMART_INTERVAL_DEFAULT (24u * 3600u)   /* seconds between smart upgrade checks */

#define UINT_SETTING(k, j, lo, hi, d, u, field, a, h) \
	{ k, j, DEV_SETTING_UINT, lo, hi, d, u, offsetof(struct dev_config, field), a, h }
#define SMART_SETTING(k, j, type, lo, hi, d, field, a, h) \
	{ k, j, type, lo, hi, d, "", offsetof(struct dev_config, smart.field), a, h }
#define PATH_SETTING(k, j, type, what, field, h) \
	{ k, j, type, 0, 0, 0, what, offsetof(struct dev_config, field), "PATH|none", h }

const struct dev_setting dev_settings[] = {
	/* The boot configuration a user changes later (field 002: "Allow Untrusted", media labels). */
	{ "allow-untrusted", "allow_untrusted", DEV_SETTING_BOOL, 0, 1, 0, "", offsetof(struct dev_config, allow_untrusted),
	  "yes|no", "activate unsigned or unverifiable packages at boot (secure boot: with a token)" },
	{ "media", "media", DEV_SETTING_MEDIA, 0, DEV_MEDIA_MAX, 0, "", offsetof(struct dev_config, media),
	  "LABEL=DIR|LABEL=none", "a media label and the directory it reads (none: remove it)" },
	PATH_SETTING("unpack-hook", "unpack_hook", DEV_SETTING_EXEC, "unpack hook", unpack_hook,
		     "the security-unpack hook (an absolute path to an executable)"),
	UINT_SETTING("hook-timeout", "unpack_hook_timeout", FW_HOOK_TIMEOUT_MIN, FW_HOOK_TIMEOUT_MAX,
		     DEV_HOOK_TIMEOUT_DEFAULT, "seconds", hook_timeout, "SECONDS", "how long the unpack hook may run"),
	UINT_SETTING("package-hook-timeout", "package_hook_timeout", 1, DEV_PKG_HOOK_TIMEOUT_MAX,
		     DEV_PKG_HOOK_TIMEOUT_DEFAULT, "seconds", pkg_hook_timeout, "SECONDS",
		     "how long a package's activate or deactivate hook may run at boot"),
	UINT_SETTING("trial-boots", "trial_boots", 1, DEV_TRIAL_BOOTS_MAX, DEV_TRIAL_BOOTS_DEFAULT, "", trial_boots, "N",
		     "boots a new system image gets to be marked good"),
	PATH_SETTING("ca-file", "ca_file", DEV_SETTING_FILE, "CA file", ca_file,
		     "https: the CA certificates (PEM) servers are verified against"),
	UINT_SETTING("low-speed-limit", "low_speed_limit", 0, DEV_LOW_SPEED_MAX, DEV_TRANSPORT_LOW_SPEED_LIMIT, "bytes/s",
		     low_speed_limit, "BYTES", "network: slower than this (0: no limit) ..."),
	UINT_SETTING("low-speed-time", "low_speed_time", 1, DEV_NET_SETTING_MAX, DEV_TRANSPORT_LOW_SPEED_TIME, "seconds",
		     low_speed_time, "SECONDS", "... for this long fails the attempt"),
	UINT_SETTING("net-retries", "net_retries", 0, DEV_NET_RETRIES_MAX, DEV_TRANSPORT_RETRIES, "", net_retries, "N",
		     "network: attempts in a row without progress before netError"),
	UINT_SETTING("transfer-timeout", "transfer_timeout", 1, DEV_TRANSFER_TIMEOUT_MAX, DEV_TRANSPORT_TIMEOUT, "seconds",
		     transfer_timeout, "SECONDS", "network: any one transfer ends with netError after this long in all"),
	PATH_SETTING("ssh-known-hosts", "ssh_known_hosts", DEV_SETTING_FILE, "known_hosts file", ssh_known_hosts,
		     "scp, sftp: the servers' host keys (OpenSSH known_hosts); none: scp and sftp are refused"),
	PATH_SETTING("ssh-key", "ssh_key", DEV_SETTING_FILE, "ssh key", ssh_key,
		     "scp, sftp: a private key to log in with (besides the password)"),
	SMART_SETTING("enabled", "enabled", DEV_SETTING_SWITCH, 0, 1, 0, enabled, NULL,
		      "smart upgrade: on or off (smart config --on, --off)"),
	SMART_SETTING("server", "server", DEV_SETTING_URL, 0, 0, 0, server, "URL",
		      "smart upgrade: the catalog's http:// or https:// URL (turns smart upgrade on)"),
	SMART_SETTING("interval", "interval", DEV_SETTING_DURATION, DEV_SMART_INTERVAL_MIN, DEV_SMART_INTERVAL_MAX,
		      DEV_SMART_INTERVAL_DEFAULT, interval, "DURATION", "smart upgrade: time between checks (90, 30m, 12h, 1d, 2w)"),
	SMART_SETTING("download-window", "download_window", DEV_SETTING_WINDOW, 0, 0, 0, window_start, "HH:MM-HH:MM|any",
		      "smart upgrade: when downloads may run (UTC)"),
	SMART_SETTING("install-at", "install_at", DEV_SETTING_TOD, 0, 0, 0, install_at, "HH:MM|any",
		      "smart upgrade: when a downloaded release is installed (UTC; any: at once)"),
};
const size_t dev_settings_count = sizeof(dev_settings) / sizeof(dev_settings[0]);

static unsigned *uint_field(struct dev_config *c, const struct dev_setting *s)
{
	return (unsigned *)(void *)((char *)c + s->offset);
}

static char **path_field(struct dev_config *c, const struct dev_setting *s)
{
	return (char **)(void *)((char *)c + s->offset);
}

static int *int_field(struct dev_config *c, const struct dev_setting *s)
{
	return (int *)(void *)((char *)c + s->offset);
}

int dev_setting_is_smart(const struct dev_setting *s)
{
	return s->type >= DEV_SETTING_URL;
}

/* HH:MM or any into *minute (DEV_SMART_ANY_TIME for any); -1 if malformed. */
static int parse_tod(const char *v, int *minute)
{
	if (strcmp(v, "any") == 0) {
		*minute = DEV_SMART_ANY_TIME;
		return 0;
	}
	return (*minute = dev_smart_parse_tod(v)) < 0 ? -1 : 0;
}

/* The smart upgrade's settings from text; -1 with err (usage). */
static int set_smart(struct dev_config *c, const struct dev_setting *s, const char *named, const char *value,
		     struct fw_err *err)
{
	struct dev_source src;
	int64_t secs;
	int a, b;
	char part[8];
	char *word = (char *)value;

	switch (s->type) {
	case DEV_SETTING_SWITCH:
		if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%s %s: expected on or off", named, value);
		*int_field(c, s) = strcmp(value, "on") == 0;
		return 0;
	case DEV_SETTING_URL:
		if (strlen(value) > DEV_SMART_URL_MAX || dev_source_parse(1, &word, &src, err) < 0 ||
		    src.kind != DEV_SRC_NET || (src.proto != DEV_PROTO_HTTP && src.proto != DEV_PROTO_HTTPS)) {
			char shown[DEV_SMART_URL_MAX + 1];

			snprintf(shown, sizeof(shown), "%s", value);
			dev_source_hide_password(shown);   /* a refusal never echoes a password */
			return fw_err_set(err, FW_EXIT_USAGE, "%s %s: expected an http:// or https:// URL of the catalog",
					  named, shown);
		}
		snprintf(c->smart.server, sizeof(c->smart.server), "%s", value);
		return 0;
	case DEV_SETTING_DURATION:
		if (fw_duration_parse(value, &secs) < 0 || secs < s->min || secs > s->max)
			return fw_err_set(err, FW_EXIT_USAGE, "%s %s: expected a duration from 1m to 365d (90, 30m, "
					  "12h, 1d, 2w)", named, value);
		*(int64_t *)(void *)((char *)c + s->offset) = secs;
		return 0;
	case DEV_SETTING_TOD:
		if (parse_tod(value, &a) < 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%s %s: expected HH:MM (00:00 to 23:59) or any", named, value);
		*int_field(c, s) = a;
		return 0;
	default:   /* DEV_SETTING_WINDOW */
		if (strcmp(value, "any") == 0) {
			a = b = DEV_SMART_ANY_TIME;
		} else {
			if (strlen(value) != 11 || value[5] != '-')
				return fw_err_set(err, FW_EXIT_USAGE, "%s %s: expected HH:MM-HH:MM or any", named, value);
			snprintf(part, sizeof(part), "%.5s", value);
			a = dev_smart_parse_tod(part);
			b = dev_smart_parse_tod(value + 6);
			if (a < 0 || b < 0)
				return fw_err_set(err, FW_EXIT_USAGE, "%s %s: expected HH:MM-HH:MM (00:00 to 23:59) or any",
						  named, value);
		}
		c->smart.window_start = a;
		c->smart.window_end = b;
		return 0;
	}
}

const struct dev_setting *dev_setting_find(const char *key)
{
	for (size_t i = 0; i < dev_settings_count; i++)
		if (strcmp(dev_settings[i].key, key) == 0)
			return &dev_settings[i];
	return NULL;
}

/* An absolute path to a regular file this process may execute (EXEC) or read (FILE), kept as a copy; NULL clears. */
static int set_path(struct dev_config *c, const struct dev_setting *s, const char *path, struct fw_err *err)
{
	const char *what = s->unit;
	int exec = s->type == DEV_SETTING_EXEC;
	struct stat st;
	char *copy = NULL;

	if (path != NULL) {
		if (path[0] != '/')
			return fw_err_set(err, FW_EXIT_USAGE, "%s %s: give an absolute path", what, path);
		if (dev_config_path_check(what, path, err) < 0)
			return -1;
		if (stat(path, &st) < 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%s %s: %s", what, path, strerror(errno));
		if (!S_ISREG(st.st_mode) || access(path, exec ? X_OK : R_OK) < 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%s %s: not %s file", what, path,
					  exec ? "an executable" : "a readable");
		if ((copy = strdup(path)) == NULL)
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
	}
	free(*path_field(c, s));
	*path_field(c, s) = copy;
	return 0;
}

/* LABEL=DIR: add the label, or give it its new directory; LABEL=none: remove it. -1 with err (usage). */
static int set_media(struct dev_config *c, const char *named, const char *value, struct fw_err *err)
{
	const char *eq = strchr(value, '=');
	char label[FW_NAME_MAX + 1];
	size_t i, len;

	if (eq == NULL || eq == value || (len = (size_t)(eq - value)) >= sizeof(label))
		return fw_err_set(err, FW_EXIT_USAGE, "%s %s: expected LABEL=DIR or LABEL=none", named, value);
	memcpy(label, value, len);
	label[len] = '\0';
	for (i = 0; i < c->n_media && strcmp(c->media[i].label, label) != 0; i++)
		continue;
	if (strcmp(eq + 1, "none") == 0 && i == c->n_media)
		return fw_err_set(err, FW_EXIT_USAGE, "%s %s: there is no media label %s", named, value, label);
	/* Read by every later fwctl, from whatever directory it runs in (cron, a service): never relative. */
	if (strcmp(eq + 1, "none") != 0 && eq[1] != '/' && eq[1] != '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "%s %s: give the directory as an absolute path", named, value);
	if (i < c->n_media) {
		/* The caller saves nothing after a failure: a label whose new directory is refused is not lost. */
		free(c->media[i].dir);
		memmove(&c->media[i], &c->media[i + 1], (c->n_media - i - 1) * sizeof(c->media[0]));
		c->n_media--;
	}
	if (strcmp(eq + 1, "none") == 0)
		return 0;
	if (dev_config_add_media(c, label, eq + 1, err) < 0)
		return fw_err_wrap(err, "%s", named);
	return 0;
}

int dev_setting_init_has_arg(const struct dev_setting *s)
{
	return s->type == DEV_SETTING_BOOL ? no_argument : required_argument;
}

int dev_setting_set(struct dev_config *c, const struct dev_setting *s, const char *named, const char *value,
		    struct fw_err *err)
{
	uint64_t n;

	if (dev_setting_is_smart(s))
		return set_smart(c, s, named, value, err);
	if (s->type == DEV_SETTING_BOOL) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return fw_err_set(err, FW_EXIT_USAGE, "%s %s: expected yes or no", named, value);
		*int_field(c, s) = strcmp(value, "yes") == 0;
		return 0;
	}
	if (s->type == DEV_SETTING_MEDIA)
		return set_media(c, named, value, err);
	if (s->type != DEV_SETTING_UINT)
		return set_path(c, s, strcmp(value, "none") == 0 ? NULL : value, err);
	if (msg_parse_u64(value, s->max, &n) < 0 || n < s->min)
		return fw_err_set(err, FW_EXIT_USAGE, "%s %s: expected %u to %u%s%s", named, value, s->min, s->max,
				  s->unit[0] ? " " : "", s->unit);
	*uint_field(c, s) = (unsigned)n;
	return 0;
}

const char *dev_setting_show(const struct dev_config *c, const struct dev_setting *s, char *buf, size_t n)
{
	const char *path;

	const int *m = int_field((struct dev_config *)c, s);

	switch (s->type) {
	case DEV_SETTING_UINT:
		snprintf(buf, n, "%u", *uint_field((struct dev_config *)c, s));
		return buf;
	case DEV_SETTING_BOOL:
		return *m ? "yes" : "no";
	case DEV_SETTING_MEDIA: {
		size_t len = 0;
		char dir[512];

		if (c->n_media == 0)
			return "none";
		buf[0] = '\0';
		for (size_t i = 0; i < c->n_media && len < n; i++)
			len += (size_t)snprintf(buf + len, n - len, "%s%s=%s", i ? " " : "", c->media[i].label,
						fw_escape(c->media[i].dir, dir, sizeof(dir)));
		return buf;
	}
	case DEV_SETTING_SWITCH:
		return *m ? "yes" : "no";
	case DEV_SETTING_URL: {
		char server[sizeof(c->smart.server)];

		if (!c->smart.server[0])
			return "none";
		snprintf(server, sizeof(server), "%s", c->smart.server);
		dev_source_hide_password(server);   /* shown, never the password (fwctl(8)) */
		return fw_escape(server, buf, n);
	}
	case DEV_SETTING_DURATION:
		snprintf(buf, n, "%lld s", (long long)c->smart.interval);
		return buf;
	case DEV_SETTING_TOD:
		if (*m < 0)
			return "as soon as downloaded";
		snprintf(buf, n, "%02d:%02d", *m / 60, *m % 60);
		return buf;
	case DEV_SETTING_WINDOW:
		if (c->smart.window_start < 0)
			return "any time";
		snprintf(buf, n, "%02d:%02d-%02d:%02d", c->smart.window_start / 60, c->smart.window_start % 60,
			 c->smart.window_end / 60, c->smart.window_end % 60);
		return buf;
	default:
		break;
	}
	path = *path_field((struct dev_config *)c, s);
	return path != NULL ? fw_escape(path, buf, n) : "none";
}

void dev_settings_defaults(struct dev_config *c)
{
	memset(&c->smart, 0, sizeof(c->smart));
	for (size_t i = 0; i < dev_settings_count; i++) {
		const struct dev_setting *s = &dev_settings[i];
		if (dev_setting_is_smart(s)) {
			/* Off, no server (both zero), the table's interval, any time for downloads and installs. */
			if (s->type == DEV_SETTING_DURATION)
				c->smart.interval = (int64_t)s->def;
			else if (s->type == DEV_SETTING_WINDOW)
				c->smart.window_start = c->smart.window_end = DEV_SMART_ANY_TIME;
			else if (s->type == DEV_SETTING_TOD)
				c->smart.install_at = DEV_SMART_ANY_TIME;
			continue;
		}
		if (s->type == DEV_SETTING_UINT) {
			*uint_field(c, s) = s->def;
		} else if (s->type == DEV_SETTING_BOOL) {
			*int_field(c, s) = (int)s->def;
		} else if (s->type == DEV_SETTING_MEDIA) {
			for (size_t k = 0; k < c->n_media; k++)
				free(c->media[k].dir);
			memset(c->media, 0, sizeof(c->media));
			c->n_media = 0;
		} else {
			free(*path_field(c, s));
			*path_field(c, s) = NULL;
		}
	}
}

static json_t *tod_json(int minute)
{
	char t[24];

	if (minute < 0)
		return json_null();
	snprintf(t, sizeof(t), "%02d:%02d", minute / 60, minute % 60);
	return json_string(t);
}

/* A smart setting's JSON value. */
static json_t *smart_value(const struct dev_config *c, const struct dev_setting *s)
{
	switch (s->type) {
	case DEV_SETTING_SWITCH: return json_boolean(c->smart.enabled);
	case DEV_SETTING_URL: return json_string(c->smart.server);
	case DEV_SETTING_DURATION: return json_integer((json_int_t)c->smart.interval);
	case DEV_SETTING_TOD: return tod_json(c->smart.install_at);
	default:
		if (c->smart.window_start < 0)
			return json_null();
		return json_pack("[o,o]", tod_json(c->smart.window_start), tod_json(c->smart.window_end));
	}
}

json_t *dev_settings_smart_json(const struct dev_config *c)
{
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < dev_settings_count; i++)
		if (dev_setting_is_smart(&dev_settings[i]) &&
		    json_object_set_new(o, dev_settings[i].json, smart_value(c, &dev_settings[i])) < 0) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

int dev_settings_to_json(const struct dev_config *c, json_t *doc)
{
	for (size_t i = 0; i < dev_settings_count; i++) {
		const struct dev_setting *s = &dev_settings[i];
		const char *path;
		json_t *v;

		if (dev_setting_is_smart(s))
			continue;
		if (s->type == DEV_SETTING_UINT) {
			v = json_integer(*uint_field((struct dev_config *)c, s));
		} else if (s->type == DEV_SETTING_BOOL) {
			v = json_boolean(*int_field((struct dev_config *)c, s));
		} else if (s->type == DEV_SETTING_MEDIA) {
			v = json_object();
			for (size_t k = 0; v != NULL && k < c->n_media; k++)
				if (json_object_set_new(v, c->media[k].label, json_string(c->media[k].dir)) < 0) {
					json_decref(v);
					v = NULL;
				}
		} else {
			path = *path_field((struct dev_config *)c, s);
			v = path != NULL ? json_string(path) : json_null();
		}
		if (json_object_set_new(doc, s->json, v) < 0)
			return -1;
	}
	return json_object_set_new(doc, "smart", dev_settings_smart_json(c));
}

/* A time of day from JSON into *minute: null is DEV_SMART_ANY_TIME; -1 when malformed. */
static int tod_from_json(const json_t *v, int *minute)
{
	if (json_is_null(v)) {
		*minute = DEV_SMART_ANY_TIME;
		return 0;
	}
	return json_is_string(v) && (*minute = dev_smart_parse_tod(json_string_value(v))) >= 0 ? 0 : -1;
}

/* A smart setting from config.json's "smart" object; -1 with err (I/O). */
static int smart_from_json(const json_t *v, struct dev_config *c, const struct dev_setting *s, struct fw_err *err)
{
	int a, b;

	switch (s->type) {
	case DEV_SETTING_SWITCH:
		c->smart.enabled = json_is_true(v);
		return 0;
	case DEV_SETTING_URL:
		if (!json_is_string(v) || strlen(json_string_value(v)) > DEV_SMART_URL_MAX)
			return fw_err_set(err, FW_EXIT_IO, "smart: server: not a URL");
		snprintf(c->smart.server, sizeof(c->smart.server), "%s", json_string_value(v));
		return 0;
	case DEV_SETTING_DURATION:
		if (!json_is_integer(v) || json_integer_value(v) < s->min || json_integer_value(v) > s->max)
			return fw_err_set(err, FW_EXIT_IO, "smart: interval: out of range");
		c->smart.interval = json_integer_value(v);
		return 0;
	case DEV_SETTING_TOD:
		if (tod_from_json(v, &a) < 0)
			return fw_err_set(err, FW_EXIT_IO, "smart: install_at: expected \"HH:MM\" or null");
		c->smart.install_at = a;
		return 0;
	default:
		if (json_is_null(v)) {
			c->smart.window_start = c->smart.window_end = DEV_SMART_ANY_TIME;
			return 0;
		}
		if (!json_is_array(v) || json_array_size(v) != 2 || tod_from_json(json_array_get(v, 0), &a) < 0 ||
		    tod_from_json(json_array_get(v, 1), &b) < 0 || a < 0 || b < 0)
			return fw_err_set(err, FW_EXIT_IO, "smart: download_window: expected [\"HH:MM\", \"HH:MM\"]");
		c->smart.window_start = a;
		c->smart.window_end = b;
		return 0;
	}
}

int dev_settings_from_json(const json_t *doc, struct dev_config *c, struct fw_err *err)
{
	const json_t *smart = json_object_get(doc, "smart");

	dev_settings_defaults(c);
	if (json_is_null(smart))
		smart = NULL;
	if (smart != NULL && !json_is_object(smart))
		return fw_err_set(err, FW_EXIT_IO, "smart: not an object");
	for (size_t i = 0; i < dev_settings_count; i++) {
		const struct dev_setting *s = &dev_settings[i];
		const json_t *v = json_object_get(doc, s->json);

		if (dev_setting_is_smart(s)) {
			v = json_object_get(smart, s->json);
			if (v != NULL && smart_from_json(v, c, s, err) < 0)
				return -1;
			continue;
		}
		if (v == NULL)
			continue;   /* an older root: the default */
		if (s->type == DEV_SETTING_BOOL) {
			if (!json_is_boolean(v))
				return fw_err_set(err, FW_EXIT_IO, "%s: not true or false", s->json);
			*int_field(c, s) = json_is_true(v);
		} else if (s->type == DEV_SETTING_MEDIA) {
			const char *label;
			json_t *dir;

			if (!json_is_object(v))
				return fw_err_set(err, FW_EXIT_IO, "%s: not an object", s->json);
			json_object_foreach((json_t *)v, label, dir) {
				if (!json_is_string(dir))
					return fw_err_set(err, FW_EXIT_IO, "%s.%s: not a string", s->json, label);
				if (dev_config_add_media(c, label, json_string_value(dir), err) < 0) {
					err->code = FW_EXIT_IO;   /* a damaged file, not the user's words */
					return fw_err_wrap(err, "%s", s->json);
				}
			}
		} else if (s->type == DEV_SETTING_UINT) {
			if (!json_is_integer(v) || json_integer_value(v) < s->min || json_integer_value(v) > s->max)
				return fw_err_set(err, FW_EXIT_IO, "%s: not a number from %u to %u", s->json, s->min,
						  s->max);
			*uint_field(c, s) = (unsigned)json_integer_value(v);
		} else if (json_is_string(v)) {
			if ((*path_field(c, s) = strdup(json_string_value(v))) == NULL)
				return fw_err_set(err, FW_EXIT_IO, "out of memory");
		} else if (!json_is_null(v)) {
			return fw_err_set(err, FW_EXIT_IO, "%s: not a path", s->json);
		}
	}
	return 0;
}
