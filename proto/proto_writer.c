/*
 * proto_writer.c - the msgpack writer of proto_writer.h.
 *
 * Runs on the encoding thread; the buffer it appends to is the caller's.
 */
#include "proto_writer.h"

#include "proto_buf.h"

#include "kv_assert.h"

#include <string.h>

void proto_writer_init(struct proto_writer *w, struct proto_buf *out)
{
	w->out = out;
	w->start = out->len;
	w->err = 0;
}

void proto_writer_fail(struct proto_writer *w, int err)
{
	KV_ASSERT(err < 0);
	if (!w->err)
		w->err = err;
}

/* Appends a format byte and v big-endian in width bytes (0 for none). */
static void writer_head(struct proto_writer *w, uint8_t format, unsigned width, uint64_t v)
{
	uint8_t tmp[9];
	int err;

	if (w->err)
		return;
	tmp[0] = format;
	for (unsigned i = 0; i < width; i++)
		tmp[1 + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
	err = proto_buf_append(w->out, tmp, 1 + width);
	if (err)
		proto_writer_fail(w, err);
}

void proto_writer_array(struct proto_writer *w, uint32_t n)
{
	if (n <= 15)
		writer_head(w, (uint8_t)(0x90 | n), 0, 0);
	else if (n <= UINT16_MAX)
		writer_head(w, 0xdc, 2, n);
	else
		writer_head(w, 0xdd, 4, n);
}

void proto_writer_uint(struct proto_writer *w, uint64_t v)
{
	if (v <= 0x7f)
		writer_head(w, (uint8_t)v, 0, 0);
	else if (v <= UINT8_MAX)
		writer_head(w, 0xcc, 1, v);
	else if (v <= UINT16_MAX)
		writer_head(w, 0xcd, 2, v);
	else if (v <= UINT32_MAX)
		writer_head(w, 0xce, 4, v);
	else
		writer_head(w, 0xcf, 8, v);
}

void proto_writer_int(struct proto_writer *w, int64_t v)
{
	if (v >= 0)
		proto_writer_uint(w, (uint64_t)v);
	else if (v >= -32)
		writer_head(w, (uint8_t)(int8_t)v, 0, 0);
	else if (v >= INT8_MIN)
		writer_head(w, 0xd0, 1, (uint64_t)v);
	else if (v >= INT16_MIN)
		writer_head(w, 0xd1, 2, (uint64_t)v);
	else if (v >= INT32_MIN)
		writer_head(w, 0xd2, 4, (uint64_t)v);
	else
		writer_head(w, 0xd3, 8, (uint64_t)v);
}

void proto_writer_bin(struct proto_writer *w, const uint8_t *ptr, uint32_t len)
{
	int err;

	KV_ASSERT(ptr != NULL || len == 0);
	if (len <= UINT8_MAX)
		writer_head(w, 0xc4, 1, len);
	else if (len <= UINT16_MAX)
		writer_head(w, 0xc5, 2, len);
	else
		writer_head(w, 0xc6, 4, len);
	if (w->err || len == 0)
		return;
	err = proto_buf_append(w->out, ptr, len);
	if (err)
		proto_writer_fail(w, err);
}

int proto_writer_finish(struct proto_writer *w)
{
	if (w->err)
		w->out->len = w->start;
	return w->err;
}
