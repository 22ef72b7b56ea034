/*
 * test_gw_read_batch.c - the READ_INDEX batches of linearizable reads
 * (gw_read_batch.h): a batch holds only the reads that joined before it was
 * sent, its answer reaches each of them once, and ids never collide with a
 * call's. `make gw-bugs-rbatch` builds it against GW_BUG_READ_BATCH_STAYS_OPEN
 * and requires test_later_read_not_in_sent_batch to fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_read_batch.h"
#include "kv_err.h"

#include <stdio.h>
#include <stdlib.h>

#define T0 1000000u /* the loop's clock, ms */

static struct gw_read_batches *t_new(void)
{
	struct gw_read_batches *b = malloc(sizeof(*b));
	assert_non_null(b);
	gw_read_batch_init(b);
	return b;
}

static void test_one_request_for_a_turn(void **state)
{
	struct gw_read_batches *b = t_new();
	uint32_t n = 0;
	(void)state;
	assert_int_equal(gw_read_batch_close(b, T0), 0); /* nothing waiting: nothing to send */
	for (uint64_t r = 1; r <= 5; r++)
		assert_int_equal(gw_read_batch_join(b, r << 16 | 7, T0), 0);
	uint64_t id = gw_read_batch_close(b, T0);
	assert_true(id & GW_READ_BATCH_ID_BIT);
	const uint64_t *reads = gw_read_batch_take(b, id, &n);
	assert_non_null(reads);
	assert_int_equal(n, 5);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(reads[i], (uint64_t)(i + 1) << 16 | 7);
	assert_null(gw_read_batch_take(b, id, &n)); /* an answer counts once */
	assert_int_equal(n, 0);
	assert_int_equal(b->sent, 1);
	assert_int_equal(b->joined, 5);
	printf("5 reads of one turn: one READ_INDEX, its answer reaches all 5 once\n");
	free(b);
}

/* The index raftd fixes for a batch may predate a read that came after it was sent. */
static void test_later_read_not_in_sent_batch(void **state)
{
	struct gw_read_batches *b = t_new();
	uint32_t n = 0;
	(void)state;
	assert_int_equal(gw_read_batch_join(b, 101, T0), 0);
	uint64_t first = gw_read_batch_close(b, T0);
	assert_int_equal(gw_read_batch_join(b, 202, T0),
	                 0); /* arrives while `first` is in flight */
	uint64_t second = gw_read_batch_close(b, T0);
	assert_int_not_equal(first, second);
	const uint64_t *reads = gw_read_batch_take(b, first, &n);
	assert_non_null(reads);
	assert_int_equal(n, 1);
	assert_int_equal(reads[0], 101);
	reads = gw_read_batch_take(b, second, &n);
	assert_non_null(reads);
	assert_int_equal(n, 1);
	assert_int_equal(reads[0], 202);
	printf("a read that arrived after a batch was sent waits for the next one\n");
	free(b);
}

static void test_full_batch_refuses(void **state)
{
	struct gw_read_batches *b = t_new();
	uint32_t n = 0;
	(void)state;
	for (uint32_t r = 0; r < GW_READ_BATCH_READS; r++)
		assert_int_equal(gw_read_batch_join(b, 1000 + r, T0), 0);
	assert_int_equal(gw_read_batch_join(b, 9999, T0), KV_EBUSY);
	uint64_t id = gw_read_batch_close(b, T0);
	assert_int_equal(gw_read_batch_join(b, 9999, T0), 0);
	assert_non_null(gw_read_batch_take(b, id, &n));
	assert_int_equal(n, GW_READ_BATCH_READS);
	printf("%u reads fill a batch; the next read opens another\n", GW_READ_BATCH_READS);
	free(b);
}

/* Ids a READ_INDEX_RESP may carry that are no batch's: a call's, 0, unknown, answered. */
static void test_foreign_ids(void **state)
{
	struct gw_read_batches *b = t_new();
	uint32_t n = 0;
	(void)state;
	assert_null(gw_read_batch_take(b, 0, &n));
	assert_null(gw_read_batch_take(b, 5ull << 16 | 3, &n)); /* a call's req_id */
	assert_null(gw_read_batch_take(b, GW_READ_BATCH_ID_BIT, &n));
	assert_null(gw_read_batch_take(b, GW_READ_BATCH_ID_BIT | 12345, &n)); /* never sent */
	printf("0, a call's req_id and ids never sent are no batch's\n");
	free(b);
}

/* Every slot in flight: a read asks alone; no batch whose reads may wait is forgotten. */
static void test_inflight_never_forgotten(void **state)
{
	struct gw_read_batches *b = t_new();
	uint64_t ids[GW_READ_BATCH_INFLIGHT];
	uint32_t n = 0;
	(void)state;
	for (uint32_t k = 0; k < GW_READ_BATCH_INFLIGHT; k++) {
		assert_int_equal(gw_read_batch_join(b, 10 + k, T0), 0);
		ids[k] = gw_read_batch_close(b, T0);
		assert_true(ids[k] != 0);
	}
	assert_int_equal(gw_read_batch_join(b, 9999, T0 + 5000), KV_EUNAVAIL);
	assert_int_equal(b->alone, 1);
	const uint64_t *reads = gw_read_batch_take(b, ids[0], &n); /* the oldest still answers */
	assert_non_null(reads);
	assert_int_equal(n, 1);
	assert_int_equal(reads[0], 10);
	assert_int_equal(gw_read_batch_join(b, 9999, T0 + 5000), 0); /* its slot is free again */
	assert_non_null(gw_read_batch_take(b, ids[1], &n));
	/* past every read's deadline a batch never answered frees its slot */
	uint64_t third = gw_read_batch_close(b, T0 + 5000);
	assert_true(third != 0);
	assert_int_equal(gw_read_batch_join(b, 7777, T0 + 1000), 0); /* slot of ids[1]: free */
	(void)gw_read_batch_close(b, T0 + 1000);
	assert_int_equal(gw_read_batch_join(b, 8888, T0 + 1000), KV_EUNAVAIL); /* ids[2] waits */
	assert_int_equal(gw_read_batch_join(b, 8888, T0 + 62000), 0);
	assert_null(gw_read_batch_take(b, ids[2], &n)); /* its reads are long gone */
	printf("%u batches in flight: the next read asks alone; a batch is forgotten only "
	       "once its reads are past any deadline\n",
	       GW_READ_BATCH_INFLIGHT);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_request_for_a_turn),
	    cmocka_unit_test(test_later_read_not_in_sent_batch),
	    cmocka_unit_test(test_full_batch_refuses),
	    cmocka_unit_test(test_foreign_ids),
	    cmocka_unit_test(test_inflight_never_forgotten),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
