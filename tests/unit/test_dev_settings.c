/* test_dev_settings: the table of settings (device/dev_settings.c) and the slot-name parser (device/dev_root.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "device/dev_root.h"
#include "device/dev_settings.h"
#include "device/dev_smart.h"
#include "tests/unit/unit_main.h"

static unsigned get_uint(const struct dev_config *c, const struct dev_setting *s)
{
	char buf[32];

	return (unsigned)strtoul(dev_setting_show(c, s, buf, sizeof(buf)), NULL, 10);
}

/* A config.json as the loader reads it: format, product, slots, then the settings of c. */
static json_t *doc_of(const struct dev_config *c)
{
	json_t *doc = json_object(), *slots = json_object();

	CU_ASSERT_FATAL(doc != NULL && slots != NULL);
	json_object_set_new(doc, "format", json_string(DEV_CONFIG_FORMAT));
	json_object_set_new(doc, "format_version", json_integer(1));
	json_object_set_new(doc, "product", json_string("WX"));
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		json_object_set_new(slots, dev_slot_name(t), json_string(dev_slot_name(t)));
	json_object_set_new(doc, "slots", slots);
	if (c != NULL)
		CU_ASSERT_FATAL(dev_settings_to_json(c, doc) == 0);
	return doc;
}

static void test_table(void)
{
	CU_ASSERT(dev_settings_count >= 10);
	for (size_t i = 0; i < dev_settings_count; i++) {
		const struct dev_setting *s = &dev_settings[i];
		CU_ASSERT(dev_setting_find(s->key) == s);
		CU_ASSERT(s->help != NULL && s->help[0] != '\0');
		for (size_t k = 0; k < i; k++) {
			CU_ASSERT(strcmp(dev_settings[k].key, s->key) != 0);
			CU_ASSERT(strcmp(dev_settings[k].json, s->json) != 0);
		}
		if (s->type == DEV_SETTING_UINT)
			CU_ASSERT(s->min <= s->def && s->def <= s->max);
	}
	CU_ASSERT(dev_setting_find("no-such-setting") == NULL);
	CU_ASSERT(dev_setting_find("") == NULL);
}

static void test_defaults(void)
{
	struct dev_config c;
	char buf[64];

	memset(&c, 0, sizeof(c));
	dev_config_defaults(&c);
	for (size_t i = 0; i < dev_settings_count; i++) {
		const struct dev_setting *s = &dev_settings[i];
		if (dev_setting_is_smart(s))
			continue;
		if (s->type == DEV_SETTING_UINT) {
			CU_ASSERT(get_uint(&c, s) == s->def);
		} else if (s->type == DEV_SETTING_BOOL) {
			CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, s, buf, sizeof(buf)), "no");
		} else {
			CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, s, buf, sizeof(buf)), "none");
		}
	}
	CU_ASSERT(c.allow_untrusted == 0 && c.n_media == 0);
	CU_ASSERT(c.hook_timeout == 300 && c.trial_boots == 3 && c.pkg_hook_timeout == 30);
	/* The smart upgrade's defaults come from the same table: off, no server, daily, any time. */
	CU_ASSERT(c.smart.enabled == 0 && c.smart.server[0] == '\0' && c.smart.interval == 24 * 3600);
	CU_ASSERT(c.smart.window_start == DEV_SMART_ANY_TIME && c.smart.window_end == DEV_SMART_ANY_TIME &&
		  c.smart.install_at == DEV_SMART_ANY_TIME);
	dev_config_free(&c);
}

/* Every number setting: min and max accepted, min-1 and max+1 refused (usage), the value unchanged by a refusal. */
static void test_edges(void)
{
	struct dev_config c;
	struct fw_err err;
	char v[32];

	memset(&c, 0, sizeof(c));
	dev_config_defaults(&c);
	for (size_t i = 0; i < dev_settings_count; i++) {
		const struct dev_setting *s = &dev_settings[i];
		if (s->type != DEV_SETTING_UINT)
			continue;
		snprintf(v, sizeof(v), "%u", s->min);
		CU_ASSERT(dev_setting_set(&c, s, s->key, v, &err) == 0);
		CU_ASSERT(get_uint(&c, s) == s->min);
		snprintf(v, sizeof(v), "%u", s->max);
		CU_ASSERT(dev_setting_set(&c, s, s->key, v, &err) == 0);
		CU_ASSERT(get_uint(&c, s) == s->max);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)s->max + 1);
		memset(&err, 0, sizeof(err));
		CU_ASSERT(dev_setting_set(&c, s, s->key, v, &err) < 0);
		CU_ASSERT(err.code == FW_EXIT_USAGE);
		CU_ASSERT(strstr(err.msg, s->key) != NULL);
		CU_ASSERT(get_uint(&c, s) == s->max);
		if (s->min > 0) {
			snprintf(v, sizeof(v), "%u", s->min - 1);
			memset(&err, 0, sizeof(err));
			CU_ASSERT(dev_setting_set(&c, s, s->key, v, &err) < 0);
			CU_ASSERT(err.code == FW_EXIT_USAGE);
		}
		CU_ASSERT(dev_setting_set(&c, s, s->key, "-1", &err) < 0);
		CU_ASSERT(dev_setting_set(&c, s, s->key, "", &err) < 0);
		CU_ASSERT(dev_setting_set(&c, s, s->key, "12x", &err) < 0);
		CU_ASSERT(dev_setting_set(&c, s, s->key, " 1", &err) < 0);
		CU_ASSERT(get_uint(&c, s) == s->max);
	}
	dev_config_free(&c);
}

/* Path settings: absolute, existing, the right kind of file; "none" clears. */
static void test_paths(void)
{
	const struct dev_setting *hook = dev_setting_find("unpack-hook"), *ca = dev_setting_find("ca-file");
	struct dev_config c;
	struct fw_err err;
	char buf[256];

	CU_ASSERT_FATAL(hook != NULL && ca != NULL);
	memset(&c, 0, sizeof(c));
	dev_config_defaults(&c);
	CU_ASSERT(dev_setting_set(&c, hook, "unpack-hook", "/bin/sh", &err) == 0);
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, hook, buf, sizeof(buf)), "/bin/sh");
	CU_ASSERT(dev_setting_set(&c, hook, "unpack-hook", "bin/sh", &err) < 0 && err.code == FW_EXIT_USAGE);
	CU_ASSERT(dev_setting_set(&c, hook, "unpack-hook", "/no/such/hook", &err) < 0 && err.code == FW_EXIT_USAGE);
	CU_ASSERT(dev_setting_set(&c, hook, "unpack-hook", "/etc", &err) < 0 && err.code == FW_EXIT_USAGE);
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, hook, buf, sizeof(buf)), "/bin/sh");
	CU_ASSERT(dev_setting_set(&c, hook, "unpack-hook", "none", &err) == 0);
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, hook, buf, sizeof(buf)), "none");
	CU_ASSERT(c.unpack_hook == NULL);
	if (access("/etc/hostname", R_OK) == 0) {
		CU_ASSERT(dev_setting_set(&c, ca, "ca-file", "/etc/hostname", &err) == 0);
		CU_ASSERT_STRING_EQUAL(c.ca_file, "/etc/hostname");
	}
	CU_ASSERT(dev_setting_set(&c, ca, "ca-file", "/etc/\377", &err) < 0 && err.code == FW_EXIT_USAGE);
	dev_config_free(&c);
}

/* The boot configuration a user changes later: allow-untrusted (yes/no) and the media labels (add, change, remove). */
static void test_boot_config(void)
{
	const struct dev_setting *allow = dev_setting_find("allow-untrusted"), *media = dev_setting_find("media");
	struct dev_config c, back;
	struct fw_err err;
	char buf[256];
	json_t *doc;

	CU_ASSERT_FATAL(allow != NULL && media != NULL);
	CU_ASSERT(!dev_setting_is_smart(allow) && !dev_setting_is_smart(media));
	memset(&c, 0, sizeof(c));
	dev_config_defaults(&c);
	CU_ASSERT(dev_setting_set(&c, allow, "allow-untrusted", "yes", &err) == 0 && c.allow_untrusted == 1);
	CU_ASSERT(dev_setting_set(&c, allow, "allow-untrusted", "maybe", &err) < 0 && err.code == FW_EXIT_USAGE);
	CU_ASSERT(strstr(err.msg, "allow-untrusted maybe: expected yes or no") != NULL);
	CU_ASSERT(c.allow_untrusted == 1);
	CU_ASSERT(dev_setting_set(&c, media, "media", "stick=/mnt/a", &err) == 0);
	CU_ASSERT(dev_setting_set(&c, media, "media", "sd=/mnt/sd", &err) == 0);
	CU_ASSERT(dev_setting_set(&c, media, "media", "stick=/mnt/b", &err) == 0);   /* a new directory */
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, media, buf, sizeof(buf)), "sd=/mnt/sd stick=/mnt/b");
	CU_ASSERT(dev_setting_set(&c, media, "media", "nolabel", &err) < 0 && err.code == FW_EXIT_USAGE);
	/* A relative directory would be read from each later fwctl's working directory: refused, nothing changed. */
	CU_ASSERT(dev_setting_set(&c, media, "media", "stick=mnt/c", &err) < 0 && err.code == FW_EXIT_USAGE);
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, media, buf, sizeof(buf)), "sd=/mnt/sd stick=/mnt/b");
	CU_ASSERT(dev_setting_set(&c, media, "media", "../x=/mnt", &err) < 0 && err.code == FW_EXIT_USAGE);
	CU_ASSERT(dev_setting_set(&c, media, "media", "usb=none", &err) < 0 && strstr(err.msg, "no media label usb"));
	CU_ASSERT(c.n_media == 2);
	/* Saved and loaded back, as config.json keeps them. */
	snprintf(c.product, sizeof(c.product), "WX");
	snprintf(c.device_id, sizeof(c.device_id), "d1");
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		c.slot[t] = strdup("slots/x");
	doc = dev_config_to_json(&c);
	CU_ASSERT_FATAL(doc != NULL);
	memset(&back, 0, sizeof(back));
	CU_ASSERT_FATAL(dev_config_from_json(doc, &back, &err) == 0);
	CU_ASSERT(back.allow_untrusted == 1 && back.n_media == 2);
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&back, media, buf, sizeof(buf)), "sd=/mnt/sd stick=/mnt/b");
	dev_config_free(&back);
	json_decref(doc);
	CU_ASSERT(dev_setting_set(&c, media, "media", "sd=none", &err) == 0);
	CU_ASSERT(dev_setting_set(&c, media, "media", "stick=none", &err) == 0);
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, media, buf, sizeof(buf)), "none");
	dev_config_free(&c);
}

/* Save then load: every setting comes back; an absent one is its default; one out of range is refused. */
static void test_round_trip(void)
{
	struct dev_config c, back;
	struct fw_err err;
	json_t *doc;
	char v[32];

	memset(&c, 0, sizeof(c));
	dev_config_defaults(&c);
	for (size_t i = 0; i < dev_settings_count; i++) {
		const struct dev_setting *s = &dev_settings[i];
		snprintf(v, sizeof(v), "%u", s->max - (s->max > s->min));
		if (s->type == DEV_SETTING_UINT) {
			CU_ASSERT(dev_setting_set(&c, s, s->key, v, &err) == 0);
		}
	}
	CU_ASSERT(dev_setting_set(&c, dev_setting_find("unpack-hook"), "unpack-hook", "/bin/sh", &err) == 0);
	snprintf(c.product, sizeof(c.product), "WX");
	doc = doc_of(&c);
	memset(&back, 0, sizeof(back));
	CU_ASSERT_FATAL(dev_config_from_json(doc, &back, &err) == 0);
	for (size_t i = 0; i < dev_settings_count; i++) {
		char a[256], b[256];
		CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, &dev_settings[i], a, sizeof(a)),
				       dev_setting_show(&back, &dev_settings[i], b, sizeof(b)));
	}
	/* The whole configuration too: what dev_config_save writes, dev_root_open reads back. */
	json_decref(doc);
	snprintf(back.device_id, sizeof(back.device_id), "d1");   /* init always gives one */
	doc = dev_config_to_json(&back);
	CU_ASSERT_FATAL(doc != NULL);
	dev_config_free(&c);
	CU_ASSERT_FATAL(dev_config_from_json(doc, &c, &err) == 0);
	CU_ASSERT(c.hook_timeout == back.hook_timeout && c.unpack_hook != NULL);
	json_decref(doc);
	dev_config_free(&back);

	/* An older root without the settings: every default. */
	doc = doc_of(NULL);
	CU_ASSERT_FATAL(dev_config_from_json(doc, &back, &err) == 0);
	for (size_t i = 0; i < dev_settings_count; i++)
		if (dev_settings[i].type == DEV_SETTING_UINT) {
			CU_ASSERT(get_uint(&back, &dev_settings[i]) == dev_settings[i].def);
		}
	dev_config_free(&back);

	/* Each number out of range, of the wrong type, or a path that is not a string: refused, naming the key. */
	for (size_t i = 0; i < dev_settings_count; i++) {
		const struct dev_setting *s = &dev_settings[i];
		if (dev_setting_is_smart(s))
			continue;
		json_t *bad = s->type == DEV_SETTING_UINT ? json_integer((json_int_t)s->max + 1) : json_integer(1);
		json_object_set_new(doc, s->json, bad);
		memset(&err, 0, sizeof(err));
		CU_ASSERT(dev_config_from_json(doc, &back, &err) < 0);
		CU_ASSERT(err.code == FW_EXIT_IO && strstr(err.msg, s->json) != NULL);
		if (s->type == DEV_SETTING_UINT && s->min > 0) {
			json_object_set_new(doc, s->json, json_integer((json_int_t)s->min - 1));
			CU_ASSERT(dev_config_from_json(doc, &back, &err) < 0);
		}
		if (s->type == DEV_SETTING_UINT) {
			json_object_set_new(doc, s->json, json_string("1"));
			CU_ASSERT(dev_config_from_json(doc, &back, &err) < 0);
		}
		json_object_del(doc, s->json);
	}
	json_decref(doc);
	dev_config_free(&c);
}

/* The smart upgrade's settings: fwctl smart config's options, from the same table; kept through save and load. */
static void test_smart(void)
{
	const struct dev_setting *server = dev_setting_find("server"), *interval = dev_setting_find("interval"),
				 *window = dev_setting_find("download-window"), *at = dev_setting_find("install-at");
	struct dev_config c, back;
	struct fw_err err;
	char buf[128], v[32];
	json_t *doc;

	CU_ASSERT_FATAL(server && interval && window && at);
	CU_ASSERT(dev_setting_is_smart(server) && !dev_setting_is_smart(dev_setting_find("hook-timeout")));
	memset(&c, 0, sizeof(c));
	dev_config_defaults(&c);
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, server, buf, sizeof(buf)), "none");
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, window, buf, sizeof(buf)), "any time");
	snprintf(v, sizeof(v), "%u s", interval->def);
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, interval, buf, sizeof(buf)), v);
	/* interval: 1m and 365d accepted, 59 s and 366d refused. */
	CU_ASSERT(dev_setting_set(&c, interval, "--interval", "1m", &err) == 0 && c.smart.interval == 60);
	CU_ASSERT(dev_setting_set(&c, interval, "--interval", "365d", &err) == 0 && c.smart.interval == 365 * 86400);
	CU_ASSERT(dev_setting_set(&c, interval, "--interval", "59", &err) < 0 && err.code == FW_EXIT_USAGE);
	CU_ASSERT(dev_setting_set(&c, interval, "--interval", "366d", &err) < 0 && strstr(err.msg, "--interval 366d"));
	CU_ASSERT(c.smart.interval == 365 * 86400);
	/* Times of day: 00:00 and 23:59, any; not 24:00. */
	CU_ASSERT(dev_setting_set(&c, window, "--download-window", "23:59-00:00", &err) == 0);
	CU_ASSERT(c.smart.window_start == 23 * 60 + 59 && c.smart.window_end == 0);
	CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, window, buf, sizeof(buf)), "23:59-00:00");
	CU_ASSERT(dev_setting_set(&c, window, "--download-window", "00:00-24:00", &err) < 0);
	CU_ASSERT(dev_setting_set(&c, window, "--download-window", "00:00", &err) < 0);
	CU_ASSERT(dev_setting_set(&c, at, "--install-at", "00:00", &err) == 0 && c.smart.install_at == 0);
	CU_ASSERT(dev_setting_set(&c, at, "--install-at", "24:00", &err) < 0 && c.smart.install_at == 0);
	CU_ASSERT(dev_setting_set(&c, at, "--install-at", "any", &err) == 0 && c.smart.install_at < 0);
	CU_ASSERT(dev_setting_set(&c, at, "--install-at", "03:30", &err) == 0);
	/* The server: http or https only. */
	CU_ASSERT(dev_setting_set(&c, server, "--server", "ftp://h/cat.json", &err) < 0 && err.code == FW_EXIT_USAGE);
	CU_ASSERT(dev_setting_set(&c, server, "--server", "/cat.json", &err) < 0);
	CU_ASSERT(dev_setting_set(&c, server, "--server", "https://h.example/cat.json", &err) == 0);
	CU_ASSERT_STRING_EQUAL(c.smart.server, "https://h.example/cat.json");
	/* Through config.json and back. */
	snprintf(c.product, sizeof(c.product), "WX");
	snprintf(c.device_id, sizeof(c.device_id), "d1");
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		c.slot[t] = strdup(dev_slot_name(t));
	doc = dev_config_to_json(&c);
	CU_ASSERT_FATAL(doc != NULL);
	CU_ASSERT_FATAL(dev_config_from_json(doc, &back, &err) == 0);
	for (size_t i = 0; i < dev_settings_count; i++) {
		char a[256], b[256];
		CU_ASSERT_STRING_EQUAL(dev_setting_show(&c, &dev_settings[i], a, sizeof(a)),
				       dev_setting_show(&back, &dev_settings[i], b, sizeof(b)));
	}
	CU_ASSERT(back.smart.enabled == c.smart.enabled && back.smart.install_at == 3 * 60 + 30);
	dev_config_free(&back);
	/* Damage to the "smart" object: refused, naming the key. */
	{
		static const char *const bad[][2] = {
			{ "interval", "59" }, { "interval", "31622400" }, { "interval", "\"1h\"" },
			{ "install_at", "\"24:00\"" }, { "install_at", "5" },
			{ "download_window", "[\"00:00\", null]" }, { "download_window", "[\"00:00\"]" },
			{ "server", "7" },
		};
		json_t *smart = json_object_get(doc, "smart");
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			json_t *keep = json_deep_copy(json_object_get(smart, bad[i][0]));
			json_object_set_new(smart, bad[i][0], json_loads(bad[i][1], JSON_DECODE_ANY, NULL));
			memset(&err, 0, sizeof(err));
			CU_ASSERT(dev_config_from_json(doc, &back, &err) < 0);
			CU_ASSERT(err.code == FW_EXIT_IO && strstr(err.msg, bad[i][0]) != NULL);
			json_object_set_new(smart, bad[i][0], keep);
		}
		json_object_set_new(doc, "smart", json_integer(5));
		CU_ASSERT(dev_config_from_json(doc, &back, &err) < 0 && strstr(err.msg, "smart: not an object"));
		json_object_del(doc, "smart");   /* an older root: smart upgrade's defaults */
		CU_ASSERT_FATAL(dev_config_from_json(doc, &back, &err) == 0);
		CU_ASSERT(!back.smart.enabled && back.smart.interval == interval->def && back.smart.window_start < 0);
		dev_config_free(&back);
	}
	json_decref(doc);
	dev_config_free(&c);
}

static void test_slot_parse(void)
{
	int slot = -7;

	for (int t = 0; t < DEV_SLOT_COUNT; t++) {
		CU_ASSERT(dev_slot_parse(dev_slot_name(t), &slot) == 0);
		CU_ASSERT(slot == t);
	}
	CU_ASSERT(dev_slot_parse("golden", &slot) == 0 && slot == DEV_SLOT_GOLDEN);
	CU_ASSERT(dev_slot_parse("pri", &slot) == 0 && slot == FW_TARGET_PRI);
	slot = -7;
	CU_ASSERT(dev_slot_parse("Golden", &slot) < 0);
	CU_ASSERT(dev_slot_parse("golden ", &slot) < 0);
	CU_ASSERT(dev_slot_parse("gold", &slot) < 0);
	CU_ASSERT(dev_slot_parse("all", &slot) < 0);
	CU_ASSERT(dev_slot_parse("", &slot) < 0);
	CU_ASSERT(dev_slot_parse(NULL, &slot) < 0);
	CU_ASSERT(slot == -7);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "one entry a key, defaults in range", test_table },
		{ "defaults", test_defaults },
		{ "every number: edges accepted, beyond refused", test_edges },
		{ "paths: absolute, the right file, none", test_paths },
		{ "allow-untrusted and the media labels", test_boot_config },
		{ "save and load: round trip, defaults, damage refused", test_round_trip },
		{ "smart upgrade's settings", test_smart },
		{ "slot names", test_slot_parse },
	};

	return unit_run("dev_settings", NULL, NULL, tests, UNIT_COUNT(tests));
}
