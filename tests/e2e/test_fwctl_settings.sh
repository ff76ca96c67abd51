#!/bin/sh
# test_fwctl_settings: every setting is listed by --help, init and config take it at its edges, config.json damage is refused.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

D=$T/dev
fw() { "$B/fwctl" --root "$D" "$@"; }
keypair k
# The oracle: the settings fwctl(8) documents, with their range (written here, not read from the program).
SETTINGS='unpack-hook - -
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
ok "fwctl --help, init --help and config --help list every setting with its range"

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

python3 - "$D/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["unpack_hook_timeout"] = 0
json.dump(d, open(sys.argv[1], "w"))
PY
expect 3 'config.json: unpack_hook_timeout: not a number from 1 to 86400' fw status
ok "a damaged config.json (a setting out of range) is refused, naming the key"
