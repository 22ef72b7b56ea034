/*
 * gw_lease_keepalive.c - PUT /v1/leases/{id}/keepalive: renews the lease on
 * the leader's lease clock, without a log entry (gw_lease_call.c), and
 * answers {"id","ttl_ms","remaining_ms"}. Loop thread only.
 */
#include "gw_coord.h"
#include "gw_routes.h"

void gw_lease_keepalive_handle(struct gw_req *r)
{
	uint64_t id = 0;
	if (gw_lease_parse_id(r, 1, &id) == 0)
		gw_lease_call_start(r, GW_LEASE_KEEPALIVE, id);
}
