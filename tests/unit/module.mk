# tests/unit/module.mk - cmocka unit tests.
#
# Every tests/unit/test_X.c becomes its own binary $(BUILD)/tests/unit/test_X,
# linked, in this order, with:
#   - $(BUILD)/tests/unit/libraftharness.a   for test_raft_* (the deterministic
#                                            harness, raft_harness*.c)
#   - $(TEST_LIBS_test_X)                    extra libraries a module names for
#                                            its own test, in its own module.mk:
#         TEST_LIBS_test_wal := $(BUILD)/libwal.a -lfiu
#     (archives named there become prerequisites of the binary; -l flags are
#     only passed to the linker). Set it in a module.mk included before this
#     one (common/, proto/, services/*, tools/ all are).
#   - $(BUILD)/libraftexec.a and libraftcore.a when services/raftd/exec/ and
#     core/ hold sources, and
#     $(BUILD)/libproto.a when proto/*.c exist (archives: a test pulls in only
#     what it uses)
#   - $(BUILD)/libcommon.a and -lcmocka
#
# `make unit-test` builds and runs every binary (each under a time limit),
# keeps cmocka's output and fails if any binary fails. It is part of
# `make test`, and `make SAN=address unit-test` runs the same under ASan/UBSan.

UNIT_DIR := tests/unit
UNIT_SRCS := $(wildcard $(UNIT_DIR)/test_*.c)
UNIT_NAMES := $(notdir $(UNIT_SRCS:.c=))
UNIT_BINS := $(UNIT_NAMES:%=$(BUILD)/$(UNIT_DIR)/%)
UNIT_HARNESS := $(BUILD)/$(UNIT_DIR)/libraftharness.a
UNIT_TIMEOUT_S ?= 300

UNIT_LIBS := $(if $(wildcard services/raftd/exec/*.c),$(BUILD)/libraftexec.a) \
	$(if $(wildcard services/raftd/core/*.c),$(BUILD)/libraftcore.a) \
	$(if $(wildcard proto/*.c),$(BUILD)/libproto.a) $(BUILD)/libcommon.a

UNIT_HARNESS_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(UNIT_DIR)/raft_harness*.c))

$(UNIT_HARNESS): $(UNIT_HARNESS_OBJS)
	rm -f $@
	ar rcs $@ $^

# $(1): the test's name. Archives of TEST_LIBS_$(1) are prerequisites; the
# whole variable goes to the link line so -l flags work too.
define UNIT_TEST_RULE
$(BUILD)/$(UNIT_DIR)/$(1): $(BUILD)/$(UNIT_DIR)/$(1).o \
		$(if $(filter test_raft_%,$(1)),$(UNIT_HARNESS)) \
		$(filter %.a,$(TEST_LIBS_$(1))) $(UNIT_LIBS)
	$$(CC) $$(LDFLAGS) -o $$@ $$< $(if $(filter test_raft_%,$(1)),$(UNIT_HARNESS)) \
		$(TEST_LIBS_$(1)) $(UNIT_LIBS) -lcmocka
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call UNIT_TEST_RULE,$(t))))

.PHONY: unit-test
# Each binary is built on its own, so that one test that does not compile
# fails the step without keeping the others from running.
unit-test:
	@failed=""; \
	for t in $(UNIT_BINS); do \
		echo "--- $$t"; \
		if ! $(MAKE) --no-print-directory $$t; then \
			failed="$$failed $$(basename $$t)(build)"; \
		elif ! CMOCKA_MESSAGE_OUTPUT=stdout timeout $(UNIT_TIMEOUT_S) $$t; then \
			failed="$$failed $$(basename $$t)"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "unit-test: FAILED:$$failed"; exit 1; fi; \
	echo "unit-test: $(words $(UNIT_BINS)) binaries passed"

TEST_STEPS += unit-test
