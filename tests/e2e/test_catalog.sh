#!/bin/sh
# test_catalog: fwpkg catalog writes a signed catalog that stock minisign verifies and that says what each package is.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

keypair k
keypair other
# This test's catalogs are made at SOURCE_DATE_EPOCH (lib.sh, 2023-11-14) as if the clock said so
# (fwpkg's FWPKG_NOW, as fwctl's FWCTL_NOW); "dead on arrival" below runs on the real clock.
export FWPKG_NOW="$SOURCE_DATE_EPOCH"
randfile i.img 5000
"$B/mkpkg" -q -o old.pkg --version 5.21.2 --product WX --product WY --image WX:pri=i.img --image WY:pri=i.img -k k.key
"$B/mkpkg" -q -o "new fw.pkg" --version 5.22.2 --product WX --generation 2 --bridge-from 5.21.2 \
	--bridge-down 5.22.2 --rollback-index 3 --pri i.img --sec i.img -k k.key
cat() { "$B/fwpkg" catalog "$@"; }

expect 0 'wrote c.json \(serial 7, 3 releases\) and c.json.minisig' \
	cat -o c.json --base-url http://a.example/fw --base-url https://b.example/ --expires 30d --serial 7 \
	--rollout 25 -k k.key old.pkg "new fw.pkg"
minisign -Vm c.json -p k.pub >/dev/null || fail "stock minisign does not verify the catalog"
minisign -Vm c.json -p other.pub >/dev/null 2>&1 && fail "stock minisign verifies it with another key"
old_sha=$(tar xOf old.pkg manifest.json | sha256sum | cut -d' ' -f1)
new_sha=$(tar xOf "new fw.pkg" manifest.json | sha256sum | cut -d' ' -f1)
"$PY" - c.json "$old_sha" "$new_sha" "$(stat -c %s old.pkg)" <<'PYEOF' || fail "catalog content"
import json, sys
c = json.load(open(sys.argv[1]))
old, new, size = sys.argv[2], sys.argv[3], int(sys.argv[4])
assert c["format"] == "fwpkg-catalog" and c["serial"] == 7, c
assert c["created"] == 1700000000 and c["expires"] == 1700000000 + 30 * 86400, c
wx = c["products"]["WX"]
assert [r["version"] for r in wx] == ["5.21.2", "5.22.2"], wx
assert wx[0]["manifest_sha256"] == old and wx[1]["manifest_sha256"] == new, wx
assert wx[0]["length"] == size and wx[0]["rollout"] == 25, wx[0]
assert wx[1]["urls"] == ["http://a.example/fw/new%20fw.pkg", "https://b.example/new%20fw.pkg"], wx[1]["urls"]
assert (wx[1]["generation"], wx[1]["bridge_from"], wx[1]["bridge_down"], wx[1]["rollback_index"]) == \
    (2, "5.21.2", "5.22.2", 3), wx[1]
assert [r["version"] for r in c["products"]["WY"]] == ["5.21.2"], c["products"]
PYEOF
grep -q 'trusted comment: fwpkg catalog serial 7 expires 1702592000' c.json.minisig || fail "$(head -c 300 c.json.minisig)"
ok "catalog: stock minisign verifies it; versions, digests, lengths, mirrors, bridges, rollout as the packages say"

# The same inputs give the same bytes.
cat -q -o d.json --base-url http://a.example/fw --base-url https://b.example/ --expires 30d --serial 7 \
	--rollout 25 -k k.key "new fw.pkg" old.pkg
cmp -s c.json d.json || fail "the catalog depends on the order of its packages"
ok "deterministic: same packages in another order, same catalog"

before=$(sha256sum c.json c.json.minisig)
expect 2 'c.json.minisig: already exists \(use -f to overwrite\)' cat -o c.json --base-url http://a/ --expires 1d \
	--serial 8 -k k.key old.pkg
[ "$(sha256sum c.json c.json.minisig)" = "$before" ] || fail "a refused catalog changed the old one"
expect 0 '' cat -f -q -o c.json --base-url http://a/ --expires 1d --serial 8 -k k.key old.pkg
minisign -Vm c.json -p k.pub >/dev/null || fail "the replaced catalog does not verify"
expect 2 'two packages of WX 5.21.2' cat -o e.json --base-url http://a/ --expires 1d --serial 1 -k k.key old.pkg old.pkg
expect 2 '--expires 5y: expected a duration' cat -o e.json --base-url http://a/ --expires 5y --serial 1 -k k.key old.pkg
# Dates that are no dates are refused, never moved on by timegm (February 30th is not March 2nd).
for d in 2030-02-30 2030-13-01 2030-01-01T24:00:00Z 2030-06-31T00:00:00Z; do
	expect 2 "--expires $d: expected a duration" cat -o e.json --base-url http://a/ --expires "$d" --serial 1 -k k.key old.pkg
done
[ ! -e e.json ] || fail "a refused catalog was written"
expect 2 '--serial N is required' cat -o e.json --base-url http://a/ --expires 1d -k k.key old.pkg
expect 2 '--rollout 101: expected 0 to 100' cat -o e.json --base-url http://a/ --expires 1d --serial 1 --rollout 101 \
	-k k.key old.pkg
expect 2 '--base-url http://a/\\xff: a URL is UTF-8 text' cat -o e.json --base-url "$(printf 'http://a/\377')" \
	--expires 1d --serial 1 -k k.key old.pkg
expect 2 '--base-url http://a/b c: a URL is UTF-8 text' cat -o e.json --base-url 'http://a/b c' --expires 1d \
	--serial 1 -k k.key old.pkg
[ ! -e e.json ] && [ ! -e e.json.minisig ] || fail "a refused catalog left a file"
mkdir -p tree/files
echo x >tree/files/f
"$B/mkwmopkg" -q -o mod.wmopkg -C tree --version 1.0.0 --product WX -k k.key
expect 3 'missing.pkg: cannot open' cat -o e.json --base-url http://a/ --expires 1d --serial 1 -k k.key missing.pkg
printf 'not a package' >junk.pkg
expect 1 'junk.pkg' cat -o e.json --base-url http://a/ --expires 1d --serial 1 -k k.key junk.pkg
[ ! -e e.json ] && [ ! -e e.json.minisig ] || fail "a refused catalog left a file"
ok "refusals: existing output, a release twice, bad durations, no serial, rollout, missing or junk input"

# --- format version 2: a release's description, and a .wmopkg as a patch for each of its products (004's
# recommended patch); a catalog that uses neither stays format version 1 for older readers
"$B/mkpkg" -q -o desc.pkg --version 5.23.0 --product WX --description 'Firmware and patch: 1) fixes 2) CC+SPH' \
	--pri i.img -k k.key
expect 0 '' cat -o v2.json --base-url http://a/fw --expires 1d --serial 1 -k k.key desc.pkg mod.wmopkg
mod_sha=$(tar xOf mod.wmopkg manifest.json | sha256sum | cut -d' ' -f1)
"$PY" - c.json v2.json "$mod_sha" "$(stat -c %s mod.wmopkg)" <<'PYEOF' || fail "catalog v2 content: $(cat v2.json)"
import json, sys
c1, c2 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert c1["format_version"] == 1 and "patches" not in c1, c1
assert all("description" not in r for rs in c1["products"].values() for r in rs), c1
assert c2["format_version"] == 2, c2
assert c2["products"]["WX"][0]["description"] == "Firmware and patch: 1) fixes 2) CC+SPH", c2
p, = c2["patches"]["WX"]
assert p["name"] == "mod" and p["version"] == "1.0.0" and p["urls"] == ["http://a/fw/mod.wmopkg"], p
assert p["manifest_sha256"] == sys.argv[3] and p["length"] == int(sys.argv[4]), p
assert p["min_fw"] == "" and p["max_fw"] == "", p
PYEOF
minisign -Vm v2.json -p k.pub >/dev/null || fail "stock minisign does not verify the v2 catalog"
ok "format version 2: the release's description and a .wmopkg patch; without them, version 1"

# --- never dead on arrival: the validity window must hold the real clock's present
real_clock() {
	before=$(ls -A)
	# CI exports SOURCE_DATE_EPOCH (2023 here): 14 days from it ended long ago.
	expect 2 '^fwpkg: catalog: r.json: it would expire at 2023-11-28T22:13:20Z, before now \([0-9T:-]+Z\), and every device would refuse it: --expires 14d counts from the creation time 2023-11-14T22:13:20Z \(SOURCE_DATE_EPOCH\); give --expires DATE or unset SOURCE_DATE_EPOCH$' \
		env -u FWPKG_NOW "$B/fwpkg" catalog -o r.json --base-url http://a/ --expires 14d --serial 1 -k k.key old.pkg
	[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "more than one line: $(cat "$T/.err")"
	# An absolute date in the past, with or without SOURCE_DATE_EPOCH.
	expect 2 'r.json: --expires 2023-01-01 \(2023-01-01T00:00:00Z\) is not after the creation time \(2023-11-14T22:13:20Z, SOURCE_DATE_EPOCH\)' \
		env -u FWPKG_NOW "$B/fwpkg" catalog -o r.json --base-url http://a/ --expires 2023-01-01 --serial 1 -k k.key old.pkg
	expect 2 'r.json: it would expire at 2024-01-01T00:00:00Z, before now \([0-9T:-]+Z\), and every device would refuse it; created 2023-11-14T22:13:20Z \(SOURCE_DATE_EPOCH\)$' \
		env -u FWPKG_NOW "$B/fwpkg" catalog -o r.json --base-url http://a/ --expires 2024-01-01 --serial 1 -k k.key old.pkg
	! grep -q 'counts from' "$T/.err" || fail "an absolute date blamed on SOURCE_DATE_EPOCH: $(cat "$T/.err")"
	expect 2 'r.json: --expires 2020-01-01 .* is not after the creation time \([0-9T:-]+Z\)$' \
		env -u FWPKG_NOW -u SOURCE_DATE_EPOCH "$B/fwpkg" catalog -o r.json --base-url http://a/ --expires 2020-01-01 \
		--serial 1 -k k.key old.pkg
	# Created further ahead of the clock than a device tolerates (a minute).
	expect 2 'r.json: it would be created at 2096-10-02T07:06:40Z \(SOURCE_DATE_EPOCH\), later than now \([0-9T:-]+Z\): every device would refuse it until then' \
		env -u FWPKG_NOW SOURCE_DATE_EPOCH=4000000000 "$B/fwpkg" catalog -o r.json --base-url http://a/ --expires 1d \
		--serial 1 -k k.key old.pkg
	[ "$(ls -A)" = "$before" ] || fail "a refused catalog left a file: $(ls -A)"
	# Reproducible and alive: SOURCE_DATE_EPOCH with an absolute date gives the same bytes every time.
	expect 0 '' env -u FWPKG_NOW "$B/fwpkg" catalog -q -o r1.json --base-url http://a/ --expires 2099-01-01 \
		--serial 1 -k k.key old.pkg
	expect 0 '' env -u FWPKG_NOW "$B/fwpkg" catalog -q -o r2.json --base-url http://a/ --expires 2099-01-01T00:00:00Z \
		--serial 1 -k k.key old.pkg
	cmp -s r1.json r2.json && cmp -s r1.json.minisig r2.json.minisig || fail "the same inputs gave different catalogs"
	"$PY" -c "import json,sys; c=json.load(open('r1.json')); sys.exit(0 if (c['created'], c['expires']) == (1700000000, 4070908800) else c)" ||
		fail "created/expires: $(head -c 300 r1.json)"
	expect 0 '' env -u FWPKG_NOW "$B/fwpkg" verify -p k.pub r1.json
	rm r1.json* r2.json*
}
pkg_check "a catalog devices would refuse now (expired, or created in the future) is not written (exit 2), naming SOURCE_DATE_EPOCH; an absolute --expires DATE stays reproducible" real_clock

# --- fwpkg verify and inspect read catalogs
env -u SOURCE_DATE_EPOCH -u FWPKG_NOW "$B/fwpkg" catalog -q -o now.json --base-url http://a/ --expires 1d --serial 9 -k k.key old.pkg
expect 0 '' "$B/fwpkg" verify -p k.pub now.json
grep -q '^now.json: verified: catalog serial 9, 2 releases, expires .*, signed by ' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 '' "$B/fwpkg" verify --json -p k.pub now.json
"$PY" -c "import json,sys; d=json.load(open('$T/.out')); sys.exit(0 if d['type'] == 'catalog' and d['serial'] == 9 else d)" ||
	fail "$(cat "$T/.out")"
expect 1 'c.json: expired at 2023-11-15' "$B/fwpkg" verify -p k.pub c.json
expect 1 'now.json: signed by [0-9A-F]{16}, which is not trusted' "$B/fwpkg" verify -p other.pub now.json
cp now.json moved.json
expect 3 'moved.json.minisig: cannot open' "$B/fwpkg" verify -p k.pub moved.json
sed 's/"serial": 9/"serial": 10/' now.json >forged.json
cp now.json.minisig forged.json.minisig
expect 1 'forged.json: signature by [0-9A-F]{16}: ' "$B/fwpkg" verify -p k.pub forged.json
ok "verify: a catalog verified with its .minisig; expired, untrusted, unsigned and forged ones refused"

# --- several keys: each one's signature in the .minisig, one after another; a keyring's policy counts distinct keys
mkdir ring2 && cp k.pub other.pub ring2/ && printf '{"min_signatures": 2}\n' >ring2/policy.json
expect 0 '' env -u FWPKG_NOW -u SOURCE_DATE_EPOCH "$B/fwpkg" catalog -q -o two.json --base-url http://a/ --expires 1d --serial 9 -k k.key -k other.key old.pkg
[ "$(grep -c '^untrusted comment:' two.json.minisig)" = 2 ] || fail "two.json.minisig: $(command cat two.json.minisig)"
minisign -Vm two.json -p k.pub >/dev/null 2>&1 || fail "stock minisign does not verify the first signature"
expect 0 '' "$B/fwpkg" verify --keyring ring2 two.json
expect 1 'now.json: too few signatures by trusted keys: have 1, need 2' "$B/fwpkg" verify --keyring ring2 now.json
expect 0 '' env -u FWPKG_NOW -u SOURCE_DATE_EPOCH "$B/fwpkg" catalog -q -o twice.json --base-url http://a/ --expires 1d --serial 9 -k k.key -k k.key old.pkg
expect 1 'twice.json: too few signatures by trusted keys: have 1, need 2' "$B/fwpkg" verify --keyring ring2 twice.json
ok "catalog -k A -k B: two signatures in the .minisig (stock minisign checks the first); min_signatures 2 counts distinct keys"
expect 0 '' "$B/fwpkg" inspect c.json
grep -q 'Expires: .*(EXPIRED: devices refuse it)' "$T/.out" && grep -q '^WX .*5.21.2 .*http://a/' "$T/.out" ||
	fail "$(cat "$T/.out")"
expect 0 '' "$B/fwpkg" inspect --json -p k.pub now.json
"$PY" -c "
import json, sys
d = json.load(open('$T/.out'))
assert d['type'] == 'catalog' and d['expired'] is False and d['signature'] == 'valid', d
assert [r['product'] for r in d['releases']] == ['WX', 'WY'], d['releases']
" || fail "inspect --json: $(cat "$T/.out")"
ok "inspect: a catalog's releases as a table (expired shown) and as JSON"

# --- a CMS-signed catalog: a PEM key with its certificate (pki.sh), catalog.json.cms instead of .minisig
unset -f cat   # pki.sh writes files with cat
catalog() { "$B/fwpkg" catalog "$@"; }
. "$E2E/pki.sh"
pki_make
cms() { catalog "$@" -k leaf.key --cert leaf.crt --intermediate inter.crt; }
expect 0 'wrote x.json \(serial 9, 2 releases\) and x.json.cms' cms -o x.json --base-url http://a/ --expires 1d \
	--serial 9 old.pkg
[ -s x.json.cms ] && [ ! -e x.json.minisig ] || fail "a CMS-signed catalog: $(ls x.json*)"
openssl cms -verify -binary -inform DER -content x.json -in x.json.cms -CAfile root.crt -purpose any \
	-out /dev/null 2>/dev/null || fail "stock openssl cms does not verify the catalog"
openssl cms -verify -binary -inform DER -content x.json -in x.json.cms -CAfile other-root.crt -purpose any \
	-out /dev/null 2>/dev/null && fail "stock openssl cms verifies it under another CA"
openssl cms -cmsout -print -inform DER -in x.json.cms | grep -A3 signingTime >t1 || true
grep -q 'Nov 14 22:13:20 2023 GMT' t1 || fail "signing time is not SOURCE_DATE_EPOCH: $(cat t1)"
cms -q -o y.json --base-url http://a/ --expires 1d --serial 9 old.pkg
cmp -s x.json y.json || fail "the CMS-signed catalog is not reproducible"
ok "CMS: catalog.json.cms, stock openssl cms verifies it under the CA (not another), signing time SOURCE_DATE_EPOCH"

env -u SOURCE_DATE_EPOCH -u FWPKG_NOW "$B/fwpkg" catalog -q -o ncms.json --base-url http://a/ --expires 1d --serial 9 \
	-k leaf.key --cert leaf.crt --intermediate inter.crt old.pkg
expect 0 '' "$B/fwpkg" verify --ca root.crt ncms.json
grep -q '^ncms.json: verified: catalog serial 9, 2 releases, expires .*, signed by certificate "CN=Firmware Signer" ([0-9A-Fa-f]\{16\})$' \
	"$T/.out" || fail "$(cat "$T/.out")"
expect 1 'ncms.json: signed by certificate "CN=Firmware Signer" \([0-9A-Fa-f]{16}\), which is not trusted: no path to a trusted CA' \
	"$B/fwpkg" verify --ca other-root.crt ncms.json
expect 1 'ncms.json: signed by certificate "CN=Firmware Signer" \([0-9A-Fa-f]{16}\), which is not trusted' \
	"$B/fwpkg" verify -p k.pub ncms.json
sed 's/"serial": 9/"serial": 10/' ncms.json >fcms.json
cp ncms.json.cms fcms.json.cms
expect 1 'fcms.json: signature by certificate "CN=Firmware Signer"' "$B/fwpkg" verify --ca root.crt fcms.json
expect 0 '' "$B/fwpkg" inspect --json --ca root.crt ncms.json
"$PY" -c "
import json, sys
d = json.load(open('$T/.out'))
assert d['signature'] == 'valid' and d['signer'].startswith('certificate \"CN=Firmware Signer\"'), d
" || fail "inspect --json: $(cat "$T/.out")"
ok "CMS: fwpkg verify/inspect read catalog.json.cms under the CA; another CA, a minisign key and a forgery refused"

# A catalog re-signed with another kind of key loses the old kind's signature (a device reads .minisig first).
rm x.json
expect 2 'x.json.cms: already exists \(use -f to overwrite\)' catalog -o x.json --base-url http://a/ --expires 1d \
	--serial 9 -k k.key old.pkg
[ ! -e x.json ] && [ ! -e x.json.minisig ] || fail "a refused catalog left a file"
expect 0 '' catalog -f -q -o x.json --base-url http://a/ --expires 1d --serial 10 -k k.key old.pkg
[ -e x.json.minisig ] && [ ! -e x.json.cms ] || fail "re-signed with minisign: $(ls x.json*)"
expect 0 '' cms -f -q -o x.json --base-url http://a/ --expires 1d --serial 11 old.pkg
[ -e x.json.cms ] && [ ! -e x.json.minisig ] || fail "re-signed with CMS: $(ls x.json*)"
expect 2 '--cert c.pem: give it after the -k KEY' catalog -o e.json --base-url http://a/ --expires 1d --serial 1 \
	--cert c.pem -k leaf.key old.pkg
expect 2 'leaf.key --cert: a CMS signature has one signer' catalog -o e.json --base-url http://a/ --expires 1d \
	--serial 1 -k k.key -k leaf.key --cert leaf.crt old.pkg
[ ! -e e.json ] && [ ! -e e.json.cms ] || fail "a refused catalog left a file"
ok "CMS: re-signing with the other kind replaces its signature file; --cert before -k and two keys refused"
pkg_done
