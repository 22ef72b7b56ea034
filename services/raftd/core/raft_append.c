/*
 * raft_append.c - a follower receives APPEND (entries or a heartbeat).
 *
 * Entries that already match are never touched: only a real term conflict
 * truncates, and never at or below the commit index. An acknowledgement of
 * entries that are not yet durable waits for the persist (msgs_after_persist).
 * Runs on the thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

/* Truncates after `after` (if asked), appends e[0..n) to the window; config follows. */
static void raft_append_entries_local(struct raft *r, uint64_t after, const struct raft_entry *e,
                                      uint32_t n, int truncate)
{
	struct raft_update *u = r->u;
	int config = 0;

	if (truncate) {
		/* never drop a committed entry (F9), unless that bug is planted */
		KV_ASSERT(raft_bug_truncate_committed() || after >= r->commit);
		raft_log_truncate(&r->log, after);
		u->has_truncate = 1;
		u->truncate_after = after;
		if (r->durable > after)
			r->durable = after;
		config = r->config_index > after;
	}
	for (uint32_t i = 0; i < n; i++) {
		raft_log_append(&r->log, &e[i]);
		config |= e[i].type == RAFT_ENTRY_CONFIG;
	}
	KV_ASSERT(u->entries == NULL);
	u->entries = n > 0 ? e : NULL;
	u->n_entries = n;
	if (config)
		raft_membership_refresh(r);
}

static void raft_append_reply(struct raft *r, const struct raft_msg *m, uint64_t match, int changed)
{
	int after = raft_reply_after_persist(r) || changed || match > r->durable;
	struct raft_msg *resp;

	if (raft_bug_ack_before_durable())
		after = raft_reply_after_persist(r);
	resp = raft_msg_push(r, after, RAFT_MSG_APPEND_RESP, m->from);
	if (resp == NULL)
		return;
	resp->u.append_resp.match_index = match;
	resp->u.append_resp.seq = m->u.append.seq;
}

/* The conflict hint of a rejected APPEND (proto_messages.h: hint_index, hint_term). */
static void raft_append_reject(struct raft *r, const struct raft_msg *m)
{
	const struct raft_append *ap = &m->u.append;
	struct raft_msg *resp =
	    raft_msg_push(r, raft_reply_after_persist(r), RAFT_MSG_APPEND_RESP, m->from);
	struct raft_append_resp *ar;
	uint64_t hint;

	if (resp == NULL)
		return;
	ar = &resp->u.append_resp;
	ar->reject = 1;
	ar->seq = ap->seq;
	if (ap->prev_index > r->log.last_index) {
		ar->hint_index = r->log.last_index + 1;
		ar->hint_term = 0;
		return;
	}
	/* walk back over entries whose term is above the leader's: they all conflict */
	hint = ap->prev_index;
	while (hint > r->commit && hint > r->log.snap_index &&
	       raft_log_term_at(&r->log, hint) > ap->prev_term)
		hint--;
	ar->hint_index = hint;
	ar->hint_term = raft_log_term_at(&r->log, hint);
}

void raft_follow_leader(struct raft *r, const struct raft_msg *m)
{
	if (r->role != RAFT_FOLLOWER || r->leader != m->from)
		raft_become_follower(r, m->term, m->from);
	r->heard_leader = 1;
	r->leader_heard_ms = r->now_ms;
	r->election_deadline_ms = r->now_ms + raft_random_timeout(r);
}

/*
 * Skips the entries we already have, finds the first conflict, appends the
 * rest (as far as the window holds). Returns the last index now matching.
 */
static uint64_t raft_append_merge(struct raft *r, const struct raft_msg *m, uint32_t skip,
                                  int *changed)
{
	const struct raft_append *ap = &m->u.append;
	uint32_t i = skip, n;
	uint64_t room;

	while (i < ap->n_entries && ap->entries[i].index <= r->log.last_index &&
	       raft_log_term_at(&r->log, ap->entries[i].index) == ap->entries[i].term)
		i++;
	if (i == ap->n_entries)
		return ap->prev_index + ap->n_entries;
	n = ap->n_entries - i;
	if (ap->entries[i].index <= r->log.last_index) {
		raft_append_entries_local(r, ap->entries[i].index - 1, &ap->entries[i], 0, 1);
		*changed = 1;
	}
	room = raft_log_room(&r->log);
	if (n > room)
		n = (uint32_t)room; /* the rest comes again once we compact */
	r->u->entries = NULL;
	raft_append_entries_local(r, r->log.last_index, &ap->entries[i], n, 0);
	*changed |= n > 0;
	return ap->entries[i].index + n - 1;
}

/* The planted TRUNCATE_COMMITTED: drops everything after prev_index and appends, no check. */
static int raft_append_check_planted(struct raft *r, const struct raft_msg *m, uint64_t *match,
                                     int *changed)
{
	const struct raft_append *ap = &m->u.append;
	uint64_t room;
	uint32_t n = ap->n_entries;

	if (ap->prev_index < r->log.snap_index || ap->prev_index > r->log.last_index) {
		raft_append_reject(r, m);
		return 0;
	}
	if (r->log.last_index > ap->prev_index) {
		raft_append_entries_local(r, ap->prev_index, ap->entries, 0, 1);
		*changed = 1;
	}
	room = raft_log_room(&r->log);
	if (n > room)
		n = (uint32_t)room;
	r->u->entries = NULL;
	raft_append_entries_local(r, ap->prev_index, ap->entries, n, 0);
	*changed |= n > 0;
	*match = ap->prev_index + n;
	return 1;
}

/* Finds where m joins our log; returns 1 with the last index now matching, or 0 after rejecting. */
static int raft_append_check(struct raft *r, const struct raft_msg *m, uint64_t *match,
                             int *changed)
{
	const struct raft_append *ap = &m->u.append;
	uint32_t skip = 0;

	if (raft_bug_truncate_committed())
		return raft_append_check_planted(r, m, match, changed);
	if (ap->prev_index < r->commit) {
		/* entries up to our commit index are settled: they match by Raft's safety */
		if (ap->prev_index + ap->n_entries <= r->commit) {
			*match = r->commit;
			return 1;
		}
		skip = (uint32_t)(r->commit - ap->prev_index);
		if (ap->entries[skip - 1].term != raft_log_term_at(&r->log, r->commit)) {
			r->dropped_msgs++; /* contradicts what we committed: not a real leader's */
			return 0;
		}
	} else if (ap->prev_index > r->log.last_index ||
	           raft_log_term_at(&r->log, ap->prev_index) != ap->prev_term) {
		raft_append_reject(r, m);
		return 0;
	}
	*match = raft_append_merge(r, m, skip, changed);
	return 1;
}

void raft_append_recv(struct raft *r, const struct raft_msg *m)
{
	const struct raft_append *ap = &m->u.append;
	uint64_t match = 0, commit;
	int changed = 0;

	raft_follow_leader(r, m);
	raft_leader_commit_seen(r, ap->commit);
	if (!raft_append_check(r, m, &match, &changed))
		return;
	commit = ap->commit < match ? ap->commit : match;
	if (commit > r->commit)
		r->commit = commit;
	raft_append_reply(r, m, match, changed);
}
