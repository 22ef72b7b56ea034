/*
 * proto_reader.c - the bounded msgpack cursor of proto_reader.h.
 *
 * Runs on whichever thread decodes a frame; keeps no state of its own.
 * Lengths arrive big-endian in 1, 2, 4 or 8 bytes after a format byte; each
 * read first checks that those bytes are present, then that the payload the
 * length announces fits in what is left.
 */
#include "proto_reader.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"

void proto_reader_init(struct proto_reader *r, const uint8_t *buf, size_t len)
{
	KV_ASSERT(buf != NULL || len == 0);
	r->p = buf;
	r->left = len;
	r->depth = 0;
}

/* Consumes the format byte. */
static int reader_byte(struct proto_reader *r, uint8_t *b)
{
	if (r->left < 1)
		return KV_EPROTO;
	*b = r->p[0];
	r->p++;
	r->left--;
	return 0;
}

/* Consumes a big-endian unsigned of width bytes (1, 2, 4 or 8). */
static int reader_be(struct proto_reader *r, unsigned width, uint64_t *v)
{
	uint64_t x = 0;

	if (r->left < width)
		return KV_EPROTO;
	for (unsigned i = 0; i < width; i++)
		x = (x << 8) | r->p[i];
	r->p += width;
	r->left -= width;
	*v = x;
	return 0;
}

int proto_reader_enter(struct proto_reader *r, uint32_t *n)
{
	uint8_t f;
	uint64_t count;
	int err = reader_byte(r, &f);

	if (err)
		return err;
	if (f >= 0x90 && f <= 0x9f)
		count = f & 0x0fu;
	else if (f == 0xdc)
		err = reader_be(r, 2, &count);
	else if (f == 0xdd)
		err = reader_be(r, 4, &count);
	else
		return KV_EPROTO;
	if (err)
		return err;
	/* Every element takes at least one byte: a larger count is a lie. */
	if (count > r->left || r->depth >= KV_MSG_DEPTH_MAX)
		return KV_EPROTO;
	r->depth++;
	*n = (uint32_t)count;
	return 0;
}

void proto_reader_leave(struct proto_reader *r)
{
	KV_ASSERT(r->depth > 0);
	r->depth--;
}

int proto_reader_uint(struct proto_reader *r, uint64_t *v)
{
	uint8_t f;
	int err = reader_byte(r, &f);

	if (err)
		return err;
	if (f <= 0x7f) {
		*v = f;
		return 0;
	}
	if (f < 0xcc || f > 0xcf)
		return KV_EPROTO;
	return reader_be(r, 1u << (f - 0xcc), v);
}

int proto_reader_int(struct proto_reader *r, int64_t *v)
{
	uint8_t f;
	uint64_t x;
	unsigned width;
	int err;

	if (r->left < 1)
		return KV_EPROTO;
	f = r->p[0];
	if (f <= 0x7f || (f >= 0xcc && f <= 0xcf)) {
		err = proto_reader_uint(r, &x);
		if (err || x > (uint64_t)INT64_MAX)
			return KV_EPROTO;
		*v = (int64_t)x;
		return 0;
	}
	r->p++;
	r->left--;
	if (f >= 0xe0) {
		*v = (int64_t)f - 256; /* negative fixint: -32..-1 */
		return 0;
	}
	if (f < 0xd0 || f > 0xd3)
		return KV_EPROTO;
	width = 1u << (f - 0xd0);
	err = reader_be(r, width, &x);
	if (err)
		return err;
	/* Sign-extend from the encoded width. */
	if (width < 8 && (x >> (width * 8 - 1)) & 1u)
		x |= ~(uint64_t)0 << (width * 8);
	*v = (int64_t)x;
	return 0;
}

int proto_reader_bin(struct proto_reader *r, struct proto_bytes *b)
{
	uint8_t f;
	uint64_t len;
	int err = reader_byte(r, &f);

	if (err)
		return err;
	if (f < 0xc4 || f > 0xc6)
		return KV_EPROTO;
	err = reader_be(r, 1u << (f - 0xc4), &len);
	if (err)
		return err;
	if (len > r->left)
		return KV_EPROTO;
	b->ptr = r->p;
	b->len = (uint32_t)len;
	r->p += len;
	r->left -= len;
	return 0;
}

int proto_reader_end(const struct proto_reader *r)
{
	return r->left == 0 && r->depth == 0 ? 0 : KV_EPROTO;
}
