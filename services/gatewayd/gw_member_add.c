/*
 * gw_member_add.c - POST /v1/members {"id","peer_address","url",
 * "curve_key","promote"}: adds a learner (MEMBER_CHANGE op 1), promoted by
 * the leader once caught up when "promote" is true. Answers 201 with the
 * member once the change is committed (gw_member_change.c). Loop thread
 * only.
 */
#include "gw_coord.h"
#include "gw_member.h"
#include "gw_routes.h"

void gw_member_add_handle(struct gw_req *r)
{
	h2o_req_t *req = r->http.req;
	struct gw_member_change ch = {.op = RAFT_CONFIG_ADD_LEARNER, .style = GW_MEMBER_STYLE_API};
	struct gw_txn_err e;

	if (gw_member_parse_add(req->entity.base != NULL ? req->entity.base : "", req->entity.len,
	                        &ch.m, &e) != 0) {
		gw_coord_reply_bad(r, &e);
		return;
	}
	gw_member_change_start(r, &ch);
}
