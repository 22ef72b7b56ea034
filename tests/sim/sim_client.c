/*
 * sim_client.c - the simulated clients: writes of key=value with unique
 * values, linearizable reads, membership changes and leader transfers, and
 * the liveness probe after healing.
 *
 * A write is acknowledged when its proposer applies its entry; then the
 * checker verifies it is durable on a quorum and the model records it as
 * the newest acknowledged value of its key. A read remembers the newest
 * acknowledged write of its key when issued and must see at least that.
 * Simulator thread.
 */
#include "sim.h"

#include <string.h>

#include "kv_err.h"

#define U(x)                ((unsigned long long)(x))
#define SIM_READ_TIMEOUT_MS 5000u

void sim_client_reset(struct sim_client *c)
{
	memset(c, 0, sizeof(*c));
	c->next_value = 1;
	c->next_read_id = 1;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* The node that believes it leads the newest term, or -1. */
static int leader_slot(struct sim_world *w)
{
	int best = -1;

	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++) {
		const struct sim_node *nd = &w->nodes[s];

		if (nd->state == SIM_NODE_UP && nd->st.role == RAFT_LEADER &&
		    (best < 0 || nd->st.term > w->nodes[best].st.term))
			best = (int)s;
	}
	return best;
}

static int random_up(struct sim_world *w)
{
	uint32_t start = (uint32_t)sim_rng_below(&w->rng, SIM_SLOTS_MAX);

	for (uint32_t i = 0; i < SIM_SLOTS_MAX; i++) {
		uint32_t s = (start + i) % SIM_SLOTS_MAX;

		if (w->nodes[s].state == SIM_NODE_UP)
			return (int)s;
	}
	return -1;
}

static uint64_t propose_write(struct sim_world *w, uint32_t slot)
{
	struct sim_client *c = &w->client;
	struct sim_node *nd = &w->nodes[slot];
	struct raft_update up;
	uint8_t data[9];
	struct raft_event ev = {.type = RAFT_EVENT_PROPOSE,
	                        .entry_type = RAFT_ENTRY_COMMAND,
	                        .data = data,
	                        .len = sizeof(data)};
	uint64_t value = c->next_value++;
	uint8_t key = (uint8_t)sim_rng_below(&w->rng, SIM_KEYS);
	int rc;

	if (nd->st.last_index > nd->st.commit_index + SIM_UNCOMMITTED_MAX)
		return 0; /* flow control: the simulated log has a bound */
	data[0] = key;
	put64(data + 1, value);
	rc = sim_node_step(w, slot, &ev, &up);
	sim_world_trace(w, SIM_TR_PROPOSE, slot, key, value, rc ? 0 : up.proposed_index,
	                (uint64_t)-rc);
	if (rc != 0)
		return 0;
	w->stats.writes++;
	c->props[value & (SIM_PROPS_MAX - 1)] = (struct sim_prop){.value = value,
	                                                          .index = up.proposed_index,
	                                                          .term = up.proposed_term,
	                                                          .node = (uint8_t)slot,
	                                                          .boot = nd->boot,
	                                                          .key = key};
	return value;
}

static void issue_read(struct sim_world *w, uint32_t slot)
{
	struct sim_client *c = &w->client;
	struct raft_update up;
	struct raft_event ev = {.type = RAFT_EVENT_READ};
	struct sim_read *rd = NULL;
	int rc;

	for (uint32_t i = 0; i < SIM_READS_MAX && !rd; i++)
		if (c->reads[i].read_id == 0)
			rd = &c->reads[i];
	if (!rd)
		return;
	rd->read_id = c->next_read_id++;
	rd->node = (uint8_t)slot;
	rd->boot = w->nodes[slot].boot;
	rd->key = (uint8_t)sim_rng_below(&w->rng, SIM_KEYS);
	rd->min_index = c->acked_index[rd->key];
	rd->confirmed = 0;
	rd->issued_ms = w->now_ms;
	ev.read_id = rd->read_id;
	rc = sim_node_step(w, slot, &ev, &up);
	if (rc != 0 && rd->read_id == ev.read_id && !rd->confirmed)
		rd->read_id = 0;
}

static uint64_t config_change(struct sim_world *w, uint32_t slot, uint8_t op, uint64_t id,
                              uint64_t inc)
{
	struct raft_update up;
	uint8_t data[RAFT_CONFIG_CHANGE_BYTES];
	struct raft_event ev = {.type = RAFT_EVENT_PROPOSE,
	                        .entry_type = RAFT_ENTRY_CONFIG,
	                        .data = data,
	                        .len = sizeof(data)};
	int rc;

	struct raft_config_change ch = {.op = op, .node = id, .incarnation = inc};

	raft_config_change_encode(&ch, data);
	rc = sim_node_step(w, slot, &ev, &up);
	sim_world_trace(w, SIM_TR_CONFIG, slot, op, id, (uint64_t)-rc, rc ? 0 : up.proposed_index);
	if (rc == 0)
		w->stats.config_changes++;
	return rc == 0;
}

/* One membership step at the leader: promote a caught-up learner, remove, or add. */
static void membership(struct sim_world *w, uint32_t lead)
{
	struct sim_node *ld = &w->nodes[lead];
	const struct raft_config *cfg = &ld->st.config;
	uint32_t voters = sim_config_voters(cfg), i = (uint32_t)sim_rng_below(&w->rng, cfg->n);
	uint64_t id;

	for (uint32_t k = 0; k < cfg->n; k++) {
		const struct raft_member *m = &cfg->members[(i + k) % cfg->n];

		if (m->role == RAFT_LEARNER) {
			if (raft_match_of(ld->raft, m->id) + 2 >= ld->st.commit_index)
				config_change(w, lead, RAFT_CONFIG_PROMOTE, m->id, 0);
			return;
		}
	}
	if (voters >= 4 && sim_rng_chance(&w->rng, 600)) {
		for (uint32_t k = 0; k < cfg->n; k++)
			if (cfg->members[(i + k) % cfg->n].role == RAFT_VOTER) {
				config_change(w, lead, RAFT_CONFIG_REMOVE,
				              cfg->members[(i + k) % cfg->n].id, 0);
				return;
			}
	}
	if (cfg->n >= RAFT_NODES_MAX || w->client.next_slot >= SIM_SLOTS_MAX)
		return;
	id = w->client.next_slot + 1;
	/* a joining node names its disk, or (half the time) the leader records it on first contact
	 */
	if (!config_change(w, lead, RAFT_CONFIG_ADD_LEARNER, id,
	                   sim_rng_chance(&w->rng, 500) ? w->nodes[sim_slot_of(id)].incarnation
	                                                : 0))
		return;
	w->client.next_slot++;
	sim_disk_format(&w->nodes[sim_slot_of(id)].disk, &w->initial);
	if (sim_node_start(w, sim_slot_of(id)) != 0)
		sim_check_fail(w, "node %llu does not boot from an empty disk", U(id));
}

static void transfer(struct sim_world *w, uint32_t lead)
{
	struct raft_update up;
	struct raft_event ev = {.type = RAFT_EVENT_TRANSFER};
	const struct raft_config *cfg = &w->nodes[lead].st.config;
	const struct raft_member *m = &cfg->members[sim_rng_below(&w->rng, cfg->n)];
	int rc;

	if (m->role == RAFT_VOTER && m->id != w->nodes[lead].id && sim_rng_chance(&w->rng, 700))
		ev.node_id = m->id;
	rc = sim_node_step(w, lead, &ev, &up);
	sim_world_trace(w, SIM_TR_TRANSFER, lead, ev.node_id, (uint64_t)-rc, 0, 0);
	w->stats.transfers++;
}

static void expire_reads(struct sim_world *w)
{
	for (uint32_t i = 0; i < SIM_READS_MAX; i++) {
		struct sim_read *rd = &w->client.reads[i];

		if (rd->read_id && w->now_ms > rd->issued_ms + SIM_READ_TIMEOUT_MS)
			rd->read_id = 0;
	}
}

void sim_client_act(struct sim_world *w)
{
	struct sim_client *c = &w->client;
	int lead = leader_slot(w), any = random_up(w);
	uint64_t r = sim_rng_below(&w->rng, 100);

	expire_reads(w);
	if (any < 0)
		return;
	if (r < 60) {
		int to = lead >= 0 && sim_rng_chance(&w->rng, 900) ? lead : any;

		propose_write(w, (uint32_t)to);
	} else if (r < 90) {
		issue_read(w, (uint32_t)any);
	} else if (r < 95 && lead >= 0 && w->faults.membership && !w->healed &&
	           w->now_ms > c->last_member_ms + 300 && !sim_fault_rejoining(w)) {
		c->last_member_ms = w->now_ms;
		membership(w, (uint32_t)lead);
	} else if (lead >= 0 && w->faults.transfers && !w->healed &&
	           w->now_ms > c->last_transfer_ms + 500) {
		c->last_transfer_ms = w->now_ms;
		transfer(w, (uint32_t)lead);
	}
}

void sim_client_on_apply(struct sim_world *w, uint32_t slot, const struct sim_entry *e)
{
	struct sim_client *c = &w->client;
	struct sim_prop *p;
	uint64_t value;

	if (e->type == RAFT_ENTRY_CONFIG && e->data[0] == RAFT_CONFIG_REMOVE) {
		uint64_t id = get64(e->data + 1);

		if (id >= 1 && id <= SIM_SLOTS_MAX)
			w->nodes[sim_slot_of(id)].removed = 1;
		return;
	}
	if (e->type != RAFT_ENTRY_COMMAND)
		return;
	value = get64(e->data + 1);
	p = &c->props[value & (SIM_PROPS_MAX - 1)];
	if (p->value != value || p->node != slot || p->boot != w->nodes[slot].boot)
		return;
	p->value = 0;
	if (p->index != e->index || p->term != e->term)
		return;
	sim_check_ack(w, slot, e->index, e->term);
	w->stats.acks++;
	sim_world_trace(w, SIM_TR_ACK, slot, p->key, value, e->index, 0);
	if (e->index > c->acked_index[p->key]) {
		c->acked_index[p->key] = e->index;
		c->acked_value[p->key] = value;
	}
	if (value == c->live_value)
		c->live_index = e->index;
}

void sim_client_on_read(struct sim_world *w, uint32_t slot, const struct raft_read *rd)
{
	for (uint32_t i = 0; i < SIM_READS_MAX; i++) {
		struct sim_read *r = &w->client.reads[i];

		if (r->read_id != rd->read_id || r->node != slot)
			continue;
		if (rd->status != 0) {
			r->read_id = 0;
		} else {
			r->confirmed = 1;
			r->index = rd->index;
		}
		return;
	}
}

void sim_client_serve_reads(struct sim_world *w, uint32_t slot)
{
	const struct sim_node *nd = &w->nodes[slot];

	for (uint32_t i = 0; i < SIM_READS_MAX; i++) {
		struct sim_read *r = &w->client.reads[i];

		if (!r->read_id || r->node != slot || !r->confirmed || nd->sm.applied < r->index)
			continue;
		sim_world_trace(w, SIM_TR_READ, slot, r->read_id, r->key, r->index,
		                nd->sm.mod_index[r->key]);
		if (nd->sm.mod_index[r->key] < r->min_index)
			sim_check_fail(
			    w,
			    "linearizable read: node %llu read key %u at read index %llu "
			    "(applied %llu) and saw the write of index %llu, but the write "
			    "of index %llu was acknowledged before the read began",
			    U(nd->id), r->key, U(r->index), U(nd->sm.applied),
			    U(nd->sm.mod_index[r->key]), U(r->min_index));
		w->stats.reads_ok++;
		r->read_id = 0;
	}
}

void sim_client_forget_node(struct sim_world *w, uint32_t slot)
{
	for (uint32_t i = 0; i < SIM_READS_MAX; i++)
		if (w->client.reads[i].node == slot)
			w->client.reads[i].read_id = 0;
}

int sim_client_live(struct sim_world *w)
{
	struct sim_client *c = &w->client;
	int lead = leader_slot(w);
	const struct raft_config *cfg;

	if (lead < 0)
		return 0;
	if (c->live_index == 0) {
		if (c->live_value == 0 || w->now_ms > c->live_prop_ms + 500) {
			c->live_value = propose_write(w, (uint32_t)lead);
			c->live_prop_ms = w->now_ms;
		}
		return 0;
	}
	cfg = &w->nodes[lead].st.config;
	for (uint32_t i = 0; i < cfg->n; i++) {
		const struct sim_node *nd = &w->nodes[sim_slot_of(cfg->members[i].id)];

		if (cfg->members[i].role == RAFT_VOTER &&
		    (nd->state != SIM_NODE_UP || nd->sm.applied < c->live_index))
			return 0;
	}
	return 1;
}
