/* accept: the one trust decision: whether what a verifier holds is signed by enough distinct trusted keys. */
#ifndef FW_ACCEPT_H
#define FW_ACCEPT_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "signing/ossl.h"
#include "signing/signer.h"
#include "signing/trust.h"

#define SIG_ACCEPT_MAX 8     /* signatures one detached signature file may hold */
#define SIG_SIGNERS_MAX 600  /* room for who signed, for messages */

/*
 * The distinct keys a document needs: the caller's own setting or the trust
 * store's policy (min_signatures), whichever asks more, and at least one.
 */
unsigned sig_trust_need(const struct sig_trust *t, unsigned caller_min);

/*
 * The one trust decision (DESIGN.md): every firmware package, modification
 * and removal package (formats/pkg_read.c), catalog and unlock token passes
 * here. fprs[i] is the key fingerprint (sig_ed25519_fpr, or a CMS signer's
 * key_fpr) of each signature that verified under t; one key listed twice
 * counts once. 0 when they meet sig_trust_need(t, caller_min); else -1,
 * FW_EXIT_REJECTED and FW_KIND_SIGNATURE, *have the distinct keys counted.
 */
int sig_trust_decide(const struct sig_trust *t, unsigned caller_min, const uint8_t (*fprs)[SIG_FPR_LEN], size_t n,
		     unsigned *have, struct fw_err *err);

/*
 * Verify a detached signature over msg and decide on it (sig_trust_decide):
 * sig is one or more minisign signatures one after another (a .minisig file
 * that several keys signed), or one DER CMS signature checked as a package's
 * (chain, CRLs, key usage, pins). A trusted key's signature that fails is
 * refused outright; one by a key t does not hold counts for nothing. When
 * comment is not NULL every minisign signature's trusted comment must be it.
 * signers gets who signed ("KEYID, KEYID" or a certificate's subject and id).
 * -1 with err (FW_KIND_SIGNATURE; FW_EXIT_REJECTED, FW_EXIT_IO for a system
 * error): "signed by ..., which is not trusted", "signature by ...: why",
 * "too few signatures by trusted keys: have N, need M".
 */
int sig_accept_detached(const struct sig_trust *t, enum sig_kind kind, const void *msg, size_t len, const char *sig,
			size_t sig_len, const char *comment, char signers[SIG_SIGNERS_MAX], struct fw_err *err);

#endif
