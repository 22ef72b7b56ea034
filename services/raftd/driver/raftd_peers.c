/*
 * raftd_peers.c - the peer transport: one DEALER per other node for
 * outgoing messages, the ROUTER on --listen for incoming ones.
 *
 * The peers follow the configuration (raftd_peers_reconcile, after each step
 * that changed it; raftd_reconcile.h decides), at the addresses of the book
 * (raftd_book.h). Messages are accepted from any node the book knows.
 *
 * Sending never blocks: a message that cannot be queued (peer away, high-water
 * mark reached) is dropped and counted, because Raft retransmits. Incoming
 * messages are checked (decoder, sender identity, addressee) and bad ones are
 * dropped and counted, never fatal. Loop thread only.
 */
#include "raftd.h"

#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "kv_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEERS_IDENTITY_PREFIX "raftd-"
/*
 * ZMTP heartbeats on each outgoing connection: a peer that vanished without a
 * FIN (host down, network cut, pod back with a new IP) is noticed within the
 * timeout, the connection is dropped and libzmq reconnects, resolving the
 * peer's name again. Without them the dead connection lives until TCP gives
 * up (~15 minutes) and every message to that peer is lost meanwhile.
 */
#define PEERS_HEARTBEAT_IVL_MS     1000
#define PEERS_HEARTBEAT_TIMEOUT_MS 3000

int raftd_peers_init(struct raftd *d)
{
	d->n_peers = 0;
	d->peers_stale = 1;
	raftd_peers_reconcile(d);
	return 0;
}

int raftd_peers_index(const struct raftd *d, uint64_t id)
{
	return raftd_reconcile_slot(d->peers, d->n_peers, id);
}

/* Creates p's DEALER and connects it; on failure (a name that does not resolve yet) retries later.
 */
static void peers_connect(struct raftd *d, struct raftd_peer *p, uint64_t now_ms)
{
	char identity[32];
	int hwm = KV_PEER_SNDHWM, immediate = 1, ipv6 = (p->addr[0] == '[');
	int hb_ivl_ms = PEERS_HEARTBEAT_IVL_MS, hb_timeout_ms = PEERS_HEARTBEAT_TIMEOUT_MS;
	void *s = raftd_sock_new(d, ZMQ_DEALER);
	if (s == NULL)
		goto out_retry;
	int n =
	    snprintf(identity, sizeof(identity), PEERS_IDENTITY_PREFIX "%" PRIu64, d->opts.node_id);
	/* with Curve the key names the sender; a chosen routing id could be claimed by another */
	if (!d->curve.on)
		zmq_setsockopt(s, ZMQ_ROUTING_ID, identity, (size_t)n);
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	/* queue only to a live connection: a message to an absent peer is dropped at once */
	zmq_setsockopt(s, ZMQ_IMMEDIATE, &immediate, sizeof(immediate));
	zmq_setsockopt(s, ZMQ_IPV6, &ipv6, sizeof(ipv6));
	zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &hb_ivl_ms, sizeof(hb_ivl_ms));
	zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout_ms, sizeof(hb_timeout_ms));
	raftd_curve_client(d, s, p->curve_key);
	/* a name is resolved by libzmq at each (re)connect, not here: see above */
	if (zmq_connect(s, p->endpoint) != 0) {
		KV_LOG_WARN(RAFTD_SVC, "peer connect failed, retrying",
		            "peer=%" PRIu64 " endpoint=%s err=\"%s\"", p->id, p->endpoint,
		            zmq_strerror(errno));
		goto out_close_socket;
	}
	p->dealer = s;
	KV_LOG_DEBUG(RAFTD_SVC, "peer connecting", "peer=%" PRIu64 " endpoint=%s", p->id,
	             p->endpoint);
	return;
out_close_socket:
	zmq_close(s);
out_retry:
	p->next_connect_ms = now_ms + RAFTD_CONNECT_RETRY_MS;
}

/* Closes slot i: the peer left the configuration or moved. */
static void peers_drop(struct raftd *d, uint32_t i)
{
	struct raftd_peer *p = &d->peers[i];
	KV_LOG_INFO(RAFTD_SVC, "peer dropped", "peer=%" PRIu64 " addr=%s sent=%" PRIu64, p->id,
	            p->addr, p->sent);
	if (p->dealer != NULL)
		zmq_close(p->dealer); /* linger 0 (raftd_sock_new): queued messages go too */
	raftd_reconcile_remove(d->peers, &d->n_peers, i);
}

/* Takes a slot for t and connects it. */
static void peers_add(struct raftd *d, const struct raftd_peer_target *t, uint64_t now_ms)
{
	if (d->curve.on && t->curve_key[0] == '\0') {
		KV_LOG_WARN(RAFTD_SVC, "peer not connected: Curve is on and its key is not known",
		            "peer=%" PRIu64, t->id);
		return;
	}
	KV_ASSERT(d->n_peers < RAFT_NODES_MAX);
	struct raftd_peer *p = &d->peers[d->n_peers++];
	memset(p, 0, sizeof(*p));
	p->id = t->id;
	snprintf(p->addr, sizeof(p->addr), "%s", t->peer_address);
	snprintf(p->endpoint, sizeof(p->endpoint), "tcp://%s", t->peer_address);
	snprintf(p->curve_key, sizeof(p->curve_key), "%s", t->curve_key);
	KV_LOG_INFO(RAFTD_SVC, "peer added", "peer=%" PRIu64 " addr=%s", p->id, p->addr);
	peers_connect(d, p, now_ms);
}

void raftd_peers_reconcile(struct raftd *d)
{
	struct raftd_peer_target want[RAFT_NODES_MAX];
	struct raft_status st;
	uint32_t missing = 0;

	if (!d->peers_stale || d->raft == NULL)
		return;
	d->peers_stale = 0;
	raft_get_status(d->raft, &st);
	uint32_t n = raftd_reconcile_targets(&st.config, &d->book, &d->peer_list, d->opts.node_id,
	                                     want, &missing);
	if (missing > 0)
		KV_LOG_WARN(RAFTD_SVC, "members without an address in the book", "count=%u",
		            missing);
	for (uint32_t i = d->n_peers; i-- > 0;)
		if (!raftd_reconcile_keep(want, n, &d->peers[i]))
			peers_drop(d, i);
	uint64_t now_ms = kv_clock_mono_ms();
	for (uint32_t i = 0; i < n; i++)
		if (raftd_peers_index(d, want[i].id) < 0)
			peers_add(d, &want[i], now_ms);
}

/*
 * A DEALER that has sent nothing for RAFTD_PEER_REDIAL_MS is made again.
 * libzmq does not reconnect a connection whose handshake the other side
 * refused: a node that joins dials the members before they know its Curve
 * key, is refused, and would never reach them although they now accept it.
 * A peer that is merely down is redialed as libzmq would have.
 */
static void peers_redial_stuck(struct raftd *d, struct raftd_peer *p, uint64_t now_ms)
{
	if (p->dealer == NULL || p->failing_since_ms == 0 ||
	    now_ms - p->failing_since_ms < RAFTD_PEER_REDIAL_MS)
		return;
	p->redials++;
	if ((p->redials & (p->redials - 1)) == 0) /* the 1st, 2nd, 4th, ... */
		KV_LOG_INFO(RAFTD_SVC, "peer unreachable, connecting again",
		            "peer=%" PRIu64 " endpoint=%s redials=%" PRIu64, p->id, p->endpoint,
		            p->redials);
	zmq_close(p->dealer);
	p->dealer = NULL;
	p->failing_since_ms = 0;
	p->next_connect_ms = now_ms;
}

void raftd_peers_connect_due(struct raftd *d, uint64_t now_ms)
{
	for (uint32_t i = 0; i < d->n_peers; i++) {
		peers_redial_stuck(d, &d->peers[i], now_ms);
		if (d->peers[i].dealer == NULL && now_ms >= d->peers[i].next_connect_ms)
			peers_connect(d, &d->peers[i], now_ms);
	}
}

/* Replaces an APPEND's metadata-only entries by the WAL's, payloads attached. */
static int peers_attach_entries(struct raftd *d, const struct raft_append *a,
                                struct raft_entry *ents)
{
	KV_ASSERT(a->n_entries <= RAFT_APPEND_ENTRIES_MAX);
	for (uint32_t i = 0; i < a->n_entries; i++) {
		int rc = wal_get(d->wal, a->entries[i].index, &ents[i]);
		if (rc != 0)
			return rc; /* compacted meanwhile: the core will send a snapshot */
		KV_ASSERT(ents[i].index == a->entries[i].index);
		KV_ASSERT(ents[i].term == a->entries[i].term);
	}
	return 0;
}

/* A SNAPSHOT carries the sender's book: the receiver cannot read addresses from a compacted log. */
static int peers_attach_book(struct raftd *d, struct raft_snapshot *s)
{
	static uint8_t book[RAFTD_BOOK_BYTES_MAX];
	int n = raftd_book_encode(&d->book, book, sizeof(book));
	if (n < 0)
		return n;
	s->book = book;
	s->book_len = (uint32_t)n;
	return 0;
}

/* The chunk's bytes from the image file; a chunk that cannot be read is dropped, logged. */
static int peers_attach_chunk(struct raftd *d, const struct raft_snapshot *s, const uint8_t **out)
{
	int rc = raftd_snapfile_read_chunk(d, s->snap_index, s->offset, s->chunk_len, out);
	if (rc != 0)
		KV_LOG_WARN(RAFTD_SVC, "snapshot chunk unreadable, dropped",
		            "snap_index=%" PRIu64 " offset=%" PRIu64 " err=\"%s\"", s->snap_index,
		            s->offset, kv_strerror(rc));
	return rc;
}

int raftd_peers_encode(struct raftd *d, const struct raft_msg *m, zmq_msg_t *out)
{
	struct raft_entry ents[RAFT_APPEND_ENTRIES_MAX];
	struct raft_msg copy = *m;
	const struct raft_snapshot *s = &m->u.snapshot;
	int rc = 0;
	copy.cluster = d->cluster_id;
	if (m->type == RAFT_MSG_APPEND && m->u.append.n_entries > 0) {
		rc = peers_attach_entries(d, &m->u.append, ents);
		copy.u.append.entries = ents;
	} else if (m->type == RAFT_MSG_SNAPSHOT) {
		rc = peers_attach_book(d, &copy.u.snapshot);
		if (rc == 0 && s->chunk_len > 0)
			rc = peers_attach_chunk(d, s, &copy.u.snapshot.chunk);
	}
	if (rc != 0)
		return rc;
	proto_buf_reset(&d->buf);
	rc = proto_raft_encode(&copy, &d->buf);
	if (rc != 0)
		return rc;
	if (zmq_msg_init_size(out, d->buf.len) != 0)
		return KV_ENOMEM;
	memcpy(zmq_msg_data(out), d->buf.ptr, d->buf.len);
	return 0;
}

int raftd_peers_send_encoded(struct raftd *d, uint64_t peer_id, zmq_msg_t *msg)
{
	/* by id: a held message's peer may have left, or its slot gone to another */
	int i = raftd_peers_index(d, peer_id);
	struct raftd_peer *p = i < 0 ? NULL : &d->peers[i];
	if (p != NULL && p->dealer != NULL && zmq_msg_send(msg, p->dealer, ZMQ_DONTWAIT) >= 0) {
		p->sent++;
		p->failing_since_ms = 0;
		return 0;
	}
	if (p != NULL) {
		p->dropped++;
		if (p->failing_since_ms == 0)
			p->failing_since_ms = kv_clock_mono_ms();
	}
	d->peer_msgs_dropped++;
	zmq_msg_close(msg);
	return KV_EBUSY;
}

/* The node id in a "raftd-<id>" routing identity, or 0. */
static uint64_t peers_identity_id(const zmq_msg_t *identity)
{
	char text[32];
	size_t len = zmq_msg_size((zmq_msg_t *)identity);
	size_t prefix = strlen(PEERS_IDENTITY_PREFIX);
	if (len <= prefix || len >= sizeof(text))
		return 0;
	memcpy(text, zmq_msg_data((zmq_msg_t *)identity), len);
	text[len] = '\0';
	if (strncmp(text, PEERS_IDENTITY_PREFIX, prefix) != 0)
		return 0;
	char *end = NULL;
	unsigned long long id = strtoull(text + prefix, &end, 10);
	if (*end != '\0' || text[prefix] < '1' || text[prefix] > '9')
		return 0;
	return (uint64_t)id;
}

/* Decodes, checks and steps one received message; 0 or why it was dropped. */
static int peers_handle(struct raftd *d, const zmq_msg_t *identity, zmq_msg_t *payload)
{
	struct proto_arena arena;
	struct raft_msg m;
	proto_arena_init(&arena, d->arena_mem, RAFTD_ARENA_BYTES);
	/* with Curve, the node whose key authenticated the connection */
	uint64_t sender = raftd_curve_sender(d, payload, peers_identity_id(identity));
	/* any node the book knows: a joiner, or a member this node has not connected to yet */
	if (sender == 0 || raftd_book_find(d, sender) == NULL)
		return KV_EPROTO;
	int idx = raftd_peers_index(d, sender);
	int rc = proto_raft_decode(zmq_msg_data(payload), zmq_msg_size(payload), &m, &arena);
	if (rc != 0)
		return rc;
	if (m.from != sender) {
		if (d->curve.on) /* a member's key speaking for another member */
			raftd_curve_refuse_claim(d, sender, m.from);
		return KV_EPROTO;
	}
	if (m.to != d->opts.node_id)
		return KV_EPROTO;
	if (!raftd_identity_accept(d, &m))
		return 0; /* another cluster's: counted apart */
	if (idx >= 0)
		d->peers[idx].last_recv_ms = kv_clock_mono_ms();
	if (m.type == RAFT_MSG_PROPOSE || m.type == RAFT_MSG_PROPOSE_RESP)
		return raftd_relay_receive(d, &m); /* the drivers', not the core's */
	if (m.type == RAFT_MSG_SNAPSHOT)
		raftd_addresses_stash(d, &m);
	struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .msg = &m};
	return raftd_update_step(d, &ev);
}

/* Receives one multipart message; returns 0, KV_EBUSY when none, or KV_EPROTO (drained). */
static int peers_recv_one(struct raftd *d, zmq_msg_t *identity, zmq_msg_t *payload)
{
	if (zmq_msg_recv(identity, d->peer_router, ZMQ_DONTWAIT) < 0)
		return KV_EBUSY;
	int frames = 1, more = zmq_msg_more(identity);
	while (more) {
		zmq_msg_close(payload);
		zmq_msg_init(payload);
		if (zmq_msg_recv(payload, d->peer_router, ZMQ_DONTWAIT) < 0)
			return KV_EPROTO;
		frames++;
		more = zmq_msg_more(payload);
	}
	return frames == 2 ? 0 : KV_EPROTO;
}

uint32_t raftd_peers_drain(struct raftd *d, uint32_t budget)
{
	uint32_t n = 0;
	/* the gateway's answers this drain makes (relays answered, reads confirmed) leave together
	 */
	raftd_local_batch_open(&d->replies);
	while (n < budget) {
		zmq_msg_t identity, payload;
		zmq_msg_init(&identity);
		zmq_msg_init(&payload);
		int rc = peers_recv_one(d, &identity, &payload);
		if (rc != KV_EBUSY) {
			n++;
			if (rc == 0)
				rc = peers_handle(d, &identity, &payload);
			if (rc == KV_EPROTO || rc == KV_ENOMEM) {
				d->peer_msgs_dropped++;
				KV_LOG_DEBUG(RAFTD_SVC, "peer message dropped", "err=\"%s\"",
				             kv_strerror(rc));
			}
		}
		zmq_msg_close(&identity);
		zmq_msg_close(&payload);
		if (rc == KV_EBUSY)
			break;
	}
	raftd_local_batch_close(&d->replies, d->local_router);
	return n;
}
