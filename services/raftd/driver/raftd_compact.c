/*
 * raftd_compact.c - the snapshot index and the compaction bound of
 * raftd_compact.h. Pure; called by
 * the loop thread (raftd_snapshot_take.c) and by tests/unit/test_raftd_compact.c.
 */
#include "raftd_compact.h"

uint64_t raftd_compact_bound(uint64_t compact_index, uint64_t snap_index, uint64_t durable_index)
{
	uint64_t bound = compact_index < snap_index ? compact_index : snap_index;
#ifndef RAFTD_BUG_COMPACT_ABOVE_DURABLE
	/* entries above durable_index may be lost from LMDB by a power cut: keep them */
	if (bound > durable_index)
		bound = durable_index;
#else
	(void)durable_index;
#endif
	return bound;
}

uint64_t raftd_compact_snapshot_index(uint64_t applied_index, uint64_t durable_index)
{
#ifndef RAFTD_BUG_COMPACT_ABOVE_DURABLE
	/* LMDB is an image of the state only where it is durable */
	return durable_index < applied_index ? durable_index : applied_index;
#else
	(void)durable_index;
	return applied_index;
#endif
}

uint64_t raftd_compact_keep_for_followers(uint64_t index, uint64_t slowest_match,
                                          uint64_t last_index, uint64_t keep_max)
{
	if (slowest_match >= index)
		return index;
	/* never hold more than keep_max entries for it: the core's window is finite */
	uint64_t floor = last_index > keep_max ? last_index - keep_max : 0;
	uint64_t keep = slowest_match > floor ? slowest_match : floor;
	return keep < index ? keep : index;
}
