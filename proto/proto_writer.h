/*
 * proto_writer.h - appends msgpack to a struct proto_buf (internal to proto/).
 *
 * The mirror of proto_reader.h: arrays, unsigned and signed integers and bin,
 * each in its shortest form. Errors are sticky: after the first failure
 * (KV_ETOOLARGE past KV_MSG_BYTES_MAX, KV_ENOMEM) later writes do nothing,
 * and proto_writer_finish() reports it and cuts the buffer back to where the
 * writer started, so a failed encode appends nothing.
 */
#ifndef RAFTKV_PROTO_WRITER_H
#define RAFTKV_PROTO_WRITER_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

struct proto_writer {
	struct proto_buf *out; /* borrowed for the writer's life */
	size_t start;          /* out->len when the writer began */
	int err;               /* the first error, or 0 */
};

void proto_writer_init(struct proto_writer *w, struct proto_buf *out);

/* Records err (when it is the first) so the encode fails as a whole. */
void proto_writer_fail(struct proto_writer *w, int err);

void proto_writer_array(struct proto_writer *w, uint32_t n);
void proto_writer_uint(struct proto_writer *w, uint64_t v);
void proto_writer_int(struct proto_writer *w, int64_t v);
void proto_writer_bin(struct proto_writer *w, const uint8_t *ptr, uint32_t len);

/* Returns the first error (and drops what was written) or 0. */
int proto_writer_finish(struct proto_writer *w);

#endif
