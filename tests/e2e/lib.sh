# lib.sh: helpers for end-to-end tests; source it. Each test runs in its own temp dir, removed on exit.
set -eu
B=${FWPKG_BUILD:?FWPKG_BUILD must name the build directory}
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

# Random file of N bytes.
randfile() { head -c "$2" /dev/urandom >"$1"; }

# A key pair without passphrase: keypair NAME -> NAME.pub NAME.key
keypair() { "$B/fwpkg" keygen -q -W -p "$1.pub" -s "$1.key"; }

# Tree checksum of a directory's contents, to prove a rejection changed nothing.
treesum() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum; find . | sort) | sha256sum; }
