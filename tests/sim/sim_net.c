/*
 * sim_net.c - the simulated network and the world's event queue.
 *
 * Messages live in a fixed pool of slots (each with room for the entries'
 * payloads and a snapshot chunk), so the sender's buffers can be reused at
 * once. Every timed thing (deliveries, ticks, syncs, restarts, client and
 * fault actions) is an event in one binary heap ordered by (time, seq), so
 * equal times resolve in a fixed order. Loss, duplication and delay are
 * chosen at send time; partitions are checked at delivery (sim_world.c).
 * Runs on the simulator's thread; allocates only in sim_net_new().
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "kv_assert.h"
#include "kv_err.h"

int sim_net_new(struct sim_net *n)
{
	memset(n, 0, sizeof(*n));
	n->slots = calloc(SIM_NET_SLOTS, sizeof(*n->slots));
	if (!n->slots)
		goto out_fail;
	n->heap = calloc(SIM_EVENTS_MAX, sizeof(*n->heap));
	if (!n->heap)
		goto out_free_slots;
	n->big = malloc((size_t)SIM_BIG_CHUNKS * RAFT_SNAPSHOT_CHUNK_BYTES);
	if (!n->big)
		goto out_free_heap;
	sim_net_reset(n);
	return 0;
out_free_heap:
	free(n->heap);
out_free_slots:
	free(n->slots);
out_fail:
	return KV_ENOMEM;
}

void sim_net_free(struct sim_net *n)
{
	free(n->slots);
	free(n->heap);
	free(n->big);
	memset(n, 0, sizeof(*n));
}

void sim_net_reset(struct sim_net *n)
{
	for (uint32_t i = 0; i < SIM_NET_SLOTS; i++)
		n->slots[i].next_free = i + 1;
	n->slots[SIM_NET_SLOTS - 1].next_free = UINT32_MAX;
	n->free_head = 0;
	n->used = 0;
	for (uint32_t i = 0; i < SIM_BIG_CHUNKS; i++)
		n->big_free[i] = i;
	n->n_big_free = SIM_BIG_CHUNKS;
	n->n_heap = 0;
	n->seq = 0;
	memset(n->blocked, 0, sizeof(n->blocked));
	n->loss_permille = 0;
	n->dup_permille = 0;
	n->delay_min_ms = 1;
	n->delay_max_ms = 5;
	n->dropped = 0;
	n->delivered = 0;
	n->sent = 0;
}

uint32_t sim_net_alloc(struct sim_net *n)
{
	uint32_t s = n->free_head;

	if (s == UINT32_MAX)
		return s;
	n->free_head = n->slots[s].next_free;
	n->slots[s].next_free = UINT32_MAX - 1; /* in use */
	n->slots[s].big = -1;
	n->used++;
	return s;
}

void sim_net_release(struct sim_net *n, uint32_t slot)
{
	KV_ASSERT(slot < SIM_NET_SLOTS && n->slots[slot].next_free == UINT32_MAX - 1);
	if (n->slots[slot].big >= 0) {
		n->big_free[n->n_big_free++] = (uint32_t)n->slots[slot].big;
		n->slots[slot].big = -1;
	}
	n->slots[slot].next_free = n->free_head;
	n->free_head = slot;
	n->used--;
}

uint8_t *sim_net_big_alloc(struct sim_net *n, struct sim_msg_slot *ms)
{
	if (n->n_big_free == 0)
		return NULL;
	KV_ASSERT(ms->big < 0);
	ms->big = (int32_t)n->big_free[--n->n_big_free];
	return n->big + (size_t)ms->big * RAFT_SNAPSHOT_CHUNK_BYTES;
}

static int ev_less(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->at_ms < b->at_ms || (a->at_ms == b->at_ms && a->seq < b->seq);
}

void sim_net_push(struct sim_net *n, uint64_t at_ms, uint8_t kind, uint8_t node, uint32_t gen)
{
	uint32_t i = n->n_heap++;

	/* At most one event per message slot plus a few per node: never full. */
	KV_ASSERT(i < SIM_EVENTS_MAX);
	struct sim_ev ev = {
	    .at_ms = at_ms, .seq = n->seq++, .kind = kind, .node = node, .gen = gen};
	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!ev_less(&ev, &n->heap[p]))
			break;
		n->heap[i] = n->heap[p];
		i = p;
	}
	n->heap[i] = ev;
}

int sim_net_pop(struct sim_net *n, struct sim_ev *out)
{
	struct sim_ev last;
	uint32_t i = 0;

	if (n->n_heap == 0)
		return 0;
	*out = n->heap[0];
	last = n->heap[--n->n_heap];
	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n->n_heap)
			break;
		if (c + 1 < n->n_heap && ev_less(&n->heap[c + 1], &n->heap[c]))
			c++;
		if (!ev_less(&n->heap[c], &last))
			break;
		n->heap[i] = n->heap[c];
		i = c;
	}
	n->heap[i] = last;
	return 1;
}

/* Copies slot src into a new slot, fixing the internal pointers. */
static uint32_t slot_dup(struct sim_net *n, uint32_t src)
{
	uint32_t dst = sim_net_alloc(n);
	struct sim_msg_slot *d, *s = &n->slots[src];

	if (dst == UINT32_MAX)
		return dst;
	d = &n->slots[dst];
	d->m = s->m;
	if (s->m.type == RAFT_MSG_APPEND && s->m.u.append.n_entries) {
		uint32_t ne = s->m.u.append.n_entries;

		memcpy(d->ents, s->ents, ne * sizeof(d->ents[0]));
		memcpy(d->data, s->data, ne * sizeof(d->data[0]));
		d->m.u.append.entries = d->ents;
		for (uint32_t i = 0; i < ne; i++)
			d->ents[i].data = s->ents[i].data ? d->data[i] : NULL;
	}
	if (s->m.type != RAFT_MSG_SNAPSHOT)
		return dst;
	if (s->m.u.snapshot.chunk == s->chunk) {
		memcpy(d->chunk, s->chunk, s->m.u.snapshot.chunk_len);
		d->m.u.snapshot.chunk = d->chunk;
	} else if (s->big >= 0) {
		uint8_t *b = sim_net_big_alloc(n, d);

		if (!b) {
			sim_net_release(n, dst);
			return UINT32_MAX;
		}
		memcpy(b, s->m.u.snapshot.chunk, s->m.u.snapshot.chunk_len);
		d->m.u.snapshot.chunk = b;
	}
	/* else: NULL, or immutable padding that both may point into */
	return dst;
}

static uint64_t delay(struct sim_net *n, struct sim_rng *g)
{
	return sim_rng_range(g, n->delay_min_ms, n->delay_max_ms);
}

void sim_net_send(struct sim_net *n, struct sim_rng *g, uint64_t now_ms, uint32_t slot)
{
	uint8_t to = (uint8_t)sim_slot_of(n->slots[slot].m.to);

	n->sent++;
	if (n->loss_permille && sim_rng_chance(g, n->loss_permille)) {
		n->dropped++;
		sim_net_release(n, slot);
		return;
	}
	if (n->dup_permille && sim_rng_chance(g, n->dup_permille)) {
		uint32_t copy = slot_dup(n, slot);

		if (copy != UINT32_MAX)
			sim_net_push(n, now_ms + delay(n, g), SIM_EV_DELIVER, to, copy);
	}
	sim_net_push(n, now_ms + delay(n, g), SIM_EV_DELIVER, to, slot);
}
