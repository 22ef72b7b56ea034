/*
 * raft_membership.c - single-server membership changes and the configuration.
 *
 * A configuration takes effect as soon as its entry is appended (leader and
 * followers alike) and is recomputed from the window when the log is
 * truncated. The leader takes one change at a time, only after it has
 * committed an entry of its term; learners never vote nor count for quorum.
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

void raft_config_apply(struct raft_config *cfg, uint8_t op, uint64_t node)
{
	struct raft_member *m = (struct raft_member *)raft_config_find(cfg, node);

	switch (op) {
	case RAFT_CONFIG_ADD_LEARNER:
		if (m == NULL && cfg->n < RAFT_NODES_MAX) {
			cfg->members[cfg->n].id = node;
			cfg->members[cfg->n].role = RAFT_LEARNER;
			cfg->n++;
		}
		break;
	case RAFT_CONFIG_PROMOTE:
		if (m != NULL)
			m->role = RAFT_VOTER;
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

void raft_config_change_encode(uint8_t op, uint64_t node_id, uint8_t *out)
{
	out[0] = op;
	for (unsigned i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(node_id >> (56 - 8 * i));
}

/* Checks a proposed change against the configuration it would follow. */
static int membership_check_op(struct raft *r, uint8_t op, uint64_t node)
{
	const struct raft_member *m = raft_config_find(&r->config, node);
	struct raft_progress *pr;

	switch (op) {
	case RAFT_CONFIG_ADD_LEARNER:
		if (m != NULL || r->config.n >= RAFT_NODES_MAX)
			return KV_EINVAL;
		return 0;
	case RAFT_CONFIG_PROMOTE:
		if (m == NULL || m->role != RAFT_LEARNER)
			return KV_EINVAL;
		pr = raft_progress_find(r, node);
		if (pr == NULL || pr->match < r->commit)
			return KV_EBUSY; /* not caught up yet */
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

int raft_membership_propose_check(struct raft *r, const uint8_t *data, uint32_t len)
{
	uint8_t op;
	uint64_t node;

	if (raft_log_parse_config(data, len, &op, &node))
		return KV_EINVAL;
	if (r->config_index > r->commit || r->commit < r->term_start_index)
		return KV_ECONFIG;
	return membership_check_op(r, op, node);
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
