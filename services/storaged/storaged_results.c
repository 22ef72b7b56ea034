/*
 * storaged_results.c - the RESULT of each command proposed through this
 * node's gateway, sent on the PUSH socket to gatewayd-results.sock.
 *
 * The RESULTs of one APPLY go as the frames of as few ZeroMQ messages as
 * the batch limits allow (KV_LOCAL_BATCH_FRAMES_MAX frames; no frame is
 * added once a message holds KV_LOCAL_BATCH_BYTES_MAX bytes): one send and
 * one wake-up of the gateway per batch instead of per write. Each frame is
 * a whole RESULT, decoded on its own (docs/protocol.md). Loop thread.
 */
#include "storaged.h"

#include "kv_assert.h"
#include "kv_limits.h"
#include "kv_log.h"

#include <errno.h>
#include <zmq.h>

/* Encodes the RESULT of res into sd->out. */
static int results_encode(struct storaged *sd, const struct sm_result *res)
{
	struct proto_local r = {.type = PROTO_RESULT, .req_id = res->req_id};
	r.u.result = (struct proto_result){.index = res->index,
	                                   .term = res->term,
	                                   .status = res->status,
	                                   .create_index = res->create_index,
	                                   .mod_index = res->mod_index};
	if (res->body_len > 0) /* a TXN's outcome, kept by sm until the next batch */
		r.u.result.body =
		    (struct proto_bytes){sd->sm->result_body.ptr + res->body_off, res->body_len};
	proto_buf_reset(&sd->out);
	return proto_local_encode(&r, &sd->out);
}

static int results_is_ours(const struct storaged *sd, const struct sm_result *res)
{
	return res->has_result && res->origin == sd->cfg.node_id;
}

/* The index of the next result of ours at or after i, or n. */
static uint32_t results_next(const struct storaged *sd, uint32_t i, uint32_t n)
{
	while (i < n && !results_is_ours(sd, &sd->results[i]))
		i++;
	return i;
}

void storaged_results_send(struct storaged *sd, uint32_t n)
{
	uint32_t frames = 0; /* in the message being sent */
	size_t bytes = 0;
	for (uint32_t i = results_next(sd, 0, n); i < n; i = results_next(sd, i + 1, n)) {
		/* every field comes from sm, within its range; and a message left open by
		 * ZMQ_SNDMORE could not be closed without this frame */
		int rc = results_encode(sd, &sd->results[i]);
		KV_ASSERT(rc == 0);
		frames++;
		bytes += sd->out.len;
		int more = results_next(sd, i + 1, n) < n && frames < KV_LOCAL_BATCH_FRAMES_MAX &&
		           bytes < KV_LOCAL_BATCH_BYTES_MAX;
		/* No envelope: a PUSH socket; without a gateway it would block, so drop. */
		if (zmq_send(sd->results_sock, sd->out.ptr, sd->out.len,
		             ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) < 0) {
			/* only a first frame can fail: then nothing of this message was queued */
			KV_ASSERT(frames == 1);
			KV_LOG_DEBUG("storaged", "RESULT dropped", "error=\"%s\"",
			             zmq_strerror(errno));
			sd->results_dropped++;
			frames = 0;
			bytes = 0;
			continue;
		}
		if (!more) {
			frames = 0;
			bytes = 0;
		}
	}
	KV_ASSERT(frames == 0); /* every message sent was finished */
}
