/* trust: the set of trusted public keys a verifier accepts signatures from. */
#ifndef FW_TRUST_H
#define FW_TRUST_H

#include <stddef.h>

#include "minisign.h"

#define SIG_TRUST_MAX 64

struct sig_trust {
	size_t n;
	struct sig_pubkey keys[SIG_TRUST_MAX];
};

void sig_trust_init(struct sig_trust *t);
/* Add one minisign public key file. */
int sig_trust_add_file(struct sig_trust *t, const char *path, struct fw_err *err);
/* Add every *.pub file of a directory (sorted by name); a directory without any is an error. */
int sig_trust_add_dir(struct sig_trust *t, const char *dir, struct fw_err *err);
/* The trusted key with this key id, or NULL (key ids are unique in a store: sig_trust_add_* refuse a clash). */
const struct sig_pubkey *sig_trust_find(const struct sig_trust *t, const uint8_t keyid[SIG_KEYID_LEN]);

#endif
