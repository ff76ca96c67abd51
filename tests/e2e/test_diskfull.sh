#!/bin/sh
# test_diskfull: a disk that fills up mid-write (an LD_PRELOAD shim) leaves every file, package and slot as it was.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

# Built by the Makefile (make check); a missing shim is a failure, never a skip.
[ -f "$B/shim/failwrite.so" ] || fail "no $B/shim/failwrite.so: run make check"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
# full N CMD...: run CMD with a disk that takes N more bytes.
full() { n=$1; shift; FAILWRITE_AFTER=$n LD_PRELOAD="$B/shim/failwrite.so" "$@"; }

keypair k
randfile pri.img 600000
randfile sec.img 300000
randfile boot.img 5000
"$B/mkpkg" -q -o fw.pkg --version 2.0.0 --product P1 --pri pri.img --sec sec.img --boot boot.img -k k.key

mkdir out
for n in 0 1000 200000 700000; do
	expect 3 'No space left' full $n "$B/mkpkg" -o out/new.pkg --version 2.0.0 --product P1 --pri pri.img \
		--sec sec.img --boot boot.img -k k.key
	# The disk that is full is the package's (also where payloads are copied while hashed), not an image's.
	grep -q '^mkpkg: out/new\.pkg: ' "$T/.err" && [ "$(wc -l <"$T/.err")" = 1 ] ||
		fail "mkpkg on a full disk (after $n bytes): not one line naming the output: $(cat "$T/.err")"
	[ -z "$(ls -A out)" ] || fail "mkpkg on a full disk (after $n bytes) left: $(ls -A out)"
done
ok "mkpkg on a disk that fills up: exit 3, no output, no temporary file"

cp fw.pkg signed.pkg
keypair k2
expect 3 'No space left' full 5000 "$B/fwpkg" sign -k k2.key signed.pkg
cmp fw.pkg signed.pkg || fail "a failed sign changed the package"
[ "$(ls -A | grep -c '^\.signed')" = 0 ] || fail "a failed sign left a temporary file"
ok "sign in place on a full disk: the package is unchanged"

mkdir x
echo keep >x/P1-boot.img.keep
before=$(treesum x)
expect 3 'No space left' full 400000 "$B/fwpkg" extract -C x -p k.pub fw.pkg
[ "$(treesum x)" = "$before" ] || fail "a failed extract changed the directory: $(ls -A x)"
ok "extract on a full disk leaves the directory as it was"

"$B/fwctl" --root dev -q init --product P1 --trust k.pub --version 1.0.0 >/dev/null
expect 3 'No space left' full 350000 "$B/fwctl" --root dev upgrade all fw.pkg
"$B/fwctl" --root dev status --json >st.json
"$PY" - st.json <<'PYEOF' || fail "status after a full disk: $(cat st.json)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["last_upgrade"]["result"] == "writeFlashFailed", d["last_upgrade"]
s = d["slots"]
# secondary and bootloader were written before the flash filled; the primary was being written
assert s["sec"]["valid"] and s["sec"]["version"] == "2.0.0", s["sec"]
assert s["boot"]["valid"] and s["boot"]["version"] == "2.0.0", s["boot"]
assert not s["pri"]["valid"], s["pri"]
PYEOF
cmp dev/slots/sec sec.img && cmp dev/slots/boot boot.img || fail "the finished slots do not hold the new images"
expect 0 '' "$B/fwctl" --root dev boot
grep -q 'booted sec 2.0.0' "$T/.out" || fail "the device does not boot its secondary: $(cat "$T/.out" "$T/.err")"
ok "fwctl upgrade on a full flash: writeFlashFailed, finished slots valid, the secondary boots"

expect 0 '' "$B/fwctl" --root dev upgrade force all fw.pkg
cmp dev/slots/pri pri.img && cmp dev/slots/boot boot.img || fail "upgrade after the disk emptied did not repair"
ok "the same upgrade succeeds once there is space"
