/*
 * proto.h - every message between raftkv's processes and nodes, and their codecs.
 *
 * Wire format: one ZeroMQ frame of msgpack per message (ROUTER sockets add
 * their identity frame in front). Every message is a msgpack array whose
 * first two elements are the protocol version (PROTO_VERSION) and the
 * message type; the fields of each type follow in the order of its list in
 * proto_messages.h, the one place a message's fields are declared (reference:
 * docs/protocol.md, generated from it).
 *
 * Decoders never trust a count: every array or byte-string length is checked
 * against the bytes left before anything is reserved, nesting is bounded by
 * KV_MSG_DEPTH_MAX, and arrays are carved from a caller-provided arena, so a
 * hostile frame costs at most its own size. Decoded byte strings
 * (struct proto_bytes) point into the input buffer: they live as long as it.
 *
 * Three families:
 *   - peer:  struct raft_msg between raftd processes (ZeroMQ TCP)
 *   - local: struct proto_local between the three processes of one node (ipc://)
 *   - kv:    struct proto_kv_cmd, the payload of a RAFT_ENTRY_COMMAND entry
 */
#ifndef RAFTKV_PROTO_H
#define RAFTKV_PROTO_H

#include "kv_limits.h"
#include "proto_messages.h"
#include "raft_wire.h"

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 2u

/*
 * The version of struct proto_kv_cmd frames. They are stored in every WAL
 * and snapshot-era log, so they keep their own number and change only when
 * the command's fields do: a data directory written by an older build still
 * applies (PROTO_VERSION 2 changed peer and local messages only).
 */
#define PROTO_KV_VERSION 1u

/* Limits the codecs enforce on both sides (beyond kv_limits.h and raft.h). */
#define PROTO_APPLY_ENTRIES_MAX RAFT_LOG_WINDOW   /* entries in one APPLY */
#define PROTO_LIST_ITEMS_MAX    KV_LIST_LIMIT_MAX /* items in one LIST_RESP */
#define PROTO_ADDR_BYTES_MAX    255u              /* a member's peer address */
#define PROTO_URL_BYTES_MAX     512u              /* a member's HTTP base URL */
#define PROTO_PATH_BYTES_MAX    4096u             /* a snapshot path */

/*
 * WATCH's limit, and the changes one entry may make that a WATCH_RESP carries
 * whole (a delete of a prefix removes up to 10,000 keys in one entry).
 */
#define PROTO_WATCH_LIMIT_MAX 256u
#define PROTO_WATCH_GROUP_MAX 10240u
#define PROTO_WATCH_ITEMS_MAX (PROTO_WATCH_LIMIT_MAX + PROTO_WATCH_GROUP_MAX)

/* ---- Buffers ------------------------------------------------------------ */

/* Borrowed bytes: ptr is valid as long as the buffer it points into. */
struct proto_bytes {
	const uint8_t *ptr;
	uint32_t len;
};

/* A growable output buffer; bounded by KV_MSG_BYTES_MAX. */
struct proto_buf {
	uint8_t *ptr; /* owned; free with proto_buf_free() */
	size_t len;
	size_t cap;
};

void proto_buf_reset(struct proto_buf *b); /* len = 0, keeps memory */
void proto_buf_free(struct proto_buf *b);

/* Fixed memory the decoder carves arrays from; never grows. */
struct proto_arena {
	uint8_t *base; /* borrowed from the caller */
	size_t cap;
	size_t used;
};

void proto_arena_init(struct proto_arena *a, void *base, size_t cap);

/*
 * Arena bytes that always suffice for one decoded message of the family (the
 * largest array it may carry, plus alignment). proto_kv_cmd needs none.
 */
#define PROTO_RAFT_ARENA_BYTES  (RAFT_APPEND_ENTRIES_MAX * sizeof(struct raft_entry) + 64)
#define PROTO_LOCAL_ARENA_BYTES (PROTO_APPLY_ENTRIES_MAX * sizeof(struct raft_entry) + 64)

/* ---- Peer messages (raftd <-> raftd) -------------------------------------- */

/*
 * Encodes m (its type's fields only) and appends to out. Outgoing APPEND
 * entries must have their data attached; SNAPSHOT chunks carry a CRC32C on
 * the wire that the decoder verifies. Returns 0, KV_EINVAL (a field out of
 * range for its type), KV_ETOOLARGE or KV_ENOMEM; on error out is unchanged.
 */
int proto_raft_encode(const struct raft_msg *m, struct proto_buf *out);

/*
 * Decodes one peer message. Entry data and the snapshot chunk point into buf;
 * the entries array comes from arena. Returns 0 or KV_EPROTO (malformed,
 * wrong version, counts past the bytes left, bad chunk checksum, entries not
 * consecutive, index arithmetic that overflows) or KV_ENOMEM (arena too small).
 */
int proto_raft_decode(const uint8_t *buf, size_t len, struct raft_msg *out,
                      struct proto_arena *arena);

/* 1 when a and b have the same type and equal values in that type's fields. */
int proto_raft_equal(const struct raft_msg *a, const struct raft_msg *b);

/* "APPEND", "VOTE", ...; "UNKNOWN" out of range. A static string, for logs. */
const char *proto_raft_type_name(uint8_t type);

/* ---- Local messages (one node's raftd, storaged, gatewayd) ---------------- */

/*
 * Sockets, all under the node's socket directory (--sock-dir):
 *   raftd.sock          raftd ROUTER <- gatewayd DEALER: PROPOSE, READ_INDEX, STATUS, TRANSFER
 *   storaged-apply.sock storaged ROUTER <- raftd DEALER: APPLY_HELLO, APPLY, SNAPSHOT_*
 *   storaged-query.sock storaged ROUTER <- gatewayd DEALER: GET, LIST, STATS
 *   gatewayd-results.sock gatewayd PULL <- storaged PUSH: RESULT
 * Each request carries req_id; its reply carries the same req_id.
 *
 * The messages and their fields are listed once, in proto_messages.h; the
 * enum, the structs and the union below are expanded from that list (and
 * docs/protocol.md is generated from it).
 */

/* PROTO_PROPOSE = 1, PROTO_PROPOSE_RESP, ... in the order of the list. */
#define PROTO_LOCAL_ENUM(NAME, name, doc) PROTO_##NAME,
enum proto_local_type {
	PROTO_LOCAL_NONE = 0, /* no message has it */
	PROTO_LOCAL_MESSAGES(PROTO_LOCAL_ENUM) PROTO_LOCAL_TYPE_END
};
#undef PROTO_LOCAL_ENUM
#define PROTO_LOCAL_TYPE_MAX (PROTO_LOCAL_TYPE_END - 1)

struct proto_member {
	uint64_t id;
	uint8_t role;            /* enum raft_member_role */
	struct proto_bytes addr; /* peer address host:port */
	struct proto_bytes url;  /* HTTP base URL; empty: not known */
};

struct proto_item {
	struct proto_bytes key;
	struct proto_bytes value;
	uint64_t create_index;
	uint64_t mod_index;
	uint64_t flags; /* the key's flags (a Consul PUT's ?flags=); 0 unless set */
};

/* The C declaration of one field of each KIND of proto_messages.h. */
#define PROTO_CFIELD_U64(name)    uint64_t name;
#define PROTO_CFIELD_U8(name)     uint8_t name;
#define PROTO_CFIELD_STATUS(name) int32_t name; /* 0 or a KV_E* code */
#define PROTO_CFIELD_BYTES(name)  struct proto_bytes name;
#define PROTO_CFIELD_ENTRIES(name)                                                                 \
	uint32_t n_##name;                                                                         \
	struct raft_entry *name;
#define PROTO_CFIELD_MEMBERS(name)                                                                 \
	uint32_t n_##name;                                                                         \
	struct proto_member *name;
#define PROTO_CFIELD_ITEMS(name)                                                                   \
	uint32_t n_##name;                                                                         \
	struct proto_item *name;
#define PROTO_CFIELD(X, KIND, name, lo, hi, doc) PROTO_CFIELD_##KIND(name)

/*
 * struct proto_propose, struct proto_propose_resp, ...: each local message's
 * own fields, and nothing else. Messages without fields are empty structs
 * (a GNU C extension that gcc and clang accept; sizeof 0).
 */
#define PROTO_LOCAL_STRUCT(NAME, name, doc)                                                        \
	struct proto_##name {                                                                      \
		PROTO_LOCAL_##NAME(PROTO_CFIELD, name)                                             \
	};
PROTO_LOCAL_MESSAGES(PROTO_LOCAL_STRUCT)
#undef PROTO_LOCAL_STRUCT

/*
 * One local message: the header every type carries, and the body of its
 * type in u (u.propose for PROTO_PROPOSE, u.status_resp for
 * PROTO_STATUS_RESP, ...). Only the member of type is defined.
 */
#define PROTO_LOCAL_MEMBER(NAME, name, doc) struct proto_##name name;
struct proto_local {
	uint8_t type; /* enum proto_local_type */
	PROTO_LOCAL_HEADER(PROTO_CFIELD, hdr)
	union {
		PROTO_LOCAL_MESSAGES(PROTO_LOCAL_MEMBER)
	} u;
};
#undef PROTO_LOCAL_MEMBER

/* Encodes m's fields for its type and appends to out. 0, KV_EINVAL or KV_ETOOLARGE. */
int proto_local_encode(const struct proto_local *m, struct proto_buf *out);

/* Decodes one local message; same rules as proto_raft_decode(). */
int proto_local_decode(const uint8_t *buf, size_t len, struct proto_local *out,
                       struct proto_arena *arena);

/* As proto_raft_equal() and proto_raft_type_name(), for local messages. */
int proto_local_equal(const struct proto_local *a, const struct proto_local *b);
const char *proto_local_type_name(uint8_t type);

/* ---- The key-value command (payload of RAFT_ENTRY_COMMAND) ------------------ */

/*
 * DELETE_PREFIX: key is the prefix; it takes no condition (cond must be NONE).
 * PUT_FLAGS: a PUT that also sets the key's flags (a plain PUT sets them to 0);
 * a new op rather than a new PUT field, so entries already in logs decode as before.
 */
enum proto_kv_op {
	PROTO_KV_PUT = 1,
	PROTO_KV_DELETE = 2,
	PROTO_KV_TXN = 3,
	PROTO_KV_LEASE_GRANT = 4,
	PROTO_KV_LEASE_REVOKE = 5,
	PROTO_KV_LEASE_EXPIRE = 6,
	PROTO_KV_DELETE_PREFIX = 7,
	PROTO_KV_PUT_FLAGS = 8,
};
#define PROTO_KV_OP_MAX PROTO_KV_PUT_FLAGS

enum proto_kv_cond {
	PROTO_COND_NONE = 0,
	PROTO_COND_IF_MATCH = 1,      /* cond_index must equal the key's mod_index */
	PROTO_COND_IF_NONE_MATCH = 2, /* the key must not exist */
};

struct proto_kv_cmd {
	uint8_t op;               /* enum proto_kv_op */
	uint64_t origin;          /* node id whose gateway proposed it: it gets the RESULT */
	uint64_t req_id;          /* that gateway's request id */
	struct proto_bytes key;   /* PUT, DELETE, DELETE_PREFIX, PUT_FLAGS: 1..KV_KEY_BYTES_MAX */
	struct proto_bytes value; /* PUT, PUT_FLAGS: the value; TXN: struct proto_txn encoded */
	uint64_t flags; /* PUT_FLAGS only: stored with the key, returned by GET and LIST */
	uint8_t cond;   /* enum proto_kv_cond */
	uint64_t cond_index;
	struct proto_bytes idem_key; /* empty: none; at most KV_IDEMPOTENCY_KEY_BYTES_MAX */
	uint64_t ttl_ms;             /* LEASE_GRANT */
	uint64_t lease;              /* LEASE_REVOKE, LEASE_EXPIRE */
	uint64_t term;               /* LEASE_EXPIRE: the term of the clock that decided it */
};

int proto_kv_cmd_encode(const struct proto_kv_cmd *c, struct proto_buf *out);

/* Validates ranges too (op, cond, key and idempotency key lengths). */
int proto_kv_cmd_decode(const uint8_t *buf, size_t len, struct proto_kv_cmd *out);

/* 1 when a and b have the same op and equal values in that op's fields. */
int proto_kv_cmd_equal(const struct proto_kv_cmd *a, const struct proto_kv_cmd *b);

#endif
