#!/usr/bin/env bash
# bench.sh - raftkv against Debian's etcd-server 3.4 on this machine, under the
# same load. The load comes from wrk (C, epoll, Lua scripts in tools/bench/),
# which costs the machine far less CPU than the servers it measures. Both
# clusters have 3 nodes on loopback with their data in one temporary
# directory on the same disk, fsync on.
#
# Each load runs BENCH_REPS times per system; the order of the two systems
# alternates between repetitions (raftkv first, then etcd first, ...) so that
# neither always runs on a warmer or cooler machine. The table shows the run
# with the median throughput (the mean of the middle two for an even count).
#
# Loads ending in -tls compare raftkv with itself instead: the plaintext cluster
# against a second one started like `SECURE=1 tools/cluster.sh up` (HTTPS with
# keep-alive, tokens checked on every request, gateways forwarding over
# https://), alternating the same way, and print the TLS/plaintext ratio.
# Loads ending in -tlsonly do the same against a third cluster with TLS alone
# (`SECURE=tls`: HTTPS and https:// forwarding, no tokens, no Curve).
#
# env: BENCH_SECONDS (default 10), BENCH_REPS (default 2),
#      BENCH_LOADS (default: every load below), BENCH_KEYS (default 1000),
#      BUILD (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
REPS=${BENCH_REPS:-2}
export BENCH_KEYS=${BENCH_KEYS:-1000}
export BENCH_LUA_DIR=$PWD/tools/bench

# name        op        clients  nodes      value bytes
LOAD_TABLE="
put-1         put       1        leader     64
put-16        put       16       leader     64
put-63        put       63       all        64
put-255       put       255      all        64
put-fwd-63    put       63       followers  64
put-4k-63     put       63       all        4096
get-63        get       63       all        64
get-255       get       255      all        64
stale-63      get-stale 63       all        64
stale-255     get-stale 255      all        64
put-63-tls    put       63       all        64
get-63-tls    get       63       all        64
put-63-tlsonly put      63       all        64
get-63-tlsonly get      63       all        64"
LOADS=${BENCH_LOADS:-$(awk 'NF { print $1 }' <<<"$LOAD_TABLE" | tr '\n' ' ')}

work=$(mktemp -d /tmp/raftkv-bench.XXXXXX)
etcd_pids=()
# Ports: above the cluster tests' 20000-30000 (harness_test.go) and below the kernel's
# ephemeral ports (32768 and up), which outgoing connections may hold at any time.
RK_HTTP=30400 RK_RAFT=30410               # raftkv
RKTLS_HTTP=30420 RKTLS_RAFT=30430         # raftkv, everything on (SECURE=1)
RKTLSONLY_HTTP=30440 RKTLSONLY_RAFT=30450 # raftkv, TLS alone (SECURE=tls)
ETCD_CLIENT=30460 ETCD_PEER=30470         # etcd node i: client ETCD_CLIENT+i, peer ETCD_PEER+i
RAFTKV_ENV=(BIN_DIR="$BUILD" HTTP_PORT_BASE=$RK_HTTP RAFT_PORT_BASE=$RK_RAFT BASE_DIR="$work/raftkv")
TLS_ENV=(BIN_DIR="$BUILD" HTTP_PORT_BASE=$RKTLS_HTTP RAFT_PORT_BASE=$RKTLS_RAFT BASE_DIR="$work/rktls" SECURE=1)
TLS_SECRETS=$work/rktls/secrets
TLSONLY_ENV=(BIN_DIR="$BUILD" HTTP_PORT_BASE=$RKTLSONLY_HTTP RAFT_PORT_BASE=$RKTLSONLY_RAFT BASE_DIR="$work/rktlsonly" SECURE=tls)
TLSONLY_SECRETS=$work/rktlsonly/secrets
want_tls=0 want_tlsonly=0 want_etcd=0
for l in $LOADS; do
	case $l in *-tls) want_tls=1 ;; *-tlsonly) want_tlsonly=1 ;; *) want_etcd=1 ;; esac
done

# The systems a load compares (the first is the reference of the ratio column).
systems_of() {
	case $1 in
	*-tls) echo "raftkv raftkv-tls" ;;
	*-tlsonly) echo "raftkv raftkv-tlsonly" ;;
	*) echo "etcd raftkv" ;;
	esac
}
# The directory under $work whose path each process of a system carries.
sys_dir() { case $1 in raftkv-tls) echo rktls ;; raftkv-tlsonly) echo rktlsonly ;; *) echo "$1" ;; esac; }
tls_curl() { curl -sf --cacert "$TLS_SECRETS/ca.crt" -H "@$TLS_SECRETS/curl-admin.header" "$@"; }

die() { echo "bench: $*" >&2; exit 1; }

cleanup() {
	for p in "${etcd_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	env "${RAFTKV_ENV[@]}" tools/cluster.sh down >/dev/null 2>&1 || true
	[ "$want_tls" = 0 ] || env "${TLS_ENV[@]}" tools/cluster.sh down >/dev/null 2>&1 || true
	[ "$want_tlsonly" = 0 ] || env "${TLSONLY_ENV[@]}" tools/cluster.sh down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

start_etcd() {
	local cluster="" i
	for i in 1 2 3; do cluster+="${cluster:+,}e$i=http://127.0.0.1:$((ETCD_PEER + i))"; done
	for i in 1 2 3; do
		local client="http://127.0.0.1:$((ETCD_CLIENT + i))" peer="http://127.0.0.1:$((ETCD_PEER + i))"
		etcd --name "e$i" --data-dir "$work/etcd/$i" \
			--listen-client-urls "$client" --advertise-client-urls "$client" \
			--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
			--initial-cluster "$cluster" --initial-cluster-state new --log-level error \
			>"$work/etcd$i.log" 2>&1 &
		etcd_pids+=($!)
	done
	for i in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$((ETCD_CLIENT + 1))/health" | grep -q true && return 0
		sleep 0.2
	done
	tail -20 "$work/etcd1.log" >&2
	die "etcd did not become healthy (its log is above)"
}

# The node number (1..3) of each system's leader.
raftkv_leader() { curl -sf "http://127.0.0.1:$((RK_HTTP + 1))/v1/status" | jq -r .leader.id; }
raftkv_tls_leader() { tls_curl "https://127.0.0.1:$((RKTLS_HTTP + 1))/v1/status" | jq -r .leader.id; }
raftkv_tlsonly_leader() {
	curl -sf --cacert "$TLSONLY_SECRETS/ca.crt" "https://127.0.0.1:$((RKTLSONLY_HTTP + 1))/v1/status" | jq -r .leader.id
}
etcd_leader() {
	local i s
	for i in 1 2 3; do
		s=$(curl -sf -XPOST "http://127.0.0.1:$((ETCD_CLIENT + i))/v3/maintenance/status" -d '{}')
		[ "$(jq -r .header.member_id <<<"$s")" = "$(jq -r .leader <<<"$s")" ] && { echo "$i"; return; }
	done
	die "etcd has no leader"
}

# host:port list of the nodes a load talks to: leader, followers or all.
addrs() {
	local sys=$1 which=$2 base leader i out=""
	case $sys in
	raftkv) base=$RK_HTTP leader=$(raftkv_leader) ;;
	raftkv-tls) base=$RKTLS_HTTP leader=$(raftkv_tls_leader) ;;
	raftkv-tlsonly) base=$RKTLSONLY_HTTP leader=$(raftkv_tlsonly_leader) ;;
	*) base=$ETCD_CLIENT leader=$(etcd_leader) ;;
	esac
	for i in 1 2 3; do
		case $which in
		leader) [ "$i" = "$leader" ] || continue ;;
		followers) [ "$i" != "$leader" ] || continue ;;
		esac
		out+="${out:+,}127.0.0.1:$((base + i))"
	done
	echo "$out"
}

# CPU ticks (user + system) used so far by the processes of a system: prints
# "all gatewayd raftd storaged" (etcd's are all in the first).
cpu_ticks() {
	local pattern=$work/$(sys_dir "$1")/ pid
	for pid in $(pgrep -f -- "$pattern"); do
		awk '{ print $14 + $15, $2 }' "/proc/$pid/stat" 2>/dev/null || true
	done | awk '{ all += $1; role[$2] += $1 }
		END { printf "%d %d %d %d\n", all, role["(gatewayd)"], role["(raftd)"], role["(storaged)"] }'
}

# Runs wrk once: run_wrk SYSTEM OP CLIENTS NODES VALUE_BYTES SECONDS.
# Prints "ops_per_s p50_us p99_us p999_us cpu_cores errors gw_us raftd_us storaged_us
# wrk_us": the servers' CPU in cores, then CPU microseconds per request of all
# gateways, all raftds, all storageds (0 for etcd) and of wrk itself (its TLS
# work included), which the machine's other load disturbs far less than ops/s.
run_wrk() {
	local sys=$1 op=$2 clients=$3 nodes=$4 value=$5 secs=$6 a threads t0 t1 out
	local script=$sys scheme=http token=""
	if [ "$sys" = raftkv-tls ]; then
		script=raftkv scheme=https
		token=$(awk '$2 == "write" { print $1; exit }' "$TLS_SECRETS/tokens.txt")
	elif [ "$sys" = raftkv-tlsonly ]; then
		script=raftkv scheme=https
	fi
	a=$(addrs "$sys" "$nodes")
	threads=$(tr ',' '\n' <<<"$a" | wc -l)
	[ "$clients" -ge "$threads" ] || threads=$clients
	t0=$(cpu_ticks "$sys")
	# the subshell's children's CPU (fields 16 and 17 of its stat) is wrk's, once reaped
	out=$(BENCH_ADDRS=$a BENCH_OP=$op BENCH_VALUE=$value BENCH_TOKEN=$token wrk -t "$threads" \
		-c "$clients" -d "${secs}s" --timeout 10s -s "tools/bench/$script.lua" \
		"$scheme://${a%%,*}/" 2>&1 && read -r -a st </proc/$BASHPID/stat &&
		echo "wrk_ticks $((st[15] + st[16]))") ||
		die "wrk failed against $sys: $out"
	t1=$(cpu_ticks "$sys")
	awk -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" '
		BEGIN { split(t0, a, " "); split(t1, b, " "); for (i = 1; i <= 4; i++) d[i] = b[i] - a[i] }
		/^wrk_ticks / { wrk = $2 }
		/^result / { for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] } }
		END {
		s = r["duration_us"] / 1e6
		us = (r["requests"] > 0 ? 1e6 / hz / r["requests"] : 0)
		printf "%d %d %d %d %.2f %d %.1f %.1f %.1f %.1f\n", r["requests"] / s, r["p50_us"],
			r["p99_us"], r["p999_us"], d[1] / hz / s, r["errors"] + r["status_errors"],
			d[2] * us, d[3] * us, d[4] * us, wrk * us }' <<<"$out"
}

load_field() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' <<<"$LOAD_TABLE"; }

# Writes every key once on both systems so that reads find them.
fill() {
	local sys
	[ "$want_etcd" = 0 ] || run_wrk etcd fill 4 leader 64 4 >/dev/null
	run_wrk raftkv fill 4 leader 64 4 >/dev/null
	[ "$want_tls" = 0 ] || run_wrk raftkv-tls fill 4 leader 64 4 >/dev/null
	[ "$want_tlsonly" = 0 ] || run_wrk raftkv-tlsonly fill 4 leader 64 4 >/dev/null
}

# The repetition with the median throughput, whole (its latency and CPU with it);
# with an even count, the mean of the two middle ones.
medians() {
	sort -n -k1,1 "$1" | awk '{ for (i = 1; i <= NF; i++) v[NR, i] = $i; n = NR; nf = NF }
		END { m = int((n + 1) / 2); for (i = 1; i <= nf; i++) printf "%s ", (n % 2 ? v[m, i] : (v[m, i] + v[m + 1, i]) / 2); print "" }'
}

command -v wrk >/dev/null || die "wrk is not installed (make bench installs it)"
echo "bench: $(nproc) cores, $(etcd --version 2>/dev/null | head -1), wrk $(wrk --version 2>&1 | awk 'NR == 1 { print $2 }'), $SECONDS_PER_RUN s per run, $REPS runs per system and load"
[ "$want_etcd" = 0 ] || start_etcd
env "${RAFTKV_ENV[@]}" tools/cluster.sh up >/dev/null || die "the raftkv cluster did not start"
if [ "$want_tls" = 1 ]; then
	BASE_DIR=$work/rktls tools/certs.sh >/dev/null
	env "${TLS_ENV[@]}" tools/cluster.sh up >/dev/null || die "the TLS raftkv cluster did not start"
fi
if [ "$want_tlsonly" = 1 ]; then
	BASE_DIR=$work/rktlsonly tools/certs.sh >/dev/null
	env "${TLSONLY_ENV[@]}" tools/cluster.sh up >/dev/null ||
		die "the TLS-only raftkv cluster did not start"
fi
fill
echo "bench: load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
for load in $LOADS; do
	op=$(load_field "$load" 2)
	[ -n "$op" ] || die "unknown load $load (known: $(awk 'NF { print $1 }' <<<"$LOAD_TABLE" | tr '\n' ' '))"
	for rep in $(seq 1 "$REPS"); do
		read -r s1 s2 <<<"$(systems_of "$load")"
		order="$s2 $s1"
		[ $((rep % 2)) -eq 0 ] && order="$s1 $s2"
		for sys in $order; do
			r=$(run_wrk "$sys" "$op" "$(load_field "$load" 3)" "$(load_field "$load" 4)" \
				"$(load_field "$load" 5)" "$SECONDS_PER_RUN")
			echo "run load=$load rep=$rep system=$sys ops_per_s p50_us p99_us p999_us cpu_cores errors = $r"
			echo "$r" >>"$work/$load.$sys"
		done
	done
done
echo "bench: load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

[ "$want_etcd" = 0 ] || {
echo
echo "| load | etcd ops/s | etcd p50 / p99 ms | etcd CPU cores | raftkv ops/s | raftkv p50 / p99 ms | raftkv CPU cores | raftkv/etcd |"
echo "|---|---|---|---|---|---|---|---|"
for load in $LOADS; do
	case $load in *-tls | *-tlsonly) continue ;; esac
	read -r eo ep50 ep99 _ ecpu eerr _ < <(medians "$work/$load.etcd")
	read -r ro rp50 rp99 _ rcpu rerr _ < <(medians "$work/$load.raftkv")
	awk -v l="$load" -v eo="$eo" -v ep50="$ep50" -v ep99="$ep99" -v ecpu="$ecpu" -v ro="$ro" \
		-v rp50="$rp50" -v rp99="$rp99" -v rcpu="$rcpu" -v err="$((${eerr%.*} + ${rerr%.*}))" 'BEGIN {
		printf "| %s | %d | %.2f / %.2f | %.2f | %d | %.2f / %.2f | %.2f | %.2f |%s\n", l, eo,
			ep50 / 1000, ep99 / 1000, ecpu, ro, rp50 / 1000, rp99 / 1000, rcpu,
			(eo > 0 ? ro / eo : 0), (err > 0 ? " (" err " errors)" : "") }'
done
}

[ "$want_tls$want_tlsonly" = 00 ] && exit 0
# CPU us per request: gatewayd+raftd+storaged (the servers) and wrk, plaintext against TLS
# (-tls: everything on; -tlsonly: TLS alone).
# "CPU ratio" is what the throughput ratio would be on a machine bound by CPU alone:
# plaintext's CPU per request over TLS's, with wrk's and without it (servers only).
echo
echo "| load | plaintext ops/s | plaintext p50 / p99 ms | TLS ops/s | TLS p50 / p99 ms | TLS CPU cores | TLS/plaintext | server us/op plain / TLS (gatewayd, raftd, storaged) | wrk us/op plain / TLS | CPU ratio with wrk / servers only |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for load in $LOADS; do
	case $load in *-tls) tsys=raftkv-tls ;; *-tlsonly) tsys=raftkv-tlsonly ;; *) continue ;; esac
	read -r po pp50 pp99 _ _ perr pg pr ps pw < <(medians "$work/$load.raftkv")
	read -r to tp50 tp99 _ tcpu terr tg tr ts tw < <(medians "$work/$load.$tsys")
	awk -v l="$load" -v po="$po" -v pp50="$pp50" -v pp99="$pp99" -v to="$to" -v tp50="$tp50" \
		-v tp99="$tp99" -v tcpu="$tcpu" -v err="$((${perr%.*} + ${terr%.*}))" \
		-v pg="$pg" -v pr="$pr" -v ps="$ps" -v pw="$pw" -v tg="$tg" -v tr="$tr" -v ts="$ts" \
		-v tw="$tw" 'BEGIN {
		psrv = pg + pr + ps; tsrv = tg + tr + ts
		printf "| %s | %d | %.2f / %.2f | %d | %.2f / %.2f | %.2f | %.2f | %.0f (%.0f, %.0f, %.0f) / %.0f (%.0f, %.0f, %.0f) | %.0f / %.0f | %.2f / %.2f |%s\n",
			l, po, pp50 / 1000, pp99 / 1000, to, tp50 / 1000, tp99 / 1000, tcpu,
			(po > 0 ? to / po : 0), psrv, pg, pr, ps, tsrv, tg, tr, ts, pw, tw,
			(tsrv + tw > 0 ? (psrv + pw) / (tsrv + tw) : 0), (tsrv > 0 ? psrv / tsrv : 0),
			(err > 0 ? " (" err " errors)" : "") }'
done
