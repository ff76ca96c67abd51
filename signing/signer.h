/* signer: one way of signing a manifest (minisign key file, CMS key and certificate, key on a token, a signature made elsewhere). */
#ifndef FW_SIGNER_H
#define FW_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "minisign.h"
#include "trust.h"

enum sig_kind {
	SIG_KIND_MINISIGN,   /* manifest.json.<KEYID>.minisig */
	SIG_KIND_CMS,        /* manifest.json.<CERTID>.cms */
};

/*
 * A signer. Made by the constructors below (creation code: host only) and
 * released with sig_signer_free. id names the package entry the signature
 * goes in, known before signing so duplicates are found early.
 */
struct sig_signer {
	enum sig_kind kind;
	char id[17];
	int (*sign)(void *ctx, const void *msg, size_t len, const char *trusted_comment, int64_t when,
		    char **out, size_t *out_len, struct fw_err *err);
	void (*free)(void *ctx);
	void *ctx;
	/* The length of the signature for this trusted comment, known before
	 * signing (minisign made here); NULL where only signing tells (CMS, a
	 * signature attached as it is). Lets a package be laid out, and its
	 * payloads written, while they are hashed. */
	size_t (*text_len)(const char *trusted_comment);
};

/*
 * Sign msg. trusted_comment is minisign's (ignored by CMS); when is the
 * signing time CMS records (the manifest's creation time, so output stays
 * reproducible). *out is malloc'd.
 */
int sig_signer_sign(struct sig_signer *s, const void *msg, size_t len, const char *trusted_comment,
		    int64_t when, char **out, size_t *out_len, struct fw_err *err);
void sig_signer_free(struct sig_signer *s);

/* A minisign key file's key; takes k (freed with the signer). */
int sig_signer_minisign(struct sig_seckey *k, struct sig_signer **out, struct fw_err *err);

/*
 * A signature made elsewhere (minisign -S, openssl cms -sign, another
 * fwpkg), read from path: a .minisig file, or a CMS signature in DER or PEM
 * (stored as DER). It is attached as it is, once it verifies over the
 * package's manifest: a minisign one under its key in pubs, a CMS one under
 * its signer certificate's key (the certificate chain is the verifier's
 * business).
 */
int sig_signer_attach(const char *path, const struct sig_trust *pubs, struct sig_signer **out,
		      struct fw_err *err);

#endif
