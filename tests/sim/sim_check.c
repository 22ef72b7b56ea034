/*
 * sim_check.c - Raft's safety properties, checked as the simulation runs.
 *
 * Election safety (one leader per term over the run), leader append-only,
 * log matching (on durable logs: one (index, term) names one entry with one
 * predecessor term), leader completeness (a new leader holds every entry any
 * node applied), state machine safety (same entry and same state at each
 * index on every node), commit monotonic within a boot, no truncation at or
 * below the commit index, votes and acknowledgements only once durable, and
 * nothing acknowledged to a client before it is durable on a quorum.
 * The first violation of a seed is kept in check.what. Simulator thread.
 */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_err.h"

int sim_check_new(struct sim_check *c)
{
	memset(c, 0, sizeof(*c));
	c->leaders = calloc(SIM_TERMS_MAX, 1);
	c->gidx = calloc(SIM_INDEX_MAX, sizeof(*c->gidx));
	c->match = calloc(SIM_MATCH_SLOTS, sizeof(*c->match));
	if (!c->leaders || !c->gidx || !c->match) {
		sim_check_free(c);
		return KV_ENOMEM;
	}
	return 0;
}

void sim_check_free(struct sim_check *c)
{
	free(c->leaders);
	free(c->gidx);
	free(c->match);
	memset(c, 0, sizeof(*c));
}

void sim_check_reset(struct sim_check *c)
{
	memset(c->leaders, 0, c->max_term + 1 < SIM_TERMS_MAX ? c->max_term + 1 : SIM_TERMS_MAX);
	memset(c->gidx, 0,
	       (c->max_committed + 1 < SIM_INDEX_MAX ? c->max_committed + 1 : SIM_INDEX_MAX) *
	           sizeof(*c->gidx));
	c->gen++; /* empties the log-matching table */
	c->max_term = 0;
	c->max_committed = 0;
	c->verified_commit = 0;
	c->violated = 0;
	c->what[0] = 0;
}

void sim_check_fail(struct sim_world *w, const char *fmt, ...)
{
	va_list ap;

	if (w->check.violated)
		return;
	w->check.violated = 1;
	va_start(ap, fmt);
	vsnprintf(w->check.what, sizeof(w->check.what), fmt, ap);
	va_end(ap);
}

#define U(x) ((unsigned long long)(x))

/* Leader completeness: a new leader holds every entry applied anywhere. */
static void check_new_leader(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_check *c = &w->check;

	if (nd->st.last_index < c->max_committed) {
		sim_check_fail(
		    w,
		    "leader completeness: node %llu leads term %llu with last index %llu "
		    "< committed %llu",
		    U(nd->id), U(nd->st.term), U(nd->st.last_index), U(c->max_committed));
		return;
	}
	for (uint64_t i = nd->st.snap_index + 1; i <= c->max_committed; i++) {
		uint64_t t = raft_term_at(nd->raft, i);

		if (c->gidx[i].term && t != c->gidx[i].term) {
			sim_check_fail(
			    w,
			    "leader completeness: node %llu leads term %llu with term %llu "
			    "at committed index %llu (committed term %llu)",
			    U(nd->id), U(nd->st.term), U(t), U(i), U(c->gidx[i].term));
			return;
		}
	}
}

static uint32_t durable_voters(struct sim_world *w, const struct raft_config *cfg, uint64_t index,
                               uint64_t term, uint32_t *voters)
{
	uint32_t n = 0;

	*voters = 0;
	for (uint32_t i = 0; i < cfg->n; i++) {
		uint64_t id = cfg->members[i].id;

		if (cfg->members[i].role != RAFT_VOTER || id == 0 || id > SIM_SLOTS_MAX)
			continue;
		(*voters)++;
		/*
		 * A disk lost after it acknowledged still counts for what it held:
		 * the leader counted a true ack (Raft cannot know of the loss until
		 * the node comes back; raft_identity.c keeps it from voting then).
		 */
		n += sim_disk_durable_has(&w->nodes[sim_slot_of(id)].disk, index, term) ||
		     index <= w->nodes[sim_slot_of(id)].lost_last;
	}
	return n;
}

/* A leader's commit index moved: the entry there must be durable on a quorum of its config. */
static void check_commit_durable(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	uint64_t c = nd->st.commit_index, t = raft_term_at(nd->raft, c);
	uint32_t voters, n = durable_voters(w, &nd->st.config, c, t, &voters);

	if (n * 2 <= voters) {
		sim_check_fail(
		    w,
		    "commit before quorum-durable: leader %llu of term %llu commits index "
		    "%llu (term %llu) durable on %u of %u voters",
		    U(nd->id), U(nd->st.term), U(c), U(t), n, voters);
		return;
	}
	if (c > w->check.verified_commit)
		w->check.verified_commit = c;
}

void sim_check_ack(struct sim_world *w, uint32_t slot, uint64_t index, uint64_t term)
{
	/* Commit indexes come from leaders, each checked quorum-durable as it moved. */
	if (index > w->check.verified_commit)
		sim_check_fail(
		    w,
		    "acknowledged before quorum-durable: node %llu acknowledges index %llu "
		    "term %llu, above every leader commit found quorum-durable (%llu)",
		    U(w->nodes[slot].id), U(index), U(term), U(w->check.verified_commit));
}

void sim_check_node(struct sim_world *w, uint32_t slot, const struct raft_status *before)
{
	struct sim_node *nd = &w->nodes[slot];
	struct sim_check *c = &w->check;
	const struct raft_status *st = &nd->st;

	if (st->role != before->role || st->term != before->term)
		sim_world_trace(w, SIM_TR_ROLE, slot, st->role, st->term, st->last_index,
		                st->commit_index);
	if (st->commit_index < nd->last_commit)
		sim_check_fail(w, "commit index of node %llu goes back from %llu to %llu",
		               U(nd->id), U(nd->last_commit), U(st->commit_index));
	nd->last_commit = st->commit_index;
	if (st->role != RAFT_LEADER)
		return;
	if (st->term >= SIM_TERMS_MAX) {
		sim_check_fail(w, "simulator limit: term %llu", U(st->term));
		return;
	}
	if (st->term > c->max_term)
		c->max_term = st->term;
	if (c->leaders[st->term] == 0) {
		c->leaders[st->term] = (uint8_t)(slot + 1);
		w->stats.leaders++;
	} else if (c->leaders[st->term] != slot + 1) {
		sim_check_fail(w, "election safety: nodes %u and %llu both lead term %llu",
		               c->leaders[st->term], U(nd->id), U(st->term));
		return;
	}
	if (before->role != RAFT_LEADER || before->term != st->term)
		check_new_leader(w, slot);
	/* Raft 5.4.2 (figure 8): a leader commits by counting only entries of its own term. */
	if (w->direct_checks && st->commit_index > before->commit_index &&
	    st->commit_index > st->snap_index &&
	    raft_term_at(nd->raft, st->commit_index) != st->term)
		sim_check_fail(
		    w,
		    "figure 8 commit rule: leader %llu of term %llu commits index %llu of "
		    "term %llu",
		    U(nd->id), U(st->term), U(st->commit_index),
		    U(raft_term_at(nd->raft, st->commit_index)));
}

/* Removing entries (after, last]: never at or below commit, never a committed entry. */
static void check_truncate(struct sim_world *w, uint32_t slot, const struct raft_status *before,
                           uint64_t after, const char *how)
{
	struct sim_node *nd = &w->nodes[slot];
	const struct sim_log *l = &nd->disk.vlog;
	uint64_t top = l->last < w->check.max_committed ? l->last : w->check.max_committed;

	if (after >= l->last)
		return;
	if (before->role == RAFT_LEADER && nd->st.role == RAFT_LEADER &&
	    before->term == nd->st.term)
		sim_check_fail(w,
		               "leader append-only: leader %llu of term %llu %s its log after %llu",
		               U(nd->id), U(before->term), how, U(after));
	if (after < before->commit_index)
		sim_check_fail(w, "node %llu %s its log after %llu below its commit index %llu",
		               U(nd->id), how, U(after), U(before->commit_index));
	for (uint64_t i = after + 1; i <= top; i++) {
		const struct sim_gidx *g = &w->check.gidx[i];

		if (g->term && sim_log_term_at(l, i) == g->term) {
			sim_check_fail(w, "node %llu %s committed index %llu (term %llu)",
			               U(nd->id), how, U(i), U(g->term));
			return;
		}
	}
}

void sim_check_update(struct sim_world *w, uint32_t slot, const struct raft_status *before,
                      const struct raft_update *up)
{
	struct sim_node *nd = &w->nodes[slot];
	const struct raft_hard_state *hs = &nd->disk.vhs;

	/*
	 * Before the update runs: its apply may acknowledge what this commit covers.
	 * A leader that removed itself steps down in the step that commits that.
	 */
	if ((nd->st.role == RAFT_LEADER ||
	     (before->role == RAFT_LEADER && before->term == nd->st.term)) &&
	    nd->st.commit_index > before->commit_index)
		check_commit_durable(w, slot);
	if (up->hard_state_changed) {
		if (up->hard_state.term < hs->term)
			sim_check_fail(w, "node %llu saves term %llu after term %llu", U(nd->id),
			               U(up->hard_state.term), U(hs->term));
		else if (up->hard_state.term == hs->term && hs->vote &&
		         up->hard_state.vote != hs->vote)
			sim_check_fail(w, "node %llu votes for %llu and %llu in term %llu",
			               U(nd->id), U(hs->vote), U(up->hard_state.vote), U(hs->term));
	}
	if (up->has_snapshot_install)
		return; /* the log is replaced; what follows applies to the new one */
	if (up->has_truncate)
		check_truncate(w, slot, before, up->truncate_after, "truncates");
	if (up->n_entries) {
		/* An append over existing entries with other terms truncates implicitly. */
		for (uint32_t i = 0; i < up->n_entries; i++) {
			uint64_t idx = up->entries[i].index;
			uint64_t last = up->has_truncate && up->truncate_after < nd->disk.vlog.last
			                    ? up->truncate_after
			                    : nd->disk.vlog.last;

			if (idx > last)
				break;
			if (sim_log_term_at(&nd->disk.vlog, idx) != up->entries[i].term) {
				check_truncate(w, slot, before, idx - 1, "overwrites");
				break;
			}
		}
	}
}

void sim_check_apply(struct sim_world *w, uint32_t slot, const struct sim_entry *e)
{
	struct sim_check *c = &w->check;
	struct sim_node *nd = &w->nodes[slot];
	struct sim_gidx *g;
	uint64_t eh = sim_entry_hash(e), sh = sim_sm_hash(&nd->sm);

	if (e->index >= SIM_INDEX_MAX) {
		sim_check_fail(w, "simulator limit: index %llu", U(e->index));
		return;
	}
	g = &c->gidx[e->index];
	if (g->term == 0) {
		g->term = e->term;
		g->entry_hash = eh;
		g->state_hash = sh;
		if (e->index > c->max_committed)
			c->max_committed = e->index;
		return;
	}
	if (g->term != e->term || g->entry_hash != eh)
		sim_check_fail(w,
		               "state machine safety: node %llu applies term %llu at index %llu, "
		               "another node applied term %llu there (or other data)",
		               U(nd->id), U(e->term), U(e->index), U(g->term));
	else if (g->state_hash != sh)
		sim_check_fail(w,
		               "state machine safety: node %llu's state after index %llu differs",
		               U(nd->id), U(e->index));
}

void sim_check_snapshot_state(struct sim_world *w, uint32_t slot)
{
	struct sim_node *nd = &w->nodes[slot];
	uint64_t x = nd->sm.applied;

	if (x == 0 || x >= SIM_INDEX_MAX || w->check.gidx[x].term == 0)
		return;
	if (w->check.gidx[x].term != nd->sm.applied_term ||
	    w->check.gidx[x].state_hash != sim_sm_hash(&nd->sm))
		sim_check_fail(w,
		               "state machine safety: node %llu's snapshot at index %llu term %llu "
		               "differs from the applied state",
		               U(nd->id), U(x), U(nd->sm.applied_term));
}

void sim_check_durable_append(struct sim_world *w, uint32_t slot, const struct sim_disk *d,
                              const struct sim_entry *e)
{
	struct sim_check *c = &w->check;
	uint64_t prev = sim_log_term_at(&d->dlog, e->index - 1);
	uint64_t eh = sim_entry_hash(e);
	uint64_t h = (e->index * 0x9e3779b97f4a7c15ull) ^ (e->term * 0xc2b2ae3d27d4eb4full);

	for (uint32_t probe = 0; probe < 64; probe++) {
		struct sim_match *m = &c->match[(h + probe) & (SIM_MATCH_SLOTS - 1)];

		if (m->gen != c->gen) {
			*m = (struct sim_match){.gen = c->gen,
			                        .index = e->index,
			                        .term = e->term,
			                        .entry_hash = eh,
			                        .prev_term = prev};
			return;
		}
		if (m->index != e->index || m->term != e->term)
			continue;
		if (m->entry_hash != eh || (m->prev_term && prev && m->prev_term != prev))
			sim_check_fail(
			    w,
			    "log matching: node %llu's durable log has index %llu term "
			    "%llu with other data or previous term %llu (elsewhere %llu)",
			    U(w->nodes[slot].id), U(e->index), U(e->term), U(prev),
			    U(m->prev_term));
		return;
	}
}

void sim_check_sent(struct sim_world *w, uint32_t slot, const struct raft_msg *m)
{
	const struct sim_disk *d = &w->nodes[slot].disk;

	if (!w->direct_checks)
		return;
	if (m->type == RAFT_MSG_VOTE_RESP && !m->u.vote_resp.reject &&
	    (d->dhs.term < m->term || (d->dhs.term == m->term && d->dhs.vote != m->to)))
		sim_check_fail(
		    w,
		    "node %llu grants its vote in term %llu to %llu before it is durable "
		    "(durable term %llu vote %llu)",
		    U(m->from), U(m->term), U(m->to), U(d->dhs.term), U(d->dhs.vote));
	if (m->type == RAFT_MSG_APPEND_RESP && !m->u.append_resp.reject &&
	    m->u.append_resp.match_index > d->dlog.last &&
	    m->u.append_resp.match_index > d->dsnap.index)
		sim_check_fail(w,
		               "node %llu acknowledges index %llu to %llu before it is durable "
		               "(durable last %llu)",
		               U(m->from), U(m->u.append_resp.match_index), U(m->to),
		               U(d->dlog.last));
}
