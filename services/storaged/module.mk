# services/storaged/module.mk - the LMDB state machine (libsm.a), the
# storaged daemon, its unit tests' libraries and `make bench-sm`.

SM_SRCS := $(wildcard services/storaged/sm_*.c)
SM_OBJS := $(SM_SRCS:%.c=$(BUILD)/%.o)
STORAGED_SRCS := $(wildcard services/storaged/storaged_*.c)
STORAGED_OBJS := $(STORAGED_SRCS:%.c=$(BUILD)/%.o)
SM_LDLIBS := -llmdb -lfiu
STORAGED_LDLIBS := -llmdb -lfiu -lzmq -lpthread

# libfiu fault points (sm_batch.c, sm_env.c, sm_snap.c) are compiled in: inert until a
# test or fiu-run enables them.
$(BUILD)/services/storaged/sm_batch.o $(BUILD)/services/storaged/sm_env.o \
	$(BUILD)/services/storaged/sm_snap.o: CFLAGS += -DFIU_ENABLE

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
TEST_LIBS_test_sm_snap_faults := $(BUILD)/libsm.a $(SM_LDLIBS)
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

# The planted bug (docs/testing.md "Proving the tests can fail"): sm_batch.c (the
# one file that reads the switch) built with the applied index committed outside
# the data transaction, linked ahead of libsm.a, must make test_sm fail its F4
# crash test.
$(BUILD)/sm-bug/sm_batch.o: services/storaged/sm_batch.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFIU_ENABLE -DSM_BUG_APPLIED_OUTSIDE_TXN -c $< -o $@

$(BUILD)/sm-bug/test_sm: $(BUILD)/tests/unit/test_sm.o $(BUILD)/sm-bug/sm_batch.o \
		$(BUILD)/libsm.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(SM_LDLIBS) -lcmocka

# The second: sm_snap.c built with SM_BUG_IMAGE_ERROR_IGNORED (the image copy's and
# its fsync's errors ignored) must make test_sm_snap_faults fail in test_image_copy_faults.
$(BUILD)/sm-image-bug/sm_snap.o: services/storaged/sm_snap.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFIU_ENABLE -DSM_BUG_IMAGE_ERROR_IGNORED -c $< -o $@

$(BUILD)/sm-image-bug/test_sm_snap_faults: $(BUILD)/tests/unit/test_sm_snap_faults.o \
		$(BUILD)/sm-image-bug/sm_snap.o $(BUILD)/libsm.a $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(SM_LDLIBS) -lcmocka

.PHONY: sm-bugs
sm-bugs: $(BUILD)/sm-bug/test_sm $(BUILD)/sm-image-bug/test_sm_snap_faults
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 $< >$(BUILD)/sm-bug/test_sm.out 2>&1; then \
		echo "sm-bugs: SM_BUG_APPLIED_OUTSIDE_TXN was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_crash_before_commit" $(BUILD)/sm-bug/test_sm.out || \
		{ echo "sm-bugs: test_sm failed, but not in test_crash_before_commit"; exit 1; }
	@echo "sm-bugs: SM_BUG_APPLIED_OUTSIDE_TXN caught by test_crash_before_commit"
	@out=$(BUILD)/sm-image-bug/test.out; \
	if CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 $(BUILD)/sm-image-bug/test_sm_snap_faults \
		>$$out 2>&1; then echo "sm-bugs: SM_BUG_IMAGE_ERROR_IGNORED was NOT caught"; exit 1; fi; \
	grep -q "FAILED.*test_image_copy_faults" $$out || \
		{ echo "sm-bugs: test_sm_snap_faults failed, but not in test_image_copy_faults"; exit 1; }; \
	echo "sm-bugs: SM_BUG_IMAGE_ERROR_IGNORED caught by test_image_copy_faults:" \
		"$$(grep -m1 'sm_snap_write returned' $$out)"

TEST_STEPS += sm-bugs

# The planted watch bugs (docs/testing.md): the one source file that reads each
# switch, built with it and linked ahead of libsm.a, must make test_sm_event fail
# in the named test (SWITCH:test:file).
#   SM_BUG_EVENT_TRIM_UNMARKED  trimmed events left unmarked: a watcher resuming below
#                               the history silently misses changes instead of a 410
#   SM_BUG_EVENT_STATE_KEPT     a failed batch's history counters kept: ghost events
#                               counted, the history trimmed too early
SM_WATCH_BUGS := SM_BUG_EVENT_TRIM_UNMARKED:test_trim_count:sm_event \
	SM_BUG_EVENT_STATE_KEPT:test_failed_batch_leaves_nothing:sm_batch

# $(1): the switch, $(2): the file (no .c). Object and test binary under
# build/sm-watch-bug/$(1)/.
define SM_WATCH_BUG_RULES
$(BUILD)/sm-watch-bug/$(1)/$(2).o: services/storaged/$(2).c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -DFIU_ENABLE -D$(1) -c $$< -o $$@

$(BUILD)/sm-watch-bug/$(1)/test_sm_event: $(BUILD)/tests/unit/test_sm_event.o \
		$(BUILD)/sm-watch-bug/$(1)/$(2).o $(BUILD)/libsm.a $(BUILD)/libproto.a \
		$(BUILD)/libcommon.a
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $(SM_LDLIBS) -lcmocka
endef
$(foreach b,$(SM_WATCH_BUGS),$(eval $(call SM_WATCH_BUG_RULES,$(word 1,$(subst :, ,$(b))),$(word 3,$(subst :, ,$(b))))))

.PHONY: sm-watch-bugs
sm-watch-bugs: $(foreach b,$(SM_WATCH_BUGS),$(BUILD)/sm-watch-bug/$(firstword $(subst :, ,$(b)))/test_sm_event)
	@for b in $(SM_WATCH_BUGS); do \
		bug=$${b%%:*}; test=$${b#*:}; test=$${test%%:*}; bin=$(BUILD)/sm-watch-bug/$$bug/test_sm_event; \
		if CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 $$bin >$$bin.out 2>&1; then \
			echo "sm-watch-bugs: $$bug was NOT caught"; exit 1; fi; \
		grep -q "FAILED.*$$test" $$bin.out || \
			{ echo "sm-watch-bugs: $$bug made test_sm_event fail, but not in $$test"; exit 1; }; \
		echo "sm-watch-bugs: $$bug caught by $$test"; \
	done

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
