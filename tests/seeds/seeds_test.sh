#!/usr/bin/env bash
# seeds_test.sh BIN_DIR - the README sessions of the three seed projects
# (docs/api.md "The seed projects' routes"), run with curl against a real
# 3-node cluster on loopback. Each step says which session line it replays;
# answers are compared byte for byte where a session shows one, with this
# cluster's term and addresses in place of the seed's. The one intended
# difference: a write sent to a follower is forwarded to the leader and
# succeeds, where the seeds refused it.
set -u
BIN=${1:?usage: seeds_test.sh BIN_DIR}
TAG=seeds-test
# shellcheck source=tests/seeds/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"

for i in 1 2 3; do start_node $i; done
wait_ready 1 2 3
L=0
for _ in $(seq 50); do
	L=$(leader_of 1)
	[ "$L" != 0 ] && [ "$(leader_of 2)" = "$L" ] && [ "$(leader_of 3)" = "$L" ] && break
	sleep 0.1
done
[ "$L" != 0 ] || fail "no leader"
F=$((L % 3 + 1)) # a follower; the sessions' raft-01 is the leader, raft-02 a follower
J='Content-Type: application/json'

echo "--- seed 1 (Go Raft on minikube): /state, /operate_data, /get_all_data"
TERM_NOW=$(curl -s "$(url $F)/v1/status" | jq -r .term)
req "$(url $F)/state"
expect "curl raft-02/state" "{\"state\":\"follower\",\"term\":$TERM_NOW,\"leader\":\"$(hostport $L)\"}" "$BODY"
req "$(url $L)/state"
expect "curl raft-01/state" "{\"state\":\"leader\",\"term\":$TERM_NOW,\"leader\":\"$(hostport $L)\"}" "$BODY"
req -XPOST "$(url $L)/operate_data" -H "$J" -d '{"key": "key-1", "value": "value-1", "action":"add"}'
expect "add key-1 on the leader: status" 200 "$STATUS"
expect "add key-1 on the leader: body (none, as in the session)" "" "$BODY"
req -XPOST "$(url $F)/operate_data" -H "$J" -d '{"key": "key-2", "value": "value-2", "action":"add"}'
expect "add key-2 on a follower: forwarded, not refused" 200 "$STATUS"
req "$(url $F)/get_all_data"
expect "get_all_data on a follower (key-2 forwarded)" '{"data":"map[key-1:value-1 key-2:value-2]"}' "$BODY"
req -XPOST "$(url $L)/operate_data" -H "$J" -d '{"key": "key-1", "action":"del"}'
expect "del key-1 on the leader" 200 "$STATUS"
req -XPOST "$(url $F)/operate_data" -H "$J" -d '{"key": "key-2", "action":"del"}'
expect "del key-2 on a follower (forwarded)" 200 "$STATUS"
req "$(url $F)/get_all_data"
expect "get_all_data on a follower, as the session ends" '{"data":"map[]"}' "$BODY"
req -XPOST "$(url $F)/operate_data" -H "$J" -d '{"key": "k", "action":"upsert"}'
expect "an unknown action: status" 400 "$STATUS"
expect "an unknown action: code" invalid_argument "$(err_code)"
req -XPOST "$(url $F)/operate_data" -H "$J" -d '{"key": "k", '
expect "a broken body: code" invalid_json "$(err_code)"
req -XPOST "$(url $L)/operate_data" -H "$J" -d '{"key":"a<b&c","value":"x>y","action":"add"}'
req "$(url $F)/get_all_data"
expect "get_all_data escapes as Go does" '{"data":"map[a\u003cb\u0026c:x\u003ey]"}' "$BODY"
req -XPOST "$(url $L)/operate_data" -H "$J" -d '{"key":"a<b&c","action":"del"}'

echo "--- seed 2 (hashicorp/raft raft-kv-example): /keys/<key>/"
req "$(url 1)/keys/some-key/"
expect "Get value (empty, we don't have anything yet)" '{"value":""}' "$BODY"
req "$(url 1)/keys/some-key/" -H 'Content-Type: application/json' -d '{"value": "some-value"}'
expect "Set value (saved)" '{"value":"some-value"}' "$BODY"
req "$(url 1)/keys/some-key/"
expect "Get value again (hooray!)" '{"value":"some-value"}' "$BODY"
for i in 1 2 3; do
	req "$(url $i)/keys/some-key/"
	expect "Get value on node $i" '{"value":"some-value"}' "$BODY"
done
req "$(url 1)/v1/kv/some-key"
expect "the same key through /v1/kv" "some-value" "$BODY"
echo "Try to stop the leader node (node $L), see how they elect a new leader"
stop_node $L
for _ in $(seq 100); do
	NL=$(leader_of $F)
	[ "$NL" != 0 ] && [ "$NL" != "$L" ] && break
	sleep 0.1
done
[ "$NL" != 0 ] && [ "$NL" != "$L" ] || fail "no new leader after stopping node $L"
ok "node $NL leads after node $L stopped"
for _ in $(seq 50); do
	req "$(url $F)/state"
	[ "$(jq -r .leader "$DIR/body")" = "$(hostport $NL)" ] && break
	sleep 0.1
done
expect "/state on node $F names the new leader" "$(hostport $NL)" "$(jq -r .leader "$DIR/body")"
req "$(url $F)/keys/some-key/"
expect "Get value after the election" '{"value":"some-value"}' "$BODY"
req "$(url $F)/keys/other-key/" -H "$J" -d '{"value": "written after the election"}'
expect "Set value after the election" '{"value":"written after the election"}' "$BODY"

echo "--- seed 3 (yusufsyaifudin/raft-sample): /store, /store/<key>"
# the session's /raft/join steps: this cluster is formed already (--peers), and a join of a
# member at its own address succeeds as hashicorp/raft's AddVoter does; the session's
# localhost:2221 is the leader (node $NL now), its 127.0.0.1:1112 and :1113 the other
# nodes' raft addresses (one of them stopped above: still a member)
for i in 1 2 3; do
	[ $i = "$NL" ] && continue
	req --location --request POST "$(url $NL)/raft/join" --header 'Content-Type: application/json' \
		--data-raw "{
	\"node_id\": \"node_$i\", 
	\"raft_address\": \"127.0.0.1:$((BASE + 10 + i))\"
}"
	expect "raft/join of node_$i: status" 200 "$STATUS"
	expect "raft/join of node_$i: message" "node node_$i at 127.0.0.1:$((BASE + 10 + i)) joined successfully" \
		"$(jq -r .message "$DIR/body")"
done
req "$(url $F)/raft/stats"
if [ "$STATUS" = 404 ]; then
	echo "skip: GET /raft/stats answers 404 on this build (the membership routes)"
else
	expect "GET /raft/stats on a follower" 200 "$STATUS"
fi
req --location --request POST "$(url $NL)/store" --header 'Content-Type: application/json' \
	--data-raw '{
	"key": "key",
	"value": "value"
}'
expect "store on the leader" '{"data":{"key":"key","value":"value"},"message":"success persisting data"}\n' "$BODY"
for i in $NL $F; do
	req --location --request GET "$(url $i)/store/key"
	expect "get on node $i" '{"data":{"key":"key","value":"value"},"message":"success fetching data"}\n' "$BODY"
done
req --location --request POST "$(url $F)/store" --header "$J" --data-raw '{"key":" obj ","value":{"n":[1,2]}}'
expect "store a JSON value on a follower (forwarded; key trimmed)" '{"data":{"key":"obj","value":{"n":[1,2]}},"message":"success persisting data"}\n' "$BODY"
req "$(url $NL)/store/obj"
expect "get the JSON value" '{"data":{"key":"obj","value":{"n":[1,2]}},"message":"success fetching data"}\n' "$BODY"
req --location --request DELETE "$(url $NL)/store/key"
expect "delete on the leader" '{"data":{"key":"key","value":null},"message":"success removing data"}\n' "$BODY"
req --location --request GET "$(url $F)/store/key"
expect "get after delete: status" 404 "$STATUS"
expect "get after delete: code" key_not_found "$(err_code)"
req --request DELETE "$(url $F)/store/obj"
expect "delete on a follower (forwarded)" '{"data":{"key":"obj","value":null},"message":"success removing data"}\n' "$BODY"
req --request POST "$(url $F)/store" --header "$J" --data-raw '{"key":"  ","value":1}'
expect "an empty key: status" 400 "$STATUS"

echo "--- with tokens (--auth-file): the rows' permissions; keys in a body need a token without a prefix"
for i in 1 2 3; do [ -n "${NODE_PIDS[$i]:-}" ] && stop_node $i; done
rm -rf "$DIR"/n*
cat >"$DIR/tokens" <<'TOK'
seeds-admin-token-00000001 admin
seeds-read-token-000000001 read
seeds-app-token-0000000001 write app/
seeds-dir-token-0000000001 write app/dir/
TOK
chmod 600 "$DIR/tokens"
GW_FLAGS="--auth-file $DIR/tokens"
for i in 1 2 3; do start_node $i; done
wait_ready 1 2 3
ADMIN='Authorization: Bearer seeds-admin-token-00000001'
READ='Authorization: Bearer seeds-read-token-000000001'
APP='Authorization: Bearer seeds-app-token-0000000001'
req "$(url 1)/state"
expect "GET /state without a token" 401 "$STATUS"
for _ in $(seq 50); do
	req -H "$READ" "$(url 1)/state"
	[ "$STATUS" = 200 ] && break
	sleep 0.1
done
expect "GET /state with a read token" 200 "$STATUS"
req -H "$READ" -XPOST "$(url 1)/keys/app/x/" -d '{"value":"v"}'
expect "POST /keys/ with a read token" 403 "$STATUS"
req -H "$APP" -XPOST "$(url 1)/keys/app/x/" -d '{"value":"v"}'
expect "POST /keys/app/x/ with a token for app/" '{"value":"v"}' "$BODY"
req -H "$APP" -XPOST "$(url 1)/keys/other/" -d '{"value":"v"}'
expect "POST /keys/other/ with a token for app/" 403 "$STATUS"
req -H 'Authorization: Bearer seeds-dir-token-0000000001' -XPOST "$(url 1)/keys/app/dir/" -d '{"value":"v"}'
expect "POST /keys/app/dir/ (the key app/dir) with a token for app/dir/" 403 "$STATUS"
req -H "$APP" -XPOST "$(url 1)/operate_data?prefix=app/" -d '{"key":"other/y","value":"v","action":"add"}'
expect "POST /operate_data (key in the body) with a token for app/" 403 "$STATUS"
req -H "$APP" -XPOST "$(url 1)/operate_data" -d '{"key":"app/y","value":"v","action":"add"}'
expect "POST /operate_data of app/y with a token for app/" 200 "$STATUS"
req -H "$APP" -XPOST "$(url 1)/store?prefix=app/" -d '{"key":"other/z","value":"v"}'
expect "POST /store (key in the body) with a token for app/" 403 "$STATUS"
req -H "$APP" "$(url 1)/get_all_data?prefix=app/"
expect "GET /get_all_data (every key) with a token for app/" 403 "$STATUS"
req -H "$ADMIN" -XPOST "$(url 2)/operate_data" -d '{"key":"zz","value":"v","action":"add"}'
expect "POST /operate_data with a token without a prefix" 200 "$STATUS"
req -H "$READ" "$(url 3)/get_all_data"
expect "GET /get_all_data with a read token (nothing outside app/ but zz was written)" \
	'{"data":"map[app/x:v app/y:v zz:v]"}' "$BODY"

echo "seeds-test: $CHECKS checks passed"
