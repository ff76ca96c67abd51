#!/bin/sh
# test_pkg_large: an image over 8 GiB (a pax size record, written only then) streamed by mkpkg -o - into fwpkg verify - and stock tar, never stored.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

keypair k
# Sparse: 8 GiB + 3 blocks + 7 bytes, with a mark near the end so the tail is not all zeros.
size=$((8 * 1024 * 1024 * 1024 + 3 * 4096 + 7))
truncate -s $size big.img
printf 'end of a big image' | dd of=big.img bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
randfile boot.img 5000

mkfifo tarside bsdside
tar -tvBf tarside >tar.list 2>tar.err &
tarpid=$!
bsdtar -tvf bsdside >bsd.list 2>bsd.err &
bsdpid=$!
set +e
# The big image is the first payload (secondary), so entries follow its pax size record
# (libarchive goes on calling every header after it pax, which the reader must allow).
"$B/mkpkg" -o - --version 9.0 --product P1 --sec big.img --boot boot.img -k k.key 2>mk.err |
	tee tarside bsdside | "$B/fwpkg" verify -p k.pub - >verify.out 2>verify.err
rc=$?
set -e
wait $tarpid || fail "stock tar could not list the package: $(cat tar.err)"
wait $bsdpid || fail "bsdtar could not list the package: $(cat bsd.err)"
[ "$rc" -eq 0 ] || fail "mkpkg -o - | fwpkg verify - failed: $(cat mk.err verify.err)"
grep -q '^-: verified: firmware 9\.0, 2 images' verify.out || fail "verify said: $(cat verify.out)"
grep -Eq "^-rw-r--r-- .* $size .* P1-sec\.img$" tar.list || fail "tar does not list the big image with its size: $(cat tar.list)"
grep -Eq " $size .* P1-sec\.img$" bsd.list || fail "bsdtar does not list the big image with its size: $(cat bsd.list)"
[ ! -e ./- ] || fail "mkpkg -o - created a file named -"
grep -q 'wrote' mk.err || fail "mkpkg -o - said nothing: $(cat mk.err)"
ok "an image over 8 GiB: mkpkg -o - | fwpkg verify -, GNU tar and bsdtar read it, nothing stored"

# Smaller entries never get a pax record: packages that need none are plain ustar as before.
"$B/mkpkg" -q -o small.pkg --version 9.0 --product P1 --pri boot.img -k k.key
pkg_craft headers small.pkg | grep -v '^end ' | cut -d'|' -f2 | sort -u | grep -qvx 0 &&
	fail "a small package holds a header that is not typeflag 0: $(pkg_craft headers small.pkg)"
ok "a package without large images holds only plain ustar headers"

# Onto a terminal, -o - is refused.
script -qc "'$B/mkpkg' -o - --version 9.0 --product P1 --pri boot.img -k k.key" /dev/null >tty.out 2>&1 || true
grep -q 'standard output is a terminal' tty.out || fail "mkpkg -o - onto a terminal: $(cat -v tty.out)"
ok "mkpkg -o - refuses to write a package onto a terminal"

echo "all $TESTS checks passed"
