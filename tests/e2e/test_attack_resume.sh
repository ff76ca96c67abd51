#!/bin/sh
# test_attack_resume: the resume record (ROOT/upgrade.resume) is a hint, never trusted: a record edited by hand,
# a server that changes or lies, a slot changed between runs. Whatever it says, a resumed upgrade installs the
# right image or starts over or refuses: no byte the reader did not verify reaches a committed slot
# (formats/pkg.md sections 9 and 10, fwctl(8) "Resuming after a power cut"). Real nginx and the fault proxy.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

D=$T/dev
keypair k
# y.img is both system images (as in most installations); 6 frames of 1 MiB, random (the payload is as long).
randfile y.img 6000000
randfile boot.img 100000
mkdir www
for z in z u; do
	"$B/mkpkg" -q -o www/$z.pkg --version 5.21.1 --product WX --pri y.img --sec y.img --boot boot.img -k k.key \
		$([ $z = z ] && echo --compress zstd --frame-size 1048576)
done
srv_nginx "$T/www"
srv_proxy http "$HTTP_PORT"
P=http://127.0.0.1:$PROXY_PORT

"$B/fwctl" --root "$T/template" -q init --product WX --trust "$T/k.pub" --version 5.21.0 >/dev/null
"$B/fwctl" --root "$T/template" -q config net-retries 0
fresh() { rm -rf "$D"; cp -a "$T/template" "$D"; }
# edit PYTHON: run PYTHON over the record as d (a dict), then write it back.
edit() { "$PY" -c "import json, sys; p = sys.argv[1]; d = json.load(open(p)); $1; json.dump(d, open(p, 'w'))" "$D/upgrade.resume"; }
flip() { "$PY" -c "import sys; f = open(sys.argv[1], 'r+b'); o = int(sys.argv[2]); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))" "$D/slots/$1" "$2"; }
# cut_pri PKG: a device whose sec holds y.img (PKG from a file), then 'upgrade pri' of PKG over the proxy cut
# at 4.5 MB of pri's payload: a record naming the first frames (or bytes) of pri.
cut_pri() {
	fresh
	expect 0 "" fw upgrade no-reboot sec "$T/www/$1"
	echo "cut $(($("$PY" "$E2E/craft.py" offset "www/$1" WX-pri.img first) + 4500000))" >"$PROXY_PLAN"
	expect 4 "" fw upgrade no-reboot pri "$P/$1"
	[ "$(edit 'print([i["kept"] for i in d["images"] if i["slot"] == "pri"][0], file=sys.stderr)' 2>&1)" -gt 0 ] ||
		fail "the cut kept nothing of pri: $(cat "$D/upgrade.resume")"
}
# pri_is_y: the resumed upgrade installed pri, and the slot holds y.img exactly.
pri_is_y() {
	[ "$(js "d['slots']['pri']['valid'], d['slots']['pri']['version'], d['last_upgrade']['result']")" = "True 5.21.1 success" ] ||
		fail "$(js "d['slots']['pri'], d['last_upgrade']")"
	cmp -s "$D/slots/pri" y.img || fail "pri committed with bytes that are not the image: $(cmp "$D/slots/pri" y.img)"
}

# --- an entry of another slot naming pri's payload, first in the record, whole in that slot (sec holds the same
# image): the reader checked sec's bytes, and the upgrade kept pri's own unchecked (a byte flipped in them was
# committed). A record names each payload once: this one is refused, and the upgrade fetches the package whole.
for z in z u; do
	cut_pri $z.pkg
	edit 'e = dict([i for i in d["images"] if i["slot"] == "pri"][0]); e["slot"] = "sec"; e["kept"] = e["size"]; d["images"].insert(0, e)'
	flip pri 1000
	expect 0 "ignoring the record of an interrupted upgrade: .*duplicated" fw upgrade no-reboot pri "$P/$z.pkg"
	pri_is_y
done
ok "an entry of another slot naming the payload being resumed: the record refused, pri's kept bytes never trusted"

# --- numbers that lie: a frame beyond the payload (its skip reaching into the entries after it), huge ones, a frame
# one ahead of the kept bytes, kept bytes off a frame boundary, the whole image claimed, a negative offset. Each
# costs a restart or the record (ignored), never a wrong byte, and memory stays the install's.
for lie in 'c["frame_at"] = i["size"] + 5000000; c["skip"] = c["frame_at"]' 'c["frame_at"] = 2**62; c["skip"] = 2**62' \
	'i["kept"] += 1048576' 'i["kept"] += 1' 'i["kept"] = i["size"]' 'i["offset"] = 2**62' 'c["frame_at"] = -1' \
	'i["size"] = 2**40; i["kept"] = 2**40'; do
	cut_pri z.pkg
	edit "i = [i for i in d['images'] if i['slot'] == 'pri'][0]; c = i['compressed']; $lie"
	expect 0 "" /usr/bin/time -f 'maxrss %M' "$B/fwctl" --root "$D" upgrade no-reboot pri "$P/z.pkg"
	pri_is_y
	[ ! -e "$D/upgrade.resume" ] || fail "$lie: the record outlived the upgrade"
	rss=$(sed -n 's/^maxrss //p' "$T/.err")
	[ "$rss" -le 24576 ] || nm "$B/fwctl" | grep -q __asan_init || fail "$lie: $rss KiB"
done
ok "a record whose frame, offsets or sizes lie (beyond the payload, 2^62, off a frame, a frame ahead): installed, within 24 MiB"

# --- an entry for an image the run only verifies (boot, in 'upgrade pri'), not where a frame begins or beyond its
# payload: the reader was asked to continue there and the upgrade failed (exit 2, "not where a frame begins",
# systemError). Such a hint is ignored like any other that does not hold: pri installed.
"$B/fwpkg" inspect --json www/z.pkg >insp.json
boot_at=$("$PY" "$E2E/craft.py" offset www/z.pkg WX-boot.img first)
bdig=$("$PY" -c "import json; print([i for i in json.load(open('insp.json'))['manifest']['images'] if i['target'] == 'boot'][0]['digest'])")
for at in "12345 100" "100000 99999999"; do
	cut_pri z.pkg
	edit "d['images'].append({'slot': 'boot', 'offset': $boot_at, 'size': 100000, 'kept': ${at% *}, 'digest': '$bdig',
'compressed': {'frame_at': ${at#* }, 'skip': 0}})"
	expect 0 "" fw upgrade no-reboot pri "$P/z.pkg"
	pri_is_y
done
ok "an entry for an image the run only verifies, at no frame's place: ignored, installed"

pri_at=$("$PY" "$E2E/craft.py" offset www/z.pkg WX-pri.img first)
cp -p www/z.pkg z.orig
# serve FILE: the server's z.pkg gets FILE's bytes, with z.pkg's size and time (nginx's ETag and Last-Modified the same).
serve() { cat "$1" >www/z.pkg && touch -r z.orig www/z.pkg; }

# --- another package at the same URL after the cut, with the same size and time (so the same ETag): its manifest
# is not the one the record names: started over, and the package now served is installed.
randfile y2.img 6000000
"$B/mkpkg" -q -o z2.pkg --version 5.21.1 --product WX --pri y2.img --sec y.img --boot boot.img -k k.key \
	--compress zstd --frame-size 1048576
[ "$(stat -c %s z2.pkg)" = "$(stat -c %s z.orig)" ] || fail "z2.pkg is not z.pkg's size"
cut_pri z.pkg
serve z2.pkg
expect 0 "the package's manifest is not the one the interrupted upgrade read: starting over from byte 0" \
	fw upgrade no-reboot pri "$P/z.pkg"
cmp -s "$D/slots/pri" y2.img || fail "pri does not hold the package served"
serve z.orig
ok "another package with the same URL, size and ETag after the cut: started over, the package served installed"

# --- a server that swapped two compressed pieces of pri after the cut (the one the resume starts at and the next),
# same size and ETag: refused (fileCheckFailed), pri not valid, sec untouched and valid; nothing trusted.
"$PY" - z.orig zswap.pkg "$pri_at" <<'PYEOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); o = int(sys.argv[3]); M = 1 << 20
b[o + 3 * M:o + 4 * M], b[o + 4 * M:o + 5 * M] = b[o + 4 * M:o + 5 * M], b[o + 3 * M:o + 4 * M]
open(sys.argv[2], "wb").write(b)
PYEOF
cut_pri z.pkg
[ "$(edit 'print([i["compressed"]["skip"] for i in d["images"] if i["slot"] == "pri"][0], file=sys.stderr)' 2>&1)" = 3145728 ] ||
	fail "the cut did not stop in piece 3: $(cat "$D/upgrade.resume")"
serve zswap.pkg
expect 1 "compressed chunk 3 .*SHA-256 mismatch" fw upgrade no-reboot pri "$P/z.pkg"
[ "$(js "d['slots']['pri']['valid'], d['slots']['sec']['valid'], d['last_upgrade']['result']")" = "False True fileCheckFailed" ] ||
	fail "$(js "d['slots'], d['last_upgrade']")"
cmp -s "$D/slots/sec" y.img || fail "sec changed"
serve z.orig
ok "pieces swapped by the server after the cut: refused, pri not valid, sec untouched"

# --- a server that answers the resume's Range requests with other bytes (the swapped package's; a request
# without Range gets the real one): caught, started over, the right image installed.
cp zswap.pkg www/zswap.pkg
srv_rangeliar wrong:zswap.pkg "$T/www"
LIAR_PLAN=$PROXY_PLAN PROXY_PLAN0=$PROXY_PLAN PROXY_PORT0=$PROXY_PORT
srv_proxy http "$LIAR_PORT"
P=http://127.0.0.1:$PROXY_PORT
cut_pri z.pkg
expect 0 "the bytes kept from the interrupted upgrade do not verify: .*starting over from byte 0" \
	fw upgrade no-reboot pri "$P/z.pkg"
pri_is_y
grep -q '^bytes=' "$LIAR_LOG" || fail "the liar was never asked for a range: $(cat "$LIAR_LOG")"
PROXY_PLAN=$PROXY_PLAN0 PROXY_PORT=$PROXY_PORT0
P=http://127.0.0.1:$PROXY_PORT
ok "a server answering the resume's Range with other bytes: caught, started over, installed"

# --- upgrade all in two passes (pri not valid after a failed upgrade, sec the only bootable image): a cut in the
# first pass (pri), a byte flipped in pri's kept frames: caught, started over; both passes done, both images right.
fresh
expect 0 "" fw upgrade no-reboot sec "$T/www/z.pkg"
echo "cut $((pri_at + 2500000))" >"$PROXY_PLAN"
expect 4 "" fw upgrade no-reboot pri "$P/z.pkg"
echo "cut $((pri_at + 4500000))" >"$PROXY_PLAN"
expect 4 "the secondary is the only bootable image: writing the primary first" fw upgrade no-reboot all "$P/z.pkg"
[ "$(edit 'print(d["request"], [i["kept"] for i in d["images"] if i["slot"] == "pri"][0], file=sys.stderr)' 2>&1)" = "all 3145728" ] ||
	fail "$(cat "$D/upgrade.resume")"
flip pri 100
expect 0 "chunk 0 .*SHA-256 mismatch: starting over from byte 0" fw upgrade no-reboot all "$P/z.pkg"
pri_is_y
cmp -s "$D/slots/sec" y.img && cmp -s "$D/slots/boot" boot.img || fail "sec or boot"
ok "upgrade all in two passes cut in the first, a kept byte flipped: started over, every image right"

# --- a golden install cut and resumed: continued at the frame; again with a kept byte of the golden slot changed
# before the resume: caught, started over. Either way the golden slot is right and read-only.
for tamper in no yes; do
	rm -rf "$D" "$T/golden"
	"$B/fwctl" --root "$D" -q init --product WX --trust "$T/k.pub" --version 5.21.0 --slot "golden=$T/golden" >/dev/null
	fw -q config net-retries 0
	echo "cut $((pri_at + 4500000))" >"$PROXY_PLAN"
	expect 4 "" fw golden install "$P/z.pkg"
	if [ $tamper = yes ]; then
		"$PY" -c "import sys; f = open(sys.argv[1], 'r+b'); f.seek(2000000); b = f.read(1); f.seek(2000000); f.write(bytes([b[0] ^ 1]))" "$T/golden"
		expect 0 "chunk 1 .*SHA-256 mismatch: starting over from byte 0" fw golden install "$P/z.pkg"
	else
		expect 0 "golden: continuing after the 3145728 bytes the interrupted upgrade wrote, at frame 3" fw golden install "$P/z.pkg"
	fi
	cmp -s "$T/golden" y.img && [ "$(stat -c %a "$T/golden")" = 444 ] || fail "golden ($tamper): $(ls -l "$T/golden")"
done
ok "a golden install cut and resumed at a frame, and with a kept byte changed (started over): placed, read-only"

# ---- upgrade all of a delta passes over the primary's delta bytes (pri copied from the sec it rebuilt): the
# prediction at the manifest against what the servers do. The old package in both slots, the new one a delta.
"$PY" - <<'PYEOF'
import random
r = random.Random(7)
a = bytearray(r.randbytes(12 << 20))
c = bytearray(a)
for _ in range(1500):
    o = r.randrange(len(c) - 5000)
    c[o:o + 3000] = r.randbytes(3000)
open("a.img", "wb").write(a)
open("c.img", "wb").write(c)
open("boot2.img", "wb").write(r.randbytes(70000))
PYEOF
"$B/mkpkg" -q -o old.pkg --version 5.21.0 --product WX --chunk-size 65536 --pri a.img --sec a.img --boot boot.img -k k.key
"$B/mkpkg" -q -o www/d.pkg --version 5.22.0 --product WX --chunk-size 65536 --pri c.img --sec c.img --boot boot2.img \
	-k k.key --delta-from old.pkg
total=$(stat -c %s www/d.pkg)
pri_entry=$("$PY" -c 'import sys,tarfile; print(tarfile.open(sys.argv[1]).getmember("WX-pri.img").size)' www/d.pkg)
rm -rf "$T/start"
"$B/fwctl" --root "$T/start" -q init --product WX --trust "$T/k.pub" --version 5.20.0 >/dev/null
"$B/fwctl" --root "$T/start" -q upgrade no-reboot all old.pkg
"$B/fwctl" --root "$T/start" -q boot >/dev/null
"$B/fwctl" --root "$T/start" -q mark-good
"$B/fwctl" --root "$T/start" -q config net-retries 0
dstart() { rm -rf "$D"; cp -a "$T/start" "$D"; }
fetched() { sed -n 's/.*fetched \([0-9]*\) bytes over.*/\1/p' "$T/.err" | tail -n 1; }
# delta_done: both system images are c.img, the bootloader boot2.img, all recorded, success.
delta_done() {
	cmp -s "$D/slots/pri" c.img && cmp -s "$D/slots/sec" c.img && cmp -s "$D/slots/boot" boot2.img ||
		fail "the slots do not hold the new images: $(cat "$T/.err")"
	[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['last_upgrade']['result']")" = "5.22.0 5.22.0 success" ] ||
		fail "$(js "d['slots'], d['last_upgrade']")"
}

# A server that says Accept-Ranges: bytes and answers the jump past pri's entry with the whole file: the images are
# right, and the closing note says the server ignored the Range and that the bytes were received all the same,
# not "not fetched" (it fetched more than the package: the bytes before the jump came again).
srv_rangeliar ignore "$T/www"
dstart
expect 0 "pri: copying WX-pri.img from sec" fw upgrade no-reboot all "http://127.0.0.1:$LIAR_PORT/d.pkg"
delta_done
grep -q "the server ignored a Range request" "$T/.err" && ! grep -q "bytes not fetched" "$T/.err" &&
	grep -q "bytes not needed (received all the same)" "$T/.err" || fail "a saving claimed that was not made: $(cat "$T/.err")"
[ "$(fetched)" -gt "$total" ] || fail "the liar's whole file was not fetched twice? $(cat "$T/.err")"
ok "delta: a server that says it serves ranges and ignores the jump: installed, and the note says so ($(fetched) bytes of $total fetched)"

# A server that answers the jump with other bytes: the archive after pri's entry does not read, the package is
# refused (fileCheckFailed): sec and boot were committed (verified), pri's copy never is.
head -c "$total" /dev/urandom >www/junk.bin
srv_rangeliar wrong:junk.bin "$T/www"
dstart
expect 1 "Damaged tar archive" fw upgrade no-reboot all "http://127.0.0.1:$LIAR_PORT/d.pkg"
[ "$(js "d['slots']['pri']['valid'], d['slots']['sec']['version'], d['last_upgrade']['result']")" = "False 5.22.0 fileCheckFailed" ] ||
	fail "$(js "d['slots'], d['last_upgrade']")"
cmp -s "$D/slots/sec" c.img || fail "sec"
ok "delta: a server answering the jump with other bytes: refused (fileCheckFailed), pri not committed"

# A package with an entry added after pri's (passed over), or bytes after its end: refused as when read through
# (fileCheckFailed), sec and boot committed, pri's copy not.
"$PY" "$E2E/craft.py" add www/d.pkg www/dadd.pkg extra.txt -1 hello
"$PY" "$E2E/craft.py" append www/d.pkg www/dapp.pkg 41414141
for f in dadd:'unlisted entry "extra.txt"' dapp:'data after the end of the archive'; do
	dstart
	expect 1 "${f#*:}" fw upgrade no-reboot all "http://127.0.0.1:$HTTP_PORT/${f%%:*}.pkg"
	grep -q "bytes not fetched" "$T/.err" || fail "${f%%:*}: pri's entry was fetched: $(cat "$T/.err")"
	[ "$(js "d['slots']['pri']['valid'], d['slots']['sec']['version'], d['last_upgrade']['result']")" = "False 5.22.0 fileCheckFailed" ] ||
		fail "${f%%:*}: $(js "d['slots'], d['last_upgrade']")"
done
ok "delta: an entry added after pri's passed-over one, bytes after the end: refused, pri's copy not committed"

# FTP (REST) passes over pri's entry too; TFTP and an unpack hook read it through (no claim of bytes not fetched).
srv_vsftpd "$T/www"
srv_tftpd "$T/www"
printf '#!/bin/sh\nexec cat\n' >hook.sh
chmod +x hook.sh
for src in "ftp://127.0.0.1:$FTP_PORT/d.pkg" "tftp://127.0.0.1:$TFTP_PORT/d.pkg" hook; do
	dstart
	if [ "$src" = hook ]; then
		fw -q config unpack-hook "$T/hook.sh"
		src=http://127.0.0.1:$HTTP_PORT/d.pkg
	fi
	expect 0 "pri: copying WX-pri.img from sec" fw upgrade no-reboot all "$src"
	delta_done
	case $src in
	ftp:*) grep -q "bytes not fetched" "$T/.err" && [ "$(fetched)" -le $((total - pri_entry + FEED_READ_AHEAD)) ] ||
		fail "ftp: $(cat "$T/.err")" ;;
	*) ! grep -q "not fetched" "$T/.err" && [ "$(fetched)" -eq "$total" ] || fail "$src: $(cat "$T/.err")" ;;
	esac
done
ok "delta over FTP: pri's entry not fetched; over TFTP and through an unpack hook: read through, installed"

# A cut in the middle of sec's delta, then in pri's chunk list (after sec and boot were committed): each resumed run
# installs, pri copied from sec, its delta not fetched.
sec_at=$("$PY" "$E2E/craft.py" offset www/d.pkg WX-sec.img first)
dpri_at=$("$PY" "$E2E/craft.py" offset www/d.pkg WX-pri.img first)
for cut in $((sec_at + 1000000)) $((dpri_at - 600)); do
	dstart
	echo "cut $cut" >"$PROXY_PLAN"
	expect 4 "" fw upgrade no-reboot all "$P/d.pkg"
	# The note after a cut in sec: a network failure is finished by the same command, the package is not at fault.
	[ "$cut" != $((sec_at + 1000000)) ] || grep -q "sec: holds no valid image now: run the same upgrade again to finish it" "$T/.err" ||
		fail "$(cat "$T/.err")"
	expect 0 "pri: copying WX-pri.img from sec" fw upgrade no-reboot all "$P/d.pkg"
	delta_done
	grep -q "bytes not fetched" "$T/.err" || fail "cut at $cut: $(cat "$T/.err")"
done
ok "delta: a cut in sec's delta and one before pri's entry: resumed, installed, pri's delta not fetched"

echo "all $TESTS checks passed"
