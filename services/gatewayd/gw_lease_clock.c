/*
 * gw_lease_clock.c - the one place where lease time is decided. Only the
 * leader's gateway keeps deadlines, on its own monotonic clock; when one
 * passes it proposes a LEASE_EXPIRE entry, and every node deletes the
 * lease's keys when it applies that entry, at the same index. Followers keep
 * nothing, so a node's clock never decides alone.
 *
 * A new leader's gateway (or this one after a restart) knows no deadline: it
 * asks raftd for a read index (which needs an entry of the new term
 * committed, so every LEASE_EXPIRE an older leader proposed is applied or
 * gone), lists the leases at that index and gives each a full TTL from then.
 * Keepalives are refused (503) until that listing is complete. So a lease
 * never expires earlier than ttl_ms after a keepalive was sent that
 * succeeded: the leader that answered it keeps ttl_ms from after it arrived,
 * and any later leader starts its own ttl_ms later still (docs/design.md).
 *
 * The listing repeats every GW_LEASE_SYNC_MS: leases granted meanwhile get
 * their deadline (a full TTL from when they are seen), revoked ones are
 * dropped. Keepalives cost no log entry. Loop thread only.
 */
#include "gw.h"
#include "gw_lease_clock.h"

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int gw_lease_clock_init(struct gw_lease_clock *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->e = calloc(KV_LEASES_MAX, sizeof(*lc->e));
	lc->next = calloc(KV_LEASES_MAX, sizeof(*lc->next));
	lc->first_id = lc->next_id = (kv_clock_mono_ms() << 20) | (1ull << 63); /* apart */
	if (lc->e == NULL || lc->next == NULL) {
		gw_lease_clock_free(lc);
		return KV_ENOMEM;
	}
	return 0;
}

void gw_lease_clock_free(struct gw_lease_clock *lc)
{
	free(lc->e);
	free(lc->next);
	lc->e = lc->next = NULL;
	lc->n = lc->n_next = 0;
}

/* The entry of id in a[0..n), or NULL; a is sorted by id. */
static struct gw_lease_entry *clock_find(struct gw_lease_entry *a, uint32_t n, uint64_t id)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (a[mid].id == id)
			return &a[mid];
		if (a[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void clock_reset(struct gw_lease_clock *lc, uint64_t term)
{
	lc->term = term;
	lc->loaded = 0;
	lc->sync = GW_LEASE_IDLE;
	lc->n = lc->n_next = 0;
	lc->next_sync_ms = 0;
}

static int clock_send(struct gw *gw, int to_raftd, struct proto_local *m, uint64_t now_ms)
{
	struct gw_lease_clock *lc = &gw->lease_clock;
	m->req_id = lc->req_id = ++lc->next_id;
	lc->sent_ms = now_ms;
	return gw_zmq_send(gw, to_raftd, m);
}

static void clock_list_page(struct gw *gw, uint64_t now_ms)
{
	struct gw_lease_clock *lc = &gw->lease_clock;
	struct proto_local m = {.type = PROTO_LEASE_QUERY};
	m.u.lease_query = (struct proto_lease_query){.lease = 0,
	                                             .after = lc->after,
	                                             .min_index = lc->read_index,
	                                             .wait_ms = GW_LEASE_SYNC_MS};
	lc->sync = GW_LEASE_LISTING;
	if (clock_send(gw, 0, &m, now_ms) != 0)
		lc->sync = GW_LEASE_IDLE;
}

static void clock_sync_start(struct gw *gw, uint64_t now_ms)
{
	struct gw_lease_clock *lc = &gw->lease_clock;
	struct proto_local m = {.type = PROTO_READ_INDEX};
	lc->sync = GW_LEASE_READ_INDEX;
	lc->next_sync_ms = now_ms + GW_LEASE_SYNC_MS;
	if (clock_send(gw, 1, &m, now_ms) != 0)
		lc->sync = GW_LEASE_IDLE;
}

static void clock_propose_expire(struct gw *gw, struct gw_lease_entry *le, uint64_t now_ms)
{
	struct proto_kv_cmd cmd = {.op = PROTO_KV_LEASE_EXPIRE,
	                           .origin = gw->cfg.node_id,
	                           .req_id = ++gw->lease_clock.next_id,
	                           .lease = le->id,
	                           .term = gw->lease_clock.term};
	proto_buf_reset(&gw->cmd);
	if (proto_kv_cmd_encode(&cmd, &gw->cmd) != 0)
		return;
	struct proto_local m = {.type = PROTO_PROPOSE, .req_id = cmd.req_id};
	m.u.propose.data = (struct proto_bytes){gw->cmd.ptr, (uint32_t)gw->cmd.len};
	if (gw_zmq_send(gw, 1, &m) != 0)
		return; /* raftd is down: tried again at the next tick */
	le->expire_sent_ms = now_ms;
	gw->lease_clock.expired_proposed++;
	KV_LOG_INFO(GW_SVC, "lease expired", "id=%" PRIu64 " ttl_ms=%" PRIu64, le->id, le->ttl_ms);
}

void gw_lease_clock_tick(struct gw *gw, uint64_t now_ms)
{
	struct gw_lease_clock *lc = &gw->lease_clock;
	int leading = gw_status_leader(gw) == gw->cfg.node_id && gw->status.msg.role == RAFT_LEADER;
	if (!leading) {
		if (lc->term != 0)
			clock_reset(lc, 0);
		return;
	}
	if (gw->status.msg.term != lc->term)
		clock_reset(lc, gw->status.msg.term); /* a new term: every deadline starts over */
	if (lc->sync != GW_LEASE_IDLE && now_ms - lc->sent_ms > GW_LEASE_RETRY_MS)
		lc->sync = GW_LEASE_IDLE; /* the answer was lost: start the listing again */
	if (lc->sync == GW_LEASE_IDLE && now_ms >= lc->next_sync_ms)
		clock_sync_start(gw, now_ms);
	if (!lc->loaded)
		return;
	for (uint32_t i = 0; i < lc->n; i++) {
		struct gw_lease_entry *le = &lc->e[i];
		if (le->deadline_ms <= now_ms &&
		    (le->expire_sent_ms == 0 || now_ms - le->expire_sent_ms >= GW_LEASE_RETRY_MS))
			clock_propose_expire(gw, le, now_ms);
	}
}

/*
 * The deadline of a lease the clock has not timed yet: a full TTL from now.
 * GW_BUG_LEASE_TAKEOVER_EXPIRES (make gw-bugs) plants the bug this guards
 * against: a new leader that knows no keepalive treats its leases as due,
 * so they expire at once, before ttl_ms after the holder's last keepalive.
 */
static uint64_t clock_first_deadline(const struct gw_lease_clock *lc, uint64_t ttl_ms,
                                     uint64_t now_ms)
{
#ifdef GW_BUG_LEASE_TAKEOVER_EXPIRES
	if (!lc->loaded)
		return now_ms;
#endif
	(void)lc;
	return now_ms + ttl_ms;
}

/* One page of the listing: each lease keeps its deadline, or gets a full TTL from now. */
static void clock_on_page(struct gw *gw, const struct proto_lease_query_resp *r, uint64_t now_ms)
{
	struct gw_lease_clock *lc = &gw->lease_clock;
	if (r->status != 0) {
		lc->sync = GW_LEASE_IDLE;
		lc->next_sync_ms = now_ms + GW_LEASE_AGAIN_MS;
		return;
	}
	for (uint32_t i = 0; i < r->n_items && lc->n_next < KV_LEASES_MAX; i++) {
		uint64_t id = r->items[i].create_index, ttl = r->items[i].mod_index;
		const struct gw_lease_entry *old = clock_find(lc->e, lc->n, id);
		struct gw_lease_entry *le = &lc->next[lc->n_next++];
		*le = old != NULL ? *old
		                  : (struct gw_lease_entry){
		                        .id = id,
		                        .ttl_ms = ttl,
		                        .deadline_ms = clock_first_deadline(lc, ttl, now_ms)};
		lc->after = id;
	}
	if (r->more && lc->n_next < KV_LEASES_MAX) {
		clock_list_page(gw, now_ms);
		return;
	}
	struct gw_lease_entry *t = lc->e;
	lc->e = lc->next;
	lc->next = t;
	lc->n = lc->n_next;
	lc->n_next = 0;
	lc->loaded = 1;
	lc->sync = GW_LEASE_IDLE;
}

int gw_lease_clock_take(struct gw *gw, const struct proto_local *m)
{
	struct gw_lease_clock *lc = &gw->lease_clock;
	if (m->req_id <= lc->first_id || m->req_id > lc->next_id)
		return 0;
	if (m->req_id != lc->req_id)
		return 1; /* PROPOSE_RESP, RESULT of an expiry, or an answer overtaken: done */
	uint64_t now_ms = kv_clock_mono_ms();
	if (m->type == PROTO_READ_INDEX_RESP && lc->sync == GW_LEASE_READ_INDEX) {
		if (m->u.read_index_resp.status != 0) {
			lc->sync = GW_LEASE_IDLE;
			lc->next_sync_ms = now_ms + GW_LEASE_AGAIN_MS;
			return 1;
		}
		lc->read_index = m->u.read_index_resp.index;
		lc->after = 0;
		lc->n_next = 0;
		clock_list_page(gw, now_ms);
	} else if (m->type == PROTO_LEASE_QUERY_RESP && lc->sync == GW_LEASE_LISTING) {
		clock_on_page(gw, &m->u.lease_query_resp, now_ms);
	}
	return 1;
}

int gw_lease_clock_ready(const struct gw *gw, uint64_t term)
{
	const struct gw_lease_clock *lc = &gw->lease_clock;
	return lc->loaded && lc->term != 0 && lc->term == term && gw->status.msg.term == term;
}

/* Inserts id in order; NULL when the table is full. */
static struct gw_lease_entry *clock_insert(struct gw_lease_clock *lc, uint64_t id, uint64_t ttl_ms,
                                           uint64_t now_ms)
{
	if (lc->n == KV_LEASES_MAX)
		return NULL;
	uint32_t at = lc->n;
	while (at > 0 && lc->e[at - 1].id > id)
		at--;
	memmove(&lc->e[at + 1], &lc->e[at], (lc->n - at) * sizeof(lc->e[0]));
	lc->n++;
	lc->e[at] = (struct gw_lease_entry){.id = id, .ttl_ms = ttl_ms, .deadline_ms = now_ms};
	return &lc->e[at];
}

int gw_lease_clock_keepalive(struct gw *gw, uint64_t id, uint64_t ttl_ms, uint64_t now_ms,
                             uint64_t *remaining_ms)
{
	struct gw_lease_clock *lc = &gw->lease_clock;
	struct gw_lease_entry *le = clock_find(lc->e, lc->n, id);
	if (le == NULL && (le = clock_insert(lc, id, ttl_ms, now_ms + ttl_ms)) == NULL)
		return KV_EBUSY;
	if (le->expire_sent_ms != 0 || le->deadline_ms <= now_ms)
		return KV_ENOLEASE; /* its expiry is decided (or about to be, at this tick) */
	le->deadline_ms = now_ms + ttl_ms;
	/* a listing under way copied the old deadline: it must not bring it back */
	struct gw_lease_entry *pending = clock_find(lc->next, lc->n_next, id);
	if (pending != NULL)
		pending->deadline_ms = le->deadline_ms;
	*remaining_ms = ttl_ms;
	return 0;
}

uint64_t gw_lease_clock_remaining(const struct gw *gw, uint64_t id, uint64_t ttl_ms,
                                  uint64_t now_ms)
{
	const struct gw_lease_clock *lc = &gw->lease_clock;
	const struct gw_lease_entry *le = clock_find(lc->e, lc->n, id);
	if (le == NULL)
		return ttl_ms;
	if (le->expire_sent_ms != 0 || le->deadline_ms <= now_ms)
		return 0;
	return le->deadline_ms - now_ms;
}
