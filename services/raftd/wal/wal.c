/*
 * wal.c - the WAL's life cycle and its hot path: open (lock, load the small
 * files, recover the segments), append, sync, get, close.
 * Dropping entries (truncate, compact, reset) lives in wal_truncate.c.
 * One thread at a time per struct wal (raftd's event loop).
 */
#include "wal_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_fs.h"
#include "kv_log.h"

#define LOCK_FILE           "LOCK"
#define SEGMENT_ROUND_BYTES 4096u

static int open_dir_locked(struct wal *w, const char *dir)
{
	int rc = kv_fs_mkdir_p(dir);
	if (rc != 0) {
		KV_LOG_ERROR(WAL_SVC, "wal mkdir failed", "dir=%s err=\"%s\"", dir,
		             kv_strerror(rc));
		return rc;
	}
	w->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dir_fd >= 0)
		w->lock_fd = openat(w->dir_fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (w->dir_fd < 0 || w->lock_fd < 0) {
		KV_LOG_ERROR(WAL_SVC, "wal open failed", "dir=%s errno=\"%s\"", dir,
		             strerror(errno));
		return kv_err_from_errno(errno);
	}
	/* flock is per open file description: a second wal_open in the same process fails too. */
	if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		KV_LOG_ERROR(WAL_SVC, "wal directory in use by another raftd", "dir=%s", dir);
		return KV_EBUSY;
	}
	return 0;
}

/* Lines the log up with the snapshot: no gap between them, no log wholly behind it. */
static int settle_snapshot(struct wal *w)
{
	if (w->snap.reset_pending || w->last_index < w->snap.index) {
		/* A wal_reset that crashed before dropping the log, or a log the snapshot covers.
		 */
		int rc = wal_drop_segments_from(w, 0, 1);
		if (rc != 0)
			return rc;
		wal_index_clear(w, w->snap.index);
		if (!w->snap.reset_pending)
			return 0;
		w->snap.reset_pending = 0;
		return wal_snapmeta_save(&w->snap_file, &w->snap, &w->stats);
	}
	if (w->n_segs > 0 && w->segs[0]->first_index > w->snap.index + 1) {
		KV_LOG_ERROR(WAL_SVC, "wal corrupt: gap between snapshot and log",
		             "file=%s snap_index=%llu", w->segs[0]->name,
		             (unsigned long long)w->snap.index);
		return KV_ECORRUPT;
	}
	return 0;
}

static int fill_recovery(struct wal *w, struct wal_recovery *rec)
{
	rec->snap_index = w->snap.index;
	rec->snap_term = w->snap.term;
	rec->snap_size = w->snap.size;
	rec->snap_config = w->snap.config;
	if (w->last_index <= w->snap.index)
		return 0;
	uint64_t from = w->snap.index + 1 > w->first_index ? w->snap.index + 1 : w->first_index;
	uint64_t n = w->last_index - from + 1;
	w->rec_entries = calloc((size_t)n, sizeof(*w->rec_entries));
	if (w->rec_entries == NULL)
		return KV_ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		int rc = wal_get(w, from + i, &w->rec_entries[i]);
		if (rc != 0)
			return rc;
	}
	rec->n_entries = (uint32_t)n;
	rec->entries = w->rec_entries;
	return 0;
}

int wal_open(const struct wal_options *o, struct wal **out, struct wal_recovery *rec)
{
	uint64_t seg_bytes = o->segment_bytes ? o->segment_bytes : WAL_SEGMENT_BYTES_DEFAULT;
	memset(rec, 0, sizeof(*rec));
	*out = NULL;
	if (o->dir == NULL || seg_bytes < WAL_SEGMENT_BYTES_MIN ||
	    seg_bytes > WAL_SEGMENT_BYTES_MAX)
		return KV_EINVAL;
	struct wal *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return KV_ENOMEM;
	w->dir_fd = w->lock_fd = w->hs_file.fd = w->snap_file.fd = -1;
	w->segment_bytes = seg_bytes;
	int rc = open_dir_locked(w, o->dir);
	if (rc == 0)
		rc = wal_snapmeta_open(w->dir_fd, &w->stats, &w->snap_file, &w->snap);
	if (rc == 0)
		rc = wal_hardstate_open(w->dir_fd, &w->stats, &w->hs_file, &rec->hard_state);
	wal_index_clear(w, 0);
	if (rc == 0)
		rc = wal_recover_segments(w, &rec->torn_bytes_dropped);
	if (rc == 0)
		rc = settle_snapshot(w);
	if (rc == 0)
		rc = fill_recovery(w, rec);
	if (rc != 0) {
		wal_close(&w);
		memset(rec, 0, sizeof(*rec));
		return rc;
	}
	*out = w;
	return 0;
}

/* Makes the current segment durable, then starts a new one at index. */
static int roll_segment(struct wal *w, uint64_t index, uint64_t rec_bytes)
{
	if (w->n_segs == WAL_SEGMENTS_MAX) {
		KV_LOG_ERROR(WAL_SVC, "wal has too many segments; compact the log first", "max=%u",
		             WAL_SEGMENTS_MAX);
		return KV_ENOSPC;
	}
	/* Sealed segments are durable, so recovery may call any bad record in them corruption. */
	if (w->n_segs > 0) {
		int rc = wal_segment_seal(w->segs[w->n_segs - 1], &w->stats);
		if (rc != 0)
			return rc;
	}
	uint64_t size = w->segment_bytes;
	if (rec_bytes > size)
		size = (rec_bytes + SEGMENT_ROUND_BYTES - 1) / SEGMENT_ROUND_BYTES *
		       SEGMENT_ROUND_BYTES;
	int rc = wal_segment_create(w->dir_fd, index, size, &w->stats, &w->segs[w->n_segs]);
	if (rc == 0)
		w->n_segs++;
	return rc;
}

static int check_entries(const struct wal *w, const struct raft_entry *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		KV_ASSERT(e[i].index == w->last_index + 1 + i);
		if (e[i].len > WAL_ENTRY_BYTES_MAX)
			return KV_ETOOLARGE;
		if ((e[i].len > 0 && e[i].data == NULL) || e[i].type < RAFT_ENTRY_NOOP ||
		    e[i].type > RAFT_ENTRY_CONFIG)
			return KV_EINVAL;
	}
	return 0;
}

/* Writes as many of e[0, n) as fit in the current segment (rolling first if none fit). */
static int append_some(struct wal *w, const struct raft_entry *e, uint32_t n, uint32_t *done)
{
	struct wal_segment *s = w->n_segs > 0 ? w->segs[w->n_segs - 1] : NULL;
	uint64_t first_bytes = wal_record_bytes(e[0].len);
	if (s == NULL || s->last_index + 1 != e[0].index || s->size - s->write_off < first_bytes) {
		int rc = roll_segment(w, e[0].index, first_bytes);
		if (rc != 0)
			return rc;
		s = w->segs[w->n_segs - 1];
	}
	int rc = wal_segment_unseal(s, w->dir_fd);
	if (rc != 0)
		return rc;
	uint64_t off = s->write_off;
	uint32_t k = 0;
	while (k < n && s->size - off >= wal_record_bytes(e[k].len))
		off += wal_record_bytes(e[k++].len);
	uint64_t start = s->write_off;
	rc = wal_segment_write(s, e, k);
	if (rc != 0)
		return rc;
	KV_ASSERT(s->write_off == off);
	w->stats.bytes_written += off - start;
	for (uint32_t i = 0; i < k; i++) {
		rc = wal_index_push(w, s, start);
		KV_ASSERT(rc == 0); /* room was reserved by wal_append */
		start += wal_record_bytes(e[i].len);
	}
	*done = k;
	return 0;
}

int wal_append(struct wal *w, const struct raft_entry *entries, uint32_t n)
{
	if (w->failed)
		return w->failed;
	int rc = check_entries(w, entries, n);
	if (rc == 0)
		rc = wal_index_reserve(w, n);
	if (rc != 0)
		return rc;
	uint32_t done = 0;
	while (done < n) {
		uint32_t k;
		rc = append_some(w, entries + done, n - done, &k);
		if (rc != 0) {
			w->failed = rc; /* part of the batch may be written: stop here (F13) */
			return rc;
		}
		done += k;
	}
	return 0;
}

int wal_save_hard_state(struct wal *w, const struct raft_hard_state *hs)
{
	if (w->failed)
		return w->failed;
	int rc = wal_hardstate_write(&w->hs_file, hs);
	if (rc != 0)
		w->failed = rc;
	return rc;
}

int wal_sync(struct wal *w)
{
	if (w->failed)
		return w->failed;
	int rc = 0;
	for (uint32_t i = 0; rc == 0 && i < w->n_segs; i++)
		rc = wal_segment_sync(w->segs[i], &w->stats);
	if (rc == 0)
		rc = wal_slotfile_sync(&w->hs_file, &w->stats);
	if (rc != 0)
		w->failed = KV_EIO;
	return rc == 0 ? 0 : KV_EIO;
}

int wal_get(struct wal *w, uint64_t index, struct raft_entry *out)
{
	const struct wal_loc *loc = wal_index_find(w, index);
	if (loc == NULL)
		return KV_ENOTFOUND;
	/* Checked again on every read: a bit that flipped since recovery is never served (F12). */
	if (wal_record_decode(loc->seg->map, loc->seg->size, loc->off, out) != WAL_RECORD_OK ||
	    out->index != index) {
		KV_LOG_ERROR(WAL_SVC, "wal corrupt: record changed after it was written",
		             "file=%s offset=%llu index=%llu", loc->seg->name,
		             (unsigned long long)loc->off, (unsigned long long)index);
		return KV_ECORRUPT;
	}
	return 0;
}

uint64_t wal_first_index(const struct wal *w)
{
	return w->n_locs > 0 ? w->first_index : w->last_index + 1;
}

uint64_t wal_last_index(const struct wal *w)
{
	return w->last_index;
}

void wal_get_stats(const struct wal *w, struct wal_stats *out)
{
	*out = w->stats;
}

void wal_close(struct wal **wp)
{
	struct wal *w = *wp;
	if (w == NULL)
		return;
	wal_drop_segments_from(w, 0, 0);
	wal_forget_recovery(w);
	wal_slotfile_close(&w->hs_file);
	wal_slotfile_close(&w->snap_file);
	if (w->lock_fd >= 0)
		close(w->lock_fd); /* releases the flock */
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	free(w->locs);
	free(w);
	*wp = NULL;
}
