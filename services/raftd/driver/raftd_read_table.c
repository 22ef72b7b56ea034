/*
 * raftd_read_table.c - read id -> (gateway identity, req_id), in a ring of slots.
 * Pure; runs on the raftd loop thread.
 */
#include "raftd_read_table.h"

#include "kv_assert.h"

#include <string.h>

void raftd_read_table_init(struct raftd_read_table *t)
{
	memset(t, 0, sizeof(*t));
	t->next_id = 1;
}

uint64_t raftd_read_table_add(struct raftd_read_table *t, const void *identity, size_t identity_len,
                              uint64_t req_id)
{
	if (identity_len == 0 || identity_len > RAFTD_IDENTITY_BYTES_MAX)
		return 0;
	uint64_t id = t->next_id++;
	KV_ASSERT(id != 0);
	struct raftd_read_slot *s = &t->slots[id % RAFTD_READ_TABLE_SLOTS];
	if (s->read_id != 0)
		t->overwritten++;
	s->read_id = id;
	s->req_id = req_id;
	s->identity_len = (uint8_t)identity_len;
	memcpy(s->identity, identity, identity_len);
	return id;
}

const struct raftd_read_slot *raftd_read_table_take(struct raftd_read_table *t, uint64_t read_id)
{
	if (read_id == 0)
		return NULL;
	struct raftd_read_slot *s = &t->slots[read_id % RAFTD_READ_TABLE_SLOTS];
	if (s->read_id != read_id)
		return NULL;
	s->read_id = 0;
	return s;
}
