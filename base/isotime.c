/* isotime: seconds since the epoch as ISO 8601 UTC. */
#include "isotime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

char *fw_time_iso(int64_t t, char out[FW_ISOTIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, FW_ISOTIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, FW_ISOTIME_LEN, "%lld", (long long)t);
	return out;
}

int fw_time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strlen(s) != 20 || (end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *end != '\0')
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}
