# boot.cmd: U-Boot boot script for fwctl (RAUC's variables, so an existing RAUC script works too).
# Slots: A = primary (fwctl pri) on mmc 0:2, B = secondary (sec) on mmc 0:3, golden on mmc 0:4.
# Build with: mkimage -A arm -T script -C none -d boot.cmd boot.scr
# The environment must be redundant (two copies; CONFIG_SYS_REDUNDAND_ENVIRONMENT and a second
# line in /etc/fw_env.config) so a power cut while fwctl stores it leaves the old or the new one.
test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 0
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 0

setenv bootpart
setenv fwslot
for BOOT_SLOT in "${BOOT_ORDER}"; do
  if test "x${bootpart}" != "x"; then
    # a slot was chosen already
  elif test "x${BOOT_SLOT}" = "xA"; then
    if test ${BOOT_A_LEFT} -gt 0; then
      setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
      setenv bootpart 2
      setenv fwslot pri
    fi
  elif test "x${BOOT_SLOT}" = "xB"; then
    if test ${BOOT_B_LEFT} -gt 0; then
      setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
      setenv bootpart 3
      setenv fwslot sec
    fi
  fi
done

# No slot with attempts left: the golden system, which fwctl never writes but by 'golden install'.
if test -z "${bootpart}"; then
  setenv bootpart 4
  setenv fwslot golden
fi
saveenv

setenv bootargs "${bootargs} root=/dev/mmcblk0p${bootpart} rootwait fwpkg.slot=${fwslot}"
load mmc 0:${bootpart} ${kernel_addr_r} /boot/Image
load mmc 0:${bootpart} ${fdt_addr_r} /boot/board.dtb
booti ${kernel_addr_r} - ${fdt_addr_r}
