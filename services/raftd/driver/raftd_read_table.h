/*
 * raftd_read_table.h - the bounded table of linearizable reads waiting on Raft.
 *
 * raftd hands the core its own read ids (a counter) and remembers here which
 * gateway request each one answers: the ROUTER identity and the gateway's
 * req_id. Pure memory, no I/O; used by the raftd loop thread only.
 */
#ifndef RAFTKV_RAFTD_READ_TABLE_H
#define RAFTKV_RAFTD_READ_TABLE_H

#include "raft.h"

#include <stdint.h>

#define RAFTD_READ_TABLE_SLOTS   RAFT_READS_MAX /* the core never holds more reads than this */
#define RAFTD_IDENTITY_BYTES_MAX 255u           /* ZeroMQ routing ids are at most 255 bytes */

struct raftd_read_slot {
	uint64_t read_id; /* 0: free */
	uint64_t req_id;
	uint8_t identity_len;
	uint8_t identity[RAFTD_IDENTITY_BYTES_MAX];
};

struct raftd_read_table {
	uint64_t next_id;     /* the next read id handed out; starts at 1 */
	uint64_t overwritten; /* reads forgotten because their slot was reused */
	struct raftd_read_slot slots[RAFTD_READ_TABLE_SLOTS];
};

void raftd_read_table_init(struct raftd_read_table *t);

/*
 * Remembers (identity, req_id) and returns its new read id (never 0). A slot
 * still held by a read RAFTD_READ_TABLE_SLOTS ids older is overwritten: its
 * gateway has long timed out, and the core would have refused it anyway.
 * Returns 0 (and remembers nothing) if identity_len is 0 or too long.
 */
uint64_t raftd_read_table_add(struct raftd_read_table *t, const void *identity, size_t identity_len,
                              uint64_t req_id);

/*
 * Finds and frees the slot of read_id; returns a pointer to it (valid until
 * the next raftd_read_table_add) or NULL if unknown, already taken or overwritten.
 */
const struct raftd_read_slot *raftd_read_table_take(struct raftd_read_table *t, uint64_t read_id);

#endif
