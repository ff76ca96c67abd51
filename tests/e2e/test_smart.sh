#!/bin/sh
# test_smart: fwctl check, download and smart tick against a real nginx serving a signed catalog and packages.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"
. "$E2E/pki.sh"

D=$T/dev
# js EXPR: a Python expression over status --json (d), the clock at $JS_NOW when set.
JS_NOW=""
js() { FWCTL_NOW=$JS_NOW "$B/fwctl" --root "$D" status --json | "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
slotsum() { (cd "$D" && find slots records -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }
# Everything but the smart state's record of the last check: what a refused catalog must leave as it was.
devsum() { (cd "$D" && find . -type f ! -name smart.json ! -name '.lock' -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }

smart_clock
keypair k
keypair other
randfile a.img 3000000
randfile b.img 300000
randfile c.img 4000
mkdir -p www/slow
"$B/mkpkg" -q -o www/fw-1.0.0.pkg --version 1.0.0 --product SX --pri b.img --sec b.img --boot c.img -k k.key
"$B/mkpkg" -q -o www/fw-1.5.0.pkg --version 1.5.0 --product SX --pri b.img --sec c.img --boot c.img -k k.key
"$B/mkpkg" -q -o www/fw-2.0.0.pkg --version 2.0.0 --product SX --pri a.img --sec b.img --boot c.img -k k.key
"$B/mkpkg" -q -o www/fw-3.0.0.pkg --version 3.0.0 --product SX --generation 2 --bridge-from 2.0.0 \
	--pri b.img --sec b.img --boot c.img -k k.key
"$B/mkpkg" -q -o www/tpm-2.0.0.pkg --version 2.0.0 --product SX --tpm --pri b.img --boot c.img -k k.key
"$B/mkpkg" -q -o www/other-9.0.0.pkg --version 9.0.0 --product OTHER --pri b.img --boot c.img -k k.key
cp www/fw-2.0.0.pkg www/slow/fw-2.0.0.pkg
smart_www

# fresh [VERSION [CATALOG]]: a new device at VERSION (1.0.0) checking CATALOG (cat).
fresh() {
	smart_device "${1:-1.0.0}"
	smart_server "${2:-cat}"
}
# refused CODE RESULT PATTERN: fwctl check exits CODE, prints RESULT, says PATTERN, and changes nothing but the check's record.
refused() {
	before=$(devsum)
	expect "$1" "$3" at "${NOW:-$((C0 + 3600))}" fw check
	[ "$(cat "$T/.out")" = "$2" ] || fail "check printed '$(cat "$T/.out")', expected $2"
	[ "$(devsum)" = "$before" ] || fail "a refused catalog ($2) changed the device"
	[ "$(js "d['smart']['check']['result']")" = "$2" ] || fail "status: $(js "d['smart']['check']")"
}

# --- versionOptimal, needUpdate, another product only, netError
catalog cat 1 www/fw-1.0.0.pkg
fresh
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = versionOptimal ] || fail "$(cat "$T/.out")"
catalog cat 2 www/fw-1.0.0.pkg www/fw-2.0.0.pkg
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "$(cat "$T/.out")"
[ "$(js "d['smart']['check']['result'], d['smart']['check']['available'], d['smart']['catalog']['serial']")" = \
	"needUpdate 2.0.0 2" ] || fail "status: $(js "d['smart']")"
catalog only-other 3 www/other-9.0.0.pkg
fresh 1.0.0 only-other
expect 0 'no release for product SX' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = versionOptimal ] || fail "$(cat "$T/.out")"
# A release marked for TPM products is not for this device (no TPM): never fetched to be refused.
catalog tpm-only 3 www/tpm-2.0.0.pkg
fresh 1.0.0 tpm-only
expect 0 'check: 2.0.0 cannot be installed on this device.*marked for TPM products and this SX has no TPM' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = versionOptimal ] || fail "$(cat "$T/.out")"
fresh
expect 0 '' fw smart config --server "http://127.0.0.1:$(free_port)/cat.json"
before=$(slotsum)
expect 4 'check: .*127.0.0.1' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = netError ] || fail "$(cat "$T/.out")"
[ "$(js "d['smart']['check']['result']")" = netError ] || fail "$(js "d['smart']")"
[ "$(slotsum)" = "$before" ] || fail "netError changed the slots"
# A catalog server's password is kept for the device to use, and shown by no status, text or JSON, nor by a refusal.
pw_before=$(cat "$D/config.json")
expect 2 'smart config: --server ftp://bob:\*+@' fw smart config --server "ftp://bob:Sekr:t@x9@127.0.0.1:1/cat.json"
! grep -q 'Sekr' "$T/.err" || fail "smart config's refusal shows the password: $(cat "$T/.err")"
[ "$(cat "$D/config.json")" = "$pw_before" ] || fail "a refused smart config changed config.json"
expect 0 '' fw smart config --server "http://bob:Sekr:t@x9@127.0.0.1:1/cat.json"
grep -q 'Sekr:t@x9@' "$D/config.json" || fail "the password is not in config.json: $(cat "$D/config.json")"
fw status >st.txt 2>&1
fw status --json >st.json
grep -q 'smart upgrade .*http://bob:\*\+@127.0.0.1:1/cat.json' st.txt || fail "status: $(cat st.txt)"
! grep -q 'Sekr\|x9@' st.txt st.json || fail "status shows the catalog server's password: $(grep 'Sekr\|x9@' st.txt st.json)"
expect 0 '' fw smart config --server "http://127.0.0.1:$(free_port)/cat.json"
# Between ticks a netError backs off: 60 s, then 120 s, ...
JS_NOW=$((C0 + 3600))
[ "$(js "d['smart']['scheduled']['check'], d['smart']['check']['failures']")" = "2023-11-14T23:14:20Z 1" ] || \
	fail "$(js "d['smart']")"
JS_NOW=""
expect 0 'tick: next check at 2023-11-14T23:14:20Z' at $((C0 + 3630)) fw smart tick
expect 4 '' at $((C0 + 3660)) fw smart tick
expect 0 'tick: next check at 2023-11-14T23:16:20Z' at $((C0 + 3700)) fw smart tick
ok "check: versionOptimal, needUpdate (status shows it), another product only, a TPM release only, netError with the server down, backing off"

# --- refused catalogs: each its own result, exit 1, the device unchanged but for the record of the check
fresh
catalog cat 5 www/fw-2.0.0.pkg
expect 0 '' at $((C0 + 3600)) fw check
EXPIRES=1h catalog cat 6 www/fw-2.0.0.pkg
NOW=$((C0 + 7200)) refused 1 catalogExpired 'check: .*cat.json: expired at 2023-11-14T23:13:20Z'
catalog cat 4 www/fw-2.0.0.pkg
refused 1 catalogOld 'check: .*serial 4 is lower than the 5 accepted before'
KEY=other.key catalog cat 7 www/fw-2.0.0.pkg
refused 1 signatureFailed 'check: .*cat.json: signed by [0-9A-F]{16}, which is not trusted'
catalog cat 7 www/fw-2.0.0.pkg
sed -i 's/"serial": 7/"serial": 9/' www/cat.json
: >"$NGINX_ACCESS"
refused 1 signatureFailed 'check: .*cat.json: signature by [0-9A-F]{16}'
# A catalog that never matches its signature is fetched once more, not again and again.
[ "$(awk '$1 == "/cat.json" {n++} END {print n + 0}' "$NGINX_ACCESS") $(awk '$1 == "/cat.json.minisig" {n++} END {print n + 0}' "$NGINX_ACCESS")" = "2 2" ] || \
	fail "a forged catalog's fetches: $(cat "$NGINX_ACCESS")"
catalog cat 7 www/fw-2.0.0.pkg
rm www/cat.json.minisig
refused 1 catalogUnsigned 'check: .*cat.json: the catalog is not signed'
head -c 1048577 /dev/zero | tr '\0' ' ' >www/cat.json
refused 1 catalogTooLarge 'check: .*cat.json: 1048577 bytes, more than the 1048576 a device fetches'
[ "$(js "d['smart']['catalog']['serial']")" = 5 ] || fail "a refused catalog changed the serial: $(js "d['smart']")"
catalog cat 7 www/fw-2.0.0.pkg
expect 0 '' at $((C0 + 3600)) fw check
[ "$(js "d['smart']['catalog']['serial']")" = 7 ] || fail "$(js "d['smart']")"
ok "refused: expired, lower serial, untrusted key, bad signature, unsigned, over 1 MiB; each recorded, nothing else changed"

# --- download: the manifest must be the catalog's; then a good one; nothing of the running system changes
# The substitute has the same version, product, key and size (another primary image of the same length): only
# the manifest's digest the catalog carries tells it apart, so that check alone must refuse it.
cp www/fw-2.0.0.pkg keep.pkg
randfile a2.img 3000000
"$B/mkpkg" -q -f -o www/fw-2.0.0.pkg --version 2.0.0 --product SX --pri a2.img --sec b.img --boot c.img -k k.key
[ "$(wc -c <www/fw-2.0.0.pkg)" = "$(wc -c <keep.pkg)" ] || fail "the substitute's size differs: $(wc -c <www/fw-2.0.0.pkg)"
cmp -s www/fw-2.0.0.pkg keep.pkg && fail "the substitute is the package"
before=$(slotsum)
expect 1 'download: .*fw-2.0.0.pkg: .*manifest.json.s SHA-256 is .*the catalog says' at $((C0 + 3600)) fw download
[ "$(cat "$T/.out")" = fileNotMatch ] || fail "$(cat "$T/.out")"
[ ! -e "$D/download/package.part" ] && [ ! -e "$D/download/package.pkg" ] || fail "a mismatched download was kept: $(ls "$D/download")"
[ "$(js "d['smart']['download']['result']")" = fileNotMatch ] || fail "$(js "d['smart']['download']")"
[ "$(slotsum)" = "$before" ] || fail "a refused download changed the slots"
cp keep.pkg www/fw-2.0.0.pkg
expect 0 'download: 2.0.0: ' at $((C0 + 3600)) fw download
[ "$(cat "$T/.out")" = "downloaded 2.0.0" ] || fail "$(cat "$T/.out")"
cmp -s "$D/download/package.pkg" www/fw-2.0.0.pkg || fail "the download is not the package"
[ "$(slotsum)" = "$before" ] || fail "a download changed the slots"
[ "$(js "d['smart']['download']['complete'], d['smart']['download']['bytes'] == d['smart']['download']['total']")" = \
	"True True" ] || fail "$(js "d['smart']['download']")"
ok "download: another package than the catalog names, of the same size, is fileNotMatch (manifest digest) and discarded; the right one is kept, slots untouched"

# --- the unpack hook runs on a download as on an upgrade (one intake): one that refuses everything stops it as
# a security violation, exit 1, nothing of it kept, nothing else changed; one that passes the bytes on lets it through
fresh
expect 0 '' at $((C0 + 3600)) fw check
printf '#!/bin/sh\ncat >/dev/null; echo "scanner: EICAR test signature found" >&2; exit 1\n' >"$T/refuse-hook"
printf '#!/bin/sh\nexec cat\n' >"$T/pass-hook"
chmod 755 "$T/refuse-hook" "$T/pass-hook"
expect 0 '' fw config unpack-hook "$T/refuse-hook"
before=$(slotsum)
expect 1 'download: .*fw-2.0.0.pkg: the unpack hook refused the package \(exit 1: security violation\): scanner: EICAR test signature found' \
	at $((C0 + 3600)) fw download
[ "$(cat "$T/.out")" = securityViolation ] || fail "$(cat "$T/.out")"
[ ! -e "$D/download/package.part" ] && [ ! -e "$D/download/package.pkg" ] || fail "a refused download was kept: $(ls "$D/download")"
[ "$(js "d['smart']['download']['result']")" = securityViolation ] || fail "$(js "d['smart']['download']")"
[ "$(slotsum)" = "$before" ] || fail "a download the hook refused changed the slots"
expect 0 '' fw config unpack-hook "$T/pass-hook"
expect 0 'download: 2.0.0: ' at $((C0 + 3600)) fw download
cmp -s "$D/download/package.pkg" www/fw-2.0.0.pkg || fail "the download through the hook is not the package"
expect 0 '' fw config unpack-hook none
ok "download: the unpack hook runs on it; one that refuses everything stops it (securityViolation, nothing kept), one that passes the bytes on lets it through"

# --- smart tick: no download outside the window (nginx saw no request), then inside it; the install waits for its time
catalog cat 10 www/fw-2.0.0.pkg
fresh
expect 0 'smart config: set' fw smart config --download-window 02:00-04:00 --install-at 03:00 --interval 6h
: >"$NGINX_ACCESS"
before=$(slotsum)
expect 0 'tick: next download at .*T02:00:00Z' at "$(hm 1 0)" fw smart tick
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "$(cat "$T/.out")"
[ "$(served /fw-2.0.0.pkg)" = 0 ] || fail "a download outside the window: $(cat "$NGINX_ACCESS")"
expect 0 'tick: next install at .*T03:00:00Z' at "$(hm 2 30)" fw smart tick
[ "$(cat "$T/.out")" = "downloaded 2.0.0" ] || fail "$(cat "$T/.out")"
[ "$(served /fw-2.0.0.pkg)" = "$(wc -c <www/fw-2.0.0.pkg)" ] || fail "$(cat "$NGINX_ACCESS")"
expect 0 '' at "$(hm 2 59)" fw smart tick
[ -s "$T/.out" ] && fail "a tick before the install time did something: $(cat "$T/.out")"
[ "$(slotsum)" = "$before" ] || fail "the slots changed before the install time"
at "$(hm 2 59)" "$B/fwctl" --root "$D" status >st.txt
grep -q "scheduled *check 2023-11-15T07:00:00Z, download -, install 2023-11-15T03:00:00Z" st.txt || fail "$(cat st.txt)"
expect 0 'install: rebooting' at "$(hm 3 0)" fw smart tick
grep -q '^install 2.0.0 success' "$T/.out" && grep -q 'booted pri 2.0.0' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['last_upgrade']['result'], d['smart']['last_install']['result']")" = \
	"2.0.0 2.0.0 success success" ] || fail "$(js "d['slots'], d['smart']")"
[ ! -e "$D/download/package.pkg" ] || fail "the installed download was kept"
# Installed, the download is no longer in hand: no "0 bytes, not complete", but how the last one ended, and when.
[ "$(js "d['smart']['download']['bytes'], d['smart']['download']['complete'], d['smart']['download']['result'], d['smart']['download']['time']")" = \
	"None None success 2023-11-15T02:30:00Z" ] || fail "$(js "d['smart']['download']")"
ok "tick: outside the window nothing is fetched; inside it the download; the install only at its time, then the boot step"

# --- a tick where a check and the install are both due installs alone; the check comes at the next tick
fresh
expect 0 'smart config: set' fw smart config --install-at 03:00 --interval 1h
expect 0 'tick: next install at .*T03:00:00Z' at "$(hm 1 0)" fw smart tick
grep -q '^downloaded 2.0.0' "$T/.out" || fail "$(cat "$T/.out")"
: >"$NGINX_ACCESS"
expect 0 'install: rebooting' at "$(hm 3 0)" fw smart tick
grep -q '^install 2.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
grep -q 'Update\|versionOptimal' "$T/.out" && fail "the install tick checked too: $(cat "$T/.out")"
[ "$(served /cat.json)" = 0 ] || fail "the install tick fetched the catalog: $(cat "$NGINX_ACCESS")"
expect 0 '' fw mark-good
expect 0 '' at "$(hm 3 5)" fw smart tick
grep -q '^versionOptimal' "$T/.out" || fail "no check after the install: $(cat "$T/.out")"
ok "tick: an install due with a check installs alone (no catalog fetched); the check follows at the next tick"

# --- a bridge version: 2.0.0 first, then 3.0.0 (a new generation entered only from 2.0.0)
catalog cat 11 www/fw-1.5.0.pkg www/fw-2.0.0.pkg www/fw-3.0.0.pkg
fresh
expect 0 'check: 2.0.0 is the bridge to 3.0.0' at "$(hm 1 0)" fw smart tick
grep -q '^needUpdate 2.0.0' "$T/.out" && grep -q '^install 2.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 'the install waits until the running system is marked good' at "$(hm 1 10)" fw smart tick
grep -q '^needUpdate 3.0.0' "$T/.out" || fail "$(cat "$T/.out")"
grep -q install "$T/.out" && fail "installed while the new system is on trial: $(cat "$T/.out")"
expect 0 '' fw mark-good
expect 0 '' at "$(hm 1 20)" fw smart tick
grep -q '^install 3.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['slots']['pri']['version'], d['generation']")" = "3.0.0 2" ] || fail "$(js "d['slots']")"
ok "bridge: 2.0.0 installed first, then (after mark-good) 3.0.0"

# --- rollout: 0 takes no device, 100 every one
ROLL=0
for pct in 0 100; do
	"$B/fwpkg" catalog -q -f -o www/cat.json --base-url "$H" --expires 30d --serial 12 --rollout $pct -k k.key www/fw-2.0.0.pkg
	fresh
	expect 0 '' at $((C0 + 3600)) fw check
	case $pct in
	0) [ "$(cat "$T/.out")" = versionOptimal ] && grep -q 'rollout' "$T/.err" || fail "rollout 0: $(cat "$T/.out" "$T/.err")" ;;
	100) [ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "rollout 100: $(cat "$T/.out")" ;;
	esac
done
# The documented hash: a device takes a release of rollout R when the first 8 bytes of
# SHA-256("ID\nPRODUCT\nVERSION"), big-endian, modulo 100 are below R.
bucket=$("$PY" -c 'import hashlib,sys; print(int.from_bytes(hashlib.sha256(b"dev-1\nSX\n2.0.0").digest()[:8], "big") % 100)')
for pct in "$bucket" "$((bucket + 1))"; do
	[ "$pct" -le 100 ] || continue
	"$B/fwpkg" catalog -q -f -o www/cat.json --base-url "$H" --expires 30d --serial 12 --rollout $pct -k k.key www/fw-2.0.0.pkg
	fresh
	expect 0 '' at $((C0 + 3600)) fw check
	if [ "$pct" -gt "$bucket" ]; then want="needUpdate 2.0.0"; else want=versionOptimal; fi
	[ "$(cat "$T/.out")" = "$want" ] || fail "rollout $pct, bucket $bucket: $(cat "$T/.out")"
done
ok "rollout: 0 and 100 exact; the device's bucket ($bucket) as documented decides"

# --- a power cut during the download (the crash seam, at the second progress record's fsync), then the resume
SIZE=$(wc -c <www/slow/fw-2.0.0.pkg)
CHUNK=1048576
BASE=$H/slow catalog cat 13 www/slow/fw-2.0.0.pkg
fresh
expect 0 '' at $((C0 + 3600)) fw check
: >"$NGINX_ACCESS"
before=$(slotsum)
expect 99 '' env FWCTL_CRASH_AT=6 FWCTL_NOW=$((C0 + 3600)) "$B/fwctl" --root "$D" download
on_disk=$(wc -c <"$D/download/package.part")
[ "$on_disk" -ge "$CHUNK" ] && [ "$on_disk" -lt "$SIZE" ] || fail "the power cut came at $on_disk of $SIZE bytes"
[ "$(js "d['smart']['download']['bytes']")" -ge "$CHUNK" ] || fail "no durable progress: $(js "d['smart']['download']")"
expect 0 "download: 2.0.0: $SIZE bytes: $on_disk on disk before \\(verified again\\), $((SIZE - on_disk)) fetched" \
	at $((C0 + 3600)) fw download
cmp -s "$D/download/package.pkg" www/slow/fw-2.0.0.pkg || fail "the resumed download is not the package"
total=$(served /slow/fw-2.0.0.pkg)
[ "$total" -le $((SIZE + CHUNK)) ] || fail "fetched $total bytes for a package of $SIZE: $(cat "$NGINX_ACCESS")"
[ "$(slotsum)" = "$before" ] || fail "the download changed the slots"
ok "power cut during the download at $on_disk bytes: resumed from the disk, $total bytes served for $SIZE (at most one chunk more)"

# --- a power cut at every durable step of a download (the crash loop): the next run completes it, the package whole.
# Among the steps: the fsync of a whole part file before its rename (then every byte is on disk, none marked complete).
n=1
while :; do
	fresh
	expect 0 '' at $((C0 + 3600)) fw check
	before=$(slotsum)
	rc=0
	FWCTL_CRASH_AT=$n FWCTL_NOW=$((C0 + 3600)) "$B/fwctl" --root "$D" download >"$T/.out" 2>"$T/.err" || rc=$?
	[ $rc = 0 ] && break
	[ $rc = 99 ] || fail "crash point $n: exit $rc: $(cat "$T/.err")"
	grep -q "stopping before" "$T/.err" || fail "crash point $n: $(cat "$T/.err")"
	expect 0 '' at $((C0 + 3600)) fw download
	[ "$(cat "$T/.out")" = "downloaded 2.0.0" ] || fail "after a crash at point $n: $(cat "$T/.out") $(cat "$T/.err")"
	cmp -s "$D/download/package.pkg" www/slow/fw-2.0.0.pkg || fail "after a crash at point $n: not the package"
	[ ! -e "$D/download/package.part" ] || fail "after a crash at point $n: the part file stayed"
	[ "$(js "d['smart']['download']['result'], d['smart']['download']['complete']")" = "success True" ] ||
		fail "after a crash at point $n: $(js "d['smart']['download']")"
	[ "$(slotsum)" = "$before" ] || fail "after a crash at point $n: the slots changed"
	n=$((n + 1))
done
[ $n -gt 5 ] || fail "the download passed only $((n - 1)) durable steps"
# The same steps with an unpack hook: the part file read back whole goes through the hook, which reads it to its end.
k=1
while [ $k -lt $n ]; do
	fresh
	expect 0 '' fw config unpack-hook "$T/pass-hook"
	expect 0 '' at $((C0 + 3600)) fw check
	expect 99 '' env FWCTL_CRASH_AT=$k FWCTL_NOW=$((C0 + 3600)) "$B/fwctl" --root "$D" download
	expect 0 '' at $((C0 + 3600)) fw download
	cmp -s "$D/download/package.pkg" www/slow/fw-2.0.0.pkg || fail "with the hook, after a crash at point $k: not the package"
	k=$((k + 1))
done
ok "a power cut at each of the download's $((n - 1)) durable steps (a whole part file not yet renamed among them), and at each again with an unpack hook: the next run completes it"

# --- a resumed download whose bytes on disk were damaged is refused (fileCheckFailed) and discarded
fresh
expect 0 '' at $((C0 + 3600)) fw check
expect 99 '' env FWCTL_CRASH_AT=6 FWCTL_NOW=$((C0 + 3600)) "$B/fwctl" --root "$D" download
printf 'X' | dd of="$D/download/package.part" bs=1 seek=600000 conv=notrunc 2>/dev/null
expect 1 'download: .*fw-2.0.0.pkg: .*(chunk|SHA-256)' at $((C0 + 3600)) fw download
[ "$(cat "$T/.out")" = fileCheckFailed ] || fail "$(cat "$T/.out")"
[ ! -e "$D/download/package.part" ] || fail "a damaged download was kept"
ok "a damaged byte on disk fails its chunk on resume: fileCheckFailed, discarded"
# --- a CMS-signed catalog (catalog.json.cms, no .minisig): a device trusting the CA takes it, others refuse it
(mkdir -p pki && cd pki && pki_make)
cms_catalog() {
	name=$1 serial=$2
	shift 2
	"$B/fwpkg" catalog -q -f -o "www/$name.json" --base-url "$H" --expires 30d --serial "$serial" \
		-k pki/leaf.key --cert pki/leaf.crt --intermediate pki/inter.crt "$@"
}
cms_catalog xcat 3 www/fw-2.0.0.pkg
[ -s www/xcat.json.cms ] && [ ! -e www/xcat.json.minisig ] || fail "$(ls www/xcat.json*)"
TRUST=pki/root.crt fresh 1.0.0 xcat
: >"$NGINX_ACCESS"
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "$(cat "$T/.out") $(cat "$T/.err")"
[ "$(served /xcat.json.cms)" = "$(wc -c <www/xcat.json.cms)" ] || fail "the .cms was not fetched: $(cat "$NGINX_ACCESS")"
[ "$(js "d['smart']['check']['result'], d['smart']['catalog']['serial']")" = "needUpdate 3" ] || fail "$(js "d['smart']")"
TRUST=pki/other-root.crt fresh 1.0.0 xcat
refused 1 signatureFailed 'check: .*xcat.json: signed by certificate "CN=Firmware Signer" \([0-9A-F]{16}\), which is not trusted'
fresh 1.0.0 xcat
refused 1 signatureFailed 'check: .*xcat.json: signed by certificate "CN=Firmware Signer" \([0-9A-F]{16}\), which is not trusted'
TRUST=pki/root.crt fresh 1.0.0 xcat
sed -i 's/"serial": 3/"serial": 4/' www/xcat.json
refused 1 signatureFailed 'check: .*xcat.json: signature by certificate "CN=Firmware Signer"'
rm www/xcat.json.cms
refused 1 catalogUnsigned 'check: .*xcat.json: the catalog is not signed: no .*xcat.json.minisig or .cms'
ok "CMS catalog: needUpdate under the trusted CA (.cms fetched when there is no .minisig); another CA, a minisign-only device, a forgery, no signature refused"
# --- a catalog replaced on the server between its fetch and its signature's: both fetched again once, not signatureFailed
# seq_server NAME BODY...: a plain HTTP server on $SEQ_PORT that answers the n-th GET of /NAME.json with the
# n-th BODY (the last one again after the list), every other file from www; each path asked for is logged in NAME.log.
seq_server() {
	SEQ_PORT=$(free_port)
	"$PY" - "$SEQ_PORT" "$T/www" "$@" >"$SRV_DIR/$1.log" 2>&1 <<'PYEOF' &
import http.server, sys, functools
port, root, name, bodies = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
served = [0]
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        open(name + ".log", "a").write(self.path + "\n")
        if self.path == "/" + name + ".json":
            body = open(bodies[min(served[0], len(bodies) - 1)], "rb").read()
            served[0] += 1
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()
http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(H, directory=root)).serve_forever()
PYEOF
	SRV_PIDS="$SRV_PIDS $!"
	srv_wait_tcp "$SEQ_PORT" "$1" $!
}
# (the first GET of swap.json answered with serial 7, then serial 8 and its signature)
catalog swap 7 www/fw-2.0.0.pkg && mv www/swap.json swap7.json && rm www/swap.json.minisig
catalog swap 8 www/fw-2.0.0.pkg
seq_server swap swap7.json www/swap.json
fresh 1.0.0 swap
expect 0 '' fw smart config --server "http://127.0.0.1:$SEQ_PORT/swap.json"
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] && [ "$(js "d['smart']['catalog']['serial']")" = 8 ] || \
	fail "a catalog replaced between the two fetches: $(cat "$T/.out") $(cat "$T/.err") $(js "d['smart']")"
[ "$(grep -c '^/swap.json$' swap.log) $(grep -c '^/swap.json.minisig$' swap.log)" = "2 2" ] || \
	fail "the catalog and its signature were not each fetched twice: $(cat swap.log)"
ok "a catalog replaced between its fetch and its signature's: both fetched again once, needUpdate at the new serial"

# --- the refetch cannot be abused (seq_server). Two forged catalogs in a row: signatureFailed after exactly two fetches (the third body, a good
# one, is not asked for until the next check). A forged catalog, then an old one validly signed (serial 3,
# below the 9 accepted): the serial rule holds for the refetched catalog (catalogOld, the serial stays 9).
catalog rot 9 www/fw-2.0.0.pkg && mv www/rot.json rot9.json && mv www/rot.json.minisig rot9.minisig
catalog rot 3 www/fw-2.0.0.pkg && mv www/rot.json rot3.json && mv www/rot.json.minisig rot3.minisig
sed 's/"serial": 9/"serial": 99/' rot9.json >forged.json
seq_server rot forged.json forged.json rot9.json forged.json rot3.json
fresh 1.0.0 rot
expect 0 '' fw smart config --server "http://127.0.0.1:$SEQ_PORT/rot.json"
cp rot9.minisig www/rot.json.minisig
refused 1 signatureFailed 'check: .*rot.json: signature by [0-9A-F]{16}'
[ "$(grep -c '^/rot.json$' rot.log) $(grep -c '^/rot.json.minisig$' rot.log)" = "2 2" ] || \
	fail "two forged catalogs: not fetched exactly twice: $(cat rot.log)"
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] && [ "$(js "d['smart']['catalog']['serial']")" = 9 ] || \
	fail "the good catalog after two forged ones: $(cat "$T/.out") $(js "d['smart']")"
cp rot3.minisig www/rot.json.minisig
refused 1 catalogOld 'check: .*rot.json: serial 3 is lower than the 9 accepted before'
[ "$(js "d['smart']['catalog']['serial']")" = 9 ] || fail "the refetched old catalog moved the serial: $(js "d['smart']")"
[ "$(grep -c '^/rot.json$' rot.log)" = 5 ] || fail "rot.json fetched $(grep -c '^/rot.json$' rot.log) times, not 5"
ok "the refetch: at most one per check (two forged catalogs: signatureFailed after two fetches); the serial rule holds for the refetched catalog (catalogOld)"

# --- the trust policy (min_signatures 2): a catalog needs two distinct trusted keys; a refused one moves no serial
printf '{"min_signatures": 2}\n' >policy2.json
fresh_policy() {
	rm -rf "$D"
	"$B/fwctl" --root "$D" -q init --product SX --trust "$T/k.pub" --trust "$T/other.pub" --trust "$T/policy2.json" \
		--version 1.0.0 --device-id dev-1 >/dev/null
	smart_server "$1"
}
# catalog2 NAME SERIAL PKG...: as catalog, signed by k and by other (two signatures one after another)
catalog2() {
	KEY=other.key catalog "$@"
	cp "www/$1.json.minisig" other.sig
	catalog "$@"
	cat other.sig >>"www/$1.json.minisig"
}
serial() { js "(d['smart']['catalog'] or {}).get('serial')"; }
catalog2 pol 5 www/fw-2.0.0.pkg
fresh_policy pol
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] && [ "$(serial)" = 5 ] || fail "two keys: $(cat "$T/.out") $(serial)"
catalog pol 9007199254740992 www/fw-2.0.0.pkg
refused 1 signatureFailed 'check: .*pol.json: too few signatures by trusted keys: have 1, need 2'
[ "$(serial)" = 5 ] || fail "a catalog signed by one key moved the serial: $(serial)"
cat www/pol.json.minisig www/pol.json.minisig >dup.sig && mv dup.sig www/pol.json.minisig
refused 1 signatureFailed 'check: .*pol.json: too few signatures by trusted keys: have 1, need 2'
[ "$(serial)" = 5 ] || fail "the same key twice moved the serial: $(serial)"
catalog2 pol 6 www/fw-2.0.0.pkg
expect 0 '' at $((C0 + 3600)) fw check
[ "$(serial)" = 6 ] || fail "two keys again: $(serial)"
ok "policy min_signatures 2: a catalog by one key, or by one key twice, is signatureFailed and moves no serial (2^53 tried); two keys accepted"

# --- the serial: only an administrator on the device resets it (fwctl smart reset-serial)
catalog2 pol 3 www/fw-2.0.0.pkg
refused 1 catalogOld 'check: .*serial 3 is lower than the 6 accepted before'
before=$(devsum)
expect 0 'smart reset-serial: forgot serial 6' fw smart reset-serial
[ "$(devsum)" = "$before" ] || fail "reset-serial changed more than the smart state"
[ "$(serial)" = None ] || fail "serial after reset: $(serial)"
expect 0 'nothing to do' fw smart reset-serial
expect 2 'usage' fw smart reset-serial now
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] && [ "$(serial)" = 3 ] || fail "after reset: $(cat "$T/.out") $(serial)"
ok "smart reset-serial forgets the serial (documented); the next catalog that meets the policy sets it again"

# --- catalog binding: every word of the release the device decides on must be the signed manifest's
# relabel NAME PKG FIELD=JSON...: a catalog listing PKG (its true digest and length) with these fields changed, signed by k.
relabel() {
	name=$1 pkg=$2
	shift 2
	catalog "$name" 20 "$pkg"
	"$PY" - "www/$name.json" "$@" <<'PYEOF'
import json, sys
path, changes = sys.argv[1], sys.argv[2:]
d = json.load(open(path))
(prod, rels), = d["products"].items()
for c in changes:
    k, v = c.split("=", 1)
    if k == "product":
        d["products"] = {json.loads(v): rels}
    else:
        rels[0][k] = json.loads(v)
open(path, "w").write(json.dumps(d, indent=2, sort_keys=True) + "\n")
PYEOF
	rm -f "www/$name.json.minisig"
	minisign -S -s k.key -m "www/$name.json" -x "www/$name.json.minisig" -t "fwpkg catalog relabelled" \
		</dev/null >/dev/null 2>&1 || fail "minisign -S"
}
# unbound RUNNING NEEDS PATTERN: the check takes the catalog, the download refuses it (fileNotMatch), nothing is kept or installed.
unbound() {
	fresh "$1" bind
	before=$(slotsum)
	expect 0 '' at $((C0 + 3600)) fw check
	[ "$(cat "$T/.out")" = "needUpdate $2" ] || fail "check: $(cat "$T/.out") $(cat "$T/.err")"
	expect 1 "download: .*$3" at $((C0 + 3600)) fw download
	[ "$(cat "$T/.out")" = fileNotMatch ] || fail "download printed $(cat "$T/.out") for /$3/"
	[ "$(js "d['smart']['download']['result']")" = fileNotMatch ] || fail "$(js "d['smart']['download']")"
	[ ! -e "$D/download/package.part" ] && [ ! -e "$D/download/package.pkg" ] || fail "a relabelled package was kept"
	# A tick (the install time is any) still installs nothing: it only tries the download again.
	: >"$NGINX_ACCESS"
	at $((C0 + 3600)) "$B/fwctl" --root "$D" smart tick >/dev/null 2>&1 || true
	[ "$(slotsum)" = "$before" ] || fail "a relabelled package ($3) changed the slots"
	[ "$(js "d['smart']['last_install']['result']")" = "" ] || fail "an install ran: $(js "d['smart']['last_install']")"
	# The catalog's words are not the package's: refused once, never chosen again, so never fetched again.
	if [ "${FOREVER:-1}" = 1 ]; then
		expect 0 '' at $((C0 + 7200)) fw check
		[ "$(cat "$T/.out")" = versionOptimal ] || fail "the refused $2 was chosen again: $(cat "$T/.out")"
		[ "$(js "[r['version'] + ' ' + r['result'] for r in d['smart']['refused']]")" = "['$2 fileNotMatch']" ] || \
			fail "$(js "d['smart']['refused']")"
		awk '$1 ~ /\.pkg$/ && $3 > 0' "$NGINX_ACCESS" | grep -q . && fail "a refused package was fetched again: $(cat "$NGINX_ACCESS")"
	fi
	return 0
}
relabel bind www/fw-1.0.0.pkg 'version="9.0.0"'
unbound 1.5.0 9.0.0 'its manifest says version 1.0.0, the catalog says 9.0.0'
relabel bind www/other-9.0.0.pkg 'product="SX"'
unbound 1.0.0 9.0.0 'its manifest is not for product SX'
relabel bind www/fw-2.0.0.pkg 'generation=2' 'bridge_from="1.0.0"'
unbound 1.0.0 2.0.0 'its manifest says generation 1, the catalog says 2'
relabel bind www/fw-2.0.0.pkg 'bridge_from="1.0.0"'
unbound 1.0.0 2.0.0 'its manifest says bridge_from "", bridge_down ""; the catalog says "1.0.0", ""'
relabel bind www/fw-2.0.0.pkg 'bridge_down="1.5.0"'
unbound 1.0.0 2.0.0 'bridge_down ""; the catalog says "", "1.5.0"'
relabel bind www/tpm-2.0.0.pkg 'requires_tpm=false'
unbound 1.0.0 2.0.0 'its manifest says requires_tpm true, the catalog says false'
relabel bind www/fw-2.0.0.pkg 'rollback_index=3'
unbound 1.0.0 2.0.0 'its manifest says rollback index 0, the catalog says 3'
len=$(wc -c <www/fw-2.0.0.pkg)
relabel bind www/fw-2.0.0.pkg "length=$((len + 512))"
FOREVER=0 unbound 1.0.0 2.0.0 "$len bytes, the catalog says $((len + 512))"
relabel bind www/fw-2.0.0.pkg "length=$((len - 512))"
FOREVER=0 unbound 1.0.0 2.0.0 "more than the $((len - 512)) (bytes )?expected"
ok "catalog binding: version, product, generation, bridge_from, bridge_down, requires_tpm, rollback index, length each fileNotMatch, nothing kept or installed"
# --- a slow server (1 byte a second, low-speed limit off): transfer-timeout ends the catalog fetch and the
# download with netError, recorded, nothing else changed, the lock free
srv_proxy http "$HTTP_PORT"
P=http://127.0.0.1:$PROXY_PORT
BASE=$P catalog cat 30 www/fw-2.0.0.pkg
fresh 1.0.0
expect 0 '' fw config low-speed-limit 0
expect 0 '' fw config transfer-timeout 3
expect 0 'smart config: set' fw smart config --server "$P/cat.json"
printf 'dribble 10\ndribble 10\n' >"$PROXY_PLAN"
start=$(date +%s)
refused 4 netError "check: .*cat.json: the transfer did not finish within 3 s \(transfer-timeout\)"
[ $(($(date +%s) - start)) -le 8 ] || fail "the catalog fetch took $(($(date +%s) - start)) s"
expect 0 '' timeout 5 "$B/fwctl" --root "$D" status
expect 0 'smart config: set' fw smart config --server "$H/cat.json"
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "$(cat "$T/.out")"
printf 'dribble 100000\ndribble 100000\ndribble 100000\ndribble 100000\n' >"$PROXY_PLAN"
before=$(slotsum)
start=$(date +%s)
expect 4 "download: .*fw-2.0.0.pkg: the transfer did not finish within 3 s \(transfer-timeout\)" \
	at $((C0 + 3600)) timeout 30 "$B/fwctl" --root "$D" download
[ $(($(date +%s) - start)) -le 8 ] || fail "the download took $(($(date +%s) - start)) s"
[ "$(cat "$T/.out")" = netError ] || fail "$(cat "$T/.out")"
[ "$(js "d['smart']['download']['result']")" = netError ] || fail "$(js "d['smart']['download']")"
[ "$(slotsum)" = "$before" ] || fail "a download that timed out changed the slots"
expect 0 '' timeout 5 "$B/fwctl" --root "$D" status
: >"$PROXY_PLAN"
ok "transfer-timeout ends a catalog fetch and a download from a server dribbling a byte a second: netError, recorded, the lock free"

# --- transfer-timeout bounds the download, not each mirror: three mirrors that accept and never answer
# take transfer-timeout in all (3 s), not three times it.
mirrors=""
for m in 1 2 3; do
	port=$(free_port)
	"$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); held = []
while True: held.append(s.accept()[0])' "$port" >/dev/null 2>&1 &
	SRV_PIDS="$SRV_PIDS $!"
	srv_wait_tcp "$port" "silent-$m" "$!"
	mirrors="$mirrors --base-url http://127.0.0.1:$port"
done
"$B/fwpkg" catalog -q -f -o www/cat.json $mirrors --expires 30d --serial 40 -k k.key www/fw-2.0.0.pkg
fresh 1.0.0
expect 0 '' fw config low-speed-limit 0
expect 0 '' fw config transfer-timeout 3
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "$(cat "$T/.out")"
start=$(date +%s)
expect 4 "download: .*fw-2.0.0.pkg: the transfer did not finish within [0-9]+ s \(transfer-timeout\)" \
	at $((C0 + 3600)) timeout 30 "$B/fwctl" --root "$D" download
took=$(($(date +%s) - start))
[ "$took" -le 5 ] || fail "three silent mirrors held the download $took s (transfer-timeout 3 s)"
[ "$(js "d['smart']['download']['result']")" = netError ] || fail "$(js "d['smart']['download']")"
ok "transfer-timeout bounds a download over three silent mirrors in all ($took s), not each mirror: netError"

# --- ... and the check, not each file it fetches: a catalog that takes 4 s of the 5, then a signature as slow
# (9 s when each file had its own).
BASE=$P catalog cat 50 www/fw-2.0.0.pkg
fresh 1.0.0
expect 0 '' fw config low-speed-limit 0
expect 0 '' fw config transfer-timeout 5
expect 0 'smart config: set' fw smart config --server "$P/cat.json"
printf 'dribble %s\ndribble 10\n' $(($(wc -c <www/cat.json) - 4)) >"$PROXY_PLAN"
start=$(date +%s)
refused 4 netError "check: .*cat.json.minisig: the (transfer|check) did not finish within [0-9]+ s \(transfer-timeout\)"
took=$(($(date +%s) - start))
[ "$took" -le 7 ] || fail "a slow catalog, then a slow signature, held the check $took s (transfer-timeout 5 s)"
: >"$PROXY_PLAN"
ok "transfer-timeout bounds the check in all ($took s): a slow catalog, then a slow signature: netError"
# --- the field's bridge path, chosen by the install's own policy: 5.20.0 -> 5.21.2 (the bridge of generation 1)
# -> 5.22.2 (generation 2, entered only from 5.21.2) -> 5.23.0 (entered only from 5.22.2); 5.21.0 is a dead end
# and 5.23.0 is refused from anything but 5.22.2: neither is ever fetched. Halfway, a re-signed catalog moves
# every release to new URLs and the old ones go (404): the newest accepted catalog's URLs are used.
mkdir -p www/path
for v in 5.20.0 5.21.0 5.21.2; do
	"$B/mkpkg" -q -o www/path/fw-$v.pkg --version $v --product SX --pri b.img --sec c.img --boot c.img -k k.key
done
"$B/mkpkg" -q -o www/path/fw-5.22.2.pkg --version 5.22.2 --product SX --generation 2 --bridge-from 5.21.2 \
	--pri b.img --sec c.img --boot c.img -k k.key
"$B/mkpkg" -q -o www/path/fw-5.23.0.pkg --version 5.23.0 --product SX --generation 2 --bridge-from 5.22.2 \
	--pri b.img --sec c.img --boot c.img -k k.key
BASE=$H/path catalog path 60 www/path/fw-*.pkg
fresh 5.20.0 path
: >"$NGINX_ACCESS"
expect 0 'check: 5.21.2 is the bridge to 5.23.0: it is installed first' at "$(hm 1 0)" fw smart tick
grep -q '^needUpdate 5.21.2' "$T/.out" && grep -q '^install 5.21.2 success' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 '' fw mark-good
expect 0 '' at "$(hm 1 10)" fw check
[ "$(cat "$T/.out")" = "needUpdate 5.22.2" ] || fail "from 5.21.2: $(cat "$T/.out")"
# The releases move: the old URLs answer 404 from now on.
mkdir -p www/moved
ln www/path/fw-*.pkg www/moved/
BASE=$H/moved catalog path 61 www/moved/fw-*.pkg
rm -r www/path
expect 0 '' at "$(hm 1 20)" fw check
[ "$(cat "$T/.out")" = "needUpdate 5.22.2" ] || fail "$(cat "$T/.out")"
[ "$(js "d['smart']['next_release']['url']")" = "$H/moved/fw-5.22.2.pkg" ] || fail "$(js "d['smart']['next_release']")"
expect 0 'install: rebooting' at "$(hm 1 20)" fw smart tick
grep -q '^install 5.22.2 success' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 '' fw mark-good
expect 0 'install: rebooting' at "$(hm 1 30)" fw smart tick
grep -q '^needUpdate 5.23.0' "$T/.out" && grep -q '^install 5.23.0 success' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 '' fw mark-good
expect 0 '' at "$(hm 1 40)" fw smart tick
grep -q '^versionOptimal' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['generation']")" = "5.23.0 5.23.0 2" ] || \
	fail "$(js "d['slots']")"
for v in 5.20.0 5.21.0; do
	[ "$(served /path/fw-$v.pkg)$(served /moved/fw-$v.pkg)" = 00 ] || fail "$v was fetched: $(cat "$NGINX_ACCESS")"
done
[ "$(served /path/fw-5.23.0.pkg)" = 0 ] || fail "5.23.0 was fetched before the device could take it"
for v in 5.21.2 5.22.2 5.23.0; do
	[ "$(($(served /path/fw-$v.pkg) + $(served /moved/fw-$v.pkg)))" = "$(wc -c <www/moved/fw-$v.pkg)" ] || \
		fail "$v: not fetched once: $(cat "$NGINX_ACCESS")"
done
grep -q ' 404 ' "$NGINX_ACCESS" && fail "an old URL was asked for after the catalog moved it: $(grep ' 404 ' "$NGINX_ACCESS")"
ok "bridge path 5.20.0 -> 5.21.2 -> 5.22.2 -> 5.23.0 by the install's policy: no dead end or refused release fetched; a moved release is fetched from its new URLs"
# --- the field's serverSpecUpLimit (HTTP 503/429: asked once, not retried at once, Retry-After honoured by the
# schedule) and CertOutDate (the server's certificate expired or not valid yet: openssl-made certificates on a
# real nginx); another certificate failure (a wrong host name) stays netError. Classified by kind, never text.
mkdir -p tls
(cd tls && pki_root tlsroot "fwpkg TLS test root")
printf '[srv]\nsubjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n[wrong]\nsubjectAltName=DNS:example.com\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >tls/ext.cnf
tls_cert() {   # NAME START END SECTION
	(cd tls && pki_key "$1" && openssl req -new -key "$1.key" -subj "/CN=127.0.0.1" -out "$1.csr" \
		-config tlsroot.ca/ca.cnf && openssl ca -batch -config tlsroot.ca/ca.cnf -cert tlsroot.crt -keyfile tlsroot.key \
		-in "$1.csr" -out "$1.crt" -extfile ext.cnf -extensions "$4" -notext -startdate "$2" -enddate "$3") \
		>/dev/null 2>&1 || fail "openssl: certificate $1"
}
tls_cert good 20200101000000Z 20491231000000Z srv
tls_cert expired 20200101000000Z 20210101000000Z srv
tls_cert notyet 20900101000000Z 20910101000000Z srv
tls_cert wrong 20200101000000Z 20491231000000Z wrong
LIM_PORT=$(free_port) GOOD_PORT=$(free_port) EXPIRED_PORT=$(free_port) NOTYET_PORT=$(free_port) WRONG_PORT=$(free_port)
mkdir -p lim-nginx
{
	[ "$(id -u)" -ne 0 ] || echo "user $(srv_user);"
	cat <<EOF
worker_processes 1;
daemon off;
pid $T/lim-nginx/nginx.pid;
error_log $T/lim-nginx/error.log warn;
events { worker_connections 64; }
http {
	log_format sent '\$uri \$status \$body_bytes_sent';
	access_log $T/lim.log sent;
$(srv_nginx_temp_paths "$T/lim-nginx")
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$LIM_PORT;
		root $T/www;
		location /busy/ { add_header Retry-After 600 always; return 503; }
		location /many/ { return 429; }
	}
EOF
	for c in good:$GOOD_PORT expired:$EXPIRED_PORT notyet:$NOTYET_PORT wrong:$WRONG_PORT; do
		printf '\tserver { listen 127.0.0.1:%s ssl; ssl_certificate %s; ssl_certificate_key %s; root %s; }\n' \
			"${c#*:}" "$T/tls/${c%%:*}.crt" "$T/tls/${c%%:*}.key" "$T/www"
	done
	echo "}"
} >lim-nginx/nginx.conf
nginx -e "$T/lim-nginx/error.log" -p "$T/lim-nginx" -c "$T/lim-nginx/nginx.conf" >>"$T/lim-nginx/error.log" 2>&1 &
SRV_PIDS="$SRV_PIDS $!"
srv_wait_tcp "$LIM_PORT" nginx $!
srv_wait_tcp "$WRONG_PORT" nginx $!
catalog cat 70 www/fw-2.0.0.pkg
# checks: 503 with Retry-After 600 waits 600 s (not the 60 s backoff), 429 without one backs off 60 s
for how in "busy serverSpecUpLimit 2023-11-14T23:23:20Z" "many serverSpecUpLimit 2023-11-14T23:14:20Z"; do
	set -- $how
	fresh
	expect 0 '' fw smart config --server "http://127.0.0.1:$LIM_PORT/$1/cat.json"
	: >"$T/lim.log"
	before=$(devsum)
	expect 4 "check: .*/$1/cat.json: the server answered HTTP (503|429) \(busy" at $((C0 + 3600)) fw check
	[ "$(cat "$T/.out")" = "$2" ] || fail "check over /$1/: $(cat "$T/.out")"
	[ "$(grep -c "/$1/cat.json" "$T/lim.log")" = 1 ] || fail "a busy server was asked again at once: $(cat "$T/lim.log")"
	JS_NOW=$((C0 + 3600))
	[ "$(js "d['smart']['check']['result'], d['smart']['scheduled']['check']")" = "$2 $3" ] || fail "$(js "d['smart']")"
	JS_NOW=""
	[ "$(devsum)" = "$before" ] || fail "a busy server changed the device"
done
# certificates: out of date either way is CertOutDate; a good one from the same root works; a wrong host is netError
for how in "$EXPIRED_PORT CertOutDate" "$NOTYET_PORT CertOutDate" "$WRONG_PORT netError"; do
	set -- $how
	fresh
	expect 0 '' fw config ca-file "$T/tls/tlsroot.crt"
	expect 0 '' fw smart config --server "https://127.0.0.1:$1/cat.json"
	expect 4 "check: .*cat.json: the server's certificate" at $((C0 + 3600)) fw check
	[ "$(cat "$T/.out")" = "$2" ] || fail "check over port $1: $(cat "$T/.out") $(cat "$T/.err")"
	[ "$(js "d['smart']['check']['result']")" = "$2" ] || fail "$(js "d['smart']")"
done
expect 0 '' fw smart config --server "https://127.0.0.1:$GOOD_PORT/cat.json"
expect 0 '' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "the good certificate: $(cat "$T/.out")"
# downloads: the package on a busy server, then behind an expired certificate
for how in "http://127.0.0.1:$LIM_PORT/busy serverSpecUpLimit 2023-11-14T23:23:20Z" \
	   "https://127.0.0.1:$EXPIRED_PORT CertOutDate 2023-11-14T23:14:20Z"; do
	set -- $how
	BASE=$1 catalog cat 71 www/fw-2.0.0.pkg
	fresh
	expect 0 '' fw config ca-file "$T/tls/tlsroot.crt"
	expect 0 '' at $((C0 + 3600)) fw check
	: >"$T/lim.log"
	before=$(slotsum)
	expect 4 "download: .*fw-2.0.0.pkg" at $((C0 + 3600)) fw download
	[ "$(cat "$T/.out")" = "$2" ] || fail "download from $1: $(cat "$T/.out") $(cat "$T/.err")"
	[ "$(grep -c 'fw-2.0.0.pkg' "$T/lim.log")" -le 1 ] || fail "asked again at once: $(cat "$T/lim.log")"
	JS_NOW=$((C0 + 3600))
	[ "$(js "d['smart']['download']['result'], d['smart']['scheduled']['download']")" = "$2 $3" ] || fail "$(js "d['smart']")"
	JS_NOW=""
	[ "$(slotsum)" = "$before" ] || fail "a failed download changed the slots"
done
# an upgrade from a busy server records the field's code too (the one intake's classification)
expect 4 'upgrade: .*the server answered HTTP 503' fw upgrade all "http://127.0.0.1:$LIM_PORT/busy/fw-2.0.0.pkg"
[ "$(js "d['last_upgrade']['result']")" = serverSpecUpLimit ] || fail "$(js "d['last_upgrade']")"
ok "serverSpecUpLimit (503 with Retry-After honoured, 429 backing off; asked once) and CertOutDate (expired, not yet valid) for check, download and upgrade; a wrong host name stays netError"
# --- the field's "delete and download again": a file that changed on the server since the bytes on disk came is
# deleted and downloaded whole in the same run, not called a network error; and download after a failed check
# says the check failed and why, not that it found no update
SIZE=$(wc -c <www/slow/fw-2.0.0.pkg)
BASE=$H/slow catalog cat 80 www/slow/fw-2.0.0.pkg
fresh
expect 0 '' at $((C0 + 3600)) fw check
expect 99 '' env FWCTL_CRASH_AT=6 FWCTL_NOW=$((C0 + 3600)) "$B/fwctl" --root "$D" download
[ -s "$D/download/package.part" ] || fail "no partial download to resume"
touch -d '2030-01-01 00:00:00' www/slow/fw-2.0.0.pkg   # the same bytes published again: another ETag and time
: >"$NGINX_ACCESS"
expect 0 'download: 2.0.0: the file changed on the server: deleted what was fetched and downloaded it again' \
	at $((C0 + 3600)) fw download
[ "$(cat "$T/.out")" = "downloaded 2.0.0" ] || fail "$(cat "$T/.out")"
cmp -s "$D/download/package.pkg" www/slow/fw-2.0.0.pkg || fail "the download is not the package"
[ "$(js "d['smart']['download']['result'], d['smart']['download']['failures']")" = "success 0" ] || \
	fail "$(js "d['smart']['download']")"
[ "$(served /slow/fw-2.0.0.pkg)" -ge "$SIZE" ] || fail "not downloaded whole again: $(cat "$NGINX_ACCESS")"
fresh
expect 0 '' fw smart config --server "http://127.0.0.1:$(free_port)/cat.json"
expect 4 '' at $((C0 + 3600)) fw check
before=$(devsum)
expect 2 'download: nothing to download: the last check failed \(netError: .*127.0.0.1.*\): run fwctl check again' \
	at $((C0 + 3600)) fw download
[ "$(devsum)" = "$before" ] || fail "a refused download changed the device"
ok "a file changed on the server is deleted and downloaded again in one run (success, no netError); download after a failed check names the check's failure"
# --- the field's one-shot schedule: `smart schedule download at DATE [reboot at DATE]` (dates later than now);
# the download at its time (the window aside), the install at the reboot time; a failed scheduled download is
# tried again at the reboot time; without a reboot time the package waits for `smart install`
catalog cat 90 www/fw-2.0.0.pkg
fresh
expect 2 'smart schedule: the download time 2023-11-15T00:00:00Z is not later than now' \
	at "$(hm 1 0)" fw smart schedule download at 2023-11-15 00:00:00
expect 2 'smart schedule: the reboot time .* is not later than the download time' \
	at "$(hm 1 0)" fw smart schedule download at 2023-11-15 02:00:00 reboot at 2023-11-15 01:59:59
expect 2 'usage' at "$(hm 1 0)" fw smart schedule download 2023-11-15 02:00:00
# equal dates: a download time that is now, a reboot time that is the download time
expect 2 'smart schedule: the download time 2023-11-15T01:00:00Z is not later than now' \
	at "$(hm 1 0)" fw smart schedule download at 2023-11-15 01:00:00
expect 2 'smart schedule: the reboot time 2023-11-15T02:00:00Z is not later than the download time' \
	at "$(hm 1 0)" fw smart schedule download at 2023-11-15 02:00:00 reboot at 2023-11-15T02:00:00Z
# Dates that are no dates: one line naming the words, exit 2, no schedule set (never a date shifted by timegm:
# November 31st is not December 1st).
before=$(devsum)
for d in '2023-11-31 02:00:00' '2023-11-15 24:00:00' '2023-11-15 23:59:60' '2023-02-29T02:00:00Z' \
	'99999-01-01 00:00:00' '2023-11-15 2:00:00' '2023-11-5 02:00:00' '-2024-01-01 00:00:00' '2100-01-01 00:00:00' '15/11/2023 02:00:00' '2023-11-15T02:00:00+01:00'; do
	# shellcheck disable=SC2086
	expect 2 "^fwctl: smart schedule: $(echo "$d" | sed 's/[+]/[+]/g'): not a date and time \(expected" \
		at "$(hm 1 0)" fw smart schedule download at $d
	expect 2 "^fwctl: smart schedule: $(echo "$d" | sed 's/[+]/[+]/g'): not a date and time \(expected" \
		at "$(hm 1 0)" fw smart schedule download at 2023-11-15 02:00:00 reboot at $d
done
[ "$(devsum)" = "$before" ] || fail "a refused schedule changed the device"
[ "$(js "d['smart']['schedule']['download']")" = None ] || fail "$(js "d['smart']['schedule']")"
expect 0 'smart schedule: download at 2023-11-15T02:00:00Z, reboot at 2023-11-15T05:00:00Z' \
	at "$(hm 1 0)" fw smart schedule download at 2023-11-15 02:00:00 reboot at 2023-11-15T05:00:00Z
: >"$NGINX_ACCESS"
before=$(slotsum)
expect 0 'tick: next check at 2023-11-15T02:00:00Z' at "$(hm 1 0)" fw smart tick
[ "$(cat "$T/.out")" = "needUpdate 2.0.0" ] || fail "$(cat "$T/.out")"
[ "$(served /fw-2.0.0.pkg)" = 0 ] || fail "downloaded before the scheduled time"
expect 0 'tick: next install at 2023-11-15T05:00:00Z' at "$(hm 2 0)" fw smart tick
grep -q '^downloaded 2.0.0' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 '' at "$(hm 3 0)" fw smart tick
[ "$(slotsum)" = "$before" ] || fail "installed before the reboot time"
expect 0 'install: rebooting' at "$(hm 5 0)" fw smart tick
grep -q '^install 2.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['smart']['schedule']['download_failed'], d['smart']['schedule']['reboot_result']")" = "False succeeded" ] || \
	fail "$(js "d['smart']['schedule']")"
# a failed scheduled download (the file not there yet) is tried again at the reboot time, then installed
BASE=$H/later catalog cat 91 www/fw-2.0.0.pkg
fresh
expect 0 '' at "$(hm 1 0)" fw smart schedule download at 2023-11-15 02:00:00 reboot at 2023-11-15 05:00:00
expect 4 '' at "$(hm 2 0)" fw smart tick
[ "$(js "d['smart']['schedule']['download_done'], d['smart']['schedule']['download_failed']")" = "True True" ] || \
	fail "$(js "d['smart']['schedule']")"
mkdir -p www/later && cp www/fw-2.0.0.pkg www/later/
: >"$NGINX_ACCESS"
expect 0 '' at "$(hm 3 0)" fw smart tick
[ "$(served /later/fw-2.0.0.pkg)" = 0 ] || fail "retried before the reboot time: $(cat "$NGINX_ACCESS")"
expect 0 'install: rebooting' at "$(hm 5 0)" fw smart tick
grep -q '^downloaded 2.0.0' "$T/.out" && grep -q '^install 2.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['smart']['schedule']['reboot_result']")" = succeeded ] || fail "$(js "d['smart']['schedule']")"
# no reboot time: downloaded at its time, then it waits; smart install installs it now without a path
catalog cat 92 www/fw-2.0.0.pkg
fresh
expect 2 'smart install: no downloaded package waits to be installed' fw smart install
expect 0 '' at "$(hm 1 0)" fw smart schedule download at 2023-11-15 02:00:00
expect 0 '' at "$(hm 2 0)" fw smart tick
grep -q '^downloaded 2.0.0' "$T/.out" || fail "$(cat "$T/.out")"
before=$(slotsum)
expect 0 '' at "$(hm 9 0)" fw smart tick
[ "$(slotsum)" = "$before" ] || fail "a schedule without a reboot time installed by itself"
expect 0 'install: rebooting' at "$(hm 9 5)" fw smart install
grep -q '^install 2.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['slots']['pri']['version'], d['smart']['schedule']['download']")" = "2.0.0 None" ] || fail "$(js "d['smart']")"
# a download by hand ends a schedule
fresh
expect 0 '' at "$(hm 1 0)" fw smart schedule download at 2023-11-15 02:00:00 reboot at 2023-11-15 05:00:00
expect 0 '' at "$(hm 1 0)" fw check
expect 0 'download: the scheduled upgrade is off' at "$(hm 1 0)" fw download
[ "$(js "d['smart']['schedule']['download']")" = None ] || fail "$(js "d['smart']['schedule']")"
# the check at the download time fails (no catalog on the server yet): the schedule survives it, the check
# and download are tried again at the reboot time, then the install
fresh
expect 0 '' fw smart config --server "$H/later.json"
expect 0 '' at "$(hm 1 0)" fw smart schedule download at 2023-11-15 02:00:00 reboot at 2023-11-15 05:00:00
expect 4 'check: .*later.json: the server answered HTTP 404' at "$(hm 2 0)" fw smart tick
[ "$(js "d['smart']['schedule']['download_done'], d['smart']['schedule']['download_failed'], d['smart']['schedule']['reboot_done']")" = \
	"True True False" ] || fail "after the failed check: $(js "d['smart']['schedule']")"
cp www/cat.json www/later.json && cp www/cat.json.minisig www/later.json.minisig
expect 0 'install: rebooting' at "$(hm 5 0)" fw smart tick
grep -q '^install 2.0.0 success' "$T/.out" || fail "$(cat "$T/.out")"
[ "$(js "d['slots']['pri']['version'], d['smart']['schedule']['reboot_result']")" = "2.0.0 succeeded" ] || \
	fail "$(js "d['slots']['pri']['version'], d['smart']['schedule']")"
ok "schedule: dates later than now, download at its time (not before), install at the reboot time; a failed download or check retried at the reboot time; without one, smart install; a download by hand ends it"
# --- what 004's display shows from the catalog: the upgrade description (check and status) and the recommended
# patch (a .wmopkg: name, version, size), with the local patch version (the installed package of that name)
"$B/mkpkg" -q -o www/desc-2.0.0.pkg --version 2.0.0 --product SX --description 'Firmware and Patch: 1) fixes 2) CC+SPH' \
	--pri b.img --sec b.img --boot c.img -k k.key
mkdir -p ptree/files
echo fix >ptree/files/fix
"$B/mkwmopkg" -q -o www/hotfix.wmopkg -C ptree --version 2.0.1 --product SX --min-fw 2.0.0 \
	--description 'SPH001: a hot fix' -k k.key
"$B/mkwmopkg" -q -o www/oldfix.wmopkg -C ptree --version 1.0.1 --product SX --max-fw 1.9.9 -k k.key
catalog cat 100 www/desc-2.0.0.pkg www/hotfix.wmopkg www/oldfix.wmopkg
fresh
expect 0 'check: 2.0.0: Firmware and Patch: 1\) fixes 2\) CC\+SPH' at $((C0 + 3600)) fw check
grep -Eq 'check: recommended patch hotfix 2.0.1 \([0-9]+ bytes\): SPH001: a hot fix' "$T/.err" || fail "$(cat "$T/.err")"
at $((C0 + 3600)) "$B/fwctl" --root "$D" status >st.txt
grep -q 'description *Firmware and Patch: 1) fixes 2) CC+SPH' st.txt || fail "$(cat st.txt)"
grep -Eq "patch *hotfix 2.0.1, $(wc -c <www/hotfix.wmopkg) bytes \(installed: -\)" st.txt || fail "$(cat st.txt)"
JS_NOW=$((C0 + 3600))
[ "$(js "d['smart']['description'], d['smart']['patch']['name'], d['smart']['patch']['version'], d['smart']['patch']['installed']")" = \
	"Firmware and Patch: 1) fixes 2) CC+SPH hotfix 2.0.1 -" ] || fail "$(js "d['smart']")"
JS_NOW=""
# a device staying on 1.0.0 (nothing newer it takes) is recommended the patch for 1.x; installed, status says so
catalog cat 101 www/fw-1.0.0.pkg www/hotfix.wmopkg www/oldfix.wmopkg
fresh
expect 0 'check: recommended patch oldfix 1.0.1' at $((C0 + 3600)) fw check
[ "$(cat "$T/.out")" = versionOptimal ] || fail "$(cat "$T/.out")"
expect 0 '' fw package install www/oldfix.wmopkg
JS_NOW=$((C0 + 3600))
[ "$(js "d['smart']['patch']['name'], d['smart']['patch']['installed']")" = "oldfix 1.0.1" ] || fail "$(js "d['smart']['patch']")"
JS_NOW=""
ok "check and status show the release's description and the recommended patch (for the release to run, by min_fw/max_fw) with the installed patch version"
echo "all $TESTS checks passed"
