#!/bin/sh
# test_fwctl_settings: every setting is listed by --help, init and config take it at its edges, config.json damage is refused.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

D=$T/dev
fw() { "$B/fwctl" --root "$D" "$@"; }
keypair k
# The oracle: the settings fwctl(8) documents, with their range (written here, not read from the program).
SETTINGS='allow-untrusted - -
media - -
unpack-hook - -
hook-timeout 1 86400
package-hook-timeout 1 3600
trial-boots 1 100
ca-file - -
low-speed-limit 0 1073741824
low-speed-time 1 86400
net-retries 0 100
transfer-timeout 1 604800
ssh-known-hosts - -
ssh-key - -'

"$B/fwctl" --help >help.txt
"$B/fwctl" init --help >init-help.txt
"$B/fwctl" --root "$T/none" config --help >config-help.txt
echo "$SETTINGS" | while read -r key lo hi; do
	grep -q "^  $key " help.txt || fail "fwctl --help does not list $key"
	grep -q "^  --$key " init-help.txt || fail "fwctl init --help does not list --$key"
	grep -q "^  $key " config-help.txt || fail "fwctl config --help does not list $key"
	[ "$lo" = - ] || grep -q "^  $key .*($lo to $hi" help.txt || fail "fwctl --help: $key is not $lo to $hi"
done
for opt in server interval download-window install-at; do
	grep -q "^  --$opt " help.txt || fail "fwctl --help does not list smart config --$opt"
	"$B/fwctl" smart --help | grep -q "^  --$opt " || fail "fwctl smart --help does not list --$opt"
done
ok "fwctl --help, init --help and config --help list every setting with its range; fwctl --help and smart --help the smart settings"

# --help is made from the table: every setting fwctl config shows is listed, and nothing else.
"$B/fwctl" --root "$T/cfg" -q init --product WX --trust k.pub >/dev/null
"$B/fwctl" --root "$T/cfg" config | awk '{print $1}' | sort >shown-keys
sed -n '/^settings (fwctl config/,/^$/p' help.txt | awk '/^  / {print $1}' | sort >help-keys
[ -s shown-keys ] && cmp -s shown-keys help-keys || fail "fwctl --help and fwctl config differ: $(diff shown-keys help-keys)"
[ "$(wc -l <shown-keys)" -eq "$(echo "$SETTINGS" | wc -l)" ] || fail "config shows $(wc -l <shown-keys) settings"
ok "fwctl --help lists exactly the settings fwctl config shows (one table)"

# -V and --version: one line, the same form as the host programs' (msg_print_version)
for opt in -V --version; do
	expect 0 '' "$B/fwctl" "$opt"
	grep -Eq '^fwctl [0-9]+\.[0-9]+ \(package format 1\)$' "$T/.out" || fail "fwctl $opt printed: $(cat "$T/.out")"
	[ "$(sed 's/^fwctl //' "$T/.out")" = "$("$B/fwpkg" -V | sed 's/^fwpkg //')" ] || fail "fwctl $opt and fwpkg -V differ"
done
expect 2 'unknown option "-X"' "$B/fwctl" -X
grep -q '^\.BR \\-V | \\-\\-version' "$E2E/../../man/fwctl.8" || fail "fwctl(8) does not document -V and --version"
ok "fwctl -V and --version print the version line fwpkg -V prints; fwctl(8) documents them"

fw -q init --product WX --trust k.pub --hook-timeout 86400 --low-speed-limit 0 --net-retries 100 \
	--transfer-timeout 1 --trial-boots 100 --package-hook-timeout 1 --ca-file /etc/hostname >/dev/null
fw config >shown
for kv in "hook-timeout 86400" "low-speed-limit 0" "net-retries 100" "transfer-timeout 1" "trial-boots 100" \
	"package-hook-timeout 1" "ca-file /etc/hostname" "unpack-hook none"; do
	grep -Eq "^${kv% *} +${kv#* }\$" shown || { cat shown >&2; fail "config does not show $kv after init"; }
done
ok "init takes every setting at its edge, and config shows what init set"

echo "$SETTINGS" | while read -r key lo hi; do
	[ "$lo" = - ] && continue
	cp "$D/config.json" before.json
	expect 2 "^fwctl: init: --$key $((hi + 1)): expected $lo to $hi" "$B/fwctl" --root "$T/other" init --product WX \
		--trust k.pub "--$key" $((hi + 1))
	[ ! -e "$T/other" ] || fail "a refused init --$key left a device root"
	expect 2 "^fwctl: config: $key $((hi + 1)): expected $lo to $hi" fw config "$key" $((hi + 1))
	[ "$lo" -eq 0 ] || expect 2 "$key $((lo - 1)): expected $lo to $hi" fw config "$key" $((lo - 1))
	cmp -s before.json "$D/config.json" || fail "a refused $key changed config.json"
	expect 0 '' fw config "$key" "$lo"
	fw config | grep -Eq "^$key +$lo\$" || fail "config $key $lo not shown"
done
ok "config and init: each number at its edges accepted, one beyond refused (exit 2) with nothing written"

# The boot configuration a user changes later (field 002): allow-untrusted and the media labels.
cp "$D/config.json" before.json
expect 2 '^fwctl: config: allow-untrusted maybe: expected yes or no$' fw config allow-untrusted maybe
expect 2 '^fwctl: config: media stick: expected LABEL=DIR or LABEL=none$' fw config media stick
expect 2 '^fwctl: config: media usb=none: there is no media label usb$' fw config media usb=none
expect 2 'media label "\.\./x": use letters' fw config media ../x=/mnt
# A relative directory would be read from wherever a later fwctl runs (cron, a service): refused, at init too.
expect 2 '^fwctl: config: media stick=usb/sd1: give the directory as an absolute path$' fw config media stick=usb/sd1
expect 2 '^fwctl: init: --media stick=usb/sd1: give the directory as an absolute path$' \
	"$B/fwctl" --root "$T/relmedia" init --product WX --trust k.pub --media stick=usb/sd1
[ ! -e "$T/relmedia" ] || fail "a refused init left $T/relmedia"
cmp -s before.json "$D/config.json" || fail "a refused allow-untrusted or media changed config.json"
fw config | grep -Eq '^allow-untrusted +no$' || fail "allow-untrusted is not no by default"
fw config | grep -Eq '^media +none$' || fail "media is not none by default"
expect 0 'config: allow-untrusted set' fw config allow-untrusted yes
expect 0 '' fw config media "stick=$T/a"
expect 0 '' fw config media "sd=$T/sd"
expect 0 '' fw config media "stick=$T/b"
fw config >shown
grep -Eq '^allow-untrusted +yes$' shown && grep -Eq "^media +sd=$T/sd stick=$T/b\$" shown ||
	{ cat shown >&2; fail "config does not show allow-untrusted and media as set"; }
[ "$(fw status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["allow_untrusted"])')" = True ] ||
	fail "status does not see allow-untrusted yes"
expect 0 '' fw config media sd=none
expect 0 '' fw config allow-untrusted no
fw config | grep -Eq "^media +stick=$T/b\$" || fail "media sd=none did not remove sd"
fw config | grep -Eq '^allow-untrusted +no$' || fail "allow-untrusted no not kept"
"$B/fwctl" --root "$T/flag" -q init --product WX --trust k.pub --allow-untrusted --media "u=$T/u" --media "u=$T/v" >/dev/null
"$B/fwctl" --root "$T/flag" config >shown
grep -Eq '^allow-untrusted +yes$' shown && grep -Eq "^media +u=$T/v\$" shown || { cat shown >&2; fail "init's flags"; }
ok "config allow-untrusted yes|no and media LABEL=DIR|LABEL=none change the boot configuration later; init takes both"

cp "$D/config.json" good.json
python3 - "$D/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["unpack_hook_timeout"] = 0
json.dump(d, open(sys.argv[1], "w"))
PY
expect 3 'config.json: unpack_hook_timeout: not a number from 1 to 86400' fw status
ok "a damaged config.json (a setting out of range) is refused, naming the key"
cp good.json "$D/config.json"

cp "$D/config.json" before.json
expect 2 'smart config: --interval 59: expected a duration from 1m to 365d' fw smart config --interval 59
expect 2 'smart config: --interval 366d: expected a duration' fw smart config --interval 366d
expect 2 'smart config: --install-at 24:00: expected HH:MM' fw smart config --install-at 24:00
expect 2 'smart config: --download-window 00:00-24:00: expected HH:MM-HH:MM' fw smart config --download-window 00:00-24:00
expect 2 'smart config: --server ftp://h/c.json: expected an http:// or https:// URL' fw smart config --server ftp://h/c.json
cmp -s before.json "$D/config.json" || fail "a refused smart setting changed config.json"
expect 0 'smart config: set' fw smart config --interval 1m --download-window 23:59-00:00 --install-at 00:00 \
	--server https://h.example/c.json
fw smart config >shown
grep -Eq '^enabled +yes$' shown && grep -Eq '^interval +60 s$' shown && grep -Eq '^download-window +23:59-00:00$' shown &&
	grep -Eq '^install-at +00:00$' shown && grep -Eq '^server +https://h.example/c.json$' shown ||
	{ cat shown >&2; fail "smart config does not show what was set"; }
ok "smart config: each setting at its edge accepted, beyond refused (exit 2) with nothing written; shown back"

# fwctl's command table declares which commands take the device lock: with it held elsewhere,
# the readers answer and every changer exits 5 (busy) before it changes anything.
flock -o "$D/.lock" sleep 20 &
holder=$!
wait_flock "$D/.lock"
cp "$D/config.json" before.json
for words in "status" "config" "smart config" "smart schedule" "package list" "package show"; do
	# shellcheck disable=SC2086
	expect 0 '' fw $words
done
for words in "config hook-timeout 5" "config media x=/tmp" "smart config --interval 2h" "smart tick" "smart reset-serial" "boot" "mark-good" "mark-bad" "rollback" \
	"package remove -y all" "factory-reset -y" "check" "download" "upgrade pri none.pkg" "golden install none.pkg" \
	"unlock install none.tok" "smart schedule download at 2099-01-01 02:00:00 reboot at 2099-01-01 05:00:00" \
	"smart schedule off" "smart install"; do
	# shellcheck disable=SC2086
	expect 5 'busy: another fwctl is working on this device' fw $words
done
cmp -s before.json "$D/config.json" || fail "a busy command changed config.json"
[ ! -e "$D/smart.json" ] || ! grep -q '2099' "$D/smart.json" || fail "a busy smart schedule was recorded"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
expect 0 '' fw config hook-timeout 5
ok "the command table: status, config, smart config, smart schedule (shown), package list/show read without the lock; every changer is busy (exit 5) while another holds it"
