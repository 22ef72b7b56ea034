/*
 * gw_members_list.c - GET /v1/members: every member with its role, peer
 * address and gateway URL, and from the leader's view its match index and
 * whether it has caught up (match >= the leader's commit index). Served by
 * the leader: a follower forwards it to the leader's gateway like a write
 * (gw_forward.c); the leader asks its raftd afresh. Loop thread only.
 */
#include "gw.h"

#include "gw_errors.h"
#include "gw_routes.h"
#include "kv_clock.h"
#include "kv_err.h"

#include <string.h>

#define GW_MEMBERS_BODY_MAX (8u << 10)

static void members_route(struct gw *gw, struct gw_call *c);

static void members_wait_leader(struct gw_call *c)
{
	c->state = GW_CALL_WAIT_LEADER;
	c->retry_at_ms = kv_clock_mono_ms() + GW_TICK_MS;
}

static void members_ask_raftd(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_STATUS_REQ, .req_id = gw_pending_next_id(gw, c)};

	if (gw_zmq_send(gw, 1, &m) != 0) {
		members_wait_leader(c);
		return;
	}
	c->state = GW_CALL_STATUS;
}

static void members_route(struct gw *gw, struct gw_call *c)
{
	uint64_t leader = gw_status_leader(gw);
	const struct gw_peer *peer;

	if (leader != 0 && leader == gw->cfg.node_id) {
		members_ask_raftd(gw, c);
		return;
	}
	if (c->forwarded) {
		gw_reply_no_leader(gw, &c->http, KV_ENOTLEADER);
		gw_pending_end(gw, c);
		return;
	}
	peer = gw_status_peer(gw, leader);
	if (peer == NULL) {
		members_wait_leader(c);
		return;
	}
	c->state = GW_CALL_FORWARDING;
	if (gw_forward_start(gw, c, peer) != 0)
		members_wait_leader(c);
}

static void members_format(struct gw *gw, struct gw_json *j)
{
	const struct gw_status *s = &gw->status;

	gw_json_open(j, '{');
	gw_json_kv_u64(j, "leader", s->msg.leader_id);
	gw_json_kv_u64(j, "commit_index", s->msg.commit_index);
	gw_json_key(j, "members");
	gw_json_open(j, '[');
	for (uint32_t i = 0; i < s->n_members; i++) {
		const struct gw_peer *p = gw_status_peer(gw, s->members[i].id);

		gw_json_open(j, '{');
		gw_json_kv_u64(j, "id", s->members[i].id);
		gw_json_kv_str(j, "role", s->members[i].role == RAFT_LEARNER ? "learner" : "voter");
		gw_json_kv_str(j, "peer_address", s->members[i].addr);
		p ? gw_json_kv_str(j, "url", p->url) : gw_json_kv_null(j, "url");
		gw_json_kv_u64(j, "match_index", s->members[i].match);
		gw_json_kv_bool(j, "caught_up", s->members[i].match >= s->msg.commit_index);
		gw_json_close(j, '}');
	}
	gw_json_close(j, ']');
	gw_json_close(j, '}');
	gw_json_raw(j, "\n", 1);
}

static void members_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *m)
{
	struct gw_json j;

	if (m->type != PROTO_STATUS_RESP || c->state != GW_CALL_STATUS)
		return;
	if (m->u.status_resp.role != RAFT_LEADER || !gw->status.has_match) {
		gw_status_refresh(gw); /* no longer the leader: find the one now */
		members_wait_leader(c);
		return;
	}
	gw_json_init(&j, GW_MEMBERS_BODY_MAX);
	members_format(gw, &j);
	gw_reply_send(gw, &c->http, 200, "application/json", j.buf, j.len, 0);
	gw_json_free(&j);
	gw_pending_end(gw, c);
}

static void members_on_retry(struct gw *gw, struct gw_call *c)
{
	if (c->state == GW_CALL_WAIT_LEADER)
		members_route(gw, c);
}

static void members_on_deadline(struct gw *gw, struct gw_call *c)
{
	gw_reply_no_leader(gw, &c->http, KV_ENOLEADER);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops members_ops = {members_on_msg, members_on_retry,
                                               members_on_deadline};

void gw_members_list_handle(struct gw_req *r)
{
	struct gw_call *c = gw_pending_start(r, &members_ops, r->query.timeout_ms);

	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->forwarded = h2o_find_header_by_str(&r->http.req->headers, "x-raftkv-forwarded",
	                                      strlen("x-raftkv-forwarded"), -1) >= 0;
	members_route(r->gw, c);
}
