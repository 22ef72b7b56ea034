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
 * Applies one CONFIG entry's data (raft_wire.h: struct raft_config_change)
 * to c, as the core does (raft_config_change_apply). Returns 0, or KV_EINVAL
 * for data the core refuses (raft_config_change_decode) or an add to a full
 * configuration; c is unchanged then. Adding a present id, promoting a
 * voter, removing an absent id or binding a bound member changes nothing.
 */
int raftd_membership_apply(struct raft_config *c, const uint8_t *data, uint32_t len);

#endif
