/*
 * sim_disk.c - one simulated node's disk: a log, a hard state and a snapshot,
 * each in a volatile view (what was written) and a durable view (what a
 * crash keeps). Writes queue as ops between the two; a sync makes a prefix
 * of them durable; a crash keeps a random prefix and may tear the last one.
 * Runs on the simulator's thread; allocates only in sim_disk_new().
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "kv_assert.h"
#include "kv_err.h"

int sim_disk_new(struct sim_disk *d)
{
	memset(d, 0, sizeof(*d));
	d->vlog.ring = calloc(SIM_LOG_CAP, sizeof(struct sim_entry));
	if (!d->vlog.ring)
		goto out_fail;
	d->dlog.ring = calloc(SIM_LOG_CAP, sizeof(struct sim_entry));
	if (!d->dlog.ring)
		goto out_free_vlog;
	d->ops = calloc(SIM_OPS_MAX, sizeof(struct sim_op));
	if (!d->ops)
		goto out_free_dlog;
	return 0;
out_free_dlog:
	free(d->dlog.ring);
out_free_vlog:
	free(d->vlog.ring);
out_fail:
	return KV_ENOMEM;
}

void sim_disk_free(struct sim_disk *d)
{
	free(d->vlog.ring);
	free(d->dlog.ring);
	free(d->ops);
	memset(d, 0, sizeof(*d));
}

static void log_reset(struct sim_log *l, uint64_t index, uint64_t term)
{
	l->base_index = index;
	l->base_term = term;
	l->last = index;
}

void sim_disk_format(struct sim_disk *d, const struct raft_config *config)
{
	log_reset(&d->vlog, 0, 0);
	log_reset(&d->dlog, 0, 0);
	memset(&d->vhs, 0, sizeof(d->vhs));
	memset(&d->dhs, 0, sizeof(d->dhs));
	memset(&d->dsnap, 0, sizeof(d->dsnap));
	d->dsnap.config = *config;
	d->vsnap = d->dsnap;
	d->smfile = d->dsnap;
	d->incoming.size = 0;
	d->ops_durable = 0;
	d->ops_written = 0;
}

const struct sim_entry *sim_log_get(const struct sim_log *l, uint64_t index)
{
	if (index <= l->base_index || index > l->last)
		return NULL;
	return &l->ring[index & (SIM_LOG_CAP - 1)];
}

uint64_t sim_log_term_at(const struct sim_log *l, uint64_t index)
{
	const struct sim_entry *e;

	if (index == l->base_index)
		return l->base_term;
	e = sim_log_get(l, index);
	return e ? e->term : 0;
}

/* Drops entries after index (a no-op when the log is shorter). */
static void log_truncate(struct sim_log *l, uint64_t after)
{
	if (after < l->base_index) {
		/* Below the snapshot point: nothing of the log survives. */
		l->last = l->base_index;
		return;
	}
	if (after < l->last)
		l->last = after;
}

/* Appends e at l->last + 1; an append past the end truncates first. */
static int log_append(struct sim_log *l, const struct sim_entry *e)
{
	if (e->index <= l->base_index)
		return 0; /* covered by the snapshot already */
	if (e->index > l->last + 1)
		return KV_EINVAL;
	l->last = e->index - 1;
	if (l->last + 1 - l->base_index > SIM_LOG_CAP)
		return KV_ENOSPC;
	l->ring[e->index & (SIM_LOG_CAP - 1)] = *e;
	l->last = e->index;
	return 0;
}

/* Drops entries up to index; snap_term is the term at index when the log is shorter. */
static void log_compact(struct sim_log *l, uint64_t index, uint64_t snap_term)
{
	if (index <= l->base_index)
		return;
	if (index > l->last) {
		log_reset(l, index, snap_term);
		return;
	}
	l->base_term = sim_log_term_at(l, index);
	l->base_index = index;
}

static struct sim_op *op_new(struct sim_disk *d, uint8_t kind)
{
	struct sim_op *op;

	if (d->ops_written - d->ops_durable >= SIM_OPS_MAX)
		return NULL;
	op = &d->ops[d->ops_written & (SIM_OPS_MAX - 1)];
	d->ops_written++;
	op->kind = kind;
	return op;
}

static void snap_install(struct sim_log *l, struct sim_snap *dst, const struct sim_snap *src)
{
	*dst = *src;
	log_reset(l, src->index, src->term);
}

int sim_disk_install(struct sim_disk *d, const struct raft_snapshot_install *in)
{
	struct sim_snap *s;
	struct sim_op *op;

	if (in->size != d->incoming.size || in->size > SIM_SNAP_SIZE_MAX)
		return KV_EPROTO;
	op = op_new(d, SIM_OP_INSTALL);
	if (!op)
		return KV_ENOSPC;
	op->pool = (uint8_t)(d->pool_next++ % SIM_SNAP_POOL);
	s = &d->pool[op->pool];
	*s = d->incoming;
	s->index = in->index;
	s->term = in->term;
	s->config = in->config;
	snap_install(&d->vlog, &d->vsnap, s);
	return 0;
}

int sim_disk_truncate(struct sim_disk *d, uint64_t after)
{
	struct sim_op *op = op_new(d, SIM_OP_TRUNCATE);

	if (!op)
		return KV_ENOSPC;
	op->after = after;
	log_truncate(&d->vlog, after);
	return 0;
}

int sim_disk_append(struct sim_disk *d, const struct raft_entry *e)
{
	struct sim_op *op;

	if (e->len > SIM_DATA_BYTES || (e->len && !e->data))
		return KV_EPROTO;
	op = op_new(d, SIM_OP_APPEND);
	if (!op)
		return KV_ENOSPC;
	memset(&op->e, 0, sizeof(op->e));
	op->e.term = e->term;
	op->e.index = e->index;
	op->e.type = e->type;
	op->e.len = (uint8_t)e->len;
	if (e->len)
		memcpy(op->e.data, e->data, e->len);
	return log_append(&d->vlog, &op->e);
}

int sim_disk_hard_state(struct sim_disk *d, const struct raft_hard_state *hs)
{
	struct sim_op *op = op_new(d, SIM_OP_HARD_STATE);

	if (!op)
		return KV_ENOSPC;
	op->hs = *hs;
	d->vhs = *hs;
	return 0;
}

static void op_apply_durable(struct sim_disk *d, const struct sim_op *op,
                             void (*on_append)(void *, const struct sim_disk *,
                                               const struct sim_entry *),
                             void *ctx)
{
	switch (op->kind) {
	case SIM_OP_INSTALL:
		if (d->pool[op->pool].index > d->dsnap.index)
			snap_install(&d->dlog, &d->dsnap, &d->pool[op->pool]);
		/* storaged renames the image over its file and syncs it (sim_store.c) */
		if (d->pool[op->pool].index > d->smfile.index)
			d->smfile = d->pool[op->pool];
		break;
	case SIM_OP_TRUNCATE:
		log_truncate(&d->dlog, op->after);
		break;
	case SIM_OP_APPEND:
		/* The volatile log accepted it, so the durable one (a prefix of the same writes)
		 * does. */
		KV_ASSERT(log_append(&d->dlog, &op->e) == 0);
		if (on_append && op->e.index > d->dlog.base_index)
			on_append(ctx, d, &op->e);
		break;
	case SIM_OP_HARD_STATE:
		d->dhs = op->hs;
		break;
	default:
		KV_ASSERT(0);
	}
}

void sim_disk_sync(struct sim_disk *d, uint64_t upto,
                   void (*on_append)(void *ctx, const struct sim_disk *d,
                                     const struct sim_entry *e),
                   void *ctx)
{
	KV_ASSERT(upto <= d->ops_written);
	while (d->ops_durable < upto) {
		op_apply_durable(d, &d->ops[d->ops_durable & (SIM_OPS_MAX - 1)], on_append, ctx);
		d->ops_durable++;
	}
}

uint64_t sim_disk_crash(struct sim_disk *d, struct sim_rng *g, int *torn)
{
	uint64_t pending = d->ops_written - d->ops_durable;
	uint64_t keep = sim_rng_chance(g, 500) ? 0 : sim_rng_below(g, pending + 1);
	const struct sim_op *last;

	*torn = 0;
	if (keep > 0) {
		last = &d->ops[(d->ops_durable + keep - 1) & (SIM_OPS_MAX - 1)];
		/* A torn last record fails its checksum and is dropped on restart. */
		if (last->kind == SIM_OP_APPEND && sim_rng_chance(g, 500)) {
			keep--;
			*torn = 1;
		}
	}
	sim_disk_sync(d, d->ops_durable + keep, NULL, NULL);
	d->ops_written = d->ops_durable;
	/* The volatile view is now what the disk holds. */
	d->vlog.base_index = d->dlog.base_index;
	d->vlog.base_term = d->dlog.base_term;
	d->vlog.last = d->dlog.last;
	memcpy(d->vlog.ring, d->dlog.ring, SIM_LOG_CAP * sizeof(struct sim_entry));
	d->vhs = d->dhs;
	d->vsnap = d->dsnap;
	d->incoming.size = 0;
	return keep;
}

void sim_disk_snapshot_taken(struct sim_disk *d, const struct sim_snap *s)
{
	KV_ASSERT(d->ops_written == d->ops_durable);
	if (s->index < d->dsnap.index)
		return; /* at the same index: its image replaces none */
	d->dsnap = *s;
	d->vsnap = *s;
}

void sim_disk_compact(struct sim_disk *d, uint64_t index)
{
	/* Only what a durable snapshot covers may go (an installed one may still be syncing). */
	if (index > d->dsnap.index)
		index = d->dsnap.index;
	log_compact(&d->vlog, index, index == d->dsnap.index ? d->dsnap.term : 0);
	log_compact(&d->dlog, index, index == d->dsnap.index ? d->dsnap.term : 0);
}

int sim_disk_durable_has(const struct sim_disk *d, uint64_t index, uint64_t term)
{
	const struct sim_entry *e;

	if (index <= d->dsnap.index)
		return 1;
	e = sim_log_get(&d->dlog, index);
	return e && e->term == term;
}
