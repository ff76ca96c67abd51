/* test_dev_board: board settings, fwpkg.slot= on the kernel command line, and the GRUB environment's round trip (device/dev_board.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "device/dev_board.h"
#include "formats/manifest.h"

static char dir[] = "/tmp/test_dev_board.XXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void test_settings(void)
{
	struct dev_board b = { 0 };
	struct fw_err err = { 0 };
	json_t *j;

	CU_ASSERT_EQUAL(dev_board_set(&b, "bootloader=grub", &err), 0);
	CU_ASSERT_EQUAL(b.bootloader, DEV_BL_GRUB);
	CU_ASSERT_EQUAL(dev_board_check(&b, &err), -1);   /* grub needs bootenv */
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_EQUAL(dev_board_set(&b, "bootenv=relative/grubenv", &err), -1);
	CU_ASSERT_EQUAL(dev_board_set(&b, "bootenv=/boot/grub/grubenv", &err), 0);
	CU_ASSERT_EQUAL(dev_board_set(&b, "running=rootfs", &err), 0);
	CU_ASSERT_EQUAL(dev_board_set(&b, "running=disk", &err), -1);
	CU_ASSERT_EQUAL(dev_board_set(&b, "bootloader=barebox", &err), -1);
	CU_ASSERT_EQUAL(dev_board_set(&b, "colour=blue", &err), -1);
	CU_ASSERT_EQUAL(dev_board_set(&b, "bootloader", &err), -1);
	CU_ASSERT_EQUAL(dev_board_check(&b, &err), 0);
	j = dev_board_to_json(&b);
	dev_board_free(&b);
	CU_ASSERT_EQUAL(dev_board_from_json(j, &b, &err), 0);
	CU_ASSERT_EQUAL(b.bootloader, DEV_BL_GRUB);
	CU_ASSERT_EQUAL(b.running, DEV_RUN_ROOTFS);
	CU_ASSERT_STRING_EQUAL(b.bootenv, "/boot/grub/grubenv");
	json_decref(j);
	dev_board_free(&b);
	CU_ASSERT_EQUAL(dev_board_from_json(NULL, &b, &err), 0);   /* a root made before boards: the simulation */
	CU_ASSERT_EQUAL(b.bootloader, DEV_BL_FILE);
	/* The simulated bootloader tries the primary first: no rootfs board on it. */
	CU_ASSERT_EQUAL(dev_board_set(&b, "running=rootfs", &err), 0);
	CU_ASSERT_EQUAL(dev_board_check(&b, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "running=rootfs needs a real bootloader"));
	dev_board_free(&b);
}

static void test_cmdline(void)
{
	char path[256];
	struct fw_err err = { 0 };
	char root[64];
	int slot;

	snprintf(path, sizeof(path), "%s/cmdline", dir);
	setenv("FWCTL_CMDLINE", path, 1);
	put("cmdline", "console=ttyS0 root=/dev/mmcblk0p3 fwpkg.slot=sec quiet\n");
	CU_ASSERT_EQUAL(dev_board_booted_slot(&slot, &err), 0);
	CU_ASSERT_EQUAL(slot, FW_TARGET_SEC);
	CU_ASSERT_EQUAL(dev_board_cmdline_root(root, sizeof(root), &err), 0);
	CU_ASSERT_STRING_EQUAL(root, "/dev/mmcblk0p3");
	put("cmdline", "root=/dev/sda1 ro root=/dev/mmcblk0p2\n");   /* the last one, as for the kernel */
	CU_ASSERT_EQUAL(dev_board_cmdline_root(root, sizeof(root), &err), 0);
	CU_ASSERT_STRING_EQUAL(root, "/dev/mmcblk0p2");
	put("cmdline", "quiet\n");
	CU_ASSERT_EQUAL(dev_board_cmdline_root(root, sizeof(root), &err), 0);
	CU_ASSERT_STRING_EQUAL(root, "");
	put("cmdline", "fwpkg.slot=golden");
	CU_ASSERT_EQUAL(dev_board_booted_slot(&slot, &err), 0);
	CU_ASSERT_EQUAL(slot, FW_TARGET_COUNT);
	put("cmdline", "quiet rauc.slot=A\n");
	CU_ASSERT_EQUAL(dev_board_booted_slot(&slot, &err), 0);
	CU_ASSERT_EQUAL(slot, -1);
	put("cmdline", "fwpkg.slot=boot\n");
	CU_ASSERT_EQUAL(dev_board_booted_slot(&slot, &err), -1);
	put("cmdline", "fwpkg.slot=pri2\n");
	CU_ASSERT_EQUAL(dev_board_booted_slot(&slot, &err), -1);
	/* Named twice: the same slot is one answer; two slots are none (which runs cannot be told). */
	put("cmdline", "fwpkg.slot=sec quiet fwpkg.slot=sec\n");
	CU_ASSERT_EQUAL(dev_board_booted_slot(&slot, &err), 0);
	CU_ASSERT_EQUAL(slot, FW_TARGET_SEC);
	put("cmdline", "fwpkg.slot=pri quiet fwpkg.slot=sec\n");
	CU_ASSERT_EQUAL(dev_board_booted_slot(&slot, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "given twice"));
	CU_ASSERT_STRING_EQUAL(dev_board_cmdline_path(), path);
	unlink(path);
	CU_ASSERT_EQUAL(dev_board_booted_slot(&slot, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
	unsetenv("FWCTL_CMDLINE");
}

static void test_grub(void)
{
	char path[256], block[1100];
	struct dev_board b = { .bootloader = DEV_BL_GRUB };
	struct dev_bootenv env;
	struct fw_err err = { 0 };
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/grubenv", dir);
	b.bootenv = path;
	/* Missing: empty, nothing selected. */
	CU_ASSERT_EQUAL(dev_bootenv_load(&b, &env, &err), 0);
	CU_ASSERT_EQUAL(env.n, 0);
	CU_ASSERT_EQUAL(dev_bootenv_mark(&b, FW_TARGET_SEC, 1, 3, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_mark(&b, FW_TARGET_PRI, 1, 3, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_mark(&b, FW_TARGET_BOOT, 0, 0, &err), 0);   /* not a system slot: nothing */
	CU_ASSERT_EQUAL(dev_bootenv_load(&b, &env, &err), 0);
	CU_ASSERT_EQUAL(env.n, 2);
	CU_ASSERT_EQUAL(env.order[0], FW_TARGET_PRI);   /* the primary first, as fwctl boot */
	CU_ASSERT_EQUAL(env.order[1], FW_TARGET_SEC);
	CU_ASSERT(env.good[0] && env.good[1] && env.left[0] == 1 && env.left[1] == 1);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(block, 1, sizeof(block), f);
	fclose(f);
	CU_ASSERT_EQUAL(n, 1024);
	block[n] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(block, "\nORDER=A B\nA_OK=1\nA_TRY=0\nB_OK=1\nB_TRY=0\n"));
	CU_ASSERT_EQUAL(dev_bootenv_mark(&b, FW_TARGET_PRI, 0, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_load(&b, &env, &err), 0);
	CU_ASSERT(env.n == 1 && env.order[0] == FW_TARGET_SEC && !env.good[0]);
	/* A new image on trial: where mark puts it when the system runs from RAM (A back in front of B)... */
	CU_ASSERT_EQUAL(dev_bootenv_try(&b, FW_TARGET_PRI, 3, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_load(&b, &env, &err), 0);
	CU_ASSERT(env.n == 2 && env.order[0] == FW_TARGET_PRI && env.order[1] == FW_TARGET_SEC);
	/* ...and first on a rootfs board, the running slot kept behind it, whichever slot it is. */
	b.running = DEV_RUN_ROOTFS;
	CU_ASSERT_EQUAL(dev_bootenv_mark(&b, FW_TARGET_SEC, 0, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_try(&b, FW_TARGET_SEC, 3, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_load(&b, &env, &err), 0);
	CU_ASSERT(env.n == 2 && env.order[0] == FW_TARGET_SEC && env.order[1] == FW_TARGET_PRI);
	CU_ASSERT(env.good[FW_TARGET_SEC] && env.good[FW_TARGET_PRI]);
	CU_ASSERT_EQUAL(dev_bootenv_mark(&b, FW_TARGET_PRI, 0, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_try(&b, FW_TARGET_PRI, 3, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_load(&b, &env, &err), 0);
	CU_ASSERT(env.n == 2 && env.order[0] == FW_TARGET_PRI && env.order[1] == FW_TARGET_SEC);
	/* The other slot out of the order (rolled back): the new image alone. */
	CU_ASSERT_EQUAL(dev_bootenv_mark(&b, FW_TARGET_SEC, 0, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_mark(&b, FW_TARGET_PRI, 0, 0, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_try(&b, FW_TARGET_SEC, 3, &err), 0);
	CU_ASSERT_EQUAL(dev_bootenv_load(&b, &env, &err), 0);
	CU_ASSERT(env.n == 1 && env.order[0] == FW_TARGET_SEC && env.good[FW_TARGET_SEC] && !env.good[FW_TARGET_PRI]);
	b.running = DEV_RUN_RAM;
	/* Not a grubenv: refused, not overwritten. */
	put("grubenv", "hello\n");
	CU_ASSERT_EQUAL(dev_bootenv_mark(&b, FW_TARGET_PRI, 1, 3, &err), -1);
	CU_ASSERT_EQUAL(err.code, FW_EXIT_IO);
	unlink(path);
}

int main(void)
{
	CU_pSuite s;
	int failed;

	if (mkdtemp(dir) == NULL)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("dev_board", NULL, NULL);
	if (s == NULL || CU_add_test(s, "board settings", test_settings) == NULL ||
	    CU_add_test(s, "fwpkg.slot= on the kernel command line", test_cmdline) == NULL ||
	    CU_add_test(s, "the GRUB environment", test_grub) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	rmdir(dir);
	return failed ? 1 : 0;
}
