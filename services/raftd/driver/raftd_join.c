/*
 * raftd_join.c - raftd --join on a new data directory: POST /v1/members to
 * the URLs in turn until one adds this node (or says it is already there, at
 * this address: a restart mid-join), then GET /v1/members and put every
 * member into the address book so this node can answer the leader. Retries
 * with backoff, logging every try, for at most RAFTD_JOIN_GIVE_UP_MS. The
 * token is read from --join-token-file and never logged. Main thread, while
 * raftd boots a new data directory (raftd_boot.c), before the core exists.
 * Later, on the loop thread: a joined node that knows no leader and got
 * nothing from one for RAFTD_JOIN_RECHECK_TIMEOUTS election timeouts (its add
 * was lost with a leader that had not committed it) registers again.
 */
#include "raftd.h"
#include "raftd_join.h"

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_http_client.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* One run's state: settings, the URL tried next, the backoff and the deadline. */
struct join_run {
	struct raftd *d;
	const struct raftd_join_plan *plan;
	struct kv_http_opts http;
	char token[KV_HTTP_TOKEN_BYTES_MAX];
	uint32_t next_url;
	uint32_t backoff_ms;
	uint64_t give_up_ms;
	struct raftd_join_member members[RAFT_NODES_MAX];
	uint32_t n_members;
};

/* Sleeps ms in short naps so that a signal ends the wait; KV_ESHUTDOWN then. */
static int join_sleep(const struct join_run *j, uint32_t ms)
{
	uint64_t until = kv_clock_mono_ms() + ms;
	while (kv_clock_mono_ms() < until) {
		if (*j->d->stop)
			return KV_ESHUTDOWN;
		struct timespec nap = {.tv_sec = 0, .tv_nsec = 50L * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	return *j->d->stop ? KV_ESHUTDOWN : 0;
}

/* After a try that failed at url i: moves on; after a full round, waits the backoff. */
static int join_wait(struct join_run *j)
{
	j->next_url = (j->next_url + 1) % j->plan->n_urls;
	if (j->next_url != 0)
		return *j->d->stop ? KV_ESHUTDOWN : 0;
	if (kv_clock_mono_ms() + j->backoff_ms > j->give_up_ms) {
		KV_LOG_ERROR(
		    RAFTD_SVC, "join: giving up",
		    "after_s=%u urls=%u hint=\"is the cluster up and does it have a leader? "
		    "is the token right?\"",
		    RAFTD_JOIN_GIVE_UP_MS / 1000, j->plan->n_urls);
		return KV_ETIMEDOUT;
	}
	int rc = join_sleep(j, j->backoff_ms);
	j->backoff_ms = j->backoff_ms * 2 > RAFTD_JOIN_BACKOFF_MS_MAX ? RAFTD_JOIN_BACKOFF_MS_MAX
	                                                              : j->backoff_ms * 2;
	return rc;
}

/* The seconds until the next try, for the progress line. */
static double join_next_s(const struct join_run *j)
{
	return (j->next_url + 1) % j->plan->n_urls == 0 ? j->backoff_ms / 1000.0 : 0.0;
}

/* The start of an answer's body as one log-safe line: quotes and control characters replaced. */
static void join_log_text(const char *body, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < cap; i++)
		out[n++] = body[i] == '"' ? '\'' : (unsigned char)body[i] < 0x20 ? ' ' : body[i];
	out[n] = '\0';
}

/* One request to the current URL. 0 with *resp (free it), or a KV_E* code (logged). */
static int join_request(struct join_run *j, const struct kv_http_req *req,
                        struct kv_http_resp *resp)
{
	const struct kv_url *u = &j->plan->urls[j->next_url];
	char why[KV_HTTP_WHY_BYTES + 64];
	int rc = kv_http_request(u, &j->http, req, resp, why, sizeof(why));
	if (rc != 0)
		KV_LOG_WARN(RAFTD_SVC, "join: no answer",
		            "request=\"%s %s\" url=%s why=\"%s\" next_try_s=%.1f", req->method,
		            req->path, j->plan->url_text[j->next_url], why, join_next_s(j));
	return rc;
}

/* GET /v1/members into j->members. 0, or a KV_E* code (logged): try elsewhere. */
static int join_get_members(struct join_run *j)
{
	struct kv_http_req req = {.method = "GET", .path = "/v1/members"};
	struct kv_http_resp resp;
	char err[256];
	int rc = join_request(j, &req, &resp);
	if (rc != 0)
		return rc;
	if (resp.status != 200)
		rc = KV_EUNAVAIL;
	else
		rc = raftd_join_members_parse(resp.body, resp.body_len, j->members, RAFT_NODES_MAX,
		                              &j->n_members, err, sizeof(err));
	if (rc != 0)
		KV_LOG_WARN(RAFTD_SVC, "join: cannot read the members",
		            "url=%s status=%d why=\"%s\" next_try_s=%.1f",
		            j->plan->url_text[j->next_url], resp.status,
		            resp.status != 200 ? "not 200" : err, join_next_s(j));
	kv_http_resp_free(&resp);
	return rc;
}

/*
 * POST /v1/members once. 0 when the answer says the node is added or exists
 * (the members then decide); KV_EUNAVAIL: try again; KV_EINVAL: refused for
 * good (or the TLS files do not load).
 */
static int join_post(struct join_run *j, const char *body, size_t body_len)
{
	struct kv_http_req req = {.method = "POST",
	                          .path = "/v1/members",
	                          .body = body,
	                          .body_len = body_len,
	                          .content_type = "application/json"};
	struct kv_http_resp resp;
	int rc = join_request(j, &req, &resp);
	if (rc != 0)
		return rc == KV_EINVAL ? KV_EINVAL : KV_EUNAVAIL; /* KV_EINVAL: TLS files */
	enum raftd_join_next next = raftd_join_classify(resp.status, resp.body, resp.body_len);
	char text[201];
	join_log_text(resp.body, resp.body_len, text, sizeof(text));
	if (next == RAFTD_JOIN_RETRY)
		KV_LOG_WARN(RAFTD_SVC, "join: POST /v1/members answered; will retry",
		            "url=%s status=%d body=\"%s\" next_try_s=%.1f",
		            j->plan->url_text[j->next_url], resp.status, text, join_next_s(j));
	else
		KV_LOG_INFO(RAFTD_SVC, "join: POST /v1/members answered",
		            "url=%s status=%d body=\"%s\"", j->plan->url_text[j->next_url],
		            resp.status, text);
	kv_http_resp_free(&resp);
	switch (next) {
	case RAFTD_JOIN_ADDED:
	case RAFTD_JOIN_CHECK:
		return 0; /* the members decide (an add may yet be lost with its leader) */
	case RAFTD_JOIN_REFUSED:
		return KV_EINVAL;
	default:
		return KV_EUNAVAIL;
	}
}

/* What the members say about us: 0 present, KV_ENOTFOUND absent, KV_EEXIST refused. */
static int join_check_self(const struct join_run *j)
{
	const struct raftd_join_plan *p = j->plan;
	uint64_t id = j->d->opts.node_id;
	switch (raftd_join_find_self(j->members, j->n_members, id, p->peer_address)) {
	case RAFTD_JOIN_SELF_PRESENT:
		return 0;
	case RAFTD_JOIN_SELF_ABSENT:
		return KV_ENOTFOUND;
	case RAFTD_JOIN_SELF_ID_ELSEWHERE:
		KV_LOG_ERROR(RAFTD_SVC, "join: refused",
		             "why=\"node %" PRIu64 " is already a member at another peer address; "
		             "this node advertises %s. Give another --node-id, or remove node "
		             "%" PRIu64 " first (DELETE /v1/members/%" PRIu64 ")\"",
		             id, p->peer_address, id, id);
		return KV_EEXIST;
	default:
		KV_LOG_ERROR(RAFTD_SVC, "join: refused",
		             "why=\"another member already has peer address %s; give this node "
		             "another --advertise address\"",
		             p->peer_address);
		return KV_EEXIST;
	}
}

/* The HTTP settings: TLS CA, the token (read once, never logged), the bounds. */
static int join_setup(struct join_run *j)
{
	const struct raftd_opts *o = &j->d->opts;
	char why[KV_HTTP_WHY_BYTES + 4096];
	if (o->join_token_file[0] != '\0' &&
	    kv_http_token_read_file(o->join_token_file, j->token, sizeof(j->token), why,
	                            sizeof(why)) != 0) {
		KV_LOG_ERROR(RAFTD_SVC, "join: no token", "why=\"%s\"", why);
		return KV_EINVAL;
	}
	j->http = (struct kv_http_opts){
	    .tls = {.cacert = o->join_cacert[0] ? o->join_cacert : NULL},
	    .token = j->token,
	    .user_agent = "raftd-join",
	    .step_ms = RAFTD_JOIN_STEP_MS,
	    .total_ms = RAFTD_JOIN_REQUEST_MS,
	    .response_bytes_max = RAFTD_JOIN_ANSWER_BYTES_MAX,
	};
	j->backoff_ms = RAFTD_JOIN_BACKOFF_MS_MIN;
	j->give_up_ms = kv_clock_mono_ms() + (uint64_t)RAFTD_JOIN_GIVE_UP_MS;
	return 0;
}

/*
 * Adds every member to the book, so that this node can answer the leader.
 * With Curve on, a member listed without its key takes the one --peer-keys
 * gives (the book seeds from --peer-keys only ids it lacks).
 */
static int join_seed_book(struct join_run *j)
{
	for (uint32_t i = 0; i < j->n_members; i++) {
		struct raftd_book_entry *e = &j->members[i].entry;
		const struct raftd_peer_key *k = raftd_curve_keys_find(&j->d->curve.keys, e->id);
		if (j->d->curve.on && e->curve_key[0] == '\0' && k != NULL)
			snprintf(e->curve_key, sizeof(e->curve_key), "%s", k->z85);
		int rc = raftd_book_set(j->d, e);
		if (rc != 0) {
			KV_LOG_ERROR(RAFTD_SVC, "join: cannot record a member's address",
			             "id=%" PRIu64 " peer_address=%s err=\"%s\"",
			             j->members[i].entry.id, j->members[i].entry.peer_address,
			             kv_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* POST until the members list this node at its address. 0, or why not (logged). */
static int join_register(struct join_run *j, const char *body, size_t body_len)
{
	for (;;) {
		int rc = join_post(j, body, body_len);
		if (rc == KV_EINVAL) {
			KV_LOG_ERROR(RAFTD_SVC, "join: refused",
			             "url=%s why=\"the cluster refused the request (see the answer "
			             "above) or the TLS files do not load\"",
			             j->plan->url_text[j->next_url]);
			return rc;
		}
		if (rc == 0 && join_get_members(j) == 0) {
			rc = join_check_self(j);
			if (rc != KV_ENOTFOUND)
				return rc;
			KV_LOG_WARN(RAFTD_SVC, "join: not among the members yet",
			            "why=\"the add was lost (a leader change?) or is not visible\" "
			            "next_try_s=%.1f",
			            join_next_s(j));
		}
		rc = join_wait(j);
		if (rc != 0)
			return rc;
	}
}

/* The log line that starts a registration: the first one, or again (raftd_join.h). */
static void join_log_start(const struct join_run *j, int again)
{
	if (again)
		KV_LOG_WARN(RAFTD_SVC, "join: no leader and no log yet, registering again",
		            "node=%" PRIu64 " peer_address=%s after_timeouts=%u",
		            j->d->opts.node_id, j->plan->peer_address, RAFTD_JOIN_RECHECK_TIMEOUTS);
	else
		KV_LOG_INFO(RAFTD_SVC, "join: registering with the cluster",
		            "node=%" PRIu64 " peer_address=%s url=%s as=%s urls=%u give_up_s=%u",
		            j->d->opts.node_id, j->plan->peer_address, j->plan->self_url,
		            j->plan->promote ? "voter" : "learner", j->plan->n_urls,
		            RAFTD_JOIN_GIVE_UP_MS / 1000);
}

int raftd_join_run(struct raftd *d, struct raft_config *base)
{
	static struct join_run j;
	char body[RAFTD_JOIN_BODY_BYTES_MAX];
	j = (struct join_run){.d = d, .plan = &d->join};
	int rc = join_setup(&j);
	if (rc != 0)
		return rc;
	int len = raftd_join_body(j.plan, d->opts.node_id, d->curve.on ? d->curve.public_z85 : "",
	                          body, sizeof(body));
	if (len < 0)
		return len;
	join_log_start(&j, base == NULL);
	rc = join_register(&j, body, (size_t)len);
	if (rc == 0)
		rc = join_seed_book(&j);
	if (rc != 0)
		return rc;
	if (base == NULL) {
		KV_LOG_INFO(RAFTD_SVC, "join: registered again", "members=%u via=%s", j.n_members,
		            j.plan->url_text[j.next_url]);
		return 0;
	}
	raftd_join_config(j.members, j.n_members, base);
	KV_LOG_INFO(RAFTD_SVC, "join: registered; waiting for the leader's snapshot and log",
	            "members=%u via=%s", j.n_members, j.plan->url_text[j.next_url]);
	return 0;
}

void raftd_join_recheck(struct raftd *d, uint64_t now_ms)
{
	if (!d->join.on)
		return;
	if (d->join_since_ms == 0)
		d->join_since_ms = now_ms;
	struct raftd_join_wait w = {.joined = 1,
	                            .leader = d->last_leader,
	                            .log_last_index = wal_last_index(d->wal),
	                            .snap_index = d->snap_index,
	                            .since_ms = d->join_since_ms,
	                            .now_ms = now_ms,
	                            .election_timeout_ms = d->opts.election_timeout_ms};
	if (!raftd_join_recheck_due(&w))
		return;
	int rc = raftd_join_run(d, NULL);
	if (rc == KV_ESHUTDOWN)
		return;
	if (rc != 0)
		KV_LOG_WARN(RAFTD_SVC, "join: registering again failed; will try later",
		            "err=\"%s\"", kv_strerror(rc));
	d->join_since_ms = kv_clock_mono_ms();
}
