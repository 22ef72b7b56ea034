/*
 * gw_router.c - gatewayd's one h2o handler: it routes on the raw path, so a
 * key like "a/../b" stays a key and is never normalized into another route
 * (h2o's own path dispatch matches the normalized path). Checks the URL and
 * header limits, answers 404 and 405, then calls the route's handler.
 * Loop thread only.
 */
#include "gw.h"

#include "gw_errors.h"
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

int gw_router_parse(struct gw *gw, h2o_req_t *req, struct gw_http *h, struct gw_key *key,
                    struct gw_query *q)
{
	size_t qa = req->query_at;
	size_t path_len = qa == SIZE_MAX ? req->path.len : qa;
	if (key != NULL) {
		size_t off = strlen("/v1/kv/");
		int err = gw_route_key(req->path.base + off, path_len - off, key);
		if (err == KV_ETOOLARGE)
			return router_bad(gw, h, 400, "key_too_long", "the key is over 511 bytes",
			                  "key", KV_KEY_BYTES_MAX);
		if (err != 0)
			return router_bad(gw, h, 400, "invalid_key",
			                  "the key is empty or has a bad percent escape", "key", 0);
	}
	const char *qs = qa == SIZE_MAX ? "" : req->path.base + qa + 1;
	size_t qs_len = qa == SIZE_MAX ? 0 : req->path.len - qa - 1;
	const char *what = NULL;
	uint64_t limit = 0;
	int err = gw_route_query(qs, qs_len, gw->cfg.timeout_ms, q, &what, &limit);
	if (err != 0)
		return router_bad(gw, h, 400, kv_err_code(err),
		                  err == KV_ERANGE ? "a query parameter is out of range"
		                                   : "a query parameter is malformed",
		                  what, limit);
	ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-raftkv-timeout-ms"), -1);
	uint64_t fwd_ms = 0;
	if (i >= 0 &&
	    gw_route_parse_u64(req->headers.entries[i].value.base,
	                       req->headers.entries[i].value.len, &fwd_ms) == 0 &&
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

static void router_dispatch(struct gw *gw, h2o_req_t *req, struct gw_http *h)
{
	switch (h->route) {
	case GW_ROUTE_KV_KEY:
		if (h->method == GW_M_PUT)
			gw_kv_put_handle(gw, req, h);
		else if (h->method == GW_M_DELETE)
			gw_kv_delete_handle(gw, req, h);
		else
			gw_kv_get_handle(gw, req, h);
		return;
	case GW_ROUTE_KV_LIST:
		gw_kv_list_handle(gw, req, h);
		return;
	case GW_ROUTE_STATUS:
		gw_status_handle(gw, req, h);
		return;
	case GW_ROUTE_LIVEZ:
		gw_health_livez(gw, req, h);
		return;
	case GW_ROUTE_READYZ:
		gw_health_readyz(gw, req, h);
		return;
	case GW_ROUTE_METRICS:
		gw_metrics_handle(gw, req, h);
		return;
	default:
		router_bad(gw, h, 404, "not_found", "no such path", NULL, 0);
	}
}

static int router_on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct gw *gw = ((struct gw_router *)self)->gw;
	struct gw_http h = {0};
	h.req = req;
	h.start_us = kv_clock_mono_us();
	size_t path_len = req->query_at == SIZE_MAX ? req->path.len : req->query_at;
	h.route = gw_route_match(req->path.base, path_len);
	h.method = gw_route_method(req->method.base, req->method.len);
	if (router_limits(gw, req, &h) != 0)
		return 0;
	if (!gw_route_allows(h.route, h.method)) {
		const char *allow = gw_route_allow_header(h.route);
		gw_reply_header(req, "allow", allow, strlen(allow));
		router_bad(gw, &h, 405, "method_not_allowed",
		           "the method is not supported on this path", NULL, 0);
		return 0;
	}
	if (gw->stopping) {
		gw_reply_kv_error(gw, &h, KV_ESHUTDOWN, NULL, NULL);
		return 0;
	}
	router_dispatch(gw, req, &h);
	return 0;
}

void gw_router_register(h2o_pathconf_t *pathconf, struct gw *gw)
{
	struct gw_router *r = (void *)h2o_create_handler(pathconf, sizeof(*r));
	r->super.on_req = router_on_req;
	r->gw = gw;
}
