#!/bin/sh
# test_fwctl_reject: every package fwctl must refuse is refused with exit 1 and a next step, and changes no slot or record.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
PY=${PY:-python3}

D=$T/dev
slotsum() { { treesum "$D/slots"; treesum "$D/records"; } | sha256sum; }
craft() { "$PY" "$E2E/craft.py" "$@"; }
# refused CODE PATTERN RESULT UPGRADE-ARGS...: upgrade exits CODE with stderr matching PATTERN, records
# RESULT as the last upgrade, and leaves every slot and record as it was.
refused() {
	code=$1 pattern=$2 result=$3
	shift 3
	before=$(slotsum)
	expect "$code" "$pattern" fw upgrade "$@"
	[ "$(slotsum)" = "$before" ] || fail "upgrade $*: changed slots or records"
	[ "$(js "d['last_upgrade']['result']")" = "$result" ] ||
		fail "upgrade $*: recorded $(js "d['last_upgrade']"), expected $result"
}
# image NAME VERSION: a small image that says what it is (made once: packages of a version share it).
image() { [ -f "$1-$2.img" ] || { echo "$1 image $2"; head -c 9000 /dev/urandom; } >"$1-$2.img"; }
# pkg OUT VERSION [MKPKG OPTION]...: a package for WX with three images, signed by k unless told otherwise.
pkg() {
	o=$1 v=$2
	shift 2
	for s in pri sec boot; do image $s "$v"; done
	"$B/mkpkg" -q -o "$o" --version "$v" --product WX --chunk-size 4096 \
		--pri "pri-$v.img" --sec "sec-$v.img" --boot "boot-$v.img" "$@"
}

keypair k
keypair other
expect 0 '' fw init --product WX --trust k.pub --version 5.20.0 --rollback-index 2
pkg good.pkg 5.21.2 --rollback-index 2 -k k.key
ok "device WX at 5.20.0, rollback index 2"

# --- not for this device
"$B/mkpkg" -q -o other.pkg --version 5.21.2 --product WY --chunk-size 4096 --pri pri-5.21.2.img -k k.key
refused 1 "package is for WY, not for this device's product WX: use the package built for WX" policyRefused \
	all other.pkg
ok "wrong product: refused, names both products"

pkg tpm.pkg 5.21.2 --tpm --rollback-index 2 -k k.key
refused 1 "marked for TPM products and this WX has no TPM" policyRefused all tpm.pkg
ok "TPM package on a device without TPM: refused"

"$B/fwctl" --root "$T/tpmdev" -q init --product WX --tpm --trust k.pub --version 5.20.0 >/dev/null
tpm_before=$({ treesum "$T/tpmdev/slots"; treesum "$T/tpmdev/records"; } | sha256sum)
expect 1 "has a TPM and the package is not marked for TPM products: use the package for WX with TPM" \
	"$B/fwctl" --root "$T/tpmdev" upgrade all good.pkg
[ "$({ treesum "$T/tpmdev/slots"; treesum "$T/tpmdev/records"; } | sha256sum)" = "$tpm_before" ] ||
	fail "refused TPM upgrade changed the device"
expect 0 '' "$B/fwctl" --root "$T/tpmdev" upgrade all tpm.pkg
ok "TPM device: a package not marked for TPM refused, the TPM package accepted"

"$B/mkpkg" -q -o secboot.pkg --version 5.21.2 --product WX --chunk-size 4096 \
	--sec sec-5.21.2.img --boot boot-5.21.2.img -k k.key --rollback-index 2
refused 1 "no primary image for WX: use a package that has one, or 'upgrade all'" policyRefused pri secboot.pkg
ok "single target the package has no image for: refused"

pkg low.pkg 5.21.3 --rollback-index 1 -k k.key
refused 1 "rollback index 1 is below the device's 2.*rollback index 2 or higher" policyRefused all low.pkg
expect 1 "rollback index 1 is below" fw upgrade force all low.pkg
ok "lower rollback index: refused, even with force"

# --- signatures
KEYID=$(craft list good.pkg | sed -n 's/^manifest\.json\.\([0-9A-F]\{16\}\)\.minisig$/\1/p')
craft drop good.pkg unsigned.pkg "manifest.json.$KEYID.minisig"
refused 1 "unsigned package" signatureFailed all unsigned.pkg
ok "unsigned package: refused (signatureFailed)"

pkg stranger.pkg 5.21.2 --rollback-index 2 -k other.key
refused 1 "no signature by a trusted key" signatureFailed all stranger.pkg
ok "package signed by an unknown key: refused (signatureFailed)"

craft flipentry good.pkg forged.pkg manifest.json middle
refused 1 "signature by trusted key $KEYID" signatureFailed all forged.pkg
ok "manifest changed after signing: refused (signatureFailed)"

# --- tampered images: caught chunk by chunk, the slot left invalid, the device still boots
craft flipentry good.pkg badsec.pkg WX-sec.img middle
expect 1 "payload WX-sec.img: chunk 1 .*SHA-256 mismatch" fw upgrade sec badsec.pkg
[ "$(js "d['slots']['sec']['valid'], d['slots']['pri']['valid'], d['slots']['pri']['version'], d['last_upgrade']['result']")" = \
	"False True 5.20.0 fileCheckFailed" ] || fail "after a tampered sec: $(js d)"
grep -q 'sec: holds no valid image now' "$T/.err" || fail "no word about the invalid slot: $(cat "$T/.err")"
expect 0 '' fw boot
grep -q 'booted pri 5.20.0' "$T/.out" || fail "did not boot the primary: $(cat "$T/.out")"
ok "tampered secondary image: sec not valid, primary intact, boots pri"

craft flipentry good.pkg badpri.pkg WX-pri.img last
expect 1 "payload WX-pri.img: chunk 2 .*SHA-256 mismatch" fw upgrade all badpri.pkg
[ "$(js "[(d['slots'][s]['valid'], d['slots'][s].get('version')) for s in ('pri','sec','boot')]")" = \
	"[(False, None), (True, '5.21.2'), (True, '5.21.2')]" ] || fail "after a tampered pri: $(js d)"
cmp -s "$D/slots/sec" sec-5.21.2.img && cmp -s "$D/slots/boot" boot-5.21.2.img || fail "sec/boot not the new images"
expect 0 'boot: primary: record not valid' fw boot
grep -q 'booted sec 5.21.2' "$T/.out" || fail "did not fall back to the secondary: $(cat "$T/.out")"
ok "tampered primary in upgrade all: sec and boot written and valid, pri not valid, boots sec"

expect 0 '' fw upgrade all good.pkg
grep -q 'booted pri 5.21.2' "$T/.out" || fail "recovery did not boot pri: $(cat "$T/.out")"
ok "a good package restores the primary"

# --- truncated streams on stdin
pkg next.pkg 5.22.0 --rollback-index 2 -k k.key
before=$(slotsum)
head -c 700 next.pkg >cut-manifest.pkg
expect 1 "" sh -c "\"\$0\" --root \"\$1\" upgrade all - <cut-manifest.pkg" "$B/fwctl" "$D"
[ "$(slotsum)" = "$before" ] || fail "a stream cut in the manifest changed slots or records"
[ "$(js "d['last_upgrade']['result'], d['last_upgrade']['source']")" = "fileCheckFailed -" ] ||
	fail "recorded: $(js "d['last_upgrade']")"
ok "stream cut inside the manifest (stdin): exit 1, nothing written, fileCheckFailed"

cut=$(craft offset next.pkg WX-pri.img middle)
head -c "$cut" next.pkg | fw upgrade all - 2>"$T/.err" && fail "a truncated stream was accepted"
grep -Eqi 'truncat|ends early|fewer|present' "$T/.err" || fail "no word about truncation: $(cat "$T/.err")"
[ "$(js "d['slots']['pri']['valid'], d['slots']['sec']['version'], d['last_upgrade']['result']")" = \
	"False 5.22.0 fileCheckFailed" ] || fail "after a stream cut in pri: $(js d)"
expect 0 '' fw boot
grep -q 'booted sec 5.22.0' "$T/.out" || fail "did not boot the secondary: $(cat "$T/.out")"
ok "stream cut inside the primary (stdin): sec and boot complete, pri not valid, boots sec"

# --- version order: the one thing force skips
expect 0 '' fw upgrade all next.pkg
refused 1 "already hold 5.22.0: nothing to do \\(use 'upgrade force'" policyRefused all next.pkg
expect 0 '' fw upgrade force no-reboot all next.pkg
grep -q booted "$T/.out" && fail "no-reboot rebooted"
ok "same version again: refused without force, written with force (no-reboot: no boot step)"

# --- a common pkg: only this product's images are written; the others are verified all the same
for s in pri sec boot; do image $s 5.30.0; done
"$B/mkpkg" -q -o common.pkg --version 5.30.0 --product WY --product WX --chunk-size 4096 --rollback-index 2 \
	--image WY:pri=pri-5.30.0.img --image WY:sec=sec-5.30.0.img --image WY:boot=boot-5.30.0.img \
	--image WX:pri=pri-5.30.0.img --image WX:sec=sec-5.30.0.img -k k.key
craft flipentry common.pkg common-bad.pkg WY-boot.img middle
refused 1 "payload WY-boot.img: chunk 1 .*SHA-256 mismatch" fileCheckFailed all common-bad.pkg
ok "common pkg with another product's image tampered: refused like fwpkg verify, nothing written"
boot_before=$(treesum "$D/records/boot.json" 2>/dev/null; sha256sum <"$D/slots/boot")
expect 0 '' fw upgrade all common.pkg
order=$(grep -o 'upgrade: [a-z]*: writing [^ ]*' "$T/.err" | sed 's/upgrade: //' | tr '\n' ' ')
[ "$order" = "sec: writing WX-sec.img pri: writing WX-pri.img " ] || fail "common pkg wrote: $order"
[ "$(treesum "$D/records/boot.json" 2>/dev/null; sha256sum <"$D/slots/boot")" = "$boot_before" ] ||
	fail "the bootloader slot changed though the package has no WX bootloader"
[ "$(js "d['slots']['pri']['version'], d['slots']['sec']['version'], d['slots']['boot']['version']")" = \
	"5.30.0 5.30.0 5.22.0" ] || fail "after the common pkg: $(js d)"
ok "common pkg: all writes only this product's images (sec, pri), the bootloader untouched"

# --- the device's rollback index rises when an image with a higher one boots
pkg r5.pkg 5.31.0 --rollback-index 5 -k k.key
expect 0 '' fw upgrade no-reboot all r5.pkg
[ "$(js "d['rollback_index']")" = 2 ] || fail "rollback index rose before the image booted: $(js d)"
expect 0 'booted pri 5.31.0' sh -c '"$0" --root "$1" boot >&2' "$B/fwctl" "$D"
# On trial, the new images do not raise it yet: a rollback may still need the old ones.
[ "$(js "d['rollback_index']")" = 2 ] || fail "rollback index rose during the trial: $(js d)"
expect 0 '' fw mark-good
expect 0 '' fw boot
[ "$(js "d['rollback_index']")" = 5 ] || fail "rollback index did not rise on boot: $(js d)"
pkg r2.pkg 5.32.0 --rollback-index 2 -k k.key
refused 1 "rollback index 2 is below the device's 5" policyRefused all r2.pkg
ok "rollback index: raised to 5 when that image boots, then a newer version with index 2 is refused"

# --- a device that is not one
expect 2 "not a device root.*fwctl --root $T/nowhere init" "$B/fwctl" --root "$T/nowhere" upgrade all good.pkg
expect 2 "already a device root" fw init --product WX --trust k.pub
expect 2 "the target is all, pri, sec or boot" fw upgrade everything good.pkg
expect 2 "no source" fw upgrade all
ok "usage errors exit 2"
