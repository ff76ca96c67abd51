/* cli_trust: the trust store from -p PUB and --keyring DIR options, or the default keyring. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define DEFAULT_KEYRING "/etc/fwpkg/keys"

int cli_credential(int rc, struct fw_err *err)
{
	if (rc < 0 && (err->code == FW_EXIT_REJECTED || err->code == FW_EXIT_USAGE))
		err->code = FW_EXIT_CREDENTIALS;
	return rc;
}

int cli_trust_load(struct sig_trust *t, const char *const *pubs, size_t n_pubs, const char *keyring,
		   struct fw_err *err)
{
	struct stat st;

	sig_trust_init(t);
	for (size_t i = 0; i < n_pubs; i++)
		if (cli_credential(sig_trust_add_file(t, pubs[i], err), err) < 0)
			return -1;
	if (keyring != NULL)
		return sig_trust_add_dir(t, keyring, err);
	if (n_pubs > 0)
		return 0;
	keyring = getenv("FWPKG_KEYRING");
	if (keyring == NULL || keyring[0] == '\0')
		keyring = DEFAULT_KEYRING;
	if (stat(keyring, &st) < 0)
		return fw_err_set(err, FW_EXIT_USAGE,
				  "no trusted keys: give -p PUB or --keyring DIR (default keyring %s does not exist)",
				  keyring);
	return sig_trust_add_dir(t, keyring, err);
}

int cli_keys_add_pub(struct cli_keys *k, const char *path)
{
	if (k->n_pubs == SIG_TRUST_MAX) {
		msg_error(NULL, NULL, "at most %d -p keys", SIG_TRUST_MAX);
		return -1;
	}
	k->pubs[k->n_pubs++] = path;
	return 0;
}

int cli_keys_option(struct cli_keys *k, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'p':
		return cli_keys_add_pub(k, arg) < 0 ? -1 : 1;
	case 'P':
		return cli_keys_add_inline(k, arg) < 0 ? -1 : 1;
	case 'K':
		k->keyring = arg;
		return 1;
	case CLI_OPT_CA:
		if (k->n_cas == SIG_TRUST_MAX)
			break;
		k->cas[k->n_cas++] = arg;
		return 1;
	case CLI_OPT_CRL:
		if (k->n_crls == SIG_TRUST_MAX)
			break;
		k->crls[k->n_crls++] = arg;
		return 1;
	case CLI_OPT_SIGNER:
		if (k->n_pins == SIG_SIGNER_PIN_MAX)
			break;
		k->pins[k->n_pins++] = arg;
		return 1;
	case CLI_OPT_DEPTH:
		if (msg_parse_u64(arg, 32, &v) < 0) {
			msg_error(NULL, NULL, "--max-chain-depth %s: expected 0..32 (intermediate CAs)", arg);
			return -1;
		}
		k->max_depth = (int)v + 1;   /* 0 stays "not given" */
		return 1;
	case CLI_OPT_NO_TIME:
		k->no_check_time = 1;
		return 1;
	default:
		return 0;
	}
	msg_error(NULL, NULL, "too many %s options", c == CLI_OPT_CA ? "--ca" : c == CLI_OPT_CRL ? "--crl" : "--signer");
	return -1;
}

int cli_keys_add_inline(struct cli_keys *k, const char *base64)
{
	if (k->n_inline == SIG_TRUST_MAX) {
		msg_error(NULL, NULL, "at most %d -P keys", SIG_TRUST_MAX);
		return -1;
	}
	k->inline_keys[k->n_inline++] = base64;
	return 0;
}

int cli_keys_given(const struct cli_keys *k)
{
	return k->n_pubs > 0 || k->n_inline > 0 || k->keyring != NULL || k->n_cas > 0;
}

/* --ca FILE adds the certificates of a PEM file; --ca DIR every trust file of a directory. */
static int add_ca(struct sig_trust *t, const char *path, struct fw_err *err)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return sig_trust_add_dir(t, path, err);
	return sig_trust_add_ca_file(t, path, err);
}

int cli_keys_load(const struct cli_keys *k, struct sig_trust *t, struct fw_err *err)
{
	int rc = 0;

	/* The default keyring only when no keys (files or -P) and no CAs are given. */
	if (k->n_pubs > 0 || k->keyring != NULL || (k->n_cas == 0 && k->n_inline == 0))
		rc = cli_trust_load(t, k->pubs, k->n_pubs, k->keyring, err);
	else
		sig_trust_init(t);
	for (size_t i = 0; rc == 0 && i < k->n_inline; i++)
		rc = cli_credential(sig_trust_add_base64(t, k->inline_keys[i], err), err);
	for (size_t i = 0; rc == 0 && i < k->n_cas; i++)
		rc = cli_credential(add_ca(t, k->cas[i], err), err);
	for (size_t i = 0; rc == 0 && i < k->n_crls; i++)
		rc = cli_credential(sig_trust_add_crl_file(t, k->crls[i], err), err);
	for (size_t i = 0; rc == 0 && i < k->n_pins; i++)
		rc = sig_trust_add_pin(t, k->pins[i], err);
	if (rc == 0 && (k->n_crls > 0 || k->n_pins > 0) && t->n_cas == 0)
		rc = fw_err_set(err, FW_EXIT_USAGE, "--crl and --signer need trusted CA certificates (--ca)");
	if (k->max_depth > 0)
		t->max_depth = k->max_depth - 1;
	if (k->no_check_time)
		t->no_check_time = 1;
	/* Nothing here is a verdict on the package. */
	if (rc < 0) {
		if (err->code == FW_EXIT_REJECTED)
			err->code = FW_EXIT_USAGE;
		sig_trust_free(t);
		return -1;
	}
	return 0;
}

int cli_open_input(const char *path, struct fw_err *err)
{
	int fd;

	if (strcmp(path, "-") == 0)
		return STDIN_FILENO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "cannot open: %s", strerror(errno));
	return fd;
}
