/*
 * gw_coord_reply.c - answers the writes of the coordination routes once
 * storaged's RESULT is back: a transaction ({"succeeded","index",
 * "results"}), a PUT ?lease= (answered as a PUT), a lease grant ({"id",
 * "ttl_ms"}) and a revocation. Their refusals map to the error table:
 * lease_not_found 404, too_large 413 (a delete_prefix or a lease past its
 * bound), store_full 507, busy 429 (too many leases). Loop thread only.
 */
#include "gw.h"
#include "gw_write.h"

#include "gw_errors.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "proto_txn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const coord_op_names[] = {"", "put", "delete", "get", "delete_prefix"};

static void coord_send(struct gw *gw, struct gw_call *c, struct gw_json *j, uint64_t index)
{
	gw_json_raw(j, "\n", 1);
	if (j->overflow)
		gw_reply_kv_error(gw, &c->http, KV_ETOOLARGE, "the answer is over its size limit",
		                  NULL);
	else
		gw_reply_send(gw, &c->http, 200, "application/json", j->buf, j->len, index);
	gw_json_free(j);
	gw_pending_end(gw, c);
}

static void coord_fail(struct gw *gw, struct gw_call *c, int status)
{
	const char *msg = NULL;
	switch (status) {
	case KV_ENOLEASE:
		msg = "the lease does not exist: never granted, revoked or expired";
		break;
	case KV_ETOOLARGE:
		msg = "a delete_prefix matched more than 10000 keys, a lease already holds 1000 "
		      "keys, or the answer would be too large; nothing was applied";
		break;
	case KV_EFULL:
		msg = "the transaction would grow the data past the quota; nothing was applied";
		break;
	case KV_EBUSY:
		msg = "too many leases are alive (10000); revoke some first";
		break;
	default:
		break;
	}
	gw_reply_kv_error(gw, &c->http, status, msg, NULL);
	gw_pending_end(gw, c);
}

/* A value as a JSON string when UTF-8, else base64 with "encoding":"base64" beside it. */
static void coord_value(struct gw_json *j, const struct proto_bytes *v)
{
	int b64 = !gw_json_utf8_valid(v->ptr, v->len);
	gw_json_key(j, "value");
	if (b64)
		gw_json_base64(j, v->ptr, v->len);
	else
		gw_json_str(j, v->ptr, v->len);
	if (b64)
		gw_json_kv_str(j, "encoding", "base64");
}

static void coord_txn_result(struct gw_json *j, const struct proto_txn_op_result *r)
{
	gw_json_open(j, '{');
	gw_json_kv_str(j, "op", coord_op_names[r->kind <= 4 ? r->kind : 0]);
	switch (r->kind) {
	case PROTO_TXN_PUT:
		gw_json_kv_u64(j, "create_index", r->create_index);
		gw_json_kv_u64(j, "mod_index", r->mod_index);
		break;
	case PROTO_TXN_GET:
		gw_json_kv_bool(j, "found", r->status != KV_ENOTFOUND);
		if (r->status == KV_ETOOLARGE)
			gw_json_kv_str(j, "error", kv_err_code(KV_ETOOLARGE));
		if (r->status == 0) {
			coord_value(j, &r->value);
			gw_json_kv_u64(j, "create_index", r->create_index);
			gw_json_kv_u64(j, "mod_index", r->mod_index);
		}
		break;
	default: /* delete, delete_prefix */
		gw_json_kv_u64(j, "deleted", r->count);
		break;
	}
	gw_json_close(j, '}');
}

static void coord_txn(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	struct gw_json j;
	gw_json_init(&j, GW_COORD_ANSWER_MAX);
	gw_json_open(&j, '{');
	if (m->body.len == 0) {
		/* a retry with the same Idempotency-Key: what the session kept */
		gw_json_kv_bool(&j, "succeeded", m->mod_index != 0);
		gw_json_kv_u64(&j, "index", m->index);
		gw_json_kv_bool(&j, "replayed", 1);
		gw_json_close(&j, '}');
		coord_send(gw, c, &j, m->index);
		return;
	}
	struct proto_txn_result *r = malloc(sizeof(*r));
	if (r == NULL || proto_txn_result_decode(m->body.ptr, m->body.len, r) != 0) {
		free(r);
		gw_json_free(&j);
		coord_fail(gw, c, r == NULL ? KV_ENOMEM : KV_EPROTO);
		return;
	}
	gw_json_kv_bool(&j, "succeeded", r->succeeded);
	gw_json_kv_u64(&j, "index", m->index);
	gw_json_key(&j, "results");
	gw_json_open(&j, '[');
	for (uint32_t i = 0; i < r->n_results; i++)
		coord_txn_result(&j, &r->results[i]);
	gw_json_close(&j, ']');
	gw_json_close(&j, '}');
	free(r);
	coord_send(gw, c, &j, m->index);
}

static void coord_put_condition_failed(struct gw *gw, struct gw_call *c)
{
	gw_reply_kv_error(gw, &c->http, KV_ECONDITION,
	                  c->cond == PROTO_COND_IF_NONE_MATCH
	                      ? "If-None-Match: * but the key exists"
	                      : "If-Match: the key's mod_index differs (or it does not exist)",
	                  NULL);
	gw_pending_end(gw, c);
}

/*
 * PUT ?lease=: a one-op TXN whose compares are the PUT's conditions. A retry
 * with the same Idempotency-Key has no body: the session kept whether the
 * first attempt succeeded (mod_index) and its index.
 */
static void coord_put(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	struct proto_txn_result *r = NULL;
	int replay = m->body.len == 0;
	if (!replay &&
	    ((r = malloc(sizeof(*r))) == NULL ||
	     proto_txn_result_decode(m->body.ptr, m->body.len, r) != 0 || r->n_results > 1)) {
		free(r);
		coord_fail(gw, c, KV_EPROTO);
		return;
	}
	if (replay ? m->mod_index == 0 : (!r->succeeded || r->n_results == 0)) {
		free(r);
		coord_put_condition_failed(gw, c);
		return;
	}
	struct gw_json j;
	char id[24];
	snprintf(id, sizeof(id), "%" PRIu64, c->lease);
	gw_json_init(&j, 4096);
	gw_json_open(&j, '{');
	gw_json_key(&j, "key");
	if (gw_json_utf8_valid(c->key.bytes, c->key.len)) {
		gw_json_str(&j, c->key.bytes, c->key.len);
	} else {
		gw_json_base64(&j, c->key.bytes, c->key.len);
		gw_json_kv_str(&j, "encoding", "base64");
	}
	gw_json_kv_str(&j, "lease", id);
	uint64_t mod_index = replay ? m->index : r->results[0].mod_index;
	if (!replay)
		gw_json_kv_u64(&j, "create_index", r->results[0].create_index);
	gw_json_kv_u64(&j, "mod_index", mod_index);
	if (replay)
		gw_json_kv_bool(&j, "replayed", 1);
	char etag[24];
	int n = snprintf(etag, sizeof(etag), "\"%" PRIu64 "\"", mod_index);
	if (c->http.req != NULL)
		gw_reply_header(c->http.req, "etag", etag, (size_t)n);
	gw_json_close(&j, '}');
	free(r);
	coord_send(gw, c, &j, m->index);
}

static void coord_lease(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	struct gw_json j;
	char id[24];
	gw_json_init(&j, 4096);
	gw_json_open(&j, '{');
	if (c->op == PROTO_KV_LEASE_GRANT) {
		snprintf(id, sizeof(id), "%" PRIu64, m->index); /* the grant's index is the id */
		gw_json_kv_str(&j, "id", id);
		gw_json_kv_u64(&j, "ttl_ms", c->ttl_ms);
	} else {
		snprintf(id, sizeof(id), "%" PRIu64, c->lease);
		gw_json_kv_str(&j, "id", id);
		gw_json_kv_bool(&j, "revoked", 1);
		gw_json_kv_u64(&j, "keys_deleted", m->mod_index);
		gw_json_kv_u64(&j, "index", m->index);
	}
	gw_json_close(&j, '}');
	coord_send(gw, c, &j, m->index);
}

void gw_coord_on_result(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	if (m->status != 0) {
		coord_fail(gw, c, m->status);
		return;
	}
	if (c->op == PROTO_KV_TXN && c->txn_is_put)
		coord_put(gw, c, m);
	else if (c->op == PROTO_KV_TXN)
		coord_txn(gw, c, m);
	else
		coord_lease(gw, c, m);
}
