/*
 * gw_raft_stats.c - GET /raft/stats, the seed project's status route kept
 * working: this node's state, term, leader and members, with node ids
 * written "node_<id>" and addresses as raft_address. It asks raftd afresh,
 * like GET /v1/status (at most GW_STATUS_WAIT_MS). Loop thread only.
 */
#include "gw.h"

#include "gw_routes.h"

#include <stdio.h>

/* Raft's own names for the states (hashicorp/raft's, as the seed printed them). */
static const char *raft_stats_state(const struct proto_status_resp *m)
{
	if (m->role == RAFT_LEADER)
		return "Leader";
	if (m->role == RAFT_CANDIDATE || m->role == RAFT_PRECANDIDATE)
		return "Candidate";
	return "Follower";
}

static void raft_stats_node(struct gw_json *j, const char *key, uint64_t id)
{
	char name[32];

	snprintf(name, sizeof(name), "node_%llu", (unsigned long long)id);
	gw_json_kv_str(j, key, name);
}

void gw_raft_stats_format(struct gw *gw, struct gw_json *j)
{
	const struct gw_status *s = &gw->status;
	const char *laddr = gw_status_member_addr(gw, s->msg.leader_id);

	gw_json_open(j, '{');
	raft_stats_node(j, "node_id", gw->cfg.node_id);
	gw_json_kv_str(j, "state", raft_stats_state(&s->msg));
	gw_json_kv_u64(j, "term", s->msg.term);
	if (s->msg.leader_id == 0) {
		gw_json_kv_null(j, "leader");
	} else {
		gw_json_key(j, "leader");
		gw_json_open(j, '{');
		raft_stats_node(j, "node_id", s->msg.leader_id);
		laddr ? gw_json_kv_str(j, "raft_address", laddr)
		      : gw_json_kv_null(j, "raft_address");
		gw_json_close(j, '}');
	}
	gw_json_kv_u64(j, "last_log_index", s->msg.last_index);
	gw_json_kv_u64(j, "commit_index", s->msg.commit_index);
	gw_json_kv_u64(j, "applied_index", s->msg.applied_index);
	gw_json_key(j, "members");
	gw_json_open(j, '[');
	for (uint32_t i = 0; i < s->n_members; i++) {
		gw_json_open(j, '{');
		raft_stats_node(j, "node_id", s->members[i].id);
		gw_json_kv_str(j, "raft_address", s->members[i].addr);
		gw_json_kv_str(j, "suffrage",
		               s->members[i].role == RAFT_LEARNER ? "Nonvoter" : "Voter");
		gw_json_close(j, '}');
	}
	gw_json_close(j, ']');
	gw_json_close(j, '}');
}

void gw_raft_stats_handle(struct gw_req *r)
{
	gw_status_query(r, gw_raft_stats_format);
}
