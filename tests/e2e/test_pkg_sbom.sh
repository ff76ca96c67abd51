#!/bin/sh
# test_pkg_sbom: a CycloneDX SBOM inside the signed package: checked at build time, carried in the
# signature's scope, validated by the CycloneDX project's own library, shown, extracted, refused when
# tampered with, recorded (never written to a slot) by the device; stock tar, minisign and openssl still read.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/pki.sh"

# The validator: @cyclonedx/cyclonedx-library (its strict JSON schemas, through ajv) from the npm
# registry, installed with Debian's npm (scripts/install-deps) into the build directory, never the
# repository. Pinned: 7.x is the newest line that runs on Debian 12's Node.js 18.
CDX_LIB="@cyclonedx/cyclonedx-library@7.1.0"
NPM_DIR=$B/npm-cyclonedx
cdx_install() {
	command -v node >/dev/null && command -v npm >/dev/null ||
		fail "node and npm are needed to validate the SBOM (scripts/install-deps installs Debian's nodejs and npm)"
	if [ ! -e "$NPM_DIR/.installed-7.1.0" ]; then
		mkdir -p "$NPM_DIR"
		# No install scripts, no optional native modules (XML): the JSON validator needs ajv and its formats only.
		npm install --prefix "$NPM_DIR" --cache "$NPM_DIR/cache" --no-audit --no-fund --no-save \
			--ignore-scripts --omit=optional --loglevel=error \
			"$CDX_LIB" ajv@8 ajv-formats@3 ajv-formats-draft2019@1 >"$T/npm.log" 2>&1 ||
			fail "npm install $CDX_LIB into $NPM_DIR: $(tail -n 5 "$T/npm.log")"
		touch "$NPM_DIR/.installed-7.1.0"
	fi
}
# cdx_valid FILE: the library's verdict, exit 0 valid, else its schema errors.
cdx_valid() { NODE_PATH=$NPM_DIR/node_modules node "$E2E/cdx-validate.js" "$1"; }

# A CycloneDX 1.6 document for a firmware image, and one of 1.5.
cat >sbom.json <<'EOF'
{
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {
    "timestamp": "2023-11-14T22:13:20Z",
    "component": { "type": "firmware", "bom-ref": "fw", "name": "weos", "version": "5.22.2" }
  },
  "components": [
    { "type": "operating-system", "bom-ref": "linux", "name": "linux", "version": "6.1.115" },
    { "type": "library", "bom-ref": "openssl", "name": "openssl", "version": "3.0.15",
      "purl": "pkg:deb/debian/openssl@3.0.15?arch=amd64" },
    { "type": "library", "bom-ref": "zlib", "name": "zlib", "version": "1.2.13",
      "licenses": [ { "license": { "id": "Zlib" } } ] }
  ],
  "dependencies": [ { "ref": "fw", "dependsOn": [ "linux", "openssl", "zlib" ] } ]
}
EOF
sed 's/"specVersion": "1.6"/"specVersion": "1.5"/' sbom.json >sbom15.json
SBOM_SHA=$(sha256sum sbom.json | cut -d' ' -f1)

keypair k
keypair k2
randfile pri.img 300000
randfile sec.img 70000
mk() { "$B/mkpkg" -q --version 5.22.2 --product P1 --chunk-size 65536 --pri pri.img --sec sec.img -k k.key "$@"; }
mk -o fw.pkg --sbom sbom.json
mk -o plain.pkg
# A JSON field of a document on stdin.
jf() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

validated() {
	cdx_install
	cdx_valid sbom.json >/dev/null || fail "the fixture itself is not valid CycloneDX"
	expect 0 '' "$B/fwpkg" inspect --sbom -p k.pub fw.pkg
	cp "$T/.out" carried.json
	cmp carried.json sbom.json || fail "inspect --sbom does not print the document as given"
	cdx_valid carried.json >cdx.out || fail "the CycloneDX library refuses the SBOM the package carries"
	grep -q 'valid CycloneDX 1.6' cdx.out || fail "validator output: $(cat cdx.out)"
	# The library can say no: a component of an unknown type is refused.
	sed 's/"type": "library"/"type": "no-such-type"/' carried.json >broken.json
	if cdx_valid broken.json 2>/dev/null; then fail "the CycloneDX library accepts an invalid document"; fi
}
pkg_check "the SBOM the package carries is valid CycloneDX 1.6 by the CycloneDX project's own library" validated

manifest() {
	tar -xOf fw.pkg manifest.json >m.json
	[ "$(jf 'd["format_version"]' <m.json)" = 2 ] || fail "format_version is not 2 with an SBOM"
	[ "$(jf 'd["sbom"]["sha256"]' <m.json)" = "$SBOM_SHA" ] || fail "manifest sbom.sha256 is not the document's"
	[ "$(jf 'd["sbom"]["components"], d["sbom"]["spec_version"], d["sbom"]["format"]' <m.json)" = "3 1.6 CycloneDX" ] ||
		fail "manifest sbom: $(jf 'd["sbom"]' <m.json)"
	# Without one, the package is what it was: format version 1, no sbom key, no entry.
	tar -xOf plain.pkg manifest.json >p.json
	[ "$(jf 'd["format_version"], "sbom" in d' <p.json)" = "1 False" ] || fail "a package without SBOM changed"
	! tar -tf plain.pkg | grep -q sbom || fail "a package without SBOM has an sbom entry"
}
pkg_check "the manifest declares the SBOM (format version 2, spec version, components, SHA-256); without one, version 1 as before" manifest

stock_tar() {
	tar -tf fw.pkg >gnu.list || fail "GNU tar cannot list the package"
	printf '%s\n' manifest.json "$(sed -n 2p gnu.list)" sbom.cdx.json P1-sec.img.chunks P1-sec.img P1-pri.img.chunks P1-pri.img >want.list
	cmp gnu.list want.list || fail "entries: $(cat gnu.list)"
	bsdtar -tf fw.pkg | cmp - want.list || fail "bsdtar lists otherwise"
	tar -xOf fw.pkg sbom.cdx.json | cmp - sbom.json || fail "tar does not recover the SBOM"
}
pkg_check "stock tar and bsdtar list the package, SBOM entry right after the signatures" stock_tar

stock_minisign() {
	mkdir ms && (cd ms && tar -xf ../fw.pkg)
	sig=$(ls ms | grep '\.minisig$')
	(cd ms && minisign -V -p ../k.pub -m manifest.json -x "$sig") >ms.out 2>&1 || fail "minisign -V: $(cat ms.out)"
	# The signed manifest names the SBOM's digest: the signature covers the SBOM.
	(cd ms && sha256sum sbom.cdx.json | cut -d' ' -f1) | grep -qx "$(jf 'd["sbom"]["sha256"]' <ms/manifest.json)" ||
		fail "the SBOM entry is not the one the signed manifest names"
}
pkg_check "stock minisign -V verifies the manifest that names the SBOM's SHA-256" stock_minisign

stock_openssl() {
	pki_make
	"$B/mkpkg" -q -o cms.pkg --version 5.22.2 --product P1 --pri pri.img -k leaf.key --cert leaf.crt \
		--intermediate inter.crt --sbom sbom15.json
	expect 0 '' "$B/fwpkg" verify --ca root.crt cms.pkg
	mkdir cms && (cd cms && tar -xf ../cms.pkg)
	cmsent=$(ls cms | grep '\.cms$')
	openssl cms -verify -binary -inform DER -in "cms/$cmsent" -content cms/manifest.json -CAfile root.crt \
		-purpose any -out /dev/null 2>ossl.err || fail "openssl cms -verify: $(cat ossl.err)"
	expect 0 '' "$B/fwpkg" inspect --sbom --ca root.crt cms.pkg
	cmp "$T/.out" sbom15.json || fail "CycloneDX 1.5 document not carried as given"
}
pkg_check "a CMS-signed package with a CycloneDX 1.5 SBOM: stock openssl cms verifies its manifest" stock_openssl

inspect_json() {
	expect 0 '' "$B/fwpkg" inspect --json -p k.pub fw.pkg
	[ "$(jf 'd["sbom"]["format"], d["sbom"]["spec_version"], d["sbom"]["components"], d["sbom"]["verified"]' <"$T/.out")" = \
		"CycloneDX 1.6 3 True" ] || fail "inspect --json sbom: $(jf 'd["sbom"]' <"$T/.out")"
	[ "$(jf 'd["sbom"]["sha256"]' <"$T/.out")" = "$SBOM_SHA" ] || fail "inspect --json: wrong digest"
	expect 0 '' "$B/fwpkg" inspect --json fw.pkg
	[ "$(jf 'd["sbom"]["verified"]' <"$T/.out")" = False ] || fail "unverified SBOM shown as verified"
	expect 0 '' "$B/fwpkg" inspect --json plain.pkg
	[ "$(jf 'd["sbom"]' <"$T/.out")" = None ] || fail "no SBOM: sbom is not null"
	expect 0 '' "$B/fwpkg" inspect fw.pkg
	grep -q "^SBOM: *CycloneDX 1.6, 3 components, .*sha256 $SBOM_SHA" "$T/.out" || fail "table: $(cat "$T/.out")"
	grep -q "format fwpkg 2" "$T/.out" || fail "table does not show format version 2"
	expect 1 '^fwpkg: inspect: plain.pkg: carries no SBOM$' "$B/fwpkg" inspect --sbom plain.pkg
	[ ! -s "$T/.out" ] || fail "inspect --sbom of a package without one printed something"
	expect 2 '' "$B/fwpkg" inspect --sbom --json fw.pkg
	# A catalog is inspected too, but carries no SBOM: --sbom prints nothing rather than its table.
	env -u SOURCE_DATE_EPOCH "$B/fwpkg" catalog -q -o cat.json --base-url http://fw.example/ --expires 30d --serial 1 \
		-k k.key fw.pkg
	expect 1 '^fwpkg: inspect: cat\.json: carries no SBOM \(a catalog\)$' "$B/fwpkg" inspect --sbom cat.json
	[ ! -s "$T/.out" ] || fail "inspect --sbom of a catalog printed: $(cat "$T/.out")"
}
pkg_check "inspect: --json shows format, spec version, component count, digest; --sbom refuses a package without one" inspect_json

# inspect --sbom on a terminal: escaped for it, a long line (a minified document) cut into pieces on
# character boundaries, never inside a UTF-8 sequence; into a pipe, byte for byte.
on_terminal() {
	"$PY" - long.json <<'PYEOF'
import sys
head = '{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"'
tail = '","version":"1"}]}'
pad = "a" * (4095 - len(head.encode()))            # an é across byte 4096, and every 4096 bytes after
body = "".join(("\u00e9" * 2048) + "b" for _ in range(3))
open(sys.argv[1], "w", encoding="utf-8").write(head + pad + body + tail)
PYEOF
	mk -o long.pkg --sbom long.json
	expect 0 '' "$B/fwpkg" inspect --sbom long.pkg
	cmp "$T/.out" long.json || fail "inspect --sbom into a file changed the document"
	"$PY" - "$B/fwpkg" long.pkg >tty.out <<'PYEOF' || fail "inspect --sbom on a terminal failed: $(cat tty.out)"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "inspect", "--sbom", sys.argv[2]])
out = b""
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.buffer.write(out.replace(b"\r\n", b"\n"))
sys.exit(os.waitstatus_to_exitcode(st))
PYEOF
	! grep -q '\\x' tty.out || fail "a character was cut into escapes on the terminal: $(grep -o '.\{8\}\\x.\{12\}' tty.out | head -3)"
	{ cat long.json; echo; } | cmp - tty.out || fail "the terminal shows another document"
}
pkg_check "inspect --sbom on a terminal: a long line shown whole, no character cut into escapes" on_terminal

extract() {
	mkdir x
	expect 0 '' "$B/fwpkg" extract -q -C x -p k.pub fw.pkg
	cmp x/sbom.cdx.json sbom.json && cmp x/P1-pri.img pri.img || fail "extract"
	grep -qx sbom.cdx.json "$T/.out" || fail "extract does not list the SBOM: $(cat "$T/.out")"
	# In the way without -f: nothing is written, the SBOM included.
	rm x/P1-pri.img x/P1-sec.img
	expect 2 'sbom.cdx.json: already exists' "$B/fwpkg" extract -q -C x -p k.pub fw.pkg
	[ "$(ls x)" = sbom.cdx.json ] || fail "a refused extract wrote: $(ls x)"
	# With NAMEs the SBOM is skipped; named itself (inspect shows its entry), extract says where to get it.
	expect 0 '' "$B/fwpkg" extract -q -C xn -p k.pub fw.pkg P1-pri.img
	[ "$(ls xn)" = P1-pri.img ] || fail "extract of one image wrote: $(ls xn)"
	expect 2 '^fwpkg: extract: fw\.pkg: sbom\.cdx\.json: the SBOM is written only by an extract without NAMEs \(fwpkg inspect --sbom prints it\)$' \
		"$B/fwpkg" extract -q -C xs -p k.pub fw.pkg P1-pri.img sbom.cdx.json
	[ ! -e xs ] || fail "a refused extract left xs"
	expect 2 'sbom\.cdx\.json: no such image in the package' "$B/fwpkg" extract -q -C xs -p k.pub plain.pkg sbom.cdx.json
}
pkg_check "fwpkg extract writes the SBOM with the images, all or nothing" extract

resign() {
	cp fw.pkg re.pkg
	expect 0 '' "$B/fwpkg" sign -q -k k2.key re.pkg
	expect 0 '' "$B/fwpkg" verify -p k.pub -p k2.pub --min-signatures 2 re.pkg
	expect 0 '' "$B/fwpkg" inspect --sbom -p k2.pub re.pkg
	cmp "$T/.out" sbom.json || fail "the SBOM changed when a signature was added"
}
pkg_check "fwpkg sign adds a signature and keeps the SBOM" resign

repro() {
	mk -o again.pkg --sbom sbom.json
	cmp fw.pkg again.pkg || fail "the same inputs gave different packages"
}
pkg_check "a package with an SBOM is reproducible byte for byte" repro

# build_reject PATTERN FILE: mkpkg and mkwmopkg refuse the SBOM with exit 2, "prog: FILE: why", and leave nothing.
mkdir -p tree/files
echo hello >tree/files/hello.txt
build_reject() {
	why=$1 doc=$2    # not "pattern": expect sets that
	before=$(ls -A)
	expect 2 "^mkpkg: $doc: $why" mk -o bad.pkg --sbom "$doc"
	[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "more than one line: $(cat "$T/.err")"
	expect 2 "^mkwmopkg: $doc: $why" "$B/mkwmopkg" -q -o badmod.wmopkg -C tree --version 1.0 --product P1 -k k.key --sbom "$doc"
	[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "more than one line: $(cat "$T/.err")"
	[ "$(ls -A)" = "$before" ] || fail "a refused build left: $(ls -A)"
}
rejections() {
	printf '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [' >trunc.json
	build_reject 'not JSON: line 1' trunc.json
	sed 's/"bomFormat": "CycloneDX"/"bomFormat": "SPDX"/' sbom.json >spdx.json
	build_reject 'not a CycloneDX document: "bomFormat" is "SPDX", not "CycloneDX"' spdx.json
	sed 's/"specVersion": "1.6"/"specVersion": "1.4"/' sbom.json >old.json
	build_reject 'CycloneDX "specVersion" "1.4" is not supported \(1.5 or 1.6\)' old.json
	"$PY" -c "import json; d=json.load(open('sbom.json')); d['components']=[]; del d['dependencies']; json.dump(d, open('none.json','w'))"
	build_reject 'the SBOM lists no components \("components" is empty\)' none.json
	echo '[1, 2]' >array.json
	build_reject 'not a CycloneDX document: the top-level value is not an object' array.json
	expect 3 '^mkpkg: missing.json: cannot open' mk -o bad.pkg --sbom missing.json
	[ ! -e bad.pkg ] || fail "bad.pkg left"
}
pkg_check "mkpkg and mkwmopkg refuse bad JSON, another bomFormat, specVersion 1.4, no components: exit 2, one line, nothing left" rejections

# The SBOM entry changed after signing: same size, one byte different.
tamper() {
	"$PY" - fw.pkg tampered.pkg <<'EOF'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
at = 0
while data[at:at + 13] != b'sbom.cdx.json' or data[at + 257:at + 262] != b'ustar':
    at += 512
body = at + 512
i = data.index(b'"zlib"', body)
data[i + 4] = ord('x')    # "zlix"
open(sys.argv[2], 'wb').write(data)
EOF
	pkg_reject tampered.pkg 'sbom.cdx.json: SHA-256 does not match the signed manifest'
	grep -q '^fwpkg: extract: tampered.pkg: sbom.cdx.json: SHA-256' "$T/.err" || fail "message: $(cat "$T/.err")"
	expect 1 'sbom.cdx.json: SHA-256 does not match' "$B/fwpkg" inspect --sbom -p k.pub tampered.pkg
	[ ! -s "$T/.out" ] || fail "inspect --sbom printed a tampered SBOM"
	# Not even without keys: the digest in the manifest is checked first.
	expect 1 'sbom.cdx.json: SHA-256 does not match' "$B/fwpkg" inspect --sbom tampered.pkg
	[ ! -s "$T/.out" ] || fail "inspect --sbom printed a tampered SBOM"
	# inspect --json shows what it could read (the manifest is intact and validly signed), but never
	# the tampered SBOM as verified.
	expect 1 'sbom.cdx.json: SHA-256 does not match' "$B/fwpkg" inspect --json -p k.pub tampered.pkg
	[ "$(jf 'd["outcome"], d["signatures"][0]["status"], d["sbom"]["verified"]' <"$T/.out")" = "rejected valid False" ] ||
		fail "inspect --json of a tampered SBOM: $(cat "$T/.out")"
	# Damage after the SBOM: the SBOM itself did check out against the signed manifest.
	pkg_craft flipentry fw.pkg latedmg.pkg P1-pri.img middle
	expect 1 'SHA-256 mismatch' "$B/fwpkg" inspect --json -p k.pub latedmg.pkg
	[ "$(jf 'd["outcome"], d["sbom"]["verified"]' <"$T/.out")" = "rejected True" ] ||
		fail "inspect --json of a damaged image: $(cat "$T/.out")"
}
pkg_check "a tampered SBOM in a signed package: verify and extract exit 1 naming it, inspect prints nothing" tamper

# An SBOM entry missing, or where a package without one has none declared.
structure() {
	"$PY" - fw.pkg cut.pkg plain.pkg extra.pkg <<'EOF'
import sys
def entries(data):
    at, out = 0, []
    while data[at:at + 512] != bytes(512):
        size = int(data[at + 124:at + 136].rstrip(b'\0 ').decode(), 8)
        end = at + 512 + (size + 511) // 512 * 512
        out.append((data[at:at + 100].rstrip(b'\0').decode(), data[at:end]))
        at = end
    return out
def write(path, es):
    open(path, 'wb').write(b''.join(e for _, e in es) + bytes(1024))
fw = entries(open(sys.argv[1], 'rb').read())
write(sys.argv[2], [e for e in fw if e[0] != 'sbom.cdx.json'])
plain = entries(open(sys.argv[3], 'rb').read())
sb = [e for e in fw if e[0] == 'sbom.cdx.json']
write(sys.argv[4], plain[:2] + sb + plain[2:])
EOF
	pkg_reject cut.pkg 'entry "P1-sec.img.chunks" .*\(expected sbom.cdx.json\)'
	pkg_reject extra.pkg 'unlisted entry "sbom.cdx.json"'
}
pkg_check "a declared SBOM entry missing, an undeclared one present: rejected" structure

wmopkg() {
	expect 0 '' "$B/mkwmopkg" -q -o branding.wmopkg -C tree --version 1.0 --product P1 -k k.key --sbom sbom.json
	expect 0 '' "$B/fwpkg" verify -p k.pub branding.wmopkg
	expect 0 '' "$B/fwpkg" inspect --sbom -p k.pub branding.wmopkg
	cmp "$T/.out" sbom.json || fail "the .wmopkg's SBOM differs"
	mkdir wx && expect 0 '' "$B/fwpkg" extract -q -C wx -p k.pub branding.wmopkg
	cmp wx/sbom.cdx.json sbom.json && cmp wx/files/hello.txt tree/files/hello.txt || fail "wmopkg extract"
}
pkg_check "mkwmopkg --sbom: the modification package carries it, verify, inspect and extract see it" wmopkg

device() {
	D=$T/dev
	fw init --product P1 --trust k.pub >/dev/null 2>&1
	expect 0 '' fw upgrade no-reboot all "$T/fw.pkg"
	[ "$(js 'd["slots"]["pri"]["sbom_sha256"], d["slots"]["sec"]["sbom_sha256"]')" = "$SBOM_SHA $SBOM_SHA" ] ||
		fail "status --json: $(js 'd["slots"]')"
	expect 0 '' fw status
	grep -q "sbom sha256 $SBOM_SHA" "$T/.out" || fail "status table: $(cat "$T/.out")"
	# Never written to a slot: each slot holds exactly its image.
	cmp "$(js 'd["slots"]["pri"]["path"]')" pri.img && cmp "$(js 'd["slots"]["sec"]["path"]')" sec.img ||
		fail "a slot holds more than its image"
	! grep -rlq 'CycloneDX' "$D" || fail "the SBOM was written on the device: $(grep -rl CycloneDX "$D")"
	# A tampered SBOM: refused before any slot changes (the tamper check made tampered.pkg).
	before=$(treesum "$D/slots")
	expect 1 '^fwctl: upgrade: .*tampered.pkg: sbom.cdx.json: SHA-256 does not match the signed manifest$' \
		fw upgrade no-reboot force all "$T/tampered.pkg"
	[ "$(js 'd["last_upgrade"]["result"]')" = fileCheckFailed ] || fail "result: $(js 'd["last_upgrade"]')"
	[ "$(treesum "$D/slots")" = "$before" ] || fail "a slot changed for a tampered SBOM"
	# A package without one: the record says none.
	expect 0 '' fw upgrade no-reboot force sec "$T/plain.pkg"
	[ "$(js 'd["slots"]["sec"]["sbom_sha256"]')" = None ] || fail "sec still shows an SBOM"
}
pkg_check "fwctl: the slots' records keep the SBOM's SHA-256, status shows it, no slot holds it" device

pkg_done
