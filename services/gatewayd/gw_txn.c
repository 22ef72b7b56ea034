/*
 * gw_txn.c - POST /v1/txn: the JSON transaction is checked and encoded here
 * (gw_txn_parse.c), kept in the request's pool, and proposed as one TXN
 * entry like any write (gw_write.c: the leader's gateway proposes, others
 * forward the request; Idempotency-Key as on PUT). The answer is built from
 * storaged's RESULT (gw_coord_reply.c). gw_txn_keep encodes the transactions
 * other routes build themselves the same way. Loop thread only.
 */
#include "gw_coord.h"
#include "gw_pending.h"
#include "gw_errors.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "gw_write.h"
#include "kv_err.h"
#include "proto_txn.h"

#include <stdlib.h>
#include <string.h>

void gw_coord_reply_bad(struct gw_req *r, const struct gw_txn_err *e)
{
	struct gw_error_extra ex = {0};
	ex.param = e->param;
	ex.limit = e->limit;
	ex.has_limit = e->limit != 0;
	gw_reply_error(r->gw, &r->http, e->status, e->code, e->message, &ex);
}

int gw_txn_keep(struct gw_call *c, h2o_req_t *req, const struct proto_txn *t)
{
	struct proto_buf b = {0};
	int err = proto_txn_encode(t, &b);
	if (err == 0) {
		uint8_t *copy = h2o_mem_alloc_pool(&req->pool, b.len);
		memcpy(copy, b.ptr, b.len);
		c->txn = copy;
		c->txn_len = (uint32_t)b.len;
	}
	proto_buf_free(&b);
	return err;
}

/* Encodes r's body into its pool: *out, *len; 0, or -1 after answering. */
static int txn_encode(struct gw_req *r, const uint8_t **out, uint32_t *len)
{
	h2o_req_t *req = r->http.req;
	struct proto_txn *t = malloc(sizeof(*t));
	struct proto_buf b = {0};
	struct gw_txn_err e;
	if (t == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_ENOMEM, NULL, NULL);
		return -1;
	}
	int rc = gw_txn_parse(req->entity.base != NULL ? req->entity.base : "", req->entity.len,
	                      r->cfg->max_value_bytes, t, &b, &e);
	free(t);
	if (rc != 0) {
		proto_buf_free(&b);
		gw_coord_reply_bad(r, &e);
		return -1;
	}
	uint8_t *copy = h2o_mem_alloc_pool(&req->pool, b.len);
	memcpy(copy, b.ptr, b.len);
	*out = copy;
	*len = (uint32_t)b.len;
	proto_buf_free(&b);
	return 0;
}

void gw_txn_handle(struct gw_req *r)
{
	const uint8_t *txn = NULL;
	uint32_t len = 0;
	if (txn_encode(r, &txn, &len) != 0)
		return;
	struct gw_call *c = gw_write_prepare(r, PROTO_KV_TXN);
	if (c == NULL)
		return;
	c->txn = txn;
	c->txn_len = len;
	gw_write_go(r->gw, c);
}
