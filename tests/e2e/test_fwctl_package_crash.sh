#!/bin/sh
# test_fwctl_package_crash: a power cut before every durable step of package install, remove, factory-reset and
# boot activation loses no installed package, half-stores none, leaves the old or the new active tree, never a
# mix, and never touches a firmware slot; judged by an oracle that knows only the packages' source trees.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

keypair k
# Each package NAME is built from tree-NAME-VERSION; the oracle knows what each should put in the active tree.
mk() { # mk NAME VERSION [mkwmopkg options]: out/NAME-VERSION/NAME.wmopkg
	mkdir -p "out/$1-$2" "tree-$1-$2/files/$1" "tree-$1-$2/scripts"
	echo "$1 $2" >"tree-$1-$2/files/$1/version"
	head -c 9000 /dev/urandom >"tree-$1-$2/files/$1/data"   # three chunks
	printf '#!/bin/sh\necho "$FWCTL_PACKAGE" >>"$FWCTL_ROOT/hook.log"\n' >"tree-$1-$2/scripts/on.sh"
	chmod 755 "tree-$1-$2/scripts/on.sh"
	n=$1 v=$2
	shift 2
	"$B/mkwmopkg" -q -o "out/$n-$v/$n.wmopkg" -C "tree-$n-$v" --version "$v" --product WX --chunk-size 4096 \
		--hook activate=scripts/on.sh -k k.key "$@"
}
mk keep 1.0 --persistent-allowed
mk two 1.0
mk two 2.0
mk three 1.0

# The starting state: keep (persistent) and two 1.0 installed and active.
start=$T/start
"$B/fwctl" --root "$start" -q init --product WX --trust k.pub --version 5.22.2 >/dev/null
"$B/fwctl" --root "$start" -q package install persistent out/keep-1.0/keep.wmopkg
"$B/fwctl" --root "$start" -q package install out/two-1.0/two.wmopkg
"$B/fwctl" --root "$start" -q boot >/dev/null
# ... and the same with three installed, not booted yet: the boot's crash loop starts here.
pending=$T/pending
cp -a "$start" "$pending"
"$B/fwctl" --root "$pending" -q package install out/three-1.0/three.wmopkg
fw=$(cat "$start"/slots/* "$start"/records/* | sha256sum | cut -d' ' -f1)

cat >oracle.py <<'PYEOF'
# oracle.py ROOT PHASE SETS: PHASE "crashed" (before the reboot) or "booted"; SETS "keep:1.0,two:1.0|keep:1.0" are the
# package sets (name:version) the index may hold; OLDTREE the set the active tree may show before the reboot.
import hashlib, json, os, sys
root, phase, sets, oldtree = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def bad(why):
    sys.exit("inconsistent (%s): %s" % (phase, why))
def parse(s):
    return frozenset(x for x in s.split(",") if x)
allowed = [parse(s) for s in sets.split("|")]
def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
# What each package, as built, contains: its .wmopkg file and the tree it activates.
known = {}
for d in os.listdir("out"):
    name, ver = d.split("-", 1)
    known[sha(os.path.join("out", d, name + ".wmopkg"))] = (name, ver)
def tree_of(pkgs):
    t = {}
    for p in pkgs:
        name, ver = p.split(":")
        src = "tree-%s-%s" % (name, ver)
        for dp, _, fs in os.walk(src):
            for f in fs:
                rel = os.path.relpath(os.path.join(dp, f), src)
                if rel.startswith("scripts/"):
                    rel = "scripts/%s/%s" % (name, rel[len("scripts/"):])
                t[rel] = sha(os.path.join(dp, f))
    return t
def active_tree():
    link = os.path.join(root, "active")
    if not os.path.lexists(link):
        return {}
    t, base = {}, os.path.realpath(link)
    for dp, _, fs in os.walk(base):
        for f in fs:
            t[os.path.relpath(os.path.join(dp, f), base)] = sha(os.path.join(dp, f))
    return t
# 1. The index: every package it names is stored whole, as built; the set is one of the allowed ones.
idx_path = os.path.join(root, "packages", "index.json")
index = json.load(open(idx_path))["packages"] if os.path.exists(idx_path) else {}
have = set()
for name, e in index.items():
    f = os.path.join(root, "packages", e["file"])
    if not os.path.exists(f):
        bad("index names %s, file %s missing" % (name, e["file"]))
    k = known.get(sha(f))
    if k is None or k[0] != name or k[1] != e["version"]:
        bad("%s: stored bytes are not the %s %s package as built" % (e["file"], name, e["version"]))
    have.add("%s:%s" % (name, e["version"]))
if frozenset(have) not in allowed:
    bad("installed %s, expected one of %s" % (sorted(have), [sorted(a) for a in allowed]))
# 2. The firmware slots are as they were.
fw = hashlib.sha256(b"".join(open(os.path.join(root, d, f), "rb").read()
                             for d in ("slots", "records") for f in sorted(os.listdir(os.path.join(root, d))))).hexdigest()
if fw != os.environ["FW"]:
    bad("a firmware slot or record changed")
# 3. The active tree: before the reboot the old one or the one for an allowed set (never a mix); after it, exactly the
#    one for what is installed, and nothing left over.
tree = active_tree()
if phase == "crashed":
    if tree != tree_of(parse(oldtree)) and tree not in [tree_of(a) for a in allowed]:
        bad("the active tree is neither the old one nor a new one: %s" % sorted(tree))
else:
    if tree != tree_of(have):
        bad("active tree %s, expected the tree of %s" % (sorted(tree), sorted(have)))
    names = set(os.listdir(os.path.join(root, "packages")))
    extra = names - {e["file"] for e in index.values()} - {"index.json", "verified.json", "last.json"}
    if extra:
        bad("leftovers in packages/: %s" % sorted(extra))
    trees = set(os.listdir(os.path.join(root, "trees"))) if os.path.isdir(os.path.join(root, "trees")) else set()
    cur = os.readlink(os.path.join(root, "active")).split("/")[-1] if os.path.lexists(os.path.join(root, "active")) else None
    if cur is not None and trees != {cur, cur + ".json"}:
        bad("leftover trees: %s (active %s)" % (sorted(trees), cur))
    for dp, ds, fs in os.walk(root):
        for f in fs + ds:
            if f.endswith(".tmp") or f == ".active.new":
                bad("temporary left: " + os.path.join(dp, f))
PYEOF
export FW="$fw"

# crashloop START OLDTREE SETS CMD...: a crash before each durable step of fwctl CMD, judged before and after a reboot.
crashloop() {
	from=$1 oldtree=$2 sets=$3
	shift 3
	n=1
	while :; do
		rm -rf "$T/dev"
		cp -a "$from" "$T/dev"
		set +e
		FWCTL_CRASH_AT=$n "$B/fwctl" --root "$T/dev" "$@" >"$T/.out" 2>"$T/.err"
		rc=$?
		set -e
		[ "$rc" -eq 99 ] || break
		"$PY" oracle.py "$T/dev" crashed "$sets" "$oldtree" || fail "$*: crash before step $n: $(cat "$T/.err")"
		expect 0 '' "$B/fwctl" --root "$T/dev" boot
		"$PY" oracle.py "$T/dev" booted "$sets" "$oldtree" || fail "$*: crash before step $n, then boot"
		# A second boot changes nothing.
		before=$(treesum "$T/dev")
		expect 0 '' "$B/fwctl" --root "$T/dev" boot
		[ "$(treesum "$T/dev")" = "$before" ] || fail "$*: crash before step $n: the second boot changed the device"
		n=$((n + 1))
	done
	[ "$rc" -eq 0 ] || { cat "$T/.err" >&2; fail "$*: exit $rc without a crash"; }
	"$B/fwctl" --root "$T/dev" -q boot >/dev/null
	"$PY" oracle.py "$T/dev" booted "$sets" "$oldtree" || fail "$*: after the whole run"
	[ "$n" -gt 2 ] || fail "$*: only $((n - 1)) durable steps: is the crash seam reached?"
	ok "$*: crash before each of $((n - 1)) durable steps: no package lost or half-stored, old or new tree, slots untouched"
}

old=keep:1.0,two:1.0
crashloop "$start" $old "$old|$old,three:1.0" package install out/three-1.0/three.wmopkg
crashloop "$start" $old "$old|keep:1.0,two:2.0" package install out/two-2.0/two.wmopkg
crashloop "$start" $old "$old|keep:1.0" package remove two
crashloop "$start" $old "$old|" package remove -y all
crashloop "$start" $old "$old|keep:1.0" factory-reset -y
crashloop "$pending" $old "$old,three:1.0" boot
