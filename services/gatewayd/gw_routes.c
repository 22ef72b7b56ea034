/*
 * gw_routes.c - the route table of gw_routes.h, as data. Edit the rows
 * there, not here.
 */
#include "gw_routes.h"

#define GW_ROUTE_ROW(methods, path, handle, label, perm, flags)                                    \
	{(methods), (path), (handle), (label), (perm), (flags)},
const struct gw_route gw_routes[] = {GW_ROUTE_TABLE(GW_ROUTE_ROW)};
#undef GW_ROUTE_ROW

const size_t gw_routes_count = sizeof(gw_routes) / sizeof(gw_routes[0]);

_Static_assert(sizeof(gw_routes) / sizeof(gw_routes[0]) <= GW_ROUTES_MAX,
               "raise GW_ROUTES_MAX (gw_route.h): metrics keep a slot per row");
