/*
 * raftd_local_batch.c - raftd's replies to the local gatewayd, several per
 * ZeroMQ message (raftd_local_batch.h): one send, and one wake-up of the
 * gateway, per batch instead of per request. Loop thread only.
 */
#include "raftd_local_batch.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_log.h"
#include "raftd.h"

#include <errno.h>
#include <string.h>
#include <zmq.h>

void raftd_local_batch_open(struct raftd_local_batch *b)
{
	KV_ASSERT(b->n == 0);
	b->open = 1;
}

/* Sends the held frames behind their identity as one message. */
static void batch_send(struct raftd_local_batch *b, void *router)
{
	if (b->n == 0)
		return;
	uint32_t sent = 0;
	if (zmq_send(router, b->identity, b->identity_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
		/* once the first frame is queued, ZeroMQ takes the rest of the message */
		for (uint32_t start = 0; sent < b->n; start = b->end[sent++]) {
			int flags = ZMQ_DONTWAIT | (sent + 1 < b->n ? ZMQ_SNDMORE : 0);
			if (zmq_send(router, b->frames.ptr + start, b->end[sent] - start, flags) <
			    0)
				break;
		}
	}
	if (sent < b->n) {
		b->frames_dropped += b->n - sent;
		KV_LOG_WARN(RAFTD_SVC, "local replies dropped", "n=%u err=\"%s\"", b->n - sent,
		            zmq_strerror(errno));
	}
	b->n = 0;
	proto_buf_reset(&b->frames);
}

static int batch_send_now(struct raftd_local_batch *b, void *router, const void *identity,
                          size_t identity_len, const struct proto_local *m)
{
	proto_buf_reset(&b->frames);
	int rc = proto_local_encode(m, &b->frames);
	if (rc == 0)
		rc = raftd_sock_send(router, identity, identity_len, b->frames.ptr, b->frames.len);
	proto_buf_reset(&b->frames);
	return rc;
}

int raftd_local_batch_reply(struct raftd_local_batch *b, void *router, const void *identity,
                            size_t identity_len, const struct proto_local *m)
{
	if (identity_len == 0 || identity_len > RAFTD_IDENTITY_BYTES_MAX)
		return KV_EINVAL;
	if (!b->open)
		return batch_send_now(b, router, identity, identity_len, m);
	if (b->n > 0 &&
	    (b->identity_len != identity_len || memcmp(b->identity, identity, identity_len) != 0 ||
	     b->n == KV_LOCAL_BATCH_FRAMES_MAX || b->frames.len >= KV_LOCAL_BATCH_BYTES_MAX))
		batch_send(b, router);
	if (b->n == 0) {
		memcpy(b->identity, identity, identity_len);
		b->identity_len = (uint8_t)identity_len;
	}
	int rc = proto_local_encode(m, &b->frames); /* appends; unchanged on failure */
	if (rc != 0)
		return rc;
	b->end[b->n++] = (uint32_t)b->frames.len;
	return 0;
}

void raftd_local_batch_close(struct raftd_local_batch *b, void *router)
{
	batch_send(b, router);
	b->open = 0;
}

void raftd_local_batch_free(struct raftd_local_batch *b)
{
	proto_buf_free(&b->frames);
	b->n = 0;
	b->open = 0;
}
