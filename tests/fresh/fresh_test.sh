#!/usr/bin/env bash
# fresh_test.sh - the clean room: runs the README's two commands on a brand-new
# Debian bookworm, as a newcomer would, to catch an install step that only
# works because this machine already has something.
#
#   phase 1  base      a minimal bookworm root file system made by debootstrap
#                      from the Debian mirror apt uses here, imported into
#                      Docker as raftkv-fresh-base:<key>. Cached: the key is a
#                      hash of the suite, mirror and package list, so a second
#                      run reuses it.
#   phase 2  copy      a clean clone of this checkout's HEAD (committed work
#                      only) into a new container of that image, at /root/raftkv
#   phase 3  make run  in the background, until the cluster answers a PUT and a
#                      GET through two different nodes; then Ctrl-C (SIGINT) and
#                      every process must be gone
#   phase 4  make test must end with "N passed, 0 failed". Steps that need a
#                      Docker engine or network namespaces skip inside, saying why.
#
# Settings (environment): FRESH_MIRROR (default: the first bookworm URI of this
# machine's apt sources), FRESH_OUT (logs; default build/fresh-test),
# FRESH_KEEP=1 keeps the container after the run, FRESH_REBUILD=1 ignores the
# cached base. Packages apt downloads are kept in FRESH_APT_CACHE
# (/var/cache/raftkv-fresh/apt) between runs; they are still installed by the
# project's own `make deps` inside.
#
# Every failure prints one line "fresh-test: <reason>" and exits non-zero;
# every step that talks to the network or runs the project has a time limit.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)

SUITE=bookworm
# What a newcomer has before typing the README's commands: make (to type
# them), git and ca-certificates (to have cloned the repository).
BASE_PACKAGES=make,git,ca-certificates
# Bump when the way the base is made changes, so the cached one is made anew.
BASE_RECIPE=1
OUT=${FRESH_OUT:-$top/build/fresh-test}
APT_CACHE=${FRESH_APT_CACHE:-/var/cache/raftkv-fresh/apt}
RUN_TIMEOUT_S=${FRESH_RUN_TIMEOUT_S:-1500}
TEST_TIMEOUT_S=${FRESH_TEST_TIMEOUT_S:-2400}
container=""

die() { echo "fresh-test: $*" >&2; exit 1; }

t0=$(date +%s)
phase_start=$t0
phase_report=()
phase_done() {
	local now
	now=$(date +%s)
	phase_report+=("$(printf '%-10s %5d s' "$1" $((now - phase_start)))")
	echo "fresh-test: phase $1 done in $((now - phase_start)) s"
	phase_start=$now
}
report() {
	local line
	echo "fresh-test: time per phase"
	for line in "${phase_report[@]}"; do echo "  $line"; done
	echo "  total      $(printf '%5d' $(($(date +%s) - t0))) s"
}

cleanup() {
	if [ -n "$container" ] && [ "${FRESH_KEEP:-0}" != 1 ]; then
		docker rm -f "$container" >/dev/null 2>&1 || true
	fi
}
trap 'cleanup; [ ${#phase_report[@]} -eq 0 ] || report' EXIT

# The mirror apt uses on this machine (deb822 or one-line sources).
apt_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && u != "" {
				for (i = 2; i <= NF; i++) if ($i == "'$SUITE'") { print u; exit } }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	awk '$1 == "deb" && $3 == "'$SUITE'" { print $2; exit }' /etc/apt/sources.list 2>/dev/null
}

check_prerequisites() {
	command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
	command -v docker >/dev/null || die "the docker command is not installed"
	timeout 20 docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed or took over 20 s)"
	mirror=${FRESH_MIRROR:-$(apt_mirror)}
	[ -n "$mirror" ] || die "no $SUITE mirror in this machine's apt sources; set FRESH_MIRROR"
	timeout 20 curl -fs -o /dev/null "$mirror/dists/$SUITE/Release" ||
		die "the Debian mirror $mirror does not answer (no $SUITE Release file within 20 s)"
}

# Builds and imports the base image unless one with this key exists.
make_base() {
	local key rootfs
	key=$(printf '%s\n' "$BASE_RECIPE" "$SUITE" "$mirror" "$BASE_PACKAGES" | sha256sum | cut -c1-16)
	image=raftkv-fresh-base:$key
	if [ "${FRESH_REBUILD:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
		echo "fresh-test: base $image is cached"
		return
	fi
	rootfs=$(mktemp -d /tmp/raftkv-fresh-rootfs.XXXXXX)
	echo "fresh-test: debootstrap $SUITE from $mirror into $rootfs (a few minutes)"
	if ! timeout 1200 debootstrap --variant=minbase --include="$BASE_PACKAGES" \
		"$SUITE" "$rootfs" "$mirror" >"$OUT/debootstrap.log" 2>&1; then
		rm -rf "$rootfs"
		die "debootstrap failed or took over 20 min (see $OUT/debootstrap.log: $(tail -n 1 "$OUT/debootstrap.log"))"
	fi
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
	tar -C "$rootfs" -c . | docker import - "$image" >/dev/null ||
		{ rm -rf "$rootfs"; die "docker import of the base root file system failed"; }
	rm -rf "$rootfs"
	echo "fresh-test: base $image imported"
	# Older bases (another package list or recipe) only take space.
	docker image ls --format '{{.Repository}}:{{.Tag}}' raftkv-fresh-base |
		grep -vx "$image" | xargs -r docker rmi -f >/dev/null 2>&1 || true
}

start_container() {
	local src
	container=raftkv-fresh-$$
	mkdir -p "$APT_CACHE/partial"
	docker run -d --init --name "$container" --hostname fresh \
		-v "$APT_CACHE:/var/cache/apt/archives" \
		-e DEBIAN_FRONTEND=noninteractive -e HOME=/root \
		"$image" sleep infinity >/dev/null || die "cannot start a container of $image"
	trust_local_cas
	src=$(mktemp -d /tmp/raftkv-fresh-src.XXXXXX)
	git clone -q --no-local "$top" "$src/raftkv" || die "git clone of $top failed"
	echo "fresh-test: copying a clean clone of $(git -C "$src/raftkv" log -1 --format='%h %s')"
	docker cp -q "$src/raftkv" "$container:/root/raftkv" || die "docker cp into $container failed"
	rm -rf "$src"
}

in_box() { docker exec "$container" bash -c "$1"; }

# Certificate authorities this machine's administrator added (a network whose
# egress re-signs TLS trusts its own CA) go into the clean room as well: they
# belong to the network the machine is on, not to what the project installs.
trust_local_cas() {
	local crt n=0
	for crt in /usr/local/share/ca-certificates/*.crt; do
		[ -f "$crt" ] || continue
		docker cp -q "$crt" "$container:/usr/local/share/ca-certificates/" ||
			die "cannot copy $crt into the container"
		n=$((n + 1))
	done
	[ $n -eq 0 ] && return
	in_box 'update-ca-certificates >/dev/null 2>&1' || die "update-ca-certificates failed in the container"
	echo "fresh-test: the container trusts this machine's $n locally added CA certificate(s)"
}

# make run in the background; a PUT through node 1 and a GET through node 3.
check_make_run() {
	local deadline got=""
	in_box 'cd /root/raftkv || exit 1; setsid make run >/root/make-run.log 2>&1 & echo $! >/root/make-run.pid'
	deadline=$(($(date +%s) + RUN_TIMEOUT_S))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if in_box 'curl -fsS -m 5 -XPUT localhost:4001/v1/kv/fresh-test -d hello-fresh' >/dev/null 2>&1; then
			got=$(in_box 'curl -fsS -m 5 localhost:4003/v1/kv/fresh-test' 2>/dev/null || true)
			[ "$got" = hello-fresh ] && break
		fi
		in_box 'kill -0 $(cat /root/make-run.pid)' 2>/dev/null ||
			{ docker cp -q "$container:/root/make-run.log" "$OUT/make-run.log" || true
			  die "make run exited before the cluster answered (see $OUT/make-run.log: $(tail -n 1 "$OUT/make-run.log"))"; }
		sleep 5
	done
	docker cp -q "$container:/root/make-run.log" "$OUT/make-run.log" || true
	[ "$got" = hello-fresh ] ||
		die "make run: no PUT and GET answered within $RUN_TIMEOUT_S s (see $OUT/make-run.log)"
	echo "fresh-test: make run answered: PUT via node 1, GET via node 3 = $got"
	# Ctrl-C: SIGINT to make's process group, as a terminal would send it.
	in_box 'kill -INT -- -$(cat /root/make-run.pid)'
	deadline=$(($(date +%s) + 30))
	while in_box 'pidof raftd storaged gatewayd >/dev/null'; do
		[ "$(date +%s)" -lt "$deadline" ] ||
			die "make run: processes still running 30 s after Ctrl-C: $(in_box 'pidof raftd storaged gatewayd')"
		sleep 1
	done
	docker cp -q "$container:/root/make-run.log" "$OUT/make-run.log" || true
	echo "fresh-test: make run stopped on Ctrl-C, no process left"
}

check_make_test() {
	local rc=0 summary
	in_box "cd /root/raftkv && timeout $TEST_TIMEOUT_S make test" >"$OUT/make-test.log" 2>&1 || rc=$?
	grep -E '^=== .*: (ok|FAILED)|SKIP' "$OUT/make-test.log" | sed 's/^/  /' || true
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/make-test.log" | tail -n 1)
	[ $rc -eq 0 ] ||
		die "make test failed in the clean room (exit $rc; ${summary:-no summary line}; see $OUT/make-test.log)"
	echo "fresh-test: make test: $summary"
}

check_prerequisites
mkdir -p "$OUT"
phase_done checks
make_base
phase_done base
start_container
phase_done copy
check_make_run
phase_done "make run"
check_make_test
phase_done "make test"
echo "fresh-test: passed"
