/*
 * storaged_sock.c - storaged's ZeroMQ sockets: opening them with the limits
 * every socket gets (ZMQ_MAXMSGSIZE, ZMQ_LINGER 0), receiving a request with
 * its routing envelope, and sending a reply behind that envelope. Loop thread.
 */
#include "storaged.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "kv_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#define STORAGED_IPC_PATH_BYTES_MAX 100u /* sun_path holds 108 bytes */

static void *storaged_sock_new(struct storaged *sd, int type)
{
	void *s = zmq_socket(sd->zctx, type);
	if (s == NULL)
		return NULL;
	int64_t max = KV_MSG_BYTES_MAX;
	int linger = 0;
	if (zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof(max)) != 0 ||
	    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger)) != 0) {
		zmq_close(s);
		return NULL;
	}
	return s;
}

/* Opens a socket of type and binds (or connects) it to ipc://<sock-dir>/<name>. */
static int storaged_sock_ipc(struct storaged *sd, int type, const char *name, int bind, void **out)
{
	char ep[SM_PATH_BYTES_MAX];
	int n = snprintf(ep, sizeof(ep), "ipc://%s/%s", sd->cfg.sock_dir, name);
	if (n < 0 || (size_t)n - 6 > STORAGED_IPC_PATH_BYTES_MAX) {
		KV_LOG_ERROR("storaged", "socket path too long", "path=%s/%s", sd->cfg.sock_dir,
		             name);
		return KV_EINVAL;
	}
	void *s = storaged_sock_new(sd, type);
	if (s == NULL)
		return KV_EIO;
	if (type == ZMQ_PUSH) {
		int hwm = STORAGED_RESULTS_HWM;
		zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	}
	if ((bind ? zmq_bind(s, ep) : zmq_connect(s, ep)) != 0) {
		KV_LOG_ERROR("storaged", bind ? "bind failed" : "connect failed",
		             "endpoint=%s error=\"%s\"", ep, zmq_strerror(errno));
		zmq_close(s);
		return KV_EIO;
	}
	*out = s;
	return 0;
}

int storaged_sock_open(struct storaged *sd)
{
	if (mkdir(sd->cfg.sock_dir, 0755) != 0 && errno != EEXIST) {
		KV_LOG_ERROR("storaged", "cannot create socket directory", "dir=%s error=\"%s\"",
		             sd->cfg.sock_dir, strerror(errno));
		return kv_err_from_errno(errno);
	}
	sd->zctx = zmq_ctx_new();
	if (sd->zctx == NULL)
		return KV_ENOMEM;
	int err = storaged_sock_ipc(sd, ZMQ_ROUTER, "storaged-apply.sock", 1, &sd->apply_sock);
	if (err == 0)
		err = storaged_sock_ipc(sd, ZMQ_ROUTER, "storaged-query.sock", 1, &sd->query_sock);
	if (err == 0)
		err =
		    storaged_sock_ipc(sd, ZMQ_PUSH, "gatewayd-results.sock", 0, &sd->results_sock);
	if (err == 0 && (sd->snap_pair = storaged_sock_new(sd, ZMQ_PAIR)) == NULL)
		err = KV_EIO;
	if (err == 0 && zmq_bind(sd->snap_pair, "inproc://storaged-snap") != 0)
		err = KV_EIO;
	return err;
}

void storaged_sock_close(struct storaged *sd)
{
	void **socks[] = {&sd->apply_sock, &sd->query_sock, &sd->results_sock, &sd->snap_pair};
	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		if (*socks[i] != NULL)
			zmq_close(*socks[i]);
		*socks[i] = NULL;
	}
	if (sd->zctx != NULL)
		zmq_ctx_term(sd->zctx);
	sd->zctx = NULL;
}

int storaged_sock_recv(void *sock, struct storaged_envelope *env, void *body_msg)
{
	zmq_msg_t *body = body_msg;
	int bad = 0;
	env->n = 0;
	for (;;) {
		zmq_msg_init(body);
		if (zmq_msg_recv(body, sock, ZMQ_DONTWAIT) < 0) {
			int e = errno;
			zmq_msg_close(body);
			return e == EAGAIN ? KV_EBUSY : KV_EIO;
		}
		if (!zmq_msg_more(body))
			break;
		size_t len = zmq_msg_size(body);
		if (env->n < STORAGED_ENVELOPE_FRAMES_MAX && len <= STORAGED_ENVELOPE_FRAME_BYTES) {
			memcpy(env->frame[env->n], zmq_msg_data(body), len);
			env->len[env->n++] = (uint32_t)len;
		} else {
			bad = 1; /* more routing than any of our peers sends */
		}
		zmq_msg_close(body);
	}
	return bad ? KV_EPROTO : 0;
}

int storaged_sock_reply(struct storaged *sd, void *sock, const struct storaged_envelope *env,
                        const struct proto_local *m)
{
	proto_buf_reset(&sd->out);
	int err = proto_local_encode(m, &sd->out);
	if (err != 0) {
		KV_LOG_ERROR("storaged", "cannot encode reply", "type=%u error=\"%s\"", m->type,
		             kv_strerror(err));
		return err;
	}
	for (uint32_t i = 0; env != NULL && i < env->n; i++) {
		if (zmq_send(sock, env->frame[i], env->len[i], ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
			goto out_dropped;
	}
	if (zmq_send(sock, sd->out.ptr, sd->out.len, ZMQ_DONTWAIT) < 0)
		goto out_dropped;
	return 0;

out_dropped:
	/* The peer is gone or not keeping up; it has its own deadline. */
	KV_LOG_DEBUG("storaged", "reply dropped", "type=%u error=\"%s\"", m->type,
	             zmq_strerror(errno));
	return KV_EUNAVAIL;
}
