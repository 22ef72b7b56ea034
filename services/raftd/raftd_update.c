/*
 * raftd_update.c - steps the Raft core and executes its update in raft.h's
 * order: persist (WAL writes, not yet synced), send msgs_now, hold
 * msgs_after_persist, record the commit, answer reads, compact.
 *
 * Group commit: writes of many updates share one wal_sync in
 * raftd_update_flush(), which then releases the held messages and reports
 * PERSISTED to the core. A failed WAL write or sync ends the process at once
 * (F13: never retry and continue); the restart recovers from the disk.
 * Planted bug for tests (docs/testing.md): -DRAFTD_BUG_SEND_BEFORE_SYNC sends
 * msgs_after_persist at once, before the fsync they wait for.
 * Loop thread only.
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

/* Makes every WAL write so far durable and sends the messages that waited for it. */
static void update_sync_release(struct raftd *d)
{
	if (d->wal_dirty) {
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
	}
	for (uint32_t i = 0; i < d->n_held; i++)
		raftd_peers_send_encoded(d, d->held[i].peer, &d->held[i].msg);
	d->n_held = 0;
}

static void update_persist(struct raftd *d, const struct raft_update *u)
{
	int rc;
	/*
	 * A barrier before anything that removes log entries: messages held for
	 * the group commit may acknowledge entries this update is about to drop,
	 * and once dropped those entries would never reach the disk, yet the
	 * acknowledgements would go out after the sync. Sync and release first.
	 * (Found by the simulator, whose sim_node.c does the same.) Rare: only
	 * on a conflict or a snapshot install with writes in flight.
	 */
	if ((u->has_truncate || u->has_snapshot_install) && (d->n_held > 0 || d->wal_dirty))
		update_sync_release(d);
	if (u->snapshot_chunk != NULL) {
		rc =
		    raftd_snapshot_write_chunk(d, u->chunk_offset, u->snapshot_chunk, u->chunk_len);
		if (rc != 0)
			update_fatal("snapshot chunk write", rc);
	}
	if (u->has_snapshot_install) {
		rc = raftd_snapshot_install(d, &u->snapshot_install);
		if (rc != 0)
			update_fatal("snapshot install", rc);
	}
	if (u->has_truncate) {
		rc = wal_truncate_after(d->wal, u->truncate_after);
		if (rc != 0)
			update_fatal("wal_truncate_after", rc);
		d->wal_dirty = 1;
	}
	if (u->n_entries > 0) {
		rc = wal_append(d->wal, u->entries, u->n_entries);
		if (rc != 0)
			update_fatal("wal_append", rc);
		d->wal_dirty = 1;
	}
	if (u->hard_state_changed) {
		rc = wal_save_hard_state(d->wal, &u->hard_state);
		if (rc != 0)
			update_fatal("wal_save_hard_state", rc);
		d->wal_dirty = 1;
	}
}

/* Encodes m; sends it now, or holds it until the next sync. */
static void update_send(struct raftd *d, const struct raft_msg *m, int after_persist)
{
	int peer = raftd_peers_index(d, m->to);
	zmq_msg_t msg;
#ifdef RAFTD_BUG_SEND_BEFORE_SYNC
	after_persist = 0; /* planted bug, tests only: acknowledge what is not yet durable */
#endif
	if (peer < 0 || raftd_peers_encode(d, m, &msg) != 0) {
		d->peer_msgs_dropped++;
		return;
	}
	if (!after_persist) {
		raftd_peers_send_encoded(d, (uint32_t)peer, &msg);
		return;
	}
	if (d->n_held == RAFTD_HELD_MAX)
		update_sync_release(d); /* this update's writes are done: syncing now is safe */
	d->held[d->n_held].peer = (uint32_t)peer;
	d->held[d->n_held].msg = msg;
	d->n_held++;
}

static void update_log_changes(struct raftd *d)
{
	static const char *const roles[] = {"?", "follower", "precandidate", "candidate", "leader"};
	struct raft_status st;
	raft_get_status(d->raft, &st);
	if (st.role != d->last_role && st.role <= RAFT_LEADER)
		KV_LOG_INFO(RAFTD_SVC, "role changed", "role=%s term=%" PRIu64, roles[st.role],
		            st.term);
	if (st.role == RAFT_LEADER && d->last_role != RAFT_LEADER)
		d->leader_since_ms = kv_clock_mono_ms();
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
	const struct raft_update *u = &d->update;

	update_persist(d, u);
	for (uint32_t i = 0; i < u->n_msgs_now; i++)
		update_send(d, &u->msgs_now[i], 0);
	for (uint32_t i = 0; i < u->n_msgs_after_persist; i++)
		update_send(d, &u->msgs_after_persist[i], 1);
	if (u->commit_last != 0)
		raftd_apply_committed(d, u->commit_last);
	if (u->n_reads > 0)
		raftd_local_answer_reads(d, u);
	if (u->compact_index != 0) {
		int crc = raftd_snapshot_compact(d, u->compact_index);
		if (crc != 0)
			update_fatal("wal compact", crc);
	}
	update_log_changes(d);
	return rc;
}

/* The term of the WAL's last entry (the snapshot's term when the log is empty). */
static uint64_t update_last_term(struct raftd *d, uint64_t last)
{
	if (last == d->snap_index)
		return d->snap_term;
	struct raft_entry e;
	int rc = wal_get(d->wal, last, &e);
	if (rc != 0)
		update_fatal("wal_get last", rc);
	return e.term;
}

void raftd_update_flush(struct raftd *d)
{
	for (uint32_t round = 0; round < RAFTD_PERSIST_ROUNDS_MAX; round++) {
		if (!d->wal_dirty && d->n_held == 0)
			return;
		int was_dirty = d->wal_dirty;
		update_sync_release(d);
		if (!was_dirty)
			return;
		uint64_t last = wal_last_index(d->wal);
		struct raft_event ev = {.type = RAFT_EVENT_PERSISTED, .index = last};
		ev.term = update_last_term(d, last);
		raftd_update_step(d, &ev);
	}
}
