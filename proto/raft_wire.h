/*
 * raft_wire.h - the Raft types that leave raftd: messages between cores,
 * entries, configurations, roles and the limits they are sized by. proto/
 * encodes them, storaged and gatewayd read them; the core (raft.h) is built
 * on them. Types and constants only (and one inline accessor): no
 * dependency on any service (proto_messages.h is macros only), so every part
 * of raftkv may include it.
 */
#ifndef RAFTKV_RAFT_WIRE_H
#define RAFTKV_RAFT_WIRE_H

#include "proto_messages.h"

#include <stdint.h>

/* ---- Limits the wire is sized by ---------------------------------------- */

#define RAFT_NODES_MAX            9u     /* members: voters + learners */
#define RAFT_LOG_WINDOW           16384u /* entries held after the last snapshot; power of two */
#define RAFT_APPEND_ENTRIES_MAX   64u    /* entries per APPEND message */
#define RAFT_APPEND_BYTES_MAX     (1u << 20) /* payload bytes per APPEND (at least one entry) */
#define RAFT_SNAPSHOT_CHUNK_BYTES (256u << 10)
/* The driver's address book a SNAPSHOT carries (raftd_book.h: RAFTD_BOOK_BYTES_MAX fits). */
#define RAFT_BOOK_BYTES_MAX (16u << 10)
/* The commands a follower relays to the leader in one PROPOSE, and their bytes in all
 * (a larger command is forwarded over HTTP). */
#define RAFT_RELAY_COMMANDS_MAX RAFT_APPEND_ENTRIES_MAX
#define RAFT_RELAY_BYTES_MAX    RAFT_APPEND_BYTES_MAX

/* ---- Entries ---------------------------------------------------------- */

enum raft_entry_type {
	RAFT_ENTRY_NOOP = 1,    /* appended by each new leader */
	RAFT_ENTRY_COMMAND = 2, /* opaque to the core */
	RAFT_ENTRY_CONFIG = 3,  /* a single-server membership change */
};

enum raft_config_op {
	RAFT_CONFIG_ADD_LEARNER = 1, /* node joins as a learner with incarnation (0: unknown yet) */
	RAFT_CONFIG_PROMOTE = 2,     /* a caught-up learner becomes a voter */
	RAFT_CONFIG_REMOVE = 3,
	RAFT_CONFIG_BIND = 4,   /* records the incarnation of a member that has none; role kept */
	RAFT_CONFIG_REJOIN = 5, /* a member came back with another incarnation (its disk was
	                           lost): it becomes a learner with it, promoted once caught up */
};

/* Flags of a change (and of a member): promote it once it has caught up. */
#define RAFT_CONFIG_FLAG_PROMOTE 1u

/*
 * A CONFIG entry's data begins with RAFT_CONFIG_CHANGE_BYTES bytes: the op
 * (1 byte), the node id (8 bytes, big-endian), the incarnation (8 bytes,
 * big-endian; ADD_LEARNER, BIND, REJOIN) and the flags (1 byte). The driver
 * may append anything after them (addresses); the core ignores the rest.
 */
#define RAFT_CONFIG_CHANGE_BYTES 18u

/* One membership change, as a CONFIG entry's first RAFT_CONFIG_CHANGE_BYTES hold it. */
struct raft_config_change {
	uint8_t op; /* enum raft_config_op */
	uint8_t flags;
	uint64_t node;
	uint64_t incarnation;
};

struct raft_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type;        /* enum raft_entry_type */
	uint32_t len;        /* payload bytes */
	const uint8_t *data; /* borrowed; see each place an entry is passed */
};

/* ---- Configuration ------------------------------------------------------ */

enum raft_member_role { RAFT_VOTER = 1, RAFT_LEARNER = 2 };

/*
 * A member's incarnation names the data directory it runs on (made when the
 * directory is first created; 0: not recorded yet). Only a voter whose
 * messages carry the recorded incarnation counts toward a vote, commit or
 * read quorum: a node that lost its disk comes back with another one.
 */
struct raft_member {
	uint64_t id;          /* never 0 */
	uint8_t role;         /* enum raft_member_role */
	uint8_t flags;        /* RAFT_CONFIG_FLAG_PROMOTE: promote once caught up */
	uint64_t incarnation; /* 0: not recorded yet */
};

struct raft_config {
	uint32_t n;
	struct raft_member members[RAFT_NODES_MAX];
};

/* ---- Messages between cores ---------------------------------------------- */

/*
 * Every peer message and its fields are declared once, in proto_messages.h
 * (PROTO_RAFT_MESSAGES); the enum, the per-message structs and the union
 * below are expanded from it.
 */

/* RAFT_MSG_APPEND = 1, RAFT_MSG_APPEND_RESP, ... in the order of the list. */
#define RAFT_MSG_ENUM(NAME, BODY, body, doc) RAFT_MSG_##NAME,
enum raft_msg_type {
	RAFT_MSG_NONE = 0, /* no message has it */
	PROTO_RAFT_MESSAGES(RAFT_MSG_ENUM) RAFT_MSG_TYPE_END
};
#undef RAFT_MSG_ENUM
#define RAFT_MSG_TYPE_MAX (RAFT_MSG_TYPE_END - 1)

/* The C declaration of one field of each KIND that peer messages use. */
#define RAFT_CFIELD_U64(name) uint64_t name;
#define RAFT_CFIELD_U8(name)  uint8_t name;
#define RAFT_CFIELD_ENTRIES(name)                                                                  \
	uint32_t n_##name; /* at most the field's max */                                           \
	struct raft_entry *name;
#define RAFT_CFIELD_CONFIG(name) struct raft_config name;
#define RAFT_CFIELD_CHUNK(name)                                                                    \
	uint32_t name##_len;                                                                       \
	const uint8_t *name;
#define RAFT_CFIELD(X, KIND, name, lo, hi, doc) RAFT_CFIELD_##KIND(name)

/*
 * struct raft_append, struct raft_vote, ...: the fields of each body and
 * nothing else (PREVOTE and VOTE share struct raft_vote, their answers
 * struct raft_vote_resp). Bodies without fields are empty structs (a GNU C
 * extension that gcc and clang accept; sizeof 0).
 */
#define RAFT_MSG_STRUCT(BODY, body)                                                                \
	struct raft_##body {                                                                       \
		PROTO_RAFT_##BODY(RAFT_CFIELD, body)                                               \
	};
PROTO_RAFT_BODIES(RAFT_MSG_STRUCT)
#undef RAFT_MSG_STRUCT

/*
 * One peer message: the header every type carries, and the body of its type
 * in u (u.append for APPEND, u.vote for PREVOTE and VOTE, u.vote_resp for
 * their answers, ...). Only the member of type is defined; a decoder zeroes
 * the rest. Pointers (entries, chunk) are borrowed: see where a message is passed.
 */
#define RAFT_MSG_MEMBER(BODY, body) struct raft_##body body;
struct raft_msg {
	uint8_t type; /* enum raft_msg_type */
	PROTO_RAFT_HEADER(RAFT_CFIELD, hdr)
	union {
		PROTO_RAFT_BODIES(RAFT_MSG_MEMBER)
	} u;
};
#undef RAFT_MSG_MEMBER

/* The entries m carries: an APPEND's, none for any other type (for logs and traces). */
static inline uint32_t raft_msg_n_entries(const struct raft_msg *m)
{
	return m->type == RAFT_MSG_APPEND ? m->u.append.n_entries : 0;
}

/* ---- Roles (a node's status, reported to the gateway) -------------------- */

enum raft_role { RAFT_FOLLOWER = 1, RAFT_PRECANDIDATE = 2, RAFT_CANDIDATE = 3, RAFT_LEADER = 4 };

#endif
