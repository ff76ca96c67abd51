#!/bin/sh
# test_attack_resume: the resume record (ROOT/upgrade.resume) is a hint, never trusted: a record edited by hand,
# a server that changes or lies, a slot changed between runs. Whatever it says, a resumed upgrade installs the
# right image or starts over or refuses: no byte the reader did not verify reaches a committed slot
# (formats/pkg.md sections 9 and 10, fwctl(8) "Resuming after a power cut"). Real nginx and the fault proxy.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

D=$T/dev
keypair k
# y.img is both system images (as in most installations); 6 frames of 1 MiB, random (the payload is as long).
randfile y.img 6000000
randfile boot.img 100000
mkdir www
for z in z u; do
	"$B/mkpkg" -q -o www/$z.pkg --version 5.21.1 --product WX --pri y.img --sec y.img --boot boot.img -k k.key \
		$([ $z = z ] && echo --compress zstd --frame-size 1048576)
done
srv_nginx "$T/www"
srv_proxy http "$HTTP_PORT"
P=http://127.0.0.1:$PROXY_PORT

"$B/fwctl" --root "$T/template" -q init --product WX --trust "$T/k.pub" --version 5.21.0 >/dev/null
"$B/fwctl" --root "$T/template" -q config net-retries 0
fresh() { rm -rf "$D"; cp -a "$T/template" "$D"; }
# edit PYTHON: run PYTHON over the record as d (a dict), then write it back.
edit() { "$PY" -c "import json, sys; p = sys.argv[1]; d = json.load(open(p)); $1; json.dump(d, open(p, 'w'))" "$D/upgrade.resume"; }
flip() { "$PY" -c "import sys; f = open(sys.argv[1], 'r+b'); o = int(sys.argv[2]); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))" "$D/slots/$1" "$2"; }
# cut_pri PKG: a device whose sec holds y.img (PKG from a file), then 'upgrade pri' of PKG over the proxy cut
# at 4.5 MB of pri's payload: a record naming the first frames (or bytes) of pri.
cut_pri() {
	fresh
	expect 0 "" fw upgrade no-reboot sec "$T/www/$1"
	echo "cut $(($("$PY" "$E2E/craft.py" offset "www/$1" WX-pri.img first) + 4500000))" >"$PROXY_PLAN"
	expect 4 "" fw upgrade no-reboot pri "$P/$1"
	[ "$(edit 'print([i["kept"] for i in d["images"] if i["slot"] == "pri"][0], file=sys.stderr)' 2>&1)" -gt 0 ] ||
		fail "the cut kept nothing of pri: $(cat "$D/upgrade.resume")"
}
# pri_is_y: the resumed upgrade installed pri, and the slot holds y.img exactly.
pri_is_y() {
	[ "$(js "d['slots']['pri']['valid'], d['slots']['pri']['version'], d['last_upgrade']['result']")" = "True 5.21.1 success" ] ||
		fail "$(js "d['slots']['pri'], d['last_upgrade']")"
	cmp -s "$D/slots/pri" y.img || fail "pri committed with bytes that are not the image: $(cmp "$D/slots/pri" y.img)"
}

# --- an entry of another slot naming pri's payload, first in the record, whole in that slot (sec holds the same
# image): the reader checked sec's bytes, and the upgrade kept pri's own unchecked (a byte flipped in them was
# committed). A record names each payload once: this one is refused, and the upgrade fetches the package whole.
for z in z u; do
	cut_pri $z.pkg
	edit 'e = dict([i for i in d["images"] if i["slot"] == "pri"][0]); e["slot"] = "sec"; e["kept"] = e["size"]; d["images"].insert(0, e)'
	flip pri 1000
	expect 0 "ignoring the record of an interrupted upgrade: .*duplicated" fw upgrade no-reboot pri "$P/$z.pkg"
	pri_is_y
done
ok "an entry of another slot naming the payload being resumed: the record refused, pri's kept bytes never trusted"

echo "all $TESTS checks passed"
