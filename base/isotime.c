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
	return fw_time_of_tm(&tm, out);
}

int fw_time_of_tm(const struct tm *tm, int64_t *out)
{
	struct tm in = *tm, back;
	time_t t;

	in.tm_isdst = 0;
	t = timegm(&in);
	if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_year != tm->tm_year || back.tm_mon != tm->tm_mon ||
	    back.tm_mday != tm->tm_mday || back.tm_hour != tm->tm_hour || back.tm_min != tm->tm_min ||
	    back.tm_sec != tm->tm_sec)
		return -1;
	*out = (int64_t)t;
	return 0;
}
