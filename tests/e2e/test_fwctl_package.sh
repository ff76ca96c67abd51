#!/bin/sh
# test_fwctl_package: fwctl package install/list/show/remove, boot-time verification and activation, factory reset,
# unsigned and untrusted packages, secure boot with unlock tokens; every refusal changes nothing but its record.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

keypair k
keypair other
term() { "$PY" "$E2E/onterminal.py" 20 "$@"; }

# mkmod OUT NAME VERSION [mkwmopkg options]: a package of the tree tree-NAME (made by the caller), signed by k.
mkmod() {
	out=$1 name=$2 ver=$3
	shift 3
	"$B/mkwmopkg" -q -o "$out" -C "tree-$name" --version "$ver" --product RSP-30 --chunk-size 4096 "$@"
}
mktree() { # mktree NAME PATH...: one file per path, holding "NAME PATH"
	n=$1
	shift
	for p in "$@"; do
		mkdir -p "tree-$n/$(dirname "$p")"
		echo "$n $p" >"tree-$n/$p"
	done
}
mktree pn services/profinet.conf factory-config/startup.cfg
mkdir -p tree-pn/branding && randfile tree-pn/branding/logo.bin 20000
mkdir -p tree-pn/scripts
printf '#!/bin/sh\necho "activated $FWCTL_PACKAGE $FWCTL_PACKAGE_VERSION" >>"$FWCTL_ROOT/hook.log"\n' >tree-pn/scripts/on.sh
printf '#!/bin/sh\necho "deactivated $FWCTL_PACKAGE" >>"$FWCTL_ROOT/hook.log"\n' >tree-pn/scripts/off.sh
chmod 755 tree-pn/scripts/on.sh tree-pn/scripts/off.sh
mkmod pn.wmopkg pn 1.0.2 --description "Profinet on" --persistent-allowed --min-fw 5.22 \
	--hook activate=scripts/on.sh --hook deactivate=scripts/off.sh -k k.key
mkdir old
mkmod old/pn.wmopkg pn 1.0.1 --description "Profinet on (old)" --persistent-allowed -k k.key
mktree brand branding/acme.txt files/etc/motd
mkmod brand.wmopkg brand 2.0 --description "ACME branding" -k k.key
mktree clash services/profinet.conf
mkmod clash.wmopkg clash 1.0 -k k.key
mktree nopers files/x
mkmod nopers.wmopkg nopers 1.0 -k k.key
mktree future files/future
mkmod future.wmopkg future 1.0 --min-fw 6.0 -k k.key
mktree unsig files/unsigned.txt
mkdir signed
mkmod signed/unsig.wmopkg unsig 1.0 --description "unsigned fix" -k k.key
"$PY" "$E2E/craft.py" drop signed/unsig.wmopkg unsig.wmopkg \
	"$("$PY" "$E2E/craft.py" list signed/unsig.wmopkg | grep minisig)"
mktree alien files/alien.txt
mkmod alien.wmopkg alien 1.0 -k other.key
"$B/mkwmopkg" -q -o foreign.wmopkg -C tree-nopers --version 1.0 --product OTHER-9 -k k.key
mkdir renamed && cp brand.wmopkg renamed/acme.wmopkg
randfile pri.img 5000
"$B/mkpkg" -q -o fw.pkg --version 5.22.3 --product RSP-30 --pri pri.img -k k.key
cp fw.pkg fwpkg.wmopkg

dev=$T/dev
"$B/fwctl" --root "$dev" -q init --product RSP-30 --trust k.pub --version 5.22.2 --media stick="$T" >/dev/null
fw_before=$(cat "$dev"/slots/* "$dev"/records/* | sha256sum)
# The device as it is, but for the record of the last attempt (packages/last.json), which a refusal writes.
devsum() { (cd "$dev" && find . ! -path ./packages/last.json ! -name .lock -print | sort && \
	find . -type f ! -path ./packages/last.json ! -name .lock -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum; }
last() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"], d["message"])' "$dev/packages/last.json"; }
list_json() { "$B/fwctl" --root "${LROOT:-$dev}" package list --json; }
field() { # field NAME KEY: a package's KEY from package list --json
	list_json | "$PY" -c 'import json,sys; d={p["name"]: p for p in json.load(sys.stdin)["packages"]}; v=d.get(sys.argv[1], {}).get(sys.argv[2]); print(str(v).lower() if isinstance(v, bool) else v)' "$1" "$2"
}

# --- install, list, show: pending until a boot
expect 0 'installed pn 1.0.2 \(trusted\); it takes effect at the next boot' "$B/fwctl" --root "$dev" package install pn.wmopkg
expect 0 '' "$B/fwctl" --root "$dev" package list
grep -Eq '^NAME +VERSION +PERSISTENT +VERIFICATION +ACTIVE +DESCRIPTION$' "$T/.out" || fail "list header: $(cat "$T/.out")"
grep -Eq '^pn +1\.0\.2 +no +pending +no +Profinet on$' "$T/.out" || fail "list row: $(cat "$T/.out")"
[ ! -e "$dev/active" ] || fail "an install changed the active tree before a boot"
expect 0 '' "$B/fwctl" --root "$dev" package show pn
grep -Eq '^verification +pending$' "$T/.out" && grep -Eq '^signature +trusted$' "$T/.out" || fail "show: $(cat "$T/.out")"
expect 2 'no package "nope" is installed' "$B/fwctl" --root "$dev" package show nope
[ "$(last)" = "success installed pn 1.0.2 (trusted)" ] || fail "last.json: $(last)"
ok "install stores a verified package, pending until the next boot; list, show and the record say so"

# --- boot activates it: files in the active tree, the activate hook ran
expect 0 '' "$B/fwctl" --root "$dev" boot
grep -q '^packages: 1 of 1 active$' "$T/.out" || fail "boot: $(cat "$T/.out")"
[ "$(cat "$dev/active/services/profinet.conf")" = "pn services/profinet.conf" ] || fail "profinet.conf not active"
cmp -s "$dev/active/branding/logo.bin" tree-pn/branding/logo.bin || fail "logo.bin differs"
[ -x "$dev/active/scripts/pn/on.sh" ] || fail "hook script not in the tree under scripts/pn/"
[ "$(cat "$dev/hook.log")" = "activated pn 1.0.2" ] || fail "activate hook: $(cat "$dev/hook.log")"
[ "$(field pn verification)" = trusted ] && [ "$(field pn active)" = true ] || fail "after boot: $(list_json)"
ok "boot verifies and activates: files in ROOT/active, scripts apart per package, the activate hook ran"

# --- idempotent: boot after boot writes nothing and gives the same tree
before=$(devsum)
expect 0 '' "$B/fwctl" --root "$dev" boot
expect 0 '' "$B/fwctl" --root "$dev" boot
[ "$(devsum)" = "$before" ] || fail "a boot with the same packages changed the device"
[ "$(wc -l <"$dev/hook.log")" -eq 1 ] || fail "hooks ran again for an unchanged tree"
ok "boot after boot with the same packages changes nothing"

# --- refusals: exit code, message, nothing changed (only the record of the attempt)
refuse() { # refuse CODE PATTERN RESULT ARGS...: package install ARGS is refused and changes nothing
	code=$1 pattern=$2 result=$3
	shift 3
	before=$(devsum)
	expect "$code" "$pattern" "$B/fwctl" --root "$dev" package install "$@"
	[ "$(devsum)" = "$before" ] || fail "refused install $* changed the device"
	[ -z "$result" ] || last | grep -q "^$result " || fail "install $*: recorded $(last), expected $result"
	[ "$(cat "$dev"/slots/* "$dev"/records/* | sha256sum)" = "$fw_before" ] || fail "install $* touched a slot"
}
refuse 1 'package install: renamed/acme.wmopkg: package name "brand" does not match the file name "acme.wmopkg"' \
	fileNotMatch renamed/acme.wmopkg
refuse 1 'foreign.wmopkg: package foreign is for OTHER-9, not this device.s product RSP-30' '' foreign.wmopkg
refuse 1 "is a firmware package, not a modification package" fileNotMatch fwpkg.wmopkg
refuse 1 'future.wmopkg: incompatible firmware: package future needs firmware 6\.0 or later, not 5\.22\.2' \
	policyRefused future.wmopkg
refuse 1 'nopers.wmopkg: package nopers may not be installed persistent' policyRefused persistent nopers.wmopkg
refuse 1 'clash.wmopkg: conflicts with installed package pn: both write services/profinet.conf \(remove pn first\)' \
	policyRefused clash.wmopkg
refuse 2 '"brand.pkg" does not end in .wmopkg \(a package file is named NAME.wmopkg' '' brand.pkg
refuse 2 'package install: -: give the package.s file name with --name' '' -
refuse 3 'nothere.wmopkg: cannot open' systemError nothere.wmopkg
head -c 3000 brand.wmopkg >cut.wmopkg
mkdir -p cut && mv cut.wmopkg cut/brand.wmopkg
refuse 1 'cut/brand.wmopkg: ' fileCheckFailed cut/brand.wmopkg
# A trusted key's signature that fails: tampered manifest.
at=$("$PY" "$E2E/craft.py" offset brand.wmopkg manifest.json middle)
mkdir -p bad && "$PY" "$E2E/craft.py" flip brand.wmopkg bad/brand.wmopkg "$at"
refuse 1 'signature by trusted key' signatureFailed bad/brand.wmopkg
ok "refused, with the documented exit code and a message naming file and problem, nothing changed: renamed, another product, firmware package, firmware out of range, persistent not allowed, conflict, no .wmopkg name, stdin without --name, missing, truncated, tampered signature"

# --- network forms that are wrong before any server is asked (the transfers: test_fwctl_package_net.sh)
refuse 2 '"pn.pkg" does not end in .wmopkg \(a package file is named NAME.wmopkg' '' proto tftp 192.0.2.1 pn.pkg
refuse 2 'proto gopher: use ftp, tftp, scp, sftp, http or https' '' proto gopher 192.0.2.1 pn.wmopkg
refuse 2 'tftp takes no user name or password' '' proto tftp user joe 192.0.2.1 pn.wmopkg
refuse 2 'proto sftp, but the URI says ftp' '' proto sftp ftp://192.0.2.1/pn.wmopkg
refuse 2 'a password goes with a user' '' proto http password secret 192.0.2.1 pn.wmopkg
refuse 2 'user joe needs a password, and there is no terminal to ask on' '' proto ftp user joe 192.0.2.1 pn.wmopkg </dev/null
echo some-password >pw.txt
refuse 2 'no known_hosts file to check the server' '' --password-file pw.txt proto sftp user joe 192.0.2.1 pn.wmopkg
ok "network forms refused before a transfer: no .wmopkg name, unknown proto, a user for tftp, proto and URI disagreeing, a password without a user or a user without one, sftp without known_hosts"

# --- local forms: stdin with --name, media LABEL PATH, usb:// (not configured here: usage)
expect 0 'installed brand 2.0' "$B/fwctl" --root "$dev" package install - --name brand.wmopkg <brand.wmopkg
expect 0 'installed brand 2.0' "$B/fwctl" --root "$dev" package install media stick brand.wmopkg
refuse 2 'no medium labelled "external"' '' usb://brand.wmopkg
refuse 1 'renamed' '' - --name acme.wmopkg <brand.wmopkg
ok "install from stdin with --name, and from a medium; the name rule applies to --name too"

# --- an older version warns and replaces
expect 0 'warning: pn 1\.0\.1 is older than the installed 1\.0\.2' "$B/fwctl" --root "$dev" package install old/pn.wmopkg
[ "$(field pn version)" = 1.0.1 ] && [ "$(field pn verification)" = pending ] || fail "reinstall: $(list_json)"
[ "$(ls "$dev"/packages/pn-*.wmopkg | wc -l)" -eq 1 ] || fail "the replaced package's file stayed: $(ls "$dev/packages")"
expect 0 '' "$B/fwctl" --root "$dev" package install persistent pn.wmopkg
[ "$(field pn persistent)" = true ] || fail "persistent not recorded"
ok "re-installing replaces (an older version warns); persistent recorded"

# --- unsigned and untrusted: stored with a warning, not activated without allow-untrusted
expect 0 'warning: unsig is unsigned: stored, but activated only where the device allows untrusted packages' \
	"$B/fwctl" --root "$dev" package install unsig.wmopkg
expect 0 'warning: alien is signed by no key this device trusts' "$B/fwctl" --root "$dev" package install alien.wmopkg
expect 0 'package unsig: unsigned: not activated: the device does not allow untrusted packages' \
	"$B/fwctl" --root "$dev" boot
[ "$(field unsig verification)" = unsigned ] && [ "$(field unsig active)" = false ] || fail "unsig: $(list_json)"
[ "$(field alien verification)" = "untrusted key" ] && [ "$(field alien active)" = false ] || fail "alien: $(list_json)"
[ "$(field brand active)" = true ] && [ "$(field pn active)" = true ] || fail "trusted ones: $(list_json)"
[ ! -e "$dev/active/files/unsigned.txt" ] && [ ! -e "$dev/active/files/alien.txt" ] || fail "untrusted files active"
grep -q "deactivated pn" "$dev/hook.log" && fail "pn was deactivated though it stayed"
ok "unsigned and untrusted-key packages: stored with a warning, listed as such, not activated"

# --- the same on a device that allows untrusted packages: active
dev2=$T/dev2
"$B/fwctl" --root "$dev2" -q init --product RSP-30 --trust k.pub --version 5.22.2 --allow-untrusted >/dev/null
expect 0 '' "$B/fwctl" --root "$dev2" package install unsig.wmopkg
expect 0 '' "$B/fwctl" --root "$dev2" boot
grep -q 'packages: 1 of 1 active' "$T/.out" || fail "dev2 boot: $(cat "$T/.out")"
[ -e "$dev2/active/files/unsigned.txt" ] || fail "unsigned package not active with allow-untrusted"
ok "allow-untrusted: an unsigned package is activated"

# --- allow-untrusted changed later (the field's boot configuration), not only at init: takes effect at the next boot
expect 0 'config: allow-untrusted set' "$B/fwctl" --root "$dev2" config allow-untrusted no
expect 0 'package unsig: unsigned: not activated: the device does not allow untrusted packages' "$B/fwctl" --root "$dev2" boot
[ ! -e "$dev2/active/files/unsigned.txt" ] || fail "unsigned package still active after config allow-untrusted no"
expect 0 '' "$B/fwctl" --root "$dev" config allow-untrusted yes
expect 0 '' "$B/fwctl" --root "$dev" boot
[ "$(field unsig active)" = true ] && [ -e "$dev/active/files/unsigned.txt" ] || fail "unsig after allow-untrusted yes: $(list_json)"
expect 0 '' "$B/fwctl" --root "$dev" config allow-untrusted no
expect 0 '' "$B/fwctl" --root "$dev" boot
[ "$(field unsig active)" = false ] || fail "unsig stayed active after allow-untrusted no: $(list_json)"
ok "config allow-untrusted yes|no after init: the next boot activates or deactivates the unsigned package"

# --- secure boot: allow-untrusted is not enough; an unlock token for this device is
sb=$T/sb
"$B/fwctl" --root "$sb" -q init --product RSP-30 --trust k.pub --version 5.22.2 --allow-untrusted --secure-boot \
	--device-id SN-0042 >/dev/null
expect 0 '' "$B/fwctl" --root "$sb" package install unsig.wmopkg
expect 0 'secure boot needs a valid unlock token for this device \(none installed\)' "$B/fwctl" --root "$sb" boot
[ ! -e "$sb/active/files/unsigned.txt" ] || fail "secure boot activated an unsigned package without a token"
expect 0 '' "$B/fwpkg" unlock-token --device SN-0099 --expires 2099-01-01 -k k.key -o other-dev.token
# The host refuses a token that is dead on arrival (nothing written); one made in 2019 has expired by now.
expect 2 'unlock-token: --expires 2020-01-01 is not in the future: no device would accept this token' \
	"$B/fwpkg" unlock-token --device SN-0042 --expires 2020-01-01 -k k.key -o expired.token
[ ! -e expired.token ] || fail "a refused unlock token was written"
FWPKG_NOW=1559347200 expect 0 '' "$B/fwpkg" unlock-token --device SN-0042 --expires 2020-01-01 -k k.key -o expired.token
expect 0 '' "$B/fwpkg" unlock-token --device SN-0042 --expires 2099-01-01 -k other.key -o untrusted.token
expect 0 '' "$B/fwpkg" unlock-token --device SN-0042 --expires 2099-01-01T12:00:00Z -k k.key -o good.token
expect 2 'expected YYYY-MM-DD' "$B/fwpkg" unlock-token --device SN-0042 --expires tomorrow -k k.key -o x.token
sbsum() { (cd "$sb" && find . -type f ! -name .lock -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }
before=$(sbsum)
expect 1 'other-dev.token: unlock token is for device SN-0099, not this device \(SN-0042\)' \
	"$B/fwctl" --root "$sb" unlock install other-dev.token
expect 1 'expired.token: unlock token expired' "$B/fwctl" --root "$sb" unlock install expired.token
expect 1 'untrusted.token: unlock token: signed by [0-9A-F]{16}, which is not trusted' \
	"$B/fwctl" --root "$sb" unlock install untrusted.token
sed 's/SN-0042/SN-0043/' good.token >forged.token
expect 1 'forged.token: ' "$B/fwctl" --root "$sb" unlock install forged.token
[ "$(sbsum)" = "$before" ] || fail "a refused token changed the device"
expect 0 '' "$B/fwctl" --root "$sb" status
grep -Eq '^unlock token +none$' "$T/.out" || fail "status before the token: $(cat "$T/.out")"
expect 0 'installed a token for device SN-0042' "$B/fwctl" --root "$sb" unlock install good.token
# From a pipe the token is read once: what was checked is what is kept; a refused one leaves the valid one.
before=$(sbsum)
expect 1 'unlock token is for device SN-0099' sh -c "cat other-dev.token | \"$B/fwctl\" --root \"$sb\" unlock install -"
expect 1 'not an unlock token' sh -c ": | \"$B/fwctl\" --root \"$sb\" unlock install /dev/stdin"
[ "$(sbsum)" = "$before" ] || fail "a refused token from a pipe changed the device"
cmp good.token "$sb/unlock-token.json" || fail "the valid token was replaced"
expect 0 'installed a token for device SN-0042' sh -c "cat good.token | \"$B/fwctl\" --root \"$sb\" unlock install -"
cmp good.token "$sb/unlock-token.json" || fail "a token from a pipe was not stored as it came"
expect 0 'installed a token for device SN-0042' sh -c "cat good.token | \"$B/fwctl\" --root \"$sb\" unlock install /dev/stdin"
cmp good.token "$sb/unlock-token.json" || fail "a token from /dev/stdin was not stored as it came"
expect 0 '' "$B/fwctl" --root "$sb" status
grep -Eq '^unlock token +valid until 2099-01-01T12:00:00Z' "$T/.out" || fail "status: $(cat "$T/.out")"
expect 0 '' "$B/fwctl" --root "$sb" boot
grep -q 'packages: 1 of 1 active' "$T/.out" || fail "sb boot with token: $(cat "$T/.out")"
[ -e "$sb/active/files/unsigned.txt" ] || fail "the unlock token did not activate the unsigned package"
"$B/fwctl" --root "$sb" status --json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); t=d["unlock_token"]; assert d["secure_boot"] and t["valid"] and t["device"]=="SN-0042", d' ||
	fail "status --json unlock_token"
ok "secure boot: no token, another device's, an expired one, an untrusted signer's, a forged one refused; a valid one activates unsigned packages; status shows it"

# --- the trust policy holds for unlock tokens: under min_signatures 2, a token by one key (or by one key twice) is
# refused and activates nothing; one by two keys is accepted
sb2=$T/sb2
printf '{"min_signatures": 2}\n' >policy2.json
"$B/fwctl" --root "$sb2" -q init --product RSP-30 --trust k.pub --trust other.pub --trust policy2.json --version 5.22.2 \
	--allow-untrusted --secure-boot --device-id SN-0042 >/dev/null
expect 0 '' "$B/fwctl" --root "$sb2" package install unsig.wmopkg
expect 0 '' "$B/fwpkg" unlock-token --device SN-0042 --expires 2099-01-01 -k k.key -k other.key -o two.token
expect 0 '' "$B/fwpkg" unlock-token --device SN-0042 --expires 2099-01-01 -k k.key -k k.key -o twice.token
sb2sum() { (cd "$sb2" && find . -type f ! -name .lock -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }
before=$(sb2sum)
expect 1 'good.token: unlock token: too few signatures by trusted keys: have 1, need 2' \
	"$B/fwctl" --root "$sb2" unlock install good.token
expect 1 'twice.token: unlock token: too few signatures by trusted keys: have 1, need 2' \
	"$B/fwctl" --root "$sb2" unlock install twice.token
[ "$(sb2sum)" = "$before" ] || fail "a token by one key of two changed the device"
expect 0 'secure boot needs a valid unlock token for this device \(none installed\)' "$B/fwctl" --root "$sb2" boot
[ ! -e "$sb2/active/files/unsigned.txt" ] || fail "an unsigned package activated without a token meeting the policy"
expect 0 'installed a token for device SN-0042' "$B/fwctl" --root "$sb2" unlock install two.token
expect 0 '' "$B/fwctl" --root "$sb2" boot
[ -e "$sb2/active/files/unsigned.txt" ] || fail "a token by two keys did not activate the unsigned package"
ok "policy min_signatures 2: an unlock token by one key, or one key twice, refused, nothing activated; by two keys accepted"

# --- a tampered installed package is found at boot; the others stay active
f=$(ls "$dev"/packages/brand-*.wmopkg)
at=$("$PY" "$E2E/craft.py" offset "$f" file-0001 middle)
"$PY" "$E2E/craft.py" flip "$f" "$T/flipped" "$at"
cp "$T/flipped" "$f"
expect 0 'package brand: failed: .*(chunk|SHA-256)' "$B/fwctl" --root "$dev" boot
[ "$(field brand verification)" = failed ] && [ "$(field brand active)" = false ] || fail "tampered: $(list_json)"
[ "$(field pn active)" = true ] || fail "pn not active after another package failed"
[ ! -e "$dev/active/branding/acme.txt" ] || fail "the tampered package's files stayed active"
[ -e "$dev/active/services/profinet.conf" ] || fail "pn's files left the tree"
ok "a tampered installed package fails at boot and leaves the tree; the others stay active"

# --- hooks that fail or hang: the package stays out, all or nothing; the boot goes on
dev3=$T/dev3
"$B/fwctl" --root "$dev3" -q init --product RSP-30 --trust k.pub --version 5.22.2 --package-hook-timeout 1 >/dev/null
mktree badhook files/badhook.txt
mkdir -p tree-badhook/scripts && printf '#!/bin/sh\nexit 3\n' >tree-badhook/scripts/on.sh && chmod 755 tree-badhook/scripts/on.sh
mkmod badhook.wmopkg badhook 1.0 --hook activate=scripts/on.sh -k k.key
mktree slow files/slow.txt
mkdir -p tree-slow/scripts && printf '#!/bin/sh\nsleep 30\n' >tree-slow/scripts/on.sh && chmod 755 tree-slow/scripts/on.sh
mkmod slow.wmopkg slow 1.0 --hook activate=scripts/on.sh -k k.key
for p in badhook slow brand; do expect 0 '' "$B/fwctl" --root "$dev3" package install $p.wmopkg; done
start=$(date +%s)
expect 0 'package badhook: not activated: activate hook failed \(exit 3\)' "$B/fwctl" --root "$dev3" boot
grep -q 'package slow: not activated: activate hook timed out after 1 s' "$T/.err" || fail "timeout: $(cat "$T/.err")"
[ $(($(date +%s) - start)) -lt 10 ] || fail "the hung hook held the boot"
[ ! -e "$dev3/active/files/badhook.txt" ] && [ ! -e "$dev3/active/files/slow.txt" ] && [ ! -d "$dev3/active/scripts/slow" ] ||
	fail "a failed package's files stayed: $(find "$dev3/active")"
[ -e "$dev3/active/files/etc/motd" ] || fail "brand not active"
for p in badhook slow; do [ "$(LROOT=$dev3 field $p verification)" = failed ] || fail "$p not failed"; done
ok "an activate hook that fails or outlives its timeout leaves its package out, files and all; others activate"

# --- remove: a name; all asks y/N on a terminal; without one it needs -y
expect 2 'no package "nope" is installed' "$B/fwctl" --root "$dev" package remove nope
expect 2 'asks y/N on a terminal; without one, give -y' "$B/fwctl" --root "$dev" package remove </dev/null
before=$(devsum)
term 'remove every installed package\? \[y/N\]' n -- "$B/fwctl" --root "$dev" package remove all >term.out ||
	fail "remove all, n: $(cat term.out)"
[ "$(devsum)" = "$before" ] || fail "remove all answered n changed the device"
# remove NAME asks on a terminal too (the field's "Remove package pkgname (y/N)?"): n keeps it, y removes it
term 'remove package brand\? \[y/N\]' n -- "$B/fwctl" --root "$dev" package remove brand >term.out ||
	fail "remove brand, n: $(cat term.out)"
grep -q 'nothing removed' term.out || fail "remove brand, n: $(cat term.out)"
[ "$(devsum)" = "$before" ] || fail "remove brand answered n changed the device"
# Ctrl-C at the question stops it, as it would any program: a "y" typed after it removes nothing (it did, the
# cancel handler only noting the stop while the read went on), for a name and for all; fwctl dies of SIGINT.
for words in "remove brand" "remove all"; do
	rc=0
	# shellcheck disable=SC2086
	term 'remove (package brand|every installed package)\? \[y/N\]' "$(printf '\003')y" -- "$B/fwctl" --root "$dev" package $words >term.out || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 125 ] || fail "package $words, Ctrl-C then y: exit $rc: $(cat term.out)"
	! grep -q 'removed' term.out || fail "package $words, Ctrl-C then y: $(cat term.out)"
	[ "$(devsum)" = "$before" ] || fail "package $words: Ctrl-C at the question changed the device"
done
term 'remove package brand\? \[y/N\]' y -- "$B/fwctl" --root "$dev" package remove brand >term.out ||
	fail "remove brand, y: $(cat term.out)"
grep -q 'removed 1 package; its files go at the next boot' term.out || fail "remove brand, y: $(cat term.out)"
[ "$(field brand name)" = None ] || fail "brand still listed after y: $(list_json)"
# -y on a terminal asks nothing; without a terminal a name is removed without a question
expect 0 '' "$B/fwctl" --root "$dev" package install brand.wmopkg
"$PY" -c 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)' "$B/fwctl" --root "$dev" package remove -y brand >term.out ||
	fail "remove -y brand on a terminal: $(cat term.out)"
grep -q '\[y/N\]' term.out && fail "remove -y asked: $(cat term.out)"
grep -q 'removed 1 package' term.out || fail "remove -y brand on a terminal: $(cat term.out)"
expect 0 '' "$B/fwctl" --root "$dev" package install brand.wmopkg
expect 0 'removed 1 package; its files go at the next boot' "$B/fwctl" --root "$dev" package remove brand </dev/null
[ -z "$(ls "$dev"/packages/brand-* 2>/dev/null)" ] || fail "brand's file stayed"
expect 0 '' "$B/fwctl" --root "$dev" boot
[ "$(field brand name)" = None ] || fail "brand still listed"
ok "remove NAME asks y/N on a terminal (n keeps, y removes, -y asks nothing; no terminal: removed); remove all answered n changes nothing; without a terminal it needs -y"

# --- factory reset keeps the persistent package
mkdir -p "$dev/running-config" && echo "hostname x" >"$dev/running-config/startup"
expect 2 'without one, give -y' "$B/fwctl" --root "$dev" factory-reset </dev/null
expect 0 'removed 2 packages, kept 1 persistent' "$B/fwctl" --root "$dev" factory-reset -y
[ ! -e "$dev/running-config" ] || fail "factory reset kept the running configuration"
[ "$(list_json | "$PY" -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["packages"]))')" = pn ] ||
	fail "after factory reset: $(list_json)"
expect 0 '' "$B/fwctl" --root "$dev" boot
[ "$(field pn active)" = true ] && [ -e "$dev/active/services/profinet.conf" ] || fail "pn not active after reset+boot"
[ ! -e "$dev/active/files/unsigned.txt" ] || fail "a removed package's files stayed active"
ok "factory-reset removes configuration and non-persistent packages; the persistent one is active after boot"

# --- remove all, answered y on a terminal; the deactivate hook runs at the boot that removes it
term 'remove every installed package\? \[y/N\]' y -- "$B/fwctl" --root "$dev" package remove >term.out ||
	fail "remove all, y: $(cat term.out)"
grep -q 'removed 1 package' term.out || fail "remove all, y: $(cat term.out)"
expect 0 '' "$B/fwctl" --root "$dev" boot
grep -q '^deactivated pn$' "$dev/hook.log" || fail "deactivate hook did not run: $(cat "$dev/hook.log")"
[ -z "$(find "$dev/active/" -type f)" ] || fail "files stayed active after remove all: $(find "$dev/active/")"
[ -z "$(ls "$dev/packages" | grep wmopkg)" ] || fail "package files stayed: $(ls "$dev/packages")"
[ "$(cat "$dev"/slots/* "$dev"/records/* | sha256sum)" = "$fw_before" ] || fail "packages touched the firmware slots"
ok "remove all answered y; the next boot runs the deactivate hook and empties the tree; slots never touched"
