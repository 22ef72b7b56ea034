/*
 * gw_members_list.c - GET /v1/members: every member with its role, peer
 * address and gateway URL, and from the leader's view its match index and
 * whether it has caught up (match >= the leader's commit index) and is live
 * (heard from within an election timeout), and the leader's last index.
 * Served by
 * the leader: a follower forwards it to the leader's gateway like a write;
 * the leader asks its raftd afresh (gw_status_query.c). Loop thread only.
 */
#include "gw.h"

#include "gw_routes.h"

static void members_format(struct gw *gw, struct gw_json *j)
{
	const struct gw_status *s = &gw->status;

	gw_json_open(j, '{');
	gw_json_kv_u64(j, "leader", s->msg.leader_id);
	gw_json_kv_u64(j, "commit_index", s->msg.commit_index);
	gw_json_kv_u64(j, "last_index", s->msg.last_index);
	gw_json_key(j, "members");
	gw_json_open(j, '[');
	for (uint32_t i = 0; i < s->n_members; i++) {
		gw_json_open(j, '{');
		gw_status_json_member(gw, j, i);
		gw_json_kv_u64(j, "match_index", s->members[i].match);
		gw_json_kv_bool(j, "caught_up", s->members[i].match >= s->msg.commit_index);
		if (s->has_live)
			gw_json_kv_bool(j, "live", s->members[i].live);
		gw_json_close(j, '}');
	}
	gw_json_close(j, ']');
	gw_json_close(j, '}');
}

void gw_members_list_handle(struct gw_req *r)
{
	gw_status_query_leader(r, members_format);
}
