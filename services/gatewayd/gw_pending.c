/*
 * gw_pending.c - the bounded table of requests waiting on raftd, storaged or
 * the leader's gateway, with their request ids and deadlines.
 *
 * Runs on the loop thread. A request id is (counter << 16 | slot): the
 * counter starts at a random value and moves on every message, so ids are
 * unique across restarts in practice, a reply finds its slot in O(1), and a
 * late or duplicated reply to an earlier message of the same slot no longer
 * matches and is dropped.
 */
#include "gw.h"

#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define GW_SLOT_BITS 16u
#define GW_SLOT_MASK ((1u << GW_SLOT_BITS) - 1u)

/* Lives in req->pool: its dispose callback tells the call that the request is gone. */
struct gw_call_link {
	struct gw *gw;
	struct gw_call *call;
};

int gw_pending_init(struct gw_pending *p, uint32_t cap)
{
	KV_ASSERT(cap >= 1 && cap < GW_SLOT_MASK);
	memset(p, 0, sizeof(*p));
	p->calls = calloc(cap, sizeof(*p->calls));
	if (p->calls == NULL)
		return KV_ENOMEM;
	p->cap = cap;
	for (uint32_t i = 0; i < cap; i++)
		p->calls[i].next_free = i + 1;
	p->free_head = 0;
	uint32_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint32_t)kv_clock_mono_us();
	p->counter = (uint64_t)seed + 1;
	return 0;
}

void gw_pending_free(struct gw_pending *p)
{
	free(p->calls);
	p->calls = NULL;
	p->cap = 0;
}

static void pending_on_dispose(void *arg)
{
	struct gw_call_link *link = arg;
	struct gw_call *c = link->call;
	if (c == NULL)
		return;
	c->http.req = NULL;
	c->link = NULL;
	link->call = NULL;
	if (c->fwd != NULL)
		gw_forward_cancel(link->gw, c);
}

uint64_t gw_pending_next_id(struct gw *gw, struct gw_call *c)
{
	struct gw_pending *p = &gw->pending;
	uint32_t slot = (uint32_t)(c - p->calls);
	KV_ASSERT(slot < p->cap);
	/* bit 63 stays clear: it marks a batch of reads (gw_read_batch.h) */
	p->counter = (p->counter + 1) & (UINT64_MAX >> (GW_SLOT_BITS + 1));
	if (p->counter == 0)
		p->counter = 1;
	c->req_id = p->counter << GW_SLOT_BITS | slot;
	return c->req_id;
}

struct gw_call *gw_pending_start(const struct gw_req *r, const struct gw_call_ops *ops,
                                 uint64_t timeout_ms)
{
	struct gw *gw = r->gw;
	h2o_req_t *req = r->http.req;
	struct gw_pending *p = &gw->pending;
	if (p->free_head >= p->cap)
		return NULL;
	struct gw_call_link *link =
	    h2o_mem_alloc_shared(&req->pool, sizeof(*link), pending_on_dispose);
	struct gw_call *c = &p->calls[p->free_head];
	KV_ASSERT(c->req_id == 0);
	p->free_head = c->next_free;
	p->used++;
	memset(c, 0, sizeof(*c));
	link->gw = gw;
	link->call = c;
	c->link = link;
	c->http = r->http;
	c->key = r->key;
	c->query = r->query;
	c->consul = r->consul;
	c->ops = ops;
	c->deadline_ms = kv_clock_mono_ms() + timeout_ms;
	gw_pending_next_id(gw, c);
	return c;
}

void gw_pending_end(struct gw *gw, struct gw_call *c)
{
	struct gw_pending *p = &gw->pending;
	uint32_t slot = (uint32_t)(c - p->calls);
	KV_ASSERT(slot < p->cap && c->req_id != 0);
	if (c->fwd != NULL)
		gw_forward_cancel(gw, c);
	if (c->link != NULL)
		c->link->call = NULL;
	memset(c, 0, sizeof(*c));
	c->next_free = p->free_head;
	p->free_head = slot;
	KV_ASSERT(p->used > 0);
	p->used--;
}

void gw_pending_dispatch(struct gw *gw, const struct proto_local *m)
{
	struct gw_pending *p = &gw->pending;
	uint32_t slot = (uint32_t)(m->req_id & GW_SLOT_MASK);
	if (m->req_id == 0 || slot >= p->cap || p->calls[slot].req_id != m->req_id) {
		KV_LOG_DEBUG(GW_SVC, "reply to an unknown request dropped", "type=%u req_id=%llx",
		             m->type, (unsigned long long)m->req_id);
		return;
	}
	struct gw_call *c = &p->calls[slot];
	if (c->http.req == NULL) {
		/* the client left; the write (if any) is still decided by Raft */
		gw_pending_end(gw, c);
		return;
	}
	c->ops->on_msg(gw, c, m);
}

void gw_pending_sweep(struct gw *gw, uint64_t now_ms)
{
	struct gw_pending *p = &gw->pending;
	for (uint32_t i = 0; i < p->cap && p->used > 0; i++) {
		struct gw_call *c = &p->calls[i];
		if (c->req_id == 0)
			continue;
		if (c->http.req == NULL && c->fwd == NULL) {
			gw_pending_end(gw, c);
		} else if (now_ms >= c->deadline_ms) {
			c->ops->on_deadline(gw, c);
		} else if (c->retry_at_ms != 0 && now_ms >= c->retry_at_ms) {
			c->retry_at_ms = 0;
			c->ops->on_retry(gw, c);
		}
	}
}

uint64_t gw_pending_left_ms(const struct gw_call *c)
{
	uint64_t now = kv_clock_mono_ms();
	return now >= c->deadline_ms ? 0 : c->deadline_ms - now;
}
