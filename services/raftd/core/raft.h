/*
 * raft.h - the Raft core: a pure state machine.
 *
 * The core does no I/O: no syscalls, no clock, no random numbers from the
 * system, no sockets, no allocation after raft_new(). Its one entry point,
 * raft_step(), takes an event (time passing, a message, "entries up to N are
 * durable", a proposal, a read, a transfer request, a snapshot taken, "the
 * driver drained its input") and
 * fills an update that the executor (raft_exec.h, shared by raftd, the
 * simulator and the unit harness) runs in this fixed order:
 *
 *   1. persist: install a received snapshot (update.snapshot_install), write
 *      received snapshot chunks, truncate the log after update.truncate_after,
 *      append update.entries, save update.hard_state; then make all of it
 *      durable (fsync) and report it with a RAFT_EVENT_PERSISTED event.
 *   2. send: update.msgs_now may be sent at once (before step 1 is durable);
 *      update.msgs_after_persist only once everything of step 1 is durable.
 *   3. apply: entries [commit_first, commit_last] are committed and locally
 *      durable; hand them to the state machine in order.
 *   4. answer: update.reads may proceed once the state machine has applied
 *      at least their index.
 *   5. snapshot work: the log prefix up to update.compact_index may be dropped;
 *      update.want_image asks for an image of the snapshot to send a follower.
 *
 * The types that travel between nodes and processes (messages, entries,
 * configurations, roles) are in raft_wire.h, which this header includes.
 *
 * The core keeps only entry metadata (term, type, length, membership change)
 * in a fixed window; payloads live in the driver's log (the WAL in raftd, the
 * simulated disk in tests/sim). Outgoing APPEND messages therefore carry
 * entries whose data is NULL: the driver attaches the payloads of those
 * indexes from its log before sending.
 *
 * One thread at a time per struct raft. Memory: raft_new() allocates
 * everything; raft_step() never allocates.
 */
#ifndef RAFTKV_RAFT_H
#define RAFTKV_RAFT_H

#include "raft_wire.h"

#include <stddef.h>
#include <stdint.h>

/* ---- Limits ---------------------------------------------------------- */

#define RAFT_LOG_BUSY_ENTRIES   12288u /* a leader refuses proposals (KV_EBUSY) past this */
#define RAFT_INFLIGHT_MAX       8u     /* APPEND messages in flight per follower */
#define RAFT_SNAPSHOT_INFLIGHT  4u     /* SNAPSHOT chunks in flight per follower */
#define RAFT_READS_MAX          1024u  /* reads waiting for confirmation */
#define RAFT_UPDATE_MSGS_MAX    256u   /* messages in one update */
#define RAFT_UPDATE_ENTRIES_MAX 4096u  /* entry metadata slots for one update's messages */

/* ---- Persistent state ---------------------------------------------------- */

struct raft_hard_state {
	uint64_t term;
	uint64_t vote; /* 0: none in this term */
};

/* ---- Events --------------------------------------------------------------- */

enum raft_event_type {
	RAFT_EVENT_TICK = 1,      /* only time passes */
	RAFT_EVENT_RECEIVE = 2,   /* msg arrived from a peer */
	RAFT_EVENT_PERSISTED = 3, /* the log up to (index, term) and every hard state
	                             and snapshot of earlier updates are durable */
	RAFT_EVENT_PROPOSE = 4,   /* append entry_type/data/len if leader */
	RAFT_EVENT_READ = 5,      /* a linearizable read identified by read_id */
	RAFT_EVENT_TRANSFER = 6,  /* hand leadership to node_id (0: the most caught-up voter) */
	RAFT_EVENT_SNAPSHOT_TAKEN =
	    7, /* the state machine is durable at index; snap_size bytes of image (0: none) */
	/* the local state machine applied up to index: committed, not handed out again
	   (KV_EINVAL past the durable log) */
	RAFT_EVENT_APPLIED = 8,
	/* the driver drained its input: a leader sends what PROPOSE and acks made due
	   (one APPEND per follower with every entry ready, the commit index with it;
	   a commit-only heartbeat to a follower no APPEND told). TICK flushes too. */
	RAFT_EVENT_FLUSH = 9,
};

struct raft_event {
	uint8_t type;    /* enum raft_event_type */
	uint64_t now_ms; /* every event carries the current (monotonic, possibly drifting) time */

	const struct raft_msg *msg; /* RECEIVE: borrowed until the update is executed */
	uint64_t index;             /* PERSISTED, SNAPSHOT_TAKEN, APPLIED */
	uint64_t term;              /* PERSISTED */
	uint8_t entry_type;         /* PROPOSE: RAFT_ENTRY_COMMAND or RAFT_ENTRY_CONFIG */
	const uint8_t *data;        /* PROPOSE: borrowed until the update is executed */
	uint32_t len;               /* PROPOSE */
	uint64_t read_id;           /* READ: the caller's id, echoed in update.reads */
	uint64_t node_id;           /* TRANSFER */
	uint64_t snap_size;         /* SNAPSHOT_TAKEN */
};

/* ---- Updates ---------------------------------------------------------------- */

struct raft_read {
	uint64_t read_id;
	uint64_t index; /* serve the read once applied >= index */
	int status; /* 0, or KV_ENOTLEADER / KV_ENOLEADER / KV_EBUSY: the read cannot be confirmed
	             */
};

struct raft_snapshot_install {
	uint64_t index;
	uint64_t term;
	struct raft_config config;
	uint64_t size;
};

/*
 * Everything the driver must do after one raft_step(). Pointers are owned by
 * the core (or borrowed from the event) and stay valid until the next
 * raft_step() on the same core.
 */
struct raft_update {
	/* 1. persist, in this order */
	const uint8_t *snapshot_chunk; /* non-NULL: write chunk_len bytes at chunk_offset */
	uint64_t chunk_offset; /*   of the incoming snapshot (data borrowed from the event) */
	uint32_t chunk_len;
	int has_snapshot_install; /* the incoming snapshot is complete: install it, */
	struct raft_snapshot_install snapshot_install; /* replacing state machine and log */
	int has_truncate;
	uint64_t truncate_after; /* drop log entries with index > truncate_after */
	uint32_t n_entries;      /* then append these (data borrowed from the event) */
	const struct raft_entry *entries;
	int hard_state_changed;
	struct raft_hard_state hard_state;

	/* 2. send */
	uint32_t n_msgs_now;
	struct raft_msg *msgs_now;
	uint32_t n_msgs_after_persist;
	struct raft_msg *msgs_after_persist;

	/* 3. apply: committed and locally durable; 0,0 when none */
	uint64_t commit_first;
	uint64_t commit_last;

	/* 4. answer */
	uint32_t n_reads;
	const struct raft_read *reads;

	/* 5. snapshot work */
	uint64_t compact_index; /* non-zero: log entries <= this may be dropped */
	uint64_t want_image;    /* non-zero: a follower needs the snapshot at this index and
	                           no image of it exists: make one and report it with
	                           SNAPSHOT_TAKEN (this index or a later one, its size) */

	/* for the caller of a PROPOSE that returned 0 */
	uint64_t proposed_index;
	uint64_t proposed_term;
};

/* ---- Construction ------------------------------------------------------------ */

struct raft_options {
	uint64_t id;                  /* this node; must be non-zero */
	uint64_t election_timeout_ms; /* base; the randomized timeout is in [base, 2*base) */
	uint64_t heartbeat_ms;        /* < election_timeout_ms */
	uint64_t seed;                /* seeds the core's own PRNG */
	uint64_t incarnation; /* this node's data directory (non-zero; raft_wire.h, raft_member) */
	int prevote;          /* 1: PreVote on (the default everywhere) */
	int check_quorum;     /* 1: CheckQuorum and leader lease on */
};

/*
 * What the node found on its disk at start. A brand-new cluster boots every
 * node with an empty log, a zero hard state and the initial configuration as
 * snap_config at snap_index 0.
 */
struct raft_boot {
	struct raft_hard_state hard_state;
	uint64_t snap_index;
	uint64_t snap_term;
	struct raft_config snap_config;
	uint64_t snap_size;
	uint32_t n_entries;               /* the log after snap_index, in order */
	const struct raft_entry *entries; /* borrowed during raft_new(); CONFIG data is read */
	uint64_t now_ms;
};

struct raft;

/*
 * Creates a core from options and boot state; allocates everything it will
 * ever use. Returns 0 and sets *out, or KV_EINVAL (bad options, a log longer
 * than RAFT_LOG_WINDOW, a gap in indexes) or KV_ENOMEM. The caller owns *out.
 */
int raft_new(const struct raft_options *options, const struct raft_boot *boot, struct raft **out);

/* Frees the core and sets *r to NULL; safe on NULL and twice. */
void raft_destroy(struct raft **r);

/*
 * Feeds one event and fills update (overwritten; see struct raft_update).
 * Returns 0, or for PROPOSE / READ / TRANSFER a negative KV_E* code when the
 * request cannot be taken (KV_ENOTLEADER, KV_EBUSY, KV_ECONFIG, KV_EINVAL),
 * in which case the update is still valid and must be executed (a refused
 * READ adds nothing to update.reads). Malformed or stale messages are ignored
 * (counted in dropped_msgs), never fatal. PREVOTE, VOTE, APPEND, SNAPSHOT and
 * READ_INDEX_RESP are accepted from nodes outside the current configuration
 * (Raft thesis 4.1: a lagging node must still be able to vote and follow);
 * other responses and READ_INDEX from strangers are dropped. A follower's
 * read that the leader never answers fails with KV_ENOLEADER after two
 * election timeouts (a bound on waiting, not a safety decision).
 */
int raft_step(struct raft *r, const struct raft_event *event, struct raft_update *update);

/* ---- Read-only views (no state change) --------------------------------------- */

struct raft_status {
	uint64_t id;
	uint8_t role;   /* enum raft_role */
	int is_learner; /* this node is a learner in the current configuration */
	uint64_t term;
	uint64_t leader; /* 0: none known */
	uint64_t commit_index;
	uint64_t leader_commit; /* the leader's commit index as last announced (>= commit_index):
	                          how far this node still has to catch up */
	uint64_t durable_index;
	uint64_t first_index; /* snap_index + 1 */
	uint64_t last_index;
	uint64_t last_term;
	uint64_t snap_index;
	uint64_t snap_term;
	struct raft_config config; /* as of the last config entry appended */
	uint64_t dropped_msgs;     /* malformed or stale messages ignored so far */
	uint64_t votes_granted;    /* VOTE requests this node granted since it started */
	int replaced; /* the configuration holds another incarnation for us: we do not vote */
	uint64_t transfer_target; /* leader: the voter it hands leadership to; 0: none. While
	                             set, every proposal is refused (KV_EBUSY) */
};

void raft_get_status(const struct raft *r, struct raft_status *out);

/* The term of the entry at index, or 0 if it is not in the window (or index 0). */
uint64_t raft_term_at(const struct raft *r, uint64_t index);

/* The match index the leader knows for node id (0 if not leader or unknown). */
uint64_t raft_match_of(const struct raft *r, uint64_t id);

/* Encodes a membership change into out[RAFT_CONFIG_CHANGE_BYTES]. */
void raft_config_change_encode(const struct raft_config_change *ch, uint8_t *out);

/*
 * Reads the change a CONFIG entry's data begins with. Returns 0, or
 * KV_EINVAL for data shorter than RAFT_CONFIG_CHANGE_BYTES, an unknown op or
 * flag, node 0, or a BIND or REJOIN without an incarnation.
 */
int raft_config_change_decode(const uint8_t *data, uint32_t len, struct raft_config_change *out);

/*
 * Applies a change to c as the core does: adding a present id, promoting a
 * voter, removing an absent id or binding a bound member change nothing; an
 * add to a full configuration is dropped.
 */
void raft_config_change_apply(struct raft_config *c, const struct raft_config_change *ch);

#endif
