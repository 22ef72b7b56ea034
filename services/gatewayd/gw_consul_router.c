/*
 * gw_consul_router.c - the h2o handler of the --consul-listen listener, and
 * of Consul requests another gateway forwarded to our main listener. It
 * routes on the raw path through the Consul table (gw_consul.h), checks the
 * URL and header limits, answers 404 and 405, takes the token (with
 * --auth-file) from X-Consul-Token, ?token= or Authorization: Bearer, checks
 * it against the row's permission and the key, decodes the key and the
 * query (gw_consul_query.h; a parameter raftkv does not serve: 501), then
 * runs the row's handler. Loop thread only.
 */
#include "gw.h"
#include "gw_consul.h"

#include "gw_errors.h"
#include "kv_clock.h"
#include "kv_err.h"

#include <stdio.h>
#include <string.h>

struct gw_consul_router {
	h2o_handler_t super;
	struct gw *gw;
};

#define GW_CONSUL_ROUTE_ROW(methods, path, handle, label, perm, flags)                             \
	{(methods), (path), (handle), (label), (perm), (flags)},
const struct gw_route gw_consul_routes[] = {GW_CONSUL_ROUTE_TABLE(GW_CONSUL_ROUTE_ROW)};
#undef GW_CONSUL_ROUTE_ROW

const size_t gw_consul_routes_count = sizeof(gw_consul_routes) / sizeof(gw_consul_routes[0]);

_Static_assert(sizeof(gw_consul_routes) / sizeof(gw_consul_routes[0]) <= GW_ROUTES_MAX,
               "the Consul table is a route table: at most GW_ROUTES_MAX rows");

static void consul_bad(struct gw *gw, struct gw_http *h, int status, const char *code,
                       const char *msg, const char *param)
{
	struct gw_error_extra ex = {0};
	ex.param = param;
	gw_reply_error(gw, h, status, code, msg, &ex);
}

/* 414 and 431, as the main router. 0, or -1 after answering. */
static int consul_limits(struct gw *gw, h2o_req_t *req, struct gw_http *h)
{
	if (req->path.len > KV_HTTP_URL_BYTES_MAX) {
		consul_bad(gw, h, 414, "uri_too_long", "the URL is too long", NULL);
		return -1;
	}
	size_t bytes = 0;
	for (size_t i = 0; i < req->headers.size; i++)
		bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
	if (req->headers.size > KV_HTTP_HEADERS_MAX || bytes > KV_HTTP_HEADER_BYTES_MAX) {
		consul_bad(gw, h, 431, "headers_too_large", "the headers are too large", NULL);
		return -1;
	}
	return 0;
}

/* The key (may be empty: the handlers decide) and the query. 0, or -1 after answering. */
static int consul_parse(struct gw_req *r, h2o_req_t *req, size_t key_at)
{
	struct gw *gw = r->gw;
	size_t qa = req->query_at;
	size_t path_len = qa == SIZE_MAX ? req->path.len : qa;
	if (key_at != 0 && path_len > key_at) {
		int err = gw_parse_key(req->path.base + key_at, path_len - key_at, &r->key);
		if (err != 0) {
			consul_bad(gw, &r->http, 400,
			           err == KV_ETOOLARGE ? "key_too_long" : "invalid_key",
			           err == KV_ETOOLARGE ? "the key is over 511 bytes"
			                               : "the key has a bad percent escape",
			           "key");
			return -1;
		}
	}
	const char *qs = qa == SIZE_MAX ? "" : req->path.base + qa + 1;
	size_t qs_len = qa == SIZE_MAX ? 0 : req->path.len - qa - 1;
	const char *what = NULL, *missing = NULL;
	int err = gw_consul_query_parse(qs, qs_len, r->cfg->timeout_ms, &r->query, &r->consul,
	                                &what, &missing);
	if (missing != NULL) {
		gw_consul_reply_missing(gw, &r->http, missing);
		return -1;
	}
	if (err != 0) {
		consul_bad(gw, &r->http, err == KV_ETOOLARGE ? 413 : 400, kv_err_code(err),
		           "a query parameter is malformed, too long or contradicts another", what);
		return -1;
	}
	ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-raftkv-timeout-ms"), -1);
	uint64_t fwd_ms = 0;
	if (i >= 0 &&
	    gw_parse_u64(req->headers.entries[i].value.base, req->headers.entries[i].value.len,
	                 &fwd_ms) == 0 &&
	    fwd_ms >= KV_HTTP_TIMEOUT_MS_MIN && fwd_ms < r->query.timeout_ms)
		r->query.timeout_ms = fwd_ms;
	return 0;
}

/* The token presented, as the value of an Authorization header, into buf; NULL when none. */
static const char *consul_token(const struct gw_req *r, h2o_req_t *req, char *buf, size_t cap,
                                size_t *len)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-consul-token"), -1);
	const char *t = NULL;
	size_t tl = 0;
	if (i >= 0) {
		t = req->headers.entries[i].value.base;
		tl = req->headers.entries[i].value.len;
	} else if (r->consul.token.len > 0) {
		t = (const char *)r->consul.token.bytes;
		tl = r->consul.token.len;
	} else if ((i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1)) >= 0) {
		*len = req->headers.entries[i].value.len;
		return req->headers.entries[i].value.base;
	}
	if (t == NULL)
		return NULL;
	int n = snprintf(buf, cap, "Bearer %.*s", (int)tl, t);
	*len = n < 0 || (size_t)n >= cap ? cap - 1 : (size_t)n; /* too long: matches no token */
	return buf;
}

/* With --auth-file: 401, or 403 for a role below the row's or a key outside the prefix. */
static int consul_auth(struct gw_req *r, h2o_req_t *req, size_t key_at)
{
	struct gw *gw = r->gw;
	if (gw->auth.n == 0 || r->route->perm == GW_PERM_OPEN)
		return 0;
	char buf[GW_AUTH_TOKEN_BYTES_MAX + 16];
	size_t len = 0;
	const char *value = consul_token(r, req, buf, sizeof(buf), &len);
	const struct gw_auth_token *t = value == NULL ? NULL : gw_auth_who(&gw->auth, value, len);
	if (t == NULL) {
		gw_reply_kv_error(gw, &r->http, KV_EUNAUTH,
		                  value == NULL ? "a token is required: X-Consul-Token, ?token= or "
		                                  "Authorization: Bearer"
		                                : "the token is not valid",
		                  NULL);
		return -1;
	}
	if (gw_auth_allow(t, (enum gw_perm)r->route->perm, key_at != 0, r->key.bytes, r->key.len) !=
	    0) {
		gw_reply_kv_error(gw, &r->http, KV_EFORBIDDEN,
		                  "the token's role may not use this route, or the key is outside "
		                  "its prefix",
		                  NULL);
		return -1;
	}
	return 0;
}

static void consul_not_allowed(struct gw *gw, struct gw_http *h, unsigned allow)
{
	char value[64];
	size_t len = gw_route_allow(allow, value, sizeof(value));
	gw_reply_header(h->req, "allow", value, len);
	consul_bad(gw, h, 405, "method_not_allowed", "the method is not supported on this path",
	           NULL);
}

void gw_consul_router_on_req(struct gw *gw, h2o_req_t *req)
{
	struct gw_req r = {0};
	r.gw = gw;
	r.cfg = &gw->cfg;
	r.http.req = req;
	r.http.start_us = kv_clock_mono_us();
	r.http.method = (uint8_t)gw_route_method(req->method.base, req->method.len);
	r.http.consul = 1;
	size_t path_len = req->query_at == SIZE_MAX ? req->path.len : req->query_at;
	struct gw_route_hit hit;
	gw_route_find(gw_consul_routes, gw_consul_routes_count, req->path.base, path_len,
	              (enum gw_method)r.http.method, &hit);
	/* the Consul paths' metrics slots follow the main table's (gw.h GW_METRIC_SLOTS) */
	r.http.slot = (uint8_t)(hit.path < 0 ? 0 : GW_ROUTES_MAX + gw_route_slot(&hit));
	if (consul_limits(gw, req, &r.http) != 0)
		return;
	if (hit.path >= 0 && hit.row == NULL) {
		consul_not_allowed(gw, &r.http, hit.allow);
		return;
	}
	if (gw->stopping) {
		gw_reply_kv_error(gw, &r.http, KV_ESHUTDOWN, NULL, NULL);
		return;
	}
	if (hit.row == NULL) {
		consul_bad(gw, &r.http, 404, "not_found",
		           "no such path: this listener serves Consul's KV API (docs/api.md)",
		           NULL);
		return;
	}
	r.route = hit.row;
	if (consul_parse(&r, req, hit.key_at) == 0 && consul_auth(&r, req, hit.key_at) == 0)
		hit.row->handle(&r);
}

int gw_consul_router_is_forwarded(h2o_req_t *req)
{
	return h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-raftkv-consul"), -1) >= 0 &&
	       h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-raftkv-forwarded"), -1) >= 0;
}

static int consul_router_h2o(h2o_handler_t *self, h2o_req_t *req)
{
	gw_consul_router_on_req(((struct gw_consul_router *)self)->gw, req);
	return 0;
}

void gw_consul_router_register(h2o_pathconf_t *pathconf, struct gw *gw)
{
	struct gw_consul_router *r = (void *)h2o_create_handler(pathconf, sizeof(*r));
	r->super.on_req = consul_router_h2o;
	r->gw = gw;
}
