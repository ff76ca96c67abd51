/* unlock: parse an unlock token, check its minisign signature, judge device and expiry. */
#include "unlock.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/escape.h"
#include "signing/accept.h"
#include "signing/minisign.h"

/* Device ids: what fw_name_valid allows (letters, digits, '.', '_', '+', '-'), not starting with '.'. */
static int device_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '+' || *s == '-'))
			return 0;
	return 1;
}

static int parse_body(const char *body, size_t len, struct sig_unlock *out, struct fw_err *err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *v;
	const char *key;
	int rc = -1;

	if (doc == NULL || !json_is_object(doc)) {
		fw_err_set(err, FW_EXIT_REJECTED, "token body: not a JSON object");
		goto out;
	}
	json_object_foreach(doc, key, v)
		if (strcmp(key, "device") != 0 && strcmp(key, "expires") != 0 && strcmp(key, "created") != 0) {
			char shown[128];
			fw_err_set(err, FW_EXIT_REJECTED, "token body: unknown key \"%s\"", fw_escape(key, shown, sizeof(shown)));
			goto out;
		}
	v = json_object_get(doc, "device");
	if (!json_is_string(v) || !device_id_valid(json_string_value(v))) {
		fw_err_set(err, FW_EXIT_REJECTED, "token body: device: missing or not a device id");
		goto out;
	}
	snprintf(out->device, sizeof(out->device), "%s", json_string_value(v));
	v = json_object_get(doc, "expires");
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		fw_err_set(err, FW_EXIT_REJECTED, "token body: expires: missing or not a positive time");
		goto out;
	}
	out->expires = (int64_t)json_integer_value(v);
	v = json_object_get(doc, "created");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		fw_err_set(err, FW_EXIT_REJECTED, "token body: created: missing or negative");
		goto out;
	}
	out->created = (int64_t)json_integer_value(v);
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

/* The bytes of the first of the signatures one after another in sig: its four lines. */
static size_t first_len(const char *sig, size_t len)
{
	const char *p = sig, *end = sig + len, *line;
	size_t llen;

	for (int i = 0; i < 4 && sig_next_line(&p, end, &line, &llen) == 0; i++)
		;
	return (size_t)(p - sig);
}

int sig_unlock_parse(const char *text, size_t len, const struct sig_trust *trust, struct sig_unlock *out,
		     struct fw_err *err)
{
	json_error_t jerr;
	json_t *doc = NULL, *v, *body, *sigv;
	struct sig_signature sig;
	char expect[256], signers[SIG_SIGNERS_MAX];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > SIG_UNLOCK_MAX)
		return fw_err_set(err, FW_EXIT_REJECTED, "more than %d bytes: not an unlock token", SIG_UNLOCK_MAX);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		fw_err_set(err, FW_EXIT_REJECTED, "not an unlock token (not a JSON object)");
		goto out;
	}
	v = json_object_get(doc, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), SIG_UNLOCK_FORMAT) != 0) {
		fw_err_set(err, FW_EXIT_REJECTED, "not an unlock token (format is not \"%s\")", SIG_UNLOCK_FORMAT);
		goto out;
	}
	v = json_object_get(doc, "format_version");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		fw_err_set(err, FW_EXIT_REJECTED, "unlock token format_version: only 1 is known");
		goto out;
	}
	body = json_object_get(doc, "token");
	sigv = json_object_get(doc, "signature");
	if (!json_is_string(body) || !json_is_string(sigv) || json_object_size(doc) != 4) {
		fw_err_set(err, FW_EXIT_REJECTED, "unlock token: expected exactly format, format_version, token, signature");
		goto out;
	}
	/* The first signature names the signer in messages; sig_accept_detached checks them all. */
	if (sig_signature_parse(json_string_value(sigv), first_len(json_string_value(sigv), json_string_length(sigv)),
				&sig, err) < 0) {
		err->kind = FW_KIND_SIGNATURE;
		fw_err_wrap(err, "unlock token signature");
		goto out;
	}
	sig_keyid_str(sig.keyid, out->keyid);
	if (parse_body(json_string_value(body), json_string_length(body), out, err) < 0)
		goto out;
	snprintf(expect, sizeof(expect), "type:unlock-token\tdevice:%s\texpires:%lld", out->device,
		 (long long)out->expires);
	/* Every signature's trusted comment repeats device and expiry; the trust decision checks each. */
	if (strcmp(sig.trusted_comment, expect) != 0) {
		fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
			    "unlock token: the signature's trusted comment does not match the token");
		goto out;
	}
	if (trust != NULL && sig_accept_detached(trust, SIG_KIND_MINISIGN, json_string_value(body),
						 json_string_length(body), json_string_value(sigv),
						 json_string_length(sigv), expect, signers, err) < 0) {
		fw_err_wrap(err, "unlock token");
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

int sig_unlock_check(const struct sig_unlock *u, const char *device, int64_t now, struct fw_err *err)
{
	if (strcmp(u->device, device) != 0)
		return fw_err_set(err, FW_EXIT_REJECTED, "unlock token is for device %s, not this device (%s)", u->device,
				  device);
	if (now >= u->expires)
		return fw_err_set(err, FW_EXIT_REJECTED, "unlock token expired (valid until %lld)", (long long)u->expires);
	return 0;
}
