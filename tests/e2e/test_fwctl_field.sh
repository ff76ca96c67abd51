#!/bin/sh
# test_fwctl_field: the field's upgrade path through an image format generation and back (shared/field/001).
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
PY=${PY:-python3}

D=$T/dev
# js EXPR: a Python expression over d, the device's `status --json`.
# Slots and their records: what a refused upgrade must leave alone.
slotsum() { { treesum "$D/slots"; treesum "$D/records"; } | sha256sum; }
# fwpkg VERSION GENERATION [MKPKG OPTION]...: fw-VERSION.pkg for product WX with three small images.
fwpkg() {
	v=$1 g=$2
	shift 2
	for s in pri sec boot; do
		{ echo "$s image $v"; head -c 9000 /dev/urandom; } >"$s-$v.img"
	done
	"$B/mkpkg" -q -o "fw-$v.pkg" --version "$v" --generation "$g" --product WX --chunk-size 4096 \
		--pri "pri-$v.img" --sec "sec-$v.img" --boot "boot-$v.img" -k k.key "$@"
}
# same SLOT VERSION: the slot holds exactly that version's image bytes.
same() { cmp -s "$D/slots/$1" "$1-$2.img" || fail "slot $1 does not hold the $2 image"; }

keypair k
fwpkg 5.21.2 1
fwpkg 5.22.2 2 --bridge-from 5.21.2 --bridge-down 5.22.2
fwpkg 5.23.0 2 --bridge-from 5.21.2 --bridge-down 5.22.2

expect 0 'factory images 5.20.0' fw init --product WX --trust k.pub --version 5.20.0 --generation 1
grep -q 'booted pri 5.20.0' "$T/.out" || fail "init did not boot the factory image: $(cat "$T/.out")"
[ "$(js "d['version'], d['generation'], d['booted']")" = "5.20.0 1 pri" ] || fail "fresh device: $(js d)"
ok "init: a device at 5.20.0, generation 1, booted from pri"

# Generation 2 cannot be entered from 5.20.0, not even with all.
before=$(slotsum)
expect 1 "needs the primary at 5.21.2 first.*upgrade pri" fw upgrade all fw-5.22.2.pkg
[ "$(slotsum)" = "$before" ] || fail "a refused upgrade changed slots or records"
[ "$(js "d['last_upgrade']['result']")" = policyRefused ] || fail "refusal not recorded: $(js "d['last_upgrade']")"
ok "upgrade all 5.22.2 from 5.20.0: refused, names the bridge 5.21.2, nothing written"

expect 0 '' fw upgrade pri fw-5.21.2.pkg
grep -q 'booted pri 5.21.2' "$T/.out" || fail "upgrade pri did not reboot into 5.21.2: $(cat "$T/.out")"
same pri 5.21.2
[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['last_upgrade']['result']")" = "5.21.2 5.20.0 success" ] ||
	fail "after upgrade pri: $(js d)"
ok "upgrade pri 5.21.2: written, rebooted, the secondary untouched"

before=$(slotsum)
expect 1 "generation 2.*needs 'upgrade all'" fw upgrade pri fw-5.22.2.pkg
[ "$(slotsum)" = "$before" ] || fail "a refused upgrade changed slots or records"
[ "$(js "d['last_upgrade']['result'], d['last_upgrade']['version']")" = "policyRefused 5.22.2" ] ||
	fail "refusal not recorded: $(js "d['last_upgrade']")"
ok "upgrade pri 5.22.2 (generation 2): refused, saying 'all' is needed"

expect 0 '' fw upgrade all fw-5.22.2.pkg
order=$(grep -o 'upgrade: [a-z]*: writing' "$T/.err" | sed 's/upgrade: //' | tr '\n' ' ')
[ "$order" = "sec: writing boot: writing pri: writing " ] || fail "upgrade all wrote in the order: $order"
grep -q 'booted pri 5.22.2 (generation 2)' "$T/.out" || fail "no reboot into 5.22.2: $(cat "$T/.out")"
for s in pri sec boot; do same $s 5.22.2; done
[ "$(js "[d['slots'][s]['generation'] for s in ('pri','sec','boot')], d['generation']")" = "[2, 2, 2] 2" ] ||
	fail "after upgrade all: $(js d)"
ok "upgrade all 5.22.2 from 5.21.2: sec, boot, pri in that order, rebooted into generation 2"

expect 0 '' fw upgrade all fw-5.23.0.pkg
for s in pri sec boot; do same $s 5.23.0; done
ok "upgrade all 5.23.0 within generation 2"

before=$(slotsum)
expect 1 "needs the primary at 5.22.2 first.*upgrade pri" fw upgrade all fw-5.21.2.pkg
[ "$(slotsum)" = "$before" ] || fail "a refused downgrade changed slots or records"
ok "downgrade all 5.21.2 from 5.23.0: refused until the primary is at 5.22.2"

expect 0 'restore factory defaults' fw upgrade pri fw-5.22.2.pkg
same pri 5.22.2
same sec 5.23.0
ok "upgrade pri 5.22.2 (a downgrade): warns to restore factory defaults, writes the primary"

before=$(slotsum)
expect 1 "leaving a generation downwards needs 'upgrade all'" fw upgrade sec fw-5.21.2.pkg
[ "$(slotsum)" = "$before" ] || fail "a refused downgrade changed slots or records"
ok "leaving generation 2 with a single target: refused"

expect 0 'restore factory defaults' fw upgrade all fw-5.21.2.pkg
grep -q 'returning to image generation 1' "$T/.err" || fail "no transition note: $(cat "$T/.err")"
for s in pri sec boot; do same $s 5.21.2; done
[ "$(js "d['version'], d['generation'], d['booted'], d['booted_version']")" = "5.21.2 1 pri 5.21.2" ] ||
	fail "after the downgrade: $(js d)"
ok "upgrade all 5.21.2 from the primary at 5.22.2: back in generation 1"

expect 0 '' fw boot
grep -q 'booted pri 5.21.2 (generation 1)' "$T/.out" || fail "boot: $(cat "$T/.out")"
ok "boot after the round trip"

expect 0 '' fw status
grep -Eq '^pri +trial +5\.21\.2 +1 ' "$T/.out" || fail "status table: $(cat "$T/.out")"
grep -Eq '^  on trial +boot 2 of 3 without mark-good' "$T/.out" || fail "status table: no trial line: $(cat "$T/.out")"
expect 0 'mark-good: 5.21.2 marked good \(pri, sec\)' fw mark-good
expect 0 '' fw status
grep -Eq '^pri +yes +5\.21\.2 +1 ' "$T/.out" || fail "status table after mark-good: $(cat "$T/.out")"
grep -Eq 'result +success' "$T/.out" || fail "status table has no result: $(cat "$T/.out")"
ok "status table shows the slots and the last result"

# --- 004's upgrade status and cancellation status, on 001's transition: Ctrl-C in the middle of `all` 5.22.2 (the
# field's "do not cut the power" step) is recorded as upgradeCancelled, cancellation successful; the device still
# boots generation 1; run again, the transition completes. A restart in the middle is abnormalReset.
[ -f "$B/shim/sigwrite.so" ] || fail "no $B/shim/sigwrite.so: run make check"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
expect 7 'cancelled \(SIGINT\)' env SIGWRITE_PATH=/slots/boot SIGWRITE_AT=1 LD_PRELOAD="$B/shim/sigwrite.so" \
	"$B/fwctl" --root "$D" upgrade all fw-5.22.2.pkg
# The stop is taken at the next safe point: the bootloader's one chunk may already be through the
# pipeline's verification, and is then committed (written whole and verified) before the primary; never the primary.
# Either way the device boots: generation 1 from the primary, or, with the new bootloader in place, generation 2
# from the secondary on trial; run again, the transition completes.
got=$(js "d['last_upgrade']['result'], d['last_upgrade']['cancellation'], d['last_upgrade']['installed'], d['last_upgrade']['not_installed']")
case "$got" in
"upgradeCancelled successful ['sec'] ['pri', 'boot']") want='booted pri 5.21.2 (generation 1)' ;;
"upgradeCancelled successful ['sec', 'boot'] ['pri']") want='booted sec 5.22.2 (generation 2)' ;;
*) fail "$(js "d['last_upgrade']")" ;;
esac
expect 0 '' fw status
grep -Eq '^  result +upgradeCancelled$' "$T/.out" && grep -Eq '^  cancellation +successful$' "$T/.out" ||
	fail "status table: $(cat "$T/.out")"
expect 0 '' fw boot
grep -q "$want" "$T/.out" || fail "boot after the cancel ($got): $(cat "$T/.out")"
[ "$want" = 'booted pri 5.21.2 (generation 1)' ] || expect 0 '' fw mark-good
expect 0 '' fw upgrade all fw-5.22.2.pkg
grep -q 'booted pri 5.22.2 (generation 2)' "$T/.out" || fail "$(cat "$T/.out")"
ok "Ctrl-C during the transition: upgradeCancelled, cancellation successful, generation 1 still boots; again: generation 2"

expect 99 '' env FWCTL_CRASH_AT=12 "$B/fwctl" --root "$D" upgrade force all fw-5.23.0.pkg
expect 0 '' fw boot
[ "$(js "d['last_upgrade']['result'], d['last_upgrade']['cancellation']")" = "abnormalReset None" ] ||
	fail "$(js "d['last_upgrade']")"
ok "a restart in the middle of an upgrade: the boot step records the field's abnormalReset"
