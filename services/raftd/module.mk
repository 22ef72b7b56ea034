# services/raftd/module.mk - the Raft core (libraftcore.a), the WAL (libwal.a)
# and the raftd daemon. Each part keeps to its own block below.

# --- raftd ---
# The driver: services/raftd/raftd_*.c (not raft_*.c, which are the core).
RAFTD_SRCS := $(wildcard services/raftd/raftd_*.c)
RAFTD_OBJS := $(RAFTD_SRCS:%.c=$(BUILD)/%.o)
# Pure parts of the driver, linked by their unit tests.
RAFTD_PURE_OBJS := $(addprefix $(BUILD)/services/raftd/,raftd_peerlist.o raftd_reads.o \
	raftd_membership.o)
RAFTD_LIBS := $(BUILD)/libraftcore.a $(BUILD)/libwal.a $(BUILD)/libproto.a $(BUILD)/libcommon.a

$(BUILD)/libraftdpure.a: $(RAFTD_PURE_OBJS)
	ar rcs $@ $^

$(BUILD)/raftd: $(RAFTD_OBJS) $(RAFTD_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(RAFTD_OBJS) $(RAFTD_LIBS) -lzmq

BINS += $(BUILD)/raftd

TEST_LIBS_test_raftd_peerlist := $(BUILD)/libraftdpure.a
TEST_LIBS_test_raftd_reads := $(BUILD)/libraftdpure.a
TEST_LIBS_test_raftd_membership := $(BUILD)/libraftdpure.a
# --- end raftd ---
