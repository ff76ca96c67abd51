#!/bin/sh
# test_layers: every #include of project code looks down the layers (base, signing, formats, programs); fwctl links no host CLI code.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
SRC=$(cd "$E2E/../.." && pwd)

# Which directories each layer's files may include from (DESIGN.md, "Layout").
allowed() {
	case $1 in
	base) echo "base" ;;
	signing) echo "base signing" ;;
	formats) echo "base signing formats" ;;
	tools | mkpkg | mkwmopkg) echo "base signing formats tools" ;;
	device) echo "base signing formats device" ;;
	*) echo "" ;;
	esac
}

# violations ROOT: one line per #include that looks up or sideways; the count of includes checked on fd 3.
violations() {
	n=0
	for dir in base signing formats tools mkpkg mkwmopkg device; do
		for f in "$1/$dir"/*.c "$1/$dir"/*.h; do
			[ -e "$f" ] || continue
			for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
				n=$((n + 1))
				case $inc in
				../*) echo "$dir/$(basename "$f") includes \"$inc\": name headers from the top"; continue ;;
				*/*) to=${inc%%/*} ;;
				*) to=$dir ;;   # a header beside the file
				esac
				case " $(allowed "$dir") " in
				*" $to "*) ;;
				*) echo "$dir/$(basename "$f") includes \"$inc\": $dir may include only from $(allowed "$dir")" ;;
				esac
			done
		done
	done
	echo "$n" >&3
}

violations "$SRC" >bad.txt 3>count.txt
[ ! -s bad.txt ] || fail "$(cat bad.txt)"
[ "$(cat count.txt)" -gt 100 ] || fail "only $(cat count.txt) includes found: is the tree there?"
ok "$(cat count.txt) #include lines all look down the layers"

# The check must catch each kind of breach.
mkdir -p fake/device fake/signing fake/formats
printf '#include "tools/cli.h"\n' >fake/device/a.c
printf '#include "formats/manifest.h"\n' >fake/signing/b.h
printf '#include "../signing/trust.h"\n' >fake/formats/c.c
violations fake >bad.txt 3>/dev/null
[ "$(wc -l <bad.txt)" -eq 3 ] || fail "breaches not all caught: $(cat bad.txt)"
ok "device -> tools, signing -> formats and ../ paths are caught"

nm --defined-only "$B/fwctl" | awk '{ print $3 }' | grep -E '^cli_' >cli.syms || true
[ ! -s cli.syms ] || fail "fwctl links host CLI code: $(tr '\n' ' ' <cli.syms)"
nm --defined-only "$B/fwpkg" | awk '{ print $3 }' | grep -qE '^cli_' || fail "control: fwpkg should hold cli_ functions"
ok "fwctl links no cli_* function (fwpkg does)"
