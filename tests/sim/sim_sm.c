/*
 * sim_sm.c - the simulated state machine: a map of SIM_KEYS keys, each with
 * its value and the index of its last write, plus the membership as of the
 * applied index. Its serialized form is the snapshot a node saves and ships.
 * Runs on the simulator's thread.
 */
#include "sim.h"

#include <string.h>

#include "kv_err.h"

#define SIM_SM_MAGIC 0x53494d31u /* "SIM1" */
#define SIM_SM_BYTES (4u + 8u + SIM_KEYS * 16u)

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void sim_config_apply(struct raft_config *c, uint8_t op, uint64_t id, uint64_t inc, uint8_t flags)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		if (c->members[i].id == id)
			break;
	if (op == RAFT_CONFIG_ADD_LEARNER && i == c->n && c->n < RAFT_NODES_MAX) {
		c->members[c->n] = (struct raft_member){
		    .id = id, .role = RAFT_LEARNER, .flags = flags, .incarnation = inc};
		c->n++;
	} else if (op == RAFT_CONFIG_PROMOTE && i < c->n) {
		c->members[i].role = RAFT_VOTER;
		c->members[i].flags = 0;
	} else if (op == RAFT_CONFIG_BIND && i < c->n && c->members[i].incarnation == 0) {
		c->members[i].incarnation = inc;
	} else if (op == RAFT_CONFIG_REJOIN && i < c->n) {
		if (c->members[i].role == RAFT_VOTER)
			c->members[i].flags = RAFT_CONFIG_FLAG_PROMOTE;
		c->members[i].role = RAFT_LEARNER;
		c->members[i].incarnation = inc;
	} else if (op == RAFT_CONFIG_REMOVE && i < c->n) {
		c->members[i] = c->members[c->n - 1];
		c->n--;
	}
}

int sim_config_equal(const struct raft_config *a, const struct raft_config *b)
{
	/* Members past n may hold anything. */
	if (a->n != b->n)
		return 0;
	for (uint32_t i = 0; i < a->n; i++)
		if (a->members[i].id != b->members[i].id ||
		    a->members[i].role != b->members[i].role ||
		    a->members[i].incarnation != b->members[i].incarnation ||
		    a->members[i].flags != b->members[i].flags)
			return 0;
	return 1;
}

uint32_t sim_config_voters(const struct raft_config *c)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->n; i++)
		n += c->members[i].role == RAFT_VOTER;
	return n;
}

int sim_config_role(const struct raft_config *c, uint64_t id)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->members[i].id == id)
			return c->members[i].role;
	return 0;
}

void sim_sm_reset(struct sim_sm *sm, const struct sim_snap *s)
{
	memset(sm, 0, sizeof(*sm));
	sm->config = s->config;
}

int sim_sm_apply(struct sim_sm *sm, const struct sim_entry *e)
{
	if (e->type == RAFT_ENTRY_COMMAND) {
		if (e->len != 9 || e->data[0] >= SIM_KEYS)
			return KV_EPROTO;
		sm->value[e->data[0]] = get64(e->data + 1);
		sm->mod_index[e->data[0]] = e->index;
	} else if (e->type == RAFT_ENTRY_CONFIG) {
		if (e->len < RAFT_CONFIG_CHANGE_BYTES)
			return KV_EPROTO;
		sim_config_apply(&sm->config, e->data[0], get64(e->data + 1), get64(e->data + 9),
		                 e->data[17]);
	} else if (e->type != RAFT_ENTRY_NOOP) {
		return KV_EPROTO;
	}
	sm->applied = e->index;
	sm->applied_term = e->term;
	return 0;
}

void sim_sm_serialize(const struct sim_sm *sm, uint32_t pad, struct sim_snap *out)
{
	uint8_t *p = out->bytes;

	out->index = sm->applied;
	out->term = sm->applied_term;
	out->config = sm->config;
	/* Padding (sim_chunk.c) starts after bytes[], which is zero past the state. */
	out->size = pad ? SIM_SNAP_BYTES_MAX + pad : SIM_SM_BYTES;
	memset(p + SIM_SM_BYTES, 0, SIM_SNAP_BYTES_MAX - SIM_SM_BYTES);
	p[0] = (uint8_t)(SIM_SM_MAGIC >> 24);
	p[1] = (uint8_t)(SIM_SM_MAGIC >> 16);
	p[2] = (uint8_t)(SIM_SM_MAGIC >> 8);
	p[3] = (uint8_t)SIM_SM_MAGIC;
	put64(p + 4, sm->applied);
	for (uint32_t k = 0; k < SIM_KEYS; k++) {
		put64(p + 12 + 16 * k, sm->value[k]);
		put64(p + 20 + 16 * k, sm->mod_index[k]);
	}
}

int sim_sm_load(struct sim_sm *sm, const struct sim_snap *s)
{
	const uint8_t *p = s->bytes;

	sim_sm_reset(sm, s);
	sm->applied = s->index;
	sm->applied_term = s->term;
	if (s->size == 0 && s->index == 0)
		return 0; /* the empty state of a new cluster */
	if ((s->size != SIM_SM_BYTES && s->size <= SIM_SNAP_BYTES_MAX) ||
	    (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]) !=
	        SIM_SM_MAGIC ||
	    get64(p + 4) != s->index)
		return KV_ECORRUPT;
	for (uint32_t k = 0; k < SIM_KEYS; k++) {
		sm->value[k] = get64(p + 12 + 16 * k);
		sm->mod_index[k] = get64(p + 20 + 16 * k);
	}
	return 0;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

uint64_t sim_sm_hash(const struct sim_sm *sm)
{
	uint64_t h = 1469598103934665603ull;

	for (uint32_t k = 0; k < SIM_KEYS; k++)
		h = mix(mix(h, sm->value[k]), sm->mod_index[k]);
	return h;
}

uint64_t sim_entry_hash(const struct sim_entry *e)
{
	uint64_t h = mix(mix(mix(7, e->term), e->index), ((uint64_t)e->type << 8) | e->len);

	for (uint32_t i = 0; i < e->len; i++)
		h = mix(h, e->data[i]);
	return h;
}
