#!/bin/sh
# test_smart_delta: smart upgrade with delta packages in the catalog, against a real nginx: a device on the base takes the delta, one off it the full package, one whose delta fails falls back to the full package.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

D=$T/dev
smart_clock
slotsum() { (cd "$D" && find slots records -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }

keypair k
# 1.0.0's image A, 2.0.0's image B (A with scattered edits), 1.5.0's image C (another, not a base of the delta).
"$PY" - <<'PYEOF'
import random
r = random.Random(11)
a = bytearray(r.randbytes(4 << 20))
b = bytearray(a)
for _ in range(40):
    o = r.randrange(len(b) - 5000)
    b[o:o + 3000] = r.randbytes(3000)
open("a.img", "wb").write(a)
open("b.img", "wb").write(b)
open("c.img", "wb").write(r.randbytes(4 << 20))
open("boot.img", "wb").write(r.randbytes(5000))
PYEOF
mkdir -p www
"$B/mkpkg" -q -o www/fw-1.0.0.pkg --version 1.0.0 --product SX --pri a.img --sec a.img --boot boot.img -k k.key
"$B/mkpkg" -q -o www/fw-1.5.0.pkg --version 1.5.0 --product SX --pri c.img --sec c.img --boot boot.img -k k.key
"$B/mkpkg" -q -o www/fw-2.0.0.pkg --version 2.0.0 --product SX --pri b.img --sec b.img --boot boot.img -k k.key
"$B/mkpkg" -q -o www/fw-2.0.0-from-1.0.0.pkg --version 2.0.0 --product SX --pri b.img --sec b.img \
	--boot boot.img -k k.key --delta-from www/fw-1.0.0.pkg
full=$(stat -c %s www/fw-2.0.0.pkg)
dsize=$(stat -c %s www/fw-2.0.0-from-1.0.0.pkg)
[ "$dsize" -lt $((full / 4)) ] || fail "the delta is $dsize bytes, the full package $full"

smart_www

# --- fwpkg catalog: the delta under its release, with its base version and base digests; format version 3
catalog cat 1 www/fw-1.0.0.pkg www/fw-1.5.0.pkg www/fw-2.0.0.pkg www/fw-2.0.0-from-1.0.0.pkg
"$PY" - www/cat.json www/fw-1.0.0.pkg www/fw-2.0.0-from-1.0.0.pkg "$dsize" <<'PYEOF' || fail "catalog: $(cat www/cat.json)"
import json, sys, tarfile
c = json.load(open(sys.argv[1]))
old = json.load(tarfile.open(sys.argv[2]).extractfile("manifest.json"))
new = json.load(tarfile.open(sys.argv[3]).extractfile("manifest.json"))
assert c["format_version"] == 3, c["format_version"]
rels = {r["version"]: r for r in c["products"]["SX"]}
assert sorted(rels) == ["1.0.0", "1.5.0", "2.0.0"], sorted(rels)
assert "deltas" not in rels["1.0.0"] and "deltas" not in rels["1.5.0"]
[d] = rels["2.0.0"]["deltas"]
assert d["base_version"] == "1.0.0" and d["length"] == int(sys.argv[4]), d
assert d["urls"][0].endswith("/fw-2.0.0-from-1.0.0.pkg"), d["urls"]
olddig = {im["target"]: im["digest"] for im in old["images"]}
for im in d["images"]:
    mi = [x for x in new["images"] if x["target"] == im["target"]][0]
    assert im["digest"] == mi["digest"], (im, mi)
    if im["target"] == "boot":
        assert "base" not in im, im
    else:
        assert im["base"]["digest"] == olddig["sec" if im["target"] == "pri" else "pri"], im
PYEOF
# Without deltas a catalog stays at the version older devices read.
catalog plain 1 www/fw-1.0.0.pkg www/fw-2.0.0.pkg
grep -q '"format_version": 1,' www/plain.json || fail "$(head -8 www/plain.json)"
# A delta whose full package, or whose base's package, is not given: exit 2, nothing written.
rm -f www/bad.json
expect 2 'catalog: a delta of SX 2.0.0 without the full package of SX 2.0.0' catalog bad 1 www/fw-1.0.0.pkg \
	www/fw-2.0.0-from-1.0.0.pkg
expect 2 'catalog: the delta of SX 2.0.0 .*fw-2.0.0-from-1.0.0.pkg.*: its base image [0-9a-f]*\.\.\. is an image of none' \
	catalog bad 1 www/fw-2.0.0.pkg www/fw-2.0.0-from-1.0.0.pkg
# A delta that does not say what its full package says (another rollback index, generation, TPM mark, or
# other images under the same version): a device on the base would get another release than one off it.
"$PY" -c 'd=bytearray(open("b.img","rb").read()); d[7] ^= 1; open("b2.img","wb").write(d)'
"$B/mkpkg" -q -o d-rb.pkg --version 2.0.0 --product SX --pri b.img --sec b.img --boot boot.img -k k.key \
	--delta-from www/fw-1.0.0.pkg --rollback-index 5
"$B/mkpkg" -q -o d-gen.pkg --version 2.0.0 --product SX --pri b.img --sec b.img --boot boot.img -k k.key \
	--delta-from www/fw-1.0.0.pkg --generation 2 --bridge-from 1.0.0
"$B/mkpkg" -q -o d-tpm.pkg --version 2.0.0 --product SX --pri b.img --sec b.img --boot boot.img -k k.key \
	--delta-from www/fw-1.0.0.pkg --tpm
"$B/mkpkg" -q -o d-img.pkg --version 2.0.0 --product SX --pri b2.img --sec b2.img --boot boot.img -k k.key \
	--delta-from www/fw-1.0.0.pkg
expect 2 'catalog: the delta of SX 2.0.0 .*d-rb.pkg.*: its manifest says rollback index 5, the full package 0' \
	catalog bad 1 www/fw-1.0.0.pkg www/fw-2.0.0.pkg d-rb.pkg
expect 2 'catalog: the delta of SX 2.0.0 .*d-gen.pkg.*: its manifest says generation 2, the full package 1' \
	catalog bad 1 www/fw-1.0.0.pkg www/fw-2.0.0.pkg d-gen.pkg
expect 2 'catalog: the delta of SX 2.0.0 .*d-tpm.pkg.*: its manifest says requires_tpm true, the full package false' \
	catalog bad 1 www/fw-1.0.0.pkg www/fw-2.0.0.pkg d-tpm.pkg
expect 2 'catalog: the delta of SX 2.0.0 .*d-img.pkg.*: its (pri|sec) image is not the full package.s' \
	catalog bad 1 www/fw-1.0.0.pkg www/fw-2.0.0.pkg d-img.pkg
[ ! -e www/bad.json ] && [ ! -e www/bad.json.minisig ] || fail "a refused catalog was written"
ok "fwpkg catalog lists the delta under 2.0.0 (base 1.0.0 and its image digests), format 3; version 1 without deltas; a delta without its full or base package, or saying otherwise than its full package, refused"

# device VERSION PKG: a device running PKG's images (installed with 'upgrade all', marked good).
device() {
	smart_device 0.1.0
	expect 0 '' fw upgrade all "$2"
	expect 0 '' fw boot
	expect 0 '' fw mark-good
	[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version']")" = "$1 $1" ] || fail "$(js "d['slots']")"
	smart_server cat
}
# runs VERSION: after the install's reboot the device runs VERSION from both slots, the primary booted.
runs() {
	grep -q "booted pri $1" "$T/.out" || fail "not booted into $1: $(cat "$T/.out")"
	[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version']")" = "$1 $1" ] || fail "$(js "d['slots']")"
	cmp "$D/slots/pri" b.img && cmp "$D/slots/sec" b.img || fail "the slots do not hold 2.0.0's image"
}

# --- a device on the base takes the delta: fewer bytes fetched (nginx's log, the download's figures, status)
device 1.0.0 www/fw-1.0.0.pkg
: >"$NGINX_ACCESS"
expect 0 'check: 2.0.0 as a delta against 1.0.0' at "$(hm 1 0)" fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "$(cat "$T/.out")"
[ "$(js "d['smart']['next_release']['url'].rsplit('/',1)[1], d['smart']['next_release']['length'], d['smart']['next_release']['delta']")" = \
	"fw-2.0.0-from-1.0.0.pkg $dsize {'base_version': '1.0.0', 'full_length': $full, 'saved': $((full - dsize))}" ] || \
	fail "status: $(js "d['smart']['next_release']")"
fw status >st.txt
grep -q "delta *against 1.0.0: $dsize bytes instead of the full package's $full ($((full - dsize)) saved)" st.txt || fail "$(cat st.txt)"
expect 0 "download: 2.0.0: a delta: $dsize bytes instead of the full package's $full" at "$(hm 1 0)" fw download
[ "$(served /fw-2.0.0-from-1.0.0.pkg)" = "$dsize" ] && [ "$(served /fw-2.0.0.pkg)" = 0 ] || \
	fail "nginx: $(cat "$NGINX_ACCESS")"
expect 0 'install: rebooting' at "$(hm 1 5)" fw smart install
grep -q '^install 2.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
runs 2.0.0
ok "on the base (1.0.0): check names the delta, status shows the bytes saved, nginx served $dsize bytes instead of $full; runs 2.0.0 after boot"

# --- a device off the base (1.5.0) takes the full package
device 1.5.0 www/fw-1.5.0.pkg
: >"$NGINX_ACCESS"
expect 0 '' at "$(hm 1 0)" fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "$(cat "$T/.out")"
grep -q 'as a delta' "$T/.err" && fail "a device off the base was offered the delta: $(cat "$T/.err")"
[ "$(js "d['smart']['next_release']['url'].rsplit('/',1)[1], 'delta' in d['smart']['next_release']")" = "fw-2.0.0.pkg False" ] || \
	fail "$(js "d['smart']['next_release']")"
expect 0 'install: rebooting' at "$(hm 1 5)" fw smart tick
grep -q '^install 2.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(served /fw-2.0.0.pkg)" = "$full" ] && [ "$(served /fw-2.0.0-from-1.0.0.pkg)" = 0 ] || fail "nginx: $(cat "$NGINX_ACCESS")"
runs 2.0.0
ok "off the base (1.5.0): the full package ($full bytes), never the delta; runs 2.0.0 after boot"

# --- the delta fails (the primary's image damaged after its record was written): the install refuses it with
# nothing written, the delta is remembered and never fetched again, the full package follows; runs 2.0.0
device 1.0.0 www/fw-1.0.0.pkg
printf 'XXXX' | dd of="$D/slots/pri" bs=1 seek=1000 conv=notrunc 2>/dev/null
: >"$NGINX_ACCESS"
expect 0 '' at "$(hm 1 0)" fw check
[ "$(js "'delta' in d['smart']['next_release']")" = True ] || fail "$(js "d['smart']['next_release']")"
expect 0 '' at "$(hm 1 0)" fw download
before=$(slotsum)
code=0
at "$(hm 1 5)" "$B/fwctl" --root "$D" smart install >"$T/.out" 2>"$T/.err" || code=$?
[ "$code" = 1 ] || fail "the failed delta install exited $code: $(cat "$T/.out" "$T/.err")"
grep -q '^install 2.0.0 fileNotMatch' "$T/.out" || fail "$(cat "$T/.out")"
grep -q "install: payload SX-sec.img: the image in pri: the base is not the delta's base image" "$T/.err" || fail "$(cat "$T/.err")"
[ "$(slotsum)" = "$before" ] || fail "the failed delta changed the slots"
[ "$(js "len(d['smart']['refused'])")" = 1 ] || fail "the delta's failure is not remembered: $(js "d['smart']")"
expect 0 '' at "$(hm 1 10)" fw check
[ "$(js "d['smart']['next_release']['url'].rsplit('/',1)[1], 'delta' in d['smart']['next_release']")" = "fw-2.0.0.pkg False" ] || \
	fail "after the failed delta: $(js "d['smart']['next_release']")"
expect 0 'install: rebooting' at "$(hm 1 15)" fw smart tick
grep -q '^install 2.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(served /fw-2.0.0-from-1.0.0.pkg)" = "$dsize" ] && [ "$(served /fw-2.0.0.pkg)" = "$full" ] || \
	fail "nginx: $(cat "$NGINX_ACCESS")"
runs 2.0.0
ok "a delta against a damaged base: refused with exit 1 and nothing written, remembered, the full package next; runs 2.0.0 after boot"

# refused_delta BASE VERSION RESULT PATTERN WHAT: a device on BASE checks and takes VERSION's delta; its
# download is refused (exit 1, RESULT, PATTERN) with nothing kept or written, and remembered; the next check
# takes VERSION's full package, which installs.
refused_delta() {
	device "$1" "www/fw-$1.pkg"
	: >"$NGINX_ACCESS"
	expect 0 "check: $2 as a delta against $1" at "$(hm 1 0)" fw check
	before=$(slotsum)
	expect 1 "download: .*-from-1.0.0.pkg: $4" at "$(hm 1 0)" fw download
	grep -q "^$3" "$T/.out" || fail "$5: $(cat "$T/.out")"
	[ "$(slotsum)" = "$before" ] || fail "$5 changed the slots"
	[ -z "$(ls -A "$D/download" 2>/dev/null)" ] || fail "$5 left $(ls -A "$D/download")"
	[ "$(js "len(d['smart']['refused'])")" = 1 ] || fail "$5 is not remembered: $(js "d['smart']")"
	expect 0 '' at "$(hm 2 0)" fw check
	[ "$(js "d['smart']['next_release']['url'].rsplit('/',1)[1], 'delta' in d['smart']['next_release']")" = \
		"fw-$2.pkg False" ] || fail "after $5: $(js "d['smart']['next_release']")"
	expect 0 'install: rebooting' at "$(hm 2 5)" fw smart tick
	grep -q "^install $2 success" "$T/.out" || fail "$(cat "$T/.out")"
}

# --- the delta's bytes on the server are damaged (fileCheckFailed): refused once, remembered, never fetched
# again; the next check takes the full package (the delta is not fetched at every interval)
cp www/fw-2.0.0-from-1.0.0.pkg good-delta.pkg
printf 'XXXX' | dd of=www/fw-2.0.0-from-1.0.0.pkg bs=1 seek=$((dsize - 20000)) conv=notrunc 2>/dev/null
refused_delta 1.0.0 2.0.0 fileCheckFailed 'payload SX-(pri|sec).img: .*SHA-256 mismatch' "the damaged delta"
[ "$(served /fw-2.0.0-from-1.0.0.pkg)" = "$dsize" ] && [ "$(served /fw-2.0.0.pkg)" = "$full" ] || \
	fail "nginx: $(cat "$NGINX_ACCESS")"
runs 2.0.0
cp good-delta.pkg www/fw-2.0.0-from-1.0.0.pkg
# The delta not on the server (HTTP 404, on every mirror): netError (exit 4), remembered as a refused delta is,
# the full package next; not a delta asked for at every interval while the full package is there.
rm www/fw-2.0.0-from-1.0.0.pkg
device 1.0.0 www/fw-1.0.0.pkg
expect 0 'check: 2.0.0 as a delta against 1.0.0' at "$(hm 1 0)" fw check
expect 4 'download: .*fw-2.0.0-from-1.0.0.pkg: the server answered HTTP 404' at "$(hm 1 0)" fw download
grep -q '^netError' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "len(d['smart']['refused'])")" = 1 ] || fail "the missing delta is not remembered: $(js "d['smart']")"
expect 0 '' at "$(hm 1 1)" fw check
[ "$(js "d['smart']['next_release']['url'].rsplit('/',1)[1]")" = fw-2.0.0.pkg ] || \
	fail "after the missing delta: $(js "d['smart']['next_release']")"
expect 0 'install: rebooting' at "$(hm 1 5)" fw smart tick
runs 2.0.0
cp good-delta.pkg www/fw-2.0.0-from-1.0.0.pkg
ok "a delta damaged on the server (fileCheckFailed) or missing from it (404): refused once, remembered, the full package next (the delta fetched once); runs 2.0.0"

# --- a catalog (validly signed) whose delta entry names another base than the delta's manifest: it says 1.5.0's
# images, the delta is against 1.0.0's. A device on 1.5.0 takes the catalog's word at the check; the download
# finds the manifest's base in no slot and refuses it before a payload is written (fileNotMatch), remembers it,
# and the next check takes the full package.
"$PY" - www/cat.json www/fw-1.5.0.pkg <<'PYEOF'
import json, sys, tarfile
c = json.load(open(sys.argv[1]))
m = json.load(tarfile.open(sys.argv[2]).extractfile("manifest.json"))
dig = {im["target"]: im["digest"] for im in m["images"]}
d = [r for r in c["products"]["SX"] if r["version"] == "2.0.0"][0]["deltas"][0]
d["base_version"] = "1.5.0"
for im in d["images"]:
    if "base" in im:
        im["base"]["digest"] = dig["sec" if im["target"] == "pri" else "pri"]
json.dump(c, open(sys.argv[1], "w"), indent=2)
PYEOF
rm www/cat.json.minisig
minisign -S -s k.key -m www/cat.json -x www/cat.json.minisig -t relabelled </dev/null >/dev/null
refused_delta 1.5.0 2.0.0 fileNotMatch '.*delta against base image [0-9a-f]+\.\.\., which no other slot holds' \
	"the relabelled delta"
[ "$(js "d['smart']['refused'][0]['result']")" = fileNotMatch ] || fail "$(js "d['smart']['refused']")"
runs 2.0.0
catalog cat 1 www/fw-1.0.0.pkg www/fw-1.5.0.pkg www/fw-2.0.0.pkg www/fw-2.0.0-from-1.0.0.pkg
ok "a catalog naming another base than the delta's manifest: the download refuses it at its manifest (fileNotMatch), nothing kept, remembered; the full package next"

# --- validly signed catalogs whose delta entry is not what its manifest says: the delta of 2.0.0 listed under
# 3.0.0 (an old release relabelled as new), and another product's delta (SY, against the same image) listed
# under SX's 2.0.0. The check takes the catalog's word (the bases hold); the download refuses the manifest
# (fileNotMatch), keeps nothing, remembers it; the next check takes the full package.
"$B/mkpkg" -q -o www/fw-3.0.0.pkg --version 3.0.0 --product SX --pri b.img --sec b.img --boot boot.img -k k.key
"$B/mkpkg" -q -o www/sy-1.0.0.pkg --version 1.0.0 --product SY --pri a.img --sec a.img --boot boot.img -k k.key
"$B/mkpkg" -q -o www/sy-2.0.0.pkg --version 2.0.0 --product SY --pri b.img --sec b.img --boot boot.img -k k.key
"$B/mkpkg" -q -o www/sy-2.0.0-from-1.0.0.pkg --version 2.0.0 --product SY --pri b.img --sec b.img \
	--boot boot.img -k k.key --delta-from www/sy-1.0.0.pkg
# resign_moving FROM TO: the catalog with release FROM's delta moved under release TO (SX's, or SY's 2.0.0
# moved under SX's 2.0.0 when FROM is SY), signed again by the trusted key.
resign_moving() {
	"$PY" - www/cat.json "$1" "$2" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
def rel(product, version):
    return [r for r in c["products"][product] if r["version"] == version][0]
src = rel("SY", "2.0.0") if sys.argv[2] == "SY" else rel("SX", sys.argv[2])
rel("SX", sys.argv[3])["deltas"] = src.pop("deltas")
if sys.argv[2] == "SY":
    del c["products"]["SY"]
json.dump(c, open(sys.argv[1], "w"), indent=2)
PYEOF
	rm -f www/cat.json.minisig
	minisign -S -s k.key -m www/cat.json -x www/cat.json.minisig -t crafted </dev/null >/dev/null
}
catalog cat 2 www/fw-1.0.0.pkg www/fw-2.0.0.pkg www/fw-3.0.0.pkg www/fw-2.0.0-from-1.0.0.pkg
resign_moving 2.0.0 3.0.0
refused_delta 1.0.0 3.0.0 fileNotMatch 'its manifest says version 2.0.0, the catalog says 3.0.0' "2.0.0's delta under 3.0.0"
catalog cat 3 www/fw-1.0.0.pkg www/fw-2.0.0.pkg www/sy-1.0.0.pkg www/sy-2.0.0.pkg www/sy-2.0.0-from-1.0.0.pkg
resign_moving SY 2.0.0
refused_delta 1.0.0 2.0.0 fileNotMatch 'its manifest is not for product SX, as the catalog says' "SY's delta under SX"
runs 2.0.0
catalog cat 1 www/fw-1.0.0.pkg www/fw-1.5.0.pkg www/fw-2.0.0.pkg www/fw-2.0.0-from-1.0.0.pkg
ok "a delta listed under a newer release, or another product's delta: refused at the download's manifest (fileNotMatch), nothing kept, remembered; the full package next"

# --- the primary and the secondary differ. pri 1.5.0, sec 1.0.0 (sec written by hand): sec's delta would be
# rebuilt from pri, which is not its base: the full package. pri 1.0.0, sec 1.5.0: sec is rebuilt from pri,
# pri from the new sec: the delta.
device 1.5.0 www/fw-1.5.0.pkg
expect 0 '' fw upgrade sec www/fw-1.0.0.pkg
expect 0 '' at "$(hm 1 0)" fw check
[ "$(js "d['smart']['next_release']['url'].rsplit('/',1)[1]")" = fw-2.0.0.pkg ] || fail "$(js "d['smart']['next_release']")"
expect 0 'install: rebooting' at "$(hm 1 5)" fw smart tick
runs 2.0.0
device 1.0.0 www/fw-1.0.0.pkg
expect 0 '' fw upgrade sec www/fw-1.5.0.pkg
expect 0 'check: 2.0.0 as a delta against 1.0.0' at "$(hm 1 0)" fw check
expect 0 'install: rebooting' at "$(hm 1 5)" fw smart tick
grep -q 'rebuilding SX-sec.img from the delta against the image in pri' "$T/.err" || fail "$(cat "$T/.err")"
runs 2.0.0
ok "pri and sec differ: the delta only when every base is in the slot the install reads it from; runs 2.0.0 either way"

# --- golden install of a delta package: the golden image rebuilt from the base in another slot (never the
# golden slot itself), verified; with no slot holding the base, refused with nothing changed.
device 1.0.0 www/fw-1.0.0.pkg
expect 0 'golden: rebuilding SX-pri.img from the delta against the image in (pri|sec)' \
	fw golden install www/fw-2.0.0-from-1.0.0.pkg
cmp "$D/slots/golden" b.img || fail "the golden slot does not hold 2.0.0's image"
[ "$(js "d['slots']['golden']['version'], d['slots']['golden']['valid'], d['slots']['pri']['version']")" = \
	"2.0.0 True 1.0.0" ] || fail "$(js "d['slots']")"
device 1.5.0 www/fw-1.5.0.pkg
before=$(slotsum)
expect 1 'golden: .*delta against base image [0-9a-f]+\.\.\., which no other slot holds' \
	fw golden install www/fw-2.0.0-from-1.0.0.pkg
[ "$(slotsum)" = "$before" ] || fail "a refused golden delta changed the slots or records"
[ "$(js "d['last_upgrade']['result'], d['last_upgrade']['target']")" = "fileNotMatch golden" ] || \
	fail "the refusal is not recorded: $(js "d['last_upgrade']")"
ok "golden install of a delta: rebuilt from the base in pri, verified; where no slot holds the base, refused (fileNotMatch, recorded), no slot or record changed"

echo "all $TESTS checks passed"
