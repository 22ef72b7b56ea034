/*
 * gw_health.c - GET /livez (the process answers) and GET /readyz (this node
 * can serve: a leader is known, it is a voter or a caught-up learner, its
 * applied index is close to the commit index, storaged answers). Both answer
 * from the caches that gw_status.c keeps fresh. Loop thread only.
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

/* NULL when ready, else why not (a static sentence). */
static const char *health_not_ready(const struct gw *gw)
{
	uint64_t now = kv_clock_mono_ms();
	const struct gw_status *s = &gw->status;
	const struct gw_stats *st = &gw->stats;
	if (!s->valid || now - s->at_ms > GW_CACHE_FRESH_MS)
		return "raftd does not answer";
	if (s->msg.leader_id == 0)
		return "no leader is known";
	if (!st->valid || now - st->at_ms > GW_CACHE_FRESH_MS)
		return "storaged does not answer";
	uint64_t applied = st->msg.applied_index;
	if (s->msg.commit_index > applied && s->msg.commit_index - applied > GW_READY_LAG_MAX)
		return s->msg.is_learner ? "this learner has not caught up with the commit index"
		                         : "the applied index is behind the commit index";
	return NULL;
}

void gw_health_readyz(struct gw_req *r)
{
	struct gw *gw = r->gw;
	struct gw_http *h = &r->http;
	const char *why = health_not_ready(gw);
	if (why != NULL) {
		gw_reply_error(gw, h, 503, "not_ready", why, NULL);
		return;
	}
	char body[160];
	int n = snprintf(body, sizeof(body),
	                 "{\"status\":\"ready\",\"leader\":%" PRIu64 ",\"applied_index\":%" PRIu64
	                 ",\"commit_index\":%" PRIu64 "}\n",
	                 gw->status.msg.leader_id, gw->stats.msg.applied_index,
	                 gw->status.msg.commit_index);
	gw_reply_send(gw, h, 200, "application/json", body, (size_t)n, 0);
}
