/*
 * ctl_http.c - raftkvctl's requests: common/kv_http_client.c for each, and
 * failover from one endpoint to the next.
 */
#include "ctl_http.h"

#include "kv_err.h"

#include <stdio.h>

struct kv_http_opts ctl_http_opts(const struct ctl_ctx *ctx)
{
	return (struct kv_http_opts){
	    .tls = {.cacert = ctx->cacert, .cert = ctx->cert, .key = ctx->key},
	    .token = ctx->token,
	    .user_agent = "raftkvctl",
	    .step_ms = ctx->timeout_ms,
	    .response_bytes_max = CTL_RESPONSE_BYTES_MAX,
	};
}

/* One attempt at one endpoint: CTL_HTTP_ANSWERED, CTL_HTTP_UNREACHABLE or CTL_HTTP_BAD_CONFIG. */
static int http_try(const struct ctl_ctx *ctx, const struct kv_url *ep,
                    const struct ctl_http_req *req, struct ctl_http_resp *resp)
{
	struct kv_http_opts o = ctl_http_opts(ctx);
	struct kv_http_req r = {.method = req->method,
	                        .path = req->path,
	                        .body = req->body,
	                        .body_len = req->body_len,
	                        .headers = req->headers};
	char why[KV_HTTP_WHY_BYTES + 64];
	*resp = (struct ctl_http_resp){.endpoint = ep};
	int rc = kv_http_request(ep, &o, &r, &resp->http, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "raftkvctl: %s\n", why);
		return rc == KV_EINVAL ? CTL_HTTP_BAD_CONFIG : CTL_HTTP_UNREACHABLE;
	}
	resp->status = resp->http.status;
	resp->body = resp->http.body;
	resp->body_len = resp->http.body_len;
	return CTL_HTTP_ANSWERED;
}

int ctl_http_do(const struct ctl_ctx *ctx, const struct ctl_http_req *req,
                struct ctl_http_resp *resp)
{
	size_t count = req->first_only ? 1 : ctx->endpoint_count;
	int result = CTL_HTTP_UNREACHABLE;
	*resp = (struct ctl_http_resp){0};
	for (size_t i = 0; i < count; i++) {
		struct ctl_http_resp attempt;
		int rc = http_try(ctx, &ctx->endpoints[i], req, &attempt);
		if (rc == CTL_HTTP_BAD_CONFIG)
			return rc;
		if (rc != CTL_HTTP_ANSWERED)
			continue;
		ctl_http_resp_free(resp); /* an earlier 503 */
		*resp = attempt;
		result = CTL_HTTP_ANSWERED;
		if (attempt.status != 503)
			break;
	}
	return result;
}

int ctl_http_header(const struct ctl_http_resp *resp, const char *name, char *out, size_t cap)
{
	return kv_http_header(&resp->http, name, out, cap);
}

void ctl_http_resp_free(struct ctl_http_resp *resp)
{
	kv_http_resp_free(&resp->http);
	resp->body = NULL;
	resp->body_len = 0;
}
