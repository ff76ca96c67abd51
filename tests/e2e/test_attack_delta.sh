#!/bin/sh
# test_attack_delta: compressed and delta packages crafted by hand and signed by the trusted key (a broken builder or a stolen key), and sparse images damaged where they are zeros: each refused by fwpkg and fwctl with one line and its exit code, nothing written; and what a reader that did not rebuild a delta says of it.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

command -v zstd >/dev/null || fail "zstd (the stock tool) is needed: scripts/install-deps"
keypair k
# A (the base) is sparse: 6 MiB of zeros but for two short runs, and a last chunk (5000 bytes) of zeros;
# B, its update, differs in a few places. 64 KiB chunks: most of A's chunks are all zeros.
"$PY" - <<'PYEOF'
import random
r = random.Random(11)
a = bytearray((6 << 20) + 5000)
a[100:4196] = r.randbytes(4096)
a[3 << 20:(3 << 20) + 70000] = r.randbytes(70000)
b = bytearray(a)
for o in (5000, 2 << 20, 5 << 20):
    b[o:o + 3000] = r.randbytes(3000)
open("a.img", "wb").write(a)
open("b.img", "wb").write(b)
open("boot.img", "wb").write(r.randbytes(20000))
PYEOF
"$B/mkpkg" -q -o old.pkg --version 5.21.0 --product WX --chunk-size 65536 --pri a.img --sec a.img --boot boot.img -k k.key
"$B/mkpkg" -q -o new.pkg --version 5.22.0 --product WX --chunk-size 65536 --pri b.img --sec b.img --boot boot.img \
	-k k.key --delta-from old.pkg
"$B/mkpkg" -q -o full.pkg --version 5.22.0 --product WX --chunk-size 65536 --pri b.img --sec b.img --boot boot.img \
	-k k.key --compress zstd
D=$T/start
expect 0 '' fw init --product WX --trust k.pub --version 5.20.0
expect 0 '' fw upgrade no-reboot all old.pkg
expect 0 '' fw boot
expect 0 '' fw mark-good
devsum() { { treesum "$D/slots"; treesum "$D/records"; } | sha256sum; }
fresh() { D=$T/$1 && rm -rf "$D" && cp -a "$T/start" "$D"; }
# one_line: the refusal is one line on stderr (fwctl's notes of what it does come before its error: not checked there).
one_line() { [ "$(wc -l <"$T/.err")" -eq 1 ] || fail "$1: not one line: $(cat "$T/.err")"; }

# --- a reader that does not rebuild a delta says so and shows no made-up digest
expect 0 '' "$B/fwpkg" inspect --sha256 new.pkg
grep -q '^  sec .*WX-sec.img .*not rebuilt' "$T/.out" || fail "inspect --sha256 of a delta: $(grep WX-sec "$T/.out")"
grep -q '0000000000000000000000000000000000000000000000000000000000000000' "$T/.out" &&
	fail "inspect --sha256 shows a digest of zeros for an image it did not rebuild"
expect 0 '' "$B/fwpkg" inspect -p k.pub new.pkg
grep -q '^Status: .*verified .*delta images not rebuilt' "$T/.out" || fail "inspect -p of a delta: $(grep Status "$T/.out")"
expect 0 '' "$B/fwpkg" inspect --json --sha256 -p k.pub new.pkg
"$PY" - "$T/.out" <<'PYEOF' || fail "inspect --json of a delta: $(cat "$T/.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verified"] and d["not_rebuilt"] == ["WX-sec.img", "WX-pri.img"], d.get("not_rebuilt")
assert d["sha256"]["WX-sec.img"] is None and d["sha256"]["WX-pri.img"] is None, d["sha256"]
assert len(d["sha256"]["WX-boot.img"]) == 64, d["sha256"]
PYEOF
ok "inspect of a delta without its base: status, --sha256 column and JSON (sha256 null, not_rebuilt) say the image was not rebuilt"

# --- a sparse base damaged where it is zeros: one bit in an all-zero chunk, one in the short last chunk.
# Every chunk of zeros of one length has the same digest: the base check must still see the bit.
for at in $((1 << 20)) $(((6 << 20) + 4999)); do
	"$PY" -c 'import sys; d=bytearray(open("a.img","rb").read()); d[int(sys.argv[1])]^=0x10; open("abad.img","wb").write(d)' "$at"
	expect 1 "new.pkg: payload WX-sec.img: --base abad.img: the base is not the delta.s base image" \
		"$B/fwpkg" verify -p k.pub --base abad.img new.pkg
	one_line "verify --base, a bit flipped at $at"
	rm -rf x
	expect 1 "the base is not the delta.s base image" "$B/fwpkg" extract -C x -p k.pub --base abad.img new.pkg
	[ ! -e x ] || [ -z "$(ls -A x)" ] || fail "extract against a damaged base left $(ls -A x)"
	fresh "zbit$at"
	cp abad.img "$D/slots/pri"
	before=$(devsum)
	expect 1 'WX-sec.img: the image in pri: the base is not the delta.s base image' fw upgrade no-reboot all new.pkg
	[ "$(devsum)" = "$before" ] || fail "a delta against a base slot with a bit flipped at $at changed the slots or records"
	[ "$(js "d['last_upgrade']['result']")" = fileNotMatch ] || fail "$(js "d['last_upgrade']")"
done
ok "a sparse base with one bit flipped in a zero chunk, or in its short last chunk of zeros: refused by verify, extract and upgrade (fileNotMatch), nothing written"

# A slot whose record names the delta's new image but whose bytes differ (one bit flipped where the image is
# zeros): copying pri from it, or verifying it in place, is refused before anything changes: fileNotMatch, the
# running pri untouched (a copy found bad half way had spent pri, the last valid image, and said to retry).
fresh copy
expect 0 'sec: rebuilding WX-sec.img from the delta against the image in pri' fw upgrade no-reboot sec new.pkg
"$PY" -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(1<<20); b=f.read(1); f.seek(1<<20); f.write(bytes([b[0]^4]))' "$D/slots/sec"
before=$(devsum)
expect 1 'new.pkg: payload WX-pri.img: sec: its bytes are not WX-pri.img 5.22.0, which its record names: nothing written; install the full package' \
	fw upgrade no-reboot pri new.pkg
[ "$(devsum)" = "$before" ] || fail "a copy from a damaged sec changed the slots or records"
[ "$(js "d['last_upgrade']['result'], d['slots']['pri']['valid'], d['slots']['pri']['version']")" = "fileNotMatch True 5.21.0" ] ||
	fail "after a copy from a damaged sec: $(js "d['last_upgrade'], d['slots']['pri']")"
expect 1 'new.pkg: payload WX-sec.img: sec: its bytes are not WX-sec.img 5.22.0, which its record names' \
	fw upgrade force no-reboot sec new.pkg
[ "$(devsum)" = "$before" ] || fail "verifying a damaged sec in place changed the slots or records"
expect 0 '' fw upgrade force no-reboot all full.pkg
cmp -s "$D/slots/sec" b.img && cmp -s "$D/slots/pri" b.img || fail "the full package after the refusals"
ok "a slot whose record names the new image but whose bytes differ: copying pri from it and verifying it in place are refused (fileNotMatch), nothing written, pri still valid; the full package installs"

# The same in a package: a sparse image whose zero chunk (and zero last chunk) carry one bit set, read by
# every path that hashes: verify on all cores, upgrade from a file and from standard input.
"$B/mkpkg" -q -o sparse.pkg --version 5.22.0 --product WX --chunk-size 65536 --pri a.img --sec a.img --boot boot.img -k k.key
start=$("$PY" "$E2E/craft.py" offset sparse.pkg WX-sec.img first)
for at in $((1 << 20)) $(((6 << 20) + 4999)); do
	pkg_craft flip sparse.pkg sbad.pkg $((start + at))
	expect 1 "sbad.pkg: payload WX-sec.img: chunk [0-9]+ .*SHA-256 mismatch" "$B/fwpkg" verify -p k.pub sbad.pkg
	one_line "verify of a package with a bit flipped at $at"
	for src in sbad.pkg -; do
		fresh "sp$at"
		before=$(devsum)
		set +e
		"$B/fwctl" --root "$D" upgrade no-reboot sec "$src" <sbad.pkg >/dev/null 2>"$T/.err"
		rc=$?
		set -e
		[ $rc -eq 1 ] || fail "upgrade sec $src, a bit flipped at $at: exit $rc: $(cat "$T/.err")"
		grep -Eq 'WX-sec.img: chunk [0-9]+ .*SHA-256 mismatch' "$T/.err" || fail "upgrade sec $src: $(cat "$T/.err")"
		cmp -s -n "$(stat -c %s "$D/slots/sec")" "$D/slots/sec" a.img || fail "upgrade sec $src: bytes of the damaged chunk reached sec"
		[ "$(js "d['slots']['sec']['valid']")" = False ] || fail "upgrade sec $src: sec claimed valid"
	done
done
ok "a sparse image with one bit set in a zero chunk or its zero last chunk: refused by verify and by upgrade from a file and from stdin; only verified chunks of the image reach the slot"

# --- deltas whose frame size or margin the manifest's window does not cover, signed by the trusted key.
# Frames built as mkpkg would, each with its prefix of the base (zstd --patch-from with that prefix).
mkdir stock && (cd stock && tar xf ../new.pkg)
deltaz() { # deltaz FRAME MARGIN OUT
	"$PY" - "$1" "$2" "$3" <<'PYEOF'
import subprocess, sys
f, margin, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
a, b = open("a.img", "rb").read(), open("b.img", "rb").read()
z = b""
for k in range((len(b) + f - 1) // f):
    hi = min(len(a), k * f + f + margin)
    lo = min(max(0, k * f - margin), hi)
    open("prefix.bin", "wb").write(a[lo:hi])
    open("part.bin", "wb").write(b[k * f:(k + 1) * f])
    z += subprocess.run(["zstd", "-q", "-3", "-c", "--patch-from=prefix.bin", "part.bin"], check=True,
                        capture_output=True).stdout
open(out, "wb").write(z)
PYEOF
}
wide() { # wide WHAT PATTERN PKG
	w_what=$1 w_pat=$2 w_pkg=$3
	expect 1 "$w_pkg: manifest: \"$w_pat" "$B/fwpkg" inspect "$w_pkg"
	expect 1 "$w_pkg: manifest: \"$w_pat" "$B/fwpkg" verify -p k.pub --base a.img "$w_pkg"
	one_line "$w_what: verify"
	rm -rf x
	expect 1 "$w_pkg: manifest: \"$w_pat" "$B/fwpkg" extract -C x -p k.pub --base a.img "$w_pkg"
	[ ! -e x ] || [ -z "$(ls -A x)" ] || fail "$w_what: extract left $(ls -A x)"
	fresh wide
	before=$(devsum)
	expect 1 "$w_pat" fw upgrade no-reboot all "$w_pkg"
	one_line "$w_what: upgrade"
	[ "$(devsum)" = "$before" ] || fail "$w_what: changed the slots or records"
	ok "$w_what: refused by inspect, verify, extract and upgrade, nothing written"
}
deltaz $((256 << 20)) $((24 << 20)) big.zst
"$PY" "$E2E/zcraft.py" new.pkg bigframe.pkg k.key WX-sec.img big.zst frame_size=$((256 << 20))
wide "a delta frame of 256 MiB under its window of 2^26" \
	'images\[0\]\.compression\.window_log" is 26: a delta frame of 268435456 bytes and its prefix \(margin 25165824\) need 2\^30' bigframe.pkg
deltaz $((8 << 20)) $((64 << 20)) margin.zst
"$PY" "$E2E/zcraft.py" new.pkg margin.pkg k.key WX-sec.img margin.zst base.margin=$((64 << 20)) window_log=27
wide "a delta margin of 64 MiB (no window covers it)" \
	'images\[0\]\.compression\.window_log" is 27: a delta frame of 8388608 bytes and its prefix \(margin 67108864\) need 2\^28' margin.pkg
# The control: the same frames under the frame size and margin the manifest says are taken.
deltaz $((8 << 20)) $((24 << 20)) same.zst
"$PY" "$E2E/zcraft.py" new.pkg same.pkg k.key WX-sec.img same.zst
expect 0 '' "$B/fwpkg" verify -p k.pub --base a.img same.pkg
ok "the control: frames built the same way under mkpkg's frame size and margin verify"

# --- frames whose headers lie, signed: a content size above the frame's, a skippable frame that claims 4 GiB.
fcs() { # fcs IN OUT: the one frame of IN with its content size field one more
	"$PY" - "$1" "$2" <<'PYEOF'
import sys
z = bytearray(open(sys.argv[1], "rb").read())
assert z[:4] == b"\x28\xb5\x2f\xfd"
fhd = z[4]
single, flag = (fhd >> 5) & 1, fhd >> 6
size = [1 if single else 0, 2, 4, 8][flag]
assert size in (4, 8), fhd   # the images here are > 64 KiB: a 4- or 8-byte field
at = 5 + (0 if single else 1) + [0, 1, 2, 4][fhd & 3]
v = int.from_bytes(z[at:at + size], "little") + 1
z[at:at + size] = v.to_bytes(size, "little")
open(sys.argv[2], "wb").write(z)
PYEOF
}
mkdir full && (cd full && tar xf ../full.pkg)
fcs full/WX-sec.img more.zst
"$PY" "$E2E/zcraft.py" full.pkg more.pkg k.key WX-sec.img more.zst
{ "$PY" -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<II", 0x184D2A50, 0xFFFFFFFF))'; cat full/WX-sec.img; } >skip.zst
"$PY" "$E2E/zcraft.py" full.pkg skip.pkg k.key WX-sec.img skip.zst
# A legacy (v0.7) frame, which libzstd decodes by code of its own that takes no window cap: window 2^27 in its
# header, raw blocks holding the very image, so it decodes right (an older reader took it, and 2^27 bytes of window).
"$PY" - <<'PYEOF'
import struct
img, out = open("b.img", "rb").read(), bytearray()
out += struct.pack("<I", 0xFD2FB527) + bytes([0x00, (27 - 10) << 3])
for i in range(0, len(img), 128 << 10):
    blk = img[i:i + (128 << 10)]
    out += bytes([(1 << 6) | (len(blk) >> 16), (len(blk) >> 8) & 255, len(blk) & 255]) + blk
open("legacy.zst", "wb").write(out + bytes([0xC0, 0, 0]))
PYEOF
"$PY" "$E2E/zcraft.py" full.pkg legacy.pkg k.key WX-sec.img legacy.zst
for c in "more|a frame whose header declares one byte more than it holds|WX-sec.img: frame 0" \
	 "skip|a skippable frame claiming 4 GiB before the image's frame|WX-sec.img: frame 0 is not a zstd frame" \
	 "legacy|a legacy zstd v0.7 frame asking for a 2^27-byte window|WX-sec.img: frame 0 is not a zstd frame \\(RFC 8878\\)"; do
	h_pkg=${c%%|*} rest=${c#*|}
	h_what=${rest%%|*} h_pat=${rest#*|}
	expect 1 "$h_pat" "$B/fwpkg" verify -p k.pub "$h_pkg.pkg"
	one_line "$h_what: verify"
	fresh "h$h_pkg"
	others=$(for s in pri boot; do cat "$D/slots/$s" "$D/records/$s.json"; done | sha256sum)
	expect 1 "$h_pat" /usr/bin/time -f 'maxrss %M' "$B/fwctl" --root "$D" upgrade no-reboot all "$h_pkg.pkg"
	rss=$(sed -n 's/^maxrss //p' "$T/.err")
	[ "$rss" -le 98304 ] || fail "$h_what: $rss KiB"
	[ "$(for s in pri boot; do cat "$D/slots/$s" "$D/records/$s.json"; done | sha256sum)" = "$others" ] ||
		fail "$h_what: changed pri or boot"
	[ ! -s "$D/slots/sec" ] || cmp -s -n "$(stat -c %s "$D/slots/sec")" "$D/slots/sec" b.img ||
		fail "$h_what: sec holds bytes that are not the image's"
	[ "$(js "d['slots']['sec']['valid']")" = False ] || fail "$h_what: sec claimed valid"
	ok "$h_what: refused by verify and upgrade; only verified image bytes in sec, pri and boot untouched"
done

echo "all $TESTS checks passed"
