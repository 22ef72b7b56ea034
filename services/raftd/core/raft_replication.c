/*
 * raft_replication.c - the leader's side of log replication.
 *
 * One progress per follower: PROBE (one APPEND in flight until it answers),
 * PIPELINE (up to RAFT_INFLIGHT_MAX in flight, next moves optimistically) or
 * SNAPSHOT (raft_snapshot.c). Batches hold at most RAFT_APPEND_ENTRIES_MAX
 * entries and RAFT_APPEND_BYTES_MAX payload bytes (but at least one entry).
 * Rejections carry a hint that skips a whole conflicting term at once.
 * A quorum commits only entries of the leader's own term, and the leader's
 * own log counts only as far as it is durable.
 *
 * Proposals and acknowledgements only change the log and the progress; the
 * APPENDs they make due leave at the next RAFT_EVENT_FLUSH (or TICK), which
 * the driver steps once it drained its input: one APPEND per follower then
 * carries every entry ready and the commit index, and a follower that no
 * APPEND told the new commit index gets a commit-only heartbeat. Runs on
 * the thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <string.h>

struct raft_progress *raft_progress_find(struct raft *r, uint64_t id)
{
	for (uint32_t i = 0; i < r->n_progress; i++)
		if (r->progress[i].id == id)
			return &r->progress[i];
	return NULL;
}

static void raft_progress_reset(struct raft *r, struct raft_progress *pr, uint64_t id)
{
	memset(pr, 0, sizeof(*pr));
	pr->id = id;
	/* probe with our last entry: a node added just now must get something to answer */
	pr->next =
	    r->log.last_index > r->log.snap_index ? r->log.last_index : r->log.last_index + 1;
	pr->state = RAFT_PR_PROBE;
}

/* One progress per member but us, in the configuration just appended. */
void raft_progress_sync(struct raft *r)
{
	uint32_t i = 0;

	while (i < r->n_progress) {
		if (raft_config_find(&r->config, r->progress[i].id) == NULL)
			r->progress[i] = r->progress[--r->n_progress];
		else
			i++;
	}
	for (i = 0; i < r->config.n; i++) {
		uint64_t id = r->config.members[i].id;

		if (id == r->opt.id || raft_progress_find(r, id) != NULL)
			continue;
		KV_ASSERT(r->n_progress < RAFT_NODES_MAX);
		raft_progress_reset(r, &r->progress[r->n_progress++], id);
	}
}

int raft_leader_append(struct raft *r, uint8_t type, const uint8_t *data, uint32_t len)
{
	struct raft_update *u = r->u;
	struct raft_entry *e;

	KV_ASSERT(r->role == RAFT_LEADER);
	KV_ASSERT(u->n_entries < 2 && (u->entries == NULL || u->entries == r->own));
	if (raft_log_room(&r->log) == 0)
		return KV_EBUSY;
	e = &r->own[u->n_entries];
	e->term = r->term;
	e->index = r->log.last_index + 1;
	e->type = type;
	e->len = len;
	e->data = data;
	raft_log_append(&r->log, e);
	u->entries = r->own;
	u->n_entries++;
	if (type == RAFT_ENTRY_CONFIG)
		raft_membership_refresh(r);
	raft_maybe_commit(r); /* a cluster of one, or raft_bug_ack_before_durable() */
	return 0;
}

void raft_become_leader(struct raft *r)
{
	KV_ASSERT(r->role == RAFT_CANDIDATE);
	r->role = RAFT_LEADER;
	r->leader = r->opt.id;
	r->heard_leader = 0;
	r->transfer_target = 0;
	r->n_progress = 0;
	raft_progress_sync(r);
	r->heartbeat_deadline_ms = r->now_ms + r->opt.heartbeat_ms;
	r->quorum_deadline_ms = r->now_ms + r->opt.election_timeout_ms;
	if (raft_bug_no_noop() || raft_leader_append(r, RAFT_ENTRY_NOOP, NULL, 0) != 0)
		r->term_start_index = r->log.last_index + 1; /* full window: wait for a proposal */
	else
		r->term_start_index = r->log.last_index;
	raft_replicate_all(r);
}

/*
 * An APPEND to pr carries commit, which the follower can use only up to the
 * message's last index (it commits at most what the message matched): pr
 * needs no commit-only heartbeat for that much. Counting the whole commit
 * would leave a follower whose ack was not in yet (a heartbeat with its old
 * match) untold until the next periodic heartbeat.
 */
static void raft_progress_told(struct raft_progress *pr, uint64_t commit, uint64_t last)
{
	uint64_t usable = commit < last || raft_bug_told_unusable_commit() ? commit : last;

	if (usable > pr->commit_sent)
		pr->commit_sent = usable;
}

/* Builds one APPEND of up to the batch limits, from pr->next. */
static void raft_send_append(struct raft *r, struct raft_progress *pr)
{
	uint64_t first = pr->next, bytes = 0;
	uint32_t n = 0;
	struct raft_msg *m;
	struct raft_append *ap;

	while (first + n <= r->log.last_index && n < RAFT_APPEND_ENTRIES_MAX &&
	       r->n_pool + n < RAFT_UPDATE_ENTRIES_MAX) {
		const struct raft_meta *meta = raft_log_meta(&r->log, first + n);

		if (n > 0 && bytes + meta->len > RAFT_APPEND_BYTES_MAX)
			break;
		bytes += meta->len;
		n++;
	}
	if (n == 0)
		return; /* no slot left in this update: the next heartbeat resends */
	m = raft_msg_push(r, 0, RAFT_MSG_APPEND, pr->id);
	if (m == NULL)
		return;
	ap = &m->u.append;
	ap->prev_index = first - 1;
	ap->prev_term = raft_log_term_at(&r->log, first - 1);
	ap->commit = r->commit;
	ap->seq = r->read_seq;
	raft_progress_told(pr, r->commit, first + n - 1);
	ap->n_entries = n;
	ap->entries = &r->pool[r->n_pool];
	for (uint32_t i = 0; i < n; i++) {
		const struct raft_meta *meta = raft_log_meta(&r->log, first + i);
		struct raft_entry *e = &r->pool[r->n_pool + i];

		e->term = meta->term;
		e->index = first + i;
		e->type = meta->type;
		e->len = meta->len;
		e->data = NULL; /* the driver attaches payloads */
	}
	r->n_pool += n;
	KV_ASSERT(pr->n_inflight < RAFT_INFLIGHT_MAX);
	pr->inflight[pr->n_inflight++] = first + n - 1;
	if (pr->state == RAFT_PR_PIPELINE)
		pr->next = first + n;
}

void raft_replicate_one(struct raft *r, struct raft_progress *pr)
{
	if (pr->next <= r->log.snap_index || pr->state == RAFT_PR_SNAPSHOT) {
		raft_snapshot_send(r, pr);
		return;
	}
	if (pr->state == RAFT_PR_PROBE && pr->n_inflight > 0)
		return;
	while (pr->n_inflight < RAFT_INFLIGHT_MAX && pr->next <= r->log.last_index) {
		uint32_t before = pr->n_inflight;

		raft_send_append(r, pr);
		if (pr->n_inflight == before || pr->state == RAFT_PR_PROBE)
			break;
	}
}

void raft_replicate_all(struct raft *r)
{
	for (uint32_t i = 0; i < r->n_progress; i++)
		raft_replicate_one(r, &r->progress[i]);
}

static void raft_send_heartbeat(struct raft *r, struct raft_progress *pr)
{
	struct raft_msg *m = raft_msg_push(r, 0, RAFT_MSG_APPEND, pr->id);

	if (m == NULL)
		return;
	/* prev = what it already matches, so a heartbeat never needs entries */
	if (pr->match >= r->log.snap_index) {
		m->u.append.prev_index = pr->match;
		m->u.append.prev_term = raft_log_term_at(&r->log, pr->match);
	}
	/* always: a follower commits at most what it matches, and learns how far it is behind */
	m->u.append.commit = r->commit;
	raft_progress_told(pr, r->commit, m->u.append.prev_index);
	m->u.append.seq = r->read_seq;
}

/* Two heartbeats without progress while messages are out: assume they were lost. */
static void raft_progress_unstall(struct raft *r, struct raft_progress *pr)
{
	uint64_t mark = pr->state == RAFT_PR_SNAPSHOT ? pr->snap_offset : pr->match;

	if (pr->n_inflight == 0 || mark != pr->stall_match) {
		pr->stall_match = mark;
		pr->stall_rounds = 0;
		return;
	}
	if (++pr->stall_rounds < 2)
		return;
	pr->stall_rounds = 0;
	if (pr->state == RAFT_PR_PIPELINE) {
		pr->state = RAFT_PR_PROBE;
		pr->next = pr->match + 1;
	}
	pr->n_inflight = 0;
	raft_replicate_one(r, pr);
}

void raft_heartbeat_all(struct raft *r)
{
	for (uint32_t i = 0; i < r->n_progress; i++)
		raft_send_heartbeat(r, &r->progress[i]);
}

/* A commit index pr has not heard and can use: it holds entries above what it was told. */
static int raft_commit_due(const struct raft *r, const struct raft_progress *pr)
{
	if (raft_bug_commit_never_told())
		return 0;
	return pr->state != RAFT_PR_SNAPSHOT && r->commit > pr->commit_sent &&
	       pr->match > pr->commit_sent;
}

void raft_replication_flush(struct raft *r)
{
	KV_ASSERT(r->role == RAFT_LEADER);
	for (uint32_t i = 0; i < r->n_progress; i++) {
		struct raft_progress *pr = &r->progress[i];

		raft_replicate_one(r, pr); /* its APPENDs carry the commit index */
		/* else it would learn the new commit index only at the next heartbeat */
		if (raft_commit_due(r, pr))
			raft_send_heartbeat(r, pr);
	}
}

void raft_heartbeat_tick(struct raft *r)
{
	raft_heartbeat_all(r);
	/* after the heartbeats: a resend is counted from the interval, not from read rounds */
	for (uint32_t i = 0; i < r->n_progress; i++) {
		struct raft_progress *pr = &r->progress[i];

		raft_progress_unstall(r, pr);
		/* waiting for an image: ask again (the driver may have failed or dropped one) */
		if (pr->state == RAFT_PR_SNAPSHOT && pr->n_inflight == 0 && r->log.snap_size == 0)
			raft_snapshot_send(r, pr);
	}
}

static uint64_t raft_own_match(const struct raft *r)
{
	return raft_bug_ack_before_durable() ? r->log.last_index : r->durable;
}

void raft_maybe_commit(struct raft *r)
{
	uint64_t matches[RAFT_NODES_MAX];
	uint32_t n = 0;
	uint64_t q;

	for (uint32_t i = 0; i < r->config.n; i++) {
		const struct raft_member *mb = &r->config.members[i];
		const struct raft_progress *pr = raft_progress_find(r, mb->id);
		uint64_t v = mb->id == r->opt.id ? raft_own_match(r) : (pr ? pr->match : 0);

		if (mb->role != RAFT_VOTER)
			continue;
		/* a voter heard on another disk than recorded holds nothing (raft_identity.c) */
		if (mb->id == r->opt.id ? !raft_self_counts(r)
		                        : pr == NULL || !raft_member_counts(mb, pr->incarnation))
			v = 0;
		/* insertion sort, descending */
		uint32_t j = n++;
		for (; j > 0 && matches[j - 1] < v; j--)
			matches[j] = matches[j - 1];
		matches[j] = v;
	}
	if (n == 0)
		return;
	q = matches[raft_quorum(n) - 1];
	if (q <= r->commit || q > r->log.last_index)
		return;
	if (!raft_bug_commit_old_term() && raft_log_term_at(&r->log, q) != r->term)
		return; /* only entries of our term commit by counting (paper, figure 8) */
	r->commit = q;
}

/* The follower has everything up to match: forget what it acknowledged. */
static void raft_progress_ack(struct raft *r, struct raft_progress *pr, uint64_t match)
{
	uint32_t k = 0;

	if (match > pr->match)
		pr->match = match;
	if (pr->next <= pr->match)
		pr->next = pr->match + 1;
	while (k < pr->n_inflight && pr->inflight[k] <= pr->match)
		k++;
	memmove(pr->inflight, pr->inflight + k, (pr->n_inflight - k) * sizeof(pr->inflight[0]));
	pr->n_inflight -= k;
	if (pr->state == RAFT_PR_PROBE && pr->match + 1 >= pr->next) {
		/* the probe itself (or a later APPEND) matched: pipeline from there */
		pr->state = RAFT_PR_PIPELINE;
		pr->next = pr->match + 1;
		pr->n_inflight = 0;
	}
}

/* Where to probe next after a rejection, from the follower's hint. */
static uint64_t raft_next_from_hint(const struct raft *r, const struct raft_msg *m)
{
	const struct raft_append_resp *ar = &m->u.append_resp;
	uint64_t j;

	if (ar->hint_term == 0)
		return ar->hint_index; /* its log ends before: continue after its last entry */
	j = ar->hint_index < r->log.last_index ? ar->hint_index : r->log.last_index;
	/* skip every entry of a term the follower cannot have at that index */
	while (j > r->log.snap_index && raft_log_term_at(&r->log, j) > ar->hint_term)
		j--;
	if (j == r->log.snap_index && r->log.snap_term > ar->hint_term)
		return j; /* the agreement lies inside our snapshot: send it */
	return j + 1;
}

/* A rejection saying the follower's log ends at or below its acknowledged match. */
static int ar_lost_data(const struct raft_msg *m, const struct raft_progress *pr)
{
	const struct raft_append_resp *ar = &m->u.append_resp;

	return ar->hint_term == 0 && pr->match > 0 && ar->hint_index <= pr->match;
}

static void raft_progress_reject(struct raft *r, struct raft_progress *pr, const struct raft_msg *m)
{
	uint64_t next = raft_next_from_hint(r, m);
	uint64_t before = pr->next;

	if (pr->state == RAFT_PR_SNAPSHOT)
		return;
	/*
	 * Its log ends before what it acknowledged: it lost its data (a deleted
	 * data directory). Nothing is known to match any more; go back to where
	 * its log ends (a snapshot when that is compacted). Commit never goes
	 * down, so a stale rejection only costs a probe.
	 */
	if (ar_lost_data(m, pr)) {
		pr->match = 0;
		pr->next = next > 0 ? next : 1;
		pr->n_inflight = 0;
		pr->state = RAFT_PR_PROBE;
		return;
	}
	/* every rejection moves back, so repair ends even on a stale or odd hint */
	if (next >= pr->next)
		next = pr->next - 1;
	if (next <= pr->match)
		next = pr->match + 1;
	pr->next = next;
	/* nowhere further back to go: stay paused until the heartbeat resend */
	if (pr->state == RAFT_PR_PIPELINE || next < before)
		pr->n_inflight = 0;
	pr->state = RAFT_PR_PROBE;
}

void raft_replication_recv_response(struct raft *r, const struct raft_msg *m)
{
	const struct raft_append_resp *ar = &m->u.append_resp;
	struct raft_progress *pr;

	if (r->role != RAFT_LEADER)
		return;
	pr = raft_progress_find(r, m->from);
	if (pr == NULL || (!ar->reject && ar->match_index > r->log.last_index) ||
	    ar->seq > r->read_seq) {
		r->dropped_msgs++;
		return;
	}
	pr->recent_active = 1;
	if (ar->seq > pr->acked_seq)
		pr->acked_seq = ar->seq;
	if (ar->reject) {
		raft_progress_reject(r, pr, m);
	} else {
		if (pr->state == RAFT_PR_SNAPSHOT)
			return; /* it answers an older APPEND; the snapshot decides */
		raft_progress_ack(r, pr, ar->match_index);
		raft_maybe_commit(r);
		raft_transfer_check(r, pr);
	}
	/* what it may take now leaves at the flush, with the other followers' */
}
