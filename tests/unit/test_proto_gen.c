/*
 * test_proto_gen.c - the tests of proto/ generated from proto_messages.h:
 * every peer message, local message and kv command is sampled (every field
 * of its struct set), compared field by field and packed by msgpack-c from
 * the lists, so a new type or field is covered without an edit here. Each
 * type's msgpack-c frame must equal ours, round trip and re-encode to the
 * same bytes, and every prefix of it and every field out of its range (in
 * the frame, refused by the decoder, and in the struct, by the encoder)
 * must be refused. The hand-written cases are in test_proto.c.
 */
#include "proto_test_util.h"

#include "kv_crc32c.h"

/* ---- Frames built by msgpack-c from proto_messages.h --------------------------- */

/*
 * The walkers below expand T_F over a message's header and its type's own
 * fields, in wire order (m: a struct proto_local *, c: a struct proto_kv_cmd *,
 * r: a struct raft_msg *).
 */
#define T_RAFT_CASE(NAME, BODY, body, doc)                                                         \
	case RAFT_MSG_##NAME:                                                                      \
		PROTO_RAFT_##BODY(T_F, (&r->u.body)) break;
#define T_RAFT_WALK()                                                                              \
	PROTO_RAFT_HEADER(T_F, r)                                                                  \
	switch (r->type) {                                                                         \
		PROTO_RAFT_MESSAGES(T_RAFT_CASE)                                                   \
	default:                                                                                   \
		break;                                                                             \
	}
#define T_LOCAL_CASE(NAME, name, doc)                                                              \
	case PROTO_##NAME:                                                                         \
		PROTO_LOCAL_##NAME(T_F, (&m->u.name)) break;
#define T_LOCAL_WALK()                                                                             \
	PROTO_LOCAL_HEADER(T_F, m)                                                                 \
	switch (m->type) {                                                                         \
		PROTO_LOCAL_MESSAGES(T_LOCAL_CASE)                                                 \
	default:                                                                                   \
		break;                                                                             \
	}
#define T_KV_CASE(NAME, name, doc)                                                                 \
	case PROTO_KV_##NAME:                                                                      \
		PROTO_KV_##NAME(T_F, c) break;
#define T_KV_WALK()                                                                                \
	PROTO_KV_HEADER(T_F, c)                                                                    \
	switch (c->op) {                                                                           \
		PROTO_KV_MESSAGES(T_KV_CASE)                                                       \
	default:                                                                                   \
		break;                                                                             \
	}

static uint8_t *t_big; /* KV_MSG_BYTES_MAX + 1 zero bytes: byte strings past any limit */

/*
 * One walk: field index bad (-1: none) is put out of its range, above its
 * max (variant 0) or below its min (variant 1); broken says whether that
 * field has such a value at all.
 */
struct t_walk {
	msgpack_packer pk; /* packing walks only */
	int idx;           /* index of the next field */
	int bad;
	int variant;
	int broken;
	uint32_t n;    /* counting walks: fields seen */
	uint32_t wire; /* counting walks: wire elements (a CHUNK takes two) */
};

static int t_walk_bad(struct t_walk *w)
{
	return w->idx++ == w->bad;
}

/* The out-of-range value of an integer field, if the variant has one. */
static int t_walk_uint(struct t_walk *w, uint64_t lo, uint64_t hi, uint64_t type_max, uint64_t *v)
{
	if (!t_walk_bad(w))
		return 0;
	if (w->variant == 0 && hi < type_max)
		*v = hi + 1, w->broken = 1;
	else if (w->variant == 1 && lo > 0)
		*v = lo - 1, w->broken = 1;
	return w->broken;
}

static struct proto_bytes t_walk_bytes(struct t_walk *w, struct proto_bytes b, uint64_t lo,
                                       uint64_t hi)
{
	if (!t_walk_bad(w))
		return b;
	if (w->variant == 0)
		b = (struct proto_bytes){t_big, (uint32_t)hi + 1}, w->broken = 1;
	else if (lo > 0)
		b.len = (uint32_t)lo - 1, w->broken = 1;
	return b;
}

/* An array count: max + 1 elements in variant 0 (the packer makes them up). */
static uint32_t t_walk_count(struct t_walk *w, uint32_t n, uint64_t hi)
{
	if (t_walk_bad(w) && w->variant == 0)
		n = (uint32_t)hi + 1, w->broken = 1;
	return n;
}

/* ---- Packing with msgpack-c ---- */

static void t_pack_u64(struct t_walk *w, uint64_t v, uint64_t lo, uint64_t hi)
{
	t_walk_uint(w, lo, hi, UINT64_MAX, &v);
	msgpack_pack_uint64(&w->pk, v);
}

static void t_pack_u8(struct t_walk *w, uint8_t v, uint64_t lo, uint64_t hi)
{
	uint64_t x = v;

	t_walk_uint(w, lo, hi, UINT8_MAX, &x);
	msgpack_pack_uint64(&w->pk, x);
}

static void t_pack_status(struct t_walk *w, int32_t v)
{
	int64_t x = v;

	if (t_walk_bad(w))
		x = w->variant == 0 ? 1 : (int64_t)INT32_MIN - 1, w->broken = 1;
	msgpack_pack_int64(&w->pk, x);
}

static void t_pack_bin(msgpack_packer *pk, struct proto_bytes b)
{
	msgpack_pack_bin(pk, b.len);
	if (b.len)
		msgpack_pack_bin_body(pk, b.ptr, b.len);
}

static void t_pack_bytes(struct t_walk *w, struct proto_bytes b, uint64_t lo, uint64_t hi)
{
	t_pack_bin(&w->pk, t_walk_bytes(w, b, lo, hi));
}

static void t_pack_entries(struct t_walk *w, const struct raft_entry *e, uint32_t n, uint64_t hi)
{
	uint32_t count = t_walk_count(w, n, hi);

	msgpack_pack_array(&w->pk, count);
	for (uint32_t i = 0; i < count; i++) {
		struct raft_entry x =
		    i < n ? e[i] : (struct raft_entry){1, 1 + i, RAFT_ENTRY_NOOP, 0, NULL};

		msgpack_pack_array(&w->pk, 4);
		msgpack_pack_uint64(&w->pk, x.term);
		msgpack_pack_uint64(&w->pk, x.index);
		msgpack_pack_uint64(&w->pk, x.type);
		t_pack_bin(&w->pk, (struct proto_bytes){x.data, x.len});
	}
}

static void t_pack_members(struct t_walk *w, const struct proto_member *m, uint32_t n, uint64_t hi)
{
	uint32_t count = t_walk_count(w, n, hi);

	msgpack_pack_array(&w->pk, count);
	for (uint32_t i = 0; i < count; i++) {
		struct proto_member x =
		    i < n ? m[i] : (struct proto_member){100 + i, RAFT_VOTER, {NULL, 0}, {NULL, 0}};

		msgpack_pack_array(&w->pk, 4);
		msgpack_pack_uint64(&w->pk, x.id);
		msgpack_pack_uint64(&w->pk, x.role);
		t_pack_bin(&w->pk, x.addr);
		t_pack_bin(&w->pk, x.url);
	}
}

static void t_pack_items(struct t_walk *w, const struct proto_item *it, uint32_t n, uint64_t hi)
{
	uint32_t count = t_walk_count(w, n, hi);

	msgpack_pack_array(&w->pk, count);
	for (uint32_t i = 0; i < count; i++) {
		struct proto_item x =
		    i < n ? it[i] : (struct proto_item){t_bytes("k"), {0}, i, i, i};

		msgpack_pack_array(&w->pk, 5);
		t_pack_bin(&w->pk, x.key);
		t_pack_bin(&w->pk, x.value);
		msgpack_pack_uint64(&w->pk, x.create_index);
		msgpack_pack_uint64(&w->pk, x.mod_index);
		msgpack_pack_uint64(&w->pk, x.flags);
	}
}

/* A configuration: max + 1 members in variant 0 (made up, distinct ids). */
static void t_pack_config(struct t_walk *w, const struct raft_config *c, uint64_t hi)
{
	uint32_t count = t_walk_count(w, c->n, hi);

	msgpack_pack_array(&w->pk, count);
	for (uint32_t i = 0; i < count; i++) {
		struct raft_member x =
		    i < c->n ? c->members[i] : (struct raft_member){.id = 100 + i, .role = 1};

		msgpack_pack_array(&w->pk, 4);
		msgpack_pack_uint64(&w->pk, x.id);
		msgpack_pack_uint64(&w->pk, x.role);
		msgpack_pack_uint64(&w->pk, x.incarnation);
		msgpack_pack_uint64(&w->pk, x.flags);
	}
}

/* A chunk and its CRC32C: max + 1 bytes (with their right CRC) in variant 0. */
static void t_pack_chunk(struct t_walk *w, const uint8_t *p, uint32_t len, uint64_t hi)
{
	struct proto_bytes b = t_walk_bytes(w, (struct proto_bytes){p, len}, 0, hi);

	t_pack_bin(&w->pk, b);
	msgpack_pack_uint64(&w->pk, b.len ? kv_crc32c(0, b.ptr, b.len) : 0);
}

#define T_PACK_U64(X, name, lo, hi)     t_pack_u64(w, X->name, lo, hi);
#define T_PACK_U8(X, name, lo, hi)      t_pack_u8(w, X->name, lo, hi);
#define T_PACK_STATUS(X, name, lo, hi)  t_pack_status(w, X->name);
#define T_PACK_BYTES(X, name, lo, hi)   t_pack_bytes(w, X->name, lo, hi);
#define T_PACK_ENTRIES(X, name, lo, hi) t_pack_entries(w, X->name, X->n_##name, hi);
#define T_PACK_MEMBERS(X, name, lo, hi) t_pack_members(w, X->name, X->n_##name, hi);
#define T_PACK_ITEMS(X, name, lo, hi)   t_pack_items(w, X->name, X->n_##name, hi);
#define T_PACK_CONFIG(X, name, lo, hi)  t_pack_config(w, &X->name, hi);
#define T_PACK_CHUNK(X, name, lo, hi)   t_pack_chunk(w, X->name, X->name##_len, hi);
#define T_F(X, KIND, name, lo, hi, doc) T_PACK_##KIND(X, name, lo, hi)

static void t_pack_raft(struct t_walk *w, const struct raft_msg *r)
{
	T_RAFT_WALK()
}

static void t_pack_local(struct t_walk *w, const struct proto_local *m)
{
	T_LOCAL_WALK()
}

static void t_pack_kv(struct t_walk *w, const struct proto_kv_cmd *c)
{
	T_KV_WALK()
}

#undef T_F
#define T_WIRE_U64                      1
#define T_WIRE_U8                       1
#define T_WIRE_STATUS                   1
#define T_WIRE_BYTES                    1
#define T_WIRE_ENTRIES                  1
#define T_WIRE_MEMBERS                  1
#define T_WIRE_ITEMS                    1
#define T_WIRE_CONFIG                   1
#define T_WIRE_CHUNK                    2
#define T_F(X, KIND, name, lo, hi, doc) w->n++, w->wire += T_WIRE_##KIND;

static void t_count_raft(struct t_walk *w, const struct raft_msg *r)
{
	T_RAFT_WALK()
}

static void t_count_local(struct t_walk *w, const struct proto_local *m)
{
	T_LOCAL_WALK()
}

static void t_count_kv(struct t_walk *w, const struct proto_kv_cmd *c)
{
	T_KV_WALK()
}

/* ---- The same values out of range in the struct, for the encoder ---- */

static void t_break_u8(struct t_walk *w, uint8_t *v, uint64_t lo, uint64_t hi)
{
	uint64_t x = *v;

	if (t_walk_uint(w, lo, hi, UINT8_MAX, &x))
		*v = (uint8_t)x;
}

static void t_break_status(struct t_walk *w, int32_t *v)
{
	if (t_walk_bad(w) && w->variant == 0)
		*v = 1, w->broken = 1;
}

#undef T_F
#define T_BREAK_U64(X, name, lo, hi)     t_walk_uint(w, lo, hi, UINT64_MAX, &X->name);
#define T_BREAK_U8(X, name, lo, hi)      t_break_u8(w, &X->name, lo, hi);
#define T_BREAK_STATUS(X, name, lo, hi)  t_break_status(w, &X->name);
#define T_BREAK_BYTES(X, name, lo, hi)   X->name = t_walk_bytes(w, X->name, lo, hi);
#define T_BREAK_ARRAY(X, name, lo, hi)   X->n_##name = t_walk_count(w, X->n_##name, hi);
#define T_BREAK_ENTRIES(X, name, lo, hi) T_BREAK_ARRAY(X, name, lo, hi)
#define T_BREAK_MEMBERS(X, name, lo, hi) T_BREAK_ARRAY(X, name, lo, hi)
#define T_BREAK_ITEMS(X, name, lo, hi)   T_BREAK_ARRAY(X, name, lo, hi)
#define T_BREAK_CONFIG(X, name, lo, hi)  X->name.n = t_walk_count(w, X->name.n, hi);
#define T_BREAK_CHUNK(X, name, lo, hi)                                                             \
	{                                                                                          \
		struct proto_bytes cb =                                                            \
		    t_walk_bytes(w, (struct proto_bytes){X->name, X->name##_len}, 0, hi);          \
		X->name = cb.ptr, X->name##_len = cb.len;                                          \
	}
#define T_F(X, KIND, name, lo, hi, doc) T_BREAK_##KIND(X, name, lo, hi)

static void t_break_raft(struct t_walk *w, struct raft_msg *r)
{
	T_RAFT_WALK()
}

static void t_break_local(struct t_walk *w, struct proto_local *m)
{
	T_LOCAL_WALK()
}

static void t_break_kv(struct t_walk *w, struct proto_kv_cmd *c)
{
	T_KV_WALK()
}

#undef T_F

/* One message of each family; a walk uses the one of its family. */
struct t_msgs {
	struct raft_msg r;
	struct proto_local l;
	struct proto_kv_cmd k;
};

/* Sample of family fam ('r', 'l' or 'k') and type, from proto_sample.h. */
static void t_sample(char fam, uint8_t type, struct t_msgs *m)
{
	struct proto_sample s = {.bytes = t_sample_bytes, .seq = 7};

	if (fam == 'r')
		t_raft_full(type, &m->r);
	else if (fam == 'l')
		t_local_full(type, &m->l);
	else
		proto_sample_kv(&s, type, &m->k);
}

static void t_walk_fam(char fam, void (*r)(struct t_walk *, const struct raft_msg *),
                       void (*l)(struct t_walk *, const struct proto_local *),
                       void (*k)(struct t_walk *, const struct proto_kv_cmd *), struct t_walk *w,
                       const struct t_msgs *m)
{
	if (fam == 'r')
		r(w, &m->r);
	else if (fam == 'l')
		l(w, &m->l);
	else
		k(w, &m->k);
}

/* [version, type, fields...] of the sample, by msgpack-c; w says which field to break. */
static void t_pack_sample(char fam, uint8_t type, struct t_walk *w, msgpack_sbuffer *sb)
{
	struct t_msgs m;
	struct t_walk count = {.bad = -1};

	t_sample(fam, type, &m);
	t_walk_fam(fam, t_count_raft, t_count_local, t_count_kv, &count, &m);
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&w->pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&w->pk, 2 + count.wire);
	msgpack_pack_uint64(&w->pk, fam == 'k' ? PROTO_KV_VERSION : PROTO_VERSION);
	msgpack_pack_uint64(&w->pk, type);
	t_walk_fam(fam, t_pack_raft, t_pack_local, t_pack_kv, w, &m);
	w->n = count.n;
}

/* Our encoding of m's family member; 0 or the encoder's error. */
static int t_encode_fam(char fam, const struct t_msgs *m, struct proto_buf *b)
{
	if (fam == 'r')
		return proto_raft_encode(&m->r, b);
	if (fam == 'l')
		return proto_local_encode(&m->l, b);
	return proto_kv_cmd_encode(&m->k, b);
}

/* Encodes the sample with field bad out of range: 0 or the encoder's error. */
static int t_encode_broken(char fam, uint8_t type, struct t_walk *w)
{
	struct t_msgs m;
	struct proto_buf b = {0};
	int err;

	t_sample(fam, type, &m);
	if (fam == 'r')
		t_break_raft(w, &m.r);
	else if (fam == 'l')
		t_break_local(w, &m.l);
	else
		t_break_kv(w, &m.k);
	err = t_encode_fam(fam, &m, &b);
	proto_buf_free(&b);
	return err;
}

/*
 * Our frame equals msgpack-c's; every prefix, every out-of-range field in a
 * frame (by the decoder) and in the struct (by the encoder) is refused.
 * Returns how many out-of-range values were refused.
 */
static unsigned t_generated_type(char fam, uint8_t type)
{
	struct t_walk w = {.bad = -1};
	struct proto_buf ours = {0};
	struct t_msgs m;
	msgpack_sbuffer sb;
	unsigned refused = 0;
	int err;

	t_pack_sample(fam, type, &w, &sb);
	t_sample(fam, type, &m);
	assert_int_equal(t_encode_fam(fam, &m, &ours), 0);
	assert_int_equal(ours.len, sb.size);
	assert_memory_equal(ours.ptr, sb.data, sb.size);
	assert_int_equal(t_decode(fam, (const uint8_t *)sb.data, sb.size), 0);
	for (size_t len = 0; len < sb.size; len++)
		assert_int_equal(t_decode(fam, (const uint8_t *)sb.data, len), KV_EPROTO);
	msgpack_sbuffer_destroy(&sb);
	for (uint32_t i = 0; i < w.n; i++) {
		for (int variant = 0; variant < 2; variant++) {
			struct t_walk bad = {.bad = (int)i, .variant = variant};
			struct t_walk bad2 = bad;

			t_pack_sample(fam, type, &bad, &sb);
			/* The struct cannot hold every wire value (a status below INT32_MIN). */
			err = t_encode_broken(fam, type, &bad2);
			assert_int_equal(err, bad2.broken ? KV_EINVAL : 0);
			refused += (unsigned)bad2.broken;
			if (bad.broken) {
				assert_int_equal(t_decode(fam, (const uint8_t *)sb.data, sb.size),
				                 KV_EPROTO);
				refused++;
			}
			msgpack_sbuffer_destroy(&sb);
		}
	}
	proto_buf_free(&ours);
	return refused;
}

/* The kv ops' names, by op. */
#define T_KV_NAME(NAME, name, doc) [PROTO_KV_##NAME] = #NAME,
static const char *const t_kv_op_names[PROTO_KV_OP_MAX + 1] = {PROTO_KV_MESSAGES(T_KV_NAME)};
#undef T_KV_NAME

static void test_generated_frames_every_type(void **state)
{
	const struct {
		char fam;
		uint8_t max;
		const char *(*name)(uint8_t);
	} fams[] = {{'r', RAFT_MSG_TYPE_MAX, proto_raft_type_name},
	            {'l', PROTO_LOCAL_TYPE_MAX, proto_local_type_name},
	            {'k', PROTO_KV_OP_MAX, NULL}};

	t_big = calloc(1, KV_MSG_BYTES_MAX + 1);
	assert_non_null(t_big);
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		for (uint8_t t = 1; t <= fams[f].max; t++) {
			unsigned refused = t_generated_type(fams[f].fam, t);

			print_message(
			    "%s %-16s msgpack-c frame from proto_messages.h == ours; every "
			    "prefix and %u out-of-range values refused\n",
			    fams[f].fam == 'r'   ? "raft "
			    : fams[f].fam == 'l' ? "local"
			                         : "kv   ",
			    fams[f].name ? fams[f].name(t) : t_kv_op_names[t], refused);
		}
	}
	free(t_big);
	t_big = NULL;
}

/* ---- Round trips ------------------------------------------------------------- */

static void test_raft_round_trip_every_type(void **state)
{
	struct proto_buf b = {0}, b2 = {0};
	struct raft_msg full, want, got, again;

	for (uint8_t t = 1; t <= RAFT_MSG_TYPE_MAX; t++) {
		t_raft_full(t, &full);
		want = full;
		proto_buf_reset(&b);
		assert_int_equal(proto_raft_encode(&full, &b), 0);
		t_check_msgpack(&b, PROTO_VERSION, t);
		assert_int_equal(proto_raft_decode(b.ptr, b.len, &got, t_arena()), 0);
		t_assert_raft_same(&want, &got);
		assert_true(proto_raft_equal(&want, &got));
		/* Encoding the decode gives the same bytes: one encoding per message. */
		proto_buf_reset(&b2);
		assert_int_equal(proto_raft_encode(&got, &b2), 0);
		assert_int_equal(b2.len, b.len);
		assert_memory_equal(b2.ptr, b.ptr, b.len);
		assert_int_equal(proto_raft_decode(b2.ptr, b2.len, &again, t_arena2()), 0);
		assert_true(proto_raft_equal(&got, &again));
		print_message("raft %-15s %4zu bytes: own fields kept, others zero, re-encodes "
		              "identically, msgpack-c parses it\n",
		              proto_raft_type_name(t), b.len);
	}
	proto_buf_free(&b);
	proto_buf_free(&b2);
}

static void test_local_round_trip_every_type(void **state)
{
	struct proto_buf b = {0}, b2 = {0};
	struct proto_local full, got;

	for (uint8_t t = 1; t <= PROTO_LOCAL_TYPE_MAX; t++) {
		t_local_full(t, &full);
		proto_buf_reset(&b);
		assert_int_equal(proto_local_encode(&full, &b), 0);
		t_check_msgpack(&b, PROTO_VERSION, t);
		assert_int_equal(proto_local_decode(b.ptr, b.len, &got, t_arena()), 0);
		t_assert_local_same(&full, &got);
		assert_true(proto_local_equal(&full, &got));
		proto_buf_reset(&b2);
		assert_int_equal(proto_local_encode(&got, &b2), 0);
		assert_int_equal(b2.len, b.len);
		assert_memory_equal(b2.ptr, b.ptr, b.len);
		print_message("local %-16s %4zu bytes: every field kept, re-encodes identically\n",
		              proto_local_type_name(t), b.len);
	}
	proto_buf_free(&b);
	proto_buf_free(&b2);
}

static void test_kv_round_trip_every_op(void **state)
{
	struct proto_buf b = {0};
	struct proto_kv_cmd full, got;

	for (uint8_t op = PROTO_KV_PUT; op <= PROTO_KV_OP_MAX; op++) {
		t_kv_full(op, &full);
		proto_buf_reset(&b);
		assert_int_equal(proto_kv_cmd_encode(&full, &b), 0);
		t_check_msgpack(&b, PROTO_KV_VERSION, op);
		assert_int_equal(proto_kv_cmd_decode(b.ptr, b.len, &got), 0);
		t_kv_own_fields(op, &full);
		t_assert_kv_same(&full, &got);
		assert_true(proto_kv_cmd_equal(&full, &got));
	}
	print_message("every kv op round trips (PUT to PUT_FLAGS); each keeps its own fields\n");
	proto_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_raft_round_trip_every_type),
	    cmocka_unit_test(test_local_round_trip_every_type),
	    cmocka_unit_test(test_kv_round_trip_every_op),
	    cmocka_unit_test(test_generated_frames_every_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
