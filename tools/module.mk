# tools/module.mk - a local cluster for people and tests, and the other tools.
#
#   make run            3 nodes in the foreground (Ctrl-C stops all nine processes)
#   make cluster-up     the same in the background; waits until every /readyz is 200
#   make cluster-down   stops it
# tools/cluster.sh reads NODES, BASE_DIR, HTTP_PORT_BASE, RAFT_PORT_BASE (and more,
# see its header) from the environment, so tests can run clusters side by side.

CLUSTER_ENV := BIN_DIR=$(BUILD)

.PHONY: run cluster-up cluster-down cluster-status cluster-smoke
run: deps
	@$(MAKE) --no-print-directory build
	@$(CLUSTER_ENV) tools/cluster.sh run

cluster-up: deps
	@$(MAKE) --no-print-directory build
	@$(CLUSTER_ENV) tools/cluster.sh up

cluster-down:
	@$(CLUSTER_ENV) tools/cluster.sh down

cluster-status:
	@$(CLUSTER_ENV) tools/cluster.sh status

# A throw-away cluster on its own ports and directory (under a minute): writes and reads
# through every node, kill -9 of the leader's raftd, catch-up after its restart.
SMOKE_HTTP_PORT_BASE ?= 14100
SMOKE_RAFT_PORT_BASE ?= 17100
cluster-smoke: deps
	@$(MAKE) --no-print-directory build
	@$(CLUSTER_ENV) BASE_DIR=$$(mktemp -d /tmp/raftkv-smoke.XXXXXX) \
		HTTP_PORT_BASE=$(SMOKE_HTTP_PORT_BASE) RAFT_PORT_BASE=$(SMOKE_RAFT_PORT_BASE) \
		tools/cluster.sh smoke

TEST_STEPS += cluster-smoke

# The secrets of a secure cluster under BASE_DIR/secrets (default ./data): a local CA,
# node certificates, a client certificate, tokens.txt, Curve keys, and the same for the
# compose project (secrets/compose/) and the Kubernetes manifests (the Secret in
# secrets/k8s/raftkv-secrets.yaml) (tools/certs.sh; FORCE=1 replaces what exists).
# Then: SECURE=1 tools/cluster.sh up, or docker compose up, or kubectl apply.
.PHONY: certs
certs: $(BUILD)/raftkvctl
	@BASE_DIR=$${BASE_DIR:-./data} BIN_DIR=$(BUILD) tools/certs.sh
