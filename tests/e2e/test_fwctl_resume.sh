#!/bin/sh
# test_fwctl_resume: a power cut (the crash seam) during a network upgrade, fwctl boot, then the same upgrade
# again: it resumes from what the slots hold (ROOT/upgrade.resume), over real nginx, vsftpd and tftpd.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

D=$T/dev
# Sums over the closing notes of the last command (a restart prints two): bytes fetched, bytes taken from slots.
fetched() { sed -n 's/.*upgrade: fetched \([0-9]*\) bytes over.*/\1/p' "$T/.err" | awk '{s += $1} END {print s + 0}'; }
spliced() { sed -n 's/.*; \([0-9]*\) bytes taken from the slots).*/\1/p' "$T/.err" | awk '{s += $1} END {print s + 0}'; }
# Bytes the record says the slots hold: whole images (record valid, kept == size) and the kept part of the rest.
connections() { sed -n 's/.*upgrade: fetched .* (\([0-9]*\) connection.*/\1/p' "$T/.err" | awk '{s += $1} END {print s + 0}'; }
kept() { "$PY" -c "import json; print(sum(i['kept'] for i in json.load(open('$D/upgrade.resume'))['images']))"; }
# Bytes nginx sent for /fw.pkg since the access log was emptied.
sent() { awk '$1 == "/fw.pkg" {s += $3} END {print s + 0}' "$SRV_NGINX_ACCESS"; }

keypair k
# The primary spans several of dev_slot's 8 MiB write-back windows, so a cut in its middle keeps a part of it.
randfile pri.img 30000000
randfile sec.img 3000000
randfile boot.img 300000
mkdir www
"$B/mkpkg" -q -o www/fw.pkg --version 5.21.1 --product WX --pri pri.img --sec sec.img --boot boot.img -k k.key
cp www/fw.pkg fw.pkg
SIZE=$(wc -c <fw.pkg)
CHUNK=1048576
# What a resumed run may fetch twice per range taken from a slot: what the transport had received past the
# range when the stream moved on (FTP; HTTP asks for the range alone): its buffers, 192 KiB, with room to spare.
SWITCH=$((384 * 1024))

export SRV_NGINX_ACCESS=$T/access.log
srv_nginx "$T/www"
srv_vsftpd "$T/www"
srv_tftpd "$T/www"
H=http://127.0.0.1:$HTTP_PORT

"$B/fwctl" --root "$T/template" -q init --product WX --trust "$T/k.pub" --version 5.21.0 >/dev/null
"$B/fwctl" --root "$T/template" -q config net-retries 2
fresh() { rm -rf "$D"; cp -a "$T/template" "$D"; }

# installed VERSION [IMAGES_DIR]: status says every slot holds VERSION after a success, no download under way,
# no resume record left, and the slots hold the images byte for byte.
installed() {
	[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['slots']['boot']['version'], \
d['last_upgrade']['result'], d['download'], d['resume']")" = "$1 $1 $1 success None None" ] ||
		fail "$(js "d['slots'], d['last_upgrade'], d['resume']")"
	[ ! -e "$D/upgrade.resume" ] || fail "the resume record outlived the upgrade"
	for s in pri sec boot; do
		cmp -s "$D/slots/$s" "${2:-.}/$s.img" || fail "slot $s does not hold the package's $s.img"
	done
}

# probe_points SOURCE FILE: the crash points of one network upgrade from SOURCE, numbered as FWCTL_CRASH_AT
# counts them, as "N STEP" lines in FILE (a source without a resume record, TFTP, has fewer durable steps).
probe_points() {
	n=1
	: >"$2"
	while :; do
		rm -rf "$T/probe"
		cp -a "$T/template" "$T/probe"
		set +e
		FWCTL_CRASH_AT=$n "$B/fwctl" --root "$T/probe" upgrade no-reboot all "$1" >/dev/null 2>"$T/probe.err"
		rc=$?
		set -e
		[ $rc -eq 99 ] || break
		echo "$n $(sed -n "s|.*stopping before ||; s|$T/probe/||p" "$T/probe.err")" >>"$2"
		n=$((n + 1))
	done
	[ $rc -eq 0 ] || fail "the upgrade without a crash: exit $rc: $(cat "$T/probe.err")"
}
fresh
probe_points "$H/fw.pkg" points
# The Nth write into slot S, or its fsync (in the points of FILE, default those of HTTP).
point() { awk -v s="$1" -v k="$2" '$0 ~ " slots/" s "$" && $2 == "writing" && ++c == k {print $1; exit}' "${3:-points}"; }
fsync_point() { awk -v s="$1" '$2 == "fsync" && $0 ~ " slots/" s "$" {print $1; exit}' points; }
[ -n "$(point pri 20)" ] || fail "no 20th write into pri: $(cat points)"

# power_cut N SOURCE [norecord]: a fresh device, a power cut before crash point N of upgrade all SOURCE, then
# boot, which leaves the resume record in place (none over TFTP).
power_cut() {
	fresh
	: >"$SRV_NGINX_ACCESS"
	set +e
	FWCTL_CRASH_AT=$1 "$B/fwctl" --root "$D" upgrade no-reboot all "$2" >/dev/null 2>"$T/cut.err"
	rc=$?
	set -e
	[ $rc -eq 99 ] || fail "crash at $1: exit $rc: $(cat "$T/cut.err")"
	expect 0 "" fw boot
	[ "$(js "d['last_upgrade']['result']")" = abnormalReset ] || fail "$(js "d['last_upgrade']")"
	if [ "${3:-}" = norecord ]; then
		[ ! -e "$D/upgrade.resume" ] || fail "a resume record for $2"
	else
		[ -s "$D/upgrade.resume" ] || fail "boot removed the resume record (crash at $1)"
		# status shows what the same upgrade would resume from.
		[ "$(js "d['resume']['source'], d['resume']['request'], d['resume']['kept']")" = "$2 all $(kept)" ] ||
			fail "status: $(js "d['resume']")"
		fw status | grep -Eq "^resumable +upgrade all .*: $(kept) bytes in the slots" || fail "status: $(fw status)"
	fi
}

# --- HTTP: cuts in the second image, at the start of the third (last), in its middle, before its fsync
for at in "$(point boot 1)" "$(point pri 1)" "$(point pri 20)" "$(fsync_point pri)"; do
	power_cut "$at" "$H/fw.pkg"
	k=$(kept)
	in_pri=$(stat -c %s "$D/slots/pri")
	# nginx writes its log line once it sees the connection closed.
	i=0
	until [ "$(sent)" -gt 0 ]; do i=$((i + 1)); [ $i -lt 50 ] || fail "no access log line"; sleep 0.1; done
	first=$(sent)
	expect 0 "resuming the interrupted upgrade: [0-9]+ bytes of the package are in the slots already" \
		fw upgrade no-reboot all "$H/fw.pkg"
	installed 5.21.1
	# The slots hold at least what the record said, and every further chunk that reached them counts too.
	K=$(sed -n 's/.*resuming the interrupted upgrade: \([0-9]*\) bytes.*/\1/p' "$T/.err")
	[ "$K" -ge "$k" ] || fail "cut at $at: resumed with $K bytes, the record said $k"
	# Cut in the middle of pri: sec and boot committed, whole chunks of pri in its slot, all of them taken
	# (dev_resume_extend), however long ago the record was last replaced. How many chunks is read off the
	# slot: the record is replaced once a second, a durable step of its own, so on a loaded machine crash
	# point N may fall a write or two away from the counting run's 20th write into pri.
	if [ "$at" = "$(point pri 20)" ]; then
		[ "$in_pri" -ge $((10 * CHUNK)) ] && [ $((in_pri % CHUNK)) -eq 0 ] ||
			fail "cut at $at: the primary slot holds $in_pri bytes, not whole chunks near the 20th"
		[ "$K" -eq $((3000000 + 300000 + in_pri)) ] ||
			fail "cut at $at: resumed with $K bytes, the slots hold $((3000000 + 300000 + in_pri))"
	fi
	k=$K
	# A second read (when the cut left the secondary the only bootable image) takes all it can from the slots.
	[ "$(spliced)" -ge "$k" ] || fail "cut at $at: the record kept $k bytes, the slots gave $(spliced): $(cat "$T/.err")"
	[ "$(fetched)" -le $((SIZE - k + ($(connections) - 1) * SWITCH)) ] ||
		fail "cut at $at: fetched $(fetched) of $SIZE, $k kept: $(cat "$T/.err")"
	# Across both runs the server sent the package once, plus what the cut lost: what the first run had been
	# sent and the record did not vouch for (not yet written back, or in flight: fwctl(8), "Resuming after a
	# power cut"). The resumed run asks for the missing ranges alone (HTTP Range with an end).
	total=$(sent)
	[ "$total" -le $((SIZE + first - k + ($(connections) - 1) * SWITCH)) ] ||
		fail "cut at $at: the server sent $total for $SIZE, $first before the cut, $k kept"
	echo "# cut at $at ($(grep "^$at " points | cut -d' ' -f2-)): kept $k, fetched again $(fetched) (first run: server sent $first), server sent $total for $SIZE"
done
ok "HTTP: power cuts in the 2nd image, at the start of the last, in its middle, before its fsync: resumed, installed"

# The images committed before the cut are verified in place, not written again.
power_cut "$(point pri 20)" "$H/fw.pkg"
expect 0 "sec: 5.21.1 verified in place" fw upgrade no-reboot all "$H/fw.pkg"
grep -q "pri: continuing after the [0-9]* bytes the interrupted upgrade wrote" "$T/.err" || fail "$(cat "$T/.err")"
grep -q "sec: writing" "$T/.err" && fail "sec written again: $(cat "$T/.err")"
installed 5.21.1
ok "committed images verified in place, the half-written one continued after its kept bytes"

# --- FTP (REST) and TFTP (read again from byte 0, still correct)
power_cut "$(point pri 20)" "ftp://127.0.0.1:$FTP_PORT/fw.pkg"
k=$(kept)
expect 0 "resuming the interrupted upgrade" fw upgrade no-reboot all "ftp://127.0.0.1:$FTP_PORT/fw.pkg"
installed 5.21.1
[ "$(spliced)" -ge "$k" ] && [ "$(fetched)" -le $((SIZE - k + ($(connections) - 1) * SWITCH)) ] || fail "ftp: $(cat "$T/.err")"
# TFTP keeps no record (it could not start in the middle); a record of HTTP is not used over TFTP.
probe_points "tftp://127.0.0.1:$TFTP_PORT/fw.pkg" tftp.points
power_cut "$(point pri 20 tftp.points)" "tftp://127.0.0.1:$TFTP_PORT/fw.pkg" norecord
expect 0 "upgrade: all 5.21.1: success" fw upgrade no-reboot all "tftp://127.0.0.1:$TFTP_PORT/fw.pkg"
installed 5.21.1
power_cut "$(point pri 20)" "$H/fw.pkg"
expect 0 "not resuming the interrupted upgrade: it was 'upgrade all $H/fw.pkg'" \
	fw upgrade no-reboot all "tftp://127.0.0.1:$TFTP_PORT/fw.pkg"
installed 5.21.1
ok "FTP resumes with REST; TFTP reads the package whole again, installed all the same"

# --- the file replaced on the server between the cut and the resume: start over, the new one installed
randfile pri2.img 2000000
mkdir v2
cp sec.img boot.img v2/
cp pri2.img v2/pri.img
"$B/mkpkg" -q -o fw2.pkg --version 5.21.2 --product WX --pri v2/pri.img --sec sec.img --boot boot.img -k k.key
power_cut "$(point pri 20)" "$H/fw.pkg"
cp fw2.pkg www/fw.pkg
expect 0 "not resuming the interrupted upgrade: the file changed on the server since" fw upgrade no-reboot all "$H/fw.pkg"
installed 5.21.2 v2
# Nothing of the old package: only the new primary, written by this run's first read, is taken from its slot
# by the second read (the cut left the secondary the only bootable image).
grep -q "upgrade: resuming the interrupted" "$T/.err" && fail "resumed onto another file: $(cat "$T/.err")"
[ "$(spliced)" -le 2000000 ] || fail "bytes of the old package spliced into the new one: $(cat "$T/.err")"
cp fw.pkg www/fw.pkg
ok "a file changed on the server between the cut and the resume: started over, the new package installed"

# --- a different manifest behind the same ETag, time and size: the manifest decides, start over
"$B/mkpkg" -q -o fw3.pkg --version 5.21.3 --product WX --pri pri.img --sec sec.img --boot boot.img -k k.key
[ "$(wc -c <fw3.pkg)" -eq "$SIZE" ] || fail "fw3.pkg is not the same size"
touch -d @1700000000 www/fw.pkg
power_cut "$(point pri 20)" "$H/fw.pkg"
cp fw3.pkg www/fw.pkg
touch -d @1700000000 www/fw.pkg   # nginx's ETag and Last-Modified: size and time, both as before
expect 0 "the package's manifest is not the one the interrupted upgrade read: starting over from byte 0" \
	fw upgrade no-reboot all "$H/fw.pkg"
grep -q "resuming the interrupted upgrade" "$T/.err" || fail "the lie was not believed first: $(cat "$T/.err")"
installed 5.21.3
cp fw.pkg www/fw.pkg
ok "the same ETag, time and size but another manifest: started over from byte 0, installed"

# --- a record of another upgrade, a corrupt one, a truncated one: ignored, never a crash
power_cut "$(point pri 20)" "$H/fw.pkg"
expect 0 "not resuming the interrupted upgrade: it was 'upgrade all $H/fw.pkg'" \
	fw upgrade no-reboot all "ftp://127.0.0.1:$FTP_PORT/fw.pkg"
installed 5.21.1
# The first read fetches the whole package (a second read takes this run's own primary from its slot).
[ "$(fetched)" -ge "$SIZE" ] || fail "spliced from another upgrade's record: $(cat "$T/.err")"
for bad in garbage truncated; do
	power_cut "$(point pri 20)" "$H/fw.pkg"
	case $bad in
	garbage) printf '{"source": 12, [' >"$D/upgrade.resume" ;;
	truncated) head -c 100 "$D/upgrade.resume" >r && mv r "$D/upgrade.resume" ;;
	esac
	expect 0 "ignoring the record of an interrupted upgrade: .*upgrade.resume" fw upgrade no-reboot all "$H/fw.pkg"
	installed 5.21.1
	[ "$(fetched)" -ge "$SIZE" ] || fail "$bad record: fetched $(fetched)"
	grep -q "upgrade: resuming" "$T/.err" && fail "$bad record: resumed"
done
ok "a record of another source, a garbage one, a truncated one: ignored with a note, the upgrade fresh"

# --- a record that does not verify: its kept range falls in the package's head (manifest, signatures, chunk
# lists). The reader refuses what the splice gives it; fwctl(8) says the upgrade starts over from byte 0, so it
# must not fail the intact package (signatureFailed). From a cut in the primary and one in the secondary.
for at in "$(point pri 20)" "$(point boot 1)"; do
	power_cut "$at" "$H/fw.pkg"
	"$PY" - "$D/upgrade.resume" <<'PYEOF'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
# The first range the record keeps, moved into the head (a later range would overlap it, and not be used).
im = min((i for i in d["images"] if i["kept"] > 0), key=lambda i: i["offset"])
im["offset"] = 1536
json.dump(d, open(p, "w"))
PYEOF
	expect 0 "the bytes kept from the interrupted upgrade do not verify: .*starting over from byte 0" \
		fw upgrade no-reboot all "$H/fw.pkg"
	installed 5.21.1
done
ok "a resume record whose kept range falls in the package's head: the splice is refused, started over from byte 0, installed"

# --- a flipped byte in a slot between the cut and the resume: the reader catches it, the upgrade starts over
for s in sec pri; do
	power_cut "$(point pri 20)" "$H/fw.pkg"
	"$PY" -c "import sys; f = open(sys.argv[1], 'r+b'); f.seek(1000); b = f.read(1); f.seek(1000); f.write(bytes([b[0] ^ 0xff]))" \
		"$D/slots/$s"
	expect 0 "the bytes kept from the interrupted upgrade do not verify: .*starting over from byte 0" \
		fw upgrade no-reboot all "$H/fw.pkg"
	installed 5.21.1
done
ok "a byte flipped in a kept slot (committed or half-written): caught by the reader, started over, installed"

# --- a flipped byte beyond the range the record vouches for: the slot's further chunks are re-read and hashed
# against the saved chunk list (dev_resume_extend); the resume stops at the bad chunk, takes the good ones
# before it, and neither trusts the bad one nor starts over.
power_cut "$(point pri 20)" "$H/fw.pkg"
pk=$("$PY" -c "import json; print([i['kept'] for i in json.load(open('$D/upgrade.resume'))['images'] if i['slot'] == 'pri'][0])")
bad=$(((pk + CHUNK - 1) / CHUNK))
[ "$bad" -lt 19 ] || fail "the record vouches for $pk bytes of pri: no written chunk beyond it to flip"
"$PY" -c "import sys; f = open(sys.argv[1], 'r+b'); o = int(sys.argv[2]); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))" \
	"$D/slots/pri" $((bad * CHUNK + 777))
expect 0 "resuming the interrupted upgrade: $((3000000 + 300000 + bad * CHUNK)) bytes of the package are in the slots already" \
	fw upgrade no-reboot all "$H/fw.pkg"
grep -q "starting over" "$T/.err" && fail "started over: $(cat "$T/.err")"
installed 5.21.1
ok "a byte flipped in pri's chunk $bad, beyond the $pk bytes the record vouches for: resumed from the last good chunk before it, neither from the bad one nor from zero, installed"

# --- another upgrade in between: the record is stale and goes (cut in the bootloader: the primary still boots)
power_cut "$(point boot 1)" "$H/fw.pkg"
"$B/mkpkg" -q -o other.pkg --version 5.21.4 --product WX --pri sec.img --sec boot.img --boot boot.img -k k.key
expect 0 "the interrupted network upgrade will not be resumed: this upgrade replaces it" fw upgrade no-reboot sec other.pkg
[ ! -e "$D/upgrade.resume" ] || fail "the stale record stayed"
expect 0 "upgrade: all 5.21.1: success" fw upgrade no-reboot all "$H/fw.pkg"
grep -q "upgrade: resuming" "$T/.err" && fail "resumed after another upgrade: $(cat "$T/.err")"
installed 5.21.1
ok "upgrade sec from another package after the cut: the record is dropped, the next network upgrade starts fresh"

# --- a network failure keeps the record: the next run continues (not a power cut, the same path)
fresh
srv_proxy http "$HTTP_PORT"
"$B/fwctl" --root "$D" -q config net-retries 0
echo "cut $((SIZE - 2000000))" >"$PROXY_PLAN"
expect 4 "" fw upgrade no-reboot all "http://127.0.0.1:$PROXY_PORT/fw.pkg"
[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$(js "d['last_upgrade']")"
k=$(kept)
[ "$k" -gt $((SIZE - 2000000 - 16 * CHUNK - 2 * CHUNK)) ] || fail "a netError kept only $k bytes"
expect 0 "resuming the interrupted upgrade: $k bytes" fw upgrade no-reboot all "http://127.0.0.1:$PROXY_PORT/fw.pkg"
installed 5.21.1
[ "$(fetched)" -le $((SIZE - k + ($(connections) - 1) * SWITCH)) ] || fail "after a netError: fetched $(fetched), $k kept"
ok "a netError keeps the record (every written byte synced): the next run fetches only the rest"

# --- a power cut before every durable step of a network upgrade, then boot and the same upgrade: installed
mkdir small
randfile small/pri.img 10000000
randfile small/sec.img 1000000
randfile small/boot.img 100000
"$B/mkpkg" -q -o www/small.pkg --version 5.21.1 --product WX --pri small/pri.img --sec small/sec.img \
	--boot small/boot.img -k k.key
small_installed() { installed 5.21.1 small; }
crash_each_step "$H/small.pkg" 5.21.1 small_installed
[ $crash_resumed -gt $((crash_steps / 2)) ] || fail "only $crash_resumed of $crash_steps runs after a cut resumed"
ok "a power cut before each of $crash_steps durable steps, boot, the same upgrade: installed ($crash_resumed resumed)"

echo "all $TESTS checks passed"
