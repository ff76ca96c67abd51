#!/bin/sh
# test_durable: the order of flushes (a shim logs fsync, rename, directory fsync) and a disk whose flush fails (EIO).
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
# A SANITIZE=1 build with an LD_PRELOAD shim: the shim may come before ASan's runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

SHIM=$B/shim/syncorder.so
[ -f "$SHIM" ] || fail "no $SHIM: run make check"
D=$T/dev
keypair k
for s in pri sec boot; do randfile "$s.img" 30000; done
for v in 5.21.0 5.22.0; do
	"$B/mkpkg" -q -o "$v.pkg" --version "$v" --product WX --chunk-size 4096 --pri pri.img --sec sec.img \
		--boot boot.img -k k.key
done
fw -q init --product WX --trust k.pub --version 5.20.0 >/dev/null
# logged CMD...: run fwctl CMD under the shim, its log in log.txt.
logged() { rm -f log.txt; SYNCORDER_LOG=$T/log.txt LD_PRELOAD=$SHIM "$B/fwctl" --root "$D" "$@" >"$T/.out" 2>"$T/.err"; }

logged upgrade no-reboot all 5.21.0.pkg || fail "upgrade: $(cat "$T/.err")"
"$PY" "$E2E/syncorder.py" log.txt "$D" pri sec boot >"$T/.out" || fail "upgrade all: $(cat log.txt)"
logged boot || fail "boot: $(cat "$T/.err")"
"$PY" "$E2E/syncorder.py" log.txt "$D" || fail "boot: $(cat log.txt)"
logged mark-good || fail "mark-good: $(cat "$T/.err")"
"$PY" "$E2E/syncorder.py" log.txt "$D" || fail "mark-good: $(cat log.txt)"
logged golden install 5.21.0.pkg || fail "golden install: $(cat "$T/.err")"
"$PY" "$E2E/syncorder.py" log.txt "$D" golden || fail "golden install: $(cat log.txt)"
ok "upgrade all, boot, mark-good, golden install: every file flushed before its rename and its directory after; each slot before the record that vouches for it"

# A flush that fails (EIO) is an error, and nothing that depends on it is committed.
eio() { what=$1; shift; SYNCORDER_EIO=$what LD_PRELOAD=$SHIM "$B/fwctl" --root "$D" "$@"; }
cp "$D/records/pri.json" pri.before
expect 3 'slots/pri: fsync: Input/output error' eio /slots/pri upgrade no-reboot pri 5.22.0.pkg
[ "$(js "d['slots']['pri']['valid'], d['last_upgrade']['result']")" = "False writeFlashFailed" ] || fail "$(js d)"
# The storage failed, not the package: the note says so, not "with an intact package".
grep -q 'pri: holds no valid image now: the upgrade failed writing it (see above); run it again once the storage is fixed' \
	"$T/.err" && ! grep -q 'intact package' "$T/.err" || fail "the note after a failed write: $(cat "$T/.err")"
ok "the slot's flush fails (EIO): exit 3, writeFlashFailed, the record does not vouch for the slot"
expect 0 '' fw upgrade no-reboot pri 5.21.0.pkg
cp "$D/records/sec.json" sec.before
expect 3 'records/sec\.json: fsync: Input/output error' eio /records/.sec.json upgrade no-reboot sec 5.22.0.pkg
cmp -s "$D/records/sec.json" sec.before || fail "the record was replaced although its flush failed"
ls -a "$D/records" | grep -q '\.tmp$' && fail "a temporary left behind: $(ls -a "$D/records")"
ok "a record's flush fails (EIO): exit 3, the record not replaced (not renamed into place), no temporary left"
expect 3 'records: cannot sync directory: Input/output error' eio "=$D/records" upgrade no-reboot sec 5.22.0.pkg
[ "$(js "d['last_upgrade']['result']")" != success ] || fail "$(js d)"
ok "the records directory's flush fails (EIO): exit 3, not a success"

# A file slot is overwritten in place (no truncation first: that frees every block only to allocate them again)
# and cut to the image's length when finished; one refused part way holds the new image's verified chunks only.
randfile big.img 300000
"$B/mkpkg" -q -o big.pkg --version 5.23.0 --product WX --chunk-size 4096 --pri big.img -k k.key
"$B/mkpkg" -q -o small.pkg --version 5.24.0 --product WX --chunk-size 4096 --pri pri.img -k k.key
D=$T/dev2
fw -q init --product WX --trust k.pub --version 5.20.0 >/dev/null
expect 0 '' fw upgrade no-reboot all 5.21.0.pkg
expect 0 '' fw upgrade no-reboot pri big.pkg
[ "$(stat -c %s "$D/slots/pri")" = 300000 ] || fail "pri: $(stat -c %s "$D/slots/pri") bytes"
expect 0 '' fw upgrade no-reboot pri small.pkg
cmp -s "$D/slots/pri" pri.img || fail "pri holds $(stat -c %s "$D/slots/pri") bytes, not the 30000 of its new image"
expect 0 '' fw upgrade no-reboot pri big.pkg
pkg_craft flipentry small.pkg bad.pkg WX-pri.img 20000
expect 1 'chunk 4 .*SHA-256 mismatch' fw upgrade no-reboot pri bad.pkg
[ "$(js "d['slots']['pri']['valid']")" = False ] || fail "$(js "d['slots']['pri']")"
n=$(stat -c %s "$D/slots/pri")
[ "$n" -lt 30000 ] && cmp -s -n "$n" "$D/slots/pri" pri.img ||
	fail "a refused image over a larger one left $n bytes that are not only its verified chunks"
ok "a smaller image over a larger one: the slot cut to its length; refused part way: only its verified chunks, no old tail"
