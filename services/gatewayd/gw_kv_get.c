/*
 * gw_kv_get.c - GET /v1/kv/{key}: the raw value, with ETag, X-Create-Index
 * and X-Mod-Index; linearizable by default (gw_read.c). The answer is the
 * same whether storaged sent it or the local state machine served it
 * (gw_local.h). Loop thread only.
 */
#include "gw_local.h"
#include "gw_read.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "kv_err.h"

#include <inttypes.h>
#include <stdio.h>

static int get_send(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_GET};
	struct proto_get *g = &m.u.get;
	m.req_id = gw_pending_next_id(gw, c);
	g->key = (struct proto_bytes){c->key.bytes, c->key.len};
	g->min_index = c->read_index;
	g->wait_ms = c->read_index ? gw_pending_left_ms(c) : 0;
	return gw_read_send(gw, &m);
}

/* name: v, or name: "v" (an entity tag) when quoted. */
static void get_header_u64(h2o_req_t *req, const char *name, int quoted, uint64_t v)
{
	char text[32];
	int n = snprintf(text, sizeof(text), quoted ? "\"%" PRIu64 "\"" : "%" PRIu64, v);
	gw_reply_header(req, name, text, (size_t)n);
}

/* The answer: 200 with the value at applied, or the 404 of a missing key. */
static void get_answer(struct gw *gw, struct gw_call *c, int status, uint64_t create_index,
                       uint64_t mod_index, const void *value, size_t len, uint64_t applied)
{
	if (status != 0) {
		c->http.raft_index = applied; /* the index the (failed) read saw */
		gw_read_fail(gw, c, status);
		return;
	}
	h2o_req_t *req = c->http.req;
	get_header_u64(req, "etag", 1, mod_index);
	get_header_u64(req, "x-create-index", 0, create_index);
	get_header_u64(req, "x-mod-index", 0, mod_index);
	gw_reply_send(gw, &c->http, 200, "application/octet-stream", len ? value : "", len,
	              applied);
	gw_pending_end(gw, c);
}

static void get_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	const struct proto_get_resp *m = &lm->u.get_resp;

	if (gw_read_on_msg(gw, c, lm) || lm->type != PROTO_GET_RESP || c->state != GW_CALL_QUERY)
		return;
	get_answer(gw, c, m->status, m->create_index, m->mod_index, m->value.ptr, m->value.len,
	           m->applied_index);
}

static void get_on_local(struct gw *gw, struct gw_call *c, const struct gw_local_answer *a)
{
	get_answer(gw, c, a->exists ? 0 : KV_ENOTFOUND, a->create_index, a->mod_index, a->value,
	           a->value_len, a->applied_index);
}

static const struct gw_call_ops get_ops = {get_on_msg, gw_read_on_retry, gw_read_on_deadline};

void gw_kv_get_handle(struct gw_req *r)
{
	struct gw_call *c = gw_pending_start(r, &get_ops, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->send_query = get_send;
	c->on_local = get_on_local;
	/* a value is small: another gateway may answer it while our raftd is silent */
	c->peer_may_serve = 1;
	c->forwarded = h2o_find_header_by_str(&r->http.req->headers,
	                                      H2O_STRLIT("x-raftkv-forwarded"), -1) >= 0;
	gw_read_start(r->gw, c);
}
