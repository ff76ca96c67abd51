/* fw_err: the caller-owned error record every library function fills on failure. */
#ifndef FW_ERR_H
#define FW_ERR_H

#include <stddef.h>

/* Exit codes shared by every program (STYLE.md rule 8). */
enum fw_exit {
	FW_EXIT_OK = 0,
	FW_EXIT_REJECTED = 1, /* bad signature, tampered, malformed, policy refused */
	FW_EXIT_USAGE = 2,
	FW_EXIT_IO = 3,       /* I/O or system error */
	FW_EXIT_NET = 4,      /* network or transport error */
	FW_EXIT_BUSY = 5,     /* the device is busy with another fwctl: try again later */
	FW_EXIT_CREDENTIALS = 6, /* the user's own key, passphrase, PIN or token is wrong or unusable */
	FW_EXIT_CANCELLED = 7, /* the user stopped it (SIGINT, SIGTERM): recorded, resumable, nothing half-committed */
};

/*
 * What went wrong, as code decides on it: a message's wording is for people
 * and may change, a kind may not. Set where the fact is known (fw_err_setk);
 * fw_err_set leaves FW_KIND_NONE, fw_err_wrap keeps the kind. Add a kind
 * only when some code decides on it.
 */
enum fw_kind {
	FW_KIND_NONE = 0,      /* nothing more specific than the exit code */
	FW_KIND_SIGNATURE,     /* no signature, a bad one, or none from a trusted key (enough keys) */
	FW_KIND_NOT_FOUND,     /* the source or object does not exist (HTTP 404, no such file) */
	FW_KIND_CHANGED,       /* a source changed between two reads (a resume's validator) */
	FW_KIND_AMBIGUOUS,     /* several objects match where exactly one is needed */
	FW_KIND_NOT_CA,        /* a certificate given as a trust anchor is not a CA */
	FW_KIND_MISMATCH,      /* bytes differ from what a signed document says they are */
	FW_KIND_TIMEOUT,       /* a bound on time or speed ran out */
	FW_KIND_THROTTLED,     /* the server said it is busy (HTTP 429/503) */
	FW_KIND_CERT_TIME,     /* a certificate expired or is not yet valid */
	FW_KIND_CANCELLED,     /* the user asked to stop (a signal) */
	FW_KIND_KEY_MISMATCH,  /* a certificate does not belong to the private key it is given with */
};

/* The one wording for an output that is in the way, whichever program finds it. */
#define FW_MSG_EXISTS "already exists (use -f to overwrite)"

struct fw_err {
	int code;       /* an enum fw_exit value: the exit code this failure maps to */
	enum fw_kind kind;
	char msg[512];  /* one sentence, no program prefix, no trailing newline */
};

/* Record a failure of kind `code`; returns -1 so callers can `return fw_err_set(...)`. */
int fw_err_set(struct fw_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record a failure of kind `kind` and exit code `code`; returns -1. */
int fw_err_setk(struct fw_err *err, enum fw_kind kind, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefix the existing message with more context: "ctx: old message". Returns -1. */
int fw_err_wrap(struct fw_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


#endif
