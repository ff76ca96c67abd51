/* cli_msg: every diagnostic goes through here, so all read "prog: verb: file: why". */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *cli_prog = "fwpkg";
int cli_quiet;

void cli_error(const char *verb, const char *file, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	if (verb != NULL)
		fprintf(stderr, "%s: ", verb);
	if (file != NULL) {
		char shown[1024];
		fprintf(stderr, "%s: ", fw_escape(file, shown, sizeof(shown)));
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail(const char *verb, const char *file, const struct fw_err *err)
{
	cli_error(verb, file, "%s", err->msg[0] ? err->msg : "failed");
	return err->code ? err->code : FW_EXIT_IO;
}

void cli_note(const char *fmt, ...)
{
	va_list ap;

	if (cli_quiet)
		return;
	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_print_json(json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_SORT_KEYS | JSON_INDENT(2)) == 0 ? 0 : -1;

	json_decref(doc);
	if (rc == 0 && fputc('\n', stdout) == EOF)
		rc = -1;
	return rc;
}

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
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

int cli_bad_option(const char *verb, int c, char **argv)
{
	char shortopt[3] = { '-', (char)optopt, '\0' };

	if (c == ':')
		cli_error(verb, NULL, "option %s needs an argument (see --help)", argv[optind - 1]);
	else
		/* getopt sets optopt for an unknown short option, not for a long one. */
		cli_error(verb, NULL, "unknown option %s (see --help)", optopt ? shortopt : argv[optind - 1]);
	return FW_EXIT_USAGE;
}
