/*
 * sim_world.c - one simulated cluster and the run of one seed: set up the
 * nodes, pop events in time order and dispatch them, heal after the fault
 * phase and wait (bounded) for liveness. Allocation happens only in
 * sim_world_new(); raft_new() runs on boots. Simulator thread.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "kv_assert.h"
#include "kv_err.h"

#define SIM_FAULT_MS    10000u /* at least this much simulated time with faults */
#define SIM_LIVENESS_MS 10000u /* after healing: a leader and a committed fresh write */

int sim_world_new(struct sim_world **out)
{
	struct sim_world *w = calloc(1, sizeof(*w));
	uint32_t s = 0;

	if (!w)
		return KV_ENOMEM;
	if (sim_chunk_init() != 0)
		goto out_free_world;
	w->boot_entries = calloc(SIM_LOG_CAP, sizeof(*w->boot_entries));
	if (!w->boot_entries)
		goto out_free_world;
	if (sim_net_new(&w->net) != 0)
		goto out_free_boot;
	if (sim_check_new(&w->check) != 0)
		goto out_free_net;
	for (s = 0; s < SIM_SLOTS_MAX; s++)
		if (sim_disk_new(&w->nodes[s].disk) != 0)
			goto out_free_disks;
	*out = w;
	return 0;
out_free_disks:
	while (s-- > 0)
		sim_disk_free(&w->nodes[s].disk);
	sim_check_free(&w->check);
out_free_net:
	sim_net_free(&w->net);
out_free_boot:
	free(w->boot_entries);
out_free_world:
	free(w);
	return KV_ENOMEM;
}

static void nodes_down(struct sim_world *w)
{
	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++) {
		raft_destroy(&w->nodes[s].raft);
		w->nodes[s].state = SIM_NODE_OFF;
	}
}

void sim_world_destroy(struct sim_world **wp)
{
	struct sim_world *w = *wp;

	if (!w)
		return;
	nodes_down(w);
	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++)
		sim_disk_free(&w->nodes[s].disk);
	sim_check_free(&w->check);
	sim_net_free(&w->net);
	free(w->boot_entries);
	free(w);
	*wp = NULL;
}

void sim_world_trace(struct sim_world *w, uint8_t kind, uint32_t slot, uint64_t a, uint64_t b,
                     uint64_t c, uint64_t d)
{
	sim_trace_add(&w->trace, w->now_ms, kind, (uint8_t)slot, a, b, c, d);
}

static void world_reset(struct sim_world *w, uint64_t seed, uint32_t nodes)
{
	w->seed = seed;
	w->n_initial = nodes;
	w->rng.s = seed * 0x2545f4914f6cdd1dull + 0x1234567;
	w->now_ms = 0;
	w->healed = 0;
	w->steps = 0;
	w->trace.n = 0;
	nodes_down(w);
	sim_net_reset(&w->net);
	sim_check_reset(&w->check);
	sim_client_reset(&w->client);
	w->client.next_slot = nodes;
	sim_fault_choose(w);
	memset(&w->initial, 0, sizeof(w->initial));
	for (uint32_t i = 0; i < nodes; i++)
		w->initial.members[w->initial.n++] = (struct raft_member){
		    .id = i + 1, .role = RAFT_VOTER, .incarnation = sim_first_incarnation(i)};
	w->wipes_done = 0;
	w->wiped_slot = -1;
	w->fault_end_ms = SIM_FAULT_MS + sim_rng_below(&w->rng, 1000);
	w->live_deadline_ms = w->fault_end_ms + SIM_LIVENESS_MS;
}

static void node_reset(struct sim_world *w, uint32_t s)
{
	struct sim_node *nd = &w->nodes[s];

	nd->id = s + 1;
	nd->boot = 0;
	nd->slow_disk = 0;
	nd->removed = 0;
	nd->incarnation = sim_first_incarnation(s);
	nd->lost_last = 0;
	memset(&nd->st, 0, sizeof(nd->st));
	nd->rate_permille = w->faults.drift ? (uint32_t)sim_rng_range(&w->rng, 900, 1100) : 1000;
	nd->clock_base_ms = sim_rng_range(&w->rng, 1000, 1000000);
	sim_disk_format(&nd->disk, &w->initial);
}

static void deliver(struct sim_world *w, const struct sim_ev *ev)
{
	struct sim_msg_slot *ms = &w->net.slots[ev->gen];
	struct sim_node *nd = &w->nodes[ev->node];
	uint32_t from = sim_slot_of(ms->m.from);
	struct raft_event re = {.type = RAFT_EVENT_RECEIVE, .msg = &ms->m};

	/* a wiped node's old process is gone with its disk: what it sent dies with it */
	if (nd->state != SIM_NODE_UP || w->net.blocked[from][ev->node] ||
	    ms->m.incarnation != w->nodes[from].incarnation) {
		w->net.dropped++;
		sim_world_trace(w, SIM_TR_DROP, ev->node, ms->m.type, ms->m.from, 0, 0);
	} else {
		w->net.delivered++;
		sim_world_trace(w, SIM_TR_DELIVER, ev->node, ms->m.type, ms->m.from, ms->m.term,
		                raft_msg_n_entries(&ms->m));
		sim_node_step(w, ev->node, &re, &w->update);
	}
	/* The update has been executed: the borrowed message may go. */
	sim_net_release(&w->net, ev->gen);
}

static void dispatch(struct sim_world *w, const struct sim_ev *ev)
{
	struct sim_node *nd = &w->nodes[ev->node];
	struct raft_event re = {.type = RAFT_EVENT_TICK};

	switch (ev->kind) {
	case SIM_EV_DELIVER:
		deliver(w, ev);
		break;
	case SIM_EV_TICK:
		if (nd->state != SIM_NODE_UP || ev->gen != nd->boot)
			break;
		sim_node_step(w, ev->node, &re, &w->update);
		if (nd->state == SIM_NODE_UP)
			sim_net_push(&w->net, w->now_ms + sim_rng_range(&w->rng, 8, 12),
			             SIM_EV_TICK, ev->node, nd->boot);
		break;
	case SIM_EV_SYNC:
		if (nd->state == SIM_NODE_UP && ev->gen == nd->boot)
			sim_node_sync_done(w, ev->node);
		break;
	case SIM_EV_RESTART:
		if (nd->state == SIM_NODE_DOWN && ev->gen == nd->boot && !nd->removed &&
		    sim_node_start(w, ev->node) != 0)
			sim_check_fail(w, "node %u does not restart", ev->node + 1u);
		break;
	case SIM_EV_CLIENT:
		sim_client_act(w);
		sim_net_push(&w->net,
		             w->now_ms + sim_rng_range(&w->rng, 1, w->faults.client_gap_ms),
		             SIM_EV_CLIENT, 0, 0);
		break;
	case SIM_EV_FAULT:
		if (ev->gen == 1) {
			w->healed = 1;
			sim_fault_heal(w);
		} else if (!w->healed) {
			sim_fault_act(w);
			sim_net_push(&w->net, w->now_ms + sim_rng_range(&w->rng, 50, 1200),
			             SIM_EV_FAULT, 0, 0);
		}
		break;
	case SIM_EV_SM_SYNC:
		if (nd->state == SIM_NODE_UP && ev->gen == nd->boot)
			sim_store_sync(w, ev->node);
		break;
	case SIM_EV_FLUSH:
		if (nd->state == SIM_NODE_UP && ev->gen == nd->boot && !w->check.violated)
			sim_node_flush(w, ev->node);
		break;
	case SIM_EV_IMAGE:
		if (nd->state == SIM_NODE_UP && ev->gen == nd->boot && !w->check.violated)
			sim_store_image_done(w, ev->node);
		break;
	default:
		KV_ASSERT(0);
	}
}

/* Nodes whose removal is committed stop after the step that committed it. */
static void stop_removed(struct sim_world *w)
{
	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++) {
		struct sim_node *nd = &w->nodes[s];

		if (nd->removed && nd->state == SIM_NODE_UP)
			sim_node_stop(w, s);
		else if (nd->removed && nd->state == SIM_NODE_DOWN)
			nd->state = SIM_NODE_OFF;
	}
}

int sim_world_run(struct sim_world *w, uint64_t seed, uint32_t nodes)
{
	struct sim_ev ev;
	int live = 0;

	world_reset(w, seed, nodes);
	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++) {
		node_reset(w, s);
		if (s < nodes && sim_node_start(w, s) != 0)
			sim_check_fail(w, "node %u does not boot", s + 1);
	}
	sim_net_push(&w->net, 1, SIM_EV_CLIENT, 0, 0);
	sim_net_push(&w->net, sim_rng_range(&w->rng, 100, 1000), SIM_EV_FAULT, 0, 0);
	sim_net_push(&w->net, w->fault_end_ms, SIM_EV_FAULT, 0, 1);
	while (!w->check.violated && !live && sim_net_pop(&w->net, &ev)) {
		if (ev.at_ms > w->live_deadline_ms) {
			sim_check_fail(w,
			               "liveness: no leader committed and applied a fresh write on "
			               "every live voter within %u ms of healing",
			               SIM_LIVENESS_MS);
			break;
		}
		w->now_ms = ev.at_ms;
		dispatch(w, &ev);
		stop_removed(w);
		if (w->healed && ev.kind == SIM_EV_CLIENT)
			live = sim_client_live(w);
	}
	if (live && w->now_ms - w->fault_end_ms > w->stats.live_ms_max)
		w->stats.live_ms_max = w->now_ms - w->fault_end_ms;
	if (!live && !w->check.violated)
		sim_check_fail(w, "simulator: the event queue ran dry");
	/* The nodes stay as they are for the report; the next seed or destroy takes them down. */
	return w->check.violated;
}
