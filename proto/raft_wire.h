/*
 * raft_wire.h - the Raft types that leave raftd: messages between cores,
 * entries, configurations, roles and the limits they are sized by. proto/
 * encodes them, storaged and gatewayd read them; the core (raft.h) is built
 * on them. Types and constants only: no functions, no dependency on any
 * service, so every part of raftkv may include it.
 */
#ifndef RAFTKV_RAFT_WIRE_H
#define RAFTKV_RAFT_WIRE_H

#include <stdint.h>

/* ---- Limits the wire is sized by ---------------------------------------- */

#define RAFT_NODES_MAX            9u     /* members: voters + learners */
#define RAFT_LOG_WINDOW           16384u /* entries held after the last snapshot; power of two */
#define RAFT_APPEND_ENTRIES_MAX   64u    /* entries per APPEND message */
#define RAFT_APPEND_BYTES_MAX     (1u << 20) /* payload bytes per APPEND (at least one entry) */
#define RAFT_SNAPSHOT_CHUNK_BYTES (256u << 10)

/* ---- Entries ---------------------------------------------------------- */

enum raft_entry_type {
	RAFT_ENTRY_NOOP = 1,    /* appended by each new leader */
	RAFT_ENTRY_COMMAND = 2, /* opaque to the core */
	RAFT_ENTRY_CONFIG = 3,  /* a single-server membership change */
};

enum raft_config_op {
	RAFT_CONFIG_ADD_LEARNER = 1,
	RAFT_CONFIG_PROMOTE = 2,
	RAFT_CONFIG_REMOVE = 3,
};

/*
 * A CONFIG entry's data begins with RAFT_CONFIG_CHANGE_BYTES bytes: the op
 * (1 byte) and the node id (8 bytes, big-endian). The driver may append
 * anything after them (addresses); the core ignores the rest.
 */
#define RAFT_CONFIG_CHANGE_BYTES 9u

struct raft_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type;        /* enum raft_entry_type */
	uint32_t len;        /* payload bytes */
	const uint8_t *data; /* borrowed; see each place an entry is passed */
};

/* ---- Configuration ------------------------------------------------------ */

enum raft_member_role { RAFT_VOTER = 1, RAFT_LEARNER = 2 };

struct raft_member {
	uint64_t id;  /* never 0 */
	uint8_t role; /* enum raft_member_role */
};

struct raft_config {
	uint32_t n;
	struct raft_member members[RAFT_NODES_MAX];
};

/* ---- Messages between cores ---------------------------------------------- */

enum raft_msg_type {
	RAFT_MSG_APPEND = 1, /* entries, or none as a heartbeat */
	RAFT_MSG_APPEND_RESP = 2,
	RAFT_MSG_PREVOTE = 3, /* term is the term the sender would campaign in */
	RAFT_MSG_PREVOTE_RESP = 4,
	RAFT_MSG_VOTE = 5,
	RAFT_MSG_VOTE_RESP = 6,
	RAFT_MSG_SNAPSHOT = 7, /* one chunk of InstallSnapshot */
	RAFT_MSG_SNAPSHOT_RESP = 8,
	RAFT_MSG_TIMEOUT_NOW = 9, /* leader transfer: campaign now */
	RAFT_MSG_READ_INDEX = 10, /* follower asks the leader for a read index */
	RAFT_MSG_READ_INDEX_RESP = 11,
};
#define RAFT_MSG_TYPE_MAX 11

/*
 * One flat struct for every message; each type uses the fields named beside
 * it and leaves the others zero. proto/ encodes exactly the fields of each type.
 */
struct raft_msg {
	uint8_t type; /* enum raft_msg_type */
	uint64_t from;
	uint64_t to;
	uint64_t term;

	/* APPEND */
	uint64_t prev_index;
	uint64_t prev_term;
	uint64_t commit;
	uint64_t seq;       /* APPEND, APPEND_RESP: the leader's heartbeat round (ReadIndex) */
	uint32_t n_entries; /* APPEND: at most RAFT_APPEND_ENTRIES_MAX */
	struct raft_entry *entries;

	/* APPEND_RESP, *VOTE_RESP, SNAPSHOT_RESP, READ_INDEX_RESP */
	uint8_t reject; /* 0: accepted; else a reason (READ_INDEX_RESP: 1 not leader, 2 busy) */
	uint64_t match_index; /* APPEND_RESP accepted, SNAPSHOT_RESP: the last index now matching */
	uint64_t hint_index;  /* APPEND_RESP rejected: the follower's conflict index */
	uint64_t hint_term;   /* APPEND_RESP rejected: the term at hint_index (0: log too short) */

	/* PREVOTE, VOTE */
	uint64_t last_index;
	uint64_t last_term;
	uint8_t transfer; /* VOTE after TIMEOUT_NOW: bypasses the leader lease */

	/* SNAPSHOT (also carries commit), SNAPSHOT_RESP */
	uint64_t snap_index;
	uint64_t snap_term;
	struct raft_config snap_config;
	uint64_t snap_size;   /* total bytes of the snapshot */
	uint64_t offset;      /* SNAPSHOT: of this chunk; SNAPSHOT_RESP: next offset wanted */
	uint32_t chunk_len;   /* at most RAFT_SNAPSHOT_CHUNK_BYTES; offset + chunk_len == snap_size
	                         ends it */
	const uint8_t *chunk; /* outgoing: NULL, the driver fills it from its snapshot file */

	/* READ_INDEX, READ_INDEX_RESP (reject set when the leader cannot serve it) */
	uint64_t read_id;
	uint64_t read_index;
};

/* ---- Roles (a node's status, reported to the gateway) -------------------- */

enum raft_role { RAFT_FOLLOWER = 1, RAFT_PRECANDIDATE = 2, RAFT_CANDIDATE = 3, RAFT_LEADER = 4 };

#endif
