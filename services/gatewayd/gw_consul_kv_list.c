/*
 * gw_consul_kv_list.c - Consul's GET /v1/kv/{prefix}?recurse (every entry
 * under the prefix) and ?keys (their names; with ?separator=, each name is
 * cut after the first separator past the prefix and repeats dropped, as
 * Consul's folders). One LIST page of at most GW_CONSUL_KEYS_MAX keys: a
 * prefix with more answers 413 saying so (raftkv's paginated GET /v1/kv
 * reads any number), never a silently cut list. 404 with an empty body when
 * nothing is under the prefix. Loop thread only.
 */
#include "gw_consul.h"
#include "gw_consul_entry.h"
#include "gw_errors.h"
#include "gw_read.h"
#include "gw_reply.h"
#include "kv_err.h"

#include <string.h>

#define GW_CONSUL_LIST_BODY_MAX                                                                    \
	((size_t)2 * (KV_LIST_BYTES_MAX + KV_VALUE_BYTES_MAX_LIMIT) + (8u << 20))

static int consul_list_send(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_LIST};
	struct proto_list *l = &m.u.list;
	m.req_id = gw_pending_next_id(gw, c);
	l->prefix = (struct proto_bytes){c->key.bytes, c->key.len};
	l->limit = GW_CONSUL_KEYS_MAX;
	l->min_index = c->read_index;
	l->wait_ms = c->read_index ? gw_pending_left_ms(c) : 0;
	return gw_read_send(gw, &m);
}

/* The length of key's name in a ?keys answer: cut after the separator past the prefix. */
static size_t consul_list_name_len(const struct gw_call *c, struct proto_bytes key)
{
	size_t sl = c->consul.sep_len;
	if (sl == 0 || key.len < c->key.len + sl)
		return key.len;
	for (size_t i = c->key.len; i + sl <= key.len; i++)
		if (memcmp(key.ptr + i, c->consul.sep, sl) == 0)
			return i + sl;
	return key.len;
}

/* ["name",...]: keys under a shared prefix are adjacent, so a repeat follows its first. */
static int consul_list_keys(struct gw_json *j, const struct gw_call *c,
                            const struct proto_list_resp *m)
{
	const uint8_t *last = NULL;
	size_t last_len = 0;
	for (uint32_t i = 0; i < m->n_items; i++) {
		struct proto_bytes k = m->items[i].key;
		size_t n = consul_list_name_len(c, k);
		if (last != NULL && n == last_len && memcmp(k.ptr, last, n) == 0)
			continue;
		if (!gw_json_utf8_valid(k.ptr, n))
			return KV_EINVAL;
		gw_json_str(j, k.ptr, n);
		last = k.ptr;
		last_len = n;
	}
	return 0;
}

static int consul_list_format(struct gw_json *j, const struct gw_call *c,
                              const struct proto_list_resp *m)
{
	int err = 0;
	gw_json_open(j, '[');
	if (c->consul.read == GW_CONSUL_READ_KEYS)
		err = consul_list_keys(j, c, m);
	for (uint32_t i = 0; c->consul.read != GW_CONSUL_READ_KEYS && i < m->n_items && !err; i++)
		err = gw_consul_entry_write(j, &m->items[i]);
	gw_json_close(j, ']');
	return err;
}

static void consul_list_answer(struct gw *gw, struct gw_call *c, const struct proto_list_resp *m)
{
	if (m->more) {
		struct gw_error_extra ex = {.limit = GW_CONSUL_KEYS_MAX, .has_limit = 1};
		gw_reply_kv_error(gw, &c->http, KV_ETOOLARGE,
		                  "more keys (or value bytes) are under the prefix than one Consul "
		                  "answer holds; page through raftkv's GET /v1/kv?prefix=",
		                  &ex);
		return;
	}
	if (m->n_items == 0) {
		gw_consul_reply_absent(gw, &c->http, m->applied_index);
		return;
	}
	struct gw_json j;
	gw_json_init(&j, GW_CONSUL_LIST_BODY_MAX);
	int err = consul_list_format(&j, c, m);
	if (err != 0)
		gw_consul_entry_fail(gw, &c->http, err);
	else if (j.overflow)
		gw_reply_kv_error(gw, &c->http, KV_ETOOLARGE, "the answer is too large to encode",
		                  NULL);
	else
		gw_consul_reply_json(gw, &c->http, j.buf, j.len, m->applied_index);
	gw_json_free(&j);
}

static void consul_list_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	const struct proto_list_resp *m = &lm->u.list_resp;

	if (gw_read_on_msg(gw, c, lm) || lm->type != PROTO_LIST_RESP || c->state != GW_CALL_QUERY)
		return;
	if (m->status != 0) {
		c->http.raft_index = m->applied_index;
		gw_read_fail(gw, c, m->status);
		return;
	}
	consul_list_answer(gw, c, m);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops consul_list_ops = {consul_list_on_msg, gw_read_on_retry,
                                                   gw_read_on_deadline};

void gw_consul_kv_list_read(struct gw *gw, struct gw_call *c)
{
	c->ops = &consul_list_ops;
	c->send_query = consul_list_send;
	gw_read_start(gw, c);
}

void gw_consul_kv_list(struct gw_req *r)
{
	struct gw_call *c = gw_pending_start(r, &consul_list_ops, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	gw_consul_kv_list_read(r->gw, c);
}
