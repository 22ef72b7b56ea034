/*
 * storaged_watch.c - gatewayd's WATCH requests on the query socket: the
 * changes of a key or a prefix from an index on, read from the watch history
 * (sm_event_read.c). A WATCH is answered as soon as there is at least one
 * change, else it waits (parked, storaged_park.c) and is read again each time
 * the applied index moves, from where the last read stopped, until a change
 * arrives or its wait runs out; then it is answered with none, which tells
 * the gateway how far this node has applied (its progress line). Loop thread.
 */
#include "storaged.h"

#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

_Static_assert(SM_EVENT_GROUP_MAX <= PROTO_WATCH_GROUP_MAX,
               "a WATCH_RESP must hold every change of one entry");

/* Fills r's items from sd->events (the last read). */
static void storaged_watch_items(struct storaged *sd, struct proto_watch_resp *r)
{
	const struct sm_events *ev = &sd->events;
	KV_ASSERT(ev->n <= PROTO_WATCH_ITEMS_MAX);
	for (uint32_t i = 0; i < ev->n; i++) {
		const struct sm_event *e = &ev->ev[i];
		struct proto_item *it = &sd->watch_items[i];
		it->key.ptr = ev->buf.ptr + e->key_off;
		it->key.len = e->key_len;
		it->value.ptr = ev->buf.ptr + e->value_off;
		it->value.len = e->type == SM_EVENT_PUT ? e->value_len : 0;
		it->create_index = e->type == SM_EVENT_PUT ? e->create_index : 0;
		it->mod_index = e->mod_index;
	}
	r->items = sd->watch_items;
	r->n_items = ev->n;
}

int storaged_watch_try(struct storaged *sd, const struct storaged_envelope *env,
                       const struct proto_local *m, int status, uint64_t *from, int final)
{
	KV_ASSERT(m->type == PROTO_WATCH);
	const struct proto_watch *w = &m->u.watch;
	struct proto_local rm = {.type = PROTO_WATCH_RESP, .req_id = m->req_id};
	struct proto_watch_resp *r = &rm.u.watch_resp;
	r->status = status;
	if (status == 0) {
		r->status = sm_event_read(sd->sm, w->match.ptr, w->match.len, w->prefix, *from,
		                          (uint32_t)w->limit, &sd->events);
		if (r->status == 0 && sd->events.n == 0 && !final) {
			*from = sd->events.next_index;
			return 0;
		}
		r->oldest_index = sd->events.oldest_index;
	}
	if (r->status == 0) {
		storaged_watch_items(sd, r);
		r->next_index = sd->events.next_index;
	}
	r->applied_index = sd->sm->applied_index;
	storaged_sock_reply(sd, sd->query_sock, env, &rm);
	return 1;
}

int storaged_watch_handle(struct storaged *sd, const struct storaged_envelope *env,
                          const struct proto_local *m, const uint8_t *body, size_t body_len)
{
	const struct proto_watch *w = &m->u.watch;
	uint64_t from = w->from_index;
	int reached = sd->sm->applied_index >= w->min_index;
	if (!reached && w->wait_ms == 0)
		return storaged_watch_try(sd, env, m, KV_ETIMEDOUT, &from, 1) - 1;
	if (reached && storaged_watch_try(sd, env, m, 0, &from, w->wait_ms == 0 || w->at_once))
		return 0;
	int err = storaged_park_add(sd, env, m, body, body_len, kv_clock_mono_ms());
	if (err != 0) {
		storaged_watch_try(sd, env, m, err, &from, 1);
		return 0;
	}
	struct storaged_parked *p = sd->parked[sd->n_parked - 1];
	p->watch_from = from;
	p->watch_seen = reached ? sd->sm->applied_index : 0;
	p->watch_at_once = w->at_once;
	return 0;
}

int storaged_watch_step(struct storaged *sd, struct storaged_parked *p, uint64_t now_ms)
{
	int final = now_ms >= p->deadline_ms;
	uint64_t applied = sd->sm->applied_index;
	int status = 0;
	if (applied < p->min_index) {
		if (!final)
			return 0;
		status = KV_ETIMEDOUT;
	} else if (p->watch_at_once) {
		final = 1; /* the starting point is applied: answer, change or not */
	} else if (applied == p->watch_seen && !final) {
		return 0; /* nothing new applied since the last read */
	}
	struct proto_local m;
	proto_arena_init(&sd->arena, sd->arena_mem, STORAGED_ARENA_BYTES);
	int err = proto_local_decode(p->body, p->body_len, &m, &sd->arena);
	KV_ASSERT(err == 0); /* it decoded once when it arrived */
	if (storaged_watch_try(sd, &p->env, &m, status, &p->watch_from, final))
		return 1;
	p->watch_seen = applied;
	return 0;
}
