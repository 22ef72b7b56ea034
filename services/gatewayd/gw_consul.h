/*
 * gw_consul.h - Consul's KV HTTP API on a second listener (gatewayd
 * --consul-listen ADDR, off by default): its route table and handlers, the
 * X-Consul-* headers, its answers. The handlers reuse raftkv's read and
 * write paths (gw_read.h, gw_write.h): reads at the read modes, writes
 * proposed here or forwarded to the leader's gateway.
 *
 * A Consul request that must go to another gateway (a write on a follower,
 * a read while our raftd is silent) is forwarded to that gateway's main
 * listener with X-Raftkv-Forwarded and X-Raftkv-Consul, which hand it to the
 * Consul table there (gw_consul_router.c), so every gateway serves
 * forwarded Consul requests whether or not it has --consul-listen itself.
 *
 * Loop thread only.
 */
#ifndef RAFTKV_GW_CONSUL_H
#define RAFTKV_GW_CONSUL_H

#include "gw_pending.h"
#include "gw_req.h"
#include "gw_route.h"

#define GW_CONSUL_KEYS_MAX KV_LIST_LIMIT_MAX /* ?recurse and ?keys answer at most this many */

/*
 * X(methods, path, handler, metric label, permission, flags). The last rows
 * name what raftkv does not serve, so they answer 501 saying so instead of
 * 404. Matched in order, as gw_routes.h.
 */
#define GW_CONSUL_ROUTE_TABLE(X)                                                                   \
	X(GW_MS_GET, "/v1/kv/{key}", gw_consul_kv_get_handle, "consul_kv", GW_PERM_READ, 0)        \
	X(GW_MS_PUT, "/v1/kv/{key}", gw_consul_kv_put_handle, "consul_kv", GW_PERM_WRITE, 0)       \
	X(GW_MS_DEL, "/v1/kv/{key}", gw_consul_kv_delete_handle, "consul_kv", GW_PERM_WRITE, 0)    \
	X(GW_MS_GET, "/v1/status/leader", gw_consul_status_leader, "consul_leader", GW_PERM_READ,  \
	  0)                                                                                       \
	X(GW_MS_GET, "/v1/status/peers", gw_consul_status_peers, "consul_peers", GW_PERM_READ, 0)  \
	X(GW_MS_KNOWN, "/v1/txn", gw_consul_missing, "consul_txn", GW_PERM_OPEN, 0)                \
	X(GW_MS_KNOWN, "/v1/session/{key}", gw_consul_missing, "consul_session", GW_PERM_OPEN, 0)  \
	X(GW_MS_KNOWN, "/v1/acl/{key}", gw_consul_missing, "consul_acl", GW_PERM_OPEN, 0)          \
	X(GW_MS_KNOWN, "/v1/catalog/{key}", gw_consul_missing, "consul_catalog", GW_PERM_OPEN, 0)  \
	X(GW_MS_KNOWN, "/v1/agent/{key}", gw_consul_missing, "consul_agent", GW_PERM_OPEN, 0)      \
	X(GW_MS_KNOWN, "/v1/health/{key}", gw_consul_missing, "consul_health", GW_PERM_OPEN, 0)

#define GW_CONSUL_ROUTE_DECLARE(methods, path, handle, label, perm, flags)                         \
	void handle(struct gw_req *r);
GW_CONSUL_ROUTE_TABLE(GW_CONSUL_ROUTE_DECLARE)
#undef GW_CONSUL_ROUTE_DECLARE

extern const struct gw_route gw_consul_routes[];
extern const size_t gw_consul_routes_count;

/* ---- gw_consul_router.c ---- */
/* Registers the Consul router as the handler of pathconf (the --consul-listen host). */
void gw_consul_router_register(h2o_pathconf_t *pathconf, struct gw *gw);
/* 1 when req came from another gateway as a forwarded Consul request. */
int gw_consul_router_is_forwarded(h2o_req_t *req);
/* Routes req through the Consul table (the main router's hand-off of forwarded ones). */
void gw_consul_router_on_req(struct gw *gw, h2o_req_t *req);

/* ---- the reads, on a call that exists (a blocking query's, once it has waited) ---- */
/* The one-key GET or ?raw (gw_consul_kv_get.c). */
void gw_consul_kv_get_read(struct gw *gw, struct gw_call *c);
/* ?recurse and ?keys (gw_consul_kv_list.c). */
void gw_consul_kv_list_read(struct gw *gw, struct gw_call *c);
/* ---- gw_consul_block.c: ?index= waits for a change past it, then reads ---- */
void gw_consul_block(struct gw_req *r);

/* ---- gw_consul_reply.c ---- */
/* The X-Consul-Index, -KnownLeader and -LastContact headers of an answer at index. */
void gw_consul_reply_headers(struct gw *gw, h2o_req_t *req, uint64_t index);
/* 200 with a JSON body of text ("true", "false", "\"addr\"", ...). */
void gw_consul_reply_json(struct gw *gw, struct gw_http *h, const char *text, size_t len,
                          uint64_t index);
/* 404 with an empty body, as Consul answers a key that is not there. */
void gw_consul_reply_absent(struct gw *gw, struct gw_http *h, uint64_t index);
/* 501 naming what is missing. */
void gw_consul_reply_missing(struct gw *gw, struct gw_http *h, const char *missing);
/* The answer of a Consul PUT or DELETE's RESULT: true, false or an error; ends c. */
void gw_consul_reply_write(struct gw *gw, struct gw_call *c, const struct proto_result *m);

#endif
