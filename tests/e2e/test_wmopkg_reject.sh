#!/bin/sh
# test_wmopkg_reject: bad trees, bad names and bad .wmopkg packages are refused with a message naming the problem, changing nothing.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

keypair k
mkdir -p tree/services tree/scripts tree/branding
printf 'profinet on\n' >tree/services/profinet.conf
printf '#!/bin/sh\nexit 0\n' >tree/scripts/activate.sh
chmod 755 tree/scripts/activate.sh
randfile tree/branding/logo.png 10000
"$B/mkwmopkg" -q -o good.wmopkg -C tree --version 1.0 --product P1 --chunk-size 4096 \
	--hook activate=scripts/activate.sh -k k.key || fail "cannot build the fixture"
KEYID=$(pkg_craft list good.wmopkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
[ -n "$KEYID" ] || fail "no signature entry"

# wmo_reject PKG PATTERN: verify and extract must both exit 1 naming the
# problem, and extract must leave its directory, and the one above, unchanged.
wmo_reject() {
	expect 1 "$2" "$B/fwpkg" verify -p k.pub "$1"
	rm -rf "$T/x"
	mkdir -p "$T/x/dir"
	echo keep >"$T/x/dir/keep"
	before=$(treesum "$T/x")
	expect 1 "$2" "$B/fwpkg" extract -q -C "$T/x/dir" -p k.pub "$1"
	[ "$(treesum "$T/x")" = "$before" ] || fail "extract of $1 changed the file system: $(find "$T/x")"
}

# mkwmopkg_refuses CODE PATTERN OUT [OPTIONS]: mkwmopkg from `tree` fails so, and writes nothing.
mkwmopkg_refuses() {
	code=$1 pattern=$2 out=$3
	shift 3
	before=$(ls -A | grep -v '^\.\(out\|err\)$')
	expect "$code" "$pattern" "$B/mkwmopkg" -o "$out" -C tree --version 1.0 --product P1 -k k.key "$@"
	[ "$(ls -A | grep -v '^\.\(out\|err\)$')" = "$before" ] || fail "a refused mkwmopkg wrote something: $(ls -A)"
}

# --- what mkwmopkg refuses
mkwmopkg_refuses 2 '^mkwmopkg: the file name "x\.pkg" does not end in \.wmopkg' x.pkg
mkwmopkg_refuses 2 'does not end in \.wmopkg' profinet
mkwmopkg_refuses 2 'does not end in \.wmopkg' profinet.WMOPKG
mkwmopkg_refuses 2 'no valid package name' .wmopkg
mkwmopkg_refuses 2 'no valid package name' 'a+b.wmopkg'
ok "mkwmopkg refuses an output name without the .wmopkg extension or with a bad package name (exit 2)"

ln -s profinet.conf tree/services/link
mkwmopkg_refuses 1 'mkwmopkg: tree: services/link: a symbolic link' sym.wmopkg
rm tree/services/link
ln -s /etc tree/branding/etc
mkwmopkg_refuses 1 'branding/etc: a symbolic link' sym.wmopkg
rm tree/branding/etc
ok "mkwmopkg refuses a symbolic link in the tree (to a file or a directory), writing nothing"

ln tree/services/profinet.conf tree/services/again.conf
mkwmopkg_refuses 1 'services/again\.conf: a hard link' hl.wmopkg
rm tree/services/again.conf
mkfifo tree/services/fifo
mkwmopkg_refuses 1 'services/fifo: a FIFO' fifo.wmopkg
rm tree/services/fifo
echo x >tree/README
mkwmopkg_refuses 1 'README: a file at the top of the tree, which holds only the directories' top.wmopkg
rm tree/README
# A tree whose top entry has the tree's own name: the message names both (the tree, then the entry).
mkdir -p tree2/services
echo x >tree2/services/a.conf
echo x >tree2/tree2
expect 1 '^mkwmopkg: tree2: tree2: a file at the top of the tree' "$B/mkwmopkg" -o t2.wmopkg -C tree2 --version 1.0 \
	--product P1 -k k.key
[ ! -e t2.wmopkg ] || fail "a refused mkwmopkg wrote t2.wmopkg"
rm -r tree2
mkdir tree/etc
echo x >tree/etc/passwd
mkwmopkg_refuses 1 'etc: a directory at the top of the tree' top.wmopkg
rm -r tree/etc
printf x >"$(printf 'tree/services/bad\033[31mname')"
mkwmopkg_refuses 1 'services/bad\\x1b\[31mname: a name with a control character' ctl.wmopkg
rm "$(printf 'tree/services/bad\033[31mname')"
ok "mkwmopkg refuses hard links, FIFOs, entries outside the fixed roots, control characters"

mkwmopkg_refuses 2 'hook activate: scripts/nope\.sh is not a file in the tree' h.wmopkg \
	--hook activate=scripts/nope.sh
chmod 644 tree/scripts/activate.sh
mkwmopkg_refuses 2 'hook activate: scripts/activate\.sh is not executable' h.wmopkg \
	--hook activate=scripts/activate.sh
chmod 755 tree/scripts/activate.sh
mkwmopkg_refuses 2 'hook deactivate: services/profinet\.conf is not under scripts/' h.wmopkg \
	--hook deactivate=services/profinet.conf
mkwmopkg_refuses 2 "\"\.\./x\" has a '\.' or '\.\.' component" h.wmopkg --hook activate=../x
mkwmopkg_refuses 2 'the role must be activate or deactivate' h.wmopkg --hook install=scripts/activate.sh
mkwmopkg_refuses 2 '--min-fw 5\.26 is above --max-fw 5\.22' h.wmopkg --min-fw 5.26 --max-fw 5.22
mkwmopkg_refuses 2 'good\.wmopkg: already exists' good.wmopkg
ok "mkwmopkg refuses bad hooks, an empty firmware range and overwriting (exit 2)"

# --- renamed package: the file name names the package
cp good.wmopkg other.wmopkg
wmo_reject other.wmopkg 'package name "good" does not match the file name "other\.wmopkg"'
mkdir sub
cp good.wmopkg sub/good.wmopkg
expect 0 '' "$B/fwpkg" verify -p k.pub sub/good.wmopkg
expect 0 '' "$B/fwpkg" inspect other.wmopkg
grep -Eq '^WARNING: +package name "good" does not match the file name "other\.wmopkg"' "$T/.out" ||
	fail "inspect does not warn about the renamed package: $(cat "$T/.out")"
ok "a renamed .wmopkg is refused by verify and extract (exit 1, both names given); inspect warns"

# --- tampering with the stream (variants keep the name good.wmopkg, in v/)
mkdir v
pkg_craft flipentry good.wmopkg v/good.wmopkg file-0001 middle
wmo_reject v/good.wmopkg 'file-0001.*(chunk|SHA-256)'
pkg_craft flipentry good.wmopkg v/good.wmopkg file-0003 last
wmo_reject v/good.wmopkg 'file-0003'
pkg_craft flipentry good.wmopkg v/good.wmopkg manifest.json middle
wmo_reject v/good.wmopkg 'signature'
ok "a flipped byte in a file or the manifest is refused (exit 1), nothing extracted"

pkg_craft add good.wmopkg v/good.wmopkg evil.sh -1 '#!/bin/sh'
wmo_reject v/good.wmopkg 'unlisted entry "evil\.sh"'
pkg_craft add good.wmopkg v/good.wmopkg file-0009 4 'x'
wmo_reject v/good.wmopkg 'unlisted entry "file-0009"'
ok "an unlisted file (at the end, or between files) is refused"

pkg_craft drop good.wmopkg missing.tmp file-0002
pkg_craft drop missing.tmp v/good.wmopkg file-0002.chunks
wmo_reject v/good.wmopkg 'expected file-0002\.chunks'
pkg_craft drop good.wmopkg missing.tmp file-0003
pkg_craft drop missing.tmp v/good.wmopkg file-0003.chunks
wmo_reject v/good.wmopkg 'missing entry file-0003\.chunks'
ok "a missing file (in the middle, at the end) is refused"

pkg_craft rename good.wmopkg v/good.wmopkg file-0001 ../file-0001
wmo_reject v/good.wmopkg 'entry "\.\./file-0001": unsafe name'
pkg_craft rename good.wmopkg v/good.wmopkg file-0002 'services/../../x'
wmo_reject v/good.wmopkg 'unsafe name'
pkg_craft rename good.wmopkg v/good.wmopkg file-0002 /tmp/x
wmo_reject v/good.wmopkg 'unsafe name'
ok "path traversal in tar entry names is refused"

# --- signed manifests that are malicious: forged with stock minisign
cat >forge.py <<'EOF'
# forge.py OUT SECKEY MANIFEST.json SRC...: sign MANIFEST with stock minisign and pack it as a .wmopkg;
# each files[i] gets size, sha256, chunk_size, digest and entry from SRC i unless it has them.
import base64, hashlib, io, json, os, subprocess, sys, tarfile
out, key, tmpl, srcs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
m = json.load(open(tmpl))
CH = 4096
payloads = []
for i, (f, src) in enumerate(zip(m["files"], srcs)):
    data = open(src, "rb").read()
    chunks = b"".join(hashlib.sha256(data[k:k + CH]).digest() for k in range(0, len(data), CH))
    f.setdefault("entry", "file-%04d" % (i + 1))
    f.setdefault("size", len(data))
    f.setdefault("chunk_size", CH)
    f.setdefault("sha256", hashlib.sha256(data).hexdigest())
    f.setdefault("digest", hashlib.sha256(chunks).hexdigest())
    payloads.append((f["entry"], chunks, data))
body = (json.dumps(m, sort_keys=True, indent=2) + "\n").encode()
with open(out + ".manifest", "wb") as fh:
    fh.write(body)
subprocess.run(["minisign", "-S", "-s", key, "-m", out + ".manifest", "-x", out + ".sig",
                "-t", "forged"], check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
sig = open(out + ".sig", "rb").read()
keyid = base64.b64decode(sig.split(b"\n")[1])[2:10][::-1].hex().upper()
entries = [("manifest.json", body), ("manifest.json.%s.minisig" % keyid, sig)]
for name, chunks, data in payloads:
    entries += [(name + ".chunks", chunks), (name, data)]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:", format=tarfile.USTAR_FORMAT) as tf:
    for name, data in entries:
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode, ti.mtime, ti.uname, ti.gname = len(data), 0o644, 1700000000, "", ""
        tf.addfile(ti, io.BytesIO(data))
open(out, "wb").write(buf.getvalue())
os.unlink(out + ".manifest")
os.unlink(out + ".sig")
EOF
printf 'payload\n' >payload
# manifest_json NAME PATH MODE: a one-file modification manifest.
manifest_json() {
	printf '{"format": "fwpkg", "format_version": 1, "type": "modification", "name": "%s",
	  "version": "1.0", "created": 1700000000, "products": ["P1"], "persistent_allowed": false,
	  "files": [{"path": "%s", "mode": %s}]}\n' "$1" "$2" "$3"
}
forge() { # forge NAME PATH MODE -> NAME.wmopkg
	manifest_json "$1" "$2" "$3" >forge.json
	"$PY" forge.py "$1.wmopkg" k.key forge.json payload || fail "forge.py failed"
}

forge control files/ok '"0644"'
expect 0 '' "$B/fwpkg" verify -p k.pub control.wmopkg
ok "control: a package forged with stock minisign and python is accepted (the forge works)"

forge mode files/ok '"0600"'
wmo_reject mode.wmopkg 'files\[0\]\.mode" must be "0644" or "0755"'
forge mode files/ok '"4755"'
wmo_reject mode.wmopkg 'files\[0\]\.mode" must be'
forge mode files/ok 420
wmo_reject mode.wmopkg 'files\[0\]\.mode" must be'
ok "a signed manifest with a bad mode is refused"

for p in ../evil files/../../evil /tmp/evil 'files/./x' 'etc/evil' 'files'; do
	forge trav "$p" '"0644"'
	wmo_reject trav.wmopkg "files\\[0\\]\\.path\" \"$(printf '%s' "$p" | sed 's/[.[\/]/\\&/g')\""
	expect 1 'files\[0\]\.path' "$B/fwpkg" extract -q --no-verify -C "$T/x/dir" trav.wmopkg
	expect 1 'files\[0\]\.path' "$B/fwpkg" inspect trav.wmopkg
done
[ ! -e "$T/evil" ] && [ ! -e /tmp/evil ] && [ ! -e "$T/x/evil" ] || fail "a traversal wrote a file"
ok "a signed manifest with path traversal (.., absolute, outside the roots) is refused, even --no-verify"

# --- type confusion: a .pkg's manifest and signature in a file named .wmopkg
randfile pri.img 5000
"$B/mkpkg" -q -o fw.pkg --version 5.22.2 --product P1 --pri pri.img -k k.key || fail "mkpkg failed"
cp fw.pkg x.wmopkg
expect 0 '' "$B/fwpkg" inspect x.wmopkg
grep -Eq '^Type: +firmware' "$T/.out" || fail "inspect does not show the firmware type: $(cat "$T/.out")"
grep -Eq '^WARNING: +is a firmware package, not a modification package, but its file name "x\.wmopkg" ends in \.wmopkg' \
	"$T/.out" || fail "inspect does not warn: $(cat "$T/.out")"
grep -Eq '^ +pri +P1 ' "$T/.out" || fail "inspect does not show the firmware image"
expect 0 '' "$B/fwpkg" inspect --json x.wmopkg
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["manifest"]["type"]=="firmware" and d["file_name_ok"] is False, d' \
	"$T/.out" || fail "inspect --json of x.wmopkg: $(cat "$T/.out")"
wmo_reject x.wmopkg 'x\.wmopkg: is a firmware package, not a modification package'
# The other way round: a modification package is shown and verified as one, whatever its name.
cp good.wmopkg good.pkg
expect 0 '' "$B/fwpkg" verify -p k.pub good.pkg
grep -q 'verified: modification' "$T/.out" || fail "verify does not call good.pkg a modification"
ok "type confusion: a firmware package named .wmopkg shows as firmware and is refused as a modification"

# --- trust
keypair other
expect 1 'no signature by a trusted key' "$B/fwpkg" verify -p other.pub good.wmopkg
ok "a .wmopkg signed by an untrusted key is refused"

echo "all $TESTS checks passed"
