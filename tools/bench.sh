#!/usr/bin/env bash
# bench.sh - raftkv against Debian's etcd-server 3.4 on this machine, under the
# same load (tools/bench, HTTP, spread over all three nodes of each cluster).
# Prints one line per run and the raftkv/etcd ratio per load. Both clusters
# run on loopback with their data in one temporary directory on the same disk.
#
# env: BENCH_SECONDS (default 10), BENCH_CLIENTS (default "16 64"),
#      BENCH_OPS (default "put get get-stale"), BUILD (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-"16 64"}
OPS=${BENCH_OPS:-"put get get-stale"}
GO=$(command -v go || echo /usr/local/go/bin/go)
work=$(mktemp -d /tmp/raftkv-bench.XXXXXX)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	BIN_DIR="$BUILD" HTTP_PORT_BASE=24000 RAFT_PORT_BASE=27000 BASE_DIR="$work/raftkv" tools/cluster.sh down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "bench: building the load generator"
(cd tools/bench && "$GO" build -o "$work/raftkv-bench" .)

start_etcd() {
	local cluster="e1=http://127.0.0.1:22381,e2=http://127.0.0.1:22382,e3=http://127.0.0.1:22383"
	for i in 1 2 3; do
		etcd --name "e$i" --data-dir "$work/etcd$i" \
			--listen-client-urls "http://127.0.0.1:2237$i" --advertise-client-urls "http://127.0.0.1:2237$i" \
			--listen-peer-urls "http://127.0.0.1:2238$i" --initial-advertise-peer-urls "http://127.0.0.1:2238$i" \
			--initial-cluster "$cluster" --initial-cluster-state new --log-level error \
			>"$work/etcd$i.log" 2>&1 &
		pids+=($!)
	done
	for i in $(seq 1 100); do
		curl -sf http://127.0.0.1:22371/health | grep -q true && return 0
		sleep 0.2
	done
	echo "bench: etcd did not become healthy; log:" >&2
	tail -20 "$work/etcd1.log" >&2
	return 1
}

echo "bench: starting etcd $(etcd --version | head -1 | awk '{print $3}') (3 nodes)"
start_etcd
echo "bench: starting raftkv (3 nodes)"
BIN_DIR="$BUILD" HTTP_PORT_BASE=24000 RAFT_PORT_BASE=27000 BASE_DIR="$work/raftkv" tools/cluster.sh up >/dev/null

raftkv_urls="http://127.0.0.1:24001,http://127.0.0.1:24002,http://127.0.0.1:24003"
etcd_urls="http://127.0.0.1:22371,http://127.0.0.1:22372,http://127.0.0.1:22373"
for op in $OPS; do
	for c in $CLIENTS; do
		r=$("$work/raftkv-bench" -target raftkv -urls "$raftkv_urls" -op "$op" -c "$c" -d "${SECONDS_PER_RUN}s")
		e=$("$work/raftkv-bench" -target etcd -urls "$etcd_urls" -op "$op" -c "$c" -d "${SECONDS_PER_RUN}s")
		echo "$r"
		echo "$e"
		rv=$(sed -n 's/.*ops_per_s=\([0-9]*\).*/\1/p' <<<"$r")
		ev=$(sed -n 's/.*ops_per_s=\([0-9]*\).*/\1/p' <<<"$e")
		awk -v op="$op" -v c="$c" -v r="$rv" -v e="$ev" \
			'BEGIN { printf "ratio op=%s clients=%s raftkv/etcd=%.2f\n", op, c, (e > 0 ? r / e : 0) }'
	done
done
