/*
 * gw_member_remove.c - DELETE /v1/members/{id}: removes a member through
 * the leader (MEMBER_CHANGE op 3, gw_member_change.c). Removing the leader
 * itself first hands leadership to a caught-up voter (raftd answers
 * not_leader) and the call asks the next leader within its deadline.
 * Answers 200 {"id","index"} once the change is committed; 404
 * member_not_found, 409 last_voter, 409 change_in_progress, 409
 * would_lose_quorum (fewer voters the leader hears from would remain than a
 * quorum of the new configuration; ?force=true removes anyway). Loop thread
 * only.
 */
#include "gw_member.h"
#include "gw_reply.h"
#include "gw_routes.h"

#include "gw_errors.h"
#include "kv_err.h"

void gw_member_remove_handle(struct gw_req *r)
{
	struct gw_member_change ch = {.op = RAFT_CONFIG_REMOVE, .style = GW_MEMBER_STYLE_API};
	struct gw_error_extra ex = {.param = "id", .limit = KV_MEMBER_ID_MAX, .has_limit = 1};

	if (gw_parse_u64((const char *)r->key.bytes, r->key.len, &ch.m.id) != 0 || ch.m.id == 0 ||
	    ch.m.id > KV_MEMBER_ID_MAX) {
		gw_reply_error(r->gw, &r->http, 400, kv_err_code(KV_EINVAL),
		               "the member id must be a number from 1 to 65535", &ex);
		return;
	}
	ch.force = r->query.force;
	gw_member_change_start(r, &ch);
}
