# services/gatewayd/module.mk - gatewayd, the HTTP API of a node (h2o 2.2.5 evloop).
#
# libgwcore.a holds the pure parts (routing, parsing, JSON, error bodies); libgw.a
# everything else but main() (the route table gw_routes.c with its handlers
# among it), so unit tests link the real route and request tables, replies
# and sockets; gatewayd is gw_main.o on top of both.

GW_DIR := services/gatewayd
GW_CORE_SRCS := $(GW_DIR)/gw_route.c $(GW_DIR)/gw_parse.c $(GW_DIR)/gw_json.c $(GW_DIR)/gw_auth.c \
	$(GW_DIR)/gw_errors.c
GW_SRCS := $(filter-out $(GW_CORE_SRCS) $(GW_DIR)/gw_main.c,$(wildcard $(GW_DIR)/gw_*.c)) \
	$(wildcard $(GW_DIR)/seeds/gw_*.c) $(wildcard $(GW_DIR)/ui/gw_*.c)
GW_LIBS := $(shell pkg-config --libs libh2o-evloop 2>/dev/null || echo -lh2o-evloop) \
	-lssl -lcrypto -lz -lzmq -lpthread

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

TEST_LIBS_test_gw_route := $(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a \
	$(BUILD)/libcommon.a $(GW_LIBS)
TEST_LIBS_test_gw_json := $(BUILD)/libgwcore.a
TEST_LIBS_test_gw_parse := $(BUILD)/libgwcore.a
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
$(BUILD)/gw-bug/gw_seed.o: $(GW_DIR)/seeds/gw_seed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DGW_BUG_SEED_KEY_UNCHECKED -c $< -o $@

$(BUILD)/gw-bug/bin/gatewayd: $(BUILD)/$(GW_DIR)/gw_main.o $(BUILD)/gw-bug/gw_seed.o \
		$(BUILD)/libgw.a $(BUILD)/libgwcore.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(GW_LIBS)

.PHONY: gw-bugs
gw-bugs: $(BUILD)/gw-bug/bin/gatewayd $(BUILD)/raftd $(BUILD)/storaged
	@ln -sf $(abspath $(BUILD))/raftd $(abspath $(BUILD))/storaged $(BUILD)/gw-bug/bin/
	@if timeout 180 tests/seeds/seeds_test.sh $(abspath $(BUILD))/gw-bug/bin \
		>$(BUILD)/gw-bug/seeds.out 2>&1; then \
		echo "gw-bugs: GW_BUG_SEED_KEY_UNCHECKED was NOT caught"; exit 1; fi
	@grep -q "^FAIL: .* with a token for app/" \
		$(BUILD)/gw-bug/seeds.out || \
		{ echo "gw-bugs: seeds-test failed, but not at a token prefix check:"; \
		  grep FAIL $(BUILD)/gw-bug/seeds.out; exit 1; }
	@echo "gw-bugs: GW_BUG_SEED_KEY_UNCHECKED caught by seeds-test:" \
		"$$(grep -m1 FAIL $(BUILD)/gw-bug/seeds.out)"

TEST_STEPS += gw-bugs
