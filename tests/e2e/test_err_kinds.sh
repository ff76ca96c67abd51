#!/bin/sh
# test_err_kinds: no production code decides on an error message's text (a wording is for people); code decides on fw_err's kind or code.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
SRC=$(cd "$E2E/../.." && pwd)

# text_decisions ROOT: one line per string comparison or search that reads a
# message (".msg" or "->msg" of a struct fw_err) in a production directory;
# the number of files read on fd 3.
text_decisions() {
	n=0
	for dir in base signing formats tools mkpkg mkwmopkg device; do
		for f in "$1/$dir"/*.c "$1/$dir"/*.h; do
			[ -e "$f" ] || continue
			n=$((n + 1))
			grep -nE '(strn?cmp|strn?casecmp|strstr|strcasestr|memcmp|memmem|strspn|strcspn|strpbrk|fnmatch|regexec)[[:space:]]*\([^;]*(\.|->)msg\b' "$f" |
				sed "s|^|$dir/$(basename "$f"):|"
		done
	done
	echo "$n" >&3
}

text_decisions "$SRC" >bad.txt 3>count.txt
[ ! -s bad.txt ] || fail "decisions on message text (decide on err->kind instead): $(cat bad.txt)"
[ "$(cat count.txt)" -gt 50 ] || fail "only $(cat count.txt) files read: is the tree there?"
ok "$(cat count.txt) production files decide on no message text"

# The check must catch each shape a text decision has taken in this tree.
mkdir -p fake/device fake/signing fake/mkwmopkg
printf '\tif (strstr(err->msg, "changed") != NULL) {\n' >fake/device/a.c
printf '\t} else if (strstr(as_ca.msg, "not a CA certificate") != NULL) {\n' >fake/signing/b.c
printf '\tint bad = strncmp(err->msg, "signature", 9) == 0;\n\tif (strncmp(err->msg, file, n) == 0)\n' >fake/mkwmopkg/c.c
text_decisions fake >bad.txt 3>/dev/null
[ "$(wc -l <bad.txt)" -eq 4 ] || fail "planted text decisions not all caught: $(cat bad.txt)"
# ... and must not flag what only carries or prints a message.
printf '\tmsg_error(NULL, file, "%%s", err.msg);\n\tif (err.msg[0] == 0)\n\tsnprintf(out, n, "%%s", why.msg);\n\tif (msg->msg == CURLMSG_DONE)\n' >fake/device/d.c
rm fake/device/a.c fake/signing/b.c fake/mkwmopkg/c.c
text_decisions fake >bad.txt 3>/dev/null
[ ! -s bad.txt ] || fail "printing a message was taken for a decision: $(cat bad.txt)"
ok "the check catches the four planted decisions and passes printing"
