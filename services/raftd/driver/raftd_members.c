/*
 * raftd_members.c - MEMBER_CHANGE from the local gatewayd: one membership
 * change proposed as one CONFIG entry, on the leader only.
 *
 * The core enforces the rules (one change at a time, only after the leader
 * committed an entry of its term, a learner promoted only once caught up,
 * never the last voter); this file tells the answers apart for the gateway
 * (KV_ENOTFOUND: no such member; KV_EINVAL: the last voter, or an add of a
 * member) and hands leadership over first when the leader is asked to
 * remove itself: it answers KV_ENOTLEADER, and the gateway asks the next
 * leader. Adding a learner is refused unless --peers gives its address
 * (addresses do not travel in the configuration yet). Loop thread.
 */
#include "raftd.h"

#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>

/* Pre-checks that give each refusal its own code; 0 when the core should decide. */
static int members_precheck(struct raftd *d, const struct raft_status *st, uint8_t op, uint64_t id)
{
	int present = 0, voter = 0;
	uint32_t voters = 0;

	for (uint32_t i = 0; i < st->config.n; i++) {
		voters += st->config.members[i].role == RAFT_VOTER;
		if (st->config.members[i].id == id) {
			present = 1;
			voter = st->config.members[i].role == RAFT_VOTER;
		}
	}
	if (op == RAFT_CONFIG_ADD_LEARNER)
		return present ? KV_EINVAL : raftd_peers_index(d, id) < 0 ? KV_ENOTFOUND : 0;
	if (!present)
		return KV_ENOTFOUND;
	if (op == RAFT_CONFIG_REMOVE && voter && voters == 1)
		return KV_EINVAL;
	return 0;
}

/* The leader asked to remove itself: hand over to the most caught-up voter first. */
static int members_hand_over(struct raftd *d)
{
	struct raft_event ev = {.type = RAFT_EVENT_TRANSFER, .node_id = 0};
	int rc = raftd_update_step(d, &ev);

	KV_LOG_INFO(RAFTD_SVC, "removing the leader: leadership handed over first", "status=\"%s\"",
	            rc == 0 ? "ok" : kv_strerror(rc));
	return rc == 0 ? KV_ENOTLEADER : rc;
}

/* Proposes the change; 0 and *index, or a KV_E* code. */
static int members_propose(struct raftd *d, uint8_t op, uint64_t id, uint64_t *index)
{
	uint8_t data[RAFT_CONFIG_CHANGE_BYTES];
	struct raft_config_change ch = {.op = op, .node = id};
	struct raft_event ev = {.type = RAFT_EVENT_PROPOSE,
	                        .entry_type = RAFT_ENTRY_CONFIG,
	                        .data = data,
	                        .len = sizeof(data)};

	raft_config_change_encode(&ch, data);
	int rc = raftd_update_step(d, &ev);
	if (rc == 0)
		*index = d->update.proposed_index;
	return rc;
}

void raftd_members_change(struct raftd *d, const void *ident, size_t ident_len,
                          const struct proto_local *m)
{
	const struct proto_member_change *mc = &m->u.member_change;
	struct raft_status st;
	uint64_t index = 0;
	int rc;

	raft_get_status(d->raft, &st);
	if (st.role != RAFT_LEADER)
		rc = KV_ENOTLEADER;
	else if ((rc = members_precheck(d, &st, mc->op, mc->node_id)) != 0)
		;
	else if (mc->op == RAFT_CONFIG_REMOVE && mc->node_id == d->opts.node_id)
		rc = members_hand_over(d);
	else
		rc = members_propose(d, mc->op, mc->node_id, &index);
	KV_LOG_INFO(RAFTD_SVC, "membership change",
	            "op=%u node=%" PRIu64 " index=%" PRIu64 " status=\"%s\"", mc->op, mc->node_id,
	            index, rc == 0 ? "ok" : kv_strerror(rc));
	raft_get_status(d->raft, &st);
	struct proto_local resp = {.type = PROTO_MEMBER_CHANGE_RESP,
	                           .req_id = m->req_id,
	                           .u.member_change_resp.status = rc,
	                           .u.member_change_resp.index = index,
	                           .u.member_change_resp.leader_id =
	                               st.leader != d->opts.node_id ? st.leader : 0};
	raftd_local_reply(d, ident, ident_len, &resp);
}
