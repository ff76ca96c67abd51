/* dev_crash: the test-only fault seam that stops fwctl right before its Nth durable step. */
#ifndef FW_DEV_CRASH_H
#define FW_DEV_CRASH_H

/*
 * Called right before every durable step (a write to a slot, an fsync, a
 * rename). With FWCTL_CRASH_AT=N in the environment, the Nth call ends the
 * process at once with _exit(99), as a power cut would: no cleanup, no
 * unlocking beyond what the kernel does. Without the variable it only counts.
 * For tests only (fwctl(8), "ENVIRONMENT").
 */
void dev_crash_point(const char *what, const char *path);

#define DEV_CRASH_EXIT 99

#endif
