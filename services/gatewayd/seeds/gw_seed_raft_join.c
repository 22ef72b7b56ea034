/*
 * gw_seed_raft_join.c - POST /raft/join, from the third seed project
 * (yusufsyaifudin/raft-sample): {"node_id":"node_2","raft_address":
 * "127.0.0.1:1112"} adds node 2 (the trailing number of its name) at that
 * Raft address as a learner that the leader promotes once caught up (the
 * seed added a voter at once; a voter that has not caught up could cost the
 * quorum). Like the seed, it answers 200 {"message":"node node_2 at
 * 127.0.0.1:1112 joined successfully","data":<GET /raft/stats>} once the
 * change is committed, and the join of a member already there with that
 * address succeeds at once, as hashicorp/raft's AddVoter does; a refusal is
 * the seed's 422 {"error":...} (with raftkv's "code"). Served through the
 * leader (forwarded to it, where the seed required the caller to find it).
 * Loop thread only.
 */
#include "gw.h"
#include "gw_member.h"
#include "gw_routes.h"

#include <string.h>

void gw_seed_raft_join_handle(struct gw_req *r)
{
	h2o_req_t *req = r->http.req;
	struct gw_member_change ch = {.op = RAFT_CONFIG_ADD_LEARNER, .style = GW_MEMBER_STYLE_SEED};
	struct gw_txn_err e;
	struct gw_json j;
	char msg[sizeof(e.message) + 16];

	if (gw_member_parse_join(req->entity.base != NULL ? req->entity.base : "", req->entity.len,
	                         &ch.m, &e) == 0) {
		gw_member_change_start(r, &ch);
		return;
	}
	/* the seed answered a body it could not bind with 422 {"error":"error binding: ..."} */
	snprintf(msg, sizeof(msg), "error binding: %s", e.message);
	gw_json_init(&j, sizeof(msg) * 2 + 64);
	gw_json_open(&j, '{');
	gw_json_kv_str(&j, "code", e.code);
	gw_json_kv_str(&j, "error", msg);
	gw_json_close(&j, '}');
	gw_json_raw(&j, "\n", 1);
	gw_reply_send(r->gw, &r->http, e.status == 413 ? 413 : 422, "application/json", j.buf,
	              j.len, 0);
	gw_json_free(&j);
}
