/*
 * gw_kv_delete.c - DELETE /v1/kv/{key}, with If-Match and an Idempotency-Key;
 * the write goes through gw_write.c and answers {"key","mod_index"} where
 * mod_index is the index of the delete. Loop thread only.
 */
#include "gw.h"

#include "kv_err.h"

void gw_kv_delete_handle(struct gw *gw, h2o_req_t *req, struct gw_http *h)
{
	struct gw_key key;
	struct gw_query q;
	if (gw_router_parse(gw, req, h, &key, &q) != 0)
		return;
	struct gw_call *c = gw_pending_start(gw, req, h, NULL, q.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(gw, h, KV_EBUSY, NULL, NULL);
		return;
	}
	c->key = key;
	c->query = q;
	c->op = PROTO_KV_DELETE;
	if (gw_write_headers(gw, req, c) != 0)
		return;
	gw_write_start(gw, c);
}
