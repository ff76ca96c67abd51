#!/bin/sh
# test_pkcs11: keys on a SoftHSM2 token (PKCS#11): Ed25519 minisign signatures (CKM_EDDSA), CMS with EC and RSA keys, PINs.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/pki.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -e "$MODULE" ] || fail "$MODULE missing: scripts/install-deps installs softhsm2"
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >softhsm2.conf
export SOFTHSM2_CONF="$T/softhsm2.conf"
unset FWPKG_PKCS11_PIN FWPKG_PKCS11_MODULE
# Ed25519 keys and CMS keys on separate tokens: libp11 0.4.12 (the pkcs11 engine) cannot list a token holding Ed25519 keys.
softhsm2-util --init-token --free --label ed --pin 1234 --so-pin 5678 >/dev/null
softhsm2-util --init-token --free --label cms --pin 1234 --so-pin 5678 >/dev/null

pki_make
randfile pri.img 200000
ED="pkcs11:token=ed;object=release?module-path=$MODULE"
# mk OUT KEYARGS...: a package signed as the arguments say.
mk() {
	out=$1
	shift
	"$B/mkpkg" -q -o "$out" --version 5.1.0 --product P1 --chunk-size 65536 --pri pri.img "$@"
}

keygen() {
	expect 0 'Ed25519 on token "ed", label "release"' env FWPKG_PKCS11_PIN=1234 "$B/fwpkg" keygen -p tok.pub -s "$ED"
	grep -q '^untrusted comment: minisign public key [0-9A-F]\{16\}$' tok.pub || fail "tok.pub: $(cat tok.pub)"
	sum=$(sha256sum tok.pub)
	expect 2 'a key labelled "release" already exists' env FWPKG_PKCS11_PIN=1234 "$B/fwpkg" keygen -f -p tok.pub -s "$ED"
	[ "$(sha256sum tok.pub)" = "$sum" ] || fail "a refused keygen changed tok.pub"
	# The private key never left the token: it is sensitive and not extractable.
	pkcs11-tool --module "$MODULE" --token-label ed --login --pin 1234 --list-objects --type privkey >objs 2>&1
	grep -q 'label:.*release' objs || fail "no private key on the token: $(cat objs)"
	grep -q '^Private Key Object; EC_EDWARDS' objs || fail "not an Ed25519 key: $(cat objs)"
	grep -q 'Usage: *sign$' objs || fail "key usable for more than signing: $(cat objs)"
	grep -q 'Access: *sensitive, always sensitive, never extractable' objs || fail "key extractable: $(cat objs)"
}
pkg_check "fwpkg keygen makes an Ed25519 key on the token and writes its .pub; refuses a second key of one label" keygen

ed_sign() {
	expect 0 '' env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -q -o ed.pkg --version 5.1.0 --product P1 --pri pri.img -k "$ED"
	expect 0 '' "$B/fwpkg" verify -p tok.pub ed.pkg
	tar -xf ed.pkg manifest.json
	tar -xOf ed.pkg "$(pkg_craft list ed.pkg | grep '\.minisig$')" >ed.minisig
	minisign -Vm manifest.json -x ed.minisig -p tok.pub -q || fail "stock minisign refused the token's signature"
	keypair other
	expect 1 'no signature by a trusted key' "$B/fwpkg" verify -p other.pub ed.pkg
	# fwpkg sign with the token, PIN from a pin-source file, module from the environment.
	keypair k
	mk two.pkg -k k.key
	printf '1234\n' >pin.txt
	expect 0 '' env FWPKG_PKCS11_MODULE="$MODULE" "$B/fwpkg" sign -q -k "pkcs11:token=ed;object=release?pin-source=file:$T/pin.txt" two.pkg
	expect 0 '' "$B/fwpkg" verify -p k.pub -p tok.pub --min-signatures 2 two.pkg
}
pkg_check "Ed25519 (CKM_EDDSA) minisign signatures from the token; stock minisign verifies; pin-source and FWPKG_PKCS11_MODULE" ed_sign

cms_sign() {
	openssl pkcs8 -topk8 -nocrypt -in leaf.key -out leaf.p8
	softhsm2-util --import leaf.p8 --token cms --label ec --id 01 --pin 1234 >/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
	openssl req -new -key rsa.key -subj "/CN=RSA Signer" -out rsa.csr -config inter.ca/ca.cnf
	openssl ca -batch -config inter.ca/ca.cnf -cert inter.crt -keyfile inter.key -in rsa.csr -out rsa.crt \
		-extensions v3_sign -notext -startdate 20200101000000Z -enddate 20491231000000Z >/dev/null 2>&1
	openssl pkcs8 -topk8 -nocrypt -in rsa.key -out rsa.p8
	softhsm2-util --import rsa.p8 --token cms --label rsa --id 02 --pin 1234 >/dev/null
	expect 0 '' env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -q -o cms.pkg --version 5.1.0 --product P1 --pri pri.img \
		-k "pkcs11:token=cms;object=ec;type=private?module-path=$MODULE" --cert leaf.crt --intermediate inter.crt \
		-k "pkcs11:token=cms;object=rsa;type=private?module-path=$MODULE" --cert rsa.crt --intermediate inter.crt \
		-k "$ED"
	expect 0 '' "$B/fwpkg" verify --ca root.crt -p tok.pub --min-signatures 3 cms.pkg
	tar -xf cms.pkg manifest.json
	for e in $(pkg_craft list cms.pkg | grep '\.cms$'); do
		tar -xOf cms.pkg "$e" >e.der
		openssl cms -verify -binary -inform DER -in e.der -content manifest.json -CAfile root.crt -purpose any \
			-out /dev/null 2>/dev/null || fail "openssl cms -verify refused $e"
	done
	# The token's EC key is leaf.key: the file and the token give the same certificate id, refused as given twice.
	expect 2 'given twice' env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -o twice.pkg --version 5.1.0 --product P1 \
		--pri pri.img -k leaf.key --cert leaf.crt -k "pkcs11:token=cms;object=ec?module-path=$MODULE" --cert leaf.crt
	[ ! -e twice.pkg ] || fail "twice.pkg made"
}
pkg_check "CMS signatures with EC P-256 and RSA keys on the token (pkcs11 engine); openssl cms verifies" cms_sign

catalog_sign() {
	expect 0 'wrote tc.json \(serial 1, 1 release\) and tc.json.cms' env FWPKG_PKCS11_PIN=1234 "$B/fwpkg" catalog \
		-o tc.json --base-url http://a/ --expires 2099-01-01 --serial 1 \
		-k "pkcs11:token=cms;object=ec;type=private?module-path=$MODULE" --cert leaf.crt --intermediate inter.crt cms.pkg
	openssl cms -verify -binary -inform DER -in tc.json.cms -content tc.json -CAfile root.crt -purpose any \
		-out /dev/null 2>/dev/null || fail "openssl cms -verify refused the token's catalog signature"
	expect 0 'wrote te.json \(serial 1, 1 release\) and te.json.minisig' env FWPKG_PKCS11_PIN=1234 "$B/fwpkg" catalog \
		-o te.json --base-url http://a/ --expires 2099-01-01 --serial 1 -k "$ED" cms.pkg
	minisign -Vm te.json -p tok.pub -q || fail "stock minisign refused the token's catalog signature"
}
pkg_check "fwpkg catalog with token keys: CMS (EC, openssl cms verifies) and Ed25519 (minisign verifies)" catalog_sign

pins() {
	expect 6 "token \"ed\" \\($MODULE\\): login: wrong PIN" env FWPKG_PKCS11_PIN=9999 "$B/mkpkg" -o bad.pkg \
		--version 5.1.0 --product P1 --pri pri.img -k "$ED"
	[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "more than one line: $(cat "$T/.err")"
	expect 6 'cannot load the private key: .*PIN incorrect' env FWPKG_PKCS11_PIN=9999 "$B/mkpkg" -o bad.pkg \
		--version 5.1.0 --product P1 --pri pri.img -k "pkcs11:token=cms;object=ec?module-path=$MODULE" --cert leaf.crt
	[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "libp11 printed more than our line: $(cat "$T/.err")"
	expect 6 'no PIN' "$B/mkpkg" -o bad.pkg --version 5.1.0 --product P1 --pri pri.img -k "$ED" </dev/null
	expect 2 'pin-value would put the PIN on the command line' "$B/mkpkg" -o bad.pkg --version 5.1.0 \
		--product P1 --pri pri.img -k "pkcs11:token=ed;object=release?pin-value=1234&module-path=$MODULE"
	[ ! -e bad.pkg ] || fail "a refused build left bad.pkg"
}
pkg_check "wrong PIN, no PIN (exit 6, credentials), a PIN in the URI (exit 2): clear one-line errors, nothing written" pins

missing() {
	expect 6 "token \"nosuch\" \\($MODULE\\): no such token" env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -o bad.pkg \
		--version 5.1.0 --product P1 --pri pri.img -k "pkcs11:token=nosuch;object=release?module-path=$MODULE"
	expect 6 'no Ed25519 private key with label "absent"' env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -o bad.pkg \
		--version 5.1.0 --product P1 --pri pri.img -k "pkcs11:token=ed;object=absent?module-path=$MODULE"
	expect 2 'no PKCS#11 module' env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -o bad.pkg --version 5.1.0 --product P1 \
		--pri pri.img -k "pkcs11:token=ed;object=release"
	expect 2 '/no/such.so: cannot load the PKCS#11 module' env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -o bad.pkg \
		--version 5.1.0 --product P1 --pri pri.img -k "pkcs11:token=ed;object=release?module-path=/no/such.so"
	expect 2 'attribute "serial" is not supported' "$B/mkpkg" -o bad.pkg --version 5.1.0 --product P1 \
		--pri pri.img -k "pkcs11:token=ed;serial=1?module-path=$MODULE"
	expect 6 'cannot load the private key' env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -o bad.pkg --version 5.1.0 \
		--product P1 --pri pri.img -k "pkcs11:token=nosuch;object=ec?module-path=$MODULE" --cert leaf.crt
	[ ! -e bad.pkg ] || fail "a refused build left bad.pkg"
}
pkg_check "missing token or key (exit 6, credentials), missing module, unsupported URI attributes (exit 2): clear errors" missing

# A private key imported without its public half: the token cannot say which certificate or key id
# it belongs to. Say so and how to add one; the command given works.
no_public_half() {
	openssl pkcs8 -topk8 -nocrypt -in leaf.key -outform DER -out lonely.der
	pkcs11-tool --module "$MODULE" --token-label cms --login --pin 1234 --write-object lonely.der --type privkey \
		--label lonely --id 03 >/dev/null 2>&1
	expect 6 "token \"cms\" \\($MODULE\\): the token holds no public key for private key \"lonely\": add one, e.g. .*pkcs11-tool .*--write-object pub.der --type pubkey --label lonely --id 03" \
		env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -o lonely.pkg --version 5.1.0 --product P1 --pri pri.img \
		-k "pkcs11:token=cms;object=lonely?module-path=$MODULE" --cert leaf.crt
	[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "more than one line: $(cat "$T/.err")"
	! grep -q 'key values mismatch' "$T/.err" || fail "still says mismatch: $(cat "$T/.err")"
	[ ! -e lonely.pkg ] || fail "a refused build left lonely.pkg"
	# The command the message gives, with the PIN the test knows.
	sed 's/.*add one, e\.g\. //; s/--login/--login --pin 1234/' "$T/.err" >fix.sh
	sh fix.sh >/dev/null 2>&1 || fail "the suggested command failed: $(cat fix.sh)"
	expect 0 '' env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -q -o lonely.pkg --version 5.1.0 --product P1 --pri pri.img \
		-k "pkcs11:token=cms;object=lonely?module-path=$MODULE" --cert leaf.crt --intermediate inter.crt
	expect 0 '' "$B/fwpkg" verify --ca root.crt lonely.pkg
	# An Ed25519 key whose public object was removed.
	expect 0 '' env FWPKG_PKCS11_PIN=1234 "$B/fwpkg" keygen -p lone.pub -s "pkcs11:token=ed;object=lone?module-path=$MODULE"
	pkcs11-tool --module "$MODULE" --token-label ed --login --pin 1234 --delete-object --type pubkey --label lone \
		>/dev/null 2>&1 || fail "cannot delete the public key object"
	expect 6 'the token holds no public key for private key "lone": add one, e.g. pkcs11-tool .*--type pubkey --label lone' \
		env FWPKG_PKCS11_PIN=1234 "$B/mkpkg" -o lone.pkg --version 5.1.0 --product P1 --pri pri.img \
		-k "pkcs11:token=ed;object=lone?module-path=$MODULE"
	[ ! -e lone.pkg ] || fail "a refused build left lone.pkg"
}
pkg_check "a private key without its public half on the token: named as such, with the command that adds one (exit 6)" no_public_half

pkg_done
