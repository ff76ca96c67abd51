# servers.sh: real FTP, TFTP, HTTP(S) and SSH (scp, sftp) servers and a fault proxy on free loopback ports; source after lib.sh.
# Every server started here is stopped when the test exits (trap), however it exits.
# Functions set shell variables the test uses (ports, CA file); see each one.

SRV_PIDS=""
SRV_DIR=$T/servers
mkdir -p "$SRV_DIR"
# Servers that drop privileges (vsftpd's anonymous user, tftpd, nginx's workers) must read the files.
chmod 755 "$T"
umask 022

srv_stop_all() {
	for p in $SRV_PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $SRV_PIDS; do
		# A server that ignores TERM for 5 s is killed.
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null || true
	done
	SRV_PIDS=""
}
trap 'srv_stop_all; rm -rf "$T"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port [tcp|udp|both]: a loopback port nobody listens on now (the kernel's pick).
free_port() {
	"$PY" - "${1:-tcp}" <<'EOF'
import socket, sys
kind = sys.argv[1]
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    ok = True
    if kind == "both":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            ok = False
        u.close()
    s.close()
    if ok:
        print(port)
        sys.exit(0)
sys.exit("no free port")
EOF
}

# srv_wait_tcp PORT NAME PID: wait until something accepts on PORT (or the server died).
srv_wait_tcp() {
	i=0
	until "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1" \
		2>/dev/null; do
		kill -0 "$3" 2>/dev/null || { cat "$SRV_DIR/$2.log" >&2 2>/dev/null; fail "$2 did not start"; }
		i=$((i + 1))
		[ $i -lt 100 ] || fail "$2 did not listen on port $1 within 10 s"
		sleep 0.1
	done
}

# The user the servers run their file access as: ourselves when root (files are ours), else nothing to choose.
srv_user() { id -un; }

# srv_ca: a CA and a server certificate for 127.0.0.1 and localhost, made here.
# Sets SRV_CA (the CA certificate), SRV_CERT, SRV_KEY.
srv_ca() {
	SRV_CA=$SRV_DIR/ca.pem SRV_CERT=$SRV_DIR/server.pem SRV_KEY=$SRV_DIR/server.key
	[ -e "$SRV_CA" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=fwpkg test CA" \
		-keyout "$SRV_DIR/ca.key" -out "$SRV_CA" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$SRV_KEY" -out "$SRV_DIR/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		>"$SRV_DIR/ext.cnf"
	openssl x509 -req -in "$SRV_DIR/server.csr" -CA "$SRV_CA" -CAkey "$SRV_DIR/ca.key" -CAcreateserial -days 2 \
		-extfile "$SRV_DIR/ext.cnf" -out "$SRV_CERT" 2>/dev/null
}

# srv_nginx_temp_paths DIR: nginx's temporary directories, all under DIR (never the system's).
srv_nginx_temp_paths() {
	for t in client_body proxy fastcgi uwsgi scgi; do
		printf '\t%s_temp_path %s/%s;\n' "$t" "$1" "${t#client_}"
	done
}

# srv_nginx ROOT: nginx serving ROOT on three ports: HTTP_PORT, HTTPS_PORT (certificate from srv_ca)
# and NORANGE_PORT (HTTP that ignores Range: max_ranges 0). On HTTP_PORT, /busy.bin answers 503, /gateway.bin 502,
# /redirect.bin redirects to /fw.bin and /to-ftp.bin to an ftp:// URL, and below /slow/ it sends at most
# 512 KiB/s (a client killed mid-transfer was not sent much more than it read). With SRV_NGINX_ACCESS set,
# nginx logs each request there as "URI STATUS BODY_BYTES_SENT" (bytes the server sent, for byte budgets).
srv_nginx() {
	srv_ca
	HTTP_PORT=$(free_port) HTTPS_PORT=$(free_port) NORANGE_PORT=$(free_port)
	d=$SRV_DIR/nginx
	mkdir -p "$d"
	user=""
	[ "$(id -u)" -ne 0 ] || user="user $(srv_user);"
	cat >"$d/nginx.conf" <<EOF
$user
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $SRV_DIR/nginx.log warn;
events { worker_connections 64; }
http {
	log_format sent '\$uri \$status \$body_bytes_sent';
	access_log ${SRV_NGINX_ACCESS:-off}${SRV_NGINX_ACCESS:+ sent};
$(srv_nginx_temp_paths "$d")
	default_type application/octet-stream;
	sendfile on;
	server {
		listen 127.0.0.1:$HTTP_PORT;
		root $1;
		location = /busy.bin { return 503; }
		location = /gateway.bin { return 502; }
		location = /redirect.bin { return 302 /fw.bin; }
		location = /to-ftp.bin { return 302 ftp://127.0.0.1:1/fw.bin; }
		location /slow/ { limit_rate 512k; }
	}
	server { listen 127.0.0.1:$NORANGE_PORT; root $1; max_ranges 0; }
	server {
		listen 127.0.0.1:$HTTPS_PORT ssl;
		ssl_certificate $SRV_CERT;
		ssl_certificate_key $SRV_KEY;
		root $1;
	}
}
EOF
	nginx -e "$SRV_DIR/nginx.log" -p "$d" -c "$d/nginx.conf" >>"$SRV_DIR/nginx.log" 2>&1 &
	SRV_PIDS="$SRV_PIDS $!"
	srv_wait_tcp "$HTTP_PORT" nginx $!
	srv_wait_tcp "$HTTPS_PORT" nginx $!
	srv_wait_tcp "$NORANGE_PORT" nginx $!
}

# The login vsftpd checks through PAM (pam_userdb), installed by scripts/install-deps; never a system account.
FTP_USER=fwtest
FTP_PASSWORD=fwtest-secret

# srv_vsftpd ROOT [PORT]: vsftpd on FTP_PORT (PORT or a free one) with ROOT as the anonymous root and,
# on FTP_USER_PORT (the same port when root), as the home of FTP_USER (password FTP_PASSWORD).
srv_vsftpd() {
	FTP_PORT=${2:-$(free_port)}
	d=$SRV_DIR/vsftpd-$FTP_PORT
	mkdir -p "$d/empty"
	chmod 555 "$d/empty"
	# As root, vsftpd refuses a root it may write to, and needs a user with a home: Debian's vsftpd makes "ftp".
	ftpuser=ftp
	[ "$(id -u)" -eq 0 ] || ftpuser=$(id -un)
	cat >"$d/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$FTP_PORT
background=NO
anonymous_enable=YES
anon_root=$1
no_anon_password=YES
ftp_username=$ftpuser
local_enable=YES
guest_enable=YES
guest_username=$ftpuser
local_root=$1
allow_writeable_chroot=YES
pam_service_name=fwpkg-test-ftp
write_enable=NO
connect_from_port_20=NO
pasv_enable=YES
secure_chroot_dir=$d/empty
nopriv_user=$ftpuser
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
xferlog_enable=NO
vsftpd_log_file=$SRV_DIR/vsftpd.log
dual_log_enable=NO
use_localtime=NO
EOF
	FTP_USER_PORT=$FTP_PORT
	[ "$(id -u)" -eq 0 ] || echo run_as_launching_user=YES >>"$d/vsftpd.conf"
	vsftpd "$d/vsftpd.conf" >>"$SRV_DIR/vsftpd.log" 2>&1 &
	SRV_PIDS="$SRV_PIDS $!"
	srv_wait_tcp "$FTP_PORT" vsftpd $!
	[ "$(id -u)" -ne 0 ] || return 0
	# Not root, vsftpd runs in its one-process mode, which serves anonymous logins only: the user's
	# login goes to pyftpdlib (a real FTP server too) on FTP_USER_PORT, with the same name and password.
	FTP_USER_PORT=$(free_port)
	"$PY" -c '
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
a = DummyAuthorizer()
a.add_user(sys.argv[1], sys.argv[2], sys.argv[3], perm="elr")
FTPHandler.authorizer = a
FTPServer(("127.0.0.1", int(sys.argv[4])), FTPHandler).serve_forever()' \
		"$FTP_USER" "$FTP_PASSWORD" "$1" "$FTP_USER_PORT" >>"$SRV_DIR/pyftpdlib.log" 2>&1 &
	SRV_PIDS="$SRV_PIDS $!"
	srv_wait_tcp "$FTP_USER_PORT" pyftpdlib $!
}

# srv_tftpd ROOT [PORT]: tftpd-hpa on UDP TFTP_PORT (PORT or a free one) serving ROOT.
srv_tftpd() {
	TFTP_PORT=${2:-$(free_port udp)}
	# -L: foreground; -p: the file system's permissions only (the files are ours, not world-writable).
	if [ "$(id -u)" -eq 0 ]; then
		in.tftpd -L -p -u "$(srv_user)" -a "127.0.0.1:$TFTP_PORT" -s "$1" >>"$SRV_DIR/tftpd.log" 2>&1 &
	else
		# Not root: no chroot (-s) and no group change (the unprivileged shim); a remap rule roots the names.
		# Built by the Makefile (make check); a missing shim is a failure, never a skip.
		[ -f "$B/shim/unprivileged.so" ] || fail "no $B/shim/unprivileged.so: run make check"
		printf 'r ^/* %s/\n' "$1" >"$SRV_DIR/tftpd-$TFTP_PORT.map"
		LD_PRELOAD=$B/shim/unprivileged.so in.tftpd -L -p -u "$(srv_user)" -a "127.0.0.1:$TFTP_PORT" \
			-m "$SRV_DIR/tftpd-$TFTP_PORT.map" >>"$SRV_DIR/tftpd.log" 2>&1 &
	fi
	SRV_PIDS="$SRV_PIDS $!"
	i=0
	until "$PY" - "$TFTP_PORT" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
# A read request for a file that is not there: any answer (an ERROR packet) means the server is up.
s.sendto(b"\x00\x01fwpkg-probe-no-such-file\x00octet\x00", ("127.0.0.1", int(sys.argv[1])))
s.recvfrom(600)
EOF
	do
		i=$((i + 1))
		[ $i -lt 30 ] || fail "tftpd did not answer on port $TFTP_PORT"
	done
}

# srv_wait_port_file PID FILE LOG NAME: a server of ours (PID, started in the background) writes its port to FILE
# once it listens: wait for it (10 s at most), and stop it with the others (srv_stop_all).
srv_wait_port_file() {
	SRV_PIDS="$SRV_PIDS $1"
	i=0
	until [ -s "$2" ]; do
		kill -0 "$1" 2>/dev/null || { cat "$3" >&2; fail "$4 did not start"; }
		i=$((i + 1))
		[ $i -lt 100 ] || fail "$4 did not start within 10 s"
		sleep 0.1
	done
}

# srv_proxy MODE UPSTREAM_PORT: the fault proxy (faultproxy.py; MODE http, ftp or raw) in front of UPSTREAM_PORT.
# Sets PROXY_PORT and PROXY_PLAN (write "cut N" / "stall N" / "pass" lines there, one per connection).
srv_proxy() {
	PROXY_PLAN=$SRV_DIR/plan-$2
	: >"$PROXY_PLAN"
	rm -f "$SRV_DIR/proxy-$2.port"
	mode=""
	[ "$1" = raw ] || mode="--$1"
	"$PY" "$E2E/faultproxy.py" $mode "$PROXY_PLAN" "$2" "$SRV_DIR/proxy-$2.port" >>"$SRV_DIR/proxy.log" 2>&1 &
	srv_wait_port_file $! "$SRV_DIR/proxy-$2.port" "$SRV_DIR/proxy.log" faultproxy
	PROXY_PORT=$(cat "$SRV_DIR/proxy-$2.port")
}

# srv_sshd: OpenSSH's sshd on SSH_PORT with a host key made here, password logins for SSH_USER (the user
# running the test) with SSH_PASSWORD, and public keys from SSH_AUTHORIZED. SSH_KNOWN_HOSTS lists its host
# key as a client's known_hosts does; SSH_HOST_KEY is the key's public half.
# The password is not the account's: sshd runs in a mount namespace of its own (unshare, root only) where a
# shadow file made here stands in for /etc/shadow, holding SSH_USER's test password alone. Nothing of the
# machine's accounts changes, and the namespace ends with sshd.
srv_sshd() {
	[ "$(id -u)" -eq 0 ] || fail "srv_sshd: sshd's password login needs root (a private /etc/shadow in a mount namespace)"
	SSH_PORT=$(free_port) SSH_USER=$(id -un) SSH_PASSWORD=ssh-test-secret
	d=$SRV_DIR/sshd-$SSH_PORT
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -C fwpkg-test-host -f "$d/host_key"
	SSH_HOST_KEY=$d/host_key.pub SSH_AUTHORIZED=$d/authorized_keys SSH_KNOWN_HOSTS=$d/known_hosts
	: >"$SSH_AUTHORIZED"
	echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH_HOST_KEY")" >"$SSH_KNOWN_HOSTS"
	(umask 077 && printf '%s:%s:19000:0:99999:7:::\n' "$SSH_USER" "$(openssl passwd -6 "$SSH_PASSWORD")" >"$d/shadow")
	cat >"$d/sshd_config" <<EOC
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $d/host_key
PidFile $d/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $SSH_AUTHORIZED
PermitRootLogin yes
StrictModes no
Subsystem sftp internal-sftp
MaxStartups 100
LogLevel VERBOSE
EOC
	# Debian's sshd wants its privilege separation directory (the package makes it at boot).
	mkdir -p /run/sshd
	unshare -m sh -c 'mount --bind "$1" /etc/shadow && exec /usr/sbin/sshd -D -e -f "$2"' sh "$d/shadow" \
		"$d/sshd_config" >>"$SRV_DIR/sshd.log" 2>&1 &
	SRV_PIDS="$SRV_PIDS $!"
	srv_wait_tcp "$SSH_PORT" sshd $!
}

# ---- the smart-upgrade tests (test_smart*.sh): nginx serving $T/www, signed catalogs, a device on the network ----

# smart_clock: the catalogs' and the device's clocks start at C0, lib.sh's SOURCE_DATE_EPOCH: fwpkg catalog
# makes its catalogs as if it were then (FWPKG_NOW: it refuses a catalog dead at its clock). DAY0 is that
# day's midnight UTC; hm H M is the next day at H:M UTC; at TIME CMD... runs CMD with the device's clock at TIME.
smart_clock() {
	C0=$SOURCE_DATE_EPOCH
	export FWPKG_NOW=$C0
	DAY0=$((C0 - C0 % 86400))
}
hm() { echo $((DAY0 + 86400 + $1 * 3600 + $2 * 60)); }
at() { t=$1; shift; FWCTL_NOW=$t "$@"; }

# smart_www: nginx serving $T/www at $H, logging the body bytes it sends to $NGINX_ACCESS (empty it to start
# counting); served URI prints the bytes sent for URI.
smart_www() {
	export SRV_NGINX_ACCESS=$T/access.log
	srv_nginx "$T/www"
	H=http://127.0.0.1:$HTTP_PORT
	NGINX_ACCESS=$SRV_NGINX_ACCESS
}
served() { awk -v u="$1" '$1 == u {s += $3} END {print s + 0}' "$NGINX_ACCESS"; }

# catalog NAME SERIAL [OPTIONS] PKG...: write www/NAME.json for base URL $BASE (else $H), signed by $KEY
# (else k.key), expiring after $EXPIRES (else 30d).
catalog() {
	name=$1 serial=$2
	shift 2
	"$B/fwpkg" catalog -q -f -o "www/$name.json" --base-url "${BASE:-$H}" --expires "${EXPIRES:-30d}" \
		--serial "$serial" -k "${KEY:-k.key}" "$@"
}

# smart_device VERSION: a new device $D for product SX (device id dev-1) at VERSION, trusting $T/$TRUST (else k.pub).
smart_device() {
	rm -rf "$D"
	"$B/fwctl" --root "$D" -q init --product SX --trust "$T/${TRUST:-k.pub}" --version "$1" --device-id dev-1 >/dev/null
}

# smart_server NAME [OPTION...]: the device checks $H/NAME.json (smart config's OPTIONs too), with
# $NET_RETRIES (else 1) network retries.
smart_server() {
	name=$1
	shift
	expect 0 '' fw config net-retries "${NET_RETRIES:-1}"
	expect 0 'smart config: set' fw smart config --server "$H/$name.json" "$@"
}

# srv_rangeliar MODE ROOT: rangeliar.py (a server whose Range answers lie: see its header) serving ROOT.
# Sets LIAR_PORT; each request is logged in $LIAR_LOG ("RANGE BYTES_SENT").
srv_rangeliar() {
	_f=$SRV_DIR/liar-$$-$(date +%s%N).port
	"$PY" "$E2E/rangeliar.py" "$1" "$2" "$_f" >>"$SRV_DIR/liar.log" 2>&1 &
	srv_wait_port_file $! "$_f" "$SRV_DIR/liar.log" rangeliar
	LIAR_PORT=$(cat "$_f")
	LIAR_LOG=$_f.log
}
