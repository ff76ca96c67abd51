#!/bin/sh
# test_sign_offline: --export-manifest / --attach with stock minisign and openssl cms; the policy counts distinct keys.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/pki.sh"

pki_make
randfile pri.img 200000
keypair k
keypair k2
"$B/mkpkg" -q -o fw.pkg --version 5.1.0 --product P1 --chunk-size 65536 --pri pri.img -k k.key
KEYID=$(pkg_craft list fw.pkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
"$B/mkpkg" -q -o other.pkg --version 5.1.1 --product P1 --pri pri.img -k k.key

# payloads PKG: the bytes from the first chunk list on.
payloads() { tail -c +$(($(pkg_craft offset "$1" P1-pri.img.chunks header) + 1)) "$1"; }

export_manifest() {
	expect 0 'wrote m.json' "$B/fwpkg" sign --export-manifest m.json fw.pkg
	tar -xOf fw.pkg manifest.json | cmp - m.json || fail "exported bytes differ from manifest.json"
	expect 0 '' "$B/fwpkg" sign --export-manifest - fw.pkg
	cmp "$T/.out" m.json || fail "--export-manifest - differs"
	expect 2 'm.json: already exists' "$B/fwpkg" sign --export-manifest m.json fw.pkg
	expect 0 '' "$B/fwpkg" sign -f --export-manifest m.json fw.pkg
	expect 2 'export-manifest takes no keys' "$B/fwpkg" sign --export-manifest x.json -k k2.key fw.pkg
	[ ! -e x.json ] || fail "x.json made by a refused command"
	expect 3 'no-such.pkg' "$B/fwpkg" sign --export-manifest x.json no-such.pkg
	printf 'junk' >junk.pkg
	expect 1 'junk.pkg' "$B/fwpkg" sign --export-manifest x.json junk.pkg
	[ ! -e x.json ] || fail "x.json made from a broken package"
}
pkg_check "--export-manifest writes manifest.json's exact bytes (file or stdout); refuses to overwrite; bad packages" export_manifest

attach_minisign() {
	"$B/fwpkg" sign -q -f --export-manifest m.json fw.pkg
	cp fw.pkg a.pkg
	payloads a.pkg >before
	minisign -S -s k2.key -m m.json -x m.minisig -t "signed offline" </dev/null >/dev/null
	K2ID=$(sed -n 's/^untrusted comment: .* \([0-9A-F]\{16\}\)$/\1/p' k2.pub)
	expect 2 "m.minisig: minisign signature by key $K2ID: give its public key \\(-p PUB\\)" \
		"$B/fwpkg" sign --attach m.minisig a.pkg
	expect 2 "minisign signature by key $K2ID" "$B/fwpkg" sign --attach m.minisig -p k.pub a.pkg
	cmp a.pkg fw.pkg || fail "a refused --attach changed the package"
	expect 0 '' "$B/fwpkg" sign -q --attach m.minisig -p k2.pub a.pkg
	payloads a.pkg | cmp - before || fail "--attach changed payload bytes"
	expect 0 '' "$B/fwpkg" verify -p k.pub -p k2.pub --min-signatures 2 a.pkg
	expect 0 '' "$B/fwpkg" inspect a.pkg
	grep -q "$K2ID.*signed offline" "$T/.out" || fail "attached signature not shown: $(cat "$T/.out")"
}
pkg_check "--attach a signature made by stock minisign -S over the exported manifest; checked with -p first" attach_minisign

attach_cms() {
	"$B/fwpkg" sign -q -f --export-manifest m.json fw.pkg
	cp fw.pkg c.pkg
	payloads c.pkg >before
	openssl cms -sign -binary -nosmimecap -outform DER -md sha256 -in m.json -signer leaf.crt -inkey leaf.key \
		-certfile inter.crt -out m.cms
	openssl cms -sign -binary -nosmimecap -outform PEM -md sha256 -in m.json -signer leaf2.crt -inkey leaf2.key \
		-certfile inter.crt -out m2.pem
	expect 0 '' "$B/fwpkg" sign -q --attach m.cms --attach m2.pem c.pkg
	payloads c.pkg | cmp - before || fail "--attach changed payload bytes"
	expect 0 '' "$B/fwpkg" verify --ca root.crt -p k.pub --min-signatures 3 c.pkg
	[ "$(pkg_craft list c.pkg | grep -c '\.cms$')" -eq 2 ] || fail "expected two .cms entries"
	# The PEM one is stored as DER that stock openssl verifies.
	tar -xf c.pkg manifest.json
	for e in $(pkg_craft list c.pkg | grep '\.cms$'); do
		tar -xOf c.pkg "$e" >e.der
		openssl cms -verify -binary -inform DER -in e.der -content manifest.json -CAfile root.crt -purpose any \
			-out /dev/null 2>/dev/null || fail "openssl cms -verify refused $e"
	done
}
pkg_check "--attach CMS signatures made by stock openssl cms -sign (DER and PEM)" attach_cms

attach_wrong() {
	"$B/fwpkg" sign -q --export-manifest o.json other.pkg
	minisign -S -s k2.key -m o.json -x o.minisig </dev/null >/dev/null
	openssl cms -sign -binary -nosmimecap -outform DER -md sha256 -in o.json -signer leaf.crt -inkey leaf.key -out o.cms
	cp fw.pkg w.pkg
	sum=$(sha256sum w.pkg)
	expect 1 'o.minisig: not a signature of this package.s manifest: signature does not match' \
		"$B/fwpkg" sign --attach o.minisig -p k2.pub w.pkg
	expect 1 'o.cms: not a signature of this package.s manifest: signature by certificate "CN=Firmware Signer" does not match' \
		"$B/fwpkg" sign --attach o.cms w.pkg
	printf 'garbage' >g.sig
	expect 1 'g.sig: not a DER CMS signature' "$B/fwpkg" sign --attach g.sig w.pkg
	[ "$(sha256sum w.pkg)" = "$sum" ] || fail "a refused --attach changed the package"
	[ -z "$(find . -name '.w.pkg.*')" ] || fail "temporary file left behind"
}
pkg_check "--attach refuses a signature over another manifest (exit 1, package unchanged)" attach_wrong

# --- the policy counts distinct keys
same_key_two_certs() {
	# leaf's key certified again by the other root: a CA rollover keeping the key.
	openssl req -new -key leaf.key -subj "/CN=Firmware Signer" -out leaf-b.csr -config other-root.ca/ca.cnf
	openssl ca -batch -config other-root.ca/ca.cnf -cert other-root.crt -keyfile other-root.key -in leaf-b.csr \
		-out leaf-b.crt -extensions v3_sign -notext -startdate 20200101000000Z -enddate 20491231000000Z >/dev/null 2>&1
	"$B/mkpkg" -q -o roll.pkg --version 5.1.0 --product P1 --pri pri.img \
		-k leaf.key --cert leaf.crt --intermediate inter.crt -k leaf.key --cert leaf-b.crt
	[ "$(pkg_craft list roll.pkg | grep -c '\.cms$')" -eq 2 ] || fail "expected two .cms entries"
	# Old devices trust the old root, new ones the new: each verifies.
	expect 0 '' "$B/fwpkg" verify --ca root.crt roll.pkg
	expect 0 '' "$B/fwpkg" verify --ca other-root.crt roll.pkg
	# Trusting both: two valid signatures, but one key.
	expect 0 '' "$B/fwpkg" verify --ca root.crt --ca other-root.crt roll.pkg
	expect 1 'too few signatures by trusted keys: have 1, need 2' \
		"$B/fwpkg" verify --ca root.crt --ca other-root.crt --min-signatures 2 roll.pkg
	expect 0 '' "$B/fwpkg" verify --ca root.crt --ca other-root.crt -p k.pub --min-signatures 2 \
		"$(cp roll.pkg roll2.pkg && "$B/fwpkg" sign -q -k k.key roll2.pkg && echo roll2.pkg)"
}
pkg_check "one key under two certificates (CA rollover) verifies under either root and counts once" same_key_two_certs

same_pub_twice() {
	cp k.pub k-copy.pub
	mkdir ring && cp k.pub ring/a.pub && cp k.pub ring/b.pub
	expect 1 'too few signatures by trusted keys: have 1, need 2' \
		"$B/fwpkg" verify -p k.pub -p k-copy.pub --min-signatures 2 fw.pkg
	expect 1 'too few signatures' "$B/fwpkg" verify --keyring ring --min-signatures 2 fw.pkg
	# A crafted package with the one signature under a second entry name is refused, not counted twice.
	tar -xOf fw.pkg "manifest.json.$KEYID.minisig" >s.minisig
	pkg_craft add fw.pkg dup.pkg "manifest.json.FFFFFFFFFFFFFFFF.minisig" 2 "$(cat s.minisig)"
	expect 1 'holds a signature by key' "$B/fwpkg" verify -p k.pub --min-signatures 2 dup.pkg
}
pkg_check "the same minisign key listed twice counts once; a signature copied under another name is refused" same_pub_twice

mixed() {
	"$B/mkpkg" -q -o mix.pkg --version 5.1.0 --product P1 --pri pri.img -k k.key -k k2.key \
		-k leaf.key --cert leaf.crt --intermediate inter.crt -k leaf2.key --cert leaf2.crt --intermediate inter.crt
	expect 0 '' "$B/fwpkg" verify -p k.pub -p k2.pub --ca root.crt --min-signatures 4 mix.pkg
	expect 1 'have 2, need 3' "$B/fwpkg" verify -p k.pub --ca root.crt --signer 'Firmware Signer' \
		--min-signatures 3 mix.pkg
	# A trusted key's bad signature rejects the package, however many others are good.
	tar -xf mix.pkg manifest.json
	sed 's/5\.1\.0/5.1.9/' manifest.json >other.json
	minisign -S -s k2.key -m other.json -x bad.minisig </dev/null >/dev/null
	K2ID=$(sed -n 's/^untrusted comment: .* \([0-9A-F]\{16\}\)$/\1/p' k2.pub)
	pkg_craft replace mix.pkg bad.pkg "manifest.json.$K2ID.minisig" "manifest.json.$K2ID.minisig" bad.minisig
	expect 1 "signature by trusted key $K2ID" "$B/fwpkg" verify -p k.pub -p k2.pub --ca root.crt bad.pkg
	expect 0 '' "$B/fwpkg" verify -p k.pub --ca root.crt --min-signatures 3 bad.pkg
}
pkg_check "minisign and CMS keys add up across schemes; a trusted key's bad signature still rejects" mixed

pkg_done
