/*
 * gw_lease_clock.h - the leader's lease clock (gw_lease_clock.c): when each
 * lease expires, kept only by the gateway of the leader, on its own
 * monotonic clock, and acted on by proposing a LEASE_EXPIRE entry. Loop
 * thread only.
 */
#ifndef RAFTKV_GW_LEASE_CLOCK_H
#define RAFTKV_GW_LEASE_CLOCK_H

#include "proto.h"

#include <stdint.h>

struct gw;

#define GW_LEASE_SYNC_MS  1000u /* the leases are listed again this often */
#define GW_LEASE_RETRY_MS 2000u /* a lost listing or LEASE_EXPIRE is sent again after this */
#define GW_LEASE_AGAIN_MS 100u  /* a refused read index or listing is asked again after this */

struct gw_lease_entry {
	uint64_t id;
	uint64_t ttl_ms;
	uint64_t deadline_ms;    /* kv_clock_mono_ms() past which the lease expires */
	uint64_t expire_sent_ms; /* 0, or when its LEASE_EXPIRE was proposed */
};

enum gw_lease_sync { GW_LEASE_IDLE = 0, GW_LEASE_READ_INDEX, GW_LEASE_LISTING };

struct gw_lease_clock {
	uint64_t term;   /* the term whose leader this gateway's node is; 0: not leading */
	int loaded;      /* a listing at a read index of this term is complete */
	uint8_t sync;    /* enum gw_lease_sync */
	uint64_t req_id; /* of the message in flight; replies to others are not ours */
	uint64_t sent_ms;
	uint64_t next_sync_ms;
	uint64_t after; /* the listing's cursor */
	uint64_t read_index;
	uint64_t first_id; /* the clock's own request ids are (first_id, next_id] */
	uint64_t next_id;
	uint32_t n, n_next;
	struct gw_lease_entry *e;    /* by id; KV_LEASES_MAX room */
	struct gw_lease_entry *next; /* the listing being built */
	uint64_t expired_proposed;   /* LEASE_EXPIRE entries proposed (metrics, tests) */
};

int gw_lease_clock_init(struct gw_lease_clock *lc);
void gw_lease_clock_free(struct gw_lease_clock *lc);

/* Every tick: follows leadership, lists the leases, proposes the expiries due. */
void gw_lease_clock_tick(struct gw *gw, uint64_t now_ms);

/* 1 when m answers one of the clock's own messages (and was handled). */
int gw_lease_clock_take(struct gw *gw, const struct proto_local *m);

/* 1 when the clock times leases for term on this leader (keepalives can be served). */
int gw_lease_clock_ready(const struct gw *gw, uint64_t term);

/*
 * A keepalive of lease id (ttl_ms, known to exist at a read index confirmed
 * after the keepalive arrived): its deadline becomes now + ttl. Returns 0
 * and *remaining_ms, or KV_ENOLEASE when its expiry is already decided.
 */
int gw_lease_clock_keepalive(struct gw *gw, uint64_t id, uint64_t ttl_ms, uint64_t now_ms,
                             uint64_t *remaining_ms);

/* Milliseconds left on lease id (ttl_ms when not yet timed), 0 when expiring. */
uint64_t gw_lease_clock_remaining(const struct gw *gw, uint64_t id, uint64_t ttl_ms,
                                  uint64_t now_ms);

#endif
