#!/bin/sh
# test_bench_delta: scripts/bench-delta's measurement on two small synthetic ext4 images (BENCH_DELTA_IMAGES: no mmdebstrap, no network) prints every row.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
bench=$E2E/../../scripts/bench-delta

# An old tree, and a new one with one file changed, one added and the rest as they were.
mkdir -p old/usr/lib new
randfile old/usr/lib/libbig.so 3000000
randfile old/usr/lib/libsmall.so 200000
seq 1 20000 >old/usr/lib/table.txt
cp -a old/. new/
randfile new/usr/lib/libsmall.so 210000
randfile new/usr/lib/libnew.so 100000
# The script's own image step (BENCH_DELTA_TREES in place of mmdebstrap), twice, the second time from copies
# of the trees (new ctimes, the kernel's clock): the same bytes both times.
imgs() { BENCH_DELTA_TREES="$1 $2" BENCH_DELTA_CACHE="$T/$3" BENCH_DELTA_IMAGE_MB=12 "$PY" "$bench" --images "$B"; }
imgs old new c1 >c1.list || fail "bench-delta --images failed"
[ "$(cat c1.list)" = "$T/c1/release.img
$T/c1/updated.img" ] || fail "bench-delta --images printed: $(cat c1.list)"
sleep 1
cp -a old old2
cp -a new new2
imgs old2 new2 c2 >/dev/null || fail "bench-delta --images failed the second time"
cmp c1/release.img c2/release.img || fail "the old image is not reproducible"
cmp c1/updated.img c2/updated.img || fail "the new image is not reproducible"
cmp -s c1/release.img c1/updated.img && fail "the two images are the same"
e2fsck -fn c1/updated.img >fsck.out 2>&1 || fail "the new image is not a clean ext4 file system: $(cat fsck.out)"
[ "$(debugfs -R 'cat /usr/lib/libnew.so' c1/updated.img 2>/dev/null | cksum)" = "$(cksum <new/usr/lib/libnew.so)" ] ||
	fail "the new image does not hold the new tree's files"
ok "the image pair is made from the trees, the same bytes each time"
mv c1/release.img old.img
mv c1/updated.img new.img

# One timed run, no warm-up; level 5 stands in for -19.
set +e
BENCH_DELTA_IMAGES="old.img new.img" BENCH_DELTA_CACHE="$T/cache" BENCH_RUNS=1 BENCH_WARMUP=0 \
	BENCH_DELTA_HIGH_LEVEL=5 "$PY" "$bench" "$B" >out 2>err
rc=$?
set -e
cat out
# 1 is a missed promise (tiny images), which the table says; anything else, or an error message, is a failure.
[ "$rc" -eq 0 ] || { [ "$rc" -eq 1 ] && grep -q MISSED out; } || fail "bench-delta exited $rc: $(cat err)"
[ ! -s err ] || fail "bench-delta wrote to stderr: $(cat err)"

row() { grep -F -- "$1" out | grep -Eq -- "$2" || fail "no row '$1' matching /$2/"; }
time='[0-9.]+ s +peak RSS +[0-9.]+ MiB'
for cmd in "mkpkg (whole)" "zstd -3 -T0 " "xdelta3 -e -9 -s" "zstd -3 -T0 --long=29 --patch-from" \
	"cp --sparse=never && sync" "fwctl upgrade (whole)" "zstd -d -c > X && sync X" "xdelta3 -d -s && sync" \
	"zstd -d --patch-from && sync"; do
	row "$cmd" "$time +runs [0-9.]+$"
done
size='[0-9.]+ MB +[0-9.]+% of the image'
for s in "mkpkg, whole uncompressed" "zstd -3, whole" "xdelta3 -e -9 -s OLD NEW" "zstd -3 --long=29 --patch-from=OLD NEW" \
	"zstd -5, whole" "xdelta3 -e -9 -s OLD NEW (its highest level)" "zstd -5 --long=29 --patch-from=OLD NEW"; do
	row "$s" "$size"
done
row "whole install / (cp --sparse=never && sync), time" "[0-9.]+x +\[<= 1.10x\]"
for h in "zstd -5 -T0 " "zstd -5 -T0 --long=29 --patch-from"; do
	row "$h" "$time +1 run$"
done
# The package options: figures once this mkpkg has them, "not supported by this build" until then.
if "$B/mkpkg" --help 2>&1 | grep -q -- --compress; then have=$time; hsize=$size; ratio='[0-9.]+x'; else
	have="not supported by this build"; hsize=$have; ratio=$have; fi
row "mkpkg --compress zstd:3 " "$have"
row "mkpkg --compress zstd:3 " "$hsize"
row "mkpkg --compress zstd:5 " "$hsize"
row "fwctl upgrade (compressed)" "$have"
row "compressed package / zstd whole, size" "$ratio"
row "mkpkg --compress / zstd -3 -T0, time" "$ratio"
row "compressed install / (zstd -d && sync), time" "$ratio"
row "compressed install, peak RSS" "[0-9.]+ MiB|not supported by this build"
if "$B/mkpkg" --help 2>&1 | grep -q -- --delta-from; then have=$time; hsize=$size; ratio='[0-9.]+x'; else
	have="not supported by this build"; hsize=$have; ratio=$have; fi
row "mkpkg --delta-from OLD.pkg" "$hsize"
row "mkpkg --delta-from " "$have"
row "fwctl upgrade (delta)" "$have"
row "delta package / xdelta3 -9, size" "$ratio"
row "delta install, peak RSS" "[0-9.]+ MiB|not supported by this build"
ok "bench-delta prints every row on two synthetic images"

# The figures are the images': the new image is 12 MiB (12.58 MB) and the whole package holds it.
grep -q "of the new image's 12.58 MB" out || fail "the image size is not the new image's"
ok "sizes are of the images given"

expect 1 "bench-delta: BENCH_DELTA_IMAGES: nothere.img: no such file" \
	env BENCH_DELTA_IMAGES="old.img nothere.img" "$PY" "$bench" "$B"
expect 1 "bench-delta: BENCH_DELTA_IMAGES: give two images" env BENCH_DELTA_IMAGES="old.img" "$PY" "$bench" "$B"
ok "a missing image is named"
