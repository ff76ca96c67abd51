#!/bin/sh
# test_pkg_cli: command-line hygiene of mkpkg and fwpkg: exit codes, --help, no clobbering, no debris, safe extract.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
mk() { "$B/mkpkg" -q --version 5.22.2 --product P1 --chunk-size 65536 -k k.key "$@"; }

help_ok() {
	expect 0 '' "$B/mkpkg" --help
	grep -q 'usage: mkpkg' "$T/.out" || fail "mkpkg --help does not print its usage on stdout"
	expect 0 '' "$B/fwpkg" --help
	grep -q 'usage: fwpkg' "$T/.out" || fail "fwpkg --help does not print its usage on stdout"
	for c in keygen sign verify inspect extract; do
		expect 0 '' "$B/fwpkg" $c --help
		grep -q "usage: fwpkg $c" "$T/.out" || fail "fwpkg $c --help does not print its usage on stdout"
	done
}
pkg_check "--help exits 0 and prints usage on stdout (mkpkg, fwpkg, every subcommand)" help_ok

usage_errors() {
	expect 2 'unknown command "bogus"' "$B/fwpkg" bogus
	expect 2 'usage' "$B/fwpkg"
	expect 2 'bogus' "$B/mkpkg" --bogus
	for c in keygen sign verify inspect extract; do
		expect 2 'bogus' "$B/fwpkg" $c --bogus fw.pkg
	done
	expect 2 'usage' "$B/fwpkg" verify -p k.pub
	expect 2 "standard input" "$B/fwpkg" verify -p k.pub - -
	expect 2 'missing -o' "$B/mkpkg" --version 1.0 --product P1 --pri pri.img -k k.key
	expect 2 'missing --version' "$B/mkpkg" -o x.pkg --product P1 --pri pri.img -k k.key
	expect 2 'missing --product' "$B/mkpkg" -o x.pkg --version 1.0 --pri pri.img -k k.key
	expect 2 'missing -k' "$B/mkpkg" -o x.pkg --version 1.0 --product P1 --pri pri.img
	expect 2 'no images' mk -o x.pkg
	expect 2 'version' mk -o x.pkg --version 1.x --pri pri.img
	expect 2 'pri, sec or boot' mk -o x.pkg --image P1:kernel=pri.img
	expect 2 'PRODUCT:TARGET=FILE' mk -o x.pkg --image P1-pri.img
	expect 2 'not given with --product' mk -o x.pkg --image P9:pri=pri.img
	expect 2 'exactly one --product' mk -o x.pkg --product P2 --pri pri.img
	expect 2 'chunk-size' mk -o x.pkg --pri pri.img --chunk-size 5000
	expect 2 'not a regular file' mk -o x.pkg --pri "$T"
	[ ! -e x.pkg ] || fail "a refused mkpkg left x.pkg"
}
pkg_check "unknown commands and options, missing or bad arguments: exit 2, named" usage_errors

same_target_twice() {
	expect 2 'two pri images for product "P1"' mk -o x.pkg --image P1:pri=pri.img --image P1:pri=boot.img
	expect 2 'two pri images for product "P1"' mk -o x.pkg --pri pri.img --image P1:pri=boot.img
	[ ! -e x.pkg ] || fail "a refused mkpkg left x.pkg"
	expect 2 'product id' mk -o x.pkg --product ../x --image ../x:pri=pri.img
}
pkg_check "mkpkg: the same target twice for a product is a usage error (exit 2), like a bad product id" same_target_twice

prefixed() {
	# Every diagnostic line starts with the program's name (or is the usage text).
	for cmd in "$B/mkpkg --bogus" "$B/fwpkg verify --bogus fw.pkg" "$B/fwpkg extract -x fw.pkg"; do
		set +e
		$cmd >/dev/null 2>cli.err
		set -e
		head -n 1 cli.err | grep -Eq '^(mkpkg|fwpkg): ' || fail "'$cmd' says: $(head -n 1 cli.err)"
	done
}
pkg_check "option errors read 'mkpkg: ...' / 'fwpkg: ...', like every other message" prefixed

io_errors() {
	expect 3 'no-such\.pkg: cannot open' "$B/fwpkg" verify -p k.pub no-such.pkg
	expect 3 'no-such\.img' mk -o x.pkg --pri no-such.img
	expect 3 'no-such-dir' mk -o no-such-dir/x.pkg --pri pri.img
	expect 3 'no-such-dir' "$B/fwpkg" extract -C no-such-dir/sub -p k.pub fw.pkg
	expect 3 'no-such\.key' mk -o x.pkg --pri pri.img -k no-such.key
}
pkg_check "missing files and directories: exit 3, named" io_errors

once() {
	# "prog: file: why", the file named once
	for cmd in "$B/mkpkg -o x.pkg --version 1.0 --product P1 --pri pri.img -k no-such.key" \
		"$B/mkpkg -o no-such-dir/x.pkg --version 1.0 --product P1 --pri pri.img -k k.key"; do
		set +e
		$cmd >/dev/null 2>cli.err
		set -e
		! grep -Eq '(no-such\.key|no-such-dir/x\.pkg): .*\1' cli.err || fail "'$cmd' repeats the file name: $(cat cli.err)"
	done
}
pkg_check "error messages name the file once" once

# --- mkpkg output files
no_clobber() {
	printf 'precious' >taken.pkg
	expect 2 'already exists' mk -o taken.pkg --pri pri.img
	[ "$(cat taken.pkg)" = precious ] || fail "mkpkg overwrote taken.pkg without -f"
	expect 0 '' mk -f -o taken.pkg --pri pri.img
	expect 0 '' "$B/fwpkg" verify -q -p k.pub taken.pkg
	ln -s fw.pkg link.pkg
	expect 2 'already exists' mk -o link.pkg --pri pri.img
	[ -L link.pkg ] && [ "$(readlink link.pkg)" = fw.pkg ] || fail "mkpkg replaced a symlink without -f"
}
pkg_check "mkpkg refuses to overwrite without -f (file unchanged) and overwrites with -f" no_clobber

no_debris() {
	mkdir clean
	expect 3 'missing\.img' mk -o clean/out.pkg --pri pri.img --sec missing.img
	[ -z "$(ls -A clean)" ] || fail "mkpkg with a missing image left: $(ls -A clean)"
	mkdir -p clean2/sub
	expect 2 'not a regular file' mk -o clean2/out.pkg --pri pri.img --boot clean2/sub
	[ "$(ls -A clean2)" = sub ] || fail "mkpkg with a directory as image left: $(ls -A clean2)"
	printf 'precious' >clean/keep.pkg
	expect 3 'missing\.img' mk -f -o clean/keep.pkg --pri missing.img
	[ "$(cat clean/keep.pkg)" = precious ] && [ "$(ls -A clean)" = keep.pkg ] ||
		fail "a failed mkpkg -f damaged the old file or left debris: $(ls -A clean)"
}
pkg_check "a failed mkpkg leaves no output and no temp file (ls -A)" no_debris

out_mode() {
	(umask 022 && mk -o mode.pkg --pri pri.img)
	[ "$(stat -c %a mode.pkg)" = 644 ] || fail "package mode $(stat -c %a mode.pkg)"
}
pkg_check "mkpkg writes the package 0644 under umask 022" out_mode

# --- extract
x_clobber() {
	mkdir xd
	printf 'old firmware' >xd/P1-pri.img
	before=$(treesum xd)
	expect 2 'P1-pri\.img: already exists' "$B/fwpkg" extract -C xd -p k.pub fw.pkg
	[ "$(treesum xd)" = "$before" ] || fail "extract without -f changed the directory: $(ls -A xd)"
	expect 0 '' "$B/fwpkg" extract -f -C xd -p k.pub fw.pkg
	cmp xd/P1-pri.img pri.img && cmp xd/P1-sec.img sec.img || fail "extract -f did not write the images"
	[ "$(ls -A xd | wc -l)" -eq 3 ] || fail "extract -f left: $(ls -A xd)"
}
pkg_check "extract refuses to overwrite without -f (dir unchanged), overwrites with -f" x_clobber

x_clobber_link() {
	mkdir xl
	ln -s ../victim xl/P1-sec.img
	printf 'victim' >victim
	before=$(treesum xl)
	expect 2 'already exists' "$B/fwpkg" extract -C xl -p k.pub fw.pkg
	[ "$(treesum xl)" = "$before" ] && [ "$(cat victim)" = victim ] || fail "extract followed or replaced a symlink"
	expect 0 '' "$B/fwpkg" extract -f -C xl -p k.pub fw.pkg
	[ "$(cat victim)" = victim ] || fail "extract -f wrote through a symlink"
	[ ! -L xl/P1-sec.img ] && cmp xl/P1-sec.img sec.img || fail "extract -f did not replace the symlink by the image"
}
pkg_check "extract never writes through a symlink in the target directory" x_clobber_link

x_tampered() {
	pkg_craft flipentry fw.pkg bad.pkg P1-pri.img last
	mkdir xt
	echo keep >xt/keep
	before=$(treesum xt)
	expect 1 'SHA-256 mismatch' "$B/fwpkg" extract -C xt -p k.pub bad.pkg
	[ "$(treesum xt)" = "$before" ] || fail "extract of a tampered package left: $(ls -A xt)"
	expect 1 'SHA-256 mismatch' "$B/fwpkg" extract -C xt -p k.pub - <bad.pkg
	[ "$(treesum xt)" = "$before" ] || fail "extract - of a tampered package left: $(ls -A xt)"
	expect 1 'signature' "$B/fwpkg" extract -C xt -p k.pub "$(pkg_craft flipentry fw.pkg badm.pkg manifest.json middle && echo badm.pkg)"
	[ "$(treesum xt)" = "$before" ] || fail "extract of a package with a bad signature left: $(ls -A xt)"
}
pkg_check "extract of a tampered package leaves the directory unchanged (no partial or hidden files)" x_tampered

x_no_verify() {
	mkdir nv
	expect 0 'no-verify' "$B/fwpkg" extract --no-verify -C nv fw.pkg
	cmp nv/P1-pri.img pri.img || fail "extract --no-verify gave other bytes"
	pkg_craft drop fw.pkg unsigned.pkg "$(pkg_craft list fw.pkg | sed -n 2p)"
	mkdir nv2
	expect 0 '' env FWPKG_KEYRING="$T/no-such-dir" "$B/fwpkg" extract -q --no-verify -C nv2 unsigned.pkg
	cmp nv2/P1-pri.img pri.img || fail "extract --no-verify of an unsigned package failed"
	expect 2 'no-verify' "$B/fwpkg" extract --no-verify -p k.pub -C nv fw.pkg
	expect 2 'no trusted keys' env FWPKG_KEYRING="$T/no-such-dir" "$B/fwpkg" extract -C nv fw.pkg
}
pkg_check "extract --no-verify works without keys (with a warning), not with them; no key is no default" x_no_verify

x_modes() {
	pkg_craft chmod fw.pkg suid.pkg P1-pri.img 6777
	pkg_craft headers suid.pkg | grep -q '^P1-pri\.img|0|.*|0006777|' || fail "craft chmod did not set the mode"
	mkdir xm
	(umask 022 && "$B/fwpkg" extract -q -C xm -p k.pub suid.pkg >/dev/null)
	[ "$(stat -c %a xm/P1-pri.img)" = 644 ] || fail "extract honoured the header's mode: $(stat -c %a xm/P1-pri.img)"
}
pkg_check "extract writes 0644 files whatever mode a tar header claims (no setuid)" x_modes

x_cwd() {
	mkdir here
	(cd here && "$B/fwpkg" extract -q -p ../k.pub ../fw.pkg >/dev/null)
	cmp here/P1-boot.img boot.img || fail "extract without -C did not write into the working directory"
	[ ! -e P1-boot.img ] || fail "extract wrote outside its directory"
}
pkg_check "extract without -C writes into the working directory only" x_cwd

inspect_stdout() {
	expect 0 '' "$B/fwpkg" inspect fw.pkg
	[ ! -s "$T/.err" ] || fail "inspect wrote to stderr: $(cat "$T/.err")"
	expect 0 '' "$B/fwpkg" verify --json -p k.pub fw.pkg
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["verified"] is True' <"$T/.out" || fail "verify --json"
	pkg_craft flipentry fw.pkg badj.pkg P1-sec.img first
	expect 1 'SHA-256 mismatch' "$B/fwpkg" verify --json -p k.pub badj.pkg
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["verified"] is False and "SHA-256" in d["error"]' <"$T/.out" ||
		fail "verify --json of a bad package"
}
pkg_check "data on stdout, diagnostics on stderr; verify --json on success and failure" inspect_stdout

# An interrupted mkpkg (Ctrl-C, a CI timeout) leaves no hidden temporary file.
# A FIFO as the image makes it wait, deterministically, with its temp file open.
interrupted() {
	mkdir -p intr && cd intr
	mkfifo slow.img
	"$B/mkpkg" -q -o out.pkg --version 1.0 --product P1 --pri slow.img -k ../k.key &
	pid=$!
	n=0
	while [ -z "$(ls -A | grep '^\.out\.pkg\.')" ]; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "mkpkg never created its temporary file"
		sleep 0.05
	done
	kill -TERM $pid
	set +e; wait $pid; rc=$?; set -e
	[ "$rc" -eq 143 ] || fail "mkpkg exited $rc after SIGTERM, expected 143"
	[ "$(ls -A)" = "slow.img" ] || fail "an interrupted mkpkg left: $(ls -A | tr '\n' ' ')"
	cd ..
}
pkg_check "an interrupted mkpkg leaves no temporary file" interrupted

# A manifest the options make invalid is the user's mistake (exit 2), found before any hashing.
bad_description() {
	expect 2 'description.*not valid UTF-8' mk -o x.pkg --pri pri.img --description "$(printf 'bad\377')"
	[ ! -e x.pkg ] || fail "a refused mkpkg left x.pkg"
}
pkg_check "an invalid description is a usage error and writes nothing" bad_description

# extract -C makes a missing directory (one level), and takes it back on a rejection.
x_new_dir() {
	"$B/fwpkg" extract -q -C newdir -p k.pub fw.pkg >/dev/null || fail "extract into a new directory failed"
	cmp newdir/P1-pri.img pri.img || fail "extract into a new directory gave other bytes"
	pkg_craft flipentry fw.pkg bad-nd.pkg P1-pri.img last
	expect 1 'SHA-256 mismatch' "$B/fwpkg" extract -C gone -p k.pub bad-nd.pkg
	[ ! -e gone ] || fail "a rejected extract left the directory it made"
	expect 3 'cannot open directory' "$B/fwpkg" extract -C no/such/parent -p k.pub fw.pkg
	[ ! -e no ] || fail "extract made parent directories"
}
pkg_check "extract -C makes a missing directory, and removes it again on rejection" x_new_dir

pkg_done
