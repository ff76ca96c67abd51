/* msg: every diagnostic a program prints goes through here, so all read "prog: verb: file: why" and none carries a control byte. */
#ifndef FW_MSG_H
#define FW_MSG_H

#include <stdint.h>

#include <jansson.h>

#include "base/fw_err.h"

extern const char *msg_prog;   /* "fwpkg", "fwctl", ... set by main */
extern int msg_quiet;          /* -q: no progress, no notes */

/*
 * "prog: verb: file: message" on stderr; verb and file may be NULL. The file
 * is escaped whole (fw_escape); the message keeps the escapes it holds and
 * loses any control byte or ill-formed UTF-8 (fw_escape_msg).
 */
void msg_error(const char *verb, const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Report a library error and return its exit code. */
int msg_fail(const char *verb, const char *file, const struct fw_err *err);
/* A note for people (stderr), silenced by -q; escaped as msg_error's message. */
void msg_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a JSON document with sorted keys and a trailing newline on stdout; takes the reference. */
int msg_print_json(json_t *doc);

/*
 * --json after a failure, in every program: one document {"file" (null
 * when NULL), "outcome": "rejected" (exit 1) or "error", "exit_code",
 * "error": the message}, so a pipeline's `| jq` always gets the outcome.
 * msg_json_failure_doc builds it (NULL out of memory) for a program to add
 * its own keys; msg_json_failure prints it and returns code.
 */
json_t *msg_json_failure_doc(const char *file, int code, const char *msg);
int msg_json_failure(const char *file, int code, const char *msg);

/*
 * A program's last step: flush stdout and say so if its data did not all
 * arrive (a full disk, a closed pipe): FW_EXIT_IO in place of a success,
 * else rc unchanged. Data cut short must never exit 0.
 */
int msg_finish(int rc);

/* Every program's version, as -V and --version print it. */
#define MSG_VERSION "0.1"
/* "prog VERSION (package format N)" on stdout: -V and --version of every program (fwpkg, mkpkg, mkwmopkg, fwctl). */
void msg_print_version(int format_version);

/* Parse an unsigned decimal; -1 if not a plain number within max. */
int msg_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
