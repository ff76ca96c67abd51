#!/bin/sh
# test_pkg_roundtrip: mkpkg -> verify -> inspect -> extract gives back the very images, for one product and a common pkg.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
KEYID=$(pkg_craft list fw.pkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
[ -n "$KEYID" ] || fail "no signature entry manifest.json.<KEYID>.minisig in fw.pkg"

# --- single product, --pri/--sec/--boot
expect 0 '' "$B/fwpkg" verify -p k.pub fw.pkg
grep -q "verified" "$T/.out" || fail "verify printed no verdict: $(cat "$T/.out")"
grep -q "$KEYID" "$T/.out" || fail "verify does not name the signer $KEYID"
ok "verify accepts a fresh package (exit 0, names the signer)"

expect 0 '' "$B/fwpkg" verify -q -p k.pub fw.pkg
[ ! -s "$T/.out" ] && [ ! -s "$T/.err" ] || fail "verify -q printed something"
ok "verify -q is silent on success"

mkdir out
expect 0 '' "$B/fwpkg" extract -C out -p k.pub fw.pkg
cmp out/P1-pri.img pri.img && cmp out/P1-sec.img sec.img && cmp out/P1-boot.img boot.img ||
	fail "extracted images differ from the inputs"
[ "$(ls -A out | sort | tr '\n' ' ')" = "P1-boot.img P1-pri.img P1-sec.img " ] ||
	fail "extract wrote other files: $(ls -A out)"
[ "$(sort "$T/.out" | tr '\n' ' ')" = "P1-boot.img P1-pri.img P1-sec.img " ] ||
	fail "extract did not list what it wrote on stdout: $(cat "$T/.out")"
ok "extract -C writes exactly the three images, byte-identical"

expect 0 '' "$B/fwpkg" inspect fw.pkg
grep -Eq '^Version:[[:space:]]+5\.22\.2$' "$T/.out" || fail "inspect table lacks the version"
grep -Eq '^Products:[[:space:]]+P1$' "$T/.out" || fail "inspect table lacks the product"
grep -q 'not checked' "$T/.out" || fail "inspect without keys does not say the signature is unchecked"
for t in pri sec boot; do
	grep -Eq "^ +$t +P1 +P1-$t\.img " "$T/.out" || fail "inspect table lacks the $t image row"
done
ok "inspect table shows version, products, images, unchecked signature"

expect 0 '' "$B/fwpkg" inspect -p k.pub fw.pkg
grep -Eq '^Status:.*verified' "$T/.out" || fail "inspect with a key does not report verified"
grep -Eq "^ +$KEYID +valid" "$T/.out" || fail "inspect with a key does not mark $KEYID valid"
ok "inspect -p shows the package verified and the signature valid"

expect 0 '' "$B/fwpkg" inspect --json -p k.pub fw.pkg
"$PY" - "$T/.out" "$KEYID" <<'EOF' || fail "inspect --json: unexpected document"
import json, sys
text = open(sys.argv[1]).read()
assert text.endswith("}\n"), "one document with a trailing newline"
d = json.loads(text)
m = d["manifest"]
assert m["version"] == "5.22.2", m["version"]
assert m["products"] == ["P1"], m["products"]
assert m["type"] == "firmware" and m["format"] == "fwpkg" and m["format_version"] == 1
assert m["created"] == 1700000000, m["created"]
assert d["signatures"][0]["keyid"] == sys.argv[2], d["signatures"]
assert d["signatures"][0]["status"] == "valid", d["signatures"]
assert d["verified"] is True, d["verified"]
imgs = {(i["target"], i["product"]): i for i in m["images"]}
assert set(imgs) == {("pri", "P1"), ("sec", "P1"), ("boot", "P1")}, imgs
assert imgs[("pri", "P1")]["size"] == 300000 and imgs[("boot", "P1")]["size"] == 5000
assert all(i["chunk_size"] == 65536 and len(i["digest"]) == 64 for i in m["images"])
assert list(d) == sorted(d) and list(m) == sorted(m), "keys are sorted (stable output)"
EOF
cp "$T/.out" json1
expect 0 '' "$B/fwpkg" inspect --json -p k.pub fw.pkg
cmp -s json1 "$T/.out" || fail "inspect --json differs between two runs"
ok "inspect --json: stable keys manifest.version, signatures[0].keyid, verified"

expect 0 '' "$B/fwpkg" inspect --json fw.pkg
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["verified"] is False; assert d["signatures"][0]["status"] != "valid"' <"$T/.out" ||
	fail "inspect --json without keys claims verification"
ok "inspect --json without keys says verified: false"

expect 0 '' "$B/fwpkg" inspect --sha256 fw.pkg
for t in pri sec boot; do
	sum=$(sha256sum <$t.img | cut -d' ' -f1)
	grep -Eq "^ +$t +P1 +P1-$t\.img .* $sum\$" "$T/.out" || fail "inspect --sha256 does not show sha256sum of $t.img ($sum)"
done
expect 0 '' "$B/fwpkg" inspect --sha256 --json fw.pkg
"$PY" - "$T/.out" "$(sha256sum <pri.img | cut -d' ' -f1)" <<'EOF' || fail "inspect --sha256 --json: wrong digests"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["sha256"]["P1-pri.img"] == sys.argv[2], d["sha256"]
EOF
ok "inspect --sha256 shows the same digests as sha256sum"

expect 0 '' "$B/fwpkg" verify -p k.pub - <fw.pkg
grep -q verified "$T/.out" || fail "verify - printed no verdict"
cat fw.pkg | "$B/fwpkg" verify -q -p k.pub - || fail "verify from a pipe failed"
pkg_craft flipentry fw.pkg bad.pkg P1-pri.img last
expect 1 'SHA-256 mismatch' "$B/fwpkg" verify -p k.pub - <bad.pkg
mkdir out2
cat fw.pkg | "$B/fwpkg" extract -q -C out2 -p k.pub - >/dev/null || fail "extract from a pipe failed"
cmp out2/P1-pri.img pri.img || fail "extract from a pipe gave other bytes"
ok "verify and extract read a package from stdin ('-'), and reject a bad one there"

# --- manifest settings given as options show up in the signed manifest
"$B/mkpkg" -q -o opts.pkg --version 5.26.0-rev3 --product P1 --pri pri.img --generation 2 \
	--rollback-index 7 --tpm --description "spring release" -k k.key
expect 0 '' "$B/fwpkg" inspect --json -p k.pub opts.pkg
"$PY" -c '
import json, sys
m = json.load(sys.stdin)["manifest"]
assert m["version"] == "5.26.0-rev3", m
assert m["image_generation"] == 2 and m["rollback_index"] == 7, m
assert m["requires_tpm"] is True and m["description"] == "spring release", m
assert [i["target"] for i in m["images"]] == ["pri"], m
' <"$T/.out" || fail "manifest lacks the settings given to mkpkg"
ok "mkpkg --generation/--rollback-index/--tpm/--description land in the manifest"

# --- edge sizes: a one-byte image, an image of exactly two chunks, one byte over
# (mkpkg refuses an empty image; empty payloads round-trip in test_wmopkg_roundtrip)
printf x >empty.img
randfile two.img 131072
randfile over.img 131073
"$B/mkpkg" -q -o edges.pkg --version 1.0 --product E --chunk-size 65536 \
	--image E:pri=two.img --image E:sec=empty.img --image E:boot=over.img -k k.key
expect 0 '' "$B/fwpkg" verify -p k.pub edges.pkg
expect 0 '' "$B/fwpkg" inspect --json edges.pkg
"$PY" -c '
import json, sys
m = json.load(sys.stdin)["manifest"]
assert sorted(i["size"] for i in m["images"]) == [1, 131072, 131073], m["images"]
' <"$T/.out" || fail "edge sizes wrong in the manifest"
[ "$(tar -xOf edges.pkg E-sec.img.chunks | wc -c)" -eq 32 ] || fail "a one-byte image should give one chunk digest"
[ "$(tar -xOf edges.pkg E-pri.img.chunks | wc -c)" -eq 64 ] || fail "two chunks should give 64 bytes of chunk list"
[ "$(tar -xOf edges.pkg E-boot.img.chunks | wc -c)" -eq 96 ] || fail "two chunks and a byte should give 96 bytes"
mkdir eout
expect 0 '' "$B/fwpkg" extract -C eout -p k.pub edges.pkg
cmp eout/E-sec.img empty.img && cmp eout/E-pri.img two.img && cmp eout/E-boot.img over.img ||
	fail "edge-size images do not round-trip"
ok "edge sizes round-trip: one byte, exactly two chunks, two chunks and one byte"

# --- control characters from a package are escaped in the table
"$B/mkpkg" -q -o esc.pkg --version 1.0 --product P1 --boot boot.img -k k.key \
	--description "$(printf 'red\033[31m bell\007')"
expect 0 '' "$B/fwpkg" inspect esc.pkg
if tr -d '\n\t' <"$T/.out" | LC_ALL=C grep -q '[[:cntrl:]]'; then
	fail "inspect printed a raw control character from the package"
fi
grep -q 'red' "$T/.out" || fail "inspect dropped the description"
ok "inspect escapes control characters from the package"

# --- common pkg: two products with --image PRODUCT:TARGET=FILE
randfile a-pri.img 70000
randfile a-boot.img 3000
randfile b-pri.img 90000
randfile b-sec.img 20000
"$B/mkpkg" -q -o common.pkg --version 6.0.1 --product A --product B \
	--image A:pri=a-pri.img --image A:boot=a-boot.img --image B:pri=b-pri.img --image B:sec=b-sec.img -k k.key
expect 0 '' "$B/fwpkg" verify -p k.pub common.pkg
expect 0 '' "$B/fwpkg" inspect --json common.pkg
"$PY" - "$T/.out" <<'EOF' || fail "common pkg manifest is wrong"
import json, sys
m = json.load(open(sys.argv[1]))["manifest"]
assert m["products"] == ["A", "B"], m["products"]
got = [(i["product"], i["target"], i["size"]) for i in m["images"]]
# one pass per product: secondary, bootloader, primary
assert got == [("A", "boot", 3000), ("A", "pri", 70000), ("B", "sec", 20000), ("B", "pri", 90000)], got
open("order.txt", "w").write("".join("%s\n%s\n" % (i["file"] + ".chunks", i["file"]) for i in m["images"]))
EOF
pkg_craft list common.pkg | sed '1,2d' >tar-order.txt
cmp -s order.txt tar-order.txt || fail "payload entries are not in manifest order: $(tr '\n' ' ' <tar-order.txt)"
mkdir cout
"$B/fwpkg" extract -q -C cout -p k.pub common.pkg >/dev/null
cmp cout/A-pri.img a-pri.img && cmp cout/A-boot.img a-boot.img && cmp cout/B-pri.img b-pri.img &&
	cmp cout/B-sec.img b-sec.img || fail "common pkg: extracted images differ"
[ "$(ls -A cout | wc -l)" -eq 4 ] || fail "common pkg: extract wrote $(ls -A cout)"
ok "common pkg via --image: two products, manifest order = tar order, images round-trip"

# --- the same common pkg from a --spec file, paths relative to the spec's directory
mkdir -p spec/img
cp a-pri.img a-boot.img b-pri.img b-sec.img spec/img/
cat >spec/fw.json <<'EOF'
{
  "version": "6.0.1",
  "products": ["A", "B"],
  "images": [
    {"product": "A", "target": "pri", "path": "img/a-pri.img"},
    {"product": "A", "target": "boot", "path": "img/a-boot.img"},
    {"product": "B", "target": "pri", "path": "img/b-pri.img"},
    {"product": "B", "target": "sec", "path": "img/b-sec.img"}
  ]
}
EOF
expect 0 '' "$B/mkpkg" -o spec.pkg --spec spec/fw.json -k k.key
expect 0 '' "$B/fwpkg" verify -p k.pub spec.pkg
cmp -s spec.pkg common.pkg || fail "--spec and the same options give different packages"
ok "common pkg via --spec: relative paths, verifies, identical to the options-built one"

cat >spec/bad.json <<'EOF'
{"version": "6.0.1", "products": ["A"], "colour": "blue"}
EOF
expect 2 'colour' "$B/mkpkg" -o refused.pkg --spec spec/bad.json -k k.key
[ ! -e refused.pkg ] || fail "mkpkg left refused.pkg after a bad spec"
ok "--spec with an unknown key is refused (exit 2, names the key)"

# A pipe that delivers odd-sized pieces (1 byte, 511, 513, 64 KiB...): tar
# headers straddle reads, the reader must not care.
for seed in 1 2 3 4 5 6 7 8; do
	"$PY" -c '
import random, sys
random.seed(int(sys.argv[2]))
data, out, i = open(sys.argv[1], "rb").read(), sys.stdout.buffer, 0
while i < len(data):
    n = random.choice([1, 7, 100, 511, 512, 513, 4096, 65536, 200000])
    out.write(data[i:i + n]); out.flush(); i += n
' fw.pkg $seed | "$B/fwpkg" verify -q -p k.pub - || fail "verify from a pipe in odd pieces failed (seed $seed)"
done
ok "verify reads a pipe that delivers odd-sized pieces"

echo "all $TESTS checks passed"
