/* dev_boot: the bootloader model: boot the primary if it checks out, else the secondary. */
#ifndef FW_DEV_BOOT_H
#define FW_DEV_BOOT_H

#include "base/fw_err.h"
#include "device/dev_root.h"
#include "device/dev_slot.h"
#include "device/dev_state.h"

struct dev_boot_result {
	int booted;                                /* an enum fw_target, or DEV_BOOTED_NONE */
	char version[FW_VERSION_MAX_LEN + 1];
	uint32_t generation;
	char note[256];                            /* why not the primary; "" when it booted */
	uint64_t rollback_index;                   /* the device's, after this boot */
	int trial;                                 /* the image booted is on trial: an attempt was spent */
	unsigned trial_boots, budget;              /* attempts spent, and the budget */
	char trial_note[600];                      /* a trial rolled back, or one that could not be */
};

/*
 * Run the boot step on a locked root (fwctl(8), "BOOT"):
 *   - remove the temporaries a power cut left;
 *   - a golden system just placed boots first; otherwise start the primary,
 *     else the secondary, else the golden system: the first whose record is
 *     valid, whose rollback index is not below the device's, whose version is
 *     not older than the golden system's, and whose bytes match the record; a
 *     record whose bytes do not match is marked not valid, with the reason;
 *   - an image on trial (written by an upgrade, not yet marked good) spends
 *     one boot of its budget; once the budget is spent it is rolled back
 *     (marked not valid, result rolledBack) to the next good image, unless
 *     there is none, in which case it still boots;
 *   - raise the device's rollback index to the lower of the two system
 *     images' when both are valid and good (so the fallback stays bootable);
 *   - turn an upgrade left "inProgress" by a power cut into writeFlashFailed;
 *   - record in the state what booted and why.
 * 0 when an image booted; -1 with err (code FW_EXIT_REJECTED) when none could.
 */
int dev_boot(struct dev_root *r, struct dev_boot_result *res, struct fw_err *err);

/*
 * The boot-time check on a board (fwctl boot-check), where the bootloader
 * chose the slot (`booted`, from the kernel command line) by its environment:
 *   - the other system image on trial whose attempts the bootloader spent
 *     (U-Boot BOOT_x_LEFT=0, GRUB x_TRY=1) is rolled back: marked not valid;
 *   - the running image is held to what the bootloader cannot check: a valid
 *     record, the rollback-index floor, the golden floor, its bytes; when it
 *     fails, its record goes not valid and it leaves the boot order, and -1
 *     (FW_EXIT_REJECTED) says so: reboot, and the bootloader starts the next;
 *   - a good running image gets its attempts back; one on trial keeps
 *     counting down until fwctl mark-good;
 *   - the state records what runs, as dev_boot does.
 */
int dev_boot_check(struct dev_root *r, int booted, struct dev_boot_result *res, struct fw_err *err);

/*
 * Where a system image that must stop running (a trial whose budget is
 * spent, an image marked bad) goes back to, by the records alone (rec,
 * indexed by slot): the first of pri, sec, golden, in boot order, that is not
 * in `skip` (1 << slot each), is valid, good (not on trial), not below the
 * device's rollback index and not older than the golden system. The slot, or
 * -1 when there is none. The boot step itself checks the bytes too.
 */
int dev_boot_fallback(const struct dev_record rec[DEV_SLOT_COUNT], uint64_t rollback_index, unsigned skip);

#endif
