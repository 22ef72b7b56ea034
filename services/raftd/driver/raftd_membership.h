/*
 * raftd_membership.h - replaying CONFIG entries onto a configuration.
 *
 * raftd needs the configuration as of a snapshot's index to save it with the
 * snapshot's metadata; it starts from the previous snapshot's configuration
 * and replays the CONFIG entries in between. Pure; loop thread only.
 */
#ifndef RAFTKV_RAFTD_MEMBERSHIP_H
#define RAFTKV_RAFTD_MEMBERSHIP_H

#include "raft.h"

#include <stdint.h>

/*
 * Applies one CONFIG entry's data (raft.h: op byte, then the node id
 * big-endian) to c. Returns 0, or KV_EINVAL for data too short, an unknown
 * op, id 0 or a full configuration; c is unchanged then. Adding a present
 * id, promoting a voter or removing an absent id changes nothing.
 */
int raftd_membership_apply(struct raft_config *c, const uint8_t *data, uint32_t len);

#endif
