/*
 * sim_fault.c - which faults a seed gets and when: partitions (symmetric,
 * one-way, minority leader, bridge), message loss, duplication and delay,
 * crashes with restarts, slow disks and clock drift, lost disks (a node
 * wiped and restarted empty, with a new incarnation); and healing them all
 * for the liveness phase. Simulator thread.
 */
#include "sim.h"

#include <string.h>

enum { PART_SYMMETRIC = 1, PART_ONE_WAY, PART_MINORITY_LEADER, PART_BRIDGE };

void sim_fault_choose(struct sim_world *w)
{
	struct sim_faults *f = &w->faults;
	struct sim_rng *g = &w->rng;

	memset(f, 0, sizeof(*f));
	f->partitions = sim_rng_chance(g, 700);
	f->crashes = sim_rng_chance(g, 600);
	f->slow_disks = sim_rng_chance(g, 400);
	f->drift = sim_rng_chance(g, 600);
	f->membership = sim_rng_chance(g, 400);
	f->transfers = sim_rng_chance(g, 400);
	f->wipes = sim_rng_chance(g, 400);
	f->loss_permille = sim_rng_chance(g, 500) ? (uint32_t)sim_rng_range(g, 1, 150) : 0;
	f->dup_permille = sim_rng_chance(g, 300) ? (uint32_t)sim_rng_range(g, 1, 80) : 0;
	f->delay_max_ms = sim_rng_chance(g, 500) ? sim_rng_range(g, 2, 80) : 5;
	f->client_gap_ms = sim_rng_range(g, 2, 25);
	f->snap_every = (uint32_t)sim_rng_range(g, 16, 64);
	/* Some seeds ship snapshots of two to four chunks. */
	f->snap_pad = sim_rng_chance(g, 250)
	                  ? (uint32_t)sim_rng_range(g, RAFT_SNAPSHOT_CHUNK_BYTES,
	                                            3 * RAFT_SNAPSHOT_CHUNK_BYTES + 1000)
	                  : 0;
	w->net.loss_permille = f->loss_permille;
	w->net.dup_permille = f->dup_permille;
	w->net.delay_min_ms = 1;
	w->net.delay_max_ms = f->delay_max_ms;
}

/* Slots that are members (running or crashed) as a bit mask. */
static uint32_t live_mask(struct sim_world *w)
{
	uint32_t m = 0;

	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++)
		if (w->nodes[s].state != SIM_NODE_OFF)
			m |= 1u << s;
	return m;
}

static void block_between(struct sim_world *w, uint32_t a, uint32_t b)
{
	for (uint32_t i = 0; i < SIM_SLOTS_MAX; i++)
		for (uint32_t j = 0; j < SIM_SLOTS_MAX; j++)
			if (((a >> i) & 1) && ((b >> j) & 1))
				w->net.blocked[i][j] = w->net.blocked[j][i] = 1;
}

static uint32_t random_subset(struct sim_world *w, uint32_t from)
{
	uint32_t m = 0;

	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++)
		if (((from >> s) & 1) && sim_rng_chance(&w->rng, 500))
			m |= 1u << s;
	return m;
}

static uint32_t leader_bit(struct sim_world *w)
{
	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++)
		if (w->nodes[s].state == SIM_NODE_UP && w->nodes[s].st.role == RAFT_LEADER)
			return 1u << s;
	return 0;
}

static void partition(struct sim_world *w)
{
	uint32_t all = live_mask(w), a = 0, b = 0;
	uint64_t kind = sim_rng_range(&w->rng, PART_SYMMETRIC, PART_BRIDGE);

	memset(w->net.blocked, 0, sizeof(w->net.blocked));
	if (kind == PART_SYMMETRIC) {
		a = random_subset(w, all);
		block_between(w, a, all & ~a);
	} else if (kind == PART_ONE_WAY) {
		for (uint32_t k = 0; k < 3; k++) {
			uint32_t i = (uint32_t)sim_rng_below(&w->rng, SIM_SLOTS_MAX);
			uint32_t j = (uint32_t)sim_rng_below(&w->rng, SIM_SLOTS_MAX);

			w->net.blocked[i][j] = 1;
		}
	} else if (kind == PART_MINORITY_LEADER) {
		/* The leader with at most one other node, away from the rest. */
		a = leader_bit(w);
		if (sim_rng_chance(&w->rng, 500))
			a |= 1u << sim_rng_below(&w->rng, SIM_SLOTS_MAX);
		block_between(w, a & all, all & ~a);
	} else {
		/* A bridge: one node hears both halves, the halves do not hear each other. */
		uint32_t bridge = 1u << sim_rng_below(&w->rng, SIM_SLOTS_MAX);

		a = random_subset(w, all & ~bridge);
		b = all & ~bridge & ~a;
		block_between(w, a, b);
	}
	w->stats.partitions++;
	sim_world_trace(w, SIM_TR_PARTITION, 0, kind, a, b, 0);
}

static void crash(struct sim_world *w)
{
	uint32_t start = (uint32_t)sim_rng_below(&w->rng, SIM_SLOTS_MAX);
	int all = sim_rng_chance(&w->rng, 30);

	for (uint32_t i = 0; i < SIM_SLOTS_MAX; i++) {
		uint32_t s = (start + i) % SIM_SLOTS_MAX;

		if (w->nodes[s].state != SIM_NODE_UP)
			continue;
		sim_node_crash(w, s);
		sim_net_push(&w->net, w->now_ms + sim_rng_range(&w->rng, 10, 1500), SIM_EV_RESTART,
		             (uint8_t)s, w->nodes[s].boot);
		if (!all)
			return;
	}
}

/*
 * The node most likely to hold entries the others lack: the follower with
 * the longest durable log (half the time), or any member.
 */
static uint32_t wipe_target(struct sim_world *w)
{
	uint32_t best = (uint32_t)sim_rng_below(&w->rng, SIM_SLOTS_MAX);
	uint64_t best_last = 0;

	if (sim_rng_chance(&w->rng, 500))
		return best;
	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++) {
		const struct sim_node *nd = &w->nodes[s];

		if (nd->state == SIM_NODE_OFF || nd->removed ||
		    (nd->state == SIM_NODE_UP && nd->st.role == RAFT_LEADER))
			continue;
		if (nd->disk.dlog.last >= best_last) {
			best = s;
			best_last = nd->disk.dlog.last;
		}
	}
	return best;
}

/* The leader's slot, or -1. */
static int leader_slot(struct sim_world *w)
{
	uint32_t b = leader_bit(w);

	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++)
		if (b == 1u << s)
			return (int)s;
	return -1;
}

/* Every member, running or down, last saw the leader's configuration. */
static int config_settled(struct sim_world *w)
{
	int lead = leader_slot(w);
	const struct raft_status *ls;

	if (lead < 0)
		return 0;
	ls = &w->nodes[lead].st;
	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++) {
		const struct sim_node *nd = &w->nodes[s];

		if (nd->state == SIM_NODE_OFF || nd->removed)
			continue;
		if (!sim_config_equal(&nd->st.config, &ls->config))
			return 0;
	}
	return 1;
}

int sim_fault_rejoining(struct sim_world *w)
{
	int lead = leader_slot(w);

	if (w->wiped_slot < 0)
		return 0;
	if (lead < 0)
		return 1;
	const struct raft_config *c = &w->nodes[lead].st.config;
	const struct sim_node *nd = &w->nodes[w->wiped_slot];

	for (uint32_t i = 0; i < c->n; i++)
		if (c->members[i].id == nd->id)
			return !(c->members[i].role == RAFT_VOTER &&
			         c->members[i].incarnation == nd->incarnation) ||
			       w->nodes[lead].st.commit_index < w->nodes[lead].st.last_index;
	return 0;
}

/*
 * A lost disk (F15): the node stops, comes back with an empty data directory
 * (the initial configuration, no incarnation recorded, as raftd boots from
 * --peers) and a new incarnation. Half the time the leader is cut off at the
 * same moment, so the others must elect without it: the wiped node's vote
 * must not count.
 */
static void wipe(struct sim_world *w)
{
	uint32_t s = wipe_target(w), lead = leader_bit(w);
	struct sim_node *nd = &w->nodes[s];
	struct raft_config seed_config = w->initial;

	/* only on a settled configuration: a lost disk on top of changes in flight can stall */
	if (nd->state == SIM_NODE_OFF || nd->removed || !config_settled(w))
		return;
	if (nd->state == SIM_NODE_UP)
		sim_node_crash(w, s);
	nd->lost_last =
	    nd->disk.dlog.last > nd->disk.dsnap.index ? nd->disk.dlog.last : nd->disk.dsnap.index;
	for (uint32_t i = 0; i < seed_config.n; i++)
		seed_config.members[i].incarnation = 0;
	sim_disk_format(&nd->disk, &seed_config);
	nd->incarnation += 100000u;
	w->wipes_done++;
	w->wiped_slot = (int)s;
	w->stats.wipes++;
	sim_world_trace(w, SIM_TR_WIPE, s, nd->incarnation, 0, 0, 0);
	sim_net_push(&w->net, w->now_ms + sim_rng_range(&w->rng, 10, 800), SIM_EV_RESTART,
	             (uint8_t)s, nd->boot);
	if (lead != 0 && sim_rng_chance(&w->rng, 500)) {
		memset(w->net.blocked, 0, sizeof(w->net.blocked));
		block_between(w, lead, live_mask(w) & ~lead);
		sim_world_trace(w, SIM_TR_PARTITION, 0, PART_MINORITY_LEADER, lead, 0, 0);
	}
}

void sim_fault_act(struct sim_world *w)
{
	struct sim_faults *f = &w->faults;
	uint64_t r = sim_rng_below(&w->rng, 100);

	if (f->wipes && w->wipes_done < SIM_WIPES_MAX && sim_rng_chance(&w->rng, 150)) {
		wipe(w);
		return;
	}
	if (r < 40 && f->partitions) {
		if (sim_rng_chance(&w->rng, 350)) {
			memset(w->net.blocked, 0, sizeof(w->net.blocked));
			sim_world_trace(w, SIM_TR_PARTITION, 0, 0, 0, 0, 0);
		} else {
			partition(w);
		}
	} else if (r < 75 && f->crashes) {
		crash(w);
	} else if (r < 90 && f->slow_disks) {
		struct sim_node *nd = &w->nodes[sim_rng_below(&w->rng, SIM_SLOTS_MAX)];

		nd->slow_disk = !nd->slow_disk;
	} else if (f->loss_permille || f->dup_permille) {
		/* Bursts: the rates change over the run. */
		w->net.loss_permille = (uint32_t)sim_rng_range(&w->rng, 0, f->loss_permille);
		w->net.dup_permille = (uint32_t)sim_rng_range(&w->rng, 0, f->dup_permille);
	}
}

void sim_fault_heal(struct sim_world *w)
{
	memset(w->net.blocked, 0, sizeof(w->net.blocked));
	w->net.loss_permille = 0;
	w->net.dup_permille = 0;
	w->net.delay_min_ms = 1;
	w->net.delay_max_ms = 5;
	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++) {
		struct sim_node *nd = &w->nodes[s];

		nd->slow_disk = 0;
		if (nd->state == SIM_NODE_DOWN && !nd->removed && sim_node_start(w, s) != 0)
			sim_check_fail(w, "node %u does not restart", s + 1);
	}
	sim_world_trace(w, SIM_TR_HEAL, 0, 0, 0, 0, 0);
}
