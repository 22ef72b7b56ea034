/*
 * raft_identity.c - incarnations: which voters count, and the changes a
 * leader makes by itself so that a node that lost its disk heals safely.
 *
 * Every node runs on a data directory with an incarnation (raft_options),
 * carried in each message it sends. The configuration records each
 * member's incarnation (0 until the leader first hears from it: BIND). A
 * voter counts toward a vote, commit, read or CheckQuorum quorum only when
 * it is heard with the incarnation the configuration records: a node that
 * comes back with an empty disk has another incarnation, so it never helps
 * elect a leader or commit an entry it does not hold (the lost-disk case of
 * Raft, where an acknowledged write would otherwise be lost). The one
 * exception is the very first election of a cluster, before any incarnation
 * is recorded: while its configuration holds a voter not recorded yet (a new
 * cluster, one restored from a backup, or one whose first leader lost its
 * leadership before it recorded everyone), a candidate counts the votes of
 * voters not recorded, and may campaign itself unrecorded, but then needs
 * every voter's vote (raft_votes_needed). Every voter then compares logs
 * with it, so it holds whatever any of them holds; and a voter not recorded
 * never counted toward a commit (raft_member_counts), so its disk holds
 * nothing that must survive. An empty node cannot tell whether it is new or
 * lost its disk; if any voter holds data, that voter refuses the empty
 * candidate (its log is longer), so a wiped node can never start a cluster
 * over while one copy survives. The price: until every voter is recorded,
 * an election needs all of them up.
 *
 * The leader, on hearing a member with an incarnation the configuration
 * does not hold, records it (BIND, when none is recorded) or replaces the
 * member (REJOIN: it becomes a learner with the new incarnation), and
 * promotes learners flagged RAFT_CONFIG_FLAG_PROMOTE once caught up. BIND
 * changes no voter set, so it does not wait for earlier changes to commit;
 * REJOIN and PROMOTE are ordinary single-server changes (one at a time).
 * Runs on the thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"

#include <string.h>

int raft_member_counts(const struct raft_member *mb, uint64_t heard)
{
	return mb->role == RAFT_VOTER && mb->incarnation != 0 && mb->incarnation == heard;
}

/*
 * Nothing after the snapshot: a brand-new node, one seeded from a backup
 * (every node of the new cluster at the same snapshot), or one whose disk
 * was lost.
 */
static int raft_log_never_written(const struct raft *r)
{
	return r->log.last_index == r->log.snap_index;
}

int raft_self_counts(const struct raft *r)
{
	const struct raft_member *me = raft_config_find(&r->config, r->opt.id);

	if (me == NULL || me->role != RAFT_VOTER)
		return 0;
	if (me->incarnation == 0)
		return raft_log_never_written(r); /* the cluster's first election */
	return raft_member_counts(me, r->opt.incarnation) || raft_bug_wiped_votes();
}

int raft_self_campaigns(const struct raft *r)
{
	const struct raft_member *me = raft_config_find(&r->config, r->opt.id);

	if (raft_bug_first_leader_lost_stalls())
		return raft_self_counts(r);
	return raft_self_counts(r) ||
	       (me != NULL && me->role == RAFT_VOTER && me->incarnation == 0);
}

int raft_vote_counts(const struct raft *r, uint64_t id, uint64_t heard)
{
	const struct raft_member *mb = raft_config_find(&r->config, id);

	if (mb == NULL || mb->role != RAFT_VOTER)
		return 0;
	if (raft_bug_wiped_votes())
		return 1;         /* planted: any voter's vote, whatever disk it runs on */
	if (mb->incarnation == 0) /* then every voter's vote is needed */
		return !raft_bug_first_leader_lost_stalls() || raft_log_never_written(r);
	return raft_member_counts(mb, heard);
}

uint32_t raft_votes_needed(const struct raft *r)
{
	uint32_t voters = raft_config_voters(&r->config);

	if (raft_bug_wiped_votes())
		return (uint32_t)raft_quorum(voters);
	for (uint32_t i = 0; i < r->config.n; i++)
		if (r->config.members[i].role == RAFT_VOTER &&
		    r->config.members[i].incarnation == 0)
			return voters; /* a voter not recorded: every voter */
	return (uint32_t)raft_quorum(voters);
}

int raft_self_replaced(const struct raft *r)
{
	const struct raft_member *me = raft_config_find(&r->config, r->opt.id);

	if (raft_bug_wiped_votes())
		return 0;
	return me != NULL && me->incarnation != 0 && me->incarnation != r->opt.incarnation;
}

void raft_identity_heard(struct raft *r, const struct raft_msg *m)
{
	struct raft_progress *pr;

	if (r->role != RAFT_LEADER || m->incarnation == 0)
		return;
	pr = raft_progress_find(r, m->from);
	if (pr == NULL || pr->incarnation == m->incarnation)
		return;
	if (pr->incarnation != 0) {
		/* another disk: what the old one acknowledged is gone */
		uint64_t id = pr->id;

		memset(pr, 0, sizeof(*pr));
		pr->id = id;
		pr->next = r->log.last_index + 1;
		pr->state = RAFT_PR_PROBE;
	}
	pr->incarnation = m->incarnation;
}

/* Appends the change ch as the leader's own CONFIG entry. */
static void raft_identity_append(struct raft *r, const struct raft_config_change *ch)
{
	uint8_t *data = r->own_cfg[r->u->n_entries];

	raft_config_change_encode(ch, data);
	if (raft_leader_append(r, RAFT_ENTRY_CONFIG, data, RAFT_CONFIG_CHANGE_BYTES) == 0)
		raft_replicate_all(r);
}

/* The change member mb needs, heard with incarnation heard; op 0: none. */
static struct raft_config_change raft_identity_need(struct raft *r, const struct raft_member *mb,
                                                    uint64_t heard)
{
	struct raft_config_change ch = {.node = mb->id, .incarnation = heard};
	const struct raft_progress *pr = raft_progress_find(r, mb->id);

	if (heard == 0)
		return ch;
	if (mb->incarnation == 0)
		ch.op = RAFT_CONFIG_BIND;
	else if (mb->incarnation != heard && mb->id != r->opt.id)
		ch.op = RAFT_CONFIG_REJOIN;
	else if (mb->role == RAFT_LEARNER && (mb->flags & RAFT_CONFIG_FLAG_PROMOTE) && pr != NULL &&
	         pr->match >= r->commit && mb->incarnation == heard)
		ch.op = RAFT_CONFIG_PROMOTE;
	return ch;
}

/*
 * A leader the configuration records with another incarnation (its disk was
 * lost, then it caught up and won an election on the others' votes alone)
 * cannot re-bind itself: only another leader turns it into a learner and
 * promotes it. So it hands leadership to the most caught-up voter.
 */
static int raft_identity_self_replaced(struct raft *r)
{
	const struct raft_member *me = raft_config_find(&r->config, r->opt.id);

	if (me == NULL || me->incarnation == 0 || me->incarnation == r->opt.incarnation ||
	    raft_config_voters(&r->config) < 2)
		return 0;
	if (r->transfer_target == 0)
		(void)raft_transfer_start(r, 0); /* refused: tried again at the next step */
	return 1;
}

void raft_identity_step(struct raft *r)
{
	if (r->role != RAFT_LEADER || r->transfer_target != 0 || r->u->n_entries >= 2 ||
	    raft_log_room(&r->log) == 0)
		return;
	if (raft_identity_self_replaced(r))
		return;
	for (uint32_t i = 0; i < r->config.n; i++) {
		const struct raft_member *mb = &r->config.members[i];
		const struct raft_progress *pr = raft_progress_find(r, mb->id);
		uint64_t heard = mb->id == r->opt.id ? r->opt.incarnation
		                 : pr                ? pr->incarnation
		                                     : 0;
		struct raft_config_change ch = raft_identity_need(r, mb, heard);

		if (ch.op == 0)
			continue;
		if (ch.op != RAFT_CONFIG_BIND && raft_membership_change_allowed(r))
			continue; /* REJOIN and PROMOTE wait for the last change to commit */
		if (ch.op == RAFT_CONFIG_REJOIN && mb->role == RAFT_VOTER &&
		    raft_config_voters(&r->config) == 1)
			continue;
		raft_identity_append(r, &ch);
		return;
	}
}
