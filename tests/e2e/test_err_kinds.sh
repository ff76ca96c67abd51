#!/bin/sh
# test_err_kinds: no production code decides on an error message's text; code decides on fw_err's kind (DESIGN.md).
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
SRC=$(cd "$E2E/../.." && pwd)
DIRS="base signing formats tools mkpkg mkwmopkg device"

# decisions ROOT: every line under ROOT's production directories that compares or searches an fw_err's msg.
decisions() {
	(cd "$1" && grep -rnE \
		'(strstr|strcasestr|strncmp|strcmp|memcmp|strncasecmp|strcasecmp|fnmatch|regexec)\([^;]*(\.|->)msg\b' \
		--include=*.c --include=*.h $DIRS) || true
}
# Decisions on text that other work in flight removes (issue 19: pkcs11_sign.c's "several", mkwmopkg's and
# dev_transport.c's message prefixes); each entry is FILE:TEXT, and goes when its line does.
KNOWN='signing/pkcs11_sign.c:strstr(ignore.msg, "several")
mkwmopkg/main.c:strncmp(err->msg, file, n)
device/dev_transport.c:strncmp(err->msg, shown, n)'
unknown() {
	decisions "$1" | while IFS= read -r line; do
		file=${line%%:*}
		known=0
		for k in $(printf '%s\n' "$KNOWN" | tr ' ' '\001'); do
			k=$(printf '%s' "$k" | tr '\001' ' ')
			case "$line" in "${k%%:*}":*"${k#*:}"*) known=1 ;; esac
		done
		[ $known -eq 1 ] || printf '%s\n' "$line"
	done
}

found=$(unknown "$SRC")
[ -z "$found" ] || fail "decisions on message text (set a kind with fw_err_setk and decide on err->kind):
$found"
ok "no production code decides on an error message's text"

# The check must catch what it is for: three planted decisions, in three layers and three spellings.
mkdir -p planted
for d in $DIRS; do mkdir -p "planted/$d"; done
printf 'static int f(struct fw_err *err) { return strstr(err->msg, "signature") != NULL; }\n' >planted/device/a.c
printf 'static int g(struct fw_err e) { return strncmp(e.msg, "HTTP 404", 8) == 0; }\n' >planted/formats/b.c
printf 'static int h(const struct fw_err *why)\n{\n\treturn strcmp(why->msg, "changed") == 0;\n}\n' >planted/signing/c.c
n=$(unknown "$T/planted" | wc -l)
[ "$n" -eq 3 ] || fail "the check found $n of 3 planted decisions: $(unknown "$T/planted")"
ok "the check finds three planted decisions on message text"
