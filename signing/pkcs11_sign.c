/* pkcs11_sign: keys on a token through PKCS#11 (RFC 7512 URIs): Ed25519 minisign signatures, key generation (host only). */
#include "pkcs11_sign.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "signing/ossl.h"

/* ---- URIs (RFC 7512) ---- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decode s[0..n) into out (cap bytes, NUL added); -1 on a bad escape or overflow. */
static int pct_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (o + 1 >= cap)
			return -1;
		if (s[i] != '%') {
			out[o++] = (uint8_t)s[i];
			continue;
		}
		if (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
			return -1;
		out[o++] = (uint8_t)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
	}
	out[o] = '\0';
	*len = o;
	return 0;
}

static int text_attr(const char *name, const char *v, size_t n, char *out, size_t cap, struct fw_err *err)
{
	size_t len;

	if (pct_decode(v, n, (uint8_t *)out, cap, &len) < 0 || strlen(out) != len)
		return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI: bad %s value", name);
	return 0;
}

int sig_p11_uri_parse(const char *uri, struct sig_p11_uri *out, struct fw_err *err)
{
	const char *p, *end, *q;

	memset(out, 0, sizeof(*out));
	if (strncmp(uri, "pkcs11:", 7) != 0)
		return fw_err_set(err, FW_EXIT_USAGE, "not a pkcs11: URI");
	q = strchr(uri, '?');
	end = q ? q : uri + strlen(uri);
	if ((size_t)(end - uri) >= sizeof(out->clean))
		return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI too long");
	memcpy(out->clean, uri, (size_t)(end - uri));
	out->clean[end - uri] = '\0';
	for (p = uri + 7; p < end;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		size_t klen = eq ? (size_t)(eq - p) : 0;
		const char *v = eq ? eq + 1 : NULL;
		size_t vlen = eq ? (size_t)(stop - v) : 0;

		if (stop == p) {
			p = stop + 1;
			continue;
		}
		if (eq == NULL)
			return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI: attribute without a value");
		if (klen == 5 && memcmp(p, "token", 5) == 0) {
			if (text_attr("token", v, vlen, out->token, sizeof(out->token), err) < 0)
				return -1;
		} else if (klen == 6 && memcmp(p, "object", 6) == 0) {
			if (text_attr("object", v, vlen, out->object, sizeof(out->object), err) < 0)
				return -1;
		} else if (klen == 2 && memcmp(p, "id", 2) == 0) {
			if (pct_decode(v, vlen, out->id, sizeof(out->id), &out->id_len) < 0)
				return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI: bad id value");
			out->has_id = 1;
		} else if (klen == 4 && memcmp(p, "type", 4) == 0) {
			if (!(vlen == 7 && memcmp(v, "private", 7) == 0) && !(vlen == 6 && memcmp(v, "public", 6) == 0))
				return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI: type must be private");
		} else {
			return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI: attribute \"%.*s\" is not supported "
					  "(token, object, id, type)", (int)klen, p);
		}
		p = stop + (semi ? 1 : 0);
	}
	for (p = q ? q + 1 : end; *p;) {
		const char *amp = strchr(p, '&');
		const char *stop = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		size_t klen = eq ? (size_t)(eq - p) : 0;

		if (eq == NULL)
			return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI: query attribute without a value");
		if (klen == 11 && memcmp(p, "module-path", 11) == 0) {
			if (text_attr("module-path", eq + 1, (size_t)(stop - eq - 1), out->module, sizeof(out->module), err) < 0)
				return -1;
		} else if (klen == 10 && memcmp(p, "pin-source", 10) == 0) {
			if (text_attr("pin-source", eq + 1, (size_t)(stop - eq - 1), out->pin_source,
				      sizeof(out->pin_source), err) < 0)
				return -1;
			if (strncmp(out->pin_source, "file:", 5) == 0)
				memmove(out->pin_source, out->pin_source + 5, strlen(out->pin_source + 5) + 1);
		} else if (klen == 9 && memcmp(p, "pin-value", 9) == 0) {
			return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI: pin-value would put the PIN on the command line; "
					  "use pin-source=FILE, FWPKG_PKCS11_PIN or the prompt");
		} else {
			return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI: query attribute \"%.*s\" is not supported "
					  "(module-path, pin-source)", (int)klen, p);
		}
		p = amp ? amp + 1 : stop;
	}
	return 0;
}

/* ---- a session on a token ---- */

struct p11 {
	void *lib;
	CK_FUNCTION_LIST_PTR f;
	int finalize;                 /* we initialised the module */
	CK_SESSION_HANDLE s;
	int have_session, logged_in;
	CK_OBJECT_HANDLE key;
	uint8_t keyid[SIG_KEYID_LEN];
	char what[600];               /* "token \"fw\" (module)" for messages */
};

static const char *rv_text(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT: return "wrong PIN";
	case CKR_PIN_LOCKED: return "PIN locked";
	case CKR_PIN_LEN_RANGE: return "PIN of the wrong length";
	case CKR_TOKEN_NOT_PRESENT: return "token not present";
	case CKR_DEVICE_REMOVED: return "device removed";
	case CKR_MECHANISM_INVALID: return "mechanism not supported by the token";
	case CKR_KEY_TYPE_INCONSISTENT: return "key type does not fit the mechanism";
	case CKR_USER_NOT_LOGGED_IN: return "not logged in";
	case CKR_TEMPLATE_INCONSISTENT: return "template inconsistent";
	case CKR_ATTRIBUTE_VALUE_INVALID: return "attribute value invalid";
	case CKR_DEVICE_ERROR: return "device error";
	case CKR_GENERAL_ERROR: return "general error";
	default: return NULL;
	}
}

static int p11_fail(struct p11 *p, CK_RV rv, const char *call, struct fw_err *err)
{
	const char *t = rv_text(rv);

	if (t != NULL)
		return fw_err_set(err, rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_LEN_RANGE ||
					       rv == CKR_PIN_EXPIRED ? FW_EXIT_CREDENTIALS : FW_EXIT_IO,
				  "%s: %s: %s", p->what, call, t);
	return fw_err_set(err, FW_EXIT_IO, "%s: %s: PKCS#11 error 0x%lx", p->what, call, (unsigned long)rv);
}

static void p11_close(struct p11 *p)
{
	if (p->f != NULL) {
		if (p->logged_in)
			p->f->C_Logout(p->s);
		if (p->have_session)
			p->f->C_CloseSession(p->s);
		if (p->finalize)
			p->f->C_Finalize(NULL);
	}
	/* The module stays loaded: modules may keep threads or atexit handlers
	 * (and a leak checker needs their symbols to name a module's own leaks). */
	memset(p, 0, sizeof(*p));
}

/* Copy a blank-padded PKCS#11 text field into a C string. */
static void padded(const unsigned char *field, size_t n, char *out)
{
	while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\0'))
		n--;
	memcpy(out, field, n);
	out[n] = '\0';
}

/* Load the module, find the token, open a session and log in. */
static int p11_open(struct p11 *p, const struct sig_p11_uri *u, const char *module, const char *pin, int rw,
		    struct fw_err *err)
{
	CK_C_GetFunctionList get;
	CK_C_INITIALIZE_ARGS init;
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	CK_RV rv;
	int found = 0, rc = -1;

	memset(p, 0, sizeof(*p));
	snprintf(p->what, sizeof(p->what), "token \"%s\" (%s)", u->token, module);
	p->lib = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (p->lib == NULL) {
		const char *why = dlerror();
		return fw_err_set(err, FW_EXIT_USAGE, "%s: cannot load the PKCS#11 module: %s", module,
				  why ? why : "unknown error");
	}
	*(void **)&get = dlsym(p->lib, "C_GetFunctionList");
	if (get == NULL || get(&p->f) != CKR_OK || p->f == NULL)
		return fw_err_set(err, FW_EXIT_USAGE, "%s: not a PKCS#11 module (no C_GetFunctionList)", module);
	memset(&init, 0, sizeof(init));
	init.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&init);
	if (rv == CKR_OK)
		p->finalize = 1;
	else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return p11_fail(p, rv, "C_Initialize", err);
	rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK)
		return p11_fail(p, rv, "C_GetSlotList", err);
	slots = calloc(n ? n : 1, sizeof(*slots));
	if (slots == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK) {
		p11_fail(p, rv, "C_GetSlotList", err);
		goto out;
	}
	for (CK_ULONG i = 0; i < n && !found; i++) {
		CK_TOKEN_INFO ti;
		char label[sizeof(ti.label) + 1];

		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK || !(ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		padded(ti.label, sizeof(ti.label), label);
		if (u->token[0] != '\0' && strcmp(label, u->token) != 0)
			continue;
		found = 1;
		rv = p->f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL, NULL, &p->s);
		if (rv != CKR_OK) {
			p11_fail(p, rv, "C_OpenSession", err);
			goto out;
		}
		p->have_session = 1;
	}
	if (!found) {
		fw_err_set(err, FW_EXIT_CREDENTIALS, "%s: no such token", p->what);
		goto out;
	}
	rv = p->f->C_Login(p->s, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		p11_fail(p, rv, "login", err);
		goto out;
	}
	p->logged_in = rv == CKR_OK;
	rc = 0;
out:
	free(slots);
	return rc;
}

/* How many objects (counting to 2) of class cls, of key type kt if not NULL, u's object and id select; the first in *first. */
static int count_keys(struct p11 *p, const struct sig_p11_uri *u, CK_OBJECT_CLASS cls, const CK_KEY_TYPE *kt,
		      CK_OBJECT_HANDLE *first, CK_ULONG *got, struct fw_err *err)
{
	CK_ATTRIBUTE t[4] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_ULONG nt = 1;
	CK_OBJECT_HANDLE h[2];
	CK_RV rv;

	if (kt != NULL)
		t[nt++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, (void *)kt, sizeof(*kt) };
	if (u->object[0] != '\0')
		t[nt++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)u->object, strlen(u->object) };
	if (u->has_id)
		t[nt++] = (CK_ATTRIBUTE){ CKA_ID, (void *)u->id, u->id_len };
	*got = 0;
	rv = p->f->C_FindObjectsInit(p->s, t, nt);
	if (rv != CKR_OK)
		return p11_fail(p, rv, "C_FindObjectsInit", err);
	rv = p->f->C_FindObjects(p->s, h, 2, got);
	p->f->C_FindObjectsFinal(p->s);
	if (rv != CKR_OK)
		return p11_fail(p, rv, "C_FindObjects", err);
	if (*got > 0)
		*first = h[0];
	return 0;
}

/*
 * The token holds u's private key but no public key beside it: say so, and
 * the command that adds one (from the certificate when there is one), since
 * neither a signer's key id nor a certificate can be matched without it.
 */
static int no_public_key(struct p11 *p, CK_OBJECT_HANDLE priv, const struct sig_p11_uri *u, const char *module,
			 const char *cert_path, struct fw_err *err)
{
	uint8_t raw[64];
	CK_ATTRIBUTE a = { CKA_ID, raw, sizeof(raw) };
	char id[2 * sizeof(raw) + 8] = "", from[1200];

	/* The private key's own id: a public key is paired with it by id. */
	if (p->f->C_GetAttributeValue(p->s, priv, &a, 1) == CKR_OK && a.ulValueLen > 0 && a.ulValueLen <= sizeof(raw)) {
		snprintf(id, sizeof(id), " --id ");
		for (CK_ULONG i = 0; i < a.ulValueLen; i++)
			snprintf(id + 6 + 2 * i, 3, "%02x", raw[i]);
	}
	if (cert_path != NULL)
		snprintf(from, sizeof(from), "openssl x509 -in %s -pubkey -noout | openssl pkey -pubin -outform DER -out pub.der && ",
			 cert_path);
	else
		snprintf(from, sizeof(from), "%s", "");
	return fw_err_set(err, FW_EXIT_CREDENTIALS,
			   "%s: the token holds no public key for private key \"%s\": add one, e.g. %spkcs11-tool --module %s%s%s "
			   "--login --write-object pub.der --type pubkey%s%s%s", p->what, u->object, from, module,
			   u->token[0] ? " --token-label " : "", u->token, u->object[0] ? " --label " : "", u->object, id);
}

/* The one object of class cls (Ed25519 keys) that u's object and id select; 0 found, -1 none or several. */
static int find_key(struct p11 *p, const struct sig_p11_uri *u, const char *module, CK_OBJECT_CLASS cls,
		    CK_OBJECT_HANDLE *out, struct fw_err *err)
{
	const CK_KEY_TYPE kt = CKK_EC_EDWARDS;
	CK_ULONG got = 0;

	if (count_keys(p, u, cls, &kt, out, &got, err) < 0)
		return -1;
	if (got == 0 && cls == CKO_PUBLIC_KEY)   /* the private key was found: its public half is missing */
		return no_public_key(p, p->key, u, module, NULL, err);
	if (got == 0)
		return fw_err_set(err, FW_EXIT_CREDENTIALS, "%s: no Ed25519 %s key with label \"%s\"%s", p->what,
				  cls == CKO_PRIVATE_KEY ? "private" : "public", u->object, u->has_id ? " and that id" : "");
	if (got > 1)
		return fw_err_setk(err, FW_KIND_AMBIGUOUS, FW_EXIT_USAGE, "%s: several Ed25519 keys match; give object= or id=",
				   p->what);
	return 0;
}

/* The minisign key id of a token key: the start of its fingerprint (sig_ed25519_fpr). */
static int ed25519_keyid(const uint8_t pk[SIG_PK_LEN], uint8_t keyid[SIG_KEYID_LEN])
{
	uint8_t h[SIG_FPR_LEN];

	if (sig_ed25519_fpr(pk, h) < 0)
		return -1;
	memcpy(keyid, h, SIG_KEYID_LEN);
	return 0;
}

/* The public key of object h (CKA_EC_POINT: the raw 32 bytes, or them in a DER OCTET STRING). */
static int read_pub(struct p11 *p, CK_OBJECT_HANDLE h, struct sig_pubkey *pub, struct fw_err *err)
{
	uint8_t point[64];
	CK_ATTRIBUTE a = { CKA_EC_POINT, point, sizeof(point) };
	CK_RV rv = p->f->C_GetAttributeValue(p->s, h, &a, 1);
	const uint8_t *pk;

	if (rv != CKR_OK)
		return p11_fail(p, rv, "reading the public key", err);
	if (a.ulValueLen == SIG_PK_LEN)
		pk = point;
	else if (a.ulValueLen == SIG_PK_LEN + 2 && point[0] == 0x04 && point[1] == SIG_PK_LEN)
		pk = point + 2;
	else
		return fw_err_set(err, FW_EXIT_IO, "%s: unexpected Ed25519 public key encoding (%lu bytes)", p->what,
				  (unsigned long)a.ulValueLen);
	memcpy(pub->pk, pk, SIG_PK_LEN);
	if (ed25519_keyid(pub->pk, pub->keyid) < 0)
		return fw_err_set(err, FW_EXIT_IO, "cannot hash the public key");
	return 0;
}

static int token_ed25519(void *ctx, const uint8_t *m, size_t n, uint8_t sig[64], struct fw_err *err)
{
	struct p11 *p = ctx;
	CK_MECHANISM mech = { CKM_EDDSA, NULL, 0 };
	CK_ULONG len = 64;
	CK_RV rv;

	rv = p->f->C_SignInit(p->s, &mech, p->key);
	if (rv == CKR_OK)
		rv = p->f->C_Sign(p->s, (CK_BYTE_PTR)m, (CK_ULONG)n, sig, &len);
	if (rv != CKR_OK)
		return p11_fail(p, rv, "signing (CKM_EDDSA)", err);
	if (len != 64)
		return fw_err_set(err, FW_EXIT_IO, "%s: Ed25519 signature of %lu bytes", p->what, (unsigned long)len);
	return 0;
}

static int ed_sign(void *ctx, const void *msg, size_t len, const char *trusted_comment, int64_t when, char **out,
		   size_t *out_len, struct fw_err *err)
{
	struct p11 *p = ctx;

	(void)when;
	return sig_sign_with(p->keyid, token_ed25519, p, msg, len, trusted_comment, out, out_len, err);
}

static void ed_free(void *ctx)
{
	p11_close(ctx);
	free(ctx);
}

int sig_signer_pkcs11_ed25519(const struct sig_p11_uri *u, const char *module, const char *pin,
			      struct sig_signer **out, struct fw_err *err)
{
	struct p11 *p = calloc(1, sizeof(*p));
	struct sig_signer *s = calloc(1, sizeof(*s));
	CK_OBJECT_HANDLE pubh;
	struct sig_pubkey pub;
	int rc = -1;

	if (p == NULL || s == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (p11_open(p, u, module, pin, 0, err) < 0 || find_key(p, u, module, CKO_PRIVATE_KEY, &p->key, err) < 0 ||
	    find_key(p, u, module, CKO_PUBLIC_KEY, &pubh, err) < 0 || read_pub(p, pubh, &pub, err) < 0)
		goto out;
	memcpy(p->keyid, pub.keyid, SIG_KEYID_LEN);
	s->kind = SIG_KIND_MINISIGN;
	sig_keyid_str(pub.keyid, s->id);
	s->sign = ed_sign;
	s->text_len = sig_text_len;
	s->free = ed_free;
	s->ctx = p;
	p = NULL;
	*out = s;
	s = NULL;
	rc = 0;
out:
	if (p != NULL)
		ed_free(p);
	free(s);
	return rc;
}

int sig_p11_keygen(const struct sig_p11_uri *u, const char *module, const char *pin, const char *pub_path,
		   int force, struct sig_pubkey *pub, struct fw_err *err)
{
	static const uint8_t ed25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
	CK_MECHANISM mech = { CKM_EC_EDWARDS_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pubt[5] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_EC_PARAMS, (void *)ed25519_oid, sizeof(ed25519_oid) },
		{ CKA_LABEL, (void *)u->object, strlen(u->object) },
	};
	/* A signing key and nothing else: sensitive, never extractable, no decrypt or unwrap. */
	CK_ATTRIBUTE privt[9] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_UNWRAP, &no, sizeof(no) },
		{ CKA_LABEL, (void *)u->object, strlen(u->object) },
	};
	CK_ULONG npub = 4, npriv = 8;
	CK_OBJECT_HANDLE pubh = CK_INVALID_HANDLE, privh = CK_INVALID_HANDLE, old;
	struct fw_err ignore = { 0 };
	struct p11 p;
	CK_RV rv;
	int rc = -1;

	if (u->object[0] == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "pkcs11 URI: a new key needs a label (object=NAME)");
	if (u->has_id) {
		pubt[npub++] = (CK_ATTRIBUTE){ CKA_ID, (void *)u->id, u->id_len };
		privt[npriv++] = (CK_ATTRIBUTE){ CKA_ID, (void *)u->id, u->id_len };
	}
	if (p11_open(&p, u, module, pin, 1, err) < 0)
		goto out;
	/* One label, one key: a second key under it would make every later URI ambiguous. */
	if (find_key(&p, u, module, CKO_PRIVATE_KEY, &old, &ignore) == 0 || ignore.kind == FW_KIND_AMBIGUOUS) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: a key labelled \"%s\" already exists", p.what, u->object);
		goto out;
	}
	rv = p.f->C_GenerateKeyPair(p.s, &mech, pubt, npub, privt, npriv, &pubh, &privh);
	if (rv != CKR_OK) {
		p11_fail(&p, rv, "generating an Ed25519 key pair", err);
		goto out;
	}
	if (read_pub(&p, pubh, pub, err) < 0 || sig_pubkey_write(pub_path, pub, force, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && privh != CK_INVALID_HANDLE) {
		/* Nothing half-made: no key on the token without its .pub file. */
		p.f->C_DestroyObject(p.s, privh);
		p.f->C_DestroyObject(p.s, pubh);
	}
	p11_close(&p);
	return rc;
}

int sig_p11_explain_mismatch(const struct sig_p11_uri *u, const char *module, const char *pin, const char *cert_path,
			     struct fw_err *err)
{
	struct fw_err scratch = { 0 };
	CK_OBJECT_HANDLE h;
	CK_ULONG got = 0;
	struct p11 p;
	int rc = 0;

	/* Only a key the URI names by label or id can have a public key "beside" it. */
	if (u->object[0] == '\0' && !u->has_id)
		return 0;
	if (p11_open(&p, u, module, pin, 0, &scratch) == 0 &&
	    count_keys(&p, u, CKO_PUBLIC_KEY, NULL, &h, &got, &scratch) == 0 && got == 0 &&
	    count_keys(&p, u, CKO_PRIVATE_KEY, NULL, &h, &got, &scratch) == 0 && got == 1) {
		no_public_key(&p, h, u, module, cert_path, err);
		rc = 1;
	}
	p11_close(&p);
	return rc;
}
