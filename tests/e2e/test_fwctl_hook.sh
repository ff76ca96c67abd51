#!/bin/sh
# test_fwctl_hook: the security-unpack hook decrypts, refuses, fails, hangs or emits garbage; only verified bytes install.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

D=$T/dev
devsum() { (cd "$D" && find slots records -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }

keypair k
randfile pri.img 30000
"$B/mkpkg" -q -o fw.pkg --version 5.21.0 --product WX --chunk-size 4096 --pri pri.img -k k.key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >secret
openssl enc -aes-256-cbc -pbkdf2 -pass "file:$T/secret" -in fw.pkg -out fw.pkg.enc
hook() { # hook NAME BODY: an executable hook script
	printf '#!/bin/sh\n%s\n' "$2" >"$T/$1"
	chmod 755 "$T/$1"
}
hook decrypt "exec openssl enc -d -aes-256-cbc -pbkdf2 -pass file:$T/secret"
hook refuse 'cat >/dev/null; echo "scanner: EICAR test signature found" >&2; exit 1'
hook fail3 'cat >/dev/null; echo "key store unavailable" >&2; exit 3'
hook hang 'sleep 100; cat'   # not exec: the shell's child must be stopped too
hook garbage 'cat >/dev/null; head -c 50000 /dev/urandom'

"$B/fwctl" --root "$D" -q init --product WX --trust k.pub --version 5.20.0 --unpack-hook "$T/decrypt" >/dev/null
expect 0 'upgrade: pri 5.21.0: success' fw upgrade pri fw.pkg.enc
[ "$(js "d['slots']['pri']['version'], d['last_upgrade']['result']")" = "5.21.0 success" ] || fail "$(js d)"
ok "a hook that decrypts an encrypted package: installed, verified like any package"

# refusals: exit code, result, message, the hook's stderr kept, nothing changed
refused() { # refused HOOK CODE RESULT PATTERN
	expect 0 '' fw config unpack-hook "$T/$1"
	before=$(devsum)
	expect "$2" "$4" timeout 30 "$B/fwctl" --root "$D" upgrade force pri fw.pkg.enc
	[ "$(js "d['last_upgrade']['result']")" = "$3" ] || fail "$1: $(js "d['last_upgrade']")"
	[ "$(devsum)" = "$before" ] || fail "$1: the refused upgrade changed the device"
}
refused refuse 1 securityViolation 'refused the package \(exit 1: security violation\): scanner: EICAR test signature found'
[ "$(js "d['last_upgrade']['hook_stderr']")" = "scanner: EICAR test signature found" ] || fail "$(js "d['last_upgrade']")"
ok "a hook that exits 1: refused as a security violation, its stderr recorded, nothing changed"
refused fail3 1 upgradeCancelled 'the unpack hook exited 3: upgrade cancelled: key store unavailable'
ok "a hook that exits 3: upgrade cancelled, nothing changed"
expect 0 '' fw config hook-timeout 2
start=$(date +%s)
refused hang 1 upgradeCancelled 'did not finish within 2 s: stopped'
[ $(($(date +%s) - start)) -lt 15 ] || fail "the hanging hook was not stopped in time"
expect 0 '' fw status
ok "a hook that hangs: stopped after its timeout, upgrade cancelled, the device lock free again"
refused garbage 1 fileCheckFailed 'fw.pkg.enc: '
ok "a hook that emits garbage: the reader rejects it (fileCheckFailed), nothing changed"

# --- what the hook starts ends with it: a child that left the hook's process group (setsid) and holds its
# stdout and stderr is killed DEV_HOOK_GRACE (2 s) after the hook ends, or at once when the hook is stopped at
# its timeout; so the upgrade, and the device lock, end within hook-timeout plus the grace. Three hooks: one
# that decrypts (installed), one that writes nothing (refused), one that hangs (stopped).
linger="setsid sh -c 'echo \$\$ >$T/linger.pid; exec sleep 60' &"
hook linger_ok "$linger exec openssl enc -d -aes-256-cbc -pbkdf2 -pass file:$T/secret"
hook linger_empty "$linger cat >/dev/null; exit 0"
hook linger_hang "$linger sleep 100"
lingers() { # lingers HOOK CODE RESULT PATTERN
	rm -f linger.pid
	expect 0 '' fw config unpack-hook "$T/$1"
	before=$(devsum)
	start=$(date +%s)
	expect "$2" "$4" timeout 30 "$B/fwctl" --root "$D" upgrade force pri fw.pkg.enc
	took=$(($(date +%s) - start))
	[ "$took" -le 7 ] || fail "$1: the upgrade took $took s (hook-timeout 2 s, grace 2 s)"
	[ -s linger.pid ] || fail "$1: the hook's child never ran"
	! kill -0 "$(cat linger.pid)" 2>/dev/null || fail "$1: the hook's child outlived the upgrade"
	[ "$(js "d['last_upgrade']['result']")" = "$3" ] || fail "$1: $(js "d['last_upgrade']")"
	[ "$3" = success ] || [ "$(devsum)" = "$before" ] || fail "$1: the refused upgrade changed the device"
	expect 0 '' timeout 5 "$B/fwctl" --root "$D" status
}
lingers linger_ok 0 success 'upgrade: pri 5.21.0: success'
lingers linger_empty 1 fileCheckFailed 'fw.pkg.enc: '
lingers linger_hang 1 upgradeCancelled 'did not finish within 2 s: stopped'
ok "a hook's child that left its process group and holds its pipes: killed after the grace (or at the timeout), the result recorded, the lock free"

# --- package install comes in through the same intake as upgrade: the hook runs on it too. One that refuses
# everything stops it as it stops upgrade (exit 1, securityViolation, its stderr in the message, nothing
# stored); one that decrypts lets an encrypted .wmopkg in, and what is stored is the clear package it verified.
mkdir -p tree-mod/files
echo "mod files/x.txt" >tree-mod/files/x.txt
"$B/mkwmopkg" -q -o mod.wmopkg -C tree-mod --version 1.0 --product WX --chunk-size 4096 -k k.key
mkdir enc
openssl enc -aes-256-cbc -pbkdf2 -pass "file:$T/secret" -in mod.wmopkg -out enc/mod.wmopkg
pkgsum() { (cd "$D" && find . ! -path ./packages/last.json ! -name .lock -print | sort &&
	find . -type f ! -path ./packages/last.json ! -name .lock ! -name state.json -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum; }
pkglast() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"])' "$D/packages/last.json"; }
expect 0 '' fw config unpack-hook "$T/refuse"
before=$(pkgsum)
expect 1 'package install: .*mod.wmopkg: the unpack hook refused the package \(exit 1: security violation\): scanner: EICAR test signature found' \
	timeout 30 "$B/fwctl" --root "$D" package install mod.wmopkg
[ "$(pkglast)" = securityViolation ] || fail "last.json: $(cat "$D/packages/last.json")"
[ "$(pkgsum)" = "$before" ] || fail "a package the hook refused changed the device"
expect 0 '' fw config unpack-hook "$T/fail3"
before=$(pkgsum)
expect 1 'the unpack hook exited 3: package install cancelled: key store unavailable' \
	timeout 30 "$B/fwctl" --root "$D" package install mod.wmopkg
[ "$(pkglast)" = upgradeCancelled ] || fail "last.json: $(cat "$D/packages/last.json")"
[ "$(pkgsum)" = "$before" ] || fail "a package install the hook cancelled changed the device"
ok "package install: a hook that refuses everything stops it as it stops upgrade (securityViolation), one that fails cancels it; nothing stored"
expect 0 '' fw config unpack-hook "$T/decrypt"
expect 0 'installed mod 1.0 \(trusted\)' "$B/fwctl" --root "$D" package install enc/mod.wmopkg
cmp -s "$(ls "$D"/packages/mod-*.wmopkg)" mod.wmopkg || fail "the stored package is not the clear one the hook gave"
ok "package install: a hook that decrypts lets an encrypted package in; the clear, verified package is stored"

expect 2 'unpack hook relative: give an absolute path' fw config unpack-hook relative
expect 2 'not an executable file' fw config unpack-hook "$T/secret"
expect 0 '' fw config unpack-hook none
expect 0 '' fw config
grep -q '^unpack-hook *none' "$T/.out" || fail "$(cat "$T/.out")"
expect 0 '' fw upgrade force pri fw.pkg
ok "config: the hook is changed or removed later; a bad path is refused; without a hook plain packages install"

# The configuration is JSON: a path that is not UTF-8 is refused up front, naming it (not "out of memory").
latin1=$(printf "$T/h\\377ook")
cp "$T/secret" "$latin1" 2>/dev/null || printf '#!/bin/sh\ncat\n' >"$latin1"
chmod +x "$latin1"
cp "$D/config.json" config.before
expect 2 'unpack hook .*/h\\xffook: not a UTF-8 path' fw config unpack-hook "$latin1"
expect 2 'CA file .*/h\\xffook: not a UTF-8 path' fw config ca-file "$latin1"
cmp -s config.before "$D/config.json" || fail "a refused setting changed config.json"
expect 2 'unpack hook .*/h\\xffook: not a UTF-8 path' "$B/fwctl" --root "$T/other" init --product WX --trust k.pub --unpack-hook "$latin1"
expect 2 'media directory /m\\xff: not a UTF-8 path' "$B/fwctl" --root "$T/other" init --product WX --trust k.pub --media "$(printf 'U=/m\377')"
expect 2 '\-\-slot /s\\xff: not a UTF-8 path' "$B/fwctl" --root "$T/other" init --product WX --trust k.pub --slot "$(printf 'pri=/s\377')"
[ ! -e "$T/other" ] || fail "a refused init left $T/other"
ok "config and init: a path that is not UTF-8 is refused with exit 2 and a message naming it; nothing written"
