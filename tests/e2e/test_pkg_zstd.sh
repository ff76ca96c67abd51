#!/bin/sh
# test_pkg_zstd: compressed payloads (mkpkg/mkwmopkg --compress): stock tar + zstd -d recover the images, every reader gets verified images, and the attacks are refused with nothing written.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

command -v zstd >/dev/null || fail "zstd (the stock tool) is needed: scripts/install-deps"
keypair k
# pri spans two frames (32 MiB each) and compresses well; sec does not compress at all; boot is small.
seq 1 6000000 | head -c 40000000 >pri.img
randfile sec.img 9000
{ echo "boot image"; head -c 3000 /dev/zero; } >boot.img
"$B/mkpkg" -q -o fw.pkg --version 5.21.0 --product WX --chunk-size 4096 \
	--pri pri.img --sec sec.img --boot boot.img -k k.key --compress zstd:3
[ "$(stat -c %s fw.pkg)" -lt 20000000 ] || fail "compressed package is $(stat -c %s fw.pkg) bytes"
ok "mkpkg --compress zstd:3 builds a package smaller than its images"

# --- the format: version 3, each payload's "compression", stock tools
mkdir stock
(cd stock && tar xf ../fw.pkg) || fail "stock tar cannot unpack a compressed package"
"$PY" - stock/manifest.json <<'PYEOF' || fail "manifest does not describe the compression"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["format_version"] == 3, m["format_version"]
for im in m["images"]:
    c = im["compression"]
    assert c["algorithm"] == "zstd" and c["level"] == 3 and c["window_log"] <= 23, c
    assert c["frame_size"] == 33554432 and c["chunk_size"] <= 1048576, c
PYEOF
for t in pri sec boot; do
	zstd -q -d -c "stock/WX-$t.img" | cmp - "$t.img" || fail "zstd -d of the $t entry is not the image"
done
ok "format_version 3; stock tar xf then zstd -d gives back every image (pri from two frames)"

# --- every reader: verify, inspect (the ratio), extract
expect 0 '' "$B/fwpkg" verify -p k.pub fw.pkg
expect 0 '' "$B/fwpkg" inspect fw.pkg
grep -q 'format fwpkg 3' "$T/.out" || fail "inspect does not show format 3"
grep -Eq '^  WX-pri\.img +zstd:3 +40000000 +[0-9]+ +[0-9.]+x +32 MiB' "$T/.out" || fail "inspect shows no ratio: $(cat "$T/.out")"
expect 0 '' "$B/fwpkg" inspect --json fw.pkg
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); b=d["payload_bytes"]; assert b["size"]==40012011 and b["stored"]<b["size"] and b["ratio"]>2, b' "$T/.out" ||
	fail "inspect --json lacks payload_bytes"
mkdir out
expect 0 '' "$B/fwpkg" extract -C out -p k.pub fw.pkg
for t in pri sec boot; do cmp "out/WX-$t.img" "$t.img" || fail "extract: $t differs"; done
ok "verify, inspect (format 3, ratio), extract give the very images"

# --- reproducible
"$B/mkpkg" -q -o fw2.pkg --version 5.21.0 --product WX --chunk-size 4096 \
	--pri pri.img --sec sec.img --boot boot.img -k k.key --compress zstd:3
cmp fw.pkg fw2.pkg || fail "two builds of the same compressed package differ"
ok "the same inputs give the same compressed package, byte for byte"

# --- the device: upgrade from a file, verified images in the slots
D=$T/dev
slotsum() { { treesum "$D/slots"; treesum "$D/records"; } | sha256sum; }
expect 0 '' fw init --product WX --trust k.pub --version 5.20.0
expect 0 '' /usr/bin/time -f 'maxrss %M' "$B/fwctl" --root "$D" upgrade no-reboot all fw.pkg
for t in pri sec boot; do
	cmp -n "$(stat -c %s "$t.img")" "$D/slots/$t" "$t.img" || fail "slot $t does not hold the image"
done
rss=$(sed -n 's/^maxrss //p' "$T/.err")
# 24 MiB is the plain build's bound (DESIGN.md); a SANITIZE=1 build adds ASan's shadow memory and quarantine,
# so there it gets twice that: still far below the frames (32 MiB each) an unbounded decoder would hold.
limit=24576
nm "$B/fwctl" | grep -q __asan_init && limit=49152
[ "$rss" -le "$limit" ] || fail "compressed install used $rss KiB, more than $((limit / 1024)) MiB"
ok "fwctl upgrade all installs a compressed package ($rss KiB peak)"

# --- mkwmopkg --compress
mkdir -p tree/files/etc
seq 1 20000 >tree/files/etc/big.conf
echo small >tree/files/etc/small.conf
"$B/mkwmopkg" -q -o mod.wmopkg -C tree --version 1.0 --product WX -k k.key --compress zstd || fail "mkwmopkg --compress"
expect 0 '' "$B/fwpkg" verify -p k.pub mod.wmopkg
mkdir mout
expect 0 '' "$B/fwpkg" extract -C mout -p k.pub mod.wmopkg
cmp mout/files/etc/big.conf tree/files/etc/big.conf || fail "extract of a compressed .wmopkg differs"
ok "mkwmopkg --compress: verified and extracted"

# --- attacks: refused (exit 1), nothing written. The attack is in sec, the image written first:
# as for an uncompressed package whose first chunk is bad, the device opened that slot (it holds
# no valid image now, and says so) but not one byte of the attack reached it; pri and boot, their
# records and the running system are untouched.
D2=$T/dev2
D=$D2
expect 0 '' fw init --product WX --trust k.pub --version 5.20.0
othersum() { for s in pri boot; do cat "$D/slots/$s" "$D/records/$s.json"; done | sha256sum; }
refused() {
	what=$1 pattern=$2 pkg=$3
	before=$(othersum)
	expect 1 "$pattern" "$B/fwpkg" verify -p k.pub "$pkg"
	rm -rf x && mkdir x
	expect 1 "$pattern" "$B/fwpkg" extract -C x -p k.pub "$pkg"
	[ -z "$(ls -A x)" ] || fail "$what: extract left $(ls -A x)"
	expect 1 "$pattern" fw upgrade no-reboot all "$pkg"
	[ "$(othersum)" = "$before" ] || fail "$what: changed the pri or boot slot or record"
	[ ! -s "$D/slots/sec" ] || fail "$what: $(stat -c %s "$D/slots/sec") bytes written to sec"
	[ "$(js "d['slots']['sec']['valid']" 2>/dev/null || echo False)" != True ] || fail "$what: sec still claimed valid"
	ok "$what: refused by verify, extract and upgrade; nothing written"
}

# A corrupted compressed chunk (the sec image is written first: its first piece).
pkg_craft flipentry fw.pkg flip.pkg WX-sec.img first
refused "a corrupted compressed chunk" 'WX-sec.img.*compressed chunk 0 .*SHA-256 mismatch' flip.pkg

# A payload swapped in from another package (the same images but sec, built by the same key).
randfile sec2.img 9000
"$B/mkpkg" -q -o other.pkg --version 5.21.0 --product WX --chunk-size 4096 \
	--pri pri.img --sec sec2.img --boot boot.img -k k.key --compress zstd:3
mkdir other && (cd other && tar xf ../other.pkg)
pkg_craft replace fw.pkg swap.pkg WX-sec.img WX-sec.img other/WX-sec.img
refused "a frame swapped in from another package" 'WX-sec.img: (compressed chunk 0 .*SHA-256 mismatch|.*size)' swap.pkg

# A decompression bomb, signed by the trusted key (a stolen key or a broken builder): the sec image
# and 16 MiB more in one frame that declares no size; stopped at the declared 9000 bytes.
{ cat sec.img; head -c 16777216 /dev/zero; } | zstd -q -3 -c >bomb.zst
"$PY" "$E2E/zcraft.py" fw.pkg bomb.pkg k.key WX-sec.img bomb.zst
refused "a decompression bomb" 'frame 0 decodes to more than its declared 9000 bytes' bomb.pkg

# A frame asking for a window above the package's cap (2^27 > 2^21), signed as well.
head -c 3000000 /dev/urandom | zstd -q -3 --zstd=wlog=27 -c >wide.zst
"$PY" "$E2E/zcraft.py" fw.pkg wide.pkg k.key WX-sec.img wide.zst
refused "a window above the cap" 'frame 0 asks for a window above the package.s cap of 2\^21 bytes' wide.pkg

# --- the frames of a many-frame image, signed by the trusted key (a broken builder or a stolen key):
# cut at each frame boundary, frames reordered, a frame repeated, an empty frame after the last, a
# skippable frame between two. sec (written first) is the 40 MB image here: two frames of 32 MiB.
# Whatever verified chunks reached sec are the image's own; its record says not valid; pri and boot untouched.
"$B/mkpkg" -q -o many.pkg --version 5.21.0 --product WX --chunk-size 4096 \
	--pri sec.img --sec pri.img --boot boot.img -k k.key --compress zstd:3
mkdir many && (cd many && tar xf ../many.pkg)
"$PY" - many/WX-sec.img <<'PYEOF'
import struct, sys
z = open(sys.argv[1], "rb").read()
# Frame boundaries from the frames' own headers: no checksum, no dictionary, a known content size (as mkpkg
# writes them); each block's 3-byte header gives its size.
offs, i = [], 0
while i < len(z):
    offs.append(i)
    assert z[i:i + 4] == b"\x28\xb5\x2f\xfd", i
    fhd = z[i + 4]
    single, fcs_flag = (fhd >> 5) & 1, fhd >> 6
    i += 5 + (0 if single else 1) + [1 if single else 0, 2, 4, 8][fcs_flag] + [0, 1, 2, 4][fhd & 3]
    while True:
        h = int.from_bytes(z[i:i + 3], "little")
        last, btype, size = h & 1, (h >> 1) & 3, h >> 3
        i += 3 + (1 if btype == 1 else size)
        if last:
            break
    i += 4 if fhd & 4 else 0
offs.append(len(z))
assert len(offs) >= 3, offs
f = [z[offs[k]:offs[k + 1]] for k in range(len(offs) - 1)]
for k in range(1, len(f)):
    open("cut%d.zst" % k, "wb").write(b"".join(f[:k]))
open("order.zst", "wb").write(f[1] + f[0] + b"".join(f[2:]))
open("again.zst", "wb").write(f[0] + z)
open("empty.zst", "wb").write(z + bytes.fromhex("28b52ffd2000010000"))
open("skip.zst", "wb").write(f[0] + struct.pack("<II", 0x184D2A50, 4) + b"ABCD" + b"".join(f[1:]))
open("nframes", "w").write(str(len(f)))
PYEOF
frames=$(cat nframes)
othersum() { for s in pri boot; do cat "$D/slots/$s" "$D/records/$s.json"; done | sha256sum; }
crafted() {
	# Names of their own: expect sets code and pattern, and the first call below would blank the pattern.
	c_what=$1 c_pat=$2 c_z=$3
	"$PY" "$E2E/zcraft.py" many.pkg "$c_z.pkg" k.key WX-sec.img "$c_z.zst"
	cp "$c_z.pkg" www/
	expect 0 '' "$B/fwpkg" inspect "$c_z.pkg"   # the manifest only: nothing of the payload is read
	expect 1 "$c_pat" "$B/fwpkg" verify -p k.pub "$c_z.pkg"
	rm -rf x && mkdir x
	expect 1 "$c_pat" "$B/fwpkg" extract -C x -p k.pub "$c_z.pkg"
	[ -z "$(ls -A x)" ] || fail "$c_what: extract left $(ls -A x)"
	for src in "$c_z.pkg" "$H/$c_z.pkg"; do
		rm -rf "$D" && cp -a "$T/template" "$D"
		before=$(othersum)
		expect 1 "$c_pat" fw upgrade no-reboot all "$src"
		[ "$(othersum)" = "$before" ] || fail "$c_what ($src): changed the pri or boot slot or record"
		[ ! -s "$D/slots/sec" ] || cmp -s -n "$(stat -c %s "$D/slots/sec")" "$D/slots/sec" pri.img ||
			fail "$c_what ($src): sec holds bytes that are not the image's"
		[ "$(js "d['slots']['sec']['valid']")" = False ] || fail "$c_what ($src): sec claimed valid"
	done
}

# --- over HTTP, and a power cut in the middle: a compressed image's slot holds decoded bytes, no
# package bytes, so the resume record never vouches for it and the same upgrade fetches it whole again.
. "$E2E/servers.sh"
mkdir www
cp fw.pkg www/fw.pkg
srv_nginx "$T/www"
H=http://127.0.0.1:$HTTP_PORT
D=$T/dev3
expect 0 '' fw init --product WX --trust k.pub --version 5.20.0
cp -a "$D" "$T/template"
expect 0 '' fw upgrade no-reboot all "$H/fw.pkg"
for t in pri sec boot; do cmp -n "$(stat -c %s "$t.img")" "$D/slots/$t" "$t.img" || fail "HTTP: slot $t"; done
ok "fwctl upgrade all over HTTP installs a compressed package"

k=1
while [ $k -lt "$frames" ]; do
	crafted "cut after frame $k" "WX-sec.img: the compressed data ends inside frame $k of $frames" "cut$k"
	k=$((k + 1))
done
crafted "frames reordered" 'WX-sec.img: chunk 0 \(bytes 0\.\.4095\): SHA-256 mismatch' order
crafted "a frame repeated" 'WX-sec.img: chunk [0-9]+ \(bytes [0-9.]+\): SHA-256 mismatch' again
crafted "an empty frame after the last" "WX-sec.img: compressed data after the last of its $frames frames" empty
crafted "a skippable frame between two" 'WX-sec.img: frame 1 is not a zstd frame \(RFC 8878\): a skippable or legacy-format frame is refused' skip
ok "signed frames cut at each frame boundary ($((frames - 1))), reordered, repeated, an empty or skippable frame added: refused by verify, extract, upgrade from a file and over HTTP; only the image's own verified bytes reach sec, pri and boot untouched"

# The crash point before the 3rd write into the primary (40 MB of image: several write-back windows).
n=1 c=0 at=""
while [ -z "$at" ]; do
	rm -rf "$T/probe" && cp -a "$T/template" "$T/probe"
	set +e
	FWCTL_CRASH_AT=$n "$B/fwctl" --root "$T/probe" upgrade no-reboot all "$H/fw.pkg" >/dev/null 2>"$T/probe.err"
	rc=$?
	set -e
	[ $rc -eq 99 ] || fail "no 3rd write into pri among $n crash points (exit $rc)"
	if grep -q "stopping before writing .*slots/pri" "$T/probe.err"; then
		c=$((c + 1))
		[ $c -lt 3 ] || at=$n
	fi
	n=$((n + 1))
done
rm -rf "$D" && cp -a "$T/template" "$D"
set +e
FWCTL_CRASH_AT=$at "$B/fwctl" --root "$D" upgrade no-reboot all "$H/fw.pkg" >/dev/null 2>"$T/cut.err"
rc=$?
set -e
[ $rc -eq 99 ] || fail "power cut at $at: exit $rc: $(cat "$T/cut.err")"
expect 0 '' fw boot
[ -s "$D/slots/pri" ] || fail "the cut left nothing in pri: not a cut in its middle"
# A compressed image's entry names a frame boundary (fwctl(8), "Resuming after a power cut"): pri was cut in
# its first frame, so none of it; sec and boot, committed before, whole.
if [ -e "$D/upgrade.resume" ]; then
	"$PY" -c "import json,sys; r=json.load(open(sys.argv[1]))
assert all('compressed' in i and i['kept'] in (0, i['size']) for i in r['images']), r
assert all(i['kept'] == 0 for i in r['images'] if i['slot'] == 'pri'), r" \
		"$D/upgrade.resume" || fail "the record vouches for a part of a compressed frame: $(cat "$D/upgrade.resume")"
fi
expect 0 '' fw upgrade no-reboot all "$H/fw.pkg"
for t in pri sec boot; do cmp -n "$(stat -c %s "$t.img")" "$D/slots/$t" "$t.img" || fail "after the cut: slot $t"; done
[ "$(js "d['last_upgrade']['result'], d['resume']")" = "success None" ] || fail "$(js "d['last_upgrade'], d['resume']")"
ok "a power cut in the first frame of a compressed image: the same upgrade writes it from that frame and installs it"

echo "all $TESTS checks passed"
