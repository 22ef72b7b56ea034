/*
 * test_proto.c - the hand-written cases of proto/'s codecs: the largest
 * messages, UINT64_MAX values, encode appending and failing cleanly, and
 * the rejection of hostile frames: truncation at every length, zero length,
 * wrong version or type, 0xFFFFFFFF counts, deep nesting, a wrong msgpack
 * type in place of every element, broken entry sequences, overflowing index
 * arithmetic and corrupted snapshot chunks.
 *
 * Hostile frames are built with msgpack-c, an encoder independent of ours.
 * The tests generated from proto_messages.h (every type of every family
 * sampled, round-tripped, packed by msgpack-c and broken field by field)
 * are in test_proto_gen.c; the helpers both share in proto_test_util.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_crc32c.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "proto.h"
#include "proto_reader.h"
#include "proto_sample.h"
#include "proto_test_util.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Terms and indexes of UINT64_MAX are values like any other: the core judges them. */
static void test_uint64_max_values_accepted(void **state)
{
	struct raft_entry e = {UINT64_MAX, UINT64_MAX, RAFT_ENTRY_NOOP, 0, NULL};
	struct raft_msg m = {.type = RAFT_MSG_APPEND,
	                     .from = UINT64_MAX,
	                     .to = 1,
	                     .term = UINT64_MAX,
	                     .u.append = {.prev_index = UINT64_MAX - 1,
	                                  .prev_term = UINT64_MAX,
	                                  .commit = UINT64_MAX,
	                                  .seq = UINT64_MAX,
	                                  .n_entries = 1,
	                                  .entries = &e}};
	struct proto_buf b = {0};
	struct raft_msg got;

	assert_int_equal(proto_raft_encode(&m, &b), 0);
	assert_int_equal(proto_raft_decode(b.ptr, b.len, &got, t_arena()), 0);
	t_assert_raft_same(&m, &got);
	print_message("APPEND with term, commit, seq and entry index UINT64_MAX decodes as sent\n");
	proto_buf_free(&b);
}

/* Two encodes into one buffer append; a failed encode leaves the buffer as it was. */
static void test_encode_appends_and_fails_cleanly(void **state)
{
	struct raft_msg m, bad;
	struct proto_buf b = {0};
	size_t one;

	t_raft_full(RAFT_MSG_VOTE, &m);
	assert_int_equal(proto_raft_encode(&m, &b), 0);
	one = b.len;
	t_raft_full(RAFT_MSG_APPEND, &bad);
	t_entries[1].index = 200; /* not consecutive */
	assert_int_equal(proto_raft_encode(&bad, &b), KV_EINVAL);
	t_entries[1].index = 102;
	assert_int_equal(b.len, one);
	assert_int_equal(proto_raft_encode(&m, &b), 0);
	assert_int_equal(b.len, 2 * one);
	assert_memory_equal(b.ptr, b.ptr + one, one);
	proto_buf_free(&b);
	assert_null(b.ptr);
	proto_buf_free(&b); /* twice is fine */
	print_message("encode appends; a refused encode appends nothing\n");
}

/* ---- Largest messages ----------------------------------------------------------- */

static void test_raft_max_sizes(void **state)
{
	static struct raft_entry e[RAFT_APPEND_ENTRIES_MAX + 1];
	static uint8_t payload[RAFT_APPEND_BYTES_MAX / RAFT_APPEND_ENTRIES_MAX];
	static uint8_t chunk[RAFT_SNAPSHOT_CHUNK_BYTES + 1];
	struct raft_msg m = {.type = RAFT_MSG_APPEND,
	                     .from = 1,
	                     .to = 2,
	                     .term = 3,
	                     .u.append = {.prev_index = 10, .entries = e}};
	struct raft_append *ap = &m.u.append;
	struct raft_snapshot *sn = &m.u.snapshot;
	struct proto_buf b = {0};
	struct raft_msg got;
	uint8_t small[(RAFT_APPEND_ENTRIES_MAX - 1) * sizeof(struct raft_entry)];
	struct proto_arena a;

	memset(payload, 0x5a, sizeof(payload));
	for (uint32_t i = 0; i <= RAFT_APPEND_ENTRIES_MAX; i++)
		e[i] = (struct raft_entry){3, 11 + i, RAFT_ENTRY_COMMAND, sizeof(payload), payload};
	ap->n_entries = RAFT_APPEND_ENTRIES_MAX;
	assert_int_equal(proto_raft_encode(&m, &b), 0);
	assert_int_equal(proto_raft_decode(b.ptr, b.len, &got, t_arena()), 0);
	t_assert_raft_same(&m, &got);
	print_message("APPEND of %u entries x %zu bytes: %zu bytes, round trips\n",
	              RAFT_APPEND_ENTRIES_MAX, sizeof(payload), b.len);
	proto_arena_init(&a, small, sizeof(small));
	assert_int_equal(proto_raft_decode(b.ptr, b.len, &got, &a), KV_ENOMEM);
	assert_int_equal(proto_raft_decode(b.ptr, b.len, &got, NULL), KV_ENOMEM);
	print_message("  arena one entry short: KV_ENOMEM\n");
	ap->n_entries = RAFT_APPEND_ENTRIES_MAX + 1;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	print_message("  %u entries: encode refuses (KV_EINVAL)\n", RAFT_APPEND_ENTRIES_MAX + 1);

	t_raft_full(RAFT_MSG_SNAPSHOT, &m);
	sn->snap_config.n = RAFT_NODES_MAX;
	for (uint32_t i = 0; i < RAFT_NODES_MAX; i++)
		sn->snap_config.members[i] = (struct raft_member){.id = 100 + i, .role = 1 + i % 2};
	sn->chunk = chunk, sn->chunk_len = RAFT_SNAPSHOT_CHUNK_BYTES;
	sn->offset = 0, sn->snap_size = RAFT_SNAPSHOT_CHUNK_BYTES;
	proto_buf_reset(&b);
	assert_int_equal(proto_raft_encode(&m, &b), 0);
	assert_int_equal(proto_raft_decode(b.ptr, b.len, &got, t_arena()), 0);
	t_assert_raft_same(&m, &got);
	print_message("SNAPSHOT with a %u-byte chunk and %u members round trips\n",
	              RAFT_SNAPSHOT_CHUNK_BYTES, RAFT_NODES_MAX);
	sn->chunk_len++, sn->snap_size++;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	sn->chunk_len--, sn->snap_size--;
	sn->snap_config.n = RAFT_NODES_MAX + 1;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	print_message("  chunk one byte over, or %u members: encode refuses\n", RAFT_NODES_MAX + 1);
	proto_buf_free(&b);
}

static void test_local_max_sizes(void **state)
{
	static struct raft_entry e[PROTO_APPLY_ENTRIES_MAX + 1];
	static struct proto_item items[PROTO_LIST_ITEMS_MAX + 1];
	static struct proto_member mem[RAFT_NODES_MAX + 1];
	static uint8_t key[KV_KEY_BYTES_MAX], addr[PROTO_ADDR_BYTES_MAX + 1],
	    url[PROTO_URL_BYTES_MAX + 1];
	struct proto_local m = {.type = PROTO_APPLY, .req_id = 1, .u.apply.entries = e}, got;
	struct proto_buf b = {0};

	for (uint32_t i = 0; i <= PROTO_APPLY_ENTRIES_MAX; i++)
		e[i] = (struct raft_entry){1, 1 + i, RAFT_ENTRY_NOOP, 0, NULL};
	m.u.apply.n_entries = PROTO_APPLY_ENTRIES_MAX;
	assert_int_equal(proto_local_encode(&m, &b), 0);
	assert_int_equal(proto_local_decode(b.ptr, b.len, &got, t_arena()), 0);
	t_assert_local_same(&m, &got);
	m.u.apply.n_entries++;
	assert_int_equal(proto_local_encode(&m, &b), KV_EINVAL);
	print_message("APPLY of %u entries round trips; one more is refused\n",
	              PROTO_APPLY_ENTRIES_MAX);

	memset(key, 'k', sizeof(key));
	for (uint32_t i = 0; i <= PROTO_LIST_ITEMS_MAX; i++)
		items[i] = (struct proto_item){{key, KV_KEY_BYTES_MAX}, {key, 100}, i, i + 1, i};
	m = (struct proto_local){
	    .type = PROTO_LIST_RESP,
	    .u.list_resp = {.n_items = PROTO_LIST_ITEMS_MAX, .items = items, .more = 1}};
	proto_buf_reset(&b);
	assert_int_equal(proto_local_encode(&m, &b), 0);
	assert_int_equal(proto_local_decode(b.ptr, b.len, &got, t_arena()), 0);
	t_assert_local_same(&m, &got);
	m.u.list_resp.n_items++;
	assert_int_equal(proto_local_encode(&m, &b), KV_EINVAL);
	print_message("LIST_RESP of %u items with %u-byte keys round trips; one more is refused\n",
	              PROTO_LIST_ITEMS_MAX, KV_KEY_BYTES_MAX);

	memset(addr, 'a', sizeof(addr));
	memset(url, 'u', sizeof(url));
	for (uint32_t i = 0; i <= RAFT_NODES_MAX; i++)
		mem[i] = (struct proto_member){
		    i + 1, RAFT_VOTER, {addr, PROTO_ADDR_BYTES_MAX}, {url, PROTO_URL_BYTES_MAX}};
	m = (struct proto_local){
	    .type = PROTO_STATUS_RESP,
	    .u.status_resp = {.role = RAFT_FOLLOWER, .n_members = RAFT_NODES_MAX, .members = mem}};
	proto_buf_reset(&b);
	assert_int_equal(proto_local_encode(&m, &b), 0);
	assert_int_equal(proto_local_decode(b.ptr, b.len, &got, t_arena()), 0);
	t_assert_local_same(&m, &got);
	m.u.status_resp.n_members++;
	assert_int_equal(proto_local_encode(&m, &b), KV_EINVAL);
	m.u.status_resp.n_members--;
	mem[0].addr.len++;
	assert_int_equal(proto_local_encode(&m, &b), KV_EINVAL);
	mem[0].addr.len--;
	mem[1].url.len++;
	assert_int_equal(proto_local_encode(&m, &b), KV_EINVAL);
	print_message("STATUS_RESP of %u members with %u-byte addresses and %u-byte URLs round "
	              "trips; a 10th member, a longer address or a longer URL is refused\n",
	              RAFT_NODES_MAX, PROTO_ADDR_BYTES_MAX, PROTO_URL_BYTES_MAX);
	proto_buf_free(&b);
}

/* A frame may be KV_MSG_BYTES_MAX bytes, not one more, on either side. */
static void test_frame_size_limit(void **state)
{
	/* [1, PROPOSE, req_id 7, bin32 header]: 1 + 1 + 1 + 1 + 5 bytes before the data. */
	const size_t head = 9;
	uint8_t *data = calloc(1, KV_MSG_BYTES_MAX + 1);
	struct proto_local m = {.type = PROTO_PROPOSE, .req_id = 7}, got;
	struct proto_buf b = {0};

	assert_non_null(data);
	m.u.propose.data = (struct proto_bytes){data, KV_MSG_BYTES_MAX - head};
	assert_int_equal(proto_local_encode(&m, &b), 0);
	assert_int_equal(b.len, KV_MSG_BYTES_MAX);
	assert_int_equal(proto_local_decode(b.ptr, b.len, &got, t_arena()), 0);
	assert_int_equal(got.u.propose.data.len, KV_MSG_BYTES_MAX - head);
	proto_buf_reset(&b);
	m.u.propose.data.len++;
	assert_int_equal(proto_local_encode(&m, &b), KV_ETOOLARGE);
	assert_int_equal(b.len, 0);
	/* The decoder refuses a longer frame before looking at it. */
	assert_int_equal(proto_local_decode(data, KV_MSG_BYTES_MAX + 1, &got, t_arena()),
	                 KV_EPROTO);
	print_message("a %u-byte frame encodes and decodes; one byte more: KV_ETOOLARGE on "
	              "encode, KV_EPROTO on decode\n",
	              KV_MSG_BYTES_MAX);
	proto_buf_free(&b);
	free(data);
}

static void test_kv_limits_on_encode(void **state)
{
	static uint8_t big[KV_VALUE_BYTES_MAX_LIMIT + 1];
	struct proto_kv_cmd c, got;
	struct proto_buf b = {0};

	t_kv_full(PROTO_KV_PUT, &c);
	c.key = (struct proto_bytes){big, KV_KEY_BYTES_MAX};
	c.value = (struct proto_bytes){big, KV_VALUE_BYTES_MAX_LIMIT};
	c.idem_key = (struct proto_bytes){big, KV_IDEMPOTENCY_KEY_BYTES_MAX};
	assert_int_equal(proto_kv_cmd_encode(&c, &b), 0);
	assert_int_equal(proto_kv_cmd_decode(b.ptr, b.len, &got), 0);
	t_assert_kv_same(&c, &got);
	print_message(
	    "PUT with a %u-byte key, %u-byte value, %u-byte idempotency key round trips\n",
	    KV_KEY_BYTES_MAX, KV_VALUE_BYTES_MAX_LIMIT, KV_IDEMPOTENCY_KEY_BYTES_MAX);
	proto_buf_reset(&b); /* each refused encode below must fail on its own field */
	c.key.len++;
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	c.key.len = 0;
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	c.key.len = 1;
	c.value.len++;
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	c.value.len--;
	c.idem_key.len++;
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	c.idem_key.len--;
	c.cond = PROTO_COND_IF_NONE_MATCH + 1;
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	c.cond = PROTO_COND_NONE;
	c.op = 0;
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	c.op = PROTO_KV_OP_MAX + 1;
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	c.op = PROTO_KV_PUT;
	c.key.ptr = NULL;
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	print_message("  refused on encode: key of 0 or %u bytes, value or idempotency key one "
	              "byte over, cond 3, op 0 and 3, key bytes without a pointer\n",
	              KV_KEY_BYTES_MAX + 1);
	proto_buf_free(&b);
}

/* Data only a bug (or the outside) can produce is refused before it is sent. */
static void test_raft_and_local_refused_on_encode(void **state)
{
	struct proto_buf b = {0};
	struct raft_msg m;
	struct proto_local l;

	t_raft_full(0, &m);
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	m.type = RAFT_MSG_TYPE_MAX + 1;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	t_raft_full(RAFT_MSG_VOTE, &m);
	m.u.vote.transfer = 2;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	t_raft_full(RAFT_MSG_VOTE, &m);
	m.from = 0;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	t_raft_full(RAFT_MSG_APPEND, &m);
	t_entries[0].data = NULL; /* the driver forgot to attach the payload */
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	t_entries[0].data = (const uint8_t *)t_data0;
	m.u.append.prev_index = 99;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	t_raft_full(RAFT_MSG_SNAPSHOT, &m);
	m.u.snapshot.offset = m.u.snapshot.snap_size - m.u.snapshot.chunk_len + 1;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	m.u.snapshot.offset = 0, m.u.snapshot.chunk = NULL;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	t_raft_full(RAFT_MSG_SNAPSHOT, &m);
	m.u.snapshot.snap_config.members[1].id = m.u.snapshot.snap_config.members[0].id;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	m.u.snapshot.snap_config.members[1].id = 0;
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);
	m.u.snapshot.snap_config.members[1] =
	    (struct raft_member){.id = 5, .role = RAFT_LEARNER + 1};
	assert_int_equal(proto_raft_encode(&m, &b), KV_EINVAL);

	t_local_full(PROTO_PROPOSE_RESP, &l);
	l.u.propose_resp.status = 1;
	assert_int_equal(proto_local_encode(&l, &b), KV_EINVAL);
	t_local_full(PROTO_STATUS_RESP, &l);
	l.u.status_resp.role = 0;
	assert_int_equal(proto_local_encode(&l, &b), KV_EINVAL);
	t_local_full(PROTO_GET, &l);
	l.u.get.key.len = 0;
	assert_int_equal(proto_local_encode(&l, &b), KV_EINVAL);
	t_local_full(PROTO_LIST_RESP, &l);
	t_items[1].key.len = 0;
	assert_int_equal(proto_local_encode(&l, &b), KV_EINVAL);
	t_local_full(0, &l);
	assert_int_equal(proto_local_encode(&l, &b), KV_EINVAL);
	assert_int_equal(b.len, 0);
	print_message(
	    "refused on encode: type 0 and MAX+1, transfer 2, from 0, entry without data, "
	    "entries not after prev_index, chunk past the snapshot or without bytes, "
	    "duplicate/zero id or bad role in a config, status 1, role 0, empty GET key, "
	    "empty item key, local type 0\n");
	proto_buf_free(&b);
}

/* ---- Hostile frames built with msgpack-c ---------------------------------------- */

#define T_PATH_MAX 4

/* Replace the node at path (element indexes from the root) with repl. */
struct t_edit {
	int path[T_PATH_MAX];
	int depth;
	msgpack_object repl;
};

static msgpack_object t_u(uint64_t v)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER};

	o.via.u64 = v;
	return o;
}

static msgpack_object t_i(int64_t v)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_NEGATIVE_INTEGER};

	o.via.i64 = v;
	return o;
}

static msgpack_object t_bin(const void *p, uint32_t n)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_BIN};

	o.via.bin.ptr = p;
	o.via.bin.size = n;
	return o;
}

static msgpack_object t_arr(msgpack_object *items, uint32_t n)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_ARRAY};

	o.via.array.ptr = items;
	o.via.array.size = n;
	return o;
}

static const struct t_edit *t_edit_at(const struct t_edit *e, int n, const int *path, int depth)
{
	for (int i = 0; i < n; i++) {
		if (e[i].depth == depth && !memcmp(e[i].path, path, sizeof(int) * (size_t)depth))
			return &e[i];
	}
	return NULL;
}

static void t_pack_edited(msgpack_packer *pk, const msgpack_object *o, int *path, int depth,
                          const struct t_edit *e, int n)
{
	const struct t_edit *hit = t_edit_at(e, n, path, depth);

	if (hit) {
		msgpack_pack_object(pk, hit->repl);
		return;
	}
	if (o->type != MSGPACK_OBJECT_ARRAY || depth == T_PATH_MAX) {
		msgpack_pack_object(pk, *o);
		return;
	}
	msgpack_pack_array(pk, o->via.array.size);
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		path[depth] = (int)i;
		t_pack_edited(pk, &o->via.array.ptr[i], path, depth + 1, e, n);
	}
}

/* Decodes the sample of (fam, type) after applying the edits; returns the decoder's result. */
static int t_decode_edited(char fam, uint8_t type, const struct t_edit *e, int n)
{
	struct proto_buf b = {0};
	msgpack_unpacked u;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int path[T_PATH_MAX];
	size_t off = 0;
	int err;

	t_encode_sample(fam, type, &b);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, (const char *)b.ptr, b.len, &off),
	                 MSGPACK_UNPACK_SUCCESS);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	t_pack_edited(&pk, &u.data, path, 0, e, n);
	err = t_decode(fam, (const uint8_t *)sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	msgpack_unpacked_destroy(&u);
	proto_buf_free(&b);
	return err;
}

/* One edit: the element at index i of the top array (depth 1), or deeper. */
#define T_EDIT1(i, obj)       ((struct t_edit){{i}, 1, obj})
#define T_EDIT2(i, j, obj)    ((struct t_edit){{i, j}, 2, obj})
#define T_EDIT3(i, j, k, obj) ((struct t_edit){{i, j, k}, 3, obj})

static int t_one(char fam, uint8_t type, struct t_edit e)
{
	return t_decode_edited(fam, type, &e, 1);
}

static void test_version_and_type_checked(void **state)
{
	/* The unedited rebuild decodes: the edits below are what makes each fail. */
	assert_int_equal(t_decode_edited('r', RAFT_MSG_VOTE, NULL, 0), 0);
	assert_int_equal(t_one('r', RAFT_MSG_VOTE, T_EDIT1(0, t_u(PROTO_VERSION))), 0);
	assert_int_equal(t_one('r', RAFT_MSG_VOTE, T_EDIT1(0, t_u(0))), KV_EPROTO);
	assert_int_equal(t_one('r', RAFT_MSG_VOTE, T_EDIT1(0, t_u(PROTO_VERSION + 1))), KV_EPROTO);
	assert_int_equal(t_one('r', RAFT_MSG_VOTE, T_EDIT1(0, t_u(1))), KV_EPROTO);
	assert_int_equal(t_one('l', PROTO_GET, T_EDIT1(0, t_u(PROTO_VERSION + 1))), KV_EPROTO);
	assert_int_equal(t_one('l', PROTO_GET, T_EDIT1(0, t_u(1))), KV_EPROTO);
	assert_int_equal(t_one('k', PROTO_KV_PUT, T_EDIT1(0, t_u(PROTO_KV_VERSION))), 0);
	assert_int_equal(t_one('k', PROTO_KV_PUT, T_EDIT1(0, t_u(PROTO_KV_VERSION + 1))),
	                 KV_EPROTO);
	print_message("peer and local: version %u accepted, 0, 1 and %u refused; commands: "
	              "version %u accepted, %u refused\n",
	              PROTO_VERSION, PROTO_VERSION + 1, PROTO_KV_VERSION, PROTO_KV_VERSION + 1);
	/* Past each family's last type, and values no uint8 holds. */
	const uint64_t bad_types[] = {0, 255, 256, UINT64_MAX};
	for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		assert_int_equal(t_one('r', RAFT_MSG_TIMEOUT_NOW, T_EDIT1(1, t_u(bad_types[i]))),
		                 KV_EPROTO);
		assert_int_equal(t_one('l', PROTO_STATS_REQ, T_EDIT1(1, t_u(bad_types[i]))),
		                 KV_EPROTO);
		assert_int_equal(t_one('k', PROTO_KV_DELETE, T_EDIT1(1, t_u(bad_types[i]))),
		                 KV_EPROTO);
	}
	assert_int_equal(t_one('r', RAFT_MSG_TIMEOUT_NOW, T_EDIT1(1, t_u(RAFT_MSG_TYPE_MAX + 1))),
	                 KV_EPROTO);
	assert_int_equal(t_one('l', PROTO_STATS_REQ, T_EDIT1(1, t_u(PROTO_LOCAL_TYPE_MAX + 1))),
	                 KV_EPROTO);
	assert_int_equal(t_one('k', PROTO_KV_DELETE, T_EDIT1(1, t_u(PROTO_KV_OP_MAX + 1))),
	                 KV_EPROTO);
	/* Same element count, another type of the family: decodes (as that type). */
	assert_int_equal(t_one('l', PROTO_STATS_REQ, T_EDIT1(1, t_u(PROTO_SNAPSHOT_REQ))), 0);
	/* A known type with another type's element count. */
	assert_int_equal(t_one('r', RAFT_MSG_VOTE, T_EDIT1(1, t_u(RAFT_MSG_VOTE_RESP))), KV_EPROTO);
	assert_int_equal(t_one('k', PROTO_KV_PUT, T_EDIT1(1, t_u(PROTO_KV_DELETE))), KV_EPROTO);
	print_message("types 0, last+1, 255, 256, 2^64-1 refused in each family; a type with "
	              "the wrong element count refused\n");
}

static void test_every_length_truncated(void **state)
{
	struct proto_buf b = {0};
	const struct {
		char fam;
		uint8_t max;
	} fams[] = {{'r', RAFT_MSG_TYPE_MAX}, {'l', PROTO_LOCAL_TYPE_MAX}, {'k', PROTO_KV_OP_MAX}};
	size_t frames = 0, cuts = 0;

	for (size_t f = 0; f < 3; f++) {
		for (uint8_t t = 1; t <= fams[f].max; t++) {
			t_encode_sample(fams[f].fam, t, &b);
			assert_int_equal(t_decode(fams[f].fam, b.ptr, b.len), 0);
			for (size_t len = 0; len < b.len; len++)
				assert_int_equal(t_decode(fams[f].fam, b.ptr, len), KV_EPROTO);
			/* One byte too many is as wrong as one too few. */
			uint8_t *plus = calloc(1, b.len + 1);
			assert_non_null(plus);
			memcpy(plus, b.ptr, b.len);
			assert_int_equal(t_decode(fams[f].fam, plus, b.len + 1), KV_EPROTO);
			free(plus);
			frames++;
			cuts += b.len;
		}
	}
	print_message("%zu frames of every type: all %zu truncations (incl. zero length) and "
	              "one trailing byte refused\n",
	              frames, cuts);
	assert_int_equal(proto_raft_decode(NULL, 0, &(struct raft_msg){0}, t_arena()), KV_EPROTO);
	assert_int_equal(proto_local_decode(NULL, 0, &(struct proto_local){0}, t_arena()),
	                 KV_EPROTO);
	assert_int_equal(proto_kv_cmd_decode(NULL, 0, &(struct proto_kv_cmd){0}), KV_EPROTO);
	print_message("zero-length frames (NULL, 0) refused by all three decoders\n");
	proto_buf_free(&b);
}

/* A wrong msgpack type for a node: wrong for every field kind. */
static msgpack_object t_wrong(int kind, const msgpack_object *orig)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_NIL};

	switch (kind) {
	case 1:
		o.type = MSGPACK_OBJECT_BOOLEAN, o.via.boolean = true;
		break;
	case 2:
		o.type = MSGPACK_OBJECT_FLOAT64, o.via.f64 = 1.5;
		break;
	case 3:
		o.type = MSGPACK_OBJECT_STR, o.via.str.ptr = "x", o.via.str.size = 1;
		break;
	case 4:
		o.type = MSGPACK_OBJECT_MAP, o.via.map.size = 0, o.via.map.ptr = NULL;
		break;
	case 5: /* the neighbouring kind: integers become bin, bin and arrays become a uint */
		if (orig->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    orig->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			o = t_bin("x", 1);
		else
			o = t_u(1);
		break;
	}
	return o;
}

#define T_WRONG_KINDS 6

struct t_sweep {
	char fam;
	uint8_t type;
	size_t nodes, decodes;
};

static void t_sweep_node(struct t_sweep *s, const msgpack_object *o, int *path, int depth)
{
	struct t_edit e = {.depth = depth};

	memcpy(e.path, path, sizeof(int) * (size_t)depth);
	for (int k = 0; k < T_WRONG_KINDS; k++) {
		e.repl = t_wrong(k, o);
		if (t_decode_edited(s->fam, s->type, &e, 1) != KV_EPROTO)
			fail_msg("%c type %u: wrong kind %d at depth %d (last index %d) accepted",
			         s->fam, s->type, k, depth, depth ? path[depth - 1] : -1);
		s->decodes++;
	}
	s->nodes++;
	if (o->type != MSGPACK_OBJECT_ARRAY || depth == T_PATH_MAX)
		return;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		path[depth] = (int)i;
		t_sweep_node(s, &o->via.array.ptr[i], path, depth + 1);
	}
}

/* Every element of every type, at every depth, replaced by each wrong msgpack type. */
static void test_wrong_type_for_every_field(void **state)
{
	const struct {
		char fam;
		uint8_t max;
	} fams[] = {{'r', RAFT_MSG_TYPE_MAX}, {'l', PROTO_LOCAL_TYPE_MAX}, {'k', PROTO_KV_OP_MAX}};
	struct proto_buf b = {0};
	size_t nodes = 0, decodes = 0;

	for (size_t f = 0; f < 3; f++) {
		for (uint8_t t = 1; t <= fams[f].max; t++) {
			struct t_sweep s = {fams[f].fam, t, 0, 0};
			msgpack_unpacked u;
			int path[T_PATH_MAX];
			size_t off = 0;

			t_encode_sample(fams[f].fam, t, &b);
			msgpack_unpacked_init(&u);
			assert_int_equal(msgpack_unpack_next(&u, (const char *)b.ptr, b.len, &off),
			                 MSGPACK_UNPACK_SUCCESS);
			t_sweep_node(&s, &u.data, path, 0);
			msgpack_unpacked_destroy(&u);
			nodes += s.nodes;
			decodes += s.decodes;
		}
	}
	print_message("%zu elements (fields, nested entries/members/items/config and their "
	              "fields) x %d wrong msgpack types: all %zu frames refused\n",
	              nodes, T_WRONG_KINDS, decodes);
	proto_buf_free(&b);
}

/* Counts and lengths of 0xFFFFFFFF (and other lies) in hand-written frames. */
static void test_count_lies(void **state)
{
	/* [1, PUT, origin 3, req 7, key "abc" (bin32), value "", cond 0, cond_index 0, idem ""] */
	uint8_t put[] = {0x99, 1, 1, 3, 7, 0xc6, 0, 0, 0, 3, 'a', 'b', 'c', 0xc4, 0, 0, 0, 0xc4, 0};
	/* [1, APPEND, from 1, to 2, term 3, incarnation 0, cluster 0, prev 0, prev_term 0,
	 * commit 0, seq 0, entries (array32 of 1)] */
	uint8_t app[] = {0x9c, PROTO_VERSION, 1, 1, 2, 3,    0, 0, 0, 0, 0, 0, 0xdd, 0, 0, 0,
	                 1,    0x94,          3, 1, 1, 0xc4, 0};
	struct proto_kv_cmd c;
	struct raft_msg m;

	assert_int_equal(proto_kv_cmd_decode(put, sizeof(put), &c), 0);
	assert_int_equal(c.key.len, 3);
	put[9] = 4; /* one more than the bytes */
	assert_int_equal(proto_kv_cmd_decode(put, sizeof(put), &c), KV_EPROTO);
	memset(put + 6, 0xff, 4);
	assert_int_equal(proto_kv_cmd_decode(put, sizeof(put), &c), KV_EPROTO);
	put[5] = 0xdb; /* str32 0xFFFFFFFF where a bin belongs */
	assert_int_equal(proto_kv_cmd_decode(put, sizeof(put), &c), KV_EPROTO);
	memset(put + 6, 0, 4), put[9] = 3; /* an honest str is still not a bin */
	assert_int_equal(proto_kv_cmd_decode(put, sizeof(put), &c), KV_EPROTO);
	put[5] = 0xc6, put[0] = 0xdd; /* top array32 ... */
	assert_int_equal(proto_kv_cmd_decode(put, sizeof(put), &c), KV_EPROTO);
	print_message("bin32 of 3 accepted; of 4 and 0xFFFFFFFF refused; str32 (lying or not) "
	              "refused\n");

	assert_int_equal(proto_raft_decode(app, sizeof(app), &m, t_arena()), 0);
	assert_int_equal(m.u.append.n_entries, 1);
	memset(app + 13, 0xff, 4);
	assert_int_equal(proto_raft_decode(app, sizeof(app), &m, t_arena()), KV_EPROTO);
	app[12] = 0xdc; /* array16 0xFFFF */
	assert_int_equal(proto_raft_decode(app, sizeof(app), &m, t_arena()), KV_EPROTO);
	app[12] = 0xdf; /* map32 */
	assert_int_equal(proto_raft_decode(app, sizeof(app), &m, t_arena()), KV_EPROTO);
	print_message("entries array32 of 1 accepted; array32 0xFFFFFFFF, array16 0xFFFF, "
	              "map32 refused before any arena use\n");

	const uint8_t tops[][7] = {
	    {0xdd, 0xff, 0xff, 0xff, 0xff, 1, 1}, {0xdc, 0xff, 0xff, 1, 1, 0, 0},
	    {0xdf, 0xff, 0xff, 0xff, 0xff, 1, 1}, {0xc6, 0xff, 0xff, 0xff, 0xff, 1, 1},
	    {0xdb, 0xff, 0xff, 0xff, 0xff, 1, 1}, {0xdd, 0, 0, 0, 7, 1, 1},
	};
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		assert_int_equal(t_decode('r', tops[i], sizeof(tops[i])), KV_EPROTO);
		assert_int_equal(t_decode('l', tops[i], sizeof(tops[i])), KV_EPROTO);
		assert_int_equal(t_decode('k', tops[i], sizeof(tops[i])), KV_EPROTO);
	}
	print_message(
	    "top-level array32/array16/map32/bin32/str32 with lying counts refused by all "
	    "three decoders\n");
}

static void test_deep_nesting(void **state)
{
	uint8_t deep[1001];
	struct proto_reader r;
	uint32_t n;

	memset(deep, 0x91, sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = 1;
	assert_int_equal(t_decode('r', deep, sizeof(deep)), KV_EPROTO);
	assert_int_equal(t_decode('l', deep, sizeof(deep)), KV_EPROTO);
	assert_int_equal(t_decode('k', deep, sizeof(deep)), KV_EPROTO);
	/* The reader itself stops at KV_MSG_DEPTH_MAX, whatever the schema. */
	proto_reader_init(&r, deep, sizeof(deep));
	for (unsigned i = 0; i < KV_MSG_DEPTH_MAX; i++)
		assert_int_equal(proto_reader_enter(&r, &n), 0);
	assert_int_equal(proto_reader_enter(&r, &n), KV_EPROTO);
	print_message("1000 nested arrays refused; the reader enters %u levels and refuses the "
	              "next\n",
	              KV_MSG_DEPTH_MAX);
}

static void test_entries_rules(void **state)
{
	const char r = 'r';
	const uint8_t A = RAFT_MSG_APPEND;
	const uint64_t M = UINT64_MAX;
	/* APPEND: [1, 1, from, to, term, prev_index(5), prev_term, commit, seq, entries(9)] */
	struct t_edit wrap[] = {T_EDIT1(7, t_u(M)), T_EDIT3(11, 0, 1, t_u(0)),
	                        T_EDIT3(11, 1, 1, t_u(1)), T_EDIT3(11, 2, 1, t_u(2))};
	struct t_edit wrap2[] = {T_EDIT1(7, t_u(M - 2)), T_EDIT3(11, 0, 1, t_u(M - 1)),
	                         T_EDIT3(11, 1, 1, t_u(M)), T_EDIT3(11, 2, 1, t_u(0))};
	struct t_edit top[] = {T_EDIT1(7, t_u(M - 3)), T_EDIT3(11, 0, 1, t_u(M - 2)),
	                       T_EDIT3(11, 1, 1, t_u(M - 1)), T_EDIT3(11, 2, 1, t_u(M))};

	assert_int_equal(t_decode_edited(r, A, NULL, 0), 0);
	assert_int_equal(t_one(r, A, T_EDIT3(11, 1, 1, t_u(103))), KV_EPROTO);
	assert_int_equal(t_one(r, A, T_EDIT3(11, 1, 1, t_u(101))), KV_EPROTO);
	assert_int_equal(t_one(r, A, T_EDIT3(11, 2, 1, t_u(102))), KV_EPROTO);
	print_message("APPEND entries 101,103,103 / 101,101,103 / 101,102,102 refused\n");
	assert_int_equal(t_one(r, A, T_EDIT1(7, t_u(99))), KV_EPROTO);
	assert_int_equal(t_one(r, A, T_EDIT1(7, t_u(101))), KV_EPROTO);
	assert_int_equal(t_one(r, A, T_EDIT1(7, t_u(M))), KV_EPROTO);
	print_message("entries 101.. after prev_index 99, 101 and 2^64-1 refused\n");
	assert_int_equal(t_decode_edited(r, A, wrap, 4), KV_EPROTO);
	assert_int_equal(t_decode_edited(r, A, wrap2, 4), KV_EPROTO);
	assert_int_equal(t_decode_edited(r, A, top, 4), 0);
	print_message("prev_index + n wrapping past 2^64-1 refused (two ways); ending exactly at "
	              "2^64-1 accepted\n");
	assert_int_equal(t_one(r, A, T_EDIT3(11, 0, 2, t_u(0))), KV_EPROTO);
	assert_int_equal(t_one(r, A, T_EDIT3(11, 0, 2, t_u(RAFT_ENTRY_CONFIG + 1))), KV_EPROTO);
	assert_int_equal(t_one(r, A, T_EDIT3(11, 0, 2, t_u(RAFT_ENTRY_CONFIG))), 0);
	assert_int_equal(t_one(r, A, T_EDIT1(2, t_u(0))), KV_EPROTO);
	assert_int_equal(t_one(r, A, T_EDIT1(3, t_u(0))), KV_EPROTO);
	print_message("entry types 0 and 4 refused, 3 accepted; from 0 and to 0 refused\n");
	/* READ_INDEX_RESP: [.., reject(5), ..]; VOTE: [.., last_index, last_term, transfer(7)] */
	assert_int_equal(t_one(r, RAFT_MSG_READ_INDEX_RESP, T_EDIT1(7, t_u(2))), 0);
	assert_int_equal(t_one(r, RAFT_MSG_READ_INDEX_RESP, T_EDIT1(7, t_u(256))), KV_EPROTO);
	assert_int_equal(t_one(r, RAFT_MSG_VOTE, T_EDIT1(9, t_u(1))), 0);
	assert_int_equal(t_one(r, RAFT_MSG_VOTE, T_EDIT1(9, t_u(2))), KV_EPROTO);
	print_message("reject reason 2 accepted, 256 refused; transfer 1 accepted, 2 refused\n");
	/* APPLY: [1, 10, req_id, entries(3)] */
	assert_int_equal(t_decode_edited('l', PROTO_APPLY, NULL, 0), 0);
	assert_int_equal(t_one('l', PROTO_APPLY, T_EDIT3(3, 1, 1, t_u(200))), KV_EPROTO);
	assert_int_equal(t_one('l', PROTO_APPLY, T_EDIT3(3, 0, 1, t_u(0))), KV_EPROTO);
	print_message("APPLY entries with a gap or index 0 refused\n");
}

static void test_snapshot_rules(void **state)
{
	static uint8_t big[RAFT_SNAPSHOT_CHUNK_BYTES + 1];
	/* SNAPSHOT: [1, 7, from, to, term, snap_index, snap_term, config(7), snap_size(8),
	 * offset(9), chunk(10), crc(11)]; the sample's chunk: 300 bytes at offset. */
	const uint8_t S = RAFT_MSG_SNAPSHOT;
	uint64_t size, off;
	uint8_t flipped[sizeof(t_chunk)];
	uint32_t crc;
	msgpack_object mem[RAFT_NODES_MAX + 1][4], cfg[RAFT_NODES_MAX + 1];
	struct raft_msg m;

	t_raft_full(S, &m); /* fills t_chunk */
	size = m.u.snapshot.snap_size, off = m.u.snapshot.offset;
	crc = kv_crc32c(0, t_chunk, sizeof(t_chunk));
	assert_int_equal(t_one('r', S, T_EDIT1(13, t_u(crc))), 0);
	assert_int_equal(t_one('r', S, T_EDIT1(13, t_u(crc ^ 1))), KV_EPROTO);
	assert_int_equal(t_one('r', S, T_EDIT1(13, t_u(crc | (1ull << 32)))), KV_EPROTO);
	for (size_t bit = 0; bit < sizeof(t_chunk) * 8; bit += 97) {
		memcpy(flipped, t_chunk, sizeof(t_chunk));
		flipped[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(t_one('r', S, T_EDIT1(12, t_bin(flipped, sizeof(flipped)))),
		                 KV_EPROTO);
	}
	print_message("SNAPSHOT chunk: right CRC32C accepted; CRC off by one bit, over 32 bits, "
	              "or a chunk with any of 25 single bits flipped refused\n");

	assert_int_equal(t_one('r', S, T_EDIT1(11, t_u(size - sizeof(t_chunk)))), 0);
	assert_int_equal(t_one('r', S, T_EDIT1(11, t_u(size - sizeof(t_chunk) + 1))), KV_EPROTO);
	assert_int_equal(t_one('r', S, T_EDIT1(11, t_u(UINT64_MAX))), KV_EPROTO);
	assert_int_equal(t_one('r', S, T_EDIT1(10, t_u(off + sizeof(t_chunk) - 1))), KV_EPROTO);
	print_message("chunk ending at snap_size accepted; one past it, or offset 2^64-1, "
	              "refused\n");

	crc = kv_crc32c(0, big, RAFT_SNAPSHOT_CHUNK_BYTES);
	struct t_edit fits[] = {T_EDIT1(10, t_u(off + 2 * RAFT_SNAPSHOT_CHUNK_BYTES)),
	                        T_EDIT1(12, t_bin(big, RAFT_SNAPSHOT_CHUNK_BYTES)),
	                        T_EDIT1(13, t_u(crc))};
	assert_int_equal(t_decode_edited('r', S, fits, 3), 0);
	fits[1].repl.via.bin.size++;
	fits[2].repl = t_u(kv_crc32c(0, big, RAFT_SNAPSHOT_CHUNK_BYTES + 1));
	assert_int_equal(t_decode_edited('r', S, fits, 3), KV_EPROTO);
	print_message("a chunk of %u bytes accepted; one byte more (right CRC) refused\n",
	              RAFT_SNAPSHOT_CHUNK_BYTES);

	for (uint32_t i = 0; i <= RAFT_NODES_MAX; i++) {
		mem[i][0] = t_u(i + 1), mem[i][1] = t_u(RAFT_VOTER);
		mem[i][2] = t_u(1000 + i), mem[i][3] = t_u(0);
		cfg[i] = t_arr(mem[i], 4);
	}
	assert_int_equal(t_one('r', S, T_EDIT1(9, t_arr(cfg, RAFT_NODES_MAX))), 0);
	assert_int_equal(t_one('r', S, T_EDIT1(9, t_arr(cfg, RAFT_NODES_MAX + 1))), KV_EPROTO);
	assert_int_equal(t_one('r', S, T_EDIT1(9, t_arr(cfg, 0))), 0);
	assert_int_equal(t_one('r', S, T_EDIT3(9, 0, 0, t_u(0))), KV_EPROTO);
	assert_int_equal(t_one('r', S, T_EDIT3(9, 1, 0, t_u(1))), KV_EPROTO);
	assert_int_equal(t_one('r', S, T_EDIT3(9, 0, 1, t_u(0))), KV_EPROTO);
	assert_int_equal(t_one('r', S, T_EDIT3(9, 0, 1, t_u(RAFT_LEARNER + 1))), KV_EPROTO);
	assert_int_equal(t_one('r', S, T_EDIT2(9, 0, t_arr(mem[0], 1))), KV_EPROTO);
	print_message("config of 0 and %u members accepted; %u members, id 0, a duplicate id, "
	              "roles 0 and 3, a member of one element refused\n",
	              RAFT_NODES_MAX, RAFT_NODES_MAX + 1);
}

static void test_local_field_rules(void **state)
{
	static uint8_t bytes[PROTO_ADDR_BYTES_MAX + KV_KEY_BYTES_MAX];
	const char l = 'l';

	/* PROPOSE_RESP: [1, 2, req_id, status(3), index, term, leader_id] */
	assert_int_equal(t_one(l, PROTO_PROPOSE_RESP, T_EDIT1(3, t_i(KV_EPROTO))), 0);
	assert_int_equal(t_one(l, PROTO_PROPOSE_RESP, T_EDIT1(3, t_i(INT32_MIN))), 0);
	assert_int_equal(t_one(l, PROTO_PROPOSE_RESP, T_EDIT1(3, t_u(0))), 0);
	assert_int_equal(t_one(l, PROTO_PROPOSE_RESP, T_EDIT1(3, t_u(1))), KV_EPROTO);
	assert_int_equal(t_one(l, PROTO_PROPOSE_RESP, T_EDIT1(3, t_i((int64_t)INT32_MIN - 1))),
	                 KV_EPROTO);
	print_message("status 0, -14 and INT32_MIN accepted; 1 and INT32_MIN-1 refused\n");
	/* STATUS_RESP: [1, 6, req_id, node_id, role(4), is_learner(5), ..., members(11), ...] */
	assert_int_equal(t_one(l, PROTO_STATUS_RESP, T_EDIT1(4, t_u(RAFT_FOLLOWER))), 0);
	assert_int_equal(t_one(l, PROTO_STATUS_RESP, T_EDIT1(4, t_u(0))), KV_EPROTO);
	assert_int_equal(t_one(l, PROTO_STATUS_RESP, T_EDIT1(4, t_u(RAFT_LEADER + 1))), KV_EPROTO);
	assert_int_equal(t_one(l, PROTO_STATUS_RESP, T_EDIT1(5, t_u(2))), KV_EPROTO);
	assert_int_equal(t_one(l, PROTO_STATUS_RESP, T_EDIT3(11, 0, 0, t_u(0))), KV_EPROTO);
	assert_int_equal(t_one(l, PROTO_STATUS_RESP, T_EDIT3(11, 1, 0, t_u(1))), KV_EPROTO);
	assert_int_equal(t_one(l, PROTO_STATUS_RESP, T_EDIT3(11, 0, 1, t_u(3))), KV_EPROTO);
	assert_int_equal(
	    t_one(l, PROTO_STATUS_RESP, T_EDIT3(11, 0, 2, t_bin(bytes, PROTO_ADDR_BYTES_MAX))), 0);
	assert_int_equal(
	    t_one(l, PROTO_STATUS_RESP, T_EDIT3(11, 0, 2, t_bin(bytes, PROTO_ADDR_BYTES_MAX + 1))),
	    KV_EPROTO);
	print_message("STATUS_RESP: roles 0 and 5, is_learner 2, member id 0 or duplicate, member "
	              "role 3, a %u-byte address refused\n",
	              PROTO_ADDR_BYTES_MAX + 1);
	/* GET: [1, 16, req_id, key(3), min_index, wait_ms] */
	assert_int_equal(t_one(l, PROTO_GET, T_EDIT1(3, t_bin(bytes, KV_KEY_BYTES_MAX))), 0);
	assert_int_equal(t_one(l, PROTO_GET, T_EDIT1(3, t_bin(bytes, KV_KEY_BYTES_MAX + 1))),
	                 KV_EPROTO);
	assert_int_equal(t_one(l, PROTO_GET, T_EDIT1(3, t_bin(bytes, 0))), KV_EPROTO);
	/* LIST_RESP: [1, 19, req_id, status, items(4), more(5), applied_index] */
	assert_int_equal(t_one(l, PROTO_LIST_RESP, T_EDIT3(4, 0, 0, t_bin(bytes, 0))), KV_EPROTO);
	assert_int_equal(t_one(l, PROTO_LIST_RESP, T_EDIT2(4, 0, t_arr(NULL, 0))), KV_EPROTO);
	assert_int_equal(t_one(l, PROTO_LIST_RESP, T_EDIT1(5, t_u(2))), KV_EPROTO);
	/* SNAPSHOT_INSTALL: [1, 14, req_id, path(3), index, term] */
	assert_int_equal(t_one(l, PROTO_SNAPSHOT_INSTALL, T_EDIT1(3, t_bin(bytes, 0))), KV_EPROTO);
	print_message("GET key of 0 or %u bytes, an empty item key or item, more 2, an empty "
	              "install path refused\n",
	              KV_KEY_BYTES_MAX + 1);
}

static void test_kv_field_rules(void **state)
{
	static uint8_t big[KV_VALUE_BYTES_MAX_LIMIT + 1];
	const char k = 'k';
	const uint8_t P = PROTO_KV_PUT, D = PROTO_KV_DELETE;

	/* PUT: [1, 1, origin, req_id, key(4), value(5), cond(6), cond_index, idem_key(8)] */
	assert_int_equal(t_one(k, P, T_EDIT1(4, t_bin(big, KV_KEY_BYTES_MAX))), 0);
	assert_int_equal(t_one(k, P, T_EDIT1(4, t_bin(big, KV_KEY_BYTES_MAX + 1))), KV_EPROTO);
	assert_int_equal(t_one(k, P, T_EDIT1(4, t_bin(big, 0))), KV_EPROTO);
	assert_int_equal(t_one(k, P, T_EDIT1(5, t_bin(big, KV_VALUE_BYTES_MAX_LIMIT))), 0);
	assert_int_equal(t_one(k, P, T_EDIT1(5, t_bin(big, KV_VALUE_BYTES_MAX_LIMIT + 1))),
	                 KV_EPROTO);
	assert_int_equal(t_one(k, P, T_EDIT1(6, t_u(PROTO_COND_IF_NONE_MATCH))), 0);
	assert_int_equal(t_one(k, P, T_EDIT1(6, t_u(PROTO_COND_IF_NONE_MATCH + 1))), KV_EPROTO);
	assert_int_equal(t_one(k, P, T_EDIT1(8, t_bin(big, KV_IDEMPOTENCY_KEY_BYTES_MAX))), 0);
	assert_int_equal(t_one(k, P, T_EDIT1(8, t_bin(big, KV_IDEMPOTENCY_KEY_BYTES_MAX + 1))),
	                 KV_EPROTO);
	/* DELETE: [1, 2, origin, req_id, key(4), cond(5), cond_index, idem_key(7)] */
	assert_int_equal(t_one(k, D, T_EDIT1(4, t_bin(big, 0))), KV_EPROTO);
	assert_int_equal(t_one(k, D, T_EDIT1(5, t_u(3))), KV_EPROTO);
	assert_int_equal(t_one(k, D, T_EDIT1(7, t_bin(big, KV_IDEMPOTENCY_KEY_BYTES_MAX + 1))),
	                 KV_EPROTO);
	print_message("kv decode: keys of 1..%u, values to %u, idempotency keys to %u and "
	              "conds 0..2 accepted; one past each (and an empty key) refused\n",
	              KV_KEY_BYTES_MAX, KV_VALUE_BYTES_MAX_LIMIT, KV_IDEMPOTENCY_KEY_BYTES_MAX);
}

/* The reader itself: each length is checked against the bytes left, to the byte. */
static void test_reader_bounds(void **state)
{
	const uint8_t bin_fits[] = {0xc4, 2, 'a', 'b'}, bin_over[] = {0xc4, 3, 'a', 'b'};
	const uint8_t arr_fits[] = {0x92, 1, 2}, arr_over[] = {0x93, 1, 2};
	const uint8_t u64_cut[] = {0xcf, 0, 0, 0, 0, 0, 0, 0};
	struct proto_reader r;
	struct proto_bytes b;
	uint64_t v;
	uint32_t n;

	proto_reader_init(&r, bin_fits, sizeof(bin_fits));
	assert_int_equal(proto_reader_bin(&r, &b), 0);
	assert_int_equal(b.len, 2);
	assert_ptr_equal(b.ptr, bin_fits + 2);
	assert_int_equal(proto_reader_end(&r), 0);
	proto_reader_init(&r, bin_over, sizeof(bin_over));
	assert_int_equal(proto_reader_bin(&r, &b), KV_EPROTO);
	proto_reader_init(&r, arr_fits, sizeof(arr_fits));
	assert_int_equal(proto_reader_enter(&r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(proto_reader_end(&r), KV_EPROTO); /* elements unread, array open */
	proto_reader_init(&r, arr_over, sizeof(arr_over));
	assert_int_equal(proto_reader_enter(&r, &n), KV_EPROTO);
	proto_reader_init(&r, u64_cut, sizeof(u64_cut));
	assert_int_equal(proto_reader_uint(&r, &v), KV_EPROTO);
	print_message("reader: bin of 2 in 2 bytes read, of 3 refused; array of 2 in 2 bytes "
	              "entered, of 3 refused; a uint64 one byte short refused\n");
}

/* Other encoders may use wider forms than ours; the value is what counts. */
static void test_wider_integer_forms_accepted(void **state)
{
	/* [1, VOTE_RESP, from 1 (uint64), to 2 (uint32), term 3 (uint16), incarnation 4 (uint8),
	 * cluster 5, reject 1 (uint8)] */
	const uint8_t f[] = {0x98, 0xcc, PROTO_VERSION,
	                     0xcd, 0,    6,
	                     0xcf, 0,    0,
	                     0,    0,    0,
	                     0,    0,    1,
	                     0xce, 0,    0,
	                     0,    2,    0xcd,
	                     0,    3,    0xcc,
	                     4,    0xcc, 5,
	                     0xcc, 1};
	/* [1, TRANSFER_RESP, req 5, status -14 as int64] */
	const uint8_t g[] = {0x94, PROTO_VERSION, 8,    5,    0xd3, 0xff, 0xff,
	                     0xff, 0xff,          0xff, 0xff, 0xff, 0xf2};
	struct raft_msg m;
	struct proto_local lm;

	assert_int_equal(proto_raft_decode(f, sizeof(f), &m, t_arena()), 0);
	assert_int_equal(m.type, RAFT_MSG_VOTE_RESP);
	assert_true(m.from == 1 && m.to == 2 && m.term == 3 && m.u.vote_resp.reject == 1);
	assert_true(m.incarnation == 4 && m.cluster == 5);
	assert_int_equal(proto_local_decode(g, sizeof(g), &lm, t_arena()), 0);
	assert_int_equal(lm.u.transfer_resp.status, KV_EPROTO);
	print_message("uint8/16/32/64 and int64 forms of small values decode to the same values\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uint64_max_values_accepted),
	    cmocka_unit_test(test_encode_appends_and_fails_cleanly),
	    cmocka_unit_test(test_raft_max_sizes),
	    cmocka_unit_test(test_local_max_sizes),
	    cmocka_unit_test(test_frame_size_limit),
	    cmocka_unit_test(test_kv_limits_on_encode),
	    cmocka_unit_test(test_raft_and_local_refused_on_encode),
	    cmocka_unit_test(test_version_and_type_checked),
	    cmocka_unit_test(test_every_length_truncated),
	    cmocka_unit_test(test_wrong_type_for_every_field),
	    cmocka_unit_test(test_count_lies),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_entries_rules),
	    cmocka_unit_test(test_snapshot_rules),
	    cmocka_unit_test(test_local_field_rules),
	    cmocka_unit_test(test_kv_field_rules),
	    cmocka_unit_test(test_reader_bounds),
	    cmocka_unit_test(test_wider_integer_forms_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
