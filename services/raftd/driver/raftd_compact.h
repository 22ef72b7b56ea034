/*
 * raftd_compact.h - how far raftd may drop its log prefix (pure, no I/O).
 *
 * storaged applies committed entries without syncing LMDB (MDB_NOSYNC: the
 * WAL already holds them durably on a quorum) and makes LMDB durable in the
 * background, reporting the highest durable index in APPLY_STATE. After a
 * power cut storaged comes back at that index (or later) and raftd replays
 * the rest from its log, so the log must keep every entry above it.
 */
#ifndef RAFTKV_RAFTD_COMPACT_H
#define RAFTKV_RAFTD_COMPACT_H

#include <stdint.h>

/*
 * The index up to which the log may be compacted when the core asks for
 * compact_index: never past the snapshot whose metadata is durable
 * (snap_index) nor past storaged's durable index (durable_index, 0 while
 * unknown). Returns 0 when nothing may be dropped.
 *
 * Planted bug for the tests (docs/testing.md): -DRAFTD_BUG_COMPACT_ABOVE_DURABLE
 * ignores durable_index (drops the log above storaged's durable index), here
 * and in raftd_compact_snapshot_index.
 */
uint64_t raftd_compact_bound(uint64_t compact_index, uint64_t snap_index, uint64_t durable_index);

/*
 * The index at which raftd takes a snapshot without copying anything: the
 * state machine's files are the image, so only where LMDB is durable,
 * min(applied_index, durable_index). The planted bug takes applied_index.
 */
uint64_t raftd_compact_snapshot_index(uint64_t applied_index, uint64_t durable_index);

/*
 * On a leader: the snapshot index lowered so that the log keeps the entries
 * its slowest follower (slowest_match) still needs, so a follower that is
 * slow but alive catches up from the log instead of getting an image again
 * and again; but the log never keeps more than keep_max entries below
 * last_index for it (a dead follower). Returns at most index.
 */
uint64_t raftd_compact_keep_for_followers(uint64_t index, uint64_t slowest_match,
                                          uint64_t last_index, uint64_t keep_max);

#endif
