/* cancel: SIGINT/SIGTERM set a flag (once); the library's safe points turn it into an error of its own kind. */
#include "cancel.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t asked;

static void on_signal(int sig)
{
	asked = sig;
}

void fw_cancel_catch(void)
{
	static const int sigs[] = { SIGINT, SIGTERM };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa, old;

		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;   /* nohup and friends: what the caller ignores stays ignored */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		/* The first signal asks; the second one kills as it always did. SA_RESTART: a read the
		 * signal lands in goes on, and the safe points look at the flag. */
		sa.sa_flags = SA_RESETHAND | SA_RESTART;
		sigaction(sigs[i], &sa, NULL);
	}
}

int fw_cancel_requested(void)
{
	return asked;
}

int fw_cancel_check(struct fw_err *err)
{
	int sig = asked;

	if (sig == 0)
		return 0;
	return fw_err_setk(err, FW_KIND_CANCELLED, FW_EXIT_CANCELLED, "cancelled (%s)",
			   sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
}
