/*
 * proto_raft.c - codec of struct raft_msg, the messages between raftd peers.
 *
 * The field layout is in proto_messages.h; this file adds the rules that tie
 * fields of one message together and that need no Raft state: APPEND
 * entries follow prev_index without wrapping, a SNAPSHOT chunk lies inside
 * the snapshot. Everything else (stale terms, a commit past the log, an
 * unknown sender) is the core's to judge. Stateless; any thread.
 */
#include "proto.h"

#include "proto_table.h"

#include "kv_err.h"

#include <string.h>

/* 1 when the message's fields agree with each other. */
static int raft_fields_agree(const struct raft_msg *m)
{
	const struct raft_append *a = &m->u.append;
	const struct raft_snapshot *s = &m->u.snapshot;

	switch (m->type) {
	case RAFT_MSG_APPEND:
		if (a->n_entries == 0)
			return 1;
		/* prev_index + n_entries must not wrap; the codec checked they are consecutive. */
		return a->entries && a->prev_index <= UINT64_MAX - a->n_entries &&
		       a->entries[0].index == a->prev_index + 1;
	case RAFT_MSG_SNAPSHOT:
		return s->offset <= s->snap_size && s->chunk_len <= s->snap_size - s->offset;
	default:
		return 1;
	}
}

int proto_raft_encode(const struct raft_msg *m, struct proto_buf *out)
{
	if (!raft_fields_agree(m))
		return KV_EINVAL;
	return proto_codec_encode(&proto_family_raft, m, out);
}

int proto_raft_decode(const uint8_t *buf, size_t len, struct raft_msg *out,
                      struct proto_arena *arena)
{
	int err = proto_codec_decode(&proto_family_raft, buf, len, out, arena);

	if (err)
		return err;
	if (!raft_fields_agree(out)) {
		memset(out, 0, sizeof(*out));
		return KV_EPROTO;
	}
	return 0;
}

int proto_raft_equal(const struct raft_msg *a, const struct raft_msg *b)
{
	return proto_codec_equal(&proto_family_raft, a, b);
}

const char *proto_raft_type_name(uint8_t type)
{
	const struct proto_msg_desc *d = proto_table_find(&proto_family_raft, type);

	return d ? d->name : "UNKNOWN";
}
