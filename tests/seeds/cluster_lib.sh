# cluster_lib.sh - sourced by the seed and dashboard tests and by gw-smoke
# (services/gatewayd/gw_smoke.sh): a real 3-node cluster (storaged, raftd,
# gatewayd per node) on loopback, and small checks.
# The caller sets BIN (the build directory) and TAG (a name for the temp dir);
# KEEP=1 keeps the temp dir and its logs.
# HTTP ports BASE+1..3 and Raft ports BASE+11..13, BASE in 12000..13980 (below
# the ephemeral range and apart from make run's 4000..), moved on while any of
# them is taken. Everything started is killed by pid on exit.

DIR=$(mktemp -d "/tmp/$TAG.XXXXXX")
declare -A NODE_PIDS
CHECKS=0

port_taken() { ss -Htan "( sport = :$1 )" 2>/dev/null | grep -q .; }

pick_base() {
	local b
	for _ in $(seq 50); do
		b=$((12000 + (RANDOM % 100) * 20))
		local busy=0
		for o in 1 2 3 11 12 13; do port_taken $((b + o)) && busy=1; done
		[ $busy = 0 ] && { echo $b; return 0; }
	done
	echo "no free port base" >&2
	return 1
}

BASE=$(pick_base) || exit 1
PEERS="1=127.0.0.1:$((BASE + 11)),2=127.0.0.1:$((BASE + 12)),3=127.0.0.1:$((BASE + 13))"
# SCHEME=https: the gateways serve TLS; curl trusts CA_FILE (set both before start_node)
SCHEME=http
CA_FILE=

cleanup() {
	for p in ${NODE_PIDS[@]+"${NODE_PIDS[@]}"}; do kill $p 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in "$DIR"/n*/*.log; do echo "--- $f"; tail -5 "$f"; done
	exit 1
}

ok() {
	CHECKS=$((CHECKS + 1))
	echo "ok: $*"
}

url() { echo "$SCHEME://127.0.0.1:$((BASE + $1))"; }
# curl with the CA of an https cluster
c() { if [ -n "$CA_FILE" ]; then curl --cacert "$CA_FILE" "$@"; else curl "$@"; fi; }
hostport() { echo "127.0.0.1:$((BASE + $1))"; }

# start_node I: storaged, raftd and gatewayd of node I (extra gatewayd flags in GW_FLAGS,
# where @I@ stands for I); the gateway reads GETs from the node's LMDB (--local-reads)
start_node() {
	local i=$1 pids=""
	local gws="1=$(url 1),2=$(url 2),3=$(url 3)"
	mkdir -p "$DIR/n$i"
	"$BIN/storaged" --node-id $i --data-dir "$DIR/n$i" >>"$DIR/n$i/storaged.log" 2>&1 &
	pids+="$! "
	"$BIN/raftd" --node-id $i --peers "$PEERS" --data-dir "$DIR/n$i" \
		--listen "tcp://127.0.0.1:$((BASE + 10 + i))" --election-timeout-ms 300 \
		--heartbeat-ms 30 >>"$DIR/n$i/raftd.log" 2>&1 &
	pids+="$! "
	# shellcheck disable=SC2086
	local flags=${GW_FLAGS:-}
	"$BIN/gatewayd" --node-id $i --listen "127.0.0.1:$((BASE + i))" --gateways "$gws" \
		--data-dir "$DIR/n$i" --local-reads ${flags//@I@/$i} >>"$DIR/n$i/gatewayd.log" 2>&1 &
	pids+="$!"
	NODE_PIDS[$i]=$pids
}

stop_node() {
	local p
	for p in ${NODE_PIDS[$1]}; do kill -9 $p 2>/dev/null; done
	for p in ${NODE_PIDS[$1]}; do wait $p 2>/dev/null; done
	unset "NODE_PIDS[$1]"
}

wait_ready() {
	local i
	for i in "$@"; do
		for _ in $(seq 150); do
			[ "$(c -s -o /dev/null -w '%{http_code}' "$(url $i)/readyz")" = 200 ] && break
			sleep 0.1
		done
		[ "$(c -s -o /dev/null -w '%{http_code}' "$(url $i)/readyz")" = 200 ] ||
			fail "node $i is not ready"
	done
}

# leader_of I: the leader's id as node I sees it (0: none); with the header AUTH if set
leader_of() { c -s ${AUTH:+-H "$AUTH"} "$(url $1)/v1/status" | jq -r '.leader.id // 0'; }

# req CURL_ARGS... -> STATUS, BODY (the body's exact text; a final newline shown as \n)
# and HDRS (the headers, lower case); the body itself stays in $DIR/body
req() {
	: >"$DIR/body"
	: >"$DIR/hdrs"
	STATUS=$(c -s -m 10 -D "$DIR/hdrs" -o "$DIR/body" -w '%{http_code}' "$@")
	BODY=$(cat "$DIR/body")
	[ -n "$(tail -c1 "$DIR/body")" ] || [ ! -s "$DIR/body" ] || BODY+='\n'
	HDRS=$(tr -d '\r' <"$DIR/hdrs" | tr 'A-Z' 'a-z')
}

# hdr NAME: the last answer's header NAME (lower case), the first if repeated
hdr() { echo "$HDRS" | sed -n "s/^$1: //p" | head -1; }

# jq_body JQ_ARGS...: jq over the last answer's body
jq_body() { jq "$@" "$DIR/body"; }

expect() { # expect WHAT WANT GOT
	[ "$2" = "$3" ] || fail "$1: want '$2', got '$3' (body: $BODY)"
	ok "$1 = $2"
}

# the error code of the last answer ({"error":{"code":...}})
err_code() { jq_body -r .error.code; }
