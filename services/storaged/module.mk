# services/storaged/module.mk - the LMDB state machine (libsm.a), the
# storaged daemon, its unit tests' libraries and `make bench-sm`.

SM_SRCS := $(wildcard services/storaged/sm_*.c)
SM_OBJS := $(SM_SRCS:%.c=$(BUILD)/%.o)
STORAGED_SRCS := $(wildcard services/storaged/storaged_*.c)
STORAGED_OBJS := $(STORAGED_SRCS:%.c=$(BUILD)/%.o)
SM_LDLIBS := -llmdb -lfiu
STORAGED_LDLIBS := -llmdb -lfiu -lzmq -lpthread

# libfiu fault points (sm_batch.c, sm_env.c) are compiled in: inert until a test or
# fiu-run enables them.
$(BUILD)/services/storaged/sm_batch.o $(BUILD)/services/storaged/sm_env.o: CFLAGS += -DFIU_ENABLE

$(BUILD)/libsm.a: $(SM_OBJS)
	ar rcs $@ $^

$(BUILD)/storaged: $(STORAGED_OBJS) $(BUILD)/libsm.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $(STORAGED_OBJS) $(BUILD)/libsm.a $(BUILD)/libproto.a \
		$(BUILD)/libcommon.a $(STORAGED_LDLIBS)

BINS += $(BUILD)/storaged

# Unit tests (tests/unit/module.mk builds them; these name their libraries).
TEST_LIBS_test_sm := $(BUILD)/libsm.a $(SM_LDLIBS)
TEST_LIBS_test_sm_event := $(BUILD)/libsm.a $(SM_LDLIBS)
TEST_LIBS_test_sm_txn := $(BUILD)/libsm.a $(SM_LDLIBS)
TEST_LIBS_test_storaged_ipc := -lzmq
# The ipc test starts the real daemon: build it first and tell the test where.
$(BUILD)/tests/unit/test_storaged_ipc: $(BUILD)/storaged
$(BUILD)/tests/unit/test_storaged_ipc.o: CFLAGS += -DSTORAGED_BIN='"$(BUILD)/storaged"'

# Applied entries per second, batches of 64 PUTs of 100-byte values.
$(BUILD)/bench_sm: $(BUILD)/services/storaged/bench/bench_sm.o $(BUILD)/libsm.a \
		$(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libsm.a $(BUILD)/libproto.a $(BUILD)/libcommon.a \
		$(SM_LDLIBS)

.PHONY: bench-sm
bench-sm: $(BUILD)/bench_sm
	timeout 120 $(BUILD)/bench_sm

# The planted bug (docs/testing.md "Proving the tests can fail"): libsm built with
# the applied index committed outside the data transaction must make test_sm
# fail its F4 crash test.
SM_BUG_OBJS := $(SM_SRCS:%.c=$(BUILD)/sm-bug/%.o)
$(BUILD)/sm-bug/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFIU_ENABLE -DSM_BUG_APPLIED_OUTSIDE_TXN -c $< -o $@

$(BUILD)/sm-bug/libsm.a: $(SM_BUG_OBJS)
	ar rcs $@ $^

$(BUILD)/sm-bug/test_sm: $(BUILD)/tests/unit/test_sm.o $(BUILD)/sm-bug/libsm.a \
		$(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(SM_LDLIBS) -lcmocka

.PHONY: sm-bugs
sm-bugs: $(BUILD)/sm-bug/test_sm
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 $< >$(BUILD)/sm-bug/test_sm.out 2>&1; then \
		echo "sm-bugs: SM_BUG_APPLIED_OUTSIDE_TXN was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_crash_before_commit" $(BUILD)/sm-bug/test_sm.out || \
		{ echo "sm-bugs: test_sm failed, but not in test_crash_before_commit"; exit 1; }
	@echo "sm-bugs: SM_BUG_APPLIED_OUTSIDE_TXN caught by test_crash_before_commit"

TEST_STEPS += sm-bugs

# The planted watch bug: libsm built with trimmed events left unmarked (a watcher
# resuming below the history would silently miss changes instead of getting 410)
# must make test_sm_event fail its trim test.
SM_EVBUG_OBJS := $(SM_SRCS:%.c=$(BUILD)/sm-evbug/%.o)
$(BUILD)/sm-evbug/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFIU_ENABLE -DSM_BUG_EVENT_TRIM_UNMARKED -c $< -o $@

$(BUILD)/sm-evbug/libsm.a: $(SM_EVBUG_OBJS)
	ar rcs $@ $^

$(BUILD)/sm-evbug/test_sm_event: $(BUILD)/tests/unit/test_sm_event.o $(BUILD)/sm-evbug/libsm.a \
		$(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(SM_LDLIBS) -lcmocka

.PHONY: sm-watch-bugs
sm-watch-bugs: $(BUILD)/sm-evbug/test_sm_event
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 $< >$(BUILD)/sm-evbug/test_sm_event.out 2>&1; then \
		echo "sm-watch-bugs: SM_BUG_EVENT_TRIM_UNMARKED was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_trim_count" $(BUILD)/sm-evbug/test_sm_event.out || \
		{ echo "sm-watch-bugs: test_sm_event failed, but not in test_trim_count"; exit 1; }
	@echo "sm-watch-bugs: SM_BUG_EVENT_TRIM_UNMARKED caught by test_trim_count"

TEST_STEPS += sm-watch-bugs
# The planted bug of transactions: sm_txn.c built with SM_BUG_TXN_NOT_ATOMIC
# (a branch's ops outside their nested transaction) must make test_sm_txn
# fail where a refused branch must leave nothing behind.
$(BUILD)/sm-txn-bug/sm_txn.o: services/storaged/sm_txn.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSM_BUG_TXN_NOT_ATOMIC -c $< -o $@

$(BUILD)/sm-txn-bug/test_sm_txn: $(BUILD)/tests/unit/test_sm_txn.o $(BUILD)/sm-txn-bug/sm_txn.o \
		$(BUILD)/libsm.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(SM_LDLIBS) -lcmocka

.PHONY: sm-txn-bugs
sm-txn-bugs: $(BUILD)/sm-txn-bug/test_sm_txn
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 $< >$(BUILD)/sm-txn-bug/test.out 2>&1; then \
		echo "sm-txn-bugs: SM_BUG_TXN_NOT_ATOMIC was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_txn_quota_is_all_or_nothing" $(BUILD)/sm-txn-bug/test.out || \
		{ echo "sm-txn-bugs: test_sm_txn failed, but not in test_txn_quota_is_all_or_nothing"; exit 1; }
	@echo "sm-txn-bugs: SM_BUG_TXN_NOT_ATOMIC caught by test_txn_quota_is_all_or_nothing"

TEST_STEPS += sm-txn-bugs
