/*
 * test_wal.c - the WAL's API on a real directory: fresh open, append and
 * reopen, truncation, segment roll-over, compaction, reset after a
 * snapshot, limits and the directory lock. Crash and corruption cases are
 * in test_wal_recovery.c, injected I/O faults in test_wal_faults.c.
 */
#include "test_wal_util.h"

#define SMALL_SEG 4096u

static void test_fresh_dir_is_a_new_node(void **state)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w = NULL;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, 0, &w, &rec), 0);
	assert_int_equal(rec.hard_state.term, 0);
	assert_int_equal(rec.hard_state.vote, 0);
	assert_int_equal(rec.snap_index, 0);
	assert_int_equal(rec.snap_config.n, 0);
	assert_int_equal(rec.n_entries, 0);
	assert_null(rec.entries);
	assert_int_equal(rec.torn_bytes_dropped, 0);
	assert_int_equal(wal_first_index(w), 1);
	assert_int_equal(wal_last_index(w), 0);
	struct raft_entry e;
	assert_int_equal(wal_get(w, 1, &e), KV_ENOTFOUND);
	assert_int_equal(wal_get(w, 0, &e), KV_ENOTFOUND);
	wal_close(&w);
	assert_null(w);
	wal_close(&w); /* safe twice */
	print_message("fresh dir (created by wal_open): zero hard state, snap 0, no entries\n");
	tw_dir_remove(&d);
}

static void test_append_sync_reopen(void **state)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, 0, &w, &rec), 0);
	/* one batch of 100 entries of sizes 0..297 in one call */
	static uint8_t bufs[100][300];
	struct raft_entry es[100];
	for (uint32_t i = 0; i < 100; i++)
		tw_entry(&es[i], bufs[i], i + 1, 2, i * 3);
	assert_int_equal(wal_append(w, es, 100), 0);
	struct raft_hard_state hs = {.term = 5, .vote = 2};
	assert_int_equal(wal_save_hard_state(w, &hs), 0);
	assert_int_equal(wal_sync(w), 0);
	struct raft_entry e;
	assert_int_equal(wal_get(w, 37, &e), 0);
	tw_check_entry(&e, 37, 2, 36 * 3);
	wal_close(&w);

	assert_int_equal(tw_open(d.sub, 0, &w, &rec), 0);
	assert_int_equal(rec.hard_state.term, 5);
	assert_int_equal(rec.hard_state.vote, 2);
	assert_int_equal(rec.n_entries, 100);
	assert_int_equal(rec.torn_bytes_dropped, 0);
	for (uint32_t i = 0; i < 100; i++) {
		tw_check_entry(&rec.entries[i], i + 1, 2, i * 3);
		assert_int_equal(wal_get(w, i + 1, &e), 0);
		tw_check_entry(&e, i + 1, 2, i * 3);
	}
	assert_int_equal(wal_first_index(w), 1);
	assert_int_equal(wal_last_index(w), 100);
	assert_int_equal(wal_get(w, 101, &e), KV_ENOTFOUND);
	/* the log continues where it stopped */
	tw_append_range(w, 101, 110, 3, 50);
	assert_int_equal(wal_sync(w), 0);
	struct wal_stats st;
	wal_get_stats(w, &st);
	assert_true(st.fsyncs >= 1 && st.fsync_us_total >= st.fsync_us_max);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, 0, &w, &rec), 0);
	assert_int_equal(rec.n_entries, 110);
	tw_check_entry(&rec.entries[109], 110, 3, 50);
	wal_close(&w);
	print_message("100 entries (0..297 bytes) + hard state survive reopen; appends continue\n");
	tw_dir_remove(&d);
}

static void check_truncate(uint64_t seg_bytes, uint32_t len)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, seg_bytes, &w, &rec), 0);
	tw_append_range(w, 1, 50, 1, len);
	assert_int_equal(wal_sync(w), 0);
	assert_int_equal(wal_truncate_after(w, 30), 0);
	assert_int_equal(wal_last_index(w), 30);
	struct raft_entry e;
	assert_int_equal(wal_get(w, 31, &e), KV_ENOTFOUND);
	tw_append_range(w, 31, 35, 2, len / 2); /* shorter records: old ones must not reappear */
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, seg_bytes, &w, &rec), 0);
	assert_int_equal(rec.n_entries, 35);
	assert_int_equal(rec.torn_bytes_dropped, 0);
	for (uint32_t i = 0; i < 30; i++)
		tw_check_entry(&rec.entries[i], i + 1, 1, len);
	for (uint32_t i = 30; i < 35; i++)
		tw_check_entry(&rec.entries[i], i + 1, 2, len / 2);
	/* truncating everything after the last index is a no-op; to 0 empties the log */
	assert_int_equal(wal_truncate_after(w, 35), 0);
	assert_int_equal(wal_truncate_after(w, 0), 0);
	assert_int_equal(wal_last_index(w), 0);
	assert_int_equal(tw_count_segments(d.sub), 0);
	tw_append_range(w, 1, 3, 4, len);
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, seg_bytes, &w, &rec), 0);
	assert_int_equal(rec.n_entries, 3);
	tw_check_entry(&rec.entries[2], 3, 4, len);
	wal_close(&w);
	print_message("truncate (segment %llu bytes, %u-byte entries): 31..50 gone after reopen, "
	              "new 31..35 kept; truncate to 0 empties the log\n",
	              (unsigned long long)seg_bytes, len);
	tw_dir_remove(&d);
}

static void test_truncate_then_reopen(void **state)
{
	check_truncate(0, 100);         /* all in one segment */
	check_truncate(SMALL_SEG, 300); /* truncation point in an earlier segment */
}

static void test_rollover_and_compaction(void **state)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w;
	struct wal_recovery rec;
	int fds = tw_count_fds();
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	tw_append_range(w, 1, 200, 1, 200); /* 232-byte records, 17 per 4 KiB segment */
	assert_int_equal(wal_sync(w), 0);
	int segs = tw_count_segments(d.sub);
	assert_int_equal(segs, (200 + 16) / 17);
	/*
	 * dir, LOCK, hardstate, snapmeta and the last segment: the 11 sealed ones
	 * hold no fd (a leak per sealed segment would show 16).
	 */
	assert_int_equal(tw_count_fds() - fds, 5);
	assert_int_equal(wal_compact(w, 10), KV_EINVAL); /* no snapshot covers 10 yet */
	struct raft_config c = {
	    .n = 3,
	    .members = {{1, RAFT_VOTER, 0, 11},
	                {2, RAFT_VOTER, 0, 0},
	                {3, RAFT_LEARNER, RAFT_CONFIG_FLAG_PROMOTE, UINT64_MAX}}};
	assert_int_equal(wal_save_snapshot_meta(w, 150, 1, &c, 4242), 0);
	assert_int_equal(wal_compact(w, 150), 0);
	uint64_t first = wal_first_index(w);
	assert_true(first > 1 && first <= 151);
	assert_int_equal((first - 1) % 17, 0); /* whole segments only */
	assert_int_equal(tw_count_segments(d.sub), segs - (int)((first - 1) / 17));
	struct raft_entry e;
	assert_int_equal(wal_get(w, first - 1, &e), KV_ENOTFOUND);
	for (uint64_t i = first; i <= 200; i++) {
		assert_int_equal(wal_get(w, i, &e), 0);
		tw_check_entry(&e, i, 1, 200);
	}
	tw_append_range(w, 201, 210, 2, 200);
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	assert_int_equal(rec.snap_index, 150);
	assert_int_equal(rec.snap_term, 1);
	assert_int_equal(rec.snap_size, 4242);
	assert_int_equal(rec.snap_config.n, 3);
	assert_int_equal(rec.snap_config.members[2].id, 3);
	assert_int_equal(rec.snap_config.members[2].role, RAFT_LEARNER);
	assert_int_equal(rec.snap_config.members[2].flags, RAFT_CONFIG_FLAG_PROMOTE);
	assert_int_equal(rec.snap_config.members[2].incarnation, UINT64_MAX);
	assert_int_equal(rec.snap_config.members[0].incarnation, 11);
	assert_int_equal(rec.n_entries, 60);
	tw_check_entry(&rec.entries[0], 151, 1, 200);
	tw_check_entry(&rec.entries[59], 210, 2, 200);
	assert_int_equal(wal_first_index(w), first);
	wal_close(&w);
	print_message("%d segments of 4 KiB for 200 entries, 5 fds held; compact(150) kept entries "
	              "from %llu; "
	              "snapshot meta and entries 151..210 after reopen\n",
	              segs, (unsigned long long)first);
	tw_dir_remove(&d);
}

/* Truncating back to the end of a sealed segment makes it the one written again. */
static void test_truncate_into_sealed_segment(void **state)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	tw_append_range(w, 1, 70, 1, 40); /* 72-byte records: 56 fill segment 1, 64 bytes left */
	assert_int_equal(wal_sync(w), 0);
	assert_int_equal(tw_count_segments(d.sub), 2);
	assert_int_equal(wal_truncate_after(w, 56), 0);
	assert_int_equal(tw_count_segments(d.sub), 1);
	tw_append_range(w, 57, 57, 2, 0); /* 32 bytes: fits in segment 1's tail */
	tw_append_range(w, 58, 58, 2, 0);
	tw_append_range(w, 59, 59, 2, 0); /* does not fit: a new segment 59 */
	assert_int_equal(wal_sync(w), 0);
	assert_int_equal(tw_count_segments(d.sub), 2);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	assert_int_equal(rec.n_entries, 59);
	tw_check_entry(&rec.entries[55], 56, 1, 40);
	tw_check_entry(&rec.entries[56], 57, 2, 0);
	tw_check_entry(&rec.entries[58], 59, 2, 0);
	wal_close(&w);
	print_message("truncate to the end of sealed segment 1: it takes entries 57-58 again, 59 "
	              "rolls to a new segment; all 59 read back\n");
	tw_dir_remove(&d);
}

static void test_record_larger_than_segment(void **state)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	static uint8_t big[20000];
	for (uint32_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	tw_append_range(w, 1, 2, 1, 100);
	struct raft_entry e = {
	    .index = 3, .term = 1, .type = RAFT_ENTRY_COMMAND, .len = 20000, .data = big};
	assert_int_equal(wal_append(w, &e, 1), 0);
	tw_append_range(w, 4, 5, 1, 100);
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	assert_int_equal(rec.n_entries, 5);
	assert_int_equal(rec.entries[2].len, 20000);
	assert_memory_equal(rec.entries[2].data, big, sizeof(big));
	tw_check_entry(&rec.entries[4], 5, 1, 100);
	char p[256];
	tw_seg_path(p, sizeof(p), d.sub, 3);
	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	assert_true(sb.st_size >= 20032);
	wal_close(&w);
	print_message("a 20000-byte entry got its own %lld-byte segment and reads back intact\n",
	              (long long)sb.st_size);
	tw_dir_remove(&d);
}

static void test_reset_after_snapshot(void **state)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	tw_append_range(w, 1, 40, 1, 200);
	assert_int_equal(wal_sync(w), 0);
	struct raft_config c = {.n = 1, .members = {{7, RAFT_VOTER}}};
	assert_int_equal(wal_reset(w, 100, 3, &c, 999), 0);
	assert_int_equal(wal_first_index(w), 101);
	assert_int_equal(wal_last_index(w), 100);
	assert_int_equal(tw_count_segments(d.sub), 0);
	struct raft_entry e;
	assert_int_equal(wal_get(w, 5, &e), KV_ENOTFOUND);
	tw_append_range(w, 101, 105, 4, 10);
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	assert_int_equal(rec.snap_index, 100);
	assert_int_equal(rec.snap_term, 3);
	assert_int_equal(rec.snap_size, 999);
	assert_int_equal(rec.snap_config.members[0].id, 7);
	assert_int_equal(rec.n_entries, 5);
	tw_check_entry(&rec.entries[0], 101, 4, 10);
	/* an older snapshot is refused */
	assert_int_equal(wal_reset(w, 50, 3, &c, 1), KV_EINVAL);
	wal_close(&w);
	print_message("reset(100) dropped entries 1..40; log continues at 101; meta survives\n");
	tw_dir_remove(&d);
}

/* A crash after wal_reset saved its metadata but before it dropped the log. */
static void test_reset_interrupted(void **state)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	tw_append_range(w, 1, 40, 1, 200);
	assert_int_equal(wal_sync(w), 0);
	struct wal_snapmeta m = {.index = 20, .term = 1, .size = 5, .reset_pending = 1};
	assert_int_equal(wal_snapmeta_save(&w->snap_file, &m, &w->stats), 0);
	wal_close(&w); /* the "crash": segments are still there */
	assert_true(tw_count_segments(d.sub) > 0);
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	assert_int_equal(rec.snap_index, 20);
	assert_int_equal(rec.n_entries, 0);
	assert_int_equal(wal_last_index(w), 20);
	assert_int_equal(tw_count_segments(d.sub), 0);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	assert_int_equal(w->snap.reset_pending, 0);
	wal_close(&w);
	print_message("interrupted reset: reopen drops the old log (even entries > 20) and clears "
	              "the pending mark\n");
	tw_dir_remove(&d);
}

static void test_limits_and_lock(void **state)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w, *w2 = NULL;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, 100, &w, &rec), KV_EINVAL);
	assert_int_equal(tw_open(d.sub, WAL_SEGMENT_BYTES_MAX + 1, &w, &rec), KV_EINVAL);
	assert_int_equal(tw_open(d.sub, 0, &w, &rec), 0);
	assert_int_equal(tw_open(d.sub, 0, &w2, &rec), KV_EBUSY);
	assert_null(w2);
	uint8_t b = 1;
	struct raft_entry e = {.index = 1,
	                       .term = 1,
	                       .type = RAFT_ENTRY_COMMAND,
	                       .len = WAL_ENTRY_BYTES_MAX + 1,
	                       .data = &b};
	assert_int_equal(wal_append(w, &e, 1), KV_ETOOLARGE);
	e.len = 1;
	e.type = 9;
	assert_int_equal(wal_append(w, &e, 1), KV_EINVAL);
	e.type = RAFT_ENTRY_NOOP;
	assert_int_equal(wal_append(w, &e, 1), 0); /* rejected input left the WAL usable */
	struct raft_config c = {.n = RAFT_NODES_MAX + 1};
	assert_int_equal(wal_save_snapshot_meta(w, 1, 1, &c, 0), KV_EINVAL);
	c.n = 0;
	assert_int_equal(wal_save_snapshot_meta(w, 2, 1, &c, 0), KV_EINVAL); /* past the log */
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, 0, &w2, &rec), 0); /* the lock went with the close */
	wal_close(&w2);
	print_message("segment size bounds, second open KV_EBUSY, oversize entry KV_ETOOLARGE, "
	              "bad type KV_EINVAL, snapshot past the log KV_EINVAL\n");
	tw_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fresh_dir_is_a_new_node),
	    cmocka_unit_test(test_append_sync_reopen),
	    cmocka_unit_test(test_truncate_then_reopen),
	    cmocka_unit_test(test_rollover_and_compaction),
	    cmocka_unit_test(test_truncate_into_sealed_segment),
	    cmocka_unit_test(test_record_larger_than_segment),
	    cmocka_unit_test(test_reset_after_snapshot),
	    cmocka_unit_test(test_reset_interrupted),
	    cmocka_unit_test(test_limits_and_lock),
	};
	return cmocka_run_group_tests(tests, NULL, tw_remove_leftovers);
}
