#!/bin/sh
# test_readme: the README's tour, support section and fwctl example run as written (build/ standing for the build directory).
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
SRC=$(cd "$E2E/../.." && pwd)
command -v minisign >/dev/null 2>&1 || fail "minisign is not installed (scripts/install-deps)"

# Every ```sh block after the "A five-minute tour" heading, in order, as one script.
"$PY" - "$SRC/README.md" >readme.sh <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
text = text[text.index("## A five-minute tour"):]
text = text[:text.index("## Exit codes")]
for block in re.findall(r"```sh\n(.*?)```", text, re.S):
    print(block)
PYEOF
[ "$(grep -c 'mkpkg\|mkwmopkg\|fwctl' readme.sh)" -ge 5 ] || fail "the README's blocks were not found"
mkdir run
# keygen without -W asks for a passphrase: CI gives it as the README says.
if ! (cd run && export FWPKG_PASSPHRASE='tour pass' && sed "s|build/|$B/|g" ../readme.sh | sh -e -x) >readme.out 2>&1; then
	tail -n 20 readme.out
	fail "the README does not run as written"
fi
grep -q 'verified: firmware 5.22.2, 3 images' readme.out || fail "the tour's verify did not verify: $(tail readme.out)"
grep -q 'SHA-256 mismatch' readme.out || fail "the tour's tampered copy was not rejected as shown"
ok "the README's tour, support section and fwctl example run as written"
echo "all $TESTS checks passed"
