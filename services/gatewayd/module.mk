# services/gatewayd/module.mk - gatewayd, the HTTP API of a node (h2o 2.2.5 evloop).
#
# libgwcore.a holds the pure parts (routing, parsing, JSON, error bodies); libgw.a
# everything else but main() (the route table gw_routes.c with its handlers
# among it), so unit tests link the real route and request tables, replies
# and sockets; gatewayd is gw_main.o on top of both.

GW_DIR := services/gatewayd
GW_CORE_SRCS := $(GW_DIR)/gw_route.c $(GW_DIR)/gw_parse.c $(GW_DIR)/gw_json.c $(GW_DIR)/gw_auth.c \
	$(GW_DIR)/gw_errors.c $(GW_DIR)/gw_watch_parse.c $(GW_DIR)/gw_watch_format.c \
	$(GW_DIR)/gw_txn_parse.c $(GW_DIR)/gw_member_parse.c $(GW_DIR)/gw_body_check.c \
	$(GW_DIR)/gw_read_batch.c
GW_SRCS := $(filter-out $(GW_CORE_SRCS) $(GW_DIR)/gw_main.c,$(wildcard $(GW_DIR)/gw_*.c)) \
	$(wildcard $(GW_DIR)/seeds/gw_*.c) $(wildcard $(GW_DIR)/ui/gw_*.c)
# libsm.a: the local reads (gw_local.c) open storaged's environment read-only
GW_LIBS := $(BUILD)/libsm.a $(shell pkg-config --libs libh2o-evloop 2>/dev/null || echo -lh2o-evloop) \
	-lssl -lcrypto -lz -lzmq -lpthread -ljansson -llmdb -lfiu $(BUILD)/libproto.a $(BUILD)/libcommon.a

$(BUILD)/libgwcore.a: $(GW_CORE_SRCS:%.c=$(BUILD)/%.o)
	ar rcs $@ $^

$(BUILD)/libgw.a: $(GW_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/gw_ui_html.o
	ar rcs $@ $^

# the dashboard (/ui/), one HTML file compiled in as an array
$(BUILD)/gen/gw_ui_html.c: $(GW_DIR)/ui/dashboard.html $(GW_DIR)/ui/embed_html.sh
	@mkdir -p $(dir $@)
	$(GW_DIR)/ui/embed_html.sh $< gw_ui_html >$@

$(BUILD)/gen/gw_ui_html.o: $(BUILD)/gen/gw_ui_html.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(BUILD)/libgw.a $(BUILD)/libgwcore.a \
		$(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

BINS += $(BUILD)/gatewayd

# every binary linked with $(GW_LIBS) needs libsm.a built first
$(BUILD)/gatewayd $(BUILD)/gw-bug-seed/bin/gatewayd $(BUILD)/gw-bug-lease/bin/gatewayd \
	$(BUILD)/gw-bug/gatewayd $(BUILD)/gw-bug-peers/test_gw_peers \
	$(BUILD)/gw-bug-peers/bin/gatewayd $(BUILD)/gw-bug-member/gatewayd \
	$(BUILD)/gw-bug-quorum/gatewayd $(BUILD)/gw-bug-consul-metrics/gatewayd \
	$(BUILD)/gw-bug-ready/test_gw_health: $(BUILD)/libsm.a

TEST_LIBS_test_gw_route := $(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a \
	$(BUILD)/libcommon.a $(GW_LIBS)
TEST_LIBS_test_gw_consul := $(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a \
	$(BUILD)/libcommon.a $(GW_LIBS)
TEST_LIBS_test_gw_json := $(BUILD)/libgwcore.a
TEST_LIBS_test_gw_txn_parse := $(BUILD)/libgwcore.a $(BUILD)/libproto.a -ljansson
TEST_LIBS_test_gw_parse := $(BUILD)/libgwcore.a
TEST_LIBS_test_gw_watch := $(BUILD)/libgwcore.a
TEST_LIBS_test_gw_auth := $(BUILD)/libgwcore.a -lcrypto
TEST_LIBS_test_gw_pending := $(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a \
	$(BUILD)/libcommon.a $(GW_LIBS)

.PHONY: gatewayd
gatewayd: $(BUILD)/gatewayd

# gw-smoke: every endpoint through a real 3-node cluster (services/gatewayd/gw_smoke.sh)
.PHONY: gw-smoke
gw-smoke: $(BUILD)/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	timeout 120 $(GW_DIR)/gw_smoke.sh $(abspath $(BUILD))

TEST_STEPS += gw-smoke

TEST_LIBS_test_gw_seed_json := $(BUILD)/libgw.a $(BUILD)/libgwcore.a

# gw-bugs: a gatewayd whose seed handlers do not check the keys of JSON bodies against
# the token's prefix (GW_BUG_SEED_KEY_UNCHECKED) must fail the token phase of seeds-test
$(BUILD)/gw-bug-seed/gw_seed.o: $(GW_DIR)/seeds/gw_seed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_SEED_KEY_UNCHECKED -c $< -o $@

$(BUILD)/gw-bug-seed/bin/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(BUILD)/gw-bug-seed/gw_seed.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

# make gw-bugs: gatewayd built with GW_BUG_LEASE_TAKEOVER_EXPIRES (a new
# leader's lease clock treats every lease as due) must make the cluster test
# TestLeaseSurvivesLeaderChanges fail (a key that vanished early);
# TestLeaseLockOneHolder runs too and says whether it saw two holders (it does
# when a holder holds at the SIGSTOP of the leader: most runs, not all).
GW_LEASE_BUG_DIR := $(BUILD)/gw-bug-lease
$(GW_LEASE_BUG_DIR)/gw_lease_clock.o: $(GW_DIR)/gw_lease_clock.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_LEASE_TAKEOVER_EXPIRES -c $< -o $@

$(GW_LEASE_BUG_DIR)/bin/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(GW_LEASE_BUG_DIR)/gw_lease_clock.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

.PHONY: gw-bugs-seed
gw-bugs-seed: $(BUILD)/gw-bug-seed/bin/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	@ln -sf $(abspath $(BUILD))/raftd $(abspath $(BUILD))/storaged $(BUILD)/gw-bug-seed/bin/
	@if timeout 180 tests/seeds/seeds_test.sh $(abspath $(BUILD))/gw-bug-seed/bin \
		>$(BUILD)/gw-bug-seed/seeds.out 2>&1; then \
		echo "gw-bugs-seed: GW_BUG_SEED_KEY_UNCHECKED was NOT caught"; exit 1; fi
	@grep -q "^FAIL: .* with a token for app/" \
		$(BUILD)/gw-bug-seed/seeds.out || \
		{ echo "gw-bugs-seed: seeds-test failed, but not at a token prefix check:"; \
		  grep FAIL $(BUILD)/gw-bug-seed/seeds.out; exit 1; }
	@echo "gw-bugs-seed: GW_BUG_SEED_KEY_UNCHECKED caught by seeds-test:" \
		"$$(grep -m1 FAIL $(BUILD)/gw-bug-seed/seeds.out)"

.PHONY: gw-bugs-lease
gw-bugs-lease: go-deps build $(GW_LEASE_BUG_DIR)/bin/gatewayd
	@ln -sf $(abspath $(BUILD))/raftd $(abspath $(BUILD))/storaged $(GW_LEASE_BUG_DIR)/bin/
	@cd tests/cluster && RAFTKV_BIN=$(abspath $(GW_LEASE_BUG_DIR))/bin $(GO) test -count=1 -v \
		-timeout 5m -run '^(TestLeaseSurvivesLeaderChanges|TestLeaseLockOneHolder)$$' ./... \
		>$(abspath $(GW_LEASE_BUG_DIR))/test.out 2>&1; \
		if [ $$? -eq 0 ]; then echo "gw-bugs-lease: GW_BUG_LEASE_TAKEOVER_EXPIRES was NOT caught"; exit 1; fi
	@grep -q "before ttl after the last successful keepalive\|the lease is gone" $(GW_LEASE_BUG_DIR)/test.out || \
		{ echo "gw-bugs-lease: TestLeaseSurvivesLeaderChanges did not fail on a lease expired early"; \
		  tail -20 $(GW_LEASE_BUG_DIR)/test.out; exit 1; }
	@echo "gw-bugs-lease: GW_BUG_LEASE_TAKEOVER_EXPIRES caught by TestLeaseSurvivesLeaderChanges"
	@if grep -q "two holders" $(GW_LEASE_BUG_DIR)/test.out; then \
		echo "gw-bugs-lease: and TestLeaseLockOneHolder saw two holders of the lock"; \
	else echo "gw-bugs-lease: TestLeaseLockOneHolder did not see two holders this run"; fi

# gw-bugs: the planted bug (docs/testing.md). A gatewayd whose forwarded Consul
# requests lose their X-Raftkv-Consul mark must make the Consul cluster test fail
# (the leader would take a follower's ?cas= PUT as an unconditional raftkv PUT). The
# followers' raftds relay writes by default, so the test runs with --relay-writes false
# (RAFTKV_RELAY_WRITES) to send them over HTTP.
GW_BUG_DIR := $(BUILD)/gw-bug
$(GW_BUG_DIR)/gw_forward.o: $(GW_DIR)/gw_forward.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_CONSUL_FORWARD_UNMARKED -c $< -o $@

$(GW_BUG_DIR)/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(GW_BUG_DIR)/gw_forward.o $(BUILD)/libgw.a \
		$(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

.PHONY: gw-bugs-consul
gw-bugs-consul: go-deps $(GW_BUG_DIR)/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	@ln -sf $(abspath $(BUILD))/raftd $(abspath $(BUILD))/storaged $(GW_BUG_DIR)/
	@if (cd tests/cluster && RAFTKV_BIN=$(abspath $(GW_BUG_DIR)) RAFTKV_RELAY_WRITES=false \
		timeout 120 $(GO) test -count=1 \
		-run 'TestConsulKVThroughFollowers$$' . >$(abspath $(GW_BUG_DIR))/test.out 2>&1); then \
		echo "gw-bugs-consul: GW_BUG_CONSUL_FORWARD_UNMARKED was NOT caught"; exit 1; fi
	@grep -q -- "--- FAIL: TestConsulKVThroughFollowers" $(GW_BUG_DIR)/test.out || \
		{ echo "gw-bugs-consul: the test run failed, but not in TestConsulKVThroughFollowers"; exit 1; }
	@echo "gw-bugs-consul: GW_BUG_CONSUL_FORWARD_UNMARKED caught by TestConsulKVThroughFollowers:" \
		"$$(grep -m1 -E 'consul_test.go:[0-9]+' $(GW_BUG_DIR)/test.out | sed 's/^ *//')"

# gw-bugs-relay: a gatewayd that proposes again a relayed write whose answer has not
# come within 50 ms (GW_BUG_RELAY_RETRY_APPENDED: the first may have been appended)
# must make TestRelayedWritesApplyOnce fail (a key applied more than once).
GW_RELAY_BUG_DIR := $(BUILD)/gw-bug-relay
$(GW_RELAY_BUG_DIR)/gw_write.o: $(GW_DIR)/gw_write.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_RELAY_RETRY_APPENDED -c $< -o $@

$(GW_RELAY_BUG_DIR)/bin/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(GW_RELAY_BUG_DIR)/gw_write.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

.PHONY: gw-bugs-relay
gw-bugs-relay: go-deps build $(GW_RELAY_BUG_DIR)/bin/gatewayd
	@ln -sf $(abspath $(BUILD))/raftd $(abspath $(BUILD))/storaged $(GW_RELAY_BUG_DIR)/bin/
	@if (cd tests/cluster && RAFTKV_BIN=$(abspath $(GW_RELAY_BUG_DIR))/bin timeout 180 $(GO) test \
		-count=1 -v -run '^TestRelayedWritesApplyOnce$$' . >$(abspath $(GW_RELAY_BUG_DIR))/test.out 2>&1); then \
		echo "gw-bugs-relay: GW_BUG_RELAY_RETRY_APPENDED was NOT caught"; exit 1; fi
	@grep -q "applied more than once" $(GW_RELAY_BUG_DIR)/test.out || \
		{ echo "gw-bugs-relay: TestRelayedWritesApplyOnce failed, but not on a write applied twice"; \
		  tail -20 $(GW_RELAY_BUG_DIR)/test.out; exit 1; }
	@echo "gw-bugs-relay: GW_BUG_RELAY_RETRY_APPENDED caught by TestRelayedWritesApplyOnce:" \
		"$$(grep -m1 'writes applied more than once' $(GW_RELAY_BUG_DIR)/test.out | sed 's/^ *//')"

# gw-bugs-peers: a gatewayd that never learns a member's gateway from the
# configuration (GW_BUG_PEERS_STATIC: --gateways only) must fail test_gw_peers.
GW_PEERS_BUG_DIR := $(BUILD)/gw-bug-peers
$(GW_PEERS_BUG_DIR)/gw_peers.o: $(GW_DIR)/gw_peers.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_PEERS_STATIC -c $< -o $@

$(GW_PEERS_BUG_DIR)/test_gw_peers: $(BUILD)/tests/unit/test_gw_peers.o $(GW_PEERS_BUG_DIR)/gw_peers.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS) -lcmocka

$(GW_PEERS_BUG_DIR)/bin/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(GW_PEERS_BUG_DIR)/gw_peers.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

# ... and TestMemberLearnerLeads: a write through node 1 while node 4 (added later) leads,
# forwarded over HTTP (--relay-writes false: a relayed write needs no gateway URL)
.PHONY: gw-bugs-peers
gw-bugs-peers: $(GW_PEERS_BUG_DIR)/test_gw_peers $(GW_PEERS_BUG_DIR)/bin/gatewayd go-deps build
	@ln -sf $(abspath $(BUILD))/raftd $(abspath $(BUILD))/storaged $(abspath $(BUILD))/raftkvctl \
		$(GW_PEERS_BUG_DIR)/bin/
	@if (cd tests/cluster && RAFTKV_BIN=$(abspath $(GW_PEERS_BUG_DIR))/bin \
		RAFTKV_RELAY_WRITES=false timeout 120 $(GO) test \
		-count=1 -run 'TestMemberLearnerLeads$$' . >$(abspath $(GW_PEERS_BUG_DIR))/cluster.out 2>&1); \
		then echo "gw-bugs-peers: GW_BUG_PEERS_STATIC was NOT caught by TestMemberLearnerLeads"; exit 1; fi
	@grep -q "its --gateways lack node 4" $(GW_PEERS_BUG_DIR)/cluster.out || \
		{ echo "gw-bugs-peers: TestMemberLearnerLeads failed, but not on the forward to node 4"; exit 1; }
	@echo "gw-bugs-peers: GW_BUG_PEERS_STATIC caught by TestMemberLearnerLeads:" \
		"$$(grep -m1 'its --gateways lack node 4' $(GW_PEERS_BUG_DIR)/cluster.out | sed 's/^ *//')"
	@if CMOCKA_MESSAGE_OUTPUT=stdout $< >$(GW_PEERS_BUG_DIR)/test.out 2>&1; then \
		echo "gw-bugs-peers: GW_BUG_PEERS_STATIC was NOT caught"; exit 1; fi
	@grep -q "FAILED  \] test_learns_new_members" $(GW_PEERS_BUG_DIR)/test.out || \
		{ echo "gw-bugs-peers: test_gw_peers failed, but not in test_learns_new_members"; exit 1; }
	@echo "gw-bugs-peers: GW_BUG_PEERS_STATIC caught by test_gw_peers:" \
		"$$(grep -m1 -E 'error|Failure' $(GW_PEERS_BUG_DIR)/test.out)"

# gw-bugs-member: a gatewayd that answers a membership change as soon as raftd
# has appended it (GW_BUG_MEMBER_ANSWER_UNCOMMITTED), as DELETE /v1/members did,
# must fail TestMemberAPIBadInput: its removal is answered while no follower runs.
GW_MEMBER_BUG_DIR := $(BUILD)/gw-bug-member
$(GW_MEMBER_BUG_DIR)/gw_member_change.o: $(GW_DIR)/gw_member_change.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_MEMBER_ANSWER_UNCOMMITTED -c $< -o $@

$(GW_MEMBER_BUG_DIR)/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(GW_MEMBER_BUG_DIR)/gw_member_change.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

.PHONY: gw-bugs-member
gw-bugs-member: go-deps $(GW_MEMBER_BUG_DIR)/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	@ln -sf $(abspath $(BUILD))/raftd $(abspath $(BUILD))/storaged $(GW_MEMBER_BUG_DIR)/
	@if (cd tests/cluster && RAFTKV_BIN=$(abspath $(GW_MEMBER_BUG_DIR)) timeout 120 $(GO) test -count=1 \
		-run 'TestMemberAPIBadInput$$' . >$(abspath $(GW_MEMBER_BUG_DIR))/test.out 2>&1); then \
		echo "gw-bugs-member: GW_BUG_MEMBER_ANSWER_UNCOMMITTED was NOT caught"; exit 1; fi
	@grep -q "answered while no follower could store it" $(GW_MEMBER_BUG_DIR)/test.out || \
		{ echo "gw-bugs-member: the test failed, but not on an answer before commit"; \
		  grep -m3 -E 'member_api_test.go:[0-9]+' $(GW_MEMBER_BUG_DIR)/test.out; exit 1; }
	@echo "gw-bugs-member: GW_BUG_MEMBER_ANSWER_UNCOMMITTED caught by TestMemberAPIBadInput:" \
		"$$(grep -m1 'answered while no follower' $(GW_MEMBER_BUG_DIR)/test.out | sed 's/^ *//')"

# gw-bugs-quorum: a gatewayd that counts every remaining voter as heard from
# (GW_BUG_MEMBER_QUORUM_COUNTS_ALL) must fail TestMemberRemoveWouldLoseQuorum:
# it proposes the removal of the live follower while the other is stopped.
GW_QUORUM_BUG_DIR := $(BUILD)/gw-bug-quorum
$(GW_QUORUM_BUG_DIR)/gw_member_change.o: $(GW_DIR)/gw_member_change.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_MEMBER_QUORUM_COUNTS_ALL -c $< -o $@

$(GW_QUORUM_BUG_DIR)/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(GW_QUORUM_BUG_DIR)/gw_member_change.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

.PHONY: gw-bugs-quorum
gw-bugs-quorum: go-deps $(GW_QUORUM_BUG_DIR)/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	@ln -sf $(abspath $(BUILD))/raftd $(abspath $(BUILD))/storaged $(GW_QUORUM_BUG_DIR)/
	@if (cd tests/cluster && RAFTKV_BIN=$(abspath $(GW_QUORUM_BUG_DIR)) timeout 120 $(GO) test -count=1 \
		-run 'TestMemberRemoveWouldLoseQuorum$$' . >$(abspath $(GW_QUORUM_BUG_DIR))/test.out 2>&1); then \
		echo "gw-bugs-quorum: GW_BUG_MEMBER_QUORUM_COUNTS_ALL was NOT caught"; exit 1; fi
	@grep -q "want 409 would_lose_quorum" $(GW_QUORUM_BUG_DIR)/test.out || \
		{ echo "gw-bugs-quorum: the test failed, but not on the quorum refusal"; \
		  grep -m3 -E 'member_api_test.go:[0-9]+' $(GW_QUORUM_BUG_DIR)/test.out; exit 1; }
	@echo "gw-bugs-quorum: GW_BUG_MEMBER_QUORUM_COUNTS_ALL caught by TestMemberRemoveWouldLoseQuorum:" \
		"$$(grep -m1 'want 409 would_lose_quorum' $(GW_QUORUM_BUG_DIR)/test.out | sed 's/^ *//')"

# gw-bugs-consul-metrics: a gatewayd that counts the Consul API's requests under
# route="none" (GW_BUG_CONSUL_METRICS_NONE), as it did, must fail
# TestConsulUnsupportedAreErrors: its /metrics lacks the Consul route labels.
GW_CMETRICS_BUG_DIR := $(BUILD)/gw-bug-consul-metrics
$(GW_CMETRICS_BUG_DIR)/gw_metrics.o: $(GW_DIR)/gw_metrics.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_CONSUL_METRICS_NONE -c $< -o $@

$(GW_CMETRICS_BUG_DIR)/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(GW_CMETRICS_BUG_DIR)/gw_metrics.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

.PHONY: gw-bugs-consul-metrics
gw-bugs-consul-metrics: go-deps $(GW_CMETRICS_BUG_DIR)/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	@ln -sf $(abspath $(BUILD))/raftd $(abspath $(BUILD))/storaged $(GW_CMETRICS_BUG_DIR)/
	@if (cd tests/cluster && RAFTKV_BIN=$(abspath $(GW_CMETRICS_BUG_DIR)) timeout 120 $(GO) test -count=1 \
		-run 'TestConsulUnsupportedAreErrors$$' . >$(abspath $(GW_CMETRICS_BUG_DIR))/test.out 2>&1); then \
		echo "gw-bugs-consul-metrics: GW_BUG_CONSUL_METRICS_NONE was NOT caught"; exit 1; fi
	@grep -q '/metrics has no raftkv_http_requests_total{route="consul_kv"' $(GW_CMETRICS_BUG_DIR)/test.out || \
		{ echo "gw-bugs-consul-metrics: the test failed, but not on the route labels"; \
		  grep -m3 -E 'consul_test.go:[0-9]+' $(GW_CMETRICS_BUG_DIR)/test.out; exit 1; }
	@echo "gw-bugs-consul-metrics: GW_BUG_CONSUL_METRICS_NONE caught by TestConsulUnsupportedAreErrors:" \
		"$$(grep -m1 '/metrics has no' $(GW_CMETRICS_BUG_DIR)/test.out | sed 's/^ *//')"

# gw-bugs-ready: a gatewayd whose /readyz compares the applied index with this node's
# own commit index (GW_BUG_READY_OWN_COMMIT), which a node restarted empty raises only
# as fast as its log comes back, must fail test_gw_health. TestWipedFollowerCatchesUp
# watches /readyz end to end, but it sees the bug only when the restarted node's
# storaged keeps up with its log (about half the runs here), so the target asks it
# only for the unit test.
GW_READY_BUG_DIR := $(BUILD)/gw-bug-ready
$(GW_READY_BUG_DIR)/gw_health.o: $(GW_DIR)/gw_health.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_READY_OWN_COMMIT -c $< -o $@

$(GW_READY_BUG_DIR)/test_gw_health: $(BUILD)/tests/unit/test_gw_health.o $(GW_READY_BUG_DIR)/gw_health.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS) -lcmocka

.PHONY: gw-bugs-ready
gw-bugs-ready: $(GW_READY_BUG_DIR)/test_gw_health
	@if CMOCKA_MESSAGE_OUTPUT=stdout $< >$(GW_READY_BUG_DIR)/test.out 2>&1; then \
		echo "gw-bugs-ready: GW_BUG_READY_OWN_COMMIT was NOT caught"; exit 1; fi
	@grep -q "FAILED  \] test_empty_node_behind_leader_not_ready" $(GW_READY_BUG_DIR)/test.out || \
		{ echo "gw-bugs-ready: test_gw_health failed, but not in test_empty_node_behind_leader_not_ready"; \
		  exit 1; }
	@echo "gw-bugs-ready: GW_BUG_READY_OWN_COMMIT caught by test_gw_health:" \
		"$$(grep -m1 -E 'error|Failure' $(GW_READY_BUG_DIR)/test.out)"

# gw-bugs-local: the local reads (gw_local.c, the one file that reads each switch)
# built with a planted bug must make test_gw_local fail in the named test
# (SWITCH:test):
#   GW_BUG_LOCAL_READ_IGNORES_INDEX  serves a state older than the read index
#   GW_BUG_LOCAL_READ_KEEPS_OLD_ENV  never notices a snapshot installed over the file
GW_LOCAL_BUGS := GW_BUG_LOCAL_READ_IGNORES_INDEX:test_refuses_index_above_applied \
	GW_BUG_LOCAL_READ_KEEPS_OLD_ENV:test_follows_installed_snapshot

# $(1): the switch. Object and test binary under build/gw-bug-local/$(1)/.
define GW_LOCAL_BUG_RULES
$(BUILD)/gw-bug-local/$(1)/gw_local.o: $(GW_DIR)/gw_local.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -D$(1) -c $$< -o $$@

$(BUILD)/gw-bug-local/$(1)/test_gw_local: $(BUILD)/tests/unit/test_gw_local.o \
		$(BUILD)/gw-bug-local/$(1)/gw_local.o $(BUILD)/libsm.a $(BUILD)/libproto.a \
		$(BUILD)/libcommon.a
	$$(CC) $$(LDFLAGS) -o $$@ $$^ -llmdb -lfiu -lcmocka

$(BUILD)/gw-bug-local/$(1)/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o \
		$(BUILD)/gw-bug-local/$(1)/gw_local.o $(BUILD)/libgw.a $(BUILD)/libgwcore.a \
		$(BUILD)/libproto.a $(BUILD)/libcommon.a $(BUILD)/libsm.a
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter-out %/libsm.a,$$^) $(GW_LIBS)
endef
$(foreach b,$(GW_LOCAL_BUGS),$(eval $(call GW_LOCAL_BUG_RULES,$(firstword $(subst :, ,$(b))))))

.PHONY: gw-bugs-local
gw-bugs-local: $(foreach b,$(GW_LOCAL_BUGS),$(BUILD)/gw-bug-local/$(firstword $(subst :, ,$(b)))/test_gw_local)
	@for b in $(GW_LOCAL_BUGS); do \
		bug=$${b%%:*}; test=$${b#*:}; bin=$(BUILD)/gw-bug-local/$$bug/test_gw_local; \
		if CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 $$bin >$$bin.out 2>&1; then \
			echo "gw-bugs-local: $$bug was NOT caught"; exit 1; fi; \
		grep -q "FAILED.*$$test" $$bin.out || \
			{ echo "gw-bugs-local: $$bug made test_gw_local fail, but not in $$test"; exit 1; }; \
		echo "gw-bugs-local: $$bug caught by test_gw_local $$test:" \
			"$$(grep -m1 -E 'error|Failure' $$bin.out)"; \
	done

.PHONY: gw-bugs
gw-bugs: gw-bugs-lease gw-bugs-consul gw-bugs-seed gw-bugs-peers gw-bugs-member gw-bugs-quorum \
	gw-bugs-consul-metrics gw-bugs-ready gw-bugs-local gw-bugs-rbatch gw-bugs-relay

TEST_STEPS += gw-bugs

TEST_LIBS_test_gw_member_parse := $(BUILD)/libgwcore.a -ljansson
TEST_LIBS_test_gw_read_batch := $(BUILD)/libgwcore.a

# gw-bugs-rbatch: the READ_INDEX batches (gw_read_batch.c) built with
# GW_BUG_READ_BATCH_STAYS_OPEN (a batch already sent takes later reads, whose index
# could then predate them) must make test_gw_read_batch fail in
# test_later_read_not_in_sent_batch.
GW_RBATCH_BUG_DIR := $(BUILD)/gw-bug-rbatch
$(GW_RBATCH_BUG_DIR)/gw_read_batch.o: $(GW_DIR)/gw_read_batch.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_READ_BATCH_STAYS_OPEN -c $< -o $@
$(GW_RBATCH_BUG_DIR)/test_gw_read_batch: $(BUILD)/tests/unit/test_gw_read_batch.o \
		$(GW_RBATCH_BUG_DIR)/gw_read_batch.o $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka

.PHONY: gw-bugs-rbatch
gw-bugs-rbatch: $(GW_RBATCH_BUG_DIR)/test_gw_read_batch
	@if $< >$(GW_RBATCH_BUG_DIR)/out.txt 2>&1; then \
		echo "gw-bugs-rbatch: GW_BUG_READ_BATCH_STAYS_OPEN was NOT caught"; exit 1; fi
	@grep -q '^\[  FAILED  \] test_later_read_not_in_sent_batch' $(GW_RBATCH_BUG_DIR)/out.txt || \
		{ echo "gw-bugs-rbatch: the bug made test_gw_read_batch fail, but not in" \
			"test_later_read_not_in_sent_batch"; cat $(GW_RBATCH_BUG_DIR)/out.txt; exit 1; }
	@echo "gw-bugs-rbatch: GW_BUG_READ_BATCH_STAYS_OPEN caught by test_gw_read_batch" \
		"test_later_read_not_in_sent_batch: $$(grep -m1 -E 'Failure|error' $(GW_RBATCH_BUG_DIR)/out.txt)"
TEST_LIBS_test_gw_health := $(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a \
	$(BUILD)/libcommon.a $(GW_LIBS)
TEST_LIBS_test_gw_peers := $(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a \
	$(BUILD)/libcommon.a $(GW_LIBS)
TEST_LIBS_test_gw_local := $(BUILD)/libgw.a $(BUILD)/libsm.a $(BUILD)/libproto.a \
	$(BUILD)/libcommon.a -llmdb -lfiu
