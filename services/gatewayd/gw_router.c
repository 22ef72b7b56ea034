/*
 * gw_router.c - gatewayd's one h2o handler: it routes on the raw path, so a
 * key like "a/../b" stays a key and is never normalized into another route
 * (h2o's own path dispatch matches the normalized path). Checks the URL and
 * header limits, answers 404 and 405 from the route table (gw_routes.h),
 * checks the bearer token against the row's permission (with --auth-file:
 * 401 before anything else is looked at, 403 for a role below the row's or
 * keys outside the token's prefix), decodes the key and the query the row
 * asks for, then runs the row's handler. Loop thread only.
 */
#include "gw.h"

#include "gw_consul.h"
#include "gw_errors.h"
#include "gw_routes.h"
#include "kv_clock.h"
#include "kv_err.h"

#include <string.h>

struct gw_router {
	h2o_handler_t super;
	struct gw *gw;
};

static int router_bad(struct gw *gw, struct gw_http *h, int status, const char *code,
                      const char *msg, const char *param, uint64_t limit)
{
	struct gw_error_extra ex = {0};
	ex.param = param;
	ex.limit = limit;
	ex.has_limit = limit != 0;
	gw_reply_error(gw, h, status, code, msg, &ex);
	return -1;
}

/*
 * Decodes what r's row asks for: the key of a {key} path (at key_at) and the
 * query. 0, or -1 after answering 400. A forwarded request's
 * X-Raftkv-Timeout-Ms shortens the deadline to the forwarder's time left.
 */
static int router_parse(struct gw_req *r, h2o_req_t *req, size_t key_at)
{
	struct gw *gw = r->gw;
	struct gw_http *h = &r->http;
	size_t qa = req->query_at;
	size_t path_len = qa == SIZE_MAX ? req->path.len : qa;
	if (key_at != 0) {
		int err = gw_parse_key(req->path.base + key_at, path_len - key_at, &r->key);
		if (err == KV_ETOOLARGE)
			return router_bad(gw, h, 400, "key_too_long", "the key is over 511 bytes",
			                  "key", KV_KEY_BYTES_MAX);
		if (err != 0)
			return router_bad(gw, h, 400, "invalid_key",
			                  "the key is empty or has a bad percent escape", "key", 0);
	}
	if (!(r->route->flags & GW_ROUTE_QUERY))
		return 0;
	const char *qs = qa == SIZE_MAX ? "" : req->path.base + qa + 1;
	size_t qs_len = qa == SIZE_MAX ? 0 : req->path.len - qa - 1;
	const char *what = NULL;
	uint64_t limit = 0;
	struct gw_query *q = &r->query;
	int err = gw_parse_query(qs, qs_len, r->cfg->timeout_ms, q, &what, &limit);
	if (err != 0)
		return router_bad(gw, h, 400, kv_err_code(err),
		                  err == KV_ERANGE ? "a query parameter is out of range"
		                                   : "a query parameter is malformed",
		                  what, limit);
	ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-raftkv-timeout-ms"), -1);
	uint64_t fwd_ms = 0;
	if (i >= 0 &&
	    gw_parse_u64(req->headers.entries[i].value.base, req->headers.entries[i].value.len,
	                 &fwd_ms) == 0 &&
	    fwd_ms >= KV_HTTP_TIMEOUT_MS_MIN && fwd_ms < q->timeout_ms)
		q->timeout_ms = fwd_ms;
	return 0;
}

/* 414 and 431: h2o takes up to ~400 KiB of head; our limits are tighter. */
static int router_limits(struct gw *gw, h2o_req_t *req, struct gw_http *h)
{
	if (req->path.len > KV_HTTP_URL_BYTES_MAX)
		return router_bad(gw, h, 414, "uri_too_long", "the URL is too long", NULL,
		                  KV_HTTP_URL_BYTES_MAX);
	size_t bytes = 0;
	for (size_t i = 0; i < req->headers.size; i++)
		bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
	if (req->headers.size > KV_HTTP_HEADERS_MAX || bytes > KV_HTTP_HEADER_BYTES_MAX)
		return router_bad(gw, h, 431, "headers_too_large", "the headers are too large",
		                  NULL, KV_HTTP_HEADER_BYTES_MAX);
	return 0;
}

/*
 * The token of req (with --auth-file) and whether its role reaches the row's
 * permission: 0 (*tp set; NULL without --auth-file or on an open row), or -1
 * after answering 401 (with WWW-Authenticate) or 403. The token itself is
 * never logged or echoed.
 */
static int router_auth_role(struct gw_req *r, h2o_req_t *req, const struct gw_auth_token **tp)
{
	struct gw *gw = r->gw;
	*tp = NULL;
	if (gw->auth.n == 0 || r->route->perm == GW_PERM_OPEN)
		return 0;
	ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
	const struct gw_auth_token *t =
	    i < 0 ? NULL
	          : gw_auth_who(&gw->auth, req->headers.entries[i].value.base,
	                        req->headers.entries[i].value.len);
	if (t == NULL) {
		gw_reply_header(req, "www-authenticate", H2O_STRLIT("Bearer realm=\"raftkv\""));
		gw_reply_kv_error(gw, &r->http, KV_EUNAUTH,
		                  i < 0 ? "an Authorization: Bearer token is required"
		                        : "the bearer token is not valid",
		                  NULL);
		return -1;
	}
	if (gw_auth_allow(t, (enum gw_perm)r->route->perm, 0, NULL, 0) != 0) {
		gw_reply_kv_error(gw, &r->http, KV_EFORBIDDEN,
		                  "the token's role may not use this route", NULL);
		return -1;
	}
	*tp = t;
	return 0;
}

/* After parsing: are the keys the request touches under t's prefix? 0, or -1 after 403. */
static int router_auth_keys(struct gw_req *r, const struct gw_auth_token *t, size_t key_at)
{
	static const struct gw_key
	    every_key; /* empty: under a token's prefix only if it has none */
	const struct gw_key *k = NULL;
	if (r->route->flags & GW_ROUTE_ALL_KEYS)
		k = &every_key;
	else if (key_at != 0)
		k = &r->key;
	else if (r->route->flags & GW_ROUTE_PREFIX)
		k = &r->query.prefix;
	if (t == NULL || k == NULL ||
	    gw_auth_allow(t, (enum gw_perm)r->route->perm, 1, k->bytes, k->len) == 0)
		return 0;
	gw_reply_kv_error(r->gw, &r->http, KV_EFORBIDDEN, "the key is outside the token's prefix",
	                  NULL);
	return -1;
}

/* 405 with the Allow header of the path's methods. */
static void router_not_allowed(struct gw *gw, struct gw_http *h, unsigned allow)
{
	char value[64];
	size_t len = gw_route_allow(allow, value, sizeof(value));
	gw_reply_header(h->req, "allow", value, len);
	router_bad(gw, h, 405, "method_not_allowed", "the method is not supported on this path",
	           NULL, 0);
}

static int router_on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct gw *gw = ((struct gw_router *)self)->gw;
	if (gw_consul_router_is_forwarded(req)) {
		/* another gateway's Consul request: routed through the Consul table (gw_consul.h)
		 */
		gw_consul_router_on_req(gw, req);
		return 0;
	}
	struct gw_req r = {0};
	r.gw = gw;
	r.cfg = &gw->cfg;
	r.http.req = req;
	r.http.start_us = kv_clock_mono_us();
	r.http.method = (uint8_t)gw_route_method(req->method.base, req->method.len);
	size_t path_len = req->query_at == SIZE_MAX ? req->path.len : req->query_at;
	struct gw_route_hit hit;
	gw_route_find(gw_routes, gw_routes_count, req->path.base, path_len,
	              (enum gw_method)r.http.method, &hit);
	r.http.slot = (uint8_t)gw_route_slot(&hit);
	if (router_limits(gw, req, &r.http) != 0)
		return 0;
	if (hit.path >= 0 && hit.row == NULL) {
		router_not_allowed(gw, &r.http, hit.allow);
		return 0;
	}
	if (gw->stopping) {
		gw_reply_kv_error(gw, &r.http, KV_ESHUTDOWN, NULL, NULL);
		return 0;
	}
	if (hit.row == NULL) {
		router_bad(gw, &r.http, 404, "not_found", "no such path", NULL, 0);
		return 0;
	}
	r.route = hit.row;
	const struct gw_auth_token *token;
	if (router_auth_role(&r, req, &token) != 0)
		return 0;
	if (router_parse(&r, req, hit.key_at) == 0 && router_auth_keys(&r, token, hit.key_at) == 0)
		hit.row->handle(&r);
	return 0;
}

void gw_router_register(h2o_pathconf_t *pathconf, struct gw *gw)
{
	struct gw_router *r = (void *)h2o_create_handler(pathconf, sizeof(*r));
	r->super.on_req = router_on_req;
	r->gw = gw;
}
