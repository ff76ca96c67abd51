/* cli_progress: a one-line progress bar on stderr, drawn only on a terminal, at most every 1%. */
#include "cli.h"

#include <unistd.h>

static int last_percent = -1;
static int drawn;

void cli_progress(void *ctx, uint64_t done, uint64_t total)
{
	int percent;
	char bar[41];

	(void)ctx;
	if (msg_quiet || total < (64u << 20) || !isatty(STDERR_FILENO))
		return;
	percent = (int)(done * 100 / total);
	if (percent == last_percent)
		return;
	last_percent = percent;
	for (int i = 0; i < 40; i++)
		bar[i] = i < percent * 40 / 100 ? '#' : '.';
	bar[40] = '\0';
	/* Percent only: `total` may count more than one pass over the input. */
	fprintf(stderr, "\r%s: [%s] %3d%%", msg_prog, bar, percent);
	drawn = 1;
}

void cli_progress_done(void)
{
	if (drawn)
		fputc('\n', stderr);
	drawn = 0;
	last_percent = -1;
}
