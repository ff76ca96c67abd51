#!/bin/sh
# test_pkg_tamper: one changed byte in any region of a package is caught, named, and changes nothing on extract.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
KEYID=$(pkg_craft list fw.pkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
SIG=manifest.json.$KEYID.minisig

# flip NAME ENTRY WHERE PATTERN: change one byte of ENTRY at WHERE; verify and extract reject it naming the problem.
flip() {
	pkg_craft flipentry fw.pkg "$1.pkg" "$2" "$3"
	cmp -s fw.pkg "$1.pkg" && fail "craft did not change a byte"
	[ "$(cmp -l fw.pkg "$1.pkg" | wc -l)" -eq 1 ] || fail "craft changed more than one byte"
	pkg_reject "$1.pkg" "$4"
}
# Also through inspect (with a key, or --sha256 which reads every payload) and --no-verify extract.
flip_all_readers() {
	flip "$@"
	expect 1 "$4" "$B/fwpkg" inspect -p k.pub "$1.pkg"
	mkdir -p nv
	expect 1 "$4" "$B/fwpkg" extract -q --no-verify -C nv "$1.pkg"
	[ -z "$(ls -A nv)" ] || fail "extract --no-verify left $(ls -A nv)"
}

control() {
	expect 0 '' "$B/fwpkg" verify -p k.pub fw.pkg
	mkdir c
	expect 0 '' "$B/fwpkg" extract -C c -p k.pub fw.pkg
	cmp c/P1-pri.img pri.img
}
pkg_check "control: the untampered package verifies and extracts" control

# --- the manifest and its signature
for w in first middle last; do
	pkg_check "manifest.json, $w byte" flip manifest-$w manifest.json $w "signature by trusted key $KEYID: signature does not match"
done
pkg_check "signature: a byte of the Ed25519 signature" flip sig-sig "$SIG" sig "signature by trusted key $KEYID: signature does not match"
pkg_check "signature: a byte of the trusted comment" flip sig-comment "$SIG" comment "trusted comment signature does not match"
pkg_check "signature: a byte of the global (comment) signature" flip sig-global "$SIG" global "trusted comment signature does not match"
pkg_check "signature: its first byte (format line)" flip sig-first "$SIG" first "$SIG: .*(not a minisign signature|untrusted comment)"
# The key id inside the signature no longer matches the entry's name.
sig_keyid() {
	pkg_craft flipentry fw.pkg sig-keyid.pkg "$SIG" keyid
	pkg_reject sig-keyid.pkg "$SIG: holds a signature by key [0-9A-F]{16}"
}
pkg_check "signature: a byte of the key id inside it" sig_keyid

# --- every payload: first, middle, last byte; the message names payload and chunk
for p in P1-sec.img P1-boot.img P1-pri.img; do
	for w in first middle last; do
		pkg_check "$p, $w byte" flip_all_readers "$p-$w" "$p" $w "payload $p: chunk [0-9]+ \\((image )?bytes [0-9]+\\.\\.[0-9]+(, package offset [0-9]+)?\\): SHA-256 mismatch"
	done
done
which_chunk() {
	pkg_craft flipentry fw.pkg chunk-last.pkg P1-pri.img last
	# verify also says where in the package file the chunk is (verify names every damaged one).
	expect 1 "chunk 4 \\(image bytes 262144\\.\\.299999, package offset $(($(pkg_craft offset fw.pkg P1-pri.img first) + 262144))\\)" \
		"$B/fwpkg" verify -p k.pub chunk-last.pkg
	pkg_craft flipentry fw.pkg chunk-mid.pkg P1-pri.img 65536
	expect 1 'chunk 1 \(image bytes 65536\.\.131071, package offset [0-9]+\)' "$B/fwpkg" verify -p k.pub chunk-mid.pkg
}
pkg_check "the message names the bad chunk and its byte range" which_chunk

# --- chunk lists
for p in P1-sec.img P1-pri.img; do
	for w in first last; do
		pkg_check "$p.chunks, $w byte" flip_all_readers "chunks-$p-$w" "$p.chunks" $w "payload $p: chunk list does not match the signed manifest"
	done
done

# --- tar headers
pkg_check "a payload header's name byte (header checksum)" flip hdr-name P1-boot.img header 'Damaged|checksum|header'
hdr_size() {
	# size field rewritten with a valid checksum: the entry size no longer matches the manifest
	pkg_craft resize fw.pkg hdr-size.pkg P1-boot.img 1
	pkg_reject hdr-size.pkg 'P1-boot\.img: 5001 bytes, but the manifest says 5000'
}
pkg_check "a payload header's size" hdr_size

# --- a payload swapped for another image of the same size (chunk list kept)
swap_image() {
	randfile other.img 5000
	pkg_craft replace fw.pkg swapped.pkg P1-boot.img P1-boot.img other.img
	pkg_reject swapped.pkg 'payload P1-boot\.img: chunk 0 .*SHA-256 mismatch'
}
pkg_check "a payload replaced by another image of the same size" swap_image
swap_both() {
	# payload and its chunk list replaced consistently: the signed digest still catches it
	randfile other.img 5000
	"$PY" -c 'import hashlib,sys; sys.stdout.buffer.write(hashlib.sha256(open("other.img","rb").read()).digest())' >P1-boot.img.chunks
	pkg_craft replace fw.pkg t.pkg P1-boot.img P1-boot.img other.img
	pkg_craft replace t.pkg swapped2.pkg P1-boot.img.chunks P1-boot.img.chunks P1-boot.img.chunks
	pkg_reject swapped2.pkg 'payload P1-boot\.img: chunk list does not match the signed manifest'
}
pkg_check "a payload and its chunk list replaced consistently" swap_both

# --- extract publishes nothing when the last byte of the last payload is bad, even with -f over existing files
partial() {
	pkg_craft flipentry fw.pkg last.pkg P1-pri.img last
	mkdir -p px
	printf old >px/P1-sec.img
	printf old >px/P1-pri.img
	before=$(treesum px)
	expect 1 'SHA-256 mismatch' "$B/fwpkg" extract -f -C px -p k.pub last.pkg
	[ "$(treesum px)" = "$before" ] || fail "extract -f of a tampered package changed the directory: $(ls -A px)"
	[ "$(cat px/P1-sec.img)" = old ] || fail "an earlier, valid payload replaced an existing file"
}
pkg_check "extract -f of a package with a bad last byte leaves existing files alone" partial

# fwpkg sign reads a package twice: to verify it, then to copy its payloads from the first chunk list on.
# A package rewritten in between (the onrewind shim rewrites it as the copy seeks there) is refused, and
# nothing is written. Built by the Makefile (make check); a missing shim is a failure, never a skip.
[ -f "$B/shim/onrewind.so" ] || fail "no $B/shim/onrewind.so: run make check"
keypair k2
first=$(pkg_craft list fw.pkg | grep '\.chunks$' | head -n 1)
at=$(pkg_craft offset fw.pkg "$first" header)
pkg_craft flipentry fw.pkg other.pkg P1-pri.img last
cp fw.pkg moving.pkg
asan=$(ldd "$B/fwpkg" | sed -n 's/.*=> \(\S*libasan\S*\).*/\1/p')
expect 3 'moving\.pkg: changed while being signed' env LD_PRELOAD="${asan:+$asan }$B/shim/onrewind.so" \
	ONREWIND="cp other.pkg moving.pkg" ONREWIND_OFFSET="$at" "$B/fwpkg" sign -k k2.key -o signed.pkg moving.pkg
[ ! -e signed.pkg ] || fail "a package rewritten while being signed was written out"
[ -z "$(ls -A | grep '\.tmp$')" ] || fail "fwpkg sign left $(ls -A | grep '\.tmp$')"
# The control: the same run without the rewrite signs.
expect 0 '' env LD_PRELOAD="${asan:+$asan }$B/shim/onrewind.so" ONREWIND="true" ONREWIND_OFFSET="$at" \
	"$B/fwpkg" sign -k k2.key -o signed.pkg fw.pkg
expect 0 '' "$B/fwpkg" verify -p k2.pub signed.pkg
ok "fwpkg sign: a package rewritten between its verifying read and the copy is refused, nothing written"

pkg_done
