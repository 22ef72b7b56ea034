/*
 * test_raftd_compact.c - how far raftd compacts its log (raftd_compact.h),
 * told as the story it protects: storaged applies without syncing LMDB, the
 * log is compacted, a power cut takes storaged back to its durable index,
 * and raftd must still hold every entry storaged has to replay.
 *
 * `make raftd-bugs` builds this test against -DRAFTD_BUG_COMPACT_ABOVE_DURABLE
 * and requires test_power_cut_replay to fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "raftd_compact.h"

#include <stdio.h>

/* A log holding [first, last] after compaction, and storaged's state machine. */
struct t_node {
	uint64_t first; /* first index still in the log */
	uint64_t last;
	uint64_t snap_index;
	uint64_t sm_applied; /* LMDB as the process sees it (page cache) */
	uint64_t sm_durable; /* LMDB as the disk holds it (last mdb_env_sync) */
};

static void t_compact(struct t_node *n, uint64_t compact_index)
{
	uint64_t b = raftd_compact_bound(compact_index, n->snap_index, n->sm_durable);
	if (b >= n->first)
		n->first = b + 1;
}

/* The power cut: LMDB falls back to its durable image; raftd replays from the log. */
static int t_replay_possible(const struct t_node *n)
{
	uint64_t applied = n->sm_durable; /* what survived */
	return applied + 1 >= n->first;   /* every entry after it is still in the log */
}

static void test_power_cut_replay(void **state)
{
	(void)state;
	/* a snapshot at 8192, storaged synced up to s and applied up to 9000 */
	const uint64_t durables[] = {0, 1, 100, 8000, 8191, 8192, 8500, 9000};
	for (size_t i = 0; i < sizeof(durables) / sizeof(durables[0]); i++) {
		struct t_node n = {.first = 1,
		                   .last = 9000,
		                   .snap_index = 8192,
		                   .sm_applied = 9000,
		                   .sm_durable = durables[i]};
		t_compact(&n, 8192);
		assert_true(n.first <= 8193); /* never past the snapshot */
		if (!t_replay_possible(&n))
			fail_msg("durable=%llu: log starts at %llu, storaged must replay from %llu",
			         (unsigned long long)n.sm_durable, (unsigned long long)n.first,
			         (unsigned long long)(n.sm_durable + 1));
	}
	printf(
	    "checked: after a power cut at any durable index storaged can replay from the log\n");
}

/*
 * Compaction copies nothing: the snapshot is LMDB itself at the index raftd
 * picks. After a power cut LMDB holds its durable index, so a snapshot (and
 * the log dropped below it) past that index would leave entries nobody has.
 */
static void test_snapshot_at_durable_index(void **state)
{
	(void)state;
	const uint64_t durables[] = {0, 1, 100, 8000, 8999, 9000};
	for (size_t i = 0; i < sizeof(durables) / sizeof(durables[0]); i++) {
		uint64_t snap = raftd_compact_snapshot_index(9000, durables[i]);
		struct t_node n = {.first = 1,
		                   .last = 9000,
		                   .snap_index = snap,
		                   .sm_applied = 9000,
		                   .sm_durable = durables[i]};
		t_compact(&n, snap);
		if (snap > durables[i] || !t_replay_possible(&n))
			fail_msg("durable=%llu: snapshot at %llu, log starts at %llu",
			         (unsigned long long)durables[i], (unsigned long long)snap,
			         (unsigned long long)n.first);
	}
	assert_int_equal(raftd_compact_snapshot_index(50, 80), 50); /* never past applied */
	printf("checked: the copy-free snapshot is at min(applied, durable); a power cut after it "
	       "can still replay\n");
}

/* A slow follower keeps its entries in the log, up to a limit (a dead one). */
static void test_keep_for_followers(void **state)
{
	(void)state;
	assert_int_equal(raftd_compact_keep_for_followers(9000, 9500, 10000, 2048), 9000);
	assert_int_equal(raftd_compact_keep_for_followers(9000, 8500, 10000, 2048), 8500);
	assert_int_equal(raftd_compact_keep_for_followers(9000, 100, 10000, 2048), 7952);
	assert_int_equal(raftd_compact_keep_for_followers(9000, 0, 1000, 2048), 0);
	printf("checked: the snapshot index stops at the slowest follower's match, never keeping "
	       "more than keep_max entries for it\n");
}

static void test_bound_values(void **state)
{
	(void)state;
	assert_int_equal(raftd_compact_bound(100, 100, 500), 100); /* durable ahead: the snapshot */
	assert_int_equal(raftd_compact_bound(100, 50, 500), 50);   /* never past the snapshot */
	assert_int_equal(raftd_compact_bound(0, 100, 100), 0);
	printf("checked: the bound never passes the snapshot or the core's compact index\n");
}

static void test_bound_held_by_durable(void **state)
{
	(void)state;
	assert_int_equal(raftd_compact_bound(100, 100, 60), 60);
	assert_int_equal(raftd_compact_bound(100, 100, 0), 0); /* unknown: keep everything */
	printf("checked: the bound stops at storaged's durable index\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bound_values),
	    cmocka_unit_test(test_bound_held_by_durable),
	    cmocka_unit_test(test_power_cut_replay),
	    cmocka_unit_test(test_snapshot_at_durable_index),
	    cmocka_unit_test(test_keep_for_followers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
