/*
 * raft_harness_exec.c - the messages a node sends (payloads copied from its
 * log), stepping a node and executing its update with the shared executor
 * (raft_exec.h over raft_harness_io.c), the invariants checked after every
 * step, and the events a test feeds. Test thread only.
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
	struct raft_append *a = &q->m.u.append;

	if (q->m.type == RAFT_MSG_SNAPSHOT)
		q->m.u.snapshot.chunk = q->chunk;
	if (q->m.type != RAFT_MSG_APPEND)
		return;
	a->entries = a->n_entries > 0 ? q->ents : NULL;
	for (uint32_t i = 0; i < a->n_entries; i++)
		q->ents[i].data = q->ents[i].len > 0 ? q->payload[i] : NULL;
}

/* Attaches payloads from the sender's log, as the driver does before sending. */
static void msg_attach_entries(struct rh_node *from, struct rh_msg *q, const struct raft_append *m)
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
	const struct raft_snapshot *m = &q->m.u.snapshot;

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

struct rh_msg *rh_msg_copy(struct rh_node *from, const struct raft_msg *m)
{
	struct rh_msg *q = rh_calloc(1, sizeof(*q));

	q->m = *m;
	if (m->from != from->id)
		rh_fail("node %llu sent a message from %llu", (unsigned long long)from->id,
		        (unsigned long long)m->from);
	if (m->type == RAFT_MSG_APPEND)
		msg_attach_entries(from, q, &m->u.append);
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
		if (r->now[i].type == RAFT_MSG_APPEND)
			r->now[i].u.append.entries = NULL;
	}
	for (uint32_t i = 0; i < u->n_msgs_after_persist && i < RAFT_UPDATE_MSGS_MAX; i++) {
		r->after[i] = u->msgs_after_persist[i];
		if (r->after[i].type == RAFT_MSG_APPEND)
			r->after[i].u.append.entries = NULL;
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

/*
 * Executes u (from n's last step) with the shared executor; a node that is
 * not in manual-persist mode then syncs at once and steps the PERSISTED,
 * executing its update too, until nothing waits.
 */
static void execute(struct rh *h, struct rh_node *n, const struct raft_update *first)
{
	struct raft_update next;
	struct raft_event ev;

	raft_exec_run(&n->exec, first);
	rh_check_invariants(h, n);
	for (int round = 0; !n->manual_persist; round++) {
		memset(&ev, 0, sizeof(ev));
		if (!raft_exec_flush(&n->exec, &ev))
			return;
		if (round == RH_PERSIST_ROUNDS_MAX)
			rh_fail("node %llu: PERSISTED keeps asking to persist",
			        (unsigned long long)n->id);
		ev.now_ms = n->now_ms;
		n->n_persisted_events++;
		memset(&next, 0, sizeof(next));
		raft_step(n->r, &ev, &next);
		raft_exec_run(&n->exec, &next);
		rh_check_invariants(h, n);
	}
}

/* Steps FLUSH as raftd does once it drained its input; the update is not recorded. */
static void flush_node(struct rh *h, struct rh_node *n)
{
	struct raft_event ev = {.type = RAFT_EVENT_FLUSH, .now_ms = n->now_ms};
	struct raft_update u;

	memset(&u, 0, sizeof(u));
	raft_step(n->r, &ev, &u);
	execute(h, n, &u);
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
	if (!n->hold_flush && ev->type != RAFT_EVENT_FLUSH)
		flush_node(h, n);
	return rc;
}

void rh_flush(struct rh *h, uint64_t id)
{
	struct raft_event ev = {.type = RAFT_EVENT_FLUSH};

	rh_step(h, id, &ev);
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

	struct raft_config_change ch = {.op = op, .node = node_id};

	if (op == RAFT_CONFIG_ADD_LEARNER)
		ch.incarnation =
		    rh_incarnation(node_id); /* a joining node says which disk it runs on */
	raft_config_change_encode(&ch, buf);
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

	/* at the snapshot's own index (compacted away): a new image of it */
	int same = e == NULL && index == n->snap_index && index > 0;

	if ((e == NULL && !same) || size > RH_SNAP_BYTES_MAX || index > n->applied_index)
		rh_fail("node %llu: no snapshot possible at %llu (applied %llu)",
		        (unsigned long long)id, (unsigned long long)index,
		        (unsigned long long)n->applied_index);
	for (uint64_t i = 0; i < size; i++)
		n->snap_data[i] = (uint8_t)((i * 7u + index) & 0xffu);
	n->snap_index = index;
	n->snap_term = same ? n->snap_term : e->term;
	n->snap_size = size;
	ev.snap_size = size;
	return rh_step_node(h, n, &ev);
}

void rh_persist(struct rh *h, uint64_t id)
{
	struct rh_node *n = rh_node(h, id);
	struct raft_event ev = {.type = RAFT_EVENT_PERSISTED};

	raft_exec_flush(&n->exec, &ev); /* syncs and sends the held messages */
	n->durable_hs = n->hs;
	n->durable_index = rh_log_last(n);
	ev.type = RAFT_EVENT_PERSISTED;
	ev.index = n->durable_index;
	ev.term = rh_log_last_term(n, n->base_term);
	n->n_persisted_events++;
	rh_step_node(h, n, &ev);
}
