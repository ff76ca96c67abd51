#!/bin/sh
# test_fwctl_removal: a signed removal package (mkwmopkg --remove) removes the packages it names at the next boot.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

D=$T/dev
keypair k
keypair other
for n in alpha beta; do
	mkdir -p "tree-$n/files"
	echo "$n" >"tree-$n/files/$n.txt"
	"$B/mkwmopkg" -q -o "$n.wmopkg" -C "tree-$n" --version 1.0 --product WX -k k.key
done
"$B/mkwmopkg" -q -o rm-alpha.wmopkg --remove alpha --remove zeta --version 1.0 --product WX -k k.key
mkdir untrusted
"$B/mkwmopkg" -q -o untrusted/rm-alpha.wmopkg --remove alpha --version 1.0 --product WX -k other.key
names() { fw package list --json | "$PY" -c "import json,sys; print(' '.join(p['name'] for p in json.load(sys.stdin)['packages']))"; }

expect 0 '' "$B/fwpkg" inspect rm-alpha.wmopkg
grep -q '^Removes: *alpha, zeta$' "$T/.out" || fail "inspect: $(cat "$T/.out")"
tar xOf rm-alpha.wmopkg manifest.json | "$PY" -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if d['removes'] == ['alpha', 'zeta'] and d['files'] == [] else d)" ||
	fail "the manifest does not list what it removes"
expect 2 '-C and --remove' "$B/mkwmopkg" -o x.wmopkg -C tree-alpha --remove beta --version 1.0 --product WX -k k.key
expect 2 'rm-self cannot remove itself' "$B/mkwmopkg" -o rm-self.wmopkg --remove rm-self --version 1.0 --product WX -k k.key
ok "mkwmopkg --remove: a signed package that lists what it removes and holds no files"

fresh() {
	rm -rf "$D"
	fw -q init --product WX --trust k.pub --version 5.20.0 >/dev/null
	fw -q package install alpha.wmopkg
	fw -q package install beta.wmopkg
	fw -q boot >/dev/null
}
fresh
[ -f "$D/active/files/alpha.txt" ] && [ -f "$D/active/files/beta.txt" ] || fail "alpha and beta not active"
# Not trusted: stored, but it removes nothing.
fw -q package install untrusted/rm-alpha.wmopkg 2>/dev/null
expect 0 'package rm-alpha: untrusted key' fw boot
[ "$(names)" = "alpha beta rm-alpha" ] || fail "an untrusted removal package acted: $(names)"
fw -q package remove rm-alpha
fw -q boot >/dev/null
expect 0 '' fw package install rm-alpha.wmopkg
[ "$(names)" = "alpha beta rm-alpha" ] || fail "the removal acted before the boot: $(names)"
expect 0 'boot: removal package rm-alpha: removed alpha' fw boot
[ "$(names)" = "beta" ] || fail "after the boot: $(names)"
[ ! -e "$D/active/files/alpha.txt" ] && [ -f "$D/active/files/beta.txt" ] || fail "the active tree: $(ls -R "$D/active")"
ls "$D/packages" | grep -q '^alpha-' && fail "alpha's file stayed: $(ls "$D/packages")"
expect 0 '' fw boot
[ "$(names)" = "beta" ] || fail "a second boot: $(names)"
ok "a removal package removes alpha at the next boot (zeta, not installed, is ignored), then itself; an untrusted one acts not"

# A power cut before each durable step of the boot that removes: the next boot finishes the job.
fresh
fw -q package install rm-alpha.wmopkg
cp -a "$D" "$T/start"
n=1
while :; do
	rm -rf "$D"
	cp -a "$T/start" "$D"
	set +e
	FWCTL_CRASH_AT=$n "$B/fwctl" --root "$D" boot >/dev/null 2>"$T/.err"
	rc=$?
	set -e
	[ "$rc" -eq 99 ] || break
	expect 0 '' fw boot
	[ "$(names)" = "beta" ] || fail "crash before step $n: $(names)"
	[ ! -e "$D/active/files/alpha.txt" ] && [ -f "$D/active/files/beta.txt" ] || fail "crash before step $n: tree"
	n=$((n + 1))
done
[ "$rc" -eq 0 ] || fail "boot exited $rc"
ok "a crash before each of $((n - 1)) durable steps of the removing boot: the next boot ends with alpha gone, beta active"

# --- the trust policy (min_signatures 2) holds for every kind a device accepts: a modification package,
# a removal package and firmware signed by one key are refused, with nothing on the device changed; by two, accepted
printf '{"min_signatures": 2}\n' >policy2.json
mkdir -p two
"$B/mkwmopkg" -q -o two/alpha.wmopkg -C tree-alpha --version 1.0 --product WX -k k.key -k other.key
"$B/mkwmopkg" -q -o two/rm-alpha.wmopkg --remove alpha --version 1.0 --product WX -k k.key -k other.key
randfile fw.img 70000
"$B/mkpkg" -q -o one.pkg --version 5.21.0 --product WX --pri fw.img --sec fw.img --boot fw.img -k k.key
"$B/mkpkg" -q -o two.pkg --version 5.21.0 --product WX --pri fw.img --sec fw.img --boot fw.img -k k.key -k other.key
rm -rf "$D"
fw -q init --product WX --trust k.pub --trust other.pub --trust policy2.json --version 5.20.0 >/dev/null
# Everything but the records of the last refusal (packages/last.json, state.json's last_upgrade), which must say it.
devsum() {
	{ (cd "$D" && find . -type f ! -name .lock ! -path ./packages/last.json ! -path ./state.json -print0 | sort -z |
		xargs -0 sha256sum)
	  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); d.pop('last_upgrade', None); print(json.dumps(d, sort_keys=True))" \
		"$D/state.json"; } | sha256sum
}
last() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['result'])" "$D/$1"; }
before=$(devsum)
expect 1 'alpha.wmopkg: .*too few signatures by trusted keys: have 1, need 2' fw package install alpha.wmopkg
[ "$(last packages/last.json)" = signatureFailed ] || fail "recorded: $(cat "$D/packages/last.json")"
expect 1 'rm-alpha.wmopkg: .*too few signatures by trusted keys: have 1, need 2' fw package install rm-alpha.wmopkg
expect 1 'too few signatures by trusted keys: have 1, need 2' fw upgrade all one.pkg
"$PY" -c "import json,sys; assert json.load(open(sys.argv[1]))['last_upgrade']['result'] == 'signatureFailed'" "$D/state.json" ||
	fail "upgrade recorded: $(cat "$D/state.json")"
[ "$(devsum)" = "$before" ] || fail "a package signed by one key of two changed the device"
[ "$(names)" = "" ] || fail "stored: $(names)"
expect 0 'installed alpha 1.0 \(trusted\)' fw package install two/alpha.wmopkg
expect 0 '' fw boot
[ -f "$D/active/files/alpha.txt" ] || fail "alpha signed by two keys is not active"
expect 0 '' fw package install two/rm-alpha.wmopkg
expect 0 'boot: removal package rm-alpha: removed alpha' fw boot
[ "$(names)" = "" ] || fail "after the two-key removal: $(names)"
expect 0 '' fw upgrade all two.pkg
ok "policy min_signatures 2: a .wmopkg, a removal package and firmware by one key refused, device unchanged; by two keys accepted"
