/*
 * gw_lease_get.c - GET /v1/leases/{id}: the lease's TTL, the time the
 * leader's clock leaves it and the keys it holds, answered by the leader's
 * gateway (gw_lease_call.c). Loop thread only.
 */
#include "gw_coord.h"
#include "gw_routes.h"

void gw_lease_get_handle(struct gw_req *r)
{
	uint64_t id = 0;
	if (gw_lease_parse_id(r, 0, &id) == 0)
		gw_lease_call_start(r, GW_LEASE_LOOKUP, id);
}
