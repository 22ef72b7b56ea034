/*
 * proto_table.c - the codec tables of every message, expanded from proto_messages.h.
 *
 * FORMAT. A message is one msgpack array:
 *
 *     [version, type, field1, field2, ...]
 *
 * where version is PROTO_VERSION for peer and local messages and
 * PROTO_KV_VERSION for commands (which logs keep),
 *
 * with the fields of its type in the order of proto_messages.h, and nothing else:
 * no field names, no optional fields, no trailing bytes after the array. A
 * decoder refuses any other version, an unknown type, a different element
 * count, or a value of the wrong msgpack type. Encodings:
 *
 *   U64, U8     msgpack uint, shortest form (positive fixint .. uint64)
 *   STATUS      msgpack int (0 or a negative KV_E* code)
 *   BYTES       msgpack bin (never str), possibly empty
 *   ENTRIES     array of [term, index, type, data(bin)], indexes consecutive
 *   MEMBERS     array of [id, role, addr(bin), url(bin)]
 *   ITEMS       array of [key(bin), value(bin), create_index, mod_index]
 *   CONFIG      array of [id, role, incarnation, flags], at most RAFT_NODES_MAX, ids non-zero and
 * distinct CHUNK       two elements: bin(chunk), then uint CRC32C of the chunk
 *
 * Each type encodes only its own fields; a decoder leaves every other field
 * of the struct zero. The header fields come first in every family:
 * raft_msg: from, to, term; proto_local: req_id (every request and its reply
 * carry it); proto_kv_cmd: origin, req_id (type is the op).
 *
 * Ranges in proto_messages.h are enforced by the encoder (KV_EINVAL: refuse to send
 * nonsense) and the decoder (KV_EPROTO), so a message that decodes always
 * re-encodes. Terms and indexes take any uint64 value: whether UINT64_MAX is
 * sane is the Raft core's decision, not the codec's.
 *
 * Changing a type's fields changes the wire format: bump PROTO_VERSION (a
 * command's: PROTO_KV_VERSION, and keep decoding the old one).
 * Commands (proto_kv_cmd) are also stored in the WAL, so their layout lives
 * as long as any log that holds them.
 *
 * Read-only data; any thread.
 */
#include "proto_table.h"

#include "kv_limits.h"

#include <stddef.h>

/*
 * Every table below is expanded from proto_messages.h: one field list per
 * message gives its description here, its struct in proto.h and its line in
 * docs/protocol.md. A field's n_off (arrays and CHUNK) is the offset of its
 * count: n_<name> for arrays, <name>_len for a chunk.
 */
#define NOFF_U64(OFF, X, name)     0
#define NOFF_U8(OFF, X, name)      0
#define NOFF_STATUS(OFF, X, name)  0
#define NOFF_BYTES(OFF, X, name)   0
#define NOFF_CONFIG(OFF, X, name)  0
#define NOFF_ENTRIES(OFF, X, name) OFF(X, n_##name)
#define NOFF_MEMBERS(OFF, X, name) OFF(X, n_##name)
#define NOFF_ITEMS(OFF, X, name)   OFF(X, n_##name)
#define NOFF_CHUNK(OFF, X, name)   OFF(X, name##_len)

#define DESC(OFF, X, KIND, name, lo, hi)                                                           \
	{#name, PROTO_F_##KIND, OFF(X, name), NOFF_##KIND(OFF, X, name), lo, hi},

#define N_FIELDS(a) ((uint8_t)(sizeof(a) / sizeof((a)[0])))

/* ---- proto_local: the header, then the body in u.<name> ------------------------ */

#define L_HEAD_OFF(X, f)                    offsetof(struct proto_local, f)
#define L_BODY_OFF(X, f)                    offsetof(struct proto_local, u.X.f)
#define L_HEAD(X, KIND, name, lo, hi, doc)  DESC(L_HEAD_OFF, X, KIND, name, lo, hi)
#define L_FIELD(X, KIND, name, lo, hi, doc) DESC(L_BODY_OFF, X, KIND, name, lo, hi)
#define L_FIELDS(NAME, name, doc)                                                                  \
	static const struct proto_field local_fields_##NAME[] = {                                  \
	    PROTO_LOCAL_HEADER(L_HEAD, name) PROTO_LOCAL_##NAME(L_FIELD, name)};
#define L_TYPE(NAME, name, doc)                                                                    \
	[PROTO_##NAME] = {#NAME, N_FIELDS(local_fields_##NAME), local_fields_##NAME},

PROTO_LOCAL_MESSAGES(L_FIELDS)

static const struct proto_msg_desc local_types[PROTO_LOCAL_TYPE_MAX + 1] = {
    PROTO_LOCAL_MESSAGES(L_TYPE)};

const struct proto_family proto_family_local = {
    "local",
    local_types,
    PROTO_LOCAL_TYPE_MAX,
    sizeof(struct proto_local),
    offsetof(struct proto_local, type),
    PROTO_VERSION,
};

/* ---- raft_msg: the header, then the body in u.<body> ------------------------------ */

#define R_HEAD_OFF(X, f)                    offsetof(struct raft_msg, f)
#define R_BODY_OFF(X, f)                    offsetof(struct raft_msg, u.X.f)
#define R_HEAD(X, KIND, name, lo, hi, doc)  DESC(R_HEAD_OFF, X, KIND, name, lo, hi)
#define R_FIELD(X, KIND, name, lo, hi, doc) DESC(R_BODY_OFF, X, KIND, name, lo, hi)
#define R_FIELDS(NAME, BODY, body, doc)                                                            \
	static const struct proto_field raft_fields_##NAME[] = {                                   \
	    PROTO_RAFT_HEADER(R_HEAD, body) PROTO_RAFT_##BODY(R_FIELD, body)};
#define R_TYPE(NAME, BODY, body, doc)                                                              \
	[RAFT_MSG_##NAME] = {#NAME, N_FIELDS(raft_fields_##NAME), raft_fields_##NAME},

PROTO_RAFT_MESSAGES(R_FIELDS)

static const struct proto_msg_desc raft_types[RAFT_MSG_TYPE_MAX + 1] = {
    PROTO_RAFT_MESSAGES(R_TYPE)};

const struct proto_family proto_family_raft = {
    "raft",
    raft_types,
    RAFT_MSG_TYPE_MAX,
    sizeof(struct raft_msg),
    offsetof(struct raft_msg, type),
    PROTO_VERSION,
};

/* ---- proto_kv_cmd (the type is the op) ---------------------------------------------- */

#define K_OFF(X, f)                         offsetof(struct proto_kv_cmd, f)
#define K_FIELD(X, KIND, name, lo, hi, doc) DESC(K_OFF, X, KIND, name, lo, hi)
#define K_FIELDS(NAME, name, doc)                                                                  \
	static const struct proto_field kv_fields_##NAME[] = {PROTO_KV_HEADER(K_FIELD, name)       \
	                                                          PROTO_KV_##NAME(K_FIELD, name)};
#define K_TYPE(NAME, name, doc)                                                                    \
	[PROTO_KV_##NAME] = {#NAME, N_FIELDS(kv_fields_##NAME), kv_fields_##NAME},

PROTO_KV_MESSAGES(K_FIELDS)

static const struct proto_msg_desc kv_types[PROTO_KV_OP_MAX + 1] = {PROTO_KV_MESSAGES(K_TYPE)};

const struct proto_family proto_family_kv = {
    "kv",
    kv_types,
    PROTO_KV_OP_MAX,
    sizeof(struct proto_kv_cmd),
    offsetof(struct proto_kv_cmd, op),
    PROTO_KV_VERSION,
};

const struct proto_msg_desc *proto_table_find(const struct proto_family *f, uint8_t type)
{
	if (type == 0 || type > f->type_max || !f->types[type].name)
		return NULL;
	return &f->types[type];
}
