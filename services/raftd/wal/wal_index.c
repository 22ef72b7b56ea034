/*
 * wal_index.c - the in-memory index: for each entry in the log, the segment
 * and byte offset of its record. A dense array from first_index, grown by
 * doubling up to WAL_ENTRIES_MAX. Called from raftd's event loop thread.
 */
#include "wal_internal.h"

#include <stdlib.h>
#include <string.h>

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_log.h"

#define LOCS_INITIAL 1024u

int wal_index_reserve(struct wal *w, uint32_t extra)
{
	if (extra > WAL_ENTRIES_MAX - w->n_locs) {
		KV_LOG_ERROR(WAL_SVC, "wal holds too many entries; compact the log first",
		             "entries=%u adding=%u max=%u", w->n_locs, extra, WAL_ENTRIES_MAX);
		return KV_ENOSPC;
	}
	uint32_t need = w->n_locs + extra;
	if (need <= w->cap_locs)
		return 0;
	uint32_t cap = w->cap_locs == 0 ? LOCS_INITIAL : w->cap_locs;
	while (cap < need)
		cap = cap > WAL_ENTRIES_MAX / 2 ? WAL_ENTRIES_MAX : cap * 2;
	struct wal_loc *locs = realloc(w->locs, (size_t)cap * sizeof(*locs));
	if (locs == NULL)
		return KV_ENOMEM;
	w->locs = locs;
	w->cap_locs = cap;
	return 0;
}

int wal_index_push(struct wal *w, struct wal_segment *seg, uint64_t off)
{
	int rc = wal_index_reserve(w, 1);
	if (rc != 0)
		return rc;
	if (w->n_locs == 0)
		w->first_index = w->last_index + 1;
	w->locs[w->n_locs++] = (struct wal_loc){.seg = seg, .off = off};
	w->last_index++;
	return 0;
}

void wal_index_drop_after(struct wal *w, uint64_t index)
{
	if (index >= w->last_index)
		return;
	if (w->n_locs == 0 || index < w->first_index) {
		wal_index_clear(w, index);
		return;
	}
	w->n_locs = (uint32_t)(index - w->first_index + 1);
	w->last_index = index;
}

void wal_index_drop_upto(struct wal *w, uint64_t index)
{
	if (w->n_locs == 0 || index < w->first_index)
		return;
	if (index >= w->last_index) {
		w->n_locs = 0;
		w->first_index = w->last_index + 1;
		return;
	}
	uint32_t drop = (uint32_t)(index - w->first_index + 1);
	memmove(w->locs, w->locs + drop, (size_t)(w->n_locs - drop) * sizeof(*w->locs));
	w->n_locs -= drop;
	w->first_index = index + 1;
}

void wal_index_clear(struct wal *w, uint64_t last_index)
{
	w->n_locs = 0;
	w->last_index = last_index;
	w->first_index = last_index + 1;
}

const struct wal_loc *wal_index_find(const struct wal *w, uint64_t index)
{
	if (w->n_locs == 0 || index < w->first_index || index > w->last_index)
		return NULL;
	KV_ASSERT(w->last_index - w->first_index + 1 == w->n_locs);
	return &w->locs[index - w->first_index];
}
