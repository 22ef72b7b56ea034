/*
 * gw_forward.c - a write that reaches a follower goes to the leader's
 * gateway over HTTP (h2o's http1client, keep-alive connections per peer)
 * with X-Raftkv-Forwarded: 1, and the leader's answer (status, headers,
 * body) is relayed to the client. While this node's raftd is silent, writes
 * and key GETs go to the other gateways in turn the same way. Loop thread only.
 *
 * If the connection cannot be made, or the other gateway answers that it
 * proposed nothing (X-Raftkv-Not-Proposed), nothing was applied and the
 * request waits and tries again within its deadline; if it fails after the
 * request was sent, the outcome is unknown: 504 with the request id.
 *
 * A peer given as https:// is reached over TLS: its certificate must chain
 * to --peer-ca and name the peer's host (or IP) as written in --gateways.
 * The client's Authorization header goes along, and the receiving gateway
 * checks the token itself: a forwarded request is never trusted for coming
 * from a gateway (X-Raftkv-Forwarded only stops a second hop).
 *
 * The request goes out as one buffer (head, and the body up to
 * GW_FWD_INLINE_BODY): h2o's TLS socket makes one TLS record per buffer
 * it is given, and each record costs both gateways OpenSSL's fixed per-record
 * work, more than encrypting a short body does.
 */
#include "gw.h"

#include "gw_errors.h"
#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_FWD_POOL_CAP     256u   /* connections per peer gateway */
#define GW_FWD_IDLE_MS      2000u  /* well under the peer's 10 s keep-alive */
#define GW_FWD_HEAD_MAX     2048u  /* our request head, without the path (<= 8 KiB) */
#define GW_FWD_HEADERS_MAX  16u    /* response headers relayed */
#define GW_FWD_HEADER_BYTES 4096u  /* their names and values */
#define GW_FWD_INLINE_BODY  16384u /* a body up to this goes in the head's buffer */

struct gw_forward {
	struct gw *gw;
	struct gw_call *call;
	h2o_http1client_t *client; /* NULL once h2o has freed it */
	h2o_iovec_t bufs[2];
	size_t n_bufs;
	char head1[64];
	char head2[GW_FWD_HEAD_MAX];
	char *wire; /* malloc'd: head1, the path, head2 and a short body, as sent */
	int status;
	uint32_t n_headers;
	struct {
		uint16_t name_off, name_len, value_off, value_len;
	} headers[GW_FWD_HEADERS_MAX];
	char header_bytes[GW_FWD_HEADER_BYTES];
	size_t header_used;
	char *body; /* malloc'd, at most max(max-value-bytes, GW_COORD_ANSWER_MAX) +
	               GW_FORWARD_BODY_MAX */
	size_t body_len;
};

static void forward_free(struct gw_forward **fp)
{
	if (*fp == NULL)
		return;
	free((*fp)->wire);
	free((*fp)->body);
	free(*fp);
	*fp = NULL;
}

/* Detaches and frees c's forward; h2o owns (and frees) the client from here. */
static void forward_detach(struct gw_call *c)
{
	c->fwd->client = NULL;
	forward_free(&c->fwd);
}

void gw_forward_cancel(struct gw *gw, struct gw_call *c)
{
	if (c->fwd == NULL)
		return;
	if (c->fwd->client != NULL)
		h2o_http1client_cancel(c->fwd->client);
	forward_free(&c->fwd);
}

/* Nothing was proposed: wait for a leader (perhaps another) within the deadline. */
static void forward_retry(struct gw *gw, struct gw_call *c, const char *why)
{
	KV_LOG_DEBUG(GW_SVC, "forward not taken; waiting for a leader", "err=\"%s\"", why);
	forward_detach(c);
	gw_status_refresh(gw);
	c->state = GW_CALL_WAIT_LEADER;
	c->retry_at_ms = kv_clock_mono_ms() + GW_POLL_MS;
}

/* The request's outcome is unknown: the leader may have applied it. */
static void forward_unknown(struct gw *gw, struct gw_call *c, const char *why)
{
	KV_LOG_WARN(GW_SVC, "forward failed after sending", "err=\"%s\" req_id=%llx", why,
	            (unsigned long long)c->req_id);
	forward_detach(c);
	struct gw_error_extra ex = {0};
	ex.request_id = c->req_id;
	gw_reply_error(gw, &c->http, 504, kv_err_code(KV_ETIMEDOUT),
	               c->op != 0
	                   ? "the leader's gateway did not answer; the write's outcome is unknown"
	                   : "the other gateway did not answer",
	               &ex);
	gw_pending_end(gw, c);
}

static int forward_keep_header(const h2o_iovec_t *name)
{
	static const char *const drop[] = {"connection", "content-length", "transfer-encoding",
	                                   "keep-alive", "date",           "server"};
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (h2o_memis(name->base, name->len, drop[i], strlen(drop[i])))
			return 0;
	return 1;
}

static void forward_relay(struct gw *gw, struct gw_call *c)
{
	struct gw_forward *f = c->fwd;
	h2o_req_t *req = c->http.req;
	req->res.status = f->status;
	req->res.reason = gw_errors_reason(f->status);
	for (uint32_t i = 0; i < f->n_headers; i++) {
		const char *b = f->header_bytes;
		h2o_iovec_t name =
		    h2o_strdup(&req->pool, b + f->headers[i].name_off, f->headers[i].name_len);
		h2o_iovec_t value =
		    h2o_strdup(&req->pool, b + f->headers[i].value_off, f->headers[i].value_len);
		h2o_add_header_by_str(&req->pool, &req->res.headers, name.base, name.len, 1, NULL,
		                      value.base, value.len);
	}
	gw_reply_count(gw, &c->http, f->status);
	c->http.req = NULL;
	req->res.content_length = f->body_len;
	h2o_send_inline(req, f->body != NULL ? f->body : "", f->body_len);
	forward_detach(c);
	gw_pending_end(gw, c);
}

static int forward_on_body(h2o_http1client_t *client, const char *errstr)
{
	struct gw_forward *f = client->data;
	struct gw_call *c = f->call;
	if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
		forward_unknown(f->gw, c, errstr);
		return -1;
	}
	h2o_buffer_t *in = client->sock->input;
	uint64_t cap = f->gw->cfg.max_value_bytes > GW_COORD_ANSWER_MAX ? f->gw->cfg.max_value_bytes
	                                                                : GW_COORD_ANSWER_MAX;
	if (f->body_len + in->size > cap + GW_FORWARD_BODY_MAX) {
		forward_unknown(f->gw, c, "the leader's answer is too large");
		return -1;
	}
	if (in->size > 0) {
		char *p = realloc(f->body, f->body_len + in->size);
		if (p == NULL) {
			forward_unknown(f->gw, c, "out of memory");
			return -1;
		}
		f->body = p;
		memcpy(f->body + f->body_len, in->bytes, in->size);
		f->body_len += in->size;
		h2o_buffer_consume(&client->sock->input, in->size);
	}
	if (errstr == h2o_http1client_error_is_eos)
		forward_relay(f->gw, c);
	return 0;
}

static void forward_keep(struct gw_forward *f, const h2o_header_t *h)
{
	size_t need = h->name->len + h->value.len;
	if (f->n_headers == GW_FWD_HEADERS_MAX || need > GW_FWD_HEADER_BYTES - f->header_used)
		return; /* our answers carry a handful; past that, extra ones are dropped */
	uint32_t i = f->n_headers++;
	f->headers[i].name_off = (uint16_t)f->header_used;
	f->headers[i].name_len = (uint16_t)h->name->len;
	memcpy(f->header_bytes + f->header_used, h->name->base, h->name->len);
	f->header_used += h->name->len;
	f->headers[i].value_off = (uint16_t)f->header_used;
	f->headers[i].value_len = (uint16_t)h->value.len;
	memcpy(f->header_bytes + f->header_used, h->value.base, h->value.len);
	f->header_used += h->value.len;
}

static int forward_not_proposed(const h2o_header_t *headers, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (h2o_memis(headers[i].name->base, headers[i].name->len,
		              H2O_STRLIT("x-raftkv-not-proposed")))
			return 1;
	return 0;
}

static h2o_http1client_body_cb forward_on_head(h2o_http1client_t *client, const char *errstr,
                                               int minor_version, int status, h2o_iovec_t msg,
                                               h2o_header_t *headers, size_t num_headers, int rlen)
{
	struct gw_forward *f = client->data;
	if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
		forward_unknown(f->gw, f->call, errstr);
		return NULL;
	}
	f->status = status;
	if (status == 503 && forward_not_proposed(headers, num_headers)) {
		forward_retry(f->gw, f->call, "the leader's gateway is not the leader");
		return NULL;
	}
	for (size_t i = 0; i < num_headers; i++)
		if (forward_keep_header(headers[i].name))
			forward_keep(f, &headers[i]);
	if (errstr == h2o_http1client_error_is_eos) {
		forward_relay(f->gw, f->call);
		return NULL;
	}
	return forward_on_body;
}

static h2o_http1client_head_cb forward_on_connect(h2o_http1client_t *client, const char *errstr,
                                                  h2o_iovec_t **reqbufs, size_t *reqbufcnt,
                                                  int *method_is_head)
{
	struct gw_forward *f = client->data;
	struct gw_call *c = f->call;
	if (errstr != NULL) {
		forward_retry(f->gw, c, errstr);
		return NULL;
	}
	*reqbufs = f->bufs;
	*reqbufcnt = f->n_bufs;
	*method_is_head = c->http.method == GW_M_HEAD;
	return forward_on_head;
}

/* Appends "name: value\r\n" for a request header that the leader needs. */
static int forward_copy_header(h2o_req_t *req, const char *name, char *out, size_t cap, size_t *len)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
	if (i < 0)
		return 0;
	const h2o_iovec_t *v = &req->headers.entries[i].value;
	int n = snprintf(out + *len, cap - *len, "%s: %.*s\r\n", name, (int)v->len, v->base);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/*
 * f->bufs: head1[0..n1) + path + head2[0..len) in one malloc'd buffer, with the
 * body in it too unless it is longer than GW_FWD_INLINE_BODY (then a
 * buffer of its own, the request's memory).
 */
static int forward_wire(struct gw_forward *f, size_t n1, h2o_iovec_t path, size_t len,
                        h2o_iovec_t body)
{
	size_t inline_body = body.len <= GW_FWD_INLINE_BODY ? body.len : 0;
	size_t total = n1 + path.len + len + inline_body;
	f->wire = malloc(total);
	if (f->wire == NULL)
		return KV_ENOMEM;
	char *p = f->wire;
	memcpy(p, f->head1, n1);
	p += n1;
	memcpy(p, path.base, path.len);
	p += path.len;
	memcpy(p, f->head2, len);
	p += len;
	if (inline_body > 0)
		memcpy(p, body.base, inline_body);
	f->bufs[0] = h2o_iovec_init(f->wire, total);
	f->n_bufs = 1;
	if (body.len > inline_body)
		f->bufs[f->n_bufs++] = body;
	return 0;
}

/* Builds the request: "METHOD " + raw path + the rest of the head, then the body. */
static int forward_build(struct gw_forward *f, struct gw_call *c, const struct gw_peer *peer)
{
	h2o_req_t *req = c->http.req;
	uint64_t left = gw_pending_left_ms(c);
	/* the leader answers (504) before we give up on it */
	uint64_t leader_ms = left > 100 ? left - 50 : (left > 1 ? left - 1 : 1);
	int n1 =
	    snprintf(f->head1, sizeof(f->head1), "%.*s ", (int)req->method.len, req->method.base);
	int n = snprintf(f->head2, sizeof(f->head2),
	                 " HTTP/1.1\r\nhost: %s:%u\r\ncontent-length: %zu\r\n"
	                 "x-raftkv-forwarded: 1\r\nx-raftkv-timeout-ms: %" PRIu64 "\r\n",
	                 peer->host, (unsigned)peer->port, req->entity.len, leader_ms);
	if (n1 < 0 || (size_t)n1 >= sizeof(f->head1) || n < 0 || (size_t)n >= sizeof(f->head2))
		return KV_ETOOLARGE;
	size_t len = (size_t)n;
	/* the ones the leader acts on, all short once validated (Content-Type is not one) */
	static const char *const pass[] = {"if-match", "if-none-match", "idempotency-key",
	                                   "authorization", "x-consul-token"};
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		if (forward_copy_header(req, pass[i], f->head2, sizeof(f->head2), &len) != 0)
			return KV_ETOOLARGE;
	/*
	 * A Consul API request: the leader's gateway routes it to its Consul table
	 * (gw_consul.h). Unmarked, it would be read as raftkv's PUT of the same path,
	 * which ignores ?cas= and ?flags=: a silently unconditional write.
	 */
	static const char consul[] = "x-raftkv-consul: 1\r\n";
#ifdef GW_BUG_CONSUL_FORWARD_UNMARKED
	int mark = 0; /* the planted bug of make gw-bugs (docs/testing.md) */
#else
	int mark = c->http.consul;
#endif
	if (mark) {
		if (len + sizeof(consul) - 1 >= sizeof(f->head2))
			return KV_ETOOLARGE;
		memcpy(f->head2 + len, consul, sizeof(consul) - 1);
		len += sizeof(consul) - 1;
	}
	if (len + 2 >= sizeof(f->head2))
		return KV_ETOOLARGE;
	memcpy(f->head2 + len, "\r\n", 2);
	len += 2;
	/* raw, as the client sent it; or the path the call names (GET /ui/status: /v1/status) */
	h2o_iovec_t path = c->fwd_path.len > 0 ? c->fwd_path : req->path;
	return forward_wire(f, (size_t)n1, path, len, req->entity);
}

int gw_forward_start(struct gw *gw, struct gw_call *c, const struct gw_peer *peer)
{
	KV_ASSERT(c->fwd == NULL && c->http.req != NULL);
	struct gw_forward *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return KV_ENOMEM;
	f->gw = gw;
	f->call = c;
	int err = forward_build(f, c, peer);
	if (err != 0) {
		forward_free(&f);
		return err;
	}
	c->fwd = f;
	h2o_http1client_connect_with_pool(&f->client, f, (h2o_http1client_ctx_t *)&peer->fwd_ctx,
	                                  (h2o_socketpool_t *)&peer->pool, forward_on_connect);
	return 0;
}

/* Parses "http://host:port" or "https://host:port" (an optional trailing '/') into p. */
static int forward_parse_url(const char *url, size_t len, struct gw_peer *p)
{
	p->https = len > 8 && memcmp(url, "https://", 8) == 0;
	const char *scheme = p->https ? "https://" : "http://";
	size_t sl = strlen(scheme);
	if (len >= GW_URL_BYTES_MAX || len <= sl || memcmp(url, scheme, sl) != 0)
		return KV_EINVAL;
	memcpy(p->url, url, len);
	p->url[len] = '\0';
	if (p->url[len - 1] == '/')
		p->url[--len] = '\0';
	const char *host = p->url + sl;
	const char *colon = strrchr(host, ':');
	if (colon == NULL || colon == host || (size_t)(colon - host) >= GW_ADDR_BYTES_MAX)
		return KV_EINVAL;
	uint64_t port = 0;
	if (gw_parse_u64(colon + 1, strlen(colon + 1), &port) != 0 || port == 0 || port > 65535)
		return KV_EINVAL;
	memcpy(p->host, host, (size_t)(colon - host));
	p->host[colon - host] = '\0';
	p->port = (uint16_t)port;
	return 0;
}

/* p's client context: gw->fwd_ctx, with a TLS context of its own for https://. */
static int forward_peer_tls(struct gw *gw, struct gw_peer *p)
{
	char why[512];
	p->fwd_ctx = gw->fwd_ctx;
	if (!p->https)
		return 0;
	if (gw->cfg.peer_ca[0] == '\0') {
		KV_LOG_ERROR(GW_SVC, "an https:// gateway needs --peer-ca to verify it", "url=%s",
		             p->url);
		return KV_EINVAL;
	}
	int err = gw_tls_client_new(gw->cfg.peer_ca, p->host, &p->tls, why, sizeof(why));
	if (err != 0) {
		KV_LOG_ERROR(GW_SVC, "cannot set up TLS to a peer gateway", "err=\"%s\"", why);
		return err;
	}
	p->fwd_ctx.ssl_ctx = p->tls;
	return 0;
}

/* Fills p (memory of gw->peers) for node id at url: parsed, TLS, a keep-alive pool. */
static int forward_peer_init(struct gw *gw, struct gw_peer *p, uint64_t id, const char *url,
                             size_t len, int learned)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->learned = learned;
	int err = forward_parse_url(url, len, p);
	if (err != 0)
		return err;
	err = forward_peer_tls(gw, p);
	if (err != 0)
		return err;
	struct sockaddr_in sin = {0};
	sin.sin_family = AF_INET;
	sin.sin_port = htons(p->port);
	if (inet_pton(AF_INET, p->host, &sin.sin_addr) == 1)
		h2o_socketpool_init_by_address(&p->pool, (struct sockaddr *)&sin, sizeof(sin),
		                               p->https, GW_FWD_POOL_CAP);
	else /* a name: h2o resolves it on its resolver threads, off the loop */
		h2o_socketpool_init_by_hostport(&p->pool, h2o_iovec_init(p->host, strlen(p->host)),
		                                p->port, p->https, GW_FWD_POOL_CAP);
	h2o_socketpool_set_timeout(&p->pool, gw->ctx.loop, GW_FWD_IDLE_MS);
	return 0;
}

int gw_forward_add_peer(struct gw *gw, uint64_t id, const char *url, size_t len, int learned)
{
	if (gw->n_peers == RAFT_NODES_MAX)
		return KV_ENOSPC;
	if (id == 0 || gw_status_peer(gw, id) != NULL)
		return KV_EINVAL;
	int err = forward_peer_init(gw, &gw->peers[gw->n_peers], id, url, len, learned);
	if (err == 0)
		gw->n_peers++;
	return err;
}

static void forward_peer_dispose(struct gw_peer *p)
{
	h2o_socketpool_dispose(&p->pool);
	SSL_CTX_free(p->tls);
	p->tls = NULL;
}

int gw_forward_replace_peer(struct gw *gw, struct gw_peer *p, uint64_t id, const char *url,
                            size_t len)
{
	KV_ASSERT(p >= gw->peers && p < gw->peers + gw->n_peers && p->learned);
	for (uint32_t i = 0; i < gw->pending.cap; i++)
		if (gw->pending.calls[i].req_id != 0 && gw->pending.calls[i].fwd != NULL)
			return KV_EBUSY; /* a connection of the pool may be in use */
	struct gw_peer next;
	memset(&next, 0, sizeof(next));
	if (id == 0 || (gw_status_peer(gw, id) != NULL && gw_status_peer(gw, id) != p) ||
	    forward_parse_url(url, len, &next) != 0)
		return KV_EINVAL;
	forward_peer_dispose(p);
	int err = forward_peer_init(gw, p, id, url, len, 1);
	if (err != 0) /* TLS failed after the URL parsed: the slot stays, unusable, until reused */
		p->id = 0;
	return err;
}

/* One "id=url" entry of --gateways. */
static int forward_parse_entry(struct gw *gw, const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	uint64_t id = 0;
	if (eq == NULL || gw_parse_u64(s, (size_t)(eq - s), &id) != 0)
		return KV_EINVAL;
	return gw_forward_add_peer(gw, id, eq + 1, len - (size_t)(eq + 1 - s), 0);
}

int gw_forward_init(struct gw *gw)
{
	h2o_timeout_init(gw->ctx.loop, &gw->fwd_io_timeout, KV_HTTP_TIMEOUT_MS_MAX);
	gw->fwd_ctx.loop = gw->ctx.loop;
	gw->fwd_ctx.getaddr_receiver = &gw->ctx.receivers.hostinfo_getaddr;
	gw->fwd_ctx.io_timeout = &gw->fwd_io_timeout;
	const char *s = gw->cfg.gateways != NULL ? gw->cfg.gateways : "";
	while (*s != '\0') {
		const char *end = strchr(s, ',');
		size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
		if (len > 0 && forward_parse_entry(gw, s, len) != 0) {
			KV_LOG_ERROR(GW_SVC, "bad --gateways entry", "entry=\"%.*s\"", (int)len, s);
			return KV_EINVAL;
		}
		s += len + (end != NULL);
	}
	return 0;
}

void gw_forward_dispose(struct gw *gw)
{
	for (uint32_t i = 0; i < gw->n_peers; i++)
		forward_peer_dispose(&gw->peers[i]);
	gw->n_peers = 0;
}
