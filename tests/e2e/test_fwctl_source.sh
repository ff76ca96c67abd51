#!/bin/sh
# test_fwctl_source: every SOURCE form of `upgrade` (local, stdin, media, network, scp) and the device lock.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"
# A SANITIZE=1 build with an LD_PRELOAD shim: the shim may come before ASan's runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
PY=${PY:-python3}

D=$T/dev
statesum() { sha256sum <"$D/state.json"; }

keypair k
randfile pri.img 20000
mkdir usb stick stick/fw
for v in 5.21.0 5.21.1 5.21.2 5.21.3 5.21.4 5.21.5; do
	"$B/mkpkg" -q -o "fw-$v.pkg" --version "$v" --product WX --chunk-size 4096 --pri pri.img -k k.key
done
cp fw-5.21.2.pkg usb/
cp fw-5.21.3.pkg stick/fw/
expect 0 '' fw init --product WX --trust k.pub --version 5.20.0 --media "external=$T/usb" --media "stick=$T/stick"
ok "device with media labels external and stick"

# --- local forms
expect 0 '' fw upgrade no-reboot pri fw-5.21.0.pkg
[ "$(js "d['slots']['pri']['version'], d['last_upgrade']['source']")" = "5.21.0 fw-5.21.0.pkg" ] || fail "$(js d)"
expect 0 '' fw upgrade pri "file://$T/fw-5.21.1.pkg"
expect 0 '' fw upgrade pri usb://fw-5.21.2.pkg
[ "$(js "d['slots']['pri']['version'], d['last_upgrade']['source']")" = "5.21.2 usb://fw-5.21.2.pkg" ] || fail "$(js d)"
expect 0 '' fw upgrade pri media stick fw/fw-5.21.3.pkg
[ "$(js "d['slots']['pri']['version'], d['last_upgrade']['source']")" = "5.21.3 media stick fw/fw-5.21.3.pkg" ] ||
	fail "$(js d)"
expect 0 '' sh -c "\"\$0\" --root \"\$1\" upgrade pri - <fw-5.21.4.pkg" "$B/fwctl" "$D"
[ "$(js "d['slots']['pri']['version']")" = 5.21.4 ] || fail "$(js d)"
ok "PATH, file://, usb:// (label external), media LABEL PATH and - (stdin) install"

expect 3 "upgrade: $T/missing.pkg: cannot open: No such file" fw upgrade pri "$T/missing.pkg"
[ "$(js "d['last_upgrade']['result']")" = systemError ] || fail "$(js "d['last_upgrade']")"
expect 2 'no medium labelled "cdrom"' fw upgrade pri media cdrom fw.pkg
expect 2 'may not leave the medium' fw upgrade pri usb://../fw-5.21.5.pkg
expect 2 'media needs a label and a path' fw upgrade pri media stick
ok "missing file exits 3; unknown label and escaping the medium exit 2"

# --- a media label configured after init (config media), given a new directory, then removed
mkdir cd2
cp fw-5.21.5.pkg cd2/
expect 0 '' fw config media "cdrom=$T/stick"
expect 3 "media cdrom fw-5.21.5.pkg: $T/stick/fw-5.21.5.pkg: cannot open" fw upgrade pri media cdrom fw-5.21.5.pkg
expect 0 '' fw config media "cdrom=$T/cd2"
expect 0 '' fw upgrade force pri media cdrom fw-5.21.5.pkg
[ "$(js "d['slots']['pri']['version'], d['last_upgrade']['source']")" = "5.21.5 media cdrom fw-5.21.5.pkg" ] || fail "$(js d)"
expect 0 '' fw config media cdrom=none
expect 2 'no medium labelled "cdrom" on this device \(fwctl config media LABEL=DIR adds one\)$' fw upgrade pri media cdrom fw-5.21.5.pkg
ok "config media LABEL=DIR after init: the label reads its directory, a new directory replaces it, LABEL=none removes it"

# --- media paths resolve beneath the label's directory, regular files only, never waited on
ln -s "$T/fw-5.21.5.pkg" stick/out.pkg
ln -s fw/fw-5.21.3.pkg stick/in.pkg
mkfifo stick/fifo.pkg
before=$(sha256sum <"$D/records/pri.json")
expect 1 'stick/out\.pkg: leads out of the medium \(a symlink\?\): refused' fw upgrade pri media stick out.pkg
[ "$(js "d['last_upgrade']['result']")" = policyRefused ] || fail "$(js "d['last_upgrade']")"
expect 1 'not a regular file' timeout 10 "$B/fwctl" --root "$D" upgrade pri media stick fifo.pkg
expect 1 'not a regular file' timeout 10 "$B/fwctl" --root "$D" upgrade pri media stick fw
expect 1 'not a regular file' timeout 10 "$B/fwctl" --root "$D" upgrade pri "$T/stick/fifo.pkg"
[ "$(sha256sum <"$D/records/pri.json")" = "$before" ] || fail "a refused medium path changed the primary"
expect 0 '' fw upgrade force pri media stick in.pkg
[ "$(js "d['slots']['pri']['version']")" = 5.21.3 ] || fail "$(js d)"
ok "media: a symlink out of the medium and a FIFO are refused at once (exit 1, recorded); a symlink inside is followed"

# The same cases on a kernel without openat2 (the shim makes it fail with ENOSYS): the fallback walks the
# path a component at a time with O_NOFOLLOW, so it follows no symlink at all, not even one inside.
[ -f "$B/shim/noopenat2.so" ] || fail "no $B/shim/noopenat2.so: run make check"
ln -s .. stick/up
before=$(sha256sum <"$D/records/pri.json")
expect 1 'stick/up/fw-5\.21\.5\.pkg: leads out of the medium \(a symlink\?\): refused' fw upgrade pri media stick up/fw-5.21.5.pkg
for p in out.pkg up/fw-5.21.5.pkg in.pkg; do
	expect 1 "stick/$p: leads out of the medium \\(a symlink\\?\\): refused" \
		env LD_PRELOAD="$B/shim/noopenat2.so" "$B/fwctl" --root "$D" upgrade force pri media stick "$p"
	[ "$(js "d['last_upgrade']['result']")" = policyRefused ] || fail "$p: $(js "d['last_upgrade']")"
done
expect 1 'not a regular file' timeout 10 env LD_PRELOAD="$B/shim/noopenat2.so" "$B/fwctl" --root "$D" upgrade pri media stick fifo.pkg
[ "$(sha256sum <"$D/records/pri.json")" = "$before" ] || fail "a refused medium path changed the primary (no openat2)"
expect 0 '' env LD_PRELOAD="$B/shim/noopenat2.so" "$B/fwctl" --root "$D" upgrade force pri media stick fw/fw-5.21.3.pkg
rm stick/up
ok "media without openat2 (ENOSYS): symlinks out (to a file, to ..) and even inside are refused, a FIFO too; a plain nested path installs"

# --- words in the wrong place are usage errors that record nothing
before=$(statesum)
expect 2 '"no-reboot" comes before the target' fw upgrade all no-reboot fw-5.21.5.pkg
expect 2 '"force" comes before the target' fw upgrade pri fw-5.21.5.pkg force
expect 2 '"extra": one word too many after the source fw-5.21.5.pkg' fw upgrade pri fw-5.21.5.pkg extra
expect 2 '"no/where" is not a server address' fw upgrade pri no/where fw.pkg
expect 2 'localhost:0: port must be 1 to 65535' fw upgrade pri localhost:0 fw.pkg
whole=$(treesum "$D")
for words in "upgrade sec -evil fw.pkg" "upgrade all -evil:21 fw.pkg" "upgrade pri ftp://-evil/fw.pkg" \
	"golden install -evil fw.pkg" "package install -evil x.wmopkg" "package install proto sftp -evil x.wmopkg"; do
	# shellcheck disable=SC2086
	expect 2 "^fwctl: [a-z ]+: -evil: not a server address: a host name does not start with '-'\$" fw $words
	[ "$(wc -l <"$T/.err")" -eq 1 ] || fail "$words: more than one line: $(cat "$T/.err")"
done
[ "$(treesum "$D")" = "$whole" ] || fail "a host name starting with '-' changed the device"
expect 2 'global options go before the command: fwctl \[--root DIR\] \[-q\] status' "$B/fwctl" status --root "$D"
expect 2 'global options go before the command' "$B/fwctl" --root "$D" upgrade pri -q fw-5.21.5.pkg
[ "$(statesum)" = "$before" ] || fail "a usage error changed the state"
ok "keywords after the target, an extra word, a host name starting with '-', and global options after the command: exit 2, one line, nothing recorded"

# --- network forms: parsed and fetched; with nothing listening (port 1), exit 4, netError (tests/e2e/test_fwctl_net.sh
# installs from real servers). TFTP waits for its connect timeout: the fallback from FTP is tested there too.
expect 0 '' fw config net-retries 0
for src in "ftp://127.0.0.1:1/fw.pkg" "http://127.0.0.1:1/a/fw.pkg" "https://[::1]:1/fw.pkg"; do
	expect 4 "Failed to connect to .* port 1" fw upgrade pri $src
	[ "$(js "d['last_upgrade']['result']")" = netError ] || fail "$src: $(js "d['last_upgrade']")"
done
expect 4 "ftp://admin:\\*\\*\\*@127.0.0.1:1/pub/fw.pkg: Failed to connect" fw upgrade all ftp://admin:s3cret@127.0.0.1:1/pub/fw.pkg
grep -q s3cret "$D/state.json" "$T/.err" && fail "the FTP password was stored or printed"
[ "$(js "d['last_upgrade']['source']")" = "ftp://admin:***@127.0.0.1:1/pub/fw.pkg" ] || fail "$(js "d['last_upgrade']")"
ok "ftp, http, https with no server: exit 4, netError, password hidden"

before=$(statesum)
expect 2 "scp:// is not accepted for firmware" fw upgrade all scp://10.0.0.1/fw.pkg
expect 2 "sftp:// is not accepted for firmware" fw upgrade all sftp://user@10.0.0.1/fw.pkg
expect 2 'unknown protocol "gopher"' fw upgrade all gopher://10.0.0.1/fw.pkg
expect 2 "tftp takes no user name" fw upgrade all tftp://u:p@10.0.0.1/fw.pkg
expect 2 "port must be 1 to 65535" fw upgrade all ftp://10.0.0.1:70000/fw.pkg
expect 2 "no file after the server address" fw upgrade all http://10.0.0.1/
[ "$(statesum)" = "$before" ] || fail "a usage error changed the state"
ok "scp:// and sftp:// refused for firmware; malformed URIs are usage errors (exit 2, nothing recorded)"

# --- one fwctl at a time
(sleep 3; cat fw-5.21.5.pkg) | fw upgrade pri - >slow.out 2>slow.err &
slow=$!
wait_flock "$D/.lock"   # until the first upgrade holds the lock
expect 5 "busy: another fwctl is working on this device" fw upgrade pri fw-5.21.5.pkg
expect 5 "busy" fw boot
expect 0 '' fw status
wait "$slow" || { cat slow.err >&2; fail "the first upgrade failed"; }
[ "$(js "d['slots']['pri']['version'], d['last_upgrade']['result'], d['last_upgrade']['source']")" = "5.21.5 success -" ] ||
	fail "after the contention: $(js d)"
ok "a second upgrade (or boot) while one runs: exit 5 "busy", status still answers, the first completes"
