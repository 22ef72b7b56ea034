/*
 * sim_node.c - one simulated node: a real Raft core (raft.h) whose updates
 * the shared executor (raft_exec.h) runs over the simulated disk, network
 * and state machine (sim_exec.c), and its crash, restart and stop.
 *
 * A sync completes here (sim_node_sync_done): the executor releases the
 * messages it covered and yields the RAFT_EVENT_PERSISTED to step. A leader
 * is flushed (RAFT_EVENT_FLUSH) 0-2 ms after an event, so the events of that
 * window share one flush as the messages of one raftd loop iteration do.
 * Runs on the simulator's thread; never allocates (raft_new aside).
 */
#include "sim.h"

#include "kv_assert.h"

uint64_t sim_node_now(const struct sim_node *nd, uint64_t global_ms)
{
	return nd->clock_base_ms + global_ms * nd->rate_permille / 1000;
}

static void on_durable(void *ctx, const struct sim_disk *d, const struct sim_entry *e)
{
	const struct sim_exec_ctx *c = ctx;

	sim_check_durable_append(c->w, c->slot, d, e);
}

static void tick_schedule(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];

	sim_net_push(&w->net, w->now_ms + sim_rng_range(&w->rng, 8, 12), SIM_EV_TICK, (uint8_t)slot,
	             nd->boot);
}

int sim_node_start(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_disk *d = &nd->disk;
	struct raft_options o = {.id = nd->id,
	                         .election_timeout_ms = 150,
	                         .heartbeat_ms = 40,
	                         .seed = sim_rng_next(&w->rng),
	                         .incarnation = nd->incarnation,
	                         .prevote = 1,
	                         .check_quorum = 1};
	struct raft_boot b = {.hard_state = d->dhs, .entries = w->boot_entries};
	int rc;

	KV_ASSERT(nd->state != SIM_NODE_UP && d->ops_written == d->ops_durable);
	sim_store_boot(w, slot); /* may move the snapshot up to the durable index */
	b.snap_index = d->dsnap.index;
	b.snap_term = d->dsnap.term;
	b.snap_config = d->dsnap.config;
	b.snap_size = d->dsnap.size; /* 0: images do not survive a restart */
	/* the log below the snapshot is kept for replay only (sim_store.c) */
	for (uint64_t i = d->dsnap.index + 1; i <= d->dlog.last; i++) {
		const struct sim_entry *e = sim_log_get(&d->dlog, i);
		struct raft_entry *be = &w->boot_entries[b.n_entries++];

		be->term = e->term;
		be->index = e->index;
		be->type = e->type;
		be->len = e->len;
		be->data = e->data;
	}
	b.now_ms = sim_node_now(nd, w->now_ms);
	rc = raft_new(&o, &b, &nd->raft);
	if (rc != 0)
		return rc;
	nd->state = SIM_NODE_UP;
	nd->boot++;
	sim_store_start(w, slot);
	sim_exec_start(w, slot);
	nd->last_commit = 0;
	nd->snapshot_due = 0;
	nd->flush_pending = 0; /* one queued before the restart has an old boot */
	raft_get_status(nd->raft, &nd->st);
	sim_check_snapshot_state(w, slot);
	sim_world_trace(w, SIM_TR_RESTART, slot, nd->boot, d->dsnap.index, d->dlog.last,
	                d->dhs.term);
	tick_schedule(w, slot);
	return 0;
}

/* Takes the node down; its unsynced writes are lost or partly kept. */
static void node_down(struct sim_world *w, uint32_t slot, uint8_t state)
{
	struct sim_node *nd = &w->nodes[slot];
	uint64_t kept;
	int torn;

	KV_ASSERT(nd->state == SIM_NODE_UP);
	raft_destroy(&nd->raft);
	raft_exec_reset(&nd->exec);                 /* its held messages are never sent */
	if (nd->sm.applied > nd->disk.smfile.index) /* the state machine keeps only its file */
		w->stats.lost_applied += nd->sm.applied - nd->disk.smfile.index;
	kept = sim_disk_crash(&nd->disk, &w->rng, &torn);
	nd->state = state;
	w->stats.crashes += state == SIM_NODE_DOWN;
	nd->boot++; /* invalidates its pending tick and sync events */
	sim_client_forget_node(w, slot);
	sim_world_trace(w, SIM_TR_CRASH, slot, state, kept, (uint64_t)torn, nd->disk.dlog.last);
}

void sim_node_crash(struct sim_world *w, uint32_t slot)
{
	node_down(w, slot, SIM_NODE_DOWN);
}

void sim_node_stop(struct sim_world *w, uint32_t slot)
{
	node_down(w, slot, SIM_NODE_OFF);
}

/*
 * Takes a snapshot when one is due and the disk is idle: at the state
 * machine's durable index, without an image (it copies nothing; an image is
 * made only when a follower needs one, sim_store.c).
 */
static void snapshot_take(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_snap snap = nd->disk.smfile;
	struct raft_event ev = {.type = RAFT_EVENT_SNAPSHOT_TAKEN};

	if (!nd->snapshot_due || nd->disk.ops_written != nd->disk.ops_durable ||
	    snap.index <= nd->disk.dsnap.index)
		return;
	nd->snapshot_due = 0;
	snap.size = 0;
	sim_disk_snapshot_taken(&nd->disk, &snap);
	w->stats.snapshots++;
	sim_world_trace(w, SIM_TR_SNAPSHOT, slot, snap.index, snap.term, snap.size, 0);
	ev.index = snap.index;
	ev.snap_size = snap.size;
	sim_node_step(w, slot, &ev, &w->update);
}

/* A leader's next flush, unless one is queued: what this event made due waits for it. */
static void flush_schedule(struct sim_world *w, uint32_t slot, uint8_t type)
{
	struct sim_node *nd = &w->nodes[slot];

	if (type == RAFT_EVENT_FLUSH || nd->state != SIM_NODE_UP || nd->flush_pending ||
	    nd->st.role != RAFT_LEADER)
		return;
	nd->flush_pending = 1;
	sim_net_push(&w->net, w->now_ms + sim_rng_below(&w->rng, 3), SIM_EV_FLUSH, (uint8_t)slot,
	             nd->boot);
}

void sim_node_flush(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct raft_event ev = {.type = RAFT_EVENT_FLUSH};

	nd->flush_pending = 0;
	sim_node_step(w, slot, &ev, &w->update);
}

int sim_node_step(struct sim_world *w, uint32_t slot, struct raft_event *ev, struct raft_update *up)
{
	struct sim_node *nd = &w->nodes[slot];
	struct raft_status before = nd->st;
	int rc;

	KV_ASSERT(nd->state == SIM_NODE_UP);
	ev->now_ms = sim_node_now(nd, w->now_ms);
	rc = raft_step(nd->raft, ev, up);
	w->steps++;
	raft_get_status(nd->raft, &nd->st);
	sim_check_update(w, slot, &before, up);
	raft_exec_run(&nd->exec, up); /* a failure is a violation, reported where it happened */
	sim_check_node(w, slot, &before);
	if (!w->check.violated)
		snapshot_take(w, slot);
	flush_schedule(w, slot, ev->type);
	return rc;
}

void sim_node_sync_done(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct raft_event ev = {.type = RAFT_EVENT_PERSISTED};
	int released;

	sim_disk_sync(&nd->disk, nd->sync_mark, on_durable, &nd->exec_ctx);
	released = raft_exec_sync_done(&nd->exec, &ev);
	sim_world_trace(w, SIM_TR_SYNC, slot, nd->sync_mark, ev.index, ev.term, 0);
	if (released && !w->check.violated)
		sim_node_step(w, slot, &ev, &w->update);
	if (nd->state == SIM_NODE_UP)
		raft_exec_sync_more(&nd->exec);
	if (nd->state == SIM_NODE_UP && !w->check.violated)
		snapshot_take(w, slot);
}
