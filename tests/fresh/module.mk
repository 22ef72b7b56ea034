# tests/fresh - `make fresh-test`: the clean room. A minimal Debian bookworm
# (debootstrap, imported into Docker, cached by its package list) gets a clean
# clone of HEAD and runs the README's two commands in it: `make run` until the
# cluster answers a write and a read, then `make test`. It proves that `make
# deps` installs everything every step uses. Not part of `make test` (it runs
# `make test` itself); .ci/run runs it after the tests. See fresh_test.sh.

.PHONY: fresh-test
fresh-test:
	@tools/install-deps.sh debootstrap curl
	@tests/fresh/fresh_test.sh
