/*
 * wal_hardstate.c - term and vote in the two-slot file "hardstate".
 * Written by wal_save_hard_state, made durable by wal_sync.
 * Called from raftd's event loop thread.
 */
#include "wal_internal.h"

#include <string.h>

#define HS_FILE          "hardstate"
#define HS_PAYLOAD_BYTES 16u /* term u64, vote u64, little-endian */

int wal_hardstate_open(int dir_fd, struct wal_stats *st, struct wal_slotfile *sf,
                       struct raft_hard_state *hs)
{
	uint8_t payload[HS_PAYLOAD_BYTES];
	int found;
	int rc = wal_slotfile_open(dir_fd, HS_FILE, HS_PAYLOAD_BYTES, payload, &found, st, sf);
	if (rc != 0)
		return rc;
	memset(hs, 0, sizeof(*hs));
	if (found) {
		hs->term = wal_get_le(payload, 8);
		hs->vote = wal_get_le(payload + 8, 8);
	}
	return 0;
}

int wal_hardstate_write(struct wal_slotfile *sf, const struct raft_hard_state *hs)
{
	uint8_t payload[HS_PAYLOAD_BYTES];
	wal_put_le(payload, hs->term, 8);
	wal_put_le(payload + 8, hs->vote, 8);
	return wal_slotfile_write(sf, payload);
}
