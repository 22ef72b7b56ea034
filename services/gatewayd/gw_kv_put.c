/*
 * gw_kv_put.c - PUT /v1/kv/{key}: the body (raw bytes) becomes the value,
 * with If-Match / If-None-Match conditions and an Idempotency-Key; the write
 * itself goes through gw_write.c (with ?lease=ID, as a transaction:
 * gw_kv_put_lease.c). Loop thread only.
 */
#include "gw_coord.h"
#include "gw_errors.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "gw_write.h"
#include "proto.h"
#include "kv_err.h"

void gw_kv_put_handle(struct gw_req *r)
{
	/* h2o refused bodies past max-value-bytes + 1 before reading them; this is the exact check
	 */
	if (r->http.req->entity.len > r->cfg->max_value_bytes) {
		struct gw_error_extra ex = {.limit = r->cfg->max_value_bytes, .has_limit = 1};
		gw_reply_kv_error(r->gw, &r->http, KV_ETOOLARGE, "the value is over the size limit",
		                  &ex);
		return;
	}
	if (r->query.lease != 0) {
		gw_kv_put_lease(r); /* a transaction: the put and the lease check in one entry */
		return;
	}
	gw_write_begin(r, PROTO_KV_PUT);
}
