/*
 * test_raft_replication.c - the paper's claims about log replication
 * (section 5.3, 5.4.2; figures 7 and 8), told step by step through
 * raft_harness. Each test prints what it checked.
 */
#include "raft_harness.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* The stored logs of a and b hold the same entries (index, term, type, payload). */
static void assert_same_log(struct rh *h, uint64_t a, uint64_t b)
{
	const struct rh_node *na = rh_node(h, a), *nb = rh_node(h, b);

	assert_int_equal(na->log_start, nb->log_start);
	assert_int_equal(na->log_n, nb->log_n);
	for (uint32_t i = 0; i < na->log_n; i++) {
		assert_int_equal(na->log[i].index, nb->log[i].index);
		assert_int_equal(na->log[i].term, nb->log[i].term);
		assert_int_equal(na->log[i].type, nb->log[i].type);
		assert_int_equal(na->log[i].len, nb->log[i].len);
		assert_memory_equal(na->log[i].data, nb->log[i].data, na->log[i].len);
	}
}

/* Delivers until quiet; returns how many rejected APPEND_RESP from `from` went by. */
static uint32_t deliver_counting_rejects(struct rh *h, uint64_t from)
{
	uint32_t rejects = 0;

	for (uint32_t k = 0; h->q_n > 0; k++) {
		const struct raft_msg *m = rh_peek(h, 0, 0, 0);

		assert_true(k < 10000);
		if (m->type == RAFT_MSG_APPEND_RESP && m->from == from && m->u.append_resp.reject)
			rejects++;
		rh_deliver(h, 0, 0, 0);
	}
	return rejects;
}

static const uint64_t fig7_leader[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
static const uint64_t fig7_a[] = {1, 1, 1, 4, 4, 5, 5, 6, 6};
static const uint64_t fig7_b[] = {1, 1, 1, 4};
static const uint64_t fig7_c[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6};
static const uint64_t fig7_d[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7};
static const uint64_t fig7_e[] = {1, 1, 1, 4, 4, 4, 4};
static const uint64_t fig7_f[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3};

/*
 * Figure 7: the leader of term 8 (node 1) brings a follower (node 2) holding
 * log (a)..(f) to exactly its own log; node 3 starts empty and votes.
 */
static void fig7_case(const char *name, const uint64_t *terms, uint32_t n)
{
	struct rh *h = rh_new(3, 1, 1);
	uint32_t rejects;

	rh_boot_log(h, 1, 7, 0, fig7_leader, 10);
	rh_boot_log(h, 2, 7, 0, terms, n);
	rh_boot_log(h, 3, 7, 0, NULL, 0);
	rh_campaign(h, 1);
	assert_int_equal(rh_status_of(h, 1).term, 8);
	rejects = deliver_counting_rejects(h, 2);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 1000);

	assert_same_log(h, 1, 2);
	assert_same_log(h, 1, 3);
	assert_int_equal(rh_status_of(h, 2).last_index, 11);
	assert_int_equal(rh_status_of(h, 2).last_term, 8);
	for (uint64_t id = 1; id <= 3; id++) {
		assert_int_equal(rh_status_of(h, id).commit_index, 11);
		assert_int_equal(rh_node(h, id)->applied_index, 11);
		assert_int_equal(rh_node(h, id)->applied[10].type, RAFT_ENTRY_NOOP);
		assert_int_equal(rh_node(h, id)->applied[3].term, 4);
	}
	print_message("figure 7 (%s): follower of %u entries now holds the leader's 11 (10 + "
	              "no-op of term 8), %u rejection(s); all commit and apply 1..11\n",
	              name, n, rejects);
	rh_destroy(&h);
}

static void test_fig7_leader_repairs_logs(void **state)
{
	fig7_case("a", fig7_a, 9);
	fig7_case("b", fig7_b, 4);
	fig7_case("c", fig7_c, 11);
	fig7_case("d", fig7_d, 12);
	fig7_case("e", fig7_e, 7);
	fig7_case("f", fig7_f, 11);
}

/*
 * Figure 8 (c): nodes 1, 2, 3 hold index 2 of term 2, node 5 index 2 of term
 * 3, node 4 only index 1; node 1 then wins term 4 and appends its no-op at 3.
 */
static struct rh *fig8_setup(void)
{
	static const uint64_t old[] = {1, 2}, bare[] = {1}, other[] = {1, 3};
	struct rh *h = rh_new(5, 1, 0);

	for (uint64_t id = 1; id <= 3; id++)
		rh_boot_log(h, id, 3, 0, old, 2);
	rh_boot_log(h, 4, 3, 0, bare, 1);
	rh_boot_log(h, 5, 3, 0, other, 2);
	rh_campaign(h, 1);
	assert_int_equal(rh_status_of(h, 1).term, 4);
	assert_int_equal(rh_status_of(h, 1).last_index, 3);
	assert_int_equal(raft_term_at(rh_node(h, 1)->r, 3), 4);
	return h;
}

/*
 * A quorum acknowledging index 2 (term 2) does not let leader 1 of term 4
 * commit it. Then the paper's (d) happens: node 5 wins term 5 and replaces
 * index 2, which is safe only because it was never committed.
 */
static void test_fig8_no_commit_of_old_term_by_counting(void **state)
{
	struct rh *h = fig8_setup();
	struct raft_msg ack;

	rh_drop(h, 0, 0, 0);
	memset(&ack, 0, sizeof(ack));
	ack.type = RAFT_MSG_APPEND_RESP;
	ack.to = 1;
	ack.term = 4;
	ack.u.append_resp.match_index = 2;
	for (ack.from = 2; ack.from <= 3; ack.from++) {
		ack.incarnation = rh_incarnation(ack.from); /* acks that count */
		rh_inject(h, &ack);
	}
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 2), 2);
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 3), 2);
	assert_int_equal(rh_status_of(h, 1).commit_index, 0);
	assert_int_equal(rh_node(h, 1)->n_applied, 0);
	print_message("nodes 1, 2, 3 (a quorum of 5) acknowledged index 2 of term 2; the leader "
	              "of term 4 still has commit 0\n");

	rh_drop(h, 0, 0, 0);
	rh_isolate(h, 1, 1);
	rh_elect(h, 5);
	rh_tick(h, 5, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 1000);
	for (uint64_t id = 2; id <= 5; id++) {
		assert_int_equal(raft_term_at(rh_node(h, id)->r, 2), 3);
		assert_int_equal(rh_status_of(h, id).commit_index, 3);
	}
	print_message("figure 8 (d): node 5 won term %llu and replaced index 2 (term 2 -> 3) on "
	              "2..5; nothing committed was lost\n",
	              (unsigned long long)rh_status_of(h, 5).term);
	rh_destroy(&h);
}

/* Figure 8 (e): the old entry commits with the first entry of the leader's own term. */
static void test_fig8_commit_via_current_term(void **state)
{
	struct rh *h = fig8_setup();

	rh_deliver(h, RAFT_MSG_APPEND, 1, 2);
	rh_deliver(h, RAFT_MSG_APPEND_RESP, 2, 1);
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 2), 3);
	assert_int_equal(rh_status_of(h, 1).commit_index, 0);
	rh_deliver_matching(h, 0, 1, 3);
	rh_deliver_matching(h, 0, 3, 1);
	rh_deliver_matching(h, 0, 1, 3);
	rh_deliver_matching(h, 0, 3, 1);
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 3), 3);
	assert_int_equal(rh_status_of(h, 1).commit_index, 3);
	assert_int_equal(rh_node(h, 1)->n_applied, 3);
	assert_int_equal(rh_node(h, 1)->applied[1].term, 2);
	print_message("index 3 (term 4) on nodes 1, 2, 3: commit jumps 0 -> 3, index 2 of term 2 "
	              "applied with it\n");

	rh_deliver_all(h, 1000);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 1000);
	for (uint64_t id = 2; id <= 5; id++) {
		assert_same_log(h, 1, id);
		assert_int_equal(rh_node(h, id)->applied_index, 3);
	}
	assert_int_equal(raft_term_at(rh_node(h, 5)->r, 2), 2);
	print_message("node 5's index 2 of term 3 was replaced by term 2; all 5 apply 1..3\n");
	rh_destroy(&h);
}

/* Fast backtracking: a follower's hint skips a whole conflicting term per round trip. */
static void test_fast_backtracking(void **state)
{
	static uint64_t leader[51], follower[51];
	struct rh *h = rh_new(3, 1, 1);
	uint32_t rejects;

	leader[0] = follower[0] = 1;
	for (uint32_t i = 1; i < 51; i++) {
		leader[i] = 3;
		follower[i] = 2;
	}
	rh_boot_log(h, 1, 3, 0, leader, 51);
	rh_boot_log(h, 2, 3, 0, follower, 51);
	rh_boot_log(h, 3, 3, 0, leader, 1);
	rh_campaign(h, 1);
	rejects = deliver_counting_rejects(h, 2);
	assert_same_log(h, 1, 2);
	assert_true(rejects >= 1 && rejects <= 2);
	print_message("50 conflicting entries (term 2 vs 3) repaired after %u rejection(s), not "
	              "one per entry\n",
	              rejects);

	rh_destroy(&h);

	h = rh_new(3, 1, 1);
	rh_boot_log(h, 1, 3, 0, leader, 51);
	rh_boot_log(h, 2, 3, 0, follower, 1);
	rh_boot_log(h, 3, 3, 0, leader, 51);
	rh_campaign(h, 1);
	rejects = deliver_counting_rejects(h, 2);
	assert_same_log(h, 1, 2);
	assert_int_equal(rejects, 1);
	print_message("a follower missing 51 entries caught up after %u rejection(s)\n", rejects);
	rh_destroy(&h);
}

/* A stale or duplicated APPEND must not truncate entries that match. */
static void test_stale_append_keeps_matching_entries(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n2 = rh_node(h, 2);
	struct rh_msg *stale;

	rh_elect(h, 1);
	assert_int_equal(rh_propose(h, 1, "a"), 0);
	stale = rh_copy(h, RAFT_MSG_APPEND, 1, 2);
	assert_non_null(stale);
	assert_int_equal(rh_copy_msg(stale)->u.append.n_entries, 1);
	rh_deliver_all(h, 100);
	assert_int_equal(rh_propose(h, 1, "b"), 0);
	assert_int_equal(rh_propose(h, 1, "c"), 0);
	rh_deliver_all(h, 100);
	assert_int_equal(rh_status_of(h, 2).last_index, 4);

	rh_replay(h, &stale);
	assert_false(n2->rec.u.has_truncate);
	assert_int_equal(n2->rec.u.n_entries, 0);
	assert_int_equal(rh_status_of(h, 2).last_index, 4);
	assert_int_equal(n2->log_n, 4);
	assert_memory_equal(n2->log[3].data, "c", 1);
	print_message("replayed APPEND(prev 1, [2]) after 2..4 arrived: no truncation, log still "
	              "1..4\n");
	rh_deliver_all(h, 100);
	rh_destroy(&h);
}

/* The commit index never goes down, even when an old APPEND arrives late. */
static void test_commit_never_decreases(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_msg *old;
	uint32_t applied;

	rh_elect(h, 1);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	old = rh_copy(h, RAFT_MSG_APPEND, 1, 2);
	assert_non_null(old);
	assert_int_equal(rh_copy_msg(old)->u.append.commit, 1);
	rh_deliver_all(h, 100);
	rh_propose(h, 1, "a");
	rh_propose(h, 1, "b");
	rh_deliver_all(h, 100);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 100);
	assert_int_equal(rh_status_of(h, 2).commit_index, 3);
	applied = rh_node(h, 2)->n_applied;

	rh_replay(h, &old);
	assert_int_equal(rh_status_of(h, 2).commit_index, 3);
	assert_int_equal(rh_node(h, 2)->n_applied, applied);
	assert_int_equal(rh_status_of(h, 2).last_index, 3);
	print_message("a heartbeat with commit 1 replayed at commit 3: commit stays 3, nothing "
	              "re-applied, log kept\n");

	rh_isolate(h, 1, 1);
	rh_run(h, 4 * RH_ELECTION_MS);
	assert_true(rh_leader(h) == 2 || rh_leader(h) == 3);
	for (uint64_t id = 2; id <= 3; id++)
		assert_true(rh_status_of(h, id).commit_index >= 3);
	print_message("a new leader (%llu) took over: commit on 2 and 3 still >= 3\n",
	              (unsigned long long)rh_leader(h));
	rh_destroy(&h);
}

/* Committed entries go to the state machine once, in order, and only when durable. */
static void test_apply_once_in_order_when_durable(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n1 = rh_node(h, 1), *n2 = rh_node(h, 2);

	rh_elect(h, 1);
	n2->manual_persist = 1;
	assert_int_equal(rh_propose(h, 1, "a"), 0);
	rh_deliver(h, RAFT_MSG_APPEND, 1, 3);
	rh_deliver(h, RAFT_MSG_APPEND_RESP, 3, 1);
	assert_int_equal(rh_status_of(h, 1).commit_index, 2);
	assert_int_equal(rh_propose(h, 1, "b"), 0);
	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 2);
	assert_int_equal(rh_status_of(h, 2).last_index, 3);
	assert_int_equal(rh_status_of(h, 2).commit_index, 2);
	assert_int_equal(n2->rec.u.commit_first, 0);
	assert_int_equal(n2->applied_index, 1);
	assert_int_equal(rh_count(h, RAFT_MSG_APPEND_RESP, 2, 1), 0);
	print_message("node 2 wrote 2..3 without syncing and learned commit 2: it applies "
	              "nothing and its acks are held\n");

	rh_persist(h, 2);
	assert_int_equal(n2->rec.u.commit_first, 2);
	assert_int_equal(n2->rec.u.commit_last, 2);
	assert_int_equal(n2->applied_index, 2);
	assert_memory_equal(n2->applied[1].data, "a", 1);
	assert_int_equal(rh_count(h, RAFT_MSG_APPEND_RESP, 2, 1), 2);
	print_message("its sync reported: entry 2 handed out then, once; the two acks went out\n");
	n2->manual_persist = 0;
	rh_deliver_all(h, 100);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 100);
	assert_int_equal(n2->applied_index, 3);

	n1->manual_persist = 1;
	rh_propose(h, 1, "c");
	rh_propose(h, 1, "d");
	rh_deliver_all(h, 100);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 100);
	assert_int_equal(rh_status_of(h, 1).commit_index, 5);
	assert_int_equal(n1->applied_index, 3);
	print_message("leader 1 wrote 4..5 without syncing: followers made them commit, but it "
	              "applies nothing past 3\n");
	rh_persist(h, 1);
	rh_deliver_all(h, 100);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 100);
	for (uint64_t id = 1; id <= 3; id++) {
		const struct rh_node *n = rh_node(h, id);

		assert_int_equal(n->n_applied, 5);
		for (uint32_t i = 0; i < 5; i++)
			assert_int_equal(n->applied[i].index, i + 1);
		assert_memory_equal(n->applied[4].data, "d", 1);
	}
	print_message("after the sync all 3 nodes applied 1..5 exactly once, in order\n");
	rh_destroy(&h);
}

/* A crash loses only what was never synced, and nothing unsynced was acknowledged. */
static void test_crash_loses_only_unsynced_tail(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n2 = rh_node(h, 2);

	rh_elect(h, 1);
	rh_propose(h, 1, "a");
	rh_deliver_all(h, 100);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 100);
	n2->manual_persist = 1;
	rh_propose(h, 1, "b");
	rh_propose(h, 1, "c");
	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 2);
	assert_int_equal(n2->log_n, 4);
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 2), 2);

	rh_restart(h, 2);
	assert_int_equal(n2->log_n, 2);
	assert_int_equal(rh_status_of(h, 2).last_index, 2);
	assert_int_equal(rh_status_of(h, 2).term, 1);
	print_message("node 2 wrote 3..4 unsynced and crashed: it boots with 1..2, and the leader "
	              "never heard it hold more (match 2)\n");

	n2->manual_persist = 0;
	for (int i = 0; i < 5; i++) {
		rh_tick(h, 1, RH_HEARTBEAT_MS);
		rh_deliver_all(h, 100);
	}
	assert_int_equal(rh_status_of(h, 2).last_index, 4);
	assert_int_equal(n2->applied_index, 4);
	assert_memory_equal(n2->applied[3].data, "c", 1);
	print_message("the leader sent 3..4 again; node 2 rebuilt its state machine 1..4\n");
	rh_destroy(&h);
}

/* A lagging follower is caught up by batches of at most RAFT_APPEND_ENTRIES_MAX, pipelined. */
static void test_batched_pipelined_catch_up(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	uint32_t max_in_flight = 0, batches = 0;
	char text[16];

	rh_elect(h, 1);
	rh_cut(h, 1, 3, 1);
	for (int i = 0; i < 300; i++) {
		snprintf(text, sizeof(text), "p%d", i);
		assert_int_equal(rh_propose(h, 1, text), 0);
		rh_deliver_all(h, 100);
	}
	rh_cut(h, 1, 3, 0);
	for (int round = 0; rh_status_of(h, 3).last_index < 301; round++) {
		assert_true(round < 50);
		rh_tick(h, 1, RH_HEARTBEAT_MS);
		for (uint32_t k = 0; h->q_n > 0; k++) {
			const struct raft_msg *m = rh_peek(h, 0, 0, 0);
			uint32_t out;

			assert_true(k < 10000);
			if (m->type == RAFT_MSG_APPEND && m->to == 3 && m->u.append.n_entries > 0) {
				assert_true(m->u.append.n_entries <= RAFT_APPEND_ENTRIES_MAX);
				batches++;
			}
			out = rh_count(h, RAFT_MSG_APPEND, 1, 3);
			if (out > max_in_flight)
				max_in_flight = out;
			rh_deliver(h, 0, 0, 0);
		}
	}
	assert_same_log(h, 1, 3);
	assert_true(batches >= (300 + RAFT_APPEND_ENTRIES_MAX - 1) / RAFT_APPEND_ENTRIES_MAX);
	assert_true(max_in_flight > 1);
	assert_true(max_in_flight <= RAFT_INFLIGHT_MAX + 1);
	print_message("node 3, 300 entries behind, caught up in %u APPENDs of at most %u entries, "
	              "up to %u in flight at once (limit %u + a heartbeat)\n",
	              batches, RAFT_APPEND_ENTRIES_MAX, max_in_flight, RAFT_INFLIGHT_MAX);
	rh_destroy(&h);
}

/* The APPEND queued from 1 to `to`; fails when there is not exactly one. */
static const struct raft_msg *only_append_to(struct rh *h, uint64_t to)
{
	assert_int_equal(rh_count(h, RAFT_MSG_APPEND, 1, to), 1);
	return rh_peek(h, RAFT_MSG_APPEND, 1, to);
}

/*
 * Proposals and acks only make APPENDs due; the flush sends one APPEND per
 * follower with every entry ready and the commit index, and a commit-only
 * heartbeat only to a follower that no APPEND of the flush told.
 */
static void test_flush_sends_one_append_per_follower(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n1 = rh_node(h, 1);
	char text[16];

	rh_elect(h, 1);
	n1->hold_flush = 1;
	for (int i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "p%d", i);
		assert_int_equal(rh_propose(h, 1, text), 0);
	}
	assert_int_equal(rh_count(h, RAFT_MSG_APPEND, 1, 0), 0);
	rh_flush(h, 1);
	for (uint64_t id = 2; id <= 3; id++) {
		const struct raft_msg *m = only_append_to(h, id);

		assert_int_equal(m->u.append.n_entries, 10);
		assert_int_equal(m->u.append.commit, 1);
	}
	print_message("10 proposals sent nothing; the flush sent one APPEND of 10 entries to "
	              "each follower\n");

	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 0);
	rh_deliver_matching(h, RAFT_MSG_APPEND_RESP, 0, 1);
	assert_int_equal(rh_status_of(h, 1).commit_index, 11);
	assert_int_equal(rh_count(h, RAFT_MSG_APPEND, 1, 0), 0);
	assert_int_equal(rh_propose(h, 1, "x"), 0);
	rh_flush(h, 1);
	for (uint64_t id = 2; id <= 3; id++) {
		const struct raft_msg *m = only_append_to(h, id);

		assert_int_equal(m->u.append.n_entries, 1);
		assert_int_equal(m->u.append.commit, 11);
	}
	print_message("both acks committed 11 and sent nothing; the next flush's APPEND of "
	              "entry 12 carried commit 11 and no heartbeat went with it\n");

	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 0);
	rh_deliver_matching(h, RAFT_MSG_APPEND_RESP, 0, 1);
	assert_int_equal(rh_status_of(h, 1).commit_index, 12);
	rh_flush(h, 1);
	for (uint64_t id = 2; id <= 3; id++) {
		const struct raft_msg *m = only_append_to(h, id);

		assert_int_equal(m->u.append.n_entries, 0);
		assert_int_equal(m->u.append.commit, 12);
	}
	rh_deliver_all(h, 100);
	rh_flush(h, 1);
	assert_int_equal(rh_count(h, RAFT_MSG_APPEND, 1, 0), 0);
	for (uint64_t id = 2; id <= 3; id++)
		assert_int_equal(rh_status_of(h, id).commit_index, 12);
	print_message("with nothing to send, the flush told commit 12 in one heartbeat per "
	              "follower, and once only\n");
	rh_destroy(&h);
}

/*
 * A periodic heartbeat that reaches a follower before the leader has its ack
 * carries the new commit index but matches only the follower's old entries,
 * so the follower cannot use it. Once the ack arrives, the flush must tell
 * the commit index again (a write relayed through that follower waits for
 * it): without that it waited for the next heartbeat, 100 ms.
 */
static void test_commit_told_again_once_usable(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n1 = rh_node(h, 1);

	rh_elect(h, 1);
	rh_settle(h, 1, 3);
	n1->hold_flush = 1;
	uint64_t before = rh_status_of(h, 1).commit_index;
	assert_int_equal(rh_propose(h, 1, "x"), 0);
	rh_flush(h, 1);
	struct rh_msg *late = rh_copy(h, RAFT_MSG_APPEND, 1, 2); /* node 2 gets x late */
	assert_int_equal(rh_drop(h, RAFT_MSG_APPEND, 1, 2), 1);
	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 3);
	rh_deliver_matching(h, RAFT_MSG_APPEND_RESP, 3, 1);
	assert_int_equal(rh_status_of(h, 1).commit_index, before + 1);
	rh_tick(h, 1, RH_HEARTBEAT_MS); /* the periodic heartbeat, at node 2's old match */
	const struct raft_msg *hb = rh_peek(h, RAFT_MSG_APPEND, 1, 2);
	assert_non_null(hb);
	assert_int_equal(hb->u.append.commit, before + 1);
	assert_int_equal(hb->u.append.prev_index, before);
	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 2);
	rh_deliver_matching(h, RAFT_MSG_APPEND_RESP, 2, 1);
	assert_int_equal(rh_status_of(h, 2).commit_index, before); /* it could not use it */
	print_message("node 2 without x: the heartbeat told commit %llu at its old match %llu, "
	              "which it cannot use\n",
	              (unsigned long long)(before + 1), (unsigned long long)before);
	rh_replay(h, &late);
	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 2);
	rh_deliver_matching(h, RAFT_MSG_APPEND_RESP, 2, 1);
	rh_flush(h, 1);
	assert_int_equal(rh_count(h, RAFT_MSG_APPEND, 1, 2), 1);
	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 2);
	assert_int_equal(rh_status_of(h, 2).commit_index, before + 1);
	print_message("once its ack of x came, the flush told it again: node 2 committed %llu "
	              "without waiting for the next heartbeat\n",
	              (unsigned long long)(before + 1));
	rh_destroy(&h);
}

/* A driver that never steps FLUSH still replicates: the TICK flushes. */
static void test_tick_flushes(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n1 = rh_node(h, 1);

	rh_elect(h, 1);
	n1->hold_flush = 1;
	assert_int_equal(rh_propose(h, 1, "a"), 0);
	for (int i = 0; i < 5; i++) {
		rh_tick(h, 1, RH_HEARTBEAT_MS);
		rh_deliver_all(h, 100);
	}
	for (uint64_t id = 1; id <= 3; id++) {
		assert_int_equal(rh_status_of(h, id).commit_index, 2);
		assert_int_equal(rh_node(h, id)->applied_index, 2);
	}
	print_message("leader 1 never flushed: its ticks sent entry 2, which all 3 applied\n");
	rh_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fig7_leader_repairs_logs),
	    cmocka_unit_test(test_fig8_no_commit_of_old_term_by_counting),
	    cmocka_unit_test(test_fig8_commit_via_current_term),
	    cmocka_unit_test(test_fast_backtracking),
	    cmocka_unit_test(test_stale_append_keeps_matching_entries),
	    cmocka_unit_test(test_commit_never_decreases),
	    cmocka_unit_test(test_apply_once_in_order_when_durable),
	    cmocka_unit_test(test_crash_loses_only_unsynced_tail),
	    cmocka_unit_test(test_batched_pipelined_catch_up),
	    cmocka_unit_test(test_flush_sends_one_append_per_follower),
	    cmocka_unit_test(test_tick_flushes),
	    cmocka_unit_test(test_commit_told_again_once_usable),
	};

	return cmocka_run_group_tests_name("raft log replication", tests, NULL, NULL);
}
