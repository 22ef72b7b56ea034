/*
 * raft_harness_io.c - the executor's I/O (raft_exec.h) for a harness node:
 * writes go to the node's stored log and snapshot (durable at each sync),
 * messages are copied into the harness queue, committed entries to the
 * node's "state machine", with the checks that belong to each. The order of
 * an update and the held messages are raft_exec.c's. Test thread only.
 */
#include "raft_harness_internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static struct rh_node *io_node(void *ctx)
{
	return ((struct rh_exec_ctx *)ctx)->n;
}

static int io_write_chunk(void *ctx, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct rh_node *n = io_node(ctx);

	if (offset == 0)
		n->in_bytes = 0; /* a new snapshot starts */
	if (offset + len > RH_SNAP_BYTES_MAX)
		rh_fail("node %llu: snapshot chunk past the harness limit",
		        (unsigned long long)n->id);
	memcpy(n->in_data + offset, data, len);
	if (offset + len > n->in_bytes)
		n->in_bytes = offset + len;
	n->n_chunks_written++;
	return 0;
}

static int io_install(void *ctx, const struct raft_snapshot_install *si)
{
	struct rh_node *n = io_node(ctx);

	if (n->in_bytes != si->size)
		rh_fail("node %llu: installs a snapshot of %llu bytes having received %llu",
		        (unsigned long long)n->id, (unsigned long long)si->size,
		        (unsigned long long)n->in_bytes);
	memcpy(n->snap_data, n->in_data, n->in_bytes);
	n->snap_size = n->in_bytes;
	n->snap_index = si->index;
	n->snap_term = si->term;
	n->in_bytes = 0;
	n->log_start = n->snap_index + 1;
	n->log_n = 0;
	n->base_term = n->snap_term;
	n->applied_index = n->snap_index;
	if (n->durable_index < n->snap_index)
		n->durable_index = n->snap_index;
	n->n_installs++;
	return 0;
}

static int io_truncate(void *ctx, uint64_t after)
{
	struct rh_node *n = io_node(ctx);
	struct raft_status st;

	raft_get_status(n->r, &st);
	if (st.role == RAFT_LEADER && after < rh_log_last(n))
		rh_fail("node %llu: a leader truncates its own log after %llu",
		        (unsigned long long)n->id, (unsigned long long)after);
	if (after < n->applied_index || after < n->max_commit)
		rh_fail("node %llu: truncates after %llu, below commit %llu / applied %llu",
		        (unsigned long long)n->id, (unsigned long long)after,
		        (unsigned long long)n->max_commit, (unsigned long long)n->applied_index);
	if (after < rh_log_last(n))
		n->log_n = (uint32_t)(after + 1 - n->log_start);
	if (n->durable_index > after)
		n->durable_index = after;
	return 0;
}

static int io_append(void *ctx, const struct raft_entry *entries, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		rh_log_append(io_node(ctx), &entries[i]);
	return 0;
}

static int io_save_hard_state(void *ctx, const struct raft_hard_state *hs)
{
	io_node(ctx)->hs = *hs;
	return 0;
}

static void io_log_last(void *ctx, uint64_t *index, uint64_t *term)
{
	const struct rh_node *n = io_node(ctx);

	*index = rh_log_last(n);
	*term = rh_log_last_term(n, n->base_term);
}

/* What is written becomes durable (the PERSISTED is the caller's to step). */
static int io_sync(void *ctx)
{
	struct rh_node *n = io_node(ctx);

	n->durable_hs = n->hs;
	n->durable_index = rh_log_last(n);
	return 0;
}

static void io_send(void *ctx, const struct raft_msg *m)
{
	struct rh_exec_ctx *c = ctx;

	rh_enqueue(c->h, rh_msg_copy(c->n, m));
}

static int io_prepare(void *ctx, const struct raft_msg *m, uint64_t *token)
{
	*token = (uint64_t)(uintptr_t)rh_msg_copy(io_node(ctx), m);
	return 0;
}

static void io_transmit(void *ctx, uint64_t token)
{
	struct rh_exec_ctx *c = ctx;

	rh_enqueue(c->h, (struct rh_msg *)(uintptr_t)token);
}

static void io_discard(void *ctx, uint64_t token)
{
	struct rh_msg *q = (struct rh_msg *)(uintptr_t)token;

	rh_msg_free(&q);
}

/* State machine safety: every node that applied index e->index applied the same entry. */
static void check_same_applied(struct rh *h, const struct rh_node *n, const struct rh_entry *e)
{
	for (uint32_t k = 0; k < RH_NODES_MAX; k++) {
		const struct rh_node *o = h->nodes[k];

		if (o == NULL || o == n)
			continue;
		for (uint32_t i = 0; i < o->n_applied; i++) {
			const struct rh_entry *a = &o->applied[i];

			if (a->index != e->index)
				continue;
			if (a->term != e->term || a->type != e->type || a->len != e->len ||
			    memcmp(a->data, e->data, e->len) != 0)
				rh_fail("nodes %llu and %llu applied different entries at %llu "
				        "(terms %llu, %llu)",
				        (unsigned long long)n->id, (unsigned long long)o->id,
				        (unsigned long long)e->index, (unsigned long long)e->term,
				        (unsigned long long)a->term);
		}
	}
}

static void io_apply(void *ctx, uint64_t first, uint64_t last)
{
	struct rh *h = ((struct rh_exec_ctx *)ctx)->h;
	struct rh_node *n = io_node(ctx);

	if (first != n->applied_index + 1 || last < first)
		rh_fail("node %llu: hands out [%llu, %llu] after applying %llu",
		        (unsigned long long)n->id, (unsigned long long)first,
		        (unsigned long long)last, (unsigned long long)n->applied_index);
	if (last > n->durable_index)
		rh_fail("node %llu: hands out up to %llu, durable only up to %llu",
		        (unsigned long long)n->id, (unsigned long long)last,
		        (unsigned long long)n->durable_index);
	for (uint64_t i = first; i <= last; i++) {
		const struct rh_entry *e = rh_log_get(n, i);

		if (e == NULL || n->n_applied == RH_APPLIED_MAX)
			rh_fail("node %llu: committed entry %llu not in the stored log",
			        (unsigned long long)n->id, (unsigned long long)i);
		check_same_applied(h, n, e);
		n->applied[n->n_applied++] = *e;
	}
	n->applied_index = last;
}

static void io_answer(void *ctx, const struct raft_read *reads, uint32_t count)
{
	struct rh_node *n = io_node(ctx);

	for (uint32_t i = 0; i < count; i++) {
		if (n->n_reads == RH_READS_MAX)
			rh_fail("node %llu: more than %u read answers", (unsigned long long)n->id,
			        RH_READS_MAX);
		n->reads[n->n_reads++] = reads[i];
	}
}

static int io_compact(void *ctx, uint64_t index)
{
	struct rh_node *n = io_node(ctx);

	if (index > n->snap_index)
		rh_fail("node %llu: compacts to %llu past its snapshot at %llu",
		        (unsigned long long)n->id, (unsigned long long)index,
		        (unsigned long long)n->snap_index);
	rh_log_compact(n, index, &n->base_term);
	return 0;
}

static const struct raft_exec_io rh_exec_io = {
    .write_chunk = io_write_chunk,
    .install = io_install,
    .truncate = io_truncate,
    .append = io_append,
    .save_hard_state = io_save_hard_state,
    .log_last = io_log_last,
    .sync = io_sync,
    .sync_request = NULL, /* syncs are raft_exec_flush(): at once, or at rh_persist() */
    .send = io_send,
    .prepare = io_prepare,
    .transmit = io_transmit,
    .discard = io_discard,
    .apply = io_apply,
    .answer = io_answer,
    .compact = io_compact,
};

void rh_exec_init(struct rh *h, struct rh_node *n)
{
	struct raft_exec_io io = rh_exec_io;

	n->exec_ctx.h = h;
	n->exec_ctx.n = n;
	io.ctx = &n->exec_ctx;
	raft_exec_init(&n->exec, &io);
}
