/*
 * storaged_loop.c - storaged's one event loop: zmq_poll over the apply and
 * query sockets and the snapshot thread's pipe; after each wake, parked
 * reads whose index is now applied (or whose deadline passed) are answered,
 * and a failed background sync (storaged_syncer.c) stops the loop (F13).
 * Loop thread.
 */
#include "storaged.h"

#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <zmq.h>

#define STORAGED_DRAIN_MAX 64 /* messages from one socket per wake: the other gets its turn */

/* Decodes one received body and hands it to the socket's handler. */
static int storaged_loop_dispatch(struct storaged *sd, void *sock,
                                  const struct storaged_envelope *env, zmq_msg_t *body)
{
	struct proto_local m;
	const uint8_t *data = zmq_msg_data(body);
	size_t len = zmq_msg_size(body);
	proto_arena_init(&sd->arena, sd->arena_mem, STORAGED_ARENA_BYTES);
	int err = proto_local_decode(data, len, &m, &sd->arena);
	if (err != 0) {
		KV_LOG_WARN("storaged", "malformed request dropped", "bytes=%zu error=\"%s\"", len,
		            kv_strerror(err));
		if (sock == sd->apply_sock && err == KV_ENOMEM) {
			/* More entries than one APPLY may carry: raftd must send fewer. */
			struct proto_local r = {
			    .type = PROTO_APPLY_STATE,
			    .u.apply_state = {.status = KV_ETOOLARGE,
			                      .applied_index = sd->sm->applied_index,
			                      .term = sd->sm->applied_term}};
			storaged_sock_reply(sd, sock, env, &r);
		}
		return 0;
	}
	if (sock == sd->apply_sock)
		return storaged_apply_handle(sd, env, &m);
	return storaged_query_handle(sd, env, &m, data, len);
}

/* Handles what sock has queued, up to STORAGED_DRAIN_MAX messages. */
static int storaged_loop_drain(struct storaged *sd, void *sock)
{
	for (int i = 0; i < STORAGED_DRAIN_MAX; i++) {
		struct storaged_envelope env;
		zmq_msg_t body;
		int err = storaged_sock_recv(sock, &env, &body);
		if (err == KV_EBUSY)
			return 0; /* nothing more queued */
		if (err == KV_EIO)
			return err;
		if (err == 0)
			err = storaged_loop_dispatch(sd, sock, &env, &body);
		else
			err = 0; /* KV_EPROTO: an envelope we cannot echo; drop it */
		zmq_msg_close(&body);
		if (err != 0)
			return err;
	}
	return 0;
}

int storaged_loop_run(struct storaged *sd, volatile int *stop)
{
	zmq_pollitem_t items[3] = {
	    {.socket = sd->apply_sock, .events = ZMQ_POLLIN},
	    {.socket = sd->query_sock, .events = ZMQ_POLLIN},
	    {.socket = sd->snap_pair, .events = ZMQ_POLLIN},
	};
	while (!*stop) {
		int timeout =
		    storaged_park_timeout_ms(sd, kv_clock_mono_ms(), STORAGED_POLL_MS_MAX);
		if (zmq_poll(items, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			KV_LOG_ERROR("storaged", "poll failed", "error=\"%s\"",
			             zmq_strerror(errno));
			return KV_EIO;
		}
		int err = 0;
		if (items[0].revents & ZMQ_POLLIN)
			err = storaged_loop_drain(sd, sd->apply_sock);
		if (err == 0 && (items[1].revents & ZMQ_POLLIN))
			err = storaged_loop_drain(sd, sd->query_sock);
		if (err == 0 && (items[2].revents & ZMQ_POLLIN) && sd->snap_busy)
			storaged_snapper_collect(sd, 0);
		storaged_park_run(sd, kv_clock_mono_ms());
		uint64_t durable = 0;
		if (err == 0 && (err = storaged_syncer_durable(sd, &durable)) != 0)
			KV_LOG_ERROR("storaged", "background sync failed, exiting",
			             "durable_index=%" PRIu64 " error=\"%s\"", durable,
			             kv_strerror(err));
		if (err != 0)
			return err;
	}
	return 0;
}
