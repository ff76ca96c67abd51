/* unlock: a signed unlock token that lets one secure-boot device activate unsigned packages until it expires. */
#ifndef FW_UNLOCK_H
#define FW_UNLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "base/fw_err.h"
#include "signing/trust.h"

#define SIG_UNLOCK_FORMAT "fwpkg-unlock-token"
#define SIG_UNLOCK_MAX 8192   /* bytes of a token file read before parsing */
#define SIG_UNLOCK_KEYS_MAX 8 /* signatures one token carries at most */

/*
 * A token file is one JSON object (fwctl(8), "UNLOCK TOKENS"):
 *   {"format": "fwpkg-unlock-token", "format_version": 1,
 *    "token": BODY, "signature": MINISIG}
 * BODY is a string holding the exact signed bytes, itself a JSON object
 *   {"device": ID, "expires": SECONDS, "created": SECONDS}
 * and MINISIG the minisign signature of BODY, whose trusted comment repeats
 * "type:unlock-token\tdevice:ID\texpires:SECONDS"; or several such
 * signatures, by distinct keys, one after another (a trust store whose
 * policy asks for more than one key).
 */
struct sig_unlock {
	char device[65];
	int64_t expires;     /* seconds since the epoch: valid while now < expires */
	int64_t created;
	char keyid[17];      /* who signed it */
};

/*
 * Parse a token and check its signatures against `trust` when not NULL,
 * through the one trust decision (sig_accept_detached): enough distinct keys
 * it holds, as its policy says, must have signed it, else code
 * FW_EXIT_REJECTED, kind FW_KIND_SIGNATURE. Device and expiry are only
 * parsed; sig_unlock_check judges them.
 */
int sig_unlock_parse(const char *text, size_t len, const struct sig_trust *trust, struct sig_unlock *out,
		     struct fw_err *err);

/* 0 when the token is for `device` and not expired at `now`; else -1 saying why (FW_EXIT_REJECTED). */
int sig_unlock_check(const struct sig_unlock *u, const char *device, int64_t now, struct fw_err *err);

struct sig_seckey;
/* Make a token (signing/unlock_sign.c, host only): malloc'd text with a trailing newline. */
int sig_unlock_create(const struct sig_seckey *k, const char *device, int64_t expires, int64_t created,
		      char **out, size_t *out_len, struct fw_err *err);
/* The same, signed by each of n_keys keys (their signatures one after another). */
int sig_unlock_create_keys(const struct sig_seckey *const *keys, size_t n_keys, const char *device, int64_t expires,
			   int64_t created, char **out, size_t *out_len, struct fw_err *err);

#endif
