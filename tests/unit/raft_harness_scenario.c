/*
 * raft_harness_scenario.c - short stories built from the harness's steps:
 * run the clock, win an election, find the leader, read a recorded update.
 * Test thread only.
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

/* ---- Scenarios ---- */

struct raft_status rh_status_of(struct rh *h, uint64_t id)
{
	struct raft_status st;

	rh_status(h, id, &st);
	return st;
}

void rh_settle(struct rh *h, uint64_t leader, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		rh_deliver_all(h, 1000);
		rh_tick(h, leader, RH_HEARTBEAT_MS);
		rh_deliver_all(h, 1000);
	}
}

struct rh *rh_lagging_cluster(int rounds)
{
	struct rh *h = rh_new(3, 1, 1);
	char text[16];

	rh_elect(h, 1);
	rh_settle(h, 1, rounds);
	rh_cut(h, 1, 3, 1);
	for (int i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "v%d", i);
		assert_int_equal(rh_propose(h, 1, text), 0);
	}
	rh_settle(h, 1, rounds);
	assert_int_equal(rh_node(h, 1)->applied_index, 11);
	assert_int_equal(rh_status_of(h, 3).last_index, 1);
	return h;
}

void rh_elect(struct rh *h, uint64_t id)
{
	struct raft_status st;

	rh_status(h, id, &st);
	for (uint64_t ms = 0; st.role == RAFT_FOLLOWER; ms += RH_TICK_MS) {
		if (ms > 20u * RH_ELECTION_MS)
			rh_fail("node %llu never campaigned", (unsigned long long)id);
		rh_tick(h, id, RH_TICK_MS);
		rh_status(h, id, &st);
	}
	rh_deliver_all(h, 10000);
	rh_status(h, id, &st);
	if (st.role != RAFT_LEADER)
		rh_fail("node %llu campaigned but is %u, not leader", (unsigned long long)id,
		        st.role);
}

static int is_election_msg(uint8_t type)
{
	return type == RAFT_MSG_PREVOTE || type == RAFT_MSG_PREVOTE_RESP || type == RAFT_MSG_VOTE ||
	       type == RAFT_MSG_VOTE_RESP;
}

void rh_campaign(struct rh *h, uint64_t id)
{
	struct raft_status st;
	uint32_t k = 0;

	rh_status(h, id, &st);
	for (uint64_t ms = 0; st.role == RAFT_FOLLOWER; ms += RH_TICK_MS) {
		if (ms > 20u * RH_ELECTION_MS)
			rh_fail("node %llu never campaigned", (unsigned long long)id);
		rh_tick(h, id, RH_TICK_MS);
		rh_status(h, id, &st);
	}
	while (st.role != RAFT_LEADER) {
		uint32_t i = 0;

		while (i < h->q_n && !is_election_msg(h->q[i]->m.type))
			i++;
		if (i == h->q_n || k++ == 1000)
			rh_fail("node %llu's campaign ended as role %u", (unsigned long long)id,
			        st.role);
		rh_deliver_at(h, i);
		rh_status(h, id, &st);
	}
}

uint64_t rh_leader(struct rh *h)
{
	struct raft_status st;
	uint64_t best = 0, best_term = 0;

	for (uint32_t i = 0; i < RH_NODES_MAX; i++) {
		if (h->nodes[i] == NULL)
			continue;
		raft_get_status(h->nodes[i]->r, &st);
		if (st.role == RAFT_LEADER && st.term >= best_term) {
			best = st.id;
			best_term = st.term;
		}
	}
	return best;
}

uint32_t rh_applied_of_type(struct rh *h, uint64_t id, uint8_t type)
{
	struct rh_node *n = rh_node(h, id);
	uint32_t k = 0;

	for (uint32_t i = 0; i < n->n_applied; i++)
		k += (uint32_t)(n->applied[i].type == type);
	return k;
}

void rh_run(struct rh *h, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += RH_TICK_MS) {
		rh_tick_all(h, RH_TICK_MS);
		rh_deliver_all(h, 10000);
	}
}

uint32_t rh_rec_count(const struct rh_node *n, uint8_t type)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n->rec.u.n_msgs_now && i < RAFT_UPDATE_MSGS_MAX; i++)
		k += (uint32_t)(n->rec.now[i].type == type);
	for (uint32_t i = 0; i < n->rec.u.n_msgs_after_persist && i < RAFT_UPDATE_MSGS_MAX; i++)
		k += (uint32_t)(n->rec.after[i].type == type);
	return k;
}

const struct raft_msg *rh_rec_find(const struct rh_node *n, int after_persist, uint8_t type,
                                   uint64_t to)
{
	const struct raft_msg *list = after_persist ? n->rec.after : n->rec.now;
	uint32_t count = after_persist ? n->rec.u.n_msgs_after_persist : n->rec.u.n_msgs_now;

	for (uint32_t i = 0; i < count && i < RAFT_UPDATE_MSGS_MAX; i++)
		if (list[i].type == type && (to == 0 || list[i].to == to))
			return &list[i];
	return NULL;
}
