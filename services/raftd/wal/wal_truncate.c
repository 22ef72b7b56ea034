/*
 * wal_truncate.c - everything that drops entries: truncation of a
 * conflicting suffix, compaction after a snapshot, reset after installing a
 * received snapshot, and the snapshot metadata these depend on.
 *
 * Each is durable on return and ordered so that a crash at any step leaves a
 * log recovery accepts and that never resurrects dropped entries next to new
 * ones: later segments are unlinked (from the last backwards, then the
 * directory synced) before the surviving segment's tail is zeroed and synced,
 * and new records are only written after that.
 * One thread at a time per struct wal (raftd's event loop).
 */
#include "wal_internal.h"

#include <stdlib.h>
#include <string.h>

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_log.h"

void wal_forget_recovery(struct wal *w)
{
	free(w->rec_entries);
	w->rec_entries = NULL;
}

int wal_drop_segments_from(struct wal *w, uint32_t from, int unlink)
{
	int rc = 0;
	uint32_t n = w->n_segs;
	/* Backwards, so a crash part way leaves a gap-free prefix of segments. */
	while (w->n_segs > from) {
		struct wal_segment **s = &w->segs[w->n_segs - 1];
		if (unlink && rc == 0)
			rc = wal_segment_remove(s, w->dir_fd);
		else
			wal_segment_close(s);
		w->n_segs--;
	}
	if (unlink && rc == 0 && n > from)
		rc = wal_io_fdatasync(w->dir_fd, &w->stats, "wal directory");
	return rc;
}

/* Removes segs[0, k) (entries all at or below a snapshot) and keeps the rest in order. */
static int drop_front_segments(struct wal *w, uint32_t k)
{
	int rc = 0;
	for (uint32_t i = 0; i < k && rc == 0; i++)
		rc = wal_segment_remove(&w->segs[i], w->dir_fd);
	for (uint32_t i = 0; i < k; i++)
		wal_segment_close(&w->segs[i]); /* those left open after an error */
	memmove(w->segs, w->segs + k, (size_t)(w->n_segs - k) * sizeof(struct wal_segment *));
	w->n_segs -= k;
	if (rc == 0 && k > 0)
		rc = wal_io_fdatasync(w->dir_fd, &w->stats, "wal directory");
	return rc;
}

static int fail(struct wal *w, int rc)
{
	if (rc != 0 && w->failed == 0)
		w->failed = rc;
	return rc;
}

int wal_truncate_after(struct wal *w, uint64_t index)
{
	if (w->failed)
		return w->failed;
	KV_ASSERT(index >= w->snap.index); /* Raft never truncates committed entries (F9) */
	if (index >= w->last_index)
		return 0;
	wal_forget_recovery(w);
	uint32_t keep = 0;
	while (keep < w->n_segs && w->segs[keep]->first_index <= index)
		keep++;
	int rc = wal_drop_segments_from(w, keep, 1);
	if (rc != 0)
		return fail(w, rc);
	if (keep > 0 && w->segs[keep - 1]->last_index > index) {
		struct wal_segment *s = w->segs[keep - 1];
		const struct wal_loc *loc = wal_index_find(w, index + 1);
		KV_ASSERT(loc != NULL && loc->seg == s);
		rc = wal_segment_unseal(s, w->dir_fd);
		if (rc == 0)
			rc = wal_segment_cut(s, loc->off, &w->stats);
		if (rc != 0)
			return fail(w, rc);
		s->last_index = index;
	}
	wal_index_drop_after(w, index);
	return 0;
}

int wal_save_snapshot_meta(struct wal *w, uint64_t index, uint64_t term,
                           const struct raft_config *c, uint64_t size)
{
	if (w->failed)
		return w->failed;
	if (index < w->snap.index || index > w->last_index || c->n > RAFT_NODES_MAX)
		return KV_EINVAL;
	struct wal_snapmeta m = {.index = index, .term = term, .size = size, .config = *c};
	int rc = wal_snapmeta_save(&w->snap_file, &m, &w->stats);
	if (rc != 0)
		return fail(w, rc);
	w->snap = m;
	return 0;
}

int wal_compact(struct wal *w, uint64_t index)
{
	if (w->failed)
		return w->failed;
	if (index > w->snap.index)
		return KV_EINVAL; /* the snapshot covering these entries must be durable first */
	uint32_t k = 0;
	while (k + 1 < w->n_segs && w->segs[k]->last_index <= index)
		k++;
	if (k == 0)
		return 0;
	wal_forget_recovery(w);
	uint64_t new_first = w->segs[k]->first_index;
	int rc = drop_front_segments(w, k);
	wal_index_drop_upto(w, new_first - 1);
	return fail(w, rc);
}

int wal_reset(struct wal *w, uint64_t snap_index, uint64_t snap_term, const struct raft_config *c,
              uint64_t size)
{
	if (w->failed)
		return w->failed;
	if (snap_index < w->snap.index || c->n > RAFT_NODES_MAX)
		return KV_EINVAL;
	wal_forget_recovery(w);
	/* reset_pending makes a crash between these steps finish the reset at open. */
	struct wal_snapmeta m = {
	    .index = snap_index, .term = snap_term, .size = size, .config = *c, .reset_pending = 1};
	int rc = wal_snapmeta_save(&w->snap_file, &m, &w->stats);
	if (rc == 0)
		rc = wal_drop_segments_from(w, 0, 1);
	if (rc != 0)
		return fail(w, rc);
	wal_index_clear(w, snap_index);
	m.reset_pending = 0;
	rc = wal_snapmeta_save(&w->snap_file, &m, &w->stats);
	if (rc != 0)
		return fail(w, rc);
	w->snap = m;
	return 0;
}
