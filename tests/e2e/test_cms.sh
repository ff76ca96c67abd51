#!/bin/sh
# test_cms: X.509/CMS signatures: signing with a PEM key and certificate, chains, key usage, CRLs, pins, stock openssl cms.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/pki.sh"

pki_make
randfile pri.img 200000
randfile sec.img 70000
keypair k

# cms_pkg NAME OUT [MORE...]: a firmware package signed by the PKI's NAME (with the intermediate carried).
cms_pkg() {
	name=$1 out=$2
	shift 2
	"$B/mkpkg" -q -o "$out" --version 5.1.0 --product P1 --chunk-size 65536 --pri pri.img --sec sec.img \
		-k "$name.key" --cert "$name.crt" --intermediate inter.crt "$@"
}
cms_pkg leaf fw.pkg
CERTID=$(pkg_craft list fw.pkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.cms$/\1/p')
[ -n "$CERTID" ] || fail "no manifest.json.<ID>.cms entry in fw.pkg: $(pkg_craft list fw.pkg)"

# cms_reject PKG PATTERN VERIFY-ARGS...: verify and extract exit 1 with PATTERN; extract changes nothing.
cms_reject() {
	pkg=$1 pattern=$2
	shift 2
	expect 1 "$pattern" "$B/fwpkg" verify "$@" "$pkg"
	grep -q "^fwpkg: verify: $pkg: " "$T/.err" || fail "message does not start with 'fwpkg: verify: $pkg:': $(cat "$T/.err")"
	[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "more than one line: $(cat "$T/.err")"
	rm -rf xdir
	mkdir xdir
	echo keep >xdir/keep
	before=$(treesum xdir)
	expect 1 "$pattern" "$B/fwpkg" extract -q -C xdir "$@" "$pkg"
	[ "$(treesum xdir)" = "$before" ] || fail "extract of $pkg changed its directory"
}

good() {
	expect 0 '' "$B/fwpkg" verify --ca root.crt fw.pkg
	grep -q "verified: firmware 5.1.0.*signed by $CERTID" "$T/.out" || fail "verify output: $(cat "$T/.out")"
	# The entry holds DER CMS (SignedData) with the leaf and the intermediate.
	tar -xOf fw.pkg "manifest.json.$CERTID.cms" >sig.der
	openssl cms -cmsout -print -inform DER -in sig.der >sig.txt
	grep -q 'Firmware Signer' sig.txt && grep -q 'Test Signing CA' sig.txt || fail "certificates not carried"
	! grep -q 'SMIMECapabilities\|smimeCapabilities' sig.txt || fail "S/MIME capabilities present"
	grep -q 'eContent: <ABSENT>' sig.txt || fail "signature is not detached"
	mkdir x && expect 0 '' "$B/fwpkg" extract -q -C x --ca root.crt fw.pkg
	cmp x/P1-pri.img pri.img
}
pkg_check "CMS-signed package verifies with --ca root, carrying leaf and intermediate; extract works" good

interop() {
	tar -xf fw.pkg manifest.json "manifest.json.$CERTID.cms"
	openssl cms -verify -binary -inform DER -in "manifest.json.$CERTID.cms" -content manifest.json \
		-CAfile root.crt -purpose any -out /dev/null 2>ossl.err || fail "openssl cms -verify: $(cat ossl.err)"
	sed 's/5\.1\.0/5.1.1/' manifest.json >changed.json
	if openssl cms -verify -binary -inform DER -in "manifest.json.$CERTID.cms" -content changed.json \
		-CAfile root.crt -purpose any -out /dev/null 2>/dev/null; then
		fail "openssl cms accepted a changed manifest"
	fi
}
pkg_check "stock openssl cms -verify accepts the extracted manifest, and refuses a changed one" interop

# elsewhere NAME OUT: fw.pkg with its signature replaced by one NAME made elsewhere (stock openssl cms),
# as a package signed by a certificate the signing programs refuse would reach a verifier.
elsewhere() {
	tar -xOf fw.pkg manifest.json >ew.json
	openssl cms -sign -binary -nosmimecap -outform DER -md sha256 -in ew.json -signer "$1.crt" -inkey "$1.key" \
		-certfile inter.crt -out ew.cms
	id=$(openssl x509 -in "$1.crt" -outform DER | sha256sum | cut -c1-16 | tr a-f A-F)
	pkg_craft replace fw.pkg "$2" "manifest.json.$CERTID.cms" "manifest.json.$id.cms" ew.cms
}

bad_certs() {
	for c in expired:'"CN=Expired Signer": certificate has expired' \
		 notyet:'"CN=Future Signer": certificate is not yet valid'; do
		name=${c%%:*} why=${c#*:}
		cms_pkg "$name" "$name.pkg"
		cms_reject "$name.pkg" "$why" --ca root.crt
	done
	for c in noku:'"CN=No KU Signer": key usage does not include digitalSignature' \
		 noeku:'"CN=Server Cert": extended key usage does not include codeSigning'; do
		name=${c%%:*} why=${c#*:}
		elsewhere "$name" "$name.pkg"
		cms_reject "$name.pkg" "$why" --ca root.crt
	done
}
pkg_check "expired, not yet valid, no digitalSignature, no codeSigning: each rejected naming certificate and reason" bad_certs

# A certificate every verifier refuses is refused when signing, in the verifier's words (exit 2), writing nothing.
sign_refuses_usage() {
	mkdir -p wtree/services && echo on >wtree/services/a.conf
	cp fw.pkg keep.pkg
	sum=$(sha256sum keep.pkg)
	for c in noku:'"CN=No KU Signer": key usage does not include digitalSignature' \
		 noeku:'"CN=Server Cert": extended key usage does not include codeSigning'; do
		name=${c%%:*} why=${c#*:}
		expect 2 "^mkpkg: $name.crt: certificate $why\$" "$B/mkpkg" -o u.pkg --version 5.1.0 --product P1 \
			--pri pri.img -k "$name.key" --cert "$name.crt"
		[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "more than one line: $(cat "$T/.err")"
		expect 2 "^mkwmopkg: $name.crt: certificate $why\$" "$B/mkwmopkg" -o u.wmopkg -C wtree --version 1.0 \
			--product P1 -k "$name.key" --cert "$name.crt"
		expect 2 "^fwpkg: sign: $name.crt: certificate $why\$" "$B/fwpkg" sign -k "$name.key" --cert "$name.crt" keep.pkg
		expect 2 "$name.crt: certificate $why\$" "$B/fwpkg" catalog -o u.json --base-url http://a/ --expires 2099-01-01 \
			--serial 1 -k "$name.key" --cert "$name.crt" keep.pkg
		[ ! -e u.pkg ] && [ ! -e u.wmopkg ] && [ ! -e u.json ] || fail "a refused signer left output: $(ls u.*)"
		[ "$(sha256sum keep.pkg)" = "$sum" ] || fail "a refused fwpkg sign changed the package"
		# The verifier says the same of a package signed so elsewhere.
		elsewhere "$name" "v-$name.pkg"
		expect 1 "$why" "$B/fwpkg" verify --ca root.crt "v-$name.pkg"
	done
}
pkg_check "mkpkg, mkwmopkg, fwpkg sign and catalog refuse a certificate without digitalSignature or codeSigning (exit 2, the verifier's words)" sign_refuses_usage

revoked() {
	cms_pkg revoked revoked.pkg
	cms_reject revoked.pkg '"CN=Revoked Signer": certificate revoked' --ca root.crt --crl inter.crl --crl root.crl
	# Without the CRLs the same package passes: the CRL is what rejects it.
	expect 0 '' "$B/fwpkg" verify --ca root.crt revoked.pkg
	expect 0 '' "$B/fwpkg" verify --ca root.crt --crl inter.crl --crl root.crl fw.pkg
	# With CRLs, every CA in the chain needs one.
	cms_reject fw.pkg '"CN=Test Signing CA": unable to get certificate CRL' --ca root.crt --crl inter.crl
	openssl crl -in inter.crl -outform DER -out inter.crl.der
	cms_reject revoked.pkg 'certificate revoked' --ca root.crt --crl inter.crl.der --crl root.crl
}
pkg_check "revoked certificate in a CRL (PEM or DER) rejected; CRLs needed for the whole chain" revoked

stranger() {
	cms_pkg stranger stranger.pkg
	cms_reject stranger.pkg 'no signature by a trusted key .*"CN=Stranger Signer": unable to get local issuer certificate' \
		--ca root.crt
	# The other root carried in the package as an "intermediate" is still no anchor.
	"$B/mkpkg" -q -o carried.pkg --version 5.1.0 --product P1 --pri pri.img -k stranger.key --cert stranger.crt \
		--intermediate other-root.crt
	cms_reject carried.pkg 'no signature by a trusted key .*self-signed certificate in certificate chain' --ca root.crt
	expect 0 '' "$B/fwpkg" verify --ca other-root.crt carried.pkg
	# Nor does the intermediate carried in fw.pkg make the leaf trusted for a verifier trusting another root.
	cms_reject fw.pkg 'no signature by a trusted key .*"CN=Test Signing CA"' --ca other-root.crt
	# Without the intermediate carried, there is no path to the root.
	"$B/mkpkg" -q -o bare.pkg --version 5.1.0 --product P1 --pri pri.img -k leaf.key --cert leaf.crt
	cms_reject bare.pkg 'no signature by a trusted key .*unable to get local issuer certificate' --ca root.crt
	# A trusted intermediate is an anchor by itself.
	expect 0 '' "$B/fwpkg" verify --ca inter.crt bare.pkg
}
pkg_check "another root's signer, and certificates carried in the package, are never trust anchors" stranger

tamper() {
	tar -xf fw.pkg manifest.json
	sed 's/5\.1\.0/5.9.0/' manifest.json >forged.json
	pkg_craft replace fw.pkg forged.pkg manifest.json manifest.json forged.json
	cms_reject forged.pkg "manifest.json.$CERTID.cms: signature by certificate \"CN=Firmware Signer\" does not match" --ca root.crt
}
pkg_check "changed manifest under a trusted CA: rejected as tampering" tamper

ca_options() {
	expect 6 'leaf.crt: certificate "CN=Firmware Signer" is not a CA certificate' "$B/fwpkg" verify --ca leaf.crt fw.pkg
	expect 6 'k.pub: not a PEM certificate file' "$B/fwpkg" verify --ca k.pub fw.pkg
	expect 3 'no-such.crt' "$B/fwpkg" verify --ca no-such.crt fw.pkg
	expect 6 'inter.crt: not a CRL file' "$B/fwpkg" verify --ca root.crt --crl inter.crt fw.pkg
	expect 2 '--crl and --signer need trusted CA certificates' "$B/fwpkg" verify -p k.pub --crl inter.crl fw.pkg
	mkdir cas && cp root.crt cas/root.pem && cp inter.crl root.crl cas/ && echo junk >cas/README
	expect 0 '' "$B/fwpkg" verify --ca cas fw.pkg
	cp revoked.pkg cas-revoked.pkg
	cms_reject cas-revoked.pkg 'certificate revoked' --ca cas
	# A keyring directory may hold CA certificates and CRLs beside minisign keys.
	mkdir ring && cp root.crt ring/ && cp k.pub ring/
	expect 0 '' "$B/fwpkg" verify --keyring ring fw.pkg
	expect 0 '' env FWPKG_KEYRING="$T/ring" "$B/fwpkg" verify fw.pkg
	# A keyring's policy.json: two distinct keys; the command line can ask more, never less.
	printf '{"min_signatures": 2}\n' >ring/policy.json
	expect 1 'too few signatures by trusted keys: have 1, need 2' "$B/fwpkg" verify --keyring ring fw.pkg
	"$B/fwpkg" sign -q -k k.key -o fw2.pkg fw.pkg
	expect 0 '' "$B/fwpkg" verify --keyring ring fw2.pkg
	expect 1 'have 2, need 3' "$B/fwpkg" verify --keyring ring --min-signatures 3 fw2.pkg
	expect 1 'have 1, need 2' "$B/fwpkg" verify --keyring ring --min-signatures 1 fw.pkg
	# One EC key certified twice, its point once uncompressed and once compressed: one key, not two.
	openssl ec -in leaf.key -conv_form compressed -out leafc.key 2>/dev/null
	openssl req -new -key leafc.key -subj "/CN=Firmware Signer C" -out leafc.csr -config inter.ca/ca.cnf
	openssl ca -batch -config inter.ca/ca.cnf -cert inter.crt -keyfile inter.key -in leafc.csr -out leafc.crt \
		-extensions v3_sign -notext -startdate 20200101000000Z -enddate 20491231000000Z >/dev/null 2>&1
	[ "$(openssl x509 -in leafc.crt -noout -pubkey | openssl pkey -pubin -outform DER | wc -c)" -lt \
		"$(openssl x509 -in leaf.crt -noout -pubkey | openssl pkey -pubin -outform DER | wc -c)" ] ||
		fail "leafc.crt does not carry the compressed point"
	"$B/fwpkg" sign -q -k leafc.key --cert leafc.crt --intermediate inter.crt -o fwc.pkg fw.pkg
	expect 1 'too few signatures by trusted keys: have 1, need 2' "$B/fwpkg" verify --keyring ring fwc.pkg
	printf '{"check_time": "no"}\n' >ring/policy.json
	expect 2 'policy.json: check_time: expected true or false' "$B/fwpkg" verify --keyring ring fw.pkg
	rm ring/policy.json
	# A CMS signature is not accepted by a minisign key alone.
	expect 1 'no signature by a trusted key .*no CA certificates are trusted' "$B/fwpkg" verify -p k.pub fw.pkg
}
pkg_check "--ca FILE|DIR, --crl, keyrings with certificates; bad trust files are credential errors (6) naming the file" ca_options

pins() {
	expect 0 '' "$B/fwpkg" verify --ca root.crt --signer 'Firmware Signer' fw.pkg
	fpr=$(openssl x509 -in leaf.crt -noout -fingerprint -sha256 | sed 's/.*=//')
	expect 0 '' "$B/fwpkg" verify --ca root.crt --signer "$fpr" fw.pkg
	expect 0 '' "$B/fwpkg" verify --ca root.crt --signer "$(echo "$fpr" | tr -d : | tr A-F a-f)" fw.pkg
	cms_reject fw.pkg 'no signature by a trusted key .*"CN=Firmware Signer": not an accepted signer' \
		--ca root.crt --signer 'Firmware Signer 2'
}
pkg_check "--signer pins by subject CN or certificate SHA-256; others are not trusted" pins

depth_and_time() {
	cms_reject fw.pkg '"CN=Test Signing CA": certificate chain too long' --ca root.crt --max-chain-depth 0
	expect 0 '' "$B/fwpkg" verify --ca root.crt --max-chain-depth 1 fw.pkg
	expect 2 'max-chain-depth' "$B/fwpkg" verify --ca root.crt --max-chain-depth x fw.pkg
	cms_pkg expired expired.pkg -f
	expect 0 '' "$B/fwpkg" verify --ca root.crt --no-check-time expired.pkg
}
pkg_check "--max-chain-depth limits intermediates; --no-check-time accepts an expired certificate" depth_and_time

signing_errors() {
	expect 6 'leaf.crt: certificate does not match the private key' \
		"$B/mkpkg" -o no.pkg --version 5.1.0 --product P1 --pri pri.img -k leaf2.key --cert leaf.crt
	expect 2 '[-]-cert leaf.crt: give it after the -k KEY' \
		"$B/mkpkg" -o no.pkg --version 5.1.0 --product P1 --pri pri.img --cert leaf.crt -k leaf.key
	expect 2 '[-]-intermediate inter.crt: give it after' \
		"$B/mkpkg" -o no.pkg --version 5.1.0 --product P1 --pri pri.img -k k.key --intermediate inter.crt
	expect 6 'k.key: not a PEM private key' \
		"$B/mkpkg" -o no.pkg --version 5.1.0 --product P1 --pri pri.img -k k.key --cert leaf.crt
	expect 2 'root.crl: not a PEM certificate file' \
		"$B/mkpkg" -o no.pkg --version 5.1.0 --product P1 --pri pri.img -k leaf.key --cert root.crl
	[ ! -e no.pkg ] || fail "a failed build left no.pkg"
	# An encrypted PEM key takes its passphrase as minisign keys do (never from argv).
	openssl pkey -in leaf.key -aes256 -passout pass:s3cret -out leaf-enc.key
	expect 6 'leaf-enc.key: wrong passphrase' env FWPKG_PASSPHRASE=wrong \
		"$B/mkpkg" -o no.pkg --version 5.1.0 --product P1 --pri pri.img -k leaf-enc.key --cert leaf.crt
	expect 0 '' env FWPKG_PASSPHRASE=s3cret \
		"$B/mkpkg" -q -o enc.pkg --version 5.1.0 --product P1 --pri pri.img -k leaf-enc.key --cert leaf.crt \
		--intermediate inter.crt
	expect 0 '' "$B/fwpkg" verify --ca root.crt enc.pkg
}
pkg_check "signing errors: key/certificate mismatch, misplaced --cert, non-PEM key; encrypted PEM keys" signing_errors

both_schemes() {
	cms_pkg leaf both.pkg -k k.key
	n=$(pkg_craft list both.pkg | grep -c '^manifest\.json\..*\.\(cms\|minisig\)$')
	[ "$n" -eq 2 ] || fail "expected two signature entries, got $n"
	expect 0 '' "$B/fwpkg" verify -p k.pub both.pkg
	expect 0 '' "$B/fwpkg" verify --ca root.crt both.pkg
	expect 0 '' "$B/fwpkg" verify --ca root.crt -p k.pub --min-signatures 2 both.pkg
	expect 1 'too few signatures by trusted keys: have 1, need 2' \
		"$B/fwpkg" verify --ca root.crt --min-signatures 2 both.pkg
	# minisign still verifies its own signature in the mixed package.
	tar -xf both.pkg manifest.json
	tar -xOf both.pkg "$(pkg_craft list both.pkg | grep '\.minisig$')" >m.minisig
	minisign -Vm manifest.json -x m.minisig -p k.pub -q || fail "minisign -V refused the mixed package's signature"
}
pkg_check "minisign and CMS signatures side by side; both verify; stock minisign too" both_schemes

wmopkg() {
	mkdir -p tree/files
	echo hello >tree/files/hello.txt
	expect 0 '' "$B/mkwmopkg" -q -o mod.wmopkg -C tree --version 1.0 --product P1 -k leaf.key --cert leaf.crt \
		--intermediate inter.crt
	expect 0 '' "$B/fwpkg" verify --ca root.crt mod.wmopkg
	expect 1 'no signature by a trusted key' "$B/fwpkg" verify --ca other-root.crt mod.wmopkg
}
pkg_check "mkwmopkg signs with CMS too" wmopkg

sign_adds() {
	"$B/mkpkg" -q -o m.pkg --version 5.1.0 --product P1 --pri pri.img -k k.key
	off=$(pkg_craft offset m.pkg P1-pri.img.chunks header)
	tail -c +$((off + 1)) m.pkg >payloads.before
	expect 0 '' "$B/fwpkg" sign -q -k leaf.key --cert leaf.crt --intermediate inter.crt m.pkg
	off=$(pkg_craft offset m.pkg P1-pri.img.chunks header)
	tail -c +$((off + 1)) m.pkg | cmp - payloads.before || fail "fwpkg sign changed payload bytes"
	expect 0 '' "$B/fwpkg" verify --ca root.crt --min-signatures 2 -p k.pub m.pkg
	# Signing again with the same certificate replaces its entry, not adds one.
	expect 0 '' "$B/fwpkg" sign -q -k leaf.key --cert leaf.crt --intermediate inter.crt m.pkg
	[ "$(pkg_craft list m.pkg | grep -c '\.cms$')" -eq 1 ] || fail "re-signing added a second entry"
}
pkg_check "fwpkg sign adds a CMS signature without touching payloads; re-signing replaces it" sign_adds

repro() {
	cms_pkg leaf r1.pkg
	cms_pkg leaf r2.pkg
	# ECDSA signatures are randomised: all but the signature entry must match, and the signing time is the manifest's.
	tar -xOf r1.pkg "manifest.json.$CERTID.cms" | openssl cms -cmsout -print -inform DER | grep -A3 signingTime >t1 || true
	grep -q 'Nov 14 22:13:20 2023 GMT' t1 || fail "signing time is not SOURCE_DATE_EPOCH: $(cat t1)"
	if cmp r1.pkg r2.pkg >/dev/null; then fail "two ECDSA signatures are byte-identical?"; fi
	# Apart from the signature entry, the packages are the same bytes.
	pkg_craft drop r1.pkg r1x.pkg "manifest.json.$CERTID.cms"
	pkg_craft drop r2.pkg r2x.pkg "manifest.json.$CERTID.cms"
	cmp r1x.pkg r2x.pkg || fail "CMS-signed builds differ outside the signature"
	# What mkpkg(1) and the README say to compare instead match, as written.
	[ "$(tar -xOf r1.pkg manifest.json | sha256sum)" = "$(tar -xOf r2.pkg manifest.json | sha256sum)" ] ||
		fail "the manifests differ"
	[ "$(tar -xOf r1.pkg --exclude='*.cms' | sha256sum)" = "$(tar -xOf r2.pkg --exclude='*.cms' | sha256sum)" ] ||
		fail "the entries but the .cms differ"
	for r in r1 r2; do
		"$B/fwpkg" inspect --json "$r.pkg" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert "signatures" in d, d; d.pop("signatures"); d.pop("file", None); print(json.dumps(d, sort_keys=True))' >"$r.json"
	done
	cmp r1.json r2.json || fail "inspect --json without signatures differs: $(diff r1.json r2.json)"
	for doc in "$E2E/../../man/mkpkg.1" "$E2E/../../README.md"; do
		grep -q "manifest.json | sha256sum" "$doc" && grep -q "exclude=" "$doc" || fail "$doc does not say what to compare"
	done
}
pkg_check "CMS signing time is SOURCE_DATE_EPOCH; builds differ only in the (randomised ECDSA) signature" repro

inspect_cms() {
	serial=$(openssl x509 -in leaf.crt -noout -serial | sed 's/.*=//')
	expect 0 '' "$B/fwpkg" inspect --ca root.crt fw.pkg
	grep -q "^  $CERTID  valid        CMS (X.509)$" "$T/.out" || fail "no CMS signature line: $(cat "$T/.out")"
	grep -q '^    Subject:   CN=Firmware Signer$' "$T/.out" || fail "subject not shown"
	grep -q '^    Issuer:    CN=Test Signing CA$' "$T/.out" || fail "issuer not shown"
	grep -q "^    Serial:    $serial\$" "$T/.out" || fail "serial $serial not shown"
	grep -q '^    Validity:  2020-01-01T00:00:00Z to 2049-12-31T00:00:00Z$' "$T/.out" || fail "validity not shown"
	grep -q '^    Chain:     valid: 3 certificates up to the trusted certificate "CN=Test Root CA"$' "$T/.out" ||
		fail "chain status not shown: $(cat "$T/.out")"
	# Without trust, the details are shown and the chain is "not checked".
	expect 0 '' "$B/fwpkg" inspect stranger.pkg
	grep -q '^    Subject:   CN=Stranger Signer$' "$T/.out" && grep -q '^    Chain:     not checked$' "$T/.out" ||
		fail "untrusted inspect: $(cat "$T/.out")"
	expect 0 '' "$B/fwpkg" inspect --json --ca root.crt both.pkg
	"$PY" - "$T/.out" "$CERTID" "$serial" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
sigs = {s["keyid"]: s for s in doc["signatures"]}
c = sigs[sys.argv[2]]
assert c["kind"] == "cms" and c["status"] == "valid", c
assert c["entry"] == "manifest.json.%s.cms" % sys.argv[2], c
cert = c["certificate"]
assert cert["subject"] == "CN=Firmware Signer" and cert["issuer"] == "CN=Test Signing CA", cert
assert cert["serial"] == sys.argv[3], cert
assert cert["not_before"] == "2020-01-01T00:00:00Z" and cert["not_after"] == "2049-12-31T00:00:00Z", cert
assert cert["chain"].startswith("valid: 3 certificates"), cert
assert len(cert["sha256"]) == 64 and len(cert["key_sha256"]) == 64, cert
m = [s for s in doc["signatures"] if s["kind"] == "minisign"]
assert len(m) == 1 and m[0]["status"] == "unknown key" and "trusted_comment" in m[0], m
assert doc["verified"] is True
PYEOF
}
pkg_check "inspect shows each CMS signer's subject, issuer, serial, validity and chain status (table and --json)" inspect_cms

pkg_done
