#!/bin/sh
# test_fwctl_cms: a device whose trust store holds a CA certificate and CRLs (fwctl init --trust) installs CMS-signed firmware.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/pki.sh"

D=$T/dev
slotsum() { { treesum "$D/slots"; treesum "$D/records"; } | sha256sum; }
last_result() { "$B/fwctl" --root "$D" status --json | "$PY" -c "import json,sys; print(json.load(sys.stdin)['last_upgrade']['result'])"; }
pkg() {
	o=$1 v=$2
	shift 2
	for s in pri sec boot; do [ -f "$s-$v.img" ] || { echo "$s $v"; head -c 9000 /dev/urandom; } >"$s-$v.img"; done
	"$B/mkpkg" -q -o "$o" --version "$v" --product WX --chunk-size 4096 \
		--pri "pri-$v.img" --sec "sec-$v.img" --boot "boot-$v.img" "$@"
}

pki_make
keypair k

init_checks() {
	expect 2 'leaf.crt: certificate "CN=Firmware Signer" is not a CA certificate' \
		"$B/fwctl" --root "$T/bad1" init --product WX --trust leaf.crt
	expect 2 'README: not a minisign public key, a PEM CA certificate, a CRL or a policy' \
		sh -c "echo hello >README && '$B/fwctl' --root '$T/bad2' init --product WX --trust README"
	[ ! -e "$T/bad1" ] && [ ! -e "$T/bad2" ] || fail "a refused init left a directory"
	expect 0 '' fw init --product WX --trust root.crt --trust inter.crl --trust root.crl --trust k.pub --version 5.20.0
	ls "$D/trust" >trust.list
	[ "$(grep -c '\.crt$' trust.list)" -eq 1 ] && [ "$(grep -c '\.crl$' trust.list)" -eq 2 ] &&
		[ "$(grep -c '\.pub$' trust.list)" -eq 1 ] || fail "trust store holds: $(cat trust.list)"
}
pkg_check "fwctl init --trust takes CA certificates and CRLs beside minisign keys, checked by the same code" init_checks

install_cms() {
	pkg good.pkg 5.21.0 -k leaf.key --cert leaf.crt --intermediate inter.crt
	expect 0 '' fw upgrade all good.pkg
	[ "$(last_result)" = success ] || fail "last upgrade: $(last_result)"
}
pkg_check "a CMS-signed package under the trusted root installs" install_cms

refusals() {
	for c in revoked:'"CN=Revoked Signer": certificate revoked' expired:'"CN=Expired Signer": certificate has expired' \
		 stranger:'no signature by a trusted key .*"CN=Stranger Signer"'; do
		name=${c%%:*} why=${c#*:}
		pkg "$name.pkg" 5.22.0 -k "$name.key" --cert "$name.crt" --intermediate inter.crt
		before=$(slotsum)
		expect 1 "$why" fw upgrade all "$name.pkg"
		[ "$(slotsum)" = "$before" ] || fail "refused $name.pkg changed slots or records"
		[ "$(last_result)" = signatureFailed ] || fail "$name.pkg recorded $(last_result)"
	done
}
pkg_check "revoked, expired and unknown-CA signers are refused with the certificate and reason; nothing changes" refusals

packages() {
	mkdir -p tree/files tree2/files
	echo on >tree/files/profinet.conf
	echo other >tree2/files/other.conf
	"$B/mkwmopkg" -q -o profinet.wmopkg -C tree --version 1.0 --product WX -k leaf.key --cert leaf.crt \
		--intermediate inter.crt
	"$B/mkwmopkg" -q -o stranger.wmopkg -C tree2 --version 1.0 --product WX -k stranger.key --cert stranger.crt
	expect 0 'installed profinet 1.0 \(trusted\)' fw package install profinet.wmopkg
	expect 0 'stranger is signed by no key this device trusts' fw package install stranger.wmopkg
	expect 0 'package stranger: untrusted key: not activated' fw boot
	expect 0 '' fw package list
	grep -Eq '^profinet +1\.0 +no +trusted +yes' "$T/.out" || fail "profinet: $(cat "$T/.out")"
	grep -Eq '^stranger +1\.0 +no +untrusted key +no' "$T/.out" || fail "stranger: $(cat "$T/.out")"
}
pkg_check "modification packages under the trusted CA install and activate; one under another CA does not verify" packages

policy() {
	D2=$T/dev2
	printf '{"min_signatures": 2, "check_time": false}\n' >policy.json
	printf '{"min_signatures": 9}\n' >bad.json
	printf '{"min_signature": 2}\n' >typo.json
	expect 2 'bad.json: min_signatures: expected 1..8' "$B/fwctl" --root "$D2" init --product WX --trust root.crt --trust bad.json
	expect 2 'typo.json: unknown key "min_signature"' "$B/fwctl" --root "$D2" init --product WX --trust root.crt --trust typo.json
	[ ! -e "$D2" ] || fail "a refused init left $D2"
	expect 0 '' "$B/fwctl" --root "$D2" init --product WX --trust root.crt --trust k.pub --trust policy.json --version 5.20.0
	cmp policy.json "$D2/trust/policy.json" || fail "policy not in the trust store"
	pkg one.pkg 5.21.0 -k leaf.key --cert leaf.crt --intermediate inter.crt
	before=$({ treesum "$D2/slots"; treesum "$D2/records"; } | sha256sum)
	expect 1 'too few signatures by trusted keys: have 1, need 2' "$B/fwctl" --root "$D2" upgrade all one.pkg
	[ "$({ treesum "$D2/slots"; treesum "$D2/records"; } | sha256sum)" = "$before" ] || fail "refused upgrade changed the device"
	pkg two.pkg 5.21.0 -k leaf.key --cert leaf.crt --intermediate inter.crt -k k.key
	expect 0 '' "$B/fwctl" --root "$D2" upgrade all two.pkg
	# check_time false (no trustworthy clock): an expired signer counts.
	pkg exp.pkg 5.22.0 -k expired.key --cert expired.crt --intermediate inter.crt -k k.key
	expect 0 '' "$B/fwctl" --root "$D2" upgrade all exp.pkg
}
pkg_check "a trust store policy (fwctl init --trust policy.json): distinct keys needed, no time check; bad policies refused" policy

pkg_done
