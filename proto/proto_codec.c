/*
 * proto_codec.c - encodes, decodes and compares any message by walking its
 * entry in proto_table.c: the frame, and the scalar kinds (U64, U8, STATUS,
 * BYTES). Nested kinds are in proto_codec_arrays.c.
 *
 * Stateless; any thread.
 */
#include "proto_table.h"

#include "proto_reader.h"
#include "proto_writer.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <string.h>

/* Elements after [version, type]: CHUNK takes two (bin, CRC). */
static uint32_t codec_wire_count(const struct proto_msg_desc *d)
{
	uint32_t n = d->n_fields;

	for (uint8_t i = 0; i < d->n_fields; i++)
		n += d->fields[i].kind == PROTO_F_CHUNK;
	return n;
}

/* Reads an unsigned scalar field's value, whatever its C width. */
static uint64_t codec_get_uint(const struct proto_field *fd, const void *msg)
{
	if (fd->kind == PROTO_F_U8)
		return *(const uint8_t *)proto_field_cptr(msg, fd->off);
	return *(const uint64_t *)proto_field_cptr(msg, fd->off);
}

static int codec_encode_field(const struct proto_field *fd, const void *msg, struct proto_writer *w)
{
	const struct proto_bytes *b;
	uint64_t v;
	int32_t status;

	switch (fd->kind) {
	case PROTO_F_U64:
	case PROTO_F_U8:
		v = codec_get_uint(fd, msg);
		if (v < fd->min || v > fd->max)
			return KV_EINVAL;
		proto_writer_uint(w, v);
		return 0;
	case PROTO_F_STATUS:
		status = *(const int32_t *)proto_field_cptr(msg, fd->off);
		if (status > 0)
			return KV_EINVAL;
		proto_writer_int(w, status);
		return 0;
	case PROTO_F_BYTES:
		b = proto_field_cptr(msg, fd->off);
		if (b->len < fd->min || b->len > fd->max || (!b->ptr && b->len))
			return KV_EINVAL;
		proto_writer_bin(w, b->ptr, b->len);
		return 0;
	default:
		return proto_codec_encode_nested(fd, msg, w);
	}
}

int proto_codec_encode(const struct proto_family *f, const void *msg, struct proto_buf *out)
{
	uint8_t type = *(const uint8_t *)proto_field_cptr(msg, f->type_off);
	const struct proto_msg_desc *d = proto_table_find(f, type);
	struct proto_writer w;
	int err;

	if (!d)
		return KV_EINVAL;
	proto_writer_init(&w, out);
	proto_writer_array(&w, 2 + codec_wire_count(d));
	proto_writer_uint(&w, f->version);
	proto_writer_uint(&w, type);
	for (uint8_t i = 0; i < d->n_fields; i++) {
		err = codec_encode_field(&d->fields[i], msg, &w);
		if (err) {
			proto_writer_fail(&w, err);
			break;
		}
	}
	return proto_writer_finish(&w);
}

static int codec_decode_field(const struct proto_field *fd, void *msg, struct proto_reader *r,
                              struct proto_arena *arena)
{
	struct proto_bytes *b;
	uint64_t v;
	int64_t s;
	int err;

	switch (fd->kind) {
	case PROTO_F_U64:
	case PROTO_F_U8:
		err = proto_reader_uint(r, &v);
		if (err || v < fd->min || v > fd->max)
			return KV_EPROTO;
		if (fd->kind == PROTO_F_U8)
			*(uint8_t *)proto_field_ptr(msg, fd->off) = (uint8_t)v;
		else
			*(uint64_t *)proto_field_ptr(msg, fd->off) = v;
		return 0;
	case PROTO_F_STATUS:
		err = proto_reader_int(r, &s);
		if (err || s > 0 || s < INT32_MIN)
			return KV_EPROTO;
		*(int32_t *)proto_field_ptr(msg, fd->off) = (int32_t)s;
		return 0;
	case PROTO_F_BYTES:
		b = proto_field_ptr(msg, fd->off);
		err = proto_reader_bin(r, b);
		if (err || b->len < fd->min || b->len > fd->max)
			return KV_EPROTO;
		return 0;
	default:
		return proto_codec_decode_nested(fd, msg, r, arena);
	}
}

/* Reads [version, type, ...] up to the fields; returns the type's description. */
static int codec_decode_head(const struct proto_family *f, struct proto_reader *r,
                             const struct proto_msg_desc **d, uint8_t *type)
{
	uint32_t n;
	uint64_t version, t;

	if (proto_reader_enter(r, &n) || n < 2)
		return KV_EPROTO;
	if (proto_reader_uint(r, &version) || version != f->version)
		return KV_EPROTO;
	if (proto_reader_uint(r, &t) || t > UINT8_MAX)
		return KV_EPROTO;
	*d = proto_table_find(f, (uint8_t)t);
	if (!*d || n != 2 + codec_wire_count(*d))
		return KV_EPROTO;
	*type = (uint8_t)t;
	return 0;
}

int proto_codec_decode(const struct proto_family *f, const uint8_t *buf, size_t len, void *msg,
                       struct proto_arena *arena)
{
	const struct proto_msg_desc *d;
	struct proto_reader r;
	uint8_t type;
	int err;

	memset(msg, 0, f->msg_size);
	if (len > KV_MSG_BYTES_MAX)
		return KV_EPROTO;
	proto_reader_init(&r, buf, len);
	err = codec_decode_head(f, &r, &d, &type);
	if (err)
		goto out_clear;
	*(uint8_t *)proto_field_ptr(msg, f->type_off) = type;
	for (uint8_t i = 0; i < d->n_fields; i++) {
		err = codec_decode_field(&d->fields[i], msg, &r, arena);
		if (err)
			goto out_clear;
	}
	proto_reader_leave(&r);
	err = proto_reader_end(&r);
	if (err)
		goto out_clear;
	return 0;
out_clear:
	/* A half-decoded message must not look like a real one. */
	memset(msg, 0, f->msg_size);
	return err;
}

static int codec_equal_field(const struct proto_field *fd, const void *a, const void *b)
{
	const struct proto_bytes *ba, *bb;

	switch (fd->kind) {
	case PROTO_F_U64:
	case PROTO_F_U8:
		return codec_get_uint(fd, a) == codec_get_uint(fd, b);
	case PROTO_F_STATUS:
		return *(const int32_t *)proto_field_cptr(a, fd->off) ==
		       *(const int32_t *)proto_field_cptr(b, fd->off);
	case PROTO_F_BYTES:
		ba = proto_field_cptr(a, fd->off);
		bb = proto_field_cptr(b, fd->off);
		return ba->len == bb->len && (!ba->len || !memcmp(ba->ptr, bb->ptr, ba->len));
	default:
		return proto_codec_equal_nested(fd, a, b);
	}
}

int proto_codec_equal(const struct proto_family *f, const void *a, const void *b)
{
	uint8_t type = *(const uint8_t *)proto_field_cptr(a, f->type_off);
	const struct proto_msg_desc *d = proto_table_find(f, type);

	if (type != *(const uint8_t *)proto_field_cptr(b, f->type_off))
		return 0;
	if (!d)
		return 1; /* both unknown: nothing of theirs is defined */
	for (uint8_t i = 0; i < d->n_fields; i++) {
		if (!codec_equal_field(&d->fields[i], a, b))
			return 0;
	}
	return 1;
}
