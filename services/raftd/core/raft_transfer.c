/*
 * raft_transfer.c - handing leadership to another voter.
 *
 * The leader stops taking proposals, brings the target's log up to its own,
 * then sends TIMEOUT_NOW so the target campaigns at once (its VOTE carries
 * transfer=1 and so passes the other nodes' leader lease). A transfer that
 * has not finished within an election timeout is abandoned. Runs on the
 * thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

/* The voter with the highest match, for a transfer to "anyone". */
static uint64_t raft_transfer_pick(struct raft *r)
{
	uint64_t best = 0, best_match = 0;

	for (uint32_t i = 0; i < r->n_progress; i++) {
		const struct raft_progress *pr = &r->progress[i];

		if (!raft_config_is_voter(&r->config, pr->id))
			continue;
		if (best == 0 || pr->match > best_match) {
			best = pr->id;
			best_match = pr->match;
		}
	}
	return best;
}

void raft_transfer_check(struct raft *r, struct raft_progress *pr)
{
	struct raft_msg *m;

	if (r->transfer_target != pr->id || pr->match != r->log.last_index)
		return;
	m = raft_msg_push(r, 0, RAFT_MSG_TIMEOUT_NOW, pr->id);
	(void)m; /* if the update is full, the next acknowledgement retries */
}

int raft_transfer_start(struct raft *r, uint64_t node_id)
{
	struct raft_progress *pr;

	if (r->role != RAFT_LEADER)
		return KV_ENOTLEADER;
	if (r->transfer_target != 0)
		return KV_EBUSY;
	if (node_id == r->opt.id)
		return 0; /* already there */
	if (node_id == 0)
		node_id = raft_transfer_pick(r);
	if (node_id == 0 || !raft_config_is_voter(&r->config, node_id))
		return KV_EINVAL;
	pr = raft_progress_find(r, node_id);
	KV_ASSERT(pr != NULL);
	r->transfer_target = node_id;
	r->transfer_deadline_ms = r->now_ms + r->opt.election_timeout_ms;
	if (pr->match == r->log.last_index)
		raft_transfer_check(r, pr);
	else
		raft_replicate_one(r, pr);
	return 0;
}

void raft_transfer_tick(struct raft *r)
{
	if (r->transfer_target != 0 && r->now_ms >= r->transfer_deadline_ms)
		r->transfer_target = 0; /* took too long: keep leading, take proposals again */
}

void raft_transfer_recv_timeout_now(struct raft *r, const struct raft_msg *m)
{
	if (r->role == RAFT_LEADER || m->from != r->leader ||
	    !raft_config_is_voter(&r->config, r->opt.id))
		return;
	if (r->term >= UINT64_MAX - 1)
		return;
	raft_become_candidate(r, 1);
}
