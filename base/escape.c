/* escape: control bytes and ill-formed UTF-8 become \xNN; all other text passes. */
#include "escape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Length of the well-formed UTF-8 sequence at p (at most `left` bytes), or 0
 * if the bytes there are not one (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF).
 */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int utf8_all(const char *in, size_t left)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n;

	for (; left > 0; p += n, left -= n)
		if ((n = utf8_len(p, left)) == 0)
			return 0;
	return 1;
}

int fw_utf8_valid(const char *in)
{
	return utf8_all(in, strlen(in));
}

/* A C1 control (U+0080..U+009F), which some terminals obey like ESC [. */
static int is_c1(const unsigned char *p, size_t n)
{
	return n == 2 && p[0] == 0xc2 && p[1] <= 0x9f;
}

/*
 * What escape() lets pass: for a terminal or a log (ESC_SHOWN), every
 * well-formed character but controls and the backslash; for a message that
 * may hold escapes already (ESC_MSG), the backslash too; for JSON (ESC_JSON),
 * every well-formed character but NUL and the backslash (JSON escapes
 * controls its own way).
 */
enum esc_mode { ESC_SHOWN, ESC_MSG, ESC_JSON };

static char *escape(const unsigned char *p, size_t len, enum esc_mode mode, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0;

	if (outsz == 0)
		return out;
	while (i < len) {
		size_t n = utf8_len(p + i, len - i);
		int plain = n > 0 && (mode == ESC_JSON ? !(n == 1 && (p[i] == 0 || p[i] == '\\'))
				      : !is_c1(p + i, n) &&
					!(n == 1 && (p[i] < 0x20 || p[i] == 0x7f || (p[i] == '\\' && mode == ESC_SHOWN))));

		if (plain) {
			if (o + n >= outsz)
				break;
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
			continue;
		}
		/* Escape every byte of a control character's sequence, or the one bad byte. */
		if (n == 0)
			n = 1;
		if (o + 4 * n >= outsz)
			break;
		for (size_t k = 0; k < n; k++, i++) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 0xf];
		}
	}
	out[o] = '\0';
	return out;
}

char *fw_escape_n(const char *in, size_t len, char *out, size_t outsz)
{
	return escape((const unsigned char *)in, len, ESC_SHOWN, out, outsz);
}

char *fw_escape(const char *in, char *out, size_t outsz)
{
	return escape((const unsigned char *)in, strlen(in), ESC_SHOWN, out, outsz);
}

char *fw_escape_cap(const char *in, size_t cap, char *out, size_t outsz)
{
	size_t len = strnlen(in, cap + 1), keep;

	if (len <= cap || outsz < 4)
		return escape((const unsigned char *)in, len, ESC_SHOWN, out, outsz);
	/* Cut before a continuation byte, so no character is split. */
	for (keep = cap; keep > 0 && ((unsigned char)in[keep] & 0xc0) == 0x80; keep--)
		;
	escape((const unsigned char *)in, keep, ESC_SHOWN, out, outsz - 3);
	strcat(out, "...");
	return out;
}

char *fw_escape_msg(const char *in, char *out, size_t outsz)
{
	return escape((const unsigned char *)in, strlen(in), ESC_MSG, out, outsz);
}

json_t *fw_json_text(const char *text)
{
	return fw_json_text_n(text, strlen(text));
}

json_t *fw_json_text_n(const char *text, size_t len)
{
	size_t cap;
	char *buf;
	json_t *s;

	/* Text is carried as itself: jansson writes controls as \\t, \\u001b. */
	if (memchr(text, '\0', len) == NULL && utf8_all(text, len))
		return json_stringn(text, len);
	cap = FW_ESCAPED_SIZE(len);
	if ((buf = malloc(cap)) == NULL)
		return NULL;
	s = json_string(escape((const unsigned char *)text, len, ESC_JSON, buf, cap));
	free(buf);
	return s;
}

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

json_t *fw_json_text_unescaped(const char *shown)
{
	size_t len = strlen(shown), n = 0;
	char *raw = malloc(len + 1);
	json_t *out;

	if (raw == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		/* fw_escape writes a backslash as "\x5c": any "\xNN" is one escaped byte. */
		if (shown[i] == '\\' && i + 3 < len + 0 + 1 && shown[i + 1] == 'x' && (hi = hex_value(shown[i + 2])) >= 0 &&
		    (lo = hex_value(shown[i + 3])) >= 0) {
			raw[n++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			raw[n++] = shown[i];
		}
	}
	out = fw_json_text_n(raw, n);
	free(raw);
	return out;
}
