/*
 * gw_write.c - the write path shared by PUT and DELETE: find the leader,
 * then propose to raftd (we are the leader, or raftd relays the PROPOSE to
 * the leader's raftd) or forward to the leader's gateway; wait for
 * storaged's RESULT; answer.
 *
 * A relayed write is sent again (over HTTP) only when raftd's answer says
 * nothing was appended (not leader, busy), exactly as a forward is retried
 * only when the other gateway proposed nothing; an unanswered one waits for
 * its RESULT or its deadline.
 *
 * Loop thread only. A write whose outcome is unknown at its deadline (it
 * was proposed or forwarded) is answered 504 with its request id, never as
 * failed (docs/testing.md F5); one that was never sent anywhere gets 503.
 */
#include "gw.h"
#include "gw_write.h"

#include "gw_errors.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define GW_WRITE_BODY_MAX 4096u
#ifdef GW_BUG_RELAY_RETRY_APPENDED
/* planted (make gw-bugs-relay): a relay unanswered this long is proposed again */
#define GW_BUG_RELAY_RETRY_MS 50u
#endif

static void write_route(struct gw *gw, struct gw_call *c);

static void write_wait_leader(struct gw *gw, struct gw_call *c)
{
	c->state = GW_CALL_WAIT_LEADER;
	c->retry_at_ms = kv_clock_mono_ms() + GW_TICK_MS;
}

static void write_finish_error(struct gw *gw, struct gw_call *c, int err, const char *msg)
{
	gw_reply_kv_error(gw, &c->http, err, msg, NULL);
	gw_pending_end(gw, c);
}

void gw_write_fail(struct gw *gw, struct gw_call *c, int err, const char *message)
{
	write_finish_error(gw, c, err, message);
}

/* storaged answers and is connected: the RESULT of this node's proposal will come. */
static int write_storaged_live(struct gw *gw)
{
	return gw->stats.valid && kv_clock_mono_ms() - gw->stats.at_ms <= GW_STORAGED_LOST_MS &&
	       gw_zmq_connected(gw, 0);
}

static void write_propose(struct gw *gw, struct gw_call *c)
{
	h2o_req_t *req = c->http.req;
	if (req == NULL) {
		gw_pending_end(gw, c); /* the client left before anything was proposed */
		return;
	}
	/* the map cannot grow (disk): refuse PUTs here; DELETEs go on, to dig out */
	int is_put = c->op == PROTO_KV_PUT || c->op == PROTO_KV_PUT_FLAGS;
	if (gw->stats.valid && gw->stats.msg.full &&
	    (is_put || c->op == PROTO_KV_TXN || c->op == PROTO_KV_LEASE_GRANT)) {
		write_finish_error(gw, c, KV_EFULL, NULL);
		return;
	}
	if (!write_storaged_live(gw)) {
		/* storaged is down: its RESULT would never come; leadership will move */
		write_wait_leader(gw, c);
		return;
	}
	struct proto_kv_cmd cmd = {0};
	cmd.op = c->op;
	cmd.origin = gw->cfg.node_id;
	cmd.req_id = gw_pending_next_id(gw, c);
	if (c->op == PROTO_KV_PUT || c->op == PROTO_KV_DELETE || c->op == PROTO_KV_PUT_FLAGS ||
	    c->op == PROTO_KV_DELETE_PREFIX)
		cmd.key = (struct proto_bytes){c->key.bytes, c->key.len};
	if (c->op == PROTO_KV_TXN)
		cmd.value = (struct proto_bytes){c->txn, c->txn_len};
	cmd.ttl_ms = c->ttl_ms;
	cmd.lease = c->lease;
	if (c->op == PROTO_KV_PUT && c->value.ptr != NULL)
		cmd.value = c->value;
	else if (is_put && req->entity.base != NULL)
		cmd.value = (struct proto_bytes){(const uint8_t *)req->entity.base,
		                                 (uint32_t)req->entity.len};
	cmd.flags = c->consul.flags; /* PUT_FLAGS only (a Consul PUT's ?flags=) */
	cmd.cond = c->cond;
	cmd.cond_index = c->cond_index;
	cmd.idem_key = (struct proto_bytes){c->idem, c->idem_len};
	proto_buf_reset(&gw->cmd);
	int err = proto_kv_cmd_encode(&cmd, &gw->cmd);
	if (err != 0) {
		write_finish_error(gw, c, err, NULL);
		return;
	}
	struct proto_local m = {.type = PROTO_PROPOSE, .req_id = c->req_id};
	m.u.propose.data = (struct proto_bytes){gw->cmd.ptr, (uint32_t)gw->cmd.len};
	if (gw_zmq_send(gw, 1, &m) != 0) {
		write_wait_leader(gw, c); /* raftd is down: nothing was proposed, try again */
		return;
	}
	c->state = GW_CALL_PROPOSED;
#ifdef GW_BUG_RELAY_RETRY_APPENDED
	if (c->relay == GW_RELAY_SENT)
		c->retry_at_ms = kv_clock_mono_ms() + GW_BUG_RELAY_RETRY_MS;
#endif
}

/*
 * Another node leads: this node's raftd can carry the write to it when
 * raftd answers, storaged is up (the RESULT comes from it), and no relay of
 * this call was refused already (then HTTP, which also reaches a leader this
 * raftd cannot). A forwarded request is answered where it arrived, as before.
 */
static int write_may_relay(struct gw *gw, const struct gw_call *c, uint64_t leader)
{
	return gw->cfg.relay_writes && leader != 0 && !c->forwarded && c->relay == GW_RELAY_NONE &&
	       gw_status_fresh(gw) && gw_zmq_connected(gw, 1) && write_storaged_live(gw);
}

static void write_route(struct gw *gw, struct gw_call *c)
{
	uint64_t leader = gw_status_leader(gw);
	if (leader != 0 && leader == gw->cfg.node_id) {
		write_propose(gw, c);
		return;
	}
	if (write_may_relay(gw, c, leader)) {
		c->relay = GW_RELAY_SENT;
		gw->metrics.relayed++;
		write_propose(gw, c);
		return;
	}
	if (c->forwarded) {
		/*
		 * Forwarded once already: a second hop could loop between stale views,
		 * and waiting here would eat the forwarder's deadline. Answer at once;
		 * the forwarder sees that nothing was proposed and looks again.
		 */
		gw_reply_no_leader(gw, &c->http, KV_ENOTLEADER);
		gw_pending_end(gw, c);
		return;
	}
	const struct gw_peer *peer = gw_status_peer(gw, leader);
	if (peer == NULL && !gw_status_fresh(gw))
		peer = gw_status_next_peer(gw, &c->hops); /* our raftd is silent: ask the others */
	if (peer == NULL) {
		write_wait_leader(gw, c);
		return;
	}
	/* set first: a failed connect may call back (to wait again) before this returns */
	c->state = GW_CALL_FORWARDING;
	gw->metrics.forwarded++;
	if (gw_forward_start(gw, c, peer) != 0)
		write_wait_leader(gw, c);
}

/* 200 {"key","create_index","mod_index"} (PUT) or {"key","mod_index"} (DELETE). */
static void write_success(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	struct gw_json j;
	gw_json_init(&j, GW_WRITE_BODY_MAX);
	int b64 = c->query.base64 || !gw_json_utf8_valid(c->key.bytes, c->key.len);
	gw_json_open(&j, '{');
	gw_json_key(&j, "key");
	if (b64)
		gw_json_base64(&j, c->key.bytes, c->key.len);
	else
		gw_json_str(&j, c->key.bytes, c->key.len);
	if (b64)
		gw_json_kv_str(&j, "encoding", "base64");
	if (c->op == PROTO_KV_PUT) {
		gw_json_kv_u64(&j, "create_index", m->create_index);
		gw_json_kv_u64(&j, "mod_index", m->mod_index);
		char etag[24];
		int n = snprintf(etag, sizeof(etag), "\"%" PRIu64 "\"", m->mod_index);
		gw_reply_header(c->http.req, "etag", etag, (size_t)n);
	} else {
		gw_json_kv_u64(&j, "mod_index", m->index);
	}
	gw_json_close(&j, '}');
	gw_json_raw(&j, "\n", 1);
	gw_reply_send(gw, &c->http, 200, "application/json", j.buf, j.len, m->index);
	gw_json_free(&j);
	gw_pending_end(gw, c);
}

static void write_on_result(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	if (c->on_result != NULL) {
		c->on_result(gw, c, m); /* another API's answer (Consul's true/false) */
		return;
	}
	if (c->op != PROTO_KV_PUT && c->op != PROTO_KV_DELETE) {
		gw_coord_on_result(gw, c, m);
		return;
	}
	switch (m->status) {
	case 0:
		if (c->on_written != NULL)
			c->on_written(gw, c, m);
		else
			write_success(gw, c, m);
		return;
	case KV_ENOTFOUND:
		if (c->on_written != NULL) { /* the seeds' deletes of a missing key succeed */
			c->on_written(gw, c, m);
			return;
		}
		write_finish_error(gw, c, m->status, NULL);
		return;
	case KV_ECONDITION:
		write_finish_error(
		    gw, c, KV_ECONDITION,
		    c->cond == PROTO_COND_IF_NONE_MATCH
		        ? "If-None-Match: * but the key exists"
		        : "If-Match: the key's mod_index differs (or it does not exist)");
		return;
	case KV_EFULL:
		write_finish_error(gw, c, KV_EFULL,
		                   "the write would grow the data past the quota; DELETEs and "
		                   "PUTs that do not grow a value still work");
		return;
	default:
		write_finish_error(gw, c, m->status, NULL);
	}
}

static void write_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	if (lm->type == PROTO_RESULT &&
	    (c->state == GW_CALL_PROPOSED || c->state == GW_CALL_COMMITTING)) {
		write_on_result(gw, c, &lm->u.result); /* RESULT may overtake PROPOSE_RESP */
		return;
	}
	if (lm->type != PROTO_PROPOSE_RESP || c->state != GW_CALL_PROPOSED)
		return;
	const struct proto_propose_resp *m = &lm->u.propose_resp;
	if (m->status == 0) {
		c->state = GW_CALL_COMMITTING;
		return;
	}
	if (c->relay == GW_RELAY_SENT)
		c->relay = GW_RELAY_REFUSED; /* nothing appended; see write_may_relay */
	if (m->status == KV_ENOTLEADER || m->status == KV_ENOLEADER) {
		/* nothing was appended: safe to send elsewhere once we know the leader */
		gw->status.msg.leader_id = m->leader_id != gw->cfg.node_id ? m->leader_id : 0;
		gw_status_refresh(gw);
		write_route(gw, c);
		return;
	}
	if (m->status == KV_EBUSY) {
		/* a leadership transfer is under way or the leader's log is full:
		 * nothing was appended; try again next tick, 503 at the deadline */
		write_wait_leader(gw, c);
		return;
	}
	write_finish_error(gw, c, m->status, NULL);
}

static void write_on_retry(struct gw *gw, struct gw_call *c)
{
	if (c->state == GW_CALL_WAIT_LEADER)
		write_route(gw, c);
#ifdef GW_BUG_RELAY_RETRY_APPENDED
	if (c->state == GW_CALL_PROPOSED && c->relay == GW_RELAY_SENT)
		write_propose(gw, c); /* planted: the first may have been appended */
#endif
}

static void write_on_deadline(struct gw *gw, struct gw_call *c)
{
	if (c->state == GW_CALL_WAIT_LEADER) {
		gw_reply_no_leader(gw, &c->http, KV_ENOLEADER);
		gw_pending_end(gw, c);
		return;
	}
	struct gw_error_extra ex = {0};
	ex.request_id = c->req_id;
	gw_reply_error(gw, &c->http, 504, kv_err_code(KV_ETIMEDOUT),
	               "the deadline passed before the write's outcome was known; retry with the "
	               "same Idempotency-Key to learn it",
	               &ex);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops write_ops = {write_on_msg, write_on_retry, write_on_deadline};

static void write_start(struct gw *gw, struct gw_call *c)
{
	c->ops = &write_ops;
	write_route(gw, c);
}

/* A header's value, or NULL. */
static const h2o_iovec_t *write_header(h2o_req_t *req, const char *name)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
	return i < 0 ? NULL : &req->headers.entries[i].value;
}

static int write_bad_header(struct gw *gw, struct gw_call *c, int err, const char *name,
                            const char *msg, uint64_t limit)
{
	struct gw_error_extra ex = {0};
	ex.param = name;
	ex.has_limit = limit != 0;
	ex.limit = limit;
	gw_reply_error(gw, &c->http, 400, kv_err_code(err), msg, &ex);
	gw_pending_end(gw, c);
	return -1;
}

/* Parses If-Match / If-None-Match / Idempotency-Key into c; 0, or -1 after answering 400. */
static int write_headers(struct gw *gw, h2o_req_t *req, struct gw_call *c)
{
	const h2o_iovec_t *im = write_header(req, "if-match");
	const h2o_iovec_t *inm = write_header(req, "if-none-match");
	const h2o_iovec_t *idem = write_header(req, "idempotency-key");
	if (im != NULL && inm != NULL)
		return write_bad_header(gw, c, KV_EINVAL, "If-Match",
		                        "If-Match and If-None-Match together", 0);
	if (im != NULL) {
		if (gw_parse_if_match(im->base, im->len, &c->cond_index) != 0)
			return write_bad_header(gw, c, KV_EINVAL, "If-Match",
			                        "If-Match must be a quoted mod_index: \"<n>\"", 0);
		c->cond = PROTO_COND_IF_MATCH;
	}
	if (inm != NULL) {
		if (c->op != PROTO_KV_PUT || gw_parse_if_none_match(inm->base, inm->len) != 0)
			return write_bad_header(gw, c, KV_EINVAL, "If-None-Match",
			                        "If-None-Match: * is the only form, on PUT", 0);
		c->cond = PROTO_COND_IF_NONE_MATCH;
	}
	if (idem != NULL) {
		int err = gw_parse_idempotency_key(idem->base, idem->len);
		if (err != 0)
			return write_bad_header(gw, c, err, "Idempotency-Key",
			                        "Idempotency-Key must be 1 to 128 bytes",
			                        KV_IDEMPOTENCY_KEY_BYTES_MAX);
		memcpy(c->idem, idem->base, idem->len);
		c->idem_len = (uint8_t)idem->len;
	}
	c->forwarded = write_header(req, "x-raftkv-forwarded") != NULL;
	return 0;
}

struct gw_call *gw_write_prepare(struct gw_req *r, uint8_t op)
{
	struct gw_call *c = gw_pending_start(r, NULL, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return NULL;
	}
	c->op = op;
	if (write_headers(r->gw, r->http.req, c) != 0)
		return NULL;
	return c;
}

void gw_write_go(struct gw *gw, struct gw_call *c)
{
	write_start(gw, c);
}

void gw_write_begin(struct gw_req *r, uint8_t op)
{
	struct gw_call *c = gw_write_prepare(r, op);
	if (c != NULL)
		write_start(r->gw, c);
}

struct gw_call *gw_write_prepare_cond(struct gw_req *r, uint8_t op, uint8_t cond,
                                      uint64_t cond_index,
                                      void (*on_result)(struct gw *gw, struct gw_call *c,
                                                        const struct proto_result *m))
{
	struct gw_call *c = gw_pending_start(r, NULL, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return NULL;
	}
	c->op = op;
	c->cond = cond;
	c->cond_index = cond_index;
	c->on_result = on_result;
	c->forwarded = write_header(r->http.req, "x-raftkv-forwarded") != NULL;
	return c;
}

void gw_write_begin_cond(struct gw_req *r, uint8_t op, uint8_t cond, uint64_t cond_index,
                         void (*on_result)(struct gw *gw, struct gw_call *c,
                                           const struct proto_result *m))
{
	struct gw_call *c = gw_write_prepare_cond(r, op, cond, cond_index, on_result);
	if (c != NULL)
		write_start(r->gw, c);
}

void gw_write_begin_kv(struct gw_req *r, uint8_t op, const struct gw_key *key,
                       struct proto_bytes value,
                       void (*on_written)(struct gw *gw, struct gw_call *c,
                                          const struct proto_result *m))
{
	struct gw_call *c = gw_pending_start(r, NULL, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->op = op;
	c->key = *key;
	c->value = value;
	c->on_written = on_written;
	if (write_headers(r->gw, r->http.req, c) != 0)
		return;
	write_start(r->gw, c);
}
