/*
 * test_raftd_read_table.c - raftd's table of waiting reads: ids, lookups, the
 * ring overwriting the oldest, and bad identities.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "raftd_read_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_add_take(void **state)
{
	struct raftd_read_table *t = malloc(sizeof(*t));
	raftd_read_table_init(t);
	uint64_t a = raftd_read_table_add(t, "gw-a", 4, 11);
	uint64_t b = raftd_read_table_add(t, "gw-bb", 5, 22);
	assert_true(a != 0 && b != 0 && a != b);
	const struct raftd_read_slot *s = raftd_read_table_take(t, b);
	assert_non_null(s);
	assert_int_equal(s->req_id, 22);
	assert_int_equal(s->identity_len, 5);
	assert_memory_equal(s->identity, "gw-bb", 5);
	assert_null(raftd_read_table_take(t, b)); /* answered once only */
	s = raftd_read_table_take(t, a);
	assert_non_null(s);
	assert_int_equal(s->req_id, 11);
	assert_null(raftd_read_table_take(t, 0));
	assert_null(raftd_read_table_take(t, 12345));
	printf("checked: two reads found by id with identity and req_id, each only once\n");
	free(t);
}

static void test_ring_overwrites(void **state)
{
	struct raftd_read_table *t = malloc(sizeof(*t));
	raftd_read_table_init(t);
	uint64_t first = raftd_read_table_add(t, "g", 1, 1);
	for (unsigned i = 0; i < RAFTD_READ_TABLE_SLOTS - 1; i++)
		raftd_read_table_add(t, "g", 1, 100 + i);
	assert_int_equal(t->overwritten, 0);
	uint64_t last = raftd_read_table_add(t, "h", 1, 7); /* takes first's slot */
	assert_int_equal(t->overwritten, 1);
	assert_null(raftd_read_table_take(t, first));
	const struct raftd_read_slot *s = raftd_read_table_take(t, last);
	assert_non_null(s);
	assert_int_equal(s->req_id, 7);
	printf("checked: %u reads fit; the next one replaces the oldest, which is gone\n",
	       RAFTD_READ_TABLE_SLOTS);
	free(t);
}

static void test_bad_identity(void **state)
{
	struct raftd_read_table *t = malloc(sizeof(*t));
	uint8_t big[RAFTD_IDENTITY_BYTES_MAX + 1];
	memset(big, 'x', sizeof(big));
	raftd_read_table_init(t);
	assert_int_equal(raftd_read_table_add(t, "", 0, 1), 0);
	assert_int_equal(raftd_read_table_add(t, big, sizeof(big), 1), 0);
	assert_int_not_equal(raftd_read_table_add(t, big, sizeof(big) - 1, 1), 0);
	printf("checked: empty and over-long identities refused, 255 bytes accepted\n");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_take),
	    cmocka_unit_test(test_ring_overwrites),
	    cmocka_unit_test(test_bad_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
