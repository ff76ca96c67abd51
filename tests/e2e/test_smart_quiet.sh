#!/bin/sh
# test_smart_quiet: fwctl -q smart tick (run from cron) prints nothing unless something changed or failed.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
. "$E2E/servers.sh"

D=$T/dev
smart_clock

keypair k
randfile b.img 300000
randfile c.img 4000
mkdir www
"$B/mkpkg" -q -o www/fw-1.0.0.pkg --version 1.0.0 --product SX --pri b.img --sec b.img --boot c.img -k k.key
"$B/mkpkg" -q -o www/fw-1.5.0.pkg --version 1.5.0 --product SX --pri c.img --sec b.img --boot c.img -k k.key
smart_www
# tick N: fwctl -q smart tick N hours after C0, into tick.out and tick.err; its exit code in $rc
tick() {
	set +e
	at $((C0 + $1 * 3600)) "$B/fwctl" --root "$D" -q smart tick >tick.out 2>tick.err
	rc=$?
	set -e
}
silent() { # silent WHAT: the last tick printed nothing at all and exited 0
	[ "$rc" -eq 0 ] && [ ! -s tick.out ] && [ ! -s tick.err ] ||
		fail "$1: exit $rc, stdout '$(cat tick.out)', stderr '$(cat tick.err)'"
}

catalog cat 1 www/fw-1.0.0.pkg
smart_device 1.0.0
NET_RETRIES=0 smart_server cat --interval 1h

# The first check is news: its answer is printed, and nothing else.
tick 1
[ "$rc" -eq 0 ] && [ "$(cat tick.out)" = versionOptimal ] && [ ! -s tick.err ] ||
	fail "first tick: exit $rc, '$(cat tick.out)', '$(cat tick.err)'"
# The same answer again, and a tick with nothing due: nothing at all (no cron mail).
tick 2
silent "versionOptimal again"
tick 2
silent "nothing due"
# Without -q, a person sees the answer and when the next check is due.
expect 0 'tick: next check at' at $((C0 + 3 * 3600)) fw smart tick
[ "$(cat "$T/.out")" = versionOptimal ] || fail "tick without -q: $(cat "$T/.out")"
ok "-q smart tick: the first answer is printed; the same answer again, or nothing due, prints nothing (exit 0)"

# A new release: the check, the download and the install are changes, each printed once.
catalog cat 2 www/fw-1.0.0.pkg www/fw-1.5.0.pkg
tick 4
[ "$rc" -eq 0 ] || fail "tick with an update: exit $rc: $(cat tick.err)"
grep -qx 'needUpdate 1.5.0' tick.out && grep -qx 'downloaded 1.5.0' tick.out && grep -qx 'install 1.5.0 success' tick.out ||
	fail "tick with an update printed: $(cat tick.out)"
[ ! -s tick.err ] || fail "-q tick wrote notes: $(cat tick.err)"
# At 1.5.0 the catalog's answer changes back to versionOptimal: printed once, then silence.
tick 5
[ "$rc" -eq 0 ] && [ "$(cat tick.out)" = versionOptimal ] || fail "after the install: exit $rc, '$(cat tick.out)'"
tick 6
silent "versionOptimal at 1.5.0 again"
ok "-q smart tick: needUpdate, the download and the install printed as they happen; the answer after it once"

# A failure is always printed, every time it happens: the result on stdout, the reason on stderr.
expect 0 '' fw smart config --server "http://127.0.0.1:$(free_port)/cat.json"
tick 7
[ "$rc" -eq 4 ] && [ "$(cat tick.out)" = netError ] && grep -q 'check: .*127.0.0.1' tick.err ||
	fail "netError tick: exit $rc, '$(cat tick.out)', '$(cat tick.err)'"
tick 8
[ "$rc" -eq 4 ] && [ "$(cat tick.out)" = netError ] || fail "second netError tick: exit $rc, '$(cat tick.out)'"
expect 0 '' fw smart config --server "$H/cat.json"
tick 9
[ "$rc" -eq 0 ] && [ "$(cat tick.out)" = versionOptimal ] || fail "back after netError: exit $rc, '$(cat tick.out)'"
ok "-q smart tick: netError printed (exit 4) at every failing tick; the answer after it is news again"
echo "all $TESTS checks passed"
