/* trust: minisign public keys, CA certificates and CRLs a verifier accepts, loaded from files or a directory. */
#include "trust.h"

#include "base/dirnames.h"
#include "base/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ossl.h"


void sig_trust_init(struct sig_trust *t)
{
	memset(t, 0, sizeof(*t));
	t->max_depth = -1;
}

void sig_trust_free(struct sig_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->x509);
	sig_trust_init(t);
}

const struct sig_pubkey *sig_trust_find(const struct sig_trust *t, const uint8_t keyid[SIG_KEYID_LEN])
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (memcmp(t->keys[i].keyid, keyid, SIG_KEYID_LEN) == 0)
			return &t->keys[i];
	return NULL;
}

/* Add k to t; the same key twice is kept once, two keys under one id are refused. */
static int trust_add(struct sig_trust *t, const struct sig_pubkey *k, const char *path,
		     struct fw_err *err)
{
	const struct sig_pubkey *old = sig_trust_find(t, k->keyid);
	char id[17];

	if (old != NULL) {
		if (memcmp(old->pk, k->pk, SIG_PK_LEN) == 0)
			return 0;
		/* A key id must name one key, or a signature could not say which to use. */
		sig_keyid_str(k->keyid, id);
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "%s: key id %s is already trusted with a different public key",
				  path, id);
	}
	if (t->n >= SIG_TRUST_MAX)
		return fw_err_set(err, FW_EXIT_USAGE, "%s: more than %d trusted keys", path,
				  SIG_TRUST_MAX);
	snprintf(t->sources[t->n], SIG_SOURCE_MAX, "%s", path);
	t->keys[t->n++] = *k;
	return 0;
}

int sig_trust_add_base64(struct sig_trust *t, const char *b64, struct fw_err *err)
{
	char text[SIG_FILE_MAX];
	struct sig_pubkey k;
	int n = snprintf(text, sizeof(text), "untrusted comment: -P\n%s\n", b64);

	/* The same parser as a key file: the one line a .pub file holds under its comment. */
	if (n < 0 || (size_t)n >= sizeof(text) || strchr(b64, '\n') != NULL)
		return fw_err_set(err, FW_EXIT_USAGE, "-P: not a minisign public key (one base64 line expected)");
	if (sig_pubkey_parse(text, (size_t)n, &k, err) != 0)
		return fw_err_wrap(err, "-P");
	return trust_add(t, &k, "-P", err);
}

const char *sig_trust_source(const struct sig_trust *t, const struct sig_pubkey *k)
{
	if (k < t->keys || k >= t->keys + t->n)
		return "";
	return t->sources[k - t->keys];
}

void sig_trust_ids(const struct sig_trust *t, char *out, size_t outsz)
{
	size_t o = 0;

	snprintf(out, outsz, "none");
	for (size_t i = 0; i < t->n && o < outsz; i++) {
		char id[17];
		if (i == 8) {
			snprintf(out + o, outsz - o, " and %zu more", t->n - i);
			break;
		}
		sig_keyid_str(t->keys[i].keyid, id);
		o += (size_t)snprintf(out + o, outsz - o, "%s%s", i ? ", " : "", id);
	}
}

int sig_trust_add_file(struct sig_trust *t, const char *path, struct fw_err *err)
{
	struct sig_pubkey k;

	if (sig_pubkey_load(path, &k, err) != 0)
		return -1;
	return trust_add(t, &k, path, err);
}

/* The certificates of a PEM file, each a CA certificate; appended to certs. */
static int load_cas(const char *path, STACK_OF(X509) *certs, struct fw_err *err)
{
	int had = sk_X509_num(certs);

	if (sig_pem_certs(path, certs, err) < 0)
		return -1;
	for (int i = had; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		char label[600];

		if (X509_check_ca(c) == 0) {
			/* An end-entity certificate as an anchor would trust one signer
			 * without its CA's checks; say so rather than guess. */
			sig_x509_label(c, label, sizeof(label));
			fw_err_setk(err, FW_KIND_NOT_CA, FW_EXIT_USAGE,
				    "%s: %s is not a CA certificate (basicConstraints CA:TRUE)", path, label);
			while (sk_X509_num(certs) > had)
				X509_free(sk_X509_pop(certs));
			return -1;
		}
	}
	return 0;
}

/* Append c to crls (which then owns it); -1 with err, c freed, when out of memory. */
static int push_crl(STACK_OF(X509_CRL) *crls, X509_CRL *c, const char *path, struct fw_err *err)
{
	if (sk_X509_CRL_push(crls, c))
		return 0;
	X509_CRL_free(c);
	sig_ossl_err(err, FW_EXIT_IO, "%s", path);
	return -1;
}

/* The CRLs of a PEM file, or the one CRL of a DER file; appended to crls. */
static int load_crls(const char *path, STACK_OF(X509_CRL) *crls, struct fw_err *err)
{
	char *buf = NULL;
	BIO *b = sig_file_bio(path, &buf, err);
	X509_CRL *c;
	int n = 0, rc = -1;

	if (b == NULL) {
		free(buf);
		return -1;
	}
	while ((c = PEM_read_bio_X509_CRL(b, NULL, sig_no_passphrase, NULL)) != NULL) {
		if (push_crl(crls, c, path, err) < 0)
			goto out;
		n++;
	}
	if (n == 0) {
		ERR_clear_error();
		if (BIO_reset(b) == 1 && (c = d2i_X509_CRL_bio(b, NULL)) != NULL) {
			if (push_crl(crls, c, path, err) < 0)
				goto out;
			n++;
		}
	}
	if (n == 0) {
		sig_ossl_err(err, FW_EXIT_USAGE, "%s: not a CRL file (PEM or DER)", path);
		goto out;
	}
	ERR_clear_error();
	rc = 0;
out:
	BIO_free(b);
	free(buf);
	return rc;
}

/* Put parsed anchors and CRLs into t's store, creating it on first use. */
static int commit_x509(struct sig_trust *t, STACK_OF(X509) *certs, STACK_OF(X509_CRL) *crls,
		       const char *path, struct fw_err *err)
{
	if (sk_X509_num(certs) == 0 && sk_X509_CRL_num(crls) == 0)
		return 0;
	if (t->x509 == NULL && (t->x509 = X509_STORE_new()) == NULL)
		return sig_ossl_err(err, FW_EXIT_IO, "%s: cannot make a certificate store", path);
	for (int i = 0; i < sk_X509_num(certs); i++) {
		if (X509_STORE_add_cert(t->x509, sk_X509_value(certs, i)) != 1)
			return sig_ossl_err(err, FW_EXIT_IO, "%s: cannot add a CA certificate", path);
		t->n_cas++;
	}
	for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
		if (X509_STORE_add_crl(t->x509, sk_X509_CRL_value(crls, i)) != 1)
			return sig_ossl_err(err, FW_EXIT_IO, "%s: cannot add a CRL", path);
		t->n_crls++;
	}
	return 0;
}

/* Load path's certificates (as CAs) or CRLs, then put them into t's store: all of them or, on an error, none. */
static int add_x509_file(struct sig_trust *t, const char *path, int crl_file, struct fw_err *err)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	int rc = -1;

	if (certs == NULL || crls == NULL)
		fw_err_set(err, FW_EXIT_IO, "out of memory");
	else if ((crl_file ? load_crls(path, crls, err) : load_cas(path, certs, err)) == 0)
		rc = commit_x509(t, certs, crls, path, err);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

int sig_trust_add_ca_file(struct sig_trust *t, const char *path, struct fw_err *err)
{
	return add_x509_file(t, path, 0, err);
}

int sig_trust_add_crl_file(struct sig_trust *t, const char *path, struct fw_err *err)
{
	return add_x509_file(t, path, 1, err);
}

#define POLICY_FILE "policy.json"
#define POLICY_MAX 65536

/* Parse a policy into work (a copy of the store's settings); t is changed only when it all holds. */
static int parse_policy(struct sig_trust *work, const char *path, struct fw_err *err)
{
	char *buf = malloc(POLICY_MAX);
	json_t *doc = NULL, *v;
	json_error_t jerr;
	const char *key;
	size_t len = 0, i;
	int rc = -1;

	if (buf == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (sig_file_read(path, buf, POLICY_MAX, &len, err) < 0)
		goto out;
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: not a JSON object%s%s", path, doc ? "" : ": ", doc ? "" : jerr.text);
		goto out;
	}
	if (work->have_policy) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: a trust store has one policy", path);
		goto out;
	}
	json_object_foreach(doc, key, v) {
		if (strcmp(key, "min_signatures") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 8) {
				fw_err_set(err, FW_EXIT_USAGE, "%s: min_signatures: expected 1..8", path);
				goto out;
			}
			work->min_keys = (unsigned)json_integer_value(v);
		} else if (strcmp(key, "check_time") == 0) {
			if (!json_is_boolean(v)) {
				fw_err_set(err, FW_EXIT_USAGE, "%s: check_time: expected true or false", path);
				goto out;
			}
			work->no_check_time = !json_is_true(v);
		} else if (strcmp(key, "max_chain_depth") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 32) {
				fw_err_set(err, FW_EXIT_USAGE, "%s: max_chain_depth: expected 0..32", path);
				goto out;
			}
			work->max_depth = (int)json_integer_value(v);
		} else if (strcmp(key, "signers") == 0) {
			json_t *pin;
			if (!json_is_array(v)) {
				fw_err_set(err, FW_EXIT_USAGE, "%s: signers: expected an array of names or SHA-256s", path);
				goto out;
			}
			json_array_foreach(v, i, pin) {
				if (!json_is_string(pin) || sig_trust_add_pin(work, json_string_value(pin), err) < 0) {
					if (json_is_string(pin))
						fw_err_wrap(err, "%s: signers", path);
					else
						fw_err_set(err, FW_EXIT_USAGE, "%s: signers: expected strings", path);
					goto out;
				}
			}
		} else {
			fw_err_set(err, FW_EXIT_USAGE, "%s: unknown key \"%s\" (min_signatures, check_time, signers, "
				   "max_chain_depth)", path, key);
			goto out;
		}
	}
	work->have_policy = 1;
	rc = 0;
out:
	json_decref(doc);
	free(buf);
	return rc;
}

int sig_trust_add_policy_file(struct sig_trust *t, const char *path, struct fw_err *err)
{
	struct sig_trust *work = malloc(sizeof(*work));
	int rc;

	if (work == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	*work = *t;
	rc = parse_policy(work, path, err);
	if (rc == 0)
		*t = *work;   /* the X.509 store pointer is shared, never changed here */
	free(work);
	return rc;
}

static int has_json_suffix(const char *p)
{
	size_t n = strlen(p);

	return n > 5 && strcmp(p + n - 5, ".json") == 0;
}

int sig_trust_add_pin(struct sig_trust *t, const char *pin, struct fw_err *err)
{
	size_t len = strlen(pin);

	if (len == 0 || len >= SIG_PIN_LEN)
		return fw_err_set(err, FW_EXIT_USAGE, "signer \"%s\": expected a subject CN or a certificate SHA-256",
				  pin);
	if (t->n_pins == SIG_SIGNER_PIN_MAX)
		return fw_err_set(err, FW_EXIT_USAGE, "more than %d signers", SIG_SIGNER_PIN_MAX);
	memcpy(t->pins[t->n_pins++], pin, len + 1);
	return 0;
}

int sig_trust_file_check(const char *path, enum sig_trust_kind *kind, char *name, size_t namesz,
			 struct fw_err *err)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	struct fw_err as_pub = { 0 }, as_ca = { 0 }, as_crl = { 0 };
	struct sig_pubkey k;
	char id[SIG_CERT_ID_LEN + 1];
	int rc = -1;

	if (certs == NULL || crls == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (has_json_suffix(path)) {
		struct sig_trust *probe = malloc(sizeof(*probe));

		if (probe == NULL) {
			fw_err_set(err, FW_EXIT_IO, "out of memory");
			goto out;
		}
		sig_trust_init(probe);
		rc = parse_policy(probe, path, err);
		free(probe);
		if (rc == 0) {
			*kind = SIG_TRUST_POLICY;
			snprintf(name, namesz, "%s", POLICY_FILE);
		}
	} else if (sig_pubkey_load(path, &k, &as_pub) == 0) {
		sig_keyid_str(k.keyid, id);
		*kind = SIG_TRUST_PUB;
		snprintf(name, namesz, "%s.pub", id);
		rc = 0;
	} else if (as_pub.code == FW_EXIT_IO) {
		*err = as_pub;
	} else if (load_cas(path, certs, &as_ca) == 0) {
		if (sig_x509_id(sk_X509_value(certs, 0), id) < 0) {
			sig_ossl_err(err, FW_EXIT_IO, "%s: cannot hash the certificate", path);
			goto out;
		}
		*kind = SIG_TRUST_CA;
		snprintf(name, namesz, "%s.crt", id);
		rc = 0;
	} else if (as_ca.kind == FW_KIND_NOT_CA) {
		*err = as_ca;   /* a PEM certificate, but a leaf: say so, not "unknown file" */
	} else if (load_crls(path, crls, &as_crl) == 0) {
		unsigned char *der = NULL;
		uint8_t h[SIG_FPR_LEN];
		int len = i2d_X509_CRL(sk_X509_CRL_value(crls, 0), &der);

		if (len <= 0) {
			OPENSSL_free(der);
			sig_ossl_err(err, FW_EXIT_IO, "%s: cannot encode the CRL", path);
			goto out;
		}
		fw_sha256(der, (size_t)len, h);
		OPENSSL_free(der);
		for (int i = 0; i < SIG_CERT_ID_LEN / 2; i++)
			snprintf(id + 2 * i, 3, "%02X", h[i]);
		*kind = SIG_TRUST_CRL;
		snprintf(name, namesz, "%s.crl", id);
		rc = 0;
	} else {
		fw_err_set(err, FW_EXIT_USAGE, "%s: not a minisign public key, a PEM CA certificate, a CRL or a policy (.json)",
			   path);
	}
out:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

enum trust_kind { KIND_NONE, KIND_PUB, KIND_CA, KIND_CRL, KIND_POLICY };

static enum trust_kind kind_of(const char *name)
{
	size_t len = strlen(name);

	/* Hidden files are skipped as a shell's *.pub would skip them. */
	if (strcmp(name, POLICY_FILE) == 0)
		return KIND_POLICY;
	if (name[0] == '.' || len <= 4)
		return KIND_NONE;
	if (strcmp(name + len - 4, ".pub") == 0)
		return KIND_PUB;
	if (strcmp(name + len - 4, ".crt") == 0 || strcmp(name + len - 4, ".pem") == 0)
		return KIND_CA;
	if (strcmp(name + len - 4, ".crl") == 0)
		return KIND_CRL;
	return KIND_NONE;
}

/* A file a keyring directory's reading takes (fw_dir_names). */
static int is_trust_file(const char *name)
{
	return kind_of(name) != KIND_NONE;
}

int sig_trust_add_dir(struct sig_trust *t, const char *dir, struct fw_err *err)
{
	/* Work on a copy so a failure half-way leaves t as it was. */
	struct sig_trust *work = NULL;
	STACK_OF(X509) *certs = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	DIR *d = NULL;
	char **names = NULL;
	char *path = NULL;
	size_t n = 0, i, len, n_material = 0;
	int rc = -1;

	d = opendir(dir);
	if (d == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot open directory: %s", dir, strerror(errno));
		goto out;
	}
	/* Sorted: readdir order is the filesystem's, and errors and results must repeat. */
	if (fw_dir_names(d, is_trust_file, &names, &n) < 0) {
		if (errno == ENOMEM)
			fw_err_set(err, FW_EXIT_IO, "%s: out of memory", dir);
		else
			fw_err_set(err, FW_EXIT_IO, "%s: cannot read directory: %s", dir, strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++)
		n_material += kind_of(names[i]) != KIND_POLICY;
	if (n_material == 0) {
		fw_err_set(err, FW_EXIT_USAGE,
			   "%s: no trusted keys or certificates (*.pub, *.crt, *.pem, *.crl) in directory", dir);
		goto out;
	}
	work = malloc(sizeof(*work));
	certs = sk_X509_new_null();
	crls = sk_X509_CRL_new_null();
	if (work == NULL || certs == NULL || crls == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: out of memory", dir);
		goto out;
	}
	*work = *t;
	for (i = 0; i < n; i++) {
		len = strlen(dir) + 1 + strlen(names[i]) + 1;
		free(path);
		path = malloc(len);
		if (path == NULL) {
			fw_err_set(err, FW_EXIT_IO, "%s: out of memory", dir);
			goto out;
		}
		snprintf(path, len, "%s/%s", dir, names[i]);
		switch (kind_of(names[i])) {
		case KIND_PUB: rc = sig_trust_add_file(work, path, err); break;
		case KIND_CA: rc = load_cas(path, certs, err); break;
		case KIND_CRL: rc = load_crls(path, crls, err); break;
		case KIND_POLICY: rc = parse_policy(work, path, err); break;
		case KIND_NONE: rc = 0; break;
		}
		if (rc != 0)
			goto out;
	}
	rc = -1;
	/* Everything parsed: now change t. */
	if (commit_x509(t, certs, crls, dir, err) < 0)
		goto out;
	t->n = work->n;
	memcpy(t->keys, work->keys, sizeof(t->keys));
	memcpy(t->sources, work->sources, sizeof(t->sources));
	if (work->have_policy) {
		t->have_policy = 1;
		t->min_keys = work->min_keys;
		t->no_check_time = work->no_check_time;
		t->max_depth = work->max_depth;
		t->n_pins = work->n_pins;
		memcpy(t->pins, work->pins, sizeof(t->pins));
	}
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	fw_dir_names_free(names, n);
	free(path);
	free(work);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}
