/*
 * gw_kv_list.c - GET /v1/kv?prefix=&limit=&after=&encoding=: keys in byte
 * order, one page at a time, as JSON. Keys and values that are not valid
 * UTF-8 (or all of them with ?encoding=base64) are base64 and their item says
 * "encoding":"base64". Loop thread only.
 */
#include "gw_json.h"
#include "gw_read.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "kv_err.h"

/* The page's JSON: storaged stops a page past KV_LIST_BYTES_MAX value bytes. */
#define GW_LIST_BODY_MAX ((size_t)6 * (KV_LIST_BYTES_MAX + KV_VALUE_BYTES_MAX_LIMIT) + (8u << 20))

static int list_send(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_LIST};
	struct proto_list *l = &m.u.list;
	m.req_id = gw_pending_next_id(gw, c);
	l->prefix = (struct proto_bytes){c->query.prefix.bytes, c->query.prefix.len};
	l->after = (struct proto_bytes){c->query.after.bytes, c->query.after.len};
	l->limit = c->query.limit;
	l->min_index = c->read_index;
	l->wait_ms = c->read_index ? gw_pending_left_ms(c) : 0;
	return gw_read_send(gw, &m);
}

/* A string member of bytes: text when it may be, else base64. */
static void list_bytes(struct gw_json *j, const char *name, struct proto_bytes b, int b64)
{
	gw_json_key(j, name);
	if (b64)
		gw_json_base64(j, b.ptr, b.len);
	else
		gw_json_str(j, b.ptr, b.len);
}

static void list_item(struct gw_json *j, const struct proto_item *it, int force_b64)
{
	int b64 = force_b64 || !gw_json_utf8_valid(it->key.ptr, it->key.len) ||
	          !gw_json_utf8_valid(it->value.ptr, it->value.len);
	gw_json_open(j, '{');
	list_bytes(j, "key", it->key, b64);
	list_bytes(j, "value", it->value, b64);
	gw_json_kv_u64(j, "create_index", it->create_index);
	gw_json_kv_u64(j, "mod_index", it->mod_index);
	if (b64)
		gw_json_kv_str(j, "encoding", "base64");
	gw_json_close(j, '}');
}

static void list_format(struct gw_json *j, const struct proto_list_resp *m, int force_b64)
{
	gw_json_open(j, '{');
	gw_json_key(j, "items");
	gw_json_open(j, '[');
	for (uint32_t i = 0; i < m->n_items; i++)
		list_item(j, &m->items[i], force_b64);
	gw_json_close(j, ']');
	gw_json_kv_bool(j, "more", m->more && m->n_items > 0);
	if (m->more && m->n_items > 0) {
		struct proto_bytes last = m->items[m->n_items - 1].key;
		int b64 = force_b64 || !gw_json_utf8_valid(last.ptr, last.len);
		list_bytes(j, "next", last, b64);
		if (b64)
			gw_json_kv_str(j, "next_encoding", "base64");
	} else {
		gw_json_kv_null(j, "next");
	}
	gw_json_close(j, '}');
	gw_json_raw(j, "\n", 1);
}

static void list_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	const struct proto_list_resp *m = &lm->u.list_resp;

	if (gw_read_on_msg(gw, c, lm) || lm->type != PROTO_LIST_RESP || c->state != GW_CALL_QUERY)
		return;
	if (m->status != 0) {
		c->http.raft_index = m->applied_index; /* the index the (failed) read saw */
		gw_read_fail(gw, c, m->status);
		return;
	}
	struct gw_json j;
	gw_json_init(&j, GW_LIST_BODY_MAX);
	list_format(&j, m, c->query.base64);
	if (j.overflow)
		gw_reply_kv_error(gw, &c->http, KV_ETOOLARGE, "the page is too large to encode",
		                  NULL);
	else
		gw_reply_send(gw, &c->http, 200, "application/json", j.buf, j.len,
		              m->applied_index);
	gw_json_free(&j);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops list_ops = {list_on_msg, gw_read_on_retry, gw_read_on_deadline};

void gw_kv_list_handle(struct gw_req *r)
{
	struct gw_call *c = gw_pending_start(r, &list_ops, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->send_query = list_send;
	gw_read_start(r->gw, c);
}
