/*
 * raftd_handoff.c - leaving leadership before exiting on SIGTERM.
 *
 * A leader that simply exits leaves the cluster without a leader for an
 * election timeout or more, and the writes waiting on it stall or fail. So
 * on SIGTERM a leader transfers leadership (RAFT_EVENT_TRANSFER) to a voter
 * it has heard from recently, the most caught-up first, keeps running the
 * loop until another node leads, no voter is live any more (the whole
 * cluster is stopping: nobody could take over) or RAFTD_HANDOFF_MS pass,
 * then lets main() shut down. The driver picks the target, not the core's "node 0", because
 * only the driver knows who answered lately: during a rolling restart the
 * most caught-up voter may be the one that just stopped. A rolling restart
 * (Kubernetes, docker compose) then costs no failed writes. Main (= loop)
 * thread, after raftd_loop_run returned.
 */
#include "raftd.h"

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>

#define RAFTD_HANDOFF_MS 3000u /* bound on the handoff; Kubernetes' grace period is longer */
/* A neighbour is gone after max(election timeout, this) of silence: the gateway
 * polls every ~100 ms, so a second is ten missed polls, not a slow start. */
#define RAFTD_NEIGHBOUR_SILENT_MS_MIN 1000u
#define RAFTD_HANDOFF_APPLY_MS        1000u /* bound on applying this leader's last entries after it */
/* Bound on telling the local gatewayd who leads now; it polls STATUS every ~100 ms. */
#define RAFTD_HANDOFF_TELL_MS 500u
/* A follower answers every heartbeat: one silent for this many is gone (or
 * stopping with us) and cannot take over; bounded by the election timeout. */
#define RAFTD_HANDOFF_LIVE_BEATS 4u

/*
 * Done once another node leads: stepping down alone is not enough, the
 * target may still need this node's vote, which goes out with the next
 * iterations (and the final flush).
 */
static int handoff_done(const struct raftd *d)
{
	struct raft_status st;
	raft_get_status(d->raft, &st);
	return st.role != RAFT_LEADER && st.leader != 0 && st.leader != d->opts.node_id;
}

/* How recently a voter must have been heard from to be handed leadership. */
static uint64_t handoff_live_ms(const struct raftd *d)
{
	uint64_t live_ms = RAFTD_HANDOFF_LIVE_BEATS * d->opts.heartbeat_ms;
	return live_ms < d->opts.election_timeout_ms ? live_ms : d->opts.election_timeout_ms;
}

/* A voter other than this node heard from lately (handoff_live_ms), the
 * most caught-up first, not in tried[0..n_tried); 0 if none. */
static uint64_t handoff_pick(const struct raftd *d, const uint64_t *tried, uint32_t n_tried)
{
	struct raft_status st;
	uint64_t now_ms = kv_clock_mono_ms(), best = 0, best_match = 0;
	uint64_t live_ms = handoff_live_ms(d);
	raft_get_status(d->raft, &st);
	for (uint32_t i = 0; i < st.config.n; i++) {
		uint64_t id = st.config.members[i].id;
		int p = raftd_peers_index(d, id);
		int skip =
		    st.config.members[i].role != RAFT_VOTER || id == d->opts.node_id || p < 0;
		for (uint32_t t = 0; t < n_tried && !skip; t++)
			skip = tried[t] == id;
		if (skip || d->peers[p].last_recv_ms == 0 ||
		    now_ms - d->peers[p].last_recv_ms > live_ms)
			continue;
		uint64_t match = raft_match_of(d->raft, id);
		if (best == 0 || match > best_match) {
			best = id;
			best_match = match;
		}
	}
	return best;
}

/* Asks the core to hand over to the next untried live voter; 0 or a KV_E* code. */
static int handoff_try(struct raftd *d, uint64_t *tried, uint32_t *n_tried)
{
	uint64_t target = handoff_pick(d, tried, *n_tried);
	if (target == 0 && *n_tried > 0) {
		*n_tried = 0; /* every live voter tried once: start over */
		target = handoff_pick(d, tried, 0);
	}
	if (target == 0)
		return KV_EUNAVAIL;
	struct raft_event ev = {.type = RAFT_EVENT_TRANSFER, .node_id = target};
	int rc = raftd_update_step(d, &ev);
	if (rc == 0 && *n_tried < RAFT_NODES_MAX) {
		tried[(*n_tried)++] = target;
		KV_LOG_INFO(RAFTD_SVC, "stopping: handing leadership over", "to=%" PRIu64, target);
	}
	return rc;
}

/*
 * The local gatewayd waits for the results of the writes this node proposed
 * as leader; they commit under the new leader. Keep feeding storaged (which
 * lingers after SIGTERM too) until it has applied them, within a bound.
 */
static void handoff_apply_own(struct raftd *d, uint64_t last_index)
{
	uint64_t start_ms = kv_clock_mono_ms();
	while (d->applied_index < last_index &&
	       kv_clock_mono_ms() - start_ms < RAFTD_HANDOFF_APPLY_MS) {
		if (raftd_loop_once(d) != 0)
			break;
	}
	KV_LOG_INFO(RAFTD_SVC, "stopping: own entries applied",
	            "applied=%" PRIu64 " wanted=%" PRIu64 " took_ms=%" PRIu64, d->applied_index,
	            last_index, kv_clock_mono_ms() - start_ms);
}

/*
 * The local gatewayd takes this node for the leader until a STATUS answer (or a refused
 * PROPOSE) names the new one, and meanwhile proposes its writes and those forwarded to it
 * here. A PROPOSE this raftd exits without reading is lost, and its write ends 504 (outcome
 * unknown) although nothing was appended: make handoff-test saw one in 2 of 4 runs at a
 * load average of 7. So keep answering - STATUS with the new leader, PROPOSE with
 * NOT_LEADER, which the gateway forwards - until the gateway has asked STATUS twice since
 * the handover (the second poll goes out ~100 ms after the first answer, by when the gateway
 * has read it and stopped proposing here), within RAFTD_HANDOFF_TELL_MS. A gateway silent
 * for that long (stopped first) is not waited for.
 */
static void handoff_tell_gateway(struct raftd *d)
{
	uint64_t start_ms = kv_clock_mono_ms(), asked = d->status_asked;
	if (start_ms - d->gateway_heard_ms > RAFTD_HANDOFF_TELL_MS)
		return;
	while (d->status_asked < asked + 2 &&
	       kv_clock_mono_ms() - start_ms < RAFTD_HANDOFF_TELL_MS) {
		if (raftd_loop_once(d) != 0)
			break;
	}
	KV_LOG_INFO(RAFTD_SVC, "stopping: gatewayd told the new leader",
	            "status_polls=%" PRIu64 " took_ms=%" PRIu64, d->status_asked - asked,
	            kv_clock_mono_ms() - start_ms);
}

void raftd_handoff(struct raftd *d)
{
	uint64_t tried[RAFT_NODES_MAX] = {0};
	uint32_t n_tried = 0;
	struct raft_status st;
	if (d->raft == NULL)
		return;
	raft_get_status(d->raft, &st);
	if (st.role != RAFT_LEADER)
		return;
	uint64_t start_ms = kv_clock_mono_ms();
	int rc = handoff_try(d, tried, &n_tried);
	/* the core abandons a transfer after an election timeout; then try the next voter.
	 * With no live voter left (cluster.sh down, every pod of a StatefulSet
	 * deleted at once) nobody can take over: stop waiting at once. */
	while (!handoff_done(d) && kv_clock_mono_ms() - start_ms < RAFTD_HANDOFF_MS) {
		if (handoff_pick(d, NULL, 0) == 0) {
			rc = KV_EUNAVAIL;
			break;
		}
		if (raftd_loop_once(d) != 0)
			break;
		raft_get_status(d->raft, &st);
		if (st.role == RAFT_LEADER)
			rc = handoff_try(d, tried, &n_tried); /* KV_EBUSY while one runs */
	}
	raft_get_status(d->raft, &st);
	if (handoff_done(d)) {
		handoff_apply_own(d, st.last_index);
		handoff_tell_gateway(d);
	}
	if (!handoff_done(d))
		KV_LOG_WARN(RAFTD_SVC, "leadership handoff did not finish",
		            "role=%u leader=%" PRIu64 " last_err=\"%s\" waited_ms=%" PRIu64,
		            (unsigned)st.role, st.leader, rc == 0 ? "none" : kv_strerror(rc),
		            kv_clock_mono_ms() - start_ms);
	else
		KV_LOG_INFO(RAFTD_SVC, "leadership handed over",
		            "new_leader=%" PRIu64 " term=%" PRIu64 " took_ms=%" PRIu64, st.leader,
		            st.term, kv_clock_mono_ms() - start_ms);
}

/*
 * Followers forward writes to the leader's gatewayd and the leader's storaged
 * produces every write's result, so a leader whose gatewayd or storaged is
 * gone serves no write although its raftd is healthy and keeps leadership.
 * Such a leader hands over to a live voter. The gateway polls STATUS every
 * ~100 ms, and raftd says hello to an idle storaged every second, so silence
 * for an election timeout (at least RAFTD_NEIGHBOUR_SILENT_MS_MIN), counted
 * from when this node became leader, means the neighbour is gone (or hung).
 * A fresh leader gets twice that as grace for its neighbours to appear, and
 * attempts are spaced by twice that so that a cluster whose gateways are all
 * down does not churn leaders faster.
 */
void raftd_handoff_if_neighbours_gone(struct raftd *d, uint64_t now_ms)
{
	struct raft_status st;
	uint64_t silent_ms = d->opts.election_timeout_ms;
	if (silent_ms < RAFTD_NEIGHBOUR_SILENT_MS_MIN)
		silent_ms = RAFTD_NEIGHBOUR_SILENT_MS_MIN;
	raft_get_status(d->raft, &st);
	if (st.role != RAFT_LEADER || now_ms - d->leader_since_ms < 2 * silent_ms ||
	    now_ms - d->handoff_tried_ms < 2 * silent_ms)
		return;
	uint64_t gw_heard =
	    d->gateway_heard_ms > d->leader_since_ms ? d->gateway_heard_ms : d->leader_since_ms;
	int gateway_gone = now_ms - gw_heard > silent_ms;
	uint64_t sd_wait = d->storaged_wait_since_ms > d->leader_since_ms
	                       ? d->storaged_wait_since_ms
	                       : d->leader_since_ms;
	int storaged_gone = d->storaged_wait_since_ms != 0 && now_ms - sd_wait > silent_ms;
	if (!gateway_gone && !storaged_gone)
		return;
	uint64_t tried[RAFT_NODES_MAX] = {0};
	uint32_t n_tried = 0;
	d->handoff_tried_ms = now_ms;
	int rc = handoff_try(d, tried, &n_tried);
	KV_LOG_WARN(RAFTD_SVC, "local neighbour silent: handing leadership over",
	            "gatewayd_silent_ms=%" PRIu64 " storaged_silent=%d result=\"%s\"",
	            now_ms - gw_heard, storaged_gone,
	            rc == 0 ? "transfer started" : kv_strerror(rc));
}
