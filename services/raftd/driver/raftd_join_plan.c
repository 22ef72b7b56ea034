/*
 * raftd_join_plan.c - the pure part of raftd --join: the flags checked into
 * a plan, GET /v1/members's JSON parsed, a POST's answer classified, the
 * POST's body built. No I/O; the main thread at start, and the unit tests.
 */
#include "raftd_join.h"

#include "kv_err.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* "0.0.0.0", "[::]", "::" or "*": a bind address no other node can dial. */
static int plan_host_is_wildcard(const char *host, size_t len)
{
	static const char *const any[] = {"0.0.0.0", "[::]", "::", "*", "[::0]"};
	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		if (strlen(any[i]) == len && strncmp(host, any[i], len) == 0)
			return 1;
	return 0;
}

/* 0 with *port when addr is "host:port" as a --peers item takes it, else -1. */
static int plan_parse_address(const char *addr, uint16_t *port)
{
	char text[RAFTD_BOOK_ADDR_MAX + 8], why[256];
	struct raftd_peer_list one;
	if (snprintf(text, sizeof(text), "1=%s", addr) >= (int)sizeof(text) ||
	    raftd_peerlist_parse(text, &one, why, sizeof(why)) != 0)
		return -1;
	*port = one.peers[0].port;
	return 0;
}

/* Checks "host:port" like a --peers item; fills the plan's address and port. */
static int plan_set_address(struct raftd_join_plan *plan, const char *addr, const char *from,
                            char *err, size_t err_len)
{
	if (plan_parse_address(addr, &plan->peer_port) != 0) {
		snprintf(err, err_len, "%s \"%.300s\" is not HOST:PORT", from, addr);
		return KV_EINVAL;
	}
	const char *colon = strrchr(addr, ':');
	if (plan_host_is_wildcard(addr, (size_t)(colon - addr))) {
		snprintf(err, err_len,
		         "%s \"%s\" is a wildcard address the other nodes cannot dial: give "
		         "--advertise HOST:PORT",
		         from, addr);
		return KV_EINVAL;
	}
	snprintf(plan->peer_address, sizeof(plan->peer_address), "%s", addr);
	return 0;
}

/* The address to advertise: --advertise, this node's --peers entry, or --listen's. */
static int plan_address(const struct raftd_join_flags *f, struct raftd_join_plan *plan, char *err,
                        size_t err_len)
{
	if (f->advertise[0] != '\0')
		return plan_set_address(plan, f->advertise, "--advertise", err, err_len);
	const struct raftd_peer_addr *self = raftd_peerlist_find(f->peers, f->node_id);
	if (self != NULL) {
		char addr[RAFTD_BOOK_ADDR_MAX + 1];
		if (raftd_peerlist_format(self, addr, sizeof(addr)) != 0)
			return KV_EINVAL;
		return plan_set_address(plan, addr, "this node's --peers entry", err, err_len);
	}
	if (strncmp(f->listen, "tcp://", 6) == 0)
		return plan_set_address(plan, f->listen + 6, "--listen", err, err_len);
	snprintf(err, err_len,
	         "--join needs the address the other nodes reach this raftd at: --advertise "
	         "HOST:PORT (or --listen tcp://HOST:PORT with a specific host)");
	return KV_EINVAL;
}

static int plan_urls(const char *list, struct raftd_join_plan *plan, char *err, size_t err_len)
{
	const char *p = list;
	for (;;) {
		size_t len = strcspn(p, ",");
		if (plan->n_urls == RAFTD_JOIN_URLS_MAX) {
			snprintf(err, err_len, "--join names more than %u URLs",
			         RAFTD_JOIN_URLS_MAX);
			return KV_EINVAL;
		}
		char *text = plan->url_text[plan->n_urls];
		int fits = len > 0 && len < KV_URL_BYTES_MAX;
		if (fits)
			snprintf(text, KV_URL_BYTES_MAX, "%.*s", (int)len, p);
		if (!fits || kv_url_parse(text, &plan->urls[plan->n_urls]) != 0) {
			snprintf(
			    err, err_len,
			    "--join: \"%.*s\" is not http://HOST[:PORT] or https://HOST[:PORT]",
			    (int)(len > 200 ? 200 : len), p);
			return KV_EINVAL;
		}
		plan->n_urls++;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* Without --join: the flags that only --join reads must be absent. */
static int plan_without_join(const struct raftd_join_flags *f, char *err, size_t err_len)
{
	const char *given = f->url[0]                          ? "--url"
	                    : f->advertise[0]                  ? "--advertise"
	                    : f->token_file[0]                 ? "--join-token-file"
	                    : f->cacert[0]                     ? "--join-cacert"
	                    : strcmp(f->join_as, "voter") != 0 ? "--join-as"
	                                                       : NULL;
	if (given == NULL)
		return 0;
	snprintf(err, err_len, "%s is used only with --join", given);
	return KV_EINVAL;
}

int raftd_join_plan_make(const struct raftd_join_flags *f, struct raftd_join_plan *plan, char *err,
                         size_t err_len)
{
	memset(plan, 0, sizeof(*plan));
	if (f->join[0] == '\0')
		return plan_without_join(f, err, err_len);
	plan->on = 1;
	if (strcmp(f->join_as, "voter") != 0 && strcmp(f->join_as, "learner") != 0) {
		snprintf(err, err_len, "--join-as \"%.64s\" is not voter or learner", f->join_as);
		return KV_EINVAL;
	}
	plan->promote = strcmp(f->join_as, "voter") == 0;
	for (uint32_t i = 0; i < f->peers->n; i++) {
		if (f->peers->peers[i].id != f->node_id) {
			snprintf(
			    err, err_len,
			    "--join with --peers naming node %" PRIu64
			    ": a joining node learns the members from the cluster; give --peers "
			    "only this node's own entry, or none",
			    f->peers->peers[i].id);
			return KV_EINVAL;
		}
	}
	struct kv_url self;
	if (f->url[0] == '\0' || strlen(f->url) > PROTO_URL_BYTES_MAX ||
	    kv_url_parse(f->url, &self) != 0 ||
	    plan_host_is_wildcard(self.host, strlen(self.host))) {
		snprintf(
		    err, err_len,
		    "--join needs --url http(s)://HOST:PORT: this node's HTTP API as the other "
		    "nodes reach it");
		return KV_EINVAL;
	}
	snprintf(plan->self_url, sizeof(plan->self_url), "%s", f->url);
	int rc = plan_urls(f->join, plan, err, err_len);
	return rc != 0 ? rc : plan_address(f, plan, err, err_len);
}

/* A string field: 0 with its text copied (cap bytes), or -1. Absent is "" when optional. */
static int members_string(json_t *obj, const char *name, int optional, char *out, size_t cap)
{
	json_t *v = json_object_get(obj, name);
	if (v == NULL && optional) {
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= cap)
		return -1;
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return -1; /* printable ASCII without spaces (and no NUL inside) */
	memcpy(out, s, len + 1);
	return 0;
}

/* One element of "members" into *m; 0, or -1 with err naming the field. */
static int members_one(json_t *obj, struct raftd_join_member *m, char *err, size_t err_len)
{
	struct raftd_book_entry *e = &m->entry;
	json_t *id = json_object_get(obj, "id");
	const char *role = json_string_value(json_object_get(obj, "role"));
	memset(m, 0, sizeof(*m));
	if (!json_is_integer(id) || json_integer_value(id) < 1 ||
	    json_integer_value(id) > (json_int_t)RAFTD_NODE_ID_MAX) {
		snprintf(err, err_len, "a member's id is not a number from 1 to %u",
		         RAFTD_NODE_ID_MAX);
		return -1;
	}
	e->id = (uint64_t)json_integer_value(id);
	if (role == NULL || (strcmp(role, "voter") != 0 && strcmp(role, "learner") != 0)) {
		snprintf(err, err_len, "member %" PRIu64 ": role is not voter or learner", e->id);
		return -1;
	}
	m->voter = strcmp(role, "voter") == 0;
	uint16_t port;
	struct kv_url u;
	if (members_string(obj, "peer_address", 0, e->peer_address, RAFTD_BOOK_ADDR_MAX + 1) != 0 ||
	    plan_parse_address(e->peer_address, &port) != 0) {
		snprintf(err, err_len, "member %" PRIu64 ": peer_address is not HOST:PORT", e->id);
		return -1;
	}
	if (members_string(obj, "url", 1, e->url, sizeof(e->url)) != 0 ||
	    (e->url[0] != '\0' && kv_url_parse(e->url, &u) != 0)) {
		snprintf(err, err_len, "member %" PRIu64 ": url is not a URL", e->id);
		return -1;
	}
	if (members_string(obj, "curve_key", 1, e->curve_key, sizeof(e->curve_key)) != 0 ||
	    (e->curve_key[0] != '\0' && strlen(e->curve_key) != RAFTD_CURVE_Z85_LEN)) {
		snprintf(err, err_len, "member %" PRIu64 ": curve_key is not a Z85 key", e->id);
		return -1;
	}
	return 0;
}

int raftd_join_members_parse(const char *body, size_t len, struct raftd_join_member *out,
                             uint32_t cap, uint32_t *n, char *err, size_t err_len)
{
	json_error_t jerr;
	*n = 0;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *members = json_object_get(root, "members");
	int rc = KV_EPROTO;
	if (!json_is_array(members)) {
		snprintf(err, err_len, "the answer is not {\"members\":[...]}%s%.100s",
		         root == NULL ? ": " : "", root == NULL ? jerr.text : "");
		goto out_free;
	}
	if (json_array_size(members) == 0 || json_array_size(members) > cap) {
		snprintf(err, err_len, "the answer lists %zu members (want 1 to %u)",
		         json_array_size(members), cap);
		goto out_free;
	}
	for (size_t i = 0; i < json_array_size(members); i++) {
		if (members_one(json_array_get(members, i), &out[i], err, err_len) != 0)
			goto out_free;
		for (size_t j = 0; j < i; j++) {
			if (out[j].entry.id == out[i].entry.id) {
				snprintf(err, err_len, "member %" PRIu64 " is listed twice",
				         out[i].entry.id);
				goto out_free;
			}
		}
	}
	*n = (uint32_t)json_array_size(members);
	rc = 0;
out_free:
	json_decref(root);
	return rc;
}

enum raftd_join_next raftd_join_classify(int status, const char *body, size_t len)
{
	if (status == 200 || status == 201)
		return RAFTD_JOIN_ADDED;
	if (status == 409) {
		json_t *root = json_loadb(body, len, 0, NULL);
		const char *code =
		    json_string_value(json_object_get(json_object_get(root, "error"), "code"));
		int exists = code != NULL && strcmp(code, "member_exists") == 0;
		json_decref(root);
		return exists ? RAFTD_JOIN_CHECK : RAFTD_JOIN_RETRY;
	}
	if (status == 400 || status == 401 || status == 403 || status == 404 || status == 405 ||
	    status == 413)
		return RAFTD_JOIN_REFUSED;
	return RAFTD_JOIN_RETRY;
}

enum raftd_join_self raftd_join_find_self(const struct raftd_join_member *m, uint32_t n,
                                          uint64_t id, const char *peer_address)
{
	for (uint32_t i = 0; i < n; i++) {
		int same_addr = strcmp(m[i].entry.peer_address, peer_address) == 0;
#ifdef RAFTD_BUG_JOIN_ID_ANY_ADDRESS
		/* planted: our id at any address counts as "already added" */
		same_addr = same_addr || m[i].entry.id == id;
#endif
		if (m[i].entry.id == id)
			return same_addr ? RAFTD_JOIN_SELF_PRESENT : RAFTD_JOIN_SELF_ID_ELSEWHERE;
		if (same_addr)
			return RAFTD_JOIN_SELF_ADDR_TAKEN;
	}
	return RAFTD_JOIN_SELF_ABSENT;
}

int raftd_join_body(const struct raftd_join_plan *plan, uint64_t id, const char *curve_key,
                    char *out, size_t cap)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t)id, "peer_address",
	                      plan->peer_address, "url", plan->self_url, "promote", plan->promote);
	if (o == NULL)
		return KV_ENOMEM;
	if (curve_key != NULL && curve_key[0] != '\0')
		json_object_set_new(o, "curve_key", json_string(curve_key));
	size_t need = json_dumpb(o, out, cap, JSON_COMPACT);
	json_decref(o);
	return need == 0 || need >= cap ? KV_ETOOLARGE : (int)need;
}

void raftd_join_config(const struct raftd_join_member *m, uint32_t n, struct raft_config *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < n && i < RAFT_NODES_MAX; i++) {
		out->members[i].id = m[i].entry.id;
		out->members[i].role = m[i].voter ? RAFT_VOTER : RAFT_LEARNER;
	}
	out->n = n < RAFT_NODES_MAX ? n : RAFT_NODES_MAX;
}

int raftd_join_recheck_due(const struct raftd_join_wait *w)
{
#ifdef RAFTD_BUG_JOIN_NO_RECHECK
	return 0; /* planted: a node whose add was lost waits for ever */
#endif
	if (!w->joined || w->leader != 0 || w->log_last_index != 0 || w->snap_index != 0)
		return 0;
	uint64_t bound_ms = (uint64_t)RAFTD_JOIN_RECHECK_TIMEOUTS * w->election_timeout_ms;
	return w->now_ms >= w->since_ms && w->now_ms - w->since_ms >= bound_ms;
}
