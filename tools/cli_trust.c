/* cli_trust: the trust store from -p PUB and --keyring DIR options, or the default keyring. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define DEFAULT_KEYRING "/etc/fwpkg/keys"

int cli_trust_load(struct sig_trust *t, const char *const *pubs, size_t n_pubs, const char *keyring,
		   struct fw_err *err)
{
	struct stat st;

	sig_trust_init(t);
	for (size_t i = 0; i < n_pubs; i++)
		if (sig_trust_add_file(t, pubs[i], err) < 0)
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
		cli_error(NULL, NULL, "at most %d -p keys", SIG_TRUST_MAX);
		return -1;
	}
	k->pubs[k->n_pubs++] = path;
	return 0;
}

int cli_keys_add_inline(struct cli_keys *k, const char *base64)
{
	if (k->n_inline == SIG_TRUST_MAX) {
		cli_error(NULL, NULL, "at most %d -P keys", SIG_TRUST_MAX);
		return -1;
	}
	k->inline_keys[k->n_inline++] = base64;
	return 0;
}

int cli_keys_given(const struct cli_keys *k)
{
	return k->n_pubs > 0 || k->n_inline > 0 || k->keyring != NULL;
}

int cli_keys_load(const struct cli_keys *k, struct sig_trust *t, struct fw_err *err)
{
	int rc = 0;

	if (k->n_inline > 0 && k->n_pubs == 0 && k->keyring == NULL) {
		/* -P alone: no default keyring behind it. */
		sig_trust_init(t);
	} else {
		rc = cli_trust_load(t, k->pubs, k->n_pubs, k->keyring, err);
	}
	for (size_t i = 0; rc == 0 && i < k->n_inline; i++)
		rc = sig_trust_add_base64(t, k->inline_keys[i], err);
	/* A bad key is the caller's mistake, not a verdict on the package. */
	if (rc < 0) {
		if (err->code == FW_EXIT_REJECTED)
			err->code = FW_EXIT_USAGE;
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
