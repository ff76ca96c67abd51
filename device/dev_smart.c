/* dev_smart: smart upgrade's settings and state files, and the pure decisions of what is due when. */
#include "device/dev_smart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/escape.h"
#include "base/isotime.h"
#include "device/dev_file.h"
#include "device/dev_root.h"
#include "device/dev_source.h"
#include "formats/chunk.h"

/* ---- state ---- */

static const char *const check_names[] = {
	[DEV_CHECK_NONE] = "none",
	[DEV_CHECK_NEED_UPDATE] = "needUpdate",
	[DEV_CHECK_VERSION_OPTIMAL] = "versionOptimal",
	[DEV_CHECK_NET_ERROR] = "netError",
	[DEV_CHECK_EXPIRED] = "catalogExpired",
	[DEV_CHECK_OLD_SERIAL] = "catalogOld",
	[DEV_CHECK_UNSIGNED] = "catalogUnsigned",
	[DEV_CHECK_SIGNATURE_FAILED] = "signatureFailed",
	[DEV_CHECK_TOO_LARGE] = "catalogTooLarge",
	[DEV_CHECK_INVALID] = "catalogInvalid",
	[DEV_CHECK_SYSTEM_ERROR] = "systemError",
	[DEV_CHECK_SERVER_LIMIT] = "serverSpecUpLimit",
	[DEV_CHECK_CERT_OUT_DATE] = "CertOutDate",
};
#define N_CHECKS (sizeof(check_names) / sizeof(check_names[0]))

const char *dev_check_result_name(enum dev_check_result r)
{
	return (unsigned)r < N_CHECKS ? check_names[r] : "unknown";
}

void dev_smart_forget_step(struct dev_smart_state *s)
{
	s->has_step = 0;
	memset(&s->step, 0, sizeof(s->step));
	s->dl_bytes = 0;
	s->dl_complete = 0;
	s->dl_complete_time = 0;
	s->dl_etag[0] = '\0';
	s->dl_mtime = s->dl_size = -1;
	s->dl_failures = 0;
	s->dl_retry_after = 0;
}

int dev_smart_result_refuses(const char *result)
{
	static const char *const final[] = { "signatureFailed", "policyRefused" };

	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++)
		if (strcmp(result, final[i]) == 0)
			return 1;
	return 0;
}

int dev_smart_refusal_holds(const struct dev_smart_refusal *f, const char *running)
{
	/* The policy judges the device as it is: after another install it may take the release. */
	return strcmp(f->result, "policyRefused") != 0 || strcmp(f->running, running) == 0;
}

void dev_smart_refuse_step(struct dev_smart_state *s, const char *result, const char *running)
{
	struct dev_smart_refusal *f;

	if (!s->has_step)
		return;
	for (size_t i = 0; i < s->n_refused; i++)
		if (memcmp(s->refused[i].manifest_sha256, s->step.manifest_sha256, FW_DIGEST_LEN) == 0) {
			memmove(&s->refused[i], &s->refused[i + 1], (s->n_refused - i - 1) * sizeof(s->refused[0]));
			s->n_refused--;
			break;
		}
	if (s->n_refused == DEV_SMART_REFUSED_MAX) {
		memmove(&s->refused[0], &s->refused[1], (DEV_SMART_REFUSED_MAX - 1) * sizeof(s->refused[0]));
		s->n_refused--;
	}
	f = &s->refused[s->n_refused++];
	memset(f, 0, sizeof(*f));
	snprintf(f->version, sizeof(f->version), "%s", s->step.version);
	memcpy(f->manifest_sha256, s->step.manifest_sha256, FW_DIGEST_LEN);
	snprintf(f->result, sizeof(f->result), "%s", result);
	snprintf(f->running, sizeof(f->running), "%s", running);
}

void dev_smart_unschedule(struct dev_smart_state *s)
{
	s->sched_download = s->sched_reboot = 0;
	s->sched_dl_done = s->sched_dl_failed = s->sched_reboot_done = 0;
	s->sched_reboot_result[0] = '\0';
}

int dev_smart_scheduled(const struct dev_smart_state *s)
{
	if (s->sched_download == 0 || s->sched_reboot_done)
		return 0;
	/* Without a reboot time the schedule is over once its download ran: the install is the user's. */
	return !s->sched_dl_done || s->sched_reboot != 0;
}

int64_t dev_smart_sched_download_at(const struct dev_smart_state *s)
{
	if (!dev_smart_scheduled(s))
		return -1;
	if (!s->sched_dl_done)
		return s->sched_download;
	return s->sched_dl_failed ? s->sched_reboot : -1;
}

void dev_smart_state_init(struct dev_smart_state *s)
{
	memset(s, 0, sizeof(*s));
	dev_smart_forget_step(s);
}

/* A time for JSON: null when 0 (never). */
static json_t *when_json(int64_t t)
{
	char iso[FW_ISOTIME_LEN];

	return t == 0 ? json_null() : json_string(fw_time_iso(t, iso));
}

static void gets_(const json_t *o, const char *k, char *out, size_t n);

/* The recommended patch, or null. */
static json_t *patch_json(const struct dev_smart_state *s)
{
	if (!s->has_patch)
		return json_null();
	return json_pack("{s:s, s:s, s:I, s:o}", "name", s->patch_name, "version", s->patch_version, "length",
			 (json_int_t)s->patch_length, "description", fw_json_text(s->patch_description));
}

static json_t *refused_json(const struct dev_smart_state *s)
{
	char hex[2 * FW_DIGEST_LEN + 1];
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < s->n_refused; i++) {
		fw_hex(s->refused[i].manifest_sha256, FW_DIGEST_LEN, hex);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "version", s->refused[i].version,
						   "manifest_sha256", hex, "result", s->refused[i].result, "running",
						   s->refused[i].running));
	}
	return a;
}

static void refused_from_json(const json_t *a, struct dev_smart_state *s)
{
	size_t i;
	const json_t *o;

	json_array_foreach(a, i, o) {
		const char *hex = json_string_value(json_object_get(o, "manifest_sha256"));
		struct dev_smart_refusal *f = &s->refused[s->n_refused];

		if (s->n_refused == DEV_SMART_REFUSED_MAX || hex == NULL ||
		    fw_unhex(hex, f->manifest_sha256, FW_DIGEST_LEN) < 0)
			continue;
		gets_(o, "version", f->version, sizeof(f->version));
		gets_(o, "result", f->result, sizeof(f->result));
		gets_(o, "running", f->running, sizeof(f->running));
		s->n_refused++;
	}
}

json_t *dev_smart_state_to_json(const struct dev_smart_state *s)
{
	char hex[2 * FW_DIGEST_LEN + 1];
	json_t *step = json_null(), *urls, *doc;

	if (s->has_step) {
		urls = json_array();
		for (unsigned i = 0; urls != NULL && i < s->step.n_urls; i++)
			json_array_append_new(urls, json_string(s->step.url[i]));
		fw_hex(s->step.manifest_sha256, FW_DIGEST_LEN, hex);
		step = json_pack("{s:s, s:o, s:I, s:s, s:s, s:I, s:s, s:s, s:I, s:b}", "version", s->step.version, "urls",
				 urls, "length", (json_int_t)s->step.length, "manifest_sha256", hex, "product",
				 s->step.product, "generation", (json_int_t)s->step.generation, "bridge_from",
				 s->step.bridge_from, "bridge_down", s->step.bridge_down, "rollback_index",
				 (json_int_t)s->step.rollback_index, "requires_tpm", s->step.requires_tpm);
		if (step != NULL && s->step.delta &&
		    json_object_set_new(step, "delta", json_pack("{s:s, s:I}", "base_version", s->step.base_version,
								 "full_length", (json_int_t)s->step.full_length)) < 0) {
			json_decref(step);
			step = NULL;
		}
	}
	doc = json_pack("{s:{s:I, s:o, s:s, s:o, s:s, s:I, s:i}, s:o, s:o, s:o, "
			 "s:{s:I, s:b, s:I, s:I, s:o, s:I, s:s, s:I, s:I, s:s, s:o, s:i, s:I}, "
			 "s:{s:I, s:o, s:s, s:s}}",
			 "check", "time", (json_int_t)s->check_time, "time_iso", when_json(s->check_time),
			 "result", dev_check_result_name(s->check_result), "message", fw_json_text(s->check_message),
			 "available", s->available, "next_check", (json_int_t)s->next_check, "failures",
			 s->check_failures,
			 "serial", s->has_serial ? json_integer((json_int_t)s->serial) : json_null(),
			 "expires", s->has_serial ? json_integer(s->expires) : json_null(),
			 "step", step,
			 "download", "bytes", (json_int_t)s->dl_bytes, "complete", s->dl_complete, "complete_time",
			 (json_int_t)s->dl_complete_time, "time", (json_int_t)s->dl_time, "time_iso", when_json(s->dl_time), "speed",
			 (json_int_t)s->dl_speed, "etag", s->dl_etag, "mtime", (json_int_t)s->dl_mtime, "size",
			 (json_int_t)s->dl_size, "result", s->dl_result, "message", fw_json_text(s->dl_message),
			 "failures", s->dl_failures, "retry_after", (json_int_t)s->dl_retry_after,
			 "install", "time", (json_int_t)s->install_time, "time_iso", when_json(s->install_time),
			 "result", s->install_result, "version", s->install_version);
	if (doc != NULL && (json_object_set_new(doc, "refused", refused_json(s)) < 0 ||
			    json_object_set_new(doc, "description", fw_json_text(s->description)) < 0 ||
			    json_object_set_new(doc, "patch", patch_json(s)) < 0 ||
			    json_object_set_new(doc, "schedule", json_pack("{s:I, s:I, s:b, s:b, s:b, s:s}", "download",
				(json_int_t)s->sched_download, "reboot", (json_int_t)s->sched_reboot, "download_done",
				s->sched_dl_done, "download_failed", s->sched_dl_failed, "reboot_done",
				s->sched_reboot_done, "reboot_result", s->sched_reboot_result)) < 0)) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

static int64_t geti(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void gets_(const json_t *o, const char *k, char *out, size_t n)
{
	const char *v = json_string_value(json_object_get(o, k));
	snprintf(out, n, "%s", v ? v : "");
}

static int check_parse(const char *s, enum dev_check_result *out)
{
	for (size_t i = 0; i < N_CHECKS; i++)
		if (strcmp(s, check_names[i]) == 0) {
			*out = (enum dev_check_result)i;
			return 0;
		}
	return -1;
}

static int step_from_json(const json_t *o, struct dev_smart_release *st)
{
	const json_t *urls = json_object_get(o, "urls"), *u;
	const char *hex = json_string_value(json_object_get(o, "manifest_sha256"));
	size_t i;

	gets_(o, "version", st->version, sizeof(st->version));
	st->length = (uint64_t)geti(o, "length");
	/* A state without them (an older fwctl's) binds nothing: the download finds fileNotMatch and checks again. */
	gets_(o, "product", st->product, sizeof(st->product));
	st->generation = (uint32_t)geti(o, "generation");
	gets_(o, "bridge_from", st->bridge_from, sizeof(st->bridge_from));
	gets_(o, "bridge_down", st->bridge_down, sizeof(st->bridge_down));
	st->rollback_index = (uint64_t)geti(o, "rollback_index");
	st->requires_tpm = json_is_true(json_object_get(o, "requires_tpm"));
	if (json_is_object(json_object_get(o, "delta"))) {
		st->delta = 1;
		gets_(json_object_get(o, "delta"), "base_version", st->base_version, sizeof(st->base_version));
		st->full_length = (uint64_t)geti(json_object_get(o, "delta"), "full_length");
	}
	if (!json_is_array(urls) || json_array_size(urls) == 0 || json_array_size(urls) > FW_CATALOG_MAX_URLS ||
	    hex == NULL || fw_unhex(hex, st->manifest_sha256, FW_DIGEST_LEN) < 0 || st->version[0] == '\0')
		return -1;
	json_array_foreach(urls, i, u) {
		if (!json_is_string(u) || strlen(json_string_value(u)) > DEV_SMART_URL_MAX)
			return -1;
		snprintf(st->url[i], sizeof(st->url[i]), "%s", json_string_value(u));
	}
	st->n_urls = (unsigned)json_array_size(urls);
	return 0;
}

int dev_smart_load(const struct dev_root *r, struct dev_smart_state *s, struct fw_err *err)
{
	char *path = dev_root_file(r, DEV_SMART_FILE);
	json_t *doc = NULL, *o;
	int missing = 0, rc = -1;

	dev_smart_state_init(s);
	if (path == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if ((doc = dev_json_read(path, &missing, err)) == NULL) {
		rc = missing ? 0 : -1;
		goto out;
	}
	o = json_object_get(doc, "check");
	s->check_time = geti(o, "time");
	gets_(o, "message", s->check_message, sizeof(s->check_message));
	gets_(o, "available", s->available, sizeof(s->available));
	s->next_check = geti(o, "next_check");
	s->check_failures = (unsigned)geti(o, "failures");
	if (json_object_get(o, "result") == NULL || check_parse(json_string_value(json_object_get(o, "result")) ?
							       json_string_value(json_object_get(o, "result")) : "",
							       &s->check_result) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: check.result: missing or unknown", path);
		goto out;
	}
	if (json_is_integer(json_object_get(doc, "serial"))) {
		s->has_serial = 1;
		s->serial = (uint64_t)geti(doc, "serial");
		s->expires = geti(doc, "expires");
	}
	o = json_object_get(doc, "step");
	if (json_is_object(o)) {
		if (step_from_json(o, &s->step) < 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: step: malformed", path);
			goto out;
		}
		s->has_step = 1;
	}
	o = json_object_get(doc, "download");
	s->dl_bytes = (uint64_t)geti(o, "bytes");
	s->dl_complete = json_is_true(json_object_get(o, "complete"));
	s->dl_complete_time = geti(o, "complete_time");
	s->dl_speed = (uint64_t)geti(o, "speed");
	gets_(o, "etag", s->dl_etag, sizeof(s->dl_etag));
	s->dl_mtime = geti(o, "mtime");
	s->dl_size = geti(o, "size");
	gets_(o, "result", s->dl_result, sizeof(s->dl_result));
	gets_(o, "message", s->dl_message, sizeof(s->dl_message));
	s->dl_failures = (unsigned)geti(o, "failures");
	s->dl_retry_after = geti(o, "retry_after");
	o = json_object_get(doc, "install");
	s->install_time = geti(o, "time");
	gets_(o, "result", s->install_result, sizeof(s->install_result));
	gets_(o, "version", s->install_version, sizeof(s->install_version));
	s->dl_time = geti(json_object_get(doc, "download"), "time");
	refused_from_json(json_object_get(doc, "refused"), s);
	gets_(doc, "description", s->description, sizeof(s->description));
	o = json_object_get(doc, "patch");
	if (json_is_object(o)) {
		s->has_patch = 1;
		gets_(o, "name", s->patch_name, sizeof(s->patch_name));
		gets_(o, "version", s->patch_version, sizeof(s->patch_version));
		s->patch_length = (uint64_t)geti(o, "length");
		gets_(o, "description", s->patch_description, sizeof(s->patch_description));
	}
	o = json_object_get(doc, "schedule");
	s->sched_download = geti(o, "download");
	s->sched_reboot = geti(o, "reboot");
	s->sched_dl_done = json_is_true(json_object_get(o, "download_done"));
	s->sched_dl_failed = json_is_true(json_object_get(o, "download_failed"));
	s->sched_reboot_done = json_is_true(json_object_get(o, "reboot_done"));
	gets_(o, "reboot_result", s->sched_reboot_result, sizeof(s->sched_reboot_result));
	rc = 0;
out:
	json_decref(doc);
	free(path);
	return rc;
}

int dev_smart_save(const struct dev_root *r, const struct dev_smart_state *s, struct fw_err *err)
{
	return dev_json_save(dev_root_file(r, DEV_SMART_FILE), dev_smart_state_to_json(s), err);
}

/* ---- decisions ---- */

const char *dev_smart_action_name(enum dev_smart_action a)
{
	static const char *const names[] = { "nothing", "check", "download", "install" };
	return (unsigned)a < 4 ? names[a] : "?";
}

int64_t dev_smart_backoff(unsigned n, int64_t interval)
{
	int64_t w = DEV_SMART_BACKOFF_FIRST;

	for (unsigned i = 1; i < n && w < DEV_SMART_BACKOFF_MAX; i++)
		w *= 2;
	if (w > DEV_SMART_BACKOFF_MAX)
		w = DEV_SMART_BACKOFF_MAX;
	return w < interval ? w : interval;
}

int64_t dev_smart_retry_wait(unsigned n, int64_t interval, long retry_after)
{
	int64_t w = dev_smart_backoff(n, interval);

	if (retry_after > w)
		w = retry_after < interval ? retry_after : interval;
	return w;
}

int dev_smart_parse_tod(const char *s)
{
	if (strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	return h < 24 && m < 60 ? h * 60 + m : -1;
}

/* Seconds since midnight UTC of t; floor, so times before 1970 work too. */
static int64_t day_start(int64_t t)
{
	int64_t d = t / 86400;
	if (t % 86400 < 0)
		d--;
	return d * 86400;
}

int64_t dev_smart_next_tod(int64_t t, int minute)
{
	int64_t c = day_start(t) + (int64_t)minute * 60;
	return c < t ? c + 86400 : c;
}

int dev_smart_in_window(int64_t t, int start, int end)
{
	int m = (int)((t - day_start(t)) / 60);

	if (start < 0 || end < 0 || start == end)
		return 1;
	if (start < end)
		return m >= start && m < end;
	return m >= start || m < end;   /* crossing midnight */
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

void dev_smart_plan(const struct dev_smart_config *c, const struct dev_smart_state *s, int64_t now, int on_trial,
		    unsigned skip, struct dev_smart_plan *p)
{
	p->due = DEV_SMART_NOTHING;
	p->next_check = p->next_download = p->next_install = -1;
	if (!c->enabled || c->server[0] == '\0')
		return;

	/* A check: at the interval after the last one; earlier or later when next_check says (backoff, install). */
	if (s->check_time == 0)
		p->next_check = max64(now, s->next_check);
	else if (s->next_check != 0)
		p->next_check = s->next_check;
	else
		p->next_check = s->check_time + c->interval;
	/* A changed, shorter interval counts from the last check, and a backoff never waits longer than it. */
	if (s->check_time != 0 && p->next_check > s->check_time + c->interval)
		p->next_check = s->check_time + c->interval;
	if (p->next_check < now)
		p->next_check = now;

	if (s->has_step && !s->dl_complete) {
		int64_t t = max64(now, s->dl_retry_after);
		p->next_download = dev_smart_in_window(t, c->window_start, c->window_end)
					   ? t : dev_smart_next_tod(t, c->window_start);
	}
	if (s->has_step && s->dl_complete)
		p->next_install = max64(now, c->install_at < 0 ? s->dl_complete_time
							      : dev_smart_next_tod(s->dl_complete_time, c->install_at));

	if (dev_smart_scheduled(s)) {
		int64_t at = dev_smart_sched_download_at(s);

		p->next_download = p->next_install = -1;
		if (at > 0) {
			int64_t t = max64(now, at);
			/* A check at the scheduled time, unless one ran since; then its download, the window aside. */
			if (s->check_time < at) {
				if (t < p->next_check)
					p->next_check = t;
			} else if (s->has_step && !s->dl_complete) {
				p->next_download = t;
			}
		}
		if (s->sched_reboot != 0 && s->has_step && s->dl_complete)
			p->next_install = max64(now, max64(s->dl_complete_time, s->sched_reboot));
	} else if (s->sched_download != 0 && !s->sched_reboot_done && s->sched_reboot == 0) {
		p->next_install = -1;   /* downloaded by the schedule, installed by hand (fwctl smart install) */
	}

	if (p->next_check == now && !(skip & (1u << DEV_SMART_CHECK)))
		p->due = DEV_SMART_CHECK;
	else if (p->next_download == now && !(skip & (1u << DEV_SMART_DOWNLOAD)))
		p->due = DEV_SMART_DOWNLOAD;
	else if (p->next_install == now && !on_trial && !(skip & (1u << DEV_SMART_INSTALL)))
		p->due = DEV_SMART_INSTALL;
}

unsigned dev_smart_rollout_bucket(const char *device_id, const char *product, const char *version)
{
	char text[3 * 300];
	uint8_t d[32];
	uint64_t v = 0;
	int n = snprintf(text, sizeof(text), "%s\n%s\n%s", device_id, product, version);

	if (n < 0 || (size_t)n >= sizeof(text) || chunk_sha256(text, (size_t)n, d) < 0)
		return 99;   /* cannot happen with valid names; the safe side: only a 100% rollout takes it */
	for (int i = 0; i < 8; i++)
		v = v << 8 | d[i];
	return (unsigned)(v % 100);
}

int dev_smart_now(int64_t *now, struct fw_err *err)
{
	const char *e = getenv("FWCTL_NOW");
	struct tm tm;
	char *end;

	if (e == NULL || e[0] == '\0') {
		*now = (int64_t)time(NULL);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(e, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end != NULL && *end == '\0' && fw_time_of_tm(&tm, now) == 0)
		return 0;
	long long n = strtoll(e, &end, 10);
	if (*end != '\0' || n < 0)
		return fw_err_set(err, FW_EXIT_USAGE, "FWCTL_NOW=%s: expected YYYY-MM-DDTHH:MM:SSZ or seconds since the epoch",
				  e);
	*now = n;
	return 0;
}

/* A time for status: ISO 8601, or null when none (-1 or 0). */
static json_t *iso_or_null(int64_t t)
{
	char iso[FW_ISOTIME_LEN];

	return t <= 0 ? json_null() : json_string(fw_time_iso(t, iso));
}

json_t *dev_smart_status_json(const struct dev_smart_config *c, const struct dev_smart_state *s, int64_t now,
			      int on_trial)
{
	struct dev_smart_plan p;
	struct dev_smart_config shown = *c;
	char hex[2 * FW_DIGEST_LEN + 1], url[sizeof(s->step.url[0])];
	json_t *step = json_null(), *doc;

	/* Passwords in URLs are the device's to use, not the status's to show. */
	dev_source_hide_password(shown.server);
	c = &shown;
	dev_smart_plan(c, s, now, on_trial, 0, &p);
	if (s->has_step) {
		fw_hex(s->step.manifest_sha256, FW_DIGEST_LEN, hex);
		snprintf(url, sizeof(url), "%s", s->step.url[0]);
		dev_source_hide_password(url);
		step = json_pack("{s:s, s:s, s:I, s:s}", "version", s->step.version, "url", url, "length",
				 (json_int_t)s->step.length, "manifest_sha256", hex);
		/* A delta: what it is built against, and the bytes it saves over the full package. */
		if (step != NULL && s->step.delta &&
		    json_object_set_new(step, "delta", json_pack("{s:s, s:I, s:I}", "base_version", s->step.base_version,
								 "full_length", (json_int_t)s->step.full_length, "saved",
								 (json_int_t)(s->step.full_length > s->step.length ?
									      s->step.full_length - s->step.length : 0))) < 0) {
			json_decref(step);
			step = NULL;
		}
	}
	doc = json_pack("{"
			 "s:{s:o, s:s, s:o, s:o, s:i}, "
			 "s:o, s:o, "
			 "s:{s:o, s:o, s:I, s:o, s:o, s:s, s:o, s:i}, "
			 "s:{s:o, s:o, s:o}, "
			 "s:{s:o, s:s, s:s}}",
			 "check", "time", iso_or_null(s->check_time), "result", dev_check_result_name(s->check_result),
			 "message", fw_json_text(s->check_message), "available",
			 s->available[0] ? json_string(s->available) : json_null(), "failures", s->check_failures,
			 "catalog", s->has_serial ? json_pack("{s:I, s:o}", "serial", (json_int_t)s->serial, "expires",
							    iso_or_null(s->expires)) : json_null(),
			 "next_release", step,
			 /* With no release in hand (none named, or installed and forgotten) there is no download to
			  * measure: null, not "0 bytes, not complete"; result and time say how the last one ended. */
			 "download", "bytes", s->has_step ? json_integer((json_int_t)s->dl_bytes) : json_null(), "total",
			 s->has_step ? json_integer((json_int_t)s->step.length) : json_null(),
			 "speed", (json_int_t)s->dl_speed, "complete", s->has_step ? json_boolean(s->dl_complete) : json_null(),
			 "time", iso_or_null(s->dl_time),
			 "result", s->dl_result, "message", fw_json_text(s->dl_message), "failures", s->dl_failures,
			 "scheduled", "check", iso_or_null(p.next_check), "download", iso_or_null(p.next_download),
			 "install", iso_or_null(p.next_install),
			 "last_install", "time", iso_or_null(s->install_time), "result", s->install_result, "version",
			 s->install_version);
	if (doc != NULL && (json_object_set_new(doc, "refused", refused_json(s)) < 0 ||
			    json_object_set_new(doc, "description", fw_json_text(s->description)) < 0 ||
			    json_object_set_new(doc, "patch", patch_json(s)) < 0 ||
			    json_object_set_new(doc, "schedule", json_pack("{s:o, s:o, s:b, s:b, s:b, s:s}", "download",
				iso_or_null(s->sched_download), "reboot", iso_or_null(s->sched_reboot), "download_done",
				s->sched_dl_done, "download_failed", s->sched_dl_failed, "reboot_done",
				s->sched_reboot_done, "reboot_result", s->sched_reboot_result)) < 0)) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

int dev_smart_reset_serial(const struct dev_root *r, int *had, uint64_t *old, struct fw_err *err)
{
	struct dev_smart_state s;

	if (dev_smart_load(r, &s, err) < 0)
		return -1;
	*had = s.has_serial;
	*old = s.serial;
	if (!s.has_serial)
		return 0;
	s.has_serial = 0;
	s.serial = 0;
	s.expires = 0;
	return dev_smart_save(r, &s, err);
}
