/*
 * fuzz_proto_local.c - libFuzzer target for proto_local_decode(), the decoder
 * of every message between the three processes of a node.
 *
 * Any input may be refused, but none may crash, read out of bounds or hang
 * (ASan, UBSan). An input that decodes must re-encode, decode again to an
 * equal message, and re-encode to the same bytes: the codec is symmetric
 * and its encoding canonical.
 */
#include "proto.h"

#include "kv_assert.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t fuzz_mem1[PROTO_LOCAL_ARENA_BYTES] __attribute__((aligned(16)));
static uint8_t fuzz_mem2[PROTO_LOCAL_ARENA_BYTES] __attribute__((aligned(16)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_buf b1 = {0}, b2 = {0};
	struct proto_arena a1, a2;
	struct proto_local m1, m2;

	proto_arena_init(&a1, fuzz_mem1, sizeof(fuzz_mem1));
	proto_arena_init(&a2, fuzz_mem2, sizeof(fuzz_mem2));
	if (proto_local_decode(data, size, &m1, &a1) != 0)
		return 0;
	KV_ASSERT(proto_local_encode(&m1, &b1) == 0);
	KV_ASSERT(b1.len <= size); /* ours is the shortest form */
	KV_ASSERT(proto_local_decode(b1.ptr, b1.len, &m2, &a2) == 0);
	KV_ASSERT(proto_local_equal(&m1, &m2));
	KV_ASSERT(proto_local_encode(&m2, &b2) == 0);
	KV_ASSERT(b2.len == b1.len && memcmp(b1.ptr, b2.ptr, b1.len) == 0);
	proto_buf_free(&b1);
	proto_buf_free(&b2);
	return 0;
}
