/*
 * gw_consul_kv_get.c - Consul's GET /v1/kv/{key}: a JSON array of the key's
 * one entry, or with ?raw its bare value; 404 with an empty body when it is
 * not there. ?recurse and ?keys go to gw_consul_kv_list.c. Read modes as
 * raftkv's (gw_read.c): linearizable by default and with ?consistent, ?stale
 * from this node's state machine. Loop thread only.
 */
#include "gw_consul.h"
#include "gw_consul_entry.h"
#include "gw_read.h"
#include "gw_reply.h"
#include "kv_err.h"

#define GW_CONSUL_ENTRY_BODY_MAX ((size_t)2 * KV_VALUE_BYTES_MAX_LIMIT + 4096u)

static int consul_get_send(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_GET};
	struct proto_get *g = &m.u.get;
	m.req_id = gw_pending_next_id(gw, c);
	g->key = (struct proto_bytes){c->key.bytes, c->key.len};
	g->min_index = c->read_index;
	g->wait_ms = c->read_index ? gw_pending_left_ms(c) : 0;
	return gw_read_send(gw, &m);
}

/* [entry]: the key's one entry, as Consul's array. */
static void consul_get_entry(struct gw *gw, struct gw_call *c, const struct proto_get_resp *m)
{
	struct proto_item it = {.key = {c->key.bytes, c->key.len},
	                        .value = m->value,
	                        .create_index = m->create_index,
	                        .mod_index = m->mod_index,
	                        .flags = m->flags};
	struct gw_json j;
	gw_json_init(&j, GW_CONSUL_ENTRY_BODY_MAX);
	gw_json_open(&j, '[');
	int err = gw_consul_entry_write(&j, &it);
	gw_json_close(&j, ']');
	if (err != 0)
		gw_consul_entry_fail(gw, &c->http, err);
	else if (j.overflow)
		gw_reply_kv_error(gw, &c->http, KV_ETOOLARGE, "the entry is too large to encode",
		                  NULL);
	else
		gw_consul_reply_json(gw, &c->http, j.buf, j.len, m->applied_index);
	gw_json_free(&j);
}

static void consul_get_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	const struct proto_get_resp *m = &lm->u.get_resp;

	if (gw_read_on_msg(gw, c, lm) || lm->type != PROTO_GET_RESP || c->state != GW_CALL_QUERY)
		return;
	if (m->status == KV_ENOTFOUND) {
		gw_consul_reply_absent(gw, &c->http, m->applied_index);
	} else if (m->status != 0) {
		c->http.raft_index = m->applied_index;
		gw_read_fail(gw, c, m->status);
		return;
	} else if (c->consul.read == GW_CONSUL_READ_RAW) {
		gw_reply_send(gw, &c->http, 200, "application/octet-stream",
		              m->value.len ? (const char *)m->value.ptr : "", m->value.len,
		              m->applied_index);
	} else {
		consul_get_entry(gw, c, m);
	}
	gw_pending_end(gw, c);
}

static const struct gw_call_ops consul_get_ops = {consul_get_on_msg, gw_read_on_retry,
                                                  gw_read_on_deadline};

void gw_consul_kv_get_read(struct gw *gw, struct gw_call *c)
{
	c->ops = &consul_get_ops;
	c->send_query = consul_get_send;
	gw_read_start(gw, c);
}

void gw_consul_kv_get_handle(struct gw_req *r)
{
	if (r->consul.has_index) {
		gw_consul_block(r); /* waits for a change past ?index=, then reads as below */
		return;
	}
	if (r->consul.read == GW_CONSUL_READ_RECURSE || r->consul.read == GW_CONSUL_READ_KEYS) {
		gw_consul_kv_list(r);
		return;
	}
	if (r->key.len == 0) {
		gw_reply_error(r->gw, &r->http, 400, "invalid_key",
		               "the key is empty (only ?recurse and ?keys take the empty prefix)",
		               NULL);
		return;
	}
	struct gw_call *c = gw_pending_start(r, &consul_get_ops, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->peer_may_serve = 1; /* forwarded with X-Raftkv-Consul while our raftd is silent */
	c->forwarded = h2o_find_header_by_str(&r->http.req->headers,
	                                      H2O_STRLIT("x-raftkv-forwarded"), -1) >= 0;
	gw_consul_kv_get_read(r->gw, c);
}
