/*
 * gw_status_query.c - the routes answered from a STATUS that raftd gives
 * afresh: GET /v1/status and GET /raft/stats (this node's view, whatever its
 * role) and GET /v1/members (the leader's view, with match indexes: a
 * follower forwards the request to the leader's gateway, gw_leader_route.c).
 * The STATUS_RESP has updated gw->status (gw_status_update) before the call
 * sees it; the route's formatter writes its JSON from there. Loop thread
 * only.
 */
#include "gw.h"

#include "gw_errors.h"
#include "kv_err.h"

#define GW_STATUS_QUERY_BODY_MAX (16u << 10) /* RAFT_NODES_MAX members with addresses and URLs */

static void status_query_answer(struct gw *gw, struct gw_call *c)
{
	struct gw_json j;

	gw_json_init(&j, GW_STATUS_QUERY_BODY_MAX);
	c->status_format(gw, &j);
	gw_json_raw(&j, "\n", 1);
	gw_reply_send(gw, &c->http, 200, "application/json", j.buf, j.len, 0);
	gw_json_free(&j);
	gw_pending_end(gw, c);
}

/* Asks raftd for a STATUS; 0, or KV_EUNAVAIL when it is not connected. */
static int status_query_send(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_STATUS_REQ, .req_id = gw_pending_next_id(gw, c)};

	c->state = GW_CALL_STATUS;
	return gw_zmq_send(gw, 1, &m);
}

/* ---- this node's view ---- */

static void local_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *m)
{
	if (m->type == PROTO_STATUS_RESP && c->state == GW_CALL_STATUS)
		status_query_answer(gw, c);
}

static void local_on_retry(struct gw *gw, struct gw_call *c)
{
	/* nothing to retry: raftd answers the one STATUS_REQ or the deadline comes */
}

static void local_on_deadline(struct gw *gw, struct gw_call *c)
{
	gw_reply_kv_error(gw, &c->http, KV_EUNAVAIL, "raftd did not answer", NULL);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops local_ops = {local_on_msg, local_on_retry, local_on_deadline};

void gw_status_query(struct gw_req *r, gw_status_format_fn format)
{
	struct gw *gw = r->gw;
	struct gw_call *c = gw_pending_start(r, &local_ops, GW_STATUS_WAIT_MS);

	if (c == NULL) {
		gw_reply_kv_error(gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->status_format = format;
	if (status_query_send(gw, c) != 0) {
		gw_reply_kv_error(gw, &c->http, KV_EUNAVAIL, "raftd is not connected", NULL);
		gw_pending_end(gw, c);
	}
}

/* ---- the leader's view ---- */

static void leader_send(struct gw *gw, struct gw_call *c)
{
	if (status_query_send(gw, c) != 0)
		gw_leader_wait(c);
}

static void leader_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *m)
{
	if (m->type != PROTO_STATUS_RESP || c->state != GW_CALL_STATUS)
		return;
	if (m->u.status_resp.role != RAFT_LEADER || !gw->status.has_match) {
		gw_status_refresh(gw); /* no longer the leader: find the one now */
		gw_leader_wait(c);
		return;
	}
	status_query_answer(gw, c);
}

static void leader_on_retry(struct gw *gw, struct gw_call *c)
{
	if (c->state == GW_CALL_WAIT_LEADER)
		gw_leader_route(gw, c, leader_send);
}

static void leader_on_deadline(struct gw *gw, struct gw_call *c)
{
	gw_reply_no_leader(gw, &c->http, KV_ENOLEADER);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops leader_ops = {leader_on_msg, leader_on_retry, leader_on_deadline};

void gw_status_query_leader(struct gw_req *r, gw_status_format_fn format)
{
	struct gw_call *c = gw_pending_start(r, &leader_ops, r->query.timeout_ms);

	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->status_format = format;
	c->forwarded = (uint8_t)gw_leader_forwarded(r);
	gw_leader_route(r->gw, c, leader_send);
}
