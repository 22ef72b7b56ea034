/*
 * test_wal_recovery.c - what wal_open does with the files a crash or a bad
 * disk leaves: torn tails are cut and reported, bad records elsewhere are
 * KV_ECORRUPT with the file and offset logged, the hard state falls back to
 * its other slot, hostile lengths are refused without allocating.
 */
#include "test_wal_util.h"

#include <sys/resource.h>

#define LEN       100u
#define REC       136u /* wal_record_bytes(100): 32 + 100, rounded up to 8 */
#define SMALL_SEG 4096u

/* A WAL with entries 1..n of LEN bytes, synced and closed. */
static void make_log(struct tw_dir *d, uint64_t seg_bytes, uint64_t n)
{
	tw_dir_make(d);
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d->sub, seg_bytes, &w, &rec), 0);
	tw_append_range(w, 1, n, 1, LEN);
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
}

static void expect_entries(const char *dir, uint64_t seg_bytes, uint64_t n, uint64_t torn)
{
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(dir, seg_bytes, &w, &rec), 0);
	assert_int_equal(rec.n_entries, n);
	assert_int_equal(rec.torn_bytes_dropped, torn);
	for (uint64_t i = 0; i < n; i++)
		tw_check_entry(&rec.entries[i], i + 1, 1, LEN);
	/* and the log takes the next index */
	tw_append_range(w, n + 1, n + 1, 2, 8);
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
}

/* Opens dir expecting KV_ECORRUPT and a log line naming file and offset. */
static void expect_corrupt(const struct tw_dir *d, const char *file, uint64_t off)
{
	struct tw_capture cap = {0};
	struct wal *w = NULL;
	struct wal_recovery rec;
	tw_capture_begin(&cap, d->path);
	int rc = tw_open(d->sub, 0, &w, &rec);
	const char *log = tw_capture_end(&cap);
	assert_int_equal(rc, KV_ECORRUPT);
	assert_null(w);
	char want[128];
	snprintf(want, sizeof(want), "file=%s offset=%llu", file, (unsigned long long)off);
	assert_non_null(strstr(log, want));
	/* nothing was cut: it stays corrupt */
	assert_int_equal(tw_open(d->sub, 0, &w, &rec), KV_ECORRUPT);
}

static void test_torn_tail_mid_record(void **state)
{
	struct tw_dir d = {0};
	make_log(&d, 0, 10);
	char seg[256];
	tw_seg_path(seg, sizeof(seg), d.sub, 1);
	/* record 10 lost its last 60 payload bytes (never reached the disk) */
	uint8_t zeros[REC] = {0};
	tw_poke(seg, 9 * REC + 32 + 40, zeros, 60);
	expect_entries(d.sub, 0, 9, 32 + 40);
	print_message("record 10 torn after 72 bytes: 72 bytes dropped, 1..9 intact, index 10 "
	              "appended again\n");
	tw_dir_remove(&d);
}

static void test_torn_tail_short_file(void **state)
{
	struct tw_dir d = {0};
	make_log(&d, SMALL_SEG, 10);
	char seg[256];
	tw_seg_path(seg, sizeof(seg), d.sub, 1);
	/* a file cut in the middle of record 10 (no preallocation left behind it) */
	assert_int_equal(truncate(seg, 9 * REC + 50), 0);
	expect_entries(d.sub, SMALL_SEG, 9, 50);
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, SMALL_SEG, &w, &rec), 0);
	assert_int_equal(rec.n_entries, 10);
	assert_int_equal(rec.torn_bytes_dropped, 0);
	tw_check_entry(&rec.entries[9], 10, 2, 8);
	wal_close(&w);
	print_message("segment file cut mid-record 10: 50 bytes dropped; index 10 appended again "
	              "into the shortened segment and read back\n");
	tw_dir_remove(&d);
}

static void test_garbage_after_last_record(void **state)
{
	struct tw_dir d = {0};
	make_log(&d, 0, 10);
	char seg[256];
	tw_seg_path(seg, sizeof(seg), d.sub, 1);
	uint8_t junk[77];
	for (uint32_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0xA5 ^ i) | 1;
	tw_poke(seg, 10 * REC, junk, sizeof(junk));
	expect_entries(d.sub, 0, 10, sizeof(junk));
	print_message("77 bytes of garbage after record 10: dropped, 1..10 intact\n");
	tw_dir_remove(&d);
}

static void test_bit_flip_in_middle_record(void **state)
{
	struct tw_dir d = {0};
	make_log(&d, 0, 10);
	char seg[256];
	tw_seg_path(seg, sizeof(seg), d.sub, 1);
	tw_flip_bit(seg, 4 * REC + 32 + 17, 3); /* payload of record 5 */
	expect_corrupt(&d, "00000000000000000001.seg", 4 * REC);
	tw_flip_bit(seg, 4 * REC + 32 + 17, 3);
	tw_flip_bit(seg, 6 * REC + 9, 0); /* index field of record 7 */
	expect_corrupt(&d, "00000000000000000001.seg", 6 * REC);
	print_message("bit flip in record 5 payload, then in record 7 index: KV_ECORRUPT naming "
	              "the segment and offsets %u, %u; nothing cut\n",
	              4 * REC, 6 * REC);
	tw_dir_remove(&d);
}

static void test_bit_flip_in_sealed_segment(void **state)
{
	struct tw_dir d = {0};
	make_log(&d, SMALL_SEG, 100); /* 30 records of 136 bytes per segment */
	char seg[256];
	tw_seg_path(seg, sizeof(seg), d.sub, 31);
	tw_flip_bit(seg, 29 * REC + 40, 6); /* the last record of segment 31..60 */
	expect_corrupt(&d, "00000000000000000031.seg", 29 * REC);
	print_message("bit flip in the last record of a sealed segment: KV_ECORRUPT, not a tail\n");
	tw_dir_remove(&d);
}

static void test_gap_and_hole_are_corruption(void **state)
{
	struct tw_dir d = {0};
	make_log(&d, 0, 10);
	char seg[256];
	tw_seg_path(seg, sizeof(seg), d.sub, 1);
	/* a valid record for index 12 right after 10: an index gap */
	uint8_t rec[REC] = {0};
	uint8_t payload[LEN];
	struct raft_entry e;
	tw_entry(&e, payload, 12, 1, LEN);
	wal_record_encode(&e, rec);
	memcpy(rec + 32, payload, LEN);
	tw_poke(seg, 10 * REC, rec, REC);
	expect_corrupt(&d, "00000000000000000001.seg", 10 * REC);
	/* a zeroed record 6 with valid records after it */
	tw_dir_remove(&d);
	make_log(&d, 0, 10);
	tw_seg_path(seg, sizeof(seg), d.sub, 1);
	uint8_t zeros[REC] = {0};
	tw_poke(seg, 5 * REC, zeros, REC);
	expect_corrupt(&d, "00000000000000000001.seg", 5 * REC);
	print_message("index gap (12 after 10) and a zeroed record before valid ones: "
	              "KV_ECORRUPT\n");
	tw_dir_remove(&d);
}

static void test_empty_last_segment_dropped(void **state)
{
	struct tw_dir d = {0};
	make_log(&d, SMALL_SEG, 30); /* exactly fills segment 1 */
	char seg[256];
	tw_seg_path(seg, sizeof(seg), d.sub, 31);
	int fd = open(seg, O_WRONLY | O_CREAT | O_EXCL, 0644); /* a crash right after the roll */
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SMALL_SEG), 0);
	close(fd);
	expect_entries(d.sub, SMALL_SEG, 30, 0);
	assert_int_equal(tw_count_segments(d.sub), 2); /* 1 and a fresh 31 holding entry 31 */
	print_message("an empty segment left by a crash after a roll is dropped at open\n");
	tw_dir_remove(&d);
}

static void test_hard_state_slots(void **state)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w;
	struct wal_recovery rec;
	assert_int_equal(tw_open(d.sub, 0, &w, &rec), 0);
	struct raft_hard_state a = {.term = 3, .vote = 1}, b = {.term = 4, .vote = 2};
	assert_int_equal(wal_save_hard_state(w, &a), 0);
	assert_int_equal(wal_sync(w), 0);
	assert_int_equal(wal_save_hard_state(w, &b), 0);
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
	char hs[256];
	snprintf(hs, sizeof(hs), "%s/hardstate", d.sub);
	tw_flip_bit(hs, 4096 + 18, 2); /* the newer slot (second write) */
	assert_int_equal(tw_open(d.sub, 0, &w, &rec), 0);
	assert_int_equal(rec.hard_state.term, 3);
	assert_int_equal(rec.hard_state.vote, 1);
	/* the next save overwrites the bad slot, not the good one */
	assert_int_equal(wal_save_hard_state(w, &b), 0);
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, 0, &w, &rec), 0);
	assert_int_equal(rec.hard_state.term, 4);
	wal_close(&w);
	tw_flip_bit(hs, 4096 + 18, 2);
	tw_flip_bit(hs, 0 + 20, 5);
	assert_int_equal(tw_open(d.sub, 0, &w, &rec), KV_ECORRUPT);
	print_message("hard state: flipped newer slot -> older slot (term 3) wins; both flipped -> "
	              "KV_ECORRUPT\n");
	tw_dir_remove(&d);
}

static void test_hostile_length(void **state)
{
	struct tw_dir d = {0};
	make_log(&d, 0, 10);
	char seg[256];
	tw_seg_path(seg, sizeof(seg), d.sub, 1);
	/* record 10 claims 0xFFFFFFF0 payload bytes */
	uint8_t len[4] = {0xF0, 0xFF, 0xFF, 0xFF};
	tw_poke(seg, 9 * REC + 4, len, 4);
#ifndef __SANITIZE_ADDRESS__
	/* under a 1 GiB address-space limit a 4 GiB allocation would fail */
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
	lim = old;
	lim.rlim_cur = 1ull << 30;
	assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
#endif
	struct wal *w;
	struct wal_recovery rec;
	int rc = tw_open(d.sub, 0, &w, &rec);
#ifndef __SANITIZE_ADDRESS__
	assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
#endif
	assert_int_equal(rc, 0);
	assert_int_equal(rec.n_entries, 9);
	assert_int_equal(rec.torn_bytes_dropped, 32 + LEN); /* up to its last non-zero byte */
	wal_close(&w);
	/* the same length in record 5, with valid records after it: corruption */
	tw_dir_remove(&d);
	make_log(&d, 0, 10);
	tw_seg_path(seg, sizeof(seg), d.sub, 1);
	tw_poke(seg, 4 * REC + 4, len, 4);
	expect_corrupt(&d, "00000000000000000001.seg", 4 * REC);
	print_message("length 0xFFFFFFF0 at the tail: torn (under a 1 GiB address-space limit); "
	              "in the middle: KV_ECORRUPT\n");
	tw_dir_remove(&d);
}

/* Deterministic PRNG for the randomized crash test (xorshift64*). */
static uint64_t rnd_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

static uint64_t rnd_below(uint64_t *x, uint64_t n)
{
	return rnd_next(x) % n;
}

/* Writes the "disk" a crash leaves: [cut, end) zeroed, or junk then zeros. */
static void crash_tail(const char *seg, uint64_t cut, uint64_t end, int junk, uint64_t *x)
{
	static uint8_t buf[1 << 16];
	assert_true(end - cut <= sizeof(buf));
	memset(buf, 0, sizeof(buf));
	if (junk && end > cut) {
		uint64_t k = 1 + rnd_below(x, end - cut);
		for (uint64_t i = 0; i < k; i++)
			buf[i] = (uint8_t)(rnd_next(x) | 1);
	}
	tw_poke(seg, cut, buf, end - cut);
}

/*
 * One crash: n1 synced entries, n2 written but not synced, then the unsynced
 * bytes survive only up to a random cut (the rest zero or junk). Recovery
 * must keep exactly the whole records before the cut - never fewer than the
 * synced ones, never a damaged one - and take new appends after them.
 */
static void crash_once(uint64_t *x, int junk)
{
	struct tw_dir d = {0};
	tw_dir_make(&d);
	struct wal *w;
	struct wal_recovery rec;
	uint32_t n1 = 1 + (uint32_t)rnd_below(x, 40), n2 = 1 + (uint32_t)rnd_below(x, 40);
	uint32_t lens[80] = {0};
	uint64_t ends[80] = {0}, end = 0;
	assert_int_equal(tw_open(d.sub, 1 << 16, &w, &rec), 0);
	for (uint32_t i = 0; i < n1 + n2; i++) {
		lens[i] = (uint32_t)rnd_below(x, 300);
		tw_append_range(w, i + 1, i + 1, 1, lens[i]);
		end += wal_record_bytes(lens[i]);
		ends[i] = end;
		if (i + 1 == n1)
			assert_int_equal(wal_sync(w), 0);
	}
	wal_close(&w);
	uint64_t synced = ends[n1 - 1];
	uint64_t cut = synced + rnd_below(x, end - synced + 1);
	char seg[256];
	tw_seg_path(seg, sizeof(seg), d.sub, 1);
	crash_tail(seg, cut, end, junk, x);
	/* a record survives when its header and payload are before the cut (padding is not
	 * covered by the CRC) */
	uint32_t want = 0;
	while (want < n1 + n2 && ends[want] - wal_record_bytes(lens[want]) + 32 + lens[want] <= cut)
		want++;
	assert_int_equal(tw_open(d.sub, 1 << 16, &w, &rec), 0);
	assert_int_equal(rec.n_entries, want);
	assert_true(rec.torn_bytes_dropped <= end - synced);
	for (uint32_t i = 0; i < want; i++)
		tw_check_entry(&rec.entries[i], i + 1, 1, lens[i]);
	tw_append_range(w, want + 1, want + 1, 2, 5);
	assert_int_equal(wal_sync(w), 0);
	wal_close(&w);
	assert_int_equal(tw_open(d.sub, 1 << 16, &w, &rec), 0);
	assert_int_equal(rec.n_entries, want + 1);
	assert_int_equal(rec.torn_bytes_dropped, 0);
	tw_check_entry(&rec.entries[want], want + 1, 2, 5);
	wal_close(&w);
	tw_dir_remove(&d);
}

static void test_random_crashes(void **state)
{
	uint64_t seed = 0x5eed0001;
	uint64_t x = seed;
	for (int i = 0; i < 60; i++)
		crash_once(&x, i % 2);
	print_message("60 seeded crashes (seed 0x%llx): unsynced tail cut at a random byte, rest "
	              "zero or junk; recovery kept exactly the whole records before the cut\n",
	              (unsigned long long)seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_torn_tail_mid_record),
	    cmocka_unit_test(test_torn_tail_short_file),
	    cmocka_unit_test(test_garbage_after_last_record),
	    cmocka_unit_test(test_bit_flip_in_middle_record),
	    cmocka_unit_test(test_bit_flip_in_sealed_segment),
	    cmocka_unit_test(test_gap_and_hole_are_corruption),
	    cmocka_unit_test(test_empty_last_segment_dropped),
	    cmocka_unit_test(test_hard_state_slots),
	    cmocka_unit_test(test_hostile_length),
	    cmocka_unit_test(test_random_crashes),
	};
	return cmocka_run_group_tests(tests, NULL, tw_remove_leftovers);
}
