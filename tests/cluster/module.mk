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

# The cluster tests' planted raftd bugs. Each switch is read only in raftd's
# sources: RAFT_BUG_X through its hook raft_bug_x() (raft_bugs.h) in the core or
# the executor, RAFTD_BUG_X by an #ifdef in the driver. `make cluster-NAME-bug`
# compiles just the files that name the switch or its hook (grep) with -DSWITCH
# into $(BUILD)/cluster-bug-NAME/, links them ahead of the normal build's other
# raftd objects and libraries (their own copies in libraftcore.a or libraftexec.a
# are then not pulled in) into raftd there, and links the normal storaged and
# gatewayd beside it; RAFTKV_BIN points at that directory. The raftd is built by a
# second make that takes the caller's -j, or -j2 when it was given none (`make
# test`). The named test must fail, with a "--- FAIL" of its own in the log.
CLUSTER_BUG_RAFTD_SRCS := $(RAFT_CORE_SRCS) $(RAFT_EXEC_SRCS) $(RAFTD_SRCS)
CLUSTER_BUG_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j2)

# $(1): the target's NAME, $(2): the switch, $(3): the test (a -run regexp and the
# start of its name), $(4): grep -E for the log line that says what went wrong.
define CLUSTER_BUG_RULES
CLUSTER_BUG_SRCS_$(1) := $$(shell grep -lw -e $(2) -e $$(shell echo $(2) | tr A-Z a-z) \
	$(CLUSTER_BUG_RAFTD_SRCS))

$(BUILD)/cluster-bug-$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -D$(2) -c $$< -o $$@

$(BUILD)/cluster-bug-$(1)/raftd: $$(CLUSTER_BUG_SRCS_$(1):%.c=$(BUILD)/cluster-bug-$(1)/%.o) \
		$$(filter-out $$(CLUSTER_BUG_SRCS_$(1):%.c=$(BUILD)/%.o),$(RAFTD_OBJS)) $(RAFTD_LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ -lzmq -ljansson -lssl -lcrypto

.PHONY: cluster-$(1)-bug
cluster-$(1)-bug: go-deps $(BUILD)/storaged $(BUILD)/gatewayd
	@$$(MAKE) --no-print-directory $$(CLUSTER_BUG_JOBS) $(BUILD)/cluster-bug-$(1)/raftd >/dev/null
	@ln -sf $(abspath $(BUILD))/storaged $(abspath $(BUILD))/gatewayd $(BUILD)/cluster-bug-$(1)/
	@if cd tests/cluster && RAFTKV_BIN=$(abspath $(BUILD))/cluster-bug-$(1) \
		RAFTKV_TEST_OUT=$(abspath $(BUILD))/cluster-bug-$(1)/cluster-out \
		$$(GO) test -count=1 -v -timeout 5m -run '$(3)' ./... \
		> $(abspath $(BUILD))/cluster-bug-$(1)/test.log 2>&1; then \
		echo "cluster-$(1)-bug: $(2) was NOT caught by $(3)"; exit 1; fi
	@grep -q -- "--- FAIL: $(3)" $(BUILD)/cluster-bug-$(1)/test.log || \
		{ echo "cluster-$(1)-bug: the run failed, but not in $(3):"; \
		  tail -20 $(BUILD)/cluster-bug-$(1)/test.log; exit 1; }
	@grep -m1 -E "$(4)" $(BUILD)/cluster-bug-$(1)/test.log | cut -c1-200; true
	@echo "cluster-$(1)-bug: $(2) caught by $$$$(grep -m1 -o -- '--- FAIL: $(3)[A-Za-z0-9_]*' \
		$(BUILD)/cluster-bug-$(1)/test.log | cut -c11-)"

TEST_STEPS += cluster-$(1)-bug
endef

# F15: raftd with RAFT_BUG_WIPED_VOTES (an empty-disk node votes);
# TestF15WipedNodeNeverVotesAndRejoins must fail.
$(eval $(call CLUSTER_BUG_RULES,f15,RAFT_BUG_WIPED_VOTES,TestF15,wiped node granted|elected with the wiped|lost))

# The join: raftd with RAFTD_BUG_JOIN_EMPTY_BASE boots a node that joined with an
# empty configuration instead of the members (docs/design.md, "Joining a running
# cluster"); the leader, which never compacted, sends its log from index 1 and the
# node never becomes a caught-up voter. TestMemberGrowShrinkUnderLoad must fail.
$(eval $(call CLUSTER_BUG_RULES,join,RAFTD_BUG_JOIN_EMPTY_BASE,TestMemberGrowShrinkUnderLoad,not a caught-up voter))

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

# The install: raftd with RAFTD_BUG_INSTALL_NO_RETRY exits at the first snapshot
# install storaged refuses (docs/design.md, "Snapshots", disk full);
# TestSnapshotInstallRefused must fail.
$(eval $(call CLUSTER_BUG_RULES,install,RAFTD_BUG_INSTALL_NO_RETRY,TestSnapshotInstallRefused,not logged|exited))

# The restarted leader: a core with RAFT_BUG_APPLIED_IGNORED keeps a restarted
# leader's commit index at its snapshot, below storaged's applied index
# (docs/design.md, "One fsync per write"); TestSnapshotRestartedLeaderAboveSnapshot
# must fail.
$(eval $(call CLUSTER_BUG_RULES,applied,RAFT_BUG_APPLIED_IGNORED,TestSnapshotRestartedLeaderAboveSnapshot,no write committed|never raised))

# The pending chunks: raftd with RAFTD_BUG_PENDING_CHUNKS_DROPPED reads snapshot chunks
# only from an image it adopted, so it drops the first chunks of an image made at a later
# index than the snapshot (docs/design.md, "Snapshots"); TestSnapshotWipedFollowerCatchesUp
# must fail.
$(eval $(call CLUSTER_BUG_RULES,chunks,RAFTD_BUG_PENDING_CHUNKS_DROPPED,TestSnapshotWipedFollowerCatchesUp,dropped unread))
