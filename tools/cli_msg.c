/* cli_msg: getopt_long's complaints in our message format (the messages themselves are base/msg). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
