/*
 * wal.h - raftd's write-ahead log: entries in segment files, the hard state
 * (term, vote) and the snapshot metadata, all under one directory.
 *
 * Layout of the directory:
 *   LOCK                       flock()ed while a struct wal has it open
 *   hardstate                  two slots {seq, term, vote, crc}, written alternately
 *   snapmeta                   two slots {seq, index, term, size, config, crc}
 *   00000000000000000001.seg   segments, named by the index of their first record,
 *                              preallocated, records framed with a CRC32C
 *
 * Durability: wal_append and wal_save_hard_state only write; wal_sync makes
 * them durable. wal_truncate_after, wal_save_snapshot_meta, wal_compact and
 * wal_reset are durable on return. Any I/O error is sticky: every later call
 * returns it, because the caller must exit rather than continue (F13).
 *
 * One thread at a time per struct wal (raftd's event loop).
 */
#ifndef RAFTKV_WAL_H
#define RAFTKV_WAL_H

#include <stdint.h>

#include "raft.h"

#define WAL_SEGMENT_BYTES_DEFAULT (64ull << 20)
#define WAL_SEGMENT_BYTES_MIN     4096ull
#define WAL_SEGMENT_BYTES_MAX     (1ull << 30)
#define WAL_ENTRY_BYTES_MAX       (64u << 20) /* payload of one entry; KV_ETOOLARGE past it */
#define WAL_SEGMENTS_MAX          1024u       /* open segments; KV_ENOSPC past it (compact first) */
#define WAL_ENTRIES_MAX           (1u << 24)  /* indexed entries; KV_ENOSPC past it */

struct wal;

struct wal_options {
	const char *dir;        /* borrowed during wal_open */
	uint64_t segment_bytes; /* preallocated size; 0: WAL_SEGMENT_BYTES_DEFAULT */
};

struct wal_recovery {
	struct raft_hard_state hard_state;
	uint64_t snap_index, snap_term, snap_size;
	struct raft_config snap_config;
	/*
	 * The log after snap_index, in order. Owned by the WAL; entries and their
	 * data (which points into the WAL's mapping) are valid until the next
	 * wal_truncate_after / wal_compact / wal_reset / wal_close.
	 */
	uint32_t n_entries;
	const struct raft_entry *entries;
	uint64_t torn_bytes_dropped; /* a torn tail that was truncated (never acknowledged) */
};

/* Counters for STATUS_RESP (proto.h). */
struct wal_stats {
	uint64_t fsyncs; /* fdatasync/fsync calls since wal_open */
	uint64_t fsync_us_total;
	uint64_t fsync_us_max;
	uint64_t bytes_written; /* record bytes appended since wal_open */
};

/*
 * Opens (creating dir if missing) and recovers the log. An empty dir is a
 * fresh node: zero hard state, snapshot 0, no entries. A torn tail of the
 * last segment is cut and reported in rec->torn_bytes_dropped; a bad record
 * anywhere else returns KV_ECORRUPT after logging the file and byte offset.
 * KV_EBUSY: another struct wal (or process) holds dir. The caller owns *out
 * and frees it with wal_close.
 */
int wal_open(const struct wal_options *o, struct wal **out, struct wal_recovery *rec);

/*
 * Writes entries (indexes continue wal_last_index()+1; data borrowed during
 * the call) but does not make them durable. KV_ETOOLARGE for an entry over
 * WAL_ENTRY_BYTES_MAX, KV_ENOSPC when the disk (or a WAL limit) is full.
 */
int wal_append(struct wal *w, const struct raft_entry *entries, uint32_t n);

/* Drops entries > index; durable on return. index must be >= the snapshot index. */
int wal_truncate_after(struct wal *w, uint64_t index);

/* Writes term and vote; durable at the next wal_sync. */
int wal_save_hard_state(struct wal *w, const struct raft_hard_state *hs);

/*
 * Makes every append and hard state since the last sync durable (fdatasync of
 * the segments written and of the hard state file). KV_EIO on failure: the
 * caller must exit, never retry and continue (F13).
 */
int wal_sync(struct wal *w);

/*
 * Fills out with the entry at index. out->data points into the segment's
 * mapping: valid until the next wal_truncate_after / wal_compact / wal_reset /
 * wal_close. KV_ENOTFOUND outside [wal_first_index, wal_last_index].
 */
int wal_get(struct wal *w, uint64_t index, struct raft_entry *out);

/* Records a snapshot taken at (index, term) of size bytes; durable on return. */
int wal_save_snapshot_meta(struct wal *w, uint64_t index, uint64_t term,
                           const struct raft_config *c, uint64_t size);

/*
 * Deletes whole segments whose entries are all <= index (the segment being
 * written is kept). index must not exceed the saved snapshot index (KV_EINVAL).
 */
int wal_compact(struct wal *w, uint64_t index);

/*
 * After installing a received snapshot: saves its metadata durably and drops
 * every entry; the log continues at snap_index + 1. Crash-safe at every step.
 */
int wal_reset(struct wal *w, uint64_t snap_index, uint64_t snap_term, const struct raft_config *c,
              uint64_t size);

/* The first index wal_get can return; wal_last_index() + 1 when the log is empty. */
uint64_t wal_first_index(const struct wal *w);

/* The last index in the log, or the snapshot index when the log is empty. */
uint64_t wal_last_index(const struct wal *w);

/* Copies the sync counters into out. */
void wal_get_stats(const struct wal *w, struct wal_stats *out);

/* Unmaps, closes and frees; sets *w to NULL. Safe on NULL and twice. Does not sync. */
void wal_close(struct wal **w);

#endif
