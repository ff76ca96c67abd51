#!/bin/sh
# test_fwctl_trial: trial boot with mark-good and rollback, the golden system, and power cuts in each.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

D=$T/dev
fresh() { rm -rf "$D"; fw -q init --product WX --trust k.pub --version 5.20.0 --trial-boots 2 "$@" >/dev/null; }

keypair k
for s in pri sec boot; do randfile "$s.img" 9000; done
mk() { v=$1; shift; "$B/mkpkg" -q -o "$v.pkg" --version "$v" --product WX --chunk-size 4096 --pri pri.img \
	--sec sec.img --boot boot.img -k k.key "$@"; }
for v in 5.21.0 5.22.0 5.23.0 5.24.0; do mk "$v"; done

# --- a trial marked good
fresh
expect 0 '' fw upgrade pri 5.21.0.pkg
grep -q 'booted pri 5.21.0 (generation 1) on trial: boot 1 of 2' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['slots']['pri']['trial'], d['trial_boots'], d['slots']['sec']['trial']")" = "True 1 False" ] || fail "$(js d)"
expect 0 'mark-good: 5.21.0 marked good \(pri\)' fw mark-good
expect 0 '' fw boot
grep -q 'on trial' "$T/.out" && fail "still on trial after mark-good: $(cat "$T/.out")"
expect 0 '' fw boot
expect 0 '' fw boot
[ "$(js "d['booted'], d['booted_version'], d['slots']['pri']['trial']")" = "pri 5.21.0 False" ] || fail "$(js d)"
expect 0 'is not on trial: nothing to do' fw mark-good
ok "a trial marked good stays: no more counting, no rollback"

# --- mark-good marks only the image that runs: an upgrade without reboot wrote an image that never started.
# From three starting states: a good system, a system on trial, both halves of an 'upgrade all' on trial.
unbooted() {
	name=$1
	shift
	fresh
	expect 0 '' fw boot
	for c in "$@"; do fw -q $c >/dev/null 2>&1 || fail "$name: $c"; done
	booted=$(js "d['booted_version']")
	expect 0 '' fw upgrade no-reboot pri 5.22.0.pkg
	[ "$(js "d['slots']['pri']['version'], d['slots']['pri']['trial']")" = "5.22.0 True" ] || fail "$name: $(js d)"
	same_after 1 "mark-good: the pri now holds 5.22.0, written after the boot of $booted: it has not run, so it cannot be marked good; run 'fwctl boot'" \
		fw mark-good
	expect 0 '' fw boot
	grep -q 'booted pri 5.22.0 (generation 1) on trial' "$T/.out" || fail "$name: $(cat "$T/.out")"
	expect 0 'mark-good: 5.22.0 marked good \(pri\)' fw mark-good
	[ "$(js "d['slots']['pri']['trial']")" = False ] || fail "$name: $(js d)"
	ok "mark-good after 'upgrade no-reboot pri' from $name ($booted running): refused (exit 1), nothing changed, the new image stays on trial; after the boot it is marked"
}
unbooted "a good system"
unbooted "a system on trial" "upgrade pri 5.21.0.pkg"
unbooted "an 'upgrade all' on trial" "upgrade all 5.21.0.pkg"

# --- the other half of an 'upgrade all' is marked with the booted one only as it was at boot: a secondary
# rewritten since under the same version (a re-spin, 'upgrade force no-reboot sec') has not run, and stays on trial.
for s in pri sec boot; do randfile "re-$s.img" 9000; done
"$B/mkpkg" -q -o respin.pkg --version 5.21.0 --product WX --chunk-size 4096 --pri re-pri.img --sec re-sec.img \
	--boot re-boot.img -k k.key
fresh
expect 0 '' fw upgrade all 5.21.0.pkg
[ "$(js "d['booted'], d['slots']['pri']['trial'], d['slots']['sec']['trial']")" = "pri True True" ] || fail "$(js d)"
expect 0 '' fw upgrade force no-reboot sec respin.pkg
expect 0 'mark-good: 5.21.0 marked good \(pri\)$' fw mark-good
[ "$(js "d['slots']['pri']['trial'], d['slots']['sec']['trial']")" = "False True" ] || fail "$(js d)"
fresh
expect 0 '' fw upgrade all 5.21.0.pkg
expect 0 'mark-good: 5.21.0 marked good \(pri, sec\)' fw mark-good
[ "$(js "d['slots']['pri']['trial'], d['slots']['sec']['trial']")" = "False False" ] || fail "$(js d)"
ok "mark-good marks the other half of an 'upgrade all' only as it was at boot: a secondary rewritten since (same version) stays on trial"

# --- a trial that spends its budget rolls back to the previous good system
fresh
expect 0 '' fw upgrade pri 5.21.0.pkg
expect 0 '' fw boot
grep -q 'on trial: boot 2 of 2' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 'boot: 5.21.0 was not marked good within 2 boots: rolled back to sec 5.20.0' fw boot
grep -q 'booted sec 5.20.0' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['last_upgrade']['result'], d['slots']['pri']['valid'], d['slots']['pri']['note']")" = \
	"rolledBack False rolled back: 5.21.0 was not marked good within 2 boots" ] || fail "$(js d)"
fw status >table.txt
grep -q 'result  *rolledBack' table.txt && grep -q 'rolled back to sec 5.20.0' table.txt || fail "$(cat table.txt)"
expect 0 '' fw boot
grep -q 'booted sec 5.20.0' "$T/.out" || fail "the rollback did not stay: $(cat "$T/.out")"
ok "a trial not marked good within its budget: rolled back to the secondary (rolledBack), and stays so"

# upgrade all puts both system images on trial: with nothing good left, the trial image still boots.
fresh
expect 0 '' fw upgrade all 5.21.0.pkg
expect 0 '' fw boot
expect 0 'no good system to roll back to' fw boot
grep -q 'booted pri 5.21.0' "$T/.out" || fail "$(cat "$T/.out")"
ok "all, budget spent, nothing good to roll back to: the trial image still boots, and says so"

# status says what a spent trial leads to: with nothing good to roll back to, it keeps booting on trial.
fw status >table.txt
grep -Eq '^  on trial +boot 2 of 2 without mark-good; no good system to roll back to: it keeps booting on trial until mark-good$' table.txt ||
	fail "status, budget spent, nothing to roll back to: $(grep -A1 booted table.txt)"
grep -q 'rolled back after that' table.txt && fail "status promises a rollback that cannot happen: $(cat table.txt)"
[ "$(js "d['rollback_to']")" = None ] || fail "rollback_to: $(js "d['rollback_to']")"
fresh
expect 0 '' fw upgrade all 5.21.0.pkg
fw status | grep -Eq '^  on trial +boot 1 of 2 without mark-good; no good system to roll back to: it will keep booting on trial until mark-good$' ||
	fail "status, all on trial: $(fw status)"
fresh
expect 0 '' fw upgrade pri 5.21.0.pkg
fw status | grep -Eq '^  on trial +boot 1 of 2 without mark-good; the boot after the last rolls back to sec 5.20.0$' ||
	fail "status, pri on trial: $(fw status)"
expect 0 '' fw boot
fw status | grep -Eq '^  on trial +boot 2 of 2 without mark-good; the next boot rolls back to sec 5.20.0$' ||
	fail "status, pri on trial, budget spent: $(fw status)"
[ "$(js "d['rollback_to']")" = sec ] || fail "rollback_to: $(js "d['rollback_to']")"
ok "status says what a trial leads to: a rollback to the image named, or, with nothing good, booting on trial until mark-good"

# --- mark-bad and rollback (RAUC's status mark-bad): the next boot starts the next good image now.
# From a system on trial:
fresh
expect 0 '' fw upgrade pri 5.21.0.pkg
expect 0 'mark-bad: 5.21.0 marked bad \(pri\), its trial ended: rolledBack; the next boot starts sec 5.20.0' fw mark-bad
[ "$(js "d['slots']['pri']['valid'], d['last_upgrade']['result'], d['trial_boots'], d['rollback_to']")" = \
	"False rolledBack 0 sec" ] || fail "$(js d)"
fw status >table.txt
grep -Eq '^  next boot +sec 5.20.0 \(the running image is marked bad\)$' table.txt && grep -q 'rolled back to sec 5.20.0' table.txt ||
	fail "status after mark-bad: $(cat table.txt)"
expect 0 '' fw boot
grep -q 'booted sec 5.20.0' "$T/.out" || fail "the boot after mark-bad: $(cat "$T/.out")"
ok "mark-bad on trial (boot 1 of 2): pri not valid, rolledBack, the next boot starts sec at once"

# From a healthy system (marked good): the other good image next; the last upgrade's result stays.
fresh
expect 0 '' fw upgrade pri 5.21.0.pkg
expect 0 '' fw mark-good
last=$(js "d['last_upgrade']['result']")
expect 0 'rollback: 5.21.0 marked bad \(pri\); the next boot starts sec 5.20.0' fw rollback
grep -q 'rollback: rebooting' "$T/.err" && grep -q 'booted sec 5.20.0' "$T/.out" || fail "rollback: $(cat "$T/.err" "$T/.out")"
[ "$(js "d['last_upgrade']['result'], d['booted']")" = "$last sec" ] || fail "$(js d)"
ok "rollback from a healthy system: marked bad and rebooted into sec; the last upgrade's result kept ($last)"

# With no other good image: refused, nothing changed, the device stays bootable.
fresh
expect 0 '' fw upgrade all 5.21.0.pkg
for cmd in mark-bad rollback; do
	same_after 1 "$cmd: pri 5.21.0 runs and there is no other good system image to start instead \(sec: on trial; golden: none placed\): nothing marked" fw $cmd
done
fresh
expect 0 '' fw mark-bad
expect 0 '' fw boot
grep -q 'booted sec 5.20.0' "$T/.out" || fail "$(cat "$T/.out")"
same_after 1 'mark-bad: sec 5.20.0 runs and there is no other good system image .*pri: marked bad' fw mark-bad
# An image written after the boot has not run: not judged.
fresh
expect 0 '' fw upgrade no-reboot pri 5.22.0.pkg
same_after 1 "mark-bad: the pri now holds 5.22.0, written after the boot of 5.20.0: it has not run, so it cannot be marked bad" fw mark-bad
ok "mark-bad and rollback refused (exit 1, nothing changed) with no other good image (both halves on trial, the last good one), or an image that never ran"

# With the golden system: both halves of an 'upgrade all' go, the golden system is next; it cannot itself be marked bad.
fresh
expect 0 '' fw upgrade all 5.23.0.pkg
expect 0 '' fw mark-good
expect 0 '' fw golden install 5.22.0.pkg
expect 0 '' fw boot
expect 0 '' fw boot
expect 0 '' fw upgrade all 5.24.0.pkg
expect 0 'mark-bad: 5.24.0 marked bad \(pri, sec\), its trial ended: rolledBack; the next boot starts golden 5.22.0' fw mark-bad
expect 0 '' fw boot
grep -q 'booted golden 5.22.0' "$T/.out" || fail "$(cat "$T/.out")"
same_after 1 'mark-bad: the golden system 5.22.0 runs: it is the floor no rollback goes below and cannot be marked bad' fw mark-bad
ok "mark-bad with the golden system: both halves of the 'upgrade all' marked, the golden system boots next; the golden system itself is refused"

# --- the golden system
fresh
expect 0 '' fw upgrade all 5.23.0.pkg
expect 0 '' fw mark-good
expect 0 'golden: 5.22.0 placed: the next boot starts it' fw golden install 5.22.0.pkg
[ "$(stat -c %a "$D/slots/golden")" = 444 ] || fail "the golden slot is writable: $(stat -c %a "$D/slots/golden")"
[ "$(js "d['golden_next'], d['slots']['golden']['version'], d['slots']['golden']['trial']")" = "True 5.22.0 False" ] ||
	fail "$(js d)"
expect 0 'boot: primary: not started: a golden system was just placed; booting the golden system' fw boot
grep -q 'booted golden 5.22.0' "$T/.out" || fail "a new golden system over a newer running one did not boot: $(cat "$T/.out")"
expect 0 '' fw boot
grep -q 'booted pri 5.23.0' "$T/.out" || fail "after the golden boot: $(cat "$T/.out")"
ok "a golden system placed over a newer running system boots next, taken as good; then the newer primary again"

# A rollback never goes below the golden system: the secondary is older than it, so the rollback goes to golden.
expect 0 '' fw upgrade sec 5.24.0.pkg >/dev/null
"$PY" - "$D/records/sec.json" <<'PYEOF'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["trial"] = False; json.dump(d, open(p, "w"))
PYEOF
expect 1 'older than the golden system 5.22.0' fw upgrade pri 5.21.0.pkg
expect 0 '' fw upgrade force pri 5.24.0.pkg
fw -q status --json >/dev/null
cp "$D/records/sec.json" sec.json
# The secondary is made older than the golden system by hand (a device from before the golden one).
"$PY" - "$D/records/sec.json" <<'PYEOF'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["version"] = "5.21.0"; json.dump(d, open(p, "w"))
PYEOF
expect 0 '' fw boot
expect 0 'rolled back to golden 5.22.0' fw boot
grep -q 'booted golden 5.22.0' "$T/.out" || fail "$(cat "$T/.out")"
ok "a rollback refused below the golden system: the secondary is older, the rollback goes to golden"

"$B/mkpkg" -q -o nopri.pkg --version 5.25.0 --product WX --sec sec.img -k k.key
# Every file but the state (where the refusal is recorded) must stay as it was.
slotsum() { (cd "$D" && find . -type f ! -name state.json -print0 | sort -z | xargs -0 sha256sum &&
	find . ! -name state.json -printf '%m %s %p\n' | sort); }
slotsum >before.sum
expect 1 'has no primary image' fw golden install nopri.pkg
expect 2 'expected: golden install SOURCE' fw golden place 5.22.0.pkg
slotsum >after.sum
cmp -s before.sum after.sum || fail "a refused golden install changed the device: $(diff before.sum after.sum)"
[ "$(js "d['last_upgrade']['result']")" != success ] || fail "refusal not recorded: $(js d)"
[ "$(js "d['slots']['golden']['version']")" = 5.22.0 ] || fail "golden changed: $(js d)"
ok "golden install refuses a package without a primary image; golden takes only 'install'"

# The rollback index: a golden system below the device's index would be a floor the device may no longer run.
fresh
mk 5.25.0 --rollback-index 3
mk 5.26.0 --rollback-index 2
expect 0 '' fw upgrade all 5.25.0.pkg
expect 0 '' fw mark-good
expect 0 '' fw boot
[ "$(js "d['rollback_index'], d['booted_version']")" = "3 5.25.0" ] || fail "$(js d)"
slotsum >before.sum
expect 1 "the package's rollback index 2 is below the device's 3" fw golden install 5.26.0.pkg
slotsum >after.sum
cmp -s before.sum after.sum || fail "a golden install below the rollback index changed the device: $(diff before.sum after.sum)"
[ "$(js "d['slots']['golden']['valid'], d['last_upgrade']['result']")" = "False policyRefused" ] || fail "$(js d)"
[ ! -s "$D/slots/golden" ] || fail "the golden slot was written: $(wc -c <"$D/slots/golden")"
expect 0 'golden: 5.25.0 placed' fw golden install 5.25.0.pkg
ok "golden install refuses a package below the device's rollback index (exit 1, recorded, golden slot unchanged); at the index it is placed"

# --- power cuts in mark-good, in a trial boot, in a rollback, in golden install
cat >check.py <<'PYEOF'
import hashlib, json, os, sys
root, status = sys.argv[1], json.load(open(sys.argv[2]))
def digest(data, cs):
    return hashlib.sha256(b"".join(hashlib.sha256(data[i:i + cs]).digest()
                                   for i in range(0, len(data), cs))).hexdigest()
for s in ("pri", "sec", "boot", "golden"):
    r = status["slots"][s]
    if not r["valid"]:
        continue
    data = open(r["path"], "rb").read()
    if len(data) != r["size"] or digest(data, r["chunk_size"]) != r["digest"]:
        sys.exit("inconsistent: %s: valid record, other bytes" % s)
b = status["booted"]
if b == "none" or not status["slots"][b]["valid"] or status["slots"][b]["version"] != status["booted_version"]:
    sys.exit("inconsistent: booted %s %s" % (b, status["booted_version"]))
if status["trial_boots"] > status["trial_budget"]:
    sys.exit("inconsistent: %d trial boots of %d" % (status["trial_boots"], status["trial_budget"]))
PYEOF
# crashloop NAME SETUP... -- CMD...: from the device SETUP leaves, a crash before each durable step of CMD.
crashloop() {
	name=$1
	shift
	rm -rf "$T/start"
	fresh
	while [ "$1" != -- ]; do fw -q $1 >/dev/null 2>&1 || true; shift; done
	shift
	cp -a "$D" "$T/start"
	n=1
	while :; do
		rm -rf "$D"
		cp -a "$T/start" "$D"
		set +e
		FWCTL_CRASH_AT=$n "$B/fwctl" --root "$D" "$@" >"$T/.out" 2>"$T/.err"
		rc=$?
		set -e
		[ "$rc" -eq 99 ] || break
		expect 0 '' fw boot
		fw status --json >status.json
		"$PY" check.py "$D" status.json || fail "$name: crash before step $n: $(cat "$T/.err")"
		n=$((n + 1))
	done
	[ "$rc" -eq 0 ] || { cat "$T/.err" >&2; fail "$name: exit $rc"; }
	[ "$n" -gt 1 ] || fail "$name: no durable step"
	ok "$name: a crash before each of $((n - 1)) durable steps: boots, consistent"
}
crashloop "mark-good" "upgrade pri 5.21.0.pkg" -- mark-good
crashloop "mark-bad" "upgrade pri 5.21.0.pkg" -- mark-bad
crashloop "rollback" "upgrade all 5.23.0.pkg" "mark-good" "upgrade pri 5.21.0.pkg" -- rollback
crashloop "a trial boot" "upgrade no-reboot pri 5.21.0.pkg" -- boot
crashloop "a rollback" "upgrade pri 5.21.0.pkg" "boot" -- boot
crashloop "golden install" "upgrade all 5.23.0.pkg" -- golden install 5.22.0.pkg
crashloop "the golden boot" "golden install 5.22.0.pkg" -- boot
