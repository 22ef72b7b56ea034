/*
 * gw_seed.c - the helpers the seed routes share (gw_seed.h). Loop thread only.
 */
#include "gw_seed.h"

#include "gw.h"

#include "gw_errors.h"
#include "gw_read.h"
#include "gw_reply.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <string.h>

static int seed_bad(struct gw_req *r, int status, const char *code, const char *msg,
                    const char *param, uint64_t limit)
{
	struct gw_error_extra ex = {0};
	ex.param = param;
	ex.limit = limit;
	ex.has_limit = limit != 0;
	gw_reply_error(r->gw, &r->http, status, code, msg, &ex);
	return -1;
}

int gw_seed_body(struct gw_req *r, struct gw_seed_member *want, size_t n)
{
	h2o_iovec_t b = r->http.req->entity;
	if (b.base == NULL || gw_seed_json_object(b.base, b.len, want, n) != 0)
		return seed_bad(r, 400, "invalid_json", "the body must be one JSON object", NULL,
		                0);
	return 0;
}

int gw_seed_body_key(struct gw_req *r, const struct gw_seed_member *m, struct gw_key *out)
{
	if (!m->found || !m->is_string)
		return seed_bad(r, 400, "invalid_argument", "the body needs \"key\": a string",
		                "key", 0);
	size_t len = 0;
	const char *raw = r->http.req->entity.base + m->at;
	int err = gw_seed_json_string(raw, m->len, out->bytes, sizeof(out->bytes), &len);
	if (err == KV_ETOOLARGE)
		return seed_bad(r, 400, "key_too_long", "the key is over 511 bytes", "key",
		                KV_KEY_BYTES_MAX);
	if (err != 0 || len == 0)
		return seed_bad(r, 400, "invalid_key", "the key is empty", "key", 0);
	out->len = (uint32_t)len;
	return 0;
}

int gw_seed_body_value(struct gw_req *r, const struct gw_seed_member *m, struct proto_bytes *out)
{
	*out = (struct proto_bytes){(const uint8_t *)"", 0}; /* never NULL: NULL means the body */
	if (!m->found || m->is_null)
		return 0;
	if (!m->is_string)
		return seed_bad(r, 400, "invalid_argument", "\"value\" must be a string", "value",
		                0);
	/* decoding never grows a string more than 3x (an invalid byte becomes U+FFFD) */
	size_t cap = m->len * 3, len = 0;
	uint8_t *buf = h2o_mem_alloc_pool(&r->http.req->pool, cap);
	const char *raw = r->http.req->entity.base + m->at;
	if (gw_seed_json_string(raw, m->len, buf, cap, &len) != 0)
		return seed_bad(r, 400, "invalid_argument", "\"value\" is not a valid JSON string",
		                "value", 0);
	if (len > r->cfg->max_value_bytes)
		return seed_bad(r, 413, kv_err_code(KV_ETOOLARGE),
		                "the value is over the size limit", "value",
		                r->cfg->max_value_bytes);
	*out = (struct proto_bytes){buf, (uint32_t)len};
	return 0;
}

int gw_seed_auth_key(struct gw_req *r, const uint8_t *key, size_t len)
{
	const struct gw_auth *a = &r->gw->auth;
	if (a->n == 0 || r->route->perm == GW_PERM_OPEN)
		return 0;
	h2o_req_t *req = r->http.req;
	ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
	const struct gw_auth_token *t = i < 0 ? NULL
	                                      : gw_auth_who(a, req->headers.entries[i].value.base,
	                                                    req->headers.entries[i].value.len);
#ifdef GW_BUG_SEED_KEY_UNCHECKED
	return 0; /* planted bug (make gw-bugs): the key is not checked */
#endif
	if (t != NULL && gw_auth_allow(t, (enum gw_perm)r->route->perm, 1, key, len) == 0)
		return 0;
	gw_reply_kv_error(r->gw, &r->http, KV_EFORBIDDEN,
	                  len > 0 ? "the key is outside the token's prefix"
	                          : "every key is asked for: a token without a prefix is needed",
	                  NULL);
	return -1;
}

int gw_seed_trim_slash(struct gw_req *r)
{
	if (r->key.len > 0 && r->key.bytes[r->key.len - 1] == '/')
		r->key.len--;
	if (r->key.len == 0)
		return seed_bad(r, 400, "invalid_key", "the key is empty", "key", 0);
	return gw_seed_auth_key(r, r->key.bytes, r->key.len);
}

void gw_seed_send(struct gw *gw, struct gw_http *h, struct gw_json *j, uint64_t raft_index)
{
	if (j->overflow)
		gw_reply_kv_error(gw, h, KV_ETOOLARGE, "the answer is too large to encode", NULL);
	else
		gw_reply_send(gw, h, 200, "application/json", j->buf, j->len, raft_index);
	gw_json_free(j);
}

static int seed_get_send(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_GET};
	struct proto_get *g = &m.u.get;
	m.req_id = gw_pending_next_id(gw, c);
	g->key = (struct proto_bytes){c->key.bytes, c->key.len};
	g->min_index = c->read_index;
	g->wait_ms = c->read_index ? gw_pending_left_ms(c) : 0;
	return gw_read_send(gw, &m);
}

void gw_seed_get_start(struct gw_req *r, const struct gw_call_ops *ops)
{
	struct gw_call *c = gw_pending_start(r, ops, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->send_query = seed_get_send;
	gw_read_start(r->gw, c);
}

const struct proto_get_resp *gw_seed_get_resp(struct gw *gw, struct gw_call *c,
                                              const struct proto_local *m)
{
	if (gw_read_on_msg(gw, c, m) || m->type != PROTO_GET_RESP || c->state != GW_CALL_QUERY)
		return NULL;
	if (m->u.get_resp.status != 0 && m->u.get_resp.status != KV_ENOTFOUND) {
		c->http.raft_index = m->u.get_resp.applied_index;
		gw_read_fail(gw, c, m->u.get_resp.status);
		return NULL;
	}
	return &m->u.get_resp;
}

void gw_seed_store_answer(struct gw *gw, struct gw_call *c, const char *message,
                          struct proto_bytes value, int is_json, uint64_t raft_index)
{
	struct gw_json j;
	gw_json_init(&j, GW_SEED_BODY_MAX + (size_t)6 * value.len);
	gw_json_raw(&j, "{\"data\":{\"key\":", 15);
	gw_seed_json_go_str(&j, c->key.bytes, c->key.len);
	gw_json_raw(&j, ",\"value\":", 9);
	if (value.len == 0)
		gw_json_raw(&j, "null", 4);
	else if (is_json)
		gw_json_raw(&j, (const char *)value.ptr, value.len);
	else
		gw_seed_json_go_str(&j, value.ptr, value.len);
	gw_json_raw(&j, "},\"message\":", 12);
	gw_seed_json_go_str(&j, (const uint8_t *)message, strlen(message));
	gw_json_raw(&j, "}\n", 2);
	gw_seed_send(gw, &c->http, &j, raft_index);
	gw_pending_end(gw, c);
}
