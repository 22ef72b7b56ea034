/*
 * gw_member_remove.c - DELETE /v1/members/{id}: removes a member through
 * the leader, forwarded there like a write (gw_forward.c). The leader's
 * raftd proposes one CONFIG entry; removing the leader itself first hands
 * leadership to a caught-up voter (raftd answers not_leader) and the call
 * asks the next leader within its deadline. Answers 200 {"id","index"} once
 * the change is in the leader's log (it takes effect there at once; the
 * next change waits for it to commit), 404 member_not_found, 409
 * last_voter, 409 change_in_progress. Loop thread only.
 */
#include "gw.h"

#include "gw_errors.h"
#include "gw_routes.h"
#include "kv_clock.h"
#include "kv_err.h"

#include <stdio.h>
#include <string.h>

#define GW_MEMBER_ID_MAX 65535u /* node ids are 1..65535 (design.md) */

static void member_route(struct gw *gw, struct gw_call *c);

static void member_wait_leader(struct gw_call *c)
{
	c->state = GW_CALL_WAIT_LEADER;
	c->retry_at_ms = kv_clock_mono_ms() + GW_TICK_MS;
}

/* The member id in c->key: decimal 1..65535; 0 when it is not one. */
static uint64_t member_id_of(const struct gw_call *c)
{
	uint64_t id = 0;

	if (gw_parse_u64((const char *)c->key.bytes, c->key.len, &id) != 0 || id == 0 ||
	    id > GW_MEMBER_ID_MAX)
		return 0;
	return id;
}

static void member_send(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_MEMBER_CHANGE, .req_id = gw_pending_next_id(gw, c)};

	m.u.member_change.op = RAFT_CONFIG_REMOVE;
	m.u.member_change.node_id = member_id_of(c);
	if (gw_zmq_send(gw, 1, &m) != 0) {
		member_wait_leader(c); /* raftd is down: nothing was proposed */
		return;
	}
	c->state = GW_CALL_PROPOSED;
}

static void member_route(struct gw *gw, struct gw_call *c)
{
	uint64_t leader = gw_status_leader(gw);
	const struct gw_peer *peer;

	if (leader != 0 && leader == gw->cfg.node_id) {
		member_send(gw, c);
		return;
	}
	if (c->forwarded) { /* one hop only, as writes (gw_write.c) */
		gw_reply_no_leader(gw, &c->http, KV_ENOTLEADER);
		gw_pending_end(gw, c);
		return;
	}
	peer = gw_status_peer(gw, leader);
	if (peer == NULL) {
		member_wait_leader(c);
		return;
	}
	c->state = GW_CALL_FORWARDING;
	gw->metrics.forwarded++;
	if (gw_forward_start(gw, c, peer) != 0)
		member_wait_leader(c);
}

static void member_answer(struct gw *gw, struct gw_call *c,
                          const struct proto_member_change_resp *m)
{
	struct gw_json j;

	switch (m->status) {
	case 0:
		gw_json_init(&j, 128);
		gw_json_open(&j, '{');
		gw_json_kv_u64(&j, "id", member_id_of(c));
		gw_json_kv_u64(&j, "index", m->index);
		gw_json_close(&j, '}');
		gw_json_raw(&j, "\n", 1);
		gw_reply_send(gw, &c->http, 200, "application/json", j.buf, j.len, m->index);
		gw_json_free(&j);
		break;
	case KV_ENOTFOUND:
		gw_reply_error(gw, &c->http, 404, "member_not_found", "no member has this id",
		               NULL);
		break;
	case KV_EINVAL:
		gw_reply_error(gw, &c->http, 409, "last_voter", "the last voter cannot be removed",
		               NULL);
		break;
	case KV_ECONFIG:
		gw_reply_error(gw, &c->http, 409, "change_in_progress",
		               "another membership change is not committed yet; retry", NULL);
		break;
	default:
		gw_reply_kv_error(gw, &c->http, m->status, NULL, NULL);
	}
	gw_pending_end(gw, c);
}

static void member_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	if (lm->type != PROTO_MEMBER_CHANGE_RESP || c->state != GW_CALL_PROPOSED)
		return;
	if (lm->u.member_change_resp.status == KV_ENOTLEADER ||
	    lm->u.member_change_resp.status == KV_ENOLEADER) {
		/* nothing was appended (or the leader handed over to be removed): ask again */
		gw->status.msg.leader_id = lm->u.member_change_resp.leader_id;
		gw_status_refresh(gw);
		member_wait_leader(c);
		return;
	}
	member_answer(gw, c, &lm->u.member_change_resp);
}

static void member_on_retry(struct gw *gw, struct gw_call *c)
{
	if (c->state == GW_CALL_WAIT_LEADER)
		member_route(gw, c);
}

static void member_on_deadline(struct gw *gw, struct gw_call *c)
{
	struct gw_error_extra ex = {0};

	if (c->state == GW_CALL_WAIT_LEADER) {
		gw_reply_no_leader(gw, &c->http, KV_ENOLEADER);
		gw_pending_end(gw, c);
		return;
	}
	ex.request_id = c->req_id;
	gw_reply_error(
	    gw, &c->http, 504, kv_err_code(KV_ETIMEDOUT),
	    "the deadline passed before the change's outcome was known; see GET /v1/status", &ex);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops member_ops = {member_on_msg, member_on_retry, member_on_deadline};

void gw_member_remove_handle(struct gw_req *r)
{
	struct gw_call *c = gw_pending_start(r, &member_ops, r->query.timeout_ms);
	struct gw_error_extra ex = {.param = "id", .limit = GW_MEMBER_ID_MAX, .has_limit = 1};

	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	if (member_id_of(c) == 0) {
		gw_reply_error(r->gw, &c->http, 400, kv_err_code(KV_EINVAL),
		               "the member id must be a number from 1 to 65535", &ex);
		gw_pending_end(r->gw, c);
		return;
	}
	c->forwarded = h2o_find_header_by_str(&r->http.req->headers, "x-raftkv-forwarded",
	                                      strlen("x-raftkv-forwarded"), -1) >= 0;
	member_route(r->gw, c);
}
