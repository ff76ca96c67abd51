/* escape: the one function that makes untrusted text safe for a terminal, a log line or a JSON string. */
#ifndef FW_ESCAPE_H
#define FW_ESCAPE_H

#include <stddef.h>

#include <jansson.h>

/*
 * Copy `in` into out (outsz bytes, always NUL-terminated) so that what comes
 * out is valid UTF-8 with no control character in it: C0 controls, DEL,
 * backslash, the C1 controls U+0080..U+009F (CSI U+009B among them) and every
 * byte that is not part of a well-formed UTF-8 sequence become "\xNN", one per
 * byte; all other text, UTF-8 included, passes unchanged. Output that does not
 * fit is cut at a character boundary, never inside a sequence or an escape.
 * Returns out.
 *
 * Every message, log line and JSON string the project writes from outside
 * text goes through here; jansson takes the result as it is (valid UTF-8).
 */
char *fw_escape(const char *in, char *out, size_t outsz);

/* 1 if the string is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
int fw_utf8_valid(const char *in);

/* The same, with a length: NUL bytes inside are escaped too. */
char *fw_escape_n(const char *in, size_t len, char *out, size_t outsz);

/*
 * For text that may already hold escapes (a library message naming an escaped
 * entry): the same, except that a backslash passes, so "\x1b" stays as it is
 * rather than becoming "\x5cx1b". Still no control byte and no ill-formed UTF-8 out.
 */
char *fw_escape_msg(const char *in, char *out, size_t outsz);

/*
 * A JSON string of text from outside (a path, a message): fw_escape_msg'd, so
 * jansson always takes it (it refuses ill-formed UTF-8, which would otherwise
 * lose the whole document). NULL only when out of memory.
 */
json_t *fw_json_text(const char *text);

/* Room for escaping len bytes in the worst case, terminator included. */
#define FW_ESCAPED_SIZE(len) (4 * (len) + 1)

#endif
