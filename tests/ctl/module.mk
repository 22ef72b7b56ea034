# tests/ctl/module.mk - raftkvctl against real local clusters (tests/ctl/ctl_test.sh):
# plaintext and SECURE=1, failover, TLS, tokens, client certificates, exit codes.

.PHONY: ctl-test
ctl-test: $(BUILD)/raftkvctl $(BUILD)/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	BIN_DIR=$(BUILD) timeout 300 tests/ctl/ctl_test.sh

TEST_STEPS += ctl-test
