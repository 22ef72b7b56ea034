/*
 * gw_reply.c - every HTTP answer of gatewayd goes out through here, so each
 * carries X-Raft-Leader, X-Served-By, X-Raft-Term and X-Raft-Index and is
 * counted in the metrics. Loop thread only.
 */
#include "gw.h"

#include "gw_consul.h"
#include "gw_errors.h"
#include "kv_assert.h"
#include "kv_err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define GW_ERROR_BODY_MAX 4096u

void gw_reply_header(h2o_req_t *req, const char *name, const char *value, size_t len)
{
	h2o_iovec_t v = h2o_strdup(&req->pool, value, len);
	h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, v.base,
	                      v.len);
}

static void reply_header_u64(h2o_req_t *req, const char *name, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);
	gw_reply_header(req, name, num, (size_t)n);
}

/* The headers docs/api.md puts on every answer; leader 0 means none is known. */
static void reply_common_headers(struct gw *gw, h2o_req_t *req, uint64_t raft_index)
{
	reply_header_u64(req, "x-raft-leader", gw_status_leader(gw));
	reply_header_u64(req, "x-served-by", gw->cfg.node_id);
	reply_header_u64(req, "x-raft-term", gw->status.msg.term);
	reply_header_u64(req, "x-raft-index",
	                 raft_index != 0 ? raft_index : gw->status.msg.applied_index);
}

void gw_reply_count(struct gw *gw, struct gw_http *h, int status)
{
	gw_metrics_record(gw, h, status);
}

void gw_reply_send(struct gw *gw, struct gw_http *h, int status, const char *content_type,
                   const void *body, size_t len, uint64_t raft_index)
{
	h2o_req_t *req = h->req;
	KV_ASSERT(req != NULL);
	req->res.status = status;
	req->res.reason = gw_errors_reason(status);
	if (content_type != NULL)
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		               content_type, strlen(content_type));
	reply_common_headers(gw, req, raft_index != 0 ? raft_index : h->raft_index);
	if (h->consul)
		gw_consul_reply_headers(gw, req,
		                        raft_index != 0 ? raft_index
		                        : h->raft_index ? h->raft_index
		                                        : gw->status.msg.applied_index);
	gw_metrics_record(gw, h, status);
	h->req = NULL; /* answered: nothing may touch req after this */
	req->res.content_length = len;
	h2o_send_inline(req, len != 0 ? body : "", len);
}

void gw_reply_stream_head(struct gw *gw, struct gw_http *h, int status, const char *content_type,
                          uint64_t raft_index)
{
	h2o_req_t *req = h->req;
	KV_ASSERT(req != NULL);
	req->res.status = status;
	req->res.reason = gw_errors_reason(status);
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
	               strlen(content_type));
	reply_common_headers(gw, req, raft_index);
	gw_metrics_record(gw, h, status);
}

void gw_reply_error(struct gw *gw, struct gw_http *h, int status, const char *code,
                    const char *message, const struct gw_error_extra *extra)
{
	struct gw_json j;
	gw_json_init(&j, GW_ERROR_BODY_MAX);
	gw_errors_format(&j, code, message, extra);
	KV_ASSERT(!j.overflow);
	if (status == 503)
		gw_reply_header(h->req, "retry-after", "1", 1);
	gw_reply_send(gw, h, status, "application/json", j.buf, j.len, 0);
	gw_json_free(&j);
}

void gw_reply_kv_error(struct gw *gw, struct gw_http *h, int err, const char *message,
                       const struct gw_error_extra *extra)
{
	gw_reply_error(gw, h, kv_err_http_status(err), kv_err_code(err),
	               message != NULL ? message : kv_strerror(err), extra);
}

void gw_reply_no_leader(struct gw *gw, struct gw_http *h, int err)
{
	struct gw_error_extra ex = {0};
	ex.leader = gw_status_leader(gw);
	const struct gw_peer *p = gw_status_peer(gw, ex.leader);
	if (p != NULL)
		ex.leader_url = p->url;
	/* tells a forwarding gateway that nothing was proposed: it may send the write again */
	gw_reply_header(h->req, "x-raftkv-not-proposed", "1", 1);
	const char *msg = err == KV_ENOTLEADER ? "this node is not the leader"
	                                       : "no leader is known; retry later";
	gw_reply_kv_error(gw, h, err, msg, &ex);
}
