#!/usr/bin/env bash
# cpu_per_write.sh - where the CPU of a write goes: starts a 3-node raftkv
# cluster (tools/cluster.sh, data in a temporary directory), puts a fixed wrk
# PUT load on it, and prints for each of the nine processes (raftd, storaged,
# gatewayd on each node) the CPU time it used (user + system, all threads,
# from /proc/<pid>/stat) divided by the writes wrk saw acknowledged.
#
# Each run prints its table; with CPW_REPS > 1 a last table gives, per
# process, the median over the runs (the machine may be shared: compare
# medians, and the spread between runs says how noisy it was).
#
# env: CPW_SECONDS (default 10) seconds of load per run, CPW_REPS (default 3),
#      CPW_CLIENTS (default 63) wrk connections, CPW_NODES (all|leader|followers,
#      default all), CPW_VALUE (default 64) value bytes, BENCH_KEYS (default 1000),
#      BUILD (default build). Ports: HTTP 32101-32103, Raft 32201-32203.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECS=${CPW_SECONDS:-10}
REPS=${CPW_REPS:-3}
CLIENTS=${CPW_CLIENTS:-63}
NODES_LOAD=${CPW_NODES:-all}
VALUE=${CPW_VALUE:-64}
export BENCH_KEYS=${BENCH_KEYS:-1000}
export BENCH_LUA_DIR=$PWD/tools/bench
HTTP_BASE=32100
ROLES="raftd storaged gatewayd"

die() { echo "cpu_per_write: $*" >&2; exit 1; }
for v in SECS REPS CLIENTS VALUE; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number (got ${!v})"
done
command -v wrk >/dev/null || die "wrk is not installed (make deps installs it)"

work=$(mktemp -d /tmp/raftkv-cpw.XXXXXX)
CLUSTER_ENV=(BIN_DIR="$BUILD" HTTP_PORT_BASE=$HTTP_BASE RAFT_PORT_BASE=32200 BASE_DIR="$work"
	LOG_LEVEL=warn)
cleanup() {
	env "${CLUSTER_ENV[@]}" tools/cluster.sh down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

leader() { curl -sf "http://127.0.0.1:$((HTTP_BASE + 1))/v1/status" | jq -r .leader.id; }

# host:port list of the gateways the load talks to.
addrs() {
	local l i out=""
	l=$(leader)
	[[ $l =~ ^[1-3]$ ]] || die "no leader (status said '$l')"
	for i in 1 2 3; do
		case $NODES_LOAD in
		leader) [ "$i" = "$l" ] || continue ;;
		followers) [ "$i" != "$l" ] || continue ;;
		esac
		out+="${out:+,}127.0.0.1:$((HTTP_BASE + i))"
	done
	echo "$out"
}

# "node role ticks" for each of the nine processes.
ticks() {
	local i r pid
	for i in 1 2 3; do
		for r in $ROLES; do
			pid=$(<"$work/node$i/$r.pid")
			echo "$i $r $(awk '{ print $14 + $15 }' "/proc/$pid/stat")"
		done
	done
}

# Runs wrk; prints "acknowledged_writes duration_us".
run_wrk() {
	local op=$1 clients=$2 secs=$3 a threads out
	a=$(addrs)
	threads=$(tr ',' '\n' <<<"$a" | wc -l)
	[ "$clients" -ge "$threads" ] || threads=$clients
	out=$(BENCH_ADDRS=$a BENCH_OP=$op BENCH_VALUE=$VALUE wrk -t "$threads" -c "$clients" \
		-d "${secs}s" --timeout 10s -s tools/bench/raftkv.lua "http://${a%%,*}/" 2>&1) ||
		die "wrk failed: $out"
	awk '/^result / {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
		print r["requests"] - r["errors"] - r["status_errors"], r["duration_us"] }' <<<"$out"
}

# One run: prints rows "node role leader|follower us_per_write" and a summary line.
one_run() {
	local before after l writes dur
	l=$(leader)
	before=$(ticks)
	read -r writes dur <<<"$(run_wrk put "$CLIENTS" "$SECS")"
	after=$(ticks)
	[ "${writes:-0}" -gt 0 ] || die "no write was acknowledged"
	paste -d' ' <(echo "$before") <(echo "$after") | awk -v l="$l" -v w="$writes" \
		-v hz="$(getconf CLK_TCK)" '{
		printf "%s %s %s %.1f\n", $1, $2, ($1 == l ? "leader" : "follower"), ($6 - $3) / hz * 1e6 / w }'
	echo "writes $writes $(awk -v w="$writes" -v d="$dur" 'BEGIN { printf "%d", w / (d / 1e6) }')"
}

print_table() {
	awk '$1 == "writes" { next }
		{ rows[NR] = $0; t[$3] += $4; all += $4 }
		END {
		printf "| process | node | role | CPU us per write |\n|---|---|---|---|\n"
		for (i = 1; i <= NR; i++) if (i in rows) { split(rows[i], f, " ")
			printf "| %s | %s | %s | %.1f |\n", f[2], f[1], f[3], f[4] }
		printf "| all nine | | | %.1f |\n", all }' "$1"
}

echo "cpu_per_write: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), wrk PUT $CLIENTS clients to $NODES_LOAD nodes, $VALUE-byte values, $SECS s x $REPS runs"
env "${CLUSTER_ENV[@]}" tools/cluster.sh up >/dev/null || die "the cluster did not start"
BENCH_OP=fill run_wrk fill 4 3 >/dev/null
for rep in $(seq 1 "$REPS"); do
	one_run >"$work/run.$rep"
	echo
	echo "run $rep: $(grep '^writes' "$work/run.$rep" | awk '{ print $3 }') writes/s"
	print_table "$work/run.$rep"
done
[ "$REPS" -gt 1 ] || exit 0
# The median of each row's figure (and of writes/s) over the runs.
echo
cat "$work"/run.* | awk '{ k = $1 " " $2 " " $3; if ($1 == "writes") k = "writes";
	v[k] = v[k] " " ($1 == "writes" ? $3 : $4); if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
	END { for (i = 1; i <= n; i++) { k = order[i]; c = split(substr(v[k], 2), a, " ")
		for (x = 1; x <= c; x++) for (y = x + 1; y <= c; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
		m = (c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2)
		if (k == "writes") printf "writes 0 %d\n", m; else printf "%s %s\n", k, m } }' \
	>"$work/median"
echo "median of $REPS runs: $(awk '$1 == "writes" { print $3 }' "$work/median") writes/s"
print_table "$work/median"
