/*
 * test_wal_faults.c - injected I/O failures (libfiu; links libwal_fiu.a,
 * the WAL built with -DFIU_ENABLE): a failed fdatasync is KV_EIO and
 * sticky (F13), a failed write or preallocation is KV_ENOSPC, and what was
 * durable before the failure survives a reopen. Points are enabled and
 * disabled explicitly: libfiu's FIU_ONETIME leaks the point's name.
 */
#include "test_wal_util.h"

#include <errno.h>
/* fiu.h turns fiu_init() into a no-op unless FIU_ENABLE is defined. */
#define FIU_ENABLE 1
#include <fiu.h>
#include <fiu-control.h>

#define SMALL_SEG 4096u

static int setup(void **state)
{
	assert_int_equal(fiu_init(0), 0);
	return 0;
}

static void open_with_entries(struct tw_dir *d, struct wal **w, uint64_t n)
{
	struct wal_recovery rec;
	tw_dir_make(d);
	assert_int_equal(tw_open(d->sub, SMALL_SEG, w, &rec), 0);
	if (n > 0) {
		tw_append_range(*w, 1, n, 1, 100);
		assert_int_equal(wal_sync(*w), 0);
	}
}

static void expect_reopen(const struct tw_dir *d, uint64_t n)
{
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d->sub, SMALL_SEG, &w, &rec), 0);
	assert_true(rec.n_entries >= n);
	for (uint64_t i = 0; i < n; i++)
		tw_check_entry(&rec.entries[i], i + 1, 1, 100);
	wal_close(&w);
}

static void test_fdatasync_eio_is_sticky(void **state)
{
	struct tw_dir d = {0};
	struct wal *w;
	open_with_entries(&d, &w, 5);
	tw_append_range(w, 6, 8, 1, 100);
	assert_int_equal(fiu_enable("wal/fdatasync", EIO, NULL, 0), 0);
	assert_int_equal(wal_sync(w), KV_EIO);
	assert_int_equal(fiu_disable("wal/fdatasync"), 0);
	/* the fault is gone, but the WAL must not pretend the pages are safe */
	assert_int_equal(wal_sync(w), KV_EIO);
	struct raft_hard_state hs = {.term = 2};
	assert_int_equal(wal_save_hard_state(w, &hs), KV_EIO);
	assert_int_equal(wal_truncate_after(w, 6), KV_EIO);
	uint8_t b[1] = {1};
	struct raft_entry e = {.index = 9, .term = 1, .type = 2, .len = 1, .data = b};
	assert_int_equal(wal_append(w, &e, 1), KV_EIO);
	wal_close(&w);
	expect_reopen(&d, 5);
	print_message("fdatasync EIO: wal_sync KV_EIO, then every call KV_EIO (sticky, F13); "
	              "synced entries 1..5 survive\n");
	tw_dir_remove(&d);
}

static void test_write_enospc(void **state)
{
	struct tw_dir d = {0};
	struct wal *w;
	open_with_entries(&d, &w, 5);
	assert_int_equal(fiu_enable("wal/write", ENOSPC, NULL, 0), 0);
	uint8_t buf[100];
	struct raft_entry e;
	tw_entry(&e, buf, 6, 1, 100);
	assert_int_equal(wal_append(w, &e, 1), KV_ENOSPC);
	assert_int_equal(fiu_disable("wal/write"), 0);
	assert_int_equal(wal_append(w, &e, 1), KV_ENOSPC);
	assert_int_equal(wal_sync(w), KV_ENOSPC);
	wal_close(&w);
	expect_reopen(&d, 5);
	/* the hard state write fails the same way */
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	assert_int_equal(fiu_enable("wal/write", ENOSPC, NULL, 0), 0);
	struct raft_hard_state hs = {.term = 9, .vote = 1};
	assert_int_equal(wal_save_hard_state(w, &hs), KV_ENOSPC);
	assert_int_equal(fiu_disable("wal/write"), 0);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	assert_int_equal(rec.hard_state.term, 0);
	wal_close(&w);
	print_message("write ENOSPC: wal_append and wal_save_hard_state return KV_ENOSPC (sticky); "
	              "entries 1..5 and the old hard state survive\n");
	tw_dir_remove(&d);
}

static void test_fallocate_enospc(void **state)
{
	struct tw_dir d = {0};
	struct wal *w;
	open_with_entries(&d, &w, 30); /* fills segment 1 exactly: the next append rolls */
	assert_int_equal(fiu_enable("wal/fallocate", ENOSPC, NULL, 0), 0);
	uint8_t buf[100];
	struct raft_entry e;
	tw_entry(&e, buf, 31, 1, 100);
	assert_int_equal(wal_append(w, &e, 1), KV_ENOSPC);
	assert_int_equal(fiu_disable("wal/fallocate"), 0);
	assert_int_equal(wal_last_index(w), 30);
	wal_close(&w);
	assert_int_equal(tw_count_segments(d.sub), 1); /* the half-made segment was removed */
	expect_reopen(&d, 30);
	/* fresh node: the first segment cannot be preallocated */
	struct tw_dir d2 = {0};
	struct wal_recovery rec;
	tw_dir_make(&d2);
	assert_int_equal(tw_open(d2.sub, 0, &w, &rec), 0);
	assert_int_equal(fiu_enable("wal/fallocate", ENOSPC, NULL, 0), 0);
	tw_entry(&e, buf, 1, 1, 100);
	assert_int_equal(wal_append(w, &e, 1), KV_ENOSPC);
	assert_int_equal(fiu_disable("wal/fallocate"), 0);
	wal_close(&w);
	assert_int_equal(tw_count_segments(d2.sub), 0);
	print_message("fallocate ENOSPC on roll-over and on the first segment: KV_ENOSPC, no "
	              "segment file left, earlier entries intact\n");
	tw_dir_remove(&d);
	tw_dir_remove(&d2);
}

static void test_snapshot_meta_sync_fails(void **state)
{
	struct tw_dir d = {0};
	struct wal *w;
	open_with_entries(&d, &w, 10);
	struct raft_config c = {.n = 1, .members = {{1, RAFT_VOTER}}};
	assert_int_equal(fiu_enable("wal/fdatasync", EIO, NULL, 0), 0);
	assert_int_equal(wal_save_snapshot_meta(w, 5, 1, &c, 10), KV_EIO);
	assert_int_equal(fiu_disable("wal/fdatasync"), 0);
	assert_int_equal(wal_compact(w, 5), KV_EIO);
	wal_close(&w);
	print_message(
	    "snapshot meta whose fdatasync fails: KV_EIO, and compaction refused after\n");
	tw_dir_remove(&d);
}

/* A truncation whose zeroing fails must not leave old entries behind new ones. */
static void test_truncate_zero_fails(void **state)
{
	struct tw_dir d = {0};
	struct wal *w;
	open_with_entries(&d, &w, 20);
	assert_int_equal(fiu_enable("wal/write", EIO, NULL, 0), 0);
	assert_int_equal(wal_truncate_after(w, 10), KV_EIO);
	assert_int_equal(fiu_disable("wal/write"), 0);
	assert_int_equal(wal_sync(w), KV_EIO);
	wal_close(&w);
	expect_reopen(&d, 20); /* nothing was cut: the pre-truncation log, whole */
	print_message("truncation whose zeroing fails: KV_EIO, reopen shows the old log whole\n");
	tw_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fdatasync_eio_is_sticky),
	    cmocka_unit_test(test_write_enospc),
	    cmocka_unit_test(test_fallocate_enospc),
	    cmocka_unit_test(test_snapshot_meta_sync_fails),
	    cmocka_unit_test(test_truncate_zero_fails),
	};
	return cmocka_run_group_tests(tests, setup, tw_remove_leftovers);
}
