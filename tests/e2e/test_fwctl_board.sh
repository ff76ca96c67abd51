#!/bin/sh
# test_fwctl_board: fwctl on a board, without hardware: loop devices stand in for eMMC partitions, a U-Boot
# environment (single and redundant) is read back by stock fw_printenv and a grubenv by grub-editenv; boot-check,
# the refusals (mounted, too small, the running slot), a torn environment write at every point, and the crash
# loop against each backend: after any crash the environment, as the bootloader reads it, selects a valid image.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"
# The tear shim is preloaded before a sanitizer's runtime (make SANITIZE=1).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

for tool in losetup fw_printenv fw_setenv grub-editenv mkfs.ext2 mkswap swapon; do
	command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing: run scripts/install-deps (util-linux, libubootenv-tool, grub-common, e2fsprogs)"
done
[ -f "$B/shim/tearwrite.so" ] || fail "no $B/shim/tearwrite.so: run make check (it builds the shims)"
[ "$(id -u)" -eq 0 ] || fail "loop devices need root (losetup): run this test as root, as CI does; it does not pass without them"
LOOPS=""
MNT=""
SWAP=""
cleanup() {
	srv_stop_all
	[ -n "$SWAP" ] && swapoff "$SWAP" 2>/dev/null
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	for l in $LOOPS; do losetup -d "$l" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# attach VAR FILE: a loop device over FILE, its name in VAR; detached on exit whatever happens.
attach() {
	_l=$(losetup -f --show "$2" 2>"$T/.losetup") ||
		fail "cannot attach a loop device to $2 ($(cat "$T/.losetup")): this test needs loop devices"
	LOOPS="$LOOPS $_l"
	eval "$1=\$_l"
}

keypair k
for v in 5.21.2 5.21.3 5.21.4; do
	for s in pri sec boot; do
		{ echo "$s image $v"; head -c 9000 /dev/urandom; } >"$s-$v.img"
	done
	"$B/mkpkg" -q -o "$v.pkg" --version "$v" --product WX --chunk-size 4096 \
		--pri "pri-$v.img" --sec "sec-$v.img" --boot "boot-$v.img" -k k.key
done
truncate -s 1M a.bin b.bin
truncate -s 8K small.bin
attach LA a.bin
attach LB b.bin
attach LS small.bin
echo "fwpkg.slot=pri" >cmdline.pri
echo "quiet root=/dev/mmcblk0p2 fwpkg.slot=sec" >cmdline.sec
export FWCTL_CMDLINE="$T/cmdline.pri"

# Environments: U-Boot redundant (two 4 KiB copies in one file) and single; a grubenv.
mkenv() { # mkenv NAME single|redundant
	dd if=/dev/zero of="$T/$1.env" bs=4096 count=2 status=none
	if [ "$2" = redundant ]; then
		printf '%s 0x0 0x1000\n%s 0x1000 0x1000\n' "$T/$1.env" "$T/$1.env" >"$T/$1.config"
	else
		printf '%s 0x0 0x1000\n' "$T/$1.env" >"$T/$1.config"
	fi
}
ub() { fw_printenv -c "$T/$1.config" "$2" 2>/dev/null | sed 's/^[^=]*=//'; }
newdev() { # newdev DIR BACKEND-OPTIONS...: a board device over the two loop devices, healthy on 5.21.2
	d=$1
	shift
	dd if=/dev/zero of="$LA" bs=1M count=1 status=none
	dd if=/dev/zero of="$LB" bs=1M count=1 status=none
	rm -rf "$d"
	"$B/fwctl" --root "$d" -q init --product WX --trust k.pub --slot pri="$LA" --slot sec="$LB" "$@" >/dev/null
	"$B/fwctl" --root "$d" -q upgrade all 5.21.2.pkg >/dev/null
	"$B/fwctl" --root "$d" -q boot-check >/dev/null
	"$B/fwctl" --root "$d" -q mark-good >/dev/null
}
# What a refusal must not change: slots, records, both loop devices, the environment (the state records the refusal).
devsum() { { treesum "$1/slots"; treesum "$1/records"; sha256sum "$LA" "$LB" "$2"; } | sha256sum; }

# ---- U-Boot, redundant environment ----
mkenv ub redundant
D="$T/ub"
newdev "$D" --board bootloader=uboot --board bootenv="$T/ub.config"
[ "$(ub ub BOOT_ORDER)" = "A B" ] && [ "$(ub ub BOOT_A_LEFT)" = 3 ] && [ "$(ub ub BOOT_B_LEFT)" = 3 ] ||
	fail "U-Boot environment after upgrade all: $(fw_printenv -c "$T/ub.config" 2>&1)"
cmp -n 9000 "$LA" pri-5.21.2.img >/dev/null || fail "the primary loop device does not hold the image"
cmp -n 9000 "$LB" sec-5.21.2.img >/dev/null || fail "the secondary loop device does not hold the image"
ok "U-Boot (redundant): upgrade all onto loop devices; fw_printenv reads BOOT_ORDER=A B, BOOT_A_LEFT=BOOT_B_LEFT=3"

expect 2 "fwctl: boot: this board's bootloader \(uboot\) chooses the image" "$B/fwctl" --root "$D" boot
ok "fwctl boot on a board: refused, boot-check named"

# A trial the bootloader gives up on: U-Boot spends BOOT_A_LEFT, then starts B; boot-check rolls A back.
"$B/fwctl" --root "$D" -q upgrade pri 5.21.3.pkg >/dev/null
[ "$(ub ub BOOT_ORDER)" = "A B" ] && [ "$(ub ub BOOT_A_LEFT)" = 3 ] || fail "upgrade pri: A not back on trial"
expect 0 '' "$B/fwctl" --root "$D" boot-check
grep -q "running pri 5.21.3 (generation 1) on trial" "$T/.out" || fail "boot-check on trial: $(cat "$T/.out")"
for left in 2 1 0; do fw_setenv -c "$T/ub.config" BOOT_A_LEFT $left; done
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 'rolled back to sec 5.21.2' "$B/fwctl" --root "$D" boot-check
[ "$(js "d['slots']['pri']['valid']")" = False ] || fail "the failed trial's record is still valid"
[ "$(ub ub BOOT_ORDER)" = "B" ] || fail "BOOT_ORDER after the rollback: $(ub ub BOOT_ORDER)"
ok "trial: U-Boot spent BOOT_A_LEFT, booted B; boot-check rolled A back (record not valid, BOOT_ORDER=B)"

# The running image must not run (its bytes changed): boot-check marks it bad, exit 1.
"$B/fwctl" --root "$D" -q upgrade pri 5.21.3.pkg >/dev/null
printf 'X' | dd of="$LA" bs=1 seek=5000 conv=notrunc status=none
expect 1 'fwctl: boot-check: the running pri must not run: .*marked bad' "$B/fwctl" --root "$D" boot-check
[ "$(js "d['slots']['pri']['valid']")" = False ] && [ "$(ub ub BOOT_ORDER)" = "B" ] ||
	fail "a running image that must not run was not marked bad: $(ub ub BOOT_ORDER)"
ok "boot-check: a running image whose bytes changed is marked bad (record and BOOT_ORDER), exit 1"

# mark-bad on a board: the bootloader's environment records the mark (A leaves BOOT_ORDER) before the record goes.
newdev "$D" --board bootloader=uboot --board bootenv="$T/ub.config"
"$B/fwctl" --root "$D" -q upgrade pri 5.21.3.pkg >/dev/null
expect 0 '' "$B/fwctl" --root "$D" boot-check
grep -q "running pri 5.21.3 (generation 1) on trial" "$T/.out" || fail "boot-check on trial: $(cat "$T/.out")"
expect 0 'mark-bad: 5.21.3 marked bad \(pri\), its trial ended: rolledBack; the next boot starts sec 5.21.2' \
	"$B/fwctl" --root "$D" mark-bad
[ "$(ub ub BOOT_ORDER)" = "B" ] && [ "$(js "d['slots']['pri']['valid'], d['last_upgrade']['result']")" = "False rolledBack" ] ||
	fail "mark-bad on U-Boot: BOOT_ORDER=$(ub ub BOOT_ORDER), $(js "d['slots']['pri']")"
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 '' "$B/fwctl" --root "$D" boot-check
grep -q "running sec 5.21.2" "$T/.out" || fail "boot-check after mark-bad: $(cat "$T/.out")"
# The last good image: refused, the environment and the device unchanged.
before=$(devsum "$D" "$T/ub.env")
FWCTL_CMDLINE="$T/cmdline.sec" expect 1 'mark-bad: sec 5.21.2 runs and there is no other good system image' \
	"$B/fwctl" --root "$D" mark-bad
[ "$(devsum "$D" "$T/ub.env")" = "$before" ] && [ "$(ub ub BOOT_ORDER)" = "B" ] || fail "a refused mark-bad changed the board"
# rollback from a healthy board: marked, and the board is to be rebooted (the bootloader chooses).
newdev "$D" --board bootloader=uboot --board bootenv="$T/ub.config"
expect 0 'rollback: 5.21.2 marked bad \(pri\); the next boot starts sec 5.21.2' "$B/fwctl" --root "$D" rollback
grep -q 'reboot the board to start it' "$T/.err" || fail "rollback on a board: $(cat "$T/.err")"
[ "$(ub ub BOOT_ORDER)" = "B" ] || fail "rollback on U-Boot: BOOT_ORDER=$(ub ub BOOT_ORDER)"
ok "mark-bad and rollback on U-Boot: A leaves BOOT_ORDER (B next), the record goes not valid; the last good image refused, nothing changed"

# ---- refusals: exit code, message, nothing changed ----
newdev "$D" --board bootloader=uboot --board bootenv="$T/ub.config"
before=$(devsum "$D" "$T/ub.env")
mkfs.ext2 -q -F "$LB" >"$T/.mkfs" 2>&1 || fail "mkfs.ext2 $LB: $(cat "$T/.mkfs")"
MNT="$T/mnt"
mkdir -p "$MNT"
# Read-only: a read-write mount writes the superblock behind the test's back (mount count, times).
mount -o ro "$LB" "$MNT" || fail "cannot mount the loop device $LB"
before=$(devsum "$D" "$T/ub.env")
expect 1 "fwctl: upgrade: .*$LB: mounted on $MNT: unmount it before writing the sec slot" \
	"$B/fwctl" --root "$D" upgrade sec 5.21.3.pkg
[ "$(devsum "$D" "$T/ub.env")" = "$before" ] || fail "a refused upgrade onto a mounted slot changed something"
[ "$(js "d['last_upgrade']['result']")" = policyRefused ] || fail "the refusal was not recorded: $(js "d['last_upgrade']")"
umount "$MNT"
MNT=""
ok "a mounted slot: refused naming the mount, exit 1, nothing changed"

# A slot the kernel holds without a mount (swap here; a device mapper or RAID member, a mounted partition alike):
# upgrade all writes sec and boot first, and found the primary busy only at its turn, with two images committed
# and the primary's record gone (exit 3). Refused by the plan now, before anything changes.
newdev "$D" --board bootloader=uboot --board bootenv="$T/ub.config"
mkswap "$LA" >/dev/null 2>&1 || fail "mkswap $LA"
swapon "$LA" 2>"$T/.swapon" || fail "cannot swapon $LA ($(cat "$T/.swapon")): this test needs it"
SWAP="$LA"
before=$(devsum "$D" "$T/ub.env")
expect 1 "fwctl: upgrade: 5\.21\.3\.pkg: $LA: in use \(held by the kernel: swap, .*release it before writing the pri slot" \
	"$B/fwctl" --root "$D" upgrade all 5.21.3.pkg
[ "$(devsum "$D" "$T/ub.env")" = "$before" ] || fail "a refused upgrade onto a swap device changed something"
swapoff "$LA"
SWAP=""
ok "a slot held by the kernel without a mount (swap): refused by the plan before anything is written, exit 1, nothing changed"

# ---- a board whose root file system lives on the slot that booted (running=rootfs) ----
# Set in config.json: newdev's first upgrade all wrote both slots, as a factory does.
rootfs() { "$PY" -c "
import json; p = '$1/config.json'; c = json.load(open(p)); c['board']['running'] = 'rootfs'; json.dump(c, open(p, 'w'))"; }
expect 2 "fwctl: init: --board running=rootfs needs a real bootloader \(--board bootloader=uboot or grub\)" \
	"$B/fwctl" --root "$T/nofile" init --product WX --trust k.pub --board running=rootfs
[ ! -e "$T/nofile" ] || fail "a refused init left $T/nofile"
ok "running=rootfs on the simulated bootloader (fwctl boot tries the primary first): refused at init, exit 2"

newdev "$D" --board bootloader=uboot --board bootenv="$T/ub.config"
rootfs "$D"
before=$(devsum "$D" "$T/ub.env")
expect 1 "fwctl: upgrade: .*the pri slot holds the running system \(board running=rootfs\)" \
	"$B/fwctl" --root "$D" upgrade pri 5.21.3.pkg
[ "$(devsum "$D" "$T/ub.env")" = "$before" ] || fail "a refused upgrade of the running slot changed something"
echo "quiet root=/dev/mmcblk0p2" >cmdline.none
FWCTL_CMDLINE="$T/cmdline.none" expect 3 "fwctl: boot-check: $T/cmdline.none: the kernel command line names no fwpkg.slot= and no slot as root=" \
	"$B/fwctl" --root "$D" boot-check
FWCTL_CMDLINE="$T/cmdline.none" expect 3 "fwctl: upgrade: .*$T/cmdline.none: the kernel command line names no fwpkg.slot= and no slot as root=" \
	"$B/fwctl" --root "$D" upgrade all 5.21.3.pkg
[ "$(devsum "$D" "$T/ub.env")" = "$before" ] || fail "an upgrade that cannot tell the running slot changed something"
ok "running=rootfs: upgrade of the running slot refused (exit 1), no fwpkg.slot= on the command line (exit 3); nothing changed"

# upgrade all from A: B and the bootloader are written, A is left as it is (said so), B is tried first.
a_before=$(sha256sum <"$LA")
expect 0 "upgrade: pri: left as it is: it holds the running system \(board running=rootfs\); the bootloader tries the new image first" \
	"$B/fwctl" --root "$D" upgrade all 5.21.3.pkg
[ "$(sha256sum <"$LA")" = "$a_before" ] || fail "upgrade all wrote the running slot"
cmp -n 9000 "$LB" sec-5.21.3.img >/dev/null || fail "upgrade all did not write the secondary"
[ "$(ub ub BOOT_ORDER)" = "B A" ] && [ "$(ub ub BOOT_B_LEFT)" = 3 ] && [ "$(ub ub BOOT_A_LEFT)" = 3 ] ||
	fail "rootfs upgrade all from A: $(fw_printenv -c "$T/ub.config" 2>&1)"
[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['slots']['sec']['trial'], d['slots']['boot']['version']")" = \
	"5.21.2 5.21.3 True 5.21.3" ] || fail "records after the rootfs upgrade: $(js "d['slots']")"
ok "running=rootfs, booted A: upgrade all writes B and the bootloader, leaves A (said so); fw_printenv: BOOT_ORDER=B A, B_LEFT=3"

# The bootloader starts B (one attempt spent); boot-check sees it on trial; mark-good ends the trial.
fw_setenv -c "$T/ub.config" BOOT_B_LEFT 2
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 '' "$B/fwctl" --root "$D" boot-check
grep -q "running sec 5.21.3 (generation 1) on trial" "$T/.out" || fail "boot-check of B on trial: $(cat "$T/.out")"
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 '' "$B/fwctl" --root "$D" mark-good
[ "$(ub ub BOOT_ORDER)" = "B A" ] && [ "$(ub ub BOOT_B_LEFT)" = 3 ] || fail "after mark-good of B: $(fw_printenv -c "$T/ub.config" 2>&1)"
# Now running from B: upgrade all writes A and leaves B; A is tried first; its trial fails and B takes over again.
b_before=$(sha256sum <"$LB")
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 "upgrade: sec: left as it is" "$B/fwctl" --root "$D" upgrade all 5.21.4.pkg
[ "$(sha256sum <"$LB")" = "$b_before" ] || fail "upgrade all wrote the running slot B"
cmp -n 9000 "$LA" pri-5.21.4.img >/dev/null || fail "upgrade all from B did not write the primary"
[ "$(ub ub BOOT_ORDER)" = "A B" ] && [ "$(ub ub BOOT_A_LEFT)" = 3 ] || fail "rootfs upgrade all from B: $(fw_printenv -c "$T/ub.config" 2>&1)"
for left in 2 1 0; do fw_setenv -c "$T/ub.config" BOOT_A_LEFT $left; done
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 'rolled back to sec 5.21.3' "$B/fwctl" --root "$D" boot-check
[ "$(ub ub BOOT_ORDER)" = "B" ] && [ "$(js "d['slots']['pri']['valid']")" = False ] ||
	fail "the failed trial of A was not rolled back: $(ub ub BOOT_ORDER)"
ok "running=rootfs: B booted on trial and marked good; from B, upgrade all writes A (BOOT_ORDER=A B), A's failed trial rolls back to B"

# Without fwpkg.slot=, root= naming a slot's device says which slot booted (as RAUC does without rauc.slot=).
echo "console=ttyS0 root=$LB rootwait" >cmdline.root
FWCTL_CMDLINE="$T/cmdline.root" expect 0 '' "$B/fwctl" --root "$D" boot-check
grep -q "^running sec 5.21.3" "$T/.out" || fail "boot-check with root=$LB: $(cat "$T/.out")"
b_before=$(sha256sum <"$LB")
FWCTL_CMDLINE="$T/cmdline.root" expect 0 "upgrade: sec: left as it is" "$B/fwctl" --root "$D" upgrade all 5.21.4.pkg
[ "$(sha256sum <"$LB")" = "$b_before" ] && cmp -n 9000 "$LA" pri-5.21.4.img >/dev/null ||
	fail "running=rootfs with root=$LB: the wrong slot was written"
ok "running=rootfs: with no fwpkg.slot=, root=$LB names the running slot (boot-check, upgrade all leaves it)"
# A lying command line: fwpkg.slot=pri while root= is B's device (B runs), or fwpkg.slot= twice: no guess.
echo "console=ttyS0 root=$LB fwpkg.slot=pri" >cmdline.lie
echo "fwpkg.slot=pri quiet fwpkg.slot=sec" >cmdline.two
before=$(devsum "$D" "$T/ub.env")
for words in "upgrade all 5.21.3.pkg" "boot-check" "mark-good" "mark-bad"; do
	# shellcheck disable=SC2086
	FWCTL_CMDLINE="$T/cmdline.lie" expect 3 "fwctl: [a-z-]+: .*$T/cmdline.lie: the kernel command line contradicts itself: fwpkg.slot=pri, but root=$LB is the sec slot's device" \
		"$B/fwctl" --root "$D" $words
	# shellcheck disable=SC2086
	FWCTL_CMDLINE="$T/cmdline.two" expect 3 "fwctl: [a-z-]+: .*$T/cmdline.two: fwpkg.slot= is given twice, with different slots" \
		"$B/fwctl" --root "$D" $words
	[ "$(devsum "$D" "$T/ub.env")" = "$before" ] || fail "$words with a contradicting command line changed the board"
done
ok "running=rootfs: a command line naming two slots (fwpkg.slot= against root=, or fwpkg.slot= twice): exit 3, nothing changed"

# What runs now: one rule (dev_running) for status, the packages' firmware bounds and the smart check. Here they
# used to disagree: B runs 5.21.3 (fwpkg.slot=sec) while A holds 5.21.4, written from B and not yet booted.
[ "$(FWCTL_CMDLINE="$T/cmdline.sec" js "d['version'], d['slots']['pri']['version'], d['slots']['pri']['valid'], d['slots']['sec']['version']")" = \
	"5.21.3 5.21.4 True 5.21.3" ] || fail "status --json booted from B: $(FWCTL_CMDLINE="$T/cmdline.sec" js "d['version'], d['slots']")"
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 '' "$B/fwctl" --root "$D" status
grep -Eq '^version +5\.21\.3 \(generation 1\)$' "$T/.out" || fail "status booted from B: $(grep '^version' "$T/.out")"
# The same device booted from A runs what A holds.
[ "$(js "d['version']")" = 5.21.4 ] || fail "status --json booted from A: $(js "d['version']")"
mkdir -p tree-m/files
echo m >tree-m/files/m
"$B/mkwmopkg" -q -o new.wmopkg -C tree-m --version 1.0 --product WX --min-fw 5.21.4 -k k.key
"$B/mkwmopkg" -q -o old.wmopkg -C tree-m --version 1.0 --product WX --max-fw 5.21.3 -k k.key
before=$(devsum "$D" "$T/ub.env")
FWCTL_CMDLINE="$T/cmdline.sec" expect 1 'new\.wmopkg: incompatible firmware: package new needs firmware 5\.21\.4 or later, not 5\.21\.3' \
	"$B/fwctl" --root "$D" package install new.wmopkg
[ "$(devsum "$D" "$T/ub.env")" = "$before" ] && [ ! -e "$D/packages/new.wmopkg" ] ||
	fail "a package refused for its firmware bounds changed the device"
pkgs_before=$(treesum "$D/packages")
FWCTL_CMDLINE="$T/cmdline.lie" expect 3 "fwctl: package install: .*$T/cmdline.lie: the kernel command line contradicts itself" \
	"$B/fwctl" --root "$D" package install old.wmopkg
[ "$(treesum "$D/packages")" = "$pkgs_before" ] || fail "a package install that cannot tell what runs changed the packages"
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 'installed old 1\.0' "$B/fwctl" --root "$D" package install old.wmopkg
# The smart check: a catalog whose newest release is 5.21.3, the running one (the primary's 5.21.4 is not what runs).
mkdir -p www
cp 5.21.3.pkg www/
srv_nginx "$T/www"
FWPKG_NOW=1700000000 "$B/fwpkg" catalog -q -f -o www/cat.json --base-url "http://127.0.0.1:$HTTP_PORT" --expires 30d \
	--serial 1 -k k.key www/5.21.3.pkg
"$B/fwctl" --root "$D" -q smart config --server "http://127.0.0.1:$HTTP_PORT/cat.json"
FWCTL_NOW=1700000100 FWCTL_CMDLINE="$T/cmdline.sec" expect 0 '^fwctl: check: 5\.21\.3 is the newest release$' \
	"$B/fwctl" --root "$D" check
grep -q "^versionOptimal" "$T/.out" || fail "check booted from B: $(cat "$T/.out")"
FWCTL_NOW=1700000200 expect 0 '^fwctl: check: 5\.21\.4 is the newest release$' "$B/fwctl" --root "$D" check
ok "running=rootfs, B runs 5.21.3 while A holds 5.21.4: status, a package's firmware bounds and the smart check all judge by B's"

# GRUB: the same from A; grub-editenv reads the new order.
grub-editenv "$T/grubenv.rootfs" create
newdev "$T/gr" --board bootloader=grub --board bootenv="$T/grubenv.rootfs"
rootfs "$T/gr"
a_before=$(sha256sum <"$LA")
expect 0 "upgrade: pri: left as it is" "$B/fwctl" --root "$T/gr" upgrade all 5.21.3.pkg
[ "$(sha256sum <"$LA")" = "$a_before" ] || fail "GRUB: upgrade all wrote the running slot"
grub-editenv "$T/grubenv.rootfs" list >grub.txt
for want in ORDER="B A" A_OK=1 A_TRY=0 B_OK=1 B_TRY=0; do
	grep -qx "$want" grub.txt || fail "rootfs: grub-editenv list lacks $want: $(cat grub.txt)"
done
ok "running=rootfs, GRUB: upgrade all from A leaves A; grub-editenv reads ORDER=B A, B_OK=1 B_TRY=0"

rm -rf "$T/sm"
"$B/fwctl" --root "$T/sm" -q init --product WX --trust k.pub --slot pri="$LS" --slot sec="$LB" >/dev/null
before=$( { treesum "$T/sm/slots"; treesum "$T/sm/records"; sha256sum "$LS" "$LB"; } | sha256sum)
expect 1 "fwctl: upgrade: .*$LS: the pri slot holds 8192 bytes, the image needs 9017" "$B/fwctl" --root "$T/sm" upgrade all 5.21.3.pkg
[ "$( { treesum "$T/sm/slots"; treesum "$T/sm/records"; sha256sum "$LS" "$LB"; } | sha256sum)" = "$before" ] || fail "a refused upgrade onto a small device changed something"
ok "a device smaller than the image (BLKGETSIZE64): refused before anything changed"

# ---- U-Boot, single environment: works, and fw_printenv reads it ----
mkenv us single
newdev "$T/us" --board bootloader=uboot --board bootenv="$T/us.config"
[ "$(ub us BOOT_ORDER)" = "A B" ] || fail "single U-Boot environment: $(fw_printenv -c "$T/us.config" 2>&1)"
ok "U-Boot (single copy): fw_printenv reads BOOT_ORDER=A B"

# ---- GRUB ----
grub-editenv "$T/grubenv" create
grub-editenv "$T/grubenv" set other=kept
G="$T/grub"
newdev "$G" --board bootloader=grub --board bootenv="$T/grubenv"
grub-editenv "$T/grubenv" list >grub.txt
for want in ORDER="A B" A_OK=1 A_TRY=0 B_OK=1 B_TRY=0 other=kept; do
	grep -qx "$want" grub.txt || fail "grub-editenv list lacks $want: $(cat grub.txt)"
done
[ "$(wc -c <"$T/grubenv")" -eq 1024 ] || fail "grubenv is not 1024 bytes"
ok "GRUB: grub-editenv list reads ORDER=A B, A_OK=1 A_TRY=0, B_OK=1 B_TRY=0; other variables kept"
"$B/fwctl" --root "$G" -q upgrade pri 5.21.3.pkg >/dev/null
grub-editenv "$T/grubenv" set A_TRY=1   # what the grub.cfg fragment does before it starts A
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 'rolled back to sec 5.21.2' "$B/fwctl" --root "$G" boot-check
grub-editenv "$T/grubenv" list | grep -qx "ORDER=B" || fail "GRUB ORDER after the rollback: $(grub-editenv "$T/grubenv" list)"
ok "GRUB trial: A tried (A_TRY=1) and B booted: boot-check rolled A back, ORDER=B"
# A supervisor that runs before boot-check after GRUB gave up on A and started B: the state still says A
# booted; marking A good would put the failed trial first again with no attempt spent. Refused, nothing changed.
newdev "$G" --board bootloader=grub --board bootenv="$T/grubenv"
"$B/fwctl" --root "$G" -q upgrade pri 5.21.3.pkg >/dev/null
expect 0 '' "$B/fwctl" --root "$G" boot-check
grub-editenv "$T/grubenv" set A_TRY=1
before=$(devsum "$G" "$T/grubenv")
for m in good bad; do
	FWCTL_CMDLINE="$T/cmdline.sec" expect 1 "fwctl: mark-$m: the sec runs \(kernel command line\), but the last boot-check recorded the pri: run 'fwctl boot-check' first" \
		"$B/fwctl" --root "$G" mark-$m
	[ "$(devsum "$G" "$T/grubenv")" = "$before" ] || fail "mark-$m against a stale boot record changed the board"
done
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 'rolled back to sec 5.21.2' "$B/fwctl" --root "$G" boot-check
FWCTL_CMDLINE="$T/cmdline.sec" expect 0 'sec 5.21.2 is not on trial' "$B/fwctl" --root "$G" mark-good
grub-editenv "$T/grubenv" list | grep -qx "ORDER=B" || fail "GRUB ORDER after the refused mark-good: $(grub-editenv "$T/grubenv" list)"
ok "mark-good/mark-bad before boot-check, the bootloader having started the other slot: refused (exit 1), nothing changed"
newdev "$G" --board bootloader=grub --board bootenv="$T/grubenv"
"$B/fwctl" --root "$G" -q upgrade pri 5.21.3.pkg >/dev/null
expect 0 '' "$B/fwctl" --root "$G" boot-check
expect 0 'mark-bad: 5.21.3 marked bad \(pri\), its trial ended: rolledBack; the next boot starts sec 5.21.2' \
	"$B/fwctl" --root "$G" mark-bad
grub-editenv "$T/grubenv" list | grep -qx "ORDER=B" || fail "GRUB ORDER after mark-bad: $(grub-editenv "$T/grubenv" list)"
grub-editenv "$T/grubenv" list | grep -qx "other=kept" || fail "mark-bad lost a GRUB variable"
ok "mark-bad on GRUB: A leaves ORDER (ORDER=B), other variables kept"

# ---- a torn U-Boot environment write, at every point ----
# From a healthy device, upgrade pri stores the environment twice (A out, then A back in). A power cut
# inside either store, at byte N, must leave fw_printenv reading a whole environment: old or new.
tear_run() { # tear_run NAME LAYOUT
	mkenv "$1" "$2"
	newdev "$T/$1" --board bootloader=uboot --board bootenv="$T/$1.config"
	cp -a "$T/$1" "$T/$1.start"
	cp "$T/$1.env" "$T/$1.env.start"
	dd if="$LA" of=a.start bs=1M count=1 status=none
	n=1
	torn=0
	points=0
	while :; do
		rm -rf "$T/$1"
		cp -a "$T/$1.start" "$T/$1"
		cp "$T/$1.env.start" "$T/$1.env"
		dd if=a.start of="$LA" bs=1M status=none
		set +e
		TEARWRITE_FILE="$T/$1.env" TEARWRITE_AT=$n LD_PRELOAD="$B/shim/tearwrite.so" \
			"$B/fwctl" --root "$T/$1" -q upgrade pri 5.21.3.pkg >/dev/null 2>"$T/.err"
		rc=$?
		set -e
		[ "$rc" -eq 99 ] || break
		points=$((points + 1))
		order=$(fw_printenv -c "$T/$1.config" BOOT_ORDER 2>/dev/null) || order="(none)"
		case "$order" in
		"BOOT_ORDER=A B"|"BOOT_ORDER=B") ;;
		*) torn=$((torn + 1)); [ "$2" = redundant ] && fail "torn at byte $n: fw_printenv finds $order" ;;
		esac
		# Every byte of the first 64 and the last 64 of each 4 KiB copy; a stride between.
		case $(( (n - 1) % 4096 )) in
		[0-9]|[0-5][0-9]|6[0-3]) n=$((n + 1)) ;;
		*) if [ $(( (n - 1) % 4096 )) -ge 4032 ]; then n=$((n + 1)); else n=$((n + 61)); fi ;;
		esac
	done
	[ "$rc" -eq 0 ] || { cat "$T/.err" >&2; fail "upgrade pri past the last tear point exited $rc"; }
	[ "$n" -gt 4096 ] || fail "the environment was stored in fewer bytes than one copy ($n)"
	TORN=$torn POINTS=$points
}
tear_run ut redundant
ok "U-Boot redundant environment torn at $POINTS points (every byte at each copy's ends, every 61st between) in two stores: fw_printenv always reads the old or the new one"
tear_run ust single
[ "$TORN" -gt 0 ] || fail "a single-copy environment survived every tear: the test cannot tell"
ok "U-Boot single environment: $TORN of $POINTS tears leave no valid environment (why a board needs the redundant one)"

# ---- the crash loop against loop-device slots, each backend ----
cat >oracle.py <<'PYEOF'
import hashlib, json, os, subprocess, sys
root, backend, env, newv = sys.argv[1:5]
slots = {"A": "pri", "B": "sec"}
def digest(data, cs):
    return hashlib.sha256(b"".join(hashlib.sha256(data[i:i + cs]).digest()
                                   for i in range(0, len(data), cs))).hexdigest()
if backend == "uboot":
    out = subprocess.run(["fw_printenv", "-c", env], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("fw_printenv cannot read the environment: " + out.stderr)
    kv = dict(l.split("=", 1) for l in out.stdout.splitlines() if "=" in l)
    order = kv.get("BOOT_ORDER", "").split()
    pick = [s for s in order if int(kv.get("BOOT_%s_LEFT" % s, "0")) > 0]
else:
    out = subprocess.run(["grub-editenv", env, "list"], capture_output=True, text=True, check=True)
    kv = dict(l.split("=", 1) for l in out.stdout.splitlines() if "=" in l)
    pick = [s for s in kv.get("ORDER", "").split() if kv.get(s + "_OK") == "1" and kv.get(s + "_TRY") == "0"]
if not pick:
    sys.exit("the environment selects no slot: %r" % kv)
slot = slots[pick[0]]
rec = json.load(open(os.path.join(root, "records", slot + ".json")))
if not rec["valid"]:
    sys.exit("the environment selects %s, whose record is not valid (%s)" % (slot, rec.get("note")))
cfg = json.load(open(os.path.join(root, "config.json")))
data = open(cfg["slots"][slot], "rb").read(rec["size"])
if digest(data, rec["chunk_size"]) != rec["digest"]:
    sys.exit("the environment selects %s, whose bytes do not match its record" % slot)
if rec["version"] not in ("5.21.2", newv):
    sys.exit("selects %s %s: neither the old nor the new image" % (slot, rec["version"]))
print(slot)
PYEOF
crashloop() { # crashloop NAME BACKEND ENVFILE [init options]; ROOTFS=1: running=rootfs, booted from A
	name=$1 backend=$2 envf=$3
	shift 3
	newdev "$T/$name" "$@"
	if [ "${ROOTFS:-0}" = 1 ]; then rootfs "$T/$name"; fi
	cp -a "$T/$name" "$T/$name.start"
	cp "$envf" "$T/$name.env.start"
	dd if="$LA" of=a.start bs=1M count=1 status=none
	dd if="$LB" of=b.start bs=1M count=1 status=none
	n=1
	: >steps.txt
	while :; do
		rm -rf "$T/$name"
		cp -a "$T/$name.start" "$T/$name"
		cp "$T/$name.env.start" "$envf"
		dd if=a.start of="$LA" bs=1M status=none
		dd if=b.start of="$LB" bs=1M status=none
		set +e
		FWCTL_CRASH_AT=$n "$B/fwctl" --root "$T/$name" upgrade all 5.21.3.pkg >/dev/null 2>"$T/.err"
		rc=$?
		set -e
		[ "$rc" -eq 99 ] || break
		step=$(sed -n "s|.*stopping before ||; s|$T/||p" "$T/.err")
		echo "$step" >>steps.txt
		if [ "${ROOTFS:-0}" = 1 ] && ! cmp -s "$LA" a.start; then
			fail "$name: crash before step $n ($step): the running slot A changed"
		fi
		if [ "$backend" = uboot ]; then cfgf="${envf%.env}.config"; else cfgf=$envf; fi
		slot=$("$PY" oracle.py "$T/$name" "$backend" "$cfgf" 5.21.3) ||
			fail "$name: crash before step $n ($step): the environment selects no valid image"
		echo "fwpkg.slot=$slot" >cmdline.now
		FWCTL_CMDLINE="$T/cmdline.now" expect 0 '' "$B/fwctl" --root "$T/$name" boot-check
		n=$((n + 1))
	done
	[ "$rc" -eq 0 ] || { cat "$T/.err" >&2; fail "$name: the upgrade past the last crash point exited $rc"; }
	# The environment's own stores were among the steps cut: four (sec out and in, pri out and in), two on a
	# rootfs board (sec out, and in first).
	stores=$(grep -c "$STORE_STEP" steps.txt || true)
	[ "$stores" -ge "${MIN_STORES:-4}" ] || fail "$name: only $stores of the crash points were in the environment's stores: $(cat steps.txt)"
	CRASHES=$((n - 1))
}
mkenv uc redundant
STORE_STEP="storing the U-Boot environment"
crashloop uc uboot "$T/uc.env" --board bootloader=uboot --board bootenv="$T/uc.config"
ok "crash loop, U-Boot: a crash before each of $CRASHES durable steps of upgrade all; fw_printenv's environment selects a valid image, boot-check passes"
grub-editenv "$T/gc.env" create
STORE_STEP="rename onto .*gc.env"
crashloop gc grub "$T/gc.env" --board bootloader=grub --board bootenv="$T/gc.env"
ok "crash loop, GRUB: a crash before each of $CRASHES durable steps; grub-editenv's environment selects a valid image, boot-check passes"

# The same on a rootfs board booted from A: A is never written, and after each crash the environment selects A
# or the verified new B (the oracle), and boot-check passes on the slot it selects.
mkenv urc redundant
STORE_STEP="storing the U-Boot environment"
ROOTFS=1 MIN_STORES=2 crashloop urc uboot "$T/urc.env" --board bootloader=uboot --board bootenv="$T/urc.config"
[ "$(ub urc BOOT_ORDER)" = "B A" ] || fail "rootfs crash loop, U-Boot: the run past the last crash point left BOOT_ORDER=$(ub urc BOOT_ORDER)"
ok "crash loop, U-Boot, running=rootfs: a crash before each of $CRASHES durable steps; A never changes, fw_printenv selects a valid image, boot-check passes"
grub-editenv "$T/grc.env" create
STORE_STEP="rename onto .*grc.env"
ROOTFS=1 MIN_STORES=2 crashloop grc grub "$T/grc.env" --board bootloader=grub --board bootenv="$T/grc.env"
grub-editenv "$T/grc.env" list | grep -qx 'ORDER=B A' || fail "rootfs crash loop, GRUB: $(grub-editenv "$T/grc.env" list)"
ok "crash loop, GRUB, running=rootfs: a crash before each of $CRASHES durable steps; A never changes, grub-editenv selects a valid image, boot-check passes"

# ---- the boot-check unit: it reboots when boot-check exits 1 (marked bad), and for no other failure ----
# Its ExecStopPost runs here with systemd's variables and a systemctl that only notes the call ($$ is systemd's $).
UNIT="$E2E/../../dist/fwctl-boot-check.service"
! grep -q '^Condition' "$UNIT" || fail "the unit has a condition: a board naming its slot by root= alone would never run boot-check"
! grep -q '^FailureAction=' "$UNIT" || fail "the unit reboots on any failure: an exit 3 would loop"
post=$(sed -n 's/^ExecStopPost=//p' "$UNIT" | sed 's/\$\$/$/g')
[ -n "$post" ] || fail "the unit has no ExecStopPost"
mkdir -p fakebin
printf '#!/bin/sh\necho "$*" >>"%s/reboots"\n' "$T" >fakebin/systemctl
chmod 755 fakebin/systemctl
for case in "exit-code 1 yes" "exit-code 3 no" "exit-code 2 no" "success 0 no" "signal 15 no" "timeout 0 no"; do
	set -- $case
	rm -f reboots
	eval "SERVICE_RESULT=$1 EXIT_STATUS=$2 PATH=\"$T/fakebin:\$PATH\" $post" || true
	if [ "$3" = yes ]; then grep -q -- '--no-block reboot' reboots 2>/dev/null || fail "boot-check $1/$2: no reboot"
	else [ ! -e reboots ] || fail "boot-check $1/$2: rebooted ($(cat reboots))"; fi
done
ok "fwctl-boot-check.service: reboots after exit 1 only (exit 3, 2, success, a signal: no reboot loop); no condition on fwpkg.slot="

echo "1..$TESTS"
