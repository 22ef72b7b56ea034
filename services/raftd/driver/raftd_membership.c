/*
 * raftd_membership.c - one membership change applied to a raft_config.
 * Pure; runs on the raftd loop thread.
 */
#include "raftd_membership.h"

#include "kv_err.h"

static int membership_find(const struct raft_config *c, uint64_t id)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->members[i].id == id)
			return (int)i;
	return -1;
}

int raftd_membership_apply(struct raft_config *c, const uint8_t *data, uint32_t len)
{
	if (data == NULL || len < RAFT_CONFIG_CHANGE_BYTES)
		return KV_EINVAL;
	uint8_t op = data[0];
	uint64_t id = 0;
	for (int i = 1; i <= 8; i++)
		id = (id << 8) | data[i];
	if (id == 0)
		return KV_EINVAL;
	int at = membership_find(c, id);
	switch (op) {
	case RAFT_CONFIG_ADD_LEARNER:
		if (at >= 0)
			return 0;
		if (c->n >= RAFT_NODES_MAX)
			return KV_EINVAL;
		c->members[c->n].id = id;
		c->members[c->n].role = RAFT_LEARNER;
		c->n++;
		return 0;
	case RAFT_CONFIG_PROMOTE:
		if (at >= 0)
			c->members[at].role = RAFT_VOTER;
		return 0;
	case RAFT_CONFIG_REMOVE:
		if (at < 0)
			return 0;
		c->members[at] = c->members[c->n - 1];
		c->n--;
		return 0;
	default:
		return KV_EINVAL;
	}
}
