/*
 * raftd_update.c - steps the Raft core and has the shared executor
 * (raft_exec.h) run its update over raftd's I/O: the WAL (writes, wal_sync),
 * the snapshot files, ZeroMQ to the peers, storaged and the gateway's reads.
 *
 * Group commit: writes of many updates share one wal_sync in
 * raftd_update_flush(), once per loop iteration, which first steps
 * RAFT_EVENT_FLUSH (the APPENDs of everything drained leave, one per
 * follower, before that sync), then syncs, releases the held messages and
 * reports PERSISTED to the core. A failed WAL write or
 * sync ends the process at once (F13: never retry and continue); the
 * restart recovers from the disk. Loop thread only.
 */
#include "raftd.h"

#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdlib.h>

static void update_fatal(const char *what, int rc)
{
	KV_LOG_ERROR(RAFTD_SVC, "fatal storage error, exiting", "op=%s err=\"%s\"", what,
	             kv_strerror(rc));
	exit(1);
}

static int io_write_chunk(void *ctx, uint64_t offset, const uint8_t *data, uint32_t len)
{
	int rc = raftd_snapfile_write_chunk(ctx, offset, data, len);
	if (rc != 0)
		update_fatal("snapshot chunk write", rc);
	return 0;
}

static int io_install(void *ctx, const struct raft_snapshot_install *si)
{
	struct raftd *d = ctx;
	int rc = raftd_snapfile_install(d, si);
	if (rc != 0)
		update_fatal("snapshot install", rc);
	d->wal_last_term = 0; /* looked up again when needed */
	return 0;
}

static int io_truncate(void *ctx, uint64_t after)
{
	struct raftd *d = ctx;
	int rc = wal_truncate_after(d->wal, after);
	if (rc != 0)
		update_fatal("wal_truncate_after", rc);
	d->wal_dirty = 1;
	d->wal_last_term = 0; /* looked up again when needed */
	return 0;
}

static int io_append(void *ctx, const struct raft_entry *entries, uint32_t n)
{
	struct raftd *d = ctx;
	int rc = wal_append(d->wal, entries, n);
	if (rc != 0)
		update_fatal("wal_append", rc);
	d->wal_dirty = 1;
	d->wal_last_term = entries[n - 1].term;
	return 0;
}

static int io_save_hard_state(void *ctx, const struct raft_hard_state *hs)
{
	struct raftd *d = ctx;
	int rc = wal_save_hard_state(d->wal, hs);
	if (rc != 0)
		update_fatal("wal_save_hard_state", rc);
	d->wal_dirty = 1;
	return 0;
}

/* The WAL's last entry and its term (the snapshot's when the log is empty). */
static void io_log_last(void *ctx, uint64_t *index, uint64_t *term)
{
	struct raftd *d = ctx;
	uint64_t last = wal_last_index(d->wal);
	*index = last;
	if (last == d->snap_index) {
		*term = d->snap_term;
		return;
	}
	if (d->wal_last_term == 0) {
		struct raft_entry e;
		int rc = wal_get(d->wal, last, &e);
		if (rc != 0)
			update_fatal("wal_get last", rc);
		d->wal_last_term = e.term;
	}
	*term = d->wal_last_term;
}

/* Makes every WAL write so far durable; times the fsync. */
static int io_sync(void *ctx)
{
	struct raftd *d = ctx;
	if (!d->wal_dirty)
		return 0;
	uint64_t t0 = kv_clock_mono_us();
	int rc = wal_sync(d->wal);
	if (rc != 0)
		update_fatal("wal_sync", rc);
	uint64_t us = kv_clock_mono_us() - t0;
	d->wal_fsyncs++;
	d->wal_fsync_us_total += us;
	if (us > d->wal_fsync_us_max)
		d->wal_fsync_us_max = us;
	d->wal_dirty = 0;
	return 0;
}

/* Encodes m into the held slot for token d->held_next; non-zero: dropped. */
static int io_prepare(void *ctx, const struct raft_msg *m, uint64_t *token)
{
	struct raftd *d = ctx;
	struct raftd_held *h = &d->held[d->held_next & (RAFT_EXEC_HELD_MAX - 1)];
	if (raftd_peers_index(d, m->to) < 0 || raftd_peers_encode(d, m, &h->msg) != 0) {
		d->peer_msgs_dropped++;
		return KV_EINVAL;
	}
	h->peer_id = m->to;
	*token = d->held_next++;
	return 0;
}

static void io_transmit(void *ctx, uint64_t token)
{
	struct raftd *d = ctx;
	struct raftd_held *h = &d->held[token & (RAFT_EXEC_HELD_MAX - 1)];
	raftd_peers_send_encoded(d, h->peer_id, &h->msg);
}

static void io_discard(void *ctx, uint64_t token)
{
	struct raftd *d = ctx;
	zmq_msg_close(&d->held[token & (RAFT_EXEC_HELD_MAX - 1)].msg);
}

/* Encodes and sends m now (not through the held ring, whose slots may all be taken). */
static void io_send(void *ctx, const struct raft_msg *m)
{
	struct raftd *d = ctx;
	int peer = raftd_peers_index(d, m->to);
	zmq_msg_t msg;
	if (peer < 0 || raftd_peers_encode(d, m, &msg) != 0) {
		d->peer_msgs_dropped++;
		return;
	}
	raftd_peers_send_encoded(d, m->to, &msg);
}

static void io_apply(void *ctx, uint64_t first, uint64_t last)
{
	raftd_apply_committed(ctx, last);
}

static void io_answer(void *ctx, const struct raft_read *reads, uint32_t n)
{
	if (n > 0)
		raftd_local_answer_reads(ctx, reads, n);
}

static int io_compact(void *ctx, uint64_t index)
{
	int rc = raftd_snapshot_take_compact(ctx, index);
	if (rc != 0)
		update_fatal("wal compact", rc);
	return 0;
}

static void io_want_image(void *ctx, uint64_t index)
{
	raftd_image_want(ctx, index);
}

static const struct raft_exec_io update_io = {
    .write_chunk = io_write_chunk,
    .install = io_install,
    .truncate = io_truncate,
    .append = io_append,
    .save_hard_state = io_save_hard_state,
    .log_last = io_log_last,
    .sync = io_sync,
    .sync_request = NULL, /* raftd_update_flush() syncs once per loop iteration */
    .send = io_send,
    .prepare = io_prepare,
    .transmit = io_transmit,
    .discard = io_discard,
    .apply = io_apply,
    .answer = io_answer,
    .compact = io_compact,
    .want_image = io_want_image,
};

void raftd_update_init(struct raftd *d)
{
	struct raft_exec_io io = update_io;
	io.ctx = d;
	raft_exec_init(d->exec, &io);
}

static void update_log_changes(struct raftd *d)
{
	static const char *const roles[] = {"?", "follower", "precandidate", "candidate", "leader"};
	struct raft_status st;
	raft_get_status(d->raft, &st);
	if (st.role != d->last_role && st.role <= RAFT_LEADER)
		KV_LOG_INFO(RAFTD_SVC, "role changed", "role=%s term=%" PRIu64, roles[st.role],
		            st.term);
	if (st.role == RAFT_LEADER && d->last_role != RAFT_LEADER) {
		d->leader_since_ms = kv_clock_mono_ms();
		raftd_identity_on_leader(d);
	}
	if (st.leader != d->last_leader)
		KV_LOG_INFO(RAFTD_SVC, "leader changed", "leader=%" PRIu64 " term=%" PRIu64,
		            st.leader, st.term);
	d->last_role = st.role;
	d->last_leader = st.leader;
	d->last_term = st.term;
}

int raftd_update_step(struct raftd *d, const struct raft_event *ev)
{
	struct raft_event e = *ev;
	e.now_ms = kv_clock_mono_ms();
	int rc = raft_step(d->raft, &e, &d->update);
	/* before the executor: its messages to a member added by this step need a connection */
	raftd_addresses_observe(d, &d->update);
	raftd_peers_reconcile(d);
	int xrc = raft_exec_run(d->exec, &d->update);
	KV_ASSERT(xrc == 0); /* every failing I/O above exits */
	update_log_changes(d);
	if (d->image_handed_over) {
		/* the installed snapshot's file went to storaged: the core has no image of it */
		d->image_handed_over = 0;
		struct raft_event taken = {
		    .type = RAFT_EVENT_SNAPSHOT_TAKEN, .index = d->snap_index, .snap_size = 0};
		raftd_update_step(d, &taken);
	}
	return rc;
}

void raftd_update_flush(struct raftd *d)
{
	/* first the APPENDs of everything drained (they leave before our own sync) */
	struct raft_event flush = {.type = RAFT_EVENT_FLUSH};
	raftd_update_step(d, &flush);
	for (uint32_t round = 0; round < RAFTD_PERSIST_ROUNDS_MAX; round++) {
		struct raft_event ev = {.type = RAFT_EVENT_PERSISTED};
		if (!raft_exec_flush(d->exec, &ev))
			return;
		raftd_update_step(d, &ev);
	}
}
