/*
 * gw_consul_kv_put.c - Consul's PUT /v1/kv/{key}: the body becomes the value;
 * ?flags=N stores N with the key (returned as Flags; a PUT without it sets
 * 0); ?cas=0 writes only if the key is absent, ?cas=N only if its ModifyIndex
 * is N (raftkv's If-None-Match and If-Match conditions); answers true or
 * false. The write goes through gw_write.c (proposed here or forwarded to
 * the leader's gateway). Loop thread only.
 */
#include "gw_consul.h"
#include "gw_errors.h"
#include "gw_reply.h"
#include "gw_write.h"
#include "kv_err.h"

void gw_consul_kv_put_handle(struct gw_req *r)
{
	if (r->key.len == 0) {
		gw_reply_error(r->gw, &r->http, 400, "invalid_key", "the key is empty", NULL);
		return;
	}
	if (r->http.req->entity.len > r->cfg->max_value_bytes) {
		struct gw_error_extra ex = {.limit = r->cfg->max_value_bytes, .has_limit = 1};
		gw_reply_kv_error(r->gw, &r->http, KV_ETOOLARGE, "the value is over the size limit",
		                  &ex);
		return;
	}
	uint8_t cond = PROTO_COND_NONE;
	if (r->consul.has_cas)
		cond = r->consul.cas == 0 ? PROTO_COND_IF_NONE_MATCH : PROTO_COND_IF_MATCH;
	/* flags go with the value (PUT_FLAGS); a PUT without them sets them to 0, as Consul */
	gw_write_begin_cond(r, r->consul.flags != 0 ? PROTO_KV_PUT_FLAGS : PROTO_KV_PUT, cond,
	                    r->consul.cas, gw_consul_reply_write);
}
