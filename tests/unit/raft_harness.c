/*
 * raft_harness.c - the deterministic driver of raft_harness.h: executes each
 * raft_update in raft.h's order against in-memory logs and one hand-stepped
 * message queue, and checks Raft's invariants after every step.
 * Test thread only.
 */
#include "raft_harness.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A queued message with its own copies of entry payloads and snapshot chunk. */
struct rh_msg {
	struct raft_msg m;
	struct raft_entry ents[RAFT_APPEND_ENTRIES_MAX];
	uint8_t payload[RAFT_APPEND_ENTRIES_MAX][RH_PAYLOAD_BYTES_MAX];
	uint8_t *chunk;
};

#define RH_PERSIST_ROUNDS_MAX 8 /* PERSISTED events chained after one test step */

static void rh_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void rh_fail(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fail_msg("harness: %s", buf);
	abort(); /* fail_msg does not return; this tells the compiler so */
}

static void *rh_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		rh_fail("out of memory");
	return p;
}

struct rh_node *rh_node(struct rh *h, uint64_t id)
{
	if (id == 0 || id > RH_NODES_MAX || h->nodes[id - 1] == NULL)
		rh_fail("no node %llu", (unsigned long long)id);
	return h->nodes[id - 1];
}

static struct rh_node *node_or_null(struct rh *h, uint64_t id)
{
	if (id == 0 || id > RH_NODES_MAX)
		return NULL;
	return h->nodes[id - 1];
}

void rh_status(struct rh *h, uint64_t id, struct raft_status *out)
{
	raft_get_status(rh_node(h, id)->r, out);
}

const char *rh_msg_name(uint8_t type)
{
	static const char *const names[RAFT_MSG_TYPE_MAX + 1] = {
	    "?",          "APPEND",          "APPEND_RESP", "PREVOTE",       "PREVOTE_RESP",
	    "VOTE",       "VOTE_RESP",       "SNAPSHOT",    "SNAPSHOT_RESP", "TIMEOUT_NOW",
	    "READ_INDEX", "READ_INDEX_RESP",
	};
	return type <= RAFT_MSG_TYPE_MAX ? names[type] : "?";
}

/* ---- The stored log ---- */

static uint64_t log_last(const struct rh_node *n)
{
	return n->log_start + n->log_n - 1;
}

static const struct rh_entry *log_get(const struct rh_node *n, uint64_t index)
{
	if (index < n->log_start || index > log_last(n))
		return NULL;
	return &n->log[index - n->log_start];
}

/* The term of the last stored entry, or of the snapshot/compaction point before it. */
static uint64_t log_last_term(const struct rh_node *n, uint64_t base_term)
{
	return n->log_n > 0 ? n->log[n->log_n - 1].term : base_term;
}

static void log_append(struct rh_node *n, const struct raft_entry *e)
{
	struct rh_entry *s;

	if (e->index != n->log_start + n->log_n)
		rh_fail("node %llu: append of index %llu after last %llu",
		        (unsigned long long)n->id, (unsigned long long)e->index,
		        (unsigned long long)log_last(n));
	if (n->log_n == RH_LOG_MAX || e->len > RH_PAYLOAD_BYTES_MAX)
		rh_fail("node %llu: stored log or payload over the harness limit",
		        (unsigned long long)n->id);
	s = &n->log[n->log_n++];
	memset(s, 0, sizeof(*s));
	s->term = e->term;
	s->index = e->index;
	s->type = e->type;
	s->len = e->len;
	if (e->len > 0) {
		if (e->data == NULL)
			rh_fail("node %llu: entry %llu to persist has no data",
			        (unsigned long long)n->id, (unsigned long long)e->index);
		memcpy(s->data, e->data, e->len);
	}
}

/* Drops entries <= index; remembers the term of the last dropped one. */
static void log_compact(struct rh_node *n, uint64_t index, uint64_t *base_term)
{
	const struct rh_entry *e = log_get(n, index);
	uint32_t drop;

	if (e == NULL)
		return;
	*base_term = e->term;
	drop = (uint32_t)(index - n->log_start + 1);
	memmove(n->log, n->log + drop, (n->log_n - drop) * sizeof(n->log[0]));
	n->log_n -= drop;
	n->log_start = index + 1;
}

/* ---- Construction ---- */

static struct raft_config voters_config(uint32_t n_voters)
{
	struct raft_config c;

	memset(&c, 0, sizeof(c));
	c.n = n_voters;
	for (uint32_t i = 0; i < n_voters; i++) {
		c.members[i].id = i + 1;
		c.members[i].role = RAFT_VOTER;
	}
	return c;
}

static struct raft_options default_options(uint64_t id, int prevote, int check_quorum)
{
	struct raft_options o;

	memset(&o, 0, sizeof(o));
	o.id = id;
	o.election_timeout_ms = RH_ELECTION_MS;
	o.heartbeat_ms = RH_HEARTBEAT_MS;
	o.seed = id;
	o.prevote = prevote;
	o.check_quorum = check_quorum;
	return o;
}

static void check_invariants(struct rh *h, struct rh_node *n);

/* (Re)creates n's core from its stored log and hard state; config at snap_index 0. */
static void node_boot(struct rh *h, struct rh_node *n, const struct raft_config *config)
{
	static struct raft_entry ents[RH_LOG_MAX];
	struct raft_boot b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.hard_state = n->hs;
	b.snap_config = *config;
	b.n_entries = n->log_n;
	for (uint32_t i = 0; i < n->log_n; i++) {
		ents[i].term = n->log[i].term;
		ents[i].index = n->log[i].index;
		ents[i].type = n->log[i].type;
		ents[i].len = n->log[i].len;
		ents[i].data = n->log[i].data;
	}
	b.entries = ents;
	b.now_ms = n->now_ms;
	raft_destroy(&n->r);
	rc = raft_new(&n->opts, &b, &n->r);
	if (rc != 0)
		rh_fail("raft_new(node %llu) = %d (%s)", (unsigned long long)n->id, rc,
		        kv_strerror(rc));
	n->durable_hs = n->hs;
	n->durable_index = log_last(n);
	n->max_term = n->hs.term;
	n->max_commit = 0;
	check_invariants(h, n);
}

static struct rh_node *node_new(struct rh *h, uint64_t id, const struct raft_config *config)
{
	struct rh_node *n;

	if (id == 0 || id > RH_NODES_MAX || h->nodes[id - 1] != NULL)
		rh_fail("bad or duplicate node id %llu", (unsigned long long)id);
	n = rh_calloc(1, sizeof(*n));
	n->id = id;
	n->opts = default_options(id, h->prevote, h->check_quorum);
	n->log_start = 1;
	n->snap_data = rh_calloc(1, RH_SNAP_BYTES_MAX);
	n->in_data = rh_calloc(1, RH_SNAP_BYTES_MAX);
	h->nodes[id - 1] = n;
	if (id > h->n)
		h->n = (uint32_t)id;
	node_boot(h, n, config);
	return n;
}

struct rh *rh_new(uint32_t n_voters, int prevote, int check_quorum)
{
	struct rh *h;
	struct raft_config c;

	if (n_voters == 0 || n_voters > RH_NODES_MAX)
		rh_fail("bad cluster size %u", n_voters);
	h = rh_calloc(1, sizeof(*h));
	h->prevote = prevote;
	h->check_quorum = check_quorum;
	c = voters_config(n_voters);
	h->config = c;
	for (uint32_t i = 1; i <= n_voters; i++)
		node_new(h, i, &c);
	return h;
}

static void msg_free(struct rh_msg **m)
{
	if (*m == NULL)
		return;
	free((*m)->chunk);
	free(*m);
	*m = NULL;
}

void rh_destroy(struct rh **hp)
{
	struct rh *h = *hp;

	if (h == NULL)
		return;
	for (uint32_t i = 0; i < h->q_n; i++)
		msg_free(&h->q[i]);
	for (uint32_t i = 0; i < RH_NODES_MAX; i++) {
		struct rh_node *n = h->nodes[i];

		if (n == NULL)
			continue;
		for (uint32_t k = 0; k < n->n_held; k++)
			msg_free(&n->held[k]);
		raft_destroy(&n->r);
		free(n->snap_data);
		free(n->in_data);
		free(n);
	}
	free(h);
	*hp = NULL;
}

void rh_boot_log(struct rh *h, uint64_t id, uint64_t term, uint64_t vote, const uint64_t *terms,
                 uint32_t count)
{
	struct rh_node *n = rh_node(h, id);
	char text[RH_PAYLOAD_BYTES_MAX];

	n->log_start = 1;
	n->log_n = 0;
	for (uint32_t i = 0; i < count; i++) {
		struct raft_entry e = {
		    .term = terms[i], .index = i + 1u, .type = RAFT_ENTRY_COMMAND};

		e.len = (uint32_t)snprintf(text, sizeof(text), "e%ut%llu", i + 1u,
		                           (unsigned long long)terms[i]);
		e.data = (const uint8_t *)text;
		log_append(n, &e);
	}
	n->hs.term = term;
	n->hs.vote = vote;
	n->applied_index = 0;
	n->n_applied = 0;
	n->n_reads = 0;
	n->base_term = 0;
	node_boot(h, n, &h->config);
}

struct rh_node *rh_add_node(struct rh *h, uint64_t id, const struct raft_config *config)
{
	struct rh_node *n = node_new(h, id, config);

	/* a newcomer's clock starts with the cluster's */
	n->now_ms = rh_node(h, 1)->now_ms;
	return n;
}

/* ---- Sending ---- */

static void msg_fix(struct rh_msg *q)
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
		const struct rh_entry *s = log_get(from, m->entries[i].index);

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
	msg_fix(q);
	return q;
}

static int link_cut(const struct rh *h, uint64_t from, uint64_t to)
{
	if (from == 0 || from > RH_NODES_MAX || to == 0 || to > RH_NODES_MAX)
		return 1;
	return h->cut[from][to] || h->nodes[to - 1] == NULL;
}

static void enqueue(struct rh *h, struct rh_msg *q)
{
	if (link_cut(h, q->m.from, q->m.to)) {
		h->n_lost++;
		msg_free(&q);
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
	persist_snapshot(n, u);
	if (u->has_truncate) {
		if (u->truncate_after < n->applied_index || u->truncate_after < n->max_commit)
			rh_fail("node %llu: truncates after %llu, below commit %llu / applied %llu",
			        (unsigned long long)n->id, (unsigned long long)u->truncate_after,
			        (unsigned long long)n->max_commit,
			        (unsigned long long)n->applied_index);
		if (u->truncate_after < log_last(n))
			n->log_n = (uint32_t)(u->truncate_after + 1 - n->log_start);
		if (n->durable_index > u->truncate_after)
			n->durable_index = u->truncate_after;
	}
	for (uint32_t i = 0; i < u->n_entries; i++)
		log_append(n, &u->entries[i]);
	if (u->hard_state_changed)
		n->hs = u->hard_state;
	return u->snapshot_chunk != NULL || u->has_snapshot_install || u->has_truncate ||
	       u->n_entries > 0 || u->hard_state_changed;
}

static void apply(struct rh_node *n, uint64_t first, uint64_t last)
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
		const struct rh_entry *e = log_get(n, i);

		if (e == NULL || n->n_applied == RH_APPLIED_MAX)
			rh_fail("node %llu: committed entry %llu not in the stored log",
			        (unsigned long long)n->id, (unsigned long long)i);
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
	log_compact(n, u->compact_index, &n->base_term);
}

static void send_all(struct rh *h, struct rh_node *n, const struct raft_update *u)
{
	for (uint32_t i = 0; i < u->n_msgs_now; i++)
		enqueue(h, msg_copy(n, &u->msgs_now[i]));
	for (uint32_t i = 0; i < u->n_msgs_after_persist; i++) {
		struct rh_msg *q = msg_copy(n, &u->msgs_after_persist[i]);

		if (!n->manual_persist) {
			enqueue(h, q);
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

static void check_invariants(struct rh *h, struct rh_node *n)
{
	struct raft_status st;
	uint64_t last = log_last(n);

	raft_get_status(n->r, &st);
	if (st.last_index != last || st.last_term != log_last_term(n, n->base_term))
		rh_fail("node %llu: core's last entry (%llu, term %llu) differs from the stored "
		        "log's (%llu, term %llu)",
		        (unsigned long long)n->id, (unsigned long long)st.last_index,
		        (unsigned long long)st.last_term, (unsigned long long)last,
		        (unsigned long long)log_last_term(n, n->base_term));
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
		apply(n, u->commit_first, u->commit_last);
		answer_and_compact(n, u);
		check_invariants(h, n);
		if (!wrote || n->manual_persist)
			return;
		if (round == RH_PERSIST_ROUNDS_MAX)
			rh_fail("node %llu: PERSISTED keeps asking to persist",
			        (unsigned long long)n->id);
		struct raft_event ev = {.type = RAFT_EVENT_PERSISTED, .now_ms = n->now_ms};

		ev.index = log_last(n);
		ev.term = log_last_term(n, n->base_term);
		n->durable_hs = n->hs;
		n->durable_index = ev.index;
		n->n_persisted_events++;
		memset(&next, 0, sizeof(next));
		raft_step(n->r, &ev, &next);
		u = &next;
	}
}

static int step_node(struct rh *h, struct rh_node *n, struct raft_event *ev)
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
	return step_node(h, rh_node(h, id), ev);
}

void rh_tick(struct rh *h, uint64_t id, uint64_t ms)
{
	struct rh_node *n = rh_node(h, id);
	struct raft_event ev = {.type = RAFT_EVENT_TICK};

	n->now_ms += ms;
	step_node(h, n, &ev);
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
	const struct rh_entry *e = log_get(n, index);
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
	return step_node(h, n, &ev);
}

void rh_persist(struct rh *h, uint64_t id)
{
	struct rh_node *n = rh_node(h, id);
	struct raft_event ev = {.type = RAFT_EVENT_PERSISTED};

	n->durable_hs = n->hs;
	n->durable_index = log_last(n);
	for (uint32_t i = 0; i < n->n_held; i++) {
		enqueue(h, n->held[i]);
		n->held[i] = NULL;
	}
	n->n_held = 0;
	ev.index = n->durable_index;
	ev.term = log_last_term(n, n->base_term);
	n->n_persisted_events++;
	step_node(h, n, &ev);
}

/* ---- The network ---- */

static int msg_matches(const struct raft_msg *m, uint8_t type, uint64_t from, uint64_t to)
{
	return (type == 0 || m->type == type) && (from == 0 || m->from == from) &&
	       (to == 0 || m->to == to);
}

int rh_find(const struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	for (uint32_t i = 0; i < h->q_n; i++)
		if (msg_matches(&h->q[i]->m, type, from, to))
			return (int)i;
	return -1;
}

const struct raft_msg *rh_peek(const struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	int i = rh_find(h, type, from, to);

	return i < 0 ? NULL : &h->q[i]->m;
}

uint32_t rh_count(const struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < h->q_n; i++)
		k += (uint32_t)msg_matches(&h->q[i]->m, type, from, to);
	return k;
}

static struct rh_msg *dequeue(struct rh *h, uint32_t pos)
{
	struct rh_msg *q = h->q[pos];

	memmove(h->q + pos, h->q + pos + 1, (h->q_n - pos - 1) * sizeof(h->q[0]));
	h->q_n--;
	return q;
}

static void deliver_at(struct rh *h, uint32_t pos)
{
	struct rh_msg *q = dequeue(h, pos);
	struct rh_node *to = node_or_null(h, q->m.to);
	struct raft_event ev = {.type = RAFT_EVENT_RECEIVE};

	if (to == NULL || link_cut(h, q->m.from, q->m.to)) {
		h->n_lost++;
		msg_free(&q);
		return;
	}
	msg_fix(q);
	ev.msg = &q->m;
	step_node(h, to, &ev);
	h->n_delivered++;
	if (q->m.type <= RAFT_MSG_TYPE_MAX)
		h->delivered_type[q->m.type]++;
	msg_free(&q);
}

int rh_deliver(struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	int i = rh_find(h, type, from, to);

	if (i < 0)
		return 0;
	deliver_at(h, (uint32_t)i);
	return 1;
}

uint32_t rh_deliver_matching(struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	static struct rh_msg *picked[RH_QUEUE_MAX];
	uint32_t n_picked = 0, done = 0;

	for (uint32_t i = 0; i < h->q_n; i++)
		if (msg_matches(&h->q[i]->m, type, from, to))
			picked[n_picked++] = h->q[i];
	for (uint32_t k = 0; k < n_picked; k++) {
		for (uint32_t i = 0; i < h->q_n; i++) {
			if (h->q[i] != picked[k])
				continue;
			deliver_at(h, i);
			done++;
			break;
		}
	}
	return done;
}

uint32_t rh_deliver_all(struct rh *h, uint32_t max_msgs)
{
	uint32_t k = 0;

	while (h->q_n > 0) {
		if (k == max_msgs)
			rh_fail("still %u messages queued after delivering %u", h->q_n, max_msgs);
		deliver_at(h, 0);
		k++;
	}
	return k;
}

uint32_t rh_drop(struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < h->q_n;) {
		if (!msg_matches(&h->q[i]->m, type, from, to)) {
			i++;
			continue;
		}
		struct rh_msg *q = dequeue(h, i);

		msg_free(&q);
		h->n_lost++;
		k++;
	}
	return k;
}

uint32_t rh_drop_entries(struct rh *h, uint64_t from)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < h->q_n;) {
		const struct raft_msg *m = &h->q[i]->m;

		if (m->type != RAFT_MSG_APPEND || m->from != from || m->n_entries == 0) {
			i++;
			continue;
		}
		struct rh_msg *q = dequeue(h, i);

		msg_free(&q);
		h->n_lost++;
		k++;
	}
	return k;
}

int rh_inject(struct rh *h, const struct raft_msg *msg)
{
	struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .msg = msg};

	return rh_step(h, msg->to, &ev);
}

struct rh_msg *rh_copy(const struct rh *h, uint8_t type, uint64_t from, uint64_t to)
{
	int i = rh_find(h, type, from, to);
	struct rh_msg *c;

	if (i < 0)
		return NULL;
	c = rh_calloc(1, sizeof(*c));
	*c = *h->q[i];
	if (c->m.chunk_len > 0 && h->q[i]->chunk != NULL) {
		c->chunk = rh_calloc(1, c->m.chunk_len);
		memcpy(c->chunk, h->q[i]->chunk, c->m.chunk_len);
	}
	msg_fix(c);
	return c;
}

struct raft_msg *rh_copy_msg(struct rh_msg *copy)
{
	return &copy->m;
}

void rh_replay(struct rh *h, struct rh_msg **copy)
{
	if (h->q_n == RH_QUEUE_MAX)
		rh_fail("message queue full (%u)", RH_QUEUE_MAX);
	/* at the front, so that it is the next one delivered */
	memmove(h->q + 1, h->q, h->q_n * sizeof(h->q[0]));
	h->q[0] = *copy;
	h->q_n++;
	*copy = NULL;
	deliver_at(h, 0);
}

void rh_cut(struct rh *h, uint64_t a, uint64_t b, int on)
{
	if (a == 0 || a > RH_NODES_MAX || b == 0 || b > RH_NODES_MAX)
		rh_fail("bad link %llu-%llu", (unsigned long long)a, (unsigned long long)b);
	h->cut[a][b] = on;
	h->cut[b][a] = on;
}

void rh_isolate(struct rh *h, uint64_t id, int on)
{
	for (uint64_t other = 1; other <= RH_NODES_MAX; other++)
		if (other != id)
			rh_cut(h, id, other, on);
}

/* ---- Scenarios ---- */

void rh_elect(struct rh *h, uint64_t id)
{
	struct raft_status st;

	rh_status(h, id, &st);
	for (uint64_t ms = 0; st.role == RAFT_FOLLOWER; ms += RH_TICK_MS) {
		if (ms > 20u * RH_ELECTION_MS)
			rh_fail("node %llu never campaigned", (unsigned long long)id);
		rh_tick(h, id, RH_TICK_MS);
		rh_status(h, id, &st);
	}
	rh_deliver_all(h, 10000);
	rh_status(h, id, &st);
	if (st.role != RAFT_LEADER)
		rh_fail("node %llu campaigned but is %u, not leader", (unsigned long long)id,
		        st.role);
}

static int is_election_msg(uint8_t type)
{
	return type == RAFT_MSG_PREVOTE || type == RAFT_MSG_PREVOTE_RESP || type == RAFT_MSG_VOTE ||
	       type == RAFT_MSG_VOTE_RESP;
}

void rh_campaign(struct rh *h, uint64_t id)
{
	struct raft_status st;
	uint32_t k = 0;

	rh_status(h, id, &st);
	for (uint64_t ms = 0; st.role == RAFT_FOLLOWER; ms += RH_TICK_MS) {
		if (ms > 20u * RH_ELECTION_MS)
			rh_fail("node %llu never campaigned", (unsigned long long)id);
		rh_tick(h, id, RH_TICK_MS);
		rh_status(h, id, &st);
	}
	while (st.role != RAFT_LEADER) {
		uint32_t i = 0;

		while (i < h->q_n && !is_election_msg(h->q[i]->m.type))
			i++;
		if (i == h->q_n || k++ == 1000)
			rh_fail("node %llu's campaign ended as role %u", (unsigned long long)id,
			        st.role);
		deliver_at(h, i);
		rh_status(h, id, &st);
	}
}

uint64_t rh_leader(struct rh *h)
{
	struct raft_status st;
	uint64_t best = 0, best_term = 0;

	for (uint32_t i = 0; i < RH_NODES_MAX; i++) {
		if (h->nodes[i] == NULL)
			continue;
		raft_get_status(h->nodes[i]->r, &st);
		if (st.role == RAFT_LEADER && st.term >= best_term) {
			best = st.id;
			best_term = st.term;
		}
	}
	return best;
}

uint32_t rh_applied_of_type(struct rh *h, uint64_t id, uint8_t type)
{
	struct rh_node *n = rh_node(h, id);
	uint32_t k = 0;

	for (uint32_t i = 0; i < n->n_applied; i++)
		k += (uint32_t)(n->applied[i].type == type);
	return k;
}

void rh_run(struct rh *h, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += RH_TICK_MS) {
		rh_tick_all(h, RH_TICK_MS);
		rh_deliver_all(h, 10000);
	}
}

uint32_t rh_rec_count(const struct rh_node *n, uint8_t type)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n->rec.u.n_msgs_now && i < RAFT_UPDATE_MSGS_MAX; i++)
		k += (uint32_t)(n->rec.now[i].type == type);
	for (uint32_t i = 0; i < n->rec.u.n_msgs_after_persist && i < RAFT_UPDATE_MSGS_MAX; i++)
		k += (uint32_t)(n->rec.after[i].type == type);
	return k;
}

const struct raft_msg *rh_rec_find(const struct rh_node *n, int after_persist, uint8_t type,
                                   uint64_t to)
{
	const struct raft_msg *list = after_persist ? n->rec.after : n->rec.now;
	uint32_t count = after_persist ? n->rec.u.n_msgs_after_persist : n->rec.u.n_msgs_now;

	for (uint32_t i = 0; i < count && i < RAFT_UPDATE_MSGS_MAX; i++)
		if (list[i].type == type && (to == 0 || list[i].to == to))
			return &list[i];
	return NULL;
}
