/*
 * test_raft_membership.c - single-server membership changes (thesis chapter
 * 4): learners that neither vote nor count, promotion, removal, one change at
 * a time, and a removed leader stepping down. Told step by step through
 * raft_harness; each test prints what it checked.
 */
#include "raft_harness.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The role of id in node's configuration, or 0 when it is not a member. */
static uint8_t role_in_config(struct rh *h, uint64_t node, uint64_t id)
{
	struct raft_status st = rh_status_of(h, node);

	for (uint32_t i = 0; i < st.config.n; i++)
		if (st.config.members[i].id == id)
			return st.config.members[i].role;
	return 0;
}

static struct rh *settled_cluster(void)
{
	struct rh *h = rh_new(3, 1, 1);

	rh_elect(h, 1);
	rh_settle(h, 1, 2);
	return h;
}

static void cut_leader(struct rh *h, int on)
{
	rh_cut(h, 1, 2, on);
	rh_cut(h, 1, 3, on);
}

/* A learner catches up but never votes nor counts for the quorum. */
static void test_learner_does_not_vote_or_count(void **state)
{
	static const struct raft_config empty;
	struct rh *h = settled_cluster();
	uint64_t commit;

	rh_propose(h, 1, "a");
	rh_add_node(h, 4, &empty);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_ADD_LEARNER, 4), 0);
	rh_settle(h, 1, 2);
	assert_int_equal(role_in_config(h, 1, 4), RAFT_LEARNER);
	assert_int_equal(rh_status_of(h, 4).is_learner, 1);
	assert_int_equal(rh_status_of(h, 4).last_index, 3);
	assert_int_equal(rh_node(h, 4)->applied_index, 3);
	print_message("learner 4 added at index 3 and caught up from an empty log to 3\n");

	for (uint64_t id = 1; id <= 3; id++)
		rh_node(h, id)->frozen = 1;
	rh_isolate(h, 4, 1);
	rh_run(h, 10 * RH_ELECTION_MS);
	assert_int_equal(rh_status_of(h, 4).role, RAFT_FOLLOWER);
	assert_int_equal(rh_status_of(h, 4).term, 1);
	assert_int_equal(h->n_lost, 0);
	print_message("cut off for %u ms, learner 4 never campaigned (no message, term 1)\n",
	              10 * RH_ELECTION_MS);
	rh_isolate(h, 4, 0);
	for (uint64_t id = 1; id <= 3; id++)
		rh_node(h, id)->frozen = 0;

	commit = rh_status_of(h, 1).commit_index;
	cut_leader(h, 1);
	assert_int_equal(rh_propose(h, 1, "b"), 0);
	rh_settle(h, 1, 2);
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 4), 4);
	assert_int_equal(rh_status_of(h, 1).commit_index, commit);
	print_message("voters 2 and 3 cut off: learner 4 holds index 4, commit stays %llu\n",
	              (unsigned long long)commit);
	cut_leader(h, 0);
	rh_settle(h, 1, 2);
	assert_int_equal(rh_status_of(h, 1).commit_index, 4);
	print_message("healed: index 4 commits with the voters\n");
	rh_destroy(&h);
}

/* A learner is promoted and then counts; a voter is removed. */
static void test_promote_and_remove(void **state)
{
	static const struct raft_config empty;
	struct rh *h = settled_cluster();

	rh_add_node(h, 4, &empty);
	rh_cut(h, 1, 4, 1);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_ADD_LEARNER, 4), 0);
	rh_settle(h, 1, 2);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_PROMOTE, 4), KV_EBUSY);
	print_message("learner 4 cut off and behind: PROMOTE refused (%s)\n",
	              kv_err_code(KV_EBUSY));
	rh_cut(h, 1, 4, 0);
	rh_settle(h, 1, 2);
	rh_settle(h, 1, 2);
	assert_int_equal(raft_match_of(rh_node(h, 1)->r, 4), 2);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_PROMOTE, 4), 0);
	rh_settle(h, 1, 2);
	assert_int_equal(role_in_config(h, 1, 4), RAFT_VOTER);
	assert_int_equal(rh_status_of(h, 4).is_learner, 0);
	print_message("node 4 promoted at index 3: a voter in the leader's and its own config\n");

	rh_cut(h, 1, 3, 1);
	assert_int_equal(rh_propose(h, 1, "a"), 0);
	rh_settle(h, 1, 2);
	assert_int_equal(rh_status_of(h, 1).commit_index, 4);
	rh_cut(h, 1, 2, 1);
	assert_int_equal(rh_propose(h, 1, "b"), 0);
	rh_settle(h, 1, 2);
	assert_int_equal(rh_status_of(h, 1).commit_index, 4);
	print_message("4 voters: index 4 commits with 1, 2, 4; index 5 does not with 1, 4\n");
	rh_cut(h, 1, 2, 0);
	rh_cut(h, 1, 3, 0);
	rh_settle(h, 1, 2);
	assert_int_equal(rh_status_of(h, 1).commit_index, 5);

	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_REMOVE, 3), 0);
	rh_settle(h, 1, 2);
	assert_int_equal(role_in_config(h, 1, 3), 0);
	assert_int_equal(rh_status_of(h, 1).config.n, 3);
	assert_int_equal(rh_status_of(h, 1).commit_index, 6);
	assert_int_equal(role_in_config(h, 2, 3), 0);
	print_message("node 3 removed at index 6: configuration {1, 2, 4} on the leader and 2\n");
	rh_destroy(&h);
}

/* One change at a time, and only after the leader committed an entry of its term. */
static void test_one_change_at_a_time(void **state)
{
	struct rh *h = rh_new(3, 1, 1);

	rh_campaign(h, 1);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_ADD_LEARNER, 4), KV_ECONFIG);
	print_message("a new leader whose no-op is not committed refuses a change: %s\n",
	              kv_err_code(KV_ECONFIG));
	rh_settle(h, 1, 2);

	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_ADD_LEARNER, 4), 0);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_ADD_LEARNER, 5), KV_ECONFIG);
	assert_int_equal(rh_propose(h, 1, "plain writes go on"), 0);
	print_message("with ADD_LEARNER 4 uncommitted, ADD_LEARNER 5 is refused (%s); plain "
	              "proposals are not\n",
	              kv_err_code(KV_ECONFIG));
	rh_settle(h, 1, 2);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_ADD_LEARNER, 5), 0);
	assert_int_equal(rh_propose_config(h, 2, RAFT_CONFIG_ADD_LEARNER, 6), KV_ENOTLEADER);
	print_message("once it committed, ADD_LEARNER 5 is taken; a follower refuses changes "
	              "(%s)\n",
	              kv_err_code(KV_ENOTLEADER));
	rh_destroy(&h);
}

/* A leader that removes itself leads until the change commits, then steps down. */
static void test_removed_leader_steps_down(void **state)
{
	struct rh *h = settled_cluster();
	uint64_t leader;

	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_REMOVE, 1), 0);
	assert_int_equal(rh_status_of(h, 1).role, RAFT_LEADER);
	assert_int_equal(rh_status_of(h, 1).commit_index, 1);
	print_message("leader 1 proposed its own removal at index 2: still leader\n");

	rh_deliver_all(h, 1000);
	assert_int_equal(rh_status_of(h, 1).commit_index, 2);
	assert_int_not_equal(rh_status_of(h, 1).role, RAFT_LEADER);
	print_message("index 2 committed by 2 and 3: node 1 stepped down\n");

	rh_run(h, 6 * RH_ELECTION_MS);
	leader = rh_leader(h);
	assert_true(leader == 2 || leader == 3);
	assert_int_not_equal(rh_status_of(h, 1).role, RAFT_LEADER);
	assert_int_equal(role_in_config(h, leader, 1), 0);
	print_message("node %llu leads term %llu among {2, 3}; node 1 did not come back\n",
	              (unsigned long long)leader, (unsigned long long)rh_status_of(h, leader).term);
	rh_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_learner_does_not_vote_or_count),
	    cmocka_unit_test(test_promote_and_remove),
	    cmocka_unit_test(test_one_change_at_a_time),
	    cmocka_unit_test(test_removed_leader_steps_down),
	};

	return cmocka_run_group_tests_name("raft membership", tests, NULL, NULL);
}
