/*
 * gw_req.h - what a route handler is given: one HTTP request, routed and
 * decoded by the router (gw_router.c), with the node's read-only config.
 * Handlers answer through gw_reply.h or start a call (gw_pending.h) that
 * answers later; they pass the daemon (struct gw) on without looking into
 * it. Loop thread only.
 */
#ifndef RAFTKV_GW_REQ_H
#define RAFTKV_GW_REQ_H

#include "gw_config.h"
#include "gw_consul_query.h"
#include "gw_parse.h"
#include "gw_route.h"

#ifndef H2O_USE_LIBUV
#define H2O_USE_LIBUV 0 /* Debian's libh2o-evloop is built on h2o's own loop, not libuv */
#endif
#include <h2o.h>
#include <stdint.h>

struct gw; /* the daemon (gw.h) */

/* The HTTP side of a request: what replies, metrics and the common headers need. */
struct gw_http {
	h2o_req_t *req; /* NULL once answered or once the client has gone (the pool was freed) */
	uint8_t slot;   /* the route's metrics slot (gw_route_slot); 0: none */
	uint8_t method; /* enum gw_method */
	uint64_t start_us;
	uint64_t raft_index; /* X-Raft-Index of an error answer; 0: the cached applied index */
	uint8_t consul;      /* 1: Consul's API (gw_consul.h): answers carry X-Consul-* too */
};

/* One routed request, on the router's stack: borrowed by the handler for its call only. */
struct gw_req {
	struct gw *gw;                /* pass on to gw_reply_* and gw_pending_start */
	const struct gw_config *cfg;  /* the flags */
	const struct gw_route *route; /* the row that matched */
	struct gw_http http;
	struct gw_key key;             /* {key} routes: the decoded key */
	struct gw_query query;         /* GW_ROUTE_QUERY routes: the parameters; else zero */
	struct gw_consul_query consul; /* Consul API routes: their parameters; else zero */
};

#endif
