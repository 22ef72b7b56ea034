/*
 * raftd_sock.c - the ZeroMQ context and raftd's three bound or connected
 * sockets (peer ROUTER, local ROUTER, storaged DEALER), with the options
 * every socket of raftd carries. Loop thread only.
 */
#include "raftd.h"

#include "kv_err.h"
#include "kv_limits.h"
#include "kv_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void *raftd_sock_new(struct raftd *d, int type)
{
	void *s = zmq_socket(d->zctx, type);
	if (s == NULL)
		return NULL;
	int linger = 0;
	int64_t max_bytes = KV_MSG_BYTES_MAX;
	int ivl_ms = 100, ivl_max_ms = 1000;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max_bytes, sizeof(max_bytes));
	zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl_ms, sizeof(ivl_ms));
	zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max_ms, sizeof(ivl_max_ms));
	return s;
}

int raftd_sock_send(void *sock, const void *identity, size_t identity_len, const void *payload,
                    size_t payload_len)
{
	if (identity != NULL &&
	    zmq_send(sock, identity, identity_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return errno == EAGAIN ? KV_EBUSY : KV_EIO;
	if (zmq_send(sock, payload, payload_len, ZMQ_DONTWAIT) < 0)
		return errno == EAGAIN ? KV_EBUSY : KV_EIO;
	return 0;
}

static int sock_bind(void *s, const char *endpoint, const char *what)
{
	if (zmq_bind(s, endpoint) == 0)
		return 0;
	KV_LOG_ERROR(RAFTD_SVC, "cannot bind", "socket=%s endpoint=%s err=\"%s\"", what, endpoint,
	             zmq_strerror(errno));
	return KV_EIO;
}

/* The local ROUTER for gatewayd and the DEALER to storaged's apply socket. */
static int sock_open_local(struct raftd *d)
{
	char ep[PATH_MAX + 16];
	int handover = 1, immediate = 1;

	d->local_router = raftd_sock_new(d, ZMQ_ROUTER);
	if (d->local_router == NULL)
		return KV_EIO;
	/* a restarted gatewayd reusing its identity takes over the old pipe */
	zmq_setsockopt(d->local_router, ZMQ_ROUTER_HANDOVER, &handover, sizeof(handover));
	snprintf(ep, sizeof(ep), "ipc://%s/raftd.sock", d->opts.sock_dir);
	if (sock_bind(d->local_router, ep, "local") != 0)
		return KV_EIO;

	d->apply_dealer = raftd_sock_new(d, ZMQ_DEALER);
	if (d->apply_dealer == NULL)
		return KV_EIO;
	/* sends fail at once while storaged is away; HELLO resyncs when it is back */
	zmq_setsockopt(d->apply_dealer, ZMQ_IMMEDIATE, &immediate, sizeof(immediate));
	snprintf(ep, sizeof(ep), "ipc://%s/storaged-apply.sock", d->opts.sock_dir);
	if (zmq_connect(d->apply_dealer, ep) != 0) {
		KV_LOG_ERROR(RAFTD_SVC, "cannot connect", "endpoint=%s err=\"%s\"", ep,
		             zmq_strerror(errno));
		return KV_EIO;
	}
	return 0;
}

int raftd_sock_open(struct raftd *d)
{
	d->zctx = zmq_ctx_new();
	if (d->zctx == NULL)
		return KV_ENOMEM;
	/* the ZAP handler is bound first: no handshake may find it missing */
	if (raftd_curve_zap_open(d) != 0)
		return KV_EIO;
	d->peer_router = raftd_sock_new(d, ZMQ_ROUTER);
	if (d->peer_router == NULL)
		return KV_EIO;
	raftd_curve_server(d, d->peer_router);
	int handover = 1;
	/*
	 * a peer that restarts reconnects with the same identity: let it take
	 * over. Not with Curve: peers there have no chosen identity (the key is
	 * the identity), and handover would let one member kick another's pipe.
	 */
	if (!d->curve.on)
		zmq_setsockopt(d->peer_router, ZMQ_ROUTER_HANDOVER, &handover, sizeof(handover));
	if (strchr(d->opts.listen, '[') != NULL) {
		int ipv6 = 1;
		zmq_setsockopt(d->peer_router, ZMQ_IPV6, &ipv6, sizeof(ipv6));
	}
	if (sock_bind(d->peer_router, d->opts.listen, "peer") != 0)
		return KV_EIO;
	int rc = sock_open_local(d);
	if (rc != 0)
		return rc;
	return raftd_peers_init(d);
}

void raftd_sock_close(struct raftd *d)
{
	for (uint32_t i = 0; i < d->n_peers; i++) {
		if (d->peers[i].dealer != NULL)
			zmq_close(d->peers[i].dealer);
		d->peers[i].dealer = NULL;
	}
	void **socks[] = {&d->peer_router, &d->local_router, &d->apply_dealer};
	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		if (*socks[i] != NULL)
			zmq_close(*socks[i]);
		*socks[i] = NULL;
	}
	raftd_curve_close(d);
	if (d->zctx != NULL)
		zmq_ctx_term(d->zctx);
	d->zctx = NULL;
}
