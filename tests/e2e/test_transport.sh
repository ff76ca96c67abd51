#!/bin/sh
# test_transport: device/dev_transport against real nginx (HTTP, HTTPS), vsftpd, tftpd-hpa and a fault proxy.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

X=$B/tests/xfer
SIZE=3000000
CHUNK=65536   # the bound's "one chunk per interruption": xfer reads in 64 KiB blocks
mkdir www only-tftp empty-ftp
randfile www/fw.bin $SIZE
cp www/fw.bin only-tftp/fw.bin
WANT=$(sha256sum <www/fw.bin)

srv_nginx "$T/www"
srv_vsftpd "$T/www"
MAIN_FTP=$FTP_PORT USER_FTP=$FTP_USER_PORT
srv_tftpd "$T/www"
MAIN_TFTP=$TFTP_PORT
H=http://127.0.0.1:$HTTP_PORT

info() { sed -n "s/^$1=//p" info; }

# fetch CODE PATTERN ARGS...: xfer ARGS into out with its info in ./info; exit CODE, stderr matching PATTERN.
fetch() {
	rm -f info out
	[ -z "${XFER_TIMES:-}" ] || echo "$(date +%s.%N | cut -c1-14) fetch $*" >&2
	fcode=$1 fpat=$2
	shift 2
	expect "$fcode" "$fpat" sh -c '"$0" -i info "$@" >out' "$X" "$@"
}

# same [FILE]: out holds exactly the bytes of FILE (www/fw.bin).
same() {
	[ "$(sha256sum <out)" = "$(sha256sum <"${1:-www/fw.bin}")" ] ||
		fail "fetched bytes differ ($(wc -c <out) bytes): $(cat info 2>/dev/null | tr '\n' ' ')"
}

# within_bound CUTS: bytes fetched at most the size plus one chunk per interruption, and CUTS interruptions.
within_bound() {
	[ "$(info interruptions)" = "$1" ] || fail "interruptions $(info interruptions), expected $1"
	[ "$(info fetched)" -le $((SIZE + $1 * CHUNK)) ] || fail "fetched $(info fetched) > $SIZE + $1 x $CHUNK"
}

# --- every protocol streams the exact bytes
fetch 0 '' "$H/fw.bin"
same
[ "$(info proto)" = http ] && [ "$(info size)" = $SIZE ] && [ -n "$(info etag)" ] || fail "$(cat info)"
fetch 0 '' -a "$SRV_CA" "https://127.0.0.1:$HTTPS_PORT/fw.bin"
same
[ "$(info proto)" = https ] || fail "$(cat info)"
fetch 0 '' "ftp://127.0.0.1:$MAIN_FTP/fw.bin"
same
[ "$(info proto)" = ftp ] && [ "$(info size)" = $SIZE ] && [ "$(info mtime)" -gt 0 ] || fail "$(cat info)"
fetch 0 '' "ftp://$FTP_USER:$FTP_PASSWORD@127.0.0.1:$USER_FTP/fw.bin"
same
fetch 0 '' "tftp://127.0.0.1:$MAIN_TFTP/fw.bin"
same
[ "$(info proto)" = tftp ] || fail "$(cat info)"
fetch 0 '' "127.0.0.1:$MAIN_FTP" fw.bin
same
[ "$(info proto)" = ftp ] || fail "ADDRESS FILE with an FTP server went to $(info proto)"
fetch 0 '' "127.0.0.1:$MAIN_FTP/fw.bin"
same
fetch 0 '' -F "$H/fw.bin"
same
fetch 0 '' -F "tftp://127.0.0.1:$MAIN_TFTP/fw.bin"
same
# A reader that stops early (a refused package) ends the fd thread, even one blocked on a full socket.
fetch 0 'the reader stopped first' -F -n 100000 "$H/fw.bin"
[ "$(wc -c <out)" -eq 100000 ] || fail "stopped reader: $(wc -c <out) bytes"
fetch 0 '' "$H/redirect.bin"
same
: >www/empty.bin
fetch 0 '' "$H/empty.bin"
[ ! -s out ] && [ "$(info size)" = 0 ] || fail "empty file: $(cat info)"
ok "http, https (test CA), ftp (anonymous and user), tftp, ADDRESS FILE, ADDRESS/FILE, the fd thread, a redirect"

# --- refusals: exit 4 naming the URL, nothing retried that cannot get better
fetch 4 "https://127.0.0.1:$HTTPS_PORT/fw.bin: the server's certificate does not verify" \
	"https://127.0.0.1:$HTTPS_PORT/fw.bin"
fetch 4 "ftp://$FTP_USER:\\*\\*\\*@127.0.0.1:$USER_FTP/fw.bin: login refused \\(wrong user name or password\\?\\)" \
	"ftp://$FTP_USER:not-the-password@127.0.0.1:$USER_FTP/fw.bin"
grep -q not-the-password "$T/.err" && fail "the password appears in: $(cat "$T/.err")"
fetch 4 "ftp://127.0.0.1:$MAIN_FTP/nope.bin: no such file on the server" "ftp://127.0.0.1:$MAIN_FTP/nope.bin"
fetch 4 "tftp://127.0.0.1:$MAIN_TFTP/nope.bin: no such file on the server" "tftp://127.0.0.1:$MAIN_TFTP/nope.bin"
fetch 4 "$H/to-ftp.bin: .*([Pp]rotocol|redirect)" "$H/to-ftp.bin"
fetch 4 "$H/fw.bin: more than the 1000 bytes expected|$H/fw.bin: the file is $SIZE bytes, more than the 1000 expected" \
	-m 1000 "$H/fw.bin"
pin=sha256//$(openssl pkey -in "$SRV_KEY" -pubout -outform DER | openssl dgst -sha256 -binary | base64)
fetch 0 '' -a "$SRV_CA" -P "$pin" "https://127.0.0.1:$HTTPS_PORT/fw.bin"
same
fetch 4 "https://127.0.0.1:$HTTPS_PORT/fw.bin: the server's public key is not the pinned one" \
	-a "$SRV_CA" -P "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" "https://127.0.0.1:$HTTPS_PORT/fw.bin"
fetch 4 "$H/redirect.bin: redirected \\(HTTP 302\\): redirects are not followed when a public key is pinned" \
	-P "$pin" "$H/redirect.bin"
fetch 4 "$H/fw.bin: more than the 1000000 bytes expected" -M 1000000 "$H/fw.bin"
[ "$(wc -c <out)" -le 1000000 ] || fail "the cap let $(wc -c <out) bytes through"
fetch 4 "$H/fw.bin: more than the 1000000 bytes expected" -F -M 1000000 "$H/fw.bin"
fetch 2 "scp:// is not accepted for firmware" scp://127.0.0.1/fw.bin
fetch 2 "sftp:// is not accepted for firmware" sftp://127.0.0.1/fw.bin
ok "wrong certificate, pinned key (right and wrong), wrong password (not shown), missing files, redirects, size cap, scp/sftp"

# 404 and 503 are asked once; 502 a bounded number of times. The proxy takes one plan line per connection.
srv_proxy http "$HTTP_PORT"
P=http://127.0.0.1:$PROXY_PORT
HPLAN=$PROXY_PLAN
printf 'pass\npass\npass\npass\npass\npass\n' >"$PROXY_PLAN"
fetch 4 "$P/nope.bin: the server answered HTTP 404 \\(no such file\\)" -r 5 "$P/nope.bin"
[ "$(wc -l <"$PROXY_PLAN")" -eq 5 ] || fail "404: $((6 - $(wc -l <"$PROXY_PLAN"))) connections, expected 1"
fetch 4 "$P/gateway.bin: the server answered HTTP 502 \\(gave up after 3 attempts\\)" -r 2 "$P/gateway.bin"
[ "$(wc -l <"$PROXY_PLAN")" -eq 2 ] || fail "502 with 2 retries: $((5 - $(wc -l <"$PROXY_PLAN"))) connections, expected 3"
# A busy server (503, 429) is not asked again at once: the caller's schedule asks later (fwctl: serverSpecUpLimit).
printf 'pass\npass\npass\n' >"$PROXY_PLAN"
fetch 4 "$P/busy.bin: the server answered HTTP 503 \\(busy: over its limit\\)$" -r 2 "$P/busy.bin"
[ "$(wc -l <"$PROXY_PLAN")" -eq 2 ] || fail "503: $((3 - $(wc -l <"$PROXY_PLAN"))) connections, expected 1"
ok "404 and 503 are not retried; 502 is retried within the budget (3 attempts), then reported"

# --- FTP, then TFTP: when FTP cannot connect, and when FTP has no such file
PORT=$(free_port both)
srv_tftpd "$T/only-tftp" "$PORT"
fetch 0 '' "127.0.0.1:$PORT" fw.bin
same
[ "$(info proto)" = tftp ] || fail "no FTP server: served by $(info proto)"
PORT=$(free_port both)
srv_vsftpd "$T/empty-ftp" "$PORT"
srv_tftpd "$T/only-tftp" "$PORT"
fetch 0 '' "127.0.0.1:$PORT/fw.bin"
same
[ "$(info proto)" = tftp ] || fail "FTP without the file: served by $(info proto)"
PORT=$(free_port both)
srv_vsftpd "$T/empty-ftp" "$PORT"
fetch 4 "127.0.0.1:$PORT nope.bin: ftp: .*; tftp: " -r 0 -c 2 "127.0.0.1:$PORT" nope.bin
ok "ADDRESS FILE falls back to TFTP when FTP cannot connect or lacks the file; both failures are named"

# --- cuts at ten offsets, each resumed (HTTP Range, then FTP REST) within size + one chunk
for off in 0 1 4095 65536 65537 500000 1048576 1500001 2999000 2999999; do
	echo "cut $off" >"$PROXY_PLAN"
	fetch 0 '' "$P/fw.bin"
	same
	within_bound 1
	[ "$off" -eq 0 ] || [ "$(info can_resume)" = 1 ] || fail "cut at $off: resumed without a range ($(cat info))"
done
ok "HTTP cut at ten offsets: each resumed with Range (206), bytes fetched within size + one chunk"

printf 'cut 250000\ncut 250000\ncut 250000\ncut 250000\ncut 250000\ncut 250000\ncut 250000\ncut 250000\ncut 250000\ncut 250000\n' \
	>"$PROXY_PLAN"
fetch 0 '' -r 2 "$P/fw.bin"
same
within_bound 10
ok "ten cuts in one download: resumed each time (the budget counts attempts without progress)"

srv_proxy ftp "$MAIN_FTP"
F=ftp://127.0.0.1:$PROXY_PORT
for off in 1 65536 1048577 2999999; do
	echo "cut $off" >"$PROXY_PLAN"
	fetch 0 '' "$F/fw.bin"
	same
	within_bound 1
	[ "$(info can_resume)" = 1 ] || fail "ftp cut at $off: $(cat info)"
done
ok "FTP data connection cut at four offsets: resumed with REST within size + one chunk"

# --- a server that ignores Range: the whole file again, the first part skipped
srv_proxy http "$NORANGE_PORT"
echo "cut 1000000" >"$PROXY_PLAN"
fetch 0 '' "http://127.0.0.1:$PROXY_PORT/fw.bin"
same
[ "$(info can_resume)" = 0 ] && [ "$(info interruptions)" = 1 ] && [ "$(info fetched)" -eq $((SIZE + 1000000)) ] ||
	fail "no-range server: $(cat info)"
tail -c +1001 www/fw.bin >tail.bin
fetch 0 '' -o 1000 "http://127.0.0.1:$NORANGE_PORT/fw.bin"
same tail.bin
[ "$(info can_resume)" = 0 ] && [ "$(info fetched)" = $SIZE ] || fail "no-range open at 1000: $(cat info)"
ok "a server that ignores Range: 200 read and skipped up to the offset, bytes still exact"

# --- opening and seeking in the middle: HTTP Range, FTP REST, TFTP re-read
tail -c +1000001 www/fw.bin >tail.bin
fetch 0 '' -o 1000000 "$H/fw.bin"
same tail.bin
[ "$(info can_resume)" = 1 ] && [ "$(info fetched)" = $((SIZE - 1000000)) ] || fail "http at 1000000: $(cat info)"
fetch 0 '' -o 1000000 "ftp://127.0.0.1:$MAIN_FTP/fw.bin"
same tail.bin
[ "$(info can_resume)" = 1 ] && [ "$(info fetched)" = $((SIZE - 1000000)) ] && [ "$(info size)" = $SIZE ] ||
	fail "ftp at 1000000: $(cat info)"
fetch 0 '' -o 1000000 "tftp://127.0.0.1:$MAIN_TFTP/fw.bin"
same tail.bin
[ "$(info can_resume)" = 0 ] && [ "$(info fetched)" = $SIZE ] || fail "tftp at 1000000: $(cat info)"
head -c 2000000 www/fw.bin >seek.bin
tail -c +101 www/fw.bin >>seek.bin
for u in "$H/fw.bin" "ftp://127.0.0.1:$MAIN_FTP/fw.bin" "tftp://127.0.0.1:$MAIN_TFTP/fw.bin"; do
	fetch 0 '' -s 2000000:100 "$u"
	same seek.bin
done
ok "open at an offset and seek back: HTTP Range, FTP REST, TFTP read again and skipped"

# --- the file changed between attempts: never spliced
fetch 0 '' "$H/fw.bin"
etag=$(info etag) mtime=$(info mtime)
fetch 0 '' -o 1000000 -e "$etag" -t "$mtime" -z $SIZE "$H/fw.bin"
same tail.bin
fetch 0 '' "ftp://127.0.0.1:$MAIN_FTP/fw.bin"
ftime=$(info mtime)
randfile new.bin $SIZE
cp new.bin www/fw.bin
touch -d '@1700000000' www/fw.bin
fetch 4 "$H/fw.bin: the file changed on the server since the download began \\(ETag $etag" \
	-o 1000000 -e "$etag" -t "$mtime" -z $SIZE "$H/fw.bin"
fetch 4 "ftp://127.0.0.1:$MAIN_FTP/fw.bin: the file changed on the server" -o 1000000 -t "$ftime" -z $SIZE \
	"ftp://127.0.0.1:$MAIN_FTP/fw.bin"
head -c 500000 new.bin >www/short.bin
fetch 4 "ftp://127.0.0.1:$MAIN_FTP/short.bin: the file on the server is shorter than offset 1000000: it changed" \
	-o 1000000 -z $SIZE "ftp://127.0.0.1:$MAIN_FTP/short.bin"
# Changed while a download waits to resume: the proxy stalls it, the file changes, the resume is refused.
PROXY_PLAN=$HPLAN
echo "stall 500000" >"$PROXY_PLAN"
set +e
"$X" -i info -l 1000000:2 -b 100 "$P/fw.bin" >out 2>err &
xpid=$!
set -e
i=0
until [ ! -s "$PROXY_PLAN" ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "the stall never began"; sleep 0.1; done
cp www/fw.bin prev.bin
randfile www/fw.bin $SIZE
set +e
wait $xpid
rc=$?
set -e
[ $rc -eq 4 ] || fail "changed during a stall: exit $rc: $(cat err)"
grep -q "the file changed on the server" err || fail "changed during a stall: $(cat err)"
[ "$(info changed)" = 1 ] && [ "$(info offset)" -le 500000 ] || fail "changed during a stall: $(cat info)"
cmp -n "$(wc -c <out)" out prev.bin || fail "bytes before the change are not the old file's"
ok "a file changed between attempts (ETag, Last-Modified, MDTM) is refused, not spliced: start over"

# --- a stalled server: the low-speed limit ends each attempt; a later attempt succeeds, or the budget runs out
printf 'stall 200000\n' >"$PROXY_PLAN"
start=$(date +%s)
fetch 0 '' -l 1000000:1 "$P/fw.bin"
same www/fw.bin
within_bound 1
printf 'stall 200000\nstall 0\nstall 0\n' >"$PROXY_PLAN"
fetch 4 "$P/fw.bin: timed out or too slow \\(.*at least 1000000 bytes/s over 1 s\\) \\(gave up after 2 attempts\\)" \
	-l 1000000:1 -r 1 "$P/fw.bin"
[ $(($(date +%s) - start)) -lt 20 ] || fail "the low-speed limit took $(($(date +%s) - start)) s"
ok "a stalled server hits the low-speed limit: resumed when it recovers, reported when it does not"

echo "all $TESTS checks passed"
