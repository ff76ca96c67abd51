/* fw_err: formatting of library error messages. */
#include "fw_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fw_err_set(struct fw_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int fw_err_wrap(struct fw_err *err, const char *fmt, ...)
{
	char prefix[256];
	char old[sizeof(err->msg)];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the start of a message carries its point. */
	size_t n = strlen(prefix);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	n += 2;
	size_t rest = strnlen(old, sizeof(old));
	if (rest > sizeof(err->msg) - 1 - n)
		rest = sizeof(err->msg) - 1 - n;
	memcpy(err->msg + n, old, rest);
	err->msg[n + rest] = '\0';
	return -1;
}

char *fw_escape(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	if (outsz == 0)
		return out;
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		char tmp[5];
		size_t n;

		/* C0 controls, DEL, and C1 controls in their UTF-8 form (C2 80..9F),
		 * which some terminals obey too; other UTF-8 text passes. */
		int c1 = *p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;

		if (*p < 0x20 || *p == 0x7f || *p == '\\' || c1) {
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			if (c1 && o + n < outsz) {
				memcpy(out + o, tmp, n);
				o += n;
				p++;
				n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			}
		}
		else
			tmp[0] = (char)*p, tmp[1] = '\0', n = 1;
		if (o + n >= outsz)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
	return out;
}
