/* msg: one prefix, one format and one escaping pass for every diagnostic. */
#include "msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"

const char *msg_prog = "fwpkg";
int msg_quiet;

/* Format, then escape, so that not even a caller's raw argument reaches the terminal. */
static void emit(const char *verb, const char *file, const char *fmt, va_list ap)
{
	char text[2048], shown[FW_ESCAPED_SIZE(sizeof(text))];

	vsnprintf(text, sizeof(text), fmt, ap);
	fprintf(stderr, "%s: ", msg_prog);
	if (verb != NULL)
		fprintf(stderr, "%s: ", verb);
	if (file != NULL) {
		char name[1024];
		fprintf(stderr, "%s: ", fw_escape(file, name, sizeof(name)));
	}
	fprintf(stderr, "%s\n", fw_escape_msg(text, shown, sizeof(shown)));
}

void msg_error(const char *verb, const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(verb, file, fmt, ap);
	va_end(ap);
}

int msg_fail(const char *verb, const char *file, const struct fw_err *err)
{
	msg_error(verb, file, "%s", err->msg[0] ? err->msg : "failed");
	return err->code ? err->code : FW_EXIT_IO;
}

void msg_note(const char *fmt, ...)
{
	va_list ap;

	if (msg_quiet)
		return;
	va_start(ap, fmt);
	emit(NULL, NULL, fmt, ap);
	va_end(ap);
}

/*
 * jansson escapes C0 controls but writes the C1 controls (U+0080..U+009F,
 * UTF-8 0xc2 0x80..0x9f) as they are, and a terminal may obey U+009B as CSI
 * when the JSON is only looked at. They become \u0080..\u009f, which every
 * JSON parser reads back as the same text. JSON's structure is ASCII, so
 * such a pair can only be inside a string; jansson hands its text over at
 * character boundaries, but a 0xc2 at a piece's end waits for the next.
 */
struct json_out {
	FILE *f;
	int held_c2;
};

static int json_out_piece(const char *buf, size_t len, void *ctx)
{
	struct json_out *o = ctx;
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (o->held_c2) {
			o->held_c2 = 0;
			if (c >= 0x80 && c <= 0x9f ? fprintf(o->f, "\\u%04x", c) < 0 : fputc(0xc2, o->f) == EOF)
				return -1;
			if (c >= 0x80 && c <= 0x9f)
				from = i + 1;
			continue;
		}
		if (c == 0xc2) {
			if (fwrite(buf + from, 1, i - from, o->f) != i - from)
				return -1;
			o->held_c2 = 1;
			from = i + 1;
		}
	}
	return fwrite(buf + from, 1, len - from, o->f) == len - from ? 0 : -1;
}

int msg_print_json(json_t *doc)
{
	struct json_out o = { stdout, 0 };
	int rc = json_dump_callback(doc, json_out_piece, &o, JSON_SORT_KEYS | JSON_INDENT(2)) == 0 ? 0 : -1;

	if (rc == 0 && o.held_c2 && fputc(0xc2, stdout) == EOF)
		rc = -1;

	json_decref(doc);
	if (rc == 0 && fputc('\n', stdout) == EOF)
		rc = -1;
	return rc;
}

json_t *msg_json_failure_doc(const char *file, int code, const char *msg)
{
	return json_pack("{s:o?, s:s, s:i, s:o}", "file", file ? fw_json_text(file) : NULL, "outcome",
			 code == FW_EXIT_REJECTED ? "rejected" : "error", "exit_code", code, "error", fw_json_text(msg));
}

int msg_json_failure(const char *file, int code, const char *msg)
{
	json_t *doc = msg_json_failure_doc(file, code, msg);

	if (doc == NULL || msg_print_json(doc) < 0)
		msg_error(NULL, NULL, "cannot print JSON");
	return code;
}

int msg_finish(int rc)
{
	int failed = fflush(stdout) != 0 || ferror(stdout);
	int why = errno;

	if (!failed)
		return rc;
	msg_error(NULL, NULL, "cannot write to standard output: %s", strerror(why));
	return rc == FW_EXIT_OK ? FW_EXIT_IO : rc;
}

void msg_print_version(int format_version)
{
	printf("%s %s (package format %d)\n", msg_prog, MSG_VERSION, format_version);
}

int msg_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}
