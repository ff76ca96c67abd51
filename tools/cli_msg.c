/* cli_msg: getopt_long's complaints in our message format, JSON outcomes (the messages themselves are base/msg). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

json_t *cli_json_failure_doc(const char *file, int code, const char *msg)
{
	/* The one failure document (msg), and what the host programs add to it: nothing was verified. */
	json_t *doc = msg_json_failure_doc(file, code, msg);

	if (doc != NULL && json_object_set_new(doc, "verified", json_false()) < 0) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

int cli_json_failure(const char *file, int code, const char *msg)
{
	json_t *doc = cli_json_failure_doc(file, code, msg);

	if (doc == NULL || msg_print_json(doc) < 0)
		msg_error(NULL, NULL, "cannot print JSON");
	return code;
}

int cli_bad_option(const char *verb, int c, char **argv)
{
	char shortopt[3] = { '-', (char)optopt, '\0' };

	if (c == ':')
		msg_error(verb, NULL, "option %s needs an argument (see --help)", argv[optind - 1]);
	else
		/* getopt sets optopt for an unknown short option, not for a long one. */
		msg_error(verb, NULL, "unknown option %s (see --help)", optopt ? shortopt : argv[optind - 1]);
	return FW_EXIT_USAGE;
}
