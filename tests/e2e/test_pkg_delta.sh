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
expect 1 'new.pkg: payload WX-sec.img: --base b.img: the base is not the delta.s base image' "$B/fwpkg" verify -p k.pub --base b.img new.pkg
# A --base that is no image file: one line naming it, exit 2 (a directory: not taken for an image of its size);
# one that cannot be opened: exit 3.
mkdir basedir
expect 2 '^fwpkg: verify: basedir: a directory: --base takes an image file$' "$B/fwpkg" verify -p k.pub --base basedir new.pkg
[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "more than one line: $(cat "$T/.err")"
expect 3 '^fwpkg: verify: nobase.img: cannot open: No such file' "$B/fwpkg" verify -p k.pub --base nobase.img new.pkg
expect 0 '' "$B/fwpkg" verify --json -p k.pub new.pkg
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["not_rebuilt"]==["WX-sec.img","WX-pri.img"], d' "$T/.out" ||
	fail "verify --json does not list the images it did not rebuild"
expect 0 '' "$B/fwpkg" inspect new.pkg
grep -q 'format fwpkg 4' "$T/.out" || fail "inspect does not show format 4"
adig=$("$PY" -c 'import json,sys,tarfile; print([i["digest"] for i in json.load(tarfile.open(sys.argv[1]).extractfile("manifest.json"))["images"] if i["target"]=="pri"][0])' old.pkg)
grep -Eq "^  WX-pri\.img +20971520 +24 MiB  $adig\$" "$T/.out" || fail "inspect shows no delta base $adig: $(cat "$T/.out")"
# The compression line: level, sizes, ratio, 8 MiB frames and the 64 MiB window, each in its column.
grep -Eq '^  WX-pri\.img +zstd:3 +20971520 +[0-9]+ +[0-9.]+x +8 MiB +64 MiB$' "$T/.out" || fail "inspect's compression line: $(cat "$T/.out")"
ok "verify (without a base: compressed bytes only, said; --base: rebuilt and checked; a wrong base refused), inspect"

mkdir x0
expect 2 'WX-sec.img is a delta: give its base image with --base' "$B/fwpkg" extract -C x0 -p k.pub new.pkg
[ -z "$(ls -A x0)" ] || fail "extract without a base left $(ls -A x0)"
expect 2 '^fwpkg: extract: basedir: a directory: --base takes an image file$' "$B/fwpkg" extract -C x0 -p k.pub --base basedir new.pkg
expect 1 'new.pkg: payload WX-sec.img: --base b.img: the base is not the delta.s base image' "$B/fwpkg" extract -C x0 -p k.pub --base b.img new.pkg
[ -z "$(ls -A x0)" ] || fail "extract with a wrong base left $(ls -A x0)"
expect 0 '' "$B/fwpkg" extract -C x1 -p k.pub --base a.img new.pkg
cmp x1/WX-pri.img b.img && cmp x1/WX-sec.img b.img && cmp x1/WX-boot.img boot2.img || fail "extract --base differs"
expect 0 '' "$B/fwpkg" extract -C x2 -p k.pub new.pkg WX-boot.img
cmp x2/WX-boot.img boot2.img || fail "extract of the whole bootloader alone"
ok "extract: a delta needs --base (nothing written without); with it every image is rebuilt exactly"

expect 2 'a delta package itself' "$B/mkpkg" -q -o new2.pkg --version 5.23.0 --product WX --chunk-size 65536 \
	--pri b.img --sec b.img --boot boot2.img -k k.key --delta-from new.pkg
[ ! -e new2.pkg ] || fail "mkpkg left new2.pkg"
# A delta's frame and its base around it share one window of at most 2^27: larger frames are refused in the
# options' words (not the manifest's window_log), the largest one taken.
for f in 67108864 268435456; do
	expect 2 "^mkpkg: --frame-size $f: a delta's frames are at most 33554432 bytes" "$B/mkpkg" -q -o new2.pkg --version 5.23.0 \
		--product WX --chunk-size 65536 --pri b.img --sec b.img --boot boot2.img -k k.key --delta-from old.pkg --frame-size $f
done
[ ! -e new2.pkg ] || fail "mkpkg left new2.pkg"
"$B/mkpkg" -q -o new3.pkg --version 5.22.0 --product WX --chunk-size 65536 \
	--pri b.img --sec b.img --boot boot2.img -k k.key --delta-from old.pkg
cmp new.pkg new3.pkg || fail "two builds of the same delta differ"
ok "a delta against a delta is refused; the same inputs give the same delta, byte for byte"

# --- the device. The start: 5.21.0 in pri and sec (and boot), booted and marked good.
fwinit() { rm -rf "$D"; expect 0 '' fw init --product WX --trust k.pub --version 5.20.0; }
D=$T/start
fwinit
expect 0 '' fw upgrade no-reboot all old.pkg
expect 0 '' fw boot
expect 0 '' fw mark-good
slotcmp() { # slotcmp SLOT IMG
	cmp -n "$(stat -c %s "$2")" "$D/slots/$1" "$2" || fail "slot $1 does not hold $2"
}
devsum() { { treesum "$D/slots"; treesum "$D/records"; } | sha256sum; }

D=$T/d1 && rm -rf "$D" && cp -a "$T/start" "$D"
expect 0 '' /usr/bin/time -f 'maxrss %M' "$B/fwctl" --root "$D" upgrade no-reboot all new.pkg
grep -q 'sec: rebuilding WX-sec.img from the delta against the image in pri' "$T/.err" || fail "sec not rebuilt from pri: $(cat "$T/.err")"
grep -q 'pri: copying WX-pri.img from sec' "$T/.err" || fail "pri not copied from the new sec: $(cat "$T/.err")"
slotcmp pri b.img && slotcmp sec b.img && slotcmp boot boot2.img
[ "$(js "d['last_upgrade']['result']")" = success ] || fail "$(js "d['last_upgrade']")"
rss=$(sed -n 's/^maxrss //p' "$T/.err")
# One prefix (20 MiB of base here) and one 8 MiB frame; a SANITIZE=1 build gets twice the bound, as for test_pkg_zstd.
limit=49152
nm "$B/fwctl" | grep -q __asan_init && limit=98304
[ "$rss" -le "$limit" ] || fail "delta install used $rss KiB"
ok "upgrade all (pri and sec on the base): sec rebuilt from pri's image, pri copied from the new sec; $rss KiB peak"

# Over HTTP: pri is copied from the sec this upgrade rebuilt, so no byte of pri's delta is fetched from a server
# that serves ranges (the reader passes over the entry, the transport jumps past it). From one that ignores
# Range (and says nothing of ranges) the bytes are read through, as before: never fetched twice.
# The pair has 6 MB of new bytes per image, so the delta entries are larger than what the device reads ahead
# (FEED_READ_AHEAD: the bytes of pri's entry it may fetch before the reader reaches the manifest's end).
. "$E2E/servers.sh"
"$PY" - <<'PYEOF'
import random
r = random.Random(8)
c = bytearray(open("a.img", "rb").read())
for _ in range(2000):
    o = r.randrange(len(c) - 5000)
    c[o:o + 3000] = r.randbytes(3000)
open("c.img", "wb").write(c)
PYEOF
mkdir www
"$B/mkpkg" -q -o www/big.pkg --version 5.22.0 --product WX --chunk-size 65536 \
	--pri c.img --sec c.img --boot boot2.img -k k.key --delta-from old.pkg
srv_nginx "$T/www"
total=$(stat -c %s www/big.pkg)
pri_entry=$("$PY" -c 'import sys,tarfile; print(tarfile.open(sys.argv[1]).getmember("WX-pri.img").size)' www/big.pkg)
for port in "$HTTP_PORT" "$NORANGE_PORT"; do
	D=$T/h$port && rm -rf "$D" && cp -a "$T/start" "$D"
	expect 0 'pri: copying WX-pri.img from sec' fw upgrade no-reboot all "http://127.0.0.1:$port/big.pkg"
	slotcmp pri c.img && slotcmp sec c.img && slotcmp boot boot2.img
	fetched=$(sed -n 's/.*fetched \([0-9]*\) bytes over http.*/\1/p' "$T/.err")
	if [ "$port" = "$HTTP_PORT" ]; then
		[ "$fetched" -le $((total - pri_entry + FEED_READ_AHEAD)) ] ||
			fail "fetched $fetched bytes of a $total-byte package whose pri delta ($pri_entry bytes) is not needed"
		grep -q "bytes not fetched" "$T/.err" || fail "no word of the bytes not fetched: $(cat "$T/.err")"
		# Every byte of the package is counted once: fetched (the bytes of pri's entry read ahead before the
		# jump among them: 'not needed (received all the same)'), or not fetched.
		spared=$(sed -n 's/.*; \([0-9]*\) bytes not fetched (not needed)).*/\1/p' "$T/.err")
		[ $((fetched + spared)) -eq "$total" ] ||
			fail "fetched $fetched + not fetched $spared is not the package's $total bytes: $(cat "$T/.err")"
		ranged=$fetched
	else
		[ "$fetched" -le "$total" ] || fail "a server ignoring Range: fetched $fetched bytes of a $total-byte package"
	fi
done
ok "upgrade all over HTTP: pri's delta ($pri_entry of $total bytes) not fetched ($ranged fetched); read through, once, from a server that ignores Range"

D=$T/d2 && rm -rf "$D" && cp -a "$T/start" "$D"
expect 0 '' fw upgrade no-reboot pri new.pkg
grep -q 'pri: rebuilding WX-pri.img from the delta against the image in sec' "$T/.err" || fail "$(cat "$T/.err")"
slotcmp pri b.img && slotcmp sec a.img
ok "upgrade pri: rebuilt from the image in sec, never from the slot it writes"

# A failed earlier upgrade: sec holds no valid image (a package with a bad sec chunk), pri still the base.
D=$T/d3 && rm -rf "$D" && cp -a "$T/start" "$D"
pkg_craft flipentry full.pkg badsec.pkg WX-sec.img middle
expect 1 '' fw upgrade no-reboot all badsec.pkg
[ "$(js "d['slots']['sec']['valid']")" = False ] || fail "the failed upgrade left sec valid"
expect 0 '' fw upgrade no-reboot all new.pkg
slotcmp pri b.img && slotcmp sec b.img
ok "after a failed upgrade (sec not valid): the delta rebuilds sec from pri, then pri from sec"

# No other slot holds the base: a fresh device (factory 5.20.0 everywhere). Refused before anything is written.
D=$T/d4 && fwinit
before=$(devsum)
expect 1 'sec: WX-sec.img is a delta against base image .*which no other slot holds: install the full package' \
	fw upgrade no-reboot all new.pkg
[ "$(devsum)" = "$before" ] || fail "a delta without its base changed the slots or records"
[ "$(js "d['last_upgrade']['result']")" = fileNotMatch ] || fail "$(js "d['last_upgrade']")"
expect 0 '' fw upgrade no-reboot all full.pkg
slotcmp pri b.img
ok "no slot holds the base: fileNotMatch, nothing written; the full package installs"

# A wrong base: a delta built against another old package (its images differ from what the slots hold).
"$PY" -c 'import sys; d=bytearray(open("a.img","rb").read()); d[5]^=1; open("a2.img","wb").write(d)'
"$B/mkpkg" -q -o old2.pkg --version 5.21.0 --product WX --chunk-size 65536 --pri a2.img --sec a2.img --boot boot1.img -k k.key
"$B/mkpkg" -q -o wrongbase.pkg --version 5.22.0 --product WX --chunk-size 65536 \
	--pri b.img --sec b.img --boot boot2.img -k k.key --delta-from old2.pkg
D=$T/d5 && rm -rf "$D" && cp -a "$T/start" "$D"
before=$(devsum)
expect 1 'which no other slot holds' fw upgrade no-reboot all wrongbase.pkg
[ "$(devsum)" = "$before" ] || fail "a delta against a wrong base changed the slots or records"
[ "$(js "d['last_upgrade']['result']")" = fileNotMatch ] || fail "$(js "d['last_upgrade']")"
ok "a delta against another base: fileNotMatch, nothing written"

# A corrupted base slot: pri's record names the base, its bytes differ (one flipped byte in the middle).
D=$T/d6 && rm -rf "$D" && cp -a "$T/start" "$D"
printf '\377' | dd of="$D/slots/pri" bs=1 seek=10000000 conv=notrunc status=none
before=$(devsum)
expect 1 'WX-sec.img: the image in pri: the base is not the delta.s base image' fw upgrade no-reboot all new.pkg
[ "$(devsum)" = "$before" ] || fail "a delta against a corrupted base slot changed the slots or records"
[ "$(js "d['last_upgrade']['result']")" = fileNotMatch ] || fail "$(js "d['last_upgrade']")"
ok "a corrupted base slot: checked before it is read, fileNotMatch, nothing written"

# The attacks on the package: a frame swapped in from another delta package, and a decompression bomb
# signed by the trusted key. sec is written first: either the attack is refused before sec is touched (sec
# still the base), or its record went not valid and no byte of the attack reached it: the slot holds only
# verified chunks of the new image (the bomb's first 8 MiB are the image's own), or nothing.
othersum() { for sl in pri boot; do cat "$D/slots/$sl" "$D/records/$sl.json"; done | sha256sum; }
attack() {
	what=$1 pattern=$2 pkg=$3
	D=$T/d7 && rm -rf "$D" && cp -a "$T/start" "$D"
	before=$(othersum)
	expect 1 "$pattern" "$B/fwpkg" verify -p k.pub --base a.img "$pkg"
	expect 1 "$pattern" fw upgrade no-reboot all "$pkg"
	[ "$(othersum)" = "$before" ] || fail "$what: changed the pri or boot slot or record"
	if ! cmp -s "$D/slots/sec" "$T/start/slots/sec"; then
		[ ! -s "$D/slots/sec" ] || cmp -s -n "$(stat -c %s "$D/slots/sec")" "$D/slots/sec" b.img ||
			fail "$what: sec holds $(stat -c %s "$D/slots/sec") bytes that are not the image's"
		[ "$(js "d['slots']['sec']['valid']")" = False ] || fail "$what: sec changed and still claimed valid"
	fi
	ok "$what: refused by verify and upgrade; nothing written"
}
# The other package: the same base, a target differing in one byte per MiB.
"$PY" -c 'd=bytearray(open("b.img","rb").read())
for i in range(0, len(d), 1 << 20): d[i] ^= 0x55
open("b2.img","wb").write(d)'
"$B/mkpkg" -q -o other.pkg --version 5.22.0 --product WX --chunk-size 65536 \
	--pri b2.img --sec b2.img --boot boot2.img -k k.key --delta-from old.pkg
mkdir other && (cd other && tar xf ../other.pkg)
pkg_craft replace new.pkg swap.pkg WX-sec.img WX-sec.img other/WX-sec.img
attack "a frame swapped in from another delta package" 'WX-sec.img: (compressed chunk 0 .*SHA-256 mismatch|.*bytes, but the manifest says)' swap.pkg
"$PY" "$E2E/zcraft.py" new.pkg swap2.pkg k.key WX-sec.img other/WX-sec.img
attack "a frame from another package, signed by the trusted key" 'WX-sec.img: .*chunk [0-9]+ .*SHA-256 mismatch' swap2.pkg
{ cat b.img; head -c 16777216 /dev/zero; } | zstd -q -3 -c >bomb.zst
"$PY" "$E2E/zcraft.py" new.pkg bomb.pkg k.key WX-sec.img bomb.zst
attack "a decompression bomb" 'frame 0 decodes to more than its declared 8388608 bytes' bomb.pkg

# A power cut while pri is copied from sec, then the same upgrade again: sec (committed) is verified in
# place, pri copied again.
D=$T/d8 && rm -rf "$D" && cp -a "$T/start" "$D"
n=1 at=""
while [ -z "$at" ]; do
	rm -rf "$T/probe" && cp -a "$T/start" "$T/probe"
	set +e
	FWCTL_CRASH_AT=$n "$B/fwctl" --root "$T/probe" upgrade no-reboot all new.pkg >/dev/null 2>"$T/probe.err"
	rc=$?
	set -e
	[ $rc -eq 99 ] || fail "no write into pri among $n crash points (exit $rc)"
	grep -q "stopping before writing .*slots/pri" "$T/probe.err" && at=$n
	n=$((n + 1))
done
set +e
FWCTL_CRASH_AT=$at "$B/fwctl" --root "$D" upgrade no-reboot all new.pkg >/dev/null 2>"$T/cut.err"
rc=$?
set -e
[ $rc -eq 99 ] || fail "power cut at $at: exit $rc"
expect 0 '' fw boot
[ "$(js "d['booted']")" = sec ] || fail "after the cut in pri: booted $(js "d['booted']")"
expect 0 '' fw upgrade no-reboot all new.pkg
grep -q 'sec: holds WX-sec.img 5.22.0 already: verifying it in place' "$T/.err" || fail "$(cat "$T/.err")"
slotcmp pri b.img && slotcmp sec b.img
ok "a power cut while pri is written: sec boots; the same upgrade again verifies sec in place and copies pri"

echo "all $TESTS checks passed"
