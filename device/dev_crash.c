/* dev_crash: FWCTL_CRASH_AT=N, the test-only power-cut seam; a no-op counter when unset. */
#include "dev_crash.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void dev_crash_point(const char *what, const char *path)
{
	static long at = -1;
	static long count;
	const char *env;

	if (at < 0) {
		env = getenv("FWCTL_CRASH_AT");
		at = env != NULL && *env != '\0' ? strtol(env, NULL, 10) : 0;
		if (at < 0)
			at = 0;
	}
	count++;
	if (at > 0 && count == at) {
		fprintf(stderr, "fwctl: FWCTL_CRASH_AT=%ld: stopping before %s %s\n", at, what, path);
		_exit(DEV_CRASH_EXIT);
	}
}
