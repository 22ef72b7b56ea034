/*
 * gw_health.c - GET /livez (the process answers) and GET /readyz (this node
 * can serve: a leader is known, it is a voter or a caught-up learner, its
 * applied index is close to the leader's commit index, storaged answers).
 * The leader's commit index, as its last message announced it, not this
 * node's: a follower that restarts empty commits only what it matches, so its
 * own commit index grows with its log and would call it ready long before it
 * holds the data. Both answer from the caches that gw_status.c keeps fresh.
 * Loop thread only.
 */
#include "gw.h"

#include "gw_errors.h"
#include "gw_routes.h"
#include "kv_clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void gw_health_livez(struct gw_req *r)
{
	static const char body[] = "{\"status\":\"ok\"}\n";
	gw_reply_send(r->gw, &r->http, 200, "application/json", body, strlen(body), 0);
}

/* The index this node must have applied (within GW_READY_LAG_MAX) to be ready. */
static uint64_t health_target(const struct proto_status_resp *s)
{
#ifdef GW_BUG_READY_OWN_COMMIT
	return s->commit_index; /* planted: this node's own commit index */
#else
	return s->leader_commit > s->commit_index ? s->leader_commit : s->commit_index;
#endif
}

const char *gw_health_not_ready(const struct gw *gw, uint64_t now)
{
	const struct gw_status *s = &gw->status;
	const struct gw_stats *st = &gw->stats;
	if (!s->valid || now - s->at_ms > GW_CACHE_FRESH_MS)
		return "raftd does not answer";
	if (s->msg.leader_id == 0)
		return "no leader is known";
	if (!st->valid || now - st->at_ms > GW_CACHE_FRESH_MS)
		return "storaged does not answer";
	uint64_t applied = st->msg.applied_index;
	uint64_t target = health_target(&s->msg);
	if (target > applied && target - applied > GW_READY_LAG_MAX)
		return s->msg.is_learner ? "this learner has not caught up with the commit index"
		                         : "the applied index is behind the commit index";
	return NULL;
}

void gw_health_readyz(struct gw_req *r)
{
	struct gw *gw = r->gw;
	struct gw_http *h = &r->http;
	const char *why = gw_health_not_ready(gw, kv_clock_mono_ms());
	if (why != NULL) {
		gw_reply_error(gw, h, 503, "not_ready", why, NULL);
		return;
	}
	char body[160];
	int n = snprintf(body, sizeof(body),
	                 "{\"status\":\"ready\",\"leader\":%" PRIu64 ",\"applied_index\":%" PRIu64
	                 ",\"commit_index\":%" PRIu64 ",\"leader_commit\":%" PRIu64 "}\n",
	                 gw->status.msg.leader_id, gw->stats.msg.applied_index,
	                 gw->status.msg.commit_index, health_target(&gw->status.msg));
	gw_reply_send(gw, h, 200, "application/json", body, (size_t)n, 0);
}
