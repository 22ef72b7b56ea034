/*
 * kv_http_client.h - one HTTP/1.1 request to one node's API and its whole
 * answer (kv_http_client.c), over kv_http_conn. The one HTTP client of the
 * project: raftkvctl (with failover across its endpoints in ctl_http.c) and
 * raftd --join use it. Blocking; runs on the caller's thread.
 */
#ifndef RAFTKV_KV_HTTP_CLIENT_H
#define RAFTKV_KV_HTTP_CLIENT_H

#include "kv_http_conn.h"
#include "kv_url.h"

#include <stddef.h>

#define KV_HTTP_PATH_BYTES_MAX     8192u
#define KV_HTTP_TOKEN_BYTES_MAX    512u
#define KV_HTTP_RESPONSE_BYTES_MAX (64u << 20) /* the most any caller may ask for */

/* How to talk to the server: all borrowed for the call. */
struct kv_http_opts {
	struct kv_http_tls tls;
	const char *token;         /* sent as Authorization: Bearer; NULL or "": none */
	const char *user_agent;    /* e.g. "raftkvctl" */
	int step_ms;               /* bound on connect, handshake and each read or write */
	int total_ms;              /* bound on the whole request; 0: none */
	size_t response_bytes_max; /* answers longer than this fail with KV_ETOOLARGE */
};

struct kv_http_req {
	const char *method;
	const char *path; /* already percent-encoded, with the query */
	const char *body; /* NULL: none */
	size_t body_len;
	const char *content_type; /* NULL: no Content-Type header */
	const char *headers;      /* extra header lines, each ending "\r\n", or NULL */
};

struct kv_http_resp {
	int status;
	char *raw; /* the whole answer, NUL-terminated, owned; free with kv_http_resp_free */
	size_t raw_len;
	const char *head; /* inside raw: status line and headers */
	size_t head_len;
	const char *body; /* inside raw (de-chunked in place) */
	size_t body_len;
};

/*
 * Sends req to u with o and reads the whole answer into *resp (Content-Length
 * and chunked bodies). Returns 0 with *resp filled (any status: free it with
 * kv_http_resp_free), or with *resp empty: KV_EINVAL (TLS files do not load,
 * or the request does not fit), KV_EUNAVAIL (cannot connect), KV_ETIMEDOUT,
 * KV_EIO (the connection broke), KV_ETOOLARGE (over o->response_bytes_max),
 * KV_EPROTO (not a valid HTTP answer). why (why_cap bytes) then says why.
 */
int kv_http_request(const struct kv_url *u, const struct kv_http_opts *o,
                    const struct kv_http_req *req, struct kv_http_resp *resp, char *why,
                    size_t why_cap);

/*
 * Copies the value of header name (case-insensitive) into out (cap bytes).
 * Returns 0, or -1 when absent or too long.
 */
int kv_http_header(const struct kv_http_resp *resp, const char *name, char *out, size_t cap);

/* Frees what kv_http_request allocated; safe twice. */
void kv_http_resp_free(struct kv_http_resp *resp);

/*
 * Reads a bearer token from the first line of path into out (cap bytes).
 * Returns 0, or KV_EIO (cannot read) / KV_EINVAL (empty, too long, or a
 * control character): why says why, never with the token in it.
 */
int kv_http_token_read_file(const char *path, char *out, size_t cap, char *why, size_t why_cap);

#endif
