/*
 * proto_test_util.h - what tests/unit/test_proto.c and test_proto_gen.c
 * share: arenas, a sample of every message of every family (peer and local
 * messages from proto_sample.h, so from proto_messages.h), field-by-field
 * comparison expanded from the same lists, and encode/decode helpers.
 * Test support only; each test binary gets its own copy of the statics.
 */
#ifndef RAFTKV_PROTO_TEST_UTIL_H
#define RAFTKV_PROTO_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "kv_limits.h"
#include "proto.h"
#include "proto_sample.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#define T_ARENA_BYTES PROTO_LOCAL_ARENA_BYTES

static uint8_t t_arena_mem[T_ARENA_BYTES] __attribute__((aligned(16)));
static uint8_t t_arena_mem2[T_ARENA_BYTES] __attribute__((aligned(16)));

static inline struct proto_arena *t_arena(void)
{
	static struct proto_arena a;

	proto_arena_init(&a, t_arena_mem, sizeof(t_arena_mem));
	return &a;
}

static inline struct proto_arena *t_arena2(void)
{
	static struct proto_arena a;

	proto_arena_init(&a, t_arena_mem2, sizeof(t_arena_mem2));
	return &a;
}

static inline struct proto_bytes t_bytes(const char *s)
{
	return (struct proto_bytes){(const uint8_t *)s, (uint32_t)strlen(s)};
}

static inline int t_bytes_same(struct proto_bytes a, struct proto_bytes b)
{
	return a.len == b.len && (!a.len || !memcmp(a.ptr, b.ptr, a.len));
}

static inline int t_entries_same(const struct raft_entry *a, const struct raft_entry *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (a[i].term != b[i].term || a[i].index != b[i].index || a[i].type != b[i].type ||
		    a[i].len != b[i].len || (a[i].len && memcmp(a[i].data, b[i].data, a[i].len)))
			return 0;
	}
	return 1;
}

/* Decodes frame with msgpack-c: it must be one complete msgpack array [version, type, ...]. */
static inline void t_check_msgpack(const struct proto_buf *b, uint64_t version, uint8_t type)
{
	msgpack_unpacked u;
	size_t off = 0;

	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, (const char *)b->ptr, b->len, &off),
	                 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, b->len);
	assert_int_equal(u.data.type, MSGPACK_OBJECT_ARRAY);
	assert_true(u.data.via.array.size >= 2);
	assert_int_equal(u.data.via.array.ptr[0].via.u64, version);
	assert_int_equal(u.data.via.array.ptr[1].via.u64, type);
	msgpack_unpacked_destroy(&u);
}

/* ---- Samples: every field of the struct set, valid for every type ---------- */

static const char t_data0[] = "put k1 v1";
static const char t_data2[] = "a somewhat longer payload that needs a bin8 length";
static uint8_t t_chunk[300];

static struct raft_entry t_entries[3] = {
    {.term = 7,
     .index = 101,
     .type = RAFT_ENTRY_COMMAND,
     .len = sizeof(t_data0) - 1,
     .data = (const uint8_t *)t_data0},
    {.term = 7, .index = 102, .type = RAFT_ENTRY_NOOP, .len = 0, .data = NULL},
    {.term = 8,
     .index = 103,
     .type = RAFT_ENTRY_CONFIG,
     .len = sizeof(t_data2) - 1,
     .data = (const uint8_t *)t_data2},
};

static const struct raft_config t_config = {
    .n = 3,
    .members = {{1, RAFT_VOTER, 0, 77}, {2, RAFT_VOTER, 0, 0}, {9, RAFT_LEARNER, 1, UINT64_MAX}}};

/* A peer message of type with every field set (proto_sample.h, from proto_messages.h). */
static inline void t_raft_full(uint8_t type, struct raft_msg *m)
{
	struct proto_sample s = {.entries = t_entries,
	                         .n_entries = 3,
	                         .seq = 2,
	                         .config = &t_config,
	                         .chunk = t_chunk,
	                         .chunk_len = sizeof(t_chunk)};

	for (size_t i = 0; i < sizeof(t_chunk); i++)
		t_chunk[i] = (uint8_t)(i * 7 + 3);
	proto_sample_raft(&s, type, m);
}

static inline void t_same_config(const struct raft_config *a, const struct raft_config *b)
{
	assert_int_equal(a->n, b->n);
	for (uint32_t i = 0; i < a->n; i++) {
		assert_int_equal(a->members[i].id, b->members[i].id);
		assert_int_equal(a->members[i].role, b->members[i].role);
		assert_int_equal(a->members[i].flags, b->members[i].flags);
		assert_int_equal(a->members[i].incarnation, b->members[i].incarnation);
	}
}

static struct proto_member t_members[3];
static struct proto_item t_items[3];
static struct raft_entry t_apply_entries[3];
static uint8_t t_sample_bytes[64];

/* A message of type with every field set (proto_sample.h, from proto_messages.h). */
static inline void t_local_full(uint8_t type, struct proto_local *m)
{
	struct proto_sample s = {.entries = t_apply_entries,
	                         .n_entries = 3,
	                         .members = t_members,
	                         .n_members = 3,
	                         .items = t_items,
	                         .n_items = 3,
	                         .bytes = t_sample_bytes,
	                         .seq = 1000};

	t_members[0] = (struct proto_member){1, RAFT_VOTER, t_bytes("10.0.0.1:7001"),
	                                     t_bytes("http://10.0.0.1:8001")};
	t_members[1] = (struct proto_member){2, RAFT_VOTER, t_bytes("10.0.0.2:7001"), t_bytes("")};
	t_members[2] = (struct proto_member){3, RAFT_LEARNER, t_bytes(""), t_bytes("http://n3")};
	t_items[0] = (struct proto_item){t_bytes("a"), t_bytes("1"), 5, 9, 0};
	t_items[1] = (struct proto_item){t_bytes("b/c"), t_bytes(""), 6, 6, 0};
	t_items[2] = (struct proto_item){t_bytes("b/d"), t_bytes(t_data2), 7, 10, 42};
	memcpy(t_apply_entries, t_entries, sizeof(t_entries));
	for (size_t i = 0; i < sizeof(t_sample_bytes); i++)
		t_sample_bytes[i] = (uint8_t)('a' + i % 26);
	proto_sample_local(&s, type, m);
}

static inline void t_same_members(const struct proto_member *a, const struct proto_member *b,
                                  uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(a[i].id, b[i].id);
		assert_int_equal(a[i].role, b[i].role);
		assert_true(t_bytes_same(a[i].addr, b[i].addr));
		assert_true(t_bytes_same(a[i].url, b[i].url));
	}
}

static inline void t_same_items(const struct proto_item *a, const struct proto_item *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		assert_true(t_bytes_same(a[i].key, b[i].key));
		assert_true(t_bytes_same(a[i].value, b[i].value));
		assert_int_equal(a[i].create_index, b[i].create_index);
		assert_int_equal(a[i].mod_index, b[i].mod_index);
		assert_int_equal(a[i].flags, b[i].flags);
	}
}

/* Field by field, as proto_messages.h lists them: a##X and b##X are the two structs. */
#define T_SAME_U64(X, name)    assert_int_equal(a##X->name, b##X->name);
#define T_SAME_U8(X, name)     assert_int_equal(a##X->name, b##X->name);
#define T_SAME_STATUS(X, name) assert_int_equal(a##X->name, b##X->name);
#define T_SAME_BYTES(X, name)  assert_true(t_bytes_same(a##X->name, b##X->name));
#define T_SAME_ENTRIES(X, name)                                                                    \
	assert_int_equal(a##X->n_##name, b##X->n_##name);                                          \
	assert_true(t_entries_same(a##X->name, b##X->name, a##X->n_##name));
#define T_SAME_MEMBERS(X, name)                                                                    \
	assert_int_equal(a##X->n_##name, b##X->n_##name);                                          \
	t_same_members(a##X->name, b##X->name, a##X->n_##name);
#define T_SAME_ITEMS(X, name)                                                                      \
	assert_int_equal(a##X->n_##name, b##X->n_##name);                                          \
	t_same_items(a##X->name, b##X->name, a##X->n_##name);
#define T_SAME(X, KIND, name, lo, hi, doc) T_SAME_##KIND(X, name)

static inline void t_assert_local_same(const struct proto_local *a, const struct proto_local *b)
{
	const struct proto_local *ah = a, *bh = b;

	assert_int_equal(a->type, b->type);
	PROTO_LOCAL_HEADER(T_SAME, h)
	switch (a->type) {
#define T_SAME_CASE(NAME, name, doc)                                                               \
	case PROTO_##NAME: {                                                                       \
		const struct proto_##name *ab = &a->u.name, *bb = &b->u.name;                      \
		PROTO_LOCAL_##NAME(T_SAME, b)(void) ab, (void)bb;                                  \
		break;                                                                             \
	}
		PROTO_LOCAL_MESSAGES(T_SAME_CASE)
#undef T_SAME_CASE
	default:
		fail_msg("unknown local type %u", a->type);
	}
}

#define T_SAME_CONFIG(X, name) t_same_config(&a##X->name, &b##X->name);
#define T_SAME_CHUNK(X, name)                                                                      \
	assert_int_equal(a##X->name##_len, b##X->name##_len);                                      \
	if (a##X->name##_len)                                                                      \
		assert_memory_equal(a##X->name, b##X->name, a##X->name##_len);

static inline void t_assert_raft_same(const struct raft_msg *a, const struct raft_msg *b)
{
	const struct raft_msg *ah = a, *bh = b;

	assert_int_equal(a->type, b->type);
	PROTO_RAFT_HEADER(T_SAME, h)
	switch (a->type) {
#define T_SAME_CASE(NAME, BODY, body, doc)                                                         \
	case RAFT_MSG_##NAME: {                                                                    \
		const struct raft_##body *ab = &a->u.body, *bb = &b->u.body;                       \
		PROTO_RAFT_##BODY(T_SAME, b)(void) ab, (void)bb;                                   \
		break;                                                                             \
	}
		PROTO_RAFT_MESSAGES(T_SAME_CASE)
#undef T_SAME_CASE
	default:
		fail_msg("unknown raft type %u", a->type);
	}
}

static inline void t_kv_full(uint8_t op, struct proto_kv_cmd *c)
{
	*c = (struct proto_kv_cmd){
	    .op = op,
	    .origin = 3,
	    .req_id = 0x1122334455667788ull,
	    .key = t_bytes("users/7"),
	    .value = t_bytes(t_data2),
	    .cond = PROTO_COND_IF_MATCH,
	    .cond_index = 4242,
	    .idem_key = t_bytes("7c1e9f3a-idem"),
	    .flags = op == PROTO_KV_PUT_FLAGS ? 0xf1a9 : 0, /* PUT_FLAGS only */
	    .ttl_ms = op == PROTO_KV_LEASE_GRANT ? KV_LEASE_TTL_MS_MIN : 0,
	    .lease = op == PROTO_KV_LEASE_REVOKE || op == PROTO_KV_LEASE_EXPIRE ? 0x77 : 0,
	    .term = op == PROTO_KV_LEASE_EXPIRE ? 0x55 : 0,
	};
}

/* Clears the fields op does not carry on the wire (what a decode gives back as 0). */
static inline void t_kv_own_fields(uint8_t op, struct proto_kv_cmd *c)
{
	int keyed = op == PROTO_KV_PUT || op == PROTO_KV_DELETE || op == PROTO_KV_DELETE_PREFIX ||
	            op == PROTO_KV_PUT_FLAGS;
	if (!keyed) {
		c->key = (struct proto_bytes){0};
		c->cond = 0;
		c->cond_index = 0;
	}
	if (op != PROTO_KV_PUT && op != PROTO_KV_PUT_FLAGS && op != PROTO_KV_TXN)
		c->value = (struct proto_bytes){0};
	if (op != PROTO_KV_PUT_FLAGS)
		c->flags = 0;
	if (!keyed && op != PROTO_KV_TXN && op != PROTO_KV_LEASE_GRANT)
		c->idem_key = (struct proto_bytes){0};
	if (op != PROTO_KV_LEASE_GRANT)
		c->ttl_ms = 0;
	if (op != PROTO_KV_LEASE_REVOKE && op != PROTO_KV_LEASE_EXPIRE)
		c->lease = 0;
	if (op != PROTO_KV_LEASE_EXPIRE)
		c->term = 0;
}

static inline void t_assert_kv_same(const struct proto_kv_cmd *a, const struct proto_kv_cmd *b)
{
	assert_int_equal(a->op, b->op);
	assert_int_equal(a->origin, b->origin);
	assert_int_equal(a->req_id, b->req_id);
	assert_true(t_bytes_same(a->key, b->key));
	assert_true(t_bytes_same(a->value, b->value));
	assert_int_equal(a->cond, b->cond);
	assert_int_equal(a->cond_index, b->cond_index);
	assert_true(t_bytes_same(a->idem_key, b->idem_key));
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->ttl_ms, b->ttl_ms);
	assert_int_equal(a->lease, b->lease);
	assert_int_equal(a->term, b->term);
}

/* Encodes the sample of family fam ('r', 'l', 'k') and type into out. */
static inline void t_encode_sample(char fam, uint8_t type, struct proto_buf *out)
{
	struct raft_msg rm;
	struct proto_local lm;
	struct proto_kv_cmd kc;

	proto_buf_reset(out);
	if (fam == 'r') {
		t_raft_full(type, &rm);
		assert_int_equal(proto_raft_encode(&rm, out), 0);
	} else if (fam == 'l') {
		t_local_full(type, &lm);
		assert_int_equal(proto_local_encode(&lm, out), 0);
	} else {
		t_kv_full(type, &kc);
		assert_int_equal(proto_kv_cmd_encode(&kc, out), 0);
	}
}

/* Decodes len bytes of frame (copied to a buffer of exactly len bytes, so ASan sees overreads). */
static inline int t_decode(char fam, const uint8_t *frame, size_t len)
{
	uint8_t *copy = len ? malloc(len) : NULL;
	struct raft_msg rm;
	struct proto_local lm;
	struct proto_kv_cmd kc;
	int err;

	if (len) {
		assert_non_null(copy);
		memcpy(copy, frame, len);
	}
	if (fam == 'r')
		err = proto_raft_decode(copy, len, &rm, t_arena());
	else if (fam == 'l')
		err = proto_local_decode(copy, len, &lm, t_arena());
	else
		err = proto_kv_cmd_decode(copy, len, &kc);
	free(copy);
	return err;
}

#endif
