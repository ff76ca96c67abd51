#!/bin/sh
# test_build: build hygiene: plain make installs nothing, user CPPFLAGS/CFLAGS reach the compiler, sanitize cleans its own directory, shims come from the Makefile.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
SRC=$(cd "$E2E/../.." && pwd)

# make -n against a fresh build directory: what would run, without running it.
# Not inheriting the make that runs the tests (make check SANITIZE=1 passes its variables down).
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE
dry() { make -n -C "$SRC" SANITIZE= B="$T/fresh" "$@" 2>&1; }

dry all >all.txt || fail "make -n all failed: $(cat all.txt)"
grep -q 'install-deps' all.txt && fail "plain make would install packages: $(grep install-deps all.txt)"
dry install DESTDIR="$T/dest" >install.txt || fail "make -n install failed"
grep -q 'install-deps' install.txt && fail "make install would install packages"
for t in check demo; do
	dry $t >$t.txt || true
	grep -q 'scripts/install-deps' $t.txt || fail "make $t does not install what it needs"
done
ok "plain make and make install never install packages; make check and make demo do"

# A fresh machine has no -dev packages: check, demo and fleet must install them before the first
# compiler command, also in parallel (.SECONDARY: with no prerequisites once postponed the stamp).
# A clean copy of the source (the files git tracks, or the tree without build directories).
mkdir clone
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$SRC" && git ls-files -z | xargs -0 tar -cf -) | tar -xf - -C clone
else
	(cd "$SRC" && tar -cf - --exclude=./build --exclude=./build-san .) | tar -xf - -C clone
fi
[ ! -e clone/build ] || fail "the clean copy has a build directory"
for t in check demo fleet bench-delta; do
	for j in 1 2; do
		make -n -j$j -C clone SANITIZE= $t >fresh-$t.txt 2>&1 || true
		deps=$(grep -n -m1 'scripts/install-deps' fresh-$t.txt | cut -d: -f1)
		cc=$(grep -n -m1 -E -- ' -c -o | -shared ' fresh-$t.txt | cut -d: -f1)
		[ -n "$deps" ] || fail "make -j$j $t in a clean clone does not run scripts/install-deps"
		[ -n "$cc" ] || fail "make -n -j$j $t in a clean clone compiles nothing: $(head -3 fresh-$t.txt)"
		[ "$deps" -lt "$cc" ] || fail "make -j$j $t compiles (line $cc) before scripts/install-deps (line $deps)"
	done
done
ok "in a clean clone, make check, demo, fleet and bench-delta (-j1 and -j2) run scripts/install-deps before the first compiler command"

dry all CPPFLAGS=-DUSER_CPP_MARK CFLAGS=-DUSER_C_MARK >flags.txt
grep -q -- '-DUSER_CPP_MARK' flags.txt && grep -q -- '-DUSER_C_MARK' flags.txt ||
	fail "user CPPFLAGS/CFLAGS do not reach the compiler: $(grep -m1 ' -c ' flags.txt)"
# ...and after ours, so they win.
grep -m1 ' -c ' flags.txt | grep -Eq -- '-O2 .*-DUSER_CPP_MARK .*-DUSER_C_MARK' || fail "user flags do not come after ours"
ok "user CPPFLAGS and CFLAGS are honoured, after the project's"

make -n -C "$SRC" sanitize >san.txt 2>&1 || true
grep -q 'rm -rf build-san$' san.txt || fail "make sanitize does not clean build-san: $(grep 'rm -rf' san.txt)"
grep -Eq 'rm -rf build$' san.txt && fail "make sanitize cleans the plain build directory"
ok "make sanitize cleans its own directory (build-san), not build"

grep -Eq "cc .*-shared .*-o $T/fresh/shim/failwrite\\.so tests/shim/failwrite\\.c" check.txt ||
	fail "make check does not build the shims: $(grep shim check.txt)"
[ -f "$B/shim/failwrite.so" ] && [ -f "$B/shim/shortread.so" ] || fail "no shims in $B/shim"
! grep -l 'cc -shared' "$E2E"/test_*.sh | grep -v test_build || fail "a test builds its own shim"
ok "the test shims are built by the Makefile"

# No program links libcurl: fwctl loads it when a network source is first used (device/dev_curl);
# the network tests (test_transport, test_fwctl_net, ...) prove it is then found and works.
for prog in fwctl fwpkg mkpkg mkwmopkg; do
	! ldd "$B/$prog" | grep -q 'libcurl' || fail "$prog links libcurl: $(ldd "$B/$prog" | grep libcurl)"
done
strings "$B/fwctl" | grep -q 'libcurl\.so\.4$' || fail "fwctl does not name libcurl.so.4 to load"
ok "no program links libcurl; fwctl names libcurl.so.4 to load for network sources"

echo "all $TESTS checks passed"
