/* cli_signers: the -k / --cert / --intermediate options of the signing programs, turned into signers. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "signing/cms_sign.h"
#include "signing/pkcs11_sign.h"

int cli_key_cert(struct cli_key *keys, size_t n_keys, const char *cert)
{
	if (n_keys == 0 || keys[n_keys - 1].cert != NULL) {
		msg_error(NULL, NULL, "--cert %s: give it after the -k KEY it belongs to", cert);
		return -1;
	}
	keys[n_keys - 1].cert = cert;
	return 0;
}

int cli_key_intermediate(struct cli_key *keys, size_t n_keys, const char *path)
{
	struct cli_key *k = n_keys ? &keys[n_keys - 1] : NULL;

	if (k == NULL || k->cert == NULL) {
		msg_error(NULL, NULL, "--intermediate %s: give it after the -k KEY --cert CERT it belongs to", path);
		return -1;
	}
	if (k->n_inter == CLI_MAX_INTERMEDIATES) {
		msg_error(NULL, NULL, "at most %d intermediate certificates per key", CLI_MAX_INTERMEDIATES);
		return -1;
	}
	k->inter[k->n_inter++] = path;
	return 0;
}

static int is_pkcs11(const char *key)
{
	return strncmp(key, "pkcs11:", 7) == 0;
}

/* A CMS signer from a PEM key file, asking for its passphrase only if it is encrypted. */
static int cms_from_pem(const struct cli_key *k, const char *passphrase_file, struct sig_signer **out,
			struct fw_err *err)
{
	char *pass = NULL;
	int enc = sig_pem_key_encrypted(k->key, err);
	int rc;

	if (enc < 0)
		return -1;
	if (enc && (pass = cli_passphrase(k->key, passphrase_file, 0, err)) == NULL)
		return -1;
	rc = sig_signer_cms_files(k->key, pass, k->cert, k->inter, k->n_inter, out, err);
	cli_passphrase_free(pass);
	return rc;
}

/* A token's PIN: the URI's pin-source file, else $FWPKG_PKCS11_PIN, else asked on the terminal. Never argv. */
static char *token_pin(const struct sig_p11_uri *u, struct fw_err *err)
{
	const char *env = getenv("FWPKG_PKCS11_PIN");
	char label[300], *typed, *pin;

	if (u->pin_source[0] != '\0')
		return cli_passphrase(u->pin_source, u->pin_source, 0, err);
	if (sodium_init() < 0) {
		fw_err_set(err, FW_EXIT_IO, "libsodium cannot initialise");
		return NULL;
	}
	if (env != NULL && env[0] != '\0') {
		pin = sodium_malloc(strlen(env) + 1);
		if (pin == NULL)
			fw_err_set(err, FW_EXIT_IO, "out of memory");
		else
			memcpy(pin, env, strlen(env) + 1);
		return pin;
	}
	snprintf(label, sizeof(label), "PIN for token \"%s\": ", u->token);
	typed = isatty(STDIN_FILENO) ? getpass(label) : NULL;
	if (typed == NULL) {
		fw_err_set(err, FW_EXIT_CREDENTIALS, "token \"%s\": no PIN (give pin-source=FILE in the URI, "
			   "FWPKG_PKCS11_PIN, or run on a terminal)", u->token);
		return NULL;
	}
	pin = sodium_malloc(strlen(typed) + 1);
	if (pin == NULL)
		fw_err_set(err, FW_EXIT_IO, "out of memory");
	else
		memcpy(pin, typed, strlen(typed) + 1);
	sodium_memzero(typed, strlen(typed));
	return pin;
}

/* The module: the URI's module-path, else $FWPKG_PKCS11_MODULE. */
static const char *token_module(const struct sig_p11_uri *u, struct fw_err *err)
{
	const char *env = getenv("FWPKG_PKCS11_MODULE");

	if (u->module[0] != '\0')
		return u->module;
	if (env != NULL && env[0] != '\0')
		return env;
	fw_err_set(err, FW_EXIT_USAGE, "no PKCS#11 module: give module-path=MODULE.so in the URI or FWPKG_PKCS11_MODULE");
	return NULL;
}

static int from_token(const struct cli_key *k, struct sig_signer **out, struct fw_err *err)
{
	struct sig_p11_uri *u = malloc(sizeof(*u));
	const char *module;
	char *pin = NULL;
	int rc = -1;

	if (u == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if (sig_p11_uri_parse(k->key, u, err) < 0 || (module = token_module(u, err)) == NULL ||
	    (pin = token_pin(u, err)) == NULL)
		goto out;
	rc = k->cert != NULL ? sig_signer_pkcs11_cms(u, module, pin, k->cert, k->inter, k->n_inter, out, err)
			     : sig_signer_pkcs11_ed25519(u, module, pin, out, err);
out:
	cli_passphrase_free(pin);
	free(u);
	return rc;
}

int cli_pkcs11_keygen(const char *uri, const char *pub_path, int force)
{
	struct sig_p11_uri *u = malloc(sizeof(*u));
	struct fw_err err = { 0 };
	struct sig_pubkey pub;
	const char *module;
	char *pin = NULL, id[17];
	int rc = -1;

	if (u == NULL) {
		msg_error("keygen", NULL, "out of memory");
		return FW_EXIT_IO;
	}
	if (sig_p11_uri_parse(uri, u, &err) < 0 || (module = token_module(u, &err)) == NULL ||
	    (pin = token_pin(u, &err)) == NULL || sig_p11_keygen(u, module, pin, pub_path, force, &pub, &err) < 0) {
		rc = msg_fail("keygen", NULL, &err);
		goto out;
	}
	sig_keyid_str(pub.keyid, id);
	msg_note("key %s: Ed25519 on token \"%s\", label \"%s\"; public key %s", id, u->token, u->object, pub_path);
	rc = FW_EXIT_OK;
out:
	cli_passphrase_free(pin);
	free(u);
	return rc;
}

static int load_one(const struct cli_key *k, const char *passphrase_file, struct sig_signer **out,
		    struct fw_err *err)
{
	struct sig_seckey *sk = NULL;

	if (is_pkcs11(k->key))
		return from_token(k, out, err);
	if (k->cert != NULL)
		return cms_from_pem(k, passphrase_file, out, err);
	if (cli_load_seckey(k->key, passphrase_file, &sk, err) < 0)
		return -1;
	return sig_signer_minisign(sk, out, err);
}

int cli_load_signers(const char *verb, const struct cli_key *keys, size_t n, const char *const *passphrase_files,
		     size_t n_files, struct sig_signer **out)
{
	struct fw_err err = { 0 };

	if (n_files > 1 && n_files != n) {
		msg_error(verb, NULL, "%zu --passphrase-file for %zu keys: give one for all keys, or one per -k in order",
			  n_files, n);
		return FW_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++)
		if (load_one(&keys[i], n_files == 0 ? NULL : passphrase_files[n_files == 1 ? 0 : i], &out[i], &err) < 0)
			return msg_fail(verb, NULL, &err);   /* the message names the key */
	return 0;
}
