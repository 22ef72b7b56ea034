# tools/ctl.mk - the command-line client (tools/ctl/: one file per command group,
# the command table in ctl_table.c) and the benchmark.

CTL_SRCS := $(wildcard tools/ctl/*.c)
CTL_OBJS := $(CTL_SRCS:%.c=$(BUILD)/%.o)

# snapshot restore writes a WAL and reads an LMDB file: libwal, libsm, the peer list parser
CTL_LIBS := $(BUILD)/libraftdpure.a $(BUILD)/libwal.a $(BUILD)/libsm.a $(BUILD)/libproto.a \
	$(BUILD)/libcommon.a
CTL_LDLIBS := -lssl -lcrypto -lzmq -llmdb -lfiu

$(BUILD)/raftkvctl: $(CTL_OBJS) $(CTL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(CTL_OBJS) $(CTL_LIBS) $(CTL_LDLIBS)

# Everything but main, for tests/unit/test_ctl.c.
$(BUILD)/libctl.a: $(filter-out %/ctl_main.o,$(CTL_OBJS))
	rm -f $@
	ar rcs $@ $^

TEST_LIBS_test_ctl := $(BUILD)/libctl.a $(CTL_LIBS) $(CTL_LDLIBS)
$(BUILD)/tests/unit/test_ctl.o: CFLAGS += -Itools/ctl

BINS += $(BUILD)/raftkvctl

.PHONY: bench
# Benchmarks raftkv against Debian's etcd-server 3.4 under the same wrk load.
bench: deps build
	@tools/install-deps.sh etcd-server wrk
	BUILD=$(BUILD) tools/bench.sh

.PHONY: bench-cpu
# CPU microseconds per acknowledged write in each of the nine processes under wrk PUT load.
bench-cpu: deps build
	@tools/install-deps.sh wrk
	BUILD=$(BUILD) tools/bench/cpu_per_write.sh

.PHONY: bench-scale
# How cost grows with the data (tools/benchscale): throughput and latency as the
# store grows to SCALE_KEYS keys, large values, restart time, a wiped follower's
# catch-up. Prints figures; the README keeps a run's table. Data on the real disk.
SCALE_KEYS ?= 1000000
# SCALE_BIG_MIB=0 skips the large values; SCALE_ARGS adds flags (-window 15s, -catchup-only,
# -http-base/-raft-base: `build/benchscale -h`).
SCALE_BIG_MIB ?= 256
SCALE_ARGS ?=
bench-scale: build go-deps
	cd tools/benchscale && $(GO) build -o $(abspath $(BUILD))/benchscale .
	$(BUILD)/benchscale -bin $(BUILD) -dir $(BUILD)/bench-scale -keys $(SCALE_KEYS) \
		-big-mib $(SCALE_BIG_MIB) $(SCALE_ARGS)
