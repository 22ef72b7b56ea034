/*
 * test_raft_read.c - linearizable reads by ReadIndex (thesis section 6.4):
 * no read before the term's no-op commits, one heartbeat round per batch,
 * none from a deposed leader, followers asking the leader. Told step by step
 * through raft_harness; each test prints what it checked.
 */
#include "raft_harness.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A cluster of 3 whose leader 1 has committed its no-op everywhere. */
static struct rh *settled_cluster(int check_quorum)
{
	struct rh *h = rh_new(3, 1, check_quorum);

	rh_elect(h, 1);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 100);
	assert_int_equal(rh_status_of(h, 1).commit_index, 1);
	return h;
}

/* A new leader serves no read before its no-op (an entry of its term) commits. */
static void test_no_read_before_noop_commits(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n1 = rh_node(h, 1);
	uint64_t acks;

	rh_campaign(h, 1);
	assert_int_equal(rh_read(h, 1, 7), 0);
	assert_int_equal(n1->n_reads, 0);
	assert_int_equal(rh_drop_entries(h, 1), 2);
	acks = h->delivered_type[RAFT_MSG_APPEND_RESP];
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	for (int k = 0; rh_drop_entries(h, 1), h->q_n > 0; k++) {
		assert_true(k < 100);
		rh_deliver(h, 0, 0, 0);
	}
	assert_true(h->delivered_type[RAFT_MSG_APPEND_RESP] >= acks + 2);
	assert_int_equal(rh_status_of(h, 1).commit_index, 0);
	assert_int_equal(n1->n_reads, 0);
	print_message("new leader 1, every APPEND carrying its no-op lost: both followers "
	              "answered a heartbeat, yet read 7 is still unanswered (commit 0)\n");

	for (uint64_t ms = 0; n1->n_reads == 0; ms += RH_TICK_MS) {
		assert_true(ms <= 10 * RH_HEARTBEAT_MS);
		rh_tick(h, 1, RH_TICK_MS);
		rh_deliver_all(h, 100);
	}
	assert_int_equal(rh_status_of(h, 1).commit_index, 1);
	assert_int_equal(n1->n_reads, 1);
	assert_int_equal(n1->reads[0].read_id, 7);
	assert_int_equal(n1->reads[0].status, 0);
	assert_int_equal(n1->reads[0].index, 1);
	print_message("once the resent no-op committed (index 1), read 7 was answered with read "
	              "index 1\n");
	rh_destroy(&h);
}

/* Reads that wait together share one heartbeat round. */
static void test_reads_batched_behind_one_round(void **state)
{
	struct rh *h = settled_cluster(1);
	struct rh_node *n1 = rh_node(h, 1);
	uint64_t appends = h->delivered_type[RAFT_MSG_APPEND];
	uint32_t rounds;

	assert_int_equal(rh_read(h, 1, 100), 0);
	assert_int_equal(rh_count(h, RAFT_MSG_APPEND, 1, 0), 2);
	for (uint64_t id = 101; id < 132; id++)
		assert_int_equal(rh_read(h, 1, id), 0);
	assert_int_equal(rh_count(h, RAFT_MSG_APPEND, 1, 0), 2);
	assert_int_equal(n1->n_reads, 0);
	rh_deliver_all(h, 100);
	rounds = (uint32_t)(h->delivered_type[RAFT_MSG_APPEND] - appends) / 2;
	assert_int_equal(n1->n_reads, 32);
	for (uint32_t i = 0; i < 32; i++) {
		assert_int_equal(n1->reads[i].status, 0);
		assert_int_equal(n1->reads[i].index, 1);
	}
	assert_int_equal(n1->reads[0].read_id, 100);
	assert_int_equal(rounds, 2);
	print_message("read 100 started a heartbeat round; reads 101..131, which came while it "
	              "was out, shared the next one: 32 reads, %u rounds, all at index 1\n",
	              rounds);
	rh_destroy(&h);
}

/* A deposed leader cut off from the others never confirms a read. */
static void test_deposed_leader_cannot_confirm_reads(void **state)
{
	struct rh *h = settled_cluster(0);
	struct rh_node *n1 = rh_node(h, 1);

	rh_isolate(h, 1, 1);
	n1->frozen = 1;
	rh_run(h, 4 * RH_ELECTION_MS);
	assert_true(rh_leader(h) == 2 || rh_leader(h) == 3);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_LEADER);
	n1->frozen = 0;

	assert_int_equal(rh_read(h, 1, 9), 0);
	for (int i = 0; i < 20; i++) {
		rh_tick(h, 1, RH_HEARTBEAT_MS);
		rh_deliver_all(h, 100);
	}
	assert_int_equal(rh_status_of(h, 1).role, RAFT_LEADER);
	assert_int_equal(n1->n_reads, 0);
	print_message("node 1 (still leader of term 1 in its own view, %u ms cut off, no "
	              "CheckQuorum) never confirmed read 9\n",
	              20 * RH_HEARTBEAT_MS);

	rh_isolate(h, 1, 0);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 100);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_FOLLOWER);
	assert_int_equal(n1->n_reads, 1);
	assert_int_equal(n1->reads[0].read_id, 9);
	assert_int_equal(n1->reads[0].status, KV_ENOTLEADER);
	print_message("healed: it learned term %llu, stepped down and failed read 9 with %s\n",
	              (unsigned long long)rh_status_of(h, 1).term, kv_err_code(KV_ENOTLEADER));
	rh_destroy(&h);
}

/* A follower asks the leader for a read index and hands it out. */
static void test_follower_read_index(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n2 = rh_node(h, 2);
	const struct raft_msg *m;

	assert_int_equal(rh_read(h, 2, 4), KV_ENOLEADER);
	print_message("a follower that knows no leader refuses a read: %s\n",
	              kv_err_code(KV_ENOLEADER));
	rh_destroy(&h);

	h = settled_cluster(1);
	n2 = rh_node(h, 2);
	rh_propose(h, 1, "a");
	rh_deliver_all(h, 100);
	assert_int_equal(rh_status_of(h, 1).commit_index, 2);
	assert_int_equal(rh_read(h, 2, 5), 0);
	m = rh_peek(h, RAFT_MSG_READ_INDEX, 2, 1);
	assert_non_null(m);
	assert_int_equal(m->u.read_index.read_id, 5);
	rh_deliver_all(h, 100);
	assert_int_equal(n2->n_reads, 1);
	assert_int_equal(n2->reads[0].read_id, 5);
	assert_int_equal(n2->reads[0].status, 0);
	assert_int_equal(n2->reads[0].index, 2);
	print_message("follower 2 sent READ_INDEX 5 to leader 1, which confirmed with a round: "
	              "read index 2 (the leader's commit)\n");
	rh_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_read_before_noop_commits),
	    cmocka_unit_test(test_reads_batched_behind_one_round),
	    cmocka_unit_test(test_deposed_leader_cannot_confirm_reads),
	    cmocka_unit_test(test_follower_read_index),
	};

	return cmocka_run_group_tests_name("raft ReadIndex", tests, NULL, NULL);
}
