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

/*
 * The same with a length cap, for names and keys from packages quoted in a
 * one-line message: at most the first `cap` bytes of `in` (cut at a character
 * boundary), then "..." when `in` is longer. Returns out.
 */
char *fw_escape_cap(const char *in, size_t cap, char *out, size_t outsz);

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
 * A JSON string of text from outside (a path, a message, a trusted comment).
 * Well-formed UTF-8 is carried as itself, tabs and other controls included
 * (JSON escapes them its own way: \t, \u001b). Only text that is not
 * well-formed UTF-8 (or holds NUL) is escaped, since jansson refuses it and
 * would lose the whole document: each byte that is not part of a well-formed
 * sequence, each NUL and each backslash become "\xNN"; the well-formed
 * characters around them still pass. fwpkg-pkg(5) documents the rule.
 * NULL only when out of memory.
 */
json_t *fw_json_text(const char *text);

/* The same for len bytes (NUL bytes inside are escaped). */
json_t *fw_json_text_n(const char *text, size_t len);

/*
 * fw_json_text of what fw_escape made (a source the device keeps as it
 * showed it: dev_source's "shown"): each "\xNN" back to its byte first, so
 * JSON carries the text itself by the one rule above, not display escapes.
 */
json_t *fw_json_text_unescaped(const char *shown);

/* Room for escaping len bytes in the worst case, terminator included. */
#define FW_ESCAPED_SIZE(len) (4 * (len) + 1)

#endif
