#!/usr/bin/env bash
# ctl_test.sh - raftkvctl against real local clusters (make ctl-test):
#   plaintext: get/put/delete/list/watch/status/ready/live, JSON output, conditions,
#              failover past a dead port and past a stopped gateway, the exit
#              codes 0/1/2/3, RAFTKV_ENDPOINTS and RAFTKV_URL;
#   SECURE=1:  https with --cacert (an untrusted server is refused), tokens from
#              --token, --token-file and RAFTKV_TOKEN (401 and 403 are exit 1),
#              plain http to the TLS port, failover over https, and a gateway that
#              requires client certificates: none, the right CA's, another CA's.
# Each cluster on its own ports below 32768 (free_base) and its own directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN_DIR=${BIN_DIR:-build}
BIN_DIR=$(cd "$BIN_DIR" && pwd)
CTL=${CTL:-$BIN_DIR/raftkvctl} # CTL=build-address/raftkvctl: the client under ASan/UBSan
WORK=$(mktemp -d /tmp/rkvctl.XXXXXX)
export BIN_DIR NODES=3 LOG_LEVEL=warn READY_TIMEOUT_S=60
CL=tools/cluster.sh
FAILS=0
CHECKS=0

say() { echo "ctl-test: $*"; }
# A base port whose next 3 ports no socket uses, below the ephemeral range.
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
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for d in "$WORK"/plain "$WORK"/secure; do
		[ -d "$d" ] && BASE_DIR=$d $CL down >/dev/null 2>&1 || true
	done
	((rc == 0)) || tail -n 5 "$WORK"/*/node*/gatewayd.log 2>/dev/null | sed 's/^/  /' || true
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT INT TERM

# expect CODE DESCRIPTION -- COMMAND...: runs it, checks the exit code; its stdout
# is left in $OUT and stderr in $ERR.
expect() {
	local want=$1 what=$2 got=0
	shift 3
	"$@" >"$WORK/out" 2>"$WORK/err" </dev/null || got=$?
	OUT=$(<"$WORK/out") ERR=$(<"$WORK/err")
	CHECKS=$((CHECKS + 1))
	if ((got != want)); then
		say "FAIL: $what: exit $got, want $want (stdout '$OUT', stderr '$ERR')"
		FAILS=$((FAILS + 1))
	fi
}
# same STRING ACTUAL DESCRIPTION
same() {
	CHECKS=$((CHECKS + 1))
	if [[ $1 != "$2" ]]; then
		say "FAIL: $3: got '$2', want '$1'"
		FAILS=$((FAILS + 1))
	fi
}
# has PATTERN TEXT DESCRIPTION
has() {
	CHECKS=$((CHECKS + 1))
	if ! grep -q -- "$1" <<<"$2"; then
		say "FAIL: $3: '$2' lacks '$1'"
		FAILS=$((FAILS + 1))
	fi
}

start_cluster() { # DIR SECURE
	HTTP_PORT_BASE=$(free_base) RAFT_PORT_BASE=$(free_base)
	while ((RAFT_PORT_BASE == HTTP_PORT_BASE)); do RAFT_PORT_BASE=$(free_base); done
	export HTTP_PORT_BASE RAFT_PORT_BASE BASE_DIR=$1 SECURE=$2
	$CL up >/dev/null
}

# ---------------------------------------------------------------- plaintext
plain_tests() {
	start_cluster "$WORK/plain" 0
	local u1="http://127.0.0.1:$((HTTP_PORT_BASE + 1))" u2="http://127.0.0.1:$((HTTP_PORT_BASE + 2))"
	local u3="http://127.0.0.1:$((HTTP_PORT_BASE + 3))" dead="http://127.0.0.1:$(free_base)"
	local all="$u1,$u2,$u3" c=("$CTL" --endpoints "$u1,$u2,$u3")
	say "plaintext cluster on $u1 $u2 $u3"

	expect 0 "put" -- "${c[@]}" put greeting hello
	has "put greeting (mod_index" "$OUT" "put prints the mod_index"
	expect 0 "get" -- "${c[@]}" get greeting
	same hello "$OUT" "get prints the value"
	expect 0 "get --output json" -- "${c[@]}" --output json get greeting
	same hello "$(jq -r .value <<<"$OUT")" "get json value"
	local mod
	mod=$(jq -r .mod_index <<<"$OUT")
	expect 1 "get of a missing key" -- "${c[@]}" get no-such-key
	has "404 key_not_found" "$ERR" "a missing key names the error"
	expect 1 "put --if-match with a wrong index" -- "${c[@]}" put --if-match 999999 greeting x
	has "412 condition_failed" "$ERR" "a failed condition names the error"
	expect 1 "put --if-absent of an existing key" -- "${c[@]}" put --if-absent greeting x
	expect 0 "put --if-match with the right index" -- "${c[@]}" put --if-match "$mod" greeting hi
	expect 0 "put --if-absent of a new key" -- "${c[@]}" put --if-absent "sp ace/ü?&" "v 1"
	expect 0 "get of an escaped key" -- "${c[@]}" get "sp ace/ü?&"
	same "v 1" "$OUT" "a key with spaces and non-ASCII bytes"
	CHECKS=$((CHECKS + 1))
	printf 'from\nstdin' | "${c[@]}" put multi - >/dev/null || { say "FAIL: put -"; FAILS=$((FAILS + 1)); }
	expect 0 "get of a value from stdin" -- "${c[@]}" get multi
	same $'from\nstdin' "$OUT" "put - reads stdin"
	expect 0 "delete" -- "${c[@]}" delete multi
	has "deleted multi" "$OUT" "delete says what it did"
	expect 1 "delete of a missing key" -- "${c[@]}" delete multi

	for k in l/1 l/2 l/3 l/4 l/5; do "${c[@]}" put "$k" "v$k" >/dev/null; done
	expect 0 "list with 2 keys a page" -- "${c[@]}" list --page-size 2 l/
	same $'l/1\tvl/1\nl/2\tvl/2\nl/3\tvl/3\nl/4\tvl/4\nl/5\tvl/5' "$OUT" "list follows the pages"
	expect 0 "list --keys-only --limit 3" -- "${c[@]}" list --keys-only --limit 3 --page-size 2 l/
	same $'l/1\nl/2\nl/3' "$OUT" "list stops at --limit"
	expect 0 "list --output json" -- "${c[@]}" --output json list --page-size 2 l/
	same "5 vl/5" "$(jq -r '"\(.items|length) \(.items[4].value)"' <<<"$OUT")" "list json"
	expect 0 "watch --prefix --from 1 --count 5" -- "${c[@]}" watch --prefix --from 1 --count 5 l/
	same $'put\tl/1\tvl/1\nput\tl/2\tvl/2\nput\tl/3\tvl/3\nput\tl/4\tvl/4\nput\tl/5\tvl/5' \
		"$(cut -f2- <<<"$OUT")" "watch prints the changes in order"
	expect 0 "watch --output json" -- "${c[@]}" --output json watch --prefix --from 1 --count 1 l/
	same "put vl/1" "$(jq -r '"\(.type) \(.value)"' <<<"$OUT")" "watch json"
	expect 2 "watch --from 0" -- "${c[@]}" watch --from 0 l/1

	expect 0 "status" -- "${c[@]}" status
	has "^members" "$OUT" "status lists the members"
	expect 0 "status --output json" -- "${c[@]}" --output json status
	same 3 "$(jq '.members|length' <<<"$OUT")" "status json"
	expect 0 "ready" -- "$CTL" --url "$u2" ready
	expect 0 "live" -- "$CTL" --url "$u3" --output json live
	same ok "$(jq -r .status <<<"$OUT")" "live json"

	# membership: refusals with their exit codes, then node 3 removed, added back as a
	# learner and promoted (each answered once committed)
	local p3="127.0.0.1:$((RAFT_PORT_BASE + 3))"
	expect 0 "member list" -- "${c[@]}" member list
	has "^  3 voter $p3 $u3 " "$OUT" "member list shows node 3"
	expect 1 "member add of a taken id" -- "${c[@]}" member add 2 127.0.0.1:1 http://127.0.0.1:2
	has "409 member_exists" "$ERR" "a taken id names the error"
	expect 1 "member add of a taken address" -- "${c[@]}" member add 9 "$p3" http://127.0.0.1:2
	has "409 member_exists" "$ERR" "a taken address names the error"
	expect 2 "member add with a bad address" -- "${c[@]}" member add 9 nohost http://127.0.0.1:2
	has "400 invalid_argument: peer_address" "$ERR" "a bad address names the member"
	expect 2 "member add with a bad URL" -- "${c[@]}" member add 9 127.0.0.1:1 ftp://x:2
	expect 2 "member add with a bad id" -- "${c[@]}" member add 70000 127.0.0.1:1 http://x:2
	expect 2 "member add with a missing URL" -- "${c[@]}" member add 9 127.0.0.1:1
	expect 2 "member promote of a voter" -- "${c[@]}" member promote 2
	has "400 already_voter" "$ERR" "a voter's promotion names the error"
	expect 1 "member promote of no member" -- "${c[@]}" member promote 9
	has "404 member_not_found" "$ERR" "an unknown member names the error"
	expect 1 "member remove of no member" -- "${c[@]}" --output json member remove 9
	same member_not_found "$(jq -r .error.code <<<"$OUT")" "member remove json error"
	expect 1 "member remove --force of no member" -- "${c[@]}" member remove --force 9
	has "404 member_not_found" "$ERR" "a forced removal of no member names the error"
	expect 2 "member remove with an unknown flag" -- "${c[@]}" member remove 3 --now
	expect 2 "member remove of two ids" -- "${c[@]}" member remove 3 2
	expect 0 "member remove 3" -- "${c[@]}" member remove 3
	same "member 3 removed" "$OUT" "member remove says what it did"
	expect 0 "member add 3 --learner" -- "${c[@]}" --output json member add 3 "$p3" "$u3" --learner
	same "3 learner $p3 $u3" "$(jq -r '"\(.id) \(.role) \(.peer_address) \(.url)"' <<<"$OUT")" \
		"member add json is the member"
	expect 0 "member list after the add" -- "${c[@]}" --output json member list
	same "learner" "$(jq -r '.members[]|select(.id==3).role' <<<"$OUT")" "node 3 is a learner"
	for _ in $(seq 50); do # promoted once it has caught up (409 not_caught_up before)
		"${c[@]}" member promote 3 >"$WORK/out" 2>"$WORK/err" && break
		sleep 0.1
	done
	expect 0 "member list after the promotion" -- "${c[@]}" --output json member list
	same "voter" "$(jq -r '.members[]|select(.id==3).role' <<<"$OUT")" "node 3 is a voter again"

	# exit codes for bad usage and for an unreachable cluster
	expect 2 "get without a key" -- "${c[@]}" get
	expect 2 "an unknown command" -- "${c[@]}" frobnicate
	expect 2 "--output yaml" -- "${c[@]}" --output yaml get greeting
	expect 2 "a bad endpoint URL" -- "$CTL" --endpoints "ftp://x" get greeting
	expect 2 "a key the gateway rejects (too long)" -- "${c[@]}" get "$(printf 'k%.0s' {1..600})"
	expect 0 "get --help" -- "$CTL" get --help
	has "usage: raftkvctl \[OPTIONS\] get KEY" "$OUT" "get --help"
	expect 0 "--help" -- "$CTL" --help
	has "keygen" "$OUT" "--help lists the commands"
	expect 3 "a dead endpoint" -- "$CTL" --endpoints "$dead" get greeting
	expect 3 "ready of a dead endpoint" -- "$CTL" --endpoints "$dead,$u1" ready

	# failover
	expect 0 "failover past a dead port" -- "$CTL" --endpoints "$dead,$u2" get greeting
	same hi "$OUT" "failover reads the value"
	CHECKS=$((CHECKS + 1))
	RAFTKV_ENDPOINTS="$dead,$u3" "$CTL" get greeting >/dev/null 2>&1 ||
		{ say "FAIL: RAFTKV_ENDPOINTS"; FAILS=$((FAILS + 1)); }
	CHECKS=$((CHECKS + 1))
	RAFTKV_URL="$u1" "$CTL" get greeting >/dev/null || { say "FAIL: RAFTKV_URL"; FAILS=$((FAILS + 1)); }
	$CL stop 1 gatewayd >/dev/null
	expect 0 "put with node 1's gateway stopped" -- "$CTL" --endpoints "$all" put after-stop yes
	expect 0 "get with node 1's gateway stopped" -- "$CTL" --endpoints "$all" get after-stop
	same yes "$OUT" "failover past a stopped gateway"
	expect 0 "watch with node 1's gateway stopped" -- "$CTL" --endpoints "$all" watch --prefix --from 1 --count 2 l/
	same $'put\tl/1\tvl/1\nput\tl/2\tvl/2' "$(cut -f2- <<<"$OUT")" "watch fails over"
	expect 3 "ready asks the first endpoint only (stopped), not the others" -- \
		"$CTL" --endpoints "$u1,$u2" ready
	$CL down >/dev/null
	expect 3 "every gateway stopped" -- "$CTL" --endpoints "$all" get greeting
	has "no endpoint answered" "$ERR" "unreachable says so"
}

# ---------------------------------------------------------------- SECURE=1
secure_tests() {
	BASE_DIR="$WORK/secure" tools/certs.sh >/dev/null
	BASE_DIR="$WORK/other" NODES=1 tools/certs.sh >/dev/null # another CA
	start_cluster "$WORK/secure" 1
	local s="$WORK/secure/secrets" o="$WORK/other/secrets"
	local u1="https://127.0.0.1:$((HTTP_PORT_BASE + 1))" u2="https://127.0.0.1:$((HTTP_PORT_BASE + 2))"
	local u3="https://127.0.0.1:$((HTTP_PORT_BASE + 3))" dead="https://127.0.0.1:$(free_base)"
	local admin write read
	admin=$(awk '$2 == "admin" { print $1; exit }' "$s/tokens.txt")
	write=$(awk '$2 == "write" { print $1; exit }' "$s/tokens.txt")
	read=$(awk '$2 == "read" { print $1; exit }' "$s/tokens.txt")
	echo "$write" >"$WORK/write.token"
	local c=("$CTL" --endpoints "$u1,$u2,$u3" --cacert "$s/ca.crt")
	say "secure cluster on $u1 $u2 $u3"

	expect 0 "https put with a write token" -- "${c[@]}" --token "$write" put sec v1
	expect 0 "https get with a read token" -- "${c[@]}" --token "$read" get sec
	same v1 "$OUT" "https get"
	expect 0 "--token-file" -- "${c[@]}" --token-file "$WORK/write.token" put sec v2
	CHECKS=$((CHECKS + 1))
	[[ $(RAFTKV_TOKEN=$admin "${c[@]}" get sec) == v2 ]] || { say "FAIL: RAFTKV_TOKEN"; FAILS=$((FAILS + 1)); }
	expect 1 "no token" -- "${c[@]}" get sec
	has "401 unauthorized" "$ERR" "no token is 401"
	expect 1 "a wrong token" -- "${c[@]}" --token "not-a-token-0123456789" get sec
	has "401" "$ERR" "a wrong token is 401"
	expect 1 "a read token on a put" -- "${c[@]}" --token "$read" put sec v3
	has "403 forbidden" "$ERR" "a read token on a write is 403"
	expect 0 "ready needs no token" -- "$CTL" --endpoints "$u1" --cacert "$s/ca.crt" ready
	expect 0 "status with a read token" -- "${c[@]}" --token "$read" status
	expect 1 "metrics with a read token" -- "${c[@]}" --token "$read" metrics
	has "403 forbidden" "$ERR" "metrics needs admin"
	expect 0 "metrics with the admin token" -- "${c[@]}" --token "$admin" metrics
	has "^raftkv_" "$OUT" "metrics prints the Prometheus text"
	expect 3 "the system CAs do not trust the local CA" -- \
		"$CTL" --endpoints "$u1" --token "$read" get sec
	has "certificate not trusted" "$ERR" "an untrusted certificate says so"
	expect 3 "another CA does not trust it either" -- \
		"$CTL" --endpoints "$u1" --cacert "$o/ca.crt" --token "$read" get sec
	expect 3 "plain http to the TLS port" -- \
		"$CTL" --endpoints "http://127.0.0.1:$((HTTP_PORT_BASE + 1))" --token "$read" get sec
	expect 2 "a --cacert that does not exist" -- \
		"$CTL" --endpoints "$u1" --cacert "$WORK/none.crt" --token "$read" get sec
	expect 0 "https failover past a dead port" -- \
		"$CTL" --endpoints "$dead,$u3" --cacert "$s/ca.crt" --token "$read" get sec

	# node 3's gateway asks for client certificates
	$CL stop 3 gatewayd >/dev/null
	GATEWAYD_ARGS="--tls-client-ca $s/ca.crt" $CL start 3 gatewayd >/dev/null
	local n3=("$CTL" --endpoints "$u3" --cacert "$s/ca.crt" --token "$read")
	for _ in $(seq 50); do "${n3[@]}" --cert "$s/client.crt" --key "$s/client.key" live \
		>/dev/null 2>&1 && break; sleep 0.2; done
	expect 0 "a client certificate from the CA" -- \
		"${n3[@]}" --cert "$s/client.crt" --key "$s/client.key" get sec
	same v2 "$OUT" "get with a client certificate"
	expect 3 "no client certificate" -- "${n3[@]}" get sec
	expect 3 "a client certificate from another CA" -- \
		"${n3[@]}" --cert "$o/client.crt" --key "$o/client.key" get sec
	expect 2 "a key that does not match the certificate" -- \
		"${n3[@]}" --cert "$s/client.crt" --key "$o/client.key" get sec
}

plain_tests
secure_tests
if ((FAILS > 0)); then
	say "FAILED: $FAILS of $CHECKS checks"
	exit 1
fi
say "ok: $CHECKS checks passed"
