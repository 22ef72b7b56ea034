# tests/cluster: real processes on loopback, checked with Go's test runner and
# porcupine (linearizability). `make cluster-test` runs them all;
# CLUSTER_RUN=Regexp selects tests; CLUSTER_CURVE=1 runs them with CurveZMQ
# between raftd peers (keys made by raftkvctl keygen).

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
CLUSTER_RUN ?= .
CLUSTER_TIMEOUT ?= 15m
CLUSTER_CURVE ?= 0
# CLUSTER_GOFLAGS=-race runs the harness under Go's race detector.
CLUSTER_GOFLAGS ?=

$(BUILD)/tests/peer_hostile: $(BUILD)/tests/cluster/peer_hostile/peer_hostile.o $(BUILD)/libproto.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lzmq -lmsgpackc

.PHONY: cluster-test go-deps
# The modules are fetched by a second make: this one chose $(GO) when it read
# this file, before install-go.sh could install Go on a fresh machine.
go-deps:
	@tools/install-go.sh
	@$(MAKE) --no-print-directory go-mod-download

.PHONY: go-mod-download
go-mod-download:
	cd tests/cluster && $(GO) mod download

cluster-test: go-deps build $(BUILD)/tests/peer_hostile
	cd tests/cluster && RAFTKV_CLUSTER_CURVE=$(CLUSTER_CURVE) RAFTKV_BIN=$(abspath $(BUILD)) RAFTKV_TEST_OUT=$(abspath $(BUILD))/cluster-out \
		$(GO) test $(CLUSTER_GOFLAGS) -count=1 -v -timeout $(CLUSTER_TIMEOUT) -run '$(CLUSTER_RUN)' ./... 2>&1 | \
		tee $(abspath $(BUILD))/cluster-test.log | grep -E '^(=== RUN|--- |\s+\w+_test.go|PASS|FAIL|ok|panic)' ; \
		exit $${PIPESTATUS[0]}

TEST_STEPS += cluster-test

# F15's planted bug: raftd, storaged and gatewayd built with RAFT_BUG_WIPED_VOTES
# (an empty-disk node votes) in their own build directory; TestF15 must fail.
F15_BUG_BUILD := $(BUILD)-wiped-votes
.PHONY: cluster-f15-bug
cluster-f15-bug: go-deps
	@CFLAGS=-DRAFT_BUG_WIPED_VOTES $(MAKE) --no-print-directory BUILD=$(F15_BUG_BUILD) \
		$(F15_BUG_BUILD)/raftd $(F15_BUG_BUILD)/storaged $(F15_BUG_BUILD)/gatewayd >/dev/null
	@if cd tests/cluster && RAFTKV_BIN=$(abspath $(F15_BUG_BUILD)) \
		RAFTKV_TEST_OUT=$(abspath $(F15_BUG_BUILD))/cluster-out \
		$(GO) test -count=1 -v -timeout 5m -run 'TestF15' ./... > $(abspath $(F15_BUG_BUILD))/f15.log 2>&1; then \
		echo "cluster-f15-bug: RAFT_BUG_WIPED_VOTES was NOT caught by TestF15"; exit 1; fi
	@grep -E "wiped node granted|elected with the wiped|lost" $(F15_BUG_BUILD)/f15.log | head -3
	@echo "cluster-f15-bug: RAFT_BUG_WIPED_VOTES caught by TestF15WipedNodeNeverVotesAndRejoins"

TEST_STEPS += cluster-f15-bug

# The join's planted bug: raftd built with RAFTD_BUG_JOIN_EMPTY_BASE boots a node that
# joined with an empty configuration instead of the members (docs/design.md, "Joining a
# running cluster"); the leader, which never compacted, sends its log from index 1 and the
# node never becomes a caught-up voter. TestMemberGrowShrinkUnderLoad must fail.
JOIN_BUG_BUILD := $(BUILD)-join-empty-base
.PHONY: cluster-join-bug
cluster-join-bug: go-deps
	@CFLAGS=-DRAFTD_BUG_JOIN_EMPTY_BASE $(MAKE) --no-print-directory BUILD=$(JOIN_BUG_BUILD) \
		$(JOIN_BUG_BUILD)/raftd $(JOIN_BUG_BUILD)/storaged $(JOIN_BUG_BUILD)/gatewayd >/dev/null
	@if cd tests/cluster && RAFTKV_BIN=$(abspath $(JOIN_BUG_BUILD)) \
		RAFTKV_TEST_OUT=$(abspath $(JOIN_BUG_BUILD))/cluster-out \
		$(GO) test -count=1 -v -timeout 5m -run 'TestMemberGrowShrinkUnderLoad' ./... \
		> $(abspath $(JOIN_BUG_BUILD))/join.log 2>&1; then \
		echo "cluster-join-bug: RAFTD_BUG_JOIN_EMPTY_BASE was NOT caught"; exit 1; fi
	@grep -E "not a caught-up voter" $(JOIN_BUG_BUILD)/join.log | head -1 | cut -c1-200
	@echo "cluster-join-bug: RAFTD_BUG_JOIN_EMPTY_BASE caught by TestMemberGrowShrinkUnderLoad"

TEST_STEPS += cluster-join-bug

# The Curve join's planted bug, on the test side (no build of its own): node 4 is added
# with another node's key before its raftd --join runs, which takes 409 member_exists at its
# own address as "already added"; the key in the configuration is not the joiner's, every
# member's ZAP handler refuses it, and TestMemberCurveJoin must fail.
.PHONY: cluster-curve-join-bug
cluster-curve-join-bug: go-deps build $(BUILD)/tests/peer_hostile
	@if cd tests/cluster && RAFTKV_PLANT_JOIN_STALE_KEY=1 RAFTKV_BIN=$(abspath $(BUILD)) \
		RAFTKV_TEST_OUT=$(abspath $(BUILD))/cluster-out-curve-join-bug \
		$(GO) test -count=1 -v -timeout 3m -run 'TestMemberCurveJoin' ./... \
		> $(abspath $(BUILD))/curve-join-bug.log 2>&1; then \
		echo "cluster-curve-join-bug: a joiner with a stale key in the configuration was NOT caught"; \
		exit 1; fi
	@grep -E "PLANTED|not a caught-up voter" $(BUILD)/curve-join-bug.log | head -2 | cut -c1-200
	@echo "cluster-curve-join-bug: the stale key was caught by TestMemberCurveJoin"

TEST_STEPS += cluster-curve-join-bug
# The install's planted bug: raftd built with RAFTD_BUG_INSTALL_NO_RETRY exits at the
# first snapshot install storaged refuses (docs/design.md, "Snapshots", disk full);
# TestSnapshotInstallRefused must fail.
INSTALL_BUG_BUILD := $(BUILD)-install-no-retry
.PHONY: cluster-install-bug
cluster-install-bug: go-deps
	@CFLAGS=-DRAFTD_BUG_INSTALL_NO_RETRY $(MAKE) --no-print-directory BUILD=$(INSTALL_BUG_BUILD) \
		$(INSTALL_BUG_BUILD)/raftd $(INSTALL_BUG_BUILD)/storaged $(INSTALL_BUG_BUILD)/gatewayd >/dev/null
	@if cd tests/cluster && RAFTKV_BIN=$(abspath $(INSTALL_BUG_BUILD)) \
		RAFTKV_TEST_OUT=$(abspath $(INSTALL_BUG_BUILD))/cluster-out \
		$(GO) test -count=1 -v -timeout 5m -run 'TestSnapshotInstallRefused' ./... \
		> $(abspath $(INSTALL_BUG_BUILD))/install.log 2>&1; then \
		echo "cluster-install-bug: RAFTD_BUG_INSTALL_NO_RETRY was NOT caught"; exit 1; fi
	@grep -E "not logged|exited" $(INSTALL_BUG_BUILD)/install.log | head -1 | cut -c1-200
	@echo "cluster-install-bug: RAFTD_BUG_INSTALL_NO_RETRY caught by TestSnapshotInstallRefused"

TEST_STEPS += cluster-install-bug

# The planted chunk bug: raftd built to read chunks only from an image it adopted drops
# the first chunks of an image made at a later index than the snapshot (docs/design.md,
# "Snapshots"); TestSnapshotWipedFollowerCatchesUp must fail.
CHUNKS_BUG_BUILD := $(BUILD)-pending-chunks
.PHONY: cluster-chunks-bug
cluster-chunks-bug: go-deps
	@CFLAGS=-DRAFTD_BUG_PENDING_CHUNKS_DROPPED $(MAKE) --no-print-directory BUILD=$(CHUNKS_BUG_BUILD) \
		$(CHUNKS_BUG_BUILD)/raftd $(CHUNKS_BUG_BUILD)/storaged $(CHUNKS_BUG_BUILD)/gatewayd >/dev/null
	@if cd tests/cluster && RAFTKV_BIN=$(abspath $(CHUNKS_BUG_BUILD)) \
		RAFTKV_TEST_OUT=$(abspath $(CHUNKS_BUG_BUILD))/cluster-out \
		$(GO) test -count=1 -v -timeout 5m -run 'TestSnapshotWipedFollowerCatchesUp$$' ./... \
		> $(abspath $(CHUNKS_BUG_BUILD))/chunks.log 2>&1; then \
		echo "cluster-chunks-bug: RAFTD_BUG_PENDING_CHUNKS_DROPPED was NOT caught"; exit 1; fi
	@grep -E "dropped unread" $(CHUNKS_BUG_BUILD)/chunks.log | head -1 | cut -c1-200
	@echo "cluster-chunks-bug: RAFTD_BUG_PENDING_CHUNKS_DROPPED caught by TestSnapshotWipedFollowerCatchesUp"

TEST_STEPS += cluster-chunks-bug

# The restarted leader's planted bug: a core built with RAFT_BUG_APPLIED_IGNORED keeps a
# restarted leader's commit index at its snapshot, below storaged's applied index
# (docs/design.md, "One fsync per write"); TestSnapshotRestartedLeaderAboveSnapshot must fail.
APPLIED_BUG_BUILD := $(BUILD)-applied-ignored
.PHONY: cluster-applied-bug
cluster-applied-bug: go-deps
	@CFLAGS=-DRAFT_BUG_APPLIED_IGNORED $(MAKE) --no-print-directory BUILD=$(APPLIED_BUG_BUILD) \
		$(APPLIED_BUG_BUILD)/raftd $(APPLIED_BUG_BUILD)/storaged $(APPLIED_BUG_BUILD)/gatewayd >/dev/null
	@if cd tests/cluster && RAFTKV_BIN=$(abspath $(APPLIED_BUG_BUILD)) \
		RAFTKV_TEST_OUT=$(abspath $(APPLIED_BUG_BUILD))/cluster-out \
		$(GO) test -count=1 -v -timeout 5m -run 'TestSnapshotRestartedLeaderAboveSnapshot' ./... \
		> $(abspath $(APPLIED_BUG_BUILD))/applied.log 2>&1; then \
		echo "cluster-applied-bug: RAFT_BUG_APPLIED_IGNORED was NOT caught"; exit 1; fi
	@grep -E "no write committed|never raised" $(APPLIED_BUG_BUILD)/applied.log | head -1 | cut -c1-200
	@echo "cluster-applied-bug: RAFT_BUG_APPLIED_IGNORED caught by TestSnapshotRestartedLeaderAboveSnapshot"

TEST_STEPS += cluster-applied-bug
