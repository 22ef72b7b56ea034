#!/usr/bin/env bash
# cluster.sh - a local raftkv cluster: N nodes of three processes each
# (storaged, raftd, gatewayd) on one host.
#
#   cluster.sh run               all nodes in the foreground, logs prefixed; Ctrl-C stops all
#   cluster.sh up                the same in the background (pid files and logs under
#                                BASE_DIR/node<i>/), waits until every /readyz answers 200;
#                                refuses ports another process already answers on, and fails
#                                fast when a process it started exits (only its own count)
#   cluster.sh down              stops what `up` started (TERM, then KILL after 5 s): every
#                                gateway, the leader's raftd (it hands over), the other
#                                raftds, every storaged; about 1 s for 3 nodes
#   cluster.sh start I [ROLE]    starts node I (or one role of it) in the background
#   cluster.sh stop I [ROLE] [SIGNAL]   signals node I (or one role), default TERM, and waits
#   cluster.sh status            which processes run, and each gateway's /readyz
#   cluster.sh join I            starts node I (NODES < I <= 9) with raftd --join against
#                                nodes 1..NODES and waits until GET /v1/members shows it a
#                                caught-up voter (JOIN_AS=learner: a caught-up learner);
#                                start/stop/leave then take I too
#   cluster.sh leave I           removes node I from the configuration (DELETE /v1/members/I
#                                through another node; a leader hands over first), then
#                                stops its processes; its data stays in BASE_DIR/node<I>
#   cluster.sh smoke             up, writes and reads through every node, kill -9 of the
#                                leader's raftd, more writes, restart and catch-up, down
#                                (SMOKE_KEEP=1 keeps BASE_DIR and its logs after a pass)
#
# Settings (environment):
#   NODES=3  BASE_DIR=./data  HOST=127.0.0.1  HTTP_PORT_BASE=4000  RAFT_PORT_BASE=7000
#   BIN_DIR=build  READY_TIMEOUT_S=60  LOG_LEVEL=info  JOIN_TIMEOUT_S=120  JOIN_AS=voter
#   CONSUL_PORT_BASE  set: node i also serves Consul's KV API on HOST:(CONSUL_PORT_BASE+i)
#                (gatewayd --consul-listen; same TLS and tokens as its HTTP port); unset: off
#   RAFTD_ARGS / STORAGED_ARGS / GATEWAYD_ARGS: extra flags for every such process
#   LOCAL_READS=1  gatewayd --local-reads: GETs read the node's LMDB (same directory, same
#                pid namespace: one host); 0: every GET goes through storaged
#   SECURE=0     1: raftd peers use CurveZMQ, with per-node keys made (once, then reused)
#                by raftkvctl keygen under BASE_DIR/secrets/curve/ (curve_* below);
#                gateways serve HTTPS with BASE_DIR/secrets/node<i>.crt/.key, forward to
#                each other over https:// verified against secrets/ca.crt (--peer-ca), and
#                ask for tokens from secrets/tokens.txt (--auth-file); `make certs` writes
#                them. This script's own curl calls use the CA and the admin token.
#                tls: HTTPS alone (the gateways' certificates and https:// forwarding
#                verified against secrets/ca.crt as with 1), no tokens and plaintext
#                raftd peers: what `make bench` measures TLS by itself with.
#   With SECURE=0 a HOST other than 127.x gives raftd and gatewayd --insecure (plaintext
#   on a non-loopback address; both refuse it otherwise).
# Node i: raft port RAFT_PORT_BASE+i, HTTP port HTTP_PORT_BASE+i, data in
# BASE_DIR/node<i>, sockets in BASE_DIR/node<i>/sock. Data survives restarts. A node
# above NODES always starts with raftd --join (ignored by raftd once it has joined).
set -euo pipefail

NODES=${NODES:-3}
BASE_DIR=${BASE_DIR:-./data}
HOST=${HOST:-127.0.0.1}
HTTP_PORT_BASE=${HTTP_PORT_BASE:-4000}
RAFT_PORT_BASE=${RAFT_PORT_BASE:-7000}
BIN_DIR=${BIN_DIR:-$(dirname "$0")/../build}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}
JOIN_TIMEOUT_S=${JOIN_TIMEOUT_S:-120}
JOIN_AS=${JOIN_AS:-voter}
LOG_LEVEL=${LOG_LEVEL:-info}
LOCAL_READS=${LOCAL_READS:-1}
SECURE=${SECURE:-0}
ROLES=(storaged raftd gatewayd)

die() { echo "cluster.sh: $*" >&2; exit 1; }

[[ $NODES =~ ^[1-9]$ ]] || die "NODES must be 1..9 (got $NODES)"
CONSUL_PORT_BASE=${CONSUL_PORT_BASE:-}
[[ -z $CONSUL_PORT_BASE || $CONSUL_PORT_BASE =~ ^[0-9]+$ ]] ||
	die "CONSUL_PORT_BASE must be a number or unset (got $CONSUL_PORT_BASE)"
[[ $SECURE == 0 || $SECURE == 1 || $SECURE == tls ]] || die "SECURE must be 0, 1 or tls (got $SECURE)"
[[ $JOIN_AS == voter || $JOIN_AS == learner ]] || die "JOIN_AS must be voter or learner"
for v in HTTP_PORT_BASE RAFT_PORT_BASE READY_TIMEOUT_S JOIN_TIMEOUT_S; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number (got ${!v})"
done
mkdir -p "$BASE_DIR"
BASE_DIR=$(cd "$BASE_DIR" && pwd)
[[ -d $BIN_DIR ]] || die "no build directory $BIN_DIR (run make build)"
BIN_DIR=$(cd "$BIN_DIR" && pwd)
SECRETS="$BASE_DIR/secrets"
SCHEME=http
CURL=(curl -s)
if [[ $SECURE == tls ]]; then
	[[ -s $SECRETS/ca.crt ]] ||
		die "SECURE=tls needs $SECRETS/ca.crt (run: BASE_DIR=$BASE_DIR make certs)"
	SCHEME=https
	CURL=(curl -s --cacert "$SECRETS/ca.crt")
elif [[ $SECURE == 1 ]]; then
	[[ -s $SECRETS/ca.crt && -s $SECRETS/tokens.txt ]] ||
		die "SECURE=1 needs $SECRETS/ca.crt and tokens.txt (run: BASE_DIR=$BASE_DIR make certs)"
	SCHEME=https
	# the token goes in a header file, never on a command line (ps would show it)
	(umask 077 && awk '$2 == "admin" { print "Authorization: Bearer " $1; exit }' \
		"$SECRETS/tokens.txt" >"$SECRETS/curl-admin.header")
	[[ -s $SECRETS/curl-admin.header ]] || die "no admin token in $SECRETS/tokens.txt"
	CURL=(curl -s --cacert "$SECRETS/ca.crt" -H "@$SECRETS/curl-admin.header")
fi

peers_flag() {
	local s="" i
	for ((i = 1; i <= NODES; i++)); do s+="${s:+,}$i=$HOST:$((RAFT_PORT_BASE + i))"; done
	echo "$s"
}
# gateways_flag [I]: nodes 1..NODES, and node I when it joined above them.
gateways_flag() {
	local s="" i
	for ((i = 1; i <= NODES; i++)); do s+="${s:+,}$i=$SCHEME://$HOST:$((HTTP_PORT_BASE + i))"; done
	if ((${1:-0} > NODES)); then s+=",$1=$SCHEME://$HOST:$((HTTP_PORT_BASE + $1))"; fi
	echo "$s"
}

# The HTTP URLs of nodes 1..NODES, for raftd --join.
join_urls() {
	local s="" i
	for ((i = 1; i <= NODES; i++)); do s+="${s:+,}$SCHEME://$HOST:$((HTTP_PORT_BASE + i))"; done
	echo "$s"
}

node_dir() { echo "$BASE_DIR/node$1"; }

# gatewayd's TLS and token flags for node $1 (SECURE=1; SECURE=tls: TLS only), or
# --insecure off loopback.
gatewayd_security() {
	if [[ $SECURE == 1 || $SECURE == tls ]]; then
		echo "--tls-cert $SECRETS/node$1.crt --tls-key $SECRETS/node$1.key --peer-ca $SECRETS/ca.crt"
		[[ $SECURE == tls ]] || echo "--auth-file $SECRETS/tokens.txt"
	elif [[ $HOST != 127.* ]]; then
		echo "--insecure"
	fi
}

# --- SECURE=1: Curve keys for raftd's peer port ---
curve_dir() { echo "$BASE_DIR/secrets/curve"; }

# Makes node i's key pair under curve_dir/node<i>/ unless it exists, and the
# allow-list curve_dir/peer-keys.txt ("ID Z85PUBLICKEY" a line) for every node
# (1..NODES, and $1 when a node above them joins: the running nodes learn its
# key from the configuration, not from this file).
curve_prepare() {
	[[ $SECURE == 1 ]] || return 0
	local dir i list last=$((${1:-0} > NODES ? $1 : NODES))
	dir=$(curve_dir)
	[[ -x $BIN_DIR/raftkvctl ]] || die "$BIN_DIR/raftkvctl is missing (run make build)"
	mkdir -p -m 700 "$BASE_DIR/secrets" "$dir"
	for ((i = 1; i <= last; i++)); do
		[[ $i -le $NODES || $i -eq ${1:-0} ]] || continue
		if [[ ! -f $dir/node$i/curve.key ]]; then
			mkdir -p -m 700 "$dir/node$i"
			"$BIN_DIR/raftkvctl" keygen --out "$dir/node$i" >/dev/null ||
				die "raftkvctl keygen for node$i failed"
		fi
		list+="$i $(<"$dir/node$i/curve.pub")"$'\n'
	done
	# replaced in one rename: a raftd starting meanwhile reads the old or the new file
	printf '# made by tools/cluster.sh: node id and its raftd Curve public key\n%s' "$list" \
		>"$dir/peer-keys.txt.$$"
	mv -f "$dir/peer-keys.txt.$$" "$dir/peer-keys.txt"
}

# raftd's Curve flags for node $1 (SECURE=1), or --insecure off loopback (or SECURE=tls).
curve_raftd_args() {
	if [[ $SECURE == 1 ]]; then
		echo "--curve-secret-key $(curve_dir)/node$1/curve.key --peer-keys-file $(curve_dir)/peer-keys.txt"
	elif [[ $HOST != 127.* ]]; then
		echo "--insecure"
	fi
}
# --- end SECURE=1 Curve ---

# raftd's flags for node $1 above NODES: --join the others (SECURE=1: with the admin
# token from a file only raftd reads, and the CA), advertising its own addresses.
join_raftd_args() {
	local i=$1
	echo "--join $(join_urls) --join-as $JOIN_AS --url $SCHEME://$HOST:$((HTTP_PORT_BASE + i))" \
		"--advertise $HOST:$((RAFT_PORT_BASE + i))"
	if [[ $SECURE == 1 ]]; then
		(umask 077 && awk '$2 == "admin" { print $1; exit }' "$SECRETS/tokens.txt" \
			>"$SECRETS/join-admin.token")
		echo "--join-token-file $SECRETS/join-admin.token --join-cacert $SECRETS/ca.crt"
	elif [[ $SECURE == tls ]]; then
		echo "--join-cacert $SECRETS/ca.crt"
	fi
}

# The command line of one role of node $1.
role_cmd() {
	local i=$1 role=$2 dir
	dir=$(node_dir "$i")
	case $role in
	storaged)
		echo "$BIN_DIR/storaged --node-id $i --data-dir $dir --sock-dir $dir/sock" \
			"--log-level $LOG_LEVEL ${STORAGED_ARGS:-}" ;;
	raftd)
		if ((i > NODES)); then
			echo "$BIN_DIR/raftd --node-id $i $(join_raftd_args "$i") --data-dir $dir"
		else
			echo "$BIN_DIR/raftd --node-id $i --peers $(peers_flag) --data-dir $dir"
		fi
		echo "--listen tcp://$HOST:$((RAFT_PORT_BASE + i)) $(curve_raftd_args "$i")" \
			"--sock-dir $dir/sock --log-level $LOG_LEVEL ${RAFTD_ARGS:-}" ;;
	gatewayd)
		echo "$BIN_DIR/gatewayd --node-id $i --listen $HOST:$((HTTP_PORT_BASE + i))" \
			"${CONSUL_PORT_BASE:+--consul-listen $HOST:$((CONSUL_PORT_BASE + i))}" \
			"--gateways $(gateways_flag "$i") --data-dir $dir --sock-dir $dir/sock" \
			"--log-level $LOG_LEVEL $(gatewayd_security "$i")" \
			"$( ((LOCAL_READS)) && echo --local-reads) ${GATEWAYD_ARGS:-}" ;;
	*) die "unknown role $role (storaged, raftd or gatewayd)" ;;
	esac
}

check_bins() {
	local r
	for r in "${ROLES[@]}"; do
		[[ -x $BIN_DIR/$r ]] || die "$BIN_DIR/$r is missing (run make build)"
	done
}

prepare_node() {
	local dir sock
	dir=$(node_dir "$1")
	sock="$dir/sock/storaged-apply.sock"
	# a unix socket path is limited to 107 bytes
	((${#sock} < 100)) || die "BASE_DIR is too long for ipc:// socket paths ($sock)"
	# the daemons refuse a socket directory others can enter (kv_sockdir.h)
	mkdir -p "$dir"
	mkdir -p -m 700 "$dir/sock"
	chmod 700 "$dir/sock"
	curve_prepare "$1"
	if [[ $SECURE == 1 || $SECURE == tls ]]; then
		[[ -s $SECRETS/node$1.crt ]] ||
			die "no certificate $SECRETS/node$1.crt (run: NODES=$1 BASE_DIR=$BASE_DIR make certs)"
	fi
}

pid_file() { echo "$(node_dir "$1")/$2.pid"; }

# The pid of a role if it runs (and is what we started), else nothing.
live_pid() {
	local f pid
	f=$(pid_file "$1" "$2")
	[[ -f $f ]] || return 0
	pid=$(<"$f")
	if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
		grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null; then
		echo "$pid"
	fi
}

start_role() {
	local i=$1 role=$2 dir pid
	dir=$(node_dir "$i")
	[[ -z $(live_pid "$i" "$role") ]] || { echo "node$i $role already runs"; return 0; }
	prepare_node "$i"
	# shellcheck disable=SC2046
	setsid $(role_cmd "$i" "$role") >>"$dir/$role.log" 2>&1 </dev/null &
	pid=$!
	disown "$pid" 2>/dev/null || true # no "Killed" notices from this shell
	echo "$pid" >"$(pid_file "$i" "$role")"
	await_exec "$pid" "$role"
	echo "node$i $role started (pid $pid, log $dir/$role.log)"
}

# await_exec PID ROLE: waits up to 5 s until PID runs ROLE's command or has exited. Right
# after the fork PID is still a copy of this shell, whose command line names no role, and
# live_pid would take the role for exited (a busy machine kept 17 of 200 children there).
await_exec() {
	local n
	for ((n = 0; n < 100; n++)); do
		grep -q "$2" "/proc/$1/cmdline" 2>/dev/null && return 0
		pid_running "$1" || return 0
		sleep 0.05
	done
}

# Has pid not exited yet? A zombie has: it only waits for its parent to
# collect it, and the processes `up` started belong to init, which may reap
# them seconds later (kill -0 still succeeds on a zombie).
pid_running() {
	local stat
	# (not $(<file): under set -e a missing file ends the whole script)
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# signal_role I ROLE SIG: sends SIG to the role if it runs; prints its pid.
signal_role() {
	local pid
	pid=$(live_pid "$1" "$2")
	[[ -n $pid ]] || { rm -f "$(pid_file "$1" "$2")"; return 0; }
	kill -s "$3" "$pid" 2>/dev/null || true
	echo "$pid"
}

# wait_role I ROLE PID SIG: waits up to 5 s for PID to exit, then KILLs it.
wait_role() {
	local n
	for ((n = 0; n < 100; n++)); do
		pid_running "$3" || break
		sleep 0.05
	done
	if pid_running "$3"; then
		echo "node$1 $2 (pid $3) still runs after 5 s: KILL"
		kill -KILL "$3" 2>/dev/null || true
	fi
	rm -f "$(pid_file "$1" "$2")"
	echo "node$1 $2 stopped (SIG$4)"
}

stop_role() {
	local i=$1 role=$2 sig=${3:-TERM} pid
	pid=$(signal_role "$i" "$role" "$sig")
	[[ -n $pid ]] || return 0
	if [[ $sig == STOP || $sig == CONT ]]; then
		echo "node$i $role (pid $pid): SIG$sig"
		return 0
	fi
	wait_role "$i" "$role" "$pid" "$sig"
}

# stop_role_everywhere ROLE [SKIP_LINGER]: TERM to ROLE on every node at once, then waits
# for all of them. SKIP_LINGER: a second TERM ends storaged's linger (its raftd is gone).
stop_role_everywhere() {
	local i pids=() nodes=() pid k
	for ((i = 1; i <= 9; i++)); do
		[[ -d $(node_dir "$i") ]] || continue
		pid=$(signal_role "$i" "$1" TERM)
		[[ -n $pid ]] || continue
		pids+=("$pid") nodes+=("$i")
	done
	if [[ -n ${2:-} && ${#pids[@]} -gt 0 ]]; then
		sleep 0.05
		kill -TERM "${pids[@]}" 2>/dev/null || true
	fi
	for k in "${!pids[@]}"; do wait_role "${nodes[$k]}" "$1" "${pids[$k]}" TERM; done
}

readyz() {
	"${CURL[@]}" -o /dev/null -m 1 -w '%{http_code}' "$SCHEME://$HOST:$((HTTP_PORT_BASE + $1))/readyz" ||
		true
}

# Does anything accept connections on HOST:$1?
port_answers() {
	timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# ports_free_for I: fails when one of node I's ports (gatewayd's HTTP port, raftd's
# raft port) already answers while the role we would start on it does not run: another
# cluster (or program) holds it, and its /readyz would be counted as ours.
ports_free_for() {
	local i=$1 role port
	for role in gatewayd raftd; do
		[[ -z $(live_pid "$i" "$role") ]] || continue
		port=$((RAFT_PORT_BASE + i))
		[[ $role == raftd ]] || port=$((HTTP_PORT_BASE + i))
		if port_answers "$port"; then
			echo "cluster.sh: node$i: port $HOST:$port ($role's) is in use by a process" \
				"this cluster did not start (another cluster on the same ports?)" >&2
			return 1
		fi
	done
}

# own_processes_run I: every role of node I that `up` started still runs; else prints
# why (its log's last lines, e.g. gatewayd's "cannot listen") and fails.
own_processes_run() {
	local i=$1 role
	for role in "${ROLES[@]}"; do
		if [[ -z $(live_pid "$i" "$role") ]]; then
			echo "node$i $role is not running; last lines of its log:" >&2
			tail -n 3 "$(node_dir "$i")/$role.log" >&2 2>/dev/null || true
			return 1
		fi
	done
}

# A /readyz answer counts only while the processes this cluster started run: a
# gatewayd that could not bind has exited, and the port's 200 is someone else's.
wait_ready() {
	local deadline=$((SECONDS + READY_TIMEOUT_S)) i line ok code
	while :; do
		ok=1 line=""
		for ((i = 1; i <= NODES; i++)); do
			own_processes_run "$i" || die "node$i: a process exited; not ready"
			code=$(readyz "$i")
			line+=" node$i=${code:-none}"
			[[ $code == 200 ]] || ok=0
		done
		if ((ok)); then
			echo "ready:$line"
			return 0
		fi
		if ((SECONDS >= deadline)); then
			echo "not ready after ${READY_TIMEOUT_S} s:$line" >&2
			for ((i = 1; i <= NODES; i++)); do
				echo "--- node$i logs (last lines) under $(node_dir "$i")" >&2
				tail -n 5 "$(node_dir "$i")"/*.log >&2 2>/dev/null || true
			done
			return 1
		fi
		echo "waiting for /readyz:$line"
		sleep 1
	done
}

print_urls() {
	local i
	echo "raftkv: $NODES nodes, data under $BASE_DIR"
	for ((i = 1; i <= NODES; i++)); do
		echo "  node$i: $SCHEME://$HOST:$((HTTP_PORT_BASE + i))  (raft $HOST:$((RAFT_PORT_BASE + i)))" \
			"${CONSUL_PORT_BASE:+ (Consul KV API $SCHEME://$HOST:$((CONSUL_PORT_BASE + i)))}"
	done
	local c="curl"
	if [[ $SECURE == 1 ]]; then
		c="curl --cacert $SECRETS/ca.crt -H @$SECRETS/curl-admin.header"
		echo "TLS on, tokens from $SECRETS/tokens.txt (the admin one in curl-admin.header)," \
			"Curve keys for the peers under $(curve_dir)"
	elif [[ $SECURE == tls ]]; then
		c="curl --cacert $SECRETS/ca.crt"
		echo "TLS on (HTTPS and forwarding), no tokens, plaintext raftd peers on $HOST"
	elif [[ $HOST == 127.* ]]; then
		echo "plaintext HTTP and peers, no tokens, bound to $HOST only" \
			"(SECURE=1 after make certs: TLS, tokens and Curve)"
	else
		echo "WARNING: plaintext HTTP and peers, no tokens, on $HOST (--insecure)"
	fi
	echo "try:"
	echo "  $c -XPUT $SCHEME://$HOST:$((HTTP_PORT_BASE + 1))/v1/kv/hello -d world"
	echo "  $c $SCHEME://$HOST:$((HTTP_PORT_BASE + (NODES > 1 ? 2 : 1)))/v1/kv/hello"
	echo "  $c $SCHEME://$HOST:$((HTTP_PORT_BASE + 1))/v1/status"
	if [[ -n $CONSUL_PORT_BASE ]]; then
		echo "  $c '$SCHEME://$HOST:$((CONSUL_PORT_BASE + 1))/v1/kv/hello?recurse'   (Consul's KV API)"
	fi
}

cmd_run() {
	check_bins
	local pids=() i role
	for ((i = 1; i <= NODES; i++)); do
		for role in "${ROLES[@]}"; do
			[[ -z $(live_pid "$i" "$role") ]] ||
				die "a background cluster runs in $BASE_DIR (make cluster-down first)"
		done
	done
	# stop_all STATUS: stops every process, then exits with STATUS
	stop_all() {
		trap - INT TERM EXIT
		echo "stopping all processes..."
		kill -TERM "${pids[@]}" 2>/dev/null || true
		local n p alive
		for ((n = 0; n < 50; n++)); do
			alive=0
			for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
			((alive)) || break
			sleep 0.1
		done
		((alive == 0)) || echo "some processes ignored TERM for 5 s: KILL"
		kill -KILL "${pids[@]}" 2>/dev/null || true
		wait 2>/dev/null || true
		echo "stopped"
		exit "$1"
	}
	trap 'stop_all 0' INT TERM
	trap 'stop_all 1' EXIT
	for ((i = 1; i <= NODES; i++)); do
		prepare_node "$i"
		for role in "${ROLES[@]}"; do
			# shellcheck disable=SC2046
			$(role_cmd "$i" "$role") > >(sed -u "s/^/[node$i $role] /") 2>&1 </dev/null &
			pids+=($!)
		done
	done
	print_urls
	echo "Ctrl-C stops all $((NODES * 3)) processes"
	# a process that exits (a port in use, a bad flag, a crash) stops the whole run
	local k
	while :; do
		for k in "${!pids[@]}"; do
			if ! kill -0 "${pids[$k]}" 2>/dev/null; then
				echo "node$((k / 3 + 1)) ${ROLES[$((k % 3))]} exited; stopping the cluster" >&2
				stop_all 1
			fi
		done
		sleep 1 &
		wait $! || true
	done
}

cmd_up() {
	check_bins
	local i role
	for ((i = 1; i <= NODES; i++)); do
		ports_free_for "$i" || die "not starting: node$i's ports are taken"
	done
	for ((i = 1; i <= NODES; i++)); do
		for role in "${ROLES[@]}"; do start_role "$i" "$role"; done
	done
	wait_ready
	print_urls
}

# The node whose raftd leads, as its gateway reports it; nothing when unknown.
down_leader() {
	local i id
	for ((i = 1; i <= 9; i++)); do
		[[ -n $(live_pid "$i" gatewayd) ]] || continue
		id=$("${CURL[@]}" -m 1 "$SCHEME://$HOST:$((HTTP_PORT_BASE + i))/v1/status" 2>/dev/null |
			sed -n 's/.*"leader":{"id":\([0-9]*\).*/\1/p')
		[[ $id =~ ^[1-9]$ && -n $(live_pid "$id" raftd) ]] && { echo "$id"; return 0; }
	done
	return 0
}

# Every gateway at once; then the leader's raftd, which hands over to a live
# follower while they all run; then the other raftds at once (the new
# leader finds no live voter to hand over to and stops at once); then every
# storaged, its linger cut short (no raftd feeds it any more).
cmd_down() {
	local leader
	leader=$(down_leader)
	stop_role_everywhere gatewayd
	[[ -z $leader ]] || stop_role "$leader" raftd
	stop_role_everywhere raftd
	stop_role_everywhere storaged skip-linger
}

cmd_status() {
	local i role pid
	for ((i = 1; i <= 9; i++)); do
		((i <= NODES)) || [[ -d $(node_dir "$i") ]] || continue
		local line="node$i:"
		for role in "${ROLES[@]}"; do
			pid=$(live_pid "$i" "$role")
			line+=" $role=${pid:-down}"
		done
		echo "$line readyz=$(readyz "$i")"
	done
}

# ---- smoke: a real cluster end to end (make cluster-smoke) -----------------

smoke_put() { # smoke_put NODE KEY VALUE: 0 when 200, retrying 503/504 for up to 15 s
	local deadline=$((SECONDS + 15)) code
	while :; do
		code=$("${CURL[@]}" -o /dev/null -m 6 -w '%{http_code}' -XPUT \
			"$SCHEME://$HOST:$((HTTP_PORT_BASE + $1))/v1/kv/$2" -d "$3" || true)
		[[ $code == 200 ]] && return 0
		((SECONDS < deadline)) || { echo "PUT $2 via node$1: HTTP $code" >&2; return 1; }
		sleep 0.5
	done
}

smoke_get_all() { # smoke_get_all NODE COUNT PREFIX: every key PREFIX1..COUNT reads back
	local k v
	for ((k = 1; k <= $2; k++)); do
		v=$("${CURL[@]}" -m 6 "$SCHEME://$HOST:$((HTTP_PORT_BASE + $1))/v1/kv/$3$k" || true)
		[[ $v == "value-$3$k" ]] || { echo "GET $3$k on node$1: \"$v\"" >&2; return 1; }
	done
}

smoke_json() { # smoke_json NODE FIELD: a number from /v1/status, 0 when unknown
	"${CURL[@]}" -m 3 "$SCHEME://$HOST:$((HTTP_PORT_BASE + $1))/v1/status" | jq -r "$2 // 0" 2>/dev/null ||
		echo 0
}

cmd_smoke() {
	local i k leader other n=30 deadline
	check_bins
	echo "smoke: $NODES nodes under $BASE_DIR, HTTP $((HTTP_PORT_BASE + 1)).., raft $((RAFT_PORT_BASE + 1)).."
	cmd_up >/dev/null || return 1
	for ((k = 1; k <= n; k++)); do smoke_put $((k % NODES + 1)) "a$k" "value-a$k" || return 1; done
	for ((i = 1; i <= NODES; i++)); do smoke_get_all "$i" $n a || return 1; done
	echo "checked: $n writes through every node read back from every node"
	leader=$(smoke_json 1 '.leader.id')
	[[ $leader =~ ^[1-9]$ ]] || { echo "no leader known: $leader" >&2; return 1; }
	stop_role "$leader" raftd KILL >/dev/null
	other=$((leader % NODES + 1))
	for ((k = 1; k <= n; k++)); do smoke_put "$other" "b$k" "value-b$k" || return 1; done
	echo "checked: after kill -9 of the leader's raftd (node$leader), $n more writes via node$other"
	start_role "$leader" raftd >/dev/null
	deadline=$((SECONDS + 30))
	local want
	want=$(smoke_json "$other" '.commit_index')
	until (($(smoke_json "$leader" '.applied_index') >= want)); do
		((SECONDS < deadline)) || { echo "node$leader did not catch up" >&2; return 1; }
		sleep 0.5
	done
	smoke_get_all "$leader" $n a && smoke_get_all "$leader" $n b || return 1
	echo "checked: restarted node$leader caught up and reads all $((2 * n)) keys"
	cmd_down >/dev/null
	echo "smoke: ok"
}

# The member $2 as GET /v1/members shows it through node $1: "role caught_up match_index".
member_state() {
	"${CURL[@]}" -m 5 "$SCHEME://$HOST:$((HTTP_PORT_BASE + $1))/v1/members" 2>/dev/null |
		jq -r --argjson id "$2" \
			'(.members[] | select(.id == $id) | "\(.role) \(.caught_up) \(.match_index)") // "absent"' \
			2>/dev/null || echo "no-answer"
}

# join I: start node I above NODES with raftd --join, then wait until it is a caught-up voter.
cmd_join() {
	local i=$1 r n state deadline=$((SECONDS + JOIN_TIMEOUT_S)) want=$JOIN_AS
	[[ $i =~ ^[1-9]$ ]] && ((i > NODES)) || die "join: node must be $((NODES + 1))..9 (got $i)"
	check_bins
	echo "join $i: starting node$i: raftd --join $(join_urls) --join-as $want"
	for r in "${ROLES[@]}"; do start_role "$i" "$r"; done
	while :; do
		state="no-answer"
		for ((n = 1; n <= NODES; n++)); do
			state=$(member_state "$n" "$i")
			[[ $state == no-answer ]] || break
		done
		echo "join $i: node$i is ${state} (role caught_up match_index, via node$n)"
		if [[ $state == "$want true "* ]]; then
			echo "join $i: node$i is a caught-up $want; HTTP $SCHEME://$HOST:$((HTTP_PORT_BASE + i))," \
				"raft $HOST:$((RAFT_PORT_BASE + i)), data $(node_dir "$i")"
			return 0
		fi
		if ((SECONDS >= deadline)); then
			echo "join $i: node$i is not a caught-up $want after $JOIN_TIMEOUT_S s; its processes" \
				"keep running. Last log lines:" >&2
			tail -n 5 "$(node_dir "$i")"/raftd.log >&2 2>/dev/null || true
			return 1
		fi
		if [[ -z $(live_pid "$i" raftd) ]]; then
			echo "join $i: node$i raftd exited. Last log lines:" >&2
			tail -n 8 "$(node_dir "$i")"/raftd.log >&2 2>/dev/null || true
			return 1
		fi
		sleep 1
	done
}

# leave I: remove node I through another running node, then stop it.
cmd_leave() {
	local i=$1 via code body n
	for ((n = 1; n <= 9; n++)); do
		((n <= NODES)) || [[ -d $(node_dir "$n") ]] || continue
		if [[ $n != "$i" && $(readyz "$n") == 200 ]]; then via=$n; break; fi
	done
	[[ -n ${via:-} ]] || die "leave $i: no other node is ready to take the request"
	echo "leave $i: DELETE /v1/members/$i through node$via"
	body=$("${CURL[@]}" -m 20 -X DELETE -w '\n%{http_code}' \
		"$SCHEME://$HOST:$((HTTP_PORT_BASE + via))/v1/members/$i?timeout=15000") || true
	code=${body##*$'\n'}
	echo "leave $i: $code ${body%$'\n'*}"
	[[ $code == 200 ]] || die "leave $i: the cluster refused the removal; nothing stopped"
	for r in gatewayd raftd storaged; do stop_role "$i" "$r"; done
	echo "leave $i: node$i removed and stopped (data kept in $(node_dir "$i"))"
}

# A node of the cluster: 1..NODES, or one above that joined (it has a directory).
node_arg() {
	[[ ${1:-} =~ ^[1-9]$ ]] && { (($1 <= NODES)) || [[ -d $(node_dir "$1") ]]; } ||
		die "node must be 1..$NODES or a node that joined (got ${1:-none})"
}

case ${1:-} in
run) cmd_run ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
smoke)
	trap 'cmd_down >/dev/null 2>&1' EXIT # never leave a half-tested cluster running
	if cmd_smoke; then
		[[ -n ${SMOKE_KEEP:-} ]] && echo "logs kept under $BASE_DIR" || rm -rf "$BASE_DIR"
	else
		echo "smoke: FAILED (logs kept under $BASE_DIR)" >&2
		cmd_down >/dev/null
		exit 1
	fi ;;
start)
	node_arg "${2:-}"
	if [[ -n ${3:-} ]]; then start_role "$2" "$3"; else
		for r in "${ROLES[@]}"; do start_role "$2" "$r"; done
	fi ;;
join) cmd_join "${2:-}" ;;
leave)
	node_arg "${2:-}"
	cmd_leave "$2" ;;
stop)
	node_arg "${2:-}"
	if [[ -n ${3:-} ]]; then stop_role "$2" "$3" "${4:-TERM}"; else
		for r in gatewayd raftd storaged; do stop_role "$2" "$r"; done
	fi ;;
*) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
