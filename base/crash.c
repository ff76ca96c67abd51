/* crash: VAR=N stops the program before its Nth durable step; a no-op counter unless a program enables it. */
#include "crash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *crash_var;
static long crash_at;   /* 0: never */
static long crash_count;
static int crash_list;  /* VAR=list: name every step, stop at none */

void fw_crash_enable(const char *env_var)
{
	const char *env = getenv(env_var);

	crash_var = env_var;

	crash_list = env != NULL && strcmp(env, "list") == 0;
	crash_at = env != NULL && *env != '\0' ? strtol(env, NULL, 10) : 0;
	if (crash_at < 0)
		crash_at = 0;
	crash_count = 0;
}

void fw_crash_point(const char *what, const char *path)
{
	crash_count++;
	if (crash_list)
		fprintf(stderr, "%s=%ld: step %s %s\n", crash_var, crash_count, what, path);
	if (crash_at > 0 && crash_count == crash_at) {
		fprintf(stderr, "%s=%ld: stopping before %s %s\n", crash_var, crash_at, what, path);
		_exit(FW_CRASH_EXIT);
	}
}
