/*
 * gw_member.h - what the membership changes share: POST /v1/members (add a
 * learner), POST /v1/members/{id}/promote, DELETE /v1/members/{id} and the
 * seed route POST /raft/join all run one struct gw_member_change through
 * gw_member_change_start (gw_member_change.c), which sends it to the leader,
 * proposes it there and answers once it is committed; gw_member_reply.c
 * writes the answers. Loop thread only.
 */
#ifndef RAFTKV_GW_MEMBER_H
#define RAFTKV_GW_MEMBER_H

#include "gw_member_parse.h"
#include "gw_req.h"

#include <stdint.h>

/* How often a proposed change asks raftd whether it has committed. */
#define GW_MEMBER_POLL_MS 20u

/* How a change is answered: raftkv's JSON, or the seed project's for /raft/join. */
enum gw_member_style { GW_MEMBER_STYLE_API = 0, GW_MEMBER_STYLE_SEED = 1 };

/* One change, copied into the request's pool by gw_member_change_start. */
struct gw_member_change {
	uint8_t op;    /* enum raft_config_op: RAFT_CONFIG_ADD_LEARNER, _PROMOTE, _REMOVE */
	uint8_t style; /* enum gw_member_style */
	uint8_t force; /* a removal: skip the quorum check (?force=true) */
	struct gw_member_add m; /* the member: id always, the rest for an add */
	uint64_t index;         /* the CONFIG entry's index once raftd proposed it; 0 before */
};

/*
 * Runs ch for r: routed to the leader (forwarded there from a follower),
 * checked against a fresh STATUS (an add whose id or address is taken: 409;
 * a promote of an unknown member: 404, of a voter: 400), proposed, then
 * answered once raftd's commit index has reached the entry and its
 * configuration shows the change (polled every GW_MEMBER_POLL_MS), within
 * r's timeout. Always answers r.
 */
void gw_member_change_start(struct gw_req *r, const struct gw_member_change *ch);

struct gw;
struct gw_call;
struct gw_status;
struct proto_member_change_resp;

/*
 * 1 when removing member id would leave fewer voters the leader hears from
 * (members[].live) than a quorum of the voters that remain; 0 otherwise,
 * and 0 when s is not a leader's status (no live flags: raftd decides).
 */
int gw_member_remove_loses_quorum(const struct gw_status *s, uint64_t id);

/* 1 when the status's configuration shows ch done (an add: the member with its address). */
int gw_member_change_shown(const struct gw_status *s, const struct gw_member_change *ch);

/* ---- gw_member_reply.c: the answers, ending c ---- */
/* The change is committed: 201 (add), 200 (promote, remove), or the seed's 200. */
void gw_member_reply_done(struct gw *gw, struct gw_call *c, const struct gw_member_change *ch);
/* raftd or the precheck refused the change with KV_E* err. */
void gw_member_reply_refused(struct gw *gw, struct gw_call *c, const struct gw_member_change *ch,
                             int err);
/* 409 would_lose_quorum: the removal of ch's member would leave too few live voters. */
void gw_member_reply_quorum(struct gw *gw, struct gw_call *c, const struct gw_member_change *ch);
/* The entry is not in the log any more (a leader change truncated it): nothing was applied. */
void gw_member_reply_lost(struct gw *gw, struct gw_call *c, const struct gw_member_change *ch);

#endif
