/*
 * test_raft_snapshot.c - log compaction and InstallSnapshot (paper section
 * 7): SNAPSHOT_TAKEN compacts, a lagging follower receives the snapshot in
 * ordered chunks and installs it, chunks out of order are answered with the
 * offset wanted. Told step by step through raft_harness; each test prints
 * what it checked.
 */
#include "raft_harness.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define SNAP_BYTES 600000u /* three chunks: 256 KiB, 256 KiB, the rest */

/* SNAPSHOT_TAKEN drops the log prefix it covers, and only what was applied. */
static void test_snapshot_taken_compacts(void **state)
{
	struct rh *h = rh_lagging_cluster(2);
	struct raft_event ev = {.type = RAFT_EVENT_SNAPSHOT_TAKEN, .index = 12, .snap_size = 1};
	struct raft_status st;

	assert_int_equal(rh_step(h, 1, &ev), KV_EINVAL);
	assert_int_equal(rh_node(h, 1)->rec.u.compact_index, 0);
	print_message("a snapshot at 12, past what was applied (11), is refused: %s\n",
	              kv_err_code(KV_EINVAL));

	assert_int_equal(rh_snapshot(h, 1, 8, 1000), 0);
	assert_int_equal(rh_node(h, 1)->rec.u.compact_index, 8);
	st = rh_status_of(h, 1);
	assert_int_equal(st.snap_index, 8);
	assert_int_equal(st.snap_term, 1);
	assert_int_equal(st.first_index, 9);
	assert_int_equal(st.last_index, 11);
	assert_int_equal(raft_term_at(rh_node(h, 1)->r, 7), 0);
	assert_int_equal(raft_term_at(rh_node(h, 1)->r, 8), 1);
	assert_int_equal(raft_term_at(rh_node(h, 1)->r, 9), 1);
	assert_int_equal(rh_node(h, 1)->log_start, 9);
	print_message("snapshot at 8: compact_index 8, first index 9, last 11; entry 7 left the "
	              "window, the term of 8 is the snapshot's\n");

	ev.index = 7;
	assert_int_equal(rh_step(h, 1, &ev), KV_EINVAL);
	assert_int_equal(rh_node(h, 1)->rec.u.compact_index, 0);
	ev.index = 8;
	ev.snap_size = 0;
	assert_int_equal(rh_step(h, 1, &ev), 0);
	assert_int_equal(rh_node(h, 1)->rec.u.compact_index, 0);
	assert_int_equal(rh_status_of(h, 1).snap_index, 8);
	assert_int_equal(rh_status_of(h, 1).first_index, 9);
	assert_int_equal(rh_propose(h, 1, "after"), 0);
	rh_settle(h, 1, 2);
	assert_int_equal(rh_node(h, 2)->applied_index, 12);
	print_message("a snapshot below it is refused; at its own index only the image changes "
	              "(dropped: size 0), nothing compacted; replication to 2 goes on (12 "
	              "applied)\n");
	rh_destroy(&h);
}

/* Delivers until quiet; records the offsets of the SNAPSHOT chunks sent to `to`. */
static uint32_t deliver_recording_chunks(struct rh *h, uint64_t to, uint64_t *offsets, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t k = 0; h->q_n > 0; k++) {
		const struct raft_msg *m = rh_peek(h, 0, 0, 0);

		assert_true(k < 10000);
		if (m->type == RAFT_MSG_SNAPSHOT && m->to == to) {
			assert_true(n < max);
			offsets[n++] = m->u.snapshot.offset;
		}
		rh_deliver(h, 0, 0, 0);
	}
	return n;
}

/* A follower behind the leader's first index gets the snapshot, chunk by chunk. */
static void test_lagging_follower_installs_snapshot(void **state)
{
	struct rh *h = rh_lagging_cluster(2);
	struct rh_node *n1 = rh_node(h, 1), *n3 = rh_node(h, 3);
	uint64_t offsets[16];
	uint32_t n = 0;

	assert_int_equal(rh_snapshot(h, 1, 11, SNAP_BYTES), 0);
	rh_cut(h, 1, 3, 0);
	for (int i = 0; i < 10 && n3->n_installs == 0; i++) {
		rh_tick(h, 1, RH_HEARTBEAT_MS);
		n += deliver_recording_chunks(h, 3, offsets + n, 16 - n);
	}
	assert_int_equal(n3->n_installs, 1);
	assert_int_equal(n, 3);
	assert_int_equal(offsets[0], 0);
	assert_int_equal(offsets[1], RAFT_SNAPSHOT_CHUNK_BYTES);
	assert_int_equal(offsets[2], 2 * RAFT_SNAPSHOT_CHUNK_BYTES);
	assert_int_equal(n3->n_chunks_written, 3);
	assert_int_equal(n3->snap_size, SNAP_BYTES);
	assert_memory_equal(n3->snap_data, n1->snap_data, SNAP_BYTES);
	assert_int_equal(rh_status_of(h, 3).snap_index, 11);
	assert_int_equal(rh_status_of(h, 3).last_index, 11);
	assert_int_equal(rh_status_of(h, 3).commit_index, 11);
	print_message("node 3 (at index 1) got the snapshot at 11 in 3 chunks at offsets 0, %u, "
	              "%u, installed it byte for byte\n",
	              RAFT_SNAPSHOT_CHUNK_BYTES, 2 * RAFT_SNAPSHOT_CHUNK_BYTES);

	assert_int_equal(rh_propose(h, 1, "after"), 0);
	rh_settle(h, 1, 2);
	assert_int_equal(raft_match_of(n1->r, 3), 12);
	assert_int_equal(n3->applied_index, 12);
	assert_memory_equal(n3->applied[n3->n_applied - 1].data, "after", 5);
	print_message("then entry 12 reached it by APPEND and was applied\n");
	rh_destroy(&h);
}

/*
 * Compaction without an image (size 0): the follower that needs the snapshot
 * waits while every update asks for an image (want_image); SNAPSHOT_TAKEN at
 * the same index with the image's size lets the transfer go.
 */
static void test_image_made_on_demand(void **state)
{
	struct rh *h = rh_lagging_cluster(2);
	struct rh_node *n1 = rh_node(h, 1), *n3 = rh_node(h, 3);
	uint64_t offsets[16];
	uint32_t n = 0;

	assert_int_equal(rh_snapshot(h, 1, 11, 0), 0);
	assert_int_equal(rh_status_of(h, 1).snap_index, 11);
	rh_cut(h, 1, 3, 0);
	int asked = 0;
	for (int i = 0; i < 10; i++) {
		rh_tick(h, 1, RH_HEARTBEAT_MS);
		asked |= n1->rec.u.want_image == 11;
		n += deliver_recording_chunks(h, 3, offsets + n, 16 - n);
		asked |= n1->rec.u.want_image == 11;
	}
	assert_true(asked);
	assert_int_equal(n, 0);
	assert_int_equal(n3->n_installs, 0);
	assert_int_equal(rh_status_of(h, 3).last_index, 1);
	print_message("snapshot at 11 with no image: node 3 gets no chunk, the leader asks for "
	              "an image of 11 (want_image)\n");

	assert_int_equal(rh_snapshot(h, 1, 11, SNAP_BYTES), 0);
	assert_int_equal(n1->rec.u.compact_index, 0);
	for (int i = 0; i < 10 && n3->n_installs == 0; i++) {
		n += deliver_recording_chunks(h, 3, offsets + n, 16 - n);
		rh_tick(h, 1, RH_HEARTBEAT_MS);
	}
	assert_int_equal(n3->n_installs, 1);
	assert_int_equal(n, 3);
	assert_int_equal(offsets[0], 0);
	assert_memory_equal(n3->snap_data, n1->snap_data, SNAP_BYTES);
	assert_int_equal(rh_status_of(h, 3).commit_index, 11);
	print_message("the image of 11 (%u bytes) reported at the same index: sent in 3 chunks "
	              "from offset 0, installed byte for byte\n",
	              SNAP_BYTES);
	rh_destroy(&h);
}

/* Chunks out of order are refused with SNAPSHOT_RESP naming the offset wanted. */
static void test_out_of_order_chunks(void **state)
{
	struct rh *h = rh_lagging_cluster(2);
	struct rh_node *n3 = rh_node(h, 3);
	struct rh_msg *first, *early;
	const struct raft_msg *m;

	assert_int_equal(rh_snapshot(h, 1, 11, SNAP_BYTES), 0);
	rh_cut(h, 1, 3, 0);
	for (int i = 0; rh_find(h, RAFT_MSG_SNAPSHOT, 1, 3) < 0; i++) {
		assert_true(i < 1000);
		if (h->q_n > 0)
			rh_deliver(h, 0, 0, 0);
		else
			rh_tick(h, 1, RH_HEARTBEAT_MS);
	}
	first = rh_copy(h, RAFT_MSG_SNAPSHOT, 1, 3);
	assert_non_null(first);
	assert_int_equal(rh_copy_msg(first)->u.snapshot.offset, 0);

	/* a chunk from further on arrives first: the follower wants offset 0 */
	early = rh_copy(h, RAFT_MSG_SNAPSHOT, 1, 3);
	rh_copy_msg(early)->u.snapshot.offset = 2 * RAFT_SNAPSHOT_CHUNK_BYTES;
	rh_copy_msg(early)->u.snapshot.chunk_len = SNAP_BYTES - 2 * RAFT_SNAPSHOT_CHUNK_BYTES;
	rh_replay(h, &early);
	m = rh_peek(h, RAFT_MSG_SNAPSHOT_RESP, 3, 1);
	assert_non_null(m);
	assert_int_equal(m->u.snapshot_resp.reject, 1);
	assert_int_equal(m->u.snapshot_resp.offset, 0);
	assert_int_equal(n3->n_chunks_written, 0);
	rh_drop(h, RAFT_MSG_SNAPSHOT_RESP, 3, 1);
	print_message("the last chunk before the first: refused, SNAPSHOT_RESP wants offset 0, "
	              "nothing written\n");

	rh_deliver(h, RAFT_MSG_SNAPSHOT, 1, 3);
	rh_deliver(h, RAFT_MSG_SNAPSHOT_RESP, 3, 1);
	rh_deliver(h, RAFT_MSG_SNAPSHOT, 1, 3);
	assert_int_equal(n3->n_chunks_written, 2);
	rh_replay(h, &first);
	m = rh_rec_find(n3, 1, RAFT_MSG_SNAPSHOT_RESP, 1);
	assert_non_null(m);
	assert_int_equal(m->u.snapshot_resp.reject, 1);
	assert_int_equal(m->u.snapshot_resp.offset, 2 * RAFT_SNAPSHOT_CHUNK_BYTES);
	assert_int_equal(n3->rec.u.chunk_len, 0);
	assert_int_equal(n3->n_chunks_written, 2);
	print_message("chunks 0 and %u taken; a duplicate of chunk 0 is refused with offset %u "
	              "wanted, not written again\n",
	              RAFT_SNAPSHOT_CHUNK_BYTES, 2 * RAFT_SNAPSHOT_CHUNK_BYTES);

	rh_settle(h, 1, 2);
	assert_int_equal(n3->n_installs, 1);
	assert_int_equal(n3->n_chunks_written, 3);
	assert_memory_equal(n3->snap_data, rh_node(h, 1)->snap_data, SNAP_BYTES);
	assert_int_equal(rh_status_of(h, 3).commit_index, 11);
	print_message("the leader went on from the wanted offset: installed, byte for byte\n");
	rh_destroy(&h);
}

#define PIPE_BYTES (7u * RAFT_SNAPSHOT_CHUNK_BYTES + 1000u) /* eight chunks */

/* Queued SNAPSHOTs from 1 to 3 at offset (any offset: UINT64_MAX). */
static uint32_t chunks_queued_at(struct rh *h, uint64_t offset)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < h->q_n; i++) {
		const struct raft_msg *m = rh_copy_msg(h->q[i]);

		if (m->type == RAFT_MSG_SNAPSHOT && m->from == 1 && m->to == 3 &&
		    (offset == UINT64_MAX || m->u.snapshot.offset == offset))
			n++;
	}
	return n;
}

/*
 * Up to RAFT_SNAPSHOT_INFLIGHT chunks go out without waiting for an answer;
 * a lost one is resent once though every chunk behind it is refused naming
 * it, and the transfer ends byte for byte with no chunk written twice.
 */
static void test_chunks_pipelined(void **state)
{
	struct rh *h = rh_lagging_cluster(2);
	struct rh_node *n3 = rh_node(h, 3);
	struct rh_msg *c2, *c3;
	const uint64_t C = RAFT_SNAPSHOT_CHUNK_BYTES;

	assert_int_equal(rh_snapshot(h, 1, 11, PIPE_BYTES), 0);
	rh_cut(h, 1, 3, 0);
	for (int i = 0; rh_find(h, RAFT_MSG_SNAPSHOT, 1, 3) < 0; i++) {
		assert_true(i < 1000);
		if (h->q_n > 0)
			rh_deliver(h, 0, 0, 0);
		else
			rh_tick(h, 1, RH_HEARTBEAT_MS);
	}
	assert_int_equal(chunks_queued_at(h, UINT64_MAX), RAFT_SNAPSHOT_INFLIGHT);
	for (uint32_t k = 0; k < RAFT_SNAPSHOT_INFLIGHT; k++)
		assert_int_equal(chunks_queued_at(h, k * C), 1);
	print_message("%u of 8 chunks in flight at once, before any answer\n",
	              RAFT_SNAPSHOT_INFLIGHT);

	/* chunk 0 arrives; chunk 1 is lost; chunks 2 and 3 arrive (refused: 1 is missing) */
	assert_int_equal(rh_deliver(h, RAFT_MSG_SNAPSHOT, 1, 3), 1);
	c2 = rh_copy(h, RAFT_MSG_SNAPSHOT, 1, 3);
	c3 = rh_copy(h, RAFT_MSG_SNAPSHOT, 1, 3);
	assert_int_equal(rh_copy_msg(c2)->u.snapshot.offset, C);
	rh_copy_msg(c2)->u.snapshot.offset = 2 * C;
	rh_copy_msg(c3)->u.snapshot.offset = 3 * C;
	assert_int_equal(rh_drop(h, RAFT_MSG_SNAPSHOT, 1, 3), RAFT_SNAPSHOT_INFLIGHT - 1);
	rh_replay(h, &c2);
	rh_replay(h, &c3);
	assert_int_equal(n3->n_chunks_written, 1);
	assert_int_equal(rh_count(h, RAFT_MSG_SNAPSHOT_RESP, 3, 1), 3);

	/* the leader hears: wants 1 (an ack), wants 1 (refused), wants 1 (refused) */
	assert_int_equal(rh_deliver_matching(h, RAFT_MSG_SNAPSHOT_RESP, 3, 1), 3);
	assert_int_equal(chunks_queued_at(h, C), 1);
	print_message("chunk 1 lost, 2 and 3 refused naming it: chunk 1 resent once, not once "
	              "per refusal\n");

	rh_settle(h, 1, 2);
	assert_int_equal(n3->n_installs, 1);
	assert_int_equal(n3->n_chunks_written, 8);
	assert_memory_equal(n3->snap_data, rh_node(h, 1)->snap_data, PIPE_BYTES);
	assert_int_equal(rh_status_of(h, 3).commit_index, 11);
	print_message("installed byte for byte, each of the 8 chunks written once\n");
	rh_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_taken_compacts),
	    cmocka_unit_test(test_lagging_follower_installs_snapshot),
	    cmocka_unit_test(test_image_made_on_demand),
	    cmocka_unit_test(test_out_of_order_chunks),
	    cmocka_unit_test(test_chunks_pipelined),
	};

	return cmocka_run_group_tests_name("raft snapshots", tests, NULL, NULL);
}
