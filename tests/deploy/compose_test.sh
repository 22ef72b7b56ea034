#!/usr/bin/env bash
# compose_test.sh - compose/docker-compose.yml tested on a real Docker engine
# (make compose-test; needs the raftkv image: make image):
#   0. the image: user 10001, no shell, raftd --help
#   1. the compose files read without a warning (config -q), then up, secure
#      as the compose file is (secrets from tools/certs.sh in a directory of
#      the test's own): 3 nodes x 3 containers, every /readyz 200 over https,
#      health checks (raftkvctl over https) healthy
#   1b. security on: no token 401, a read token cannot write (403), plain http
#      to the TLS port gets no answer, an untrusted CA fails, raftd peers on
#      Curve (its log), raftkvctl in a container works from its environment
#   2. a write through a follower is read back (linearizable) from every node
#   3. the leader node's containers are stopped; writes through the other two
#      go on (counting what a client had to retry); started again, it catches up
#   4. a follower's raftd is killed from outside (a crash, not `docker kill`,
#      which Docker counts as a manual stop): the restart policy brings it back
#   5. a node (the current leader) is cut off with docker network disconnect:
#      it acknowledges no write and serves no linearizable read, the others go
#      on; reconnected under new addresses (the old ones left silent: the
#      test's compose override gives the network a subnet), it catches up and
#      its unacknowledged write is nowhere
#   6. scale: nodes 4 and 5 from compose/scale-5.yml, started together, join
#      through the first three gateways (one of the two joins meets the
#      other's change in progress and retries); both become voters, node 5
#      serves a write made through node 1 (linearizable and from its own copy)
#      and its raftd is on Curve; node 5 is removed (DELETE /v1/members/5) and
#      its containers and volumes deleted, as the override file's header says:
#      4 voters are left and take writes
#   7. down -v, also on failure (trap), and no volume of the project is left
# Bounded: every wait has a limit; the whole run takes about three minutes.
# Every other request of the test carries the admin token and checks the
# gateway's certificate against the test's CA.
# Settings: COMPOSE (command; default `docker compose` if the plugin works,
# else docker-compose; both are supported, docs/testing.md says which versions
# were run; the one used and its version are printed first), RAFTKV_IMAGE
# (default raftkv:latest), BIN_DIR (build: raftkvctl for the Curve keys).
set -euo pipefail
cd "$(dirname "$0")/../.."
FILE=compose/docker-compose.yml
SCALE_FILE=compose/scale-5.yml
PROJECT=rkvcompose$$
N=3     # the nodes of docker-compose.yml
N_MAX=5 # with scale-5.yml
WAIT_S=60
if [[ -z ${COMPOSE:-} ]]; then
	if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"; else COMPOSE=docker-compose; fi
fi
# 1.29 prints 1.29.2, the plugin 2.x.y or 5.x.y (no "v" since 2.x)
COMPOSE_VERSION=$($COMPOSE version --short 2>/dev/null) || {
	echo "compose-test: FAILED: '$COMPOSE version --short' does not work" >&2
	exit 1
}
echo "compose-test: compose command '$COMPOSE', version $COMPOSE_VERSION"
NET="${PROJECT}_raftkv"
BODY=$(mktemp)
OVERRIDE=$(mktemp --suffix .yml)
SECRETS_BASE=$(mktemp -d /tmp/rkvcsec.XXXXXX)
export RAFTKV_SECRETS=$SECRETS_BASE/secrets
CA=$RAFTKV_SECRETS/ca.crt
AUTH=$SECRETS_BASE/admin.header # the token in a header file: never on a command line
declare -A PORT CPORT
start_s=$SECONDS

say() { echo "compose-test: $*"; }
fail() {
	echo "compose-test: FAILED: $*" >&2
	exit 1
}
dc() { timeout 180 $COMPOSE -p "$PROJECT" -f "$FILE" -f "$OVERRIDE" "$@"; }
# the project with nodes 4 and 5 (compose/scale-5.yml) as well; down -v goes through it
dc5() { timeout 180 $COMPOSE -p "$PROJECT" -f "$FILE" -f "$SCALE_FILE" -f "$OVERRIDE" "$@"; }

# The test's only addition to the compose file: a subnet of its own, so a node
# can be reconnected under an address nobody held before (see step_cut_off).
pick_subnet() {
	local used n
	used=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' \
		$(docker network ls -q) 2>/dev/null || true)
	for ((n = 0; n < 50; n++)); do
		SUBNET_PREFIX=172.31.$((RANDOM % 256))
		[[ $used == *"$SUBNET_PREFIX."* ]] || break
	done
	printf 'networks:\n  raftkv:\n    ipam:\n      config:\n        - subnet: %s.0/24\n' \
		"$SUBNET_PREFIX" >"$OVERRIDE"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if ((rc != 0)); then
		say "logs of the failed run (last lines per container):"
		dc5 logs --no-color --tail 8 2>&1 | sed 's/^/  /' || true
	fi
	dc5 down -v -t 5 >/dev/null 2>&1 || say "down -v failed"
	local left
	left=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")
	[[ -z $left ]] || { say "volumes left behind: $left"; rc=1; }
	((rc == 0)) && say "down -v: containers, network and volumes of $PROJECT removed"
	rm -f "$BODY" "$OVERRIDE"
	rm -rf "$SECRETS_BASE"
	say "took $((SECONDS - start_s)) s"
	exit $rc
}
trap cleanup EXIT INT TERM

# A free host port for each gateway (4001..4003 may be in use by a local cluster),
# below the kernel's ephemeral range (32768 and up), where another test's
# outgoing connection could take it between this check and the bind.
pick_ports() {
	local i p
	for ((i = 1; i <= N_MAX; i++)); do
		while :; do
			p=$((20000 + RANDOM % 12000))
			[ -n "$(ss -Htan "sport = :$p")" ] || break
		done
		PORT[$i]=$p
		export "RAFTKV_PORT_$i=$p"
		while :; do
			p=$((20000 + RANDOM % 12000))
			[[ $p != "${PORT[$i]}" ]] && [ -z "$(ss -Htan "sport = :$p")" ] && break
		done
		CPORT[$i]=$p
		export "RAFTKV_CONSUL_PORT_$i=$p"
	done
}

url() { echo "https://127.0.0.1:${PORT[$1]}"; }
CURL=(curl --cacert "$CA" -H "@$AUTH")

# The secrets the compose file mounts, made the way a user makes them (make certs).
make_secrets() {
	BASE_DIR=$SECRETS_BASE BIN_DIR=${BIN_DIR:-build} tools/certs.sh >/dev/null ||
		fail "tools/certs.sh"
	[[ $(stat -c %u:%g "$RAFTKV_SECRETS/compose/node1.key") == 0:10001 ]] ||
		fail "the compose secret files are not root:10001 (the containers could not read" \
			"them): run the test as root"
	(umask 077 && echo "Authorization: Bearer $(<"$RAFTKV_SECRETS/admin.token")" >"$AUTH")
}

# req METHOD NODE PATH [DATA]: prints the status code; the body goes to $BODY.
req() {
	local method=$1 node=$2 path=$3
	local args=(-s -o "$BODY" -w '%{http_code}' -m 12 -X "$method")
	(($# > 3)) && args+=(--data-binary "$4")
	"${CURL[@]}" "${args[@]}" "$(url "$node")$path" || true
}

leader_of() {
	"${CURL[@]}" -s -m 2 "$(url "$1")/v1/status" | jq -r '.leader.id // empty' 2>/dev/null || true
}

wait_ready() {
	local node=$1 limit=${2:-$WAIT_S} t0=$SECONDS code
	while :; do
		code=$(req GET "$node" /readyz)
		[[ $code == 200 ]] && return 0
		((SECONDS - t0 < limit)) || fail "node $node not ready after $limit s: $code $(cat "$BODY")"
		sleep 1
	done
}

# A leader every reachable node agrees on, among the nodes given.
wait_leader() {
	local t0=$SECONDS l n ok
	while :; do
		l=$(leader_of "$1")
		ok=1
		for n in "$@"; do [[ -n $l && $(leader_of "$n") == "$l" ]] || ok=0; done
		if ((ok)); then
			echo "$l"
			return 0
		fi
		((SECONDS - t0 < WAIT_S)) || fail "no agreed leader among nodes $* after $WAIT_S s"
		sleep 0.5
	done
}

expect_value() {
	local node=$1 key=$2 want=$3 query=${4:-}
	local code
	code=$(req GET "$node" "/v1/kv/$key$query")
	[[ $code == 200 && $(cat "$BODY") == "$want" ]] ||
		fail "GET $key$query from node $node: $code $(cat "$BODY"), want 200 $want"
}

# put_retrying NODE KEY VALUE: what a client does: retry a 503 (no leader yet)
# for up to 20 s; with an Idempotency-Key so a retried write applies once.
# Sets RETRIES; fails on anything but 200 or 503.
put_retrying() {
	local node=$1 key=$2 value=$3 t0=$SECONDS code
	RETRIES=0
	while :; do
		code=$("${CURL[@]}" -s -o "$BODY" -w '%{http_code}' -m 12 -X PUT -H "Idempotency-Key: $key" \
			--data-binary "$value" "$(url "$node")/v1/kv/$key" || true)
		[[ $code == 200 ]] && return 0
		[[ $code == 503 || $code == 504 || $code == 000 ]] ||
			fail "PUT $key via node $node: $code $(cat "$BODY")"
		RETRIES=$((RETRIES + 1))
		((SECONDS - t0 < 20)) || fail "PUT $key via node $node: still $code after 20 s"
		sleep 0.3
	done
}

svc_id() { dc5 ps -q "$1-$2"; }

step_up() {
	pick_ports
	pick_subnet
	make_secrets
	say "project $PROJECT with '$COMPOSE', gateways on 127.0.0.1:${PORT[1]},${PORT[2]},${PORT[3]}," \
		"network $SUBNET_PREFIX.0/24"
	# a warning here (the plugin's "attribute `version` is obsolete", an unset
	# variable) would be printed on every command a user runs
	local warnings
	warnings=$(dc config -q 2>&1) || fail "config -q: $warnings"
	[[ -z $warnings ]] || fail "'$COMPOSE' warns about the compose files: $warnings"
	warnings=$(dc5 config -q 2>&1) || fail "config -q with $SCALE_FILE: $warnings"
	[[ -z $warnings ]] || fail "'$COMPOSE' warns about $SCALE_FILE: $warnings"
	dc up -d >/dev/null 2>&1 || { dc up -d; fail "up -d"; }
	local i
	for ((i = 1; i <= N; i++)); do wait_ready "$i"; done
	[[ $(dc ps -q | wc -l) == 9 ]] || fail "want 9 containers, have $(dc ps -q | wc -l)"
	say "checked: up, 9 containers, every /readyz 200 ($((SECONDS - start_s)) s)"
	local t0=$SECONDS health
	while :; do
		health=$(for ((i = 1; i <= N; i++)); do
			docker inspect -f '{{.State.Health.Status}}' "$(svc_id gatewayd "$i")"
		done | sort | uniq -c | tr -s ' \n' ' ')
		[[ $health == " 3 healthy " ]] && break
		((SECONDS - t0 < 40)) || fail "gateway health checks: $health"
		sleep 1
	done
	say "checked: the 3 gatewayd health checks (raftkvctl ready over https in the container)" \
		"say healthy"
}

# What the secure default keeps out, and that it is on everywhere.
step_security() {
	local code read_token i
	code=$(curl --cacert "$CA" -s -o "$BODY" -w '%{http_code}' -m 5 "$(url 1)/v1/kv/compose/x")
	[[ $code == 401 ]] || fail "GET without a token: $code $(cat "$BODY"), want 401"
	code=$(curl --cacert "$CA" -s -o /dev/null -w '%{http_code}' -m 5 "$(url 2)/readyz")
	[[ $code == 200 ]] || fail "/readyz without a token: $code, want 200 (probes are open)"
	read_token=$(awk '$2 == "read" { print $1; exit }' "$RAFTKV_SECRETS/tokens.txt")
	code=$(curl --cacert "$CA" -s -o "$BODY" -w '%{http_code}' -m 5 -X PUT -d x \
		-H @<(echo "Authorization: Bearer $read_token") "$(url 3)/v1/kv/compose/x")
	[[ $code == 403 ]] || fail "PUT with a read token: $code $(cat "$BODY"), want 403"
	code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:${PORT[1]}/readyz" || true)
	[[ $code == 000 ]] || fail "plain http to the TLS port answered $code"
	if curl -s -o /dev/null -m 5 "$(url 1)/readyz"; then
		fail "a client without the local CA trusted the gateway's certificate"
	fi
	say "checked: no token 401, read token on a write 403, /readyz open, plain http to the" \
		"TLS port unanswered, the certificate trusted only with the local CA"
	local out
	for ((i = 1; i <= N; i++)); do
		# the whole log first: grep -q stopping early would SIGPIPE docker logs (pipefail)
		out=$(docker logs "$(svc_id raftd "$i")" 2>&1)
		grep -q 'peers=curve' <<<"$out" ||
			fail "raftd-$i does not say it listens with Curve: $(tail -n 3 <<<"$out")"
	done
	out=$(ctl_in 1 status) || fail "raftkvctl status in gatewayd-1 (its environment): $out"
	say "checked: raftd peers on Curve on all 3 nodes; raftkvctl in gatewayd-1 reaches its" \
		"gateway over https with the mounted CA and token: '$(head -n 1 <<<"$out")'"
}

# Consul's KV API on every gateway (port 8500 in the containers), as the
# compose file ships it: TLS and tokens as on the main port.
step_consul() {
	local code curl_c=(curl --cacert "$CA" -s -m 5 -o "$BODY" -w '%{http_code}')
	code=$("${curl_c[@]}" "https://127.0.0.1:${CPORT[1]}/v1/kv/compose/consul")
	[[ $code == 401 ]] || fail "Consul API without a token: $code $(cat "$BODY"), want 401"
	code=$("${curl_c[@]}" -H "@$AUTH" -X PUT -d via-consul \
		"https://127.0.0.1:${CPORT[2]}/v1/kv/compose/consul")
	[[ $code == 200 && $(cat "$BODY") == true ]] ||
		fail "Consul PUT through gatewayd-2: $code $(cat "$BODY"), want 200 true"
	code=$("${curl_c[@]}" -H "@$AUTH" "https://127.0.0.1:${CPORT[3]}/v1/kv/compose/consul?raw")
	[[ $code == 200 && $(cat "$BODY") == via-consul ]] ||
		fail "Consul GET ?raw through gatewayd-3: $code $(cat "$BODY"), want 200 via-consul"
	code=$("${curl_c[@]}" -H "@$AUTH" "https://127.0.0.1:${CPORT[1]}/v1/status/leader")
	[[ $code == 200 && $(cat "$BODY") == \"*\" ]] ||
		fail "Consul /v1/status/leader: $code $(cat "$BODY")"
	say "checked: Consul's KV API on 8501..8503: 401 without a token, PUT true through" \
		"gatewayd-2, GET ?raw through gatewayd-3, leader $(cat "$BODY")"
}

step_image() {
	local img=${RAFTKV_IMAGE:-raftkv:latest} user
	user=$(docker image inspect -f '{{.Config.User}}' "$img")
	[[ $user == 10001:10001 ]] || fail "image $img runs as \"$user\", want 10001:10001"
	if docker run --rm --entrypoint /bin/sh "$img" -c true >/dev/null 2>&1; then
		fail "image $img has a shell"
	fi
	docker run --rm "$img" raftd --help | grep -q '^usage: raftd' || fail "raftd --help in $img"
	say "checked: image $img runs as 10001:10001, has no /bin/sh, raftd --help works" \
		"($(docker image inspect -f '{{.Size}}' "$img" | awk '{ printf "%.1f MB", $1 / 1e6 }'))"
}

step_follower_write() {
	local leader f i
	leader=$(wait_leader 1 2 3)
	f=$((leader % N + 1))
	[[ $(req PUT "$f" /v1/kv/compose/hello world) == 200 ]] ||
		fail "PUT via follower $f: $(cat "$BODY")"
	for ((i = 1; i <= N; i++)); do expect_value "$i" compose/hello world; done
	say "checked: leader is node $leader; PUT via follower node $f, linearizable GET from" \
		"nodes 1-3 returns it"
	# gatewayd shares storaged's pid namespace and data volume, so it reads LMDB itself
	local served
	for ((i = 1; i <= N; i++)); do
		[[ $(req GET "$i" /metrics) == 200 ]] || fail "GET /metrics on node $i: $(cat "$BODY")"
		served=$(awk '$1 == "raftkv_local_reads_total" { print $2 }' "$BODY")
		((${served:-0} > 0)) || fail "node $i served no GET from its own LMDB (--local-reads):" \
			"raftkv_local_reads_total=${served:-missing}"
	done
	say "checked: every gateway answered GETs from its node's LMDB (raftkv_local_reads_total > 0)"
}

step_stop_leader() {
	local l a b k retries=0 t0 roles="raftd storaged gatewayd"
	l=$(wait_leader 1 2 3)
	a=$((l % N + 1)) b=$(((l + 1) % N + 1))
	t0=$SECONDS
	# shellcheck disable=SC2046
	dc stop -t 20 $(for r in $roles; do echo "$r-$l"; done) >/dev/null 2>&1
	say "stopped node $l's 3 containers (the leader) in $((SECONDS - t0)) s"
	for k in $(seq 1 20); do
		if ((k % 2)); then put_retrying "$a" "compose/away/$k" "v$k"; else
			put_retrying "$b" "compose/away/$k" "v$k"; fi
		retries=$((retries + RETRIES))
	done
	say "checked: 20 writes through nodes $a and $b while node $l is down all acknowledged" \
		"(a client retried 503/504 $retries times); new leader $(wait_leader "$a" "$b")"
	# shellcheck disable=SC2046
	dc start $(for r in $roles; do echo "$r-$l"; done) >/dev/null 2>&1
	wait_ready "$l"
	t0=$SECONDS
	# /readyz allows a small lag; the node's own copy must get every write soon after
	until [[ $(req GET "$l" "/v1/kv/compose/away/20?consistency=stale") == 200 ]]; do
		((SECONDS - t0 < 20)) || fail "node $l's own copy lacks compose/away/20 after 20 s"
		sleep 0.5
	done
	for k in 1 10 20; do expect_value "$l" "compose/away/$k" "v$k" "?consistency=stale"; done
	expect_value "$l" compose/away/20 v20
	say "checked: node $l started again and caught up: its own copy has the writes made" \
		"while it was down (within $((SECONDS - t0)) s of /readyz 200)"
}

step_crash() {
	local l f c pid before after t0
	l=$(wait_leader 1 2 3)
	f=$((l % N + 1))
	c=$(svc_id raftd "$f")
	before=$(docker inspect -f '{{.RestartCount}}' "$c")
	pid=$(docker inspect -f '{{.State.Pid}}' "$c")
	[[ $pid =~ ^[1-9][0-9]*$ ]] || fail "no pid for raftd-$f"
	kill -KILL "$pid"
	t0=$SECONDS
	while :; do
		after=$(docker inspect -f '{{.RestartCount}} {{.State.Running}}' "$c")
		[[ $after == "$((before + 1)) true" ]] && break
		((SECONDS - t0 < 30)) || fail "raftd-$f not restarted after a crash: $after"
		sleep 0.5
	done
	put_retrying "$l" compose/after-crash yes
	wait_ready "$f"
	expect_value "$f" compose/after-crash yes
	say "checked: raftd-$f (pid $pid) killed -9 from outside: restarted by the restart" \
		"policy (restart count $before -> ${after% *}), node $f ready and caught up"
}

disconnect_node() {
	local n=$1 r
	for r in raftd storaged gatewayd; do docker network disconnect "$NET" "$(svc_id "$r" "$n")"; done
}

ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }

# Reconnects node $1 under addresses no container held (.200 and up), so the
# others' connections to its old ones get no answer at all (no reset): they
# must notice (ZMTP heartbeats) and resolve its name again.
connect_node() {
	local n=$1 r k=200
	for r in raftd storaged gatewayd; do
		docker network connect --ip "$SUBNET_PREFIX.$k" --alias "$r-$n" "$NET" "$(svc_id "$r" "$n")"
		k=$((k + 1))
	done
}

# raftkvctl inside the cut-off node's gatewayd container: the only way to
# reach it now (its published port goes through the network it left).
ctl_in() {
	local n=$1
	shift
	# RAFTKV_ENDPOINTS (https://127.0.0.1:4001), RAFTKV_CACERT and RAFTKV_TOKEN_FILE come
	# from the container's environment (compose file)
	timeout 20 docker exec "$(svc_id gatewayd "$n")" /usr/bin/raftkvctl --timeout-ms 9000 \
		"$@" 2>&1
}

step_cut_off() {
	local c a b out i old_ip t0
	c=$(wait_leader 1 2 3)
	a=$((c % N + 1)) b=$(((c + 1) % N + 1))
	old_ip=$(ip_of "$(svc_id raftd "$c")")
	disconnect_node "$c"
	say "cut node $c (the leader, raftd at $old_ip) off the network"
	if out=$(ctl_in "$c" put compose/cut never); then
		fail "the cut-off node $c acknowledged a write: $out"
	fi
	say "checked: PUT via cut-off node $c not acknowledged: $out"
	if out=$(ctl_in "$c" get compose/hello); then
		fail "the cut-off node $c served a linearizable read: $out"
	fi
	say "checked: linearizable GET on cut-off node $c refused: $out"
	put_retrying "$a" compose/during-cut yes
	expect_value "$b" compose/during-cut yes
	say "checked: the other two elected node $(wait_leader "$a" "$b") and acknowledge writes" \
		"(client retries: $RETRIES)"
	connect_node "$c"
	t0=$SECONDS
	wait_ready "$c"
	expect_value "$c" compose/during-cut yes
	say "checked: node $c back under new addresses (raftd $old_ip -> $(ip_of "$(svc_id raftd "$c")")," \
		"old ones left empty): ready and caught up in $((SECONDS - t0)) s"
	for ((i = 1; i <= N; i++)); do
		[[ $(req GET "$i" /v1/kv/compose/cut) == 404 ]] ||
			fail "the unacknowledged write is on node $i: $(cat "$BODY")"
	done
	say "checked: node $c reconnected and caught up; its unacknowledged write is on no node"
}

# members_summary NODE: "id:role" of every member in GET /v1/members, sorted ("" if none).
members_summary() {
	[[ $(req GET "$1" /v1/members) == 200 ]] || return 0
	jq -r '[.members[] | "\(.id):\(.role)"] | sort | join(" ")' "$BODY" 2>/dev/null || true
}

# wait_members NODE WANT LIMIT: until GET /v1/members through NODE lists exactly WANT.
wait_members() {
	local node=$1 want=$2 limit=$3 t0=$SECONDS have
	while :; do
		have=$(members_summary "$node")
		[[ $have == "$want" ]] && return 0
		((SECONDS - t0 < limit)) || fail "members via node $node after $limit s: '$have', want '$want'"
		sleep 1
	done
}

# Grows the project to 5 nodes with compose/scale-5.yml, then removes node 5, as the
# override file's header tells a user to.
step_scale() {
	local t0=$SECONDS phase0=$SECONDS r code out nodes5="raftd-5 storaged-5 gatewayd-5"
	dc5 up -d raftd-4 storaged-4 gatewayd-4 raftd-5 storaged-5 gatewayd-5 >/dev/null 2>&1 ||
		{ dc5 up -d raftd-4 storaged-4 gatewayd-4 raftd-5 storaged-5 gatewayd-5; fail "up -d nodes 4 and 5"; }
	say "started nodes 4 and 5 together from $SCALE_FILE (empty volumes, --join through gatewayd-1..3)"
	wait_ready 4 90
	wait_ready 5 90
	wait_members 1 "1:voter 2:voter 3:voter 4:voter 5:voter" 90
	say "checked: nodes 4 and 5 joined and were promoted: 5 voters in GET /v1/members" \
		"($((SECONDS - t0)) s from up)"
	put_retrying 1 compose/scaled five
	expect_value 5 compose/scaled five
	t0=$SECONDS
	until [[ $(req GET 5 "/v1/kv/compose/scaled?consistency=stale") == 200 ]]; do
		((SECONDS - t0 < 20)) || fail "node 5's own copy lacks compose/scaled after 20 s"
		sleep 0.5
	done
	expect_value 5 compose/hello world "?consistency=stale"
	out=$(docker logs "$(svc_id raftd 5)" 2>&1)
	grep -q 'peers=curve' <<<"$out" || fail "raftd-5 does not say it listens with Curve"
	say "checked: a write through node 1 is read from node 5 (linearizable and its own copy," \
		"which also holds the writes from before it joined); raftd-5 on Curve"
	t0=$SECONDS
	code=$(req DELETE 2 /v1/members/5)
	[[ $code == 200 || $code == 204 ]] || fail "DELETE /v1/members/5 via node 2: $code $(cat "$BODY")"
	# shellcheck disable=SC2086
	dc5 rm -s -f -v $nodes5 >/dev/null 2>&1 || fail "rm -s -f -v $nodes5"
	docker volume rm "${PROJECT}_node5-data" "${PROJECT}_node5-sock" >/dev/null ||
		fail "docker volume rm of node 5's volumes"
	wait_members 1 "1:voter 2:voter 3:voter 4:voter" 30
	for r in raftd storaged gatewayd; do
		[[ -z $(svc_id "$r" 5) ]] || fail "$r-5 still exists after rm"
	done
	put_retrying 4 compose/after-remove four
	expect_value 1 compose/after-remove four
	say "checked: node 5 removed (DELETE /v1/members/5), its containers and volumes deleted:" \
		"4 voters left, a write through node 4 is read from node 1 ($((SECONDS - t0)) s)"
	say "the scale phase took $((SECONDS - phase0)) s"
}

step_image
step_up
step_security
step_consul
step_follower_write
step_stop_leader
step_crash
step_cut_off
step_scale
say "all checks passed"
