#!/usr/bin/env bash
# install-go.sh - makes sure a Go toolchain (>= 1.19) is on the machine for the
# cluster tests: the one already installed (PATH or /usr/local/go), else
# Debian's golang-go. Go modules come from the Go module proxy.
set -euo pipefail
if command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ]; then
	exit 0
fi
exec "$(dirname "$0")/install-deps.sh" golang-go
