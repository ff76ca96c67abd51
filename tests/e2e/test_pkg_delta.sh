#!/bin/sh
# test_pkg_delta: delta packages (mkpkg --delta-from): built against the older package, verified, inspected and extracted on the host, installed by fwctl from several starting states, and the attacks refused with nothing written.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

keypair k
# A (the running image) and B (its update): B is A with scattered edits and a block moved from far away,
# 20 MiB: three delta frames of 8 MiB; the bootloader changes whole.
"$PY" - <<'PYEOF'
import random
r = random.Random(7)
a = bytearray(r.randbytes(20 << 20))
b = bytearray(a)
for _ in range(200):
    o = r.randrange(len(b) - 5000)
    b[o:o + 3000] = r.randbytes(3000)
b[1 << 20:3 << 20] = a[15 << 20:17 << 20]
open("a.img", "wb").write(a)
open("b.img", "wb").write(b)
open("boot1.img", "wb").write(r.randbytes(70000))
open("boot2.img", "wb").write(r.randbytes(70000))
PYEOF
"$B/mkpkg" -q -o old.pkg --version 5.21.0 --product WX --chunk-size 65536 \
	--pri a.img --sec a.img --boot boot1.img -k k.key
"$B/mkpkg" -q -o new.pkg --version 5.22.0 --product WX --chunk-size 65536 \
	--pri b.img --sec b.img --boot boot2.img -k k.key --delta-from old.pkg
"$B/mkpkg" -q -o full.pkg --version 5.22.0 --product WX --chunk-size 65536 \
	--pri b.img --sec b.img --boot boot2.img -k k.key --compress zstd
size=$(stat -c %s new.pkg)
[ "$size" -lt 2000000 ] || fail "the delta package is $size bytes"
ok "mkpkg --delta-from builds a delta package ($size bytes for 2 x 20 MiB)"

# --- the format: version 4, the base named in each system image's compression, the bootloader whole
mkdir stock
(cd stock && tar xf ../new.pkg) || fail "stock tar cannot unpack a delta package"
"$PY" - stock/manifest.json old.pkg <<'PYEOF' || fail "manifest does not describe the delta"
import json, sys, tarfile
m = json.load(open(sys.argv[1]))
old = json.load(tarfile.open(sys.argv[2]).extractfile("manifest.json"))
assert m["format_version"] == 4, m["format_version"]
olddig = {im["target"]: im["digest"] for im in old["images"]}
for im in m["images"]:
    c = im["compression"]
    if im["target"] == "boot":
        assert "base" not in c, c
        continue
    b = c["base"]
    assert b["digest"] == olddig[im["target"]] and b["size"] == 20 << 20 and b["chunk_size"] == 65536, b
    assert c["frame_size"] == 8 << 20 and c["window_log"] <= 27, c
PYEOF
zstd -q -d -c stock/WX-boot.img | cmp - boot2.img || fail "zstd -d of the bootloader entry"
ok "format_version 4; each system image names its base (the old image's digest); the bootloader travels whole"

# --- host readers
expect 0 'WX-pri.img: a delta against base image .*not rebuilt' "$B/fwpkg" verify -p k.pub new.pkg
expect 0 '' "$B/fwpkg" verify -p k.pub --base a.img new.pkg
grep -q 'not rebuilt' "$T/.err" && fail "verify --base still says not rebuilt"
expect 1 'WX-sec.img: the base is not the delta.s base image' "$B/fwpkg" verify -p k.pub --base b.img new.pkg
expect 0 '' "$B/fwpkg" verify --json -p k.pub new.pkg
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["not_rebuilt"]==["WX-sec.img","WX-pri.img"], d' "$T/.out" ||
	fail "verify --json does not list the images it did not rebuild"
expect 0 '' "$B/fwpkg" inspect new.pkg
grep -q 'format fwpkg 4' "$T/.out" || fail "inspect does not show format 4"
adig=$("$PY" -c 'import json,sys,tarfile; print([i["digest"] for i in json.load(tarfile.open(sys.argv[1]).extractfile("manifest.json"))["images"] if i["target"]=="pri"][0])' old.pkg)
grep -Eq "^  WX-pri\.img +20971520 +24 MiB  $adig\$" "$T/.out" || fail "inspect shows no delta base $adig: $(cat "$T/.out")"
ok "verify (without a base: compressed bytes only, said; --base: rebuilt and checked; a wrong base refused), inspect"

mkdir x0
expect 2 'WX-sec.img is a delta: give its base image with --base' "$B/fwpkg" extract -C x0 -p k.pub new.pkg
[ -z "$(ls -A x0)" ] || fail "extract without a base left $(ls -A x0)"
expect 0 '' "$B/fwpkg" extract -C x1 -p k.pub --base a.img new.pkg
cmp x1/WX-pri.img b.img && cmp x1/WX-sec.img b.img && cmp x1/WX-boot.img boot2.img || fail "extract --base differs"
expect 0 '' "$B/fwpkg" extract -C x2 -p k.pub new.pkg WX-boot.img
cmp x2/WX-boot.img boot2.img || fail "extract of the whole bootloader alone"
ok "extract: a delta needs --base (nothing written without); with it every image is rebuilt exactly"

expect 2 'a delta package itself' "$B/mkpkg" -q -o new2.pkg --version 5.23.0 --product WX --chunk-size 65536 \
	--pri b.img --sec b.img --boot boot2.img -k k.key --delta-from new.pkg
[ ! -e new2.pkg ] || fail "mkpkg left new2.pkg"
"$B/mkpkg" -q -o new3.pkg --version 5.22.0 --product WX --chunk-size 65536 \
	--pri b.img --sec b.img --boot boot2.img -k k.key --delta-from old.pkg
cmp new.pkg new3.pkg || fail "two builds of the same delta differ"
ok "a delta against a delta is refused; the same inputs give the same delta, byte for byte"

echo "all $TESTS checks passed"
