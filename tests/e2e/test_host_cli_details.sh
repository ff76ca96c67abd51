#!/bin/sh
# test_host_cli_details: what a newcomer and an attacker found in mkpkg, mkwmopkg and fwpkg (issue 8), each fixed and kept fixed.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
mk() { "$B/mkpkg" -q --version 5.22.2 --product P1 --chunk-size 65536 -k k.key "$@"; }

# Image paths from a spec in the working directory, or absolute, outlive the JSON that held them.
spec_here() {
	printf '{"version": "1.0", "products": ["P1"], "images": [{"product": "P1", "target": "pri", "path": "pri.img"},
	  {"product": "P1", "target": "sec", "path": "%s/sec.img"}]}\n' "$T" >here.json
	expect 0 '' "$B/mkpkg" -q -o here.pkg --spec here.json -k k.key
	expect 0 '' "$B/fwpkg" extract -q -C here -p k.pub here.pkg
	cmp here/P1-pri.img pri.img && cmp here/P1-sec.img sec.img || fail "--spec in the working directory packed other bytes"
}
pkg_check "mkpkg --spec FILE in the working directory, with a relative and an absolute image path" spec_here

spec_missing() {
	expect 3 '^mkpkg: no-such\.json: cannot open: No such file' "$B/mkpkg" -o x.pkg --spec no-such.json -k k.key
	expect 3 '^mkwmopkg: no-such\.json: cannot open: No such file' "$B/mkwmopkg" -o x.wmopkg --spec no-such.json -k k.key
	[ ! -e x.pkg ] && [ ! -e x.wmopkg ] || fail "a missing spec left output"
}
pkg_check "a missing spec file is an I/O error (exit 3) naming the file" spec_missing

repeated_single() {
	for t in pri sec boot; do
		expect 2 "--$t given twice" mk -o x.pkg --$t pri.img --$t boot.img
	done
	[ ! -e x.pkg ] || fail "a refused mkpkg left x.pkg"
}
pkg_check "a repeated --pri, --sec or --boot is refused like a repeated --image" repeated_single

own_version() {
	for p in mkpkg mkwmopkg fwpkg; do
		expect 0 '' "$B/$p" -V
		grep -Eq "^$p [0-9]+\.[0-9]+ \(package format 1\)$" "$T/.out" || fail "$p -V printed: $(cat "$T/.out")"
	done
	for p in mkpkg mkwmopkg; do
		grep -q '^\.B \\-V$' "$E2E/../../man/$p.1" || fail "-V is not in $p(1)"
	done
}
pkg_check "mkpkg -V and mkwmopkg -V print their own version (--version stays the package's)" own_version

exists_wording() {
	expect 2 'k\.key: already exists \(use -f to overwrite\)' "$B/fwpkg" keygen -W -p k2.pub -s k.key
	! grep -q 'use force' "$T/.err" || fail "keygen still says 'use force'"
	printf x >taken.pkg
	expect 2 'taken\.pkg: already exists \(use -f to overwrite\)' mk -o taken.pkg --pri pri.img
}
pkg_check "one wording for every 'already exists': use -f" exists_wording

newline_out() {
	nl='a
b.pkg'
	"$B/mkpkg" --version 1.0 --product P1 -k k.key -o "$nl" --pri pri.img 2>wrote.err
	[ "$(wc -l <wrote.err)" -eq 1 ] || fail "the wrote line spans lines: $(cat wrote.err)"
	grep -Fq 'wrote a\x0ab.pkg' wrote.err || fail "the output name is not escaped: $(cat wrote.err)"
}
pkg_check "mkpkg's 'wrote' line escapes an output name with a newline" newline_out

out_dir_first() {
	truncate -s 2G huge.img
	mkdir outdir.pkg
	expect 2 'outdir\.pkg: is a directory' timeout 3 "$B/mkpkg" -q -f -o outdir.pkg --version 1.0 --product P1 --pri huge.img -k k.key
	rm -f huge.img
	[ -z "$(ls -A outdir.pkg)" ] || fail "mkpkg -o DIR wrote into it"
}
pkg_check "mkpkg -f -o DIR is refused before any image is hashed" out_dir_first

name_rule() {
	expect 0 '' "$B/mkpkg" -q -o dots.pkg --version 1.0 --product P..1 --pri pri.img -k k.key
	expect 0 '' "$B/fwpkg" verify -p k.pub dots.pkg
	expect 0 '' "$B/fwpkg" extract -q -C dots -p k.pub dots.pkg
	cmp dots/P..1-pri.img pri.img || fail "extract of P..1 gave other bytes"
	expect 2 'invalid product id' "$B/mkpkg" -o x.pkg --version 1.0 --product .P --pri pri.img -k k.key
}
pkg_check "every product id mkpkg accepts (P..1) gives a package the reader accepts" name_rule

# U+009B (CSI) in an entry name, before any signature check: escaped by every command.
csi_name() {
	sig=$(pkg_craft list fw.pkg | sed -n 2p)
	pkg_craft rename fw.pkg csi.pkg "$sig" 'manifest.json.\x9b[2J.minisig'
	pkg_craft rename fw.pkg csi2.pkg P1-sec.img 'P1-\x9b[2J.img'
	for p in csi.pkg csi2.pkg; do
		for c in "verify -p k.pub" "inspect" "inspect --json" "extract -C csi -p k.pub"; do
			set +e
			"$B/fwpkg" $c $p >csi.out 2>csi.err
			rc=$?
			set -e
			# Without a key inspect reads only the manifest: csi2's payload name goes unseen.
			[ "$rc" -eq 1 ] || [ "$p ${c%% *}" = "csi2.pkg inspect" ] || fail "fwpkg $c $p exited $rc"
			! "$PY" -c 'import sys; d=open(sys.argv[1],"rb").read()+open(sys.argv[2],"rb").read(); sys.exit(0 if b"\xc2\x9b" in d or b"\x1b" in d else 1)' csi.out csi.err ||
				fail "fwpkg $c $p printed a raw CSI: $(cat -v csi.err)"
		done
	done
	grep -Fq '\xc2\x9b' csi.err || fail "the CSI is not shown escaped: $(cat csi.err)"
}
pkg_check "an entry name with U+009B (CSI) never reaches the terminal raw (verify, inspect, extract)" csi_name

# A description with C1 controls (U+009B, U+0085), well-formed UTF-8: JSON carries them as \u009b and
# \u0085, never raw, and a parser gets the exact text back; é stays itself.
c1_description() {
	desc=$(printf 'a\302\233[2Jb \302\205 \303\251')
	"$B/mkpkg" -q -o c1.pkg --version 1.0.0 --product P1 --pri pri.img -k k.key --description "$desc"
	"$B/fwpkg" inspect --json c1.pkg >c1.json
	! grep -q "$(printf '\302')" c1.json || fail "fwpkg inspect --json printed a raw C1 control: $(cat -v c1.json)"
	grep -qF 'a\u009b[2Jb \u0085 '"$(printf '\303\251')" c1.json || fail "fwpkg inspect --json: $(cat -v c1.json)"
	"$B/fwpkg" inspect --json c1.pkg | "$PY" -c 'import json,sys
d=json.load(sys.stdin)
want="a\u009b[2Jb \u0085 \u00e9"
sys.exit(0 if want in json.dumps(d, ensure_ascii=False) else 1)' || fail "the description does not read back exactly"
}
pkg_check "C1 controls in JSON are escaped as \\u0080..\\u009f and read back exactly" c1_description

# fwpkg sign in place keeps what the release engineer set: mode, group, a link.
sign_in_place() {
	keypair k2
	cp fw.pkg private.pkg && chmod 600 private.pkg
	cp fw.pkg group.pkg && chgrp daemon group.pkg && chmod 640 group.pkg
	cp fw.pkg fw-1.pkg && ln -s fw-1.pkg latest.pkg
	for p in private.pkg group.pkg latest.pkg; do
		expect 0 '' "$B/fwpkg" sign -q -k k2.key $p
		expect 0 '' "$B/fwpkg" verify --min-signatures 2 -p k.pub -p k2.pub $p
	done
	[ "$(stat -c %a private.pkg)" = 600 ] || fail "a 0600 package came back $(stat -c %a private.pkg)"
	[ "$(stat -c %a:%G group.pkg)" = 640:daemon ] || fail "a 0640 daemon package came back $(stat -c %a:%G group.pkg)"
	[ -L latest.pkg ] && [ "$(readlink latest.pkg)" = fw-1.pkg ] || fail "signing latest.pkg replaced the link"
	expect 0 '' "$B/fwpkg" verify --min-signatures 2 -p k.pub -p k2.pub fw-1.pkg
}
pkg_check "fwpkg sign in place keeps mode and group, and signs the file a link points to" sign_in_place

json_not_utf8() {
	minisign -G -W -p ms.pub -s ms.key >/dev/null 2>&1 || fail "minisign -G failed"
	mkdir -p nu && (cd nu && tar -xf ../fw.pkg manifest.json)
	(cd nu && minisign -S -s ../ms.key -m manifest.json -x ../nu.minisig -t "$(printf 'caf\351 \033[2J')") >/dev/null 2>&1 ||
		fail "minisign -S failed"
	msid=$("$PY" -c 'import sys,base64; l=open(sys.argv[1],"rb").read().split(b"\n")[1]; print(base64.b64decode(l)[2:10][::-1].hex().upper())' nu.minisig)
	# Signature entries are named by key id and sorted by it.
	sig=$(pkg_craft list fw.pkg | sed -n 2p)
	at=1
	[ "manifest.json.$msid.minisig" \> "$sig" ] && at=2
	cp nu.minisig "manifest.json.$msid.minisig"
	pkg_craft insert fw.pkg nu.pkg $at "manifest.json.$msid.minisig"
	expect 0 '' "$B/fwpkg" inspect nu.pkg
	n_table=$(grep -Ec '^  [0-9A-F]{16}  ' "$T/.out")
	expect 0 '' "$B/fwpkg" inspect --json nu.pkg
	"$PY" - "$T/.out" "$n_table" <<'PYEOF' || fail "inspect --json: $(cat "$T/.out")"
import json, sys
d = json.load(open(sys.argv[1]))
sigs = d["signatures"]
assert len(sigs) == int(sys.argv[2]) == 2, (len(sigs), sys.argv[2])
assert any("caf\\xe9" in s["trusted_comment"] for s in sigs), sigs
# JSON carries what is well-formed as itself (ESC as \u001b): only the byte that is not UTF-8 is escaped.
assert any("\x1b[2J" in s["trusted_comment"] for s in sigs), sigs
PYEOF
}
pkg_check "inspect --json shows every signature, a trusted comment that is not UTF-8 escaped" json_not_utf8

truncated() {
	size=$(stat -c %s fw.pkg)
	pkg_craft cut fw.pkg half.pkg $((size / 2))
	expect 1 'half\.pkg: truncated: the manifest declares [0-9]+ bytes of package, the file holds [0-9]+' "$B/fwpkg" inspect half.pkg
	expect 1 'truncated' "$B/fwpkg" inspect --json half.pkg
	pkg_craft cut fw.pkg short.pkg $((size - 10240))
	expect 1 'truncated' "$B/fwpkg" inspect short.pkg
	expect 0 '' "$B/fwpkg" inspect fw.pkg
}
pkg_check "inspect without a key reports a package file shorter than its manifest says as truncated (exit 1)" truncated

json_always() {
	pkg_craft flipentry fw.pkg badsig.pkg manifest.json middle
	for args in "inspect --json -p k.pub badsig.pkg" "verify --json -p k.pub badsig.pkg"; do
		expect 1 '' "$B/fwpkg" $args
		"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["outcome"]=="rejected" and d["exit_code"]==1 and d["verified"] is False and "signature" in d["error"], d' <"$T/.out" ||
			fail "fwpkg $args printed: $(cat "$T/.out")"
	done
	for args in "verify --json -p k.pub no-such.pkg" "inspect --json no-such.pkg" "verify --json -p no-such.pub fw.pkg"; do
		set +e; "$B/fwpkg" $args >j.out 2>/dev/null; rc=$?; set -e
		"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["outcome"]=="error" and d["exit_code"]==int(sys.argv[1]) and d["error"], d' "$rc" <j.out ||
			fail "fwpkg $args (exit $rc) printed: $(cat j.out)"
	done
	expect 0 '' "$B/fwpkg" verify --json -p k.pub fw.pkg
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["outcome"]=="verified" and d["exit_code"]==0' <"$T/.out" || fail "verify --json"
}
pkg_check "with --json stdout always carries one JSON document: verified, rejected or error, exit code, message" json_always

verify_many() {
	pkg_craft flipentry fw.pkg bad1.pkg P1-sec.img first
	expect 0 '' "$B/fwpkg" verify -p k.pub fw.pkg fw.pkg
	[ "$(grep -c ': verified: ' "$T/.out")" -eq 2 ] || fail "two packages, not two lines: $(cat "$T/.out")"
	expect 1 'bad1\.pkg: payload P1-sec\.img' "$B/fwpkg" verify -p k.pub fw.pkg bad1.pkg
	[ "$(wc -l <"$T/.out")" -eq 1 ] && grep -q '^fw\.pkg: verified' "$T/.out" || fail "verify A B: $(cat "$T/.out")"
	expect 3 'no-such\.pkg: cannot open' "$B/fwpkg" verify -p k.pub bad1.pkg no-such.pkg fw.pkg
	grep -q 'bad1\.pkg' "$T/.err" || fail "the rejected package is not named"
	expect 3 '' "$B/fwpkg" verify --json -p k.pub fw.pkg no-such.pkg
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert [x["exit_code"] for x in d]==[0,3], d' <"$T/.out" || fail "verify --json A B: $(cat "$T/.out")"
}
pkg_check "fwpkg verify A B ...: one line each, exit status the highest" verify_many

# extract is all-or-nothing: a rename that fails late (an immutable file or
# directory in the way) undoes the ones before it and the directories made.
x_atomic() {
	mkdir xa
	printf 'old sec\n' >xa/P1-sec.img
	printf 'old pri\n' >xa/P1-pri.img
	chattr +i xa/P1-pri.img || fail "chattr +i failed (needs root on ext4/xfs/btrfs)"
	before=$(treesum xa)
	set +e; "$B/fwpkg" extract -f -C xa -p k.pub fw.pkg >xa.out 2>xa.err; rc=$?; set -e
	chattr -i xa/P1-pri.img
	[ "$rc" -eq 3 ] || fail "extract with an immutable target exited $rc: $(cat xa.err)"
	grep -q '^fwpkg: extract: fw\.pkg: P1-pri\.img: Operation not permitted' xa.err || fail "message: $(cat xa.err)"
	[ "$(treesum xa)" = "$before" ] || fail "a failed extract -f changed the directory: $(ls -A xa; cat xa/P1-sec.img)"
	[ ! -s xa.out ] || fail "a failed extract listed files: $(cat xa.out)"

	# A modification package: files/ is made and filled, then scripts/ (immutable) refuses.
	mkdir -p wt/files/etc wt/scripts
	printf 'motd\n' >wt/files/etc/motd
	printf '#!/bin/sh\n' >wt/scripts/run.sh
	"$B/mkwmopkg" -q -o mod.wmopkg -C wt --version 1.0 --product P1 -k k.key
	mkdir -p xm/scripts
	chattr +i xm/scripts
	before=$(treesum xm)
	set +e; "$B/fwpkg" extract -C xm -p k.pub mod.wmopkg >xm.out 2>xm.err; rc=$?; set -e
	chattr -i xm/scripts
	[ "$rc" -eq 3 ] || fail "extract into an immutable subdirectory exited $rc: $(cat xm.err)"
	[ "$(treesum xm)" = "$before" ] || fail "a failed extract left: $(cd xm && find . | sort | tr '\n' ' ')"

	# And the same extracts go through once nothing is in the way.
	expect 0 '' "$B/fwpkg" extract -q -f -C xa -p k.pub fw.pkg
	cmp xa/P1-pri.img pri.img && cmp xa/P1-sec.img sec.img || fail "extract -f did not replace the images"
	[ "$(ls -A xa | wc -l)" -eq 3 ] || fail "extract -f left: $(ls -A xa)"
	expect 0 '' "$B/fwpkg" extract -q -C xm -p k.pub mod.wmopkg
	cmp xm/files/etc/motd wt/files/etc/motd || fail "extract of the modification package"
}
pkg_check "extract is all-or-nothing: a late rename failure undoes what was published" x_atomic

# Two encrypted keys with different passphrases, in one non-interactive run.
two_passphrases() {
	printf 'alpha\n' >a.txt
	printf 'beta\n' >b.txt
	"$B/fwpkg" keygen -q -p a.pub -s a.key --passphrase-file a.txt
	"$B/fwpkg" keygen -q -p b.pub -s b.key --passphrase-file b.txt
	expect 0 '' "$B/mkpkg" -q -o two.pkg --version 1.0 --product P1 --pri pri.img -k a.key -k b.key \
		--passphrase-file a.txt --passphrase-file b.txt
	expect 0 '' "$B/fwpkg" verify --min-signatures 2 -p a.pub -p b.pub two.pkg
	mkdir -p wt2/files && printf 'x\n' >wt2/files/x
	expect 0 '' "$B/mkwmopkg" -q -o two.wmopkg -C wt2 --version 1.0 --product P1 -k a.key -k b.key \
		--passphrase-file a.txt --passphrase-file b.txt
	expect 0 '' "$B/fwpkg" verify --min-signatures 2 -p a.pub -p b.pub two.wmopkg
	cp fw.pkg two-sign.pkg
	expect 0 '' "$B/fwpkg" sign -q -k a.key -k b.key --passphrase-file a.txt --passphrase-file b.txt two-sign.pkg
	expect 0 '' "$B/fwpkg" verify --min-signatures 3 -p k.pub -p a.pub -p b.pub two-sign.pkg
	expect 6 'b\.key: wrong passphrase' "$B/mkpkg" -o x.pkg --version 1.0 --product P1 --pri pri.img \
		-k a.key -k b.key --passphrase-file a.txt
	expect 6 '^fwpkg: sign: b\.key: wrong passphrase' "$B/fwpkg" sign -k a.key -k b.key --passphrase-file a.txt \
		--passphrase-file a.txt two-sign.pkg
	expect 2 '2 --passphrase-file for 3 keys' "$B/mkpkg" -o x.pkg --version 1.0 --product P1 --pri pri.img \
		-k a.key -k b.key -k k.key --passphrase-file a.txt --passphrase-file b.txt
	expect 6 'a\.key: FWPKG_PASSPHRASE is set but empty' env FWPKG_PASSPHRASE= "$B/mkpkg" -o x.pkg --version 1.0 \
		--product P1 --pri pri.img -k a.key
	[ ! -e x.pkg ] || fail "a refused mkpkg left x.pkg"
}
pkg_check "one --passphrase-file per -k signs with keys of different passphrases; an empty FWPKG_PASSPHRASE is named" two_passphrases

# mkpkg refuses what no device could install.
device_would_refuse() {
	: >empty.img
	expect 2 'empty\.img: empty image' mk -o x.pkg --pri pri.img --sec empty.img
	expect 2 'product "P2" has no image' mk -o x.pkg --product P2 --image P1:pri=pri.img
	expect 2 "x\.img: a firmware package's file name ends in \.pkg" mk -o x.img --pri pri.img
	expect 2 'ends in \.pkg' mk -o .pkg --pri pri.img
	expect 2 'ends in \.pkg' mk -o sub/.pkg --pri pri.img
	[ ! -e x.pkg ] && [ ! -e x.img ] || fail "a refused mkpkg left output"
}
pkg_check "mkpkg refuses a product without images, an empty image, an output name without .pkg" device_would_refuse

keyid_of() { sed -n 's/^untrusted comment: minisign public key \([0-9A-F]\{16\}\)$/\1/p' "$1"; }

# Rejections name every signer and every trusted key; --min-signatures says have and need.
say_everything() {
	keypair t1
	keypair t2
	K=$(keyid_of k.pub) T1=$(keyid_of t1.pub) T2=$(keyid_of t2.pub)
	[ -n "$K" ] && [ -n "$T1" ] || fail "no key ids in the public keys"
	expect 1 "no signature by a trusted key \\(signed by $K; trusted: ($T1, $T2|$T2, $T1)\\)" \
		"$B/fwpkg" verify -p t1.pub -p t2.pub fw.pkg
	cp fw.pkg two.pkg
	"$B/fwpkg" sign -q -k t1.key two.pkg
	expect 1 "too few signatures by trusted keys: have 1, need 2 \\(signed by .*$K.*; trusted: $T1\\)" \
		"$B/fwpkg" verify --min-signatures 2 -p t1.pub two.pkg
	mkdir ring && cp t2.pub ring/a.pub && cp k.pub ring/vendor.pub
	expect 0 '' "$B/fwpkg" verify --keyring ring fw.pkg
	grep -q "signed by $K (ring/vendor\\.pub)$" "$T/.out" || fail "verify --keyring does not name the matching file: $(cat "$T/.out")"
	expect 0 '' "$B/fwpkg" verify --json --keyring ring fw.pkg
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["signer_keys"][sys.argv[1]]=="ring/vendor.pub", d' "$K" <"$T/.out" ||
		fail "verify --json does not name the matching file: $(cat "$T/.out")"
}
pkg_check "rejections name every signer and trusted key, have and need; --keyring names the matching file" say_everything

# -P BASE64: a public key inline, as minisign -P.
inline_key() {
	P=$(sed -n 2p k.pub)
	expect 0 '' "$B/fwpkg" verify -P "$P" fw.pkg
	grep -q "(-P)$" "$T/.out" || fail "verify -P does not say the key came from -P: $(cat "$T/.out")"
	expect 0 '' "$B/fwpkg" inspect -P "$P" fw.pkg
	grep -q '^Status: *verified' "$T/.out" || fail "inspect -P did not verify: $(cat "$T/.out")"
	expect 0 '' "$B/fwpkg" extract -q -C inl -P "$P" fw.pkg
	cmp inl/P1-pri.img pri.img || fail "extract -P"
	keypair other
	expect 1 'no signature by a trusted key' "$B/fwpkg" verify -P "$(sed -n 2p other.pub)" fw.pkg
	expect 6 'verify: -P: not a minisign public key' "$B/fwpkg" verify -P 'not-base64!' fw.pkg
	expect 0 '' env FWPKG_KEYRING="$T/no-such-dir" "$B/fwpkg" verify -P "$P" fw.pkg
}
pkg_check "-P BASE64 gives a public key inline to verify, inspect and extract" inline_key

# fwpkg sign records when it signed, shown apart from the creation time (mkpkg signs when it builds: its timestamp).
signing_time() {
	keypair s2
	cp fw.pkg later.pkg
	SOURCE_DATE_EPOCH=1800000000 "$B/fwpkg" sign -q -k s2.key later.pkg
	expect 0 '' "$B/fwpkg" inspect later.pkg
	grep -q '^Created: *2023-11-14T22:13:20Z$' "$T/.out" || fail "creation time: $(cat "$T/.out")"
	[ "$(grep -c '^ *signed *2027-01-15T08:00:00Z$' "$T/.out")" -eq 1 ] ||
		fail "inspect does not show the signing time once: $(cat "$T/.out")"
	expect 0 '' "$B/fwpkg" inspect --json later.pkg
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); s=[x.get("signed") for x in d["signatures"]]; assert sorted(map(str,s))==["2023-11-14T22:13:20Z","2027-01-15T08:00:00Z"], s' <"$T/.out" ||
		fail "inspect --json: $(cat "$T/.out")"
	expect 0 '' "$B/fwpkg" verify --min-signatures 2 -p k.pub -p s2.pub later.pkg
	# mkpkg's own signatures carry no second time: builds stay byte-identical.
	"$B/mkpkg" -q -o again.pkg --version 5.22.2 --product P1 --chunk-size 65536 --pri pri.img --sec sec.img --boot boot.img -k k.key
	cmp again.pkg fw.pkg || fail "the same build gave other bytes"
}
pkg_check "fwpkg sign records its signing time (SOURCE_DATE_EPOCH when set); inspect shows it apart from creation" signing_time

# Every option a command parses is described in its --help (the tables in the source are the truth).
SRC=$(cd "$E2E/../.." && pwd)
longopts() { grep -ho '{ "[a-z0-9-]*", [a-z_]*_argument' "$@" | sed 's/{ "\([a-z0-9-]*\)".*/\1/'; }
help_complete() {
	for c in keygen sign verify inspect extract; do
		"$B/fwpkg" $c --help >h.out
		# The verifying commands' key and trust options stand in one shared table.
		shared=""
		! grep -q CLI_TRUST_LONG_OPTS "$SRC/tools/cmd_$c.c" || shared=$SRC/tools/cli_trust_opts.h
		for o in $(longopts "$SRC/tools/cmd_$c.c" $shared); do
			grep -Eq -- "--$o( |$)" h.out || fail "fwpkg $c --help does not describe --$o"
		done
	done
	for p in mkpkg mkwmopkg; do
		"$B/$p" --help >h.out
		for o in $(longopts "$SRC/$p/main.c" "$SRC/tools/cli.h"); do
			grep -Eq -- "--$o( |,|$)" h.out || fail "$p --help does not describe --$o"
		done
		grep -Eq -- '^  -V ' h.out || fail "$p --help does not describe -V"
		# The synopsis (the lines up to the first sentence) shows the options a newcomer looks for there, and
		# the same options as the man page's SYNOPSIS.
		for o in compress $([ $p = mkpkg ] && echo delta-from); do
			sed -n '1,/^[A-Z]/p' h.out | grep -q -- "\[--$o " || fail "$p --help: --$o not in its usage lines"
		done
		sed -n '1,/^[A-Z]/p' h.out | grep -o -- '--[a-z0-9-]*' | sort -u >usage.opts
		sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$SRC/man/$p.1" | grep -o -- '\\-\\-[a-z0-9\\-]*' |
			sed 's/\\//g' | sort -u >man.opts
		cmp -s usage.opts man.opts || fail "$p: --help's usage lines and $p(1)'s SYNOPSIS differ: $(diff usage.opts man.opts)"
	done
	"$B/fwpkg" keygen --help | grep -Eq -- '^  -W ' || fail "keygen --help does not describe -W"
	"$B/mkwmopkg" --help | grep -Eq -- '^  -C DIR' || fail "mkwmopkg --help does not describe -C"
	[ "$(longopts "$SRC/tools/cmd_verify.c" "$SRC/tools/cli_trust_opts.h" | wc -l)" -ge 7 ] || fail "the option tables were not found"
}
pkg_check "every subcommand's --help describes each of its options" help_complete

# --compress and --frame-size at and past their bounds: refused before an image is read (exit 2), one line naming
# the option in its own words, no output; the bounds themselves taken.
zstd_options() {
	for a in zstd:0 zstd:23 zstd: zstd:-1 zstd:3x zstd:99999999999999999999 gzip ZSTD; do
		expect 2 "^mkpkg: --compress $a: expected zstd or zstd:LEVEL, LEVEL from 1 to 22\$" mk -o x.pkg --pri pri.img --compress "$a"
	done
	for a in 0 1048575 1572864 536870912 99999999999999999999 1M -1; do
		expect 2 "^mkpkg: --frame-size $a: expected a power of two from 1048576 to 268435456\$" \
			mk -o x.pkg --pri pri.img --compress zstd --frame-size "$a"
	done
	expect 2 '^mkpkg: a frame size without compression: --frame-size goes with --compress$' mk -o x.pkg --pri pri.img --frame-size 1048576
	# A frame ends on a chunk boundary: a frame smaller than a chunk is said in the options' words.
	expect 2 '^mkpkg: --frame-size 1048576 is not a multiple of the chunk size 2097152 \(--chunk-size\)$' \
		"$B/mkpkg" -q -o x.pkg --version 1 --product P1 --pri pri.img -k k.key --compress zstd --frame-size 1048576 --chunk-size 2097152
	mkdir -p wmo/files
	echo hello >wmo/files/hello.txt
	expect 2 '^mkwmopkg: --frame-size 1048576 is not a multiple of the chunk size 4194304 \(--chunk-size\)$' \
		"$B/mkwmopkg" -q -o x.wmopkg -C wmo --version 1 --product P1 -k k.key --compress zstd --frame-size 1048576 --chunk-size 4194304
	[ ! -e x.pkg ] && [ ! -e x.wmopkg ] || fail "a refused build left its output"
	for a in zstd:1 zstd:22; do
		expect 0 '' mk -f -o x.pkg --pri pri.img --compress "$a" --frame-size 268435456
	done
	"$B/fwpkg" inspect --json x.pkg | "$PY" -c 'import json,sys; c=json.load(sys.stdin)["manifest"]["images"][0]["compression"]; assert (c["level"], c["frame_size"]) == (22, 268435456), c'
}
pkg_check "mkpkg/mkwmopkg --compress and --frame-size: out of range, or a frame not a multiple of the chunk, refused in one line (exit 2)" zstd_options

man_pages() {
	for o in pubkey pubkey-base64 seckey key output directory force quiet help; do
		grep -q "^\.BR \\\\-\\\\-$(echo $o | sed 's/-/\\\\-/g') *[,;.]\?\$" "$SRC/man/fwpkg.1" || fail "fwpkg(1) does not list --$o"
	done
	grep -q '^\.B \\-q$' "$SRC/man/fwpkg.1" && grep -q '^\.RB \[ \\-Wfq \]' "$SRC/man/fwpkg.1" || fail "fwpkg(1) does not document keygen -q"
	grep -q 'One bad signature by a trusted key' "$SRC/man/fwpkg.1" || fail "fwpkg(1) does not say one bad trusted signature rejects"
	grep -q '^\.SH EXIT STATUS' "$SRC/man/fwpkg-pkg.5" && grep -q '^\.SH EXAMPLES' "$SRC/man/fwpkg-pkg.5" ||
		fail "fwpkg-pkg(5) lacks EXIT STATUS or EXAMPLES"
	for m in "$SRC"/man/*.[158]; do
		man -l "$m" >/dev/null 2>man.err && [ ! -s man.err ] || fail "$m: $(cat man.err)"
	done
	# Exit 6 (credentials) is documented wherever exit codes are.
	for m in "$SRC"/man/*.[18] "$SRC"/man/fwpkg-pkg.5 "$SRC"/man/fwpkg-wmopkg.5; do
		awk '/^\.SH EXIT STATUS/{p=1; next} /^\.SH/{p=0} p' "$m" | grep -Eq '^\.B 6$|[ (]6 (for|on)|, 6 ' ||
			fail "$m: EXIT STATUS does not document 6"
	done
	grep -q '^| 6 | credentials' "$SRC/README.md" || fail "the README's exit codes lack 6"
}
# Data cut short never exits 0: stdout on a full disk is an I/O error, named once.
stdout_full() {
	for args in "inspect fw.pkg" "inspect --json fw.pkg" "verify --json -p k.pub fw.pkg" "--help"; do
		set +e
		# shellcheck disable=SC2086
		"$B/fwpkg" $args >/dev/full 2>full.err
		rc=$?
		set -e
		[ "$rc" -eq 3 ] || fail "fwpkg $args >/dev/full exited $rc: $(cat full.err)"
		[ "$(cat full.err)" = "fwpkg: cannot write to standard output: No space left on device" ] ||
			fail "fwpkg $args >/dev/full: $(cat full.err)"
	done
}
pkg_check "fwpkg's table, JSON and help onto a full disk: exit 3, one line" stdout_full

pkg_check "man pages: long aliases, keygen -q, fwpkg-pkg(5) EXIT STATUS and EXAMPLES, the bad-signature rule" man_pages

pkg_done
