/*
 * gw_watch_query.c - one read of this node's watch history through storaged
 * (WATCH, answered on a change or when its wait runs out), behind a read
 * index on a run's first query. Reusable by any handler that waits for
 * changes (gw_watch.h). Loop thread only.
 */
#include "gw.h"
#include "gw_read.h"
#include "gw_watch.h"

#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"

#include <string.h>

/* Hands b to the run's callback; c is idle until the caller queries again or ends it. */
static void wq_finish(struct gw *gw, struct gw_call *c, const struct gw_watch_batch *b)
{
	struct gw_watch_run *run = c->ctx;
	KV_ASSERT(run != NULL);
	c->state = GW_CALL_WAIT_LEADER; /* idle: no message is expected */
	c->retry_at_ms = 0;
	c->deadline_ms = UINT64_MAX;
	run->done(gw, c, run, b);
}

/* c->send_query: the WATCH itself (after the read index on a run's first query). */
static int wq_send(struct gw *gw, struct gw_call *c)
{
	struct gw_watch_run *run = c->ctx;
	struct proto_local m = {.type = PROTO_WATCH};
	struct proto_watch *w = &m.u.watch;
	if (!run->anchored && run->from_index == 0)
		run->from_index = c->read_index + 1;
	w->match = (struct proto_bytes){run->match.bytes, run->match.len};
	w->prefix = run->prefix;
	w->from_index = run->from_index;
	w->limit = run->limit;
	w->min_index = run->anchored ? 0 : c->read_index;
	w->wait_ms = run->wait_ms > GW_WATCH_POLL_MS_MAX ? GW_WATCH_POLL_MS_MAX : run->wait_ms;
	w->at_once = run->at_once;
	run->anchored = 1;
	m.req_id = gw_pending_next_id(gw, c);
	c->state = GW_CALL_QUERY;
	c->deadline_ms = kv_clock_mono_ms() + w->wait_ms + GW_WATCH_SLACK_MS;
	return gw_read_send(gw, &m);
}

static void wq_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	if (gw_read_on_msg(gw, c, lm) || lm->type != PROTO_WATCH_RESP || c->state != GW_CALL_QUERY)
		return;
	const struct proto_watch_resp *m = &lm->u.watch_resp;
	struct gw_watch_batch b = {.status = m->status,
	                           .items = m->items,
	                           .n_items = m->status == 0 ? m->n_items : 0,
	                           .next_index = m->next_index,
	                           .oldest_index = m->oldest_index,
	                           .applied_index = m->applied_index};
	/* storaged answers in order, never below where it was asked to start */
	const struct gw_watch_run *run = c->ctx;
	if (b.status == 0 && (b.next_index < run->from_index ||
	                      (b.n_items > 0 && b.items[0].mod_index < run->from_index)))
		b.status = KV_EPROTO;
	wq_finish(gw, c, &b);
}

static void wq_on_deadline(struct gw *gw, struct gw_call *c)
{
	struct gw_watch_batch b = {0};
	if (c->state == GW_CALL_QUERY)
		b.status = KV_ETIMEDOUT;
	else
		b.status = gw_status_leader(gw) == 0 ? KV_ENOLEADER : KV_EUNAVAIL;
	wq_finish(gw, c, &b);
}

const struct gw_call_ops gw_watch_query_ops = {wq_on_msg, gw_read_on_retry, wq_on_deadline};

void gw_watch_query(struct gw *gw, struct gw_call *c, struct gw_watch_run *run)
{
	KV_ASSERT(c->ops == &gw_watch_query_ops && run->done != NULL);
	KV_ASSERT(run->limit >= 1 && run->limit <= PROTO_WATCH_LIMIT_MAX);
	c->ctx = run;
	c->send_query = wq_send;
	if (!run->anchored) {
		/* the starting point is a linearizable read's: ask for a read index first */
		c->query.consistency = GW_LINEARIZABLE;
		c->peer_may_serve = 0;
		gw_read_start(gw, c);
		return;
	}
	if (wq_send(gw, c) != 0) {
		struct gw_watch_batch b = {.status = KV_EUNAVAIL};
		wq_finish(gw, c, &b);
	}
}
