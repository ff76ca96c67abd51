#!/bin/sh
# test_pkg_reject_structure: every entry-level rejection of the reader (verify and extract), on packages crafted with craft.py.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
KEYID=$(pkg_craft list fw.pkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
SIG=manifest.json.$KEYID.minisig
# fw.pkg entries: 0 manifest.json, 1 $SIG, 2 P1-sec.img.chunks, 3 P1-sec.img,
# 4 P1-boot.img.chunks, 5 P1-boot.img, 6 P1-pri.img.chunks, 7 P1-pri.img

# rej NAME PATTERN OP ARGS...: craft NAME.pkg from fw.pkg with craft.py's OP
# (or, with OP "run", by running ARGS), then verify and extract must reject it.
rej() {
	name=$1 pattern=$2 op=$3
	shift 3
	if [ "$op" = run ]; then
		"$@"
	else
		pkg_craft "$op" fw.pkg "$name.pkg" "$@"
	fi
	[ -s "$name.pkg" ] || fail "crafting $name.pkg failed"
	pkg_reject "$name.pkg" "$pattern"
}
# Two-step crafts.
miss_pair() { pkg_craft drop fw.pkg t.pkg P1-pri.img && pkg_craft drop t.pkg miss-pair.pkg P1-pri.img.chunks; }
order_payloads() { pkg_craft move fw.pkg t.pkg P1-pri.img.chunks 2 && pkg_craft move t.pkg order-payloads.pkg P1-pri.img 3; }
extra_symlink() { pkg_craft add fw.pkg t.pkg evil 4 && pkg_craft settype t.pkg extra-symlink.pkg evil symlink /etc/passwd; }
gnu_L_rename() {
	pkg_craft rename fw.pkg t.pkg P1-sec.img QQ-sec.img &&
		pkg_craft special t.pkg gnu-L-rename.pkg 3 L ././@LongLink 'P1-sec.img\x00' gnu
}

control() {
	pkg_craft same fw.pkg same.pkg
	expect 0 '' "$B/fwpkg" verify -p k.pub same.pkg
	mkdir -p same
	expect 0 '' "$B/fwpkg" extract -C same -p k.pub same.pkg
	cmp same/P1-pri.img pri.img
}
pkg_check "control: a package re-packed by craft.py (tarfile, ustar) still verifies" control

# --- unlisted, missing, duplicate, out-of-order entries
pkg_check "unlisted entry after the last payload" rej extra-end 'unlisted entry "extra\.bin"' add extra.bin -1
pkg_check "unlisted entry before the first payload" rej extra-head 'unlisted entry "extra\.bin"' add extra.bin 2
pkg_check "unlisted entry between payloads" rej extra-mid 'unlisted entry "extra\.bin"' add extra.bin 4
pkg_check "unlisted entry named like a chunk list" rej extra-chunks 'unlisted entry "P2-sec\.img\.chunks"' add P2-sec.img.chunks 4
pkg_check "missing last payload" rej miss-last 'missing entry P1-pri\.img' drop P1-pri.img
pkg_check "missing first payload" rej miss-first 'P1-sec\.img' drop P1-sec.img
pkg_check "missing chunk list" rej miss-chunks 'expected P1-boot\.img\.chunks' drop P1-boot.img.chunks
pkg_check "missing chunk list and payload at the end" rej miss-pair 'missing entry P1-pri\.img\.chunks' run miss_pair
pkg_check "duplicate payload" rej dup-payload 'duplicated' dup P1-sec.img
pkg_check "duplicate last payload" rej dup-last 'unlisted entry "P1-pri\.img" after the last payload|duplicated' dup P1-pri.img
pkg_check "duplicate chunk list" rej dup-chunks 'duplicated' dup P1-boot.img.chunks
pkg_check "duplicate manifest.json" rej dup-manifest 'manifest\.json.*(out of place|duplicated)' dup manifest.json
pkg_check "duplicate signature entry" rej dup-sig 'duplicated or out of order' dup "$SIG"
pkg_check "payloads out of manifest order" rej order-payloads 'out of order' run order_payloads
pkg_check "chunk list after its payload" rej order-chunks 'out of order' swap P1-sec.img.chunks P1-sec.img
pkg_check "manifest not first (signature first)" rej manifest-second 'first entry is "manifest\.json\..*", not manifest\.json' move manifest.json 1
pkg_check "manifest not first (payload first)" rej manifest-late 'first entry is "P1-pri\.img", not manifest\.json' move P1-pri.img 0
pkg_check "signature after the payloads" rej sig-late 'unsigned|out of place' move "$SIG" -1

# --- anything but a regular file, even under a payload's own name
pkg_check "directory entry" rej type-dir 'not a regular file' settype P1-sec.img dir
pkg_check "symlink entry" rej type-symlink 'not a regular file' settype P1-sec.img symlink /etc/passwd
pkg_check "hardlink entry (to manifest.json)" rej type-hardlink 'not a regular file' settype P1-sec.img hardlink manifest.json
pkg_check "fifo entry" rej type-fifo 'not a regular file' settype P1-boot.img fifo
pkg_check "character device entry" rej type-chardev 'not a regular file' settype P1-boot.img chardev
pkg_check "symlink entry among the payloads" rej extra-symlink 'not a regular file' run extra_symlink

# --- names: only plain names; the message escapes what it shows
pkg_check "name with '/'" rej name-slash 'unsafe name' rename P1-sec.img sub/P1-sec.img
pkg_check "absolute name" rej name-abs 'unsafe name' rename P1-sec.img /P1-sec.img
pkg_check "name with '..' (path)" rej name-dotdot-path 'unsafe name' rename P1-sec.img ../P1-sec.img
# One name rule for writer and reader: ".." inside a name is no path component,
# so such a name is refused only because the manifest does not list it.
pkg_check "name containing '..', unlisted" rej name-dotdot 'unlisted entry "P1-sec\.\.img"|"P1-sec\.\.img" duplicated or out of order' rename P1-sec.img P1-sec..img
pkg_check "name '..'" rej name-dotdot-only 'unsafe name' add .. 2
pkg_check "name with a leading '.'" rej name-dot 'unsafe name' rename P1-sec.img .P1-sec.img
pkg_check "name with a backslash" rej name-backslash 'unsafe name' rename P1-sec.img 'P1\x5csec.img'
pkg_check "name with a control character (0x01)" rej name-ctl 'unsafe name' rename P1-sec.img 'P1-sec.img\x01'
pkg_check "name with DEL (0x7f)" rej name-del 'unsafe name' rename P1-sec.img 'P1\x7f-sec.img'
pkg_check "name in the ustar prefix field" rej name-prefix 'unsafe name' \
	rename P1-sec.img "$(printf '%060d' 0)/P1-sec.img-$(printf '%050d' 0)"
pkg_check "name longer than the name limit" rej name-long 'unsafe name|unlisted' add "$(printf 'x%.0s' $(seq 90))" 4
esc_shown() {
	pkg_craft rename fw.pkg name-esc.pkg P1-sec.img 'P1\x1b[2J-sec.img'
	pkg_reject name-esc.pkg 'unsafe name'
	! LC_ALL=C grep -q "$(printf '\033')" "$T/.err" || fail "an escape character from the package reached stderr raw"
	grep -Fq '\x1b' "$T/.err" || fail "the escape character is not shown escaped"
}
pkg_check "name with an escape sequence: rejected, shown escaped" esc_shown

# --- tar extensions: pax, GNU
pkg_check "pax extended header (path = its own name)" rej pax-path 'pax' pax P1-sec.img path=P1-sec.img
pkg_check "pax extended header (size override)" rej pax-size 'pax' pax P1-sec.img size=140000
pkg_check "pax extended header (path ../evil)" rej pax-evil 'pax' pax P1-sec.img path=../evil
pkg_check "pax extended header (linkpath)" rej pax-linkpath 'pax' pax P1-boot.img linkpath=manifest.json
pkg_check "pax extended header (comment only) on manifest.json" rej pax-manifest 'pax' pax manifest.json comment=hi
pkg_check "pax global header at the start" rej pax-global 'pax' paxglobal comment=hello
pkg_check "pax global header between payloads" rej pax-global-mid 'pax' special 4 g pax_global_header '15 comment=abc\x0a'
pkg_check "GNU long name (GNU format, name > 100 characters)" rej gnu-longname 'GNU' gnulong P1-sec.img
pkg_check "GNU sparse entry (typeflag S, GNU magic)" rej gnu-sparse 'GNU|sparse' sparse P1-sec.img gnu
pkg_check "GNU header magic on one entry" rej gnu-magic 'GNU' magic P1-sec.img 7573746172202000
pkg_check "old V7 header (no ustar magic)" rej v7-header 'ustar' magic P1-boot.img 0000000000000000

# Hidden header records in front of an otherwise plain ustar entry, and special
# records where libarchive skips them: they must be refused like the ones above.
pkg_check "GNU long-name record ('L') before a POSIX ustar header" rej gnu-L-posix 'GNU|long|not allowed|not a regular' \
	special 3 L ././@LongLink 'P1-sec.img\x00' gnu
pkg_check "GNU long-name record ('L') renaming the next entry" rej gnu-L-rename 'GNU|long|not allowed|not a regular' run gnu_L_rename
pkg_check "GNU long-link record ('K')" rej gnu-K 'GNU|long|not allowed|not a regular' special 3 K ././@LongLink 'manifest.json\x00'
pkg_check "GNU volume header ('V') before the manifest" rej gnu-V-head 'GNU|volume|not allowed|not a regular|first entry' special 0 V volume-label
pkg_check "GNU volume header ('V') with data between payloads" rej gnu-V-mid 'GNU|volume|not allowed|not a regular|unlisted|Damaged' \
	special 4 V hidden 'data that no manifest declares'
pkg_check "pax global header after the last payload" rej pax-global-end 'pax|not allowed|after the last payload' \
	special 8 g pax_global_header '15 comment=abc\x0a'
pkg_check "GNU sparse typeflag 'S' under a POSIX ustar magic" rej gnu-sparse-posix 'GNU|sparse|not a regular' sparse P1-sec.img posix

# --- sizes that disagree with the manifest
pkg_check "payload one byte longer than the manifest says" rej size-plus 'P1-sec\.img: 140001 bytes, but the manifest says 140000' resize P1-sec.img 1
pkg_check "payload one byte shorter" rej size-minus 'P1-sec\.img: 139999 bytes, but the manifest says 140000' resize P1-sec.img -1
pkg_check "payload a block longer" rej size-block 'but the manifest says' resize P1-pri.img 512
pkg_check "empty payload" rej size-empty 'P1-boot\.img: 0 bytes, but the manifest says 5000' resize P1-boot.img -5000
pkg_check "chunk list one digest longer" rej size-chunks-plus 'P1-pri\.img\.chunks: 192 bytes, but the manifest says 160' resize P1-pri.img.chunks 32
pkg_check "chunk list one digest shorter" rej size-chunks-minus 'P1-pri\.img\.chunks: 128 bytes, but the manifest says 160' resize P1-pri.img.chunks -32

# --- signature entries
sig_mismatch() {
	keypair other
	"$B/mkpkg" -q -o other.pkg --version 5.22.2 --product P1 --chunk-size 65536 \
		--pri pri.img --sec sec.img --boot boot.img -k other.key
	oid=$(pkg_craft list other.pkg | sed -n 's/^manifest\.json\.\(.*\)\.minisig$/\1/p')
	tar -xOf other.pkg "manifest.json.$oid.minisig" >other.minisig
	pkg_craft replace fw.pkg sig-swap.pkg "$SIG" "$SIG" other.minisig
	pkg_reject sig-swap.pkg "holds a signature by key $oid"
}
pkg_check "signature entry named for one key, holding another key's signature" sig_mismatch
too_many_sigs() {
	i=0
	mkdir -p sigs
	while [ $i -lt 9 ]; do
		keypair "m$i"
		"$B/mkpkg" -q -o "m$i.pkg" --version 5.22.2 --product P1 --chunk-size 65536 \
			--pri pri.img --sec sec.img --boot boot.img -k "m$i.key"
		n=$(pkg_craft list "m$i.pkg" | sed -n 2p)
		tar -xOf "m$i.pkg" "$n" >"sigs/$n"
		[ $i -eq 0 ] && n0=$n
		i=$((i + 1))
	done
	cmp -s m0.pkg fw.pkg && fail "m0.pkg should differ from fw.pkg (another key)"
	pkg_craft drop fw.pkg t.pkg "$SIG"
	# shellcheck disable=SC2046
	pkg_craft insert t.pkg many.pkg 1 $(ls sigs/* | LC_ALL=C sort)
	[ "$(pkg_craft list many.pkg | grep -c 'minisig$')" -eq 9 ] || fail "crafting 9 signatures failed"
	expect 1 'more than 8 signatures' "$B/fwpkg" verify -p m0.pub many.pkg
	expect 1 'more than 8 signatures' "$B/fwpkg" inspect many.pkg
	pkg_craft drop many.pkg eight.pkg "$(ls sigs | grep -v "$n0" | LC_ALL=C sort | tail -n 1)"
	expect 0 '' "$B/fwpkg" verify -p m0.pub eight.pkg
}
pkg_check "more than 8 signature entries (8 pass)" too_many_sigs

# --- a trusted signature does not make a hostile manifest acceptable
signed_manifest() {
	want=$1 edit=$2
	minisign -G -W -p ms.pub -s ms.key >/dev/null 2>&1 || [ -s ms.key ]
	tar -xOf fw.pkg manifest.json >orig.json
	"$PY" -c "import json,sys; m=json.load(open('orig.json')); $edit; sys.stdout.write(json.dumps(m, indent=2, sort_keys=True)+'\n')" >evil.json
	rm -f evil.json.minisig
	minisign -S -s ms.key -m evil.json >/dev/null 2>&1
	msid=$(sed -n 2p ms.pub | "$PY" -c 'import base64,sys; print(base64.b64decode(sys.stdin.read())[2:10][::-1].hex().upper())')
	pkg_craft replace fw.pkg t.pkg manifest.json manifest.json evil.json
	pkg_craft replace t.pkg evil.pkg "$SIG" "manifest.json.$msid.minisig" evil.json.minisig
	expect 1 "$want" "$B/fwpkg" verify -p ms.pub evil.pkg
	rm -rf xdir2
	mkdir xdir2
	expect 1 "$want" "$B/fwpkg" extract -C xdir2 -p ms.pub evil.pkg
	[ -z "$(ls -A xdir2)" ] || fail "extract wrote $(ls -A xdir2)"
	[ ! -e evil.img ] && [ ! -e ../evil.img ] || fail "extract wrote outside its directory"
}
control_signed() {
	signed_manifest_ok=1
	minisign -G -W -p ms.pub -s ms.key >/dev/null 2>&1 || [ -s ms.key ]
	tar -xOf fw.pkg manifest.json >resigned.json
	rm -f resigned.json.minisig
	minisign -S -s ms.key -m resigned.json >/dev/null 2>&1
	msid=$(sed -n 2p ms.pub | "$PY" -c 'import base64,sys; print(base64.b64decode(sys.stdin.read())[2:10][::-1].hex().upper())')
	pkg_craft replace fw.pkg resigned.pkg "$SIG" "manifest.json.$msid.minisig" resigned.json.minisig
	expect 0 '' "$B/fwpkg" verify -p ms.pub resigned.pkg
}
pkg_check "control: the same manifest re-signed with stock minisign verifies" control_signed
pkg_check "signed manifest naming a payload '../evil.img'" signed_manifest 'evil' \
	'm["images"][0]["file"] = "../evil.img"'
pkg_check "signed manifest naming a payload 'sub/evil.img'" signed_manifest 'evil' \
	'm["images"][0]["file"] = "sub/evil.img"'
pkg_check "signed manifest naming a payload '.hidden'" signed_manifest 'hidden' \
	'm["images"][0]["file"] = ".hidden"'
pkg_check "signed manifest naming a payload 'manifest.json'" signed_manifest 'manifest|payload|name' \
	'm["images"][0]["file"] = "manifest.json"'
pkg_check "signed manifest listing one payload twice" signed_manifest 'P1-sec\.img|twice|duplicate' \
	'm["images"].append(dict(m["images"][0]))'
pkg_check "signed manifest with an unknown format version" signed_manifest 'format' \
	'm["format_version"] = 99'
pkg_check "signed manifest with a chunk size that is not a power of two" signed_manifest 'chunk' \
	'm["images"][0]["chunk_size"] = 65537'
pkg_check "signed manifest with a malformed version" signed_manifest 'version' \
	'm["version"] = "5.x.2"'

pkg_done
