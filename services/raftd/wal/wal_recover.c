/*
 * wal_recover.c - rebuilds the entry index from the segment files at open.
 *
 * Records must follow each other with consecutive indexes across all
 * segments. Where the valid records stop:
 *   - in a segment that is not the last one, only blank space may follow
 *     (a segment is synced before the next one is created, so nothing in it
 *     can be torn); a bad record there is corruption;
 *   - in the last segment, a torn or blank record with nothing valid after
 *     it is the unsynced tail of a crash: it is zeroed and reported;
 *   - a bad record with a valid one after it, or an index gap, is corruption:
 *     KV_ECORRUPT, logged with the file and byte offset. Nothing is cut then.
 * Runs inside wal_open, on the caller's thread.
 */
#include "wal_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv_err.h"
#include "kv_log.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Fills firsts[] with the first index of every segment file, sorted. */
static int list_segments(int dir_fd, uint64_t *firsts, uint32_t *n)
{
	int fd = dup(dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		KV_LOG_ERROR(WAL_SVC, "wal directory unreadable", "errno=\"%s\"", strerror(errno));
		return KV_EIO;
	}
	int rc = 0;
	*n = 0;
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		uint64_t first;
		if (wal_segment_parse_name(de->d_name, &first) != 0)
			continue;
		if (*n == WAL_SEGMENTS_MAX) {
			KV_LOG_ERROR(WAL_SVC, "wal directory has too many segments", "max=%u",
			             WAL_SEGMENTS_MAX);
			rc = KV_ECORRUPT;
			break;
		}
		firsts[(*n)++] = first;
	}
	closedir(d);
	qsort(firsts, *n, sizeof(*firsts), cmp_u64);
	return rc;
}

static int corrupt(const struct wal_segment *s, uint64_t off, const char *why)
{
	KV_LOG_ERROR(WAL_SVC,
	             "wal corrupt: refusing to start; refetch this node's log from the leader",
	             "file=%s offset=%llu reason=\"%s\"", s->name, (unsigned long long)off, why);
	return KV_ECORRUPT;
}

/* Indexes the valid records of s; returns where they stop and why in *end. */
static int scan_segment(struct wal *w, struct wal_segment *s, enum wal_record_status *end)
{
	if (s->first_index != w->last_index + 1)
		return corrupt(s, 0, "segment does not continue the previous one");
	uint64_t off = 0;
	struct raft_entry e;
	for (;;) {
		*end =
		    s->map == NULL ? WAL_RECORD_ZERO : wal_record_decode(s->map, s->size, off, &e);
		if (*end != WAL_RECORD_OK)
			break;
		if (e.index != w->last_index + 1)
			return corrupt(s, off, "index gap");
		int rc = wal_index_push(w, s, off);
		if (rc != 0)
			return rc;
		off += wal_record_bytes(e.len);
	}
	s->write_off = off;
	s->last_index = w->last_index;
	return 0;
}

/* Whether s holds a valid record at or after from. */
static int has_valid_after(const struct wal_segment *s, uint64_t from)
{
	return s->map != NULL && wal_record_find_valid(s->map, s->size, from) != UINT64_MAX;
}

/* The last segment stopped at write_off: cut a torn tail, or refuse corruption. */
static int settle_tail(struct wal *w, struct wal_segment *s, enum wal_record_status end,
                       uint64_t *torn_bytes)
{
	uint64_t off = s->write_off;
	if (end == WAL_RECORD_ZERO && off >= s->size)
		return 0;
	if (has_valid_after(s, off + WAL_RECORD_ALIGN))
		return corrupt(s, off,
		               end == WAL_RECORD_BAD ? "bad record before valid records"
		                                     : "blank record before valid records");
	uint64_t used = wal_record_used_end(s->map, s->size, off);
	if (used == off)
		return 0;
	KV_LOG_WARN(WAL_SVC, "wal torn tail dropped (never acknowledged)",
	            "file=%s offset=%llu bytes=%llu", s->name, (unsigned long long)off,
	            (unsigned long long)(used - off));
	*torn_bytes += used - off;
	s->write_off = used;
	return wal_segment_cut(s, off, &w->stats);
}

int wal_recover_segments(struct wal *w, uint64_t *torn_bytes)
{
	uint64_t *firsts = calloc(WAL_SEGMENTS_MAX, sizeof(*firsts));
	if (firsts == NULL)
		return KV_ENOMEM;
	uint32_t n;
	int rc = list_segments(w->dir_fd, firsts, &n);
	for (uint32_t i = 0; rc == 0 && i < n; i++) {
		char name[WAL_SEGMENT_NAME_BYTES];
		snprintf(name, sizeof(name), "%020llu.seg", (unsigned long long)firsts[i]);
		rc = wal_segment_open(w->dir_fd, name, &w->segs[w->n_segs]);
		if (rc == 0)
			w->n_segs++;
	}
	free(firsts);
	if (rc != 0 || w->n_segs == 0)
		return rc;
	wal_index_clear(w, w->segs[0]->first_index - 1);
	for (uint32_t i = 0; i < w->n_segs; i++) {
		struct wal_segment *s = w->segs[i];
		enum wal_record_status end;
		rc = scan_segment(w, s, &end);
		if (rc != 0)
			return rc;
		if (i + 1 == w->n_segs) {
			rc = settle_tail(w, s, end, torn_bytes);
			/* Created but never written (a crash right after a roll): drop it. */
			if (rc == 0 && s->write_off == 0)
				rc = wal_drop_segments_from(w, i, 1);
			return rc;
		}
		if (end == WAL_RECORD_BAD)
			return corrupt(s, s->write_off, "bad record in a sealed segment");
		if (has_valid_after(s, s->write_off))
			return corrupt(s, s->write_off, "blank record before valid records");
		rc = wal_segment_seal(s, &w->stats);
		if (rc != 0)
			return rc;
	}
	return 0;
}
