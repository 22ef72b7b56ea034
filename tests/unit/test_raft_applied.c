/*
 * test_raft_applied.c - RAFT_EVENT_APPLIED: a restarted leader whose state
 * machine kept more than its snapshot (storaged durable past raftd's
 * snapmeta) learns that those entries are committed. Without it the core's
 * commit starts at the snapshot, an image of the state machine (made at its
 * applied index) is above it and refused, and a leader whose live followers
 * all need an image never commits again. Told through raft_harness; `make
 * raftd-bugs` builds it against a core with RAFT_BUG_APPLIED_IGNORED and
 * expects it to fail.
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

#define SNAP_BYTES 300000u /* two chunks */

/*
 * Leader 1 applied 1..11 (with node 2), node 3 cut off after index 1; node 1
 * snapshots at 6 without an image; node 2 goes away; node 1 restarts with its
 * state machine at 11 and wins again with node 3's vote.
 */
static struct rh *restarted_leader(void)
{
	struct rh *h = rh_lagging_cluster(4);

	assert_int_equal(rh_snapshot(h, 1, 6, 0), 0);
	rh_isolate(h, 2, 1);
	rh_restart_snapshot(h, 1, 11);
	rh_cut(h, 1, 3, 0);
	rh_tick(h, 3, 3u * RH_ELECTION_MS); /* node 3 forgets the old leader */
	rh_deliver_all(h, 1000);
	rh_elect(h, 1);
	assert_int_equal(rh_status_of(h, 1).commit_index, 6);
	assert_int_equal(rh_status_of(h, 3).last_index, 1);
	return h;
}

/* Without APPLIED: the image at 11 is refused and nothing commits. */
static void test_image_above_commit_refused(void **state)
{
	struct rh *h = restarted_leader();
	struct rh_node *n1 = rh_node(h, 1);
	struct raft_event ev = {.type = RAFT_EVENT_SNAPSHOT_TAKEN, .index = 11, .snap_size = 1};
	int asked = 0;

	for (int i = 0; i < 10; i++) {
		rh_tick(h, 1, RH_HEARTBEAT_MS);
		asked |= n1->rec.u.want_image == 6;
		rh_deliver_all(h, 1000);
	}
	assert_true(asked);
	assert_int_equal(rh_step(h, 1, &ev), KV_EINVAL);
	assert_int_equal(rh_status_of(h, 1).commit_index, 6);
	print_message("restarted leader: commit 6, state machine 11, follower needs an image; "
	              "an image at 11 is refused (the stall)\n");
	rh_destroy(&h);
	(void)state;
}

/* With APPLIED: commit moves to 11, the image of 11 goes out, the cluster commits again. */
static void test_applied_lets_the_image_go(void **state)
{
	struct rh *h = restarted_leader();
	struct rh_node *n1 = rh_node(h, 1), *n3 = rh_node(h, 3);
	struct raft_event ev = {.type = RAFT_EVENT_APPLIED, .index = 11};

	assert_int_equal(rh_step(h, 1, &ev), 0);
	assert_int_equal(rh_status_of(h, 1).commit_index, 11);
	assert_int_equal(n1->rec.u.commit_last, 0); /* nothing handed out again */
	assert_int_equal(rh_snapshot(h, 1, 11, SNAP_BYTES), 0);
	for (int i = 0; i < 20 && n3->n_installs == 0; i++) {
		rh_tick(h, 1, RH_HEARTBEAT_MS);
		rh_deliver_all(h, 1000);
	}
	assert_int_equal(n3->n_installs, 1);
	rh_settle(h, 1, 4);
	assert_int_equal(rh_propose(h, 1, "after"), 0);
	rh_settle(h, 1, 4);
	assert_int_equal(n3->applied_index, rh_status_of(h, 1).last_index);
	assert_true(rh_status_of(h, 1).commit_index > 11);
	print_message("APPLIED 11: commit 11, image of 11 installed on node 3, commit %llu\n",
	              (unsigned long long)rh_status_of(h, 1).commit_index);
	rh_destroy(&h);
	(void)state;
}

/* APPLIED never moves the commit index past the durable log, nor down. */
static void test_applied_bounds(void **state)
{
	struct rh *h = restarted_leader();
	struct raft_event past = {.type = RAFT_EVENT_APPLIED, .index = 1000};
	struct raft_event low = {.type = RAFT_EVENT_APPLIED, .index = 3};

	assert_int_equal(rh_step(h, 1, &past), KV_EINVAL);
	assert_int_equal(rh_status_of(h, 1).commit_index, 6);
	assert_int_equal(rh_step(h, 1, &low), 0);
	assert_int_equal(rh_status_of(h, 1).commit_index, 6);
	rh_destroy(&h);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_image_above_commit_refused),
	    cmocka_unit_test(test_applied_lets_the_image_go),
	    cmocka_unit_test(test_applied_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
