#!/bin/sh
# test_pkg_reject_stream: byte-level rejections: truncation, data after the end, not a tar, compressed, limits.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
KEYID=$(pkg_craft list fw.pkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
SIG=manifest.json.$KEYID.minisig
END=$(pkg_craft end fw.pkg)     # where the end-of-archive marker (two zero blocks) starts
SIZE=$(wc -c <fw.pkg)

# cut NAME LENGTH PATTERN: the first LENGTH bytes of fw.pkg must be rejected, by verify and extract, from a file and a pipe.
cut_at() {
	pkg_craft cut fw.pkg "$1.pkg" "$2"
	[ "$(wc -c <"$1.pkg")" -eq "$2" ] || fail "craft cut gave $(wc -c <"$1.pkg") bytes"
	pkg_reject "$1.pkg" "$3"
	cat "$1.pkg" | expect 1 "$3" "$B/fwpkg" verify -p k.pub -
}
TRUNC='[Tt]runcated|ends early|missing|end of the archive|end-of-archive'

control() {
	expect 0 '' "$B/fwpkg" verify -p k.pub fw.pkg
	cat fw.pkg | expect 0 '' "$B/fwpkg" verify -p k.pub -
}
pkg_check "control: the whole file verifies, from a file and a pipe" control
pkg_check "truncated inside the first header" cut_at cut-hdr 100 'not a tar|[Tt]runcated|Unrecognized'
pkg_check "truncated after the manifest's header" cut_at cut-manifest-hdr 512 "$TRUNC"
pkg_check "truncated inside the manifest" cut_at cut-manifest "$(pkg_craft offset fw.pkg manifest.json middle)" "$TRUNC"
pkg_check "truncated inside the signature" cut_at cut-sig "$(pkg_craft offset fw.pkg "$SIG" middle)" "$TRUNC"
pkg_check "truncated before a chunk list's header" cut_at cut-before-chunks "$(pkg_craft offset fw.pkg P1-boot.img.chunks header)" "$TRUNC"
pkg_check "truncated inside a chunk list" cut_at cut-chunks "$(pkg_craft offset fw.pkg P1-pri.img.chunks middle)" "$TRUNC"
pkg_check "truncated inside a payload's header" cut_at cut-payload-hdr "$(( $(pkg_craft offset fw.pkg P1-pri.img header) + 200 ))" "$TRUNC"
pkg_check "truncated inside the first payload" cut_at cut-payload1 "$(pkg_craft offset fw.pkg P1-sec.img middle)" "$TRUNC"
pkg_check "truncated inside the last payload" cut_at cut-payload-mid "$(pkg_craft offset fw.pkg P1-pri.img middle)" "$TRUNC"
pkg_check "truncated one byte before the last payload ends" cut_at cut-payload-last "$(pkg_craft offset fw.pkg P1-pri.img last)" "$TRUNC"
# Where a payload's bytes end but its padding does not: a reader that steps
# over payloads (lseek, which goes past a file's end without complaint) must
# still call it truncated, not a missing end-of-archive marker.
pkg_check "truncated where the first payload's bytes end" cut_at cut-payload1-end "$(( $(pkg_craft offset fw.pkg P1-sec.img last) + 1 ))" '[Tt]runcated'
pkg_check "truncated inside the last payload's padding" cut_at cut-payload-pad "$(( $(pkg_craft offset fw.pkg P1-pri.img last) + 17 ))" '[Tt]runcated'
# ... in the very words a pipe gets (a file is read by position, a pipe as a stream).
same_words() {
	pkg_craft cut fw.pkg "$1.pkg" "$2"
	f=$("$B/fwpkg" verify -p k.pub "$1.pkg" 2>&1 | sed "s/$1\.pkg/-/") || true
	p=$(cat "$1.pkg" | "$B/fwpkg" verify -p k.pub - 2>&1) || true
	[ "$f" = "$p" ] || fail "a file and a pipe disagree: $f / $p"
}
pkg_check "cut where a payload's bytes end: a file and a pipe say the same" same_words words-end "$(( $(pkg_craft offset fw.pkg P1-sec.img last) + 1 ))"
pkg_check "cut inside a payload's padding: a file and a pipe say the same" same_words words-pad "$(( $(pkg_craft offset fw.pkg P1-pri.img last) + 17 ))"
pkg_check "truncated inside the end-of-archive marker" cut_at cut-end-mid "$((END + 700))" "$TRUNC"
# A package must end with the end-of-archive marker: a cut exactly at a block
# boundary before it leaves a stream that is only missing its two zero blocks.
pkg_check "truncated just before the end-of-archive marker" cut_at cut-end "$END" "$TRUNC"
pkg_check "truncated after one of the two end blocks" cut_at cut-end-one "$((END + 512))" "$TRUNC"

# --- after the end of the archive: only zero padding
padding() {
	pkg_craft append fw.pkg pad.pkg "$(printf '00%.0s' $(seq 512))"
	expect 0 '' "$B/fwpkg" verify -p k.pub pad.pkg
}
pkg_check "control: zero padding after the end is accepted" padding
trailing() {
	pkg_craft append fw.pkg "$1.pkg" "$2"
	pkg_reject "$1.pkg" 'data after the end of the archive|after the end'
}
pkg_check "one non-zero byte after the end" trailing after-byte 41
pkg_check "a non-zero byte after 512 zero bytes" trailing after-zeros-byte "$(printf '00%.0s' $(seq 512))41"
pkg_check "a whole second package after the end" trailing after-pkg @fw.pkg
lone_zero_block() {
	# the end marker cut to one zero block, then a hidden entry and a proper end
	pkg_craft cut fw.pkg t.pkg "$((END + 512))"
	printf 'hidden payload\n' >hidden.txt
	tar --format=ustar -cf hidden.tar hidden.txt
	pkg_craft append t.pkg lone.pkg @hidden.tar
	pkg_reject lone.pkg 'after the end|unlisted|hidden'
}
pkg_check "a lone zero block, then a hidden entry" lone_zero_block
big_padding() {
	head -c 2097152 /dev/zero >zeros.bin
	pkg_craft append fw.pkg big-pad.pkg @zeros.bin
	pkg_reject big-pad.pkg 'padding|after the end'
}
pkg_check "2 MiB of zero padding after the end (over the limit)" big_padding

# --- not a package at all
empty() {
	: >empty.pkg
	pkg_reject empty.pkg 'empty.pkg: not a fwpkg package: an empty file$'
	expect 1 'not a fwpkg package: an empty file$' "$B/fwpkg" verify -p k.pub - </dev/null
}
pkg_check "an empty file (and empty stdin)" empty
zeros_only() {
	head -c 10240 /dev/zero >zeros.pkg
	pkg_reject zeros.pkg 'empty|no manifest'
}
pkg_check "an archive with no entries (only zero blocks)" zeros_only
random_bytes() {
	randfile random.pkg 70000
	pkg_reject random.pkg 'random.pkg: not a fwpkg package: not a tar archive$'
}
pkg_check "random bytes" random_bytes
random_brace() {
	# Random bytes that happen to start with '{' (one file in 256) are still a
	# damaged package, not a catalog: the catalog test must not be '{' alone.
	{ printf '{\001'; head -c 70000 /dev/urandom; } >brace.pkg
	pkg_reject brace.pkg 'brace.pkg: not a fwpkg package: not a tar archive$'
}
pkg_check "random bytes that start with '{'" random_brace
text_file() {
	printf 'manifest.json\nthis is not a package\n' >text.pkg
	pkg_reject text.pkg 'not a fwpkg package: not a tar archive$'
}
pkg_check "a text file" text_file
gzipped() {
	pkg_craft gzip fw.pkg fw.pkg.gz
	gzip -t fw.pkg.gz
	pkg_reject fw.pkg.gz 'fw.pkg.gz: not a fwpkg package: gzip-compressed data \(a package is an uncompressed tar archive, manifest.json first\)$'
	expect 1 'not a fwpkg package: gzip-compressed data' "$B/fwpkg" inspect - <fw.pkg.gz
}
pkg_check "a gzip-compressed package is rejected, not decompressed" gzipped
other_compressors() {
	for z in bzip2 xz zstd; do
		command -v $z >/dev/null 2>&1 || fail "$z is not installed (scripts/install-deps)"
		$z -c fw.pkg >"fw.pkg.$z"
		pkg_reject "fw.pkg.$z" "fw.pkg.$z: not a fwpkg package: $z-compressed data"
	done
	"$PY" -c "import zipfile; z = zipfile.ZipFile('fw.zip', 'w'); z.write('fw.pkg'); z.close()"
	pkg_reject fw.zip 'fw.zip: not a fwpkg package: a zip archive'
}
pkg_check "bzip2/xz/zstd-compressed packages and a zip are named as such: not a fwpkg package" other_compressors
other_tars() {
	# A plain GNU tar of some files, a POSIX one, and a package's own entries packed again by GNU tar.
	echo x >notes.txt
	tar -cf plain.tar notes.txt
	pkg_reject plain.tar 'plain.tar: not a fwpkg package: a tar archive whose first entry is "notes.txt", not manifest.json$'
	tar --format=posix -cf posix.tar notes.txt
	pkg_reject posix.tar 'posix.tar: not a fwpkg package: entry "notes.txt": extension records'
	mkdir -p gt
	(cd gt && tar -xf ../fw.pkg && tar -cf ../gnu.pkg $(tar -tf ../fw.pkg))
	pkg_reject gnu.pkg 'gnu.pkg: not a fwpkg package: a GNU tar archive'
	[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "more than one line: $(cat "$T/.err")"
}
pkg_check "a plain GNU or POSIX tar, a package packed again by GNU tar: not a fwpkg package" other_tars
cpio_archive() {
	command -v cpio >/dev/null 2>&1 || fail "cpio is not installed (scripts/install-deps)"
	mkdir -p cp
	(cd cp && tar -xf ../fw.pkg && ls | cpio -o -H newc >../fw.cpio 2>/dev/null)
	pkg_reject fw.cpio 'not a fwpkg package: not a tar archive'
}
pkg_check "the same entries as a cpio archive" cpio_archive

# --- limits
big_manifest() {
	pkg_craft bigmanifest fw.pkg big.pkg 1048577
	pkg_reject big.pkg 'manifest\.json: 1048577 bytes, more than the limit of 1048576'
	expect 1 'more than the limit' "$B/fwpkg" inspect big.pkg
}
pkg_check "a manifest one byte over 1 MiB" big_manifest
huge_manifest() {
	pkg_craft bigmanifest fw.pkg huge.pkg 3000000
	pkg_reject huge.pkg 'more than the limit of 1048576'
}
pkg_check "a 3 MB manifest" huge_manifest
limit_manifest() {
	# exactly at the limit: not refused for its size (its signature no longer matches)
	pkg_craft bigmanifest fw.pkg edge.pkg 1048576
	expect 1 'signature' "$B/fwpkg" verify -p k.pub edge.pkg
	if grep -q "more than the limit" "$T/.err"; then fail "a manifest of exactly 1 MiB was refused for its size"; fi
}
pkg_check "a manifest of exactly 1 MiB is within the limit" limit_manifest
big_sig() {
	head -c 5000 /dev/zero | tr '\0' 'A' >big.minisig
	pkg_craft replace fw.pkg big-sig.pkg "$SIG" "$SIG" big.minisig
	pkg_reject big-sig.pkg 'limit|larger|too (long|large)'
}
pkg_check "a signature entry over its size limit" big_sig

pkg_done
