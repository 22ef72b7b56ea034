/*
 * raft_harness_net.c - the hand-stepped network: one FIFO queue of copied
 * messages, delivery, loss, duplication and replay, cut links. Test thread only.
 */
#include "raft_harness_internal.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- The network ---- */

static int msg_matches(const struct raft_msg *m, uint8_t type, uint64_t from, uint64_t to)
{
	return (type == 0 || m->type == type) && (from == 0 || m->from == from) &&
	       (to == 0 || m->to == to);
}

int rh_find(const struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	for (uint32_t i = 0; i < h->q_n; i++)
		if (msg_matches(&h->q[i]->m, type, from, to))
			return (int)i;
	return -1;
}

const struct raft_msg *rh_peek(const struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	int i = rh_find(h, type, from, to);

	return i < 0 ? NULL : &h->q[i]->m;
}

uint32_t rh_count(const struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < h->q_n; i++)
		k += (uint32_t)msg_matches(&h->q[i]->m, type, from, to);
	return k;
}

struct rh_msg *rh_dequeue(struct rh *h, uint32_t pos)
{
	struct rh_msg *q = h->q[pos];

	memmove(h->q + pos, h->q + pos + 1, (h->q_n - pos - 1) * sizeof(h->q[0]));
	h->q_n--;
	return q;
}

void rh_deliver_at(struct rh *h, uint32_t pos)
{
	struct rh_msg *q = rh_dequeue(h, pos);
	struct rh_node *to = rh_node_or_null(h, q->m.to);
	struct raft_event ev = {.type = RAFT_EVENT_RECEIVE};

	if (to == NULL || rh_link_cut(h, q->m.from, q->m.to)) {
		h->n_lost++;
		rh_msg_free(&q);
		return;
	}
	rh_msg_fix(q);
	ev.msg = &q->m;
	rh_step_node(h, to, &ev);
	h->n_delivered++;
	if (q->m.type <= RAFT_MSG_TYPE_MAX)
		h->delivered_type[q->m.type]++;
	rh_msg_free(&q);
}

int rh_deliver(struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	int i = rh_find(h, type, from, to);

	if (i < 0)
		return 0;
	rh_deliver_at(h, (uint32_t)i);
	return 1;
}

uint32_t rh_deliver_matching(struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	static struct rh_msg *picked[RH_QUEUE_MAX];
	uint32_t n_picked = 0, done = 0;

	for (uint32_t i = 0; i < h->q_n; i++)
		if (msg_matches(&h->q[i]->m, type, from, to))
			picked[n_picked++] = h->q[i];
	for (uint32_t k = 0; k < n_picked; k++) {
		for (uint32_t i = 0; i < h->q_n; i++) {
			if (h->q[i] != picked[k])
				continue;
			rh_deliver_at(h, i);
			done++;
			break;
		}
	}
	return done;
}

uint32_t rh_deliver_all(struct rh *h, uint32_t max_msgs)
{
	uint32_t k = 0;

	while (h->q_n > 0) {
		if (k == max_msgs)
			rh_fail("still %u messages queued after delivering %u", h->q_n, max_msgs);
		rh_deliver_at(h, 0);
		k++;
	}
	return k;
}

uint32_t rh_drop(struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < h->q_n;) {
		if (!msg_matches(&h->q[i]->m, type, from, to)) {
			i++;
			continue;
		}
		struct rh_msg *q = rh_dequeue(h, i);

		rh_msg_free(&q);
		h->n_lost++;
		k++;
	}
	return k;
}

uint32_t rh_drop_entries(struct rh *h, uint64_t from)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < h->q_n;) {
		const struct raft_msg *m = &h->q[i]->m;

		if (m->type != RAFT_MSG_APPEND || m->from != from || m->u.append.n_entries == 0) {
			i++;
			continue;
		}
		struct rh_msg *q = rh_dequeue(h, i);

		rh_msg_free(&q);
		h->n_lost++;
		k++;
	}
	return k;
}

int rh_inject(struct rh *h, const struct raft_msg *msg)
{
	struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .msg = msg};

	return rh_step(h, msg->to, &ev);
}

struct rh_msg *rh_copy(const struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	int i = rh_find(h, type, from, to);
	struct rh_msg *c;

	if (i < 0)
		return NULL;
	c = rh_calloc(1, sizeof(*c));
	*c = *h->q[i];
	c->chunk = NULL;
	if (c->m.type == RAFT_MSG_SNAPSHOT && c->m.u.snapshot.chunk_len > 0 &&
	    h->q[i]->chunk != NULL) {
		c->chunk = rh_calloc(1, c->m.u.snapshot.chunk_len);
		memcpy(c->chunk, h->q[i]->chunk, c->m.u.snapshot.chunk_len);
	}
	rh_msg_fix(c);
	return c;
}

struct raft_msg *rh_copy_msg(struct rh_msg *copy)
{
	return &copy->m;
}

void rh_replay(struct rh *h, struct rh_msg **copy)
{
	if (h->q_n == RH_QUEUE_MAX)
		rh_fail("message queue full (%u)", RH_QUEUE_MAX);
	/* at the front, so that it is the next one delivered */
	memmove(h->q + 1, h->q, h->q_n * sizeof(h->q[0]));
	h->q[0] = *copy;
	h->q_n++;
	*copy = NULL;
	rh_deliver_at(h, 0);
}

void rh_cut(struct rh *h, uint64_t a, uint64_t b, int on)
{
	if (a == 0 || a > RH_NODES_MAX || b == 0 || b > RH_NODES_MAX)
		rh_fail("bad link %llu-%llu", (unsigned long long)a, (unsigned long long)b);
	h->cut[a][b] = on;
	h->cut[b][a] = on;
}

void rh_isolate(struct rh *h, uint64_t id, int on)
{
	for (uint64_t other = 1; other <= RH_NODES_MAX; other++)
		if (other != id)
			rh_cut(h, id, other, on);
}
