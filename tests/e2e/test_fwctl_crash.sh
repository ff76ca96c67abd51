#!/bin/sh
# test_fwctl_crash: a power cut before every durable step, from several device states and for every target,
# leaves a device that boots an image that was valid before or the whole new one, with records that tell the truth.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

keypair k
# Images named SLOT-VERSION.img, so the oracle knows which bytes each record may stand for.
for v in 5.21.2 5.21.3 5.22.2; do
	for s in pri sec boot; do
		{ echo "$s image $v"; head -c 9000 /dev/urandom; } >"$s-$v.img"
	done
done
mk() { # mk VERSION OUT [options]: three chunks per image, so three slot writes each
	v=$1 out=$2
	shift 2
	"$B/mkpkg" -q -o "$out" --version "$v" --product WX --chunk-size 4096 \
		--pri "pri-$v.img" --sec "sec-$v.img" --boot "boot-$v.img" -k k.key "$@"
}
mk 5.21.2 old.pkg
mk 5.21.3 mid.pkg
# A generation transition: the riskiest upgrade there is.
mk 5.22.2 new.pkg --generation 2 --bridge-from 5.21.2 --bridge-down 5.22.2
at=$("$PY" "$E2E/craft.py" offset mid.pkg WX-pri.img middle)
"$PY" "$E2E/craft.py" flip mid.pkg midbadpri.pkg "$at"
at=$("$PY" "$E2E/craft.py" offset mid.pkg WX-sec.img middle)
"$PY" "$E2E/craft.py" flip mid.pkg midbadsec.pkg "$at"

# The starting states, each a device root under $T/start/NAME.
init() { rm -rf "$1"; "$B/fwctl" --root "$1" -q init --product WX --trust k.pub --version 5.20.0 >/dev/null; }
mkdir -p "$T/start"
init "$T/start/healthy"
"$B/fwctl" --root "$T/start/healthy" -q upgrade all old.pkg >/dev/null
# A failed upgrade all: the primary is not valid, the secondary runs mid.
cp -a "$T/start/healthy" "$T/start/prifailed"
"$B/fwctl" --root "$T/start/prifailed" -q upgrade all midbadpri.pkg >/dev/null 2>&1 && fail "midbadpri.pkg installed"
"$B/fwctl" --root "$T/start/prifailed" -q boot >/dev/null
# A failed upgrade sec: the secondary is not valid.
cp -a "$T/start/healthy" "$T/start/secfailed"
"$B/fwctl" --root "$T/start/secfailed" -q upgrade sec midbadsec.pkg >/dev/null 2>&1 && fail "midbadsec.pkg installed"
# An upgrade cut by a power failure in the middle of the primary, not booted since.
cp -a "$T/start/healthy" "$T/start/interrupted"
set +e
FWCTL_CRASH_AT=30 "$B/fwctl" --root "$T/start/interrupted" upgrade all mid.pkg >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 99 ] || fail "the interrupted start state did not crash ($rc)"
ok "start states: healthy, primary failed, secondary failed, interrupted"

# check.py ROOT STATUS.json BEFORE.json: consistent, every valid record true, booted an image valid before or new.
cat >check.py <<'PYEOF'
import hashlib, json, os, sys
root, status, before = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
gen = {"5.20.0": 1, "5.21.2": 1, "5.21.3": 1, "5.21.4": 1, "5.22.2": 2}
def digest(data, cs):
    return hashlib.sha256(b"".join(hashlib.sha256(data[i:i + cs]).digest()
                                   for i in range(0, len(data), cs))).hexdigest()
def bad(why):
    sys.exit("inconsistent: " + why)
for s in ("pri", "sec", "boot"):
    r = status["slots"][s]
    rec = json.load(open(os.path.join(root, "records", s + ".json")))
    if rec["valid"] != r["valid"]:
        bad(s + ": status and record disagree")
    if not r["valid"]:
        continue
    if gen.get(r["version"]) != r["generation"]:
        bad("%s: version %s generation %s" % (s, r["version"], r["generation"]))
    data = open(r["path"], "rb").read()
    if len(data) != r["size"] or digest(data, r["chunk_size"]) != r["digest"]:
        bad(s + ": valid record, but the slot holds other bytes")
    img = "%s-%s.img" % (s, r["version"])
    if os.path.exists(img) and data != open(img, "rb").read():
        bad(s + ": not the " + r["version"] + " image")
want = "pri" if status["slots"]["pri"]["valid"] else "sec"
if status["booted"] != want or status["booted_version"] != status["slots"][want].get("version"):
    bad("booted %s %s, expected %s" % (status["booted"], status["booted_version"], want))
# What boots was valid before in that slot, or is the whole new image.
was = before["slots"][want].get("version") if before["slots"][want]["valid"] else None
if status["booted_version"] not in (was, os.environ["NEWV"]):
    bad("booted %s %s: neither what it held before (%s) nor the new %s"
        % (want, status["booted_version"], was, os.environ["NEWV"]))
if status["last_upgrade"] is not None and status["last_upgrade"]["result"] == "inProgress":
    bad("the last upgrade is still inProgress after a boot")
for d in (root, os.path.join(root, "records")):
    if any(n.startswith(".") and n.endswith(".tmp") for n in os.listdir(d)):
        bad("temporary files left in " + d)
PYEOF

# crashloop START TARGET PKG NEWV [finish]: a crash before each durable step of upgrade TARGET PKG.
crashloop() {
	start=$1 target=$2 pkg=$3
	export NEWV=$4
	"$B/fwctl" --root "$T/start/$start" status --json >before.json
	n=1
	while :; do
		rm -rf "$T/dev"
		cp -a "$T/start/$start" "$T/dev"
		set +e
		FWCTL_CRASH_AT=$n "$B/fwctl" --root "$T/dev" upgrade "$target" "$pkg" >"$T/.out" 2>"$T/.err"
		rc=$?
		set -e
		[ "$rc" -eq 99 ] || break
		step=$(sed -n "s|.*stopping before ||; s|$T/||p" "$T/.err")
		expect 0 '' "$B/fwctl" --root "$T/dev" boot
		"$B/fwctl" --root "$T/dev" status --json >status.json
		"$PY" check.py "$T/dev" status.json before.json || fail "$start, upgrade $target $pkg: crash before step $n ($step)"
		if [ "${5:-}" = finish ]; then
			# ... and the upgrade can be finished: force skips the "already installed" check only.
			expect 0 '' "$B/fwctl" --root "$T/dev" upgrade force all "$pkg"
			"$B/fwctl" --root "$T/dev" status --json >status.json
			"$PY" -c "
import json, sys
d = json.load(open('status.json'))
v = [d['slots'][s].get('version') for s in ('pri', 'sec', 'boot')]
sys.exit(0 if v == ['$NEWV'] * 3 and d['booted'] == 'pri' and d['last_upgrade']['result'] == 'success' else repr(v))
" || fail "$start: finishing the upgrade after a crash before step $n"
		fi
		n=$((n + 1))
	done
	case $rc in 0 | 1) ;; *) cat "$T/.err" >&2; fail "$start, upgrade $target $pkg: exit $rc" ;; esac
	# Without a crash: the same oracle after its reboot.
	"$B/fwctl" --root "$T/dev" -q boot >/dev/null || fail "$start, upgrade $target $pkg: no boot after the run"
	"$B/fwctl" --root "$T/dev" status --json >status.json
	"$PY" check.py "$T/dev" status.json before.json || fail "$start, upgrade $target $pkg: after the whole run"
	steps=$((n - 1))
	ok "$start: upgrade $target $pkg: crash before each of $steps durable steps: boots, records true (then exit $rc)"
}

crashloop healthy all new.pkg 5.22.2 finish
# state "inProgress" (write, fsync, rename, fsync dir: 4), then per slot: record invalid (4), open (1),
# 3 chunk writes, fsync (1), record valid (4); then state "success" (4) and the reboot's state (4).
[ "$steps" -eq $((4 + 3 * (4 + 1 + 3 + 1 + 4) + 4 + 4)) ] || fail "$steps durable steps, expected 51"
for start in healthy prifailed secfailed interrupted; do
	for target in all pri sec boot; do
		[ "$start:$target" = healthy:all ] && continue
		crashloop "$start" "$target" mid.pkg 5.21.3
	done
done
crashloop prifailed all mid.pkg 5.21.3 finish
# The same images compressed (formats/pkg.md, section 9): the same oracle before each durable step.
mk 5.21.3 midz.pkg --compress zstd
crashloop healthy all midz.pkg 5.21.3 finish
crashloop interrupted all midz.pkg 5.21.3 finish

# A delta package of the same images (formats/pkg.md, section 10): each system image rebuilt from the
# other slot's old image, or copied from the slot that holds the new one; a crash before each durable
# step, from every start state, and the upgrade finished after it.
# 5.21.4 has one system image for both slots, as most installations: the secondary is rebuilt from the
# old primary, the primary copied from the new secondary.
{ echo "system image 5.21.4"; head -c 9000 /dev/urandom; } >pri-5.21.4.img
cp pri-5.21.4.img sec-5.21.4.img
{ echo "boot image 5.21.4"; head -c 9000 /dev/urandom; } >boot-5.21.4.img
mk 5.21.4 delta.pkg --delta-from old.pkg
crashloop healthy all delta.pkg 5.21.4 finish
crashloop secfailed all delta.pkg 5.21.4 finish
# Where the primary is not valid and the secondary holds 5.21.3, no slot holds the base (5.21.2): refused
# (fileNotMatch) before anything is written, and the device still boots what it did.
crashloop prifailed all delta.pkg 5.21.4
crashloop interrupted all delta.pkg 5.21.4
for target in pri sec; do
	crashloop healthy "$target" delta.pkg 5.21.4
done
