#!/usr/bin/env bash
# certs.sh - the secrets of a secure local cluster (make certs), with openssl:
#
#   BASE_DIR/secrets/ca.crt, ca.key         a local CA (10 years) that signs everything below
#   BASE_DIR/secrets/node<i>.crt, .key      node i's server certificate (i = 1..NODES), with
#                                           SANs 127.0.0.1 (as IP and as DNS name: h2o 2.2.5's
#                                           client matches DNS names only), localhost,
#                                           raftkv-<i-1> and raftkv-<i-1>.raftkv (compose, k8s)
#   BASE_DIR/secrets/client.crt, .key       a client certificate (CN raftkv-client) for tests
#   BASE_DIR/secrets/tokens.txt             gatewayd's --auth-file: one admin, one write and
#                                           one read token (32 random bytes each, hex)
#
# Settings (environment): BASE_DIR=./data NODES=3 FORCE=0 (1: replace what exists).
# Idempotent: a file that exists is kept unless FORCE=1. Keys are mode 0600 in a 0700
# directory.
set -euo pipefail

BASE_DIR=${BASE_DIR:-./data}
NODES=${NODES:-3}
FORCE=${FORCE:-0}
DAYS=${CERT_DAYS:-825}
DIR="$BASE_DIR/secrets"

die() { echo "certs.sh: $*" >&2; exit 1; }
[[ $NODES =~ ^[1-9]$ ]] || die "NODES must be 1..9 (got $NODES)"
command -v openssl >/dev/null || die "openssl is not installed (apt-get install openssl)"
umask 077
mkdir -p "$DIR"
chmod 700 "$DIR"

# keep FILE: true when FILE exists and FORCE is not 1 (then it is left alone)
keep() {
	if [[ -s $1 && $FORCE != 1 ]]; then
		echo "certs.sh: $1 exists (FORCE=1 replaces it)"
		return 0
	fi
	return 1
}

CA_NEW=0
make_ca() {
	keep "$DIR/ca.crt" && return 0
	CA_NEW=1 # everything it signs is signed again
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
		-days 3650 -subj "/CN=raftkv local CA" -keyout "$DIR/ca.key" -out "$DIR/ca.crt" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	echo "certs.sh: wrote $DIR/ca.crt"
}

# sign NAME CN SANS USAGE: NAME.key and NAME.crt signed by the CA
sign() {
	local name=$1 cn=$2 sans=$3 usage=$4 ext
	[[ $CA_NEW == 1 ]] || ! keep "$DIR/$name.crt" || return 0
	ext=$(mktemp)
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' \
		"$usage" >"$ext"
	[[ -z $sans ]] || echo "subjectAltName=$sans" >>"$ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "/CN=$cn" \
		-keyout "$DIR/$name.key" -out "$DIR/$name.csr" 2>/dev/null
	openssl x509 -req -in "$DIR/$name.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" \
		-CAcreateserial -days "$DAYS" -sha256 -extfile "$ext" -out "$DIR/$name.crt" 2>/dev/null
	rm -f "$DIR/$name.csr" "$ext"
	echo "certs.sh: wrote $DIR/$name.crt"
}

make_tokens() {
	local f="$DIR/tokens.txt"
	keep "$f" && return 0
	{
		echo "# TOKEN ROLE [PREFIX] (gatewayd --auth-file); written by tools/certs.sh"
		echo "$(openssl rand -hex 32) admin"
		echo "$(openssl rand -hex 32) write"
		echo "$(openssl rand -hex 32) read"
	} >"$f.tmp"
	mv "$f.tmp" "$f"
	echo "certs.sh: wrote $f"
}

make_ca
for ((i = 1; i <= NODES; i++)); do
	n=$((i - 1))
	sign "node$i" "raftkv-$n" \
		"IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost,DNS:raftkv-$n,DNS:raftkv-$n.raftkv" serverAuth,clientAuth
done
sign client raftkv-client "" clientAuth
make_tokens
chmod 600 "$DIR"/*.key "$DIR/tokens.txt"
chmod 644 "$DIR"/*.crt
