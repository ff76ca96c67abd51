#!/bin/sh
# test_wmopkg_roundtrip: mkwmopkg -> verify/inspect/extract gives back the tree with its modes; tar, minisign, reproducibility, sign.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

# A tree under every root: several chunks (64 KiB), an empty file, UTF-8 and
# spaces in names, modes that must normalise, an empty directory, and hooks
# that would leave a mark if anything ran them.
keypair k
mkdir -p tree/factory-config tree/branding/img tree/services/profinet tree/scripts \
	"tree/files/etc/ünï code" tree/files/empty-dir
printf 'hostname rsp\n' >tree/factory-config/startup-config.cfg
chmod 600 tree/factory-config/startup-config.cfg
randfile tree/branding/img/logo.png 200000
: >tree/services/profinet/enable
printf 'motd\n' >"tree/files/etc/ünï code/motd.txt"
chmod 640 "tree/files/etc/ünï code/motd.txt"
printf '#!/bin/sh\ntouch "%s/HOOK-RAN"\n' "$T" >tree/scripts/activate.sh
chmod 700 tree/scripts/activate.sh
printf '#!/bin/sh\ntouch "%s/HOOK-RAN"\n' "$T" >tree/scripts/deactivate.sh
chmod 755 tree/scripts/deactivate.sh
printf 'x\n' >tree/files/tool
chmod 710 tree/files/tool

build() { # build OUT [MORE OPTIONS]
	out=$1
	shift
	"$B/mkwmopkg" -q -o "$out" -C tree --version 1.0.2 --product RSP-30 --product RSP-40 \
		--description "Profinet on, ACME branding" --min-fw 5.22.2 --max-fw 5.26.0-rev0 \
		--persistent-allowed --hook activate=scripts/activate.sh \
		--hook deactivate=scripts/deactivate.sh --chunk-size 65536 -k k.key "$@"
}

expect 0 '' build profinet.wmopkg
[ ! -s "$T/.out" ] && [ ! -s "$T/.err" ] || fail "mkwmopkg -q printed something"
ls -A | grep -v '^\.\(out\|err\)$' | grep -q '^\.' && fail "mkwmopkg left a hidden file: $(ls -A)"
ok "mkwmopkg builds a package quietly, leaving no temporary file"

KEYID=$(pkg_craft list profinet.wmopkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
[ -n "$KEYID" ] || fail "no signature entry manifest.json.<KEYID>.minisig"
SIG=manifest.json.$KEYID.minisig

# --- verify
expect 0 '' "$B/fwpkg" verify -p k.pub profinet.wmopkg
grep -q "verified: modification 1.0.2, 7 files, signed by $KEYID" "$T/.out" ||
	fail "verify verdict: $(cat "$T/.out")"
expect 0 '' "$B/fwpkg" verify --json -p k.pub profinet.wmopkg
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["type"]=="modification" and d["verified"], d' \
	"$T/.out" || fail "verify --json: $(cat "$T/.out")"
expect 0 '' "$B/fwpkg" verify -p k.pub - <profinet.wmopkg
ok "verify accepts the package (file, --json, stdin), names its type and signer"

# --- inspect: table
expect 0 '' "$B/fwpkg" inspect -p k.pub profinet.wmopkg
for re in '^Type: +modification' '^Name: +profinet$' '^Version: +1\.0\.2$' '^Products: +RSP-30 RSP-40$' \
	'^Firmware: +5\.22\.2 to 5\.26\.0-rev0$' '^Persistent: +allowed$' '^Status: +verified' \
	"^ +$KEYID +valid" '^Hooks: \(shown only: host tools never run them\)$' \
	'^ +activate +scripts/activate\.sh$' '^ +deactivate +scripts/deactivate\.sh$'; do
	grep -Eq "$re" "$T/.out" || fail "inspect table lacks /$re/: $(cat "$T/.out")"
done
grep -q WARNING "$T/.out" && fail "inspect warns about a correct package"
logo_sha=$(sha256sum tree/branding/img/logo.png | cut -d' ' -f1)
empty_sha=$(sha256sum tree/services/profinet/enable | cut -d' ' -f1)
grep -Eq "^  0644 +200000  $logo_sha  branding/img/logo\.png$" "$T/.out" || fail "inspect: no logo row"
grep -Eq "^  0644 +0  $empty_sha  services/profinet/enable$" "$T/.out" || fail "inspect: no empty-file row"
grep -Eq "^  0755 +[0-9]+  [0-9a-f]{64}  scripts/activate\.sh$" "$T/.out" || fail "inspect: no hook row"
grep -Eq "^  0755 +2  [0-9a-f]{64}  files/tool$" "$T/.out" || fail "inspect: files/tool not 0755"
grep -Eq "^  0644 +5  [0-9a-f]{64}  files/etc/ünï code/motd\.txt$" "$T/.out" || fail "inspect: UTF-8 path row"
[ "$(grep -Ec '^  0(644|755) ' "$T/.out")" -eq 7 ] || fail "inspect lists other than 7 files"
expect 0 '' "$B/fwpkg" inspect --sha256 profinet.wmopkg
grep -Eq "^  0644 +200000  $logo_sha  branding/img/logo\.png$" "$T/.out" || fail "inspect --sha256: logo row"
ok "inspect shows name, firmware range, persistence, the file tree (MODE SIZE SHA256 PATH) and hooks"

# --- inspect: JSON
expect 0 '' "$B/fwpkg" inspect --json -p k.pub profinet.wmopkg
"$PY" - "$T/.out" "$logo_sha" <<'EOF' || fail "inspect --json: unexpected document"
import json, sys
text = open(sys.argv[1]).read()
assert text.endswith("}\n")
d = json.loads(text)
m = d["manifest"]
assert m["type"] == "modification" and m["name"] == "profinet" and m["version"] == "1.0.2", m
assert m["products"] == ["RSP-30", "RSP-40"], m["products"]
assert m["firmware"] == {"min": "5.22.2", "max": "5.26.0-rev0"}, m["firmware"]
assert m["persistent_allowed"] is True
assert m["hooks"] == {"activate": "scripts/activate.sh", "deactivate": "scripts/deactivate.sh"}, m["hooks"]
paths = [f["path"] for f in m["files"]]
assert paths == ["branding/img/logo.png", "factory-config/startup-config.cfg",
                 "files/etc/\u00fcn\u00ef code/motd.txt", "files/tool", "scripts/activate.sh",
                 "scripts/deactivate.sh", "services/profinet/enable"], paths
assert [f["entry"] for f in m["files"]] == ["file-%04d" % (i + 1) for i in range(len(paths))]
logo = m["files"][0]
assert logo["sha256"] == sys.argv[2] and logo["mode"] == "0644" and logo["size"] == 200000, logo
assert logo["chunk_size"] == 65536
modes = {f["path"]: f["mode"] for f in m["files"]}
assert modes["files/tool"] == "0755" and modes["factory-config/startup-config.cfg"] == "0644", modes
assert "images" not in m and "image_generation" not in m
assert d["verified"] is True and d["file_name_ok"] is True
EOF
ok "inspect --json carries the whole modification manifest"

# --- extract: the tree comes back, with declared modes whatever the umask
mkdir out
expect 0 '' sh -c "umask 077; exec \"$B/fwpkg\" extract -C out -p k.pub profinet.wmopkg"
(cd tree && find . -type f | sort) >want.txt
(cd out && find . -type f | sort) >got.txt
cmp -s want.txt got.txt || fail "extracted files differ: $(diff want.txt got.txt)"
while IFS= read -r f; do
	cmp "tree/$f" "out/$f" || fail "$f differs"
done <want.txt
for f in factory-config/startup-config.cfg branding/img/logo.png services/profinet/enable \
	"files/etc/ünï code/motd.txt"; do
	[ "$(stat -c %a "out/$f")" = 644 ] || fail "$f has mode $(stat -c %a "out/$f"), not 644"
done
for f in scripts/activate.sh scripts/deactivate.sh files/tool; do
	[ "$(stat -c %a "out/$f")" = 755 ] || fail "$f has mode $(stat -c %a "out/$f"), not 755"
done
[ ! -e out/files/empty-dir ] || fail "extract made the empty directory (it is not in the package)"
ls -A out | grep -q '^\.' && fail "extract left a hidden file: $(ls -A out)"
[ "$(wc -l <"$T/.out")" -eq 7 ] || fail "extract did not list the 7 files: $(cat "$T/.out")"
ok "extract gives back the tree byte for byte, files at their paths with modes 0644/0755 (umask 077)"

expect 2 'already exists \(use -f to overwrite\)' "$B/fwpkg" extract -C out -p k.pub profinet.wmopkg
ls -A out | grep -q '^\.' && fail "a refused extract left a hidden file"
echo changed >out/services/profinet/enable
expect 0 '' "$B/fwpkg" extract -f -C out -p k.pub profinet.wmopkg
[ ! -s out/services/profinet/enable ] || fail "extract -f did not replace the file"
ok "extract refuses to overwrite without -f, replaces with -f"

# extract never writes through a symbolic link in the target directory
mkdir out2 elsewhere
ln -s ../elsewhere out2/branding
before=$(treesum elsewhere)
expect 2 'branding: exists and is not a directory \(or is a symbolic link\)' \
	"$B/fwpkg" extract -f -C out2 -p k.pub profinet.wmopkg
[ "$(treesum elsewhere)" = "$before" ] || fail "extract wrote through a symlink"
[ "$(ls -A out2)" = branding ] || fail "a refused extract wrote into out2: $(ls -A out2)"
ok "extract refuses a symbolic link on the way to a file, writing nothing"

mkdir out3
expect 0 '' sh -c "\"$B/fwpkg\" extract -C out3 -p k.pub - <profinet.wmopkg"
cmp out3/branding/img/logo.png tree/branding/img/logo.png || fail "extract from stdin"
ok "extract reads a package from stdin"

# --- interop: GNU tar and bsdtar list it, stock minisign verifies the manifest
tar tf profinet.wmopkg >list.txt || fail "GNU tar cannot list the package"
{
	printf '%s\n' manifest.json "$SIG"
	for i in 1 2 3 4 5 6 7; do printf 'file-000%s.chunks\nfile-000%s\n' "$i" "$i"; done
} >want-list.txt
cmp -s want-list.txt list.txt || fail "tar tf: $(tr '\n' ' ' <list.txt)"
command -v bsdtar >/dev/null 2>&1 || fail "bsdtar is not installed (scripts/install-deps: libarchive-tools)"
bsdtar -tf profinet.wmopkg >bsd-list.txt || fail "bsdtar cannot list the package"
cmp -s want-list.txt bsd-list.txt || fail "bsdtar -t: $(tr '\n' ' ' <bsd-list.txt)"
mkdir gnu
tar -xf profinet.wmopkg -C gnu || fail "GNU tar cannot extract the package"
cmp gnu/file-0001 tree/branding/img/logo.png || fail "file-0001 is not the first path's bytes"
ok "tar tf lists manifest.json, the signature, then chunk list + file-NNNN in sorted path order"

command -v minisign >/dev/null 2>&1 || fail "minisign is not installed (scripts/install-deps)"
(cd gnu && minisign -V -p ../k.pub -m manifest.json -x "$SIG") >ms.out 2>&1 ||
	fail "stock minisign -V rejects the extracted manifest: $(cat ms.out)"
grep -q 'type:modification' ms.out || fail "trusted comment does not carry the type: $(cat ms.out)"
sed 's/"persistent_allowed": true/"persistent_allowed": false/' gnu/manifest.json >gnu/m2.json
cmp -s gnu/m2.json gnu/manifest.json && fail "sed did not change the manifest"
cp gnu/m2.json gnu/manifest.json
if (cd gnu && minisign -V -p ../k.pub -m manifest.json -x "$SIG") >/dev/null 2>&1; then
	fail "stock minisign accepts a modified manifest"
fi
ok "stock minisign -V verifies the extracted manifest, and refuses it modified"

# --- reproducible: same tree and SOURCE_DATE_EPOCH give the same bytes,
# whatever the umask, file times and non-execute mode bits.
mkdir again
build again/profinet.wmopkg >/dev/null 2>&1 || fail "second build failed"
cmp profinet.wmopkg again/profinet.wmopkg || fail "two builds differ"
touch -d '2001-01-01' tree/branding/img/logo.png tree/scripts/activate.sh
chmod 644 tree/factory-config/startup-config.cfg
chmod 751 tree/scripts/activate.sh
(umask 077 && build again/profinet.wmopkg -f >/dev/null 2>&1) || fail "third build failed"
cmp profinet.wmopkg again/profinet.wmopkg || fail "a build after touch/chmod differs"
SOURCE_DATE_EPOCH=1700000001 build again/profinet.wmopkg -f >/dev/null 2>&1 || fail "fourth build failed"
cmp -s profinet.wmopkg again/profinet.wmopkg && fail "SOURCE_DATE_EPOCH does not reach the package"
ok "two builds of the same tree are byte-identical (also after touch, chmod, umask); the date counts"

# --- --spec: the same package from a spec file
cat >spec.json <<'EOF'
{"version": "1.0.2", "products": ["RSP-30", "RSP-40"], "description": "Profinet on, ACME branding",
 "firmware": {"min": "5.22.2", "max": "5.26.0-rev0"}, "persistent_allowed": true,
 "hooks": {"activate": "scripts/activate.sh", "deactivate": "scripts/deactivate.sh"},
 "chunk_size": 65536, "directory": "tree"}
EOF
mkdir spec
expect 0 '' "$B/mkwmopkg" -q -o spec/profinet.wmopkg --spec spec.json -k k.key
cmp profinet.wmopkg spec/profinet.wmopkg || fail "--spec gives another package"
ok "--spec builds the same bytes as the options"

# --- sign: a second signature, payload bytes untouched
keypair k2
mkdir two
cp profinet.wmopkg two/
expect 0 '' "$B/fwpkg" sign -q -k k2.key two/profinet.wmopkg
expect 0 '' "$B/fwpkg" verify -p k2.pub two/profinet.wmopkg
expect 0 '' "$B/fwpkg" verify -p k.pub two/profinet.wmopkg
expect 0 '' "$B/fwpkg" verify --min-signatures 2 -p k.pub -p k2.pub two/profinet.wmopkg
expect 1 'no signature by a trusted key' "$B/fwpkg" verify -p k2.pub profinet.wmopkg
first=$(pkg_craft offset profinet.wmopkg file-0001.chunks header)
first2=$(pkg_craft offset two/profinet.wmopkg file-0001.chunks header)
tail -c +"$((first + 1))" profinet.wmopkg >a.tail
tail -c +"$((first2 + 1))" two/profinet.wmopkg >b.tail
cmp a.tail b.tail || fail "sign changed payload bytes"
ok "fwpkg sign adds a signature to a .wmopkg without touching a payload byte"

[ ! -e "$T/HOOK-RAN" ] || fail "a hook script was run on the host"
ok "no host command ran a hook"

echo "all $TESTS checks passed"
