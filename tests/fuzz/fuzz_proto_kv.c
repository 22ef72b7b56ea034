/*
 * fuzz_proto_kv.c - libFuzzer target for proto_kv_cmd_decode(), the decoder
 * of the commands every node's storaged applies from the Raft log.
 *
 * Any input may be refused, but none may crash, read out of bounds or hang
 * (ASan, UBSan). An input that decodes must re-encode, decode again to an
 * equal command, and re-encode to the same bytes: every node must read a
 * logged command the same way.
 */
#include "proto.h"

#include "kv_assert.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_buf b1 = {0}, b2 = {0};
	struct proto_kv_cmd c1, c2;

	if (proto_kv_cmd_decode(data, size, &c1) != 0)
		return 0;
	KV_ASSERT(proto_kv_cmd_encode(&c1, &b1) == 0);
	KV_ASSERT(b1.len <= size); /* ours is the shortest form */
	KV_ASSERT(proto_kv_cmd_decode(b1.ptr, b1.len, &c2) == 0);
	KV_ASSERT(proto_kv_cmd_equal(&c1, &c2));
	KV_ASSERT(proto_kv_cmd_encode(&c2, &b2) == 0);
	KV_ASSERT(b2.len == b1.len && memcmp(b1.ptr, b2.ptr, b1.len) == 0);
	proto_buf_free(&b1);
	proto_buf_free(&b2);
	return 0;
}
