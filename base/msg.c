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

int msg_print_json(json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_SORT_KEYS | JSON_INDENT(2)) == 0 ? 0 : -1;

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
