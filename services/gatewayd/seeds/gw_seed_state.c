/*
 * gw_seed_state.c - GET /state, from the first seed project (a Go Raft
 * demo on minikube): {"state":"follower","term":1,"leader":"<address>"},
 * from this gateway's cached Raft status. The leader's address is its
 * gateway's host:port (--gateways), where its writes go, else its Raft
 * address; "" while there is no leader. Loop thread only.
 */
#include "gw.h"
#include "gw_routes.h"
#include "gw_seed.h"

#include "kv_err.h"

#include <string.h>

static const char *state_name(const struct gw_status *s)
{
	switch (s->msg.role) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_CANDIDATE:
	case RAFT_PRECANDIDATE:
		return "candidate";
	default:
		return "follower"; /* learners too: the seed knows no other state */
	}
}

/* The leader's address: its gateway's host:port, else its Raft address, else "". */
static void state_leader(const struct gw *gw, char *out, size_t cap)
{
	const struct gw_status *s = &gw->status;
	const struct gw_peer *p = gw_status_peer(gw, s->msg.leader_id);
	out[0] = '\0';
	if (p != NULL) {
		const char *hostport = strstr(p->url, "://");
		snprintf(out, cap, "%s", hostport != NULL ? hostport + 3 : p->url);
		return;
	}
	const char *addr = gw_status_member_addr(gw, s->msg.leader_id);
	if (addr != NULL)
		snprintf(out, cap, "%s", addr);
}

void gw_seed_state_handle(struct gw_req *r)
{
	struct gw *gw = r->gw;
	if (!gw_status_fresh(gw)) {
		gw_reply_kv_error(gw, &r->http, KV_EUNAVAIL, "raftd has not answered lately", NULL);
		return;
	}
	char leader[GW_URL_BYTES_MAX];
	state_leader(gw, leader, sizeof(leader));
	struct gw_json j;
	gw_json_init(&j, GW_SEED_BODY_MAX);
	gw_json_raw(&j, "{\"state\":", 9);
	const char *state = state_name(&gw->status);
	gw_seed_json_go_str(&j, (const uint8_t *)state, strlen(state));
	char term[40];
	int n = snprintf(term, sizeof(term),
	                 ",\"term\":%llu,\"leader\":", (unsigned long long)gw->status.msg.term);
	gw_json_raw(&j, term, (size_t)n);
	gw_seed_json_go_str(&j, (const uint8_t *)leader, strlen(leader));
	gw_json_raw(&j, "}", 1);
	gw_seed_send(gw, &r->http, &j, 0);
}
