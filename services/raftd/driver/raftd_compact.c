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
