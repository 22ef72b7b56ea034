/*
 * ctl_http.c - raftkvctl's HTTP client: one request per connection
 * (Connection: close), the answer read whole (at most
 * CTL_RESPONSE_BYTES_MAX), Content-Length and chunked bodies understood, and
 * failover from one endpoint to the next.
 */
#include "ctl_http.h"

#include "ctl_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Reads until the server closes; NULL if it sent nothing or too much. */
static char *http_read_all(struct ctl_conn *c, size_t *len_out)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	while (buf != NULL) {
		if (len == cap) {
			char *bigger =
			    cap < CTL_RESPONSE_BYTES_MAX ? realloc(buf, cap * 2 + 1) : NULL;
			if (bigger == NULL) {
				fprintf(stderr, "raftkvctl: the answer is over %u bytes\n",
				        CTL_RESPONSE_BYTES_MAX);
				goto out_free;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = ctl_conn_read(c, buf + len, cap - len);
		if (r < 0)
			goto out_free;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (buf == NULL || len == 0)
		goto out_free;
	buf[len] = '\0';
	*len_out = len;
	return buf;
out_free:
	free(buf);
	return NULL;
}

/* Decodes a chunked body in place; -1 if malformed or cut short. */
static int http_dechunk(struct ctl_http_resp *r)
{
	char *src = (char *)r->body, *end = src + r->body_len, *dst = src;
	for (;;) {
		char *stop;
		unsigned long size = strtoul(src, &stop, 16);
		char *line_end = memchr(src, '\n', (size_t)(end - src));
		if (stop == src || line_end == NULL || size > (size_t)(end - line_end - 1))
			return -1;
		src = line_end + 1;
		if (size == 0)
			break;
		memmove(dst, src, size);
		dst += size;
		src += size;
		if (end - src < 2 || src[0] != '\r' || src[1] != '\n')
			return -1;
		src += 2;
	}
	r->body_len = (size_t)(dst - r->body);
	return 0;
}

/* Splits raw into status, head and body. Returns 0 or -1 for no valid HTTP answer. */
static int http_parse(struct ctl_http_resp *r)
{
	char *sep = strstr(r->raw, "\r\n\r\n");
	if (sep == NULL || sscanf(r->raw, "HTTP/1.%*d %d", &r->status) != 1)
		return -1;
	r->head = r->raw;
	r->head_len = (size_t)(sep + 2 - r->raw);
	r->body = sep + 4;
	r->body_len = r->raw_len - (size_t)(r->body - r->raw);
	char value[32];
	if (ctl_http_header(r, "transfer-encoding", value, sizeof(value)) == 0 &&
	    strcasecmp(value, "chunked") == 0)
		return http_dechunk(r);
	if (ctl_http_header(r, "content-length", value, sizeof(value)) == 0) {
		unsigned long long want = strtoull(value, NULL, 10);
		if (want > r->body_len)
			return -1; /* cut short */
		r->body_len = (size_t)want;
	}
	return 0;
}

static int http_send(struct ctl_conn *c, const struct ctl_ctx *ctx, const struct ctl_endpoint *ep,
                     const struct ctl_http_req *req)
{
	char head[CTL_PATH_BYTES_MAX + CTL_TOKEN_BYTES_MAX + 1024];
	int n = snprintf(head, sizeof(head),
	                 "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
	                 "User-Agent: raftkvctl\r\nContent-Length: %zu\r\n%s%s%s%s\r\n",
	                 req->method, req->path, ep->host, ep->port, req->body_len,
	                 ctx->token[0] ? "Authorization: Bearer " : "", ctx->token,
	                 ctx->token[0] ? "\r\n" : "", req->headers ? req->headers : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (ctl_conn_write_all(c, head, (size_t)n) != 0)
		return -1;
	return req->body_len == 0 ? 0 : ctl_conn_write_all(c, req->body, req->body_len);
}

/* One attempt at one endpoint: CTL_HTTP_ANSWERED, CTL_HTTP_UNREACHABLE or CTL_HTTP_BAD_CONFIG. */
static int http_try(const struct ctl_ctx *ctx, const struct ctl_endpoint *ep,
                    const struct ctl_http_req *req, struct ctl_http_resp *resp)
{
	struct ctl_conn c;
	int rc = ctl_conn_open(ctx, ep, &c);
	if (rc != CTL_CONN_OK)
		return rc == CTL_CONN_BAD_CONFIG ? CTL_HTTP_BAD_CONFIG : CTL_HTTP_UNREACHABLE;
	*resp = (struct ctl_http_resp){.endpoint = ep};
	rc = CTL_HTTP_UNREACHABLE;
	if (http_send(&c, ctx, ep, req) != 0) {
		fprintf(stderr, "raftkvctl: %s:%s: sending failed\n", ep->host, ep->port);
		goto out_close;
	}
	resp->raw = http_read_all(&c, &resp->raw_len);
	if (resp->raw == NULL || http_parse(resp) != 0) {
		fprintf(stderr, "raftkvctl: %s:%s: no valid HTTP answer\n", ep->host, ep->port);
		ctl_http_resp_free(resp);
		goto out_close;
	}
	rc = CTL_HTTP_ANSWERED;
out_close:
	ctl_conn_close(&c);
	return rc;
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
	size_t nlen = strlen(name);
	const char *p = memchr(resp->head, '\n', resp->head_len); /* skip the status line */
	const char *end = resp->head + resp->head_len;
	while (p != NULL && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1, *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
				ve--;
			if ((size_t)(ve - v) >= cap)
				return -1;
			memcpy(out, v, (size_t)(ve - v));
			out[ve - v] = '\0';
			return 0;
		}
		p = eol;
	}
	return -1;
}

void ctl_http_resp_free(struct ctl_http_resp *resp)
{
	free(resp->raw);
	resp->raw = NULL;
	resp->raw_len = 0;
}
