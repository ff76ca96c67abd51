/* pkcs11_engine_sign: CMS keys on a token through OpenSSL's pkcs11 engine (libp11); the one file using the deprecated ENGINE API. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "pkcs11_sign.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/engine.h>
#include <openssl/err.h>

#include "signing/cms_sign.h"
#include "signing/ossl.h"

/* The CMS signer's own context and the engine its key lives in (released after the key). */
struct engine_signer {
	void *inner;
	int (*inner_sign)(void *ctx, const void *msg, size_t len, const char *trusted_comment, int64_t when,
			  char **out, size_t *out_len, struct fw_err *err);
	void (*inner_free)(void *ctx);
	ENGINE *e;
};

static int engine_sign(void *ctx, const void *msg, size_t len, const char *trusted_comment, int64_t when,
		       char **out, size_t *out_len, struct fw_err *err)
{
	struct engine_signer *es = ctx;

	return es->inner_sign(es->inner, msg, len, trusted_comment, when, out, out_len, err);
}

static void engine_free(void *ctx)
{
	struct engine_signer *es = ctx;

	if (es == NULL)
		return;
	if (es->inner_free != NULL)
		es->inner_free(es->inner);
	if (es->e != NULL) {
		ENGINE_finish(es->e);
		ENGINE_free(es->e);
	}
	free(es);
}

int sig_signer_pkcs11_cms(const struct sig_p11_uri *u, const char *module, const char *pin,
			  const char *cert_path, const char *const *inter, size_t n_inter,
			  struct sig_signer **out, struct fw_err *err)
{
	struct engine_signer *es = calloc(1, sizeof(*es));
	struct sig_signer *s = NULL;
	EVP_PKEY *key = NULL;
	ENGINE *e = NULL;
	int inited = 0, rc = -1;

	if (es == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	ERR_clear_error();
	ENGINE_load_builtin_engines();
	e = ENGINE_by_id("pkcs11");
	if (e == NULL) {
		sig_ossl_err(err, FW_EXIT_IO, "cannot load OpenSSL's pkcs11 engine (libengine-pkcs11-openssl)");
		goto out;
	}
	/* libp11 prints its complaints on stderr unless told not to: ours is the one message. */
	if (ENGINE_ctrl_cmd(e, "QUIET", 0, NULL, NULL, 0) != 1 ||
	    ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) != 1 || ENGINE_ctrl_cmd_string(e, "PIN", pin, 0) != 1) {
		sig_ossl_err(err, FW_EXIT_IO, "pkcs11 engine: cannot set the module or the PIN");
		goto out;
	}
	if (ENGINE_init(e) != 1) {
		sig_ossl_err(err, FW_EXIT_USAGE, "%s: the pkcs11 engine cannot use this PKCS#11 module", module);
		goto out;
	}
	inited = 1;
	key = ENGINE_load_private_key(e, u->clean, NULL, NULL);
	if (key == NULL) {
		sig_ossl_err(err, FW_EXIT_CREDENTIALS, "%s (%s): cannot load the private key",
			     u->clean, module);
		goto out;
	}
	if (sig_signer_cms(key, cert_path, inter, n_inter, &s, err) < 0) {   /* takes key */
		/* libp11 cannot give a key's public half when the token has none: say that, not "mismatch". */
		if (err->kind == FW_KIND_KEY_MISMATCH)
			sig_p11_explain_mismatch(u, module, pin, cert_path, err);
		goto out;
	}
	es->inner = s->ctx;
	es->inner_sign = s->sign;
	es->inner_free = s->free;
	es->e = e;
	e = NULL;
	s->ctx = es;
	s->sign = engine_sign;
	s->free = engine_free;
	es = NULL;
	*out = s;
	rc = 0;
out:
	free(es);
	if (e != NULL) {
		if (inited)
			ENGINE_finish(e);
		ENGINE_free(e);
	}
	return rc;
}
