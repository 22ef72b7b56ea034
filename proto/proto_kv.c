/*
 * proto_kv.c - codec of struct proto_kv_cmd, the payload of a
 * RAFT_ENTRY_COMMAND entry.
 *
 * The ranges (op, cond, key 1..KV_KEY_BYTES_MAX, value, idempotency key) are
 * in proto_messages.h and checked both ways, so a command that reached the log
 * always decodes the same on every node. No arrays, hence no arena.
 * Stateless; any thread.
 */
#include "proto.h"

#include "proto_table.h"

int proto_kv_cmd_encode(const struct proto_kv_cmd *c, struct proto_buf *out)
{
	return proto_codec_encode(&proto_family_kv, c, out);
}

int proto_kv_cmd_decode(const uint8_t *buf, size_t len, struct proto_kv_cmd *out)
{
	return proto_codec_decode(&proto_family_kv, buf, len, out, NULL);
}

int proto_kv_cmd_equal(const struct proto_kv_cmd *a, const struct proto_kv_cmd *b)
{
	return proto_codec_equal(&proto_family_kv, a, b);
}
