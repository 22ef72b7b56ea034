/*
 * raft_bugs.h - the planted bugs (TESTING.md): the one place where the core
 * and the executor learn whether a bug is planted.
 *
 * Each hook names the decision a bug gets wrong and is a compile-time 0
 * unless the variant is built with -DRAFT_BUG_<NAME> (tests/sim/module.mk
 * builds one simulator per bug, and `make sim-bugs` proves each is caught).
 * In every other build the branch a hook guards is dead code and the
 * compiler drops it, so the core's logic reads `if (raft_bug_x()) ...` and
 * nothing else. No #ifdef RAFT_BUG_* belongs anywhere but here.
 */
#ifndef RAFTKV_RAFT_BUGS_H
#define RAFTKV_RAFT_BUGS_H

#ifdef RAFT_BUG_CHUNK_ANY_OFFSET
#define RAFT_BUG_ON_CHUNK_ANY_OFFSET 1
#else
#define RAFT_BUG_ON_CHUNK_ANY_OFFSET 0
#endif
#ifdef RAFT_BUG_NO_NOOP
#define RAFT_BUG_ON_NO_NOOP 1
#else
#define RAFT_BUG_ON_NO_NOOP 0
#endif
#ifdef RAFT_BUG_VOTE_NO_PERSIST
#define RAFT_BUG_ON_VOTE_NO_PERSIST 1
#else
#define RAFT_BUG_ON_VOTE_NO_PERSIST 0
#endif
#ifdef RAFT_BUG_COMMIT_OLD_TERM
#define RAFT_BUG_ON_COMMIT_OLD_TERM 1
#else
#define RAFT_BUG_ON_COMMIT_OLD_TERM 0
#endif
#ifdef RAFT_BUG_ACK_BEFORE_DURABLE
#define RAFT_BUG_ON_ACK_BEFORE_DURABLE 1
#else
#define RAFT_BUG_ON_ACK_BEFORE_DURABLE 0
#endif
#ifdef RAFT_BUG_TRUNCATE_COMMITTED
#define RAFT_BUG_ON_TRUNCATE_COMMITTED 1
#else
#define RAFT_BUG_ON_TRUNCATE_COMMITTED 0
#endif
#ifdef RAFT_BUG_EXEC_RELEASE_BEFORE_SYNC
#define RAFT_BUG_ON_EXEC_RELEASE_BEFORE_SYNC 1
#else
#define RAFT_BUG_ON_EXEC_RELEASE_BEFORE_SYNC 0
#endif
#ifdef RAFT_BUG_WIPED_VOTES
#define RAFT_BUG_ON_WIPED_VOTES 1
#else
#define RAFT_BUG_ON_WIPED_VOTES 0
#endif
#ifdef RAFT_BUG_FIRST_LEADER_LOST_STALLS
#define RAFT_BUG_ON_FIRST_LEADER_LOST_STALLS 1
#else
#define RAFT_BUG_ON_FIRST_LEADER_LOST_STALLS 0
#endif
#ifdef RAFT_BUG_APPLIED_IGNORED
#define RAFT_BUG_ON_APPLIED_IGNORED 1
#else
#define RAFT_BUG_ON_APPLIED_IGNORED 0
#endif
#ifdef RAFT_BUG_TICK_NO_FLUSH
#define RAFT_BUG_ON_TICK_NO_FLUSH 1
#else
#define RAFT_BUG_ON_TICK_NO_FLUSH 0
#endif
#ifdef RAFT_BUG_COMMIT_NEVER_TOLD
#define RAFT_BUG_ON_COMMIT_NEVER_TOLD 1
#else
#define RAFT_BUG_ON_COMMIT_NEVER_TOLD 0
#endif
#ifdef RAFT_BUG_TOLD_UNUSABLE_COMMIT
#define RAFT_BUG_ON_TOLD_UNUSABLE_COMMIT 1
#else
#define RAFT_BUG_ON_TOLD_UNUSABLE_COMMIT 0
#endif

/*
 * TICK_NO_FLUSH (raft.c): a TICK leaves what proposals and acks made due for
 * RAFT_EVENT_FLUSH, so on a driver that never steps FLUSH entries wait for ever.
 */
static inline int raft_bug_tick_no_flush(void)
{
	return RAFT_BUG_ON_TICK_NO_FLUSH;
}

/*
 * COMMIT_NEVER_TOLD (raft_replication.c): the flush sends no commit-only
 * heartbeat, so a follower that has every entry learns a new commit index
 * only at the next periodic heartbeat.
 */
static inline int raft_bug_commit_never_told(void)
{
	return RAFT_BUG_ON_COMMIT_NEVER_TOLD;
}

/*
 * TOLD_UNUSABLE_COMMIT (raft_replication.c): a follower counts as told the
 * whole commit index by an APPEND or heartbeat that ends below it, which it
 * can use only up to that end; once its ack shows it holds more, no
 * commit-only heartbeat goes, and it learns the rest only at the next
 * periodic heartbeat (a write relayed through it waited up to 100 ms).
 */
static inline int raft_bug_told_unusable_commit(void)
{
	return RAFT_BUG_ON_TOLD_UNUSABLE_COMMIT;
}

/*
 * FIRST_LEADER_LOST_STALLS: as before the fix, a voter not recorded yet neither campaigns nor
 * counts once its log holds anything, so a new cluster whose first leader lost its leadership
 * before it recorded a quorum never elects another.
 */
static inline int raft_bug_first_leader_lost_stalls(void)
{
	return RAFT_BUG_ON_FIRST_LEADER_LOST_STALLS;
}

/* APPLIED_IGNORED: RAFT_EVENT_APPLIED leaves the commit index below the state machine's. */
static inline int raft_bug_applied_ignored(void)
{
	return RAFT_BUG_ON_APPLIED_IGNORED;
}

/* NO_NOOP: a new leader appends no no-op, and serves reads from its commit index at once. */
static inline int raft_bug_no_noop(void)
{
	return RAFT_BUG_ON_NO_NOOP;
}

/* VOTE_NO_PERSIST: a granted vote is sent at once and its hard state never saved. */
static inline int raft_bug_vote_no_persist(void)
{
	return RAFT_BUG_ON_VOTE_NO_PERSIST;
}

/* COMMIT_OLD_TERM: a leader commits entries of older terms by counting (figure 8). */
static inline int raft_bug_commit_old_term(void)
{
	return RAFT_BUG_ON_COMMIT_OLD_TERM;
}

/* ACK_BEFORE_DURABLE: acks and the leader's own match count entries not yet durable. */
static inline int raft_bug_ack_before_durable(void)
{
	return RAFT_BUG_ON_ACK_BEFORE_DURABLE;
}

/* TRUNCATE_COMMITTED: a follower drops everything after prev_index, committed or not. */
static inline int raft_bug_truncate_committed(void)
{
	return RAFT_BUG_ON_TRUNCATE_COMMITTED;
}

/* EXEC_RELEASE_BEFORE_SYNC (raft_exec.c): msgs_after_persist go out before their sync. */
static inline int raft_bug_exec_release_before_sync(void)
{
	return RAFT_BUG_ON_EXEC_RELEASE_BEFORE_SYNC;
}

/* WIPED_VOTES (raft_identity.c): an empty-disk node votes (incarnations are not checked). */
static inline int raft_bug_wiped_votes(void)
{
	return RAFT_BUG_ON_WIPED_VOTES;
}

/*
 * CHUNK_ANY_OFFSET (raft_snapshot.c): a receiver takes a chunk of the current
 * transfer at any offset, so a chunk lost while later ones were in flight
 * leaves a hole in the installed image.
 */
static inline int raft_bug_chunk_any_offset(void)
{
	return RAFT_BUG_ON_CHUNK_ANY_OFFSET;
}

#endif
