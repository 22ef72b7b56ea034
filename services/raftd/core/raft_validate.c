/*
 * raft_validate.c - checks every received message before the core acts on it.
 *
 * A peer's message is input, never trusted: unknown types, foreign or own
 * ids, terms at the end of the range, index arithmetic that would overflow,
 * entries that are not consecutive or not ordered by term, snapshot chunks
 * past their snapshot's size. A message that fails is ignored and counted
 * (dropped_msgs), never asserted on. Runs on the thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

static int raft_validate_entries(const struct raft_msg *m)
{
	const struct raft_append *ap = &m->u.append;
	uint64_t term = ap->prev_term;

	if (ap->n_entries > RAFT_APPEND_ENTRIES_MAX || (ap->n_entries > 0 && ap->entries == NULL))
		return 0;
	if (ap->prev_index > UINT64_MAX - 1 - ap->n_entries)
		return 0;
	if ((ap->prev_index == 0) != (ap->prev_term == 0) || ap->prev_term > m->term)
		return 0;
	for (uint32_t i = 0; i < ap->n_entries; i++) {
		const struct raft_entry *e = &ap->entries[i];
		struct raft_config_change ch;

		if (e->index != ap->prev_index + 1 + i || e->term == 0 || e->term < term ||
		    e->term > m->term)
			return 0;
		if (e->type < RAFT_ENTRY_NOOP || e->type > RAFT_ENTRY_CONFIG)
			return 0;
		if (e->type == RAFT_ENTRY_CONFIG && raft_log_parse_config(e->data, e->len, &ch))
			return 0;
		term = e->term;
	}
	return 1;
}

static int raft_validate_snapshot(const struct raft_msg *m)
{
	const struct raft_snapshot *sn = &m->u.snapshot;

	if (sn->snap_index == 0 || sn->snap_term == 0 || sn->snap_term > m->term)
		return 0;
	if (sn->chunk_len > RAFT_SNAPSHOT_CHUNK_BYTES || sn->offset > sn->snap_size ||
	    sn->chunk_len > sn->snap_size - sn->offset)
		return 0;
	if (sn->chunk_len > 0 && sn->chunk == NULL)
		return 0;
	return sn->snap_config.n > 0 && raft_config_valid(&sn->snap_config);
}

/*
 * Who may send what. Answers count only from members of our configuration
 * (raft_vote.c counts votes only from its voters). Campaigns and a leader's
 * APPEND or SNAPSHOT are taken from anyone, as the Raft thesis asks (4.1):
 * a node that missed the changes adding the new voters must still vote for
 * them and follow their leader, or a cluster can stall. PreVote and the
 * leader lease keep removed nodes from disrupting.
 */
static int raft_validate_sender(const struct raft *r, const struct raft_msg *m)
{
	switch (m->type) {
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_VOTE:
	case RAFT_MSG_APPEND:
	case RAFT_MSG_SNAPSHOT:
	case RAFT_MSG_READ_INDEX_RESP:
		return 1;
	default:
		return raft_config_find(&r->config, m->from) != NULL;
	}
}

int raft_validate_msg(const struct raft *r, const struct raft_msg *m)
{
	if (m->type < RAFT_MSG_APPEND || m->type > RAFT_MSG_TYPE_MAX)
		return 0;
	if (m->type == RAFT_MSG_PROPOSE || m->type == RAFT_MSG_PROPOSE_RESP)
		return 0; /* the drivers' relay (raftd_relay.c): never a core's message */
	if (m->from == 0 || m->from == r->opt.id || m->to != r->opt.id)
		return 0;
	if (m->term == 0 || m->term == UINT64_MAX)
		return 0; /* UINT64_MAX: no term could follow it */
	if (!raft_validate_sender(r, m))
		return 0;
	switch (m->type) {
	case RAFT_MSG_APPEND:
		return raft_validate_entries(m);
	case RAFT_MSG_SNAPSHOT:
		return raft_validate_snapshot(m);
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_VOTE:
		return m->u.vote.last_term <= m->term;
	default:
		return 1;
	}
}
