/*
 * gw_peers.c - gateways learned from the configuration. --gateways names
 * the gateways a node knows when it starts; a member added later (POST
 * /v1/members with its "url") is in raftd's configuration, and every STATUS
 * lists each member's url. A member this gateway has no entry for is added
 * to gw->peers, so writes are forwarded to it once it leads. Entries from
 * --gateways are kept as given (the operator's word for this process);
 * learned ones whose member has left are reused for new members when the
 * table (RAFT_NODES_MAX entries) is full and no forward is in flight.
 * Loop thread only.
 */
#include "gw.h"

#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <string.h>

static int peers_is_member(const struct gw_status *s, uint64_t id)
{
	for (uint32_t i = 0; i < s->n_members; i++)
		if (s->members[i].id == id)
			return 1;
	return 0;
}

/* A learned entry whose member left the configuration, or NULL. */
static struct gw_peer *peers_stale(struct gw *gw)
{
	for (uint32_t i = 0; i < gw->n_peers; i++)
		if (gw->peers[i].learned && !peers_is_member(&gw->status, gw->peers[i].id))
			return &gw->peers[i];
	return NULL;
}

static void peers_refused(struct gw *gw, uint64_t id, const char *url, int err)
{
	if (gw->peer_refused_id == id && strcmp(gw->peer_refused_url, url) == 0)
		return; /* said already: the next STATUS brings the same member */
	gw->peer_refused_id = id;
	snprintf(gw->peer_refused_url, sizeof(gw->peer_refused_url), "%s", url);
	KV_LOG_WARN(GW_SVC, "cannot add a member's gateway; requests are not forwarded to it",
	            "node=%" PRIu64 " url=%s err=%s", id, url, kv_strerror(err));
}

static void peers_learn_one(struct gw *gw, uint64_t id, const char *url)
{
	struct gw_peer *stale;
	int err = gw_forward_add_peer(gw, id, url, strlen(url), 1);

	if (err == KV_ENOSPC && (stale = peers_stale(gw)) != NULL)
		err = gw_forward_replace_peer(gw, stale, id, url, strlen(url));
	if (err == KV_EBUSY)
		return; /* a forward is in flight: the next STATUS tries again */
	if (err != 0) {
		peers_refused(gw, id, url, err);
		return;
	}
	KV_LOG_INFO(GW_SVC, "learned a member's gateway", "node=%" PRIu64 " url=%s", id, url);
}

void gw_peers_learn(struct gw *gw)
{
	const struct gw_status *s = &gw->status;

#ifdef GW_BUG_PEERS_STATIC
	return; /* the planted bug of make gw-bugs-peers: --gateways only (docs/testing.md) */
#endif
	for (uint32_t i = 0; i < s->n_members; i++) {
		uint64_t id = s->members[i].id;
		if (id == gw->cfg.node_id || s->members[i].url[0] == '\0' ||
		    gw_status_peer(gw, id) != NULL)
			continue;
		peers_learn_one(gw, id, s->members[i].url);
	}
}
