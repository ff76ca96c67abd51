# pki.sh: a test PKI made with stock openssl; source it after lib.sh. pki_make makes, in the current directory:
#   root.crt/.key (the trusted root), inter.crt/.key (intermediate CA), other-root.crt/.key (a root not trusted),
#   leaves issued by inter, each NAME.crt + NAME.key (EC P-256):
#   leaf (good: digitalSignature, codeSigning), leaf2 (good, a second key), expired, notyet, noku (keyEncipherment only),
#   noeku (serverAuth only), revoked (listed in inter.crl), stranger (issued by other-root),
#   and inter.crl (PEM, from inter), root.crl (PEM, from root, empty).

# pki_conf DIR: an `openssl ca` setup in DIR.
pki_conf() {
	mkdir -p "$1/newcerts"
	: >"$1/index.txt"
	echo 1000 >"$1/serial"
	echo 1000 >"$1/crlnumber"
	cat >"$1/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $1
database = $1/index.txt
new_certs_dir = $1/newcerts
serial = $1/serial
crlnumber = $1/crlnumber
default_md = sha256
default_days = 3650
default_crl_days = 3650
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_sign ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_noku ]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = codeSigning
[ v3_noeku ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
EOF
}

# pki_key NAME: an EC P-256 key NAME.key.
pki_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# pki_root NAME CN: a self-signed root CA NAME.crt with its `openssl ca` setup in NAME.ca/.
pki_root() {
	pki_conf "$PWD/$1.ca"
	pki_key "$1"
	openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" -config "$1.ca/ca.cnf"
	openssl ca -batch -selfsign -config "$1.ca/ca.cnf" -keyfile "$1.key" -in "$1.csr" \
		-out "$1.crt" -extensions v3_ca -notext -startdate 20200101000000Z -enddate 20491231000000Z >/dev/null 2>&1
}

# pki_issue CA NAME CN EXT [START END]: NAME.crt for a new key NAME.key, issued by CA.
pki_issue() {
	pki_key "$2"
	openssl req -new -key "$2.key" -subj "/CN=$3" -out "$2.csr" -config "$1.ca/ca.cnf"
	openssl ca -batch -config "$1.ca/ca.cnf" -cert "$1.crt" -keyfile "$1.key" -in "$2.csr" \
		-out "$2.crt" -extensions "$4" -notext -startdate "${5:-20200101000000Z}" \
		-enddate "${6:-20491231000000Z}" >/dev/null 2>&1
}

pki_make() {
	pki_root root "Test Root CA"
	pki_root other-root "Other Root CA"
	pki_issue root inter "Test Signing CA" v3_ca
	pki_conf "$PWD/inter.ca"
	pki_issue inter leaf "Firmware Signer" v3_sign
	pki_issue inter leaf2 "Firmware Signer 2" v3_sign
	pki_issue inter expired "Expired Signer" v3_sign 20200101000000Z 20210101000000Z
	pki_issue inter notyet "Future Signer" v3_sign 20450101000000Z 20460101000000Z
	pki_issue inter noku "No KU Signer" v3_noku
	pki_issue inter noeku "Server Cert" v3_noeku
	pki_issue inter revoked "Revoked Signer" v3_sign
	pki_issue other-root stranger "Stranger Signer" v3_sign
	openssl ca -batch -config inter.ca/ca.cnf -cert inter.crt -keyfile inter.key -revoke revoked.crt >/dev/null 2>&1
	openssl ca -batch -config inter.ca/ca.cnf -cert inter.crt -keyfile inter.key -gencrl -out inter.crl >/dev/null 2>&1
	openssl ca -batch -config root.ca/ca.cnf -cert root.crt -keyfile root.key -gencrl -out root.crl >/dev/null 2>&1
}
