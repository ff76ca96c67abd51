/* cancel: a user's request to stop (SIGINT, SIGTERM), noted by a signal handler and acted on where stopping is safe. */
#ifndef FW_CANCEL_H
#define FW_CANCEL_H

#include "base/fw_err.h"

/*
 * Why: a signal's default action ends the process wherever it is; a device
 * upgrade stopped that way leaves "inProgress" behind and no word of why.
 * A program that can stop cleanly calls fw_cancel_catch() first: the first
 * SIGINT or SIGTERM then only sets a flag, and the library looks at it at
 * its safe points (between chunks, while it waits for the network or a
 * child), fails with kind FW_KIND_CANCELLED and code FW_EXIT_CANCELLED,
 * and the caller records the outcome. A second signal kills as usual
 * (SA_RESETHAND): a user who insists is not made to wait.
 */

/* Catch SIGINT and SIGTERM as above (signals the caller ignores stay ignored). */
void fw_cancel_catch(void);

/* The signal that asked to stop, 0 when none did. Async-signal-safe; any thread. */
int fw_cancel_requested(void);

/* 0, or -1 with err ("cancelled (SIGINT)", FW_KIND_CANCELLED, FW_EXIT_CANCELLED) once a stop was asked for. */
int fw_cancel_check(struct fw_err *err);

#endif
