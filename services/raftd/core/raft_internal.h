/*
 * raft_internal.h - the private state of a Raft core, shared by the core's files
 * (services/raftd/core/).
 *
 * Nothing here is part of the contract (raft.h is). Every array is sized at
 * raft_new() and never grows. One thread at a time per struct raft.
 *
 * Planted bugs for the simulator are decided only through the hooks of
 * raft_bugs.h (no-ops unless a test variant is built with -DRAFT_BUG_*).
 */
#ifndef RAFTKV_RAFT_INTERNAL_H
#define RAFTKV_RAFT_INTERNAL_H

#include "raft.h"
#include "raft_bugs.h"

#include <stddef.h>
#include <stdint.h>

/* ---- Log window (raft_log.c) ------------------------------------------------ */

/* What the core keeps of one entry: no payload. */
struct raft_meta {
	uint64_t term;
	struct raft_config_change cfg; /* CONFIG entries: the change */
	uint32_t len;
	uint8_t type;
};

/* Entries snap_index+1 .. last_index, in a ring indexed by index % RAFT_LOG_WINDOW. */
struct raft_log {
	struct raft_meta *ring; /* owned; RAFT_LOG_WINDOW slots */
	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t snap_size;
	struct raft_config snap_config;
	uint64_t last_index;
};

int raft_log_init(struct raft_log *log, const struct raft_boot *boot);
void raft_log_free(struct raft_log *log);
uint64_t raft_log_term_at(const struct raft_log *log, uint64_t index);
/* The metadata of an entry in the window (snap_index < index <= last_index). */
const struct raft_meta *raft_log_meta(const struct raft_log *log, uint64_t index);
uint64_t raft_log_last_term(const struct raft_log *log);
/* Free slots in the window. */
uint64_t raft_log_room(const struct raft_log *log);
/* Appends e at last_index + 1; the caller checked room and e's CONFIG data. */
void raft_log_append(struct raft_log *log, const struct raft_entry *e);
/* Drops entries after index (snap_index <= index <= last_index). */
void raft_log_truncate(struct raft_log *log, uint64_t index);
/* The configuration in force after the entry at index (snap_index <= index <= last). */
void raft_log_config_at(const struct raft_log *log, uint64_t index, struct raft_config *out,
                        uint64_t *cfg_index);
/* Drops the prefix up to index (in the window). */
void raft_log_compact(struct raft_log *log, uint64_t index, uint64_t size);
/* Empties the log onto a snapshot. */
void raft_log_reset(struct raft_log *log, const struct raft_snapshot_install *snap);
/* Reads a CONFIG entry's data (raft_config_change_decode); 0 or KV_EINVAL. */
int raft_log_parse_config(const uint8_t *data, uint32_t len, struct raft_config_change *out);

/* ---- Configuration (raft_membership.c) -------------------------------------- */

/* Applies one change; changes that do not apply (unknown node, ...) are no-ops. */
void raft_config_apply(struct raft_config *cfg, const struct raft_config_change *ch);
const struct raft_member *raft_config_find(const struct raft_config *cfg, uint64_t id);
int raft_config_is_voter(const struct raft_config *cfg, uint64_t id);
uint32_t raft_config_voters(const struct raft_config *cfg);
int raft_config_valid(const struct raft_config *cfg);

/* ---- Progress of one follower, kept by the leader ---------------------------- */

enum raft_pr_state { RAFT_PR_PROBE = 1, RAFT_PR_PIPELINE = 2, RAFT_PR_SNAPSHOT = 3 };

struct raft_progress {
	uint64_t id;
	uint64_t next;
	uint64_t match;
	uint8_t state;         /* enum raft_pr_state */
	uint8_t recent_active; /* heard from since the last CheckQuorum */
	uint32_t n_inflight;
	uint64_t inflight[RAFT_INFLIGHT_MAX]; /* last index of each APPEND in flight, ascending */
	uint64_t acked_seq;                   /* highest heartbeat round it answered */
	uint64_t commit_sent;                 /* highest commit index an APPEND told it */
	uint64_t stall_match;                 /* match at the last heartbeat: unchanged = resend */
	uint32_t stall_rounds;                /* heartbeats without progress while in flight */
	uint64_t snap_index;                  /* SNAPSHOT state: the snapshot being sent */
	uint64_t snap_offset;                 /* SNAPSHOT state: next offset the follower wants */
	uint64_t snap_sent;                   /* SNAPSHOT state: end of the chunks sent */
	uint64_t snap_resent;                 /* SNAPSHOT state: offset last resent from a reject */
	uint64_t incarnation;                 /* the one its last message carried (0: none yet) */
};

/* ---- Reads ------------------------------------------------------------------- */

struct raft_pending_read {
	uint64_t read_id;
	uint64_t from;    /* leader: 0 for a local read, else the follower that asked */
	uint64_t index;   /* leader: the read index (valid once ready) */
	uint64_t round;   /* leader: the confirming heartbeat round; 0: awaits the term's commit */
	uint64_t sent_ms; /* follower: when it was forwarded (unanswered ones expire) */
};

/* ---- A snapshot being received --------------------------------------------- */

struct raft_incoming {
	int active;
	uint64_t from;
	uint64_t term;
	uint64_t offset; /* next offset wanted */
	struct raft_snapshot_install snap;
};

/* ---- The core ------------------------------------------------------------------ */

struct raft {
	struct raft_options opt;
	uint64_t now_ms;
	uint64_t rng;

	/* persistent state, and what the driver was last told to save */
	uint64_t term;
	uint64_t vote;
	struct raft_hard_state hs_saved;
	int vote_unsaved; /* raft_bug_vote_no_persist() only */

	uint8_t role;
	uint64_t leader;
	uint64_t commit;
	uint64_t leader_commit; /* the highest commit index a leader announced to us */
	uint64_t durable;       /* our log is durable up to here */
	uint64_t emitted;       /* entries handed out as committed up to here (this boot) */
	struct raft_log log;
	struct raft_config config; /* as of the last config entry appended */
	uint64_t config_index;     /* that entry's index (0: from the snapshot) */

	/* elections */
	uint64_t election_deadline_ms;
	uint64_t leader_heard_ms; /* last message from a leader of our term */
	int heard_leader;
	uint64_t granted[RAFT_NODES_MAX];
	uint32_t n_granted;
	uint64_t rejected[RAFT_NODES_MAX];
	uint32_t n_rejected;

	/* leader */
	struct raft_progress progress[RAFT_NODES_MAX];
	uint32_t n_progress;
	uint64_t heartbeat_deadline_ms;
	uint64_t quorum_deadline_ms;
	uint64_t term_start_index; /* index of this term's first entry (the no-op) */
	uint64_t transfer_target;  /* 0: no transfer */
	uint64_t transfer_deadline_ms;

	/* reads: leader's queue (FIFO) or a follower's forwarded reads */
	struct raft_pending_read *reads; /* owned; RAFT_READS_MAX */
	uint32_t n_reads;
	uint64_t read_seq; /* last heartbeat round started */

	struct raft_incoming incoming;
	uint64_t dropped_msgs;
	uint64_t votes_granted;
	uint64_t overflow_msgs; /* messages not sent because an update was full */

	/* the update being built (valid during raft_step) */
	struct raft_update *u;
	struct raft_msg *msgs_now;   /* owned; RAFT_UPDATE_MSGS_MAX */
	struct raft_msg *msgs_after; /* owned; RAFT_UPDATE_MSGS_MAX */
	struct raft_entry *pool;     /* owned; RAFT_UPDATE_ENTRIES_MAX */
	uint32_t n_pool;
	struct raft_entry own[2];                     /* entries the leader appends in one step */
	uint8_t own_cfg[2][RAFT_CONFIG_CHANGE_BYTES]; /* data of the changes it makes itself */
	struct raft_read *reads_out;                  /* owned; RAFT_READS_MAX + 1 */
};

/* ---- raft.c: update building ---------------------------------------------- */

/* A zeroed message in the update (type, from, to, term set), or NULL when full. */
struct raft_msg *raft_msg_push(struct raft *r, int after_persist, uint8_t type, uint64_t to);
/* After persist when the hard state changed in this step, else now. */
int raft_reply_after_persist(const struct raft *r);
uint64_t raft_quorum(uint32_t n_voters);

/* ---- raft_election.c --------------------------------------------------------- */

uint64_t raft_random_timeout(struct raft *r);
void raft_become_follower(struct raft *r, uint64_t term, uint64_t leader);
void raft_become_candidate(struct raft *r, int transfer);
void raft_election_tick(struct raft *r);
int raft_in_lease(const struct raft *r);

/* ---- raft_vote.c ------------------------------------------------------------------ */

void raft_vote_recv_request(struct raft *r, const struct raft_msg *m);
void raft_vote_recv_response(struct raft *r, const struct raft_msg *m);
void raft_vote_reject_stale(struct raft *r, const struct raft_msg *m);

/* ---- raft_replication.c (leader) ---------------------------------------------- */

void raft_become_leader(struct raft *r);
struct raft_progress *raft_progress_find(struct raft *r, uint64_t id);
void raft_progress_sync(struct raft *r);
void raft_replicate_one(struct raft *r, struct raft_progress *pr);
void raft_replicate_all(struct raft *r);
void raft_heartbeat_all(struct raft *r);
/*
 * RAFT_EVENT_FLUSH (and TICK): one pass over the followers that sends every
 * entry ready (raft_replicate_one) and a commit-only heartbeat to those that
 * can use a commit index no APPEND told them.
 */
void raft_replication_flush(struct raft *r);
/* The periodic heartbeat: also resends to followers that made no progress. */
void raft_heartbeat_tick(struct raft *r);
void raft_maybe_commit(struct raft *r);
void raft_replication_recv_response(struct raft *r, const struct raft_msg *m);
int raft_leader_append(struct raft *r, uint8_t type, const uint8_t *data, uint32_t len);

/* ---- raft_append.c (follower) ------------------------------------------------- */

void raft_append_recv(struct raft *r, const struct raft_msg *m);
/* m comes from the leader of our term: follow it and restart the election timer. */
void raft_follow_leader(struct raft *r, const struct raft_msg *m);

/* Remembers how far the leader has committed (for status only: never a safety decision). */
static inline void raft_leader_commit_seen(struct raft *r, uint64_t commit)
{
	if (commit > r->leader_commit)
		r->leader_commit = commit;
}

/* ---- raft_read.c ----------------------------------------------------------------- */

int raft_read_request(struct raft *r, uint64_t read_id);
void raft_read_recv_request(struct raft *r, const struct raft_msg *m);
void raft_read_recv_response(struct raft *r, const struct raft_msg *m);
void raft_read_release(struct raft *r);
void raft_read_fail_all(struct raft *r);
/* A follower gives up on forwarded reads the leader never answered. */
void raft_read_expire(struct raft *r);

/* ---- raft_transfer.c ----------------------------------------------------------------- */

int raft_transfer_start(struct raft *r, uint64_t node_id);
void raft_transfer_check(struct raft *r, struct raft_progress *pr);
void raft_transfer_tick(struct raft *r);
void raft_transfer_recv_timeout_now(struct raft *r, const struct raft_msg *m);

/* ---- raft_membership.c --------------------------------------------------------------- */

int raft_membership_propose_check(struct raft *r, const uint8_t *data, uint32_t len);
void raft_membership_refresh(struct raft *r);
void raft_membership_check_removed(struct raft *r);

/* ---- raft_identity.c: incarnations, who counts, automatic changes -------------- */

/* mb counts toward a commit or read quorum when heard with incarnation heard. */
int raft_member_counts(const struct raft_member *mb, uint64_t heard);
/* This node's own match and acks count toward a commit, read or CheckQuorum quorum. */
int raft_self_counts(const struct raft *r);
/* This node may campaign and vote for itself (raft_self_counts, or not recorded yet). */
int raft_self_campaigns(const struct raft *r);
/* A vote from id, sent with incarnation heard, counts for our candidacy. */
int raft_vote_counts(const struct raft *r, uint64_t id, uint64_t heard);
/* Granted votes a candidate needs: a quorum, or every voter while one is not recorded. */
uint32_t raft_votes_needed(const struct raft *r);
/* The configuration records another incarnation for us: we must not vote. */
int raft_self_replaced(const struct raft *r);
/* Leader: m came from a follower; track its incarnation (a new one resets its progress). */
void raft_identity_heard(struct raft *r, const struct raft_msg *m);
/* Leader: records, replaces or promotes one member if one needs it (at most one change). */
void raft_identity_step(struct raft *r);
/* 0 when a change that alters the voters may be appended now, else KV_ECONFIG. */
int raft_membership_change_allowed(const struct raft *r);

/* ---- raft_snapshot.c -------------------------------------------------------------- */

int raft_snapshot_taken(struct raft *r, uint64_t index, uint64_t size);
void raft_snapshot_send(struct raft *r, struct raft_progress *pr);
void raft_snapshot_recv(struct raft *r, const struct raft_msg *m);
void raft_snapshot_recv_response(struct raft *r, const struct raft_msg *m);

/* ---- raft_validate.c --------------------------------------------------------------- */

/* 1 when m may be processed; 0: malformed, not for us or from a stranger. */
int raft_validate_msg(const struct raft *r, const struct raft_msg *m);

#endif
