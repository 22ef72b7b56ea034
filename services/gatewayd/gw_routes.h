/*
 * gw_routes.h - gatewayd's HTTP routes, one row each: the methods, the path,
 * the handler, the metric label and the permission a client needs
 * (struct gw_route, gw_route.h). The router's matching, its 404 and 405
 * answers with their Allow header, and the route="..." label of every metric
 * come from this table.
 *
 * A new endpoint is one row here and its handler in a file of its own. The
 * row also declares the handler, and each handler file includes this header,
 * so a handler whose signature differs from its row does not compile.
 * gatewayd checks the table when it starts (gw_route_check), as does
 * test_gw_route. Rows are matched in order: the first row whose path matches
 * names the path.
 */
#ifndef RAFTKV_GW_ROUTES_H
#define RAFTKV_GW_ROUTES_H

#include "gw_route.h"

/* X(methods, path, handler, metric label, permission, flags) */
#define GW_ROUTE_TABLE(X)                                                                          \
	X(GW_MS_GET, "/v1/kv/{key}", gw_kv_get_handle, "kv", GW_PERM_READ, GW_ROUTE_QUERY)         \
	X(GW_MS_PUT, "/v1/kv/{key}", gw_kv_put_handle, "kv", GW_PERM_WRITE, GW_ROUTE_QUERY)        \
	X(GW_MS_DEL, "/v1/kv/{key}", gw_kv_delete_handle, "kv", GW_PERM_WRITE, GW_ROUTE_QUERY)     \
	X(GW_MS_GET, "/v1/kv", gw_kv_list_handle, "kv_list", GW_PERM_READ,                         \
	  GW_ROUTE_QUERY | GW_ROUTE_PREFIX)                                                        \
	X(GW_MS_GET, "/v1/status", gw_status_handle, "status", GW_PERM_READ, 0)                    \
	X(GW_MS_GET, "/livez", gw_health_livez, "livez", GW_PERM_OPEN, 0)                          \
	X(GW_MS_GET, "/readyz", gw_health_readyz, "readyz", GW_PERM_OPEN, 0)                       \
	X(GW_MS_GET, "/metrics", gw_metrics_handle, "metrics", GW_PERM_ADMIN, 0)                   \
	X(GW_MS_GET, "/v1/snapshot", gw_snapshot_handle, "snapshot", GW_PERM_ADMIN,                \
	  GW_ROUTE_ALL_KEYS)                                                                       \
	X(GW_MS_GET, "/v1/watch", gw_watch_handle, "watch", GW_PERM_READ,                          \
	  GW_ROUTE_QUERY | GW_ROUTE_PREFIX)                                                        \
	X(GW_MS_POST, "/v1/txn", gw_txn_handle, "txn", GW_PERM_WRITE,                              \
	  GW_ROUTE_QUERY | GW_ROUTE_ALL_KEYS)                                                      \
	X(GW_MS_POST, "/v1/leases", gw_lease_grant_handle, "leases", GW_PERM_WRITE,                \
	  GW_ROUTE_QUERY | GW_ROUTE_ALL_KEYS)                                                      \
	X(GW_MS_GET, "/v1/leases/{key}", gw_lease_get_handle, "lease", GW_PERM_READ,               \
	  GW_ROUTE_QUERY | GW_ROUTE_ALL_KEYS)                                                      \
	X(GW_MS_PUT, "/v1/leases/{key}", gw_lease_keepalive_handle, "lease", GW_PERM_WRITE,        \
	  GW_ROUTE_QUERY | GW_ROUTE_ALL_KEYS)                                                      \
	X(GW_MS_DEL, "/v1/leases/{key}", gw_lease_revoke_handle, "lease", GW_PERM_WRITE,           \
	  GW_ROUTE_QUERY | GW_ROUTE_ALL_KEYS)                                                      \
	GW_SEED_ROUTES(X)                                                                          \
	X(GW_MS_GET, "/ui/", gw_ui_page_handle, "ui", GW_PERM_OPEN, 0)                             \
	X(GW_MS_GET, "/ui/status", gw_ui_status_handle, "ui_status", GW_PERM_READ, 0)              \
	X(GW_MS_GET, "/raft/stats", gw_raft_stats_handle, "raft_stats", GW_PERM_READ, 0)           \
	X(GW_MS_DEL, "/v1/members/{key}", gw_member_remove_handle, "member", GW_PERM_ADMIN,        \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_POST, "/v1/members/{key}", gw_member_promote_handle, "member", GW_PERM_ADMIN,      \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_GET, "/v1/members", gw_members_list_handle, "members", GW_PERM_READ,               \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_POST, "/v1/members", gw_member_add_handle, "members", GW_PERM_ADMIN,               \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_POST, "/raft/join", gw_seed_raft_join_handle, "raft_join", GW_PERM_ADMIN,          \
	  GW_ROUTE_QUERY)

/*
 * The seed projects' routes (seeds/, docs/api.md "The seed projects'
 * routes"). Keys that come in a JSON body (and /get_all_data's every key)
 * cannot be checked by the router: their handlers check them against the
 * token's prefix themselves (gw_seed_auth_key).
 */
#define GW_SEED_ROUTES(X)                                                                          \
	X(GW_MS_GET, "/state", gw_seed_state_handle, "seed_state", GW_PERM_READ, 0)                \
	X(GW_MS_POST, "/operate_data", gw_seed_operate_handle, "seed_operate", GW_PERM_WRITE,      \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_GET, "/get_all_data", gw_seed_all_handle, "seed_all", GW_PERM_READ,                \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_GET, "/keys/{key}", gw_seed_keys_get_handle, "seed_keys", GW_PERM_READ,            \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_POST, "/keys/{key}", gw_seed_keys_set_handle, "seed_keys", GW_PERM_WRITE,          \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_POST, "/store", gw_seed_store_set_handle, "seed_store", GW_PERM_WRITE,             \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_GET, "/store/{key}", gw_seed_store_get_handle, "seed_store_key", GW_PERM_READ,     \
	  GW_ROUTE_QUERY)                                                                          \
	X(GW_MS_DEL, "/store/{key}", gw_seed_store_delete_handle, "seed_store_key", GW_PERM_WRITE, \
	  GW_ROUTE_QUERY)

/*
 * The handlers, one file each, called only by the router through the table.
 * r is borrowed for the call: a handler answers it (gw_reply.h) or copies
 * what it needs into a pending call (gw_pending.h) that answers later.
 */
#define GW_ROUTE_DECLARE(methods, path, handle, label, perm, flags) void handle(struct gw_req *r);
GW_ROUTE_TABLE(GW_ROUTE_DECLARE)
#undef GW_ROUTE_DECLARE

/* The table (gw_routes.c): gw_routes_count rows, at most GW_ROUTES_MAX. */
extern const struct gw_route gw_routes[];
extern const size_t gw_routes_count;

#endif
