/*
 * sim_node.c - one simulated node: a real Raft core (raft.h) plus the driver
 * that executes each update in the raft.h order against the simulated disk,
 * network and state machine, and its crash, restart and stop.
 *
 * Persist writes go to the disk as unsynced ops; the update's
 * msgs_after_persist wait in a batch until a sync covers its ops, and then a
 * RAFT_EVENT_PERSISTED reports the log's last (index, term) of that update.
 * Runs on the simulator's thread; never allocates (raft_new aside).
 */
#include "sim.h"

#include <string.h>

#include "kv_assert.h"
#include "kv_err.h"

struct durable_ctx {
	struct sim_world *w;
	uint32_t slot;
};

static void on_durable(void *ctx, const struct sim_disk *d, const struct sim_entry *e)
{
	struct durable_ctx *c = ctx;

	sim_check_durable_append(c->w, c->slot, d, e);
}

uint64_t sim_node_now(const struct sim_node *nd, uint64_t global_ms)
{
	return nd->clock_base_ms + global_ms * nd->rate_permille / 1000;
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
	                         .prevote = 1,
	                         .check_quorum = 1};
	struct raft_boot b = {.hard_state = d->dhs,
	                      .snap_index = d->dsnap.index,
	                      .snap_term = d->dsnap.term,
	                      .snap_config = d->dsnap.config,
	                      .snap_size = d->dsnap.size,
	                      .entries = w->boot_entries};
	int rc;

	KV_ASSERT(nd->state != SIM_NODE_UP && d->ops_written == d->ops_durable);
	for (uint64_t i = d->dlog.base_index + 1; i <= d->dlog.last; i++) {
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
	if (sim_sm_load(&nd->sm, &d->dsnap) != 0)
		sim_check_fail(w, "node %llu: its durable snapshot does not load",
		               (unsigned long long)nd->id);
	nd->state = SIM_NODE_UP;
	nd->boot++;
	nd->syncing = 0;
	nd->batch_head = nd->batch_tail = 0;
	nd->held_head = nd->held_tail = 0;
	nd->last_commit = 0;
	nd->snapshot_due = 0;
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
	while (nd->held_head != nd->held_tail)
		sim_net_release(&w->net, nd->held[nd->held_head++ & (SIM_HELD_MAX - 1)]);
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

/* Copies m into a network slot with payloads from the log; UINT32_MAX if lost. */
static uint32_t msg_prepare(struct sim_world *w, uint32_t slot, const struct raft_msg *m)
{
	struct sim_disk *d = &w->nodes[slot].disk;
	uint32_t s = sim_net_alloc(&w->net);
	struct sim_msg_slot *ms;

	if (s == UINT32_MAX) {
		w->net.dropped++;
		return s;
	}
	ms = &w->net.slots[s];
	ms->m = *m;
	ms->m.entries = NULL;
	ms->m.chunk = NULL;
	if (m->from != w->nodes[slot].id || m->to == m->from || m->to == 0 ||
	    m->to > SIM_SLOTS_MAX || m->n_entries > RAFT_APPEND_ENTRIES_MAX) {
		sim_check_fail(
		    w, "node %llu sends a bad message: type %u from %llu to %llu, %u entries",
		    (unsigned long long)m->from, m->type, (unsigned long long)m->from,
		    (unsigned long long)m->to, m->n_entries);
		goto out_release;
	}
	if (m->n_entries)
		ms->m.entries = ms->ents;
	for (uint32_t i = 0; i < m->n_entries; i++) {
		const struct sim_entry *e = sim_log_get(&d->vlog, m->entries[i].index);

		if (!e || e->term != m->entries[i].term || e->type != m->entries[i].type ||
		    e->len != m->entries[i].len) {
			sim_check_fail(
			    w, "node %llu sends entry %llu term %llu that is not in its log",
			    (unsigned long long)m->from, (unsigned long long)m->entries[i].index,
			    (unsigned long long)m->entries[i].term);
			goto out_release;
		}
		ms->ents[i] = m->entries[i];
		memcpy(ms->data[i], e->data, e->len);
		ms->ents[i].data = e->len ? ms->data[i] : NULL;
	}
	if (m->type == RAFT_MSG_SNAPSHOT) {
		const struct sim_snap *sn = &d->vsnap;

		if (sn->index != m->snap_index || sn->term != m->snap_term ||
		    sn->size != m->snap_size || m->offset + m->chunk_len > sn->size) {
			sim_check_fail(
			    w, "node %llu sends a chunk of snapshot %llu it does not have",
			    (unsigned long long)m->from, (unsigned long long)m->snap_index);
			goto out_release;
		}
		if (sim_chunk_attach(&w->net, ms, sn) != 0) {
			w->net.dropped++; /* no buffer free: the chunk is lost */
			goto out_release;
		}
	}
	return s;
out_release:
	sim_net_release(&w->net, s);
	return UINT32_MAX;
}

static void msg_send(struct sim_world *w, uint32_t slot, uint32_t s)
{
	sim_check_sent(w, slot, &w->net.slots[s].m);
	sim_world_trace(w, SIM_TR_SEND, slot, w->net.slots[s].m.type, w->net.slots[s].m.to,
	                w->net.slots[s].m.term, w->net.slots[s].m.n_entries);
	sim_net_send(&w->net, &w->rng, w->now_ms, s);
}

static void sync_start(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	uint64_t lat =
	    nd->slow_disk ? sim_rng_range(&w->rng, 10, 120) : sim_rng_range(&w->rng, 0, 2);

	nd->syncing = 1;
	nd->sync_mark = nd->disk.ops_written;
	sim_net_push(&w->net, w->now_ms + lat, SIM_EV_SYNC, (uint8_t)slot, nd->boot);
}

/*
 * A truncation or snapshot install would undo writes whose acknowledgements
 * still wait for a sync (group commit merges them into one fsync, and the
 * acknowledged entries would never reach the disk). So the driver syncs
 * first and sends those messages; their PERSISTED is then moot, the next
 * one covers the log.
 */
static void sync_barrier(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct durable_ctx ctx = {.w = w, .slot = slot};

	if (nd->batch_head == nd->batch_tail)
		return;
	sim_disk_sync(&nd->disk, nd->disk.ops_written, on_durable, &ctx);
	while (nd->held_head != nd->held_tail)
		msg_send(w, slot, nd->held[nd->held_head++ & (SIM_HELD_MAX - 1)]);
	nd->batch_head = nd->batch_tail;
	sim_world_trace(w, SIM_TR_SYNC, slot, nd->disk.ops_durable, 0, 0, 1);
}

static int exec_persist(struct sim_world *w, uint32_t slot, const struct raft_update *up)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_disk *d = &nd->disk;
	int rc = 0;

	if (up->snapshot_chunk) {
		rc = sim_chunk_write(&d->incoming, up->chunk_offset, up->snapshot_chunk,
		                     up->chunk_len);
		w->stats.later_chunks += up->chunk_offset > 0;
		if (rc != 0) {
			sim_check_fail(w,
			               "node %llu writes a snapshot chunk at %llu+%u (received %u "
			               "bytes): %s",
			               (unsigned long long)nd->id,
			               (unsigned long long)up->chunk_offset, up->chunk_len,
			               d->incoming.size, kv_strerror(rc));
			return 1;
		}
	}
	if (up->has_snapshot_install || up->has_truncate)
		sync_barrier(w, slot);
	if (up->has_snapshot_install && up->snapshot_install.index < nd->sm.applied) {
		sim_check_fail(w, "node %llu installs snapshot %llu below its applied index %llu",
		               (unsigned long long)nd->id,
		               (unsigned long long)up->snapshot_install.index,
		               (unsigned long long)nd->sm.applied);
		return 1;
	}
	if (up->has_snapshot_install) {
		rc = sim_disk_install(d, &up->snapshot_install);
		if (rc == 0 && sim_sm_load(&nd->sm, &d->vsnap) != 0)
			rc = KV_ECORRUPT;
		if (rc == 0)
			sim_check_snapshot_state(w, slot);
		w->stats.installs++;
		sim_world_trace(w, SIM_TR_INSTALL, slot, up->snapshot_install.index,
		                up->snapshot_install.term, up->snapshot_install.size,
		                (uint64_t)-rc);
	}
	if (rc == 0 && up->has_truncate)
		rc = sim_disk_truncate(d, up->truncate_after);
	for (uint32_t i = 0; rc == 0 && i < up->n_entries; i++)
		rc = sim_disk_append(d, &up->entries[i]);
	if (rc == 0 && up->hard_state_changed)
		rc = sim_disk_hard_state(d, &up->hard_state);
	if (rc != 0)
		sim_check_fail(w, "node %llu: persisting its update failed: %s",
		               (unsigned long long)nd->id, kv_strerror(rc));
	return rc;
}

static void exec_send(struct sim_world *w, uint32_t slot, const struct raft_update *up, int writes)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_batch *b;

	for (uint32_t i = 0; i < up->n_msgs_now; i++) {
		uint32_t s = msg_prepare(w, slot, &up->msgs_now[i]);

		if (s != UINT32_MAX)
			msg_send(w, slot, s);
	}
	if (!writes && up->n_msgs_after_persist == 0)
		return;
	if (!writes && nd->batch_head == nd->batch_tail &&
	    nd->disk.ops_durable == nd->disk.ops_written) {
		/* Everything earlier is durable already. */
		for (uint32_t i = 0; i < up->n_msgs_after_persist; i++) {
			uint32_t s = msg_prepare(w, slot, &up->msgs_after_persist[i]);

			if (s != UINT32_MAX)
				msg_send(w, slot, s);
		}
		return;
	}
	if (nd->batch_tail - nd->batch_head >= SIM_BATCHES_MAX) {
		sim_check_fail(w, "node %llu: more than %u updates wait for one sync",
		               (unsigned long long)nd->id, SIM_BATCHES_MAX);
		return;
	}
	b = &nd->batches[nd->batch_tail++ & (SIM_BATCHES_MAX - 1)];
	b->op_mark = nd->disk.ops_written;
	b->index = nd->disk.vlog.last;
	b->term = sim_log_term_at(&nd->disk.vlog, b->index);
	b->n_held = 0;
	for (uint32_t i = 0; i < up->n_msgs_after_persist; i++) {
		uint32_t s = msg_prepare(w, slot, &up->msgs_after_persist[i]);

		if (s == UINT32_MAX)
			continue;
		if (nd->held_tail - nd->held_head >= SIM_HELD_MAX) {
			sim_net_release(&w->net, s);
			continue;
		}
		nd->held[nd->held_tail++ & (SIM_HELD_MAX - 1)] = s;
		b->n_held++;
	}
	if (!nd->syncing)
		sync_start(w, slot);
}

static void exec_apply(struct sim_world *w, uint32_t slot, const struct raft_update *up)
{
	struct sim_node *nd = &w->nodes[slot];

	if (up->commit_last == 0)
		return;
	if (up->commit_first == 0 || up->commit_first > up->commit_last ||
	    up->commit_first > nd->sm.applied + 1) {
		sim_check_fail(w, "node %llu commits [%llu, %llu] with applied %llu: a gap",
		               (unsigned long long)nd->id, (unsigned long long)up->commit_first,
		               (unsigned long long)up->commit_last,
		               (unsigned long long)nd->sm.applied);
		return;
	}
	for (uint64_t i = nd->sm.applied + 1; i <= up->commit_last && !w->check.violated; i++) {
		const struct sim_entry *e = sim_log_get(&nd->disk.vlog, i);

		if (!e) {
			sim_check_fail(w, "node %llu commits index %llu that is not in its log",
			               (unsigned long long)nd->id, (unsigned long long)i);
			return;
		}
		if (!sim_disk_durable_has(&nd->disk, i, e->term)) {
			sim_check_fail(w,
			               "node %llu applies index %llu before it is locally durable",
			               (unsigned long long)nd->id, (unsigned long long)i);
			return;
		}
		if (sim_sm_apply(&nd->sm, e) != 0) {
			sim_check_fail(w, "node %llu cannot apply index %llu",
			               (unsigned long long)nd->id, (unsigned long long)i);
			return;
		}
		sim_check_apply(w, slot, e);
		sim_client_on_apply(w, slot, e);
	}
	if (nd->sm.applied >= nd->disk.vsnap.index + w->faults.snap_every)
		nd->snapshot_due = 1;
}

static void exec_update(struct sim_world *w, uint32_t slot, const struct raft_update *up)
{
	struct sim_node *nd = &w->nodes[slot];
	int writes = up->snapshot_chunk || up->has_snapshot_install || up->has_truncate ||
	             up->n_entries || up->hard_state_changed;

	if (writes && exec_persist(w, slot, up) != 0)
		return;
	exec_send(w, slot, up, writes);
	exec_apply(w, slot, up);
	for (uint32_t i = 0; i < up->n_reads; i++)
		sim_client_on_read(w, slot, &up->reads[i]);
	sim_client_serve_reads(w, slot);
	if (up->compact_index) {
		if (up->compact_index > nd->disk.vsnap.index)
			sim_check_fail(w, "node %llu compacts to %llu past its snapshot %llu",
			               (unsigned long long)nd->id,
			               (unsigned long long)up->compact_index,
			               (unsigned long long)nd->disk.vsnap.index);
		else
			sim_disk_compact(&nd->disk, up->compact_index);
	}
}

/* Saves a snapshot of the state machine when one is due and the disk is idle. */
static void snapshot_take(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_snap snap = {0};
	struct raft_event ev = {.type = RAFT_EVENT_SNAPSHOT_TAKEN};

	if (!nd->snapshot_due || nd->disk.ops_written != nd->disk.ops_durable ||
	    nd->sm.applied <= nd->disk.dsnap.index)
		return;
	nd->snapshot_due = 0;
	sim_sm_serialize(&nd->sm, w->faults.snap_pad, &snap);
	sim_disk_snapshot_taken(&nd->disk, &snap);
	w->stats.snapshots++;
	sim_world_trace(w, SIM_TR_SNAPSHOT, slot, snap.index, snap.term, snap.size, 0);
	ev.index = snap.index;
	ev.snap_size = snap.size;
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
	exec_update(w, slot, up);
	sim_check_node(w, slot, &before);
	if (!w->check.violated)
		snapshot_take(w, slot);
	return rc;
}

void sim_node_sync_done(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct raft_event ev = {.type = RAFT_EVENT_PERSISTED};
	struct durable_ctx ctx = {.w = w, .slot = slot};
	int released = 0;

	sim_disk_sync(&nd->disk, nd->sync_mark, on_durable, &ctx);
	nd->syncing = 0;
	while (nd->batch_head != nd->batch_tail) {
		struct sim_batch *b = &nd->batches[nd->batch_head & (SIM_BATCHES_MAX - 1)];

		if (b->op_mark > nd->sync_mark)
			break;
		for (uint32_t i = 0; i < b->n_held; i++)
			msg_send(w, slot, nd->held[nd->held_head++ & (SIM_HELD_MAX - 1)]);
		ev.index = b->index;
		ev.term = b->term;
		released = 1;
		nd->batch_head++;
	}
	sim_world_trace(w, SIM_TR_SYNC, slot, nd->sync_mark, ev.index, ev.term, 0);
	if (released && !w->check.violated)
		sim_node_step(w, slot, &ev, &w->update);
	if (nd->state == SIM_NODE_UP && !nd->syncing &&
	    (nd->batch_head != nd->batch_tail || nd->disk.ops_written != nd->disk.ops_durable))
		sync_start(w, slot);
	if (nd->state == SIM_NODE_UP && !w->check.violated)
		snapshot_take(w, slot);
}
