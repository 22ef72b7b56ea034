/*
 * ctl_http.h - one HTTP/1.1 request to the cluster, with failover across the
 * endpoints (ctl_http.c). The request itself is common/kv_http_client.h.
 */
#ifndef RAFTKV_CTL_HTTP_H
#define RAFTKV_CTL_HTTP_H

#include "ctl.h"

#define CTL_RESPONSE_BYTES_MAX KV_HTTP_RESPONSE_BYTES_MAX
#define CTL_PATH_BYTES_MAX     KV_HTTP_PATH_BYTES_MAX

struct ctl_http_req {
	const char *method;
	const char *path; /* already percent-encoded, with the query */
	const char *body; /* NULL: none */
	size_t body_len;
	const char *headers; /* extra header lines, each ending "\r\n", or NULL */
	int first_only;      /* ask the first endpoint only (probes of one node) */
};

/* The answer: kv_http_client's, and which endpoint gave it. */
struct ctl_http_resp {
	struct kv_http_resp http; /* owned; free with ctl_http_resp_free */
	int status;               /* http.status */
	const char *body;         /* http.body */
	size_t body_len;
	const struct kv_url *endpoint; /* who answered (borrowed from the ctx) */
};

enum ctl_http_result {
	CTL_HTTP_ANSWERED = 0,     /* *resp holds an answer */
	CTL_HTTP_UNREACHABLE = -1, /* no endpoint answered */
	CTL_HTTP_BAD_CONFIG = -2   /* TLS files do not load */
};

/* The transport settings of ctx (borrowed pointers into it), for kv_http_client. */
struct kv_http_opts ctl_http_opts(const struct ctl_ctx *ctx);

/*
 * Sends req to the endpoints in order until one answers. A connection or TLS
 * failure, or a 503 (no leader, shutting down), moves on to the next endpoint;
 * the last 503 is returned when every endpoint gave one. Sends
 * Authorization: Bearer when ctx has a token. Returns an enum ctl_http_result;
 * on CTL_HTTP_ANSWERED free *resp with ctl_http_resp_free.
 */
int ctl_http_do(const struct ctl_ctx *ctx, const struct ctl_http_req *req,
                struct ctl_http_resp *resp);

/*
 * Copies the value of header name (case-insensitive) into out (cap bytes).
 * Returns 0, or -1 when absent or too long.
 */
int ctl_http_header(const struct ctl_http_resp *resp, const char *name, char *out, size_t cap);

void ctl_http_resp_free(struct ctl_http_resp *resp);

#endif
