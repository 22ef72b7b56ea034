/*
 * raft_snapshot.c - log compaction and InstallSnapshot.
 *
 * SNAPSHOT_TAKEN drops the log prefix up to the snapshot's index: the state
 * machine is durable there. The snapshot may have no image (snap_size 0: the
 * state machine's own files are the snapshot, nothing was copied); a follower
 * that needs entries before the leader's first index then waits while the
 * update asks the driver for one (want_image), and SNAPSHOT_TAKEN brings its
 * size (at the same index, or at a later one which compacts further). The
 * image goes in chunks of RAFT_SNAPSHOT_CHUNK_BYTES, up to RAFT_SNAPSHOT_INFLIGHT
 * of them in flight (n_inflight counts those sent past the offset last
 * acknowledged); the receiver takes them only in order (each SNAPSHOT_RESP
 * names the offset it wants next, a reject one it missed) and on the last
 * one replaces its log with the snapshot. The chunk bytes are the
 * drivers' business: outgoing chunks are NULL, incoming ones are passed
 * through to the update. Runs on the thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <string.h>

/*
 * The image changed: transfers start over from offset 0 of the new one
 * (all of them when it replaced the image of the same index, else only
 * those that waited for an image; a chunk of an older snapshot in flight is
 * answered and dropped as before), and those that waited go on now.
 */
static void raft_snapshot_restart_transfers(struct raft *r, int all)
{
	if (r->role != RAFT_LEADER)
		return;
	for (uint32_t i = 0; i < r->n_progress; i++) {
		struct raft_progress *pr = &r->progress[i];

		if (pr->state != RAFT_PR_SNAPSHOT || (!all && pr->n_inflight > 0))
			continue;
		pr->snap_index = r->log.snap_index;
		pr->snap_offset = 0;
		pr->snap_resent = UINT64_MAX;
		pr->n_inflight = 0;
		raft_replicate_one(r, pr);
	}
}

int raft_snapshot_taken(struct raft *r, uint64_t index, uint64_t size)
{
	if (index == r->log.snap_index && index > 0) {
		/* an image of the current snapshot made (size) or dropped (0) */
		if (size != r->log.snap_size) {
			r->log.snap_size = size;
			raft_snapshot_restart_transfers(r, 1);
		}
		return 0;
	}
	/* only what the state machine can have applied, and only forward */
	if (index <= r->log.snap_index || index > r->emitted)
		return KV_EINVAL;
	raft_log_compact(&r->log, index, size);
	r->u->compact_index = index;
	raft_snapshot_restart_transfers(r, 0);
	return 0;
}

/* Chunks sent but not yet acknowledged: those between snap_offset and snap_sent. */
static uint32_t raft_snapshot_window(const struct raft_progress *pr)
{
	if (pr->snap_sent <= pr->snap_offset)
		return 0;
	return (uint32_t)((pr->snap_sent - pr->snap_offset + RAFT_SNAPSHOT_CHUNK_BYTES - 1) /
	                  RAFT_SNAPSHOT_CHUNK_BYTES);
}

static void raft_snapshot_push_chunk(struct raft *r, struct raft_progress *pr)
{
	struct raft_msg *m = raft_msg_push(r, 0, RAFT_MSG_SNAPSHOT, pr->id);
	struct raft_snapshot *sn;
	uint64_t left;

	if (m == NULL)
		return;
	left = r->log.snap_size - pr->snap_sent;
	sn = &m->u.snapshot;
	sn->snap_index = r->log.snap_index;
	sn->snap_term = r->log.snap_term;
	sn->snap_config = r->log.snap_config;
	sn->snap_size = r->log.snap_size;
	sn->offset = pr->snap_sent;
	sn->chunk_len =
	    left < RAFT_SNAPSHOT_CHUNK_BYTES ? (uint32_t)left : RAFT_SNAPSHOT_CHUNK_BYTES;
	sn->commit = r->commit;
	pr->snap_sent += sn->chunk_len;
	pr->n_inflight++;
}

void raft_snapshot_send(struct raft *r, struct raft_progress *pr)
{
	if (pr->state != RAFT_PR_SNAPSHOT || pr->snap_index != r->log.snap_index) {
		pr->state = RAFT_PR_SNAPSHOT;
		pr->snap_index = r->log.snap_index;
		pr->snap_offset = 0;
		pr->snap_resent = UINT64_MAX;
		pr->n_inflight = 0;
	}
	if (r->log.snap_size == 0) {
		/* nothing to send until it exists; none is made for a follower that is silent */
		if (pr->recent_active && pr->n_inflight == 0)
			r->u->want_image = r->log.snap_index;
		return;
	}
	if (pr->n_inflight == 0)
		pr->snap_sent = pr->snap_offset; /* none believed in flight: from what it wants */
	/* up to RAFT_SNAPSHOT_INFLIGHT chunks out, each acknowledged by the offset wanted next */
	while (pr->n_inflight < RAFT_SNAPSHOT_INFLIGHT && pr->snap_sent < r->log.snap_size) {
		uint32_t before = pr->n_inflight;

		raft_snapshot_push_chunk(r, pr);
		if (pr->n_inflight == before)
			break; /* the update's message slots are full */
	}
}

/*
 * A reject names the offset the follower wants: a chunk before it was lost
 * or it started over. Resend from there once; the rejects of the chunks that
 * were already in flight behind the lost one name the same offset and are
 * not answered again (a resend lost as well is retried by the heartbeat's
 * unstall).
 */
static void raft_snapshot_rejected(struct raft_progress *pr, uint64_t want)
{
	pr->snap_offset = want;
	if (want == pr->snap_resent && pr->snap_sent > want) {
		pr->n_inflight = raft_snapshot_window(pr);
		return;
	}
	pr->snap_resent = want;
	pr->n_inflight = 0;
}

void raft_snapshot_recv_response(struct raft *r, const struct raft_msg *m)
{
	const struct raft_snapshot_resp *sr = &m->u.snapshot_resp;
	struct raft_progress *pr = r->role == RAFT_LEADER ? raft_progress_find(r, m->from) : NULL;

	if (pr == NULL)
		return;
	pr->recent_active = 1;
	if (pr->state != RAFT_PR_SNAPSHOT || sr->snap_index != pr->snap_index ||
	    pr->snap_index != r->log.snap_index || sr->offset > r->log.snap_size) {
		r->dropped_msgs++;
		return;
	}
	if (sr->offset == r->log.snap_size && !sr->reject) {
		uint64_t match =
		    sr->match_index > pr->snap_index ? sr->match_index : pr->snap_index;

		if (match > r->log.last_index)
			match = pr->snap_index;
		pr->n_inflight = 0;
		pr->match = match > pr->match ? match : pr->match;
		pr->next = pr->match + 1;
		pr->state = RAFT_PR_PROBE;
		raft_maybe_commit(r);
		raft_transfer_check(r, pr);
	} else if (sr->reject) {
		raft_snapshot_rejected(pr, sr->offset);
	} else {
		/* acks may come reordered or duplicated: the highest one counts */
		if (sr->offset > pr->snap_offset)
			pr->snap_offset = sr->offset;
		pr->n_inflight = raft_snapshot_window(pr);
	}
	raft_replicate_one(r, pr);
}

static void raft_snapshot_reply(struct raft *r, const struct raft_msg *m, uint64_t offset,
                                uint64_t match, int reject)
{
	struct raft_msg *resp = raft_msg_push(r, 1, RAFT_MSG_SNAPSHOT_RESP, m->from);

	if (resp == NULL)
		return;
	resp->u.snapshot_resp = (struct raft_snapshot_resp){
	    .reject = (uint8_t)reject,
	    .snap_index = m->u.snapshot.snap_index,
	    .snap_term = m->u.snapshot.snap_term,
	    .offset = offset,
	    .match_index = match,
	};
}

static void raft_snapshot_install(struct raft *r, const struct raft_msg *m)
{
	struct raft_incoming *in = &r->incoming;
	struct raft_update *u = r->u;

	KV_ASSERT(in->snap.index > r->commit);
	u->has_snapshot_install = 1;
	u->snapshot_install = in->snap;
	raft_log_reset(&r->log, &in->snap);
	/*
	 * The snapshot is durable only once a PERSISTED event reports it: until
	 * then acknowledge nothing past what was durable before (found by the
	 * simulator: a heartbeat acked the snapshot's index before its fsync).
	 */
	if (r->durable > r->commit)
		r->durable = r->commit;
	r->commit = in->snap.index;
	r->emitted = in->snap.index; /* the state machine is replaced, not fed */
	raft_membership_refresh(r);
	in->active = 0;
	raft_snapshot_reply(r, m, in->snap.size, in->snap.index, 0);
}

/*
 * Is m the next chunk of the snapshot we are receiving (or the start of a
 * new one)? If not, *want is the offset to ask for instead.
 */
static int raft_snapshot_in_order(struct raft *r, const struct raft_msg *m, uint64_t *want)
{
	const struct raft_snapshot *sn = &m->u.snapshot;
	struct raft_incoming *in = &r->incoming;
	int same = in->active && in->from == m->from && in->term == r->term &&
	           in->snap.index == sn->snap_index && in->snap.term == sn->snap_term &&
	           in->snap.size == sn->snap_size;

	*want = same ? in->offset : 0;
	if (sn->offset == 0 && !same) {
		memset(in, 0, sizeof(*in));
		in->active = 1;
		in->from = m->from;
		in->term = r->term;
		in->snap.index = sn->snap_index;
		in->snap.term = sn->snap_term;
		in->snap.config = sn->snap_config;
		in->snap.size = sn->snap_size;
		return 1;
	}
	return same && (sn->offset == in->offset || raft_bug_chunk_any_offset());
}

void raft_snapshot_recv(struct raft *r, const struct raft_msg *m)
{
	const struct raft_snapshot *sn = &m->u.snapshot;
	struct raft_incoming *in = &r->incoming;
	struct raft_update *u = r->u;
	uint64_t want;

	raft_follow_leader(r, m);
	raft_leader_commit_seen(r, sn->commit);
	if (sn->snap_index <= r->commit) {
		raft_snapshot_reply(r, m, sn->snap_size, r->commit, 0); /* we have all of it */
		return;
	}
	if (raft_log_term_at(&r->log, sn->snap_index) == sn->snap_term) {
		/* our log holds its last entry, so everything before it matches */
		raft_snapshot_reply(r, m, sn->snap_size, sn->snap_index, 0);
		return;
	}
	if (!raft_snapshot_in_order(r, m, &want)) {
		raft_snapshot_reply(r, m, want, 0, 1);
		return;
	}
	if (sn->chunk_len > 0) {
		u->snapshot_chunk = sn->chunk;
		u->chunk_offset = sn->offset;
		u->chunk_len = sn->chunk_len;
	}
	in->offset = sn->offset + sn->chunk_len;
	if (in->offset == in->snap.size)
		raft_snapshot_install(r, m);
	else
		raft_snapshot_reply(r, m, in->offset, 0, 0);
}
