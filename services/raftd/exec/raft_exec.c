/*
 * raft_exec.c - executes a core update in raft.h's order over a driver's
 * I/O, with the group commit: held messages and the PERSISTED they wait for.
 *
 * Planted bug for tests (raft_bugs.h): raft_bug_exec_release_before_sync()
 * sends msgs_after_persist at once, before the sync they wait for.
 * Runs on its driver's thread; pure (no syscalls, no allocation).
 */
#include "raft_exec.h"

#include "kv_assert.h"
#include "raft_bugs.h"

#include <stddef.h>

static void exec_clear(struct raft_exec *x)
{
	x->writes = x->synced = 0;
	x->syncing = 0;
	x->sync_mark = 0;
	x->batch_head = x->batch_tail = 0;
	x->held_head = x->held_tail = 0;
}

void raft_exec_init(struct raft_exec *x, const struct raft_exec_io *io)
{
	KV_ASSERT(io->write_chunk && io->install && io->truncate && io->append &&
	          io->save_hard_state && io->log_last && io->sync && io->send && io->prepare &&
	          io->transmit && io->discard && io->apply && io->answer && io->compact);
	x->io = *io;
	exec_clear(x);
}

void raft_exec_reset(struct raft_exec *x)
{
	while (x->held_head != x->held_tail)
		x->io.discard(x->io.ctx, x->held[x->held_head++ & (RAFT_EXEC_HELD_MAX - 1)]);
	exec_clear(x);
}

static struct raft_exec_batch *exec_batch(struct raft_exec *x, uint64_t n)
{
	return &x->batches[n & (RAFT_EXEC_BATCHES_MAX - 1)];
}

/* Sends the held messages of the oldest batch and drops it. */
static void exec_release_oldest(struct raft_exec *x)
{
	struct raft_exec_batch *b = exec_batch(x, x->batch_head);

	for (uint32_t i = 0; i < b->n_held; i++) {
		KV_ASSERT(x->held_head != x->held_tail);
		x->io.transmit(x->io.ctx, x->held[x->held_head++ & (RAFT_EXEC_HELD_MAX - 1)]);
	}
	x->batch_head++;
}

/*
 * Syncs every write and sends every held message; their batches are dropped
 * (the next PERSISTED covers the log). Done before a truncation or install,
 * whose held acknowledgements may cover entries about to go, and when the
 * rings are full.
 */
static int exec_barrier(struct raft_exec *x)
{
	int rc;

	if (x->batch_head == x->batch_tail && x->writes == x->synced)
		return 0;
	rc = x->io.sync(x->io.ctx);
	if (rc != 0)
		return rc;
	x->synced = x->writes;
	while (x->batch_head != x->batch_tail)
		exec_release_oldest(x);
	return 0;
}

static int exec_wrote(const struct raft_update *u)
{
	return u->snapshot_chunk != NULL || u->has_snapshot_install || u->has_truncate ||
	       u->n_entries > 0 || u->hard_state_changed;
}

/* Step 1, in raft.h's order; the barrier comes first when entries may go. */
static int exec_persist(struct raft_exec *x, const struct raft_update *u)
{
	const struct raft_exec_io *io = &x->io;
	int rc = 0;

	if (u->has_truncate || u->has_snapshot_install)
		rc = exec_barrier(x);
	if (rc == 0 && u->snapshot_chunk != NULL)
		rc = io->write_chunk(io->ctx, u->chunk_offset, u->snapshot_chunk, u->chunk_len);
	if (rc == 0 && u->has_snapshot_install)
		rc = io->install(io->ctx, &u->snapshot_install);
	if (rc == 0 && u->has_truncate)
		rc = io->truncate(io->ctx, u->truncate_after);
	if (rc == 0 && u->n_entries > 0)
		rc = io->append(io->ctx, u->entries, u->n_entries);
	if (rc == 0 && u->hard_state_changed)
		rc = io->save_hard_state(io->ctx, &u->hard_state);
	return rc;
}

/* Step 2 for msgs_after_persist: one batch that waits for the next sync. */
static int exec_hold(struct raft_exec *x, const struct raft_update *u, int wrote)
{
	struct raft_exec_batch *b;
	int rc;

	if (raft_bug_exec_release_before_sync() ||
	    (!wrote && x->batch_head == x->batch_tail && x->writes == x->synced)) {
		for (uint32_t i = 0; i < u->n_msgs_after_persist; i++)
			x->io.send(x->io.ctx, &u->msgs_after_persist[i]);
		if (!wrote)
			return 0;
	}
	if (x->batch_tail - x->batch_head == RAFT_EXEC_BATCHES_MAX ||
	    RAFT_EXEC_HELD_MAX - (x->held_tail - x->held_head) < u->n_msgs_after_persist) {
		rc = exec_barrier(x); /* this update's writes are done: syncing now is safe */
		if (rc != 0)
			return rc;
	}
	b = exec_batch(x, x->batch_tail++);
	b->mark = x->writes;
	x->io.log_last(x->io.ctx, &b->index, &b->term);
	b->n_held = 0;
	for (uint32_t i = 0; !raft_bug_exec_release_before_sync() && i < u->n_msgs_after_persist;
	     i++) {
		uint64_t token;

		if (x->io.prepare(x->io.ctx, &u->msgs_after_persist[i], &token) != 0)
			continue;
		x->held[x->held_tail++ & (RAFT_EXEC_HELD_MAX - 1)] = token;
		b->n_held++;
	}
	raft_exec_sync_more(x);
	return 0;
}

int raft_exec_run(struct raft_exec *x, const struct raft_update *u)
{
	const struct raft_exec_io *io = &x->io;
	int wrote = exec_wrote(u);
	int rc = exec_persist(x, u);

	if (rc != 0)
		return rc;
	x->writes += (uint64_t)wrote;
	for (uint32_t i = 0; i < u->n_msgs_now; i++)
		io->send(io->ctx, &u->msgs_now[i]);
	if (wrote || u->n_msgs_after_persist > 0) {
		rc = exec_hold(x, u, wrote);
		if (rc != 0)
			return rc;
	}
	if (u->commit_last != 0)
		io->apply(io->ctx, u->commit_first, u->commit_last);
	io->answer(io->ctx, u->reads, u->n_reads);
	if (u->compact_index != 0)
		rc = io->compact(io->ctx, u->compact_index);
	if (u->want_image != 0 && io->want_image != NULL)
		io->want_image(io->ctx, u->want_image);
	return rc;
}

/* Releases the batches whose writes are at most mark; fills the PERSISTED of the last. */
static int exec_release_upto(struct raft_exec *x, uint64_t mark, struct raft_event *persisted)
{
	int released = 0;

	while (x->batch_head != x->batch_tail) {
		const struct raft_exec_batch *b = exec_batch(x, x->batch_head);

		if (b->mark > mark)
			break;
		persisted->type = RAFT_EVENT_PERSISTED;
		persisted->index = b->index;
		persisted->term = b->term;
		released = 1;
		exec_release_oldest(x);
	}
	return released;
}

int raft_exec_flush(struct raft_exec *x, struct raft_event *persisted)
{
	if (x->batch_head == x->batch_tail && x->writes == x->synced)
		return 0;
	if (x->writes != x->synced) {
		int rc = x->io.sync(x->io.ctx);

		KV_ASSERT(rc == 0); /* a driver whose sync can fail exits in it */
		x->synced = x->writes;
	}
	return exec_release_upto(x, x->writes, persisted);
}

int raft_exec_sync_done(struct raft_exec *x, struct raft_event *persisted)
{
	KV_ASSERT(x->syncing);
	x->syncing = 0;
	if (x->sync_mark > x->synced)
		x->synced = x->sync_mark;
	return exec_release_upto(x, x->sync_mark, persisted);
}

void raft_exec_sync_more(struct raft_exec *x)
{
	if (x->io.sync_request == NULL || x->syncing)
		return;
	if (x->batch_head == x->batch_tail && x->writes == x->synced)
		return;
	x->syncing = 1;
	x->sync_mark = x->writes;
	x->io.sync_request(x->io.ctx);
}
