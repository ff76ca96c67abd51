#!/bin/sh
# test_shortreads: every program gets short reads everywhere (an LD_PRELOAD shim) and must give the same results.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

# Built by the Makefile (make check); a missing shim is a failure, never a skip.
[ -f "$B/shim/shortread.so" ] || fail "no $B/shim/shortread.so: run make check"
# ASan wants to be first in the link order; the shim only wraps read().
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
short() { LD_PRELOAD="$B/shim/shortread.so" "$@"; }

keypair k
randfile pri.img 700000
randfile sec.img 300000
randfile boot.img 5000
"$B/mkpkg" -q -o fw.pkg --version 1.0.0 --product P1 --pri pri.img --sec sec.img --boot boot.img \
	--chunk-size 65536 -k k.key
short "$B/mkpkg" -q -o short.pkg --version 1.0.0 --product P1 --pri pri.img --sec sec.img --boot boot.img \
	--chunk-size 65536 -k k.key || fail "mkpkg with short reads failed"
cmp fw.pkg short.pkg || fail "mkpkg with short reads wrote other bytes"
ok "mkpkg with short reads writes the same bytes"

expect 0 '' short "$B/fwpkg" verify -p k.pub fw.pkg
short "$B/fwpkg" verify -q -p k.pub - <fw.pkg || fail "verify from stdin with short reads failed"
ok "verify with short reads (file and stdin)"

short "$B/fwpkg" inspect --json --sha256 -p k.pub fw.pkg >short.json || fail "inspect with short reads failed"
"$B/fwpkg" inspect --json --sha256 -p k.pub fw.pkg >plain.json
cmp short.json plain.json || fail "inspect with short reads says something else"
ok "inspect --sha256 with short reads gives the same JSON"

mkdir out
short "$B/fwpkg" extract -q -C out -p k.pub fw.pkg >/dev/null || fail "extract with short reads failed"
cmp out/P1-pri.img pri.img && cmp out/P1-sec.img sec.img && cmp out/P1-boot.img boot.img ||
	fail "extract with short reads gave other bytes"
ok "extract with short reads gives the same images"

cp fw.pkg bad.pkg
printf 'XXXXXXXXXXXXXXXX' | dd of=bad.pkg bs=1 seek=$(( $(stat -c %s fw.pkg) - 20000 )) conv=notrunc 2>/dev/null
expect 1 'SHA-256 mismatch' short "$B/fwpkg" verify -p k.pub bad.pkg
ok "a tampered package is still rejected with short reads"

"$B/fwctl" --root dev -q init --product P1 --trust k.pub --version 0.9.0 >/dev/null
short "$B/fwctl" --root dev -q upgrade all - <fw.pkg >/dev/null || fail "fwctl upgrade from stdin with short reads failed"
cmp dev/slots/pri pri.img && cmp dev/slots/sec sec.img && cmp dev/slots/boot boot.img ||
	fail "fwctl with short reads wrote other bytes"
expect 0 '' short "$B/fwctl" --root dev boot
grep -q 'booted pri 1.0.0' "$T/.out" || fail "boot with short reads: $(cat "$T/.out" "$T/.err")"
ok "fwctl upgrade and boot with short reads"

mkdir -p tree/branding tree/files
echo vendor >tree/branding/name.txt
randfile tree/files/big.bin 300000
"$B/mkwmopkg" -q -o brand.wmopkg -C tree --version 1.0 --product P1 --chunk-size 65536 -k k.key
mkdir short
short "$B/mkwmopkg" -q -o short/brand.wmopkg -C tree --version 1.0 --product P1 --chunk-size 65536 -k k.key ||
	fail "mkwmopkg with short reads failed"
cmp brand.wmopkg short/brand.wmopkg || fail "mkwmopkg with short reads wrote other bytes"
expect 0 '' short "$B/fwpkg" verify -p k.pub brand.wmopkg
ok "mkwmopkg with short reads writes the same bytes; verify of a .wmopkg with short reads"
