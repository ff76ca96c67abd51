#!/bin/sh
# test_pkg_interop: outside readers agree: GNU tar, bsdtar and stock minisign read a .pkg; minisign keys and signatures work in fwpkg.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
KEYID=$(pkg_craft list fw.pkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
SIG=manifest.json.$KEYID.minisig
[ -n "$KEYID" ] || fail "no signature entry in fw.pkg"

tar tf fw.pkg >list.txt || fail "GNU tar cannot list the package"
[ "$(head -n 1 list.txt)" = manifest.json ] || fail "tar tf: first entry is $(head -n 1 list.txt)"
printf '%s\n' manifest.json "$SIG" P1-sec.img.chunks P1-sec.img P1-boot.img.chunks P1-boot.img \
	P1-pri.img.chunks P1-pri.img >want.txt
cmp -s want.txt list.txt || fail "tar tf order: $(tr '\n' ' ' <list.txt)"
ok "tar tf lists manifest.json first, then the signature, then chunk list + payload in manifest order"

mkdir gnu
tar -xf fw.pkg -C gnu 2>tar.err || fail "GNU tar cannot extract the package: $(cat tar.err)"
[ ! -s tar.err ] || fail "GNU tar complained: $(cat tar.err)"
cmp gnu/P1-pri.img pri.img && cmp gnu/P1-sec.img sec.img && cmp gnu/P1-boot.img boot.img ||
	fail "GNU tar extracted other bytes"
# the chunk list is what its name says: one SHA-256 per 64 KiB chunk
"$PY" - gnu/P1-pri.img gnu/P1-pri.img.chunks <<'EOF' || fail "P1-pri.img.chunks is not the SHA-256 of each chunk"
import hashlib, sys
data, chunks = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
want = b"".join(hashlib.sha256(data[i:i + 65536]).digest() for i in range(0, len(data), 65536))
assert chunks == want
EOF
"$PY" - gnu/manifest.json gnu/P1-pri.img.chunks <<'EOF' || fail "the manifest's digest is not the SHA-256 of the chunk list"
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
img = [i for i in m["images"] if i["file"] == "P1-pri.img"][0]
assert img["digest"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
EOF
ok "GNU tar extracts cleanly; payloads equal the inputs; chunk list and digest are plain SHA-256"

command -v bsdtar >/dev/null 2>&1 || fail "bsdtar is not installed (scripts/install-deps: libarchive-tools)"
{
	bsdtar -tf fw.pkg >bsd-list.txt || fail "bsdtar cannot list the package"
	cmp -s want.txt bsd-list.txt || fail "bsdtar -t order: $(tr '\n' ' ' <bsd-list.txt)"
	mkdir bsd
	bsdtar -xf fw.pkg -C bsd || fail "bsdtar cannot extract the package"
	cmp bsd/P1-pri.img pri.img && cmp bsd/P1-sec.img sec.img && cmp bsd/P1-boot.img boot.img ||
		fail "bsdtar extracted other bytes"
	ok "bsdtar lists and extracts the package; payloads equal the inputs"
}

command -v minisign >/dev/null 2>&1 || fail "minisign is not installed (scripts/install-deps)"
(cd gnu && minisign -V -p ../k.pub -m manifest.json -x "$SIG") >ms.out 2>&1 ||
	fail "stock minisign -V rejects the extracted manifest: $(cat ms.out)"
grep -q 'Signature and comment signature verified' ms.out || fail "minisign did not verify both signatures: $(cat ms.out)"
grep -q 'version:5.22.2' ms.out || fail "trusted comment does not carry the version: $(cat ms.out)"
ok "stock minisign -V verifies the extracted manifest with the fwpkg public key"

cp gnu/manifest.json gnu/manifest.orig
sed 's/5\.22\.2/5.22.3/' gnu/manifest.orig >gnu/manifest.json
cmp -s gnu/manifest.json gnu/manifest.orig && fail "sed did not modify the manifest"
if (cd gnu && minisign -V -p ../k.pub -m manifest.json -x "$SIG") >ms.out 2>&1; then
	fail "stock minisign -V accepts a modified manifest"
fi
cp gnu/manifest.orig gnu/manifest.json
printf ' ' >>gnu/manifest.json
if (cd gnu && minisign -V -p ../k.pub -m manifest.json -x "$SIG") >ms.out 2>&1; then
	fail "stock minisign -V accepts a manifest with a byte appended"
fi
keypair other
if (cd gnu && cp manifest.orig manifest.json && minisign -V -p ../other.pub -m manifest.json -x "$SIG") >ms.out 2>&1; then
	fail "stock minisign -V accepts the signature with another key"
fi
ok "stock minisign -V fails on a modified manifest and with another key"

# A key pair made by stock minisign signs packages that both tools verify.
minisign -G -W -p ms.pub -s ms.key >/dev/null 2>&1 || fail "minisign -G failed"
expect 0 '' "$B/mkpkg" -o ms.pkg --version 1.2.3 --product P1 --pri pri.img -k ms.key
expect 0 '' "$B/fwpkg" verify -p ms.pub ms.pkg
mkdir msx
tar -xf ms.pkg -C msx
MSSIG=$(cd msx && ls manifest.json.*.minisig)
(cd msx && minisign -V -p ../ms.pub -m manifest.json -x "$MSSIG") >/dev/null 2>&1 ||
	fail "stock minisign rejects a package signed with a minisign-made key"
expect 1 'trusted key' "$B/fwpkg" verify -p k.pub ms.pkg
ok "a secret key made by stock minisign -G -W signs with mkpkg; fwpkg and minisign verify"

# A signature made by stock minisign over the manifest is accepted in place of fwpkg's own.
msid=$(echo "$MSSIG" | sed 's/^manifest\.json\.\(.*\)\.minisig$/\1/')
(cd gnu && minisign -S -s ../ms.key -m manifest.json -x ../stock.minisig -t "stock minisign") >/dev/null 2>&1 ||
	fail "minisign -S failed"
pkg_craft replace fw.pkg stock.pkg "$SIG" "manifest.json.$msid.minisig" stock.minisig
expect 0 '' "$B/fwpkg" verify -p ms.pub stock.pkg
expect 0 '' "$B/fwpkg" inspect -p ms.pub stock.pkg
grep -q 'stock minisign' "$T/.out" || fail "inspect does not show the trusted comment of a minisign signature"
expect 1 'no signature by a trusted key' "$B/fwpkg" verify -p k.pub stock.pkg
ok "a signature made by stock minisign -S verifies in fwpkg; its trusted comment is shown"

# Legacy (non-prehashed 'Ed') minisign signatures are refused.
(cd gnu && minisign -S -l -s ../ms.key -m manifest.json -x ../legacy.minisig) >/dev/null 2>&1 ||
	fail "minisign -S -l failed"
pkg_craft replace fw.pkg legacy.pkg "$SIG" "manifest.json.$msid.minisig" legacy.minisig
expect 1 'legacy' "$B/fwpkg" verify -p ms.pub legacy.pkg
ok "a legacy (Ed, not prehashed) minisign signature is refused"

echo "all $TESTS checks passed"
