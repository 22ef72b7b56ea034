/*
 * raft_election.c - time, roles and campaigns: randomized election timeouts
 * from the core's own PRNG (splitmix64, seeded from options.seed), PreVote,
 * CheckQuorum and the leader lease that makes followers ignore disruptive
 * campaigns. Time only drives timeouts: no safety decision reads the clock.
 * Runs on the thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

static uint64_t raft_rand(struct raft *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t raft_random_timeout(struct raft *r)
{
	uint64_t base = r->opt.election_timeout_ms;

	return base + raft_rand(r) % base;
}

int raft_in_lease(const struct raft *r)
{
	if (r->role == RAFT_LEADER)
		return 1;
	return r->heard_leader && r->leader != 0 &&
	       r->now_ms - r->leader_heard_ms < r->opt.election_timeout_ms;
}

void raft_become_follower(struct raft *r, uint64_t term, uint64_t leader)
{
	KV_ASSERT(term >= r->term);
	if (r->role == RAFT_LEADER || term > r->term || r->leader != leader)
		raft_read_fail_all(r); /* they were confirmed against another leader */
	if (term > r->term) {
		r->term = term;
		r->vote = 0;
	}
	r->role = RAFT_FOLLOWER;
	r->leader = leader;
	r->heard_leader = leader != 0;
	r->leader_heard_ms = r->now_ms;
	r->transfer_target = 0;
	r->n_progress = 0;
	r->election_deadline_ms = r->now_ms + raft_random_timeout(r);
}

static void raft_send_campaign(struct raft *r, uint8_t type, uint64_t term, int transfer)
{
	for (uint32_t i = 0; i < r->config.n; i++) {
		const struct raft_member *mb = &r->config.members[i];
		struct raft_msg *m;

		if (mb->role != RAFT_VOTER || mb->id == r->opt.id)
			continue;
		/* A VOTE asks for our persisted vote for ourselves: send it after persist. */
		m = raft_msg_push(r, type == RAFT_MSG_VOTE, type, mb->id);
		if (m == NULL)
			continue;
		m->term = term;
		m->u.vote.last_index = r->log.last_index;
		m->u.vote.last_term = raft_log_last_term(&r->log);
		m->u.vote.transfer = (uint8_t)transfer;
	}
}

static void raft_start_count(struct raft *r)
{
	r->granted[0] = r->opt.id;
	r->n_granted = raft_self_campaigns(r) ? 1 : 0;
	r->n_rejected = 0;
	r->election_deadline_ms = r->now_ms + raft_random_timeout(r);
}

static void raft_become_precandidate(struct raft *r)
{
	if (r->role == RAFT_LEADER || r->leader != 0)
		raft_read_fail_all(r);
	r->role = RAFT_PRECANDIDATE;
	r->leader = 0;
	r->heard_leader = 0;
	raft_start_count(r);
	if (r->n_granted >= raft_votes_needed(r)) {
		raft_become_candidate(r, 0);
		return;
	}
	raft_send_campaign(r, RAFT_MSG_PREVOTE, r->term + 1, 0);
}

void raft_become_candidate(struct raft *r, int transfer)
{
	if (r->role == RAFT_LEADER || r->leader != 0)
		raft_read_fail_all(r);
	r->role = RAFT_CANDIDATE;
	r->term++;
	r->vote = r->opt.id;
	r->leader = 0;
	r->heard_leader = 0;
	r->n_progress = 0;
	r->transfer_target = 0;
	raft_start_count(r);
	if (r->n_granted >= raft_votes_needed(r)) {
		raft_become_leader(r);
		return;
	}
	raft_send_campaign(r, RAFT_MSG_VOTE, r->term, transfer);
}

static void raft_campaign(struct raft *r)
{
	/*
	 * Learners, removed nodes and voters whose disk the configuration does not
	 * know (raft_identity.c) never campaign; a term of UINT64_MAX is the end.
	 */
	if (!raft_self_campaigns(r) || r->term >= UINT64_MAX - 1) {
		r->election_deadline_ms = r->now_ms + raft_random_timeout(r);
		return;
	}
	if (r->opt.prevote)
		raft_become_precandidate(r);
	else
		raft_become_candidate(r, 0);
}

/* CheckQuorum: a leader that did not hear from a quorum in an election timeout steps down. */
static void raft_check_quorum(struct raft *r)
{
	uint32_t active = raft_self_counts(r) ? 1 : 0;

	for (uint32_t i = 0; i < r->n_progress; i++) {
		struct raft_progress *pr = &r->progress[i];
		const struct raft_member *mb = raft_config_find(&r->config, pr->id);

		if (pr->recent_active && mb != NULL && raft_member_counts(mb, pr->incarnation))
			active++;
		pr->recent_active = 0;
	}
	r->quorum_deadline_ms = r->now_ms + r->opt.election_timeout_ms;
	if (active < raft_quorum(raft_config_voters(&r->config)))
		raft_become_follower(r, r->term, 0);
}

static void raft_leader_tick(struct raft *r)
{
	if (r->now_ms >= r->heartbeat_deadline_ms) {
		r->heartbeat_deadline_ms = r->now_ms + r->opt.heartbeat_ms;
		raft_heartbeat_tick(r);
	}
	raft_transfer_tick(r);
	if (r->opt.check_quorum && r->now_ms >= r->quorum_deadline_ms)
		raft_check_quorum(r);
}

void raft_election_tick(struct raft *r)
{
	if (r->role == RAFT_LEADER) {
		raft_leader_tick(r);
		return;
	}
	raft_read_expire(r);
	if (r->now_ms >= r->election_deadline_ms)
		raft_campaign(r);
}
