/* cmd: fwctl's commands, one file each; each returns an exit code. */
#ifndef FW_DEV_CMD_H
#define FW_DEV_CMD_H

#include <stdint.h>
#include <stdio.h>

/* argv[0] is the command's name; root is the device root to work on. */
int cmd_init(const char *root, int argc, char **argv);
int cmd_upgrade(const char *root, int argc, char **argv);
int cmd_boot(const char *root, int argc, char **argv);
int cmd_status(const char *root, int argc, char **argv);
int cmd_mark_good(const char *root, int argc, char **argv);
int cmd_golden(const char *root, int argc, char **argv);
int cmd_config(const char *root, int argc, char **argv);
int cmd_package(const char *root, int argc, char **argv);
int cmd_factory_reset(const char *root, int argc, char **argv);
int cmd_unlock(const char *root, int argc, char **argv);
int cmd_check(const char *root, int argc, char **argv);
int cmd_download(const char *root, int argc, char **argv);
int cmd_smart(const char *root, int argc, char **argv);

/* List the settings of dev_settings' table on f, one a line, each name after prefix ("--" for init). */
void cmd_settings_help(FILE *f, const char *prefix);

/* Ask a yes/no question on the terminal: 1 yes, 0 no, -1 no terminal to ask on. */
int cmd_confirm(const char *question);

struct dev_root;
/* The boot step on a locked root, printing what booted; an exit code. */
int cmd_boot_run(struct dev_root *r);
/* fwctl check and fwctl download on a locked root at `now`, printing the answer; an exit code (smart tick runs them too). */
int cmd_check_run(struct dev_root *r, int64_t now);
int cmd_download_run(struct dev_root *r, int64_t now);

#endif
