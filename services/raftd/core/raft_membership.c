/*
 * raft_membership.c - single-server membership changes and the configuration.
 *
 * A configuration takes effect as soon as its entry is appended (leader and
 * followers alike) and is recomputed from the window when the log is
 * truncated. The leader takes one change at a time, only after it has
 * committed an entry of its term; learners never vote nor count for quorum.
 * Which voters count (their incarnations) is raft_identity.c's.
 * Runs on the thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <string.h>

const struct raft_member *raft_config_find(const struct raft_config *cfg, uint64_t id)
{
	for (uint32_t i = 0; i < cfg->n; i++)
		if (cfg->members[i].id == id)
			return &cfg->members[i];
	return NULL;
}

int raft_config_is_voter(const struct raft_config *cfg, uint64_t id)
{
	const struct raft_member *m = raft_config_find(cfg, id);

	return m != NULL && m->role == RAFT_VOTER;
}

uint32_t raft_config_voters(const struct raft_config *cfg)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < cfg->n; i++)
		n += cfg->members[i].role == RAFT_VOTER;
	return n;
}

int raft_config_valid(const struct raft_config *cfg)
{
	if (cfg->n > RAFT_NODES_MAX)
		return 0;
	for (uint32_t i = 0; i < cfg->n; i++) {
		const struct raft_member *m = &cfg->members[i];

		if (m->id == 0 || (m->role != RAFT_VOTER && m->role != RAFT_LEARNER))
			return 0;
		for (uint32_t j = 0; j < i; j++)
			if (cfg->members[j].id == m->id)
				return 0;
	}
	return 1;
}

void raft_config_apply(struct raft_config *cfg, const struct raft_config_change *ch)
{
	struct raft_member *m = (struct raft_member *)raft_config_find(cfg, ch->node);

	switch (ch->op) {
	case RAFT_CONFIG_ADD_LEARNER:
		if (m == NULL && cfg->n < RAFT_NODES_MAX) {
			cfg->members[cfg->n] = (struct raft_member){.id = ch->node,
			                                            .role = RAFT_LEARNER,
			                                            .flags = ch->flags,
			                                            .incarnation = ch->incarnation};
			cfg->n++;
		}
		break;
	case RAFT_CONFIG_PROMOTE:
		if (m != NULL) {
			m->role = RAFT_VOTER;
			m->flags = 0;
		}
		break;
	case RAFT_CONFIG_BIND:
		if (m != NULL && m->incarnation == 0)
			m->incarnation = ch->incarnation;
		break;
	case RAFT_CONFIG_REJOIN:
		if (m != NULL) {
			if (m->role == RAFT_VOTER)
				m->flags |= RAFT_CONFIG_FLAG_PROMOTE;
			m->role = RAFT_LEARNER;
			m->incarnation = ch->incarnation;
		}
		break;
	case RAFT_CONFIG_REMOVE:
		if (m != NULL) {
			*m = cfg->members[cfg->n - 1];
			cfg->n--;
		}
		break;
	default:
		break;
	}
}

void raft_config_change_apply(struct raft_config *c, const struct raft_config_change *ch)
{
	raft_config_apply(c, ch);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void raft_config_change_encode(const struct raft_config_change *ch, uint8_t *out)
{
	out[0] = ch->op;
	put_be64(out + 1, ch->node);
	put_be64(out + 9, ch->incarnation);
	out[17] = ch->flags;
}

int raft_config_change_decode(const uint8_t *data, uint32_t len, struct raft_config_change *out)
{
	struct raft_config_change ch;

	if (data == NULL || len < RAFT_CONFIG_CHANGE_BYTES)
		return KV_EINVAL;
	ch.op = data[0];
	ch.node = get_be64(data + 1);
	ch.incarnation = get_be64(data + 9);
	ch.flags = data[17];
	if (ch.op < RAFT_CONFIG_ADD_LEARNER || ch.op > RAFT_CONFIG_REJOIN || ch.node == 0 ||
	    ch.flags > RAFT_CONFIG_FLAG_PROMOTE)
		return KV_EINVAL;
	if ((ch.op == RAFT_CONFIG_BIND || ch.op == RAFT_CONFIG_REJOIN) && ch.incarnation == 0)
		return KV_EINVAL;
	*out = ch;
	return 0;
}

/* A learner may become a voter: its incarnation is recorded, heard and it has caught up. */
static int membership_caught_up(struct raft *r, const struct raft_member *m)
{
	struct raft_progress *pr = raft_progress_find(r, m->id);

	if (m->id == r->opt.id)
		return raft_member_counts(
		    &(struct raft_member){.role = RAFT_VOTER, .incarnation = m->incarnation},
		    r->opt.incarnation);
	return pr != NULL && pr->match >= r->commit && m->incarnation != 0 &&
	       pr->incarnation == m->incarnation;
}

/* Checks a proposed change against the configuration it would follow. */
static int membership_check_op(struct raft *r, const struct raft_config_change *ch)
{
	const struct raft_member *m = raft_config_find(&r->config, ch->node);

	switch (ch->op) {
	case RAFT_CONFIG_ADD_LEARNER:
		if (m != NULL || r->config.n >= RAFT_NODES_MAX)
			return KV_EINVAL;
		return 0;
	case RAFT_CONFIG_PROMOTE:
		if (m == NULL || m->role != RAFT_LEARNER)
			return KV_EINVAL;
		if (!membership_caught_up(r, m))
			return KV_EBUSY; /* not caught up yet */
		return 0;
	case RAFT_CONFIG_BIND:
		if (m == NULL || m->incarnation != 0)
			return KV_EINVAL;
		return 0;
	case RAFT_CONFIG_REJOIN:
		if (m == NULL || m->incarnation == 0 || m->incarnation == ch->incarnation)
			return KV_EINVAL;
		if (m->role == RAFT_VOTER && raft_config_voters(&r->config) == 1)
			return KV_EINVAL; /* the last voter */
		return 0;
	case RAFT_CONFIG_REMOVE:
		if (m == NULL)
			return KV_EINVAL;
		if (m->role == RAFT_VOTER && raft_config_voters(&r->config) == 1)
			return KV_EINVAL; /* the last voter */
		return 0;
	default:
		return KV_EINVAL;
	}
}

int raft_membership_change_allowed(const struct raft *r)
{
	if (r->config_index > r->commit || r->commit < r->term_start_index)
		return KV_ECONFIG;
	return 0;
}

int raft_membership_propose_check(struct raft *r, const uint8_t *data, uint32_t len)
{
	struct raft_config_change ch;

	if (raft_log_parse_config(data, len, &ch))
		return KV_EINVAL;
	if (raft_membership_change_allowed(r))
		return KV_ECONFIG;
	return membership_check_op(r, &ch);
}

void raft_membership_refresh(struct raft *r)
{
	raft_log_config_at(&r->log, r->log.last_index, &r->config, &r->config_index);
	if (r->role == RAFT_LEADER)
		raft_progress_sync(r);
}

void raft_membership_check_removed(struct raft *r)
{
	if (r->role != RAFT_LEADER || r->config_index > r->commit)
		return;
	if (!raft_config_is_voter(&r->config, r->opt.id))
		raft_become_follower(r, r->term, 0);
}
