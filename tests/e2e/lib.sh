# lib.sh: helpers for end-to-end tests; source it. Each test runs in its own temp dir, removed on exit.
set -eu
E2E=${E2E:-$(cd "$(dirname "$0")" && pwd)}  # this directory (craft.py), found before the cd below
B=${FWPKG_BUILD:?FWPKG_BUILD must name the build directory}
# Absolute, found before the cd below: FWPKG_BUILD=build sh tests/e2e/test_X.sh works from the top directory.
B=$(cd "$B" 2>/dev/null && pwd) || { echo "FAIL: FWPKG_BUILD=$FWPKG_BUILD: no such directory" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/fwpkg-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
export SOURCE_DATE_EPOCH=1700000000
unset FWPKG_PASSPHRASE FWPKG_KEYRING
TESTS=0

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $*"; }

# expect CODE PATTERN CMD...: run CMD, require exit CODE and stderr matching PATTERN (grep -E).
expect() {
	code=$1 pattern=$2; shift 2
	set +e
	"$@" >"$T/.out" 2>"$T/.err"
	got=$?
	set -e
	[ "$got" -eq "$code" ] || { cat "$T/.err" >&2; fail "$* exited $got, expected $code"; }
	if [ -n "$pattern" ]; then
		grep -Eq -- "$pattern" "$T/.err" || { cat "$T/.err" >&2; fail "$*: stderr does not match /$pattern/"; }
	fi
	return 0
}

# wait_flock FILE: wait (5 s at most) until some process holds a flock on FILE, looking in /proc/locks:
# probing with flock(1) would take the lock itself.
wait_flock() {
	_ino=$(stat -c %i "$1")
	_i=0
	while ! grep -q "FLOCK .*:$_ino " /proc/locks; do
		_i=$((_i + 1))
		[ "$_i" -lt 100 ] || fail "nothing took the lock on $1"
		sleep 0.05
	done
}

# Random file of N bytes.
randfile() { head -c "$2" /dev/urandom >"$1"; }

# A key pair without passphrase: keypair NAME -> NAME.pub NAME.key
keypair() { "$B/fwpkg" keygen -q -W -p "$1.pub" -s "$1.key"; }

# Tree checksum of a directory's contents, to prove a rejection changed nothing.
treesum() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum; find . | sort) | sha256sum; }

# same_after CODE PATTERN CMD...: as expect, and the device $D (treesum) is left exactly as it was.
same_after() {
	_same=$(treesum "$D")
	expect "$@"
	shift 2
	[ "$(treesum "$D")" = "$_same" ] || fail "$*: changed the device"
}

# crash_each_step URL VERSION CHECK: a power cut before each durable step of `upgrade no-reboot all URL` in turn
# (FWCTL_CRASH_AT = 1, 2, ... until the upgrade runs whole), each on a fresh device (the test's `fresh`), then boot
# and the same upgrade forced to its end (a cut after the last record was committed leaves nothing to do but the
# state: test_fwctl_crash.sh); the command CHECK N checks the device after step N's run. Sets crash_steps (the steps
# cut) and crash_resumed (the runs that resumed); fails when the run without a cut fails.
crash_each_step() {
	_url=$1 _version=$2 _check=$3 _n=1 _rc=0
	crash_resumed=0
	while :; do
		fresh
		set +e
		FWCTL_CRASH_AT=$_n "$B/fwctl" --root "$D" upgrade no-reboot all "$_url" >/dev/null 2>"$T/cut.err"
		_rc=$?
		set -e
		[ $_rc -eq 99 ] || break
		expect 0 "" fw boot
		expect 0 "upgrade: all $_version: success" fw upgrade force no-reboot all "$_url"
		if grep -q "upgrade: resuming the interrupted upgrade" "$T/.err"; then crash_resumed=$((crash_resumed + 1)); fi
		$_check "$_n"
		_n=$((_n + 1))
	done
	[ $_rc -eq 0 ] || fail "$_url without a crash: exit $_rc: $(cat "$T/cut.err")"
	crash_steps=$((_n - 1))
}

# The most a device reads from a network source ahead of its reader, so the bytes it may have fetched of an
# entry before the reader says it will pass over it: the socket pair between the feed thread and the reader
# (SO_SNDBUF 1 MiB, which the kernel doubles), the feed's 64 KiB block (dev_pump.c), the transport's 128 KiB
# buffer (DEV_TRANSPORT_BUFFER) and curl's 64 KiB block (RECV_BLOCK). How much of it is filled is timing.
FEED_READ_AHEAD=$((2 * 1024 * 1024 + 256 * 1024))

# ---- helpers for the .pkg tests (test_pkg_*.sh) ----

# python3 for craft.py and JSON checks: the system one if there is one (a pyenv shim costs 0.1 s a call).
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

# craft.py (malicious and odd packages), see its header for the operations.
pkg_craft() { "$PY" "$E2E/craft.py" "$@"; }

# The device a fwctl test works on is $D (each sets it): fw runs fwctl on it, js prints a Python
# expression over its status --json (as d).
fw() { "$B/fwctl" --root "$D" "$@"; }
js() { "$B/fwctl" --root "$D" status --json | "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# A signing key k and a package fw.pkg for product P1 from pri.img, sec.img and
# boot.img, in 64 KiB chunks so every image but boot has several chunks.
pkg_fixture() {
	keypair k
	randfile pri.img 300000
	randfile sec.img 140000
	randfile boot.img 5000
	"$B/mkpkg" -q -o fw.pkg --version 5.22.2 --product P1 --chunk-size 65536 \
		--pri pri.img --sec sec.img --boot boot.img -k k.key
}

# pkg_reject PKG PATTERN: verify and extract (trusting k.pub) must both exit 1
# with stderr matching PATTERN, and extract must leave its directory unchanged.
pkg_reject() {
	expect 1 "$2" "$B/fwpkg" verify -p k.pub "$1"
	rm -rf "$T/xdir"
	mkdir "$T/xdir"
	echo keep >"$T/xdir/keep"
	pkg_before=$(treesum "$T/xdir")
	expect 1 "$2" "$B/fwpkg" extract -q -C "$T/xdir" -p k.pub "$1"
	[ "$(treesum "$T/xdir")" = "$pkg_before" ] || fail "extract of $1 changed its directory: $(ls -A "$T/xdir")"
}

# pkg_check DESC CMD...: run one check in a subshell with set -e; a failure is
# reported and remembered, and the script goes on to its other checks.
PKG_FAILED=""
pkg_check() {
	pkg_desc=$1
	shift
	set +e
	( set -e; "$@" ) >"$T/.check" 2>&1
	pkg_rc=$?
	set -e
	if [ "$pkg_rc" -eq 0 ]; then
		ok "$pkg_desc"
	else
		TESTS=$((TESTS + 1))
		echo "not ok $TESTS - $pkg_desc"
		sed 's/^/    /' "$T/.check"
		PKG_FAILED="$PKG_FAILED
  $pkg_desc"
	fi
}

# pkg_done: end a script that used pkg_check; fails if any check did.
pkg_done() {
	[ -z "$PKG_FAILED" ] || fail "checks that failed:$PKG_FAILED"
	echo "all $TESTS checks passed"
}
