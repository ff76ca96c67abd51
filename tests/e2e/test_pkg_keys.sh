#!/bin/sh
# test_pkg_keys: trust (keys, keyrings, signature counts) and secret keys (passphrases) as the programs see them.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
KEYID=$(pkg_craft list fw.pkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
SIG=manifest.json.$KEYID.minisig
keypair k2
K2ID=$(sed -n 's/^untrusted comment: .* \([0-9A-F]\{16\}\)$/\1/p' k2.pub)

# xcheck CODE PATTERN ARGS...: fwpkg extract ARGS into a fresh directory must exit CODE with PATTERN and change nothing.
xcheck() {
	code=$1 pattern=$2
	shift 2
	rm -rf kx
	mkdir kx
	echo keep >kx/keep
	before=$(treesum kx)
	expect "$code" "$pattern" "$B/fwpkg" extract -C kx "$@"
	[ "$(treesum kx)" = "$before" ] || fail "extract $* changed its directory"
}

# --- which keys are trusted
wrong_key() {
	expect 1 "no signature by a trusted key \\(signed by $KEYID; trusted: [0-9A-F]{16}\\)" "$B/fwpkg" verify -p k2.pub fw.pkg
	xcheck 1 'no signature by a trusted key' -p k2.pub fw.pkg
	expect 1 'no signature by a trusted key' "$B/fwpkg" inspect -p k2.pub fw.pkg
}
pkg_check "wrong key: exit 1, 'no signature by a trusted key', names the signer" wrong_key

no_key() {
	expect 2 'no trusted keys' env FWPKG_KEYRING="$T/no-such-dir" "$B/fwpkg" verify fw.pkg
	grep -q -- '-p' "$T/.err" || fail "the message does not say how to give a key"
	xcheck 2 'no trusted keys' fw.pkg
	if [ ! -e /etc/fwpkg/keys ]; then
		expect 2 '/etc/fwpkg/keys' "$B/fwpkg" verify fw.pkg
	fi
}
pkg_check "no key and no keyring: exit 2 (usage), says how to give one" no_key

empty_keyring() {
	mkdir empty-ring
	expect 2 'empty-ring' "$B/fwpkg" verify --keyring empty-ring fw.pkg
	grep -Eq 'no public keys|empty' "$T/.err" || fail "the message does not say the keyring is empty"
	xcheck 2 'empty-ring' --keyring empty-ring fw.pkg
	expect 2 'empty-ring' env FWPKG_KEYRING="$T/empty-ring" "$B/fwpkg" verify fw.pkg
}
pkg_check "--keyring with an empty directory: exit 2, names the directory" empty_keyring

missing_keyring() {
	expect 3 'no-such-ring' "$B/fwpkg" verify --keyring no-such-ring fw.pkg
}
pkg_check "--keyring naming no directory: exit 3, names it" missing_keyring

keyring_ok() {
	mkdir ring
	cp k2.pub ring/
	cp k.pub ring/release.pub
	echo "not a key" >ring/README
	expect 0 '' "$B/fwpkg" verify --keyring ring fw.pkg
	expect 0 '' env FWPKG_KEYRING="$T/ring" "$B/fwpkg" verify fw.pkg
	mkdir kr
	expect 0 '' "$B/fwpkg" extract -C kr --keyring ring fw.pkg
	cmp kr/P1-pri.img pri.img
	mkdir ring2
	cp k2.pub ring2/
	expect 1 'no signature by a trusted key' "$B/fwpkg" verify --keyring ring2 fw.pkg
}
pkg_check "--keyring (or FWPKG_KEYRING) with the right key among others: exit 0" keyring_ok

bad_pubkey() {
	printf 'untrusted comment: junk\nnot base64 at all\n' >junk.pub
	expect 6 'junk\.pub' "$B/fwpkg" verify -p junk.pub fw.pkg
	expect 3 'no-such\.pub' "$B/fwpkg" verify -p no-such.pub fw.pkg
}
pkg_check "an unreadable (exit 3) or malformed (exit 6, credentials) public key is named" bad_pubkey

same_id_other_key() {
	# a public key file carrying k's key id but another key: a key id names one key
	"$PY" - k.pub k2.pub forged.pub <<'EOF'
import base64, sys
a = base64.b64decode(open(sys.argv[1]).read().splitlines()[1])
b = base64.b64decode(open(sys.argv[2]).read().splitlines()[1])
forged = a[:10] + b[10:]   # algorithm + k's key id, k2's public key
open(sys.argv[3], "w").write("untrusted comment: forged\n" + base64.b64encode(forged).decode() + "\n")
EOF
	expect 1 'signature' "$B/fwpkg" verify -p forged.pub fw.pkg
	expect 6 "already trusted with a different public key|$KEYID" "$B/fwpkg" verify -p k.pub -p forged.pub fw.pkg
}
pkg_check "a key id alone is not trust: the full public key must match" same_id_other_key

# Exit 6 (credentials) for the user's own keys, apart from 1 (a bad package) and 2 (usage):
# each half of a key pair given for the other, in every program, named as what it is.
credentials() {
	mkdir -p ct/files && echo x >ct/files/x
	cp fw.pkg keep.pkg
	sum=$(sha256sum keep.pkg)
	pubmsg='k\.pub: a minisign public key, not a secret key'
	expect 6 "^mkpkg: $pubmsg\$" "$B/mkpkg" -o c.pkg --version 1.0 --product P1 --pri pri.img -k k.pub
	expect 6 "^mkwmopkg: $pubmsg\$" "$B/mkwmopkg" -o c.wmopkg -C ct --version 1.0 --product P1 -k k.pub
	expect 6 "^fwpkg: sign: $pubmsg\$" "$B/fwpkg" sign -k k.pub keep.pkg
	expect 6 "$pubmsg" "$B/fwpkg" catalog -o c.json --base-url http://a/ --expires 2099-01-01 --serial 1 -k k.pub keep.pkg
	expect 6 "$pubmsg" "$B/fwpkg" unlock-token --device D1 --expires 2099-01-01 -k k.pub -o c.token
	secmsg='k\.key: a minisign secret key, not a public key'
	expect 6 "^fwpkg: verify: $secmsg\$" "$B/fwpkg" verify -p k.key keep.pkg
	expect 6 "$secmsg" "$B/fwpkg" inspect -p k.key keep.pkg
	xcheck 6 "$secmsg" -p k.key keep.pkg
	expect 6 "$secmsg" "$B/fwpkg" sign --attach keep.pkg -p k.key keep.pkg
	[ ! -e c.pkg ] && [ ! -e c.wmopkg ] && [ ! -e c.json ] && [ ! -e c.token ] || fail "a refused key left output: $(ls c.*)"
	[ "$(sha256sum keep.pkg)" = "$sum" ] || fail "a refused fwpkg sign changed the package"
}
pkg_check "credentials (exit 6): a public key as -k and a secret key as -p, in every program, named as such; nothing written" credentials

unsigned() {
	pkg_craft drop fw.pkg unsigned.pkg "$SIG"
	pkg_reject unsigned.pkg 'unsigned'
	expect 0 '' "$B/fwpkg" inspect unsigned.pkg
	grep -q '(none)' "$T/.out" || fail "inspect does not show that there is no signature"
}
pkg_check "an unsigned package (signature entry dropped): exit 1 'unsigned'" unsigned

# --- several signatures: fwpkg sign adds one without touching a payload byte
second_sig() {
	cp fw.pkg two.pkg
	expect 0 '' "$B/fwpkg" sign -k k2.key two.pkg
	[ "$(pkg_craft list two.pkg | grep -c '\.minisig$')" -eq 2 ] || fail "two.pkg does not have two signature entries"
	expect 0 '' "$B/fwpkg" verify -p k.pub two.pkg
	expect 0 '' "$B/fwpkg" verify -p k2.pub two.pkg
	expect 0 '' "$B/fwpkg" verify -p k.pub -p k2.pub two.pkg
	grep -q "$KEYID" "$T/.out" && grep -q "$K2ID" "$T/.out" || fail "verify does not name both signers: $(cat "$T/.out")"
	# signature entries sorted by key id
	pkg_craft list two.pkg | sed -n '2,3p' >sigs.txt
	LC_ALL=C sort sigs.txt | cmp -s - sigs.txt || fail "signature entries not sorted by key id"
	# the manifest and everything from the first chunk list to the end are the same bytes
	tar -xOf fw.pkg manifest.json >m1
	tar -xOf two.pkg manifest.json >m2
	cmp m1 m2 || fail "sign changed the manifest"
	o1=$(pkg_craft offset fw.pkg P1-sec.img.chunks header)
	o2=$(pkg_craft offset two.pkg P1-sec.img.chunks header)
	tail -c +$((o1 + 1)) fw.pkg >tail1
	tail -c +$((o2 + 1)) two.pkg >tail2
	cmp tail1 tail2 || fail "sign changed bytes after the signature entries"
	[ "$o2" -gt "$o1" ] || fail "no room was made for the second signature"
}
pkg_check "fwpkg sign adds a second signature; both keys verify; payload bytes unchanged" second_sig

min_sigs() {
	expect 0 '' "$B/fwpkg" verify --min-signatures 2 -p k.pub -p k2.pub two.pkg
	expect 1 'too few signatures by trusted keys' "$B/fwpkg" verify --min-signatures 2 -p k.pub two.pkg
	expect 1 'too few signatures' "$B/fwpkg" verify --min-signatures 2 -p k.pub -p k2.pub fw.pkg
	expect 2 'min-signatures' "$B/fwpkg" verify --min-signatures 0 -p k.pub two.pkg
	expect 2 'min-signatures' "$B/fwpkg" verify --min-signatures 9 -p k.pub two.pkg
	expect 2 'min-signatures' "$B/fwpkg" verify --min-signatures two -p k.pub two.pkg
}
pkg_check "--min-signatures 2: passes with both keys, fails with one; bad values are usage errors" min_sigs

sign_output() {
	cp fw.pkg orig.pkg
	expect 0 '' "$B/fwpkg" sign -k k2.key -o out.pkg orig.pkg
	cmp fw.pkg orig.pkg || fail "sign -o changed its input"
	expect 0 '' "$B/fwpkg" verify -p k2.pub out.pkg
	printf 'precious' >taken.pkg
	expect 2 'already exists' "$B/fwpkg" sign -k k2.key -o taken.pkg orig.pkg
	[ "$(cat taken.pkg)" = precious ] || fail "sign -o overwrote a file without -f"
	expect 0 '' "$B/fwpkg" sign -f -k k2.key -o taken.pkg orig.pkg
	cmp taken.pkg out.pkg || fail "sign -f -o did not write the signed package"
}
pkg_check "fwpkg sign -o leaves the input alone and refuses to overwrite without -f" sign_output

sign_tampered() {
	pkg_craft flipentry fw.pkg bad.pkg P1-sec.img middle
	cp bad.pkg bad-orig.pkg
	expect 1 'SHA-256 mismatch' "$B/fwpkg" sign -k k2.key bad.pkg
	cmp bad.pkg bad-orig.pkg || fail "sign changed a package it refused"
	[ "$(ls -A | grep -c '^\.bad')" -eq 0 ] || fail "sign left a temp file: $(ls -A)"
}
pkg_check "fwpkg sign refuses a package whose payloads do not match (nothing written)" sign_tampered

# --- secret keys with passphrases
enc_key() {
	FWPKG_PASSPHRASE='correct horse' "$B/fwpkg" keygen -q -p e.pub -s e.key
	grep -q 'untrusted comment' e.key
	[ "$(stat -c %a e.key)" = 600 ] || fail "secret key mode is $(stat -c %a e.key), not 600"
	mkdir wrong
	cp pri.img wrong/
	(cd wrong && expect 6 'passphrase' env FWPKG_PASSPHRASE='wrong horse' "$B/mkpkg" -o out.pkg --version 1.0 \
		--product P1 --pri pri.img -k ../e.key)
	[ "$(ls -A wrong)" = pri.img ] || fail "a wrong passphrase left files: $(ls -A wrong)"
	printf 'correct horse\n' >pass.txt
	expect 0 '' env FWPKG_PASSPHRASE='ignored when a file is given' "$B/mkpkg" -o e.pkg --version 1.0 --product P1 \
		--pri pri.img -k e.key --passphrase-file pass.txt
	expect 0 '' "$B/fwpkg" verify -p e.pub e.pkg
	expect 0 '' env FWPKG_PASSPHRASE='correct horse' "$B/mkpkg" -o e2.pkg --version 1.0 --product P1 --pri pri.img -k e.key
	cmp e.pkg e2.pkg || fail "the same key gave different packages"
	printf 'wrong\n' >wrong.txt
	expect 6 'passphrase' "$B/mkpkg" -o e3.pkg --version 1.0 --product P1 --pri pri.img -k e.key --passphrase-file wrong.txt
	[ ! -e e3.pkg ] || fail "a wrong passphrase file left e3.pkg"
	expect 3 'no-such-file' "$B/mkpkg" -o e3.pkg --version 1.0 --product P1 --pri pri.img -k e.key --passphrase-file no-such-file
	expect 0 '' "$B/fwpkg" sign -k e.key --passphrase-file pass.txt -o e-signed.pkg fw.pkg
	expect 0 '' "$B/fwpkg" verify -p e.pub -p k.pub --min-signatures 2 e-signed.pkg
}
pkg_check "encrypted key: wrong passphrase fails (names it, leaves nothing), --passphrase-file and FWPKG_PASSPHRASE work" enc_key

no_tty() {
	[ -e e.key ] || FWPKG_PASSPHRASE='correct horse' "$B/fwpkg" keygen -q -p e.pub -s e.key
	# setsid: no controlling terminal, so no prompt is possible (util-linux, always there).
	command -v setsid >/dev/null 2>&1 || fail "setsid is not installed"
	expect 6 'FWPKG_PASSPHRASE' setsid -w "$B/mkpkg" -o tty.pkg --version 1.0 --product P1 --pri pri.img -k e.key </dev/null
	expect 6 'FWPKG_PASSPHRASE' setsid -w "$B/fwpkg" keygen -p t.pub -s t.key </dev/null
	[ ! -e t.key ] && [ ! -e t.pub ] || fail "keygen without a passphrase left key files"
	expect 6 'FWPKG_PASSPHRASE' setsid -w "$B/fwpkg" sign -k e.key fw.pkg </dev/null
	[ ! -e tty.pkg ] || fail "mkpkg without a passphrase left tty.pkg"
	expect 0 '' "$B/fwpkg" verify -q -p k.pub fw.pkg
}
key_named_once() {
	[ -e e.key ] || FWPKG_PASSPHRASE='correct horse' "$B/fwpkg" keygen -q -p e.pub -s e.key
	expect 6 'e\.key: wrong passphrase' env FWPKG_PASSPHRASE='wrong horse' "$B/mkpkg" -o out.pkg --version 1.0 \
		--product P1 --pri pri.img -k e.key
	! grep -q 'e\.key: e\.key' "$T/.err" || fail "the key's name is repeated: $(cat "$T/.err")"
	expect 6 'e\.key: wrong passphrase' env FWPKG_PASSPHRASE='wrong horse' "$B/fwpkg" sign -k e.key fw.pkg
	! grep -q 'e\.key: e\.key' "$T/.err" || fail "the key's name is repeated: $(cat "$T/.err")"
}
pkg_check "a wrong passphrase message reads 'prog: KEY: why' (the key named once)" key_named_once

pkg_check "encrypted key, no passphrase source and no terminal: exit 6 naming FWPKG_PASSPHRASE" no_tty

keygen_safety() {
	printf 'keep' >exists.key
	expect 2 'exists' "$B/fwpkg" keygen -W -p new.pub -s exists.key
	[ "$(cat exists.key)" = keep ] || fail "keygen overwrote a secret key without -f"
	expect 0 '' "$B/fwpkg" keygen -W -f -p new.pub -s exists.key
	[ "$(stat -c %a exists.key)" = 600 ] || fail "secret key mode is $(stat -c %a exists.key)"
	empty_pass=$(mktemp "$T/empty.XXXXXX")
	expect 6 'empty' "$B/fwpkg" keygen -p n2.pub -s n2.key --passphrase-file "$empty_pass"
}
pkg_check "keygen refuses to overwrite without -f, writes 0600, refuses an empty passphrase" keygen_safety

pkg_done
