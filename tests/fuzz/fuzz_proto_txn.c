/*
 * fuzz_proto_txn.c - libFuzzer target for proto_txn_decode() (a TXN
 * command's payload, applied by every node from the Raft log) and
 * proto_txn_result_decode() (a RESULT's body, read by the gateway).
 *
 * Any input may be refused, but none may crash, read out of bounds or hang
 * (ASan, UBSan). A transaction that decodes must re-encode, decode again and
 * re-encode to the same bytes: every node must read it the same way.
 */
#include "proto_txn.h"

#include "kv_assert.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_txn(const uint8_t *data, size_t size, struct proto_txn *t1, struct proto_txn *t2)
{
	struct proto_buf b1 = {0}, b2 = {0};
	if (proto_txn_decode(data, size, t1) != 0)
		return;
	KV_ASSERT(proto_txn_encode(t1, &b1) == 0);
	KV_ASSERT(b1.len <= size); /* ours is the shortest form */
	KV_ASSERT(proto_txn_decode(b1.ptr, b1.len, t2) == 0);
	KV_ASSERT(proto_txn_encode(t2, &b2) == 0);
	KV_ASSERT(b2.len == b1.len && memcmp(b1.ptr, b2.ptr, b1.len) == 0);
	proto_buf_free(&b1);
	proto_buf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proto_txn t1, t2;
	static struct proto_txn_result r;
	fuzz_txn(data, size, &t1, &t2);
	if (proto_txn_result_decode(data, size, &r) == 0)
		KV_ASSERT(r.n_results <= KV_TXN_OPS_MAX && r.succeeded <= 1);
	return 0;
}
