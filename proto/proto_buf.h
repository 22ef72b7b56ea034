/*
 * proto_buf.h - growing the output buffer and carving the decode arena
 * (internal to proto/; the public half is in proto.h).
 */
#ifndef RAFTKV_PROTO_BUF_H
#define RAFTKV_PROTO_BUF_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Appends len bytes. Returns 0, KV_ETOOLARGE when b would pass
 * KV_MSG_BYTES_MAX (b is unchanged) or KV_ENOMEM.
 */
int proto_buf_append(struct proto_buf *b, const void *data, size_t len);

/*
 * Carves n > 0 objects of size bytes aligned to align from the arena.
 * Returns NULL when they do not fit (the arena is unchanged).
 */
void *proto_arena_alloc(struct proto_arena *a, size_t n, size_t size, size_t align);

#endif
