/*
 * gw_consul_status.c - Consul's GET /v1/status/leader ("host:port" of the
 * leader's Raft address, "" when none is known) and /v1/status/peers (the
 * voters' Raft addresses), from this gateway's cached view of its node's
 * Raft status (polled every GW_POLL_MS; older than GW_CACHE_FRESH_MS counts
 * as no leader known). Loop thread only.
 */
#include "gw.h"
#include "gw_consul.h"

#include <string.h>

#define GW_CONSUL_STATUS_BODY_MAX (4u << 10)

static void consul_status_addr(struct gw_json *j, const char *addr)
{
	gw_json_str(j, (const uint8_t *)addr, strlen(addr));
}

void gw_consul_status_leader(struct gw_req *r)
{
	struct gw *gw = r->gw;
	const char *addr = gw_status_member_addr(gw, gw_status_leader(gw));
	struct gw_json j;
	gw_json_init(&j, GW_CONSUL_STATUS_BODY_MAX);
	consul_status_addr(&j, addr != NULL ? addr : "");
	gw_consul_reply_json(gw, &r->http, j.buf, j.len, 0);
	gw_json_free(&j);
}

void gw_consul_status_peers(struct gw_req *r)
{
	struct gw *gw = r->gw;
	struct gw_json j;
	gw_json_init(&j, GW_CONSUL_STATUS_BODY_MAX);
	gw_json_open(&j, '[');
	for (uint32_t i = 0; gw_status_fresh(gw) && i < gw->status.n_members; i++)
		if (gw->status.members[i].role != RAFT_LEARNER)
			consul_status_addr(&j, gw->status.members[i].addr);
	gw_json_close(&j, ']');
	gw_consul_reply_json(gw, &r->http, j.buf, j.len, 0);
	gw_json_free(&j);
}
