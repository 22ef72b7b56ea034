# tools/ctl.mk - the command-line client (tools/ctl/: one file per command group,
# the command table in ctl_table.c) and the benchmark.

CTL_SRCS := $(wildcard tools/ctl/*.c)
CTL_OBJS := $(CTL_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/raftkvctl: $(CTL_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ -lssl -lcrypto -lzmq

# Everything but main, for tests/unit/test_ctl.c.
$(BUILD)/libctl.a: $(filter-out %/ctl_main.o,$(CTL_OBJS))
	rm -f $@
	ar rcs $@ $^

TEST_LIBS_test_ctl := $(BUILD)/libctl.a -lssl -lcrypto -lzmq
$(BUILD)/tests/unit/test_ctl.o: CFLAGS += -Itools/ctl

BINS += $(BUILD)/raftkvctl

.PHONY: bench
# Benchmarks raftkv against Debian's etcd-server 3.4 under the same wrk load.
bench: deps build
	@tools/install-deps.sh etcd-server wrk
	BUILD=$(BUILD) tools/bench.sh
