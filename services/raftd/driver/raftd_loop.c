/*
 * raftd_loop.c - raftd's one event loop.
 *
 * Each iteration: wait (zmq_poll) until input or the next tick; drain a
 * bounded number of messages from peers, the gateway and storaged, stepping
 * the core for each (WAL writes happen at once, unsynced); tick the core
 * every RAFTD_TICK_MS; then flush the core (one APPEND per follower with
 * every entry drained and the commit index, before our own sync), one
 * wal_sync for everything written (group commit), release the messages that
 * waited for it and report PERSISTED;
 * then feed storaged and do snapshot and reconnect chores. Loop thread only.
 */
#include "raftd.h"

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <errno.h>

static void loop_tick(struct raftd *d, uint64_t now_ms)
{
	if (now_ms < d->next_tick_ms)
		return;
	struct raft_event ev = {.type = RAFT_EVENT_TICK};
	raftd_update_step(d, &ev);
	d->next_tick_ms = now_ms + RAFTD_TICK_MS;
}

static void loop_iteration(struct raftd *d)
{
	/* handshakes first: a peer waits for its ZAP answer before it can send */
	raftd_curve_zap_drain(d, RAFTD_DRAIN_MAX);
	/* peers first but with half the budget, so the gateway is never starved */
	uint32_t used = raftd_peers_drain(d, RAFTD_DRAIN_MAX / 2);
	used += raftd_local_drain(d, RAFTD_DRAIN_MAX - used);
	if (used < RAFTD_DRAIN_MAX)
		raftd_peers_drain(d, RAFTD_DRAIN_MAX - used);
	raftd_apply_drain(d, RAFTD_DRAIN_MAX);

	uint64_t now_ms = kv_clock_mono_ms();
	loop_tick(d, now_ms);
	raftd_update_flush(d);
	raftd_apply_pump(d, now_ms);
	raftd_snapshot_take_request(d, now_ms);
	raftd_image_tick(d, now_ms);
	raftd_peers_connect_due(d, now_ms);
	raftd_join_recheck(d, now_ms);
	raftd_handoff_if_neighbours_gone(d, now_ms);
}

int raftd_loop_once(struct raftd *d)
{
	zmq_pollitem_t items[] = {
	    {.socket = d->peer_router, .events = ZMQ_POLLIN},
	    {.socket = d->local_router, .events = ZMQ_POLLIN},
	    {.socket = d->apply_dealer, .events = ZMQ_POLLIN},
	    {.socket = d->curve.zap, .events = ZMQ_POLLIN}, /* Curve on only */
	};
	int n_items = d->curve.zap != NULL ? 4 : 3;
	uint64_t now_ms = kv_clock_mono_ms();
	long timeout_ms = now_ms >= d->next_tick_ms ? 0 : (long)(d->next_tick_ms - now_ms);
	if (zmq_poll(items, n_items, timeout_ms) < 0) {
		if (errno == EINTR)
			return 0;
		KV_LOG_ERROR(RAFTD_SVC, "zmq_poll failed", "err=\"%s\"", zmq_strerror(errno));
		return KV_EIO;
	}
	loop_iteration(d);
	return 0;
}

int raftd_loop_run(struct raftd *d)
{
	d->next_tick_ms = kv_clock_mono_ms() + RAFTD_TICK_MS;
	while (!*d->stop) {
		int rc = raftd_loop_once(d);
		if (rc != 0)
			return rc;
	}
	return 0;
}
