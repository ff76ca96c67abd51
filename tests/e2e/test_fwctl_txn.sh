#!/bin/sh
# test_fwctl_txn: the upgrade transaction's rules, each from the device state that used to break it.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

D=$T/dev
# devsum: every file of the device (slots, records, state), to prove a refusal changed nothing but the record of it.
devsum() { (cd "$D" && find slots records -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }
fresh() { rm -rf "$D"; fw -q init --product WX --trust k.pub --version 5.20.0 >/dev/null; }

keypair k
for s in pri sec boot; do randfile "$s.img" 20000; done
mk() { # mk VERSION OUT [mkpkg options...]
	v=$1 out=$2
	shift 2
	"$B/mkpkg" -q -o "$out" --version "$v" --product WX --chunk-size 4096 --pri pri.img --sec sec.img \
		--boot boot.img -k k.key "$@"
}
mk 5.21.0 a.pkg
mk 5.21.1 b.pkg

# --- a byte after the end of a signed package: rejected, and its last image never committed
fresh
pkg_craft append a.pkg tail.pkg 41
expect 1 'upgrade: tail\.pkg: .*' fw upgrade all tail.pkg
grep -q 'installed: boot, sec; not installed: pri\|installed: sec, boot; not installed: pri' "$T/.err" ||
	fail "the failure does not say what was installed: $(cat "$T/.err")"
[ "$(js "d['last_upgrade']['result'], d['last_upgrade']['installed'], d['last_upgrade']['not_installed']")" = \
	"fileCheckFailed ['sec', 'boot'] ['pri']" ] || fail "$(js "d['last_upgrade']")"
[ "$(js "d['slots']['pri']['valid'], d['slots']['sec']['version'], d['slots']['boot']['version']")" = \
	"False 5.21.0 5.21.0" ] || fail "$(js "d['slots']")"
expect 0 '' fw boot
grep -q 'booted sec 5.21.0' "$T/.out" || fail "$(cat "$T/.out")"
fw status >table.txt
grep -q '^  not installed  *pri' table.txt || fail "status table: $(cat table.txt)"
ok "a byte after the end: exit 1, sec and boot installed, pri never committed; result and status say so"

fresh
expect 1 '' fw upgrade pri tail.pkg
[ "$(js "d['slots']['pri']['valid'], d['slots']['sec']['version'], d['last_upgrade']['not_installed']")" = \
	"False 5.20.0 ['pri']" ] || fail "$(js d)"
ok "the same with upgrade pri: the primary is not committed"

# --- the device that failed an upgrade: the primary is not valid, the secondary is the only bootable image
at=$(pkg_craft offset a.pkg WX-pri.img middle)
pkg_craft flip a.pkg badpri.pkg "$at"
fresh
expect 1 'SHA-256 mismatch' fw upgrade all badpri.pkg
[ "$(js "d['slots']['pri']['valid'], d['slots']['sec']['version']")" = "False 5.21.0" ] || fail "$(js d)"
expect 0 '' fw boot
cp -a "$D" "$T/failed"

# From a stream, `all` would overwrite the secondary first: refused, naming the commands, nothing changed.
before=$(devsum)
expect 1 "only bootable system image and 'upgrade all' from a stream would overwrite it first: run 'fwctl upgrade pri' with this package, then 'fwctl upgrade all'" \
	sh -c 'cat b.pkg | "$0" --root "$1" upgrade all -' "$B/fwctl" "$D"
[ "$(devsum)" = "$before" ] || fail "the refused upgrade changed the device"
[ "$(js "d['last_upgrade']['result']")" = policyRefused ] || fail "$(js "d['last_upgrade']")"
# upgrade sec over the only bootable image: refused with the command to run first.
expect 1 "the secondary is the only bootable system image .*run 'fwctl upgrade pri'" fw upgrade sec b.pkg
[ "$(devsum)" = "$before" ] || fail "the refused upgrade sec changed the device"
ok "pri not valid: all from a stream and sec alone are refused (exit 1, policyRefused), nothing changed"

# From a file, `all` reads the package twice: the primary first, committed before the secondary is touched.
expect 0 'writing the primary first' fw upgrade all b.pkg
sed -n 's/.*upgrade: \([a-z]*\): writing.*/\1/p' "$T/.err" | tr '\n' ' ' >order.txt
[ "$(cat order.txt)" = "pri sec boot " ] || fail "writing order: $(cat order.txt)"
[ "$(js "d['booted'], d['slots']['pri']['version'], d['slots']['sec']['version'], d['slots']['boot']['version']")" = \
	"pri 5.21.1 5.21.1 5.21.1" ] || fail "$(js d)"
ok "pri not valid: all from a file writes pri, then sec and boot; boots pri"

# A package swapped between the two reads (the onrewind shim swaps it as the second read starts) is refused;
# the primary the first read wrote stays, the secondary is never touched.
# Built by the Makefile (make check); a missing shim is a failure, never a skip.
[ -f "$B/shim/onrewind.so" ] || fail "no $B/shim/onrewind.so: run make check"
rm -rf "$D"; cp -a "$T/failed" "$D"
mk 5.21.2 c.pkg
cp b.pkg moving.pkg
sec_before=$(sha256sum <"$D/records/sec.json")
# ASan must come first in the link order: preload the shim after it when the build is sanitized.
asan=$(ldd "$B/fwctl" | sed -n 's/.*=> \(\S*libasan\S*\).*/\1/p')
expect 1 'the package changed between its two reads' \
	env LD_PRELOAD="${asan:+$asan }$B/shim/onrewind.so" ONREWIND="cp c.pkg moving.pkg" "$B/fwctl" --root "$D" upgrade all moving.pkg
[ "$(js "d['slots']['pri']['version'], d['last_upgrade']['result'], d['last_upgrade']['installed']")" = \
	"5.21.1 fileNotMatch ['pri']" ] || fail "$(js d)"
[ "$(sha256sum <"$D/records/sec.json")" = "$sec_before" ] || fail "the secondary was touched"
expect 0 '' fw boot
grep -q 'booted pri 5.21.1' "$T/.out" || fail "$(cat "$T/.out")"
ok "a package swapped between the two reads: refused (fileNotMatch), the secondary untouched, the new primary boots"

# --- rollback index: raised only with both system images at it; boot never starts an image below it
fresh
mk 5.22.0 r5.pkg --rollback-index 5
expect 1 "raises the rollback index from 0 to 5: install it with 'upgrade all'" fw upgrade pri r5.pkg
expect 0 '' fw upgrade all r5.pkg
expect 0 '' fw mark-good
expect 0 '' fw boot
[ "$(js "d['rollback_index']")" = 5 ] || fail "$(js d)"
mk 5.22.1 r5b.pkg --rollback-index 5
at=$(pkg_craft offset r5b.pkg WX-pri.img middle)
pkg_craft flip r5b.pkg r5bad.pkg "$at"
expect 1 'SHA-256 mismatch' fw upgrade pri r5bad.pkg
expect 0 '' fw boot
grep -q 'booted sec 5.22.0' "$T/.out" || fail "$(cat "$T/.out")"
ok "rollback index 5 needs all; a failed primary falls back to a secondary that carries 5"

# A secondary below the stored index (a device from before this rule) is never started.
"$PY" - "$D/records/sec.json" <<'PYEOF'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["rollback_index"] = 0; json.dump(d, open(p, "w"))
PYEOF
expect 1 'secondary: 5.22.0 has rollback index 0, below the device.s 5' fw boot
ok "boot never starts an image below the stored rollback index"

# --- bytes that are not UTF-8 or are control characters: every refusal recorded, every valid package installs
fresh
pkg_craft add a.pkg odd1.pkg extra -1
pkg_craft rename odd1.pkg odd.pkg extra 'x\udcff\udcc2\udc9b'  # raw bytes ff c2 9b
expect 1 'x\\xff\\xc2\\x9b' fw upgrade all odd.pkg
grep -q "$(printf '\302\233')" "$T/.err" && fail "a raw CSI reached the terminal"
[ "$(js "d['last_upgrade']['result']")" = fileCheckFailed ] || fail "$(js "d['last_upgrade']")"
js "d['last_upgrade']['message']" | grep -q 'x\\xff\\xc2\\x9b' || fail "$(js "d['last_upgrade']")"
ok "an entry name with 0xff and U+009B: refused, recorded escaped, never printed raw"

latin=$(printf 'fw-\351\302\233.pkg')
cp b.pkg "$latin"
expect 0 '' fw upgrade all "$latin"
# status --json carries the text by JSON's rule (fwpkg-pkg(5)): the byte 0xe9, not UTF-8, as "\xe9"; U+009B,
# a C1 control, as the JSON escape \u009b (a parser gives back the same text); the table escapes both.
[ "$(js "d['last_upgrade']['result'], d['last_upgrade']['source'], d['slots']['pri']['version']")" = \
	"$(printf 'success fw-\\xe9\302\233.pkg 5.21.1')" ] || fail "$(js "d['last_upgrade']")"
"$B/fwctl" --root "$D" status --json >status.json
grep -q "$(printf '\302\233')" status.json && fail "status --json printed a raw CSI"
grep -qF 'fw-\\xe9\u009b.pkg' status.json || fail "status --json: $(grep source status.json)"
fw status >table.txt
grep -q "$(printf '\302\233')" table.txt && fail "status printed a raw CSI"
grep -qF 'fw-\xe9\xc2\x9b.pkg' table.txt || fail "status table: $(cat table.txt)"
ok "a valid package at a Latin-1 path with U+009B installs; the source is in JSON by its rule, escaped in the table"
