/*
 * raft_harness_exec.c - executing a raft_update in raft.h's order (persist,
 * send, apply, answer, compact), the invariants checked after every step, and
 * the events a test feeds. Test thread only.
 */
#include "raft_harness_internal.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define RH_PERSIST_ROUNDS_MAX 8 /* PERSISTED events chained after one test step */

/* ---- Sending ---- */

void rh_msg_fix(struct rh_msg *q)
{
	q->m.entries = q->m.n_entries > 0 ? q->ents : NULL;
	for (uint32_t i = 0; i < q->m.n_entries; i++)
		q->ents[i].data = q->ents[i].len > 0 ? q->payload[i] : NULL;
	q->m.chunk = q->chunk;
}

/* Attaches payloads from the sender's log, as the driver does before sending. */
static void msg_attach_entries(struct rh_node *from, struct rh_msg *q, const struct raft_msg *m)
{
	if (m->n_entries > RAFT_APPEND_ENTRIES_MAX)
		rh_fail("node %llu sent %u entries, over RAFT_APPEND_ENTRIES_MAX",
		        (unsigned long long)from->id, m->n_entries);
	for (uint32_t i = 0; i < m->n_entries; i++) {
		const struct rh_entry *s = rh_log_get(from, m->entries[i].index);

		if (s == NULL || s->term != m->entries[i].term)
			rh_fail("node %llu sent entry %llu term %llu that its log does not hold",
			        (unsigned long long)from->id,
			        (unsigned long long)m->entries[i].index,
			        (unsigned long long)m->entries[i].term);
		q->ents[i] = m->entries[i];
		q->ents[i].len = s->len;
		memcpy(q->payload[i], s->data, s->len);
	}
}

static void msg_attach_chunk(struct rh_node *from, struct rh_msg *q)
{
	const struct raft_msg *m = &q->m;

	if (m->snap_index != from->snap_index || m->snap_size != from->snap_size ||
	    m->offset + m->chunk_len > from->snap_size || m->chunk_len > RAFT_SNAPSHOT_CHUNK_BYTES)
		rh_fail("node %llu sent a SNAPSHOT chunk (index %llu, offset %llu, len %u) outside "
		        "its snapshot (index %llu, size %llu)",
		        (unsigned long long)from->id, (unsigned long long)m->snap_index,
		        (unsigned long long)m->offset, m->chunk_len,
		        (unsigned long long)from->snap_index, (unsigned long long)from->snap_size);
	if (m->chunk_len == 0)
		return;
	q->chunk = rh_calloc(1, m->chunk_len);
	memcpy(q->chunk, from->snap_data + m->offset, m->chunk_len);
}

static struct rh_msg *msg_copy(struct rh_node *from, const struct raft_msg *m)
{
	struct rh_msg *q = rh_calloc(1, sizeof(*q));

	q->m = *m;
	if (m->from != from->id)
		rh_fail("node %llu sent a message from %llu", (unsigned long long)from->id,
		        (unsigned long long)m->from);
	if (m->type == RAFT_MSG_APPEND)
		msg_attach_entries(from, q, m);
	else
		q->m.n_entries = 0;
	if (m->type == RAFT_MSG_SNAPSHOT)
		msg_attach_chunk(from, q);
	rh_msg_fix(q);
	return q;
}

int rh_link_cut(const struct rh *h, uint64_t from, uint64_t to)
{
	if (from == 0 || from > RH_NODES_MAX || to == 0 || to > RH_NODES_MAX)
		return 1;
	return h->cut[from][to] || h->nodes[to - 1] == NULL;
}

void rh_enqueue(struct rh *h, struct rh_msg *q)
{
	if (rh_link_cut(h, q->m.from, q->m.to)) {
		h->n_lost++;
		rh_msg_free(&q);
		return;
	}
	if (h->q_n == RH_QUEUE_MAX)
		rh_fail("message queue full (%u)", RH_QUEUE_MAX);
	h->q[h->q_n++] = q;
}

/* ---- Executing an update ---- */

static void persist_snapshot(struct rh_node *n, const struct raft_update *u)
{
	if (u->snapshot_chunk != NULL) {
		if (u->chunk_offset == 0)
			n->in_bytes = 0; /* a new snapshot starts */
		if (u->chunk_offset + u->chunk_len > RH_SNAP_BYTES_MAX)
			rh_fail("node %llu: snapshot chunk past the harness limit",
			        (unsigned long long)n->id);
		memcpy(n->in_data + u->chunk_offset, u->snapshot_chunk, u->chunk_len);
		if (u->chunk_offset + u->chunk_len > n->in_bytes)
			n->in_bytes = u->chunk_offset + u->chunk_len;
		n->n_chunks_written++;
	}
	if (!u->has_snapshot_install)
		return;
	if (n->in_bytes != u->snapshot_install.size)
		rh_fail("node %llu: installs a snapshot of %llu bytes having received %llu",
		        (unsigned long long)n->id, (unsigned long long)u->snapshot_install.size,
		        (unsigned long long)n->in_bytes);
	memcpy(n->snap_data, n->in_data, n->in_bytes);
	n->snap_size = n->in_bytes;
	n->snap_index = u->snapshot_install.index;
	n->snap_term = u->snapshot_install.term;
	n->in_bytes = 0;
	n->log_start = n->snap_index + 1;
	n->log_n = 0;
	n->base_term = n->snap_term;
	n->applied_index = n->snap_index;
	if (n->durable_index < n->snap_index)
		n->durable_index = n->snap_index;
	n->n_installs++;
}

/* Step 1 of an update; returns whether anything was written. */
static int persist(struct rh_node *n, const struct raft_update *u)
{
	struct raft_status st;

	persist_snapshot(n, u);
	if (u->has_truncate) {
		raft_get_status(n->r, &st);
		if (st.role == RAFT_LEADER && u->truncate_after < rh_log_last(n))
			rh_fail("node %llu: a leader truncates its own log after %llu",
			        (unsigned long long)n->id, (unsigned long long)u->truncate_after);
		if (u->truncate_after < n->applied_index || u->truncate_after < n->max_commit)
			rh_fail("node %llu: truncates after %llu, below commit %llu / applied %llu",
			        (unsigned long long)n->id, (unsigned long long)u->truncate_after,
			        (unsigned long long)n->max_commit,
			        (unsigned long long)n->applied_index);
		if (u->truncate_after < rh_log_last(n))
			n->log_n = (uint32_t)(u->truncate_after + 1 - n->log_start);
		if (n->durable_index > u->truncate_after)
			n->durable_index = u->truncate_after;
	}
	for (uint32_t i = 0; i < u->n_entries; i++)
		rh_log_append(n, &u->entries[i]);
	if (u->hard_state_changed)
		n->hs = u->hard_state;
	return u->snapshot_chunk != NULL || u->has_snapshot_install || u->has_truncate ||
	       u->n_entries > 0 || u->hard_state_changed;
}

/* State machine safety: every node that applied index e->index applied the same entry. */
static void check_same_applied(struct rh *h, const struct rh_node *n, const struct rh_entry *e)
{
	for (uint32_t k = 0; k < RH_NODES_MAX; k++) {
		const struct rh_node *o = h->nodes[k];

		if (o == NULL || o == n)
			continue;
		for (uint32_t i = 0; i < o->n_applied; i++) {
			const struct rh_entry *a = &o->applied[i];

			if (a->index != e->index)
				continue;
			if (a->term != e->term || a->type != e->type || a->len != e->len ||
			    memcmp(a->data, e->data, e->len) != 0)
				rh_fail("nodes %llu and %llu applied different entries at %llu "
				        "(terms %llu, %llu)",
				        (unsigned long long)n->id, (unsigned long long)o->id,
				        (unsigned long long)e->index, (unsigned long long)e->term,
				        (unsigned long long)a->term);
		}
	}
}

static void apply(struct rh *h, struct rh_node *n, uint64_t first, uint64_t last)
{
	if (first == 0 && last == 0)
		return;
	if (first != n->applied_index + 1 || last < first)
		rh_fail("node %llu: hands out [%llu, %llu] after applying %llu",
		        (unsigned long long)n->id, (unsigned long long)first,
		        (unsigned long long)last, (unsigned long long)n->applied_index);
	if (last > n->durable_index)
		rh_fail("node %llu: hands out up to %llu, durable only up to %llu",
		        (unsigned long long)n->id, (unsigned long long)last,
		        (unsigned long long)n->durable_index);
	for (uint64_t i = first; i <= last; i++) {
		const struct rh_entry *e = rh_log_get(n, i);

		if (e == NULL || n->n_applied == RH_APPLIED_MAX)
			rh_fail("node %llu: committed entry %llu not in the stored log",
			        (unsigned long long)n->id, (unsigned long long)i);
		check_same_applied(h, n, e);
		n->applied[n->n_applied++] = *e;
	}
	n->applied_index = last;
}

static void answer_and_compact(struct rh_node *n, const struct raft_update *u)
{
	for (uint32_t i = 0; i < u->n_reads; i++) {
		if (n->n_reads == RH_READS_MAX)
			rh_fail("node %llu: more than %u read answers", (unsigned long long)n->id,
			        RH_READS_MAX);
		n->reads[n->n_reads++] = u->reads[i];
	}
	if (u->compact_index == 0)
		return;
	if (u->compact_index > n->snap_index)
		rh_fail("node %llu: compacts to %llu past its snapshot at %llu",
		        (unsigned long long)n->id, (unsigned long long)u->compact_index,
		        (unsigned long long)n->snap_index);
	rh_log_compact(n, u->compact_index, &n->base_term);
}

static void send_all(struct rh *h, struct rh_node *n, const struct raft_update *u)
{
	for (uint32_t i = 0; i < u->n_msgs_now; i++)
		rh_enqueue(h, msg_copy(n, &u->msgs_now[i]));
	for (uint32_t i = 0; i < u->n_msgs_after_persist; i++) {
		struct rh_msg *q = msg_copy(n, &u->msgs_after_persist[i]);

		if (!n->manual_persist) {
			rh_enqueue(h, q);
			continue;
		}
		if (n->n_held == RAFT_UPDATE_MSGS_MAX)
			rh_fail("node %llu: too many held messages", (unsigned long long)n->id);
		n->held[n->n_held++] = q;
	}
}

static void record(struct rh_node *n, int rc, const struct raft_update *u)
{
	struct rh_record *r = &n->rec;
	uint32_t k;

	r->rc = rc;
	r->u = *u;
	k = u->n_entries < RAFT_UPDATE_MSGS_MAX ? u->n_entries : RAFT_UPDATE_MSGS_MAX;
	for (uint32_t i = 0; i < k; i++) {
		r->entries[i] = u->entries[i];
		r->entries[i].data = NULL;
	}
	for (uint32_t i = 0; i < u->n_msgs_now && i < RAFT_UPDATE_MSGS_MAX; i++) {
		r->now[i] = u->msgs_now[i];
		r->now[i].entries = NULL;
	}
	for (uint32_t i = 0; i < u->n_msgs_after_persist && i < RAFT_UPDATE_MSGS_MAX; i++) {
		r->after[i] = u->msgs_after_persist[i];
		r->after[i].entries = NULL;
	}
	for (uint32_t i = 0; i < u->n_reads && i < RAFT_UPDATE_MSGS_MAX; i++)
		r->reads[i] = u->reads[i];
	r->u.entries = NULL;
	r->u.msgs_now = NULL;
	r->u.msgs_after_persist = NULL;
	r->u.reads = NULL;
	r->u.snapshot_chunk = NULL;
}

/* ---- Invariants ---- */

static void check_leader_unique(struct rh *h, uint64_t id, uint64_t term)
{
	for (uint32_t i = 0; i < h->n_leader_terms; i++) {
		if (h->leader_term[i] != term)
			continue;
		if (h->leader_id[i] != id)
			rh_fail("two leaders in term %llu: %llu and %llu", (unsigned long long)term,
			        (unsigned long long)h->leader_id[i], (unsigned long long)id);
		return;
	}
	if (h->n_leader_terms == RH_LEADER_TERMS_MAX)
		return; /* long tests stop checking; no unit test has this many terms */
	h->leader_term[h->n_leader_terms] = term;
	h->leader_id[h->n_leader_terms++] = id;
}

void rh_check_invariants(struct rh *h, struct rh_node *n)
{
	struct raft_status st;
	uint64_t last = rh_log_last(n);

	raft_get_status(n->r, &st);
	if (st.last_index != last || st.last_term != rh_log_last_term(n, n->base_term))
		rh_fail("node %llu: core's last entry (%llu, term %llu) differs from the stored "
		        "log's (%llu, term %llu)",
		        (unsigned long long)n->id, (unsigned long long)st.last_index,
		        (unsigned long long)st.last_term, (unsigned long long)last,
		        (unsigned long long)rh_log_last_term(n, n->base_term));
	if (st.commit_index < n->max_commit)
		rh_fail("node %llu: commit index went down from %llu to %llu",
		        (unsigned long long)n->id, (unsigned long long)n->max_commit,
		        (unsigned long long)st.commit_index);
	if (st.term < n->max_term)
		rh_fail("node %llu: term went down from %llu to %llu", (unsigned long long)n->id,
		        (unsigned long long)n->max_term, (unsigned long long)st.term);
	n->max_commit = st.commit_index;
	n->max_term = st.term;
	if (st.role == RAFT_LEADER)
		check_leader_unique(h, n->id, st.term);
}

/* ---- Stepping ---- */

/* Executes u (from n's last step); chains PERSISTED events for an auto-persist node. */
static void execute(struct rh *h, struct rh_node *n, const struct raft_update *first)
{
	const struct raft_update *u = first;
	struct raft_update next;

	for (int round = 0;; round++) {
		int wrote = persist(n, u);

		send_all(h, n, u);
		apply(h, n, u->commit_first, u->commit_last);
		answer_and_compact(n, u);
		rh_check_invariants(h, n);
		if (!wrote || n->manual_persist)
			return;
		if (round == RH_PERSIST_ROUNDS_MAX)
			rh_fail("node %llu: PERSISTED keeps asking to persist",
			        (unsigned long long)n->id);
		struct raft_event ev = {.type = RAFT_EVENT_PERSISTED, .now_ms = n->now_ms};

		ev.index = rh_log_last(n);
		ev.term = rh_log_last_term(n, n->base_term);
		n->durable_hs = n->hs;
		n->durable_index = ev.index;
		n->n_persisted_events++;
		memset(&next, 0, sizeof(next));
		raft_step(n->r, &ev, &next);
		u = &next;
	}
}

int rh_step_node(struct rh *h, struct rh_node *n, struct raft_event *ev)
{
	struct raft_update u;
	int rc;

	ev->now_ms = n->now_ms;
	memset(&u, 0, sizeof(u));
	rc = raft_step(n->r, ev, &u);
	record(n, rc, &u);
	execute(h, n, &u);
	return rc;
}

int rh_step(struct rh *h, uint64_t id, struct raft_event *ev)
{
	return rh_step_node(h, rh_node(h, id), ev);
}

void rh_tick(struct rh *h, uint64_t id, uint64_t ms)
{
	struct rh_node *n = rh_node(h, id);
	struct raft_event ev = {.type = RAFT_EVENT_TICK};

	n->now_ms += ms;
	rh_step_node(h, n, &ev);
}

void rh_tick_all(struct rh *h, uint64_t ms)
{
	for (uint32_t i = 0; i < RH_NODES_MAX; i++)
		if (h->nodes[i] != NULL && !h->nodes[i]->frozen)
			rh_tick(h, i + 1, ms);
}

uint64_t rh_tick_until(struct rh *h, uint64_t id, uint8_t role, uint64_t max_ms)
{
	struct raft_status st;

	for (uint64_t ms = 0; ms <= max_ms; ms += RH_TICK_MS) {
		rh_status(h, id, &st);
		if (st.role == role)
			return ms;
		rh_tick(h, id, RH_TICK_MS);
	}
	rh_fail("node %llu did not reach role %u within %llu ms", (unsigned long long)id, role,
	        (unsigned long long)max_ms);
}

int rh_propose(struct rh *h, uint64_t id, const char *text)
{
	struct raft_event ev = {.type = RAFT_EVENT_PROPOSE, .entry_type = RAFT_ENTRY_COMMAND};

	ev.data = (const uint8_t *)text;
	ev.len = (uint32_t)strlen(text);
	return rh_step(h, id, &ev);
}

int rh_propose_config(struct rh *h, uint64_t id, uint8_t op, uint64_t node_id)
{
	uint8_t buf[RAFT_CONFIG_CHANGE_BYTES];
	struct raft_event ev = {.type = RAFT_EVENT_PROPOSE, .entry_type = RAFT_ENTRY_CONFIG};

	raft_config_change_encode(op, node_id, buf);
	ev.data = buf;
	ev.len = RAFT_CONFIG_CHANGE_BYTES;
	return rh_step(h, id, &ev);
}

int rh_read(struct rh *h, uint64_t id, uint64_t read_id)
{
	struct raft_event ev = {.type = RAFT_EVENT_READ, .read_id = read_id};

	return rh_step(h, id, &ev);
}

int rh_transfer(struct rh *h, uint64_t id, uint64_t target)
{
	struct raft_event ev = {.type = RAFT_EVENT_TRANSFER, .node_id = target};

	return rh_step(h, id, &ev);
}

int rh_snapshot(struct rh *h, uint64_t id, uint64_t index, uint64_t size)
{
	struct rh_node *n = rh_node(h, id);
	const struct rh_entry *e = rh_log_get(n, index);
	struct raft_event ev = {.type = RAFT_EVENT_SNAPSHOT_TAKEN, .index = index};

	if (e == NULL || size > RH_SNAP_BYTES_MAX || index > n->applied_index)
		rh_fail("node %llu: no snapshot possible at %llu (applied %llu)",
		        (unsigned long long)id, (unsigned long long)index,
		        (unsigned long long)n->applied_index);
	for (uint64_t i = 0; i < size; i++)
		n->snap_data[i] = (uint8_t)((i * 7u + index) & 0xffu);
	n->snap_index = index;
	n->snap_term = e->term;
	n->snap_size = size;
	ev.snap_size = size;
	return rh_step_node(h, n, &ev);
}

void rh_persist(struct rh *h, uint64_t id)
{
	struct rh_node *n = rh_node(h, id);
	struct raft_event ev = {.type = RAFT_EVENT_PERSISTED};

	n->durable_hs = n->hs;
	n->durable_index = rh_log_last(n);
	for (uint32_t i = 0; i < n->n_held; i++) {
		rh_enqueue(h, n->held[i]);
		n->held[i] = NULL;
	}
	n->n_held = 0;
	ev.index = n->durable_index;
	ev.term = rh_log_last_term(n, n->base_term);
	n->n_persisted_events++;
	rh_step_node(h, n, &ev);
}
