/*
 * test_raftd_relay.c - a follower's relays to the leader (raftd_relay_table.c):
 * each answer reaches the gateway request it belongs to, once, and only from
 * the node the relay went to; an answer meant for an earlier raftd process
 * finds nothing; the leader takes relays only from members, within the size
 * bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "raftd_relay_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct raftd_relay_table *relay_new(uint64_t first_id)
{
	struct raftd_relay_table *t = malloc(sizeof(*t));
	assert_non_null(t);
	raftd_relay_table_init(t, first_id);
	return t;
}

static void test_answer_once_to_its_request(void **state)
{
	struct raftd_relay_table *t = relay_new(1000);
	uint64_t a = raftd_relay_table_add(t, 2, "gw-a", 4, 11);
	uint64_t b = raftd_relay_table_add(t, 2, "gw-bb", 5, 22);
	assert_true(a != 0 && b != 0 && a != b);
	assert_int_equal(t->waiting, 2);
	const struct raftd_relay_slot *s = raftd_relay_table_take(t, b, 2);
	assert_non_null(s);
	assert_int_equal(s->req_id, 22);
	assert_int_equal(s->identity_len, 5);
	assert_memory_equal(s->identity, "gw-bb", 5);
	assert_null(raftd_relay_table_take(t, b, 2)); /* a duplicate answer finds nothing */
	assert_null(raftd_relay_table_take(t, a, 3)); /* not the node it went to */
	assert_int_equal(t->waiting, 1);
	s = raftd_relay_table_take(t, a, 2);
	assert_non_null(s);
	assert_int_equal(s->req_id, 11);
	assert_int_equal(t->waiting, 0);
	assert_null(raftd_relay_table_take(t, 0, 2));
	printf("checked: each answer reaches its request once, only from the node relayed to\n");
	free(t);
}

/*
 * raftd restarted: a late answer to the old process's relay must not be
 * taken for a new relay (a "not leader" meant for a relay the old process
 * made would let the gateway send an appended write again).
 */
static void test_answer_to_an_earlier_process_is_dropped(void **state)
{
	struct raftd_relay_table *before = relay_new(0x1234567890ull);
	uint64_t old_id = raftd_relay_table_add(before, 2, "gw", 2, 7);
	struct raftd_relay_table *after = relay_new(0x7777777777ull);
	uint64_t new_id = raftd_relay_table_add(after, 2, "gw", 2, 8);
	assert_int_not_equal(old_id, new_id);
	assert_null(raftd_relay_table_take(after, old_id, 2));
	const struct raftd_relay_slot *s = raftd_relay_table_take(after, new_id, 2);
	assert_non_null(s);
	assert_int_equal(s->req_id, 8);
	printf(
	    "checked: a restarted raftd's relay ids start elsewhere; the old answer is dropped\n");
	free(before);
	free(after);
}

static void test_ring_overwrites_the_oldest(void **state)
{
	struct raftd_relay_table *t = relay_new(UINT64_MAX);
	assert_int_equal(raftd_relay_table_add(t, 2, "g", 1, 1), UINT64_MAX);
	assert_int_equal(raftd_relay_table_add(t, 2, "g", 1, 1), 1); /* 0 names no relay */
	raftd_relay_table_init(t, 77);
	uint64_t first = raftd_relay_table_add(t, 2, "g", 1, 1);
	for (unsigned i = 0; i < RAFTD_RELAY_SLOTS - 1; i++)
		assert_int_not_equal(raftd_relay_table_add(t, 2, "g", 1, 100 + i), 0);
	assert_int_equal(t->overwritten, 0);
	uint64_t last = raftd_relay_table_add(t, 2, "h", 1, 7);
	assert_int_equal(t->overwritten, 1);
	assert_int_equal(t->waiting, RAFTD_RELAY_SLOTS);
	assert_null(raftd_relay_table_take(t, first, 2));
	const struct raftd_relay_slot *s = raftd_relay_table_take(t, last, 2);
	assert_non_null(s);
	assert_int_equal(s->req_id, 7);
	printf("checked: %u relays fit, ids wrap past 0; the next one replaces the oldest\n",
	       RAFTD_RELAY_SLOTS);
	free(t);
}

static void test_bad_arguments(void **state)
{
	struct raftd_relay_table *t = relay_new(1);
	uint8_t big[RAFTD_IDENTITY_BYTES_MAX + 1];
	memset(big, 'x', sizeof(big));
	assert_int_equal(raftd_relay_table_add(t, 2, "", 0, 1), 0);
	assert_int_equal(raftd_relay_table_add(t, 2, big, sizeof(big), 1), 0);
	assert_int_equal(raftd_relay_table_add(t, 0, "g", 1, 1), 0);
	assert_int_not_equal(raftd_relay_table_add(t, 2, big, sizeof(big) - 1, 1), 0);
	printf("checked: no identity, an over-long one, or no leader: nothing relayed\n");
	free(t);
}

static void test_leader_takes_relays_from_members_only(void **state)
{
	struct raft_config c = {.n = 3,
	                        .members = {{.id = 1, .role = RAFT_VOTER},
	                                    {.id = 2, .role = RAFT_VOTER},
	                                    {.id = 5, .role = RAFT_LEARNER}}};
	assert_int_equal(raftd_relay_accept(&c, 1, 2, 100), 0);
	assert_int_equal(raftd_relay_accept(&c, 1, 5, 100), 0); /* a learner's gateway writes too */
	assert_int_equal(raftd_relay_accept(&c, 1, 4, 100), KV_EPROTO); /* known, not a member */
	assert_int_equal(raftd_relay_accept(&c, 1, 1, 100), KV_EPROTO); /* itself */
	assert_int_equal(raftd_relay_accept(&c, 1, 2, 0), KV_EPROTO);
	assert_int_equal(raftd_relay_accept(&c, 1, 2, RAFT_RELAY_BYTES_MAX), 0);
	assert_int_equal(raftd_relay_accept(&c, 1, 2, RAFT_RELAY_BYTES_MAX + 1), KV_EPROTO);
	printf("checked: relays taken from members only, 1 to %u bytes\n", RAFT_RELAY_BYTES_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answer_once_to_its_request),
	    cmocka_unit_test(test_answer_to_an_earlier_process_is_dropped),
	    cmocka_unit_test(test_ring_overwrites_the_oldest),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_leader_takes_relays_from_members_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
