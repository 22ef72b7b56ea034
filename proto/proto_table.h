/*
 * proto_table.h - the description of every message's fields (internal to proto/).
 *
 * proto_table.c expands proto_messages.h into these descriptions; proto_codec*.c encode, decode and
 * compare any message by walking it, so a field is added in exactly one place. Each field names its
 * C location (offsetof), its kind and the range a decoder accepts and an encoder sends; rules that
 * tie fields together (entries following prev_index, a chunk inside the snapshot) live in the
 * family's file (proto_raft.c, proto_local.c, proto_kv.c).
 */
#ifndef RAFTKV_PROTO_TABLE_H
#define RAFTKV_PROTO_TABLE_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

enum proto_field_kind {
	PROTO_F_U64 = 1, /* uint64_t in [min, max] */
	PROTO_F_U8,      /* uint8_t in [min, max]: enums and 0/1 flags */
	PROTO_F_STATUS,  /* int32_t: 0 or a negative KV_E* code */
	PROTO_F_BYTES,   /* struct proto_bytes, len in [min, max] */
	PROTO_F_ENTRIES, /* struct raft_entry * at off, uint32_t count at n_off <= max */
	PROTO_F_MEMBERS, /* struct proto_member * at off, count at n_off <= max */
	PROTO_F_ITEMS,   /* struct proto_item * at off, count at n_off <= max */
	PROTO_F_CONFIG,  /* struct raft_config at off */
	PROTO_F_CHUNK,   /* const uint8_t * at off, uint32_t len at n_off <= max; bin + CRC32C */
};

struct proto_field {
	const char *name;
	uint8_t kind;   /* enum proto_field_kind */
	uint16_t off;   /* of the value (or of the array pointer) in the message struct */
	uint16_t n_off; /* arrays and CHUNK: of the uint32_t count */
	uint64_t min;   /* U64, U8: value; BYTES: length */
	uint64_t max;   /* U64, U8: value; BYTES, CHUNK: length; arrays: count */
};

/* One message type: its fields in wire order after [version, type]. */
struct proto_msg_desc {
	const char *name; /* NULL: no such type */
	uint8_t n_fields;
	const struct proto_field *fields;
};

/* A family of messages sharing one C struct. */
struct proto_family {
	const char *name;
	const struct proto_msg_desc *types; /* indexed by type, [0] unused */
	uint8_t type_max;
	size_t msg_size;
	size_t type_off; /* of the uint8_t that holds the type */
	uint8_t version; /* the first element of every frame: PROTO_VERSION, PROTO_KV_VERSION */
};

extern const struct proto_family proto_family_raft;
extern const struct proto_family proto_family_local;
extern const struct proto_family proto_family_kv;

/* The bytes of a message at a field's offset. */
static inline void *proto_field_ptr(void *msg, size_t off)
{
	return (uint8_t *)msg + off;
}

static inline const void *proto_field_cptr(const void *msg, size_t off)
{
	return (const uint8_t *)msg + off;
}

/* The type's description, or NULL when type is out of range. */
const struct proto_msg_desc *proto_table_find(const struct proto_family *f, uint8_t type);

/*
 * Appends [PROTO_VERSION, type, fields...] of msg. Returns 0, KV_EINVAL (type
 * or a field out of its range, bytes without a pointer), KV_ETOOLARGE or
 * KV_ENOMEM; on error out is unchanged.
 */
int proto_codec_encode(const struct proto_family *f, const void *msg, struct proto_buf *out);

/*
 * Decodes one whole frame into msg (zeroed first, so fields the type does not
 * use stay zero). Arrays come from arena (may be NULL if the family has
 * none). Returns 0, KV_EPROTO or KV_ENOMEM.
 */
int proto_codec_decode(const struct proto_family *f, const uint8_t *buf, size_t len, void *msg,
                       struct proto_arena *arena);

/* 1 when a and b have the same type and the same values in its fields (bytes by content). */
int proto_codec_equal(const struct proto_family *f, const void *a, const void *b);

/*
 * The kinds that nest (ENTRIES, MEMBERS, ITEMS, CONFIG, CHUNK), in
 * proto_codec_arrays.c. Same results as the whole-message calls; encode
 * returns KV_EINVAL for a bad element (the caller fails the writer).
 */
struct proto_reader;
struct proto_writer;
int proto_codec_encode_nested(const struct proto_field *fd, const void *msg,
                              struct proto_writer *w);
int proto_codec_decode_nested(const struct proto_field *fd, void *msg, struct proto_reader *r,
                              struct proto_arena *arena);
int proto_codec_equal_nested(const struct proto_field *fd, const void *a, const void *b);

#endif
