/* dev_board: fwctl on a real board: the board settings, the slot that booted, and the bootloader's environment. */
#ifndef FW_DEV_BOARD_H
#define FW_DEV_BOARD_H

#include <jansson.h>

#include "base/fw_err.h"

/*
 * The board settings (config.json "board"; fwctl init --board KEY=VALUE):
 *   bootloader=file|uboot|grub  who records the boot choice. file: the
 *       simulated device, where `fwctl boot` plays the bootloader (default).
 *   bootenv=PATH  uboot: libubootenv's configuration (fw_env.config);
 *       grub: the grubenv file.
 *   running=ram|rootfs  ram: the system runs from RAM and any slot may be
 *       rewritten while it runs (the field's model, default); rootfs: the
 *       root file system lives on the slot that booted, which is never written.
 */
enum dev_bootloader { DEV_BL_FILE, DEV_BL_UBOOT, DEV_BL_GRUB };
enum dev_running { DEV_RUN_RAM, DEV_RUN_ROOTFS };

struct dev_board {
	enum dev_bootloader bootloader;
	char *bootenv;                 /* absolute path; NULL for the file backend */
	enum dev_running running;
};

/* One KEY=VALUE setting; -1 with err (FW_EXIT_USAGE) when it is not one. */
int dev_board_set(struct dev_board *b, const char *arg, struct fw_err *err);
/* A board with a real bootloader needs its bootenv: -1 with err (usage) otherwise. */
int dev_board_check(const struct dev_board *b, struct fw_err *err);
json_t *dev_board_to_json(const struct dev_board *b);
/* From config.json's "board" (absent: the simulated device). */
int dev_board_from_json(const json_t *v, struct dev_board *b, struct fw_err *err);
void dev_board_free(struct dev_board *b);
const char *dev_bootloader_name(enum dev_bootloader bl);

/*
 * The slot that booted, from the kernel command line's fwpkg.slot=pri|sec|golden
 * (as RAUC reads rauc.slot=): /proc/cmdline, or the file $FWCTL_CMDLINE names
 * (tests). *slot is -1 (DEV_BOOTED_NONE) when the command line names none;
 * -1 with err when it cannot be read, names no slot fwctl knows, or names two.
 */
int dev_board_booted_slot(int *slot, struct fw_err *err);
/* The file read as the kernel command line: $FWCTL_CMDLINE, else /proc/cmdline. */
const char *dev_board_cmdline_path(void);
/* root= of the kernel command line (read as above), e.g. "/dev/mmcblk0p2"; "" if none. */
int dev_board_cmdline_root(char *out, size_t len, struct fw_err *err);

/*
 * The bootloader's view of the two system slots, whatever backend keeps it:
 * the boot order (FW_TARGET_PRI = A, FW_TARGET_SEC = B), the attempts each
 * has left, and whether it is marked good. U-Boot (RAUC's variables):
 * BOOT_ORDER, BOOT_A_LEFT, BOOT_B_LEFT; a slot is good while it is in
 * BOOT_ORDER. GRUB (RAUC's): ORDER, A_OK, A_TRY, B_OK, B_TRY; one attempt
 * (X_TRY=0) or none.
 */
struct dev_bootenv {
	int order[2];
	int n;
	unsigned left[2];   /* indexed by FW_TARGET_PRI / FW_TARGET_SEC */
	int good[2];
};

/* Read the environment; a missing or blank one reads as empty (no slot in order). */
int dev_bootenv_load(const struct dev_board *b, struct dev_bootenv *env, struct fw_err *err);
/* Write it durably: one crash point (U-Boot: redundant copies; GRUB: temp file + rename). */
int dev_bootenv_store(const struct dev_board *b, const struct dev_bootenv *env, struct fw_err *err);
/*
 * Put system slot t in the order with `left` attempts and marked good (ok),
 * or take it out (!ok): load, change, store. Nothing for the file backend or
 * a slot other than pri and sec. An unchanged environment is not rewritten.
 */
int dev_bootenv_mark(const struct dev_board *b, int t, int ok, unsigned left, struct fw_err *err);
/*
 * A new image in system slot t, on trial: in the order with `left` attempts.
 * On a board whose root file system lives on a slot (running=rootfs) it goes
 * first, so the board boots it next while the running slot stays behind it
 * as the fallback (RAUC marks the slot it installed primary); otherwise where
 * dev_bootenv_mark puts it (the primary first, as fwctl boot tries it).
 */
int dev_bootenv_try(const struct dev_board *b, int t, unsigned left, struct fw_err *err);

#endif
