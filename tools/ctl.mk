# tools/ctl.mk - the command-line client and the benchmark.

$(BUILD)/raftkvctl: $(BUILD)/tools/raftkvctl.o $(BUILD)/tools/ctl_keygen.o
	$(CC) $(LDFLAGS) -o $@ $^ -lzmq

BINS += $(BUILD)/raftkvctl

.PHONY: bench
# Benchmarks raftkv against Debian's etcd-server 3.4 under the same wrk load.
bench: deps build
	@tools/install-deps.sh etcd-server wrk
	BUILD=$(BUILD) tools/bench.sh
