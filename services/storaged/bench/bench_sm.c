/*
 * bench_sm.c - `make bench-sm`: applied entries per second through
 * sm_batch_apply() as storaged runs it: one LMDB transaction per batch, not
 * synced (MDB_NOSYNC), plus sm_sync() every BENCH_SYNC_MS - counted here in
 * the same thread, where storaged's sync thread takes it off the apply path -
 * batches of 64 PUTs of 100-byte values over 10,000 distinct keys.
 * Usage: bench_sm [dir] [seconds]; dir defaults to a temporary directory
 * under /tmp (removed afterwards), seconds to 5 (at most 60).
 */
#include "kv_clock.h"
#include "kv_err.h"
#include "proto.h"
#include "sm.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BENCH_BATCH       64u
#define BENCH_SYNC_MS     100u /* storaged's --sync-ms default */
#define BENCH_VALUE_BYTES 100u
#define BENCH_KEYS        10000u
#define BENCH_SECONDS_MAX 60u

static int bench_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Encodes the 64 commands of one batch starting at index first. */
static int bench_fill(struct proto_buf *bufs, struct raft_entry *e, uint64_t first)
{
	static char value[BENCH_VALUE_BYTES];
	memset(value, 'v', sizeof(value));
	for (uint32_t i = 0; i < BENCH_BATCH; i++) {
		char key[32];
		uint64_t index = first + i;
		int n = snprintf(key, sizeof(key), "bench/%05llu",
		                 (unsigned long long)(index % BENCH_KEYS));
		struct proto_kv_cmd c = {.op = PROTO_KV_PUT,
		                         .origin = 1,
		                         .req_id = index,
		                         .key = {(const uint8_t *)key, (uint32_t)n},
		                         .value = {(const uint8_t *)value, BENCH_VALUE_BYTES}};
		proto_buf_reset(&bufs[i]);
		int err = proto_kv_cmd_encode(&c, &bufs[i]);
		if (err != 0)
			return err;
		e[i] = (struct raft_entry){.term = 1,
		                           .index = index,
		                           .type = RAFT_ENTRY_COMMAND,
		                           .len = (uint32_t)bufs[i].len,
		                           .data = bufs[i].ptr};
	}
	return 0;
}

/* Applies batches for `seconds`; returns the number of entries applied or < 0. */
static int64_t bench_run(struct sm *sm, unsigned seconds, uint64_t *worst_us)
{
	static struct proto_buf bufs[BENCH_BATCH];
	struct raft_entry e[BENCH_BATCH];
	struct sm_result res[BENCH_BATCH];
	uint64_t end = kv_clock_mono_ms() + seconds * 1000ull;
	uint64_t next = 1;
	uint64_t sync_at = kv_clock_mono_ms() + BENCH_SYNC_MS;
	while (kv_clock_mono_ms() < end) {
		if (kv_clock_mono_ms() >= sync_at) {
			if (sm_sync(sm) != 0)
				return -1;
			sync_at += BENCH_SYNC_MS;
		}
		uint32_t n = 0;
		int err = bench_fill(bufs, e, next);
		uint64_t t0 = kv_clock_mono_us();
		if (err == 0)
			err = sm_batch_apply(sm, e, BENCH_BATCH, res, &n);
		uint64_t dt = kv_clock_mono_us() - t0;
		if (err != 0 || n != BENCH_BATCH) {
			fprintf(stderr, "bench_sm: apply failed: %s\n", kv_strerror(err));
			return -1;
		}
		*worst_us = dt > *worst_us ? dt : *worst_us;
		next += BENCH_BATCH;
	}
	for (uint32_t i = 0; i < BENCH_BATCH; i++)
		proto_buf_free(&bufs[i]);
	return (int64_t)(next - 1);
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/bench_sm.XXXXXX";
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmp);
	unsigned seconds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 5;
	if (dir == NULL || seconds == 0 || seconds > BENCH_SECONDS_MAX) {
		fprintf(stderr, "usage: bench_sm [dir] [seconds 1..%u]\n", BENCH_SECONDS_MAX);
		return 2;
	}
	char kv_dir[512];
	snprintf(kv_dir, sizeof(kv_dir), "%s/kv", dir);
	struct sm *sm = NULL;
	struct sm_opts o = {.dir = kv_dir, .map_bytes = 1ull << 30};
	int err = sm_open(&o, &sm);
	if (err != 0) {
		fprintf(stderr, "bench_sm: cannot open %s: %s\n", kv_dir, kv_strerror(err));
		return 1;
	}
	uint64_t worst_us = 0;
	uint64_t t0 = kv_clock_mono_us();
	int64_t n = bench_run(sm, seconds, &worst_us);
	double s = (double)(kv_clock_mono_us() - t0) / 1e6;
	char snap_dir[600];
	snprintf(snap_dir, sizeof(snap_dir), "%s/snap", dir);
	struct sm_snap_info info;
	uint64_t s0 = kv_clock_mono_us();
	int snap_err = n < 0 ? 0 : sm_snap_write(sm, snap_dir, &info);
	double snap_ms = (double)(kv_clock_mono_us() - s0) / 1000.0;
	sm_close(&sm);
	if (argc <= 1)
		nftw(dir, bench_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (n < 0)
		return 1;
	printf("bench_sm: %lld entries in %.2f s = %.0f applied entries/s "
	       "(batches of %u PUTs of %u-byte values, unsynced commits + a sync every %u ms; %.0f "
	       "batches/s, "
	       "slowest batch %.2f ms)\n",
	       (long long)n, s, (double)n / s, BENCH_BATCH, BENCH_VALUE_BYTES, BENCH_SYNC_MS,
	       (double)n / BENCH_BATCH / s, (double)worst_us / 1000.0);
	if (snap_err != 0) {
		fprintf(stderr, "bench_sm: snapshot failed: %s\n", kv_strerror(snap_err));
		return 1;
	}
	printf("bench_sm: snapshot of %u keys at index %llu: %llu bytes in %.1f ms\n", BENCH_KEYS,
	       (unsigned long long)info.index, (unsigned long long)info.size, snap_ms);
	return 0;
}
