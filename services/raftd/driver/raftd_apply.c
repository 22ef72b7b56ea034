/*
 * raftd_apply.c - hands committed entries to storaged over the DEALER at
 * ipc://<sock-dir>/storaged-apply.sock and tracks its applied index.
 *
 * At most RAFTD_APPLY_INFLIGHT_MAX batches await their APPLY_STATE. storaged
 * may restart at any time: whenever it stays silent for
 * RAFTD_STORAGED_QUIET_MS, raftd says APPLY_HELLO and resumes from the
 * applied index it answers (storaged skips what it has already applied).
 * Loop thread only.
 */
#include "raftd.h"

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdlib.h>

int raftd_apply_send(struct raftd *d, const struct proto_local *m)
{
	proto_buf_reset(&d->buf);
	int rc = proto_local_encode(m, &d->buf);
	if (rc != 0)
		return rc;
	return raftd_sock_send(d->apply_dealer, NULL, 0, d->buf.ptr, d->buf.len);
}

static void apply_hello(struct raftd *d, uint64_t now_ms)
{
	d->hello_req_id = ++d->next_req_id;
	d->n_apply_inflight = 0;
	struct proto_local m = {.type = PROTO_APPLY_HELLO, .req_id = d->hello_req_id};
	int rc = raftd_apply_send(d, &m);
	if (rc != 0)
		KV_LOG_DEBUG(RAFTD_SVC, "storaged not reachable yet", "err=\"%s\"",
		             kv_strerror(rc));
	d->storaged_wait_since_ms = now_ms;
}

void raftd_apply_init(struct raftd *d)
{
	d->apply_next = 0;
	apply_hello(d, kv_clock_mono_ms());
}

void raftd_apply_committed(struct raftd *d, uint64_t commit_last)
{
	if (commit_last > d->commit_index)
		d->commit_index = commit_last;
}

/* Sends the next batch from apply_next; 0, KV_EBUSY (storaged away) or a fatal code. */
static int apply_send_batch(struct raftd *d, uint64_t now_ms)
{
	uint32_t n = 0;
	uint64_t bytes = 0;
	while (n < RAFTD_APPLY_BATCH_ENTRIES && d->apply_next + n <= d->commit_index) {
		struct raft_entry *e = &d->apply_entries[n];
		int rc = wal_get(d->wal, d->apply_next + n, e);
		if (rc != 0)
			return rc;
		if (n > 0 && bytes + e->len > RAFTD_APPLY_BATCH_BYTES)
			break;
		bytes += e->len;
		n++;
	}
	struct proto_local m = {.type = PROTO_APPLY, .req_id = ++d->next_req_id};
	m.u.apply = (struct proto_apply){.n_entries = n, .entries = d->apply_entries};
	int rc = raftd_apply_send(d, &m);
	if (rc != 0)
		return rc;
	struct raftd_apply_batch *b = &d->apply_inflight[d->n_apply_inflight++];
	b->req_id = m.req_id;
	b->last_index = d->apply_next + n - 1;
	d->apply_next += n;
	if (d->storaged_wait_since_ms == 0)
		d->storaged_wait_since_ms = now_ms;
	return 0;
}

void raftd_apply_pump(struct raftd *d, uint64_t now_ms)
{
	if (d->storaged_wait_since_ms != 0 &&
	    now_ms - d->storaged_wait_since_ms >= RAFTD_STORAGED_QUIET_MS) {
		KV_LOG_DEBUG(RAFTD_SVC, "storaged silent, saying hello", "applied=%" PRIu64,
		             d->applied_index);
		apply_hello(d, now_ms);
	}
	if (d->hello_req_id == 0 && d->n_apply_inflight == 0 &&
	    now_ms - d->storaged_heard_ms >= RAFTD_STORAGED_QUIET_MS) {
		/* idle: a HELLO now and then notices a storaged that restarted (or lost its data)
		 */
		apply_hello(d, now_ms);
	}
	if (d->hello_req_id != 0 || now_ms < d->apply_retry_ms)
		return;
	if (d->apply_next <= d->snap_index && d->n_apply_inflight == 0) {
		/* storaged is behind the start of the log: it needs our snapshot */
		if (raftd_snapfile_give_storaged(d) != 0)
			return;
	}
	while (d->n_apply_inflight < RAFTD_APPLY_INFLIGHT_MAX && d->apply_next <= d->commit_index) {
		int rc = apply_send_batch(d, now_ms);
		if (rc == KV_EBUSY || rc == KV_EIO) {
			if (d->storaged_wait_since_ms == 0)
				d->storaged_wait_since_ms = now_ms;
			return;
		}
		if (rc != 0) {
			KV_LOG_ERROR(RAFTD_SVC, "cannot read committed entries, exiting",
			             "index=%" PRIu64 " err=\"%s\"", d->apply_next,
			             kv_strerror(rc));
			exit(1);
		}
	}
}

/*
 * storaged applied past what the core knows as committed (a restart: the
 * core's commit starts at snapmeta's index, storaged kept more): only
 * committed entries reach storaged, so the core is told (RAFT_EVENT_APPLIED).
 * Without it an image storaged makes at its applied index is above the
 * commit index and refused, and a leader whose followers all need one stalls.
 */
static void apply_tell_core(struct raftd *d, uint64_t applied_index)
{
	if (applied_index <= d->commit_index)
		return;
	struct raft_event ev = {.type = RAFT_EVENT_APPLIED, .index = applied_index};
	int rc = raftd_update_step(d, &ev);
	if (rc != 0) {
		KV_LOG_WARN(RAFTD_SVC, "storaged applied past raftd's log",
		            "applied=%" PRIu64 " err=\"%s\"", applied_index, kv_strerror(rc));
		return;
	}
	KV_LOG_INFO(RAFTD_SVC, "commit index raised to storaged's applied index",
	            "from=%" PRIu64 " to=%" PRIu64, d->commit_index, applied_index);
	raftd_apply_committed(d, applied_index);
}

static void apply_hello_answered(struct raftd *d, const struct proto_apply_state *m)
{
	/* idle HELLOs repeat every second: log only news */
	if (!d->storaged_known || m->applied_index != d->applied_index)
		KV_LOG_INFO(RAFTD_SVC, "storaged connected", "applied=%" PRIu64 " commit=%" PRIu64,
		            m->applied_index, d->commit_index);
	d->storaged_known = 1;
	d->hello_req_id = 0;
	d->n_apply_inflight = 0;
	d->applied_index = m->applied_index;
	/* may go down: a restarted storaged reports what survived */
	d->storaged_durable_index = m->durable_index;
	d->apply_next = m->applied_index + 1;
	d->storaged_wait_since_ms = 0;
	apply_tell_core(d, m->applied_index);
}

static void apply_state(struct raftd *d, const struct proto_local *lm, uint64_t now_ms)
{
	const struct proto_apply_state *m = &lm->u.apply_state;

	d->storaged_heard_ms = now_ms;
	if (lm->req_id == d->hello_req_id && d->hello_req_id != 0) {
		apply_hello_answered(d, m);
		return;
	}
	if (m->applied_index > d->applied_index)
		d->applied_index = m->applied_index;
	if (m->durable_index > d->storaged_durable_index)
		d->storaged_durable_index = m->durable_index;
	uint32_t keep = 0;
	for (uint32_t i = 0; i < d->n_apply_inflight; i++)
		if (d->apply_inflight[i].req_id != lm->req_id &&
		    d->apply_inflight[i].last_index > d->applied_index)
			d->apply_inflight[keep++] = d->apply_inflight[i];
	d->n_apply_inflight = keep;
	if (m->status != 0) {
		/* full or failing: resend from what it applied, once a second */
		if (d->apply_retry_ms == 0 || m->status != KV_EFULL)
			KV_LOG_WARN(RAFTD_SVC, "storaged refused a batch, retrying",
			            "applied=%" PRIu64 " err=\"%s\"", d->applied_index,
			            kv_strerror(m->status));
		d->apply_retry_ms = now_ms + RAFTD_FULL_RETRY_MS;
		d->n_apply_inflight = 0;
		d->apply_next = d->applied_index + 1;
	} else {
		d->apply_retry_ms = 0;
	}
	d->storaged_wait_since_ms = d->n_apply_inflight > 0 ? now_ms : 0;
}

uint32_t raftd_apply_drain(struct raftd *d, uint32_t budget)
{
	uint32_t n = 0;
	uint64_t now_ms = kv_clock_mono_ms();
	for (; n < budget; n++) {
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, d->apply_dealer, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			break;
		}
		struct proto_arena arena;
		struct proto_local m;
		proto_arena_init(&arena, d->arena_mem, RAFTD_ARENA_BYTES);
		int rc = proto_local_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &m, &arena);
		if (rc != 0)
			KV_LOG_WARN(RAFTD_SVC, "malformed storaged message dropped", "err=\"%s\"",
			            kv_strerror(rc));
		else if (m.type == PROTO_APPLY_STATE)
			apply_state(d, &m, now_ms);
		else if (m.type == PROTO_SNAPSHOT_DONE)
			raftd_snapshot_take_done(d, &m);
		else
			KV_LOG_WARN(RAFTD_SVC, "unexpected storaged message dropped", "type=%u",
			            (unsigned)m.type);
		zmq_msg_close(&msg);
	}
	return n;
}
