/*
 * raft_vote.c - PREVOTE and VOTE requests and their responses.
 *
 * A granted VOTE is a promise: it goes out only after the vote is durable
 * (msgs_after_persist). A PREVOTE changes nothing and is answered at once.
 * Messages of an older term get our term back so their sender catches up.
 * Runs on the thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

static int raft_log_up_to_date(const struct raft *r, const struct raft_msg *m)
{
	uint64_t last_term = raft_log_last_term(&r->log);

	return m->u.vote.last_term > last_term ||
	       (m->u.vote.last_term == last_term && m->u.vote.last_index >= r->log.last_index);
}

static void raft_vote_reply(struct raft *r, const struct raft_msg *m, int grant)
{
	uint8_t type = m->type == RAFT_MSG_VOTE ? RAFT_MSG_VOTE_RESP : RAFT_MSG_PREVOTE_RESP;
	int after = raft_reply_after_persist(r);
	struct raft_msg *resp;

	if (grant && type == RAFT_MSG_VOTE_RESP)
		after = 1; /* even a repeated grant: the first may not be durable yet */
	if (grant && type == RAFT_MSG_VOTE_RESP && raft_bug_vote_no_persist()) {
		after = 0;
		r->vote_unsaved = 1;
	}
	resp = raft_msg_push(r, after, type, m->from);
	if (resp == NULL)
		return;
	resp->u.vote_resp.reject = (uint8_t)!grant;
	if (grant && type == RAFT_MSG_VOTE_RESP)
		r->votes_granted++;
	/* A granted PREVOTE echoes the term asked for; anything else carries ours. */
	resp->term = (grant && type == RAFT_MSG_PREVOTE_RESP) ? m->term : r->term;
}

void raft_vote_recv_request(struct raft *r, const struct raft_msg *m)
{
	int grant;

	if (m->type == RAFT_MSG_PREVOTE) {
		if (m->term < r->term) {
			raft_vote_reply(r, m, 0);
			return;
		}
		grant =
		    (m->term > r->term || r->vote == m->from || (r->vote == 0 && r->leader == 0)) &&
		    !raft_in_lease(r) && raft_log_up_to_date(r, m) && !raft_self_replaced(r);
		raft_vote_reply(r, m, grant);
		return;
	}
	KV_ASSERT(m->term == r->term); /* raft_filter_term() moved us to it */
	/* a node whose disk was replaced never votes (raft_identity.c) */
	grant = (r->vote == m->from || (r->vote == 0 && r->leader == 0)) &&
	        raft_log_up_to_date(r, m) && !raft_self_replaced(r);
	if (grant && r->vote != m->from) {
		r->vote = m->from;
		/* granting resets our timer: give the candidate its chance */
		r->election_deadline_ms = r->now_ms + raft_random_timeout(r);
	}
	raft_vote_reply(r, m, grant);
}

static int raft_count_id(uint64_t *ids, uint32_t *n, uint64_t id)
{
	for (uint32_t i = 0; i < *n; i++)
		if (ids[i] == id)
			return 0;
	KV_ASSERT(*n < RAFT_NODES_MAX);
	ids[(*n)++] = id;
	return 1;
}

void raft_vote_recv_response(struct raft *r, const struct raft_msg *m)
{
	uint32_t voters = raft_config_voters(&r->config), needed = raft_votes_needed(r);
	int pre = m->type == RAFT_MSG_PREVOTE_RESP;

	if (pre ? r->role != RAFT_PRECANDIDATE : r->role != RAFT_CANDIDATE)
		return;
	if (!raft_config_is_voter(&r->config, m->from))
		return;
	if (!m->u.vote_resp.reject && m->term != (pre ? r->term + 1 : r->term))
		return; /* a grant from another round */
	if (!m->u.vote_resp.reject && !raft_vote_counts(r, m->from, m->incarnation))
		return; /* a disk the configuration does not know: not a vote (raft_identity.c) */
	if (m->u.vote_resp.reject)
		raft_count_id(r->rejected, &r->n_rejected, m->from);
	else
		raft_count_id(r->granted, &r->n_granted, m->from);
	if (r->n_granted >= needed) {
		if (pre)
			raft_become_candidate(r, 0);
		else
			raft_become_leader(r);
	} else if (needed > raft_quorum(voters) ? r->n_rejected > voters - needed
	                                        : r->n_rejected >= needed) {
		raft_become_follower(r, r->term, 0);
	}
}

void raft_vote_reject_stale(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg *resp;

	r->dropped_msgs++;
	switch (m->type) {
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_VOTE:
		raft_vote_reply(r, m, 0);
		break;
	case RAFT_MSG_APPEND:
	case RAFT_MSG_SNAPSHOT:
		/* a deposed leader: tell it the term so it steps down */
		resp = raft_msg_push(r, raft_reply_after_persist(r), RAFT_MSG_APPEND_RESP, m->from);
		if (resp != NULL)
			resp->u.append_resp.reject = 1;
		break;
	default:
		break;
	}
}
