/*
 * gw_member_reply.c - the answers of the membership changes
 * (gw_member_change.c): raftkv's JSON for the /v1/members routes, the seed
 * project's shape for POST /raft/join (200 {"message","data"}; 422
 * {"error"} for a refusal, as yusufsyaifudin/raft-sample answers, with
 * raftkv's "code" beside it). Each call ends the call. Loop thread only.
 */
#include "gw.h"
#include "gw_member.h"

#include "gw_errors.h"
#include "kv_err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define GW_MEMBER_ANSWER_MAX (16u << 10) /* a member, or the seed's message with /raft/stats */

/* The member's role in the cached status: 1 learner, 0 voter (or absent: the caller knows). */
static int reply_learner(const struct gw *gw, uint64_t id)
{
	for (uint32_t i = 0; i < gw->status.n_members; i++)
		if (gw->status.members[i].id == id)
			return gw->status.members[i].role == RAFT_LEARNER;
	return 1;
}

static void reply_json(struct gw *gw, struct gw_call *c, int status, struct gw_json *j,
                       uint64_t index)
{
	gw_json_raw(j, "\n", 1);
	gw_reply_send(gw, &c->http, status, "application/json", j->buf, j->len, index);
	gw_json_free(j);
	gw_pending_end(gw, c);
}

/* The seed's {"message":"node node_2 at host:port joined successfully","data":<stats>}. */
static void reply_seed_done(struct gw *gw, struct gw_call *c, const struct gw_member_change *ch)
{
	struct gw_json j;
	char msg[sizeof(ch->m.node_name) + sizeof(ch->m.peer_address) + 40];

	snprintf(msg, sizeof(msg), "node %s at %s joined successfully", ch->m.node_name,
	         ch->m.peer_address);
	gw_json_init(&j, GW_MEMBER_ANSWER_MAX);
	gw_json_open(&j, '{');
	gw_json_key(&j, "data");
	gw_raft_stats_format(gw, &j);
	gw_json_kv_str(&j, "message", msg);
	gw_json_close(&j, '}');
	reply_json(gw, c, 200, &j, ch->index);
}

void gw_member_reply_done(struct gw *gw, struct gw_call *c, const struct gw_member_change *ch)
{
	struct gw_json j;
	const char *url, *addr;

	if (ch->style == GW_MEMBER_STYLE_SEED) {
		reply_seed_done(gw, c, ch);
		return;
	}
	gw_json_init(&j, GW_MEMBER_ANSWER_MAX);
	gw_json_open(&j, '{');
	if (ch->op == RAFT_CONFIG_REMOVE) {
		gw_json_kv_u64(&j, "id", ch->m.id);
	} else {
		/* an add answers what it was given; a promote what the configuration holds */
		url = ch->m.url[0] != '\0' ? ch->m.url : gw_status_member_url(gw, ch->m.id);
		addr = ch->m.peer_address[0] != '\0' ? ch->m.peer_address
		                                     : gw_status_member_addr(gw, ch->m.id);
		gw_json_member(&j, ch->m.id, reply_learner(gw, ch->m.id), addr != NULL ? addr : "",
		               url);
	}
	gw_json_kv_u64(&j, "index", ch->index);
	gw_json_close(&j, '}');
	reply_json(gw, c, ch->op == RAFT_CONFIG_ADD_LEARNER ? 201 : 200, &j, ch->index);
}

/* The status, code and message of a refusal of ch with err. */
static int reply_refusal(const struct gw_member_change *ch, int err, const char **code, char *msg,
                         size_t cap)
{
	*code = kv_err_code(err);
	snprintf(msg, cap, "%s", kv_strerror(err));
	switch (err) {
	case KV_EEXIST:
		snprintf(msg, cap, "a member with id %" PRIu64 " or peer address %s exists",
		         ch->m.id, ch->m.peer_address);
		return 409;
	case KV_ECONFIG:
		*code = "change_in_progress";
		snprintf(msg, cap, "another membership change is not committed yet; retry");
		return 409;
	case KV_ENOTFOUND:
		if (ch->op ==
		    RAFT_CONFIG_ADD_LEARNER) { /* a raftd that takes addresses from --peers only */
			*code = kv_err_code(KV_EINVAL);
			snprintf(msg, cap, "raftd has no address for member %" PRIu64, ch->m.id);
			return 400;
		}
		*code = "member_not_found";
		snprintf(msg, cap, "no member has id %" PRIu64, ch->m.id);
		return 404;
	case KV_EBUSY:
		if (ch->op != RAFT_CONFIG_PROMOTE)
			return 429;
		*code = "not_caught_up";
		snprintf(msg, cap,
		         "member %" PRIu64 " has not caught up with the leader's log yet; retry",
		         ch->m.id);
		return 409;
	case KV_EINVAL:
		if (ch->op == RAFT_CONFIG_REMOVE) {
			*code = "last_voter";
			snprintf(msg, cap, "the last voter cannot be removed");
			return 409;
		}
		if (ch->op == RAFT_CONFIG_PROMOTE) {
			*code = "already_voter";
			snprintf(msg, cap, "member %" PRIu64 " is a voter already", ch->m.id);
			return 400;
		}
		snprintf(msg, cap,
		         "raftd refused the member: its address, or its curve_key (required, and "
		         "checked, when peers use Curve)");
		return 400;
	default:
		return kv_err_http_status(err);
	}
}

void gw_member_reply_refused(struct gw *gw, struct gw_call *c, const struct gw_member_change *ch,
                             int err)
{
	const char *code;
	char msg[400], seed_msg[440];
	int status = reply_refusal(ch, err, &code, msg, sizeof(msg));
	struct gw_json j;

	if (ch->style != GW_MEMBER_STYLE_SEED) {
		gw_reply_error(gw, &c->http, status, code, msg, NULL);
		gw_pending_end(gw, c);
		return;
	}
	gw_json_init(&j, GW_MEMBER_ANSWER_MAX);
	gw_json_open(&j, '{');
	gw_json_kv_str(&j, "code", code);
	snprintf(seed_msg, sizeof(seed_msg), "error add voter: %s", msg); /* the seed's prefix */
	gw_json_kv_str(&j, "error", seed_msg);
	gw_json_close(&j, '}');
	reply_json(gw, c, 422, &j, 0);
}

void gw_member_reply_quorum(struct gw *gw, struct gw_call *c, const struct gw_member_change *ch)
{
	char msg[240];

	snprintf(msg, sizeof(msg),
	         "removing member %" PRIu64
	         " would leave fewer voters the leader hears from than a quorum of the new "
	         "configuration, so it could not commit; bring the others back, or add "
	         "?force=true",
	         ch->m.id);
	gw_reply_error(gw, &c->http, 409, "would_lose_quorum", msg, NULL);
	gw_pending_end(gw, c);
}

void gw_member_reply_lost(struct gw *gw, struct gw_call *c, const struct gw_member_change *ch)
{
	char msg[200];

	snprintf(msg, sizeof(msg),
	         "a leader change dropped the change from the log (index %" PRIu64
	         "); nothing was applied: retry",
	         ch->index);
	gw_reply_error(gw, &c->http, 503, "change_lost", msg, NULL);
	gw_pending_end(gw, c);
}
