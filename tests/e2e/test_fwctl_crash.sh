#!/bin/sh
# test_fwctl_crash: a power cut before every durable step of `upgrade all` leaves a device that boots, with true records.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
PY=${PY:-python3}

fw() { "$B/fwctl" --root "$T/dev" "$@"; }

keypair k
for s in pri sec boot; do
	{ echo "$s image 5.21.2"; head -c 6000 /dev/urandom; } >"$s-old.img"
	{ echo "$s image 5.22.2"; head -c 9000 /dev/urandom; } >"$s-new.img"
done
"$B/mkpkg" -q -o old.pkg --version 5.21.2 --product WX --chunk-size 4096 \
	--pri pri-old.img --sec sec-old.img --boot boot-old.img -k k.key
# A generation transition: the riskiest upgrade there is. Three chunks per image, so three slot writes each.
"$B/mkpkg" -q -o new.pkg --version 5.22.2 --generation 2 --bridge-from 5.21.2 --bridge-down 5.22.2 \
	--product WX --chunk-size 4096 --pri pri-new.img --sec sec-new.img --boot boot-new.img -k k.key

"$B/fwctl" --root "$T/base" -q init --product WX --trust k.pub --version 5.20.0 >/dev/null
"$B/fwctl" --root "$T/base" -q upgrade all old.pkg >/dev/null
ok "base device: every slot at 5.21.2, generation 1"

# check.py ROOT STATUS.json: the device is consistent; every valid record tells the truth about its slot.
cat >check.py <<'PYEOF'
import hashlib, json, os, sys
root, status = sys.argv[1], json.load(open(sys.argv[2]))
allowed = {"5.21.2": 1, "5.22.2": 2}
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
    if allowed.get(r["version"]) != r["generation"]:
        bad("%s: version %s generation %s" % (s, r["version"], r["generation"]))
    data = open(os.path.join(root, "slots", s), "rb").read()
    if len(data) != r["size"] or digest(data, r["chunk_size"]) != r["digest"] \
            or hashlib.sha256(data).hexdigest() != r["sha256"]:
        bad(s + ": valid record, but the slot holds other bytes")
    old = open(s + "-" + ("old" if r["version"] == "5.21.2" else "new") + ".img", "rb").read()
    if data != old:
        bad(s + ": not the " + r["version"] + " image")
want = "pri" if status["slots"]["pri"]["valid"] else "sec"
if status["booted"] != want or status["booted_version"] != status["slots"][want].get("version"):
    bad("booted %s %s, expected %s" % (status["booted"], status["booted_version"], want))
last = status["last_upgrade"]
if last is None or last["result"] not in ("success", "writeFlashFailed"):
    bad("last upgrade: %r" % (last,))
for d in (root, os.path.join(root, "records")):
    if any(n.endswith(".tmp") for n in os.listdir(d)):
        bad("temporary files left in " + d)
PYEOF

n=1
while :; do
	rm -rf "$T/dev"
	cp -a "$T/base" "$T/dev"
	set +e
	FWCTL_CRASH_AT=$n "$B/fwctl" --root "$T/dev" upgrade all new.pkg >"$T/.out" 2>"$T/.err"
	rc=$?
	set -e
	[ "$rc" -eq 0 ] && break
	[ "$rc" -eq 99 ] || { cat "$T/.err" >&2; fail "crash at step $n: exit $rc, expected 99"; }
	step=$(sed -n "s|.*stopping before ||; s|$T/||p" "$T/.err")
	expect 0 '' fw boot
	fw status --json >status.json
	"$PY" check.py "$T/dev" status.json || fail "after a crash before step $n ($step)"
	# ... and the upgrade can be finished: force skips the "already installed" check only.
	expect 0 '' fw upgrade force all new.pkg
	fw status --json >status.json
	"$PY" -c "
import json, sys
d = json.load(open('status.json'))
v = [d['slots'][s].get('version') for s in ('pri', 'sec', 'boot')]
sys.exit(0 if v == ['5.22.2'] * 3 and d['booted'] == 'pri' and d['last_upgrade']['result'] == 'success' else repr(v))
" || fail "finishing the upgrade after a crash before step $n"
	echo "  step $n ($step): boots, records true, upgrade completes"
	n=$((n + 1))
done
steps=$((n - 1))
# state "inProgress" (write, fsync, rename, fsync dir: 4), then per slot: record invalid (4), open (1),
# 3 chunk writes, fsync (1), record valid (4); then state "success" (4) and the reboot's state (4).
[ "$steps" -eq $((4 + 3 * (4 + 1 + 3 + 1 + 4) + 4 + 4)) ] || fail "$steps durable steps, expected 51"
"$PY" check.py "$T/dev" /dev/stdin <<EOF2 || fail "after the uninterrupted run"
$(fw status --json)
EOF2
ok "crash before each of the $steps durable steps of upgrade all: always boots, records always true"
