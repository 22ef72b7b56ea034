/*
 * test_raft_identity.c - a node that lost its disk (F15) through the unit
 * harness: it must not help elect a leader that lacks acknowledged entries,
 * the leader notices its new incarnation and replaces it (a learner, then a
 * voter once caught up), and a rejection below a follower's match resets its
 * progress instead of being ignored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "raft_harness.h"

#include <stdio.h>
#include <string.h>

static const struct raft_member *member_of(const struct raft_status *s, uint64_t id)
{
	for (uint32_t i = 0; i < s->config.n; i++)
		if (s->config.members[i].id == id)
			return &s->config.members[i];
	return NULL;
}

/*
 * Nodes 1 (leader) and 3 hold entries 2 committed without node 2. Node 3
 * loses its disk and node 1 is cut off: node 2 must not win with node 3's
 * vote. Returns the harness with node 2 campaigning and 1 still isolated.
 */
static struct rh *lagging_and_wiped(void)
{
	struct rh *h = rh_new(3, 1, 1);
	struct raft_status s;

	rh_elect(h, 1);
	rh_isolate(h, 2, 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rh_propose(h, 1, "x"), 0);
	rh_run(h, 200);
	s = rh_status_of(h, 1);
	assert_true(s.commit_index >= 6);
	assert_true(rh_status_of(h, 2).last_index < s.commit_index);
	rh_wipe(h, 3);
	rh_isolate(h, 2, 0);
	rh_isolate(h, 1, 1);
	return h;
}

static void test_wiped_node_does_not_elect(void **state)
{
	struct rh *h = lagging_and_wiped();
	uint64_t committed = rh_status_of(h, 1).commit_index;

	rh_run(h, 3000);
	assert_int_not_equal(rh_status_of(h, 2).role, RAFT_LEADER);
	assert_int_not_equal(rh_status_of(h, 3).role, RAFT_LEADER);
	print_message("node 1 cut off, node 3 wiped (commit %llu lives on 1 and the lost disk): "
	              "node 2 stays %s (node 3's grants do not count; VOTEs it granted: %llu)\n",
	              (unsigned long long)committed,
	              rh_status_of(h, 2).role == RAFT_FOLLOWER ? "follower" : "a candidate",
	              (unsigned long long)rh_status_of(h, 3).votes_granted);

	rh_isolate(h, 1, 0);
	rh_run(h, 5000);
	assert_true(rh_leader(h) == 1 || rh_leader(h) == 2);
	assert_true(rh_status_of(h, rh_leader(h)).commit_index >= committed);
	print_message("node 1 back: leader %llu keeps every committed entry\n",
	              (unsigned long long)rh_leader(h));
	rh_destroy(&h);
}

static void test_wiped_node_rejoins_and_is_promoted(void **state)
{
	struct rh *h = lagging_and_wiped();
	struct raft_status s;
	const struct raft_member *m3;
	uint64_t lead;

	rh_isolate(h, 1, 0);
	rh_run(h, 5000);
	lead = rh_leader(h);
	assert_int_not_equal(lead, 0);
	s = rh_status_of(h, lead);
	m3 = member_of(&s, 3);
	assert_non_null(m3);
	assert_int_equal(m3->incarnation, rh_node(h, 3)->opts.incarnation);
	assert_int_equal(m3->role, RAFT_VOTER);
	assert_int_equal(m3->flags, 0);
	assert_true(rh_status_of(h, 3).last_index >= s.commit_index - 1);
	assert_int_equal(rh_status_of(h, 3).replaced, 0);
	print_message("leader %llu replaced node 3 (incarnation %llu): a learner, then a voter "
	              "again once caught up\n",
	              (unsigned long long)lead, (unsigned long long)m3->incarnation);
	rh_destroy(&h);
}

/* The measured bug: a follower restarted empty under the same leader caught up never. */
static void test_empty_follower_catches_up(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	uint64_t commit;

	rh_elect(h, 1);
	for (int i = 0; i < 8; i++)
		assert_int_equal(rh_propose(h, 1, "y"), 0);
	rh_run(h, 300);
	commit = rh_status_of(h, 1).commit_index;
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 3), commit);
	rh_wipe(h, 3);
	rh_run(h, 3000);
	assert_int_equal(rh_leader(h), 1);
	assert_true(rh_status_of(h, 3).commit_index >= commit);
	assert_true(rh_node(h, 3)->applied_index >= commit);
	print_message("node 3 wiped under leader 1 (its match was %llu): applied %llu again\n",
	              (unsigned long long)commit, (unsigned long long)rh_node(h, 3)->applied_index);
	rh_destroy(&h);
}

/*
 * A node restarted empty learns the leader's commit index from the first
 * message, long before its own commit index (what it matches) gets there:
 * status.leader_commit is what /readyz compares the applied index with.
 */
static void test_wiped_node_knows_leader_commit(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	uint64_t commit;

	rh_elect(h, 1);
	for (int i = 0; i < 8; i++)
		assert_int_equal(rh_propose(h, 1, "w"), 0);
	rh_run(h, 300);
	commit = rh_status_of(h, 1).commit_index;
	assert_true(commit >= 8);
	assert_int_equal(rh_status_of(h, 1).leader_commit, commit); /* the leader: its own */
	rh_wipe(h, 3);
	assert_int_equal(rh_status_of(h, 3).leader_commit, 0);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	assert_true(rh_deliver(h, RAFT_MSG_APPEND, 1, 3));
	assert_int_equal(rh_status_of(h, 3).leader, 1);
	assert_int_equal(rh_status_of(h, 3).commit_index, 0);
	assert_int_equal(rh_status_of(h, 3).leader_commit, commit);
	rh_run(h, 3000);
	assert_int_equal(rh_status_of(h, 3).commit_index, rh_status_of(h, 3).leader_commit);
	rh_destroy(&h);
}

/*
 * A new cluster's first leader loses its leadership before it heard from anyone
 * after its election (their acknowledgements lost: a stalled disk, a partition),
 * so it recorded only itself. The others hold its entries but are not recorded;
 * they used to never campaign and their votes never counted once their logs held
 * anything: no leader ever again (seen in TestListPagination under load). Now a
 * voter not recorded campaigns and counts, and an election needs every voter.
 */
static void test_first_leader_lost_before_recording(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	uint64_t leader;

	for (uint64_t id = 1; id <= 3; id++)
		rh_wipe(h, id); /* a brand-new cluster: the seed configuration records no one */
	rh_campaign(h, 1);
	/* the votes still on their way would tell the new leader their senders' disks */
	rh_drop(h, RAFT_MSG_PREVOTE_RESP, 0, 1);
	rh_drop(h, RAFT_MSG_VOTE_RESP, 0, 1);
	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 2);
	rh_deliver_matching(h, RAFT_MSG_APPEND, 1, 3);
	rh_drop(h, RAFT_MSG_APPEND_RESP, 2, 1);
	rh_drop(h, RAFT_MSG_APPEND_RESP, 3, 1);
	assert_true(rh_status_of(h, 2).last_index >= 1);
	rh_isolate(h, 1, 1);
	rh_run(h, 20 * RH_ELECTION_MS);    /* CheckQuorum: node 1 steps down */
	assert_int_equal(rh_leader(h), 0); /* 2 and 3 need node 1's vote too */
	rh_isolate(h, 1, 0);
	rh_run(h, 40 * RH_ELECTION_MS);
	leader = rh_leader(h);
	if (leader == 0)
		fail_msg("no leader elected after the first leader lost its leadership unrecorded");
	print_message("node %llu leads after node 1 lost its leadership unrecorded\n",
	              (unsigned long long)leader);
	rh_destroy(&h);
}

/* A rejection saying the log ends below the match resets the progress. */
static void test_rejection_below_match_resets(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct raft_msg rej;
	uint64_t commit;

	rh_elect(h, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rh_propose(h, 1, "z"), 0);
	rh_run(h, 300);
	commit = rh_status_of(h, 1).commit_index;
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 2), commit);
	memset(&rej, 0, sizeof(rej));
	rej.type = RAFT_MSG_APPEND_RESP;
	rej.from = 2;
	rej.to = 1;
	rej.term = rh_status_of(h, 1).term;
	rej.incarnation = rh_incarnation(2);
	rej.u.append_resp.reject = 1;
	rej.u.append_resp.hint_index = 1; /* "my log ends at 0" */
	rh_inject(h, &rej);
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 2), 0);
	rh_run(h, 500);
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 2), rh_status_of(h, 1).last_index);
	print_message("match %llu reset to 0 by a rejection at 1; re-probed back to %llu\n",
	              (unsigned long long)commit,
	              (unsigned long long)raft_match_of(rh_node(h, 1)->r, 2));
	rh_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wiped_node_does_not_elect),
	    cmocka_unit_test(test_wiped_node_rejoins_and_is_promoted),
	    cmocka_unit_test(test_empty_follower_catches_up),
	    cmocka_unit_test(test_rejection_below_match_resets),
	    cmocka_unit_test(test_wiped_node_knows_leader_commit),
	    cmocka_unit_test(test_first_leader_lost_before_recording),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
