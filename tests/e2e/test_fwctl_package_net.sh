#!/bin/sh
# test_fwctl_package_net: fwctl package install from real servers (vsftpd, tftpd-hpa, nginx, sshd for scp and sftp),
# through the fault proxy; every refusal checks its exit code, its message and that the package store did not change,
# and the password never shows in a message, the state, status --json or the process list.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

keypair k
mkdir -p tree/services tree/files www
echo "profinet on" >tree/services/profinet.conf
randfile tree/files/blob.bin 400000
"$B/mkwmopkg" -q -o www/pn.wmopkg -C tree --version 1.0 --product RSP-30 --chunk-size 4096 \
	--description "Profinet on" -k k.key
cp www/pn.wmopkg www/other.wmopkg
cp www/pn.wmopkg www/pn.pkg
# A package tampered with on the server: one byte inside its payload flipped.
mkdir -p www/bad-dir
cp www/pn.wmopkg www/bad-dir/pn.wmopkg
"$PY" - www/bad-dir/pn.wmopkg tree/files/blob.bin <<'PYEOF'
import sys
from pathlib import Path
p = Path(sys.argv[1]); b = bytearray(p.read_bytes())
i = b.index(Path(sys.argv[2]).read_bytes()[300000:300064])   # a chunk well inside the payload
b[i] ^= 0xff
p.write_bytes(bytes(b))
PYEOF
SIZE=$(wc -c <www/pn.wmopkg)

srv_nginx "$T/www"
srv_vsftpd "$T/www"
MAIN_FTP=$FTP_PORT USER_FTP=$FTP_USER_PORT
srv_tftpd "$T/www"
srv_sshd
H=http://127.0.0.1:$HTTP_PORT

D=$T/dev
fresh() {
	rm -rf "$D"
	"$B/fwctl" --root "$D" -q init --product RSP-30 --trust "$T/k.pub" --version 5.22.2 --ca-file "$SRV_CA" >/dev/null
	expect 0 '' fw config net-retries 2
	expect 0 '' fw config ssh-known-hosts "$SSH_KNOWN_HOSTS"
}
# The package store and the device's state, but for the record of the last attempt (packages/last.json).
storesum() { (cd "$D" && find . ! -path ./packages/last.json ! -name .lock -print | sort &&
	find . -type f ! -path ./packages/last.json ! -name .lock -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum; }
last() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"], d["message"])' "$D/packages/last.json"; }
# installed: pn 1.0 is in the index, its stored bytes are the package's.
installed() {
	fw package list --json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); p=[x for x in d["packages"] if x["name"]=="pn"]; sys.exit(0 if p and p[0]["version"]=="1.0" else 1)' ||
		fail "pn is not installed: $(fw package list)"
	cmp -s "$D/packages/$(ls "$D/packages" | grep '^pn-.*\.wmopkg$')" www/pn.wmopkg || fail "the stored package differs"
}
# refuse CODE PATTERN RESULT ARGS...: install refused with CODE and PATTERN, recorded as RESULT, nothing changed.
refuse() {
	code=$1 pattern=$2 result=$3
	shift 3
	before=$(storesum)
	expect "$code" "$pattern" fw package install "$@"
	[ "$(storesum)" = "$before" ] || fail "a refused install ($*) changed the device"
	[ -z "$result" ] || last | grep -q "^$result " || fail "recorded as $(last), expected $result"
	ls "$D/packages" | grep -v -e '^last\.json$' -e '^index\.json$' | grep -q . && fail "left in the store: $(ls "$D/packages")"
	return 0
}
nopass() { # nopass: no message, state or record holds a password
	for w in "$FTP_PASSWORD" "$SSH_PASSWORD"; do
		grep -q -- "$w" "$T/.err" "$T/.out" && fail "a message shows the password"
		grep -rqF -- "$w" "$D" && fail "the device's files hold the password: $(grep -rlF -- "$w" "$D")"
		fw status --json | grep -qF -- "$w" && fail "status --json shows the password"
		fw package list --json | grep -qF -- "$w" && fail "package list --json shows the password"
	done
	return 0
}
echo "$FTP_PASSWORD" >ftp-pass
echo "$SSH_PASSWORD" >ssh-pass

# --- the help shows the network forms
expect 0 '' "$B/fwctl" package install --help
grep -q 'proto ftp|tftp|scp|sftp|http|https' "$T/.out" && grep -q -- '--password-file' "$T/.out" &&
	grep -q 'FWCTL_PASSWORD' "$T/.out" || fail "package install --help: $(cat "$T/.out")"
ok "package install --help shows the network forms and where a password comes from"

# --- ftp: anonymous; a user's password from a file and from the environment
fresh
expect 0 "fetched $SIZE bytes over ftp \(1 connection, 0 interruptions\)" fw package install "ftp://127.0.0.1:$MAIN_FTP/pn.wmopkg"
grep -q 'installed pn 1.0 (trusted)' "$T/.err" || fail "$(cat "$T/.err")"
installed
fresh
expect 0 'installed pn 1.0' fw package install --password-file ftp-pass proto ftp user "$FTP_USER" "127.0.0.1:$USER_FTP" pn.wmopkg
installed
nopass
fresh
expect 0 'installed pn 1.0' env FWCTL_PASSWORD="$FTP_PASSWORD" "$B/fwctl" --root "$D" package install \
	"ftp://$FTP_USER@127.0.0.1:$USER_FTP/pn.wmopkg"
installed
nopass
ok "ftp: anonymous, and a user whose password comes from --password-file or FWCTL_PASSWORD"

# --- ADDRESS NAME: FTP first, then TFTP
fresh
expect 0 'fetched [0-9]+ bytes over ftp' fw package install "127.0.0.1:$MAIN_FTP" pn.wmopkg
installed
fresh
# No FTP server on the TFTP port: FTP cannot connect, TFTP serves.
expect 0 "fetched $SIZE bytes over tftp" fw package install "127.0.0.1:$TFTP_PORT" pn.wmopkg
installed
fresh
expect 0 "fetched $SIZE bytes over tftp" fw package install "tftp://127.0.0.1:$TFTP_PORT/pn.wmopkg"
installed
fresh
expect 0 "over tftp" fw package install proto tftp "127.0.0.1:$TFTP_PORT" pn.wmopkg
installed
ok "tftp, and ADDRESS NAME trying FTP then TFTP"

# --- http, https (the CA the test made)
fresh
expect 0 "fetched $SIZE bytes over http" fw package install "$H/pn.wmopkg"
installed
fresh
expect 0 "over https" fw package install proto https "127.0.0.1:$HTTPS_PORT" pn.wmopkg
installed
fresh
expect 0 "over https" fw package install "https://127.0.0.1:$HTTPS_PORT/pn.wmopkg"
installed
fresh
expect 0 '' fw config ca-file none
refuse 4 "package install: https://127\.0\.0\.1:$HTTPS_PORT/pn\.wmopkg: the server's certificate does not verify" netError \
	"https://127.0.0.1:$HTTPS_PORT/pn.wmopkg"
ok "http and https; a server certificate the device does not trust is refused (exit 4)"

# --- scp, sftp: password login, the user defaults to the one running fwctl
fresh
expect 0 "fetched $SIZE bytes over sftp" fw package install --password-file ssh-pass proto sftp "127.0.0.1:$SSH_PORT" "$T/www/pn.wmopkg"
installed
nopass
fresh
expect 0 "fetched $SIZE bytes over scp" env FWCTL_PASSWORD="$SSH_PASSWORD" "$B/fwctl" --root "$D" package install \
	"scp://127.0.0.1:$SSH_PORT$T/www/pn.wmopkg"
installed
nopass
fresh
expect 0 "over sftp" fw package install --password-file ssh-pass "sftp://$SSH_USER@127.0.0.1:$SSH_PORT$T/www/pn.wmopkg"
installed
fw package show pn | grep -Eq "^source +sftp://$SSH_USER@127\.0\.0\.1:$SSH_PORT$T/www/pn\.wmopkg$" || fail "source: $(fw package show pn)"
# The device's key instead of a password.
ssh-keygen -q -t ed25519 -N '' -f "$T/device_key"
cat "$T/device_key.pub" >>"$SSH_AUTHORIZED"
fresh
expect 0 '' fw config ssh-key "$T/device_key"
expect 0 "over sftp" fw package install proto sftp user "$SSH_USER" "127.0.0.1:$SSH_PORT" "$T/www/pn.wmopkg" </dev/null
installed
# Without that key in the server's list, the key alone does not log in.
: >"$SSH_AUTHORIZED"
fresh
expect 0 '' fw config ssh-key "$T/device_key"
refuse 4 "login refused" netError proto sftp "127.0.0.1:$SSH_PORT" "$T/www/pn.wmopkg" </dev/null
ok "scp and sftp: password from a file or the environment, the logged-in user by default, or the device's key (no password asked)"

# --- the password on a terminal: asked, not echoed
fresh
"$PY" "$E2E/onterminal.py" 20 'password for [^ ]*@127\.0\.0\.1: ' "$SSH_PASSWORD" -- \
	"$B/fwctl" --root "$D" package install proto sftp "127.0.0.1:$SSH_PORT" "$T/www/pn.wmopkg" >term.out 2>&1 ||
	fail "the terminal install failed: $(cat term.out)"
grep -q "$SSH_PASSWORD" term.out && fail "the password was echoed: $(cat term.out)"
installed
fresh
refuse 2 "user $SSH_USER needs a password, and there is no terminal to ask on: give --password-file FILE or set FWCTL_PASSWORD" '' \
	proto sftp "127.0.0.1:$SSH_PORT" "$T/www/pn.wmopkg" </dev/null
ok "a login without a password asks on the terminal without echo; without a terminal it is refused (exit 2)"

# --- refusals: wrong password, missing file, unknown host key, protocols for firmware
fresh
echo wrong >wrong-pass
refuse 4 "package install: ftp://$FTP_USER@127\.0\.0\.1:$USER_FTP/pn\.wmopkg: login refused \(wrong user name or password\?\)" netError \
	--password-file wrong-pass "ftp://$FTP_USER@127.0.0.1:$USER_FTP/pn.wmopkg"
refuse 4 "login refused" netError --password-file wrong-pass proto sftp "127.0.0.1:$SSH_PORT" "$T/www/pn.wmopkg"
refuse 4 "^fwctl: package install: $H/nope\.wmopkg: the server answered HTTP 404 \(no such file\)$" netError "$H/nope.wmopkg"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["name"] == "nope" and d["result"] == "netError" else 1)' \
	"$D/packages/last.json" || fail "last.json does not name the package: $(cat "$D/packages/last.json")"
refuse 4 "no such file" netError --password-file ssh-pass proto sftp "127.0.0.1:$SSH_PORT" "$T/www/nope.wmopkg"
# A host key known_hosts does not list, and a known_hosts that lists another key for the server.
: >"$T/empty_known_hosts"
expect 0 '' fw config ssh-known-hosts "$T/empty_known_hosts"
refuse 4 "the server's host key is not in $T/empty_known_hosts: refused" netError \
	--password-file ssh-pass proto sftp "127.0.0.1:$SSH_PORT" "$T/www/pn.wmopkg"
ssh-keygen -q -t ed25519 -N '' -f "$T/impostor"
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$T/impostor.pub")" >"$T/other_known_hosts"
expect 0 '' fw config ssh-known-hosts "$T/other_known_hosts"
refuse 4 "the server's host key is not the one $T/other_known_hosts lists for it" netError \
	--password-file ssh-pass "scp://127.0.0.1:$SSH_PORT$T/www/pn.wmopkg"
expect 0 '' fw config ssh-known-hosts none
refuse 2 "no known_hosts file to check the server's host key against \(fwctl config ssh-known-hosts FILE\)" '' \
	--password-file ssh-pass proto sftp "127.0.0.1:$SSH_PORT" "$T/www/pn.wmopkg"
grep -q "$SSH_PASSWORD" "$D/packages/last.json" 2>/dev/null && fail "the password reached last.json"
nopass
# Firmware never comes over scp or sftp.
expect 2 'sftp:// is not accepted for firmware' fw upgrade no-reboot all "sftp://127.0.0.1:$SSH_PORT$T/www/pn.wmopkg"
expect 2 'scp:// is not accepted for firmware' fw upgrade no-reboot all "scp://127.0.0.1:$SSH_PORT$T/www/pn.wmopkg"
ok "a wrong password, a missing file, an unknown or changed host key: exit 4, nothing stored; no scp or sftp for firmware"

# --- names: only the base name names the package, .wmopkg required
fresh
refuse 2 '"pn\.pkg" does not end in \.wmopkg \(a package file is named NAME\.wmopkg' '' "$H/pn.pkg"
refuse 1 'other' fileNotMatch "$H/other.wmopkg"
expect 0 'installed pn 1.0' fw package install proto http "127.0.0.1:$HTTP_PORT" pn.wmopkg
installed
ok "a network package is named by its base name (a renamed one is refused), .wmopkg required"

# --- a tampered package on the server: rejected as it streams, nothing stored
fresh
refuse 1 "package install: $H/bad-dir/pn\.wmopkg: .*(SHA-256|mismatch|digest)" fileCheckFailed "$H/bad-dir/pn.wmopkg"
refuse 1 "(SHA-256|mismatch|digest)" fileCheckFailed --password-file ssh-pass proto sftp "127.0.0.1:$SSH_PORT" "$T/www/bad-dir/pn.wmopkg"
ok "a tampered package served over http or sftp is rejected (exit 1) and nothing is stored"

# --- a connection cut mid-transfer: resumed and stored whole, or (no retries) netError and nothing stored
srv_proxy http "$HTTP_PORT"
fresh
echo "cut 100000" >"$PROXY_PLAN"
expect 0 "fetched [0-9]+ bytes over http \(2 connections, 1 interruption\)" fw package install "http://127.0.0.1:$PROXY_PORT/pn.wmopkg"
installed
fresh
expect 0 '' fw config net-retries 0
echo "cut 100000" >"$PROXY_PLAN"
refuse 4 "package install: http://127\.0\.0\.1:$PROXY_PORT/pn\.wmopkg: " netError "http://127.0.0.1:$PROXY_PORT/pn.wmopkg"
grep -q 'fileCheckFailed\|rejected' "$T/.err" && fail "a cut stream was reported as a bad package: $(cat "$T/.err")"
ok "a cut connection is resumed (the package stored whole), or without retries is netError (exit 4) with nothing stored"

# --- while the transfer stalls, no process listing, environment or state shows the password
srv_proxy ftp "$USER_FTP"
fresh
expect 0 '' fw config net-retries 0
expect 0 '' fw config low-speed-time 4
echo "stall 50000" >"$PROXY_PLAN"
set +e
FWCTL_PASSWORD=$FTP_PASSWORD "$B/fwctl" --root "$D" package install proto ftp user "$FTP_USER" "127.0.0.1:$PROXY_PORT" pn.wmopkg \
	>"$T/.out" 2>"$T/.err" &
pid=$!
set -e
sleep 1.5
kill -0 "$pid" 2>/dev/null || fail "the stalled install ended early: $(cat "$T/.err")"
ps -eo args >ps.txt   # first, then grep: a grep running beside ps would show its own pattern
grep -qF -- "$FTP_PASSWORD" ps.txt && fail "ps shows the password"
tr '\0' '\n' <"/proc/$pid/environ" | grep -qF -- "$FTP_PASSWORD" && fail "the environment still shows the password"
nopass
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "a stalled transfer exited $rc, expected 4: $(cat "$T/.err")"
grep -q 'timed out or too slow' "$T/.err" || fail "$(cat "$T/.err")"
# The field's password word: taken, and gone from the process listing once read.
fresh
expect 0 '' fw config net-retries 0
expect 0 '' fw config low-speed-time 4
echo "stall 50000" >"$PROXY_PLAN"
"$B/fwctl" --root "$D" package install proto ftp user "$FTP_USER" password "$FTP_PASSWORD" "127.0.0.1:$PROXY_PORT" pn.wmopkg \
	>"$T/.out" 2>"$T/.err" &
pid=$!
sleep 1.5
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'password \*\*\*' || fail "the password word is not hidden: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
ps -eo args >ps.txt
grep -qF -- "$FTP_PASSWORD" ps.txt && fail "ps shows the password given with the password word"
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "exited $rc: $(cat "$T/.err")"
nopass
ok "a stalled transfer ends as netError; meanwhile ps, the environment, status --json and the store never show the password"

# --- no byte of a password stays in /proc/PID/cmdline during the transfer, whatever the password (the user
# name itself, one character, 100), for every command and form that takes one: a URL's USER:PASSWORD@ in
# package install, upgrade and golden install, with or without a scheme, and package install's password word.
FTP_PROXY=$PROXY_PORT FTP_PLAN=$PROXY_PLAN
HTTP_PROXY_PORT=$(cat "$SRV_DIR/proxy-$HTTP_PORT.port") HTTP_PLAN=$SRV_DIR/plan-$HTTP_PORT
long=$(printf '%0100d' 0 | tr 0 p)
# A hidden password reads "***" (its length not shown); one of one or two bytes keeps that many '*'.
stars() { if [ "$1" -lt 3 ]; then printf '%*s' "$1" '' | tr ' ' '*'; else printf '***'; fi; }
# hidden PLAN WANT CMD...: CMD against a server that stalls at once; during the transfer its cmdline must be WANT.
hidden() {
	plan=$1 want=$2
	shift 2
	echo "stall 0" >"$plan"
	before=$(storesum)
	"$@" >"$T/.out" 2>"$T/.err" &
	pid=$!
	i=0
	until [ ! -s "$plan" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { kill "$pid"; fail "no transfer began: $*: $(cat "$T/.err")"; }; sleep 0.1
	done
	# The word shrank in place: the bytes it freed are NULs, read as one separator.
	got=$(tr -s '\0' ' ' <"/proc/$pid/cmdline")
	set +e
	wait "$pid"
	rc=$?
	set -e
	[ "$rc" -eq 4 ] || fail "$*: exited $rc, expected 4 (netError): $(cat "$T/.err")"
	[ "$got" = "$want " ] || fail "cmdline during the transfer: '$got', expected '$want '"
	case $want in
	*" package install "*) [ "$(storesum)" = "$before" ] || fail "$*: a failed install changed the device" ;;
	esac
}
fresh
expect 0 '' fw config net-retries 0
expect 0 '' fw config low-speed-time 2
HP=127.0.0.1:$HTTP_PROXY_PORT
for pass in admin x "$long"; do
	st=$(stars ${#pass})
	hidden "$HTTP_PLAN" "$B/fwctl --root $D package install http://admin:$st@$HP/pn.wmopkg" \
		"$B/fwctl" --root "$D" package install "http://admin:$pass@$HP/pn.wmopkg"
	hidden "$HTTP_PLAN" "$B/fwctl --root $D package install proto http admin:$st@$HP/pn.wmopkg" \
		"$B/fwctl" --root "$D" package install proto http "admin:$pass@$HP/pn.wmopkg"
	hidden "$HTTP_PLAN" "$B/fwctl --root $D package install proto http user admin password $st $HP pn.wmopkg" \
		"$B/fwctl" --root "$D" package install proto http user admin password "$pass" "$HP" pn.wmopkg
	hidden "$HTTP_PLAN" "$B/fwctl --root $D upgrade no-reboot all http://admin:$st@$HP/pn.pkg" \
		"$B/fwctl" --root "$D" upgrade no-reboot all "http://admin:$pass@$HP/pn.pkg"
	hidden "$HTTP_PLAN" "$B/fwctl --root $D golden install http://admin:$st@$HP/pn.pkg" \
		"$B/fwctl" --root "$D" golden install "http://admin:$pass@$HP/pn.pkg"
done
st=$(stars ${#FTP_PASSWORD})
hidden "$FTP_PLAN" "$B/fwctl --root $D package install ftp://$FTP_USER:$st@127.0.0.1:$FTP_PROXY/pn.wmopkg" \
	"$B/fwctl" --root "$D" package install "ftp://$FTP_USER:$FTP_PASSWORD@127.0.0.1:$FTP_PROXY/pn.wmopkg"
hidden "$FTP_PLAN" "$B/fwctl --root $D upgrade no-reboot all ftp://$FTP_USER:$st@127.0.0.1:$FTP_PROXY/pn.pkg" \
	"$B/fwctl" --root "$D" upgrade no-reboot all "ftp://$FTP_USER:$FTP_PASSWORD@127.0.0.1:$FTP_PROXY/pn.pkg"
ok "no byte of a password in /proc/PID/cmdline during the transfer: URL logins (the user name as password, 1 and 100 characters) in package install, upgrade and golden install, ftp and http, and the password word"

# --- a server dribbling a byte a second: transfer-timeout ends the install with netError, nothing stored
fresh
expect 0 '' fw config low-speed-limit 0
expect 0 '' fw config transfer-timeout 3
printf 'dribble 100000\ndribble 100000\ndribble 100000\n' >"$HTTP_PLAN"
start=$(date +%s)
refuse 4 "package install: http://127\.0\.0\.1:$HTTP_PROXY_PORT/pn\.wmopkg: the transfer did not finish within 3 s \(transfer-timeout\)" \
	netError "http://127.0.0.1:$HTTP_PROXY_PORT/pn.wmopkg"
[ $(($(date +%s) - start)) -le 8 ] || fail "the install took $(($(date +%s) - start)) s"
expect 0 '' timeout 5 "$B/fwctl" --root "$D" package list
: >"$HTTP_PLAN"
ok "transfer-timeout ends a package install from a server dribbling a byte a second: netError (exit 4), recorded, nothing stored"

echo "1..$TESTS"
