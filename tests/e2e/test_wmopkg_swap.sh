#!/bin/sh
# test_wmopkg_swap: a directory of the tree swapped for a symbolic link after mkwmopkg scanned it (while the passphrase is read) never puts an outside file into the package.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

printf 'pass\n' >pass.txt
"$B/fwpkg" keygen -q -p k.pub -s k.key --passphrase-file pass.txt
mkdir -p tree/files/sub outside/sub
printf 'inside\n' >tree/files/sub/conf
printf 'SECRET from outside the tree\n' >outside/sub/conf

# swap_run OUT: mkwmopkg scans the tree, then blocks opening the FIFO for its
# passphrase; meanwhile tree/files/sub becomes a link to ../../outside/sub.
swap_run() {
	rm -f fifo
	mkfifo fifo
	"$B/mkwmopkg" -q -o "$1" -C tree --version 1.0 --product P1 --passphrase-file fifo -k k.key \
		>swap.out 2>swap.err &
	pid=$!
	# Opening the FIFO for writing waits until mkwmopkg opened it to read: the scan is done.
	exec 3>fifo
	mv tree/files/sub tree/files/sub.moved
	ln -s ../../outside/sub tree/files/sub
	printf 'pass\n' >&3
	exec 3>&-
	set +e
	wait $pid
	rc=$?
	set -e
	rm tree/files/sub
	mv tree/files/sub.moved tree/files/sub
}

swap_run swapped.wmopkg
[ "$rc" -eq 1 ] || fail "mkwmopkg exited $rc after the swap, expected 1: $(cat swap.err)"
grep -Eq '^mkwmopkg: files/sub/conf: changed since the tree was scanned' swap.err || fail "message: $(cat swap.err)"
[ ! -e swapped.wmopkg ] || {
	grep -q SECRET swapped.wmopkg && fail "the package holds the outside file"
	fail "mkwmopkg wrote a package after the swap"
}
[ -z "$(ls -A | grep '^\.swapped')" ] || fail "a temporary file was left: $(ls -A)"
ok "a directory swapped for a link while the passphrase is read: exit 1, named, no package"

# Without a swap the same tree packs as it always did.
"$B/mkwmopkg" -q -o fine.wmopkg -C tree --version 1.0 --product P1 --passphrase-file pass.txt -k k.key ||
	fail "mkwmopkg of the untouched tree failed"
"$B/fwpkg" extract -q -C fine -p k.pub fine.wmopkg >/dev/null
cmp fine/files/sub/conf tree/files/sub/conf || fail "the untouched tree packed other bytes"
ok "the untouched tree packs as before"

echo "all $TESTS checks passed"
