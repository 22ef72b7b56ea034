/*
 * raftd_relay_table.h - the proposals a follower's raftd relayed to the
 * leader (raftd_relay.c), and the leader's check of a relay it receives.
 *
 * A relay id names one relayed PROPOSE: which gateway request it answers
 * (the ROUTER identity and the gateway's req_id) and which node it went to.
 * Ids start at a random first_id per process, so an answer to a relay of a
 * previous process (raftd restarted) never finds a slot of this one. Pure
 * memory, no I/O; the raftd loop thread only.
 */
#ifndef RAFTKV_RAFTD_RELAY_TABLE_H
#define RAFTKV_RAFTD_RELAY_TABLE_H

#include "raft.h"
#include "raftd_read_table.h"

#include <stddef.h>
#include <stdint.h>

/* Relays awaiting the leader's answer; a gateway holds at most --max-inflight calls. */
#define RAFTD_RELAY_SLOTS 8192u

struct raftd_relay_slot {
	uint64_t relay_id;  /* 0: free */
	uint64_t leader_id; /* the node it was sent to: only its answer is taken */
	uint64_t req_id;
	uint8_t identity_len;
	uint8_t identity[RAFTD_IDENTITY_BYTES_MAX];
};

struct raftd_relay_table {
	uint64_t next_id;     /* the next relay id handed out, never 0 */
	uint64_t overwritten; /* relays forgotten because their slot was reused */
	uint32_t waiting;     /* relays remembered and not answered */
	struct raftd_relay_slot slots[RAFTD_RELAY_SLOTS];
};

/* Empties t; ids start at first_id (random per process; 0 is taken as 1). */
void raftd_relay_table_init(struct raftd_relay_table *t, uint64_t first_id);

/*
 * Remembers a PROPOSE relayed to leader_id for (identity, req_id) and returns
 * its relay id (never 0). The slot of a relay RAFTD_RELAY_SLOTS ids older is
 * overwritten: its gateway answers that call 504 at its deadline. Returns 0
 * (remembering nothing) when identity_len is 0 or too long, or leader_id 0.
 */
uint64_t raftd_relay_table_add(struct raftd_relay_table *t, uint64_t leader_id,
                               const void *identity, size_t identity_len, uint64_t req_id);

/*
 * The slot of relay_id when the answer comes from the node it was sent to,
 * freed (answered once); NULL when unknown, answered, overwritten or from
 * another node. Valid until the next raftd_relay_table_add.
 */
const struct raftd_relay_slot *raftd_relay_table_take(struct raftd_relay_table *t,
                                                      uint64_t relay_id, uint64_t from);

/*
 * The leader's check of a relayed PROPOSE: 0 when from is a member (voter or
 * learner) of config other than self_id and len is within
 * [1, RAFT_RELAY_BYTES_MAX]; KV_EPROTO otherwise (dropped unanswered).
 */
int raftd_relay_accept(const struct raft_config *config, uint64_t self_id, uint64_t from,
                       uint32_t len);

#endif
