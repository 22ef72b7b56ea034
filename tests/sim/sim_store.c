/*
 * sim_store.c - the state machine's durable file, as storaged keeps LMDB
 * (docs/design.md, "One fsync per write" and "Snapshots: compaction copies
 * nothing"):
 *
 *   - applying does not sync: what a node applied is durable only up to its
 *     durable index (disk.smfile), which a syncer moves up every 20-200 ms;
 *     a crash loses the rest and the restarted node replays it from its log;
 *   - a snapshot copies nothing: it is taken at the durable index (sim_node.c)
 *     and has no image; the log may be compacted only up to the durable index
 *     (planted bug SIM_BUG_COMPACT_ABOVE_DURABLE lifts that bound);
 *   - an image exists only when the core asks for one for a follower: it is
 *     made from the applied state at that moment (a read transaction) while
 *     applies go on, and reported a few ms later with SNAPSHOT_TAKEN at the
 *     index it holds, which may be above the durable index.
 *
 * Simplification: the syncer skips its turn while an installed snapshot is
 * not yet durable on raftd's side (storaged syncs the installed file before
 * raftd resets its log; here one disk op makes both durable).
 * Runs on the simulator's thread; never allocates.
 */
#include "sim.h"

#define U(x) ((unsigned long long)(x))

static void sync_schedule(struct sim_world *w, uint32_t slot)
{
	sim_net_push(&w->net, w->now_ms + sim_rng_range(&w->rng, 20, 200), SIM_EV_SM_SYNC,
	             (uint8_t)slot, w->nodes[slot].boot);
}

/* Replays the committed entries between the durable index and the snapshot. */
static int replay_to_snapshot(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	const struct sim_disk *d = &nd->disk;

	for (uint64_t i = nd->sm.applied + 1; i <= d->dsnap.index; i++) {
		const struct sim_entry *e = sim_log_get(&d->dlog, i);

		if (e == NULL || sim_sm_apply(&nd->sm, e) != 0) {
			sim_check_fail(
			    w,
			    "node %llu restarts with its state machine durable at %llu "
			    "and snapshot %llu, but its log lacks entry %llu (first %llu): "
			    "the log was compacted above the durable index",
			    U(nd->id), U(d->smfile.index), U(d->dsnap.index), U(i),
			    U(d->dlog.base_index + 1));
			return 1;
		}
		sim_check_apply(w, slot, e);
	}
	return 0;
}

int sim_store_boot(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_disk *d = &nd->disk;
	struct sim_snap snap = d->smfile;

	nd->image_pending = 0;
	d->dsnap.size = 0; /* raftd removes images at start: only a transfer needs one */
	d->vsnap = d->dsnap;
	if (sim_sm_load(&nd->sm, &d->smfile) != 0) {
		sim_check_fail(w, "node %llu: its state machine's file does not load", U(nd->id));
		return 1;
	}
	if (replay_to_snapshot(w, slot) != 0)
		return 1;
	/*
	 * Entries up to the durable index are committed (only those are applied):
	 * without this snapshot the core's commit starts below the state machine's,
	 * an image made from it would be above what the core emitted and refused,
	 * and a leader whose followers all need an image would stall for good.
	 */
	if (snap.index > d->dsnap.index) {
		snap.size = 0;
		sim_disk_snapshot_taken(d, &snap);
	}
	return 0;
}

void sim_store_start(struct sim_world *w, uint32_t slot)
{
	sync_schedule(w, slot);
}

void sim_store_sync(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_disk *d = &nd->disk;

	sync_schedule(w, slot);
	if (d->vsnap.index != d->dsnap.index || nd->sm.applied <= d->smfile.index)
		return;
	sim_sm_serialize(&nd->sm, 0, &d->smfile);
	sim_world_trace(w, SIM_TR_SM_SYNC, slot, d->smfile.index, 0, 0, 0);
}

uint64_t sim_store_compact_bound(const struct sim_node *nd, uint64_t index)
{
#ifndef SIM_BUG_COMPACT_ABOVE_DURABLE
	/* above the durable index the log is what a crash replays from */
	if (index > nd->disk.smfile.index)
		return nd->disk.smfile.index;
#endif
	return index;
}

void sim_store_want_image(struct sim_world *w, uint32_t slot, uint64_t index)
{
	struct sim_node *nd = &w->nodes[slot];

	if (nd->image_pending)
		return; /* one copy at a time; the core asks again */
	if (nd->sm.applied < index) {
		sim_check_fail(w, "node %llu is asked for an image at %llu above its applied %llu",
		               U(nd->id), U(index), U(nd->sm.applied));
		return;
	}
	/* the read transaction: the state at this moment; applying goes on */
	sim_sm_serialize(&nd->sm, w->faults.snap_pad, &nd->image);
	nd->image_pending = 1;
	sim_net_push(&w->net, w->now_ms + sim_rng_range(&w->rng, 1, 40), SIM_EV_IMAGE,
	             (uint8_t)slot, nd->boot);
}

void sim_store_image_done(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_disk *d = &nd->disk;
	struct raft_event ev = {.type = RAFT_EVENT_SNAPSHOT_TAKEN};

	if (d->ops_written != d->ops_durable) { /* its rename waits for the disk to be idle */
		sim_net_push(&w->net, w->now_ms + sim_rng_range(&w->rng, 1, 5), SIM_EV_IMAGE,
		             (uint8_t)slot, nd->boot);
		return;
	}
	nd->image_pending = 0;
	if (nd->image.index < d->dsnap.index)
		return; /* a newer snapshot came meanwhile: the core asks again */
	sim_disk_snapshot_taken(d, &nd->image);
	w->stats.images++;
	w->stats.images_above += nd->image.index > d->smfile.index;
	sim_world_trace(w, SIM_TR_SNAPSHOT, slot, nd->image.index, nd->image.term, nd->image.size,
	                1);
	ev.index = nd->image.index;
	ev.snap_size = nd->image.size;
	/* made from applied state, so at or below what the core emitted: it must take it */
	if (sim_node_step(w, slot, &ev, &w->update) != 0)
		sim_check_fail(w, "node %llu: the core refuses its image at %llu (snapshot %llu)",
		               U(nd->id), U(nd->image.index), U(nd->st.snap_index));
}
