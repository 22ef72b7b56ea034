/*
 * gw_read.c - the read path shared by GET and LIST: a linearizable read asks
 * raftd for a read index (raftd asks the leader when it is a follower) and
 * then has storaged answer once it has applied that index; a stale read asks
 * storaged at once. A read whose handler can answer from the node's state
 * machine (c->on_local: GET) is first tried here, in this process
 * (gw_local.c); it goes to storaged when that state is older than the read
 * needs or cannot be read. Loop thread only.
 */
#include "gw.h"
#include "gw_read.h"

#include "gw_errors.h"
#include "gw_local.h"
#include "kv_clock.h"
#include "kv_err.h"

#define GW_READ_RETRY_MS 20u /* a read index refused for want of a leader is asked again */

static void read_wait(struct gw_call *c)
{
	c->state = GW_CALL_WAIT_LEADER;
	c->retry_at_ms = kv_clock_mono_ms() + GW_READ_RETRY_MS;
}

/* 1 when c was answered from the local state machine at an index >= c->read_index. */
static int read_local(struct gw *gw, struct gw_call *c)
{
	struct gw_local_answer a;
	if (c->on_local == NULL || gw_local_get(&gw->local, c->key.bytes, (uint32_t)c->key.len,
	                                        c->read_index, kv_clock_mono_ms(), &a) != 0)
		return 0;
	c->on_local(gw, c, &a);
	return 1;
}

static void read_query(struct gw *gw, struct gw_call *c)
{
	if (read_local(gw, c))
		return;
	c->state = GW_CALL_QUERY;
	if (c->send_query(gw, c) != 0) {
		gw_reply_kv_error(gw, &c->http, KV_EUNAVAIL, "storaged is not connected", NULL);
		gw_pending_end(gw, c);
	}
}

/* Our raftd is silent: another gateway serves the read if its handler allows it (GET). */
static int read_forward(struct gw *gw, struct gw_call *c)
{
	if (gw_status_fresh(gw) || c->forwarded || !c->peer_may_serve)
		return -1;
	const struct gw_peer *peer = gw_status_next_peer(gw, &c->hops);
	if (peer == NULL)
		return -1;
	c->state = GW_CALL_FORWARDING; /* first: a failed connect calls back to wait again */
	if (gw_forward_start(gw, c, peer) != 0) {
		read_wait(c);
		return 0;
	}
	return 0;
}

/* Hands every read of a batch its share of answer m (its req_id is the batch's). */
static void read_batch_answer(struct gw *gw, const struct proto_local *m)
{
	uint32_t n = 0;
	const uint64_t *reads = gw_read_batch_take(&gw->read_batches, m->req_id, &n);
	struct proto_local one = *m;
	for (uint32_t i = 0; i < n; i++) {
		one.req_id = reads[i];
		gw_pending_dispatch(gw, &one); /* a read that ended meanwhile is not found */
	}
}

/* Sends the open batch as one READ_INDEX; when raftd cannot take it, its reads wait. */
static void read_batch_send(struct gw *gw)
{
	uint64_t id = gw_read_batch_close(&gw->read_batches, kv_clock_mono_ms());
	if (id == 0)
		return;
	struct proto_local m = {.type = PROTO_READ_INDEX, .req_id = id};
	if (gw_zmq_send(gw, 1, &m) == 0)
		return;
	/* raftd is down or restarting: nothing was asked, every read waits and asks again */
	struct proto_local refused = {.type = PROTO_READ_INDEX_RESP, .req_id = id};
	refused.u.read_index_resp.status = KV_EUNAVAIL;
	read_batch_answer(gw, &refused);
}

static void read_batch_on_turn_end(h2o_timeout_entry_t *entry)
{
	read_batch_send(H2O_STRUCT_FROM_MEMBER(struct gw, read_batch_entry, entry));
}

void gw_read_batch_setup(struct gw *gw)
{
	gw_read_batch_init(&gw->read_batches);
	gw->read_batch_entry.cb = read_batch_on_turn_end;
}

int gw_read_on_batch_resp(struct gw *gw, const struct proto_local *m)
{
	if (m->type != PROTO_READ_INDEX_RESP || !(m->req_id & GW_READ_BATCH_ID_BIT))
		return 0;
	read_batch_answer(gw, m);
	return 1;
}

/* c asks raftd on its own (every batch slot is in flight). */
static void read_ask_alone(struct gw *gw, struct gw_call *c, uint64_t id)
{
	struct proto_local m = {.type = PROTO_READ_INDEX, .req_id = id};
	if (gw_zmq_send(gw, 1, &m) != 0)
		read_wait(c); /* raftd is down or restarting */
}

/* c joins the open batch, sent at the end of this turn of the loop. */
static void read_ask_index(struct gw *gw, struct gw_call *c)
{
	if (read_forward(gw, c) == 0)
		return;
	c->state = GW_CALL_READ_INDEX;
	uint64_t id = gw_pending_next_id(gw, c), now_ms = kv_clock_mono_ms();
	int rc = gw_read_batch_join(&gw->read_batches, id, now_ms);
	if (rc == KV_EBUSY) {
		read_batch_send(gw); /* full: send it now; c opens the next one */
		rc = gw_read_batch_join(&gw->read_batches, id, now_ms);
	}
	if (rc != 0) {
		read_ask_alone(gw, c, id);
		return;
	}
	if (!h2o_timeout_is_linked(&gw->read_batch_entry))
		h2o_timeout_link(gw->ctx.loop, &gw->zmq.soon, &gw->read_batch_entry);
}

void gw_read_start(struct gw *gw, struct gw_call *c)
{
	if (c->query.consistency == GW_STALE) {
		c->read_index = 0;
		read_query(gw, c);
		return;
	}
	read_ask_index(gw, c);
}

int gw_read_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	const struct proto_read_index_resp *m = &lm->u.read_index_resp;

	if (lm->type != PROTO_READ_INDEX_RESP)
		return 0;
	if (c->state != GW_CALL_READ_INDEX)
		return 1;
	switch (m->status) {
	case 0:
		c->read_index = m->index;
		read_query(gw, c);
		break;
	case KV_ENOLEADER:
	case KV_ENOTLEADER:
	case KV_EUNAVAIL:
	case KV_ETIMEDOUT:
	case KV_ESTALE:
		/* no leader could confirm the index: wait within the deadline */
		gw_status_refresh(gw);
		read_wait(c);
		break;
	default:
		gw_read_fail(gw, c, m->status);
	}
	return 1;
}

void gw_read_fail(struct gw *gw, struct gw_call *c, int err)
{
	if (err == KV_ETIMEDOUT) {
		gw_reply_kv_error(gw, &c->http, err,
		                  "this node did not apply the read index before the deadline",
		                  NULL);
	} else {
		gw_reply_kv_error(gw, &c->http, err, NULL, NULL);
	}
	gw_pending_end(gw, c);
}

void gw_read_on_retry(struct gw *gw, struct gw_call *c)
{
	if (c->state == GW_CALL_WAIT_LEADER)
		read_ask_index(gw, c);
}

void gw_read_on_deadline(struct gw *gw, struct gw_call *c)
{
	if (c->state == GW_CALL_WAIT_LEADER || c->state == GW_CALL_READ_INDEX) {
		if (gw_status_leader(gw) == 0) {
			gw_reply_no_leader(gw, &c->http, KV_ENOLEADER);
		} else {
			gw_reply_kv_error(gw, &c->http, KV_EUNAVAIL,
			                  "no read index was confirmed before the deadline", NULL);
		}
	} else {
		gw_reply_kv_error(gw, &c->http, KV_ETIMEDOUT,
		                  c->state == GW_CALL_FORWARDING
		                      ? "the other gateway did not answer before the deadline"
		                      : "storaged did not answer before the deadline",
		                  NULL);
	}
	gw_pending_end(gw, c);
}

int gw_read_send(struct gw *gw, const struct proto_local *m)
{
	return gw_zmq_send(gw, 0, m);
}
