/*
 * gw_lease_grant.c - POST /v1/leases {"ttl_ms":N}: one LEASE_GRANT entry,
 * proposed like any write (gw_write.c; Idempotency-Key works as on PUT).
 * The lease's id is the entry's index, answered as a decimal string:
 * {"id":"<n>","ttl_ms":N}. Loop thread only.
 */
#include "gw_coord.h"
#include "gw_pending.h"
#include "gw_routes.h"
#include "gw_write.h"

void gw_lease_grant_handle(struct gw_req *r)
{
	h2o_req_t *req = r->http.req;
	uint64_t ttl_ms = 0;
	struct gw_txn_err e;
	if (gw_txn_parse_lease(req->entity.base != NULL ? req->entity.base : "", req->entity.len,
	                       &ttl_ms, &e) != 0) {
		gw_coord_reply_bad(r, &e);
		return;
	}
	struct gw_call *c = gw_write_prepare(r, PROTO_KV_LEASE_GRANT);
	if (c == NULL)
		return;
	c->ttl_ms = ttl_ms;
	gw_write_go(r->gw, c);
}
