#!/usr/bin/env bash
# ui_test.sh BIN_DIR UIDRIVER - the web dashboard (/ui/) in a real browser:
# headless Chromium, driven through the DevTools protocol by UIDRIVER
# (tests/seeds/uidriver), loads the page from a follower of a real 3-node
# cluster, checks the members table, puts a key through the page's form
# (then read back here through another node), pages through a prefix, and
# saves a screenshot to BIN_DIR/ui-dashboard.png. A 4th node, added as a
# learner through POST /v1/members, must show in the members table as a
# learner, and every row with the leader's view: match index and lag (the
# leader's last index minus the match), caught up, heard. Then the same with
# tokens (--auth-file): the page is open, its API calls carry the token typed
# into it. Also the status relay /ui/status?node= for a down and an unknown node.
set -u
BIN=${1:?usage: ui_test.sh BIN_DIR UIDRIVER}
DRIVER=${2:?usage: ui_test.sh BIN_DIR UIDRIVER}
TAG=ui-test
# shellcheck source=tests/seeds/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser) || fail "chromium is not installed (make deps)"

# wait_leader: sets L (the leader all three agree on) and F (a follower)
wait_leader() {
	L=0
	for _ in $(seq 100); do
		L=$(leader_of 1)
		[ "$L" != 0 ] && [ "$(leader_of 2)" = "$L" ] && [ "$(leader_of 3)" = "$L" ] && break
		sleep 0.1
	done
	[ "$L" != 0 ] || fail "no leader"
	F=$((L % 3 + 1))
}

# run_driver NAME [uidriver flags]: the browser checks, against the follower's /ui/
run_driver() {
	local name=$1
	shift
	rm -rf "$DIR/profile-$name"
	"$DRIVER" -chromium "$CHROMIUM" -url "$(url $F)/ui/" -profile "$DIR/profile-$name" \
		-shot "$BIN/ui-dashboard$name.png" -page-prefix page/ -page-total 25 "$@" ||
		fail "the dashboard in Chromium ($name)"
	[ "$(head -c 8 "$BIN/ui-dashboard$name.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
		fail "the screenshot is not a PNG"
	ok "screenshot $BIN/ui-dashboard$name.png ($(stat -c %s "$BIN/ui-dashboard$name.png") bytes)"
}

echo "--- plaintext, no tokens"
for i in 1 2 3; do start_node $i; done
wait_ready 1 2 3
wait_leader
for n in $(seq -w 1 25); do
	curl -s -o /dev/null -XPUT "$(url $L)/v1/kv/page/$n" -d "v$n" || fail "seeding page/$n"
done
# node 4: empty, the seeds' --peers, added as a learner (promote false: it stays one)
for o in 4 14; do port_taken $((BASE + o)) && fail "port $((BASE + o)) for node 4 is taken"; done
start_node 4
req -XPOST "$(url $F)/v1/members" \
	-d "{\"id\":4,\"peer_address\":\"127.0.0.1:$((BASE + 14))\",\"url\":\"$(url 4)\",\"promote\":false}"
expect "POST /v1/members adds node 4 as a learner" "201 learner" "$STATUS $(jq -r .role "$DIR/body")"
wait_ready 4
req "$(url $F)/ui/"
expect "GET /ui/ on a follower" 200 "$STATUS"
if grep -Eiq '(src|href)[[:space:]]*=|@import|url\(|https?://' "$DIR/body"; then
	fail "the page refers to something outside itself"
fi
ok "the page loads nothing from elsewhere (no src, href, @import, url() or absolute URL)"
CSP=$(curl -s -D - -o /dev/null "$(url $F)/ui/" | tr -d '\r' | sed -n 's/^content-security-policy: //Ip')
expect "its Content-Security-Policy" "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'" "$CSP"
run_driver "" -nodes 4 -learners 1 -key ui-key -value "written through the dashboard"
req "$(url $L)/v1/kv/ui-key"
expect "the key written through the page, read on the leader" "written through the dashboard" "$BODY"
req "$(url $L)/v1/kv/ui-key-deleted"
expect "the key deleted through the page, read on the leader" 404 "$STATUS"
req "$(url $F)/ui/status?node=$L"
expect "/ui/status relays the leader's status" leader "$(jq -r .role "$DIR/body")"
req "$(url $F)/ui/status?node=9"
expect "/ui/status of an unknown node" 404 "$STATUS"
req "$(url $F)/ui/status?node=x"
expect "/ui/status of a malformed node" 400 "$STATUS"
D=$((F % 3 + 1))
[ "$D" = "$L" ] && D=$((D % 3 + 1))
stop_node $D
req "$(url $F)/ui/status?node=$D"
expect "/ui/status of a stopped node" 503 "$STATUS"
for i in 1 2 3 4; do [ -n "${NODE_PIDS[$i]:-}" ] && stop_node $i; done

echo "--- over TLS with tokens (--auth-file): the page is open, its calls carry the token"
rm -rf "$DIR"/n*
BASE_DIR="$DIR" NODES=3 "$(dirname "$0")/../../tools/certs.sh" >/dev/null || fail "make the test CA"
S=$DIR/secrets
cat >"$DIR/tokens" <<'TOK'
admin-token-for-the-ui-test-0001 admin
TOK
chmod 600 "$DIR/tokens"
SCHEME=https
CA_FILE=$S/ca.crt
AUTH='Authorization: Bearer admin-token-for-the-ui-test-0001'
GW_FLAGS="--tls-cert $S/node@I@.crt --tls-key $S/node@I@.key --peer-ca $S/ca.crt --auth-file $DIR/tokens"
for i in 1 2 3; do start_node $i; done
wait_ready 1 2 3
wait_leader
req "$(url $F)/ui/"
expect "GET https /ui/ without a token" 200 "$STATUS"
req "$(url $F)/v1/status"
expect "GET https /v1/status without a token" 401 "$STATUS"
req "$(url $F)/ui/status?node=$L"
expect "GET https /ui/status without a token" 401 "$STATUS"
for n in $(seq -w 1 25); do
	c -s -o /dev/null -H "$AUTH" -XPUT "$(url $L)/v1/kv/page/$n" -d "v$n" || fail "seeding page/$n"
done
run_driver "-tls-token" -insecure -token admin-token-for-the-ui-test-0001 -key ui-token-key \
	-value "over TLS with a token"
req -H "$AUTH" "$(url $L)/v1/kv/ui-token-key"
expect "the key written through the page over TLS with a token" "over TLS with a token" "$BODY"

echo "ui-test: $CHECKS checks passed"
