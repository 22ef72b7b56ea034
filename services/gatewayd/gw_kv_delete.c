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
	gw_write_begin(gw, req, h, &key, &q, PROTO_KV_DELETE);
}
