/*
 * wal_bench.c - `make bench-wal`: group-commit throughput of the WAL.
 * 1000 batches of 16 entries x 100 bytes, one wal_sync per batch, in a
 * fresh directory under argv[1] (which must be on a real disk: on tmpfs
 * fdatasync costs nothing). Prints syncs/s, entries/s and sync latency.
 * Not a test: it checks nothing but that every call succeeds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv_clock.h"
#include "kv_err.h"
#include "wal.h"

#define BATCHES     1000u
#define PER_BATCH   16u
#define ENTRY_BYTES 100u

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Appends and syncs every batch; fills lat_us[] with each wal_sync's latency. */
static int run(struct wal *w, uint64_t *lat_us)
{
	static uint8_t payload[PER_BATCH][ENTRY_BYTES];
	struct raft_entry es[PER_BATCH];
	uint64_t index = wal_last_index(w) + 1;
	for (uint32_t b = 0; b < BATCHES; b++) {
		for (uint32_t i = 0; i < PER_BATCH; i++) {
			memset(payload[i], (int)(index & 0xff), ENTRY_BYTES);
			es[i] = (struct raft_entry){.index = index,
			                            .term = 1,
			                            .type = RAFT_ENTRY_COMMAND,
			                            .len = ENTRY_BYTES,
			                            .data = payload[i]};
			index++;
		}
		int rc = wal_append(w, es, PER_BATCH);
		uint64_t t0 = kv_clock_mono_us();
		if (rc == 0)
			rc = wal_sync(w);
		lat_us[b] = kv_clock_mono_us() - t0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void report(uint64_t total_us, uint64_t *lat_us, const struct wal_stats *st)
{
	qsort(lat_us, BATCHES, sizeof(*lat_us), cmp_u64);
	double s = (double)total_us / 1e6;
	printf("wal bench: %u batches x %u entries x %u bytes, one wal_sync per batch\n", BATCHES,
	       PER_BATCH, ENTRY_BYTES);
	printf("  total %.3f s: %.0f syncs/s, %.0f entries/s, %.2f MB/s of records\n", s,
	       BATCHES / s, BATCHES * PER_BATCH / s, (double)st->bytes_written / s / 1e6);
	printf("  wal_sync latency us: p50 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64 "\n",
	       lat_us[BATCHES / 2], lat_us[BATCHES * 99 / 100], lat_us[BATCHES - 1]);
	printf("  fdatasync calls %" PRIu64 " (incl. segment creation), mean %" PRIu64 " us\n",
	       st->fsyncs, st->fsyncs ? st->fsync_us_total / st->fsyncs : 0);
}

int main(int argc, char **argv)
{
	const char *parent = argc > 1 ? argv[1] : ".";
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/wal-bench.XXXXXX", parent);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	static uint64_t lat_us[BATCHES];
	struct wal_options o = {.dir = dir, .segment_bytes = 0};
	struct wal_recovery rec;
	struct wal *w = NULL;
	int rc = wal_open(&o, &w, &rec);
	uint64_t t0 = kv_clock_mono_us();
	if (rc == 0)
		rc = run(w, lat_us);
	uint64_t total_us = kv_clock_mono_us() - t0;
	if (rc == 0) {
		struct wal_stats st;
		wal_get_stats(w, &st);
		report(total_us, lat_us, &st);
	}
	wal_close(&w);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	if (rc != 0) {
		fprintf(stderr, "wal bench failed: %s\n", kv_strerror(rc));
		return 1;
	}
	return 0;
}
