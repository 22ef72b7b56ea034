/*
 * proto_table.c - the one table of every message's fields, in wire order.
 *
 * FORMAT. A message is one msgpack array:
 *
 *     [PROTO_VERSION, type, field1, field2, ...]
 *
 * with the fields of its type in the order listed below, and nothing else:
 * no field names, no optional fields, no trailing bytes after the array. A
 * decoder refuses any other version, an unknown type, a different element
 * count, or a value of the wrong msgpack type. Encodings:
 *
 *   U64, U8     msgpack uint, shortest form (positive fixint .. uint64)
 *   STATUS      msgpack int (0 or a negative KV_E* code)
 *   BYTES       msgpack bin (never str), possibly empty
 *   ENTRIES     array of [term, index, type, data(bin)], indexes consecutive
 *   MEMBERS     array of [id, role, addr(bin)]
 *   ITEMS       array of [key(bin), value(bin), create_index, mod_index]
 *   CONFIG      array of [id, role], at most RAFT_NODES_MAX, ids non-zero and distinct
 *   CHUNK       two elements: bin(chunk), then uint CRC32C of the chunk
 *
 * Each type encodes only its own fields; a decoder leaves every other field
 * of the struct zero. The header fields come first in every family:
 * raft_msg: from, to, term; proto_local: req_id (every request and its reply
 * carry it); proto_kv_cmd: origin, req_id (type is the op).
 *
 * Ranges below are enforced by the encoder (KV_EINVAL: refuse to send
 * nonsense) and the decoder (KV_EPROTO), so a message that decodes always
 * re-encodes. Terms and indexes take any uint64 value: whether UINT64_MAX is
 * sane is the Raft core's decision, not the codec's.
 *
 * Changing a type's fields changes the wire format: bump PROTO_VERSION.
 * Commands (proto_kv_cmd) are also stored in the WAL, so their layout lives
 * as long as any log that holds them.
 *
 * Read-only data; any thread.
 */
#include "proto_table.h"

#include "kv_limits.h"

#include <stddef.h>

#define FIELD(s, f, kind, lo, hi)                                                                  \
	{                                                                                          \
#f, kind, offsetof(struct s, f), 0, lo, hi                                         \
	}
#define ARRAY(s, f, n, kind, hi)                                                                   \
	{                                                                                          \
#f, kind, offsetof(struct s, f), offsetof(struct s, n), 0, hi                      \
	}

#define MSG(name, ...)                                                                             \
	{                                                                                          \
		name,                                                                              \
		    sizeof((const struct proto_field[]){__VA_ARGS__}) /                            \
		        sizeof(struct proto_field),                                                \
		    (const struct proto_field[])                                                   \
		{                                                                                  \
			__VA_ARGS__                                                                \
		}                                                                                  \
	}

/* ---- raft_msg --------------------------------------------------------------- */

#define R_U64(f)  FIELD(raft_msg, f, PROTO_F_U64, 0, UINT64_MAX)
#define R_ID(f)   FIELD(raft_msg, f, PROTO_F_U64, 1, UINT64_MAX)
#define R_FLAG(f) FIELD(raft_msg, f, PROTO_F_U8, 0, 1)
/* reject is a reason, not only a flag: READ_INDEX_RESP says why (busy, not leader). */
#define R_REJECT FIELD(raft_msg, reject, PROTO_F_U8, 0, UINT8_MAX)
#define R_HEAD   R_ID(from), R_ID(to), R_U64(term)

static const struct proto_msg_desc raft_types[RAFT_MSG_TYPE_MAX + 1] = {
    [RAFT_MSG_APPEND] =
        MSG("APPEND", R_HEAD, R_U64(prev_index), R_U64(prev_term), R_U64(commit), R_U64(seq),
            ARRAY(raft_msg, entries, n_entries, PROTO_F_ENTRIES, RAFT_APPEND_ENTRIES_MAX)),
    [RAFT_MSG_APPEND_RESP] = MSG("APPEND_RESP", R_HEAD, R_REJECT, R_U64(match_index),
                                 R_U64(hint_index), R_U64(hint_term), R_U64(seq)),
    [RAFT_MSG_PREVOTE] =
        MSG("PREVOTE", R_HEAD, R_U64(last_index), R_U64(last_term), R_FLAG(transfer)),
    [RAFT_MSG_PREVOTE_RESP] = MSG("PREVOTE_RESP", R_HEAD, R_REJECT),
    [RAFT_MSG_VOTE] = MSG("VOTE", R_HEAD, R_U64(last_index), R_U64(last_term), R_FLAG(transfer)),
    [RAFT_MSG_VOTE_RESP] = MSG("VOTE_RESP", R_HEAD, R_REJECT),
    [RAFT_MSG_SNAPSHOT] = MSG(
        "SNAPSHOT", R_HEAD, R_U64(snap_index), R_U64(snap_term),
        FIELD(raft_msg, snap_config, PROTO_F_CONFIG, 0, RAFT_NODES_MAX), R_U64(snap_size),
        R_U64(offset), ARRAY(raft_msg, chunk, chunk_len, PROTO_F_CHUNK, RAFT_SNAPSHOT_CHUNK_BYTES),
        R_U64(commit)),
    [RAFT_MSG_SNAPSHOT_RESP] =
        MSG("SNAPSHOT_RESP", R_HEAD, R_REJECT, R_U64(snap_index), R_U64(snap_term),
            R_U64(snap_size), R_U64(offset), R_U64(match_index)),
    [RAFT_MSG_TIMEOUT_NOW] = MSG("TIMEOUT_NOW", R_HEAD),
    [RAFT_MSG_READ_INDEX] = MSG("READ_INDEX", R_HEAD, R_U64(read_id)),
    [RAFT_MSG_READ_INDEX_RESP] =
        MSG("READ_INDEX_RESP", R_HEAD, R_REJECT, R_U64(read_id), R_U64(read_index)),
};

const struct proto_family proto_family_raft = {
    "raft", raft_types, RAFT_MSG_TYPE_MAX, sizeof(struct raft_msg), offsetof(struct raft_msg, type),
};

/* ---- proto_local ------------------------------------------------------------ */

#define L_U64(f)           FIELD(proto_local, f, PROTO_F_U64, 0, UINT64_MAX)
#define L_FLAG(f)          FIELD(proto_local, f, PROTO_F_U8, 0, 1)
#define L_STATUS           FIELD(proto_local, status, PROTO_F_STATUS, 0, 0)
#define L_BYTES(f, lo, hi) FIELD(proto_local, f, PROTO_F_BYTES, lo, hi)
#define L_HEAD             L_U64(req_id)

static const struct proto_msg_desc local_types[PROTO_LOCAL_TYPE_MAX + 1] = {
    [PROTO_PROPOSE] = MSG("PROPOSE", L_HEAD, L_BYTES(data, 0, KV_MSG_BYTES_MAX)),
    [PROTO_PROPOSE_RESP] =
        MSG("PROPOSE_RESP", L_HEAD, L_STATUS, L_U64(index), L_U64(term), L_U64(leader_id)),
    [PROTO_READ_INDEX] = MSG("READ_INDEX", L_HEAD),
    [PROTO_READ_INDEX_RESP] =
        MSG("READ_INDEX_RESP", L_HEAD, L_STATUS, L_U64(index), L_U64(leader_id)),
    [PROTO_STATUS_REQ] = MSG("STATUS_REQ", L_HEAD),
    [PROTO_STATUS_RESP] = MSG(
        "STATUS_RESP", L_HEAD, L_U64(node_id),
        FIELD(proto_local, role, PROTO_F_U8, RAFT_FOLLOWER, RAFT_LEADER), L_FLAG(is_learner),
        L_U64(term), L_U64(leader_id), L_U64(commit_index), L_U64(applied_index), L_U64(last_index),
        ARRAY(proto_local, members, n_members, PROTO_F_MEMBERS, RAFT_NODES_MAX), L_U64(wal_fsyncs),
        L_U64(wal_fsync_us_total), L_U64(wal_fsync_us_max), L_U64(peer_msgs_dropped)),
    [PROTO_TRANSFER] = MSG("TRANSFER", L_HEAD, L_U64(node_id)),
    [PROTO_TRANSFER_RESP] = MSG("TRANSFER_RESP", L_HEAD, L_STATUS),
    [PROTO_APPLY_HELLO] = MSG("APPLY_HELLO", L_HEAD),
    [PROTO_APPLY] =
        MSG("APPLY", L_HEAD,
            ARRAY(proto_local, entries, n_entries, PROTO_F_ENTRIES, PROTO_APPLY_ENTRIES_MAX)),
    [PROTO_APPLY_STATE] =
        MSG("APPLY_STATE", L_HEAD, L_STATUS, L_U64(applied_index), L_U64(term), L_FLAG(full)),
    [PROTO_SNAPSHOT_REQ] = MSG("SNAPSHOT_REQ", L_HEAD),
    [PROTO_SNAPSHOT_DONE] = MSG("SNAPSHOT_DONE", L_HEAD, L_STATUS, L_U64(index), L_U64(term),
                                L_U64(size), L_BYTES(path, 0, PROTO_PATH_BYTES_MAX)),
    [PROTO_SNAPSHOT_INSTALL] =
        MSG("SNAPSHOT_INSTALL", L_HEAD, L_BYTES(path, 1, PROTO_PATH_BYTES_MAX), L_U64(index),
            L_U64(term)),
    [PROTO_RESULT] = MSG("RESULT", L_HEAD, L_U64(index), L_U64(term), L_STATUS, L_U64(create_index),
                         L_U64(mod_index)),
    [PROTO_GET] =
        MSG("GET", L_HEAD, L_BYTES(key, 1, KV_KEY_BYTES_MAX), L_U64(min_index), L_U64(wait_ms)),
    [PROTO_GET_RESP] =
        MSG("GET_RESP", L_HEAD, L_STATUS, L_BYTES(value, 0, KV_VALUE_BYTES_MAX_LIMIT),
            L_U64(create_index), L_U64(mod_index), L_U64(applied_index)),
    [PROTO_LIST] =
        MSG("LIST", L_HEAD, L_BYTES(prefix, 0, KV_KEY_BYTES_MAX),
            L_BYTES(after, 0, KV_KEY_BYTES_MAX), L_U64(limit), L_U64(min_index), L_U64(wait_ms)),
    [PROTO_LIST_RESP] = MSG("LIST_RESP", L_HEAD, L_STATUS,
                            ARRAY(proto_local, items, n_items, PROTO_F_ITEMS, PROTO_LIST_ITEMS_MAX),
                            L_FLAG(more), L_U64(applied_index)),
    [PROTO_STATS_REQ] = MSG("STATS_REQ", L_HEAD),
    [PROTO_STATS_RESP] = MSG("STATS_RESP", L_HEAD, L_U64(applied_index), L_U64(term),
                             L_U64(map_bytes), L_U64(used_bytes), L_FLAG(full), L_U64(size)),
};

const struct proto_family proto_family_local = {
    "local",
    local_types,
    PROTO_LOCAL_TYPE_MAX,
    sizeof(struct proto_local),
    offsetof(struct proto_local, type),
};

/* ---- proto_kv_cmd (the type is the op) --------------------------------------- */

#define K_U64(f) FIELD(proto_kv_cmd, f, PROTO_F_U64, 0, UINT64_MAX)
#define K_KEY    FIELD(proto_kv_cmd, key, PROTO_F_BYTES, 1, KV_KEY_BYTES_MAX)
#define K_COND   FIELD(proto_kv_cmd, cond, PROTO_F_U8, PROTO_COND_NONE, PROTO_COND_IF_NONE_MATCH)
#define K_IDEM   FIELD(proto_kv_cmd, idem_key, PROTO_F_BYTES, 0, KV_IDEMPOTENCY_KEY_BYTES_MAX)

static const struct proto_msg_desc kv_types[PROTO_KV_DELETE + 1] = {
    [PROTO_KV_PUT] = MSG("PUT", K_U64(origin), K_U64(req_id), K_KEY,
                         FIELD(proto_kv_cmd, value, PROTO_F_BYTES, 0, KV_VALUE_BYTES_MAX_LIMIT),
                         K_COND, K_U64(cond_index), K_IDEM),
    [PROTO_KV_DELETE] =
        MSG("DELETE", K_U64(origin), K_U64(req_id), K_KEY, K_COND, K_U64(cond_index), K_IDEM),
};

const struct proto_family proto_family_kv = {
    "kv", kv_types, PROTO_KV_DELETE, sizeof(struct proto_kv_cmd), offsetof(struct proto_kv_cmd, op),
};

const struct proto_msg_desc *proto_table_find(const struct proto_family *f, uint8_t type)
{
	if (type == 0 || type > f->type_max || !f->types[type].name)
		return NULL;
	return &f->types[type];
}
