/* trust: the set of trusted public keys a verifier accepts signatures from. */
#ifndef FW_TRUST_H
#define FW_TRUST_H

#include <stddef.h>

#include "minisign.h"

#define SIG_TRUST_MAX 64
#define SIG_SOURCE_MAX 256

struct sig_trust {
	size_t n;
	struct sig_pubkey keys[SIG_TRUST_MAX];
	char sources[SIG_TRUST_MAX][SIG_SOURCE_MAX];   /* where keys[i] came from: a file, or "-P" */
};

void sig_trust_init(struct sig_trust *t);
/* Add one minisign public key file. */
int sig_trust_add_file(struct sig_trust *t, const char *path, struct fw_err *err);
/* Add every *.pub file of a directory (sorted by name); a directory without any is an error. */
int sig_trust_add_dir(struct sig_trust *t, const char *dir, struct fw_err *err);
/* Add a public key given inline: the base64 line of a minisign public key (minisign -P). */
int sig_trust_add_base64(struct sig_trust *t, const char *b64, struct fw_err *err);
/* Where a key of t came from (its file, or "-P"), for messages naming the key that matched. */
const char *sig_trust_source(const struct sig_trust *t, const struct sig_pubkey *k);
/* The trusted key ids for a message: "A, B, C" (the first 8, then "and N more"), or "none". */
void sig_trust_ids(const struct sig_trust *t, char *out, size_t outsz);
/* The trusted key with this key id, or NULL (key ids are unique in a store: sig_trust_add_* refuse a clash). */
const struct sig_pubkey *sig_trust_find(const struct sig_trust *t, const uint8_t keyid[SIG_KEYID_LEN]);

#endif
