/*
 * bench_proto.c - how many APPEND messages of 64 entries x 100 bytes one core
 * encodes and decodes per second (`make bench-proto`; not a test).
 *
 * Each round encodes into a reused buffer and decodes from it into a reused
 * arena, as raftd does per peer. Runs about two seconds and prints one line.
 */
#include "proto.h"

#include "kv_assert.h"
#include "kv_clock.h"

#include <stdio.h>
#include <string.h>

#define BENCH_ENTRIES     64u
#define BENCH_ENTRY_BYTES 100u
#define BENCH_BATCH       1000u
#define BENCH_US          2000000u

int main(void)
{
	static uint8_t payload[BENCH_ENTRIES][BENCH_ENTRY_BYTES];
	static uint8_t arena_mem[PROTO_RAFT_ARENA_BYTES];
	struct raft_entry e[BENCH_ENTRIES];
	struct raft_msg m = {.type = RAFT_MSG_APPEND,
	                     .from = 1,
	                     .to = 2,
	                     .term = 7,
	                     .u.append = {.prev_index = 100000,
	                                  .prev_term = 7,
	                                  .commit = 99990,
	                                  .seq = 42,
	                                  .n_entries = BENCH_ENTRIES,
	                                  .entries = e}};
	struct proto_buf b = {0};
	struct proto_arena a;
	struct raft_msg got;
	uint64_t start, elapsed, rounds = 0;

	for (uint32_t i = 0; i < BENCH_ENTRIES; i++) {
		memset(payload[i], 'a' + (int)(i % 26), BENCH_ENTRY_BYTES);
		e[i] = (struct raft_entry){7, 100001 + i, RAFT_ENTRY_COMMAND, BENCH_ENTRY_BYTES,
		                           payload[i]};
	}
	start = kv_clock_mono_us();
	do {
		for (uint32_t i = 0; i < BENCH_BATCH; i++) {
			proto_buf_reset(&b);
			KV_ASSERT(proto_raft_encode(&m, &b) == 0);
			proto_arena_init(&a, arena_mem, sizeof(arena_mem));
			KV_ASSERT(proto_raft_decode(b.ptr, b.len, &got, &a) == 0);
			KV_ASSERT(got.u.append.n_entries == BENCH_ENTRIES);
		}
		rounds += BENCH_BATCH;
		elapsed = kv_clock_mono_us() - start;
	} while (elapsed < BENCH_US);
	printf("bench-proto: APPEND of %u entries x %u bytes (%zu bytes on the wire): "
	       "%.0f encode+decode per second (%.2f us each, %.0f MB/s of frames)\n",
	       BENCH_ENTRIES, BENCH_ENTRY_BYTES, b.len, rounds * 1e6 / (double)elapsed,
	       (double)elapsed / (double)rounds, (double)b.len * rounds / (double)elapsed);
	proto_buf_free(&b);
	return 0;
}
