/* crash: the test-only fault seam that stops a program right before its Nth durable step, as a power cut would. */
#ifndef FW_CRASH_H
#define FW_CRASH_H

/*
 * Called right before every durable step (a write to a slot, an fsync, a
 * rename). Once a program has called fw_crash_enable(VAR) and VAR=N is in the
 * environment, the Nth call ends the process at once with _exit(99): no
 * cleanup, no unlocking beyond what the kernel does. VAR=list prints every
 * step as "VAR=N: step WHAT PATH" and stops at none (a test finds the N it
 * wants in one run). Otherwise it only counts.
 * fwctl enables it with FWCTL_CRASH_AT (fwctl(8), "ENVIRONMENT"); the host
 * programs never do, so the variable cannot stop them.
 */
void fw_crash_point(const char *what, const char *path);
void fw_crash_enable(const char *env_var);

#define FW_CRASH_EXIT 99

#endif
