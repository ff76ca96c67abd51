/* unlock_sign: make an unlock token (host only: signs with a secret key). */
#include "unlock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "signing/minisign.h"

int sig_unlock_create(const struct sig_seckey *k, const char *device, int64_t expires, int64_t created,
		      char **out, size_t *out_len, struct fw_err *err)
{
	return sig_unlock_create_keys(&k, 1, device, expires, created, out, out_len, err);
}

int sig_unlock_create_keys(const struct sig_seckey *const *keys, size_t n_keys, const char *device, int64_t expires,
			   int64_t created, char **out, size_t *out_len, struct fw_err *err)
{
	json_t *body = NULL, *doc = NULL;
	char *body_text = NULL, *sig = NULL, *one = NULL, *text = NULL, comment[256];
	size_t sig_len = 0, one_len;
	int rc = -1;

	*out = NULL;
	body = json_pack("{s:s, s:I, s:I}", "device", device, "expires", (json_int_t)expires, "created",
			 (json_int_t)created);
	if (body == NULL || (body_text = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	snprintf(comment, sizeof(comment), "type:unlock-token\tdevice:%s\texpires:%lld", device, (long long)expires);
	/* Several keys: their signatures one after another, as the device's trust decision reads them. */
	for (size_t i = 0; i < n_keys; i++) {
		if (sig_sign(keys[i], body_text, strlen(body_text), comment, &one, &one_len, err) < 0 ||
		    sig_append(&sig, &sig_len, one, one_len, err) < 0)
			goto out;
		free(one);
		one = NULL;
	}
	doc = json_pack("{s:s, s:i, s:s, s:s%}", "format", SIG_UNLOCK_FORMAT, "format_version", 1, "token", body_text,
			"signature", sig, sig_len);
	if (doc == NULL || (text = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2))) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (asprintf(out, "%s\n", text) < 0) {
		*out = NULL;
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	*out_len = strlen(*out);
	rc = 0;
out:
	free(text);
	free(one);
	free(sig);
	free(body_text);
	json_decref(body);
	json_decref(doc);
	return rc;
}
