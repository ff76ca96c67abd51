#!/bin/sh
# test_fwctl_link: fwctl carries only verifying code (no package or key creation) and answers its basic options.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

# Every function the creating objects define (pkg_write, tar_write*, sig_sign, sig_keygen, ...).
create_objs=$(ls "$B"/obj/formats/*_write.o "$B"/obj/signing/*_sign.o 2>/dev/null || true)
[ -n "$create_objs" ] || fail "no *_write.o / *_sign.o objects under $B/obj"
# shellcheck disable=SC2086
nm --defined-only $create_objs | awk '$2 == "T" { print $3 }' | sort -u >create.syms
grep -qx sig_sign create.syms && grep -qx pkg_write create.syms || fail "symbol list lacks sig_sign or pkg_write"
nm --defined-only "$B/fwctl" | awk '{ print $3 }' | sort -u >fwctl.syms
nm --defined-only "$B/mkpkg" | awk '{ print $3 }' | sort -u >mkpkg.syms
[ -n "$(comm -12 create.syms mkpkg.syms)" ] || fail "control: mkpkg should contain the creating code"
leaked=$(comm -12 create.syms fwctl.syms)
[ -z "$leaked" ] || fail "fwctl links creating code: $leaked"
ok "fwctl has none of the $(wc -l <create.syms) functions of the *_write/*_sign objects (mkpkg has them)"

expect 0 '' "$B/fwctl" --help
grep -q 'upgrade' "$T/.out" || fail "--help does not list upgrade"
expect 2 'unknown command "frobnicate"' "$B/fwctl" frobnicate
expect 2 'unknown option "--bogus"' "$B/fwctl" --bogus status
expect 2 'not a device root' env FWCTL_ROOT="$T/none" "$B/fwctl" status
expect 0 '' "$B/fwctl" upgrade --help
grep -q 'force' "$T/.out" || fail "upgrade --help does not show force"
ok "--help, unknown command or option, FWCTL_ROOT, upgrade --help"
