#!/bin/sh
# test_pkg_support: what support staff and release engineers tripped on in inspect, verify, extract and sign (issue 18), each fixed and kept fixed.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
keypair k2

# Item 11: the table shows times in ISO 8601, never raw epochs; sign counts what the package carries.
iso_times() {
	cp fw.pkg two.pkg
	expect 0 'signed two\.pkg with 1 signature: it now carries 2' "$B/fwpkg" sign -k k2.key two.pkg
	expect 0 '' "$B/fwpkg" inspect two.pkg
	grep -q 'timestamp:2023-11-14T22:13:20Z' "$T/.out" || fail "no ISO timestamp: $(cat "$T/.out")"
	grep -q 'signed:2023-11-14T22:13:20Z' "$T/.out" || fail "no ISO signed: $(cat "$T/.out")"
	! grep -E 'timestamp:|signed' "$T/.out" | grep -Eq ':[0-9]{10}' || fail "a raw epoch in the table: $(cat "$T/.out")"
	[ "$(grep -c '  signed  *2023-11-14T22:13:20Z' "$T/.out")" = 2 ] || fail "not both signing times: $(cat "$T/.out")"
}
pkg_check "inspect shows times in ISO 8601; sign says how many signatures the package now carries" iso_times

# Item 6: JSON carries UTF-8 text as itself, tabs included; \xNN only for what is not UTF-8.
json_text() {
	minisign -G -W -p ms.pub -s ms.key >/dev/null 2>&1 || fail "minisign -G failed"
	mkdir -p jt && (cd jt && tar -xf ../fw.pkg manifest.json)
	(cd jt && minisign -S -s ../ms.key -m manifest.json -x ../jt.minisig -t "$(printf 'tab\there caf\303\251 \033[2J back\\slash')") >/dev/null 2>&1 ||
		fail "minisign -S failed"
	(cd jt && minisign -S -s ../ms.key -m manifest.json -x ../nu.minisig -t "$(printf 'caf\351\tback\\slash')") >/dev/null 2>&1 ||
		fail "minisign -S failed"
	msid=$("$PY" -c 'import sys,base64; l=open(sys.argv[1],"rb").read().split(b"\n")[1]; print(base64.b64decode(l)[2:10][::-1].hex().upper())' jt.minisig)
	sig=$(pkg_craft list fw.pkg | sed -n 2p)
	at=1
	[ "manifest.json.$msid.minisig" \> "$sig" ] && at=2
	for v in jt nu; do
		cp $v.minisig "manifest.json.$msid.minisig"
		pkg_craft insert fw.pkg $v.pkg $at "manifest.json.$msid.minisig"
		expect 0 '' "$B/fwpkg" inspect --json $v.pkg
		cp "$T/.out" $v.json
	done
	"$PY" - jt.json nu.json <<'PYEOF' || fail "inspect --json: $(cat jt.json nu.json)"
import json, sys
raw = open(sys.argv[1]).read()
d = json.loads(raw)
s = [x for x in d["signatures"] if "tab" in x["trusted_comment"]][0]
assert s["trusted_comment"].startswith("tab\there caf\u00e9 \x1b[2J back\\slash"), s
assert "\\t" in raw and "\\x09" not in raw, raw
assert "signed" not in s, s
m = [x for x in d["signatures"] if x["trusted_comment"].startswith("timestamp:")][0]
assert m["signed"] == "2023-11-14T22:13:20Z", m
d = json.load(open(sys.argv[2]))
s = [x for x in d["signatures"] if "caf" in x["trusted_comment"]][0]
assert s["trusted_comment"].startswith("caf\\xe9\tback\\x5cslash"), s
PYEOF
}
pkg_check "inspect --json: UTF-8 text as itself (tab, ESC), \\xNN only for bytes that are not UTF-8; a signing-time field" json_text

# Item 8: sign --remove ID drops a signature, payload bytes untouched, never the last one.
remove_sig() {
	cp fw.pkg rm.pkg
	expect 0 '' "$B/fwpkg" sign -q -k k2.key rm.pkg
	id2=$("$B/fwpkg" inspect --json rm.pkg | "$PY" -c 'import json,sys; print([s["keyid"] for s in json.load(sys.stdin)["signatures"] if s["signed"] and "signed:" in s["trusted_comment"]][0])')
	id1=$("$B/fwpkg" inspect --json fw.pkg | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["signatures"][0]["keyid"])')
	before=$(sha256sum <rm.pkg)
	expect 2 "sign: .*rm\\.pkg: --remove 0123456789ABCDEF: no signature by that key" "$B/fwpkg" sign --remove 0123456789ABCDEF rm.pkg
	[ "$(sha256sum <rm.pkg)" = "$before" ] || fail "a refused --remove changed the package"
	expect 0 'removed 1 signature from rm\.pkg: it now carries 1' "$B/fwpkg" sign --remove "$id2" rm.pkg
	# What is left is the package mkpkg wrote, byte for byte (payloads included).
	cmp rm.pkg fw.pkg || fail "removing the added signature did not give back the original bytes"
	expect 1 'no signature by a trusted key' "$B/fwpkg" verify -p k2.pub rm.pkg
	expect 0 '' "$B/fwpkg" verify -p k.pub rm.pkg
	before=$(sha256sum <rm.pkg)
	expect 2 'refusing to remove the last signature' "$B/fwpkg" sign --remove "$id1" rm.pkg
	[ "$(sha256sum <rm.pkg)" = "$before" ] || fail "refusing the last --remove changed the package"
	ls -A | grep -q '^\.rm\.pkg\|rm\.pkg\..*tmp' && fail "a temporary file was left: $(ls -A)"
	# -o: a new file; the id in lower case as well; rotate in one call.
	lower=$(printf %s "$id1" | tr A-F a-f)
	expect 0 'now carries 1' "$B/fwpkg" sign -k k2.key --remove "$lower" -o rot.pkg rm.pkg
	expect 0 '' "$B/fwpkg" verify -p k2.pub rot.pkg
	expect 1 'no signature by a trusted key' "$B/fwpkg" verify -p k.pub rot.pkg
	cmp rm.pkg fw.pkg || fail "-o changed the input"
	[ "$(pkg_craft offset rot.pkg P1-pri.img first | xargs -I@ sh -c 'tail -c +$((@ + 1)) rot.pkg | sha256sum')" = \
	  "$(pkg_craft offset fw.pkg P1-pri.img first | xargs -I@ sh -c 'tail -c +$((@ + 1)) fw.pkg | sha256sum')" ] ||
		fail "payload bytes changed"
	expect 2 'refusing to remove the last signature' "$B/fwpkg" sign --remove "$id1" -o gone.pkg rm.pkg
	[ ! -e gone.pkg ] || fail "a refused --remove left gone.pkg"
	# What the note counts is what was removed: an id given twice, or one whose key signs anew in
	# the same call (its new signature replaces the old one), is refused, nothing written.
	cp fw.pkg three.pkg
	"$B/fwpkg" keygen -q -W -p k3.pub -s k3.key
	expect 0 'now carries 3' "$B/fwpkg" sign -k k2.key -k k3.key three.pkg
	before=$(sha256sum <three.pkg)
	expect 2 "sign: .*three\.pkg: --remove $lower given twice" "$B/fwpkg" sign --remove "$id1" --remove "$lower" three.pkg
	expect 2 "sign: .*three\.pkg: --remove $id2: that key signs in this call too" \
		"$B/fwpkg" sign -k k2.key --remove "$id2" three.pkg
	[ "$(sha256sum <three.pkg)" = "$before" ] || fail "a refused --remove changed three.pkg"
	ls -A | grep -q 'three\.pkg\.' && fail "a temporary file was left: $(ls -A)"
	expect 0 'removed 2 signatures from three\.pkg: it now carries 1' "$B/fwpkg" sign --remove "$id1" --remove "$id2" three.pkg
	expect 0 '' "$B/fwpkg" verify -p k3.pub three.pkg
	[ "$("$B/fwpkg" inspect --json three.pkg | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["signatures"]))')" = 1 ] ||
		fail "three.pkg does not carry 1 signature"
}
pkg_check "sign --remove ID drops a signature (bytes of the rest untouched), refuses an unknown id and the last one" remove_sig

# A removal package carries no payload: nothing follows its signatures but the end of the archive.
# sign adds to it and --remove takes away from it like any other (it once said "cannot find the payloads").
sign_removal() {
	"$B/mkwmopkg" -q -o rmv.wmopkg --remove brand --version 1.0.0 --product P1 -k k.key
	cp rmv.wmopkg rmv0.wmopkg
	expect 0 'now carries 2' "$B/fwpkg" sign -k k2.key rmv.wmopkg
	expect 0 '' "$B/fwpkg" verify -p k.pub -p k2.pub --min-signatures 2 rmv.wmopkg
	tar -tf rmv.wmopkg >/dev/null || fail "tar cannot list the signed removal package"
	id=$("$B/fwpkg" inspect --json rmv.wmopkg | "$PY" -c 'import json,sys; print([s["keyid"] for s in json.load(sys.stdin)["signatures"] if "signed:" in s["trusted_comment"]][0])')
	expect 0 'removed 1 signature from rmv\.wmopkg: it now carries 1' "$B/fwpkg" sign --remove "$id" rmv.wmopkg
	cmp rmv.wmopkg rmv0.wmopkg || fail "removing the added signature did not give back the original bytes"
}
pkg_check "sign and sign --remove on a removal package (no payloads)" sign_removal

# --remove takes a CMS certificate id (as inspect shows it) as well as a minisign key id.
remove_cms() {
	. "$E2E/pki.sh"
	pki_make >/dev/null 2>&1
	cp fw.pkg cms.pkg
	expect 0 'now carries 3' "$B/fwpkg" sign -k leaf.key --cert leaf.crt --intermediate inter.crt \
		-k leaf2.key --cert leaf2.crt --intermediate inter.crt cms.pkg
	cid=$("$B/fwpkg" inspect --json cms.pkg | "$PY" -c 'import json,sys; print([s["keyid"] for s in json.load(sys.stdin)["signatures"] if s["kind"] == "cms" and s["certificate"]["subject"] == "CN=Firmware Signer"][0])')
	expect 0 'removed 1 signature from cms\.pkg: it now carries 2' "$B/fwpkg" sign --remove "$(printf %s "$cid" | tr A-F a-f)" cms.pkg
	"$B/fwpkg" inspect --json cms.pkg | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert sorted(s["kind"] for s in d["signatures"]) == ["cms", "minisign"] and all(s["keyid"] != sys.argv[1] for s in d["signatures"]), d' "$cid" ||
		fail "after --remove: $("$B/fwpkg" inspect cms.pkg)"
	expect 0 '' "$B/fwpkg" verify --ca root.crt --signer "Firmware Signer 2" cms.pkg
	expect 1 '' "$B/fwpkg" verify --ca root.crt --signer "Firmware Signer" cms.pkg
	expect 0 '' "$B/fwpkg" verify -p k.pub cms.pkg
}
pkg_check "sign --remove ID of a CMS signature (certificate id, any case)" remove_cms

# Item 2: inspect of a damaged or truncated package shows the manifest, the signatures and the problem; exit 1.
damaged() {
	pkg_craft flipentry fw.pkg dmg.pkg P1-sec.img middle
	size=$(stat -c %s fw.pkg)
	pkg_craft cut fw.pkg trunc.pkg $((size / 2))
	for args in "-p k.pub dmg.pkg" "trunc.pkg" "-p k.pub trunc.pkg"; do
		expect 1 'inspect: (dmg|trunc)\.pkg: .*(SHA-256 mismatch|[Tt]runcated)' "$B/fwpkg" inspect $args
		grep -q '^Version: *5\.22\.2$' "$T/.out" || fail "inspect $args shows no manifest: $(cat "$T/.out")"
		grep -Eq '^Problem: .*(SHA-256 mismatch|[Tt]runcated)' "$T/.out" || fail "inspect $args shows no problem: $(cat "$T/.out")"
		grep -q '^Status: *REJECTED' "$T/.out" || fail "inspect $args: status: $(cat "$T/.out")"
		grep -q 'P1-pri\.img' "$T/.out" || fail "inspect $args lists no images: $(cat "$T/.out")"
		expect 1 '' "$B/fwpkg" inspect --json $args
		"$PY" - "$T/.out" <<'PYEOF' || fail "inspect --json $args: $(cat "$T/.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["outcome"] == "rejected" and d["exit_code"] == 1 and d["verified"] is False, d
assert "SHA-256 mismatch" in d["error"] or "runcated" in d["error"], d
assert d["manifest"]["version"] == "5.22.2" and len(d["manifest"]["images"]) == 3, d
assert len(d["signatures"]) == 1, d
PYEOF
	done
	# With the key, the signature shows as checked: the manifest is intact and signed.
	expect 1 '' "$B/fwpkg" inspect -p k.pub dmg.pkg
	grep -Eq '^  [0-9A-F]{16}  valid ' "$T/.out" || fail "signature status not shown: $(cat "$T/.out")"
	# A signature entry that cannot even be parsed: named by its entry, not as a blank id.
	sig=$(pkg_craft list fw.pkg | sed -n 2p)
	echo garbage >garbage.txt
	pkg_craft replace fw.pkg gsig.pkg "$sig" "$sig" garbage.txt
	expect 1 'not a minisign signature' "$B/fwpkg" inspect gsig.pkg
	grep -q "^  ?  *unreadable  *$sig\$" "$T/.out" || fail "unparsed signature shown as: $(sed -n '/^Signatures/,/^Images/p' "$T/.out")"
	! grep -q '^    not checked' "$T/.out" || fail "a blank key id shown: $(cat "$T/.out")"
	# Nothing to show when even the manifest is gone: the one error, as before.
	pkg_craft cut fw.pkg tiny.pkg 300
	expect 1 'tiny\.pkg' "$B/fwpkg" inspect --json tiny.pkg
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["outcome"]=="rejected" and "manifest" not in d, d' <"$T/.out" ||
		fail "inspect --json tiny.pkg: $(cat "$T/.out")"
}
pkg_check "inspect of a damaged or truncated package shows manifest, signatures and the problem (table and JSON), exit 1" damaged

# Item 5: verify names every damaged chunk (up to a cap, then a count), with image bytes and package offset.
all_bad_chunks() {
	pri=$(pkg_craft offset fw.pkg P1-pri.img first)
	boot=$(pkg_craft offset fw.pkg P1-boot.img first)
	pkg_craft flip fw.pkg b1.pkg $((pri + 10))
	pkg_craft flip b1.pkg b2.pkg $((pri + 200000))
	pkg_craft flip b2.pkg bad3.pkg $((boot + 7))
	for src in file pipe; do
		if [ $src = file ]; then
			expect 1 '' "$B/fwpkg" verify -p k.pub bad3.pkg
		else
			expect 1 '' sh -c "cat bad3.pkg | '$B/fwpkg' verify -p k.pub -"
		fi
		[ "$(wc -l <"$T/.err")" = 3 ] || fail "$src: not one line per damaged chunk: $(cat "$T/.err")"
		grep -q "payload P1-boot.img: chunk 0 (image bytes 0\.\.4999, package offset $boot): SHA-256 mismatch, and 2 more damaged chunks" "$T/.err" &&
		grep -q "payload P1-pri.img: chunk 0 (image bytes 0\.\.65535, package offset $pri): SHA-256 mismatch" "$T/.err" &&
		grep -q "payload P1-pri.img: chunk 3 (image bytes 196608\.\.262143, package offset $((pri + 196608))): SHA-256 mismatch" "$T/.err" ||
			fail "$src: $(cat "$T/.err")"
	done
	expect 1 '' "$B/fwpkg" verify --json -p k.pub bad3.pkg
	"$PY" - "$T/.out" "$pri" "$boot" <<'PYEOF' || fail "verify --json: $(cat "$T/.out")"
import json, sys
d = json.load(open(sys.argv[1]))
pri, boot = int(sys.argv[2]), int(sys.argv[3])
assert d["outcome"] == "rejected" and d["damaged_chunks_total"] == 3, d
assert [(c["payload"], c["chunk"], c["image_first"], c["image_last"], c["package_offset"]) for c in d["damaged_chunks"]] == [
    ("P1-boot.img", 0, 0, 4999, boot), ("P1-pri.img", 0, 0, 65535, pri), ("P1-pri.img", 3, 196608, 262143, pri + 196608)], d
PYEOF
	# Over the cap: the first 32 listed, the rest counted.
	"$B/mkpkg" -q -o small.pkg --version 5.22.2 --product P1 --chunk-size 4096 --pri pri.img -k k.key
	at=$(pkg_craft offset small.pkg P1-pri.img first)
	"$PY" - small.pkg many.pkg "$at" <<'PYEOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
for i in range(40):
    b[int(sys.argv[3]) + i * 4096 + 5] ^= 1
open(sys.argv[2], "wb").write(b)
PYEOF
	expect 1 'chunk 0 \(image bytes 0\.\.4095, .*and 39 more damaged chunks' "$B/fwpkg" verify -p k.pub many.pkg
	[ "$(grep -c 'SHA-256 mismatch' "$T/.err")" = 32 ] && grep -q '8 more damaged chunks not listed' "$T/.err" ||
		fail "the cap: $(cat "$T/.err")"
	grep -q 'chunk 31 (image bytes 126976\.\.131071' "$T/.err" || fail "the 32nd: $(cat "$T/.err")"
	expect 0 '' "$B/fwpkg" verify -p k.pub fw.pkg
}
pkg_check "verify names every damaged chunk (32 at most, the rest counted) with image bytes and package offset" all_bad_chunks

# Damaged chunks, then something else ends the read (bytes after the end, the file cut short): the error
# line names that, and every damaged chunk still gets its line (none was lost with the first).
bad_then_other() {
	pri=$(pkg_craft offset fw.pkg P1-pri.img first)
	boot=$(pkg_craft offset fw.pkg P1-boot.img first)
	pkg_craft flip fw.pkg o1.pkg $((pri + 10))
	pkg_craft flip o1.pkg o2.pkg $((boot + 7))
	pkg_craft append o2.pkg tail.pkg 41
	expect 1 '^fwpkg: verify: tail\.pkg: data after the end of the archive$' "$B/fwpkg" verify -p k.pub tail.pkg
	[ "$(wc -l <"$T/.err")" = 3 ] || fail "not one line per damaged chunk: $(cat "$T/.err")"
	grep -q "^fwpkg: verify: tail\.pkg: payload P1-boot.img: chunk 0 (image bytes 0\.\.4999, package offset $boot): SHA-256 mismatch$" "$T/.err" &&
	grep -q "^fwpkg: verify: tail\.pkg: payload P1-pri.img: chunk 0 (image bytes 0\.\.65535, package offset $pri): SHA-256 mismatch$" "$T/.err" ||
		fail "a damaged chunk is not named: $(cat "$T/.err")"
	# One damaged chunk only: still named.
	pkg_craft append o1.pkg tail1.pkg 41
	expect 1 'data after the end of the archive' "$B/fwpkg" verify -p k.pub tail1.pkg
	grep -q "payload P1-pri.img: chunk 0 (image bytes 0\.\.65535, package offset $pri): SHA-256 mismatch$" "$T/.err" ||
		fail "the only damaged chunk is not named: $(cat "$T/.err")"
	expect 1 '' "$B/fwpkg" verify --json -p k.pub tail.pkg
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["damaged_chunks_total"]==2 and "after the end" in d["error"], d' <"$T/.out" ||
		fail "verify --json: $(cat "$T/.out")"
}
pkg_check "verify: damaged chunks and then another fault: the fault in the error line, every damaged chunk named" bad_then_other

# A modification package: every damaged chunk's line names the file's path, as the first line does (and JSON).
mod_bad_chunks() {
	mkdir -p mb/files mb/branding
	randfile mb/files/a.bin 3000
	randfile mb/branding/b.png 3000
	"$B/mkwmopkg" -q -o mb.wmopkg -C mb --version 1.0.0 --product P1 -k k.key
	mkdir -p dm
	pkg_craft flipentry mb.wmopkg x1.wmopkg file-0001 middle
	pkg_craft flipentry x1.wmopkg dm/mb.wmopkg file-0002 middle
	expect 1 '' "$B/fwpkg" verify -p k.pub dm/mb.wmopkg
	[ "$(wc -l <"$T/.err")" = 2 ] || fail "not one line per damaged chunk: $(cat "$T/.err")"
	grep -q '^fwpkg: verify: dm/mb\.wmopkg: payload file-0001 (file branding/b\.png): chunk 0 ' "$T/.err" &&
	grep -q '^fwpkg: verify: dm/mb\.wmopkg: payload file-0002 (file files/a\.bin): chunk 0 ' "$T/.err" ||
		fail "lines: $(cat "$T/.err")"
	expect 1 '' "$B/fwpkg" verify --json -p k.pub dm/mb.wmopkg
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert [c["file"] for c in d["damaged_chunks"]]==["branding/b.png","files/a.bin"], d' <"$T/.out" ||
		fail "verify --json: $(cat "$T/.out")"
}
pkg_check "verify: a modification package's damaged chunks each name the file's path (text and JSON)" mod_bad_chunks

# verify --json of a rejected package, with and without damaged chunks: nothing leaks (valgrind,
# which install-deps installs; a SANITIZE=1 build is checked by its own LeakSanitizer, exit 86).
json_no_leak() {
	if nm "$B/fwpkg" | grep -q __asan_init; then
		leakcheck() { "$@"; }
	else
		leakcheck() { valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=86 "$@"; }
	fi
	pkg_craft flipentry fw.pkg badsig.pkg manifest.json middle
	pkg_craft flipentry fw.pkg badchunk.pkg P1-pri.img middle
	for p in badsig.pkg badchunk.pkg fw.pkg; do
		set +e
		leakcheck "$B/fwpkg" verify --json -p k.pub $p >/dev/null 2>vg.err
		rc=$?
		set -e
		[ "$rc" != 86 ] || fail "a leak: verify --json $p: $(cat vg.err)"
		[ "$rc" -le 1 ] || fail "verify --json $p exited $rc: $(cat vg.err)"
	done
}
pkg_check "verify --json of rejected packages leaks nothing (valgrind, or LeakSanitizer under SANITIZE=1)" json_no_leak

# Item 4: extract PKG NAME... writes the named images, verified, all or nothing; the others are skipped.
extract_names() {
	pkg_craft flipentry fw.pkg secbad.pkg P1-sec.img middle
	expect 0 '' "$B/fwpkg" extract -C one -p k.pub secbad.pkg P1-boot.img P1-pri.img
	[ "$(ls -A one | tr '\n' ' ')" = "P1-boot.img P1-pri.img " ] || fail "wrote $(ls -A one)"
	cmp one/P1-boot.img boot.img && cmp one/P1-pri.img pri.img || fail "extracted other bytes"
	[ "$(cat "$T/.out")" = "P1-boot.img
P1-pri.img" ] || fail "listed $(cat "$T/.out")"
	# From a pipe too.
	expect 0 '' sh -c "'$B/fwpkg' extract -C pipe -p k.pub - P1-pri.img <secbad.pkg"
	[ "$(ls -A pipe)" = P1-pri.img ] && cmp pipe/P1-pri.img pri.img || fail "from a pipe: $(ls -A pipe)"
	# A damaged image among those named: nothing written (the intact one neither), the new directory gone.
	expect 1 'extract: secbad\.pkg: payload P1-sec\.img: chunk [0-9]+ .*SHA-256 mismatch' \
		"$B/fwpkg" extract -C two -p k.pub secbad.pkg P1-pri.img P1-sec.img
	[ ! -e two ] || fail "a rejected extract left $(ls -A two)"
	# An unknown name: exit 2 before anything is written.
	mkdir three
	expect 2 'extract: fw\.pkg: P1-nope\.img: no such image in the package' \
		"$B/fwpkg" extract -C three -p k.pub fw.pkg P1-pri.img P1-nope.img
	[ -z "$(ls -A three)" ] || fail "an unknown name left $(ls -A three)"
	# No names: every image, all or nothing, as before.
	expect 1 'SHA-256 mismatch' "$B/fwpkg" extract -C four -p k.pub secbad.pkg
	[ ! -e four ] || fail "a rejected extract left $(ls -A four)"
	expect 0 '' "$B/fwpkg" extract -C five -p k.pub fw.pkg
	[ "$(ls -A five | wc -l)" = 3 ] || fail "all: $(ls -A five)"
	# A name already there needs -f, as for everything extract writes.
	expect 2 'P1-pri\.img: already exists' "$B/fwpkg" extract -C one -p k.pub fw.pkg P1-pri.img
	expect 0 '' "$B/fwpkg" extract -f -C one -p k.pub fw.pkg P1-pri.img
}
pkg_check "extract PKG NAME... writes only the named images (verified, all or nothing), skips the others" extract_names

# The same for a modification package: a file by its path (as inspect shows it).
extract_mod_file() {
	mkdir -p mt/factory-config mt/branding
	printf 'hostname rsp\n' >mt/factory-config/startup-config.cfg
	randfile mt/branding/logo.png 5000
	"$B/mkwmopkg" -q -o brand.wmopkg -C mt --version 1.0.0 --product P1 -k k.key
	expect 0 '' "$B/fwpkg" inspect brand.wmopkg
	grep -q ' factory-config/startup-config\.cfg$' "$T/.out" || fail "inspect: $(cat "$T/.out")"
	expect 0 '' "$B/fwpkg" extract -C mo -p k.pub brand.wmopkg factory-config/startup-config.cfg
	[ "$(cd mo && find . -type f)" = ./factory-config/startup-config.cfg ] || fail "wrote $(cd mo && find .)"
	cmp mo/factory-config/startup-config.cfg mt/factory-config/startup-config.cfg || fail "other bytes"
	expect 2 'branding/nope\.png: no such file in the package' "$B/fwpkg" extract -C mo2 -p k.pub brand.wmopkg branding/nope.png
	[ ! -e mo2 ] || fail "an unknown name left mo2"
}
pkg_check "extract PKG PATH... of a modification package writes only the named files" extract_mod_file

# Item 6 on the device: fwctl status --json carries a hook's stderr as itself (tab, newline), \xNN only for what is not UTF-8.
status_json_text() {
	D=$T/dev
	printf '#!/bin/sh\ncat >/dev/null\nprintf "scan:\\tEICAR caf\\303\\251\\nline2 caf\\351" >&2\nexit 1\n' >"$T/hook"
	chmod 755 "$T/hook"
	"$B/fwctl" --root "$D" -q init --product P1 --trust k.pub --version 5.20.0 --unpack-hook "$T/hook" >/dev/null
	# The source too (kept as shown, escaped once): a file name with a tab, a backslash and UTF-8.
	tabbed=$(printf 'fw\tcaf\303\251\\x.pkg')
	cp fw.pkg "$tabbed"
	expect 1 'security violation' fw upgrade pri "$T/$tabbed"
	"$B/fwctl" --root "$D" status --json >st.json
	"$PY" - st.json "$T/$tabbed" <<'PYEOF' || fail "status --json: $(cat st.json)"
import json, sys
raw = open(sys.argv[1]).read()
last = json.loads(raw)["last_upgrade"]
assert last["hook_stderr"] == "scan:\tEICAR caf\u00e9\nline2 caf\\xe9", repr(last["hook_stderr"])
assert last["source"] == sys.argv[2], repr(last["source"])
PYEOF
	# The table still shows it escaped, for a terminal.
	expect 0 '' fw status
	grep -q 'scan:\\x09EICAR' "$T/.out" || fail "status table: $(cat "$T/.out")"
}
pkg_check "fwctl status --json carries well-formed text as itself, \\xNN only for bytes that are not UTF-8" status_json_text

pkg_done
