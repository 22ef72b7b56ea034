/*
 * proto_codec_arrays.c - the nested kinds of proto_table.c: entries, members,
 * items, a Raft configuration and a checksummed snapshot chunk.
 *
 * Decoding reads an array header (count checked against the bytes left by
 * the reader, then against the field's max), carves the C array from the
 * arena and fills it; every element is validated the same way the encoder
 * validates it before sending. Stateless; any thread.
 */
#include "proto_table.h"

#include "proto_buf.h"
#include "proto_reader.h"
#include "proto_writer.h"

#include "kv_assert.h"
#include "kv_crc32c.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <stdalign.h>
#include <string.h>

static uint32_t *nested_count(void *msg, const struct proto_field *fd)
{
	return proto_field_ptr(msg, fd->n_off);
}

static uint32_t nested_ccount(const void *msg, const struct proto_field *fd)
{
	return *(const uint32_t *)proto_field_cptr(msg, fd->n_off);
}

static int bytes_equal(const struct proto_bytes *a, const struct proto_bytes *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->ptr, b->ptr, a->len));
}

/* Reads [k fields] of a nested element: its header must say exactly k. */
static int nested_enter(struct proto_reader *r, uint32_t k)
{
	uint32_t n;

	if (proto_reader_enter(r, &n) || n != k)
		return KV_EPROTO;
	return 0;
}

static int nested_uint(struct proto_reader *r, uint64_t min, uint64_t max, uint64_t *v)
{
	if (proto_reader_uint(r, v) || *v < min || *v > max)
		return KV_EPROTO;
	return 0;
}

/* ---- ENTRIES: [term, index, type, data] ------------------------------------ */

/*
 * 1 when each entry has a known type, its data present, a non-zero index and
 * the index after the one before it (which also rules out wrapping).
 */
static int entries_valid(const struct raft_entry *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].type < RAFT_ENTRY_NOOP || e[i].type > RAFT_ENTRY_CONFIG)
			return 0;
		if (!e[i].data && e[i].len)
			return 0;
		if (e[i].index == 0 || (i > 0 && e[i].index - 1 != e[i - 1].index))
			return 0;
	}
	return 1;
}

static int entries_encode(const struct proto_field *fd, const void *msg, struct proto_writer *w)
{
	uint32_t n = nested_ccount(msg, fd);
	const struct raft_entry *e = *(struct raft_entry *const *)proto_field_cptr(msg, fd->off);

	if (n > fd->max || (n && !e) || !entries_valid(e, n))
		return KV_EINVAL;
	proto_writer_array(w, n);
	for (uint32_t i = 0; i < n; i++) {
		proto_writer_array(w, 4);
		proto_writer_uint(w, e[i].term);
		proto_writer_uint(w, e[i].index);
		proto_writer_uint(w, e[i].type);
		proto_writer_bin(w, e[i].data, e[i].len);
	}
	return 0;
}

static int entry_decode(struct proto_reader *r, struct raft_entry *e)
{
	struct proto_bytes data;
	uint64_t type;

	if (nested_enter(r, 4) || proto_reader_uint(r, &e->term) ||
	    proto_reader_uint(r, &e->index) ||
	    nested_uint(r, RAFT_ENTRY_NOOP, RAFT_ENTRY_CONFIG, &type) || proto_reader_bin(r, &data))
		return KV_EPROTO;
	proto_reader_leave(r);
	e->type = (uint8_t)type;
	e->data = data.ptr;
	e->len = data.len;
	return 0;
}

static int entries_decode(const struct proto_field *fd, void *msg, struct proto_reader *r,
                          struct proto_arena *arena)
{
	struct raft_entry *e = NULL;
	uint32_t n;
	int err;

	if (proto_reader_enter(r, &n) || n > fd->max)
		return KV_EPROTO;
	if (n) {
		e = arena ? proto_arena_alloc(arena, n, sizeof(*e), alignof(struct raft_entry))
		          : NULL;
		if (!e)
			return KV_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		err = entry_decode(r, &e[i]);
		if (err)
			return err;
	}
	proto_reader_leave(r);
	if (!entries_valid(e, n))
		return KV_EPROTO;
	*nested_count(msg, fd) = n;
	*(struct raft_entry **)proto_field_ptr(msg, fd->off) = e;
	return 0;
}

static int entries_equal(const struct proto_field *fd, const void *a, const void *b)
{
	uint32_t n = nested_ccount(a, fd);
	const struct raft_entry *ea = *(struct raft_entry *const *)proto_field_cptr(a, fd->off);
	const struct raft_entry *eb = *(struct raft_entry *const *)proto_field_cptr(b, fd->off);

	if (n != nested_ccount(b, fd))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		if (ea[i].term != eb[i].term || ea[i].index != eb[i].index ||
		    ea[i].type != eb[i].type || ea[i].len != eb[i].len ||
		    (ea[i].len && memcmp(ea[i].data, eb[i].data, ea[i].len) != 0))
			return 0;
	}
	return 1;
}

/* ---- MEMBERS: [id, role, addr, url] and CONFIG: [[id, role, incarnation, flags], ...] -- */

/* 1 when a member id is non-zero, its role known and no earlier one has its id. */
static int member_valid(uint64_t id, uint8_t role, const void *base, size_t stride, uint32_t i)
{
	if (id == 0 || role < RAFT_VOTER || role > RAFT_LEARNER)
		return 0;
	for (uint32_t j = 0; j < i; j++) {
		if (*(const uint64_t *)((const uint8_t *)base + j * stride) == id)
			return 0;
	}
	return 1;
}

static int members_encode(const struct proto_field *fd, const void *msg, struct proto_writer *w)
{
	uint32_t n = nested_ccount(msg, fd);
	const struct proto_member *m =
	    *(struct proto_member *const *)proto_field_cptr(msg, fd->off);

	if (n > fd->max || (n && !m))
		return KV_EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		if (!member_valid(m[i].id, m[i].role, &m->id, sizeof(*m), i) ||
		    m[i].addr.len > PROTO_ADDR_BYTES_MAX || (!m[i].addr.ptr && m[i].addr.len) ||
		    m[i].url.len > PROTO_URL_BYTES_MAX || (!m[i].url.ptr && m[i].url.len))
			return KV_EINVAL;
	}
	proto_writer_array(w, n);
	for (uint32_t i = 0; i < n; i++) {
		proto_writer_array(w, 4);
		proto_writer_uint(w, m[i].id);
		proto_writer_uint(w, m[i].role);
		proto_writer_bin(w, m[i].addr.ptr, m[i].addr.len);
		proto_writer_bin(w, m[i].url.ptr, m[i].url.len);
	}
	return 0;
}

static int members_decode(const struct proto_field *fd, void *msg, struct proto_reader *r,
                          struct proto_arena *arena)
{
	struct proto_member *m = NULL;
	uint64_t role;
	uint32_t n;

	if (proto_reader_enter(r, &n) || n > fd->max)
		return KV_EPROTO;
	if (n) {
		m = arena ? proto_arena_alloc(arena, n, sizeof(*m), alignof(struct proto_member))
		          : NULL;
		if (!m)
			return KV_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (nested_enter(r, 4) || proto_reader_uint(r, &m[i].id) ||
		    nested_uint(r, RAFT_VOTER, RAFT_LEARNER, &role) ||
		    proto_reader_bin(r, &m[i].addr) || m[i].addr.len > PROTO_ADDR_BYTES_MAX ||
		    proto_reader_bin(r, &m[i].url) || m[i].url.len > PROTO_URL_BYTES_MAX)
			return KV_EPROTO;
		proto_reader_leave(r);
		m[i].role = (uint8_t)role;
		if (!member_valid(m[i].id, m[i].role, &m->id, sizeof(*m), i))
			return KV_EPROTO;
	}
	proto_reader_leave(r);
	*nested_count(msg, fd) = n;
	*(struct proto_member **)proto_field_ptr(msg, fd->off) = m;
	return 0;
}

static int members_equal(const struct proto_field *fd, const void *a, const void *b)
{
	uint32_t n = nested_ccount(a, fd);
	const struct proto_member *ma = *(struct proto_member *const *)proto_field_cptr(a, fd->off);
	const struct proto_member *mb = *(struct proto_member *const *)proto_field_cptr(b, fd->off);

	if (n != nested_ccount(b, fd))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		if (ma[i].id != mb[i].id || ma[i].role != mb[i].role ||
		    !bytes_equal(&ma[i].addr, &mb[i].addr) || !bytes_equal(&ma[i].url, &mb[i].url))
			return 0;
	}
	return 1;
}

static int config_encode(const struct proto_field *fd, const void *msg, struct proto_writer *w)
{
	const struct raft_config *c = proto_field_cptr(msg, fd->off);

	if (c->n > fd->max)
		return KV_EINVAL;
	for (uint32_t i = 0; i < c->n; i++) {
		if (!member_valid(c->members[i].id, c->members[i].role, &c->members[0].id,
		                  sizeof(c->members[0]), i) ||
		    c->members[i].flags > RAFT_CONFIG_FLAG_PROMOTE)
			return KV_EINVAL;
	}
	proto_writer_array(w, c->n);
	for (uint32_t i = 0; i < c->n; i++) {
		proto_writer_array(w, 4);
		proto_writer_uint(w, c->members[i].id);
		proto_writer_uint(w, c->members[i].role);
		proto_writer_uint(w, c->members[i].incarnation);
		proto_writer_uint(w, c->members[i].flags);
	}
	return 0;
}

static int config_decode(const struct proto_field *fd, void *msg, struct proto_reader *r)
{
	struct raft_config *c = proto_field_ptr(msg, fd->off);
	struct raft_member *m;
	uint64_t role, flags;
	uint32_t n;

	if (proto_reader_enter(r, &n) || n > fd->max || n > RAFT_NODES_MAX)
		return KV_EPROTO;
	for (uint32_t i = 0; i < n; i++) {
		m = &c->members[i];
		if (nested_enter(r, 4) || proto_reader_uint(r, &m->id) ||
		    nested_uint(r, RAFT_VOTER, RAFT_LEARNER, &role) ||
		    proto_reader_uint(r, &m->incarnation) ||
		    nested_uint(r, 0, RAFT_CONFIG_FLAG_PROMOTE, &flags))
			return KV_EPROTO;
		proto_reader_leave(r);
		m->role = (uint8_t)role;
		m->flags = (uint8_t)flags;
		if (!member_valid(m->id, m->role, &c->members[0].id, sizeof(*m), i))
			return KV_EPROTO;
	}
	proto_reader_leave(r);
	c->n = n;
	return 0;
}

static int config_equal(const struct proto_field *fd, const void *a, const void *b)
{
	const struct raft_config *ca = proto_field_cptr(a, fd->off);
	const struct raft_config *cb = proto_field_cptr(b, fd->off);

	if (ca->n != cb->n)
		return 0;
	for (uint32_t i = 0; i < ca->n; i++) {
		if (ca->members[i].id != cb->members[i].id ||
		    ca->members[i].role != cb->members[i].role ||
		    ca->members[i].incarnation != cb->members[i].incarnation ||
		    ca->members[i].flags != cb->members[i].flags)
			return 0;
	}
	return 1;
}

/* ---- ITEMS: [key, value, create_index, mod_index, flags] ----------------------- */

static int item_valid(const struct proto_item *it)
{
	return it->key.len >= 1 && it->key.len <= KV_KEY_BYTES_MAX &&
	       it->value.len <= KV_VALUE_BYTES_MAX_LIMIT && (it->key.ptr || !it->key.len) &&
	       (it->value.ptr || !it->value.len);
}

static int items_encode(const struct proto_field *fd, const void *msg, struct proto_writer *w)
{
	uint32_t n = nested_ccount(msg, fd);
	const struct proto_item *it = *(struct proto_item *const *)proto_field_cptr(msg, fd->off);

	if (n > fd->max || (n && !it))
		return KV_EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		if (!item_valid(&it[i]))
			return KV_EINVAL;
	}
	proto_writer_array(w, n);
	for (uint32_t i = 0; i < n; i++) {
		proto_writer_array(w, 5);
		proto_writer_bin(w, it[i].key.ptr, it[i].key.len);
		proto_writer_bin(w, it[i].value.ptr, it[i].value.len);
		proto_writer_uint(w, it[i].create_index);
		proto_writer_uint(w, it[i].mod_index);
		proto_writer_uint(w, it[i].flags);
	}
	return 0;
}

static int items_decode(const struct proto_field *fd, void *msg, struct proto_reader *r,
                        struct proto_arena *arena)
{
	struct proto_item *it = NULL;
	uint32_t n;

	if (proto_reader_enter(r, &n) || n > fd->max)
		return KV_EPROTO;
	if (n) {
		it = arena ? proto_arena_alloc(arena, n, sizeof(*it), alignof(struct proto_item))
		           : NULL;
		if (!it)
			return KV_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (nested_enter(r, 5) || proto_reader_bin(r, &it[i].key) ||
		    proto_reader_bin(r, &it[i].value) ||
		    proto_reader_uint(r, &it[i].create_index) ||
		    proto_reader_uint(r, &it[i].mod_index) || proto_reader_uint(r, &it[i].flags) ||
		    !item_valid(&it[i]))
			return KV_EPROTO;
		proto_reader_leave(r);
	}
	proto_reader_leave(r);
	*nested_count(msg, fd) = n;
	*(struct proto_item **)proto_field_ptr(msg, fd->off) = it;
	return 0;
}

static int items_equal(const struct proto_field *fd, const void *a, const void *b)
{
	uint32_t n = nested_ccount(a, fd);
	const struct proto_item *ia = *(struct proto_item *const *)proto_field_cptr(a, fd->off);
	const struct proto_item *ib = *(struct proto_item *const *)proto_field_cptr(b, fd->off);

	if (n != nested_ccount(b, fd))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!bytes_equal(&ia[i].key, &ib[i].key) ||
		    !bytes_equal(&ia[i].value, &ib[i].value) ||
		    ia[i].create_index != ib[i].create_index ||
		    ia[i].mod_index != ib[i].mod_index || ia[i].flags != ib[i].flags)
			return 0;
	}
	return 1;
}

/* ---- CHUNK: bin, then the CRC32C of its bytes --------------------------------- */

static int chunk_encode(const struct proto_field *fd, const void *msg, struct proto_writer *w)
{
	uint32_t len = nested_ccount(msg, fd);
	const uint8_t *p = *(const uint8_t *const *)proto_field_cptr(msg, fd->off);

	if (len > fd->max || (!p && len))
		return KV_EINVAL;
	proto_writer_bin(w, p, len);
	proto_writer_uint(w, len ? kv_crc32c(0, p, len) : 0);
	return 0;
}

static int chunk_decode(const struct proto_field *fd, void *msg, struct proto_reader *r)
{
	struct proto_bytes b;
	uint64_t crc;

	if (proto_reader_bin(r, &b) || b.len > fd->max || proto_reader_uint(r, &crc))
		return KV_EPROTO;
	/* A flipped bit in a snapshot must never reach the state machine. */
	if (crc != (b.len ? kv_crc32c(0, b.ptr, b.len) : 0))
		return KV_EPROTO;
	*nested_count(msg, fd) = b.len;
	*(const uint8_t **)proto_field_ptr(msg, fd->off) = b.len ? b.ptr : NULL;
	return 0;
}

static int chunk_equal(const struct proto_field *fd, const void *a, const void *b)
{
	uint32_t len = nested_ccount(a, fd);
	const uint8_t *pa = *(const uint8_t *const *)proto_field_cptr(a, fd->off);
	const uint8_t *pb = *(const uint8_t *const *)proto_field_cptr(b, fd->off);

	return len == nested_ccount(b, fd) && (!len || !memcmp(pa, pb, len));
}

/* ---- Dispatch ------------------------------------------------------------------ */

int proto_codec_encode_nested(const struct proto_field *fd, const void *msg, struct proto_writer *w)
{
	switch (fd->kind) {
	case PROTO_F_ENTRIES:
		return entries_encode(fd, msg, w);
	case PROTO_F_MEMBERS:
		return members_encode(fd, msg, w);
	case PROTO_F_ITEMS:
		return items_encode(fd, msg, w);
	case PROTO_F_CONFIG:
		return config_encode(fd, msg, w);
	case PROTO_F_CHUNK:
		return chunk_encode(fd, msg, w);
	}
	KV_ASSERT(!"unknown field kind");
	return KV_EINVAL;
}

int proto_codec_decode_nested(const struct proto_field *fd, void *msg, struct proto_reader *r,
                              struct proto_arena *arena)
{
	switch (fd->kind) {
	case PROTO_F_ENTRIES:
		return entries_decode(fd, msg, r, arena);
	case PROTO_F_MEMBERS:
		return members_decode(fd, msg, r, arena);
	case PROTO_F_ITEMS:
		return items_decode(fd, msg, r, arena);
	case PROTO_F_CONFIG:
		return config_decode(fd, msg, r);
	case PROTO_F_CHUNK:
		return chunk_decode(fd, msg, r);
	}
	KV_ASSERT(!"unknown field kind");
	return KV_EPROTO;
}

int proto_codec_equal_nested(const struct proto_field *fd, const void *a, const void *b)
{
	switch (fd->kind) {
	case PROTO_F_ENTRIES:
		return entries_equal(fd, a, b);
	case PROTO_F_MEMBERS:
		return members_equal(fd, a, b);
	case PROTO_F_ITEMS:
		return items_equal(fd, a, b);
	case PROTO_F_CONFIG:
		return config_equal(fd, a, b);
	case PROTO_F_CHUNK:
		return chunk_equal(fd, a, b);
	}
	KV_ASSERT(!"unknown field kind");
	return 0;
}
