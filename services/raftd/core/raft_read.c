/*
 * raft_read.c - linearizable reads by ReadIndex.
 *
 * The leader serves a read only after it has committed an entry of its own
 * term (its commit index is then at least every acknowledged write), and only
 * once a quorum has answered a heartbeat round started after the read came
 * in; every read waiting at that moment shares the round. Followers forward
 * reads to the leader (READ_INDEX) and hand out its answer. At most
 * RAFT_READS_MAX wait; losing leadership fails them. No safety decision reads
 * the clock: time only frees a follower's forwarded reads that got no answer.
 * Runs on the thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <string.h>

enum { RAFT_READ_REJECT_NOTLEADER = 1, RAFT_READ_REJECT_BUSY = 2 };

/* Adds a read's answer (or refusal) to the update's reads. */
static void raft_read_out(struct raft *r, uint64_t read_id, uint64_t index, int status)
{
	struct raft_update *u = r->u;

	KV_ASSERT(u->n_reads <= RAFT_READS_MAX);
	r->reads_out[u->n_reads].read_id = read_id;
	r->reads_out[u->n_reads].index = index;
	r->reads_out[u->n_reads].status = status;
	u->n_reads++;
}

static void raft_read_answer(struct raft *r, const struct raft_pending_read *p, int status)
{
	struct raft_msg *m;

	if (p->from == 0) {
		raft_read_out(r, p->read_id, status ? 0 : p->index, status);
		return;
	}
	m = raft_msg_push(r, 0, RAFT_MSG_READ_INDEX_RESP, p->from);
	if (m == NULL)
		return; /* as if lost: the asking node's deadline answers */
	m->u.read_index_resp.read_id = p->read_id;
	m->u.read_index_resp.read_index = status ? 0 : p->index;
	m->u.read_index_resp.reject = status == 0          ? 0
	                              : status == KV_EBUSY ? RAFT_READ_REJECT_BUSY
	                                                   : RAFT_READ_REJECT_NOTLEADER;
}

/* The highest round a quorum of voters has answered (we answer our own at once). */
static uint64_t raft_read_quorum_seq(struct raft *r)
{
	uint64_t seqs[RAFT_NODES_MAX];
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->config.n; i++) {
		const struct raft_member *mb = &r->config.members[i];
		const struct raft_progress *pr = raft_progress_find(r, mb->id);
		uint64_t v = mb->id == r->opt.id ? r->read_seq : (pr ? pr->acked_seq : 0);
		uint32_t j;

		if (mb->role != RAFT_VOTER)
			continue;
		/* a voter heard on another disk than recorded answers nothing (raft_identity.c) */
		if (mb->id == r->opt.id ? !raft_self_counts(r)
		                        : pr == NULL || !raft_member_counts(mb, pr->incarnation))
			v = 0;
		for (j = n++; j > 0 && seqs[j - 1] < v; j--)
			seqs[j] = seqs[j - 1];
		seqs[j] = v;
	}
	return n == 0 ? 0 : seqs[raft_quorum(n) - 1];
}

static void raft_read_start_round(struct raft *r)
{
	r->read_seq++;
	raft_heartbeat_all(r);
}

/* Reads that waited for this term's first commit get the commit index now. */
static int raft_read_assign(struct raft *r)
{
	int need_round = 0;

	if (r->commit < r->term_start_index)
		return 0;
	for (uint32_t i = 0; i < r->n_reads; i++) {
		struct raft_pending_read *p = &r->reads[i];

		if (p->round == 0) {
			p->index = r->commit;
			p->round = r->read_seq + 1;
		}
		need_round |= p->round > r->read_seq;
	}
	return need_round;
}

void raft_read_release(struct raft *r)
{
	uint64_t acked;
	uint32_t k = 0;

	KV_ASSERT(r->role == RAFT_LEADER);
	/* a new round only once the previous one is answered: that is the batching */
	if (raft_read_assign(r) && raft_read_quorum_seq(r) >= r->read_seq)
		raft_read_start_round(r);
	acked = raft_read_quorum_seq(r);
	while (k < r->n_reads && r->reads[k].round != 0 && r->reads[k].round <= acked) {
		if (r->reads[k].from != 0 && r->u->n_msgs_now >= RAFT_UPDATE_MSGS_MAX)
			break; /* no room for the answer: it stays confirmed for the next step */
		raft_read_answer(r, &r->reads[k++], 0);
	}
	memmove(r->reads, r->reads + k, (r->n_reads - k) * sizeof(r->reads[0]));
	r->n_reads -= k;
}

static int raft_read_leader_add(struct raft *r, uint64_t read_id, uint64_t from)
{
	struct raft_pending_read *p;

	if (r->n_reads >= RAFT_READS_MAX)
		return KV_EBUSY;
	p = &r->reads[r->n_reads++];
	memset(p, 0, sizeof(*p));
	p->read_id = read_id;
	p->from = from;
	if (raft_bug_no_noop()) {
		/* planted bug: trust our commit index at once, no round, no term commit */
		p->index = r->commit;
		r->n_reads--;
		raft_read_answer(r, p, 0);
	}
	return 0;
}

int raft_read_request(struct raft *r, uint64_t read_id)
{
	struct raft_pending_read *p;
	struct raft_msg *m;

	if (r->role == RAFT_LEADER)
		return raft_read_leader_add(r, read_id, 0);
	if (r->leader == 0)
		return KV_ENOLEADER;
	if (r->n_reads >= RAFT_READS_MAX)
		return KV_EBUSY;
	m = raft_msg_push(r, 0, RAFT_MSG_READ_INDEX, r->leader);
	if (m == NULL)
		return KV_EBUSY;
	m->u.read_index.read_id = read_id;
	p = &r->reads[r->n_reads++];
	memset(p, 0, sizeof(*p));
	p->read_id = read_id;
	p->from = r->leader; /* forwarded: the leader answers it */
	p->sent_ms = r->now_ms;
	return 0;
}

void raft_read_expire(struct raft *r)
{
	uint64_t limit = 2 * r->opt.election_timeout_ms;
	uint32_t i = 0;

	/* the request or its answer was lost: free the slot instead of waiting forever */
	while (i < r->n_reads) {
		if (r->now_ms - r->reads[i].sent_ms < limit) {
			i++;
			continue;
		}
		raft_read_out(r, r->reads[i].read_id, 0, KV_ENOLEADER);
		r->reads[i] = r->reads[--r->n_reads];
	}
}

void raft_read_recv_request(struct raft *r, const struct raft_msg *m)
{
	const struct raft_read_index *ri = &m->u.read_index;
	struct raft_pending_read p = {.read_id = ri->read_id, .from = m->from};
	int rc = KV_ENOTLEADER;

	if (r->role == RAFT_LEADER)
		rc = raft_read_leader_add(r, ri->read_id, m->from);
	if (rc)
		raft_read_answer(r, &p, rc);
}

void raft_read_recv_response(struct raft *r, const struct raft_msg *m)
{
	const struct raft_read_index_resp *rr = &m->u.read_index_resp;
	uint32_t i;

	if (r->role == RAFT_LEADER)
		return;
	for (i = 0; i < r->n_reads; i++)
		if (r->reads[i].read_id == rr->read_id && r->reads[i].from == m->from)
			break;
	if (i == r->n_reads)
		return; /* already failed, or a duplicate */
	if (rr->reject)
		raft_read_out(r, rr->read_id, 0,
		              rr->reject == RAFT_READ_REJECT_BUSY ? KV_EBUSY : KV_ENOTLEADER);
	else
		raft_read_out(r, rr->read_id, rr->read_index, 0);
	r->reads[i] = r->reads[--r->n_reads];
}

void raft_read_fail_all(struct raft *r)
{
	for (uint32_t i = 0; i < r->n_reads; i++) {
		struct raft_pending_read *p = &r->reads[i];

		if (r->role == RAFT_LEADER)
			raft_read_answer(r, p, KV_ENOTLEADER);
		else
			raft_read_out(r, p->read_id, 0, KV_ENOLEADER);
	}
	r->n_reads = 0;
}
