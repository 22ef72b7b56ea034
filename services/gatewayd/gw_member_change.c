/*
 * gw_member_change.c - one membership change, from the HTTP request to its
 * commit. The call goes where the leader is (gw_leader_route.c: forwarded to
 * the leader's gateway from a follower) and then:
 *
 *   STATUS (fresh) -> precheck -> MEMBER_CHANGE -> index -> STATUS every
 *   GW_MEMBER_POLL_MS until commit_index >= index and the configuration
 *   shows the change -> answered.
 *
 * A change is answered only once committed: an answer before that could
 * report a change that a leader change then drops. raftd is authoritative
 * for every rule (one change at a time, caught up, the last voter); the
 * precheck on a STATUS asked just before only gives the common refusals
 * their own codes, and refuses one rule raftd does not have: a removal that
 * would leave fewer voters the leader hears from than a quorum of the new
 * configuration (409 would_lose_quorum, unless ?force=true). If the leader loses its leadership
 * after proposing, the call keeps asking its raftd (now a follower): once the commit index has
 * passed the entry's index and the configuration does not show the change,
 * the entry was replaced and nothing was applied (503 change_lost); if the
 * deadline comes first the outcome is unknown (504). Loop thread only.
 */
#include "gw.h"
#include "gw_member.h"

#include "gw_errors.h"
#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* In the pool of c's request, which lives as long as c answers it. */
static struct gw_member_change *member_of(struct gw_call *c)
{
	return c->ctx;
}

static const char *member_op_name(uint8_t op)
{
	return op == RAFT_CONFIG_ADD_LEARNER ? "add"
	       : op == RAFT_CONFIG_PROMOTE   ? "promote"
	                                     : "remove";
}

int gw_member_change_shown(const struct gw_status *s, const struct gw_member_change *ch)
{
	for (uint32_t i = 0; i < s->n_members; i++) {
		if (s->members[i].id != ch->m.id)
			continue;
		if (ch->op == RAFT_CONFIG_ADD_LEARNER)
			return strcmp(s->members[i].addr, ch->m.peer_address) == 0;
		return ch->op == RAFT_CONFIG_PROMOTE && s->members[i].role == RAFT_VOTER;
	}
	return ch->op == RAFT_CONFIG_REMOVE;
}

int gw_member_remove_loses_quorum(const struct gw_status *s, uint64_t id)
{
	uint32_t voters = 0, live = 0;

	if (!s->has_live)
		return 0;
	for (uint32_t i = 0; i < s->n_members; i++) {
		if (s->members[i].id == id || s->members[i].role != RAFT_VOTER)
			continue;
		voters++;
		live += s->members[i].live;
	}
#ifdef GW_BUG_MEMBER_QUORUM_COUNTS_ALL
	live = voters; /* the planted bug of make gw-bugs-member: a stopped voter counts */
#endif
	/* no voter left is the last-voter refusal, raftd's to give */
	return voters > 0 && live < voters / 2 + 1;
}

/*
 * The refusals a fresh status can tell: an add whose id or address is
 * taken (KV_EEXIST; a seed's join of the very member already there is done:
 * 1), a promote of no member (KV_ENOTFOUND) or of a voter (KV_EINVAL). 0:
 * raftd decides.
 */
static int member_precheck(const struct gw_status *s, const struct gw_member_change *ch)
{
	for (uint32_t i = 0; i < s->n_members; i++) {
		int same_id = s->members[i].id == ch->m.id;
		int same_addr = strcmp(s->members[i].addr, ch->m.peer_address) == 0;
		if (ch->op == RAFT_CONFIG_ADD_LEARNER && same_id && same_addr &&
		    ch->style == GW_MEMBER_STYLE_SEED)
			return 1; /* as hashicorp/raft's AddVoter of a present server: nothing to do
			           */
		if (ch->op == RAFT_CONFIG_ADD_LEARNER && (same_id || same_addr))
			return KV_EEXIST;
		if (ch->op == RAFT_CONFIG_PROMOTE && same_id)
			return s->members[i].role == RAFT_VOTER ? KV_EINVAL : 0;
	}
	return ch->op == RAFT_CONFIG_PROMOTE ? KV_ENOTFOUND : 0;
}

/* Asks raftd for a STATUS; on failure, waits for a leader (or polls again). */
static void member_ask_status(struct gw *gw, struct gw_call *c)
{
	struct proto_local m = {.type = PROTO_STATUS_REQ, .req_id = gw_pending_next_id(gw, c)};

	c->state = GW_CALL_STATUS;
	if (gw_zmq_send(gw, 1, &m) == 0)
		return;
	if (member_of(c)->index == 0) {
		gw_leader_wait(c);
		return;
	}
	c->state = GW_CALL_COMMITTING; /* raftd is down: its answer will come, or the deadline */
	c->retry_at_ms = kv_clock_mono_ms() + GW_MEMBER_POLL_MS;
}

static void member_propose(struct gw *gw, struct gw_call *c)
{
	const struct gw_member_change *ch = member_of(c);
	struct proto_local m = {.type = PROTO_MEMBER_CHANGE, .req_id = gw_pending_next_id(gw, c)};
	struct proto_member_change *mc = &m.u.member_change;

	mc->op = ch->op;
	mc->node_id = ch->m.id;
	if (ch->op == RAFT_CONFIG_ADD_LEARNER) {
		mc->flags = ch->m.promote ? RAFT_CONFIG_FLAG_PROMOTE : 0;
		mc->peer_address = (struct proto_bytes){(const uint8_t *)ch->m.peer_address,
		                                        (uint32_t)strlen(ch->m.peer_address)};
		mc->url =
		    (struct proto_bytes){(const uint8_t *)ch->m.url, (uint32_t)strlen(ch->m.url)};
		mc->curve_key = (struct proto_bytes){(const uint8_t *)ch->m.curve_key,
		                                     (uint32_t)strlen(ch->m.curve_key)};
	}
	if (gw_zmq_send(gw, 1, &m) != 0) {
		gw_leader_wait(c); /* raftd is down: nothing was proposed */
		return;
	}
	c->state = GW_CALL_PROPOSED;
}

/* A STATUS before the change was proposed: are we still the leader, and does the precheck pass? */
static void member_on_status_before(struct gw *gw, struct gw_call *c)
{
	struct gw_member_change *ch = member_of(c);
	int rc;

	if (gw->status.msg.role != RAFT_LEADER) {
		gw_status_refresh(gw);
		gw_leader_wait(c);
		return;
	}
	rc = member_precheck(&gw->status, ch);
	if (rc == 0 && ch->op == RAFT_CONFIG_REMOVE && !ch->force &&
	    gw_member_remove_loses_quorum(&gw->status, ch->m.id))
		gw_member_reply_quorum(gw, c, ch);
	else if (rc == 1)
		gw_member_reply_done(gw, c, ch);
	else if (rc != 0)
		gw_member_reply_refused(gw, c, ch, rc);
	else
		member_propose(gw, c);
}

/* A STATUS after: committed and shown, replaced, or not yet. */
static void member_on_status_after(struct gw *gw, struct gw_call *c)
{
	struct gw_member_change *ch = member_of(c);
	const struct gw_status *s = &gw->status;
	int shown = gw_member_change_shown(s, ch);

	if (s->msg.commit_index >= ch->index && shown) {
		gw_member_reply_done(gw, c, ch);
		return;
	}
	if (s->msg.commit_index >= ch->index && !shown) {
		KV_LOG_WARN(GW_SVC, "a membership change was dropped by a leader change",
		            "op=%s node=%" PRIu64 " index=%" PRIu64, member_op_name(ch->op),
		            ch->m.id, ch->index);
		gw_member_reply_lost(gw, c, ch);
		return;
	}
	c->state = GW_CALL_COMMITTING;
	c->retry_at_ms = kv_clock_mono_ms() + GW_MEMBER_POLL_MS;
}

static void member_on_change_resp(struct gw *gw, struct gw_call *c,
                                  const struct proto_member_change_resp *m)
{
	struct gw_member_change *ch = member_of(c);

	if (m->status == KV_ENOTLEADER || m->status == KV_ENOLEADER) {
		/* nothing was appended (or the leader handed over to be removed): ask again */
		gw->status.msg.leader_id = m->leader_id;
		gw_status_refresh(gw);
		gw_leader_wait(c);
		return;
	}
	if (m->status != 0) {
		gw_member_reply_refused(gw, c, ch, m->status);
		return;
	}
	KV_ASSERT(m->index > 0);
	ch->index = m->index;
#ifdef GW_BUG_MEMBER_ANSWER_UNCOMMITTED
	gw_member_reply_done(gw, c, ch); /* the planted bug of make gw-bugs-member */
	return;
#endif
	member_ask_status(gw, c); /* it may have committed already */
}

static void member_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	if (lm->type == PROTO_MEMBER_CHANGE_RESP && c->state == GW_CALL_PROPOSED)
		member_on_change_resp(gw, c, &lm->u.member_change_resp);
	else if (lm->type == PROTO_STATUS_RESP && c->state == GW_CALL_STATUS)
		member_of(c)->index == 0 ? member_on_status_before(gw, c)
		                         : member_on_status_after(gw, c);
}

static void member_on_retry(struct gw *gw, struct gw_call *c)
{
	if (c->state == GW_CALL_WAIT_LEADER)
		gw_leader_route(gw, c, member_ask_status);
	else if (c->state == GW_CALL_COMMITTING)
		member_ask_status(gw, c);
}

static void member_on_deadline(struct gw *gw, struct gw_call *c)
{
	struct gw_error_extra ex = {0};
	char msg[160];

	if (c->state == GW_CALL_WAIT_LEADER) {
		gw_reply_no_leader(gw, &c->http, KV_ENOLEADER);
		gw_pending_end(gw, c);
		return;
	}
	ex.request_id = c->req_id;
	if (c->state != GW_CALL_FORWARDING && member_of(c)->index != 0)
		snprintf(msg, sizeof(msg),
		         "the change is in the log at index %" PRIu64
		         " but was not committed by the deadline; see GET /v1/members",
		         member_of(c)->index);
	else
		snprintf(msg, sizeof(msg),
		         "the deadline passed before the change's outcome was known; see GET "
		         "/v1/members");
	gw_reply_error(gw, &c->http, 504, kv_err_code(KV_ETIMEDOUT), msg, &ex);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops member_ops = {member_on_msg, member_on_retry, member_on_deadline};

void gw_member_change_start(struct gw_req *r, const struct gw_member_change *ch)
{
	struct gw_call *c = gw_pending_start(r, &member_ops, r->query.timeout_ms);
	struct gw_member_change *copy;

	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	copy = h2o_mem_alloc_pool(&r->http.req->pool, sizeof(*copy));
	*copy = *ch;
	copy->index = 0;
	c->ctx = copy;
	c->forwarded = (uint8_t)gw_leader_forwarded(r);
	gw_leader_route(r->gw, c, member_ask_status);
}
