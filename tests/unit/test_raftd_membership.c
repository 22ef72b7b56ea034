/*
 * test_raftd_membership.c - replaying CONFIG entries onto a configuration,
 * as raftd does to save a snapshot's configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "raftd_membership.h"

#include <stdio.h>
#include <string.h>

static void change(uint8_t op, uint64_t id, uint8_t *out)
{
	out[0] = op;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(id >> (56 - 8 * i));
}

static void test_add_promote_remove(void **state)
{
	struct raft_config c = {.n = 1, .members = {{1, RAFT_VOTER}}};
	uint8_t d[RAFT_CONFIG_CHANGE_BYTES + 4];
	change(RAFT_CONFIG_ADD_LEARNER, 300, d);
	assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), 0); /* trailing bytes ok */
	assert_int_equal(c.n, 2);
	assert_int_equal(c.members[1].id, 300);
	assert_int_equal(c.members[1].role, RAFT_LEARNER);
	assert_int_equal(raftd_membership_apply(&c, d, RAFT_CONFIG_CHANGE_BYTES), 0);
	assert_int_equal(c.n, 2);
	change(RAFT_CONFIG_PROMOTE, 300, d);
	assert_int_equal(raftd_membership_apply(&c, d, RAFT_CONFIG_CHANGE_BYTES), 0);
	assert_int_equal(c.members[1].role, RAFT_VOTER);
	change(RAFT_CONFIG_REMOVE, 1, d);
	assert_int_equal(raftd_membership_apply(&c, d, RAFT_CONFIG_CHANGE_BYTES), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.members[0].id, 300);
	assert_int_equal(raftd_membership_apply(&c, d, RAFT_CONFIG_CHANGE_BYTES), 0);
	assert_int_equal(c.n, 1);
	printf("checked: add learner (twice), promote, remove (twice) give {300 voter}\n");
}

static void test_rejects(void **state)
{
	struct raft_config c = {0};
	uint8_t d[RAFT_CONFIG_CHANGE_BYTES];
	change(RAFT_CONFIG_ADD_LEARNER, 2, d);
	assert_int_equal(raftd_membership_apply(&c, d, RAFT_CONFIG_CHANGE_BYTES - 1), KV_EINVAL);
	assert_int_equal(raftd_membership_apply(&c, NULL, 0), KV_EINVAL);
	change(9, 2, d);
	assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), KV_EINVAL);
	change(RAFT_CONFIG_ADD_LEARNER, 0, d);
	assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), KV_EINVAL);
	for (uint64_t id = 1; id <= RAFT_NODES_MAX; id++) {
		change(RAFT_CONFIG_ADD_LEARNER, id, d);
		assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), 0);
	}
	change(RAFT_CONFIG_ADD_LEARNER, 100, d);
	assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), KV_EINVAL);
	assert_int_equal(c.n, RAFT_NODES_MAX);
	printf("checked: short data, unknown op, id 0 and a full configuration refused\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_promote_remove),
	    cmocka_unit_test(test_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
