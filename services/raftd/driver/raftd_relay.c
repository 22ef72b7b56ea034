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

#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"
#include "proto_buf.h"

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

/* Answers the gateway request of relay id (if still known) with status. */
static void relay_answer(struct raftd *d, uint64_t relay_id, uint64_t from, int status,
                         uint64_t index, uint64_t term, uint64_t leader)
{
	const struct raftd_relay_slot *s = raftd_relay_table_take(d->relays, relay_id, from);
	if (s == NULL)
		return; /* answered already, forgotten, or meant for an earlier process */
	struct proto_local resp = {.type = PROTO_PROPOSE_RESP, .req_id = s->req_id};
	struct proto_propose_resp *r = &resp.u.propose_resp;
	r->status = status;
	if (status == 0) {
		r->index = index;
		r->term = term;
	}
	r->leader_id = leader;
	raftd_local_reply(d, s->identity, s->identity_len, &resp);
}

/* The batch's commands as entries pointing into its buffer (valid until it changes). */
static void relay_batch_entries(const struct raftd_relay_batch *b, struct raft_entry *ents)
{
	for (uint32_t i = 0; i < b->n; i++) {
		uint32_t start = i == 0 ? 0 : b->end[i - 1];
		ents[i] = (struct raft_entry){.term = 0,
		                              .index = i + 1,
		                              .type = RAFT_ENTRY_COMMAND,
		                              .len = b->end[i] - start,
		                              .data = b->data.ptr + start};
	}
}

void raftd_relay_flush(struct raftd *d)
{
	struct raftd_relay_batch *b = &d->relay_out;
	struct raft_entry ents[RAFT_RELAY_COMMANDS_MAX];
	if (b->n == 0)
		return;
	relay_batch_entries(b, ents);
	struct raft_msg m = relay_header(d, RAFT_MSG_PROPOSE, b->leader);
	m.u.propose.relay_id = b->first_id;
	m.u.propose.commands = ents;
	m.u.propose.n_commands = b->n;
	if (relay_send(d, &m) == 0) {
		d->relayed += b->n;
	} else {
		/* nothing was sent: each gateway request may go over HTTP instead */
		for (uint32_t i = 0; i < b->n; i++)
			relay_answer(d, b->first_id + i, b->leader, KV_ENOTLEADER, 0, 0, b->leader);
	}
	b->n = 0;
	proto_buf_reset(&b->data);
}

void raftd_relay_free(struct raftd *d)
{
	proto_buf_free(&d->relay_out.data);
	d->relay_out.n = 0;
}

/* 1 when a relay of len bytes to leader, with relay id next_id, may join the batch. */
static int relay_batch_fits(const struct raftd_relay_batch *b, uint64_t leader, uint64_t next_id,
                            uint32_t len)
{
	return b->n == 0 ||
	       (b->leader == leader && b->n < RAFT_RELAY_COMMANDS_MAX &&
	        b->data.len + len <= RAFT_RELAY_BYTES_MAX && b->first_id + b->n == next_id);
}

int raftd_relay_propose(struct raftd *d, uint64_t leader, const void *ident, size_t ident_len,
                        uint64_t req_id, const uint8_t *data, uint32_t len)
{
	struct raftd_relay_batch *b = &d->relay_out;
	int p = raftd_peers_index(d, leader);
	/* stopping: an answer that came after the exit would leave the write 504 */
	if (*d->stop || leader == 0 || leader == d->opts.node_id || p < 0 ||
	    d->peers[p].dealer == NULL || len == 0 || len > RAFT_RELAY_BYTES_MAX ||
	    !relay_caught_up(d))
		return KV_ENOTLEADER; /* the gateway forwards it over HTTP instead */
	if (!relay_batch_fits(b, leader, d->relays->next_id, len))
		raftd_relay_flush(d);
	if (proto_buf_append(&b->data, data, len) != 0)
		return KV_ENOMEM;
	uint64_t relay_id = raftd_relay_table_add(d->relays, leader, ident, ident_len, req_id);
	if (relay_id == 0) {
		b->data.len -= len; /* not kept */
		return KV_EINVAL;
	}
	if (b->n == 0) {
		b->leader = leader;
		b->first_id = relay_id;
	}
	KV_ASSERT(relay_id == b->first_id + b->n);
	b->end[b->n++] = (uint32_t)b->data.len;
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
	case RELAY_NOT_LEADER:
		return KV_ENOTLEADER;
	default: /* busy, or refused: nothing appended, the gateway tries again over HTTP */
		return KV_EBUSY;
	}
}

/* 0 when from may relay these commands here (a member, each and all within the bounds). */
static int relay_check(struct raftd *d, const struct raft_msg *m)
{
	struct raft_status st;
	uint64_t total = 0;
	raft_get_status(d->raft, &st);
	for (uint32_t i = 0; i < m->u.propose.n_commands; i++) {
		const struct raft_entry *e = &m->u.propose.commands[i];
		if (e->type != RAFT_ENTRY_COMMAND ||
		    raftd_relay_accept(&st.config, d->opts.node_id, m->from, e->len) != 0)
			return KV_EPROTO;
		total += e->len;
	}
	return total <= RAFT_RELAY_BYTES_MAX ? 0 : KV_EPROTO;
}

/*
 * The leader's side: a member's relayed commands, proposed in order as if
 * local until one is refused (the rest are refused with it), answered at once.
 */
static int relay_on_propose(struct raftd *d, const struct raft_msg *m)
{
	struct raft_status st;
	uint32_t n = m->u.propose.n_commands, appended = 0;
	int rc = 0;
	if (relay_check(d, m) != 0) {
		d->relays_refused++;
		return KV_EPROTO;
	}
	struct raft_msg resp = relay_header(d, RAFT_MSG_PROPOSE_RESP, m->from);
	struct raft_propose_resp *r = &resp.u.propose_resp;
	for (; appended < n; appended++) {
		const struct raft_entry *e = &m->u.propose.commands[appended];
		struct raft_event ev = {.type = RAFT_EVENT_PROPOSE,
		                        .entry_type = RAFT_ENTRY_COMMAND,
		                        .data = e->data,
		                        .len = e->len};
		rc = raftd_update_step(d, &ev);
		if (rc != 0)
			break;
		if (appended == 0) {
			r->index = d->update.proposed_index;
			r->log_term = d->update.proposed_term;
		}
		/* nothing else is proposed meanwhile: the commands take consecutive indexes */
		KV_ASSERT(d->update.proposed_index == r->index + appended);
	}
	r->reject = relay_reject_of(rc);
	r->relay_id = m->u.propose.relay_id;
	r->count = n;
	r->appended = appended;
	raft_get_status(d->raft, &st);
	r->leader_id = st.leader;
	d->relays_taken += appended;
	return relay_send(d, &resp);
}

/* The origin's side: each answer goes to the gateway request it belongs to. */
static int relay_on_answer(struct raftd *d, const struct raft_msg *m)
{
	const struct raft_propose_resp *a = &m->u.propose_resp;
	if (a->appended > a->count || (a->appended < a->count && a->reject == RELAY_APPENDED))
		return KV_EPROTO;
	for (uint64_t i = 0; i < a->count; i++) {
		int status = i < a->appended ? 0 : relay_status_of(a->reject);
		relay_answer(d, a->relay_id + i, m->from, status, a->index + i, a->log_term,
		             a->leader_id);
	}
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
	KV_LOG_INFO(RAFTD_SVC, "stopping: relays answered", "waiting=%u left=%u took_ms=%" PRIu64,
	            waiting, d->relays->waiting, kv_clock_mono_ms() - start_ms);
}

int raftd_relay_receive(struct raftd *d, const struct raft_msg *m)
{
	if (m->type == RAFT_MSG_PROPOSE)
		return relay_on_propose(d, m);
	return relay_on_answer(d, m);
}
