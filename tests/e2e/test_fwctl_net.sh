#!/bin/sh
# test_fwctl_net: fwctl upgrade from real nginx (HTTP, HTTPS), vsftpd, tftpd-hpa and through the fault proxy.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

D=$T/dev
devsum() { (cd "$D" && find slots records -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }
# fetched: the bytes the last upgrade fetched, from its closing note.
fetched() { sed -n 's/.*upgrade: fetched \([0-9]*\) bytes over.*/\1/p' "$T/.err"; }
interruptions() { sed -n 's/.*upgrade: fetched .*, \([0-9]*\) interruptions\{0,1\})$/\1/p' "$T/.err"; }

keypair k
randfile pri.img 1500000
randfile sec.img 700000
randfile boot.img 5000
mkdir www only-tftp
"$B/mkpkg" -q -o www/fw.pkg --version 5.21.1 --product WX --chunk-size 65536 --pri pri.img --sec sec.img \
	--boot boot.img -k k.key
"$B/mkpkg" -q -o www/fw2.pkg --version 5.21.2 --product WX --chunk-size 65536 --pri sec.img --sec pri.img \
	--boot boot.img -k k.key
cp www/fw.pkg only-tftp/fw.pkg
SIZE=$(wc -c <www/fw.pkg)
CHUNK=65536

srv_nginx "$T/www"
srv_vsftpd "$T/www"
MAIN_FTP=$FTP_PORT USER_FTP=$FTP_USER_PORT
srv_tftpd "$T/www"
H=http://127.0.0.1:$HTTP_PORT

fresh() {
	rm -rf "$D"
	"$B/fwctl" --root "$D" -q init --product WX --trust "$T/k.pub" --version 5.21.0 --ca-file "$SRV_CA" >/dev/null
	expect 0 '' fw config net-retries 3
}
# installed VERSION: every slot holds VERSION and the last upgrade succeeded.
installed() {
	[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['last_upgrade']['result']")" = \
		"$1 $1 success" ] || fail "$(js "d['slots'], d['last_upgrade']")"
	[ "$(js "d['download']")" = None ] || fail "a progress report outlived the upgrade: $(js "d['download']")"
}

# --- each protocol installs the package it streams
fresh
expect 0 "upgrade: all 5.21.1: success.*" fw upgrade no-reboot all "$H/fw.pkg"
grep -q "fetched $SIZE bytes over http (1 connection, 0 interruptions)" "$T/.err" || fail "$(cat "$T/.err")"
installed 5.21.1
expect 0 "upgrade: all 5.21.2: success" fw upgrade no-reboot all "https://127.0.0.1:$HTTPS_PORT/fw2.pkg"
installed 5.21.2
expect 0 "fetched $SIZE bytes over ftp" fw upgrade no-reboot force all "ftp://127.0.0.1:$MAIN_FTP/fw.pkg"
installed 5.21.1
expect 0 "over ftp" fw upgrade no-reboot all "ftp://$FTP_USER:$FTP_PASSWORD@127.0.0.1:$USER_FTP/fw2.pkg"
installed 5.21.2
grep -q "$FTP_PASSWORD" "$T/.err" && fail "the password was shown: $(cat "$T/.err")"
"$B/fwctl" --root "$D" status --json | grep -q "$FTP_PASSWORD" && fail "the password reached the state"
expect 0 "fetched $SIZE bytes over tftp" fw upgrade no-reboot force all "tftp://127.0.0.1:$TFTP_PORT/fw.pkg"
installed 5.21.1
expect 0 "over ftp" fw upgrade no-reboot all "127.0.0.1:$MAIN_FTP" fw2.pkg
installed 5.21.2
expect 0 "upgrade: rebooting" fw upgrade force all "127.0.0.1:$MAIN_FTP/fw.pkg"
grep -q "booted pri 5.21.1" "$T/.out" || fail "$(cat "$T/.out")"
# Progress on a terminal (stderr a TTY): bytes, percent, speed; none with -q or when stderr is not a terminal.
onpty() { "$PY" -c 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)' "$@"; }
onpty "$B/fwctl" --root "$D" upgrade no-reboot force all "$H/fw.pkg" >tty.txt
grep -q "upgrade: $SIZE of $SIZE bytes, 100%, [0-9.]* MiB/s" tty.txt || fail "no progress on the terminal: $(cat tty.txt)"
onpty "$B/fwctl" --root "$D" -q upgrade no-reboot force all "$H/fw.pkg" >tty.txt
grep -q "MiB/s" tty.txt && fail "progress despite -q: $(cat tty.txt)"
grep -q "MiB/s" "$T/.err" && fail "progress on a stderr that is not a terminal"
ok "http, https (device CA file), ftp (anonymous and user, password never shown), tftp, ADDRESS FILE, ADDRESS/FILE"

# --- FTP, then TFTP: no FTP server on the port
PORT=$(free_port both)
srv_tftpd "$T/only-tftp" "$PORT"
fresh
expect 0 "fetched $SIZE bytes over tftp" fw upgrade no-reboot all "127.0.0.1:$PORT" fw.pkg
installed 5.21.1
ok "ADDRESS FILE falls back to TFTP when no FTP server answers"

# --- ADDRESS FILE with any host name; a file on neither server: one error naming both attempts
PORT2=$(free_port both)
mkdir neither
srv_vsftpd "$T/neither" "$PORT2"
srv_tftpd "$T/neither" "$PORT2"
fresh
before=$(devsum)
expect 4 "localhost:$PORT2 fw.pkg: ftp: .*; tftp: no such file on the server" fw upgrade no-reboot all "localhost:$PORT2" fw.pkg
[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$(js "d['last_upgrade']")"
[ "$(devsum)" = "$before" ] || fail "a file on neither server changed the device"
expect 0 "fetched $SIZE bytes over tftp" fw upgrade no-reboot all localhost:$PORT fw.pkg
installed 5.21.1
# No FTP server on localhost's port 21 and no TFTP server answering on its port 69: the one overall bound
# (transfer-timeout) ends both attempts, and the error names what each met.
fresh
expect 0 '' fw config transfer-timeout 3
before=$(devsum)
expect 4 "^fwctl: upgrade: localhost fw.pkg: the transfer did not finish within 3 s \(transfer-timeout\): given up after 0 bytes \(ftp: .+; tftp: .+\)$" \
	fw upgrade no-reboot all localhost fw.pkg
[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$(js "d['last_upgrade']")"
[ "$(devsum)" = "$before" ] || fail "a source on no server changed the device"
ok "ADDRESS FILE takes any host name (localhost, no dot, no port); a file on neither FTP nor TFTP: netError naming both attempts, within transfer-timeout"

# --- network failures: exit 4, netError, a clear message, nothing changed
failed() { # failed PATTERN SOURCE...: exit 4 with PATTERN, netError recorded, slots and records unchanged
	pat=$1
	shift
	before=$(devsum)
	expect 4 "$pat" fw upgrade no-reboot all "$@"
	[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$*: $(js "d['last_upgrade']")"
	[ "$(devsum)" = "$before" ] || fail "$*: the failed upgrade changed the device"
}
fresh
failed "ftp://$FTP_USER:\\*\\*\\*@127.0.0.1:$USER_FTP/fw.pkg: login refused" \
	"ftp://$FTP_USER:not-the-password@127.0.0.1:$USER_FTP/fw.pkg"
grep -q not-the-password "$T/.err" && fail "the wrong password was shown"
"$B/fwctl" --root "$D" status --json | grep -q not-the-password && fail "the wrong password reached the state"
failed "^fwctl: upgrade: $H/nope.pkg: the server answered HTTP 404 \(no such file\)$" "$H/nope.pkg"
expect 0 '' fw config ca-file none
failed "the server's certificate does not verify" "https://127.0.0.1:$HTTPS_PORT/fw.pkg"
expect 2 'CA file relative.pem: give an absolute path' fw config ca-file relative.pem
expect 0 '' fw config ca-file "$SRV_CA"
expect 0 '' fw config
grep -q "^ca-file *$SRV_CA" "$T/.out" || fail "$(cat "$T/.out")"
ok "wrong FTP password (never shown or stored), 404, no CA for the server: exit 4, netError, nothing changed"

# --- through the fault proxy: cuts at ten offsets, each resumed within size + one chunk
srv_proxy http "$HTTP_PORT"
P=http://127.0.0.1:$PROXY_PORT
HPLAN=$PROXY_PLAN
expect 0 '' fw config low-speed-limit 100000
expect 0 '' fw config low-speed-time 1
for off in 0 1 4095 65536 65537 500000 1048576 1500001 $((SIZE - 1000)) $((SIZE - 1)); do
	echo "cut $off" >"$PROXY_PLAN"
	expect 0 "upgrade: all 5.21.[12]: success" fw upgrade no-reboot force all "$P/fw.pkg"
	[ "$(interruptions)" = 1 ] || fail "cut at $off: $(grep fetched "$T/.err")"
	[ "$(fetched)" -le $((SIZE + CHUNK)) ] || fail "cut at $off: fetched $(fetched) > $SIZE + $CHUNK"
	installed 5.21.1
done
ok "HTTP cut at ten offsets: each upgrade resumed and installed, bytes fetched within size + one chunk"

# A server that ignores Range: the whole file again, its first part skipped; installed all the same.
srv_proxy http "$NORANGE_PORT"
echo "cut 1000000" >"$PROXY_PLAN"
expect 0 "upgrade: all 5.21.1: success" fw upgrade no-reboot force all "http://127.0.0.1:$PROXY_PORT/fw.pkg"
[ "$(fetched)" -eq $((SIZE + 1000000)) ] || fail "no-range server: fetched $(fetched)"
installed 5.21.1
ok "a server that ignores Range: read again from byte 0 and skipped, the package installed"

# A stalled server: the low-speed limit ends each attempt; with no retries left it is a netError.
PROXY_PLAN=$HPLAN
expect 0 '' fw config net-retries 0
printf 'stall 300000\n' >"$PROXY_PLAN"
start=$(date +%s)
expect 4 "$P/fw.pkg: timed out or too slow" fw upgrade no-reboot force all "$P/fw.pkg"
[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$(js "d['last_upgrade']")"
[ $(($(date +%s) - start)) -lt 15 ] || fail "the low-speed limit took $(($(date +%s) - start)) s"
# A network failure keeps the resume record for the next run (test_fwctl_resume.sh); this test wants a
# fresh start, so that the next run meets the stall itself instead of taking the kept bytes from the slots.
[ -s "$D/upgrade.resume" ] || fail "a netError dropped the resume record"
rm "$D/upgrade.resume"
ok "a stalled server hits the low-speed limit: netError (exit 4)"

# --- a slow server (TUF's slow retrieval): 1 byte a second after 300000 bytes, on every connection. Each
# attempt brings new bytes, yet stays below the low-speed limit: it counts against net-retries all the same.
slow_plan() { : >"$PROXY_PLAN"; for i in $(seq 40); do echo "dribble 300000" >>"$PROXY_PLAN"; done; }
expect 0 '' fw config net-retries 2
expect 0 '' fw config low-speed-limit 1024
expect 0 '' fw config low-speed-time 2
slow_plan
start=$(date +%s)
expect 4 "$P/fw.pkg: timed out or too slow .*\(gave up after 3 attempts\)" \
	timeout 60 "$B/fwctl" --root "$D" upgrade no-reboot force all "$P/fw.pkg"
took=$(($(date +%s) - start))
[ "$took" -lt 45 ] || fail "a dribbling server held the upgrade for $took s"
[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$(js "d['last_upgrade']")"
expect 0 '' timeout 5 "$B/fwctl" --root "$D" status
rm -f "$D/upgrade.resume"
ok "a server dribbling a byte a second into every attempt: each attempt below the low-speed limit fails, netError after net-retries ($took s), the lock free"

# The overall bound: with the low-speed limit off, transfer-timeout ends the transfer however it goes.
expect 0 '' fw config low-speed-limit 0
expect 0 '' fw config net-retries 3
expect 2 'transfer-timeout 0: expected 1 to 604800 seconds' fw config transfer-timeout 0
expect 0 '' fw config
grep -q '^transfer-timeout *3600$' "$T/.out" || fail "default transfer-timeout: $(cat "$T/.out")"
expect 0 '' fw config transfer-timeout 4
slow_plan
start=$(date +%s)
expect 4 "$P/fw.pkg: the transfer did not finish within 4 s \(transfer-timeout\)" \
	timeout 60 "$B/fwctl" --root "$D" upgrade no-reboot force all "$P/fw.pkg"
took=$(($(date +%s) - start))
[ "$took" -le 8 ] || fail "transfer-timeout 4 took $took s"
[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$(js "d['last_upgrade']")"
grep -q 'transfer-timeout' "$D/state.json" || fail "the result's message was not recorded: $(js "d['last_upgrade']")"
expect 0 '' timeout 5 "$B/fwctl" --root "$D" status
rm -f "$D/upgrade.resume"
: >"$PROXY_PLAN"
expect 0 '' fw config transfer-timeout 3600
expect 0 '' fw config low-speed-limit 100000
expect 0 '' fw config low-speed-time 1
ok "transfer-timeout (default 3600 s, 1 s at least) ends a slow upgrade with netError, recorded, the lock free"
# What the stalled server above left (the secondary written in part), for the next test.
expect 0 '' fw upgrade no-reboot force all "$H/fw.pkg"
printf 'stall 300000\n' >"$PROXY_PLAN"
expect 0 '' fw config net-retries 0
expect 4 '' fw upgrade no-reboot force all "$P/fw.pkg"
rm -f "$D/upgrade.resume"

# A file that changed on the server while the download waited: never spliced, reported as netError.
expect 0 '' fw config net-retries 3
expect 0 '' fw config low-speed-time 2
cp www/fw.pkg keep.pkg
printf 'stall 300000\n' >"$PROXY_PLAN"
set +e
"$B/fwctl" --root "$D" upgrade no-reboot force all "$P/fw.pkg" >/dev/null 2>"$T/changed.err" &
upid=$!
set -e
i=0
until [ ! -s "$PROXY_PLAN" ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "the stall never began"; sleep 0.1; done
# status --json during the upgrade: source, bytes done, total and speed.
i=0
until [ "$(js "d['download'] is not None and d['download']['bytes'] > 0")" = True ]; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "no download progress in status: $(js "d['download']")"; sleep 0.1
done
[ "$(js "d['download']['source'], d['download']['total'], d['download']['speed'] > 0")" = "$P/fw.pkg $SIZE True" ] ||
	fail "$(js "d['download']")"
cp www/fw2.pkg www/fw.pkg
set +e
wait $upid
rc=$?
set -e
[ $rc -eq 4 ] || fail "changed during a stall: exit $rc: $(cat "$T/changed.err")"
grep -q "the file changed on the server" "$T/changed.err" || fail "$(cat "$T/changed.err")"
[ "$(js "d['last_upgrade']['result'], d['download']")" = "netError None" ] || fail "$(js "d['last_upgrade']")"
cp keep.pkg www/fw.pkg
expect 0 '' fw boot
ok "status --json shows the download under way; a file changed on the server between attempts: netError, not spliced"

# --- two reads when the secondary is the only bootable image: the second read starts from byte 0 again
fresh
at=$(pkg_craft offset www/fw.pkg WX-pri.img middle)
pkg_craft flip www/fw.pkg www/badpri.pkg "$at"
expect 1 'SHA-256 mismatch' fw upgrade no-reboot all "$H/badpri.pkg"
[ "$(js "d['slots']['pri']['valid'], d['last_upgrade']['result']")" = "False fileCheckFailed" ] || fail "$(js d)"
expect 0 '' fw boot
expect 0 'writing the primary first' fw upgrade no-reboot all "$H/fw.pkg"
# The second read takes the primary just written from its slot (verified again), not from the server;
# HTTP asks for the bytes up to the slot's range alone; the bound leaves room for the transport's buffers.
grep -q "over http (3 connections, 0 interruptions; 1500000 bytes taken from the slots)" "$T/.err" || fail "$(cat "$T/.err")"
[ "$(fetched)" -le $((2 * SIZE - 1500000 + 256 * 1024 + 128 * 1024)) ] || fail "fetched $(fetched)"
installed 5.21.1
ok "pri not valid: 'all' reads the package twice (pri first, then the rest, pri from its slot), a rejected package is fileCheckFailed"

# --- the unpack hook decrypts a package fetched over HTTP
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >secret
openssl enc -aes-256-cbc -pbkdf2 -pass "file:$T/secret" -in www/fw2.pkg -out www/fw2.pkg.enc
printf '#!/bin/sh\nexec openssl enc -d -aes-256-cbc -pbkdf2 -pass file:%s/secret\n' "$T" >decrypt
chmod 755 decrypt
expect 0 '' fw config unpack-hook "$T/decrypt"
expect 0 "upgrade: all 5.21.2: success" fw upgrade no-reboot all "$H/fw2.pkg.enc"
installed 5.21.2
# A cut the transport cannot recover from is a netError, not the hook's failure on a short input.
expect 0 '' fw config net-retries 0
echo "cut 200000" >"$PROXY_PLAN"
expect 4 "$P/fw2.pkg.enc: " fw upgrade no-reboot force all "$P/fw2.pkg.enc"
[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$(js "d['last_upgrade']")"
grep -q "hook" "$T/.err" && fail "the hook was blamed for a cut stream: $(cat "$T/.err")"
ok "a hook decrypts a package fetched over HTTP; a cut stream under a hook is a netError"

# fwctl does not link libcurl: it loads it for a network source. On a device without it (here
# libcurl.so.4 hidden behind an empty file in a private mount namespace) a network upgrade fails
# with one clear line, exit 3, nothing on the device changed, and a file still installs.
fresh
lib=$(readlink -f "$(/sbin/ldconfig -p | sed -n 's/^\s*libcurl\.so\.4 (.*x86-64.*) => //p' | head -n 1)")
[ -f "$lib" ] || fail "libcurl.so.4 not found by ldconfig -p"
unshare -rm true || fail "unshare -rm (a private mount namespace) does not work here"
before=$(devsum)
expect 3 "$H/fw.pkg: cannot load libcurl for network sources: .*libcurl\.so\.4" \
	unshare -rm sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$lib" \
	"$B/fwctl" --root "$D" upgrade no-reboot all "$H/fw.pkg"
[ "$(devsum)" = "$before" ] || fail "a failed libcurl load changed the slots or records"
expect 0 "upgrade: all 5.21.1: success" \
	unshare -rm sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$lib" \
	"$B/fwctl" --root "$D" upgrade no-reboot all "$T/www/fw.pkg"
installed 5.21.1
ok "without libcurl: a network source fails with one line (exit 3), nothing changed; a file installs"

echo "all $TESTS checks passed"
