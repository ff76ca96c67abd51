/* isotime: one way to write a time for people and for JSON: ISO 8601 UTC. */
#ifndef FW_ISOTIME_H
#define FW_ISOTIME_H

#include <stdint.h>
#include <time.h>

#define FW_ISOTIME_LEN 32

/* "2024-05-01T12:00:00Z" into out (the number itself if gmtime cannot say); returns out. */
char *fw_time_iso(int64_t t, char out[FW_ISOTIME_LEN]);

/* "2024-05-01T12:00:00Z" (exactly that form) into seconds since the epoch; -1 if it is not one. */
int fw_time_parse(const char *s, int64_t *out);

/*
 * A UTC date and time strptime filled in, into seconds since the epoch; -1
 * when its fields are no real date and time (November 31st, 24:00, a leap
 * second), which timegm would quietly move on. Every parser of a date ends here.
 */
int fw_time_of_tm(const struct tm *tm, int64_t *out);

#endif
