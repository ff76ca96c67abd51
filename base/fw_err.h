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
};

/* The one wording for an output that is in the way, whichever program finds it. */
#define FW_MSG_EXISTS "already exists (use -f to overwrite)"

struct fw_err {
	int code;       /* an enum fw_exit value saying which kind of failure */
	char msg[512];  /* one sentence, no program prefix, no trailing newline */
};

/* Record a failure of kind `code`; returns -1 so callers can `return fw_err_set(...)`. */
int fw_err_set(struct fw_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the existing message with more context: "ctx: old message". Returns -1. */
int fw_err_wrap(struct fw_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


#endif
