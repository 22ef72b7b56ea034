# proto/ - the message codecs: $(BUILD)/libproto.a (needs $(BUILD)/libcommon.a
# for kv_crc32c and kv_assert), `make bench-proto` and `make proto-doc`.

PROTO_SRCS := proto/proto_buf.c proto/proto_reader.c proto/proto_writer.c proto/proto_table.c \
	proto/proto_codec.c proto/proto_codec_arrays.c proto/proto_raft.c proto/proto_local.c \
	proto/proto_kv.c proto/proto_txn.c proto/proto_doc.c
PROTO_OBJS := $(PROTO_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/libproto.a: $(PROTO_OBJS)
	ar rcs $@ $^

BINS += $(BUILD)/libproto.a

$(BUILD)/proto/bench_proto: $(BUILD)/proto/bench/bench_proto.o $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) $^ -o $@

.PHONY: bench-proto
bench-proto: $(BUILD)/proto/bench_proto
	$(BUILD)/proto/bench_proto

# docs/protocol.md is generated from proto_messages.h; tests/unit/test_proto_doc.c
# fails when the checked-in copy differs from what this writes.
$(BUILD)/proto/proto_doc: $(BUILD)/proto/proto_doc_main.o $(BUILD)/libproto.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) $^ -o $@

.PHONY: proto-doc
proto-doc: $(BUILD)/proto/proto_doc
	@mkdir -p docs
	$(BUILD)/proto/proto_doc > docs/protocol.md

# tests/unit/test_proto.c and test_proto_gen.c build frames with msgpack-c, an encoder independent of ours.
TEST_LIBS_test_proto := -lmsgpackc
TEST_LIBS_test_proto_gen := -lmsgpackc
