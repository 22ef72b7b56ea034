/*
 * test_raft_election.c - the paper's claims about elections (section 5.2 and
 * the thesis' PreVote, CheckQuorum and leader transfer), told step by step
 * through raft_harness. Each test prints what it checked.
 */
#include "raft_harness.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A follower times out into PRECANDIDATE (same term), then CANDIDATE (term + 1). */
static void test_timeout_prevote_then_candidate(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	const struct raft_msg *m;
	uint64_t ms;

	ms = rh_tick_until(h, 1, RAFT_PRECANDIDATE, 4 * RH_ELECTION_MS);
	assert_true(ms >= RH_ELECTION_MS && ms <= 2 * RH_ELECTION_MS + RH_TICK_MS);
	assert_int_equal(rh_status_of(h, 1).term, 0);
	assert_int_equal(rh_node(h, 1)->hs.term, 0);
	for (uint64_t to = 2; to <= 3; to++) {
		m = rh_peek(h, RAFT_MSG_PREVOTE, 1, to);
		assert_non_null(m);
		assert_int_equal(m->term, 1);
		assert_int_equal(m->u.vote.last_index, 0);
	}
	assert_int_equal(rh_count(h, RAFT_MSG_VOTE, 0, 0), 0);
	print_message("node 1 timed out after %llu ms (timeout in [%u, %u)): PRECANDIDATE, term 0, "
	              "PREVOTE for term 1 to 2 and 3\n",
	              (unsigned long long)ms, RH_ELECTION_MS, 2 * RH_ELECTION_MS);

	assert_int_equal(rh_deliver(h, RAFT_MSG_PREVOTE, 1, 2), 1);
	assert_int_equal(rh_status_of(h, 2).term, 0);
	m = rh_peek(h, RAFT_MSG_PREVOTE_RESP, 2, 1);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 0);
	assert_int_equal(rh_deliver(h, RAFT_MSG_PREVOTE_RESP, 2, 1), 1);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_CANDIDATE);
	assert_int_equal(rh_status_of(h, 1).term, 1);
	assert_int_equal(rh_node(h, 1)->hs.term, 1);
	assert_int_equal(rh_node(h, 1)->hs.vote, 1);
	assert_int_equal(rh_status_of(h, 2).term, 0);
	assert_int_equal(rh_count(h, RAFT_MSG_VOTE, 1, 2), 1);
	assert_int_equal(rh_count(h, RAFT_MSG_VOTE, 1, 3), 1);
	print_message("one granted PREVOTE (2 of 3 with its own): CANDIDATE in term 1, voted for "
	              "itself, VOTE to 2 and 3; the voter's term stayed 0\n");
	rh_destroy(&h);
}

/* A candidate with a quorum of votes becomes leader and appends a no-op of its term. */
static void test_quorum_makes_leader_with_noop(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n1 = rh_node(h, 1);

	rh_tick_until(h, 1, RAFT_PRECANDIDATE, 4 * RH_ELECTION_MS);
	rh_deliver_matching(h, RAFT_MSG_PREVOTE, 1, 0);
	rh_deliver_matching(h, RAFT_MSG_PREVOTE_RESP, 0, 1);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_CANDIDATE);
	assert_int_equal(rh_deliver(h, RAFT_MSG_VOTE, 1, 2), 1);
	assert_int_equal(rh_deliver(h, RAFT_MSG_VOTE_RESP, 2, 1), 1);

	assert_int_equal(rh_status_of(h, 1).role, RAFT_LEADER);
	assert_int_equal(rh_status_of(h, 1).leader, 1);
	assert_int_equal(n1->rec.u.n_entries, 1);
	assert_int_equal(n1->rec.entries[0].type, RAFT_ENTRY_NOOP);
	assert_int_equal(n1->rec.entries[0].index, 1);
	assert_int_equal(n1->rec.entries[0].term, 1);
	print_message("VOTE from 2 (2 of 3) made 1 leader of term 1; its update appends a NOOP "
	              "at index 1, term 1\n");

	rh_deliver_all(h, 1000);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 1000);
	for (uint64_t id = 1; id <= 3; id++) {
		assert_int_equal(rh_status_of(h, id).commit_index, 1);
		assert_int_equal(rh_status_of(h, id).leader, 1);
		assert_int_equal(rh_node(h, id)->n_applied, 1);
		assert_int_equal(rh_node(h, id)->applied[0].type, RAFT_ENTRY_NOOP);
	}
	print_message("after delivery and one heartbeat the no-op is committed and applied on all "
	              "3 nodes, all know leader 1\n");
	rh_destroy(&h);
}

/* A vote is sent only after it is durable: VOTE_RESP waits in msgs_after_persist. */
static void test_vote_persisted_before_sent(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n2 = rh_node(h, 2);
	const struct raft_msg *m;

	n2->manual_persist = 1;
	rh_tick_until(h, 1, RAFT_PRECANDIDATE, 4 * RH_ELECTION_MS);
	rh_deliver(h, RAFT_MSG_PREVOTE, 1, 3);
	rh_deliver(h, RAFT_MSG_PREVOTE_RESP, 3, 1);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_CANDIDATE);
	assert_int_equal(rh_deliver(h, RAFT_MSG_VOTE, 1, 2), 1);

	assert_true(n2->rec.u.hard_state_changed);
	assert_int_equal(n2->rec.u.hard_state.term, 1);
	assert_int_equal(n2->rec.u.hard_state.vote, 1);
	m = rh_rec_find(n2, 1, RAFT_MSG_VOTE_RESP, 1);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 0);
	assert_null(rh_rec_find(n2, 0, RAFT_MSG_VOTE_RESP, 0));
	assert_int_equal(rh_count(h, RAFT_MSG_VOTE_RESP, 2, 1), 0);
	assert_int_equal(n2->durable_hs.vote, 0);
	print_message("node 2 granted its vote: hard state (1, vote 1) to save, VOTE_RESP only in "
	              "msgs_after_persist, nothing sent yet\n");

	rh_persist(h, 2);
	assert_int_equal(n2->durable_hs.vote, 1);
	assert_int_equal(rh_count(h, RAFT_MSG_VOTE_RESP, 2, 1), 1);
	rh_deliver(h, RAFT_MSG_VOTE_RESP, 2, 1);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_LEADER);
	print_message("after the persist the VOTE_RESP went out and made node 1 leader\n");
	rh_destroy(&h);
}

/* A node grants at most one vote per term (again to the same candidate is fine). */
static void test_vote_once_per_term(void **state)
{
	struct rh *h = rh_new(3, 0, 0);
	const struct raft_msg *m;
	struct rh_msg *dup;

	rh_tick_until(h, 1, RAFT_CANDIDATE, 4 * RH_ELECTION_MS);
	rh_tick_until(h, 2, RAFT_CANDIDATE, 4 * RH_ELECTION_MS);
	assert_int_equal(rh_status_of(h, 1).term, 1);
	assert_int_equal(rh_status_of(h, 2).term, 1);
	dup = rh_copy(h, RAFT_MSG_VOTE, 1, 3);
	assert_non_null(dup);

	rh_deliver(h, RAFT_MSG_VOTE, 1, 3);
	m = rh_peek(h, RAFT_MSG_VOTE_RESP, 3, 1);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 0);
	rh_deliver(h, RAFT_MSG_VOTE, 2, 3);
	m = rh_peek(h, RAFT_MSG_VOTE_RESP, 3, 2);
	assert_non_null(m);
	assert_int_equal(m->term, 1);
	assert_int_equal(m->u.vote_resp.reject, 1);
	assert_int_equal(rh_node(h, 3)->hs.vote, 1);
	print_message(
	    "node 3 granted 1 in term 1, then refused 2 in the same term; vote stays 1\n");

	rh_drop(h, RAFT_MSG_VOTE_RESP, 3, 0);
	rh_replay(h, &dup);
	m = rh_peek(h, RAFT_MSG_VOTE_RESP, 3, 1);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 0);
	print_message("a duplicated VOTE from 1 is granted again (same candidate, same term)\n");
	rh_destroy(&h);
}

/* Builds a 3-node cluster where node 1 holds terms1 and node 2 holds terms2 (term 2). */
static struct rh *two_logs(const uint64_t *terms1, uint32_t n1, const uint64_t *terms2, uint32_t n2,
                           int prevote)
{
	struct rh *h = rh_new(3, prevote, 0);

	rh_boot_log(h, 1, 2, 0, terms1, n1);
	rh_boot_log(h, 2, 2, 0, terms2, n2);
	return h;
}

static void expect_vote_refused(struct rh *h, const char *what)
{
	const struct raft_msg *m;

	rh_tick_until(h, 1, RAFT_CANDIDATE, 4 * RH_ELECTION_MS);
	assert_int_equal(rh_deliver(h, RAFT_MSG_VOTE, 1, 2), 1);
	m = rh_peek(h, RAFT_MSG_VOTE_RESP, 2, 1);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 1);
	assert_int_not_equal(rh_node(h, 2)->hs.vote, 1);
	assert_int_equal(rh_deliver(h, RAFT_MSG_VOTE, 1, 3), 1);
	m = rh_peek(h, RAFT_MSG_VOTE_RESP, 3, 1);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 0);
	print_message("%s: node 2 refused candidate 1, node 3 (empty log) granted it\n", what);
}

/* Section 5.4.1: a voter refuses a candidate whose log is less up to date. */
static void test_reject_less_up_to_date(void **state)
{
	static const uint64_t longer_older[] = {1, 1, 1};
	static const uint64_t newer[] = {1, 2};
	static const uint64_t shorter[] = {1, 1};
	static const uint64_t longer[] = {1, 1, 1};
	struct rh *h;
	const struct raft_msg *m;

	h = two_logs(longer_older, 3, newer, 2, 0);
	expect_vote_refused(h, "candidate last (3, term 1) vs voter last (2, term 2)");
	rh_destroy(&h);

	h = two_logs(shorter, 2, longer, 3, 0);
	expect_vote_refused(h, "candidate last (2, term 1) vs voter last (3, term 1)");
	rh_destroy(&h);

	h = two_logs(shorter, 2, longer, 3, 1);
	rh_tick_until(h, 1, RAFT_PRECANDIDATE, 4 * RH_ELECTION_MS);
	rh_deliver(h, RAFT_MSG_PREVOTE, 1, 2);
	m = rh_peek(h, RAFT_MSG_PREVOTE_RESP, 2, 1);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 1);
	assert_int_equal(rh_status_of(h, 2).term, 2);
	print_message("with PreVote the same check refuses the PREVOTE and node 2 keeps term 2\n");
	rh_destroy(&h);
}

/* Section 5.2: a split vote in term 1; randomized timeouts let one win term 2. */
static void test_dueling_candidates(void **state)
{
	struct rh *h = rh_new(4, 0, 0);
	struct raft_status s1, s2;
	uint64_t winner;

	rh_tick_until(h, 1, RAFT_CANDIDATE, 4 * RH_ELECTION_MS);
	rh_tick_until(h, 2, RAFT_CANDIDATE, 4 * RH_ELECTION_MS);
	rh_deliver(h, RAFT_MSG_VOTE, 1, 3);
	rh_deliver(h, RAFT_MSG_VOTE, 2, 4);
	rh_deliver_all(h, 100);
	s1 = rh_status_of(h, 1);
	s2 = rh_status_of(h, 2);
	assert_int_equal(s1.role, RAFT_CANDIDATE);
	assert_int_equal(s2.role, RAFT_CANDIDATE);
	assert_int_equal(s1.term, 1);
	assert_int_equal(rh_leader(h), 0);
	print_message("split vote: 3 voted 1, 4 voted 2, both candidates stuck in term 1\n");

	/* both time out again; their randomized timeouts differ, so one goes first */
	for (uint64_t ms = 0; s1.term == 1 && s2.term == 1; ms++) {
		assert_true(ms <= 4 * RH_ELECTION_MS);
		rh_tick(h, 1, 1);
		rh_tick(h, 2, 1);
		s1 = rh_status_of(h, 1);
		s2 = rh_status_of(h, 2);
	}
	assert_true(s1.term != s2.term);
	winner = s1.term == 2 ? 1 : 2;
	rh_deliver_all(h, 1000);
	assert_int_equal(rh_leader(h), winner);
	assert_int_equal(rh_status_of(h, winner).term, 2);
	assert_int_equal(rh_status_of(h, 3 - winner).role, RAFT_FOLLOWER);
	print_message("node %llu timed out first, campaigned in term 2 and won; the other "
	              "stepped down\n",
	              (unsigned long long)winner);
	rh_destroy(&h);
}

/* A leader that sees a higher term steps down to follower of that term. */
static void test_higher_term_steps_leader_down(void **state)
{
	struct rh *h = rh_new(3, 1, 0);
	struct raft_status st;

	rh_elect(h, 1);
	rh_isolate(h, 1, 1);
	rh_node(h, 1)->frozen = 1;
	rh_run(h, 4 * RH_ELECTION_MS);
	assert_true(rh_leader(h) == 2 || rh_leader(h) == 3);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_LEADER);
	assert_int_equal(rh_status_of(h, 1).term, 1);
	print_message("with node 1 cut off, node %llu became leader in term %llu; 1 still "
	              "thinks it leads term 1\n",
	              (unsigned long long)rh_leader(h),
	              (unsigned long long)rh_status_of(h, rh_leader(h)).term);

	rh_isolate(h, 1, 0);
	rh_node(h, 1)->frozen = 0;
	rh_run(h, 2 * RH_HEARTBEAT_MS);
	st = rh_status_of(h, 1);
	assert_int_equal(st.role, RAFT_FOLLOWER);
	assert_int_equal(st.term, rh_status_of(h, rh_leader(h)).term);
	assert_int_equal(st.leader, rh_leader(h));
	print_message("healed: node 1 saw term %llu and stepped down to follower of %llu\n",
	              (unsigned long long)st.term, (unsigned long long)st.leader);
	rh_destroy(&h);
}

/* PreVote: a partitioned node does not inflate its term nor disrupt the leader. */
static void test_prevote_partitioned_node(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct raft_status st;
	int was_precandidate = 0;

	rh_elect(h, 1);
	rh_isolate(h, 3, 1);
	for (uint64_t ms = 0; ms < 10 * RH_ELECTION_MS; ms += RH_TICK_MS) {
		rh_run(h, RH_TICK_MS);
		was_precandidate |= rh_status_of(h, 3).role == RAFT_PRECANDIDATE;
	}
	st = rh_status_of(h, 3);
	assert_true(was_precandidate);
	assert_int_equal(st.term, 1);
	assert_int_equal(rh_node(h, 3)->hs.term, 1);
	assert_int_equal(rh_leader(h), 1);
	print_message("node 3 cut off for %u ms: timed out into PRECANDIDATE, term still 1\n",
	              10 * RH_ELECTION_MS);

	rh_isolate(h, 3, 0);
	rh_run(h, 4 * RH_ELECTION_MS);
	assert_int_equal(rh_leader(h), 1);
	assert_int_equal(rh_status_of(h, 1).term, 1);
	st = rh_status_of(h, 3);
	assert_int_equal(st.role, RAFT_FOLLOWER);
	assert_int_equal(st.leader, 1);
	assert_int_equal(st.term, 1);
	print_message("healed: node 1 still leads term 1, node 3 follows it\n");
	rh_destroy(&h);
}

/* PreVote with CheckQuorum: a follower that hears its leader refuses a PREVOTE. */
static void test_prevote_refused_with_recent_leader(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	const struct raft_msg *m;
	uint64_t ms;

	rh_elect(h, 1);
	rh_deliver_all(h, 100);
	rh_cut(h, 1, 3, 1);
	for (ms = 0; rh_find(h, RAFT_MSG_PREVOTE, 3, 2) < 0; ms += RH_TICK_MS) {
		assert_true(ms <= 4 * RH_ELECTION_MS);
		rh_tick_all(h, RH_TICK_MS);
		rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 2);
		rh_deliver_matching(h, RAFT_MSG_APPEND_RESP, 2, 1);
		rh_drop(h, 0, 1, 3);
	}
	rh_deliver(h, RAFT_MSG_PREVOTE, 3, 2);
	m = rh_peek(h, RAFT_MSG_PREVOTE_RESP, 2, 3);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 1);
	assert_int_equal(rh_status_of(h, 2).term, 1);
	assert_int_equal(rh_status_of(h, 2).leader, 1);
	rh_deliver_all(h, 100);
	assert_int_equal(rh_status_of(h, 3).term, 1);
	assert_int_not_equal(rh_status_of(h, 3).role, RAFT_LEADER);
	print_message("node 3 (no heartbeats for %llu ms) asked 2 for a PREVOTE; 2 hears leader "
	              "1 and refused; terms stay 1\n",
	              (unsigned long long)ms);
	rh_destroy(&h);
}

/* CheckQuorum: a leader that hears no quorum for an election timeout steps down. */
static void test_check_quorum_steps_down(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	uint64_t ms;

	rh_elect(h, 1);
	rh_run(h, 5 * RH_ELECTION_MS);
	assert_int_equal(rh_leader(h), 1);
	print_message("with its followers answering, node 1 stays leader for %u ms\n",
	              5 * RH_ELECTION_MS);

	rh_isolate(h, 1, 1);
	for (ms = 0; rh_status_of(h, 1).role == RAFT_LEADER; ms += RH_TICK_MS) {
		assert_true(ms <= 2 * RH_ELECTION_MS);
		rh_tick(h, 1, RH_TICK_MS);
		rh_drop(h, 0, 1, 0);
	}
	assert_true(ms >= RH_ELECTION_MS);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_FOLLOWER);
	assert_int_equal(rh_status_of(h, 1).term, 1);
	print_message("cut off, node 1 stepped down after %llu ms (at most 2 election timeouts of "
	              "%u ms), term still 1\n",
	              (unsigned long long)ms, RH_ELECTION_MS);
	rh_destroy(&h);
}

/* Leader transfer: TIMEOUT_NOW to a caught-up follower, which wins at once. */
static void test_transfer_to_caught_up(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	const struct raft_msg *m;

	rh_elect(h, 1);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 100);
	assert_int_equal(rh_transfer(h, 1, 2), 0);
	assert_non_null(rh_peek(h, RAFT_MSG_TIMEOUT_NOW, 1, 2));
	rh_deliver(h, RAFT_MSG_TIMEOUT_NOW, 1, 2);
	assert_int_equal(rh_status_of(h, 2).role, RAFT_CANDIDATE);
	assert_int_equal(rh_status_of(h, 2).term, 2);
	m = rh_peek(h, RAFT_MSG_VOTE, 2, 3);
	assert_non_null(m);
	assert_int_equal(m->u.vote.transfer, 1);
	print_message("node 2 is caught up: TIMEOUT_NOW at once, it campaigns in term 2 with "
	              "transfer set (no PreVote)\n");

	rh_deliver_all(h, 1000);
	assert_int_equal(rh_leader(h), 2);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_FOLLOWER);
	assert_int_equal(rh_status_of(h, 1).leader, 2);
	assert_int_equal(rh_status_of(h, 3).leader, 2);
	print_message("node 2 won term 2 despite 3's recent leader; 1 and 3 follow 2\n");
	rh_destroy(&h);
}

/* Proposals are refused while a transfer is in progress. */
static void test_transfer_refuses_proposals(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	int rc;

	rh_elect(h, 1);
	rh_cut(h, 1, 2, 1);
	assert_int_equal(rh_propose(h, 1, "a"), 0);
	assert_int_equal(rh_propose(h, 1, "b"), 0);
	rh_deliver_all(h, 100);
	rh_cut(h, 1, 2, 0);
	assert_int_equal(rh_transfer(h, 1, 2), 0);
	assert_int_equal(rh_count(h, RAFT_MSG_TIMEOUT_NOW, 0, 0), 0);
	rc = rh_propose(h, 1, "c");
	assert_int_equal(rc, KV_EBUSY);
	print_message("transfer to lagging node 2 pending: no TIMEOUT_NOW yet, a proposal got "
	              "%d (%s)\n",
	              rc, kv_strerror(rc));

	for (uint64_t ms = 0; rh_leader(h) != 2; ms += RH_TICK_MS) {
		assert_true(ms <= RH_ELECTION_MS);
		rh_run(h, RH_TICK_MS);
	}
	assert_int_equal(rh_node(h, 2)->log_n, 4);
	assert_memory_equal(rh_node(h, 2)->log[2].data, "b", 1);
	assert_int_equal(rh_node(h, 2)->log[3].type, RAFT_ENTRY_NOOP);
	assert_int_equal(rh_status_of(h, 1).leader, 2);
	print_message("node 2 caught up to index 3 (\"b\"), got TIMEOUT_NOW and leads term %llu "
	              "with its no-op at 4\n",
	              (unsigned long long)rh_status_of(h, 2).term);
	rh_destroy(&h);
}

/* A granted vote is durable: after a crash the node still refuses another candidate. */
static void test_vote_survives_restart(void **state)
{
	struct rh *h = rh_new(3, 0, 0);
	struct rh_node *n3 = rh_node(h, 3);
	const struct raft_msg *m;
	struct rh_msg *dup;

	rh_tick_until(h, 1, RAFT_CANDIDATE, 4 * RH_ELECTION_MS);
	rh_tick_until(h, 2, RAFT_CANDIDATE, 4 * RH_ELECTION_MS);
	dup = rh_copy(h, RAFT_MSG_VOTE, 1, 3);
	n3->manual_persist = 1;
	rh_deliver(h, RAFT_MSG_VOTE, 1, 3);
	assert_int_equal(n3->hs.vote, 1);
	rh_restart(h, 3);
	assert_int_equal(n3->hs.vote, 0);
	assert_int_equal(rh_count(h, RAFT_MSG_VOTE_RESP, 3, 0), 0);
	print_message("node 3 granted 1 but crashed before its sync: the vote and its VOTE_RESP "
	              "are both gone, nobody counted it\n");

	rh_deliver(h, RAFT_MSG_VOTE, 2, 3);
	m = rh_peek(h, RAFT_MSG_VOTE_RESP, 3, 2);
	assert_null(m);
	rh_persist(h, 3);
	m = rh_peek(h, RAFT_MSG_VOTE_RESP, 3, 2);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 0);
	assert_int_equal(n3->durable_hs.vote, 2);
	print_message("so it may grant 2 in the same term, once that vote is durable\n");

	rh_restart(h, 3);
	assert_int_equal(n3->hs.term, 1);
	assert_int_equal(n3->hs.vote, 2);
	n3->manual_persist = 0;
	rh_drop(h, 0, 0, 3);
	rh_replay(h, &dup);
	m = rh_peek(h, RAFT_MSG_VOTE_RESP, 3, 1);
	assert_non_null(m);
	assert_int_equal(m->u.vote_resp.reject, 1);
	rh_drop(h, RAFT_MSG_VOTE_RESP, 3, 1);
	print_message("after a second crash node 3 booted with (term 1, vote 2) and refused "
	              "1's VOTE for term 1\n");
	for (uint64_t ms = 0; rh_status_of(h, 1).term == 1; ms += RH_TICK_MS) {
		assert_true(ms <= 4 * RH_ELECTION_MS);
		rh_tick(h, 1, RH_TICK_MS);
	}
	assert_int_equal(rh_status_of(h, 1).term, 2);
	rh_deliver(h, RAFT_MSG_VOTE, 1, 3);
	assert_int_equal(rh_peek(h, RAFT_MSG_VOTE_RESP, 3, 1)->u.vote_resp.reject, 0);
	print_message("a new term (2) frees its vote again: it grants 1\n");
	rh_destroy(&h);
}

/* CheckQuorum's lease: a follower that hears its leader ignores a VOTE of a higher term. */
static void test_lease_ignores_disruptive_vote(void **state)
{
	struct rh *h = rh_new(3, 0, 1);
	struct raft_status before;

	rh_elect(h, 1);
	rh_deliver_all(h, 100);
	/* only node 3's clock moves: it hears no heartbeat, 2 heard one just now */
	rh_tick_until(h, 3, RAFT_CANDIDATE, 4 * RH_ELECTION_MS);
	assert_int_equal(rh_status_of(h, 3).term, 2);
	before = rh_status_of(h, 2);

	rh_deliver(h, RAFT_MSG_VOTE, 3, 2);
	assert_int_equal(rh_status_of(h, 2).term, 1);
	assert_int_equal(rh_status_of(h, 2).leader, 1);
	assert_int_equal(rh_status_of(h, 2).dropped_msgs, before.dropped_msgs + 1);
	assert_int_equal(rh_count(h, RAFT_MSG_VOTE_RESP, 2, 3), 0);
	print_message(
	    "without PreVote, node 3 timed out and campaigned in term 2; follower 2, which "
	    "heard leader 1 within the timeout, ignored its VOTE and kept term 1\n");
	rh_destroy(&h);
}

/* A transfer that does not finish within an election timeout is abandoned. */
static void test_transfer_abandoned_after_timeout(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	uint64_t ms;

	rh_elect(h, 1);
	rh_cut(h, 1, 2, 1);
	assert_int_equal(rh_propose(h, 1, "a"), 0);
	assert_int_equal(rh_transfer(h, 1, 2), 0);
	assert_int_equal(rh_transfer(h, 1, 3), KV_EBUSY);
	for (ms = 0; rh_propose(h, 1, "b") == KV_EBUSY; ms += RH_TICK_MS) {
		assert_true(ms <= 2 * RH_ELECTION_MS);
		rh_tick(h, 1, RH_TICK_MS);
		rh_deliver_all(h, 100);
	}
	assert_true(ms >= RH_ELECTION_MS);
	assert_int_equal(rh_leader(h), 1);
	assert_int_equal(rh_status_of(h, 1).term, 1);
	assert_int_equal(h->delivered_type[RAFT_MSG_TIMEOUT_NOW], 0);
	print_message("transfer to unreachable node 2: a second transfer is refused (busy); "
	              "after %llu ms (timeout %u) node 1 leads on in term 1 and takes proposals\n",
	              (unsigned long long)ms, RH_ELECTION_MS);
	rh_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timeout_prevote_then_candidate),
	    cmocka_unit_test(test_quorum_makes_leader_with_noop),
	    cmocka_unit_test(test_vote_persisted_before_sent),
	    cmocka_unit_test(test_vote_once_per_term),
	    cmocka_unit_test(test_reject_less_up_to_date),
	    cmocka_unit_test(test_dueling_candidates),
	    cmocka_unit_test(test_higher_term_steps_leader_down),
	    cmocka_unit_test(test_prevote_partitioned_node),
	    cmocka_unit_test(test_prevote_refused_with_recent_leader),
	    cmocka_unit_test(test_check_quorum_steps_down),
	    cmocka_unit_test(test_transfer_to_caught_up),
	    cmocka_unit_test(test_transfer_refuses_proposals),
	    cmocka_unit_test(test_vote_survives_restart),
	    cmocka_unit_test(test_lease_ignores_disruptive_vote),
	    cmocka_unit_test(test_transfer_abandoned_after_timeout),
	};

	return cmocka_run_group_tests_name("raft elections", tests, NULL, NULL);
}
