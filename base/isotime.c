/* isotime: seconds since the epoch as ISO 8601 UTC. */
#include "isotime.h"

#include <stdio.h>
#include <time.h>

char *fw_time_iso(int64_t t, char out[FW_ISOTIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, FW_ISOTIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, FW_ISOTIME_LEN, "%lld", (long long)t);
	return out;
}
