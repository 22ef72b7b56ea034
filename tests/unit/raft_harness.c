/*
 * raft_harness.c - the harness's nodes: construction, boot from a given log,
 * the stored log that keeps payloads, and the failure path shared by all
 * raft_harness*.c. Test thread only.
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

void rh_fail(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fail_msg("harness: %s", buf);
	abort(); /* fail_msg does not return; this tells the compiler so */
}

void *rh_calloc(size_t n, size_t size)
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

struct rh_node *rh_node_or_null(struct rh *h, uint64_t id)
{
	if (id == 0 || id > RH_NODES_MAX)
		return NULL;
	return h->nodes[id - 1];
}

void rh_status(struct rh *h, uint64_t id, struct raft_status *out)
{
	raft_get_status(rh_node(h, id)->r, out);
}

/* "APPEND", ...: from the one list of peer messages (proto_messages.h). */
#define RH_MSG_NAME(NAME, BODY, body, doc) [RAFT_MSG_##NAME] = #NAME,
const char *rh_msg_name(uint8_t type)
{
	static const char *const names[RAFT_MSG_TYPE_MAX + 1] = {"?",
	                                                         PROTO_RAFT_MESSAGES(RH_MSG_NAME)};

	return type <= RAFT_MSG_TYPE_MAX ? names[type] : "?";
}

/* ---- The stored log ---- */

uint64_t rh_log_last(const struct rh_node *n)
{
	return n->log_start + n->log_n - 1;
}

const struct rh_entry *rh_log_get(const struct rh_node *n, uint64_t index)
{
	if (index < n->log_start || index > rh_log_last(n))
		return NULL;
	return &n->log[index - n->log_start];
}

/* The term of the last stored entry, or of the snapshot/compaction point before it. */
uint64_t rh_log_last_term(const struct rh_node *n, uint64_t base_term)
{
	return n->log_n > 0 ? n->log[n->log_n - 1].term : base_term;
}

void rh_log_append(struct rh_node *n, const struct raft_entry *e)
{
	struct rh_entry *s;

	if (e->index != n->log_start + n->log_n)
		rh_fail("node %llu: append of index %llu after last %llu",
		        (unsigned long long)n->id, (unsigned long long)e->index,
		        (unsigned long long)rh_log_last(n));
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
void rh_log_compact(struct rh_node *n, uint64_t index, uint64_t *base_term)
{
	const struct rh_entry *e = rh_log_get(n, index);
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
		c.members[i].incarnation = rh_incarnation(i + 1);
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
	o.incarnation = rh_incarnation(id);
	o.prevote = prevote;
	o.check_quorum = check_quorum;
	return o;
}

/* (Re)creates n's core from its stored log and hard state; config at snap_index 0. */
static void node_boot(struct rh *h, struct rh_node *n, const struct raft_config *config)
{
	static struct raft_entry ents[RH_LOG_MAX];
	struct raft_boot b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.hard_state = n->hs;
	b.snap_index = n->snap_index; /* 0 but after rh_restart_snapshot() */
	b.snap_term = n->snap_term;
	b.snap_size = n->snap_size;
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
	raft_exec_reset(&n->exec);
	rh_exec_init(h, n);
	n->durable_hs = n->hs;
	n->durable_index = rh_log_last(n);
	n->max_term = n->hs.term;
	n->max_commit = 0;
	rh_check_invariants(h, n);
}

static struct rh_node *node_new(struct rh *h, uint64_t id, const struct raft_config *config,
                                uint64_t now_ms)
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
	n->boot_config = *config;
	n->now_ms = now_ms;
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
		node_new(h, i, &c, 0);
	return h;
}

void rh_msg_free(struct rh_msg **m)
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
		rh_msg_free(&h->q[i]);
	for (uint32_t i = 0; i < RH_NODES_MAX; i++) {
		struct rh_node *n = h->nodes[i];

		if (n == NULL)
			continue;
		raft_exec_reset(&n->exec);
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
		rh_log_append(n, &e);
	}
	n->hs.term = term;
	n->hs.vote = vote;
	n->applied_index = 0;
	n->n_applied = 0;
	n->n_reads = 0;
	n->base_term = 0;
	n->boot_config = h->config;
	node_boot(h, n, &h->config);
}

struct rh_node *rh_add_node(struct rh *h, uint64_t id, const struct raft_config *config)
{
	/* a newcomer's clock starts with the cluster's */
	return node_new(h, id, config, rh_node(h, 1)->now_ms);
}

void rh_restart(struct rh *h, uint64_t id)
{
	struct rh_node *n = rh_node(h, id);

	if (n->snap_index > 0)
		rh_fail("node %llu: rh_restart of a node with a snapshot is not supported",
		        (unsigned long long)id);
	raft_exec_reset(&n->exec); /* the held messages are lost */
	if (n->durable_index < rh_log_last(n))
		n->log_n = (uint32_t)(n->durable_index + 1 - n->log_start);
	n->hs = n->durable_hs;
	n->in_bytes = 0;
	/* the state machine is rebuilt from scratch (there is no snapshot) */
	n->applied_index = 0;
	n->n_applied = 0;
	n->n_reads = 0;
	n->n_restarts++;
	node_boot(h, n, &n->boot_config);
}

void rh_restart_snapshot(struct rh *h, uint64_t id, uint64_t applied_kept)
{
	struct rh_node *n = rh_node(h, id);

	if (n->snap_index == 0 || applied_kept < n->snap_index || applied_kept > n->applied_index)
		rh_fail("node %llu: rh_restart_snapshot at %llu (snapshot %llu, applied %llu)",
		        (unsigned long long)id, (unsigned long long)applied_kept,
		        (unsigned long long)n->snap_index, (unsigned long long)n->applied_index);
	raft_exec_reset(&n->exec); /* the held messages are lost */
	if (n->durable_index < rh_log_last(n))
		n->log_n = (uint32_t)(n->durable_index + 1 - n->log_start);
	n->hs = n->durable_hs;
	n->in_bytes = 0;
	n->snap_size = 0; /* raftd removes its images at start */
	while (n->n_applied > 0 && n->applied[n->n_applied - 1].index > applied_kept)
		n->n_applied--;
	n->applied_index = applied_kept;
	n->n_reads = 0;
	n->n_restarts++;
	node_boot(h, n, &n->boot_config);
}

void rh_wipe(struct rh *h, uint64_t id)
{
	struct rh_node *n = rh_node(h, id);

	raft_exec_reset(&n->exec);
	n->log_start = 1;
	n->log_n = 0;
	memset(&n->hs, 0, sizeof(n->hs));
	n->durable_hs = n->hs;
	n->snap_index = n->snap_term = n->snap_size = n->base_term = 0;
	n->in_bytes = 0;
	n->applied_index = 0;
	n->n_applied = 0;
	n->n_reads = 0;
	n->n_restarts++;
	n->opts.incarnation += 100000;
	/* the seed configuration, as a node booting from --peers has it: nothing recorded */
	n->boot_config = h->config;
	for (uint32_t i = 0; i < n->boot_config.n; i++)
		n->boot_config.members[i].incarnation = 0;
	node_boot(h, n, &n->boot_config);
}
