# tests/deploy/module.mk - deployment tests that need no Docker:
#   make handoff-test   SIGTERM vs SIGKILL of the leader's raftd under a write
#                       load on a local cluster: with SIGTERM (leadership
#                       handoff) no write may fail with anything but 503.
# The Docker Compose and Kubernetes tests live here too and are run by
# compose/compose.mk (compose-test) and k8s/k8s.mk (k8s-test).

.PHONY: handoff-test
handoff-test: build
	BIN_DIR=$(BUILD) timeout 180 tests/deploy/handoff_test.sh

TEST_STEPS += handoff-test
