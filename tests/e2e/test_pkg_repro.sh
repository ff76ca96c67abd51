#!/bin/sh
# test_pkg_repro: mkpkg output is deterministic: same inputs, keys and SOURCE_DATE_EPOCH give the same bytes.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

pkg_fixture
build() { "$B/mkpkg" -q -o "$1" --version 5.22.2 --product P1 --chunk-size 65536 \
	--pri pri.img --sec sec.img --boot boot.img -k k.key; }

build one.pkg
build two.pkg
cmp one.pkg two.pkg || fail "two runs with the same inputs differ"
cmp one.pkg fw.pkg || fail "a third run differs"
ok "two mkpkg runs with the same inputs and SOURCE_DATE_EPOCH give identical bytes"

# Nothing of the environment may leak in: input mtimes, output name, umask, cwd, TZ, user.
touch -d '2001-02-03 04:05:06' pri.img sec.img
mkdir elsewhere
(cd elsewhere && umask 077 && TZ=Asia/Tokyo LC_ALL=C USER=nobody LOGNAME=nobody \
	"$B/mkpkg" -q -o ../other-name.pkg --version 5.22.2 --product P1 --chunk-size 65536 \
	--pri ../pri.img --sec ../sec.img --boot ../boot.img -k ../k.key)
cmp one.pkg other-name.pkg || fail "input mtimes, output name, cwd, umask or TZ changed the bytes"
ok "input mtimes, output name, working directory, umask, TZ and user do not change the bytes"

SOURCE_DATE_EPOCH=1700000001 build later.pkg
if cmp -s one.pkg later.pkg; then fail "a different SOURCE_DATE_EPOCH gave the same bytes"; fi
expect 0 '' "$B/fwpkg" inspect --json later.pkg
"$PY" -c 'import json,sys; assert json.load(sys.stdin)["manifest"]["created"] == 1700000001' <"$T/.out" ||
	fail "created does not follow SOURCE_DATE_EPOCH"
ok "a different SOURCE_DATE_EPOCH gives different bytes and a different created time"

# Every header: plain ustar regular file, mode 0644, uid/gid 0, no user or group names, mtime = SOURCE_DATE_EPOCH.
pkg_craft headers one.pkg >headers.txt
sed '$d' headers.txt | while IFS='|' read -r name type magic mode uid gid uname gname mtime; do
	[ "$type" = 0 ] && [ "$magic" = "b'ustar\\x0000'" ] && [ "$mode" = 0000644 ] &&
		[ "$uid" = 0000000 ] && [ "$gid" = 0000000 ] && [ -z "$uname" ] && [ -z "$gname" ] &&
		[ "$mtime" = 1700000000 ] || fail "header of $name: $type $magic $mode $uid $gid '$uname' '$gname' $mtime"
done
tail -n 1 headers.txt | {
	read -r _ end size zeros
	[ "$zeros" -ge 2 ] || fail "no end-of-archive marker (two zero blocks) at $end"
	[ $((size % 10240)) -eq 0 ] || fail "package size $size is not a whole number of 10240-byte records"
}
ok "headers are ustar '0', 0644, uid/gid 0, no names, mtime = SOURCE_DATE_EPOCH; ends with two zero blocks"

# Signing an existing package is deterministic too, and signing twice with one key changes nothing.
keypair k2
cp one.pkg s1.pkg
cp one.pkg s2.pkg
"$B/fwpkg" sign -q -k k2.key s1.pkg
"$B/fwpkg" sign -q -k k2.key s2.pkg
cmp s1.pkg s2.pkg || fail "fwpkg sign is not deterministic"
cp s1.pkg s3.pkg
"$B/fwpkg" sign -q -k k2.key s3.pkg
cmp s1.pkg s3.pkg || fail "signing again with the same key changed the package"
ok "fwpkg sign is deterministic; re-signing with the same key replaces, not duplicates"

expect 2 'SOURCE_DATE_EPOCH' env SOURCE_DATE_EPOCH=yesterday "$B/mkpkg" -o bad.pkg --version 1.0 --product P1 --pri pri.img -k k.key
[ ! -e bad.pkg ] || fail "mkpkg left bad.pkg"
ok "an invalid SOURCE_DATE_EPOCH is refused (exit 2)"

now=$(date +%s)
env -u SOURCE_DATE_EPOCH "$B/mkpkg" -q -o now.pkg --version 1.0 --product P1 --pri pri.img -k k.key
expect 0 '' "$B/fwpkg" inspect --json now.pkg
"$PY" -c 'import json,sys; c=json.load(sys.stdin)["manifest"]["created"]; assert abs(c - int(sys.argv[1])) < 60, c' "$now" <"$T/.out" ||
	fail "without SOURCE_DATE_EPOCH, created is not the current time"
ok "without SOURCE_DATE_EPOCH, created is the current time"

echo "all $TESTS checks passed"
