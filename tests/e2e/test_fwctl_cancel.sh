#!/bin/sh
# test_fwctl_cancel: SIGINT/SIGTERM during an upgrade or a download (fwctl(8), CANCELLING), a fwctl killed outright,
# status while nobody runs what the files say is under way, status --json's failure document, and a server that
# ignores Range on a resume; over a real nginx (one that honours Range, one that ignores it, one that is slow).
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

[ -f "$B/shim/sigwrite.so" ] || fail "no $B/shim/sigwrite.so: run make check"
# A SANITIZE=1 build with an LD_PRELOAD shim: the shim may come before ASan's runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
D=$T/dev
devsum() { (cd "$D" && find slots records -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }
# sigat SIG PATHPART N CMD...: CMD sends itself SIG right before its Nth write to a file whose path holds PATHPART
# (tests/shim/sigwrite.c): a user's Ctrl-C or a supervisor's SIGTERM at a chosen point of the transfer.
sigat() {
	sig=$1 part=$2 n=$3
	shift 3
	SIGWRITE_SIG=$sig SIGWRITE_PATH=$part SIGWRITE_AT=$n LD_PRELOAD="$B/shim/sigwrite.so" "$@"
}
INT=2 TERM=15
ISO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
fetched() { sed -n 's/.*upgrade: fetched \([0-9]*\) bytes over.*/\1/p' "$T/.err" | awk '{s += $1} END {print s + 0}'; }
kept() { "$PY" -c "import json; print(sum(i['kept'] for i in json.load(open('$D/upgrade.resume'))['images']))"; }
# cancelled: the last upgrade says upgradeCancelled, its cancellation successful, and the table says so too.
cancelled() {
	[ "$(js "d['last_upgrade']['result'], d['last_upgrade']['cancellation']")" = "upgradeCancelled successful" ] ||
		fail "$(js "d['last_upgrade']")"
	fw status | grep -Eq '^  cancellation +successful$' || fail "status table: $(fw status)"
}
# unlocked: no process holds the device lock (looked up in /proc/locks, not by taking it).
unlocked() {
	ino=$(stat -c %i "$D/.lock")
	! grep -q ":$ino " /proc/locks || fail "the device lock is still held: $(grep ":$ino " /proc/locks)"
}

keypair k
randfile pri.img 3000000
randfile sec.img 2000000
randfile boot.img 100000
mkdir -p www/slow
mk() { "$B/mkpkg" -q -o "$2" --version "$1" --product WX --chunk-size 65536 --pri pri.img --sec sec.img --boot boot.img -k k.key; }
mk 5.21.0 a.pkg
"$B/mkpkg" -q -o www/pri.pkg --version 5.21.1 --product WX --chunk-size 65536 --pri pri.img -k k.key
cp www/pri.pkg www/slow/pri.pkg
SIZE=$(wc -c <www/pri.pkg)
srv_nginx "$T/www"
H=http://127.0.0.1:$HTTP_PORT
N=http://127.0.0.1:$NORANGE_PORT
"$B/fwctl" --root "$T/template" -q init --product WX --trust "$T/k.pub" --version 5.20.0 >/dev/null
"$B/fwctl" --root "$T/template" -q config net-retries 1
fresh() { rm -rf "$D"; cp -a "$T/template" "$D"; }

# --- Ctrl-C while the first image of `all` is written from a file: exit 7, recorded, the lock released; again: done
fresh
expect 7 'upgrade: a\.pkg: payload WX-sec\.img: cancelled \(SIGINT\)$' sigat $INT /slots/sec 5 fw upgrade no-reboot all a.pkg
grep -q 'upgrade: sec: holds no valid image now: run the same upgrade again to finish it' "$T/.err" || fail "$(cat "$T/.err")"
cancelled
[ "$(js "d['slots']['sec']['valid'], d['slots']['pri']['version'], d['slots']['boot']['version'], d['last_upgrade']['not_installed']")" = \
	"False 5.20.0 5.20.0 ['pri', 'sec', 'boot']" ] || fail "$(js "d['slots'], d['last_upgrade']")"
unlocked
expect 0 'upgrade: all 5\.21\.0: success' fw upgrade no-reboot all a.pkg
[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['slots']['boot']['version'], d['last_upgrade']['cancellation']")" = \
	"5.21.0 5.21.0 5.21.0 None" ] || fail "$(js "d['slots'], d['last_upgrade']")"
ok "SIGINT while the secondary is written from a file: exit 7, upgradeCancelled (cancellation successful), lock released; run again: installed"

# --- SIGTERM in the last image of `all`: the two images before it stay committed, the primary is written again
fresh
expect 7 'cancelled \(SIGTERM\)' sigat $TERM /slots/pri 20 fw upgrade no-reboot all a.pkg
cancelled
[ "$(js "d['last_upgrade']['installed'], d['last_upgrade']['not_installed'], d['slots']['pri']['valid']")" = \
	"['sec', 'boot'] ['pri'] False" ] || fail "$(js "d['last_upgrade']")"
expect 0 '' fw boot
grep -q 'booted sec 5.21.0' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 'upgrade: all 5\.21\.0: success' fw upgrade no-reboot all a.pkg
ok "SIGTERM while the primary (the last image) is written: sec and boot stay installed, the device boots sec; again: installed"

# --- from a device whose earlier upgrade failed (the primary not valid): the package is read twice, primary first;
# a cancel in that first read never touches the secondary, the only bootable image
fresh
at=$(pkg_craft offset a.pkg WX-pri.img middle)
pkg_craft flip a.pkg badpri.pkg "$at"
expect 1 'SHA-256 mismatch' fw upgrade no-reboot all badpri.pkg
expect 0 '' fw boot
sec_before=$(sha256sum <"$D/slots/sec")
expect 7 'cancelled \(SIGINT\)' sigat $INT /slots/pri 10 fw upgrade no-reboot all a.pkg
cancelled
[ "$(sha256sum <"$D/slots/sec")" = "$sec_before" ] || fail "the cancelled upgrade touched the secondary"
[ "$(js "d['slots']['sec']['version'], d['slots']['sec']['valid'], d['slots']['pri']['valid']")" = "5.21.0 True False" ] ||
	fail "$(js "d['slots']")"
expect 0 '' fw boot
grep -q 'booted sec 5.21.0' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 'upgrade: all 5\.21\.0: success' fw upgrade no-reboot all a.pkg
ok "after a failed upgrade (pri not valid): a cancel during the primary leaves the secondary untouched and booting; again: installed"

# --- HTTP: a cancel while the slot is written keeps a durable resume record; the next run fetches only the rest
fresh
expect 7 "upgrade: $H/pri\\.pkg: .*cancelled \\(SIGINT\\)" sigat $INT /slots/pri 20 fw upgrade no-reboot pri "$H/pri.pkg"
cancelled
k=$(kept)
[ "$k" -ge $((19 * 65536)) ] || fail "the resume record keeps $k bytes"
[ "$(js "d['resume']['kept'], d['download']")" = "$k None" ] || fail "$(js "d['resume'], d['download']")"
expect 0 "upgrade: resuming the interrupted upgrade: $k bytes of the package are in the slots already" \
	fw upgrade no-reboot pri "$H/pri.pkg"
[ "$(fetched)" -le $((SIZE - k + 65536)) ] || fail "fetched $(fetched) of $SIZE with $k kept"
[ "$(js "d['slots']['pri']['version'], d['resume']")" = "5.21.1 None" ] || fail "$(js d)"
ok "HTTP: SIGINT while writing the slot: the resume record is durable, the next run fetches $(fetched) of $SIZE bytes"

# --- a slow server, a supervisor's SIGTERM from outside in the middle of the transfer
fresh
"$B/fwctl" --root "$D" upgrade no-reboot pri "$H/slow/pri.pkg" >/dev/null 2>"$T/bg.err" &
pid=$!
i=0
until [ "$(js "d['download'] is not None and d['download']['bytes'] > 300000")" = True ]; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "no download progress: $(js "d['download']")"; sleep 0.1
done
fw status | grep -q '^downloading ' || fail "status while it runs: $(fw status)"
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 7 ] || fail "exit $rc after SIGTERM: $(cat "$T/bg.err")"
grep -q 'cancelled (SIGTERM)' "$T/bg.err" || fail "$(cat "$T/bg.err")"
cancelled
[ "$(js "d['download']")" = None ] || fail "$(js "d['download']")"
fw status >st.txt
grep -q '^resumable  *upgrade pri ' st.txt && ! grep -q '^downloading' st.txt || fail "$(cat st.txt)"
unlocked
expect 0 'upgrade: resuming the interrupted upgrade' fw upgrade no-reboot pri "$H/slow/pri.pkg"
[ "$(fetched)" -lt "$SIZE" ] || fail "fetched $(fetched) of $SIZE after the cancel"
ok "a slow server, SIGTERM in the middle: exit 7, upgradeCancelled, no download shown, resumable; the next run resumes"

# --- killed outright (SIGKILL): status says interrupted, not downloading or inProgress; boot records abnormalReset
fresh
"$B/fwctl" --root "$D" upgrade no-reboot pri "$H/slow/pri.pkg" >/dev/null 2>&1 &
pid=$!
i=0
until [ "$(js "d['download'] is not None and d['download']['bytes'] > 300000")" = True ]; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "no download progress: $(js "d['download']")"; sleep 0.1
done
kill -KILL $pid
wait $pid 2>/dev/null || true
[ -e "$D/progress.json" ] && grep -q inProgress "$D/state.json" || fail "the kill left no progress file or state in progress"
[ "$(js "d['download'], d['last_upgrade']['result'], d['resume'] is not None")" = "None abnormalReset True" ] ||
	fail "$(js "d['download'], d['last_upgrade'], d['resume']")"
fw status >st.txt
! grep -Eq '^downloading|inProgress|MiB/s' st.txt || fail "status after kill -9: $(cat st.txt)"
grep -Eq '^interrupted  *.*/slow/pri\.pkg: at byte [0-9]+, and no fwctl runs it now .*run the same upgrade again to resume' st.txt ||
	fail "$(cat st.txt)"
grep -Eq '^  result  *abnormalReset$' st.txt || fail "$(cat st.txt)"
expect 0 '' fw boot
[ "$(js "d['last_upgrade']['result']")" = abnormalReset ] || fail "$(js "d['last_upgrade']")"
expect 0 'upgrade: resuming the interrupted upgrade' fw upgrade no-reboot pri "$H/slow/pri.pkg"
ok "kill -9 mid-download: status shows no download and abnormalReset but an interrupted, resumable upgrade; boot records abnormalReset"

# --- an unpack hook that hangs: a cancel does not wait for it; it and all it started are gone, nothing changed
fresh
printf '#!/bin/sh\necho $$ >"%s/hook.pid"\nsleep 1000\ncat\n' "$T" >hang
chmod 755 hang
expect 0 '' fw config hook-timeout 3600
expect 0 '' fw config unpack-hook "$T/hang"
before=$(devsum)
rm -f hook.pid
"$B/fwctl" --root "$D" upgrade no-reboot pri a.pkg >/dev/null 2>"$T/bg.err" &
pid=$!
i=0
until [ -s hook.pid ]; do i=$((i + 1)); [ $i -lt 300 ] || fail "the hook did not start"; sleep 0.1; done
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 7 ] || fail "exit $rc: $(cat "$T/bg.err")"
grep -q 'the unpack hook was stopped: cancelled (SIGTERM)' "$T/bg.err" || fail "$(cat "$T/bg.err")"
cancelled
hook=$(cat hook.pid)
! kill -0 -- "-$hook" 2>/dev/null || fail "the hook's process group outlived the cancel"
[ "$(devsum)" = "$before" ] || fail "the cancelled upgrade changed the slots"
ok "a hanging unpack hook: SIGTERM ends the upgrade at once (exit 7), the hook's whole process group is killed, nothing changed"

# A hook that exits 3 cancels too (upgradeCancelled, exit 1), but nobody asked to stop: no cancellation status.
printf '#!/bin/sh\ncat >/dev/null\nexit 3\n' >fail3
chmod 755 fail3
expect 0 '' fw config unpack-hook "$T/fail3"
expect 1 'the unpack hook exited 3: upgrade cancelled' fw upgrade no-reboot pri a.pkg
[ "$(js "d['last_upgrade']['result'], d['last_upgrade']['cancellation']")" = "upgradeCancelled None" ] ||
	fail "$(js "d['last_upgrade']")"
ok "a hook exiting 3: upgradeCancelled with exit 1 and no cancellation status (only a user's stop has one)"

# --- golden install: a cancel mid-write leaves the golden slot read-only (0444) as every golden install does; again: placed
fresh
expect 7 'golden: a\.pkg: payload WX-pri\.img: cancelled \(SIGINT\)$' sigat $INT /slots/golden 5 fw golden install a.pkg
cancelled
[ "$(stat -c %a "$D/slots/golden")" = 444 ] || fail "a cancelled golden install left the golden slot writable: $(stat -c %a "$D/slots/golden")"
[ "$(js "d['slots']['golden']['valid']")" = False ] || fail "$(js "d['slots']['golden']")"
expect 0 '' fw golden install a.pkg
[ "$(stat -c %a "$D/slots/golden"), $(js "d['slots']['golden']['version']")" = "444, 5.21.0" ] || fail "golden install after the cancel"
unlocked
ok "golden install: SIGINT mid-write: exit 7, upgradeCancelled, the golden slot read-only (0444) again; again: placed"

# --- a golden install cut short (a Ctrl-C, a full disk) over a placed golden system keeps its floor: no upgrade and
# no rollback goes below 5.21.0, though the slot's image is gone; its notes say golden:, not upgrade:
mk 5.21.3 c.pkg
mk 5.20.5 low.pkg
[ -f "$B/shim/failwrite.so" ] || fail "no $B/shim/failwrite.so: run make check"
for how in cancel fail; do
	fresh
	expect 0 'golden: 5\.21\.0 placed' fw golden install a.pkg
	expect 0 '' fw boot
	expect 0 'upgrade: all 5\.21\.0: success' fw upgrade no-reboot all a.pkg
	if [ "$how" = cancel ]; then
		expect 7 'golden: c\.pkg: payload WX-pri\.img: cancelled \(SIGINT\)$' sigat $INT /slots/golden 5 fw golden install c.pkg
		grep -q 'golden: golden: holds no valid image now: run the same golden install again to finish it' "$T/.err" ||
			fail "$(cat "$T/.err")"
	else
		FAILWRITE_AFTER=1000000 LD_PRELOAD="$B/shim/failwrite.so" expect 3 'golden: c\.pkg: .*No space left on device' \
			fw golden install c.pkg
		grep -q 'golden: golden: holds no valid image now: the golden install failed writing it (see above); run it again once the storage is fixed' \
			"$T/.err" || fail "$(cat "$T/.err")"
	fi
	grep -q 'golden: golden: writing WX-pri\.img 5\.21\.3' "$T/.err" || fail "golden install notes: $(cat "$T/.err")"
	! grep -q 'fwctl: upgrade:' "$T/.err" || fail "a golden install says upgrade: $(cat "$T/.err")"
	[ "$(js "d['slots']['golden']['valid'], d['slots']['golden']['floor']")" = "False 5.21.0" ] ||
		fail "$how: the golden record after a golden install cut short: $(js "d['slots']['golden']")"
	fw status | grep -Eq '^golden +no .*\(the floor stays 5\.21\.0\)$' || fail "status table: $(fw status)"
	before=$(devsum)
	expect 1 'the package \(5\.20\.5\) is older than the golden system 5\.21\.0, which no boot goes below' fw upgrade pri low.pkg
	[ "$(devsum)" = "$before" ] || fail "$how: a refused upgrade below the golden floor changed the device"
	# The boot step starts the system images (at the floor); placed again, the new golden system is the floor.
	expect 0 '' fw boot
	grep -q 'booted pri 5\.21\.0' "$T/.out" || fail "$(cat "$T/.out")"
	expect 0 'golden: 5\.21\.3 placed' fw golden install c.pkg
	[ "$(js "d['slots']['golden']['valid'], d['slots']['golden']['version']")" = "True 5.21.3" ] || fail "$(js "d['slots']['golden']")"
done
# With nothing at the floor left to boot (the system images older than it), a system below it beats none, said so.
fresh
expect 0 'golden: 5\.21\.0 placed' fw golden install a.pkg
expect 7 'cancelled \(SIGINT\)$' sigat $INT /slots/golden 5 fw golden install c.pkg
expect 0 '' fw boot
grep -q 'booted pri 5\.20\.0' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['boot_note']")" = "below the golden floor 5.21.0, whose image is gone: booting it all the same (place the golden system again with fwctl golden install)" ] ||
	fail "$(js "d['boot_note']")"
ok "golden install cut short by SIGINT or a full disk: the golden floor stays (record, status, upgrade refused below it; exit 7 / 3), notes say golden:; with nothing at the floor, the boot says so and starts pri"

# --- package install from a file: a stop between verified chunks ends it (it did nothing: the install went on,
# exit 0); nothing installed, the refusal recorded; again: installed. A stop after the index is written: said so.
fresh
mkdir -p tree-big/files
randfile tree-big/files/blob 1500000
"$B/mkwmopkg" -q -o big.wmopkg -C tree-big --version 1.0 --product WX --chunk-size 65536 -k k.key
expect 7 '^fwctl: package install: big\.wmopkg: cancelled \(SIGTERM\)$' sigat $TERM /packages/.incoming 3 fw package install big.wmopkg
[ "$(ls -A "$D/packages")" = last.json ] || fail "a cancelled package install left files: $(ls -A "$D/packages")"
"$PY" -c "import json; d = json.load(open('$D/packages/last.json')); assert d['result'] == 'upgradeCancelled', d" ||
	fail "the cancel was not recorded: $(cat "$D/packages/last.json")"
unlocked
expect 0 '' sigat $INT /packages/.index 1 fw package install big.wmopkg
grep -q "the cancel came after the package was installed (cancellation failed)" "$T/.err" || fail "$(cat "$T/.err")"
fw package list | grep -q '^big ' || fail "$(fw package list)"
ok "package install from a file: SIGTERM between chunks: exit 7, nothing installed, upgradeCancelled recorded; a late stop: installed, said so"

# --- a stop that comes after the last safe point: the upgrade stands, the cancellation failed, no reboot
fresh
expect 0 'the cancel came after the upgrade had finished \(cancellation failed\); not rebooting' \
	sigat $INT /records/.pri.json 2 fw upgrade pri a.pkg
! grep -q 'upgrade: rebooting$' "$T/.err" || fail "it rebooted: $(cat "$T/.err")"
[ "$(js "d['last_upgrade']['result'], d['last_upgrade']['cancellation'], d['slots']['pri']['version'], d['booted_version']")" = \
	"success failed 5.21.0 5.20.0" ] || fail "$(js d)"
ok "SIGINT during the final commit: success stands, cancellation failed, and upgrade does not reboot"

# --- resuming from a server that ignores Range: said so, fetched whole once, no claim of bytes kept
fresh
expect 7 'cancelled \(SIGINT\)' sigat $INT /slots/pri 20 fw upgrade no-reboot pri "$N/pri.pkg"
[ "$(kept)" -gt 0 ] || fail "no bytes kept"
expect 0 'not resuming the interrupted upgrade: the server ignored the Range request \(HTTP 200, not 206\): the package is fetched whole' \
	fw upgrade no-reboot pri "$N/pri.pkg"
! grep -q 'not fetched again' "$T/.err" || fail "claims savings it does not make: $(cat "$T/.err")"
# The whole package once, plus what the transport had buffered of the answer it gave up on (its 192 KiB, with room).
[ "$(fetched)" -le $((SIZE + 512 * 1024)) ] || fail "fetched $(fetched) of $SIZE"
[ "$(js "d['slots']['pri']['version']")" = 5.21.1 ] || fail "$(js "d['slots']")"
ok "a server that ignores Range on a resume: said so, the package fetched whole ($(fetched) of $SIZE bytes), installed"

# --- fwctl download (smart upgrade's fetch): a cancel keeps what arrived, without a netError's backoff; again: resumed
fresh
env -u SOURCE_DATE_EPOCH "$B/fwpkg" catalog -q -f -o www/cat.json --base-url "$H/" --expires 30d --serial 1 -k k.key www/pri.pkg
expect 0 'smart config: set' fw smart config --server "$H/cat.json"
expect 0 '' fw check
[ "$(cat "$T/.out")" = "needUpdate 5.21.1" ] || fail "$(cat "$T/.out")"
expect 7 'download: .*cancelled \(SIGINT\)' sigat $INT /download/package.part 20 fw download
[ "$(cat "$T/.out")" = upgradeCancelled ] || fail "$(cat "$T/.out")"
[ "$(js "d['smart']['download']['result'], d['smart']['download']['failures'], d['smart']['download']['complete']")" = \
	"upgradeCancelled 0 False" ] || fail "$(js "d['smart']['download']")"
have=$(js "d['smart']['download']['bytes']")
[ "$have" -gt 0 ] || fail "no progress kept: $(js "d['smart']['download']")"
unlocked
expect 0 'download: 5\.21\.1: [0-9]+ bytes: [1-9][0-9]* on disk before \(verified again\)' fw download
[ "$(js "d['smart']['download']['result'], d['smart']['download']['complete']")" = "success True" ] ||
	fail "$(js "d['smart']['download']")"
ok "fwctl download: SIGINT mid-fetch: exit 7, upgradeCancelled, $have bytes kept, no backoff; again: resumed and complete"

# --- fwctl download from a server that ignores Range: the resume is said to be whole, not claimed as saved
fresh
env -u SOURCE_DATE_EPOCH "$B/fwpkg" catalog -q -f -o www/cat.json --base-url "$N/" --expires 30d --serial 1 -k k.key www/pri.pkg
expect 0 'smart config: set' fw smart config --server "$N/cat.json"
expect 0 '' fw check
# Early in the file (the 5th write): its writes are about 128 KiB, and the 20th can be its last.
expect 7 'download: .*cancelled \(SIGINT\)' sigat $INT /download/package.part 5 fw download
unlocked
expect 0 'download: 5\.21\.1: the server ignored the Range request \(HTTP 200, not 206\): the package was fetched whole' fw download
[ "$(js "d['smart']['download']['result'], d['smart']['download']['complete']")" = "success True" ] ||
	fail "$(js "d['smart']['download']")"
ok "fwctl download resumed from a server that ignores Range: says the package was fetched whole"

# --- smart tick's install, cancelled: the downloaded package stays for the next tick, which installs it
expect 0 'smart config: set' fw smart config --on --install-at any
expect 7 'install: .*cancelled \(SIGTERM\)' sigat $TERM /slots/pri 10 fw smart tick
grep -q '^install 5.21.1 upgradeCancelled$' "$T/.out" || fail "$(cat "$T/.out")"
[ -s "$D/download/package.pkg" ] || fail "the cancelled install dropped the download"
[ "$(js "d['smart']['download']['complete'], d['last_upgrade']['result'], d['last_upgrade']['cancellation']")" = \
	"True upgradeCancelled successful" ] || fail "$(js "d['smart']['download'], d['last_upgrade']")"
expect 0 'install: rebooting' fw smart tick
grep -q '^install 5.21.1 success' "$T/.out" && grep -q 'booted pri 5.21.1' "$T/.out" || fail "$(cat "$T/.out")"
ok "smart tick: SIGTERM during the install: exit 7, the download kept; the next tick installs it and reboots"

# --- status --json when it fails: one JSON document with the error, as fwpkg's --json
expect 2 'status: ' "$B/fwctl" --root "$T/nothing" status --json
"$PY" -c "
import json, sys
d = json.load(open('$T/.out'))
assert d['outcome'] == 'error' and d['exit_code'] == 2 and d['file'] == '$T/nothing' and d['error'], d
" || fail "status --json failure: $(cat "$T/.out")"
fresh
printf '{"rollback_index": -1}' >"$D/state.json"
expect 3 'rollback_index' fw status --json
"$PY" -c "
import json
d = json.load(open('$T/.out'))
assert d['outcome'] == 'error' and d['exit_code'] == 3 and 'rollback_index' in d['error'], d
assert d['file'] == '$D/state.json', d
" || fail "status --json failure: $(cat "$T/.out")"
# The file that made status fail is the one named, not the root: a damaged smart state, or configuration.
fresh
printf '{"check": {"result": "bogus"}}' >"$D/smart.json"
before=$(treesum "$D")
expect 3 "status: $D/smart.json: check.result: missing or unknown" fw status --json
"$PY" -c "
import json
d = json.load(open('$T/.out'))
assert d['outcome'] == 'error' and d['exit_code'] == 3 and d['file'] == '$D/smart.json' and 'check.result' in d['error'], d
" || fail "status --json with a damaged smart.json: $(cat "$T/.out")"
expect 3 "status: $D/smart.json: check.result" fw status
[ "$(treesum "$D")" = "$before" ] || fail "status changed the device"
fresh
printf '{"product": ' >"$D/config.json"
expect 3 "status: .*$D/config.json" fw status --json
"$PY" -c "
import json
d = json.load(open('$T/.out'))
assert d['outcome'] == 'error' and d['exit_code'] == 3 and d['file'] == '$D/config.json', d
" || fail "status --json with a damaged config.json: $(cat "$T/.out")"
# A damaged record is no failure of status: that slot is shown not valid, its note naming the record.
fresh
printf '{"valid": true}' >"$D/records/pri.json"
expect 0 '' fw status --json
"$PY" -c "
import json
d = json.load(open('$T/.out'))
p = d['slots']['pri']
assert p['valid'] is False and '$D/records/pri.json' in p['note'] and d['version'] == '5.20.0', d
" || fail "status --json with a damaged records/pri.json: $(cat "$T/.out")"
expect 2 'unknown option' fw status --json --bogus
"$PY" -c "
import json
d = json.load(open('$T/.out'))
assert d['outcome'] == 'error' and d['exit_code'] == 2 and d['file'] is None, d
" || fail "status --json usage failure: $(cat "$T/.out")"
ok "status --json that fails prints one JSON document: outcome, exit_code, error, and the file that made it fail (state.json, smart.json, config.json; a damaged record shows as not valid)"

# --- one convention for times in JSON: ISO 8601 UTC strings everywhere
fresh
expect 0 '' fw upgrade no-reboot pri a.pkg
fw status --json >st.json
"$PY" - st.json "$ISO" <<'PYEOF' || fail "times in status --json: $(cat st.json)"
import json, re, sys
d = json.load(open(sys.argv[1]))
iso = re.compile(sys.argv[2])
assert iso.match(d['last_upgrade']['time']), d['last_upgrade']
assert 'time_text' not in d['last_upgrade'], d['last_upgrade']
for name, s in d['slots'].items():
    if s['valid']:
        assert iso.match(s['installed']) and 'installed_time' not in s, (name, s)
PYEOF
env -u SOURCE_DATE_EPOCH "$B/fwpkg" catalog -q -o cat.json --base-url "$H/" --expires 30d --serial 1 -k k.key a.pkg
expect 0 '' "$B/fwpkg" inspect --json -p k.pub cat.json
"$PY" -c "
import json, re
d = json.load(open('$T/.out'))
assert re.match('$ISO', d['created']) and re.match('$ISO', d['expires']), d
" || fail "fwpkg inspect --json: $(cat "$T/.out")"
expect 0 '' "$B/fwpkg" verify --json -p k.pub cat.json
"$PY" -c "
import json, re
d = json.load(open('$T/.out'))
assert re.match('$ISO', d['expires']), d
" || fail "fwpkg verify --json: $(cat "$T/.out")"
mkdir -p tree/files/etc && echo on >tree/files/etc/x.conf
"$B/mkwmopkg" -q -o x.wmopkg -C tree --version 1.0 --product WX -k k.key
expect 0 'installed x 1.0' fw package install x.wmopkg
expect 0 '' fw package list --json
"$PY" -c "
import json, re
d = json.load(open('$T/.out'))
assert re.match('$ISO', d['packages'][0]['installed']) and re.match('$ISO', d['last_install']['time']), d
assert 'time_text' not in d['last_install'], d
" || fail "package list --json: $(cat "$T/.out")"
ok "times in JSON: status's last upgrade and slots, package list, fwpkg's catalog inspect and verify: ISO 8601 UTC strings"

echo "all $TESTS passed"
