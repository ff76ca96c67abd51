/* cmd: fwctl's commands, one file each; each returns an exit code. */
#ifndef FW_DEV_CMD_H
#define FW_DEV_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * What fwctl's command table (fwctl.c) gives a command: the device root to
 * work on, and whether to take the device lock when opening it. The table
 * declares both beside the command's name, as RAUC's does; a command opens
 * the root as told (dev_root_open(&r, env->root, env->lock, ...)) after
 * parsing its words, so a usage error needs no device root.
 */
struct cmd_env {
	const char *root;
	int lock;
};

/* argv[0] is the command's name. */
int cmd_init(const struct cmd_env *env, int argc, char **argv);
int cmd_upgrade(const struct cmd_env *env, int argc, char **argv);
int cmd_boot(const struct cmd_env *env, int argc, char **argv);
int cmd_boot_check(const struct cmd_env *env, int argc, char **argv);
int cmd_status(const struct cmd_env *env, int argc, char **argv);
int cmd_mark_good(const struct cmd_env *env, int argc, char **argv);
int cmd_mark_bad(const struct cmd_env *env, int argc, char **argv);
int cmd_rollback(const struct cmd_env *env, int argc, char **argv);
int cmd_golden(const struct cmd_env *env, int argc, char **argv);
int cmd_config(const struct cmd_env *env, int argc, char **argv);
int cmd_package(const struct cmd_env *env, int argc, char **argv);
int cmd_factory_reset(const struct cmd_env *env, int argc, char **argv);
int cmd_unlock(const struct cmd_env *env, int argc, char **argv);
int cmd_check(const struct cmd_env *env, int argc, char **argv);
int cmd_download(const struct cmd_env *env, int argc, char **argv);
int cmd_smart(const struct cmd_env *env, int argc, char **argv);

/* List the settings of dev_settings' table on f, one a line, each name after prefix ("--" for init): fwctl config's, or smart config's. */
void cmd_settings_help(FILE *f, const char *prefix, int smart);

struct option;
/*
 * Append to opts (n_own of the command's own there already, room for cap) a
 * getopt_long option per setting of the table, fwctl config's or smart
 * config's, its value base + the setting's index; then the terminating entry.
 */
void cmd_settings_options(struct option *opts, size_t n_own, size_t cap, int base, int smart);

/*
 * A command that takes no words: 1 when it is done, after printing help (on
 * stdout, for --help or -h alone; *rc FW_EXIT_OK) or the usage error "VERB:
 * takes no arguments" (any other words; *rc FW_EXIT_USAGE); 0 to run it.
 */
int cmd_no_words(const char *verb, int argc, char **argv, const char *help, int *rc);

/* Ask a yes/no question on the terminal: 1 yes, 0 no, -1 no terminal to ask on. */
int cmd_confirm(const char *question);

struct dev_root;
/* fwctl mark-bad on a locked root, its messages under `verb` (mark-bad, rollback); an exit code. */
int cmd_mark_bad_run(struct dev_root *r, const char *verb);
struct dev_boot_result;
/*
 * After the boot step (verb "boot", word "booted") or the boot-time check
 * ("boot-check", "running"): print what runs and its trial, then activate
 * the packages for it (dev_activate.h) and say how many are active; an exit code.
 */
int cmd_boot_report(struct dev_root *r, const char *verb, const char *word, const struct dev_boot_result *res);
/* The boot step on a locked root, printing what booted; an exit code. */
int cmd_boot_run(struct dev_root *r);
/*
 * fwctl check and fwctl download on a locked root at `now`, printing the
 * answer; an exit code (smart tick runs them too). With changes_only (smart
 * tick under -q, for cron), an answer that repeats the last one (the same
 * check result and release; a release downloaded already) is not printed;
 * a failure always is.
 */
int cmd_check_run(struct dev_root *r, int64_t now, int changes_only);
int cmd_download_run(struct dev_root *r, int64_t now, int changes_only);

#endif
