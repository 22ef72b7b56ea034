# tests/sim - the deterministic simulator: real Raft cores and the shared executor
# (services/raftd/core/ and exec/, not the raftd driver) over a simulated network and disk.
#
#   make sim SEEDS=N [SEED=S] [NODES=K]   run N seeds from S (default 2000 from 1)
#   make sim-test                         2,000 seeds (300 under SAN=...)
#   make sim-bugs                         each planted core or executor bug must be caught

SIM_SRCS := $(wildcard tests/sim/*.c)
SIM_OBJS := $(SIM_SRCS:%.c=$(BUILD)/%.o)
SIM_CORE_SRCS := $(wildcard services/raftd/core/*.c services/raftd/exec/*.c)
SIM_BIN := $(BUILD)/sim
SIM_BUG_NAMES := no-noop vote-no-persist commit-old-term ack-before-durable truncate-committed \
	exec-release-before-sync wiped-votes compact-above-durable chunk-any-offset
SIM_BUG_BINS := $(SIM_BUG_NAMES:%=$(BUILD)/sim-bug-%/sim)
SIM_TEST_SEEDS := $(if $(SAN),300,2000)

# Until the core exists the simulator cannot link; stay out of `make build` and `make test`.
ifneq ($(SIM_CORE_SRCS),)
BINS += $(SIM_BIN)
TEST_STEPS += sim-test sim-bugs
endif

.PHONY: sim sim-test sim-bugs

$(SIM_BIN): $(SIM_OBJS) $(SIM_CORE_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^

sim: $(SIM_BIN)
	@$(SIM_BIN) --seeds $(or $(SEEDS),2000) --seed $(or $(SEED),1) $(if $(NODES),--nodes $(NODES))

sim-test: $(SIM_BIN)
	@$(SIM_BIN) --seeds $(SIM_TEST_SEEDS) --seed 1

# One simulator per planted bug (RAFT_BUG_* switches): the core and executor files that
# call the switch's hook raft_bug_x() (raft_bugs.h; found with grep) built with it in
# their own object dir, the other files as the normal simulator has them.
define SIM_BUG_RULES
SIM_BUG_SRCS_$(1) := $$(shell grep -lw raft_bug_$$(shell echo $(2) | tr A-Z a-z) $(SIM_CORE_SRCS))

$(BUILD)/sim-bug-$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -DRAFT_BUG_$(2) -c $$< -o $$@

$(BUILD)/sim-bug-$(1)/sim: $$(SIM_OBJS) $$(SIM_BUG_SRCS_$(1):%.c=$(BUILD)/sim-bug-$(1)/%.o) \
		$$(patsubst %.c,$(BUILD)/%.o,$$(filter-out $$(SIM_BUG_SRCS_$(1)),$(SIM_CORE_SRCS))) $$(BUILD)/libcommon.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^
endef
$(eval $(call SIM_BUG_RULES,no-noop,NO_NOOP))
$(eval $(call SIM_BUG_RULES,vote-no-persist,VOTE_NO_PERSIST))
$(eval $(call SIM_BUG_RULES,commit-old-term,COMMIT_OLD_TERM))
$(eval $(call SIM_BUG_RULES,ack-before-durable,ACK_BEFORE_DURABLE))
$(eval $(call SIM_BUG_RULES,truncate-committed,TRUNCATE_COMMITTED))
$(eval $(call SIM_BUG_RULES,exec-release-before-sync,EXEC_RELEASE_BEFORE_SYNC))
$(eval $(call SIM_BUG_RULES,wiped-votes,WIPED_VOTES))
$(eval $(call SIM_BUG_RULES,chunk-any-offset,CHUNK_ANY_OFFSET))

# A planted bug in the simulator's own driver (SIM_BUG_*, sim_store.c): its objects
# rebuilt with the switch, the core and executor as they are.
$(BUILD)/sim-bug-compact-above-durable/tests/sim/%.o: tests/sim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSIM_BUG_COMPACT_ABOVE_DURABLE -c $< -o $@

$(BUILD)/sim-bug-compact-above-durable/sim: $(SIM_SRCS:%.c=$(BUILD)/sim-bug-compact-above-durable/%.o) \
		$(SIM_CORE_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^

# Each bug must be caught within 2,000 seeds; prints the first seed and property per bug.
sim-bugs: $(SIM_BUG_BINS)
	@fail=0; for b in $(SIM_BUG_NAMES); do \
		if $(BUILD)/sim-bug-$$b/sim --quiet --name sim-bug-$$b --seeds 2000 --seed 1; then \
			fail=1; \
		fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "sim-bugs: a planted bug survived 2000 seeds"; fi; \
	exit $$fail
