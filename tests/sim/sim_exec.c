/*
 * sim_exec.c - the executor's I/O (raft_exec.h) for a simulated node: the
 * update's writes go to the simulated disk as unsynced ops, messages into
 * network slots (payloads copied from the node's log), syncs are events
 * that complete after a simulated latency (sim_node_sync_done).
 *
 * The order of an update and the group commit are raft_exec.c's; this file
 * only does the I/O and the checks that belong to it. Runs on the
 * simulator's thread; never allocates.
 */
#include "sim.h"

#include <string.h>

#include "kv_assert.h"
#include "kv_err.h"

static struct sim_node *exec_node(void *ctx)
{
	struct sim_exec_ctx *c = ctx;

	return &c->w->nodes[c->slot];
}

static void on_durable(void *ctx, const struct sim_disk *d, const struct sim_entry *e)
{
	struct sim_exec_ctx *c = ctx;

	sim_check_durable_append(c->w, c->slot, d, e);
}

static int exec_failed(struct sim_exec_ctx *c, int rc)
{
	if (rc != 0)
		sim_check_fail(c->w, "node %llu: persisting its update failed: %s",
		               (unsigned long long)c->w->nodes[c->slot].id, kv_strerror(rc));
	return rc;
}

/* Copies the entries' payloads of an APPEND from the node's log into the slot. */
static int msg_attach_entries(struct sim_world *w, uint32_t slot, const struct raft_msg *m,
                              struct sim_msg_slot *ms)
{
	const struct sim_disk *d = &w->nodes[slot].disk;
	const struct raft_append *a = &m->u.append;

	ms->m.u.append.entries = a->n_entries ? ms->ents : NULL;
	for (uint32_t i = 0; i < a->n_entries; i++) {
		const struct sim_entry *e = sim_log_get(&d->vlog, a->entries[i].index);

		if (!e || e->term != a->entries[i].term || e->type != a->entries[i].type ||
		    e->len != a->entries[i].len) {
			sim_check_fail(
			    w, "node %llu sends entry %llu term %llu that is not in its log",
			    (unsigned long long)m->from, (unsigned long long)a->entries[i].index,
			    (unsigned long long)a->entries[i].term);
			return 1;
		}
		ms->ents[i] = a->entries[i];
		memcpy(ms->data[i], e->data, e->len);
		ms->ents[i].data = e->len ? ms->data[i] : NULL;
	}
	return 0;
}

/* Points a SNAPSHOT chunk at the node's snapshot; 1 when it cannot be sent. */
static int msg_attach_chunk(struct sim_world *w, uint32_t slot, const struct raft_msg *m,
                            struct sim_msg_slot *ms)
{
	const struct sim_snap *sn = &w->nodes[slot].disk.vsnap;
	const struct raft_snapshot *c = &m->u.snapshot;

	ms->m.u.snapshot.chunk = NULL;
	if (sn->index != c->snap_index || sn->term != c->snap_term || sn->size != c->snap_size ||
	    c->offset + c->chunk_len > sn->size) {
		sim_check_fail(w, "node %llu sends a chunk of snapshot %llu it does not have",
		               (unsigned long long)m->from, (unsigned long long)c->snap_index);
		return 1;
	}
	if (sim_chunk_attach(&w->net, ms, sn) != 0) {
		w->net.dropped++; /* no buffer free: the chunk is lost */
		return 1;
	}
	return 0;
}

/* Copies m into a network slot with payloads from the log; UINT32_MAX if lost. */
static uint32_t msg_prepare(struct sim_world *w, uint32_t slot, const struct raft_msg *m)
{
	uint32_t s = sim_net_alloc(&w->net);
	struct sim_msg_slot *ms;

	if (s == UINT32_MAX) {
		w->net.dropped++;
		return s;
	}
	ms = &w->net.slots[s];
	ms->m = *m;
	if (m->from != w->nodes[slot].id || m->to == m->from || m->to == 0 ||
	    m->to > SIM_SLOTS_MAX || raft_msg_n_entries(m) > RAFT_APPEND_ENTRIES_MAX) {
		sim_check_fail(
		    w, "node %llu sends a bad message: type %u from %llu to %llu, %u entries",
		    (unsigned long long)m->from, m->type, (unsigned long long)m->from,
		    (unsigned long long)m->to, raft_msg_n_entries(m));
		goto out_release;
	}
	if (m->type == RAFT_MSG_APPEND && msg_attach_entries(w, slot, m, ms) != 0)
		goto out_release;
	if (m->type == RAFT_MSG_SNAPSHOT && msg_attach_chunk(w, slot, m, ms) != 0)
		goto out_release;
	return s;
out_release:
	sim_net_release(&w->net, s);
	return UINT32_MAX;
}

static void msg_send(struct sim_world *w, uint32_t slot, uint32_t s)
{
	sim_check_sent(w, slot, &w->net.slots[s].m);
	sim_world_trace(w, SIM_TR_SEND, slot, w->net.slots[s].m.type, w->net.slots[s].m.to,
	                w->net.slots[s].m.term, raft_msg_n_entries(&w->net.slots[s].m));
	sim_net_send(&w->net, &w->rng, w->now_ms, s);
}

static int io_write_chunk(void *ctx, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct sim_exec_ctx *c = ctx;
	struct sim_node *nd = exec_node(ctx);
	int rc = sim_chunk_write(&nd->disk.incoming, offset, data, len);

	c->w->stats.later_chunks += offset > 0;
	if (rc != 0)
		sim_check_fail(
		    c->w, "node %llu writes a snapshot chunk at %llu+%u (received %u bytes): %s",
		    (unsigned long long)nd->id, (unsigned long long)offset, len,
		    nd->disk.incoming.size, kv_strerror(rc));
	return rc;
}

static int io_install(void *ctx, const struct raft_snapshot_install *si)
{
	struct sim_exec_ctx *c = ctx;
	struct sim_node *nd = exec_node(ctx);
	int rc;

	if (si->index < nd->sm.applied) {
		sim_check_fail(c->w,
		               "node %llu installs snapshot %llu below its applied index %llu",
		               (unsigned long long)nd->id, (unsigned long long)si->index,
		               (unsigned long long)nd->sm.applied);
		return KV_EINVAL;
	}
	rc = sim_disk_install(&nd->disk, si);
	if (rc == 0 && sim_sm_load(&nd->sm, &nd->disk.vsnap) != 0)
		rc = KV_ECORRUPT;
	if (rc == 0)
		sim_check_snapshot_state(c->w, c->slot);
	c->w->stats.installs++;
	sim_world_trace(c->w, SIM_TR_INSTALL, c->slot, si->index, si->term, si->size,
	                (uint64_t)-rc);
	return exec_failed(c, rc);
}

static int io_truncate(void *ctx, uint64_t after)
{
	return exec_failed(ctx, sim_disk_truncate(&exec_node(ctx)->disk, after));
}

static int io_append(void *ctx, const struct raft_entry *entries, uint32_t n)
{
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && i < n; i++)
		rc = sim_disk_append(&exec_node(ctx)->disk, &entries[i]);
	return exec_failed(ctx, rc);
}

static int io_save_hard_state(void *ctx, const struct raft_hard_state *hs)
{
	return exec_failed(ctx, sim_disk_hard_state(&exec_node(ctx)->disk, hs));
}

static void io_log_last(void *ctx, uint64_t *index, uint64_t *term)
{
	const struct sim_log *l = &exec_node(ctx)->disk.vlog;

	*index = l->last;
	*term = sim_log_term_at(l, l->last);
}

/* A barrier (raft_exec.c): every unsynced op becomes durable at once. */
static int io_sync(void *ctx)
{
	struct sim_exec_ctx *c = ctx;
	struct sim_node *nd = exec_node(ctx);

	sim_disk_sync(&nd->disk, nd->disk.ops_written, on_durable, c);
	sim_world_trace(c->w, SIM_TR_SYNC, c->slot, nd->disk.ops_durable, 0, 0, 1);
	return 0;
}

/* Starts a sync of the ops written so far; it ends in sim_node_sync_done(). */
static void io_sync_request(void *ctx)
{
	struct sim_exec_ctx *c = ctx;
	struct sim_node *nd = exec_node(ctx);
	struct sim_world *w = c->w;
	uint64_t lat =
	    nd->slow_disk ? sim_rng_range(&w->rng, 10, 120) : sim_rng_range(&w->rng, 0, 2);

	nd->sync_mark = nd->disk.ops_written;
	sim_net_push(&w->net, w->now_ms + lat, SIM_EV_SYNC, (uint8_t)c->slot, nd->boot);
}

static void io_send(void *ctx, const struct raft_msg *m)
{
	struct sim_exec_ctx *c = ctx;
	uint32_t s = msg_prepare(c->w, c->slot, m);

	if (s != UINT32_MAX)
		msg_send(c->w, c->slot, s);
}

static int io_prepare(void *ctx, const struct raft_msg *m, uint64_t *token)
{
	struct sim_exec_ctx *c = ctx;
	uint32_t s = msg_prepare(c->w, c->slot, m);

	*token = s;
	return s == UINT32_MAX;
}

static void io_transmit(void *ctx, uint64_t token)
{
	struct sim_exec_ctx *c = ctx;

	msg_send(c->w, c->slot, (uint32_t)token);
}

static void io_discard(void *ctx, uint64_t token)
{
	struct sim_exec_ctx *c = ctx;

	sim_net_release(&c->w->net, (uint32_t)token);
}

static void io_apply(void *ctx, uint64_t first, uint64_t last)
{
	struct sim_exec_ctx *c = ctx;
	struct sim_world *w = c->w;
	struct sim_node *nd = exec_node(ctx);

	if (first == 0 || first > last || first > nd->sm.applied + 1) {
		sim_check_fail(w, "node %llu commits [%llu, %llu] with applied %llu: a gap",
		               (unsigned long long)nd->id, (unsigned long long)first,
		               (unsigned long long)last, (unsigned long long)nd->sm.applied);
		return;
	}
	for (uint64_t i = nd->sm.applied + 1; i <= last && !w->check.violated; i++) {
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
		sim_check_apply(w, c->slot, e);
		sim_client_on_apply(w, c->slot, e);
	}
	if (nd->sm.applied >= nd->disk.vsnap.index + w->faults.snap_every)
		nd->snapshot_due = 1;
}

static void io_answer(void *ctx, const struct raft_read *reads, uint32_t n)
{
	struct sim_exec_ctx *c = ctx;

	for (uint32_t i = 0; i < n; i++)
		sim_client_on_read(c->w, c->slot, &reads[i]);
	sim_client_serve_reads(c->w, c->slot);
}

static int io_compact(void *ctx, uint64_t index)
{
	struct sim_exec_ctx *c = ctx;
	struct sim_node *nd = exec_node(ctx);

	if (index > nd->disk.vsnap.index)
		sim_check_fail(c->w, "node %llu compacts to %llu past its snapshot %llu",
		               (unsigned long long)nd->id, (unsigned long long)index,
		               (unsigned long long)nd->disk.vsnap.index);
	else
		sim_disk_compact(&nd->disk, sim_store_compact_bound(nd, index));
	return 0;
}

static void io_want_image(void *ctx, uint64_t index)
{
	struct sim_exec_ctx *c = ctx;

	sim_store_want_image(c->w, c->slot, index);
}

static const struct raft_exec_io sim_exec_io = {
    .write_chunk = io_write_chunk,
    .install = io_install,
    .truncate = io_truncate,
    .append = io_append,
    .save_hard_state = io_save_hard_state,
    .log_last = io_log_last,
    .sync = io_sync,
    .sync_request = io_sync_request,
    .send = io_send,
    .prepare = io_prepare,
    .transmit = io_transmit,
    .discard = io_discard,
    .apply = io_apply,
    .answer = io_answer,
    .compact = io_compact,
    .want_image = io_want_image,
};

void sim_exec_start(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct raft_exec_io io = sim_exec_io;

	nd->exec_ctx.w = w;
	nd->exec_ctx.slot = slot;
	io.ctx = &nd->exec_ctx;
	raft_exec_init(&nd->exec, &io);
}
