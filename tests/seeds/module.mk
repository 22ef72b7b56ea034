# tests/seeds/module.mk - the seed projects' README sessions and the web
# dashboard, each against a real 3-node cluster on loopback:
#   make seeds-test   tests/seeds/seeds_test.sh (curl, byte-for-byte answers)
#   make ui-test      tests/seeds/ui_test.sh (headless Chromium on /ui/;
#                     its screenshot is build/ui-dashboard.png)

.PHONY: seeds-test
seeds-test: $(BUILD)/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	timeout 180 tests/seeds/seeds_test.sh $(abspath $(BUILD))

TEST_STEPS += seeds-test
