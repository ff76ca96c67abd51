/* cmd_smart: fwctl smart config (the settings) and fwctl smart tick (do what is due: check, download, install). */
#include <getopt.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/escape.h"
#include "base/isotime.h"
#include "base/cancel.h"
#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_download.h"
#include "device/dev_policy.h"
#include "device/dev_root.h"
#include "device/dev_settings.h"
#include "device/dev_slot.h"
#include "device/dev_smart.h"
#include "device/dev_source.h"
#include "device/dev_state.h"
#include "device/dev_upgrade.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] smart config [--server URL] [--interval DURATION]\n"
		   "                  [--download-window HH:MM-HH:MM|any] [--install-at HH:MM|any] [--on|--off]\n"
		   "       fwctl [--root DIR] smart tick\n"
		   "       fwctl [--root DIR] smart reset-serial\n"
		   "       fwctl [--root DIR] smart schedule download at DATE [reboot at DATE] | off\n"
		   "       fwctl [--root DIR] smart install\n"
		   "config without options shows the settings. Times of day are UTC. tick does what is due\n"
		   "now: a check at the interval, a download inside the window, the install at the install\n"
		   "time, then the boot step. The clock is $FWCTL_NOW when set (for tests), else the real one.\n"
		   "reset-serial forgets the serial of the last accepted catalog: the next one that meets the\n"
		   "trust policy sets it, whatever its serial.\n"
		   "schedule sets a one-shot upgrade: at the download DATE (later than now) a check and the\n"
		   "download, the window aside; at the reboot DATE (later still) the install and the boot step,\n"
		   "and a download that failed is tried again first; without one the package waits for\n"
		   "smart install. DATE is UTC, \"YYYY-MM-DD HH:MM:SS\" (one word or two) or YYYY-MM-DDTHH:MM:SSZ.\n"
		   "A download or install by hand, and --off, end the schedule.\n"
		   "install installs the downloaded package now (then the boot step), whatever its install time.\n"
		   "config's settings (--on and --off turn smart upgrade on and off):\n");
	cmd_settings_help(f, "--", 1);
}

static void show(const struct dev_config *c)
{
	char shown[1100];

	for (size_t i = 0; i < dev_settings_count; i++)
		if (dev_setting_is_smart(&dev_settings[i]))
			printf("%-16s %s\n", dev_settings[i].key, dev_setting_show(c, &dev_settings[i], shown, sizeof(shown)));
}

/* smart config's own options, then one --KEY VALUE per smart setting of the table (OPT_SETTING + its index). */
enum { OPT_ON = 256, OPT_OFF, OPT_SETTING };
static const struct option own_opts[] = {
	{ "on", no_argument, NULL, OPT_ON },
	{ "off", no_argument, NULL, OPT_OFF },
	{ "help", no_argument, NULL, 'h' },
};
#define N_OWN (sizeof(own_opts) / sizeof(own_opts[0]))

static int smart_config(const struct cmd_env *env, int argc, char **argv)
{
	struct option opts[N_OWN + 32];
	struct dev_root r;
	struct fw_err err = { 0 };
	int o, rc = FW_EXIT_OK, changes = 0, on = -1;
	char named[64];

	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("smart config", NULL, &err);
	memcpy(opts, own_opts, sizeof(own_opts));
	cmd_settings_options(opts, N_OWN, sizeof(opts) / sizeof(opts[0]), OPT_SETTING, 1);
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		changes++;
		if (o == OPT_ON || o == OPT_OFF) {
			on = o == OPT_ON;
		} else if (o == 'h') {
			usage(stdout);
			goto out;
		} else if (o >= OPT_SETTING && (size_t)(o - OPT_SETTING) < dev_settings_count) {
			const struct dev_setting *s = &dev_settings[o - OPT_SETTING];
			snprintf(named, sizeof(named), "--%s", s->key);
			int set = dev_setting_set(&r.cfg, s, named, optarg, &err);

			if (s->type == DEV_SETTING_URL)
				dev_source_hide_password(optarg);   /* kept in the configuration, not in the process listing */
			if (set < 0) {
				rc = msg_fail("smart config", NULL, &err);
				goto out;
			}
			if (s->type == DEV_SETTING_URL && on < 0)
				on = 1;   /* naming a server turns smart upgrade on, unless --off says otherwise */
		} else {
			msg_error("smart config", NULL, "unknown option or missing argument: %s", argv[optind - 1]);
			usage(stderr);
			rc = FW_EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc) {
		usage(stderr);
		rc = FW_EXIT_USAGE;
		goto out;
	}
	if (changes == 0) {
		show(&r.cfg);
		goto out;
	}
	if (on >= 0)
		r.cfg.smart.enabled = on;
	if (on == 0) {
		/* Turning smart upgrade off ends a one-shot schedule (as the field's undo smart-upgrade enable). */
		struct dev_smart_state st;

		if (dev_smart_load(&r, &st, &err) < 0 || (dev_smart_unschedule(&st), dev_smart_save(&r, &st, &err)) < 0) {
			rc = msg_fail("smart config", NULL, &err);
			goto out;
		}
	}
	if (r.cfg.smart.enabled && r.cfg.smart.server[0] == '\0') {
		msg_error("smart config", NULL, "--on needs a catalog server: --server URL");
		rc = FW_EXIT_USAGE;
		goto out;
	}
	if (dev_config_save(&r, &err) < 0) {
		rc = msg_fail("smart config", NULL, &err);
		goto out;
	}
	msg_note("smart config: set");
out:
	dev_root_close(&r);
	return rc;
}

/* Is the image that booted on trial? Then nothing is installed until it is marked good. */
static int on_trial(const struct dev_root *r, const struct dev_state *st)
{
	struct dev_record rec;

	if (st->booted == DEV_BOOTED_NONE)
		return 0;
	dev_record_load(r, st->booted, &rec);
	return rec.valid && rec.trial;
}

static void print_note(void *ctx, const char *text)
{
	(void)ctx;
	msg_note("%s", text);
}

/* The downloaded package into every slot (dev_upgrade, all), then the boot step as a reboot would run it. */
static int install(struct dev_root *r, int64_t now)
{
	struct dev_smart_state s;
	struct dev_source src;
	struct dev_upgrade_req req = { .all = 1, .hash_on_read = 1, .note = print_note };
	struct dev_upgrade_out out;
	struct fw_err err = { 0 }, serr;
	struct dev_record pri, sec;
	const struct dev_record *run;
	char *path = dev_root_file(r, DEV_DOWNLOAD_FILE), plan_running[FW_VERSION_MAX_LEN + 1];
	int rc, delta_failed = 0;

	if (path == NULL || dev_smart_load(r, &s, &err) < 0) {
		free(path);
		return msg_fail("install", NULL, &err);
	}
	memset(&src, 0, sizeof(src));
	src.kind = DEV_SRC_FILE;
	snprintf(src.path, sizeof(src.path), "%s", path);
	fw_escape(path, src.shown, sizeof(src.shown));
	free(path);
	req.src = &src;
	dev_record_load(r, FW_TARGET_PRI, &pri);
	dev_record_load(r, FW_TARGET_SEC, &sec);
	if (dev_running_now(r, &pri, &sec, &run, NULL, &serr) < 0)
		run = NULL;   /* the install below stops on the same question */
	snprintf(plan_running, sizeof(plan_running), "%s", run != NULL ? run->version : "");
	rc = dev_upgrade(r, &req, &out, &err);
	s.install_time = now;
	snprintf(s.install_result, sizeof(s.install_result), "%s", dev_result_name(out.result));
	snprintf(s.install_version, sizeof(s.install_version), "%s", s.step.version);
	/* Whatever the outcome, this package is done with: the next check decides again. But for a
	 * user's stop (upgradeCancelled): the download stays, and the next tick installs it. */
	if (out.result != DEV_RESULT_CANCELLED || err.kind != FW_KIND_CANCELLED) {
		dev_download_discard(r);
		/* A delta that failed (its base gone or damaged, ...) is never chosen again: the full package is. */
		delta_failed = rc < 0 && s.step.delta;
		if (rc < 0 && (delta_failed || dev_smart_result_refuses(s.install_result)))
			dev_smart_refuse_step(&s, s.install_result, plan_running);   /* never chosen again */
		dev_smart_forget_step(&s);
	}
	/* After a success a bridge's target is looked for at the next tick, after a failed delta the full
	 * package; after a refusal, at the interval. */
	s.next_check = rc == 0 || delta_failed ? now : 0;
	if (dev_smart_save(r, &s, &serr) < 0)
		msg_error("install", NULL, "%s", serr.msg);
	if (rc < 0) {
		printf("install %s %s\n", s.install_version, dev_result_name(out.result));
		return msg_fail("install", NULL, &err);
	}
	printf("install %s success\n", s.install_version);
	if (fw_cancel_requested()) {
		msg_note("install: the cancel came after the install had finished (cancellation failed); not rebooting");
		return FW_EXIT_OK;
	}
	msg_note("install: rebooting");
	return cmd_boot_run(r);
}

/*
 * What a one-shot schedule makes of the action just run (`before`: the state it was due in): its download
 * ran (or failed, to be tried again at the reboot time), its install ran, or it gave up.
 */
static void sched_mark(struct dev_root *r, const struct dev_smart_state *before, enum dev_smart_action a, int rc,
		       int64_t now)
{
	struct dev_smart_state s;
	struct fw_err err;
	int64_t at = dev_smart_sched_download_at(before);
	int retry = before->sched_dl_done;

	if (!dev_smart_scheduled(before) || dev_smart_load(r, &s, &err) < 0)
		return;
	if (a == DEV_SMART_INSTALL) {
		s.sched_reboot_done = 1;
		snprintf(s.sched_reboot_result, sizeof(s.sched_reboot_result), "%s", rc == 0 ? "succeeded" : "failed");
	} else if (at > 0 && now >= at && (a == DEV_SMART_DOWNLOAD || (a == DEV_SMART_CHECK && !s.has_step))) {
		int failed = rc != 0 || (a == DEV_SMART_CHECK && s.check_result != DEV_CHECK_VERSION_OPTIMAL);

		if (!retry) {
			s.sched_dl_done = 1;
			s.sched_dl_failed = failed;
		}
		/* Nothing to fetch, or the second try failed too: the schedule is over. */
		if ((a == DEV_SMART_CHECK && !failed) || (retry && failed) || (failed && s.sched_reboot == 0)) {
			s.sched_reboot_done = 1;
			snprintf(s.sched_reboot_result, sizeof(s.sched_reboot_result), "%s", failed ? "failed" : "");
		}
	} else {
		return;
	}
	if (dev_smart_save(r, &s, &err) < 0)
		msg_error("smart tick", NULL, "%s", err.msg);
}

static void print_when(const char *what, int64_t t)
{
	char iso[FW_ISOTIME_LEN];

	if (t >= 0)
		msg_note("tick: next %s at %s", what, fw_time_iso(t, iso));
}

static int smart_tick(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct dev_smart_state s;
	struct dev_state st;
	struct dev_smart_plan p;
	struct fw_err err = { 0 };
	int64_t now;
	unsigned skip = 0;
	int rc = FW_EXIT_OK;

	(void)argv;
	if (argc != 1) {
		msg_error("smart tick", NULL, "takes no arguments");
		return FW_EXIT_USAGE;
	}
	if (dev_smart_now(&now, &err) < 0)
		return msg_fail("smart tick", NULL, &err);
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("smart tick", NULL, &err);
	if (!r.cfg.smart.enabled) {
		msg_note("tick: smart upgrade is off (fwctl smart config --server URL)");
		goto out;
	}
	/* One of each at most per tick, in order: a check, the download it asks for, the install when due (alone). */
	for (;;) {
		if (dev_smart_load(&r, &s, &err) < 0 || dev_state_load(&r, &st, &err) < 0) {
			rc = msg_fail("smart tick", NULL, &err);
			goto out;
		}
		dev_smart_plan(&r.cfg.smart, &s, now, on_trial(&r, &st), skip, &p);
		/* An install due now goes first, without this tick's check: it installs what the last accepted
		 * catalog named, the check after an install is due at once (the next tick), and a process that
		 * has fetched a catalog holds the network's libraries and buffers through the install too. */
		if (p.due == DEV_SMART_CHECK && p.next_install == now) {
			skip |= 1u << DEV_SMART_CHECK;
			continue;
		}
		if (p.due == DEV_SMART_NOTHING)
			break;
		skip |= 1u << p.due;
		if (p.due == DEV_SMART_CHECK)
			rc = cmd_check_run(&r, now, msg_quiet);   /* -q (cron): only what changed or failed */
		else if (p.due == DEV_SMART_DOWNLOAD)
			rc = cmd_download_run(&r, now, msg_quiet);
		else
			rc = install(&r, now);
		sched_mark(&r, &s, p.due, rc, now);
		if (rc != FW_EXIT_OK || p.due == DEV_SMART_INSTALL)
			goto out;
	}
	if (p.next_install == now && on_trial(&r, &st))
		msg_note("tick: the install waits until the running system is marked good (fwctl mark-good)");
	print_when("check", p.next_check);
	print_when("download", p.next_download);
	print_when("install", p.next_install);
out:
	dev_root_close(&r);
	return rc;
}

/* fwctl smart reset-serial: the administrator's reset of the catalog serial the device remembers. */
static int smart_reset_serial(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
	uint64_t old;
	int had, rc = FW_EXIT_OK;

	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("smart reset-serial", NULL, &err);
	if (dev_smart_reset_serial(&r, &had, &old, &err) < 0)
		rc = msg_fail("smart reset-serial", NULL, &err);
	else if (had)
		msg_note("smart reset-serial: forgot serial %llu: the next catalog that meets the trust policy sets it",
			 (unsigned long long)old);
	else
		msg_note("smart reset-serial: no serial remembered: nothing to do");
	dev_root_close(&r);
	return rc;
}

/* "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DDTHH:MM:SSZ" by shape: a digit wherever the form has one. */
static int date_shape(const char *text)
{
	static const char form[] = "dddd-dd-dd?dd:dd:dd";
	size_t n = strlen(text);

	if (n != sizeof(form) - 1 && !(n == sizeof(form) && text[n - 1] == 'Z' && text[10] == 'T'))
		return 0;
	for (size_t i = 0; i < sizeof(form) - 1; i++)
		if (form[i] == 'd' ? !isdigit((unsigned char)text[i]) : form[i] == '?' ? text[i] != ' ' && text[i] != 'T'
										: text[i] != form[i])
			return 0;
	return 1;
}

/*
 * "YYYY-MM-DD HH:MM:SS" in one or two words, or YYYY-MM-DDTHH:MM:SSZ (UTC), a real date of
 * 2000 to 2099; *used: words taken; text: the words, for the message. -1 if it is none.
 */
static int parse_date(int argc, char **argv, int64_t *t, int *used, char text[64])
{
	struct tm tm;
	const char *end;

	*used = 0;
	text[0] = '\0';
	if (argc < 1)
		return -1;
	if (argc >= 2 && strchr(argv[0], ':') == NULL && strchr(argv[1], ':') != NULL) {
		snprintf(text, 64, "%s %s", argv[0], argv[1]);
		*used = 2;
	} else {
		snprintf(text, 64, "%s", argv[0]);
		*used = 1;
	}
	/* Every field its full width, as the forms say: "2030-1-1 1:2:3" is a typing mistake, not a date to guess. */
	if (!date_shape(text))
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(text, "%Y-%m-%d %H:%M:%S", &tm)) == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *end != '\0')
			return -1;
	}
	if (tm.tm_year + 1900 < 2000 || tm.tm_year + 1900 > 2099 || !isdigit((unsigned char)text[0]))
		return -1;
	return fw_time_of_tm(&tm, t);
}

/* fwctl smart schedule download at DATE [reboot at DATE] | off | (nothing: show it) */
static int smart_schedule(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct dev_smart_state s;
	struct fw_err err = { 0 };
	int64_t now, dl = 0, rb = 0;
	char a[FW_ISOTIME_LEN], b[FW_ISOTIME_LEN];
	char text[64];
	int rc = FW_EXIT_OK, i = 1, used, off = argc == 2 && strcmp(argv[1], "off") == 0;

	if (!off && argc > 1) {
		if (argc < 4 || strcmp(argv[1], "download") != 0 || strcmp(argv[2], "at") != 0)
			goto usage;
		if (parse_date(argc - 3, argv + 3, &dl, &used, text) < 0)
			goto bad_date;
		i = 3 + used;
		if (i < argc) {
			if (argc - i < 3 || strcmp(argv[i], "reboot") != 0 || strcmp(argv[i + 1], "at") != 0)
				goto usage;
			if (parse_date(argc - i - 2, argv + i + 2, &rb, &used, text) < 0)
				goto bad_date;
			if (i + 2 + used != argc)
				goto usage;
		}
	}
	if (dev_smart_now(&now, &err) < 0)
		return msg_fail("smart schedule", NULL, &err);
	if (dl != 0 && dl <= now) {
		msg_error("smart schedule", NULL, "the download time %s is not later than now (%s)", fw_time_iso(dl, a),
			  fw_time_iso(now, b));
		return FW_EXIT_USAGE;
	}
	if (rb != 0 && rb <= dl) {
		msg_error("smart schedule", NULL, "the reboot time %s is not later than the download time %s",
			  fw_time_iso(rb, a), fw_time_iso(dl, b));
		return FW_EXIT_USAGE;
	}
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("smart schedule", NULL, &err);
	if (dev_smart_load(&r, &s, &err) < 0) {
		rc = msg_fail("smart schedule", NULL, &err);
		goto out;
	}
	if (argc == 1) {
		printf("download  %s\n", s.sched_download ? fw_time_iso(s.sched_download, a) : "-");
		printf("reboot    %s\n", s.sched_reboot ? fw_time_iso(s.sched_reboot, a) : "-");
		goto out;
	}
	if (!off && !r.cfg.smart.enabled) {
		msg_error("smart schedule", NULL, "smart upgrade is off: fwctl smart config --server URL first");
		rc = FW_EXIT_USAGE;
		goto out;
	}
	dev_smart_unschedule(&s);
	s.sched_download = dl;
	s.sched_reboot = rb;
	if (dev_smart_save(&r, &s, &err) < 0) {
		rc = msg_fail("smart schedule", NULL, &err);
		goto out;
	}
	if (off)
		msg_note("smart schedule: off");
	else
		msg_note("smart schedule: download at %s, %s%s", fw_time_iso(dl, a), rb ? "reboot at " : "install by hand "
			 "(fwctl smart install)", rb ? fw_time_iso(rb, b) : "");
out:
	dev_root_close(&r);
	return rc;
usage:
	usage(stderr);
	return FW_EXIT_USAGE;
bad_date:
	msg_error("smart schedule", text, "not a date and time (expected \"YYYY-MM-DD HH:MM:SS\" or "
		  "YYYY-MM-DDTHH:MM:SSZ, UTC, a real date of 2000 to 2099)");
	return FW_EXIT_USAGE;
}

/* fwctl smart install: the downloaded package, now (the field's right-now once downloaded); ends a schedule. */
static int smart_install(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct dev_smart_state s;
	struct fw_err err = { 0 };
	int64_t now;
	int rc;

	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (dev_smart_now(&now, &err) < 0)
		return msg_fail("smart install", NULL, &err);
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("smart install", NULL, &err);
	if (dev_smart_load(&r, &s, &err) < 0) {
		rc = msg_fail("smart install", NULL, &err);
		goto out;
	}
	if (!s.has_step || !s.dl_complete) {
		msg_error("smart install", NULL, "no downloaded package waits to be installed%s",
			  s.has_step ? " (its download is not complete: fwctl download)" : " (fwctl check, fwctl download)");
		rc = FW_EXIT_USAGE;
		goto out;
	}
	dev_smart_unschedule(&s);
	if (dev_smart_save(&r, &s, &err) < 0) {
		rc = msg_fail("smart install", NULL, &err);
		goto out;
	}
	rc = install(&r, now);
out:
	dev_root_close(&r);
	return rc;
}

int cmd_smart(const struct cmd_env *env, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "schedule") == 0)
		return smart_schedule(env, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "install") == 0)
		return smart_install(env, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "config") == 0)
		return smart_config(env, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "tick") == 0)
		return smart_tick(env, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "reset-serial") == 0)
		return smart_reset_serial(env, argc - 1, argv + 1);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	usage(stderr);
	return FW_EXIT_USAGE;
}
