# tests/seeds/module.mk - the seed projects' README sessions and the web
# dashboard, each against a real 3-node cluster on loopback:
#   make seeds-test   tests/seeds/seeds_test.sh (curl, byte-for-byte answers)
#   make ui-test      tests/seeds/ui_test.sh (headless Chromium on /ui/;
#                     its screenshot is build/ui-dashboard.png)

.PHONY: seeds-test
seeds-test: $(BUILD)/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	timeout 180 tests/seeds/seeds_test.sh $(abspath $(BUILD))

TEST_STEPS += seeds-test

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)

$(BUILD)/tests/uidriver: $(wildcard tests/seeds/uidriver/*.go) tests/seeds/uidriver/go.mod
	@mkdir -p $(dir $@)
	cd tests/seeds/uidriver && $(GO) build -o $(abspath $@) .

.PHONY: ui-test
ui-test: go-deps $(BUILD)/gatewayd $(BUILD)/raftd $(BUILD)/storaged $(BUILD)/tests/uidriver
	timeout 240 tests/seeds/ui_test.sh $(abspath $(BUILD)) $(abspath $(BUILD))/tests/uidriver

TEST_STEPS += ui-test
