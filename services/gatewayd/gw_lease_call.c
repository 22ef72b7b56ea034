/*
 * gw_lease_call.c - keepalives and lookups of a lease, which only the
 * leader's gateway can answer: it holds the lease clock. On the leader: a
 * read index (confirming leadership after the request arrived), storaged's
 * LEASE_QUERY at that index (the lease exists, its TTL and keys), then the
 * clock (a keepalive moves the deadline to now + ttl). Elsewhere the
 * request is forwarded to the leader's gateway, as writes are. A keepalive
 * is refused with 503 while a new leader's clock is still loading, and with
 * 404 once the lease's expiry is decided. Loop thread only.
 */
#include "gw.h"
#include "gw_coord.h"
#include "gw_read.h"

#include "gw_errors.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define GW_LEASE_WAIT_MS 20u /* a call waiting for a leader or its clock looks again */

static void lease_route(struct gw *gw, struct gw_call *c);

static void lease_wait(struct gw_call *c)
{
	c->state = GW_CALL_WAIT_LEADER;
	c->retry_at_ms = kv_clock_mono_ms() + GW_LEASE_WAIT_MS;
}

static int lease_send(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_LEASE_QUERY};
	m.req_id = gw_pending_next_id(gw, c);
	m.u.lease_query = (struct proto_lease_query){
	    .lease = c->lease, .min_index = c->read_index, .wait_ms = gw_pending_left_ms(c)};
	return gw_read_send(gw, &m);
}

static void lease_answer(struct gw *gw, struct gw_call *c, struct gw_json *j, uint64_t index)
{
	gw_json_close(j, '}');
	gw_json_raw(j, "\n", 1);
	gw_reply_send(gw, &c->http, 200, "application/json", j->buf, j->len, index);
	gw_json_free(j);
	gw_pending_end(gw, c);
}

static void lease_keys(struct gw_json *j, const struct proto_lease_query_resp *m)
{
	gw_json_key(j, "keys");
	gw_json_open(j, '[');
	for (uint32_t i = 0; i < m->n_items; i++) {
		const struct proto_bytes *k = &m->items[i].key;
		if (gw_json_utf8_valid(k->ptr, k->len))
			gw_json_str(j, k->ptr, k->len);
		else
			gw_json_base64(j, k->ptr, k->len); /* docs/api.md: such keys are base64 */
	}
	gw_json_close(j, ']');
	if (m->more)
		gw_json_kv_bool(j, "keys_more", 1);
}

static void lease_on_query(struct gw *gw, struct gw_call *c, const struct proto_lease_query_resp *m)
{
	uint64_t now_ms = kv_clock_mono_ms(), remaining_ms = 0;
	if (m->status == KV_ENOLEASE) {
		gw_reply_kv_error(gw, &c->http, KV_ENOLEASE, NULL, NULL);
		gw_pending_end(gw, c);
		return;
	}
	if (m->status != 0) {
		gw_read_fail(gw, c, m->status);
		return;
	}
	if (!gw_lease_clock_ready(gw, c->lease_term)) {
		gw_reply_kv_error(gw, &c->http, KV_EUNAVAIL, "leadership moved; try again", NULL);
		gw_pending_end(gw, c);
		return;
	}
	if (c->lease_call == GW_LEASE_KEEPALIVE) {
		int err = gw_lease_clock_keepalive(gw, c->lease, m->ttl_ms, now_ms, &remaining_ms);
		if (err != 0) {
			gw_reply_kv_error(gw, &c->http, err,
			                  err == KV_ENOLEASE ? "the lease expired" : NULL, NULL);
			gw_pending_end(gw, c);
			return;
		}
	} else {
		remaining_ms = gw_lease_clock_remaining(gw, c->lease, m->ttl_ms, now_ms);
	}
	struct gw_json j;
	char id[24];
	snprintf(id, sizeof(id), "%" PRIu64, c->lease);
	gw_json_init(&j, GW_COORD_ANSWER_MAX);
	gw_json_open(&j, '{');
	gw_json_kv_str(&j, "id", id);
	gw_json_kv_u64(&j, "ttl_ms", m->ttl_ms);
	gw_json_kv_u64(&j, "remaining_ms", remaining_ms);
	if (c->lease_call == GW_LEASE_LOOKUP)
		lease_keys(&j, m);
	lease_answer(gw, c, &j, m->applied_index);
}

static void lease_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	if (gw_read_on_msg(gw, c, lm) || lm->type != PROTO_LEASE_QUERY_RESP ||
	    c->state != GW_CALL_QUERY)
		return;
	lease_on_query(gw, c, &lm->u.lease_query_resp);
}

static void lease_on_retry(struct gw *gw, struct gw_call *c)
{
	if (c->state == GW_CALL_WAIT_LEADER)
		lease_route(gw, c);
}

static const struct gw_call_ops lease_ops = {lease_on_msg, lease_on_retry, gw_read_on_deadline};

static void lease_route(struct gw *gw, struct gw_call *c)
{
	if (c->http.req == NULL) {
		gw_pending_end(gw, c); /* the client left */
		return;
	}
	uint64_t leader = gw_status_leader(gw);
	if (leader != 0 && leader == gw->cfg.node_id) {
		if (!gw_lease_clock_ready(gw, gw->status.msg.term)) {
			lease_wait(c); /* a new leader lists the leases first */
			return;
		}
		c->lease_term = gw->status.msg.term;
		gw_read_start(gw, c);
		return;
	}
	if (c->forwarded) {
		gw_reply_no_leader(gw, &c->http, KV_ENOTLEADER);
		gw_pending_end(gw, c);
		return;
	}
	const struct gw_peer *peer = gw_status_peer(gw, leader);
	if (peer == NULL) {
		lease_wait(c);
		return;
	}
	c->state = GW_CALL_FORWARDING; /* first: a failed connect calls back */
	gw->metrics.forwarded++;
	if (gw_forward_start(gw, c, peer) != 0)
		lease_wait(c);
}

void gw_lease_call_start(struct gw_req *r, enum gw_lease_call_kind kind, uint64_t id)
{
	struct gw_call *c = gw_pending_start(r, &lease_ops, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->lease_call = (uint8_t)kind;
	c->lease = id;
	c->send_query = lease_send;
	c->query.consistency = GW_LINEARIZABLE; /* the clock is the leader's: never stale */
	c->forwarded = h2o_find_header_by_str(&r->http.req->headers,
	                                      H2O_STRLIT("x-raftkv-forwarded"), -1) >= 0;
	lease_route(r->gw, c);
}

int gw_lease_parse_id(struct gw_req *r, int keepalive, uint64_t *id)
{
	static const char suffix[] = "/keepalive";
	size_t len = r->key.len, slen = sizeof(suffix) - 1;
	if (keepalive) {
		if (len <= slen || memcmp(r->key.bytes + len - slen, suffix, slen) != 0) {
			gw_reply_error(r->gw, &r->http, 404, "not_found",
			               "PUT /v1/leases/{id}/keepalive is the only PUT on leases",
			               NULL);
			return -1;
		}
		len -= slen;
	}
	if (gw_parse_u64((const char *)r->key.bytes, len, id) != 0 || *id == 0) {
		struct gw_error_extra ex = {0};
		ex.param = "id";
		gw_reply_error(r->gw, &r->http, 400, kv_err_code(KV_EINVAL),
		               "a lease id is a decimal number, 1 and up", &ex);
		return -1;
	}
	return 0;
}
