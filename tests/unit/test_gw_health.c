/*
 * test_gw_health.c - GET /readyz's decision (services/gatewayd/gw_health.c):
 * ready only with a fresh STATUS and STATS, a known leader, and the applied
 * index within GW_READY_LAG_MAX of the leader's commit index as announced,
 * not this node's own commit index, which a node restarted with an empty
 * disk raises only as fast as its log comes back (GW_BUG_READY_OWN_COMMIT).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw.h"

#include <string.h>

#define NOW_MS 100000u

static struct gw t_gw;

/* A fresh STATUS and STATS: leader 1, commit/leader_commit as given, applied as given. */
static void set_caches(uint64_t commit, uint64_t leader_commit, uint64_t applied)
{
	memset(&t_gw, 0, sizeof(t_gw));
	t_gw.status.valid = 1;
	t_gw.status.at_ms = NOW_MS;
	t_gw.status.msg.leader_id = 1;
	t_gw.status.msg.commit_index = commit;
	t_gw.status.msg.leader_commit = leader_commit;
	t_gw.stats.valid = 1;
	t_gw.stats.at_ms = NOW_MS;
	t_gw.stats.msg.applied_index = applied;
}

static void test_caught_up_is_ready(void **state)
{
	set_caches(5000, 5000, 5000);
	assert_null(gw_health_not_ready(&t_gw, NOW_MS));
	set_caches(5000, 5000, 5000 - GW_READY_LAG_MAX); /* the lag tolerated */
	assert_null(gw_health_not_ready(&t_gw, NOW_MS));
	set_caches(5000, 5000, 5000 - GW_READY_LAG_MAX - 1);
	assert_non_null(gw_health_not_ready(&t_gw, NOW_MS));
}

/* The measured case: restarted empty, its own commit follows its short log. */
static void test_empty_node_behind_leader_not_ready(void **state)
{
	set_caches(0, 80000, 0);
	assert_non_null(gw_health_not_ready(&t_gw, NOW_MS));
	set_caches(3000, 80000, 2900); /* own commit and applied close, far from the leader's */
	assert_non_null(gw_health_not_ready(&t_gw, NOW_MS));
	set_caches(79500, 80000, 79400);
	assert_null(gw_health_not_ready(&t_gw, NOW_MS));
}

static void test_unknowns_not_ready(void **state)
{
	set_caches(10, 10, 10);
	t_gw.status.msg.leader_id = 0;
	assert_string_equal(gw_health_not_ready(&t_gw, NOW_MS), "no leader is known");
	set_caches(10, 10, 10);
	assert_string_equal(gw_health_not_ready(&t_gw, NOW_MS + GW_CACHE_FRESH_MS + 1),
	                    "raftd does not answer");
	set_caches(10, 10, 10);
	t_gw.stats.valid = 0;
	assert_string_equal(gw_health_not_ready(&t_gw, NOW_MS), "storaged does not answer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_caught_up_is_ready),
	    cmocka_unit_test(test_empty_node_behind_leader_not_ready),
	    cmocka_unit_test(test_unknowns_not_ready),
	};
	return cmocka_run_group_tests_name("test_gw_health", tests, NULL, NULL);
}
