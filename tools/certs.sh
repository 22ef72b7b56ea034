#!/usr/bin/env bash
# certs.sh - the secrets of a secure cluster (make certs), with openssl and raftkvctl keygen:
#
#   BASE_DIR/secrets/ca.crt, ca.key         a local CA (10 years) that signs everything below
#   BASE_DIR/secrets/node<i>.crt, .key      node i's server certificate (i = 1..MAX_NODES), with
#                                           SANs for every way node i is reached: 127.0.0.1
#                                           (as IP and as DNS name: h2o 2.2.5's client matches
#                                           DNS names only), localhost, gatewayd-<i> (compose),
#                                           raftkv-<i-1>.raftkv-peers.raftkv.svc.cluster.local
#                                           and its shorter forms, raftkv.raftkv.svc... (k8s)
#   BASE_DIR/secrets/client.crt, .key       a client certificate (CN raftkv-client) for tests
#   BASE_DIR/secrets/tokens.txt             gatewayd's --auth-file: one admin, one write and
#                                           one read token (32 random bytes each, hex)
#   BASE_DIR/secrets/admin.token            the admin token alone (raftkvctl --token-file)
#   BASE_DIR/secrets/curve/node<i>/curve.key, curve.pub   node i's raftd Curve key pair
#   BASE_DIR/secrets/curve/peer-keys.txt    raftd's --peer-keys-file: "ID PUBLICKEY" lines, one
#                                           for every node 1..MAX_NODES
#   BASE_DIR/secrets/compose/               copies for compose/docker-compose.yml: the secret
#                                           files root:10001 mode 0640 (the containers run as
#                                           uid/gid 10001; needs root, else says what to run)
#   BASE_DIR/secrets/k8s/raftkv-secrets.yaml   the Secret raftkv-secrets for k8s/ (namespace
#                                           raftkv): kubectl apply -f it, then -f k8s/; per-pod
#                                           files for ordinals 0..MAX_NODES-1
#
# Material is made for more nodes than a cluster starts with: the three seeds, and the
# nodes a deployment may add while it runs (compose/scale-5.yml adds nodes 4 and 5; the
# StatefulSet scales up to MAX_NODES pods). A node that joins sends its Curve public key
# in its join request; listing every slot's key in peer-keys.txt as well lets the nodes
# accept each other's connections before that request is committed (the allow-list is
# the deployment's own keys, which only holders of these secrets have).
#
# Settings (environment): BASE_DIR=./data MAX_NODES=7 (1..9; NODES, if larger, raises it)
# FORCE=0 (1: replace what exists) BIN_DIR=build (where raftkvctl is, for the Curve keys).
# Idempotent: a file that exists is kept unless FORCE=1 (a certificate whose names are
# not the ones above is signed again). Keys are mode 0600 in a 0700 directory. Never
# commit any of it: data/ is ignored by git.
set -euo pipefail

BASE_DIR=${BASE_DIR:-./data}
MAX_NODES=${MAX_NODES:-7}
NODES=${NODES:-$MAX_NODES}
FORCE=${FORCE:-0}
DAYS=${CERT_DAYS:-825}
DIR="$BASE_DIR/secrets"
BIN_DIR=${BIN_DIR:-$(dirname "$0")/../build}
RAFTKV_GID=10001 # the image's raftkv group (tools/image-rootfs.sh)

die() { echo "certs.sh: $*" >&2; exit 1; }
[[ $MAX_NODES =~ ^[1-9]$ ]] || die "MAX_NODES must be 1..9 (got $MAX_NODES)"
[[ $NODES =~ ^[1-9]$ ]] || die "NODES must be 1..9 (got $NODES)"
((NODES >= MAX_NODES)) || NODES=$MAX_NODES # every slot a deployment may fill
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

# same_sans CERT SANS: true when CERT names exactly SANS (openssl's "DNS:a, IP Address:b" form)
same_sans() {
	local have want
	have=$(openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 |
		tr -d ' ' | sed 's/IPAddress:/IP:/g')
	want=$(tr -d ' ' <<<"$2")
	[[ $have == "$want" ]]
}

# sign NAME CN SANS USAGE: NAME.key and NAME.crt signed by the CA
sign() {
	local name=$1 cn=$2 sans=$3 usage=$4 ext
	if [[ $CA_NEW != 1 && -s $DIR/$name.crt && -n $sans ]] && ! same_sans "$DIR/$name.crt" "$sans"; then
		echo "certs.sh: $DIR/$name.crt lacks some names; signing it again"
	elif [[ $CA_NEW != 1 ]] && keep "$DIR/$name.crt"; then
		return 0
	fi
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

# node_sans I: every name node I is reached by, locally, in compose and in k8s/
node_sans() {
	local i=$1 n=$(($1 - 1)) peer="raftkv-$(($1 - 1)).raftkv-peers"
	echo "IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost,DNS:raftkv-$n,DNS:raftkv-$n.raftkv,DNS:gatewayd-$i,DNS:$peer,DNS:$peer.raftkv.svc,DNS:$peer.raftkv.svc.cluster.local,DNS:raftkv,DNS:raftkv.raftkv.svc,DNS:raftkv.raftkv.svc.cluster.local"
}

# Curve key pairs under curve/node<i>/ (the layout SECURE=1 tools/cluster.sh uses) and the
# allow-list curve/peer-keys.txt.
make_curve() {
	local i list=""
	for ((i = 1; i <= NODES; i++)); do
		if [[ $FORCE == 1 ]]; then rm -f "$DIR/curve/node$i/curve.key" "$DIR/curve/node$i/curve.pub"; fi
		if [[ ! -s $DIR/curve/node$i/curve.key ]]; then
			mkdir -p "$DIR/curve/node$i"
			"$BIN_DIR/raftkvctl" keygen --out "$DIR/curve/node$i" >/dev/null ||
				die "raftkvctl keygen for node $i failed"
			echo "certs.sh: wrote $DIR/curve/node$i/curve.key"
		fi
		list+="$i $(<"$DIR/curve/node$i/curve.pub")"$'\n'
	done
	printf '# node id and its raftd Curve public key (tools/certs.sh)\n%s' "$list" \
		>"$DIR/curve/peer-keys.txt"
}

# The copies the compose project mounts as secrets: secret files root:10001 0640.
make_compose() {
	local c="$DIR/compose" i
	mkdir -p "$c"
	chmod 700 "$c"
	cp "$DIR/ca.crt" "$DIR/tokens.txt" "$DIR/admin.token" "$DIR/curve/peer-keys.txt" "$c/"
	for ((i = 1; i <= NODES; i++)); do
		cp "$DIR/node$i.crt" "$DIR/node$i.key" "$c/"
		cp "$DIR/curve/node$i/curve.key" "$c/node$i.curve.key"
	done
	chmod 644 "$c"/*.crt "$c/peer-keys.txt"
	chmod 640 "$c"/*.key "$c/tokens.txt" "$c/admin.token"
	if ! chown 0:$RAFTKV_GID "$c"/*.key "$c/tokens.txt" "$c/admin.token" 2>/dev/null; then
		echo "certs.sh: WARNING: could not give $c's secret files to root:$RAFTKV_GID (the" \
			"containers' group); run: sudo chown 0:$RAFTKV_GID $c/*.key $c/tokens.txt $c/admin.token"
	fi
	echo "certs.sh: wrote $c/ (compose/docker-compose.yml mounts it)"
}

# The Secret raftkv-secrets for the StatefulSet: per-pod files named raftkv-<ordinal>.*
make_k8s() {
	local f="$DIR/k8s/raftkv-secrets.yaml" i n
	mkdir -p "$DIR/k8s"
	chmod 700 "$DIR/k8s"
	b64() { base64 -w0 <"$1"; }
	{
		echo "# The Secret k8s/20-statefulset.yaml mounts (tools/certs.sh). Never commit it."
		echo "# kubectl apply -f this file, then kubectl apply -f k8s/"
		echo "apiVersion: v1"
		echo "kind: Secret"
		echo "metadata:"
		echo "  name: raftkv-secrets"
		echo "  namespace: raftkv"
		echo "  labels:"
		echo "    app.kubernetes.io/name: raftkv"
		echo "type: Opaque"
		echo "data:"
		echo "  ca.crt: $(b64 "$DIR/ca.crt")"
		echo "  tokens.txt: $(b64 "$DIR/tokens.txt")"
		echo "  admin.token: $(b64 "$DIR/admin.token")"
		echo "  peer-keys.txt: $(b64 "$DIR/curve/peer-keys.txt")"
		for ((i = 1; i <= NODES; i++)); do
			n=$((i - 1))
			echo "  raftkv-$n.crt: $(b64 "$DIR/node$i.crt")"
			echo "  raftkv-$n.key: $(b64 "$DIR/node$i.key")"
			echo "  raftkv-$n.curve.key: $(b64 "$DIR/curve/node$i/curve.key")"
		done
	} >"$f.tmp"
	chmod 600 "$f.tmp"
	mv "$f.tmp" "$f"
	echo "certs.sh: wrote $f"
}

make_ca
for ((i = 1; i <= NODES; i++)); do
	sign "node$i" "raftkv-$((i - 1))" "$(node_sans "$i")" serverAuth,clientAuth
done
sign client raftkv-client "" clientAuth
make_tokens
awk '$2 == "admin" { print $1; exit }' "$DIR/tokens.txt" >"$DIR/admin.token"
[[ -s $DIR/admin.token ]] || die "no admin token in $DIR/tokens.txt"
chmod 600 "$DIR"/*.key "$DIR/tokens.txt" "$DIR/admin.token"
chmod 644 "$DIR"/*.crt
# The Curve keys need raftkvctl; without it (a sanitizer-only build, say) the TLS and token
# files above are still complete for SECURE=1 tools/cluster.sh, which makes its own keys.
if [[ -x $BIN_DIR/raftkvctl ]]; then
	make_curve
	make_compose
	make_k8s
else
	echo "certs.sh: no $BIN_DIR/raftkvctl: Curve keys, compose and k8s material skipped (make build first)"
fi
