#!/bin/sh
# test_minisign_interop: keys and signatures cross between fwpkg and stock minisign both ways, encrypted keys included (one stock key costs ~1 GiB of scrypt).
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
command -v minisign >/dev/null 2>&1 || fail "minisign is not installed (scripts/install-deps)"

randfile pri.img 100000
keyid_of() { sed -n 's/^untrusted comment: minisign public key \([0-9A-F]*\)$/\1/p' "$1"; }
sig_of() { pkg_craft list "$1" | sed -n 2p; }

# (1) Our encrypted key and our signatures, used and read by stock minisign.
printf 's3cret pass\n' >pass.txt
"$B/fwpkg" keygen -q -p a.pub -s a.key --passphrase-file pass.txt
"$B/mkpkg" -q -o a.pkg --version 1.0 --product P1 --pri pri.img -k a.key --passphrase-file pass.txt
mkdir a && (cd a && tar -xf ../a.pkg)
SIG=$(sig_of a.pkg)
minisign -V -q -p a.pub -m a/manifest.json -x "a/$SIG" || fail "minisign rejects our signature"
minisign -V -H -q -p a.pub -m a/manifest.json -x "a/$SIG" || fail "minisign -H does not see our signature as prehashed"
cp a/manifest.json other.json && printf ' ' >>other.json
! minisign -V -q -p a.pub -m other.json -x "a/$SIG" 2>/dev/null || fail "minisign accepts our signature over other bytes"
ok "stock minisign verifies our signatures (-H: prehashed) and refuses other bytes"

printf 's3cret pass\n' | minisign -S -s a.key -m a/manifest.json -x ms.minisig -t 'from minisign' >/dev/null 2>&1 ||
	fail "minisign cannot sign with our encrypted secret key"
pkg_craft replace a.pkg ms.pkg "$SIG" "$SIG" ms.minisig
expect 0 '' "$B/fwpkg" verify -p a.pub ms.pkg
expect 0 '' "$B/fwpkg" inspect -p a.pub ms.pkg
grep -q 'from minisign' "$T/.out" || fail "the trusted comment minisign wrote is not shown"
ok "stock minisign signs with our encrypted key; we verify its signature"

# (2) A key pair from stock minisign -W: the same key id, the same secret key layout.
minisign -G -W -p m.pub -s m.key >/dev/null 2>&1 || fail "minisign -G -W failed"
"$B/mkpkg" -q -o m.pkg --version 1.0 --product P1 --pri pri.img -k m.key
expect 0 '' "$B/fwpkg" verify -p m.pub m.pkg
want=$(keyid_of m.pub)
got=$(sed -n 's/.*signed by \([0-9A-F]\{16\}\).*/\1/p' "$T/.out")
[ -n "$want" ] && [ "$((0x$want))" = "$((0x$got))" ] || fail "key id: minisign says $want, we say $got"
"$B/fwpkg" keygen -q -W -p w.pub -s w.key
# Algorithm tags, salt and scrypt limits (the 54 bytes before the key id) as minisign -W writes them.
head54() { sed -n 2p "$1" | base64 -d | head -c 54 | od -An -tx1; }
[ "$(head54 w.key)" = "$(head54 m.key)" ] || fail "our -W secret key header differs from minisign's"
minisign -S -s w.key -m a/manifest.json -x w.minisig >/dev/null 2>&1 || fail "minisign cannot sign with our -W key"
ok "a minisign -W key signs with mkpkg; same key id; minisign signs with our -W key"

# (3) An encrypted key from stock minisign (its scrypt is the "sensitive" one: ~1 GiB).
printf 'pass phrase\npass phrase\n' | minisign -G -p e.pub -s e.key >/dev/null 2>&1 || fail "minisign -G failed"
FWPKG_PASSPHRASE='pass phrase' "$B/mkpkg" -q -o e.pkg --version 1.0 --product P1 --pri pri.img -k e.key ||
	fail "mkpkg cannot use minisign's encrypted key"
expect 0 '' "$B/fwpkg" verify -p e.pub e.pkg
expect 6 'e\.key: wrong passphrase' env FWPKG_PASSPHRASE='not it' "$B/mkpkg" -o e2.pkg --version 1.0 --product P1 --pri pri.img -k e.key
ok "an encrypted key from stock minisign signs with mkpkg (and a wrong passphrase is refused)"

echo "all $TESTS checks passed"
