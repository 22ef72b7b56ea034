/*
 * kv_http_client.c - one HTTP/1.1 request per connection (Connection:
 * close), the answer read whole up to a limit, Content-Length and chunked
 * bodies understood. Runs on the caller's thread, blocking.
 */
#include "kv_http_client.h"

#include "kv_clock.h"
#include "kv_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Reads until the server closes. 0 with *out (NUL-terminated), or a KV_E* code. */
static int http_read_all(struct kv_http_conn *c, size_t max, char **out, size_t *len_out)
{
	size_t cap = max < 65536 ? max : 65536, len = 0;
	char *buf = malloc(cap + 1);
	if (buf == NULL)
		return KV_ENOMEM;
	int rc = 0;
	for (;;) {
		if (len == cap) {
			size_t bigger_cap = cap * 2 < max ? cap * 2 : max;
			char *bigger = cap < max ? realloc(buf, bigger_cap + 1) : NULL;
			if (bigger == NULL) {
				rc = cap < max ? KV_ENOMEM : KV_ETOOLARGE;
				snprintf(c->why, sizeof(c->why), "the answer is over %zu bytes",
				         max);
				goto out_free;
			}
			buf = bigger;
			cap = bigger_cap;
		}
		ssize_t r = kv_http_conn_read(c, buf + len, cap - len);
		if (r < 0) {
			rc = (int)r;
			goto out_free;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	*len_out = len;
	return 0;
out_free:
	free(buf);
	return rc;
}

/* Decodes a chunked body in place; -1 if malformed or cut short. */
static int http_dechunk(struct kv_http_resp *r)
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
	dst[0] = '\0'; /* inside raw: the body reads as a string too */
	return 0;
}

/* Splits raw into status, head and body. Returns 0 or -1 for no valid HTTP answer. */
static int http_parse(struct kv_http_resp *r)
{
	char *sep = strstr(r->raw, "\r\n\r\n");
	if (sep == NULL || sscanf(r->raw, "HTTP/1.%*d %d", &r->status) != 1 || r->status < 100 ||
	    r->status > 999)
		return -1;
	r->head = r->raw;
	r->head_len = (size_t)(sep + 2 - r->raw);
	r->body = sep + 4;
	r->body_len = r->raw_len - (size_t)(r->body - r->raw);
	char value[32];
	if (kv_http_header(r, "transfer-encoding", value, sizeof(value)) == 0 &&
	    strcasecmp(value, "chunked") == 0)
		return http_dechunk(r);
	if (kv_http_header(r, "content-length", value, sizeof(value)) == 0) {
		char *stop;
		errno = 0;
		unsigned long long want = strtoull(value, &stop, 10);
		if (errno != 0 || stop == value || *stop != '\0' || want > r->body_len)
			return -1; /* malformed or cut short */
		r->body_len = (size_t)want;
		((char *)r->body)[want] = '\0';
	}
	return 0;
}

static int http_send(struct kv_http_conn *c, const struct kv_url *u, const struct kv_http_opts *o,
                     const struct kv_http_req *req)
{
	char head[KV_HTTP_PATH_BYTES_MAX + KV_HTTP_TOKEN_BYTES_MAX + 1024];
	int bearer = o->token != NULL && o->token[0] != '\0';
	int v6 = strchr(u->host, ':') != NULL;
	int n = snprintf(
	    head, sizeof(head),
	    "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nConnection: close\r\n"
	    "User-Agent: %s\r\nContent-Length: %zu\r\n%s%s%s%s%s%s%s\r\n",
	    req->method, req->path, v6 ? "[" : "", u->host, v6 ? "]" : "", u->port,
	    o->user_agent ? o->user_agent : "raftkv", req->body_len,
	    req->content_type ? "Content-Type: " : "", req->content_type ? req->content_type : "",
	    req->content_type ? "\r\n" : "", bearer ? "Authorization: Bearer " : "",
	    bearer ? o->token : "", bearer ? "\r\n" : "", req->headers ? req->headers : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		snprintf(c->why, sizeof(c->why), "the request's head is over %zu bytes",
		         sizeof(head));
		return KV_EINVAL;
	}
	int rc = kv_http_conn_write_all(c, head, (size_t)n);
	if (rc == 0 && req->body_len > 0)
		rc = kv_http_conn_write_all(c, req->body, req->body_len);
	return rc;
}

int kv_http_request(const struct kv_url *u, const struct kv_http_opts *o,
                    const struct kv_http_req *req, struct kv_http_resp *resp, char *why,
                    size_t why_cap)
{
	struct kv_http_conn c;
	size_t max = o->response_bytes_max;
	if (max == 0 || max > KV_HTTP_RESPONSE_BYTES_MAX)
		max = KV_HTTP_RESPONSE_BYTES_MAX;
	uint64_t deadline = o->total_ms > 0 ? kv_clock_mono_ms() + (uint64_t)o->total_ms : 0;
	*resp = (struct kv_http_resp){0};
	int rc = kv_http_conn_open(u, &o->tls, o->step_ms, deadline, &c);
	if (rc == 0)
		rc = http_send(&c, u, o, req);
	if (rc == 0)
		rc = http_read_all(&c, max, &resp->raw, &resp->raw_len);
	if (rc == 0 && (resp->raw_len == 0 || http_parse(resp) != 0)) {
		snprintf(c.why, sizeof(c.why), "no valid HTTP answer");
		kv_http_resp_free(resp);
		rc = KV_EPROTO;
	}
	if (rc != 0 && why_cap > 0)
		snprintf(why, why_cap, "%s:%s: %s", u->host, u->port, c.why);
	kv_http_conn_close(&c);
	return rc;
}

int kv_http_header(const struct kv_http_resp *resp, const char *name, char *out, size_t cap)
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

void kv_http_resp_free(struct kv_http_resp *resp)
{
	free(resp->raw);
	*resp = (struct kv_http_resp){0};
}

int kv_http_token_read_file(const char *path, char *out, size_t cap, char *why, size_t why_cap)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		snprintf(why, why_cap, "cannot open %s: %s", path, strerror(errno));
		return KV_EIO;
	}
	int ok = fgets(out, (int)cap, f) != NULL;
	fclose(f);
	if (!ok) {
		out[0] = '\0';
		snprintf(why, why_cap, "no token in %s", path);
		return KV_EINVAL;
	}
	size_t len = strcspn(out, "\r\n");
	int whole_line = out[len] != '\0' || len + 1 < cap;
	out[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			whole_line = 0;
	}
	if (len == 0 || !whole_line) {
		out[0] = '\0';
		snprintf(why, why_cap,
		         "no usable token in %s (empty, over %zu bytes, or a control "
		         "character)",
		         path, cap - 1);
		return KV_EINVAL;
	}
	return 0;
}
