/* dev_state: ROOT/state.json, read and replaced atomically. */
#include "dev_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fw_limits.h"
#include "base/escape.h"
#include "device/dev_file.h"
#include "formats/manifest.h"

static const char *const result_names[] = {
	[DEV_RESULT_NONE] = "none",
	[DEV_RESULT_SUCCESS] = "success",
	[DEV_RESULT_SIGNATURE_FAILED] = "signatureFailed",
	[DEV_RESULT_POLICY_REFUSED] = "policyRefused",
	[DEV_RESULT_FILE_CHECK_FAILED] = "fileCheckFailed",
	[DEV_RESULT_WRITE_FLASH_FAILED] = "writeFlashFailed",
	[DEV_RESULT_FILE_NOT_MATCH] = "fileNotMatch",
	[DEV_RESULT_NET_ERROR] = "netError",
	[DEV_RESULT_CANCELLED] = "upgradeCancelled",
	[DEV_RESULT_SYSTEM_ERROR] = "systemError",
	[DEV_RESULT_IN_PROGRESS] = "inProgress",
	[DEV_RESULT_ROLLED_BACK] = "rolledBack",
	[DEV_RESULT_SECURITY_VIOLATION] = "securityViolation",
	[DEV_RESULT_ABNORMAL_RESET] = "abnormalReset",
	[DEV_RESULT_SERVER_LIMIT] = "serverSpecUpLimit",
	[DEV_RESULT_CERT_OUT_DATE] = "CertOutDate",
};
#define N_RESULTS (sizeof(result_names) / sizeof(result_names[0]))

const char *dev_result_name(enum dev_result r)
{
	return (unsigned)r < N_RESULTS ? result_names[r] : "unknown";
}

static const char *const cancel_names[] = {
	[DEV_CANCEL_NONE] = NULL,
	[DEV_CANCEL_CANCELLING] = "cancelling",
	[DEV_CANCEL_SUCCESSFUL] = "successful",
	[DEV_CANCEL_FAILED] = "failed",
};
#define N_CANCELS (sizeof(cancel_names) / sizeof(cancel_names[0]))

const char *dev_cancel_name(enum dev_cancel c)
{
	return (unsigned)c < N_CANCELS ? cancel_names[c] : NULL;
}

static enum dev_cancel cancel_parse(const char *s)
{
	for (size_t i = 1; s != NULL && i < N_CANCELS; i++)
		if (strcmp(s, cancel_names[i]) == 0)
			return (enum dev_cancel)i;
	return DEV_CANCEL_NONE;
}

enum dev_result dev_result_of_net(const struct fw_err *err)
{
	if (err->code != FW_EXIT_NET)
		return DEV_RESULT_SYSTEM_ERROR;
	if (err->kind == FW_KIND_THROTTLED)
		return DEV_RESULT_SERVER_LIMIT;
	if (err->kind == FW_KIND_CERT_TIME)
		return DEV_RESULT_CERT_OUT_DATE;
	return DEV_RESULT_NET_ERROR;
}

int dev_result_network(enum dev_result r)
{
	return r == DEV_RESULT_NET_ERROR || r == DEV_RESULT_SERVER_LIMIT || r == DEV_RESULT_CERT_OUT_DATE;
}

static int result_parse(const char *s, enum dev_result *out)
{
	for (size_t i = 0; i < N_RESULTS; i++)
		if (strcmp(s, result_names[i]) == 0) {
			*out = (enum dev_result)i;
			return 0;
		}
	return -1;
}

/* A set of slots as a JSON list in slot order: ["pri", "sec"]. */
static json_t *targets_to_json(unsigned set)
{
	json_t *a = json_array();

	for (int t = 0; a != NULL && t < DEV_SLOT_COUNT; t++)
		if ((set & (1u << t)) && json_array_append_new(a, json_string(dev_slot_name(t))) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static unsigned targets_from_json(const json_t *a)
{
	unsigned set = 0;
	size_t i;
	const json_t *v;
	int slot;

	json_array_foreach(a, i, v)
		if (dev_slot_parse(json_string_value(v), &slot) == 0)
			set |= 1u << slot;
	return set;
}

json_t *dev_last_upgrade_to_json(const struct dev_last_upgrade *l)
{
	json_t *o;
	char when[32];

	if (l->result == DEV_RESULT_NONE)
		return json_null();
	fw_time_iso(l->time, when);
	o = json_object();
	if (o == NULL || json_object_set_new(o, "result", json_string(dev_result_name(l->result))) < 0 ||
	    json_object_set_new(o, "time", json_string(when)) < 0 ||
	    json_object_set_new(o, "target", json_string(l->target)) < 0 ||
	    json_object_set_new(o, "source", fw_json_text(l->source)) < 0 ||
	    json_object_set_new(o, "version", fw_json_text(l->version)) < 0 ||
	    json_object_set_new(o, "message", fw_json_text(l->message)) < 0 ||
	    json_object_set_new(o, "hook_stderr", fw_json_text(l->hook_stderr)) < 0 ||
	    json_object_set_new(o, "installed", targets_to_json(l->installed)) < 0 ||
	    json_object_set_new(o, "not_installed", targets_to_json(l->not_installed)) < 0 ||
	    json_object_set_new(o, "cancellation", dev_cancel_name(l->cancel) ? json_string(dev_cancel_name(l->cancel))
									   : json_null()) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *dev_state_to_json(const struct dev_state *st)
{
	json_t *o = json_object(), *last = dev_last_upgrade_to_json(&st->last);
	const char *booted = st->booted == DEV_BOOTED_NONE ? "none" : dev_slot_name(st->booted);
	int bad = o == NULL || last == NULL;

	if (!bad)
		bad = json_object_set_new(o, "rollback_index", json_integer((json_int_t)st->rollback_index)) < 0 ||
		      json_object_set_new(o, "booted", json_string(booted)) < 0 ||
		      json_object_set_new(o, "booted_version", json_string(st->booted_version)) < 0 ||
		      json_object_set_new(o, "booted_digest", json_string(st->booted_digest)) < 0 ||
		      json_object_set_new(o, "partner_digest", json_string(st->partner_digest)) < 0 ||
		      json_object_set_new(o, "boot_note", fw_json_text(st->boot_note)) < 0 ||
		      json_object_set_new(o, "trial_boots", json_integer(st->trial_boots)) < 0 ||
		      json_object_set_new(o, "golden_next", json_boolean(st->golden_next)) < 0 ||
		      json_object_set_new(o, "booted_generation", json_integer(st->booted_generation)) < 0 ||
		      json_object_set(o, "last_upgrade", last) < 0;
	json_decref(last);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void copy_str(char *dst, size_t n, const json_t *v)
{
	snprintf(dst, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int dev_state_load(const struct dev_root *r, struct dev_state *st, struct fw_err *err)
{
	char *path = dev_root_file(r, DEV_STATE_FILE);
	json_t *doc = NULL, *last;
	const json_t *v;
	int64_t when;
	int slot;
	int missing = 0, rc = -1;

	memset(st, 0, sizeof(*st));
	st->booted = DEV_BOOTED_NONE;
	if (path == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if ((doc = dev_json_read(path, &missing, err)) == NULL) {
		rc = missing ? 0 : -1;
		goto out;
	}
	v = json_object_get(doc, "rollback_index");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: rollback_index: missing or negative", path);
		goto out;
	}
	st->rollback_index = (uint64_t)json_integer_value(v);
	v = json_object_get(doc, "booted");
	if (dev_slot_parse(json_string_value(v), &slot) == 0)
		st->booted = slot;
	copy_str(st->booted_version, sizeof(st->booted_version), json_object_get(doc, "booted_version"));
	copy_str(st->booted_digest, sizeof(st->booted_digest), json_object_get(doc, "booted_digest"));
	copy_str(st->partner_digest, sizeof(st->partner_digest), json_object_get(doc, "partner_digest"));
	copy_str(st->boot_note, sizeof(st->boot_note), json_object_get(doc, "boot_note"));
	v = json_object_get(doc, "trial_boots");
	st->trial_boots = json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= FW_TRIAL_COUNT_MAX
				  ? (unsigned)json_integer_value(v) : 0;
	st->golden_next = json_is_true(json_object_get(doc, "golden_next"));
	v = json_object_get(doc, "booted_generation");
	st->booted_generation = json_is_integer(v) && json_integer_value(v) > 0 &&
					json_integer_value(v) <= UINT32_MAX
				? (uint32_t)json_integer_value(v) : 0;
	last = json_object_get(doc, "last_upgrade");
	if (json_is_object(last)) {
		v = json_object_get(last, "result");
		if (!json_is_string(v) || result_parse(json_string_value(v), &st->last.result) < 0)
			st->last.result = DEV_RESULT_SYSTEM_ERROR;
		/* ISO 8601 (fwctl(8), "Times in JSON"); seconds, as state files before it wrote them, still read. */
		v = json_object_get(last, "time");
		if (json_is_integer(v))
			st->last.time = (long long)json_integer_value(v);
		else if (fw_time_parse(json_string_value(v), &when) == 0)
			st->last.time = (long long)when;
		copy_str(st->last.target, sizeof(st->last.target), json_object_get(last, "target"));
		copy_str(st->last.source, sizeof(st->last.source), json_object_get(last, "source"));
		copy_str(st->last.version, sizeof(st->last.version), json_object_get(last, "version"));
		copy_str(st->last.message, sizeof(st->last.message), json_object_get(last, "message"));
		copy_str(st->last.hook_stderr, sizeof(st->last.hook_stderr), json_object_get(last, "hook_stderr"));
		st->last.installed = targets_from_json(json_object_get(last, "installed"));
		st->last.not_installed = targets_from_json(json_object_get(last, "not_installed"));
		st->last.cancel = cancel_parse(json_string_value(json_object_get(last, "cancellation")));
	}
	rc = 0;
out:
	json_decref(doc);
	free(path);
	return rc;
}

int dev_state_save(const struct dev_root *r, const struct dev_state *st, struct fw_err *err)
{
	return dev_json_save(dev_root_file(r, DEV_STATE_FILE), dev_state_to_json(st), err);
}
