/*
 * gw_lease_revoke.c - DELETE /v1/leases/{id}: one LEASE_REVOKE entry that
 * deletes the lease and the keys it still holds, proposed like any write
 * (gw_write.c). {"id","revoked":true,"keys_deleted","index"}, or 404
 * lease_not_found. Loop thread only.
 */
#include "gw_coord.h"
#include "gw_pending.h"
#include "gw_routes.h"
#include "gw_write.h"

void gw_lease_revoke_handle(struct gw_req *r)
{
	uint64_t id = 0;
	if (gw_lease_parse_id(r, 0, &id) != 0)
		return;
	struct gw_call *c = gw_write_prepare(r, PROTO_KV_LEASE_REVOKE);
	if (c == NULL)
		return;
	c->lease = id;
	gw_write_go(r->gw, c);
}
