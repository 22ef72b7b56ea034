/*
 * gw_consul_block.c - Consul's blocking queries: GET /v1/kv/{key}?index=N
 * (&wait=D) answers once the key (with ?recurse or ?keys: anything under
 * the prefix) has changed past index N, or when D runs out, with what the
 * same GET without ?index= answers then (its X-Consul-Index is the next N).
 *
 * Built on the watch history (gw_watch.h): one WATCH of the key or prefix
 * from N + 1 that storaged answers on the first change or at the end of the
 * wait, behind a read index as a linearizable read, so a change that a read
 * after the request would see always wakes it. A history trimmed past N
 * (KV_ECOMPACTED) answers at once: the client's index is too old to wait
 * on, as when Consul's index has moved on. Loop thread only.
 */
#include "gw.h"
#include "gw_consul.h"
#include "gw_consul_entry.h"
#include "gw_read.h"
#include "gw_watch.h"

#include "kv_clock.h"
#include "kv_err.h"

#include <string.h>

/* Lives in the request's pool: the call never touches it once the client is gone. */
struct gw_consul_block_run {
	struct gw_watch_run run; /* first: the call's ctx points here */
	uint64_t timeout_ms;     /* the read's deadline once the wait is over */
};

/* The wait is over: the same read as without ?index=, with its own deadline. */
static void block_on_batch(struct gw *gw, struct gw_call *c, struct gw_watch_run *run,
                           const struct gw_watch_batch *b)
{
	const struct gw_consul_block_run *br = (const struct gw_consul_block_run *)run;
	if (c->http.req == NULL) {
		gw_pending_end(gw, c); /* the client went away */
		return;
	}
	if (b->status != 0 && b->status != KV_ECOMPACTED && b->status != KV_ETIMEDOUT) {
		c->http.raft_index = b->applied_index;
		gw_read_fail(gw, c, b->status);
		return;
	}
	c->deadline_ms = kv_clock_mono_ms() + br->timeout_ms;
	c->retry_at_ms = 0;
	c->read_index = 0;
	c->ctx = NULL;
	if (c->consul.read == GW_CONSUL_READ_RECURSE || c->consul.read == GW_CONSUL_READ_KEYS)
		gw_consul_kv_list_read(gw, c);
	else
		gw_consul_kv_get_read(gw, c);
}

void gw_consul_block(struct gw_req *r)
{
	int list =
	    r->consul.read == GW_CONSUL_READ_RECURSE || r->consul.read == GW_CONSUL_READ_KEYS;
	if (!list && r->key.len == 0) {
		gw_reply_error(r->gw, &r->http, 400, "invalid_key",
		               "the key is empty (only ?recurse and ?keys take the empty prefix)",
		               NULL);
		return;
	}
	struct gw_call *c = gw_pending_start(r, &gw_watch_query_ops, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	struct gw_consul_block_run *br = h2o_mem_alloc_pool(&r->http.req->pool, sizeof(*br));
	memset(br, 0, sizeof(*br));
	br->timeout_ms = r->query.timeout_ms;
	br->run.match = r->key;
	br->run.prefix = (uint8_t)list;
	br->run.from_index = r->consul.index + 1;
	br->run.limit = 1; /* one change is enough to answer */
	br->run.wait_ms = r->consul.wait_ms;
	br->run.at_once = 0;
	br->run.done = block_on_batch;
	gw_watch_query(r->gw, c, &br->run);
}
