/*
 * proto_buf.c - the encoder's output buffer and the decoder's arena.
 *
 * A proto_buf belongs to one thread at a time; it grows by doubling up to
 * KV_MSG_BYTES_MAX (the ZMQ_MAXMSGSIZE of every socket), so a frame that a
 * peer would refuse is refused here first. The arena is memory the caller
 * lends; decoding carves arrays from it and never frees them one by one.
 */
#include "proto_buf.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <stdlib.h>
#include <string.h>

#define PROTO_BUF_CAP_MIN 256u

void proto_buf_reset(struct proto_buf *b)
{
	b->len = 0;
}

void proto_buf_free(struct proto_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Makes room for need bytes in total; need is at most KV_MSG_BYTES_MAX. */
static int buf_grow(struct proto_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : PROTO_BUF_CAP_MIN;
	uint8_t *p;

	while (cap < need)
		cap *= 2;
	if (cap > KV_MSG_BYTES_MAX)
		cap = KV_MSG_BYTES_MAX;
	p = realloc(b->ptr, cap);
	if (!p)
		return KV_ENOMEM;
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int proto_buf_append(struct proto_buf *b, const void *data, size_t len)
{
	int err;

	KV_ASSERT(b->len <= b->cap);
	if (len > KV_MSG_BYTES_MAX - b->len)
		return KV_ETOOLARGE;
	if (len > b->cap - b->len) {
		err = buf_grow(b, b->len + len);
		if (err)
			return err;
	}
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	return 0;
}

void proto_arena_init(struct proto_arena *a, void *base, size_t cap)
{
	KV_ASSERT(base != NULL || cap == 0);
	a->base = base;
	a->cap = cap;
	a->used = 0;
}

void *proto_arena_alloc(struct proto_arena *a, size_t n, size_t size, size_t align)
{
	uintptr_t at;
	size_t pad;

	KV_ASSERT(align && (align & (align - 1)) == 0 && a->used <= a->cap);
	KV_ASSERT(n > 0 && size > 0);
	at = (uintptr_t)a->base + a->used;
	pad = (align - (at & (align - 1))) & (align - 1);
	if (n > (SIZE_MAX - pad) / size)
		return NULL;
	if (pad + n * size > a->cap - a->used)
		return NULL;
	a->used += pad + n * size;
	return a->base + (a->used - n * size);
}
