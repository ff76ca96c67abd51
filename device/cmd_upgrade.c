/* cmd_upgrade: fwctl upgrade — parse the field's words, run the transaction (dev_upgrade), report, reboot. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cancel.h"
#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_root.h"
#include "device/dev_source.h"
#include "device/dev_upgrade.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] upgrade [force] [no-reboot] all|pri|sec|boot SOURCE\n"
		   "SOURCE: PATH | - | file://PATH | usb://PATH | media LABEL PATH |\n"
		   "        [ftp|tftp|http|https://][USER[:PASSWORD]@]ADDRESS[:PORT]/FILE | ADDRESS FILE\n"
		   "Verify a signed firmware package and install it; 'all' writes secondary, bootloader,\n"
		   "primary, then reboots (as does 'pri'), unless no-reboot. force and no-reboot come\n"
		   "before the target.\n");
}

static int progress_shown;   /* a progress line is on the terminal: a note starts on a new line */

static void print_note(void *ctx, const char *text)
{
	(void)ctx;
	if (progress_shown) {
		fputc('\n', stderr);
		progress_shown = 0;
	}
	msg_note("%s", text);
}

/* Bytes, percent and speed on one terminal line (stderr, only when it is a terminal and not -q). */
static void print_progress(void *ctx, const struct dev_progress *p)
{
	char pass[32] = "";

	(void)ctx;
	if (p->passes > 1)
		snprintf(pass, sizeof(pass), " (read %u of %u)", p->pass, p->passes);
	if (p->total)
		fprintf(stderr, "\r%s: upgrade: %llu of %llu bytes, %3u%%, %.1f MiB/s%s\033[K", msg_prog,
			(unsigned long long)p->done, (unsigned long long)p->total,
			(unsigned)(p->done * 100 / p->total), (double)p->speed / 1048576.0, pass);
	else
		fprintf(stderr, "\r%s: upgrade: %llu bytes, %.1f MiB/s%s\033[K", msg_prog, (unsigned long long)p->done,
			(double)p->speed / 1048576.0, pass);
	progress_shown = 1;
	if (p->last) {
		fputc('\n', stderr);
		progress_shown = 0;
	}
}

int cmd_upgrade(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct dev_source src;
	struct dev_upgrade_req req = { .note = print_note };
	struct dev_upgrade_out out;
	struct fw_err err = { 0 };
	int i = 1, no_reboot = 0, rc;
	char done[32], not_done[32];

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "force") == 0)
			req.force = 1;
		else if (strcmp(argv[i], "no-reboot") == 0)
			no_reboot = 1;
		else
			break;
	}
	if (i == argc) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (strcmp(argv[i], "all") == 0) {
		req.all = 1;
	} else if (fw_target_parse(argv[i], &req.target) < 0) {
		msg_error("upgrade", NULL, "\"%s\": the target is all, pri, sec or boot", argv[i]);
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (i + 1 == argc) {
		msg_error("upgrade", NULL, "no source: give a package path, -, a URI, ADDRESS FILE or media LABEL PATH");
		return FW_EXIT_USAGE;
	}
	/* A keyword after the target would otherwise read as the ADDRESS of ADDRESS FILE. */
	for (int k = i + 1; k < argc; k++)
		if (strcmp(argv[k], "force") == 0 || strcmp(argv[k], "no-reboot") == 0) {
			msg_error("upgrade", NULL, "\"%s\" comes before the target: fwctl upgrade [force] [no-reboot] "
						   "all|pri|sec|boot SOURCE", argv[k]);
			return FW_EXIT_USAGE;
		}
	if (dev_source_parse(argc - i - 1, argv + i + 1, &src, &err) < 0)
		return msg_fail("upgrade", NULL, &err);
	/* Parsed into src: the process listing need not show the password for the whole transfer. */
	for (int k = i + 1; k < argc; k++)
		dev_source_hide_password(argv[k]);
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("upgrade", NULL, &err);
	req.src = &src;
	if (!msg_quiet && isatty(STDERR_FILENO))
		req.progress = print_progress;
	if (dev_upgrade(&r, &req, &out, &err) < 0) {
		rc = msg_fail("upgrade", src.shown, &err);
		if (out.installed) {
			dev_targets_text(out.installed, done, sizeof(done));
			dev_targets_text(out.not_installed, not_done, sizeof(not_done));
			msg_note("upgrade: installed: %s; not installed: %s", done, not_done);
		}
		goto out;
	}
	dev_targets_text(out.installed, done, sizeof(done));
	msg_note("upgrade: %s %s: success (wrote %s)", req.all ? "all" : fw_target_name(req.target), out.version,
		 done);
	rc = FW_EXIT_OK;
	if (fw_cancel_requested()) {
		/* Too late to stop the upgrade, not the reboot: that is the user's to run now. */
		msg_note("upgrade: the cancel came after the upgrade had finished (cancellation failed); not rebooting");
	} else if (!no_reboot && (req.all || req.target == FW_TARGET_PRI)) {
		msg_note("upgrade: rebooting");
		rc = cmd_boot_run(&r);
	}
out:
	dev_root_close(&r);
	return rc;
}
