/*
 * proto_reader.h - a bounded cursor over one msgpack frame (internal to proto/).
 *
 * The reader never allocates and never trusts a length: every array count and
 * byte-string length is checked against the bytes left before it is used,
 * and array nesting is bounded by KV_MSG_DEPTH_MAX. It reads only the subset
 * of msgpack that proto/ writes: arrays, unsigned and signed integers, bin.
 * Every function returns 0 or KV_EPROTO; after an error the cursor is
 * undefined and the frame must be dropped.
 */
#ifndef RAFTKV_PROTO_READER_H
#define RAFTKV_PROTO_READER_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

struct proto_reader {
	const uint8_t *p; /* next byte; borrowed from the frame */
	size_t left;      /* bytes from p to the end of the frame */
	unsigned depth;   /* arrays entered and not yet left */
};

void proto_reader_init(struct proto_reader *r, const uint8_t *buf, size_t len);

/*
 * Reads an array header and enters it. n is at most the bytes left, as each
 * element takes at least one byte. Fails past KV_MSG_DEPTH_MAX levels.
 */
int proto_reader_enter(struct proto_reader *r, uint32_t *n);

/* Leaves the innermost array; its elements must all have been read. */
void proto_reader_leave(struct proto_reader *r);

/* An unsigned integer (positive fixint, uint8..uint64). */
int proto_reader_uint(struct proto_reader *r, uint64_t *v);

/* A signed integer (fixint, int8..int64, or a uint up to INT64_MAX). */
int proto_reader_int(struct proto_reader *r, int64_t *v);

/* A bin of at most the bytes left; b points into the frame. */
int proto_reader_bin(struct proto_reader *r, struct proto_bytes *b);

/* 0 when the whole frame has been read and every array left. */
int proto_reader_end(const struct proto_reader *r);

#endif
