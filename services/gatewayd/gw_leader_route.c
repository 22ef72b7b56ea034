/*
 * gw_leader_route.c - sends a call that only the leader may serve where the
 * leader is, as writes go (gw_write.c): here when this node leads, else to
 * the leader's gateway over HTTP (gw_forward.c, one hop only), else it waits
 * a tick and looks again within its deadline. The membership routes and GET
 * /v1/members use it. Loop thread only.
 */
#include "gw.h"

#include "kv_clock.h"
#include "kv_err.h"

void gw_leader_wait(struct gw_call *c)
{
	c->state = GW_CALL_WAIT_LEADER;
	c->retry_at_ms = kv_clock_mono_ms() + GW_TICK_MS;
}

void gw_leader_route(struct gw *gw, struct gw_call *c, gw_leader_send_fn send)
{
	uint64_t leader = gw_status_leader(gw);
	const struct gw_peer *peer;

	if (leader != 0 && leader == gw->cfg.node_id) {
		send(gw, c);
		return;
	}
	if (c->forwarded) {
		/* a second hop is refused: the forwarder sees nothing was done and looks again */
		gw_reply_no_leader(gw, &c->http, KV_ENOTLEADER);
		gw_pending_end(gw, c);
		return;
	}
	peer = gw_status_peer(gw, leader);
	if (peer == NULL) {
		gw_leader_wait(c);
		return;
	}
	c->state = GW_CALL_FORWARDING; /* first: a connection that fails calls back */
	gw->metrics.forwarded++;
	if (gw_forward_start(gw, c, peer) != 0)
		gw_leader_wait(c);
}

int gw_leader_forwarded(const struct gw_req *r)
{
	return h2o_find_header_by_str(&r->http.req->headers, H2O_STRLIT("x-raftkv-forwarded"),
	                              -1) >= 0;
}
