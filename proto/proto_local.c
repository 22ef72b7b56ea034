/*
 * proto_local.c - codec of struct proto_local, the messages between one
 * node's raftd, storaged and gatewayd.
 *
 * Every rule of these messages is a per-field range (proto_messages.h) or an
 * entries rule the codec already applies (APPLY entries consecutive), so
 * this file only names the family. Stateless; any thread.
 */
#include "proto.h"

#include "proto_table.h"

int proto_local_encode(const struct proto_local *m, struct proto_buf *out)
{
	return proto_codec_encode(&proto_family_local, m, out);
}

int proto_local_decode(const uint8_t *buf, size_t len, struct proto_local *out,
                       struct proto_arena *arena)
{
	return proto_codec_decode(&proto_family_local, buf, len, out, arena);
}

int proto_local_equal(const struct proto_local *a, const struct proto_local *b)
{
	return proto_codec_equal(&proto_family_local, a, b);
}

const char *proto_local_type_name(uint8_t type)
{
	const struct proto_msg_desc *d = proto_table_find(&proto_family_local, type);

	return d ? d->name : "UNKNOWN";
}
