/*
 * gw_consul_reply.c - what Consul's API answers beyond raftkv's own: the
 * X-Consul-* headers on every answer (gw_reply.c adds them when a request
 * came in as Consul's), bare JSON values, the empty 404, the 501 naming
 * what is not served, and true/false for a write. Loop thread only.
 *
 * X-Consul-Index is the Raft index the answer reflects (the applied index
 * of a read, the log index of a write; never 0, as Consul's clients expect).
 * X-Consul-KnownLeader says whether this node knows a leader; and
 * X-Consul-LastContact is how many milliseconds old this gateway's view of
 * its node's Raft status is (0 on the leader), which bounds how stale a
 * ?stale read may be.
 */
#include "gw.h"
#include "gw_consul.h"

#include "gw_errors.h"
#include "gw_write.h"
#include "kv_clock.h"
#include "kv_err.h"

#include <inttypes.h>
#include <stdio.h>

void gw_consul_reply_headers(struct gw *gw, h2o_req_t *req, uint64_t index)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, index != 0 ? index : 1);
	gw_reply_header(req, "x-consul-index", num, (size_t)n);
	uint64_t leader = gw_status_leader(gw);
	if (leader != 0)
		gw_reply_header(req, "x-consul-knownleader", "true", 4);
	else
		gw_reply_header(req, "x-consul-knownleader", "false", 5);
	uint64_t age = 0;
	if (leader != gw->cfg.node_id && gw->status.valid)
		age = kv_clock_mono_ms() - gw->status.at_ms;
	n = snprintf(num, sizeof(num), "%" PRIu64, age);
	gw_reply_header(req, "x-consul-lastcontact", num, (size_t)n);
}

void gw_consul_reply_json(struct gw *gw, struct gw_http *h, const char *text, size_t len,
                          uint64_t index)
{
	gw_reply_send(gw, h, 200, "application/json", text, len, index);
}

void gw_consul_reply_absent(struct gw *gw, struct gw_http *h, uint64_t index)
{
	gw_reply_send(gw, h, 404, NULL, "", 0, index);
}

void gw_consul_reply_missing(struct gw *gw, struct gw_http *h, const char *missing)
{
	gw_reply_error(gw, h, 501, "not_implemented", missing, NULL);
}

/* The outcomes that are Consul's true or false; -1 for those that are errors. */
static int consul_write_verdict(const struct gw_call *c, const struct proto_result *m)
{
	switch (m->status) {
	case 0:
		return 1;
	case KV_ENOTFOUND: /* Consul's delete of a key (or tree) that is not there */
		return c->op == PROTO_KV_DELETE || c->op == PROTO_KV_DELETE_PREFIX ? 1 : -1;
	case KV_ECONDITION:
		/* ?cas on DELETE: a key that is gone already counts as deleted, as in Consul */
		return c->op == PROTO_KV_DELETE && m->mod_index == 0;
	default:
		return -1;
	}
}

void gw_consul_reply_write(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	int verdict = consul_write_verdict(c, m);
	if (verdict == 1) {
		gw_consul_reply_json(gw, &c->http, "true", 4, m->index);
	} else if (verdict == 0) {
		gw_consul_reply_json(gw, &c->http, "false", 5, m->index);
	} else if (m->status == KV_ETOOLARGE &&
	           (c->op == PROTO_KV_DELETE_PREFIX || c->op == PROTO_KV_TXN)) {
		/* a TXN from this API is the delete of every key (gw_consul_kv_delete.c) */
		struct gw_error_extra ex = {.limit = KV_DELETE_PREFIX_KEYS_MAX, .has_limit = 1};
		gw_reply_kv_error(
		    gw, &c->http, KV_ETOOLARGE,
		    "more keys are under the prefix (the empty prefix: in the whole store) "
		    "than a recursive delete removes at once; nothing was deleted: delete "
		    "them in parts, one narrower prefix at a time",
		    &ex);
	} else {
		gw_write_fail(gw, c, m->status, NULL);
		return;
	}
	gw_pending_end(gw, c);
}
