#!/bin/sh
# test_fwctl_boot: the boot step trusts bytes, not records; empty devices; slots elsewhere than the root.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
PY=${PY:-python3}

D=$T/dev

keypair k
randfile pri.img 12000
randfile sec.img 11000
randfile boot.img 3000
"$B/mkpkg" -q -o fw.pkg --version 5.21.2 --product WX --chunk-size 4096 \
	--pri pri.img --sec sec.img --boot boot.img -k k.key

# --- an empty device: nothing boots, only `all` installs
mkdir parts
expect 0 'empty slots' fw init --product WX --trust k.pub --slot "pri=$T/parts/p1" --slot sec=alt/sec
[ ! -s "$T/.out" ] || fail "init without --version booted something: $(cat "$T/.out")"
expect 1 "no bootable image: primary: record not valid \\(empty: no image installed\\).*upgrade all" fw boot
[ "$(js "d['booted'], d['version'], d['generation'], d['last_upgrade']")" = "none None None None" ] || fail "$(js d)"
expect 1 "holds no valid system image: only 'upgrade all' can restore it" fw upgrade pri fw.pkg
expect 0 '' fw upgrade all fw.pkg
grep -q 'booted pri 5.21.2' "$T/.out" || fail "first install did not boot: $(cat "$T/.out")"
ok "empty device: boot exits 1 naming the fix, upgrade pri refused, upgrade all installs and boots"

cmp -s parts/p1 pri.img || fail "pri not written to its configured path"
cmp -s "$D/alt/sec" sec.img || fail "sec not written to its root-relative path"
cmp -s "$D/slots/boot" boot.img || fail "boot not in the default place"
[ "$(js "d['slots']['pri']['path']")" = "$T/parts/p1" ] || fail "status shows pri at $(js "d['slots']['pri']['path']")"
ok "--slot: an absolute path and a root-relative one are where the images go"

# --- bit rot: a valid record does not make a slot bootable
printf 'XXXXXXXXXXXXXXXX' | dd of=parts/p1 bs=1 seek=5000 conv=notrunc 2>/dev/null
expect 0 'boot: primary: 5.21.2 failed its check: bytes do not match the record.s digest; booting the secondary' fw boot
grep -q 'booted sec 5.21.2' "$T/.out" || fail "did not fall back to sec: $(cat "$T/.out")"
[ "$(js "d['booted'], d['slots']['pri']['valid'], d['slots']['pri']['note']")" = \
	"sec False failed its check at boot: bytes do not match the record's digest" ] || fail "$(js d)"
[ "$(js "d['boot_note']")" = "primary: 5.21.2 failed its check: bytes do not match the record's digest; booting the secondary" ] ||
	fail "status does not say why the secondary runs: $(js d)"
fw status >table.txt
grep -q "^booted *sec (5.21.2, generation 1)" table.txt && grep -q "primary: 5.21.2 failed its check" table.txt ||
	fail "status table: $(cat table.txt)"
ok "a primary whose bytes differ from its record: boots the secondary, marks the primary not valid, status says why"

head -c 100 sec.img >"$D/alt/sec"
expect 1 "primary: record not valid \\(failed its check at boot: bytes do not match.*secondary: 5.21.2 failed its check: holds 100 bytes, the record says 11000" fw boot
[ "$(js "d['booted']")" = none ] || fail "$(js d)"
ok "both damaged: exit 1, booted none"

expect 0 '' fw upgrade force all fw.pkg
grep -q 'booted pri 5.21.2' "$T/.out" || fail "reinstall did not boot pri: $(cat "$T/.out")"
ok "upgrade force all repairs both"

# --- a plain reboot writes nothing (once the new images are marked good: a trial counts its boots)
expect 0 '' fw mark-good
expect 0 '' fw boot
same_after 0 '' fw boot
ok "a boot that changes nothing writes nothing"

# A failed init (a trust key that does not exist or is not a key) makes nothing.
expect 3 'init: --trust: no-such\.pub: cannot open' "$B/fwctl" --root "$T/never" init --product P --trust no-such.pub
[ ! -e "$T/never" ] || fail "a failed init left $T/never"
printf 'not a key\n' >junk.pub
expect 2 'init: --trust: junk\.pub' "$B/fwctl" --root "$T/never" init --product P --trust junk.pub
[ ! -e "$T/never" ] || fail "a failed init left $T/never"
ok "a failed init makes no device directory"
