# tests/cluster: real processes on loopback, checked with Go's test runner and
# porcupine (linearizability). `make cluster-test` runs them all;
# CLUSTER_RUN=Regexp selects tests; CLUSTER_CURVE=1 runs them with CurveZMQ
# between raftd peers (keys made by raftkvctl keygen).

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
CLUSTER_RUN ?= .
CLUSTER_TIMEOUT ?= 15m
CLUSTER_CURVE ?= 0

$(BUILD)/tests/peer_hostile: $(BUILD)/tests/cluster/peer_hostile/peer_hostile.o $(BUILD)/libproto.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lzmq -lmsgpackc

.PHONY: cluster-test go-deps
go-deps:
	@tools/install-go.sh
	cd tests/cluster && $(GO) mod download

cluster-test: go-deps build $(BUILD)/tests/peer_hostile
	cd tests/cluster && RAFTKV_CLUSTER_CURVE=$(CLUSTER_CURVE) RAFTKV_BIN=$(abspath $(BUILD)) RAFTKV_TEST_OUT=$(abspath $(BUILD))/cluster-out \
		$(GO) test -count=1 -v -timeout $(CLUSTER_TIMEOUT) -run '$(CLUSTER_RUN)' ./... 2>&1 | \
		tee $(abspath $(BUILD))/cluster-test.log | grep -E '^(=== RUN|--- |\s+\w+_test.go|PASS|FAIL|ok|panic)' ; \
		exit $${PIPESTATUS[0]}

TEST_STEPS += cluster-test
