/* trust: what a verifier accepts signatures from: minisign public keys, X.509 trust anchors and CRLs. */
#ifndef FW_TRUST_H
#define FW_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "minisign.h"

#define SIG_TRUST_MAX 64
#define SIG_SIGNER_PIN_MAX 16
#define SIG_PIN_LEN 256
#define SIG_CHAIN_DEPTH_DEFAULT 4

struct x509_store_st;
#define SIG_SOURCE_MAX 256

struct sig_trust {
	size_t n;
	struct sig_pubkey keys[SIG_TRUST_MAX];

	/* X.509 (CMS signatures). The store holds only trust anchors (CA
	 * certificates given as trusted) and CRLs; NULL until one is added. */
	struct x509_store_st *x509;
	size_t n_cas, n_crls;
	/* Accepted CMS signers: a leaf's subject CN or its certificate's
	 * SHA-256 (64 hex digits); none means any certificate the CAs vouch for. */
	size_t n_pins;
	char pins[SIG_SIGNER_PIN_MAX][SIG_PIN_LEN];
	int max_depth;               /* intermediate CAs allowed between leaf and anchor; -1: SIG_CHAIN_DEPTH_DEFAULT */
	int no_check_time;           /* do not check validity periods (devices without a trustworthy clock) */
	unsigned min_keys;           /* a policy.json's min_signatures; 0: none (the caller's setting rules) */
	int have_policy;
	char sources[SIG_TRUST_MAX][SIG_SOURCE_MAX];   /* where keys[i] came from: a file, or "-P" */
};

void sig_trust_init(struct sig_trust *t);
/* Release what sig_trust_add_* allocated (the X.509 store); t is empty afterwards. */
void sig_trust_free(struct sig_trust *t);
/* Add one minisign public key file. */
int sig_trust_add_file(struct sig_trust *t, const char *path, struct fw_err *err);
/*
 * Add every trust file of a directory, sorted by name: *.pub (minisign
 * public keys), *.crt and *.pem (CA certificates, PEM), *.crl (CRLs, PEM or
 * DER), and policy.json (sig_trust_add_policy_file). A directory without
 * keys or certificates is an error; on failure t is unchanged.
 */
int sig_trust_add_dir(struct sig_trust *t, const char *dir, struct fw_err *err);
/* Add every certificate of a PEM file as a trust anchor (a CA certificate). */
int sig_trust_add_ca_file(struct sig_trust *t, const char *path, struct fw_err *err);
/* Add the CRLs of a file (PEM, or one DER CRL). */
int sig_trust_add_crl_file(struct sig_trust *t, const char *path, struct fw_err *err);
/*
 * A trust store's policy, a JSON object with any of: "min_signatures" (1..8,
 * distinct keys needed), "check_time" (false: do not check certificate
 * validity periods), "signers" (pins, as sig_trust_add_pin), "max_chain_depth"
 * (0..32 intermediate CAs). Unknown keys are refused; one policy per store.
 */
int sig_trust_add_policy_file(struct sig_trust *t, const char *path, struct fw_err *err);
/* Accept only CMS signers matching pin: a subject CN, or a certificate SHA-256 in hex (colons allowed). */
int sig_trust_add_pin(struct sig_trust *t, const char *pin, struct fw_err *err);
/* What a file given as trusted is; see sig_trust_file_check. */
enum sig_trust_kind { SIG_TRUST_PUB, SIG_TRUST_CA, SIG_TRUST_CRL, SIG_TRUST_POLICY };

/*
 * Check a trust file as a trust store would load it and say what it is: a
 * minisign public key, PEM CA certificates, CRLs (PEM or DER), or a policy
 * (a *.json file). name gets the file name a trust directory keeps it under:
 * KEYID.pub, CERTID.crt (of its first certificate), an id of its bytes with
 * .crl, or policy.json. FW_EXIT_USAGE if it is none of them.
 */
int sig_trust_file_check(const char *path, enum sig_trust_kind *kind, char *name, size_t namesz,
			 struct fw_err *err);

/* Add a public key given inline: the base64 line of a minisign public key (minisign -P). */
int sig_trust_add_base64(struct sig_trust *t, const char *b64, struct fw_err *err);
/* Where a key of t came from (its file, or "-P"), for messages naming the key that matched. */
const char *sig_trust_source(const struct sig_trust *t, const struct sig_pubkey *k);
/* The trusted key ids for a message: "A, B, C" (the first 8, then "and N more"), or "none". */
void sig_trust_ids(const struct sig_trust *t, char *out, size_t outsz);
/* The trusted key with this key id, or NULL (key ids are unique in a store: sig_trust_add_* refuse a clash). */
const struct sig_pubkey *sig_trust_find(const struct sig_trust *t, const uint8_t keyid[SIG_KEYID_LEN]);

#endif
