/*
 * gw_zmq.c - the ZeroMQ sockets to raftd and storaged, inside h2o's evloop.
 *
 * Loop thread only. Each socket's ZMQ_FD is watched by the loop, but that fd
 * is edge-triggered: it signals a change, not "a message is queued". So on
 * every wakeup, and after every send (a send may consume the signal), we
 * read ZMQ_EVENTS and receive until the socket says it is empty; a 10 ms
 * tick in gw_main.c drains once more as a safety net.
 */
#include "gw.h"
#include "gw_read.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "kv_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define GW_ARENA_BYTES   (1u << 20) /* LIST_RESP and WATCH_RESP items, STATUS_RESP members */
#define GW_ZMQ_HWM       10000      /* messages queued per socket; bounded by max-inflight anyway */
#define GW_ZMQ_DRAIN_MAX 4096       /* messages per socket per drain: keeps HTTP responsive */

static int zmq_set_int(void *s, int opt, int v)
{
	return zmq_setsockopt(s, opt, &v, sizeof(v));
}

static void *zmq_socket_open(struct gw *gw, int type, const char *name, int bind_it)
{
	char ep[256];
	int n = snprintf(ep, sizeof(ep), "ipc://%s/%s", gw->cfg.sock_dir, name);
	if (n < 0 || (size_t)n >= sizeof(ep) || strlen(gw->cfg.sock_dir) + strlen(name) > 100) {
		KV_LOG_ERROR(GW_SVC, "socket path too long", "sock_dir=%s", gw->cfg.sock_dir);
		return NULL;
	}
	void *s = zmq_socket(gw->zmq.ctx, type);
	if (s == NULL)
		return NULL;
	int64_t maxmsg = KV_MSG_BYTES_MAX;
	zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	zmq_set_int(s, ZMQ_LINGER, 0);
	zmq_set_int(s, ZMQ_SNDHWM, GW_ZMQ_HWM);
	zmq_set_int(s, ZMQ_RCVHWM, GW_ZMQ_HWM);
	if (type == ZMQ_DEALER) /* fail a send at once while the peer is down */
		zmq_set_int(s, ZMQ_IMMEDIATE, 1);
	if (bind_it)
		unlink(ep + strlen("ipc://")); /* a stale socket file from a killed run */
	int rc = bind_it ? zmq_bind(s, ep) : zmq_connect(s, ep);
	if (rc != 0) {
		KV_LOG_ERROR(GW_SVC, "zmq endpoint failed", "endpoint=%s err=\"%s\"", ep,
		             zmq_strerror(errno));
		zmq_close(s);
		return NULL;
	}
	return s;
}

static void zmq_on_readable(h2o_socket_t *sock, const char *err)
{
	gw_zmq_drain(sock->data);
}

static void zmq_on_soon(h2o_timeout_entry_t *entry)
{
	struct gw *gw = H2O_STRUCT_FROM_MEMBER(struct gw, zmq.soon_entry, entry);
	gw_zmq_drain(gw);
}

static int zmq_watch(struct gw *gw, int i, void *s)
{
	int fd = -1;
	size_t len = sizeof(fd);
	if (zmq_getsockopt(s, ZMQ_FD, &fd, &len) != 0)
		return KV_EIO;
	/* h2o owns (and closes) its fd; zmq keeps its own */
	int dupfd = dup(fd);
	if (dupfd < 0)
		return KV_EIO;
	gw->zmq.watch[i] = h2o_evloop_socket_create(gw->ctx.loop, dupfd, H2O_SOCKET_FLAG_DONT_READ);
	gw->zmq.watch[i]->data = gw;
	h2o_socket_read_start(gw->zmq.watch[i], zmq_on_readable);
	return 0;
}

int gw_zmq_open(struct gw *gw)
{
	struct gw_zmq *z = &gw->zmq;
	z->arena = malloc(GW_ARENA_BYTES);
	z->ctx = zmq_ctx_new();
	if (z->arena == NULL || z->ctx == NULL)
		return KV_ENOMEM;
	z->raftd = zmq_socket_open(gw, ZMQ_DEALER, "raftd.sock", 0);
	z->storaged = zmq_socket_open(gw, ZMQ_DEALER, "storaged-query.sock", 0);
	z->results = zmq_socket_open(gw, ZMQ_PULL, "gatewayd-results.sock", 1);
	if (z->raftd == NULL || z->storaged == NULL || z->results == NULL)
		return KV_EIO;
	void *socks[3] = {z->raftd, z->storaged, z->results};
	for (int i = 0; i < 3; i++)
		if (zmq_watch(gw, i, socks[i]) != 0)
			return KV_EIO;
	h2o_timeout_init(gw->ctx.loop, &z->soon, 0);
	z->soon_entry.cb = zmq_on_soon;
	return 0;
}

void gw_zmq_close(struct gw *gw)
{
	struct gw_zmq *z = &gw->zmq;
	for (int i = 0; i < 3; i++) {
		if (z->watch[i] != NULL)
			h2o_socket_close(z->watch[i]);
		z->watch[i] = NULL;
	}
	void **socks[3] = {&z->raftd, &z->storaged, &z->results};
	for (int i = 0; i < 3; i++) {
		if (*socks[i] != NULL)
			zmq_close(*socks[i]);
		*socks[i] = NULL;
	}
	if (z->ctx != NULL)
		zmq_ctx_term(z->ctx);
	z->ctx = NULL;
	proto_buf_free(&z->out);
	free(z->arena);
	z->arena = NULL;
}

int gw_zmq_send(struct gw *gw, int to_raftd, const struct proto_local *m)
{
	struct gw_zmq *z = &gw->zmq;
	proto_buf_reset(&z->out);
	int err = proto_local_encode(m, &z->out);
	if (err != 0) {
		KV_LOG_ERROR(GW_SVC, "encode failed", "type=%u err=%s", m->type, kv_strerror(err));
		return err;
	}
	void *s = to_raftd ? z->raftd : z->storaged;
	int rc = zmq_send(s, z->out.ptr, z->out.len, ZMQ_DONTWAIT);
	/* the send may have taken the fd's edge: look again from the loop */
	if (!h2o_timeout_is_linked(&z->soon_entry))
		h2o_timeout_link(gw->ctx.loop, &z->soon, &z->soon_entry);
	if (rc < 0) {
		KV_LOG_DEBUG(GW_SVC, "send failed", "to=%s err=\"%s\"",
		             to_raftd ? "raftd" : "storaged", zmq_strerror(errno));
		return KV_EUNAVAIL;
	}
	return 0;
}

int gw_zmq_connected(struct gw *gw, int to_raftd)
{
	void *s = to_raftd ? gw->zmq.raftd : gw->zmq.storaged;
	int events = 0;
	size_t len = sizeof(events);
	if (s == NULL || zmq_getsockopt(s, ZMQ_EVENTS, &events, &len) != 0)
		return 0;
	return (events & ZMQ_POLLOUT) != 0;
}

/* Decodes one message (the last frame of a multipart one) and dispatches it. */
static void zmq_handle(struct gw *gw, zmq_msg_t *msg)
{
	struct proto_local m;
	struct proto_arena arena;
	proto_arena_init(&arena, gw->zmq.arena, GW_ARENA_BYTES);
	int err = proto_local_decode(zmq_msg_data(msg), zmq_msg_size(msg), &m, &arena);
	if (err != 0) {
		KV_LOG_WARN(GW_SVC, "malformed local message dropped", "bytes=%zu err=%s",
		            zmq_msg_size(msg), kv_strerror(err));
		return;
	}
	switch (m.type) {
	case PROTO_STATUS_RESP:
		gw_status_update(gw, &m);
		break;
	case PROTO_STATS_RESP:
		gw_stats_update(gw, &m);
		gw_local_saw(&gw->local, m.u.stats_resp.applied_index);
		break;
	case PROTO_TRANSFER_RESP:
		if (m.u.transfer_resp.status != 0)
			KV_LOG_WARN(GW_SVC, "leadership transfer refused", "err=%s",
			            kv_strerror(m.u.transfer_resp.status));
		return;
	case PROTO_PROPOSE_RESP:
	case PROTO_MEMBER_CHANGE_RESP:
	case PROTO_READ_INDEX_RESP:
	case PROTO_RESULT:
		break;
	case PROTO_GET_RESP: /* a local read may not show an older state afterwards */
		gw_local_saw(&gw->local, m.u.get_resp.applied_index);
		break;
	case PROTO_LIST_RESP:
		gw_local_saw(&gw->local, m.u.list_resp.applied_index);
		break;
	case PROTO_SNAPSHOT_DONE: /* a backup for GET /v1/snapshot (gw_snapshot.c) */
	case PROTO_WATCH_RESP:
	case PROTO_LEASE_QUERY_RESP:
		break;
	default:
		KV_LOG_WARN(GW_SVC, "unexpected local message dropped", "type=%u", m.type);
		return;
	}
	if (gw_lease_clock_take(gw, &m) || gw_read_on_batch_resp(gw, &m))
		return;
	gw_pending_dispatch(gw, &m);
}

/* Receives what s has queued; returns after GW_ZMQ_DRAIN_MAX messages at most. */
static void zmq_drain_one(struct gw *gw, void *s)
{
	for (int k = 0; k < GW_ZMQ_DRAIN_MAX; k++) {
		int events = 0;
		size_t len = sizeof(events);
		if (zmq_getsockopt(s, ZMQ_EVENTS, &events, &len) != 0 || !(events & ZMQ_POLLIN))
			return;
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			return;
		}
		/* each frame is a whole message: a batch is several (KV_LOCAL_BATCH_*); past
		 * the limit, the frames left are read as the next message, still one by one */
		for (uint32_t f = 1;; f++) {
			int more = zmq_msg_more(&msg);
			zmq_handle(gw, &msg);
			zmq_msg_close(&msg);
			if (!more || f >= KV_LOCAL_BATCH_FRAMES_MAX)
				break;
			zmq_msg_init(&msg);
			if (zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&msg);
				return;
			}
		}
	}
	/* more is queued: come back from the loop so HTTP gets its turn */
	if (!h2o_timeout_is_linked(&gw->zmq.soon_entry))
		h2o_timeout_link(gw->ctx.loop, &gw->zmq.soon, &gw->zmq.soon_entry);
}

void gw_zmq_drain(struct gw *gw)
{
	if (gw->zmq.raftd == NULL)
		return;
	zmq_drain_one(gw, gw->zmq.raftd);
	zmq_drain_one(gw, gw->zmq.storaged);
	zmq_drain_one(gw, gw->zmq.results);
}
