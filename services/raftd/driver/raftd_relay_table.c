/*
 * raftd_relay_table.c - relay id -> (leader, gateway identity, req_id), in
 * a ring of slots; and who may relay to a leader. Pure; the raftd loop
 * thread only.
 */
#include "raftd_relay_table.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <string.h>

void raftd_relay_table_init(struct raftd_relay_table *t, uint64_t first_id)
{
	memset(t, 0, sizeof(*t));
#ifdef RAFTD_BUG_RELAY_IDS_FROM_ONE
	first_id = 1; /* planted: every process counts from 1 (raftd-bugs) */
#endif
	t->next_id = first_id != 0 ? first_id : 1;
}

uint64_t raftd_relay_table_add(struct raftd_relay_table *t, uint64_t leader_id,
                               const void *identity, size_t identity_len, uint64_t req_id)
{
	if (identity_len == 0 || identity_len > RAFTD_IDENTITY_BYTES_MAX || leader_id == 0)
		return 0;
	uint64_t id = t->next_id++;
	if (t->next_id == 0)
		t->next_id = 1; /* wrapped: 0 names no relay */
	KV_ASSERT(id != 0);
	struct raftd_relay_slot *s = &t->slots[id % RAFTD_RELAY_SLOTS];
	if (s->relay_id != 0)
		t->overwritten++;
	else
		t->waiting++;
	s->relay_id = id;
	s->leader_id = leader_id;
	s->req_id = req_id;
	s->identity_len = (uint8_t)identity_len;
	memcpy(s->identity, identity, identity_len);
	return id;
}

const struct raftd_relay_slot *raftd_relay_table_take(struct raftd_relay_table *t,
                                                      uint64_t relay_id, uint64_t from)
{
	if (relay_id == 0)
		return NULL;
	struct raftd_relay_slot *s = &t->slots[relay_id % RAFTD_RELAY_SLOTS];
	if (s->relay_id != relay_id || s->leader_id != from)
		return NULL;
	s->relay_id = 0;
	KV_ASSERT(t->waiting > 0);
	t->waiting--;
	return s;
}

int raftd_relay_accept(const struct raft_config *config, uint64_t self_id, uint64_t from,
                       uint32_t len)
{
	if (len == 0 || len > RAFT_RELAY_BYTES_MAX || from == self_id)
		return KV_EPROTO;
#ifdef RAFTD_BUG_RELAY_ANY_SENDER
	return 0; /* planted: any node the book knows may relay (raftd-bugs) */
#endif
	for (uint32_t i = 0; i < config->n; i++)
		if (config->members[i].id == from)
			return 0;
	return KV_EPROTO;
}
