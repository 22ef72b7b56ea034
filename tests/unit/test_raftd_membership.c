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
	memset(out, 0, RAFT_CONFIG_CHANGE_BYTES);
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

static void test_bind_and_rejoin(void **state)
{
	struct raft_config c = {.n = 2, .members = {{1, RAFT_VOTER, 0, 0}, {2, RAFT_VOTER, 0, 0}}};
	struct raft_config_change ch = {.op = RAFT_CONFIG_BIND, .node = 2, .incarnation = 77};
	uint8_t d[RAFT_CONFIG_CHANGE_BYTES];

	raft_config_change_encode(&ch, d);
	assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), 0);
	assert_int_equal(c.members[1].incarnation, 77);
	ch.incarnation = 78; /* a bound member is not bound again */
	raft_config_change_encode(&ch, d);
	assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), 0);
	assert_int_equal(c.members[1].incarnation, 77);
	ch.op = RAFT_CONFIG_REJOIN; /* its disk was lost: a learner, to be promoted */
	raft_config_change_encode(&ch, d);
	assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), 0);
	assert_int_equal(c.members[1].incarnation, 78);
	assert_int_equal(c.members[1].role, RAFT_LEARNER);
	assert_int_equal(c.members[1].flags, RAFT_CONFIG_FLAG_PROMOTE);
	ch.incarnation = 0; /* BIND and REJOIN need an incarnation */
	raft_config_change_encode(&ch, d);
	assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), KV_EINVAL);
	ch = (struct raft_config_change){.op = RAFT_CONFIG_PROMOTE, .node = 2};
	raft_config_change_encode(&ch, d);
	assert_int_equal(raftd_membership_apply(&c, d, sizeof(d)), 0);
	assert_int_equal(c.members[1].role, RAFT_VOTER);
	assert_int_equal(c.members[1].flags, 0);
	printf("checked: bind once, rejoin makes a flagged learner, promote clears the flag\n");
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
	    cmocka_unit_test(test_bind_and_rejoin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
