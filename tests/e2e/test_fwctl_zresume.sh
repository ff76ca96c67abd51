#!/bin/sh
# test_fwctl_zresume: a compressed image cut part way (a network cut, a power cut between frames) resumes at a
# frame boundary: the slot's image bytes before the frame are verified again, the payload is fetched from the
# compressed piece holding the frame on (formats/pkg.md, section 9), over real nginx (and vsftpd).
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

D=$T/dev
# Sums over the closing notes of the last command (a restart prints two).
fetched() { sed -n 's/.*upgrade: fetched \([0-9]*\) bytes over.*/\1/p' "$T/.err" | awk '{s += $1} END {print s + 0}'; }
skipped() { sed -n 's/.*; \([0-9]*\) bytes not fetched (not needed)).*/\1/p' "$T/.err" | awk '{s += $1} END {print s + 0}'; }
# The record's entry for pri: "kept frame_at skip" (image bytes in the slot; where that frame begins in the
# payload; payload bytes a resume does not fetch).
pri_entry() {
	"$PY" -c "import json; i = [i for i in json.load(open('$D/upgrade.resume'))['images'] if i['slot'] == 'pri'][0]
c = i.get('compressed', {}); print(i['kept'], c.get('frame_at', -1), c.get('skip', -1))"
}
kept() { "$PY" -c "import json; print(sum(i['kept'] for i in json.load(open('$D/upgrade.resume'))['images']))"; }
# Bytes nginx sent for /fw.pkg (or /FILE) since the access log was emptied (it logs a request once its
# connection closed).
sent() { awk -v f="/${1:-fw.pkg}" '$1 == f {s += $3} END {print s + 0}' "$SRV_NGINX_ACCESS"; }
sent_settled() {
	i=0
	until [ "$(sent "$@")" -gt 0 ]; do i=$((i + 1)); [ $i -lt 50 ] || fail "no access log line"; sleep 0.1; done
	sent "$@"
}

keypair k
# pri: 24 frames of 1 MiB of random bytes (they compress to about their size: the payload is as long as the
# image), written last; sec and boot small. Frames of 1 MiB, so a cut falls between many of them.
randfile pri.img 24000000
randfile sec.img 3000000
randfile boot.img 300000
mkdir www
"$B/mkpkg" -q -o www/fw.pkg --version 5.21.1 --product WX --pri pri.img --sec sec.img --boot boot.img -k k.key \
	--compress zstd --frame-size 1048576
cp www/fw.pkg fw.pkg
SIZE=$(wc -c <fw.pkg)
FRAME=1048576
# pri's payload: its compressed bytes, and where they begin in the package.
"$B/fwpkg" inspect --json fw.pkg >inspect.json
PAYLOAD=$("$PY" -c "import json; print([i for i in json.load(open('inspect.json'))['manifest']['images'] if i['target'] == 'pri'][0]['compression']['size'])")
[ "$PAYLOAD" -gt 23000000 ] || fail "pri's payload is $PAYLOAD bytes: the test wants it about as long as the image"

export SRV_NGINX_ACCESS=$T/access.log
srv_nginx "$T/www"
srv_vsftpd "$T/www"
H=http://127.0.0.1:$HTTP_PORT

"$B/fwctl" --root "$T/template" -q init --product WX --trust "$T/k.pub" --version 5.21.0 >/dev/null
"$B/fwctl" --root "$T/template" -q config net-retries 0
fresh() { rm -rf "$D"; cp -a "$T/template" "$D"; : >"$SRV_NGINX_ACCESS"; }

# installed: status says every slot holds 5.21.1, no resume record left, the slots hold the images byte for byte.
installed() {
	[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['slots']['boot']['version'], \
d['last_upgrade']['result'], d['resume']")" = "5.21.1 5.21.1 5.21.1 success None" ] ||
		fail "$(js "d['slots'], d['last_upgrade'], d['resume']")"
	[ ! -e "$D/upgrade.resume" ] || fail "the resume record outlived the upgrade"
	for s in pri sec boot; do
		cmp -s "$D/slots/$s" "$s.img" || fail "slot $s does not hold the package's $s.img"
	done
}

# resumed_at KEPT FRAME_AT SKIP: the resumed run continued pri after KEPT image bytes, at the frame the record
# named, fetched no byte of the SKIP it did not need (nginx's count for this run), and installed.
resumed_at() {
	grep -q "pri: continuing after the $1 bytes the interrupted upgrade wrote, at frame $(($1 / FRAME)) (compressed byte $2 of $PAYLOAD; the $3 before its piece are not fetched)" "$T/.err" ||
		fail "not continued at frame $(($1 / FRAME)): $(cat "$T/.err")"
	grep -q "starting over" "$T/.err" && fail "started over: $(cat "$T/.err")"
	installed
	# The cut left the secondary the only bootable image: a first read writes pri, a second the rest, each
	# passing over the compressed bytes of every image its slot holds (sec, boot whole; pri up to its frame,
	# then whole): the second fetches the package's head and the last compressed piece of each image only
	# (3 pieces of at most 1 MiB). The server's count agrees with fwctl's.
	[ "$(skipped)" -ge "$3" ] || fail "skipped $(skipped), the record said $3: $(cat "$T/.err")"
	[ "$(fetched)" -le $((SIZE - $3 + 3 * 1048576 + 65536)) ] || fail "fetched $(fetched) of $SIZE, $3 not needed: $(cat "$T/.err")"
	[ "$(sent_settled)" -eq "$(fetched)" ] || fail "nginx sent $(sent), fwctl says it fetched $(fetched)"
	[ "$(fetched)" -lt "$PAYLOAD" ] || fail "the resume fetched $(fetched) bytes, not fewer than pri's payload $PAYLOAD"
}

# --- (a) a network cut (the proxy closes the connection) at ~50% and ~90% of pri's payload: the failed run
# syncs what it wrote and records the last frame before it; the next run continues there.
srv_proxy http "$HTTP_PORT"
P=http://127.0.0.1:$PROXY_PORT
pri_at=$("$PY" "$E2E/craft.py" offset fw.pkg WX-pri.img first)
for pct in 50 90; do
	fresh
	echo "cut $((pri_at + PAYLOAD * pct / 100))" >"$PROXY_PLAN"
	expect 4 "transfer closed with [0-9]+ bytes remaining to read \\(gave up after 1 attempt\\)" fw upgrade no-reboot all "$P/fw.pkg"
	[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$(js "d['last_upgrade']")"
	set -- $(pri_entry)
	# Every written frame counts: at most the frame in flight, the piece it began in and the proxy's buffers lost.
	[ "$1" -gt $((PAYLOAD * pct / 100 - 4 * FRAME)) ] && [ $(($1 % FRAME)) -eq 0 ] ||
		fail "a cut at $pct% kept $1 bytes of pri"
	[ "$3" -le "$2" ] && [ $(($3 % 1048576)) -eq 0 ] && [ $(($2 - $3)) -lt 1048576 ] || fail "the record says $*"
	# status shows the kept bytes of the compressed image too.
	[ "$(js "d['resume']['kept']")" = "$(kept)" ] && [ "$(kept)" -eq $((3000000 + 300000 + $1)) ] ||
		fail "status: $(js "d['resume']")"
	: >"$SRV_NGINX_ACCESS"
	expect 0 "resuming the interrupted upgrade: compressed images continue at a frame: $(kept) bytes of their images" \
		fw upgrade no-reboot all "$P/fw.pkg"
	resumed_at "$1" "$2" "$3"
	echo "# network cut at $pct% of pri's $PAYLOAD-byte payload: $1 image bytes kept, resumed at compressed byte $2, fetched $(fetched) bytes of $SIZE ($(skipped) not fetched)"
done
ok "a network cut at 50% and 90% of a compressed image: resumed at the last frame written, fetched only the rest"

# --- (b) a power cut between two frames of pri (the crash seam, before a write into its slot), boot, the same
# upgrade: the record vouches for the frames it named at its last replacement.
fresh
n=1 pri_writes=""
: >points
while :; do
	rm -rf "$T/probe"
	cp -a "$T/template" "$T/probe"
	set +e
	FWCTL_CRASH_AT=$n "$B/fwctl" --root "$T/probe" upgrade no-reboot all "$H/fw.pkg" >/dev/null 2>"$T/probe.err"
	rc=$?
	set -e
	[ $rc -eq 99 ] || break
	echo "$n $(sed -n "s|.*stopping before ||; s|$T/probe/||p" "$T/probe.err")" >>points
	n=$((n + 1))
done
[ $rc -eq 0 ] || fail "the upgrade without a crash: exit $rc: $(cat "$T/probe.err")"
point() { awk -v k="$1" '$0 ~ " slots/pri$" && $2 == "writing" && ++c == k {print $1; exit}' points; }
[ -n "$(point 22)" ] || fail "no 22nd write into pri: $(cat points)"
# power_cut N [SOURCE [FRESH]]: a fresh device (FRESH, default fresh), a power cut before crash point N of upgrade
# all SOURCE ($H/fw.pkg), boot.
power_cut() {
	${3:-fresh}
	set +e
	FWCTL_CRASH_AT=$1 "$B/fwctl" --root "$D" upgrade no-reboot all "${2:-$H/fw.pkg}" >/dev/null 2>"$T/cut.err"
	rc=$?
	set -e
	[ $rc -eq 99 ] || fail "crash at $1: exit $rc: $(cat "$T/cut.err")"
	expect 0 "" fw boot
	[ "$(js "d['last_upgrade']['result']")" = abnormalReset ] || fail "$(js "d['last_upgrade']")"
	[ -s "$D/upgrade.resume" ] || fail "no resume record after a crash at $1"
	: >"$SRV_NGINX_ACCESS"
}
# dev_slot's write-behind windows are 8 MiB: after pri's 16th write the first is on the storage, the record
# names its frames (a later replacement, once a second, may name more).
for w in 18 22; do
	power_cut "$(point $w)"
	set -- $(pri_entry)
	[ "$1" -ge $((8 * FRAME)) ] && [ $(($1 % FRAME)) -eq 0 ] && [ "$1" -lt $((w * FRAME)) ] ||
		fail "a cut before pri's write $w kept $*"
	fw status | grep -Eq "^resumable +upgrade all .*: $(kept) bytes in the slots" || fail "status: $(fw status)"
	expect 0 "resuming the interrupted upgrade" fw upgrade no-reboot all "$H/fw.pkg"
	resumed_at "$1" "$2" "$3"
	echo "# power cut before pri's write $w of 23: $1 image bytes kept, fetched $(fetched) bytes of $SIZE"
done
ok "a power cut between frames of a compressed image: boot, resumed at the frame the record named, installed"

# flip FILE OFFSET: the byte at OFFSET of FILE inverted.
flip() {
	"$PY" -c "import sys; f = open(sys.argv[1], 'r+b'); o = int(sys.argv[2]); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))" "$1" "$2"
}
# --- kept frames damaged between the cut and the resume: the slot's bytes are checked against the image's chunk
# list, the mismatch caught, the upgrade starts over from byte 0 and installs the right image.
for off in 1000 $((FRAME * 3 + 5)); do
	power_cut "$(point 22)"
	set -- $(pri_entry)
	[ "$off" -lt "$1" ] || fail "byte $off is not among the $1 kept"
	flip "$D/slots/pri" "$off"
	expect 0 "the bytes kept from the interrupted upgrade do not verify: .*chunk [0-9]+.*SHA-256 mismatch.*starting over from byte 0" \
		fw upgrade no-reboot all "$H/fw.pkg"
	installed
done
ok "a byte flipped in a kept frame of the compressed image: caught, started over, the right image installed"

# --- a record that lies (it is a hint, never trusted): a frame offset one byte off, a skip that covers bytes the
# reader checks, a frame that is not where the offset is: refused by the decoder or the chunk lists, started over.
# lie_about SLOT WHAT: the record's entry for SLOT made to lie about WHAT (frame_at, skip, frame).
lie_about() {
	"$PY" - "$D/upgrade.resume" "$1" "$2" <<'PYEOF'
import json, sys
p, slot, lie = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(p))
i = [i for i in d["images"] if i["slot"] == slot][0]
c = i["compressed"]
if lie == "frame_at":
    c["frame_at"] += 1
elif lie == "skip":
    c["skip"] = c["frame_at"]
else:
    i["kept"] -= 1048576      # the frame before the one at frame_at
json.dump(d, open(p, "w"))
PYEOF
}
for lie in frame_at skip frame; do
	power_cut "$(point 22)"
	lie_about pri "$lie"
	expect 0 "the bytes kept from the interrupted upgrade do not verify: .*starting over from byte 0" \
		fw upgrade no-reboot all "$H/fw.pkg"
	installed
done
ok "a record whose frame offset, skip or frame lies: refused before any wrong byte, started over, installed"

# --- FTP (REST at the first byte the resume needs): the same continuation. FTP's transport may have read past a
# range when the stream moved on (its buffers, test_fwctl_resume.sh's SWITCH): fetched has that much slack per
# connection.
power_cut "$(point 22)" "ftp://127.0.0.1:$FTP_PORT/fw.pkg"
set -- $(pri_entry)
[ "$1" -gt 0 ] || fail "ftp: the record kept nothing of pri: $*"
expect 0 "resuming the interrupted upgrade" fw upgrade no-reboot all "ftp://127.0.0.1:$FTP_PORT/fw.pkg"
grep -q "pri: continuing after the $1 bytes the interrupted upgrade wrote, at frame" "$T/.err" || fail "ftp: $(cat "$T/.err")"
installed
[ "$(skipped)" -ge "$3" ] && [ "$(fetched)" -le $((SIZE - $3 + 3 * 1048576 + 6 * 384 * 1024)) ] ||
	fail "ftp: $(cat "$T/.err")"
ok "over FTP (REST): resumed at the frame, installed"

# --- a file source after the cut: the record goes, the package is installed from the file (no resume)
power_cut "$(point 22)"
expect 0 "the interrupted network upgrade will not be resumed: this upgrade replaces it" fw upgrade no-reboot all fw.pkg
installed
ok "a compressed package from a file after a cut network upgrade: the record dropped, installed"

# --- a power cut before every durable step of a compressed network upgrade, boot, the same upgrade: installed
# pri spans 17 frames: its first 8 MiB window is on the storage, and named by the record, after its 16th write.
mkdir small
randfile small/pri.img 17000000
randfile small/sec.img 1500000
randfile small/boot.img 100000
"$B/mkpkg" -q -o www/small.pkg --version 5.21.1 --product WX --pri small/pri.img --sec small/sec.img \
	--boot small/boot.img -k k.key --compress zstd --frame-size 1048576
continued=0
small_installed() {
	if grep -q "continuing after the [0-9]* bytes the interrupted upgrade wrote, at frame" "$T/.err"; then
		continued=$((continued + 1))
	fi
	for s in pri sec boot; do
		cmp -s "$D/slots/$s" "small/$s.img" || fail "crash at $1: slot $s does not hold small/$s.img"
	done
	[ "$(js "d['resume']")" = None ] && [ ! -e "$D/upgrade.resume" ] || fail "crash at $1: a resume record left"
}
crash_each_step "$H/small.pkg" 5.21.1 small_installed
[ $continued -gt 0 ] || fail "no run after a cut continued a compressed image at a frame ($crash_resumed resumed)"
ok "a power cut before each of $crash_steps durable steps of a compressed upgrade, boot, the same upgrade: installed ($crash_resumed resumed, $continued at a frame)"

# --- a delta image (mkpkg --delta-from, formats/pkg.md section 10) continues at a frame the same way: each frame
# is decoded with its own prefix of the base, read from the other slot (checked whole first, at every run). The
# old package in both slots; the new one a delta in frames of 1 MiB. `upgrade all` rebuilds sec against pri's old
# image, then copies pri from that sec (its delta not fetched): a cut in sec's delta must end with both right.
mkdir dl
"$PY" - <<'PYEOF'
import random
r = random.Random(11)
a = bytearray(r.randbytes(20 << 20))
c = bytearray(a)
for _ in range(1500):
    o = r.randrange(len(c) - 5000)
    c[o:o + 3000] = r.randbytes(3000)
open("dl/a.img", "wb").write(a)
open("dl/c.img", "wb").write(c)
open("dl/boot.img", "wb").write(r.randbytes(70000))
PYEOF
"$B/mkpkg" -q -o dl/old.pkg --version 5.21.0 --product WX --pri dl/a.img --sec dl/a.img --boot boot.img -k k.key
"$B/mkpkg" -q -o www/d.pkg --version 5.22.0 --product WX --pri dl/c.img --sec dl/c.img --boot dl/boot.img -k k.key \
	--delta-from dl/old.pkg --frame-size 1048576
DSIZE=$(wc -c <www/d.pkg)
"$B/fwpkg" inspect --json www/d.pkg >dl/inspect.json
DPAYLOAD=$("$PY" -c "import json; print([i for i in json.load(open('dl/inspect.json'))['manifest']['images'] if i['target'] == 'sec'][0]['compression']['size'])")
DPRI=$("$PY" -c 'import sys,tarfile; print(tarfile.open(sys.argv[1]).getmember("WX-pri.img").size)' www/d.pkg)
[ "$DPAYLOAD" -gt 3000000 ] || fail "sec's delta is $DPAYLOAD bytes: the test wants several compressed pieces"
"$B/fwctl" --root "$T/dstart" -q init --product WX --trust "$T/k.pub" --version 5.20.0 >/dev/null
"$B/fwctl" --root "$T/dstart" -q upgrade no-reboot all dl/old.pkg
"$B/fwctl" --root "$T/dstart" -q boot >/dev/null
"$B/fwctl" --root "$T/dstart" -q mark-good
"$B/fwctl" --root "$T/dstart" -q config net-retries 0
dfresh() { rm -rf "$D"; cp -a "$T/dstart" "$D"; : >"$SRV_NGINX_ACCESS"; }
sec_entry() {
	"$PY" -c "import json; i = [i for i in json.load(open('$D/upgrade.resume'))['images'] if i['slot'] == 'sec'][0]
c = i.get('compressed', {}); print(i['kept'], c.get('frame_at', -1), c.get('skip', -1))"
}
# delta_installed: both system slots hold c.img, boot its image, recorded, no resume record left.
delta_installed() {
	cmp -s "$D/slots/pri" dl/c.img && cmp -s "$D/slots/sec" dl/c.img && cmp -s "$D/slots/boot" dl/boot.img ||
		fail "the slots do not hold the new images: $(cat "$T/.err")"
	[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['last_upgrade']['result'], d['resume']")" = \
		"5.22.0 5.22.0 success None" ] || fail "$(js "d['slots'], d['last_upgrade'], d['resume']")"
	[ ! -e "$D/upgrade.resume" ] || fail "the resume record outlived the upgrade"
}
# dresumed_at KEPT FRAME_AT SKIP: the run continued sec at the frame the record named, against the base in pri
# (checked again), copied pri from it, installed, and fetched neither the SKIP bytes nor pri's delta.
dresumed_at() {
	grep -q "sec: rebuilding WX-sec.img from the delta against the image in pri" "$T/.err" &&
	grep -q "sec: continuing after the $1 bytes the interrupted upgrade wrote, at frame $(($1 / FRAME)) (compressed byte $2 of $DPAYLOAD; the $3 before its piece are not fetched)" "$T/.err" &&
	grep -q "pri: copying WX-pri.img from sec" "$T/.err" || fail "sec's delta not continued at frame $(($1 / FRAME)): $(cat "$T/.err")"
	grep -q "starting over" "$T/.err" && fail "started over: $(cat "$T/.err")"
	delta_installed
	[ "$(fetched)" -le $((DSIZE - $3 - DPRI + FEED_READ_AHEAD + 1048576)) ] ||
		fail "fetched $(fetched) of $DSIZE, $3 of sec's and pri's $DPRI not needed: $(cat "$T/.err")"
	[ "$(fetched)" -lt "$DPAYLOAD" ] || fail "the resume fetched $(fetched) bytes, not fewer than sec's delta $DPAYLOAD"
	# The server never sent the bytes the record said were not needed: no answer began before them (one may
	# have sent more of pri's delta into the socket's buffers than fwctl read before it jumped past them, so the
	# sum is no measure here).
	sent_settled d.pkg >/dev/null
	[ "$(awk '$1 == "/d.pkg" && $3 > m {m = $3} END {print m + 0}' "$SRV_NGINX_ACCESS")" -le $((DSIZE - dsec_at - $3)) ] ||
		fail "nginx sent sec's bytes that were not needed: $(cat "$SRV_NGINX_ACCESS")"
}
dsec_at=$("$PY" "$E2E/craft.py" offset www/d.pkg WX-sec.img first)
dfresh
echo "cut $((dsec_at + DPAYLOAD * 85 / 100))" >"$PROXY_PLAN"
expect 4 "sec: holds no valid image now: run the same upgrade again to finish it" fw upgrade no-reboot all "$P/d.pkg"
[ -s "$D/upgrade.resume" ] && grep -q '"compressed"' "$D/upgrade.resume" || fail "no record of sec's frames after the cut"
set -- $(sec_entry)
[ "$1" -ge $((8 * FRAME)) ] && [ $(($1 % FRAME)) -eq 0 ] && [ "$1" -lt $((20 * FRAME)) ] || fail "a cut in sec's delta kept $*"
[ "$3" -le "$2" ] && [ $(($3 % 1048576)) -eq 0 ] && [ $(($2 - $3)) -lt 1048576 ] && [ "$2" -lt "$DPAYLOAD" ] ||
	fail "the record says $*"
rm -rf "$T/dcut"
cp -a "$D" "$T/dcut"
: >"$SRV_NGINX_ACCESS"
expect 0 "resuming the interrupted upgrade: compressed images continue at a frame: $1 bytes of their images" \
	fw upgrade no-reboot all "$P/d.pkg"
dresumed_at "$1" "$2" "$3"
echo "# network cut at 85% of sec's $DPAYLOAD-byte delta: $1 image bytes kept, resumed at compressed byte $2, fetched $(fetched) bytes of $DSIZE"
ok "a network cut in a delta image: resumed at the last frame written (base checked again), pri copied from it"

# From that cut: a kept frame damaged, caught against the target's chunk list, started over, installed; the base
# damaged, refused as ever before a byte of it is read (fileNotMatch), sec not written, pri kept as it was.
dcut() { rm -rf "$D"; cp -a "$T/dcut" "$D"; }   # the same source as the cut run: the proxy
dcut
flip "$D/slots/sec" $((3 * FRAME + 5))
expect 0 "the bytes kept from the interrupted upgrade do not verify: .*chunk [0-9]+.*SHA-256 mismatch.*starting over from byte 0" \
	fw upgrade no-reboot all "$P/d.pkg"
delta_installed
dcut
flip "$D/slots/pri" 1000
cp "$D/slots/pri" dl/pri.before
cp "$D/slots/sec" dl/sec.before
expect 1 "payload WX-sec.img: the image in pri: the base is not the delta's base image" fw upgrade no-reboot all "$P/d.pkg"
[ "$(js "d['last_upgrade']['result'], d['slots']['pri']['version'], d['slots']['sec']['valid']")" = "fileNotMatch 5.21.0 False" ] ||
	fail "$(js "d['slots'], d['last_upgrade']")"
cmp -s "$D/slots/pri" dl/pri.before && cmp -s "$D/slots/sec" dl/sec.before || fail "a slot changed after the base was refused"
ok "a delta's kept frame damaged: started over, installed; its base damaged: refused (fileNotMatch), nothing written"

# A record that lies about a delta: a frame offset one byte off, a skip over bytes the reader checks, a frame
# that is not where the offset is (decoded with another frame's prefix): refused, started over, installed.
for lie in frame_at skip frame; do
	dcut
	lie_about sec "$lie"
	expect 0 "the bytes kept from the interrupted upgrade do not verify: .*starting over from byte 0" \
		fw upgrade no-reboot all "$P/d.pkg"
	delta_installed
done
ok "a record whose frame offset, skip or frame lies about a delta: refused before any wrong byte, started over, installed"

# Power cuts, boot, the same upgrade: before sec's last write (the record names its first 8 MiB window), and
# before pri's 10th (pri copied from the sec this run committed: sec verified in place, pri copied again).
# The durable steps of the upgrade, numbered, from one run (FWCTL_CRASH_AT=list); dpoint SLOT K: the step
# before SLOT's K-th write (of 1 MiB).
rm -rf "$T/probe"
cp -a "$T/dstart" "$T/probe"
FWCTL_CRASH_AT=list "$B/fwctl" --root "$T/probe" upgrade no-reboot all "$H/d.pkg" 2>&1 >/dev/null |
	sed -n "s|^FWCTL_CRASH_AT=\([0-9]*\): step \(.*\) $T/probe/\(.*\)|\1 \2 \3|p" >dpoints
cmp -s "$T/probe/slots/pri" dl/c.img || fail "the delta upgrade without a crash: $(tail -n 3 dpoints)"
dpoint() {
	awk -v s="slots/$1" -v k="$2" '$NF == s && $2 == "writing" && $3 == "to" && ++c == k {print $1; exit}' dpoints
}
[ -n "$(dpoint sec 20)" ] && [ -n "$(dpoint pri 10)" ] || fail "no 20th write into sec, 10th into pri: $(cat dpoints)"
power_cut "$(dpoint sec 20)" "$H/d.pkg" dfresh
set -- $(sec_entry)
[ "$1" -eq $((8 * FRAME)) ] || fail "a cut before sec's write 20 kept $*"
expect 0 "resuming the interrupted upgrade" fw upgrade no-reboot all "$H/d.pkg"
dresumed_at "$1" "$2" "$3"
echo "# power cut before sec's write 20 of 20: $1 image bytes kept, fetched $(fetched) bytes of $DSIZE"
power_cut "$(dpoint pri 10)" "$H/d.pkg" dfresh
expect 0 "sec: holds WX-sec.img 5.22.0 already: verifying it in place" fw upgrade no-reboot all "$H/d.pkg"
grep -q "pri: copying WX-pri.img from sec" "$T/.err" || fail "$(cat "$T/.err")"
grep -q "starting over" "$T/.err" && fail "sec's delta, only verified, was taken for kept bytes: $(cat "$T/.err")"
delta_installed
ok "a power cut in sec's delta (resumed at the frame the record named) and in pri's copy (sec verified in place): installed"

# A two-pass upgrade all: pri left invalid by a failed earlier upgrade, so pass 0 rebuilds pri from the base in
# sec and copies sec from it, and pass 1 writes boot, reading pri's delta again only to verify it. pri's whole
# image in the record must not make pass 1 leave those bytes unfetched (it did: fileCheckFailed, boot lost).
dfresh
head -c $((DSIZE - DPRI / 2)) www/d.pkg >dl/short.pkg   # cut in pri's entry, the last
expect 1 '' fw upgrade no-reboot pri dl/short.pkg
[ "$(js "d['slots']['pri']['valid'], d['slots']['sec']['version']")" = "False 5.21.0" ] || fail "$(js "d['slots']")"
expect 0 'all 5.22.0: success' fw upgrade no-reboot all "$H/d.pkg"
grep -q "sec: copying WX-sec.img from pri" "$T/.err" || fail "not the two-pass plan: $(cat "$T/.err")"
delta_installed
ok "a two-pass upgrade all of a delta (pri invalid): pri rebuilt, sec copied, boot written reading pri's delta in full"

echo "all $TESTS checks passed"
