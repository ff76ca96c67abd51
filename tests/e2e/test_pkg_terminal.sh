#!/bin/sh
# test_pkg_terminal: passphrases typed at a terminal prompt (a real pseudo-terminal), never echoed.
. "$(dirname "$0")/lib.sh"
term() { "$PY" "$E2E/onterminal.py" 20 "$@"; }

randfile pri.img 300000

# keygen asks twice; what is typed is not echoed back.
term 'Passphrase for' 'correct horse' 'again' 'correct horse' -- "$B/fwpkg" keygen -p r.pub -s r.key >out.txt ||
	{ cat out.txt; fail "keygen on a terminal failed"; }
[ -s r.pub ] && [ -s r.key ] || fail "keygen on a terminal wrote no keys"
[ "$(stat -c %a r.key)" = 600 ] || fail "secret key is not 0600"
grep -q 'correct horse' out.txt && fail "the passphrase was echoed: $(cat out.txt)"
ok "keygen asks twice on the terminal, keys written, nothing echoed"

set +e
term 'Passphrase for' 'one' 'again' 'two' -- "$B/fwpkg" keygen -p m.pub -s m.key >out.txt
rc=$?
set -e
[ "$rc" -eq 6 ] || fail "mismatched passphrases exited $rc, expected 6"
grep -q 'passphrases do not match' out.txt || fail "no mismatch message: $(cat out.txt)"
[ ! -e m.pub ] && [ ! -e m.key ] || fail "mismatched passphrases left key files"
ok "mismatched confirmation: exit 6, no key files"

set +e
term 'Passphrase for' '' 'again' '' -- "$B/fwpkg" keygen -p e.pub -s e.key >out.txt
rc=$?
set -e
[ "$rc" -eq 6 ] && grep -q 'empty passphrase' out.txt || fail "an empty passphrase was not refused ($rc): $(cat out.txt)"
[ ! -e e.key ] || fail "an empty passphrase left a key"
ok "an empty passphrase is refused (use -W for an unencrypted key)"

term 'Passphrase for r.key' 'correct horse' -- "$B/mkpkg" -o t.pkg --version 1.0 --product P --pri pri.img -k r.key >out.txt ||
	{ cat out.txt; fail "mkpkg with the right passphrase failed"; }
"$B/fwpkg" verify -q -p r.pub t.pkg || fail "package signed after a terminal prompt does not verify"
ok "mkpkg asks for the passphrase on the terminal and signs"

set +e
term 'Passphrase for r.key' 'wrong' -- "$B/mkpkg" -o w.pkg --version 1.0 --product P --pri pri.img -k r.key >out.txt
rc=$?
set -e
[ "$rc" -eq 6 ] && grep -q 'r.key: wrong passphrase' out.txt || fail "wrong passphrase: exit $rc: $(cat out.txt)"
[ -z "$(ls -A | grep 'w\.pkg')" ] || fail "a wrong passphrase left output: $(ls -A)"
ok "a wrong passphrase at the prompt: exit 6, named, nothing written"

# A progress bar on stderr for large inputs, only when stderr is a terminal.
truncate -s 100M big.img
"$B/fwpkg" keygen -q -W -p w.pub -s w.key
script -qc "'$B/mkpkg' -o big.pkg --version 1.0 --product P --pri big.img -k w.key" /dev/null >bar.txt ||
	fail "mkpkg on a terminal failed: $(cat bar.txt)"
tr '\r' '\n' <bar.txt | grep -Eq '^mkpkg: \[#+\.*\] +[0-9]+%' || fail "no progress bar on a terminal: $(cat -v bar.txt | head -c 300)"
"$B/mkpkg" -f -o big.pkg --version 1.0 --product P --pri big.img -k w.key 2>err.txt
grep -q '\[' err.txt && fail "a progress bar was drawn into a file: $(cat -v err.txt)"
"$B/mkpkg" -q -f -o big.pkg --version 1.0 --product P --pri big.img -k w.key 2>err.txt
[ ! -s err.txt ] || fail "mkpkg -q printed: $(cat err.txt)"
ok "progress bar on a terminal, none into a file, nothing with -q"
