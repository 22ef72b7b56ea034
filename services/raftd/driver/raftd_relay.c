/*
 * raftd_relay.c - a follower carries its gateway's writes to the leader.
 *
 * A PROPOSE from the local gatewayd that the core refuses with
 * KV_ENOTLEADER while a leader is known goes to the leader's raftd as a
 * peer PROPOSE (over the authenticated peer connection), remembered under a
 * relay id (raftd_relay_table.h). The leader checks the sender is a member,
 * proposes the command as if its own gateway had, and answers PROPOSE_RESP
 * at once: appended at index/term, or why not. The origin hands that answer
 * to its gateway as a normal PROPOSE_RESP; the command's origin and req_id
 * are the gateway's, so the RESULT comes from the origin node's own storaged.
 *
 * Nothing is ever relayed twice: an answer that is lost (the leader gone,
 * the message dropped, this process restarted) leaves the gateway's call
 * unanswered, and the gateway says 504 at its deadline, as it does for a
 * local proposal whose outcome is unknown. Only an answer saying nothing was
 * appended (not leader, busy) lets the gateway send the write again.
 * Loop thread only.
 */
#include "raftd.h"

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

/* Bound on waiting for the answers to this node's relays after SIGTERM (a round trip). */
#define RAFTD_RELAY_FINISH_MS 500u
/* A node further behind the leader's commit index than this relays nothing. */
#define RAFTD_RELAY_LAG_MAX 1024u

/* PROPOSE_RESP's reject: why nothing was appended. */
enum relay_reject {
	RELAY_APPENDED = 0,
	RELAY_NOT_LEADER = 1,
	RELAY_BUSY = 2,
	RELAY_REFUSED = 3,
};

/* A first relay id no earlier process of this node is likely to have used. */
static uint64_t relay_first_id(void)
{
	uint64_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			v = 0;
		close(fd);
	}
	if (v == 0)
		v = kv_clock_mono_us() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	return v >> 1; /* far from wrapping */
}

void raftd_relay_init(struct raftd *d)
{
	raftd_relay_table_init(d->relays, relay_first_id());
}

/*
 * Encodes m and sends it to m->to now (not held for the sync: it promises
 * nothing). 0 once queued on a live connection; else nothing was sent.
 */
static int relay_send(struct raftd *d, const struct raft_msg *m)
{
	zmq_msg_t out;
	int rc = raftd_peers_encode(d, m, &out);
	if (rc != 0)
		return rc;
	return raftd_peers_send_encoded(d, m->to, &out);
}

/*
 * The RESULT of a relayed write comes from this node's storaged once it has
 * applied the entry: not before storaged answered since this raftd started,
 * nor while it is more than RAFTD_RELAY_LAG_MAX entries behind the leader's
 * commit index (a restarted node catching up), or the write would wait for
 * that. The gateway forwards such writes over HTTP.
 */
static int relay_caught_up(const struct raftd *d)
{
	struct raft_status st;
	raft_get_status(d->raft, &st);
	return d->storaged_known && d->apply_next != 0 &&
	       st.leader_commit <= d->applied_index + RAFTD_RELAY_LAG_MAX;
}

static struct raft_msg relay_header(const struct raftd *d, uint8_t type, uint64_t to)
{
	struct raft_status st;
	raft_get_status(d->raft, &st);
	struct raft_msg m = {.type = type,
	                     .from = d->opts.node_id,
	                     .to = to,
	                     .term = st.term,
	                     .incarnation = d->incarnation};
	return m;
}

int raftd_relay_propose(struct raftd *d, uint64_t leader, const void *ident, size_t ident_len,
                        uint64_t req_id, const uint8_t *data, uint32_t len)
{
	int p = raftd_peers_index(d, leader);
	/* stopping: an answer that came after the exit would leave the write 504 */
	if (*d->stop || leader == 0 || leader == d->opts.node_id || p < 0 || d->peers[p].dealer == NULL ||
	    len == 0 || len > RAFT_RELAY_BYTES_MAX || !relay_caught_up(d))
		return KV_ENOTLEADER; /* the gateway forwards it over HTTP instead */
	uint64_t relay_id = raftd_relay_table_add(d->relays, leader, ident, ident_len, req_id);
	if (relay_id == 0)
		return KV_EINVAL;
	struct raft_msg m = relay_header(d, RAFT_MSG_PROPOSE, leader);
	m.u.propose.relay_id = relay_id;
	m.u.propose.data = data;
	m.u.propose.data_len = len;
	int rc = relay_send(d, &m);
	if (rc != 0) {
		raftd_relay_table_take(d->relays, relay_id, leader); /* never sent */
		return KV_ENOTLEADER;
	}
	d->relayed++;
	return 0;
}

static uint8_t relay_reject_of(int rc)
{
	switch (rc) {
	case 0:
		return RELAY_APPENDED;
	case KV_ENOTLEADER:
	case KV_ENOLEADER:
		return RELAY_NOT_LEADER;
	case KV_EBUSY:
		return RELAY_BUSY;
	default:
		return RELAY_REFUSED;
	}
}

static int relay_status_of(uint8_t reject)
{
	switch (reject) {
	case RELAY_APPENDED:
		return 0;
	case RELAY_NOT_LEADER:
		return KV_ENOTLEADER;
	default: /* busy, or refused: nothing appended, the gateway tries again over HTTP */
		return KV_EBUSY;
	}
}

/* The leader's side: a member's relayed command, proposed as if local, answered at once. */
static int relay_on_propose(struct raftd *d, const struct raft_msg *m)
{
	struct raft_status st;
	raft_get_status(d->raft, &st);
	if (raftd_relay_accept(&st.config, d->opts.node_id, m->from, m->u.propose.data_len) !=
	    0) {
		d->relays_refused++;
		return KV_EPROTO;
	}
	struct raft_event ev = {.type = RAFT_EVENT_PROPOSE,
	                        .entry_type = RAFT_ENTRY_COMMAND,
	                        .data = m->u.propose.data,
	                        .len = m->u.propose.data_len};
	int rc = raftd_update_step(d, &ev);
	struct raft_msg resp = relay_header(d, RAFT_MSG_PROPOSE_RESP, m->from);
	resp.u.propose_resp.reject = relay_reject_of(rc);
	resp.u.propose_resp.relay_id = m->u.propose.relay_id;
	if (rc == 0) {
		resp.u.propose_resp.index = d->update.proposed_index;
		resp.u.propose_resp.log_term = d->update.proposed_term;
	}
	raft_get_status(d->raft, &st);
	resp.u.propose_resp.leader_id = st.leader;
	d->relays_taken += rc == 0;
	return relay_send(d, &resp);
}

/* The origin's side: the leader's answer goes to the gateway request it belongs to. */
static int relay_on_answer(struct raftd *d, const struct raft_msg *m)
{
	const struct raft_propose_resp *a = &m->u.propose_resp;
	const struct raftd_relay_slot *s = raftd_relay_table_take(d->relays, a->relay_id, m->from);
	if (s == NULL)
		return 0; /* answered already, forgotten, or meant for an earlier process */
	struct proto_local resp = {.type = PROTO_PROPOSE_RESP, .req_id = s->req_id};
	struct proto_propose_resp *r = &resp.u.propose_resp;
	r->status = relay_status_of(a->reject);
	if (r->status == 0) {
		r->index = a->index;
		r->term = a->log_term;
	}
	r->leader_id = a->leader_id;
	raftd_local_reply(d, s->identity, s->identity_len, &resp);
	return 0;
}

/*
 * A raftd that exits with relays unanswered leaves their writes 504 (outcome
 * unknown) although most were appended: wait for the answers, a round trip,
 * within RAFTD_RELAY_FINISH_MS. No new relay is made meanwhile: the gateway
 * forwards those writes over HTTP.
 */
void raftd_relay_finish(struct raftd *d)
{
	uint64_t start_ms = kv_clock_mono_ms();
	uint32_t waiting = d->relays->waiting;
	if (waiting == 0)
		return;
	while (d->relays->waiting > 0 && kv_clock_mono_ms() - start_ms < RAFTD_RELAY_FINISH_MS) {
		if (raftd_loop_once(d) != 0)
			break;
	}
	KV_LOG_INFO(RAFTD_SVC, "stopping: relays answered",
	            "waiting=%u left=%u took_ms=%" PRIu64, waiting, d->relays->waiting,
	            kv_clock_mono_ms() - start_ms);
}

int raftd_relay_receive(struct raftd *d, const struct raft_msg *m)
{
	if (m->type == RAFT_MSG_PROPOSE)
		return relay_on_propose(d, m);
	return relay_on_answer(d, m);
}
