/*
 * raftd_members.c - MEMBER_CHANGE from the local gatewayd: one membership
 * change proposed as one CONFIG entry, on the leader only.
 *
 * The core enforces the rules (one change at a time, only after the leader
 * committed an entry of its term, a learner promoted only once caught up,
 * never the last voter); this file tells the answers apart for the gateway
 * (KV_ENOTFOUND: no such member; KV_EEXIST: the id or peer address of an
 * add is a member's; KV_EINVAL: the last voter, a promote of a voter, a bad
 * address or key, or an address given to another op) and hands leadership
 * over first when the leader is asked to remove itself: it answers
 * KV_ENOTLEADER, and the gateway asks the next leader. An add carries the
 * new member's peer address, URL and Curve key in its CONFIG entry
 * (raftd_book.h), so every node learns where to reach it from the log.
 * Loop thread.
 */
#include "raftd.h"

#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <string.h>

/* The book entry an add names: MEMBER_CHANGE's address, URL and key, checked. */
static int members_entry(const struct raftd *d, const struct proto_member_change *mc,
                         struct raftd_book_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = mc->node_id;
	if (mc->node_id > RAFTD_NODE_ID_MAX || mc->peer_address.len == 0 ||
	    mc->peer_address.len >= sizeof(e->peer_address) || mc->url.len >= sizeof(e->url) ||
	    mc->curve_key.len >= sizeof(e->curve_key))
		return KV_EINVAL;
	memcpy(e->peer_address, mc->peer_address.ptr, mc->peer_address.len);
	if (mc->url.len)
		memcpy(e->url, mc->url.ptr, mc->url.len);
	if (mc->curve_key.len)
		memcpy(e->curve_key, mc->curve_key.ptr, mc->curve_key.len);
	if (d->curve.on && e->curve_key[0] == '\0')
		return KV_EINVAL; /* nobody could authenticate it */
	return raftd_book_entry_check(e) == 0 ? 0 : KV_EINVAL;
}

/* KV_EEXIST when a member already has e's id or peer address. */
static int members_taken(const struct raftd *d, const struct raft_status *st,
                         const struct raftd_book_entry *e)
{
	for (uint32_t i = 0; i < st->config.n; i++) {
		uint64_t id = st->config.members[i].id;
		const struct raftd_book_entry *b = raftd_book_find(d, id);
		if (id == e->id || (b != NULL && strcmp(b->peer_address, e->peer_address) == 0))
			return KV_EEXIST;
	}
	return 0;
}

/* Pre-checks that give each refusal its own code; 0 when the core should decide. */
static int members_precheck(struct raftd *d, const struct raft_status *st,
                            const struct proto_member_change *mc, struct raftd_book_entry *e)
{
	const struct raft_member *m = NULL;
	uint32_t voters = 0;

	for (uint32_t i = 0; i < st->config.n; i++) {
		voters += st->config.members[i].role == RAFT_VOTER;
		if (st->config.members[i].id == mc->node_id)
			m = &st->config.members[i];
	}
	if (mc->op == RAFT_CONFIG_ADD_LEARNER) {
		int rc = members_entry(d, mc, e);
		return rc != 0 ? rc : members_taken(d, st, e);
	}
	/* only an add names an address or a flag */
	if (mc->flags || mc->peer_address.len || mc->url.len || mc->curve_key.len)
		return KV_EINVAL;
	if (m == NULL)
		return KV_ENOTFOUND;
	if (mc->op == RAFT_CONFIG_PROMOTE && m->role == RAFT_VOTER)
		return KV_EINVAL;
	if (mc->op == RAFT_CONFIG_REMOVE && m->role == RAFT_VOTER && voters == 1)
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

/* Proposes the change (an add with e's addresses after it); 0 and *index, or a KV_E* code. */
static int members_propose(struct raftd *d, const struct proto_member_change *mc,
                           const struct raftd_book_entry *e, uint64_t *index)
{
	uint8_t data[RAFT_CONFIG_CHANGE_BYTES + RAFTD_BOOK_ENTRY_BYTES_MAX];
	struct raft_config_change ch = {.op = mc->op, .node = mc->node_id, .flags = mc->flags};
	struct raft_event ev = {.type = RAFT_EVENT_PROPOSE,
	                        .entry_type = RAFT_ENTRY_CONFIG,
	                        .data = data,
	                        .len = RAFT_CONFIG_CHANGE_BYTES};

	raft_config_change_encode(&ch, data);
	if (mc->op == RAFT_CONFIG_ADD_LEARNER) {
		int n = raftd_book_config_encode(e, data + RAFT_CONFIG_CHANGE_BYTES,
		                                 sizeof(data) - RAFT_CONFIG_CHANGE_BYTES);
		if (n < 0)
			return n;
		ev.len += (uint32_t)n;
	}
	int rc = raftd_update_step(d, &ev);
	if (rc == 0)
		*index = d->update.proposed_index;
	return rc;
}

void raftd_members_change(struct raftd *d, const void *ident, size_t ident_len,
                          const struct proto_local *m)
{
	const struct proto_member_change *mc = &m->u.member_change;
	struct raftd_book_entry e;
	struct raft_status st;
	uint64_t index = 0;
	int rc;

	raft_get_status(d->raft, &st);
	/* a leader handing over refuses every proposal as busy, which would read as a
	 * promote's "not caught up": send the gateway to the next leader instead */
	if (st.role != RAFT_LEADER || st.transfer_target != 0)
		rc = KV_ENOTLEADER;
	else if ((rc = members_precheck(d, &st, mc, &e)) != 0)
		;
	else if (mc->op == RAFT_CONFIG_REMOVE && mc->node_id == d->opts.node_id)
		rc = members_hand_over(d);
	else
		rc = members_propose(d, mc, &e, &index);
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
