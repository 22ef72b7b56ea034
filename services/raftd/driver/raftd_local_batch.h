/*
 * raftd_local_batch.h - raftd's replies to the local gatewayd, batched:
 * while raftd_local_drain() handles the gateway's requests, the replies
 * they get (PROPOSE_RESP above all) are collected and leave as the frames
 * of one ZeroMQ message per identity, up to KV_LOCAL_BATCH_FRAMES_MAX
 * frames and KV_LOCAL_BATCH_BYTES_MAX bytes (no frame is added past it).
 * Each frame is a whole message (docs/protocol.md). Loop thread only.
 */
#ifndef RAFTKV_RAFTD_LOCAL_BATCH_H
#define RAFTKV_RAFTD_LOCAL_BATCH_H

#include "kv_limits.h"
#include "proto.h"
#include "raftd_read_table.h"

#include <stddef.h>
#include <stdint.h>

struct raftd_local_batch {
	int open; /* collecting (inside a drain); closed: replies go at once */
	uint8_t identity_len;
	uint8_t identity[RAFTD_IDENTITY_BYTES_MAX];
	uint32_t n;                              /* frames collected */
	uint32_t end[KV_LOCAL_BATCH_FRAMES_MAX]; /* frame i is frames.ptr[end[i-1] .. end[i]) */
	struct proto_buf frames;                 /* owned; freed by raftd_local_batch_free() */
	uint64_t frames_dropped;                 /* replies that could not be sent */
};

/* Starts collecting; replies are held until raftd_local_batch_close(). */
void raftd_local_batch_open(struct raftd_local_batch *b);

/*
 * Sends m to identity (borrowed for the call): at once while the batch is
 * closed, else added to it (sending what it holds first when the identity
 * differs or a limit is reached). Returns 0 or a KV_E* code (m dropped).
 */
int raftd_local_batch_reply(struct raftd_local_batch *b, void *router, const void *identity,
                            size_t identity_len, const struct proto_local *m);

/* Sends what is held and stops collecting. */
void raftd_local_batch_close(struct raftd_local_batch *b, void *router);

void raftd_local_batch_free(struct raftd_local_batch *b);

#endif
