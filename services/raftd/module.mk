# services/raftd/module.mk - raftd's layers, one folder each, each its own block:
#   core/    the pure Raft core (libraftcore.a)
#   exec/    the one executor of the core's updates (libraftexec.a), pure
#   wal/     the write-ahead log (libwal.a)
#   driver/  the raftd daemon: sockets, loop, main (links the three above)
# Planted-bug variants of core/ and exec/ are built by the simulator from
# these same folders with -DRAFT_BUG_* (tests/sim/module.mk).

# --- raft core ---
RAFT_CORE_SRCS := $(wildcard services/raftd/core/*.c)
RAFT_CORE_OBJS := $(RAFT_CORE_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/libraftcore.a: $(RAFT_CORE_OBJS)
	ar rcs $@ $^
# --- end raft core ---

# --- executor ---
# Linked by raftd, the simulator and the unit harness.
RAFT_EXEC_SRCS := $(wildcard services/raftd/exec/*.c)
RAFT_EXEC_OBJS := $(RAFT_EXEC_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/libraftexec.a: $(RAFT_EXEC_OBJS)
	ar rcs $@ $^
# --- end executor ---

# --- raftd ---
RAFTD_SRCS := $(wildcard services/raftd/driver/*.c)
RAFTD_OBJS := $(RAFTD_SRCS:%.c=$(BUILD)/%.o)
# Pure parts of the driver, linked by their unit tests.
RAFTD_PURE_OBJS := $(addprefix $(BUILD)/services/raftd/driver/,raftd_peerlist.o \
	raftd_read_table.o raftd_membership.o raftd_compact.o raftd_curve_keys.o raftd_book.o \
	raftd_reconcile.o raftd_join_plan.o raftd_snap_name.o raftd_relay_table.o)
RAFTD_LIBS := $(BUILD)/libraftexec.a $(BUILD)/libraftcore.a $(BUILD)/libwal.a \
	$(BUILD)/libproto.a $(BUILD)/libcommon.a

$(BUILD)/libraftdpure.a: $(RAFTD_PURE_OBJS)
	ar rcs $@ $^

$(BUILD)/raftd: $(RAFTD_OBJS) $(RAFTD_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(RAFTD_OBJS) $(RAFTD_LIBS) -lzmq -ljansson -lssl -lcrypto

BINS += $(BUILD)/raftd

TEST_LIBS_test_raftd_peerlist := $(BUILD)/libraftdpure.a
TEST_LIBS_test_raftd_read_table := $(BUILD)/libraftdpure.a
TEST_LIBS_test_raftd_relay := $(BUILD)/libraftdpure.a
TEST_LIBS_test_raftd_membership := $(BUILD)/libraftdpure.a
TEST_LIBS_test_raftd_compact := $(BUILD)/libraftdpure.a
TEST_LIBS_test_raftd_join := $(BUILD)/libraftdpure.a $(BUILD)/libcommon.a -ljansson
TEST_LIBS_test_raftd_book := $(BUILD)/libraftdpure.a -lzmq
TEST_LIBS_test_raftd_reconcile := $(BUILD)/libraftdpure.a -lzmq
TEST_LIBS_test_raftd_snap_name := $(BUILD)/libraftdpure.a

# The identity file (raftd_identity.c) does file I/O, so it is not in the pure set.
$(BUILD)/libraftdidentity.a: $(BUILD)/services/raftd/driver/raftd_identity.o
	ar rcs $@ $^
TEST_LIBS_test_raftd_identity := $(BUILD)/libraftdidentity.a

# The planted bug (docs/testing.md): raftd's compaction bound built to drop the
# log above storaged's durable index must make test_raftd_compact fail its
# power-cut replay test.
$(BUILD)/raftd-bug/raftd_compact.o: services/raftd/driver/raftd_compact.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFTD_BUG_COMPACT_ABOVE_DURABLE -c $< -o $@

$(BUILD)/raftd-bug/test_raftd_compact: $(BUILD)/tests/unit/test_raftd_compact.o \
		$(BUILD)/raftd-bug/raftd_compact.o $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka

.PHONY: raftd-bugs
raftd-bugs: $(BUILD)/raftd-bug/test_raftd_compact
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 60 $< >$(BUILD)/raftd-bug/test.out 2>&1; then \
		echo "raftd-bugs: RAFTD_BUG_COMPACT_ABOVE_DURABLE was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_power_cut_replay" $(BUILD)/raftd-bug/test.out || \
		{ echo "raftd-bugs: test_raftd_compact failed, but not in test_power_cut_replay"; exit 1; }
	@echo "raftd-bugs: RAFTD_BUG_COMPACT_ABOVE_DURABLE caught by test_power_cut_replay"

TEST_STEPS += raftd-bugs
TEST_LIBS_test_raftd_curve_keys := $(BUILD)/libraftdpure.a -lzmq

# The planted key-file bug: raftd built to let any group read (and write) its Curve
# secret key must make test_raftd_curve_keys fail test_secret_file.
$(BUILD)/raftd-bug/raftd_curve_keys.o: services/raftd/driver/raftd_curve_keys.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFTD_BUG_CURVE_KEY_ANY_GROUP -c $< -o $@

$(BUILD)/raftd-bug/test_raftd_curve_keys: $(BUILD)/tests/unit/test_raftd_curve_keys.o \
		$(BUILD)/raftd-bug/raftd_curve_keys.o $(BUILD)/libraftdpure.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ -lzmq -lcmocka

.PHONY: raftd-bug-curve-key
raftd-bug-curve-key: $(BUILD)/raftd-bug/test_raftd_curve_keys
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 60 $< >$(BUILD)/raftd-bug/curve.out 2>&1; then \
		echo "raftd-bugs: RAFTD_BUG_CURVE_KEY_ANY_GROUP was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_secret_file" $(BUILD)/raftd-bug/curve.out || \
		{ echo "raftd-bugs: test_raftd_curve_keys failed, but not in test_secret_file"; exit 1; }
	@echo "raftd-bugs: RAFTD_BUG_CURVE_KEY_ANY_GROUP caught by test_secret_file"

raftd-bugs: raftd-bug-curve-key

# The planted relay bugs (raftd_relay_table.c): relay ids that restart at 1 in
# every raftd process must make test_raftd_relay fail
# test_answer_to_an_earlier_process_is_dropped (a late "not leader" meant for
# the old process would let the gateway send an appended write again); a
# leader that takes relays from any node must fail
# test_leader_takes_relays_from_members_only.
define RAFTD_RELAY_BUG_RULES
$(BUILD)/raftd-bug-$(2)/raftd_relay_table.o: services/raftd/driver/raftd_relay_table.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -DRAFTD_BUG_$(1) -c $$< -o $$@

$(BUILD)/raftd-bug-$(2)/test_raftd_relay: $(BUILD)/tests/unit/test_raftd_relay.o \
		$(BUILD)/raftd-bug-$(2)/raftd_relay_table.o $(BUILD)/libcommon.a
	$$(CC) $$(LDFLAGS) -o $$@ $$^ -lcmocka

.PHONY: raftd-bug-$(2)
raftd-bug-$(2): $(BUILD)/raftd-bug-$(2)/test_raftd_relay
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 60 $$< >$(BUILD)/raftd-bug-$(2)/test.out 2>&1; then \
		echo "raftd-bugs: RAFTD_BUG_$(1) was NOT caught"; exit 1; fi
	@grep -q "FAILED.*$(3)" $(BUILD)/raftd-bug-$(2)/test.out || \
		{ echo "raftd-bugs: test_raftd_relay failed, but not in $(3)"; exit 1; }
	@echo "raftd-bugs: RAFTD_BUG_$(1) caught by $(3)"

raftd-bugs: raftd-bug-$(2)
endef
$(eval $(call RAFTD_RELAY_BUG_RULES,RELAY_IDS_FROM_ONE,relay-ids,test_answer_to_an_earlier_process_is_dropped))
$(eval $(call RAFTD_RELAY_BUG_RULES,RELAY_ANY_SENDER,relay-sender,test_leader_takes_relays_from_members_only))

# The planted join bug: raftd --join built to take a member_exists for its id at
# another peer address as "already added" (it would then run beside a different
# node of the same id) must make test_raftd_join fail test_members_parse.
$(BUILD)/raftd-bug/raftd_join_plan.o: services/raftd/driver/raftd_join_plan.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFTD_BUG_JOIN_ID_ANY_ADDRESS -c $< -o $@

$(BUILD)/raftd-bug/test_raftd_join: $(BUILD)/tests/unit/test_raftd_join.o \
		$(BUILD)/raftd-bug/raftd_join_plan.o $(BUILD)/libraftdpure.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ -ljansson -lcmocka

.PHONY: raftd-bug-join
raftd-bug-join: $(BUILD)/raftd-bug/test_raftd_join
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 60 $< >$(BUILD)/raftd-bug/join.out 2>&1; then \
		echo "raftd-bugs: RAFTD_BUG_JOIN_ID_ANY_ADDRESS was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_members_parse" $(BUILD)/raftd-bug/join.out || \
		{ echo "raftd-bugs: test_raftd_join failed, but not in test_members_parse"; exit 1; }
	@echo "raftd-bugs: RAFTD_BUG_JOIN_ID_ANY_ADDRESS caught by test_members_parse"

raftd-bugs: raftd-bug-join

# The planted re-registration bug: a joined node whose add was lost never
# registers again; test_raftd_join must fail test_recheck_due.
$(BUILD)/raftd-bug/raftd_join_plan_recheck.o: services/raftd/driver/raftd_join_plan.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFTD_BUG_JOIN_NO_RECHECK -c $< -o $@

$(BUILD)/raftd-bug/test_raftd_join_recheck: $(BUILD)/tests/unit/test_raftd_join.o \
		$(BUILD)/raftd-bug/raftd_join_plan_recheck.o $(BUILD)/libraftdpure.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ -ljansson -lcmocka

.PHONY: raftd-bug-join-recheck
raftd-bug-join-recheck: $(BUILD)/raftd-bug/test_raftd_join_recheck
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 60 $< >$(BUILD)/raftd-bug/join-recheck.out 2>&1; then \
		echo "raftd-bugs: RAFTD_BUG_JOIN_NO_RECHECK was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_recheck_due" $(BUILD)/raftd-bug/join-recheck.out || \
		{ echo "raftd-bugs: test_raftd_join failed, but not in test_recheck_due"; exit 1; }
	@echo "raftd-bugs: RAFTD_BUG_JOIN_NO_RECHECK caught by test_recheck_due"

raftd-bugs: raftd-bug-join-recheck

# The planted address-book bug: raftd built to connect only to --peers (ignoring
# the book and the configuration) must make test_raftd_reconcile fail
# test_restart_connects_to_the_book.
$(BUILD)/raftd-bug/raftd_reconcile.o: services/raftd/driver/raftd_reconcile.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFTD_BUG_BOOK_FROM_PEERS_ONLY -c $< -o $@

$(BUILD)/raftd-bug/test_raftd_reconcile: $(BUILD)/tests/unit/test_raftd_reconcile.o \
		$(BUILD)/raftd-bug/raftd_reconcile.o $(BUILD)/libraftdpure.a $(BUILD)/libraftcore.a \
		$(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ -lzmq -lcmocka

.PHONY: raftd-bug-book
raftd-bug-book: $(BUILD)/raftd-bug/test_raftd_reconcile
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 60 $< >$(BUILD)/raftd-bug/book.out 2>&1; then \
		echo "raftd-bugs: RAFTD_BUG_BOOK_FROM_PEERS_ONLY was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_restart_connects_to_the_book" $(BUILD)/raftd-bug/book.out || \
		{ echo "raftd-bugs: test_raftd_reconcile failed, but not in test_restart_connects_to_the_book"; exit 1; }
	@echo "raftd-bugs: RAFTD_BUG_BOOK_FROM_PEERS_ONLY caught by test_restart_connects_to_the_book"

raftd-bugs: raftd-bug-book
# The planted liveness bug: a core built to ignore RAFT_EVENT_APPLIED (the
# restarted leader's commit stays at its snapshot, below storaged's applied
# index) must make test_raft_applied fail test_applied_lets_the_image_go.
$(BUILD)/raftd-bug/raft.o: services/raftd/core/raft.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFT_BUG_APPLIED_IGNORED -c $< -o $@

$(BUILD)/raftd-bug/test_raft_applied: $(BUILD)/tests/unit/test_raft_applied.o \
		$(BUILD)/raftd-bug/raft.o $(BUILD)/tests/unit/libraftharness.a $(BUILD)/libraftexec.a \
		$(BUILD)/libraftcore.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka

.PHONY: raftd-bug-applied
raftd-bug-applied: $(BUILD)/raftd-bug/test_raft_applied
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 60 $< >$(BUILD)/raftd-bug/applied.out 2>&1; then \
		echo "raftd-bugs: RAFT_BUG_APPLIED_IGNORED was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_applied_lets_the_image_go" $(BUILD)/raftd-bug/applied.out || \
		{ echo "raftd-bugs: test_raft_applied failed, but not in test_applied_lets_the_image_go"; exit 1; }
	@echo "raftd-bugs: RAFT_BUG_APPLIED_IGNORED caught by test_applied_lets_the_image_go"

raftd-bugs: raftd-bug-applied

# The planted flush bugs: a core whose TICK does not flush (entries wait for ever
# on a driver that never steps RAFT_EVENT_FLUSH) must make test_raft_replication
# fail test_tick_flushes; one whose flush sends no commit-only heartbeat must make
# it fail test_flush_sends_one_append_per_follower.
$(BUILD)/raftd-bug/raft_tick_no_flush.o: services/raftd/core/raft.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFT_BUG_TICK_NO_FLUSH -c $< -o $@

$(BUILD)/raftd-bug/raft_replication_commit_never_told.o: services/raftd/core/raft_replication.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFT_BUG_COMMIT_NEVER_TOLD -c $< -o $@

$(BUILD)/raftd-bug/test_raft_replication_%: $(BUILD)/tests/unit/test_raft_replication.o \
		$(BUILD)/raftd-bug/%.o $(BUILD)/tests/unit/libraftharness.a $(BUILD)/libraftexec.a \
		$(BUILD)/libraftcore.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka

# $(1): bug name, $(2): the object built with it, $(3): the test that must fail.
define RAFTD_FLUSH_BUG_RULE
.PHONY: raftd-bug-$(2)
raftd-bug-$(2): $(BUILD)/raftd-bug/test_raft_replication_$(2)
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 60 $$< >$(BUILD)/raftd-bug/$(2).out 2>&1; then \
		echo "raftd-bugs: RAFT_BUG_$(1) was NOT caught"; exit 1; fi
	@grep -q "FAILED.*$(3)" $(BUILD)/raftd-bug/$(2).out || \
		{ echo "raftd-bugs: test_raft_replication failed, but not in $(3)"; exit 1; }
	@echo "raftd-bugs: RAFT_BUG_$(1) caught by $(3)"

raftd-bugs: raftd-bug-$(2)
endef
$(eval $(call RAFTD_FLUSH_BUG_RULE,TICK_NO_FLUSH,raft_tick_no_flush,test_tick_flushes))
$(eval $(call RAFTD_FLUSH_BUG_RULE,COMMIT_NEVER_TOLD,raft_replication_commit_never_told,test_flush_sends_one_append_per_follower))

# A core that counts a follower told the whole commit index by a message it can use only
# up to its last index must make test_raft_replication fail test_commit_told_again_once_usable.
$(BUILD)/raftd-bug/raft_replication_told_unusable.o: services/raftd/core/raft_replication.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFT_BUG_TOLD_UNUSABLE_COMMIT -c $< -o $@

$(eval $(call RAFTD_FLUSH_BUG_RULE,TOLD_UNUSABLE_COMMIT,raft_replication_told_unusable,test_commit_told_again_once_usable))

# The first leader's planted bug: a core in which a voter not recorded yet neither
# campaigns nor counts once its log holds anything (as before the fix) must make
# test_raft_identity fail test_first_leader_lost_before_recording (no leader ever).
$(BUILD)/raftd-bug/raft_identity_first_leader.o: services/raftd/core/raft_identity.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DRAFT_BUG_FIRST_LEADER_LOST_STALLS -c $< -o $@

$(BUILD)/raftd-bug/test_raft_identity: $(BUILD)/tests/unit/test_raft_identity.o \
		$(BUILD)/raftd-bug/raft_identity_first_leader.o $(BUILD)/tests/unit/libraftharness.a \
		$(BUILD)/libraftexec.a $(BUILD)/libraftcore.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka

.PHONY: raftd-bug-first-leader
raftd-bug-first-leader: $(BUILD)/raftd-bug/test_raft_identity
	@if CMOCKA_MESSAGE_OUTPUT=stdout timeout 60 $< >$(BUILD)/raftd-bug/first-leader.out 2>&1; then \
		echo "raftd-bugs: RAFT_BUG_FIRST_LEADER_LOST_STALLS was NOT caught"; exit 1; fi
	@grep -q "FAILED.*test_first_leader_lost_before_recording" $(BUILD)/raftd-bug/first-leader.out || \
		{ echo "raftd-bugs: test_raft_identity failed, but not in test_first_leader_lost_before_recording"; \
		  exit 1; }
	@echo "raftd-bugs: RAFT_BUG_FIRST_LEADER_LOST_STALLS caught by test_first_leader_lost_before_recording"

raftd-bugs: raftd-bug-first-leader
# --- end raftd ---

# --- wal ---
# wal/wal_bench.c is its benchmark, not part of the library.
WAL_SRCS := $(filter-out services/raftd/wal/wal_bench.c,$(wildcard services/raftd/wal/*.c))
WAL_OBJS := $(WAL_SRCS:%.c=$(BUILD)/%.o)
# The same sources with libfiu's fault points compiled in (-DFIU_ENABLE): tests only.
WAL_FIU_OBJS := $(WAL_SRCS:%.c=$(BUILD)/wal-fiu/%.o)

$(BUILD)/libwal.a: $(WAL_OBJS)
	ar rcs $@ $^

$(BUILD)/libwal_fiu.a: $(WAL_FIU_OBJS)
	ar rcs $@ $^

$(BUILD)/wal-fiu/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFIU_ENABLE -c $< -o $@

TEST_LIBS_test_wal := $(BUILD)/libwal.a
TEST_LIBS_test_wal_recovery := $(BUILD)/libwal.a
TEST_LIBS_test_wal_faults := $(BUILD)/libwal_fiu.a -lfiu -ldl -lpthread

# make bench-wal [WAL_BENCH_DIR=dir]: 1000 batches of 16 x 100-byte entries, one
# wal_sync per batch, on the disk of WAL_BENCH_DIR (not a tmpfs).
WAL_BENCH_DIR ?= $(BUILD)
$(BUILD)/wal_bench: $(BUILD)/services/raftd/wal/wal_bench.o $(BUILD)/libwal.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^

.PHONY: bench-wal
bench-wal: $(BUILD)/wal_bench
	$(BUILD)/wal_bench $(WAL_BENCH_DIR)
# --- end wal ---
