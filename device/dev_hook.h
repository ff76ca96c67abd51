/* dev_hook: the security-unpack hook: an external filter between the source and the package reader. */
#ifndef FW_DEV_HOOK_H
#define FW_DEV_HOOK_H

#include <stddef.h>
#include <sys/types.h>

#include "base/fw_err.h"

#define DEV_HOOK_STDERR_MAX 1024       /* bytes of its standard error kept for the record */
#define DEV_HOOK_GRACE 2               /* seconds what the hook started may outlive it before it is killed */

/*
 * The hook reads the incoming package on its standard input (the source's fd
 * itself) and writes the package to read on its standard output; it can
 * decrypt or refuse, never vouch: its output is verified like any package.
 */
struct dev_hook;

enum dev_hook_outcome {
	DEV_HOOK_OK,          /* exited 0 */
	DEV_HOOK_REFUSED,     /* exited 1: a security violation */
	DEV_HOOK_FAILED,      /* another exit code, or killed by a signal */
	DEV_HOOK_TIMED_OUT,   /* stopped after the timeout */
	DEV_HOOK_CANCELLED,   /* stopped because the user cancelled (fw_cancel) */
};

/*
 * Start path with in_fd as its standard input; *out_fd is the read end of its
 * standard output (owned by the hook). The hook is stopped (SIGKILL) when it
 * runs longer than timeout_s (1 or more: the device's hook-timeout setting,
 * dev_settings.c, whose default is there alone), so a reader waiting on it
 * never waits longer.
 * The calling process becomes a child subreaper (prctl), for good: every
 * process the hook starts, even one that leaves its process group or
 * session, stays its descendant, and is killed DEV_HOOK_GRACE seconds after
 * the hook ends (at once after a timeout). So the hook's pipes close, and the
 * device lock is free, within timeout_s plus the grace.
 */
int dev_hook_start(const char *path, int in_fd, unsigned timeout_s, struct dev_hook **out, int *out_fd,
		   struct fw_err *err);

/*
 * Close the output, wait for the hook to end (by itself, or at its timeout),
 * and say how it ended; *status is its wait status. stderr_text gets its standard error, at most
 * DEV_HOOK_STDERR_MAX bytes, NUL-terminated (not escaped). Frees the hook.
 */
enum dev_hook_outcome dev_hook_finish(struct dev_hook *h, int *status, char *stderr_text, size_t n);

/*
 * The hook's policy, one for every way in: finish h and judge how it ended.
 * 0 when that decides nothing: it exited 0, or (read_failed: the reader
 * stopped first and says why) it died of SIGPIPE. Else -1 with err (code
 * FW_EXIT_REJECTED) naming what `verb` it stops, and *o says how it ended
 * (DEV_HOOK_REFUSED: a security violation). stderr_text gets its standard
 * error as dev_hook_finish gives it, trailing newlines cut.
 */
int dev_hook_verdict(struct dev_hook *h, int read_failed, unsigned timeout_s, const char *verb, char *stderr_text,
		     size_t n, enum dev_hook_outcome *o, struct fw_err *err);

/*
 * Wait for a child that leads its own process group (it called setpgid(0, 0)),
 * at most timeout_s seconds, and no longer than until the user cancels
 * (fw_cancel); then kill the whole group, so nothing it started keeps a pipe
 * open. 0 when it ended by itself, 1 when it was killed at the timeout, 2
 * when it was killed on a cancel, -1 when waiting failed; *status is its
 * wait status. Every hook the
 * device runs (the unpack hook, package hooks) is waited for here.
 */
int dev_child_wait(pid_t pid, unsigned timeout_s, int *status);

#endif
