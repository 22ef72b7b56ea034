/*
 * gw_ui_status.c - GET /ui/status?node=ID: node ID's GET /v1/status, asked
 * through this gateway, so the dashboard reaches every node on its own
 * origin (no CORS, the same TLS and token). This node answers itself; for
 * another, the request goes to that node's gateway (--gateways) as
 * GET /v1/status with the client's Authorization, and its answer is relayed
 * as is. A gateway that does not answer is 503. Loop thread only.
 */
#include "gw.h"
#include "gw_routes.h"

#include "gw_errors.h"
#include "kv_err.h"

#include <string.h>

static const char ui_status_path[] = "/v1/status";

/* The node= of the query, or 0 when it is absent; -1 when malformed. */
static int64_t ui_status_node(const h2o_req_t *req)
{
	if (req->query_at == SIZE_MAX)
		return 0;
	const char *q = req->path.base + req->query_at + 1;
	size_t len = req->path.len - req->query_at - 1;
	for (size_t i = 0; i < len;) {
		const char *amp = memchr(q + i, '&', len - i);
		size_t end = amp != NULL ? (size_t)(amp - q) : len;
		uint64_t id = 0;
		if (end - i > 5 && memcmp(q + i, "node=", 5) == 0)
			return gw_parse_u64(q + i + 5, end - i - 5, &id) == 0 && id <= INT64_MAX
			           ? (int64_t)id
			           : -1;
		i = end + 1;
	}
	return 0;
}

static void ui_status_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *m)
{
}

/* The forward was not taken (no connection): the node's gateway is down. */
static void ui_status_on_retry(struct gw *gw, struct gw_call *c)
{
	gw_reply_kv_error(gw, &c->http, KV_EUNAVAIL, "that node's gateway does not answer", NULL);
	gw_pending_end(gw, c);
}

static void ui_status_on_deadline(struct gw *gw, struct gw_call *c)
{
	gw_reply_kv_error(gw, &c->http, KV_EUNAVAIL, "that node's gateway did not answer in time",
	                  NULL);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops ui_status_ops = {ui_status_on_msg, ui_status_on_retry,
                                                 ui_status_on_deadline};

void gw_ui_status_handle(struct gw_req *r)
{
	struct gw *gw = r->gw;
	int64_t node = ui_status_node(r->http.req);
	if (node < 0) {
		struct gw_error_extra ex = {.param = "node"};
		gw_reply_error(gw, &r->http, 400, "invalid_argument", "node= must be a node id",
		               &ex);
		return;
	}
	if (node == 0 || (uint64_t)node == gw->cfg.node_id) {
		gw_status_handle(r);
		return;
	}
	const struct gw_peer *peer = gw_status_peer(gw, (uint64_t)node);
	if (peer == NULL) {
		gw_reply_error(gw, &r->http, 404, "not_found", "no gateway is known for that node",
		               NULL);
		return;
	}
	struct gw_call *c = gw_pending_start(r, &ui_status_ops, GW_STATUS_WAIT_MS);
	if (c == NULL) {
		gw_reply_kv_error(gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->fwd_path = h2o_iovec_init(ui_status_path, sizeof(ui_status_path) - 1);
	c->state = GW_CALL_FORWARDING;
	if (gw_forward_start(gw, c, peer) != 0)
		ui_status_on_retry(gw, c);
}
