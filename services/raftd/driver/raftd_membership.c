/*
 * raftd_membership.c - one membership change applied to a raft_config.
 * Pure; runs on the raftd loop thread.
 */
#include "raftd_membership.h"

#include "kv_err.h"

int raftd_membership_apply(struct raft_config *c, const uint8_t *data, uint32_t len)
{
	struct raft_config_change ch;
	int present = 0;

	if (raft_config_change_decode(data, len, &ch) != 0)
		return KV_EINVAL;
	for (uint32_t i = 0; i < c->n; i++)
		present |= c->members[i].id == ch.node;
	if (ch.op == RAFT_CONFIG_ADD_LEARNER && !present && c->n >= RAFT_NODES_MAX)
		return KV_EINVAL;
	raft_config_change_apply(c, &ch);
	return 0;
}
