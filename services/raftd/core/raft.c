/*
 * raft.c - the core's life cycle, its one entry point raft_step(), and the
 * building of the update it fills.
 *
 * raft_step() dispatches the event to the file that owns its concept, then
 * finishes the update: the hard state to save, the committed range to apply.
 * Runs on the thread that owns the struct raft; never allocates after
 * raft_new().
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <stdlib.h>
#include <string.h>

static int raft_options_valid(const struct raft_options *o)
{
	return o->id != 0 && o->incarnation != 0 && o->election_timeout_ms > 0 &&
	       o->heartbeat_ms > 0 && o->heartbeat_ms < o->election_timeout_ms &&
	       o->election_timeout_ms < (UINT64_MAX >> 4);
}

static int raft_alloc(struct raft *r)
{
	r->reads = calloc(RAFT_READS_MAX, sizeof(*r->reads));
	r->msgs_now = calloc(RAFT_UPDATE_MSGS_MAX, sizeof(*r->msgs_now));
	r->msgs_after = calloc(RAFT_UPDATE_MSGS_MAX, sizeof(*r->msgs_after));
	r->pool = calloc(RAFT_UPDATE_ENTRIES_MAX, sizeof(*r->pool));
	r->reads_out = calloc(RAFT_READS_MAX + 1, sizeof(*r->reads_out));
	if (!r->reads || !r->msgs_now || !r->msgs_after || !r->pool || !r->reads_out)
		return KV_ENOMEM;
	return 0;
}

/* Frees what raft_alloc() and raft_log_init() took (free(NULL) is fine). */
static void raft_free_parts(struct raft *r)
{
	raft_log_free(&r->log);
	free(r->reads);
	free(r->msgs_now);
	free(r->msgs_after);
	free(r->pool);
	free(r->reads_out);
}

/*
 * A crash between syncing the log (or snapshot) and the hard state can leave
 * entries of a newer term than the saved one. We saw that term, so take it
 * (vote none: a vote never saved was never sent); the first step saves it.
 */
static void raft_boot_adopt_term(struct raft *r)
{
	uint64_t seen = raft_log_last_term(&r->log);

	if (r->log.snap_term > seen)
		seen = r->log.snap_term;
	if (seen > r->term) {
		r->term = seen;
		r->vote = 0;
	}
}

int raft_new(const struct raft_options *options, const struct raft_boot *boot, struct raft **out)
{
	struct raft *r;
	int rc;

	if (!raft_options_valid(options))
		return KV_EINVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return KV_ENOMEM;
	rc = raft_log_init(&r->log, boot);
	if (rc)
		goto out_free_raft;
	rc = raft_alloc(r);
	if (rc)
		goto out_free_all;
	r->opt = *options;
	r->rng = options->seed ^ (options->id * 0x9e3779b97f4a7c15ull);
	r->now_ms = boot->now_ms;
	r->term = boot->hard_state.term;
	r->vote = boot->hard_state.vote;
	r->hs_saved = boot->hard_state;
	raft_boot_adopt_term(r);
	r->role = RAFT_FOLLOWER;
	r->commit = boot->snap_index;
	r->emitted = boot->snap_index;
	r->durable = r->log.last_index; /* it came from our disk */
	raft_log_config_at(&r->log, r->log.last_index, &r->config, &r->config_index);
	r->election_deadline_ms = r->now_ms + raft_random_timeout(r);
	*out = r;
	return 0;

out_free_all:
	raft_free_parts(r);
out_free_raft:
	free(r);
	return rc;
}

void raft_destroy(struct raft **rp)
{
	struct raft *r;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	raft_free_parts(r);
	free(r);
	*rp = NULL;
}

uint64_t raft_quorum(uint32_t n_voters)
{
	return n_voters / 2 + 1;
}

struct raft_msg *raft_msg_push(struct raft *r, int after_persist, uint8_t type, uint64_t to)
{
	struct raft_update *u = r->u;
	uint32_t *n = after_persist ? &u->n_msgs_after_persist : &u->n_msgs_now;
	struct raft_msg *m;

	if (*n >= RAFT_UPDATE_MSGS_MAX) {
		r->overflow_msgs++; /* like a lost message: Raft retries */
		return NULL;
	}
	m = after_persist ? &r->msgs_after[*n] : &r->msgs_now[*n];
	(*n)++;
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->from = r->opt.id;
	m->to = to;
	m->term = r->term;
	m->incarnation = r->opt.incarnation;
	return m;
}

int raft_reply_after_persist(const struct raft *r)
{
	return r->term != r->hs_saved.term || r->vote != r->hs_saved.vote;
}

/* Higher terms make us follow; lower ones get our term back where useful. Returns 1 if consumed. */
static int raft_filter_term(struct raft *r, const struct raft_msg *m)
{
	if (m->term > r->term) {
		if (m->type == RAFT_MSG_PREVOTE ||
		    (m->type == RAFT_MSG_PREVOTE_RESP && !m->u.vote_resp.reject))
			return 0;
		if (m->type == RAFT_MSG_VOTE && !m->u.vote.transfer && r->opt.check_quorum &&
		    raft_in_lease(r)) {
			r->dropped_msgs++;
			return 1;
		}
		if (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT ||
		    m->type == RAFT_MSG_TIMEOUT_NOW)
			raft_become_follower(r, m->term, m->from);
		else
			raft_become_follower(r, m->term, 0);
		return 0;
	}
	if (m->term < r->term) {
		raft_vote_reject_stale(r, m);
		return 1;
	}
	return 0;
}

static void raft_recv(struct raft *r, const struct raft_msg *m)
{
	if (m == NULL || !raft_validate_msg(r, m)) {
		r->dropped_msgs++;
		return;
	}
	if (raft_filter_term(r, m))
		return;
	raft_identity_heard(r, m);
	switch (m->type) {
	case RAFT_MSG_APPEND:
		raft_append_recv(r, m);
		break;
	case RAFT_MSG_APPEND_RESP:
		raft_replication_recv_response(r, m);
		break;
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_VOTE:
		raft_vote_recv_request(r, m);
		break;
	case RAFT_MSG_PREVOTE_RESP:
	case RAFT_MSG_VOTE_RESP:
		raft_vote_recv_response(r, m);
		break;
	case RAFT_MSG_SNAPSHOT:
		raft_snapshot_recv(r, m);
		break;
	case RAFT_MSG_SNAPSHOT_RESP:
		raft_snapshot_recv_response(r, m);
		break;
	case RAFT_MSG_TIMEOUT_NOW:
		raft_transfer_recv_timeout_now(r, m);
		break;
	case RAFT_MSG_READ_INDEX:
		raft_read_recv_request(r, m);
		break;
	default:
		raft_read_recv_response(r, m);
		break;
	}
}

static void raft_persisted(struct raft *r, uint64_t index, uint64_t term)
{
	/* The log may have changed since that write: then it proves nothing. */
	if (index > r->log.last_index || index < r->log.snap_index ||
	    raft_log_term_at(&r->log, index) != term)
		return;
	if (index > r->durable)
		r->durable = index;
	if (r->role == RAFT_LEADER)
		raft_maybe_commit(r);
}

static int raft_propose(struct raft *r, const struct raft_event *ev)
{
	int rc;

	if (r->role != RAFT_LEADER)
		return KV_ENOTLEADER;
	if (ev->entry_type != RAFT_ENTRY_COMMAND && ev->entry_type != RAFT_ENTRY_CONFIG)
		return KV_EINVAL;
	if (ev->len > 0 && ev->data == NULL)
		return KV_EINVAL;
	if (r->transfer_target != 0 ||
	    r->log.last_index - r->log.snap_index > RAFT_LOG_BUSY_ENTRIES)
		return KV_EBUSY;
	if (ev->entry_type == RAFT_ENTRY_CONFIG) {
		rc = raft_membership_propose_check(r, ev->data, ev->len);
		if (rc)
			return rc;
	}
	rc = raft_leader_append(r, ev->entry_type, ev->data, ev->len);
	if (rc)
		return rc;
	r->u->proposed_index = r->log.last_index;
	r->u->proposed_term = r->term;
	return 0; /* the APPENDs leave at the flush */
}

/* Hard state to save, entries to apply: the parts every step ends with. */
static void raft_finish(struct raft *r)
{
	struct raft_update *u = r->u;
	struct raft_hard_state hs = {.term = r->term, .vote = r->vote};
	uint64_t last = r->commit < r->durable ? r->commit : r->durable;

	if (raft_bug_vote_no_persist() && r->vote_unsaved)
		hs.vote = hs.term == r->hs_saved.term ? r->hs_saved.vote : 0;
	if (hs.term != r->hs_saved.term || hs.vote != r->hs_saved.vote) {
		u->hard_state_changed = 1;
		u->hard_state = hs;
		r->hs_saved = hs;
	}
	if (raft_bug_vote_no_persist() && r->vote_unsaved)
		r->hs_saved.vote = r->vote; /* pretend it was saved: it never will be */
	r->vote_unsaved = 0;
	if (last > r->emitted) {
		u->commit_first = r->emitted + 1;
		u->commit_last = last;
		r->emitted = last;
	}
	u->msgs_now = r->msgs_now;
	u->msgs_after_persist = r->msgs_after;
	u->reads = r->reads_out;
}

/*
 * The local state machine applied up to index. Only committed entries are
 * applied, and a committed entry is never truncated, so the local log holds
 * the same entry there: the commit index may move up to it. A restarted node
 * boots with its commit at its snapshot, below a state machine that kept
 * more; an image of that state machine would be above the commit index and
 * refused, and a leader whose followers all need one would never commit.
 */
static int raft_applied(struct raft *r, uint64_t index)
{
	if (index > r->log.last_index || index > r->durable)
		return KV_EINVAL;
	if (raft_bug_applied_ignored() || index <= r->commit)
		return 0;
	r->commit = index;
	if (r->emitted < index)
		r->emitted = index; /* already in the state machine: not handed out again */
	return 0;
}

static int raft_dispatch(struct raft *r, const struct raft_event *ev)
{
	switch (ev->type) {
	case RAFT_EVENT_TICK:
		raft_election_tick(r);
		return 0;
	case RAFT_EVENT_RECEIVE:
		raft_recv(r, ev->msg);
		return 0;
	case RAFT_EVENT_PERSISTED:
		raft_persisted(r, ev->index, ev->term);
		return 0;
	case RAFT_EVENT_PROPOSE:
		return raft_propose(r, ev);
	case RAFT_EVENT_READ:
		return raft_read_request(r, ev->read_id);
	case RAFT_EVENT_TRANSFER:
		return raft_transfer_start(r, ev->node_id);
	case RAFT_EVENT_SNAPSHOT_TAKEN:
		return raft_snapshot_taken(r, ev->index, ev->snap_size);
	case RAFT_EVENT_APPLIED:
		return raft_applied(r, ev->index);
	case RAFT_EVENT_FLUSH:
		return 0; /* raft_step() flushes */
	default:
		return KV_EINVAL;
	}
}

/* A TICK flushes too: nothing made due waits for ever on a driver that forgot a FLUSH. */
static int raft_flushes(uint8_t type)
{
	return type == RAFT_EVENT_FLUSH || (type == RAFT_EVENT_TICK && !raft_bug_tick_no_flush());
}

int raft_step(struct raft *r, const struct raft_event *ev, struct raft_update *update)
{
	uint64_t commit_before;
	int rc;

	KV_ASSERT(r != NULL && ev != NULL && update != NULL);
	commit_before = r->commit;
	memset(update, 0, sizeof(*update));
	r->u = update;
	r->n_pool = 0;
	if (ev->now_ms > r->now_ms)
		r->now_ms = ev->now_ms; /* a clock that goes back only delays timeouts */
	rc = raft_dispatch(r, ev);
	raft_identity_step(r); /* before the flush: a BIND it appends leaves with it */
	if (r->role == RAFT_LEADER && raft_flushes(ev->type))
		raft_replication_flush(r);
	if (r->role == RAFT_LEADER)
		raft_read_release(r);
	raft_membership_check_removed(r);
	raft_finish(r);
	KV_ASSERT(r->commit >= commit_before);
	/* the planted TRUNCATE_COMMITTED may truncate below the commit index */
	KV_ASSERT(raft_bug_truncate_committed() || r->commit <= r->log.last_index);
	r->u = NULL;
	return rc;
}

void raft_get_status(const struct raft *r, struct raft_status *out)
{
	const struct raft_member *me = raft_config_find(&r->config, r->opt.id);

	memset(out, 0, sizeof(*out));
	out->id = r->opt.id;
	out->role = r->role;
	out->is_learner = me != NULL && me->role == RAFT_LEARNER;
	out->term = r->term;
	out->leader = r->leader;
	out->commit_index = r->commit;
	out->leader_commit = r->leader_commit > r->commit ? r->leader_commit : r->commit;
	out->durable_index = r->durable;
	out->first_index = r->log.snap_index + 1;
	out->last_index = r->log.last_index;
	out->last_term = raft_log_last_term(&r->log);
	out->snap_index = r->log.snap_index;
	out->snap_term = r->log.snap_term;
	out->config = r->config;
	out->dropped_msgs = r->dropped_msgs;
	out->votes_granted = r->votes_granted;
	out->replaced = raft_self_replaced(r);
	out->transfer_target = r->role == RAFT_LEADER ? r->transfer_target : 0;
}

uint64_t raft_term_at(const struct raft *r, uint64_t index)
{
	return raft_log_term_at(&r->log, index);
}

uint64_t raft_match_of(const struct raft *r, uint64_t id)
{
	if (r->role != RAFT_LEADER)
		return 0;
	if (id == r->opt.id)
		return r->durable;
	for (uint32_t i = 0; i < r->n_progress; i++)
		if (r->progress[i].id == id)
			return r->progress[i].match;
	return 0;
}
