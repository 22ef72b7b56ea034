/*
 * gw_status.c - what this gateway knows of its node: raftd's STATUS and
 * storaged's STATS, polled every GW_POLL_MS and cached; GET /v1/status asks
 * raftd afresh. Loop thread only.
 */
#include "gw.h"

#include "gw_errors.h"
#include "gw_routes.h"
#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <string.h>

static uint64_t status_copy_str(char *dst, size_t cap, struct proto_bytes b)
{
	size_t n = b.len < cap - 1 ? b.len : cap - 1;
	memcpy(dst, b.ptr, n);
	dst[n] = '\0';
	return n;
}

void gw_status_update(struct gw *gw, const struct proto_local *lm)
{
	const struct proto_status_resp *m = &lm->u.status_resp;
	struct gw_status *s = &gw->status;
	uint64_t old_leader = s->valid ? s->msg.leader_id : 0;
	s->valid = 1;
	s->at_ms = kv_clock_mono_ms();
	s->msg = *m;
	s->msg.members = NULL; /* points into the frame: copied to s->members below */
	s->msg.n_members = 0;
	s->msg.member_match = (struct proto_bytes){0}; /* into the frame: copied below */
	s->n_members = m->n_members < RAFT_NODES_MAX ? m->n_members : RAFT_NODES_MAX;
	s->msg.member_live = (struct proto_bytes){0};
	s->has_match = m->member_match.len == 8 * s->n_members && s->n_members > 0;
	s->has_live = m->member_live.len == s->n_members && s->n_members > 0;
	for (uint32_t i = 0; i < s->n_members; i++) {
		s->members[i].id = m->members[i].id;
		s->members[i].role = m->members[i].role;
		status_copy_str(s->members[i].addr, sizeof(s->members[i].addr), m->members[i].addr);
		s->members[i].url[0] =
		    '\0'; /* one that cannot be a gateway's URL is not kept, not cut */
		if (m->members[i].url.len < sizeof(s->members[i].url))
			status_copy_str(s->members[i].url, sizeof(s->members[i].url),
			                m->members[i].url);
		s->members[i].live = s->has_live ? m->member_live.ptr[i] != 0 : 0;
		s->members[i].match = 0;
		for (unsigned b = 0; s->has_match && b < 8; b++)
			s->members[i].match =
			    s->members[i].match << 8 | m->member_match.ptr[8 * i + b];
	}
	gw_peers_learn(gw);
	if (old_leader != s->msg.leader_id)
		KV_LOG_INFO(GW_SVC, "leader changed", "leader=%llu term=%llu",
		            (unsigned long long)s->msg.leader_id, (unsigned long long)s->msg.term);
}

void gw_stats_update(struct gw *gw, const struct proto_local *m)
{
	struct gw_stats *st = &gw->stats;
	st->valid = 1;
	st->at_ms = kv_clock_mono_ms();
	st->msg = m->u.stats_resp;
}

/*
 * A leader whose storaged does not answer cannot answer writes either (the
 * RESULTs of its proposals come from its storaged), and writes forwarded to
 * it would all time out: ask raftd to hand leadership to another voter.
 */
static void status_check_storaged(struct gw *gw, uint64_t now_ms)
{
	const struct gw_stats *st = &gw->stats;
	if (gw_status_leader(gw) != gw->cfg.node_id ||
	    now_ms - gw->started_ms < (uint64_t)2 * GW_CACHE_FRESH_MS ||
	    now_ms - gw->last_transfer_ms < GW_TRANSFER_EVERY_MS)
		return;
	if (st->valid && now_ms - st->at_ms <= GW_STORAGED_LOST_MS && gw_zmq_connected(gw, 0))
		return;
	gw->last_transfer_ms = now_ms;
	KV_LOG_WARN(GW_SVC, "storaged does not answer; asking raftd to hand over leadership",
	            "term=%llu", (unsigned long long)gw->status.msg.term);
	struct proto_local m = {.type = PROTO_TRANSFER};
	m.u.transfer.node_id = 0; /* any voter: raftd picks the most up to date */
	gw_zmq_send(gw, 1, &m);
}

void gw_status_poll(struct gw *gw, uint64_t now_ms)
{
	if (now_ms < gw->next_poll_ms)
		return;
	status_check_storaged(gw, now_ms);
	gw->next_poll_ms = now_ms + GW_POLL_MS;
	/* poll ids name slot 0xffff, which no call uses: the replies only update the caches */
	struct gw_pending *p = &gw->pending;
	p->counter = (p->counter + 1) & (UINT64_MAX >> 16);
	struct proto_local m = {.req_id = p->counter << 16 | 0xffffu};
	m.type = PROTO_STATUS_REQ;
	gw_zmq_send(gw, 1, &m);
	m.type = PROTO_STATS_REQ;
	gw_zmq_send(gw, 0, &m);
}

void gw_status_refresh(struct gw *gw)
{
	gw->next_poll_ms = 0;
}

int gw_status_fresh(const struct gw *gw)
{
	const struct gw_status *s = &gw->status;
	return s->valid && kv_clock_mono_ms() - s->at_ms <= GW_CACHE_FRESH_MS;
}

uint64_t gw_status_leader(const struct gw *gw)
{
	return gw_status_fresh(gw) ? gw->status.msg.leader_id : 0;
}

static const char *status_role(uint8_t role, int learner)
{
	if (learner)
		return "learner";
	switch (role) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_CANDIDATE:
	case RAFT_PRECANDIDATE: /* PreVote is an implementation detail of candidacy */
		return "candidate";
	default:
		return "follower";
	}
}

static const char *status_role_name(const struct gw *gw)
{
	return status_role(gw->status.msg.role, gw->status.msg.is_learner);
}

const struct gw_peer *gw_status_peer(const struct gw *gw, uint64_t id)
{
	for (uint32_t i = 0; i < gw->n_peers; i++)
		if (gw->peers[i].id == id && id != 0)
			return &gw->peers[i];
	return NULL;
}

const struct gw_peer *gw_status_next_peer(const struct gw *gw, uint8_t *hops)
{
	for (uint32_t k = 0; k < gw->n_peers; k++) {
		const struct gw_peer *p = &gw->peers[(*hops + k) % gw->n_peers];
		if (p->id != gw->cfg.node_id && p->id != 0) { /* 0: a learned slot being reused */
			*hops = (uint8_t)((*hops + k + 1) % gw->n_peers);
			return p;
		}
	}
	return NULL;
}

const char *gw_status_member_addr(const struct gw *gw, uint64_t id)
{
	const struct gw_status *s = &gw->status;

	for (uint32_t i = 0; i < s->n_members && id != 0; i++)
		if (s->members[i].id == id)
			return s->members[i].addr;
	return NULL;
}

const char *gw_status_member_url(const struct gw *gw, uint64_t id)
{
	const struct gw_status *s = &gw->status;
	const struct gw_peer *p = gw_status_peer(gw, id);

	for (uint32_t i = 0; i < s->n_members && id != 0; i++)
		if (s->members[i].id == id && s->members[i].url[0] != '\0')
			return s->members[i].url; /* the configuration's, which follows changes */
	return p != NULL ? p->url : NULL;
}

void gw_status_json_member(const struct gw *gw, struct gw_json *j, uint32_t i)
{
	const struct gw_status *s = &gw->status;

	KV_ASSERT(i < s->n_members);
	gw_json_member(j, s->members[i].id, s->members[i].role == RAFT_LEARNER, s->members[i].addr,
	               gw_status_member_url(gw, s->members[i].id));
}

/* The JSON of GET /v1/status from a fresh STATUS_RESP. */
static void status_format(struct gw *gw, struct gw_json *j)
{
	const struct gw_status *s = &gw->status;
	gw_json_open(j, '{');
	gw_json_kv_u64(j, "id", gw->cfg.node_id);
	gw_json_kv_str(j, "role", status_role_name(gw));
	gw_json_kv_u64(j, "term", s->msg.term);
	const struct gw_peer *lp = gw_status_peer(gw, s->msg.leader_id);
	if (s->msg.leader_id == 0) {
		gw_json_kv_null(j, "leader");
	} else {
		gw_json_key(j, "leader");
		gw_json_open(j, '{');
		gw_json_kv_u64(j, "id", s->msg.leader_id);
		lp ? gw_json_kv_str(j, "url", lp->url) : gw_json_kv_null(j, "url");
		gw_json_close(j, '}');
	}
	gw_json_kv_u64(j, "commit_index", s->msg.commit_index);
	gw_json_kv_u64(j, "leader_commit", s->msg.leader_commit);
	gw_json_kv_u64(j, "applied_index", s->msg.applied_index);
	gw_json_kv_u64(j, "last_index", s->msg.last_index);
	/* who this node is on disk, and whether it may vote (raftd_identity.c, F15) */
	gw_json_key(j, "identity");
	gw_json_open(j, '{');
	gw_json_kv_u64(j, "incarnation", s->msg.incarnation);
	gw_json_kv_u64(j, "cluster_id", s->msg.cluster_id);
	gw_json_kv_bool(j, "replaced", s->msg.replaced);
	gw_json_kv_u64(j, "votes_granted", s->msg.votes_granted);
	gw_json_kv_u64(j, "other_cluster_msgs", s->msg.other_cluster_msgs);
	gw_json_close(j, '}');
	/* storaged's STATS: the quota and what counts against it (sm_apply.c) */
	gw_json_key(j, "storage");
	gw_json_open(j, '{');
	gw_json_kv_u64(j, "data_bytes", gw->stats.msg.data_bytes);
	gw_json_kv_u64(j, "quota_bytes", gw->stats.msg.quota_bytes);
	gw_json_kv_u64(j, "map_bytes", gw->stats.msg.map_bytes);
	gw_json_kv_u64(j, "used_bytes", gw->stats.msg.used_bytes);
	gw_json_kv_bool(j, "alarm", gw->stats.msg.alarm);
	gw_json_close(j, '}');
	gw_json_key(j, "members");
	gw_json_open(j, '[');
	for (uint32_t i = 0; i < s->n_members; i++) {
		gw_json_open(j, '{');
		gw_status_json_member(gw, j, i);
		gw_json_close(j, '}');
	}
	gw_json_close(j, ']');
	gw_json_close(j, '}');
}

void gw_status_handle(struct gw_req *r)
{
	gw_status_query(r, status_format);
}
