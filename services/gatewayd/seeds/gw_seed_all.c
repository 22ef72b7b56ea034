/*
 * gw_seed_all.c - GET /get_all_data, from the first seed project: every key
 * and value as {"data":"map[k1:v1 k2:v2]"}, the text Go's fmt prints for a
 * map[string]string (keys in byte order, as fmt sorts them). One LIST of at
 * most KV_LIST_LIMIT_MAX keys: a store holding more answers 413 and points
 * to GET /v1/kv, which pages. Loop thread only.
 */
#include "gw_read.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "gw_seed.h"

#include "kv_err.h"

/* "map[...]" of one page: at most KV_LIST_BYTES_MAX of values plus the keys, 6x for escapes */
#define GW_SEED_ALL_BODY_MAX                                                                       \
	((size_t)6 * (KV_LIST_BYTES_MAX + KV_VALUE_BYTES_MAX_LIMIT) + (4u << 20))

static int all_send(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_LIST};
	struct proto_list *l = &m.u.list;
	m.req_id = gw_pending_next_id(gw, c);
	l->limit = KV_LIST_LIMIT_MAX;
	l->min_index = c->read_index;
	l->wait_ms = c->read_index ? gw_pending_left_ms(c) : 0;
	return gw_read_send(gw, &m);
}

/* The map's text, unescaped, then escaped as one Go string. */
static int all_format(struct gw_json *j, const struct proto_list_resp *m)
{
	size_t len = 5; /* "map[" "]" */
	for (uint32_t i = 0; i < m->n_items; i++)
		len += m->items[i].key.len + 1 + m->items[i].value.len + (i > 0);
	if (len > GW_SEED_ALL_BODY_MAX / 6)
		return KV_ETOOLARGE;
	struct gw_json text;
	gw_json_init(&text, len + 1);
	gw_json_raw(&text, "map[", 4);
	for (uint32_t i = 0; i < m->n_items; i++) {
		if (i > 0)
			gw_json_raw(&text, " ", 1);
		gw_json_raw(&text, (const char *)m->items[i].key.ptr, m->items[i].key.len);
		gw_json_raw(&text, ":", 1);
		gw_json_raw(&text, (const char *)m->items[i].value.ptr, m->items[i].value.len);
	}
	gw_json_raw(&text, "]", 1);
	gw_json_raw(j, "{\"data\":", 8);
	gw_seed_json_go_str(j, (const uint8_t *)text.buf, text.len);
	gw_json_raw(j, "}", 1);
	int overflow = text.overflow;
	gw_json_free(&text);
	return overflow ? KV_ETOOLARGE : 0;
}

static void all_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	const struct proto_list_resp *m = &lm->u.list_resp;
	if (gw_read_on_msg(gw, c, lm) || lm->type != PROTO_LIST_RESP || c->state != GW_CALL_QUERY)
		return;
	if (m->status != 0) {
		c->http.raft_index = m->applied_index;
		gw_read_fail(gw, c, m->status);
		return;
	}
	struct gw_json j;
	gw_json_init(&j, GW_SEED_ALL_BODY_MAX);
	if (m->more || all_format(&j, m) != 0) {
		gw_json_free(&j);
		gw_reply_kv_error(gw, &c->http, KV_ETOOLARGE,
		                  "more data than one answer holds; page through GET /v1/kv", NULL);
	} else {
		gw_seed_send(gw, &c->http, &j, m->applied_index);
	}
	gw_pending_end(gw, c);
}

static const struct gw_call_ops all_ops = {all_on_msg, gw_read_on_retry, gw_read_on_deadline};

void gw_seed_all_handle(struct gw_req *r)
{
	if (gw_seed_auth_key(r, NULL, 0) != 0)
		return;
	struct gw_call *c = gw_pending_start(r, &all_ops, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->send_query = all_send;
	gw_read_start(r->gw, c);
}
