# raftkv - every entry point: deps, build, test, run, lint, bench, image.
#
# Each module adds its own rules in a module.mk beside its code; this file
# holds what they share. Build output goes to build/ (build-$(SAN)/ for a
# sanitizer build) and is never committed.

SHELL := /bin/bash
.DEFAULT_GOAL := all

SAN ?=
BUILD ?= build$(if $(SAN),-$(SAN))
CC ?= cc
ifeq ($(CC),cc)
CC := gcc
endif

# Debian packages every target needs; `make deps` installs whatever is missing.
DEB_BUILD := build-essential pkg-config libzmq3-dev libczmq-dev libmsgpack-dev \
	libh2o-evloop-dev libjansson-dev liblmdb-dev libcmocka-dev libfiu-dev fiu-utils clang \
	libclang-rt-14-dev libssl-dev openssl zlib1g-dev curl jq prometheus nftables iproute2 procps \
	psmisc chromium
DEB_LINT := clang-format clang-tidy cppcheck

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g -O2 -Wall -Wextra -Werror -Wshadow \
	-Wno-unused-parameter -fno-omit-frame-pointer -MMD -MP
INCLUDES := -Icommon -Iproto -Iservices/raftd/core -Iservices/raftd/exec -Iservices/raftd/wal \
	-Iservices/raftd/driver -Iservices/storaged -Iservices/gatewayd
ifneq ($(SAN),)
CFLAGS_SAN := -fsanitize=$(SAN),undefined -fno-sanitize-recover=undefined
endif
CFLAGS ?=
CFLAGS += $(CFLAGS_BASE) $(CFLAGS_SAN) $(INCLUDES)
LDFLAGS += $(CFLAGS_SAN)

COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/%.o)

# Targets that `make test` runs in order; each module.mk appends its own.
TEST_STEPS :=
BINS :=

.PHONY: all deps deps-lint build test lint fmt clean help

all: build

help:
	@echo "make run        start a local 3-node cluster (installs what is missing)"
	@echo "make test       run every test (installs what is missing)"
	@echo "make sim SEEDS=N [SEED=S] [NODES=K]   run the deterministic simulator"
	@echo "make sim-bugs   prove the simulator catches each planted bug"
	@echo "make lint       clang-format, cppcheck, clang-tidy"
	@echo "make bench      benchmarks against etcd on this machine"
	@echo "make bench-cpu  CPU per write in each of the nine processes (wrk PUT load)"
	@echo "make fresh-test the README's two commands in a new Debian (debootstrap + Docker)"
	@echo "make SAN=address test   the tests under address and UB sanitizers"

deps:
	@tools/install-deps.sh $(DEB_BUILD)

deps-lint:
	@tools/install-deps.sh $(DEB_LINT)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libcommon.a: $(COMMON_OBJS)
	ar rcs $@ $^

include $(wildcard common/module.mk proto/module.mk services/*/module.mk tools/*.mk tests/*/module.mk compose/*.mk k8s/*.mk)

build: $(BINS)

# The order `make test` runs the steps in: the fastest and most basic first;
# steps a module adds that are not listed here run last.
TEST_ORDER := unit-test sim-test sim-bugs sm-bugs sm-watch-bugs sm-txn-bugs raftd-bugs fuzz-short \
	gw-smoke cluster-smoke ctl-test \
	cluster-test gw-bugs compose-test k8s-test
TEST_STEPS_ORDERED = $(foreach s,$(TEST_ORDER),$(filter $(s),$(TEST_STEPS))) \
	$(filter-out $(TEST_ORDER),$(TEST_STEPS))

test: deps
	@$(MAKE) --no-print-directory build
	@tests/run_steps.sh $(MAKE) -- $(TEST_STEPS_ORDERED)

LINT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
lint: deps-lint
	clang-format --dry-run --Werror $(LINT_SRCS)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem --std=c11 $(INCLUDES) \
		$(filter %.c,$(LINT_SRCS))
	clang-tidy --quiet $(filter-out tests/%,$(filter %.c,$(LINT_SRCS))) -- $(CFLAGS_BASE) $(INCLUDES)

fmt: deps-lint
	clang-format -i $(LINT_SRCS)

clean:
	rm -rf build build-*

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
