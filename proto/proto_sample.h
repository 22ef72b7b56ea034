/*
 * proto_sample.h - test support (tests/unit, tests/fuzz; not in libproto):
 * a message of any peer, local or kv type with every field set to a valid value,
 * expanded from proto_messages.h, so a new message or field is sampled
 * without being named here.
 *
 * Scalars take distinct values (a running sequence clamped to the field's
 * range), U8 fields their maximum, STATUS KV_ECONDITION, byte strings a
 * prefix of the caller's bytes of a length inside the range, arrays the
 * caller's arrays (which must be valid and within every array field's max),
 * CONFIG the caller's configuration, CHUNK the caller's chunk. A peer
 * message's fields that must agree (an APPEND's prev_index and its first
 * entry, a SNAPSHOT's chunk inside snap_size) are made to agree afterwards.
 * The message borrows every pointer from struct proto_sample.
 */
#ifndef RAFTKV_PROTO_SAMPLE_H
#define RAFTKV_PROTO_SAMPLE_H

#include "kv_err.h"
#include "proto.h"

#include <string.h>

struct proto_sample {
	struct raft_entry *entries; /* borrowed, for ENTRIES fields */
	uint32_t n_entries;
	struct proto_member *members; /* borrowed, for MEMBERS fields */
	uint32_t n_members;
	struct proto_item *items; /* borrowed, for ITEMS fields */
	uint32_t n_items;
	const uint8_t *bytes;             /* borrowed, for BYTES fields: at least 64 bytes */
	uint64_t seq;                     /* the next scalar value */
	const struct raft_config *config; /* borrowed, for CONFIG fields */
	const uint8_t *chunk;             /* borrowed, for CHUNK fields: chunk_len bytes */
	uint32_t chunk_len;
};

static inline uint64_t proto_sample_clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static inline struct proto_bytes proto_sample_bytes(struct proto_sample *s, uint64_t lo,
                                                    uint64_t hi)
{
	uint64_t len = proto_sample_clamp(8 + s->seq++ % 48, lo, hi);

	return (struct proto_bytes){s->bytes, (uint32_t)len};
}

#define PROTO_SAMPLE_U64(s, p, name, lo, hi)    (p)->name = proto_sample_clamp((s)->seq++, lo, hi);
#define PROTO_SAMPLE_U8(s, p, name, lo, hi)     (p)->name = (uint8_t)(hi);
#define PROTO_SAMPLE_STATUS(s, p, name, lo, hi) (p)->name = KV_ECONDITION;
#define PROTO_SAMPLE_BYTES(s, p, name, lo, hi)  (p)->name = proto_sample_bytes(s, lo, hi);
#define PROTO_SAMPLE_ENTRIES(s, p, name, lo, hi)                                                   \
	(p)->n_##name = (s)->n_entries;                                                            \
	(p)->name = (s)->entries;
#define PROTO_SAMPLE_MEMBERS(s, p, name, lo, hi)                                                   \
	(p)->n_##name = (s)->n_members;                                                            \
	(p)->name = (s)->members;
#define PROTO_SAMPLE_ITEMS(s, p, name, lo, hi)                                                     \
	(p)->n_##name = (s)->n_items;                                                              \
	(p)->name = (s)->items;
#define PROTO_SAMPLE_CONFIG(s, p, name, lo, hi) (p)->name = *(s)->config;
#define PROTO_SAMPLE_CHUNK(s, p, name, lo, hi)                                                     \
	(p)->name##_len = (s)->chunk_len;                                                          \
	(p)->name = (s)->chunk;
/* Uses the struct proto_sample *s in scope. */
#define PROTO_SAMPLE_FIELD(p, KIND, name, lo, hi, doc) PROTO_SAMPLE_##KIND(s, p, name, lo, hi)

/* Fills m as a message of type (0 or out of range: the header only). */
static inline void proto_sample_local(struct proto_sample *s, uint8_t type, struct proto_local *m)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	PROTO_LOCAL_HEADER(PROTO_SAMPLE_FIELD, m)
	switch (type) {
#define PROTO_SAMPLE_LOCAL(NAME, name, doc)                                                        \
	case PROTO_##NAME: {                                                                       \
		struct proto_##name *b = &m->u.name;                                               \
		(void)b; /* unused when the type has no fields */                                  \
		PROTO_LOCAL_##NAME(PROTO_SAMPLE_FIELD, b) break;                                   \
	}
		PROTO_LOCAL_MESSAGES(PROTO_SAMPLE_LOCAL)
#undef PROTO_SAMPLE_LOCAL
	default:
		break;
	}
}

/* Fills m as a peer message of type (0 or out of range: the header only). */
static inline void proto_sample_raft(struct proto_sample *s, uint8_t type, struct raft_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	PROTO_RAFT_HEADER(PROTO_SAMPLE_FIELD, m)
	switch (type) {
#define PROTO_SAMPLE_RAFT(NAME, BODY, body, doc)                                                   \
	case RAFT_MSG_##NAME: {                                                                    \
		struct raft_##body *b = &m->u.body;                                                \
		(void)b; /* unused when the type has no fields */                                  \
		PROTO_RAFT_##BODY(PROTO_SAMPLE_FIELD, b) break;                                    \
	}
		PROTO_RAFT_MESSAGES(PROTO_SAMPLE_RAFT)
#undef PROTO_SAMPLE_RAFT
	default:
		break;
	}
	/* The rules of proto_raft.c that tie fields together. */
	if (type == RAFT_MSG_APPEND && m->u.append.n_entries > 0)
		m->u.append.prev_index = m->u.append.entries[0].index - 1;
	/* The largest snap_size: a chunk past its max is refused for that, not for the size. */
	if (type == RAFT_MSG_SNAPSHOT)
		m->u.snapshot.snap_size = UINT64_MAX;
}

/* Fills c as a command of op (0 or out of range: the header only). */
static inline void proto_sample_kv(struct proto_sample *s, uint8_t op, struct proto_kv_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->op = op;
	PROTO_KV_HEADER(PROTO_SAMPLE_FIELD, c)
	switch (op) {
#define PROTO_SAMPLE_KV(NAME, name, doc)                                                           \
	case PROTO_KV_##NAME:                                                                      \
		PROTO_KV_##NAME(PROTO_SAMPLE_FIELD, c) break;
		PROTO_KV_MESSAGES(PROTO_SAMPLE_KV)
#undef PROTO_SAMPLE_KV
	default:
		break;
	}
}

#endif
