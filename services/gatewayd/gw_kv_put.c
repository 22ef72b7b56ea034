/*
 * gw_kv_put.c - PUT /v1/kv/{key}: the body (raw bytes) becomes the value,
 * with If-Match / If-None-Match conditions and an Idempotency-Key; the write
 * itself goes through gw_write.c. Loop thread only.
 */
#include "gw.h"

#include "gw_errors.h"
#include "kv_err.h"

void gw_kv_put_handle(struct gw *gw, h2o_req_t *req, struct gw_http *h)
{
	struct gw_key key;
	struct gw_query q;
	if (gw_router_parse(gw, req, h, &key, &q) != 0)
		return;
	/* h2o refused bodies past max-value-bytes + 1 before reading them; this is the exact check
	 */
	if (req->entity.len > gw->cfg.max_value_bytes) {
		struct gw_error_extra ex = {.limit = gw->cfg.max_value_bytes, .has_limit = 1};
		gw_reply_kv_error(gw, h, KV_ETOOLARGE, "the value is over the size limit", &ex);
		return;
	}
	gw_write_begin(gw, req, h, &key, &q, PROTO_KV_PUT);
}
