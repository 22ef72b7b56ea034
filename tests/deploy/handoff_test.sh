#!/usr/bin/env bash
# handoff_test.sh - what stopping the leader's raftd costs the clients
# (make handoff-test). A local 3-node cluster (tools/cluster.sh, own ports and
# directory) takes writes from 4 concurrent clients through all three
# gateways; 2 s in, the leader's raftd is stopped, 3 s later started again.
#   TERM: raftd hands leadership to a caught-up follower before it exits, so
#         no write may fail with anything but a retriable refusal, 503 (the
#         gateway waits out the transfer, during which the core refuses
#         proposals) - no 429, no 500, no 504, no connection error - and raftd
#         must log the handover and that it told its gatewayd the new leader.
#         Asserted.
#   KILL: the same without a handoff, for comparison. Measured, not asserted.
# Prints, for each, the answers by status and the time raftd took to stop.
# Bounded: about 30 s in all.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN_DIR=${BIN_DIR:-build}
WRITERS=4
LOAD_S=8
BASE=$(mktemp -d /tmp/rkvho.XXXXXX)
export BIN_DIR NODES=3 BASE_DIR=$BASE LOG_LEVEL=info READY_TIMEOUT_S=30
# A base port whose next 3 ports no socket uses, below the kernel's ephemeral
# range (32768 and up by default), where an outgoing connection of another
# test could take one of them between this check and the bind.
free_base() {
	local b i busy
	while :; do
		b=$((20000 + RANDOM % 3000 * 4)) busy=0
		for ((i = 1; i <= 3; i++)); do
			[ -z "$(ss -Htan "sport = :$((b + i))")" ] || busy=1
		done
		((busy)) || { echo "$b"; return; }
	done
}
HTTP_PORT_BASE=$(free_base)
RAFT_PORT_BASE=$(free_base)
while ((RAFT_PORT_BASE == HTTP_PORT_BASE)); do RAFT_PORT_BASE=$(free_base); done
export HTTP_PORT_BASE RAFT_PORT_BASE
CL=tools/cluster.sh
say() { echo "handoff-test: $*"; }
# keep_logs: a failed run's node logs and answer codes go to $BIN_DIR/handoff-out/ (the
# last failure's only), where a flake can be read after $BASE is gone.
keep_logs() {
	local out=$BIN_DIR/handoff-out d
	rm -rf "$out"
	mkdir -p "$out"
	for d in "$BASE"/node*; do
		[[ -d $d ]] || continue
		mkdir -p "$out/${d##*/}"
		cp "$d"/*.log "$out/${d##*/}"/ 2>/dev/null || true
	done
	cp "$BASE"/codes.* "$out"/ 2>/dev/null || true
	say "logs kept in $out"
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	$CL down >/dev/null 2>&1 || true
	# a sanitizer build (BIN_DIR=build-address) reports into the logs
	if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$BASE"/node*/*.log 2>/dev/null; then
		say "FAILED: sanitizer reports in the logs above"
		rc=1
	fi
	if ((rc != 0)); then
		say "FAILED; last raftd log lines:"
		tail -n 5 "$BASE"/node*/raftd.log 2>/dev/null | sed 's/^/  /' || true
		keep_logs
	fi
	rm -rf "$BASE"
	exit $rc
}
trap cleanup EXIT INT TERM

url() { echo "http://127.0.0.1:$((HTTP_PORT_BASE + $1))"; }
leader() { curl -s -m 2 "$(url "$1")/v1/status" | jq -r '.leader.id // empty' 2>/dev/null || true; }

wait_leader() {
	local t0=$SECONDS l
	while ((SECONDS - t0 < 20)); do
		l=$(leader 1)
		[[ -n $l && $l == "$(leader 2)" && $l == "$(leader 3)" ]] && { echo "$l"; return 0; }
		sleep 0.3
	done
	say "no agreed leader within 20 s" >&2
	return 1
}

# writer ID MODE: PUTs for LOAD_S seconds round-robin over the gateways, one
# line "code" per answer into $BASE/codes.MODE.ID.
writer() {
	local id=$1 mode=$2 k=0 end=$((SECONDS + LOAD_S)) code t
	while ((SECONDS < end)); do
		t=$(date +%s%3N)
		code=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -m 10 -X PUT \
			--data-binary "v$k" "$(url $(((k + id) % 3 + 1)))/v1/kv/ho/$mode/$id/$k" || true)
		echo "$code $t" >>"$BASE/codes.$mode.$id"
		k=$((k + 1))
	done
}

run_mode() {
	local mode=$1 l i t0 t1 stop_ms pids=()
	l=$(wait_leader)
	for ((i = 1; i <= WRITERS; i++)); do
		writer "$i" "$mode" &
		pids+=($!)
	done
	sleep 2
	t0=$(date +%s%N)
	$CL stop "$l" raftd "$mode" >/dev/null
	stop_ms=$((($(date +%s%N) - t0) / 1000000))
	sleep 3
	t1=$(date +%s%3N)
	$CL start "$l" raftd >/dev/null
	wait "${pids[@]}"
	local total ok n503 other lat
	total=$(cat "$BASE"/codes."$mode".* | wc -l)
	ok=$(cat "$BASE"/codes."$mode".* | grep -c '^200 ' || true)
	n503=$(cat "$BASE"/codes."$mode".* | grep -c -E '^503 ' || true)
	other=$((total - ok - n503))
	lat=$(cat "$BASE"/codes."$mode".* | awk '{ print $2 }' | sort -n |
		awk '{ v[NR] = $1 } END { p = int(NR * 0.99) + 1; if (p > NR) p = NR
			printf "median %.3f s, p99 %.3f s, max %.3f s", v[int(NR / 2) + 1], v[p], v[NR] }')
	say "SIG$mode of leader node $l's raftd (cluster.sh stop took $stop_ms ms) under $WRITERS writers:" \
		"$total writes, $ok ok, $n503 x 503, $other other" \
		"($(awk '{ print $1 }' "$BASE"/codes."$mode".* | sort | uniq -c | tr -s ' \n' ' '));" \
		"latency $lat"
	# shellcheck disable=SC2016
	say "  answers slower than 0.3 s (start relative to the signal; restart at" \
		"+$((t1 - t0 / 1000000)) ms):" \
		"$(cat "$BASE"/codes."$mode".* | awk -v s=$((t0 / 1000000)) \
			'$2 > 0.3 { printf " %s in %.2f s at %+d ms;", $1, $2, $3 - s }')"
	if [[ $mode == TERM ]]; then
		grep -q 'leadership handed over' "$BASE/node$l/raftd.log" ||
			{ say "FAIL: node $l's raftd did not log a handover"; return 1; }
		say "checked: raftd logged: $(grep -o 'msg="leadership handed over".*' \
			"$BASE/node$l/raftd.log" | tail -n 1)"
		grep -q 'gatewayd told the new leader' "$BASE/node$l/raftd.log" ||
			{ say "FAIL: node $l's raftd exited without telling its gatewayd"; return 1; }
		say "  and: $(grep -o 'msg="stopping: gatewayd told.*' "$BASE/node$l/raftd.log" | tail -n 1)"
		((other == 0)) || { say "FAIL: $other writes failed with other than 503"; return 1; }
		say "checked: no write failed with anything but a retriable 503 ($n503 did)"
	fi
	$CL status >/dev/null
}

$CL up >/dev/null
say "cluster up: gateways $(url 1) $(url 2) $(url 3)"
run_mode TERM
sleep 2
run_mode KILL
