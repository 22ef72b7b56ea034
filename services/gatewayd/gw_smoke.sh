#!/usr/bin/env bash
# gw_smoke.sh BIN_DIR - every endpoint of docs/api.md through a real 3-node cluster
# (storaged, raftd, gatewayd per node, started by tests/seeds/cluster_lib.sh on free
# loopback ports). Each check prints what it checked; the first mismatch fails the
# script. Everything it starts is killed by pid on exit (GW_SMOKE_KEEP=1 keeps the
# logs); it runs in about 10 s.
set -u
BIN=${1:?usage: gw_smoke.sh BIN_DIR}
TAG=gw-smoke
KEEP=${GW_SMOKE_KEEP:-}
# shellcheck source=tests/seeds/cluster_lib.sh
. "$(dirname "$0")/../../tests/seeds/cluster_lib.sh"

for i in 1 2 3; do start_node $i; done
# every node ready within 15 s
wait_ready 1 2 3
for i in 1 2 3; do
	req "$(url $i)/readyz"
	expect "node $i /readyz" 200 "$STATUS"
done
req "$(url 1)/livez"
expect "/livez" 200 "$STATUS"

req "$(url 1)/v1/status"
L=$(jq_body -r '.leader.id')
F=$((L % 3 + 1))
expect "/v1/status leader url" "$(url $L)" "$(jq_body -r '.leader.url')"
expect "/v1/status members" 3 "$(jq_body '.members | length')"
expect "/v1/status fields" true "$(jq_body 'has("id") and has("role") and has("term") and has("commit_index") and has("applied_index")')"
req "$(url $L)/v1/status"
expect "leader's role" leader "$(jq_body -r .role)"

# a write through a follower is forwarded; the leader answers
req -X PUT --data-binary 'hello world' "$(url $F)/v1/kv/smoke/a"
expect "PUT via follower" 200 "$STATUS"
expect "PUT X-Served-By (the leader answered)" "$L" "$(hdr x-served-by)"
expect "PUT X-Raft-Leader" "$L" "$(hdr x-raft-leader)"
MOD=$(jq_body .mod_index)
expect "PUT body key" smoke/a "$(jq_body -r .key)"
expect "PUT X-Raft-Index = mod_index" "$MOD" "$(hdr x-raft-index)"

for i in 1 2 3; do
	req "$(url $i)/v1/kv/smoke/a"
	expect "GET on node $i" "200 hello world" "$STATUS $BODY"
	expect "ETag on node $i" "\"$MOD\"" "$(hdr etag)"
	expect "X-Served-By on node $i" "$i" "$(hdr x-served-by)"
done
req "$(url $F)/v1/kv/smoke/a?consistency=stale"
expect "stale GET" 200 "$STATUS"
[ -n "$(hdr x-mod-index)" ] && [ -n "$(hdr x-create-index)" ] && [ -n "$(hdr x-raft-term)" ] ||
	fail "X-Mod-Index, X-Create-Index, X-Raft-Term missing"
ok "X-Mod-Index, X-Create-Index, X-Raft-Term present"

# conditions
req -X PUT -H 'If-Match: "1"' -d x "$(url $F)/v1/kv/smoke/a"
expect "If-Match stale" "412 condition_failed" "$STATUS $(jq_body -r .error.code)"
req -X PUT -H "If-Match: \"$MOD\"" -d v2 "$(url $F)/v1/kv/smoke/a"
expect "If-Match current" 200 "$STATUS"
req -X PUT -H 'If-None-Match: *' -d x "$(url $L)/v1/kv/smoke/a"
expect "If-None-Match on an existing key" 412 "$STATUS"
req -X PUT -H 'If-Match: nonsense' -d x "$(url $L)/v1/kv/smoke/a"
expect "bad If-Match" 400 "$STATUS"

# idempotency: the retry gets the original answer
req -X PUT -H 'Idempotency-Key: smoke-1' -d one "$(url $F)/v1/kv/smoke/idem"
FIRST=$BODY
req -X PUT -H 'Idempotency-Key: smoke-1' -d two "$(url $L)/v1/kv/smoke/idem"
expect "retried write's answer" "$FIRST" "$BODY"
req "$(url $L)/v1/kv/smoke/idem"
expect "value after the retry" one "$BODY"

# delete
req -X DELETE "$(url $F)/v1/kv/smoke/idem"
expect "DELETE" 200 "$STATUS"
req -X DELETE "$(url $F)/v1/kv/smoke/idem"
expect "DELETE again" "404 key_not_found" "$STATUS $(jq_body -r .error.code)"
req "$(url $F)/v1/kv/smoke/idem"
expect "GET deleted" 404 "$STATUS"

# odd keys round-trip; JSON stays valid
req -X PUT -d zero "$(url $L)/v1/kv/smoke/z%00z"
expect "key with %00" "200 smoke/z\\u0000z" "$STATUS $(jq_body -c .key | tr -d '"')"
req -X PUT --data-binary $'\xff' "$(url $L)/v1/kv/smoke/%ff"
expect "invalid UTF-8 key answers base64" "base64 c21va2Uv/w==" "$(jq_body -r '.encoding + " " + .key')"

# list: pages, encodings
for k in b c d e; do req -X PUT -d "v$k" "$(url $L)/v1/kv/smoke/$k"; done
req "$(url $F)/v1/kv?prefix=smoke/&limit=2"
expect "list page 1" "2 true" "$(jq_body -r '(.items | length | tostring) + " " + (.more | tostring)')"
NEXT=$(jq_body -r .next)
req "$(url $F)/v1/kv?prefix=smoke/&limit=2&after=$(jq -rn --arg v "$NEXT" '$v|@uri')"
expect "list page 2 starts after page 1 (a, b)" "smoke/b smoke/c" "$NEXT $(jq_body -r '.items[0].key')"
req "$(url $F)/v1/kv?prefix=smoke/&limit=100"
expect "invalid UTF-8 item is base64" "base64" "$(jq_body -r '.items[] | select(.value == "/w==") | .encoding')"
req "$(url $F)/v1/kv?prefix=smoke/b&encoding=base64"
expect "?encoding=base64" "c21va2UvYg== dmI=" "$(jq_body -r '.items[0].key + " " + .items[0].value')"

# limits and errors
head -c $((1048576 + 1)) /dev/zero >"$DIR/big"
req -X PUT --data-binary @"$DIR/big" "$(url $F)/v1/kv/smoke/big"
expect "value one byte over 1 MiB" "413 1048576" "$STATUS $(jq_body .error.limit)"
req -X POST -d x "$(url $F)/v1/kv/smoke/a"
expect "POST on a key" "405 get, head, put, delete" "$STATUS $(hdr allow)"
req "$(url $F)/v1/kv/a%zz"
expect "bad escape" 400 "$STATUS"
req "$(url $F)/v1/kv/$(head -c 512 /dev/zero | tr '\0' k)"
expect "512-byte key" 400 "$STATUS"
req "$(url $F)/v1/kv?limit=1001"
expect "limit over the max" "400 1000" "$STATUS $(jq_body .error.limit)"
req "$(url $F)/v1/kv/a?timeout=0"
expect "timeout 0" 400 "$STATUS"
req "$(url $F)/v1/kv/a?consistency=maybe"
expect "bad consistency" 400 "$STATUS"
req "$(url $F)/v1/kv/$(head -c 9000 /dev/zero | tr '\0' u)"
expect "9 KB URL" 414 "$STATUS"
req -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' b)" "$(url $F)/livez"
expect "20 KB header" 431 "$STATUS"
req "$(url $F)/nope"
expect "unknown path" 404 "$STATUS"
[ "$(jq_body -r '.error | has("code") and has("message")')" = true ] || fail "error body shape: $BODY"
ok "error body has code and message"

# transactions and leases (docs/api.md "Transactions", "Leases")
req -X POST -d '{"compare":[{"key":"smoke/t","exists":false}],"success":[{"op":"put","key":"smoke/t","value":"1"},{"op":"get","key":"smoke/t"}]}' "$(url $F)/v1/txn"
expect "txn via follower" "200 true 1" "$STATUS $(jq_body -r '.succeeded, .results[1].value' | tr '\n' ' ' | sed 's/ $//')"
req -X POST -d '{"compare":[{"key":"smoke/t","exists":false}],"failure":[{"op":"get","key":"smoke/t"}]}' "$(url $F)/v1/txn"
expect "txn failure branch" "200 false" "$STATUS $(jq_body -r .succeeded)"
req -X POST -d '{"success":[{"op":"put","key":"smoke/t"}]}' "$(url $F)/v1/txn"
expect "txn put without value" "400 success[0].value" "$STATUS $(jq_body -r .error.param)"
req -X POST -d '{"ttl_ms":5000}' "$(url $F)/v1/leases"
LEASE=$(jq_body -r .id)
expect "lease grant" "200 5000" "$STATUS $(jq_body -r .ttl_ms)"
req -X PUT -d here "$(url $F)/v1/kv/smoke/eph?lease=$LEASE"
expect "PUT with a lease" "200 $LEASE" "$STATUS $(jq_body -r .lease)"
req -X PUT "$(url $F)/v1/leases/$LEASE/keepalive"
expect "lease keepalive" "200 5000" "$STATUS $(jq_body -r .remaining_ms)"
req "$(url $L)/v1/leases/$LEASE"
expect "lease lookup" "200 smoke/eph" "$STATUS $(jq_body -r '.keys[0]')"
req -X DELETE "$(url $F)/v1/leases/$LEASE"
expect "lease revoke" "200 1" "$STATUS $(jq_body -r .keys_deleted)"
req "$(url $F)/v1/kv/smoke/eph"
expect "lease key gone with it" 404 "$STATUS"
req -X PUT "$(url $F)/v1/leases/$LEASE/keepalive"
expect "keepalive of a revoked lease" "404 lease_not_found" "$STATUS $(jq_body -r .error.code)"
req -X POST -d '{"ttl_ms":10}' "$(url $F)/v1/leases"
expect "lease TTL under the bound" "400 2000" "$STATUS $(jq_body -r .error.limit)"

# metrics: valid exposition with the names of the brief
curl -s "$(url $F)/metrics" >"$DIR/metrics"
promtool check metrics <"$DIR/metrics" >"$DIR/promtool.out" 2>&1 || fail "promtool: $(cat "$DIR/promtool.out")"
ok "promtool check metrics"
for m in raftkv_http_requests_total raftkv_http_request_duration_seconds_bucket raftkv_raft_term \
	raftkv_raft_role raftkv_raft_commit_index raftkv_raft_applied_index raftkv_wal_fsyncs_total \
	raftkv_wal_fsync_seconds_total raftkv_wal_fsync_seconds_max raftkv_forwarded_requests_total \
	raftkv_lmdb_map_bytes raftkv_lmdb_used_bytes raftkv_inflight_requests \
	raftkv_peer_messages_dropped_total; do
	grep -q "^$m" "$DIR/metrics" || fail "metric $m missing"
done
ok "all 14 metric names present"
FWD=$(sed -n 's/^raftkv_forwarded_requests_total //p' "$DIR/metrics")
[ "$FWD" -ge 1 ] || fail "forwarded count $FWD"
ok "forwarded writes counted ($FWD)"
# the gateways run with --local-reads (tests/seeds/cluster_lib.sh): F's stale GET was its own
LOCAL=$(sed -n 's/^raftkv_local_reads_total //p' "$DIR/metrics")
[ "${LOCAL:-0}" -ge 1 ] || fail "local reads count ${LOCAL:-none}"
ok "GETs answered from the node's LMDB counted ($LOCAL)"

echo "gw_smoke: $CHECKS checks passed"
