/*
 * raft_harness.h - a tiny deterministic driver for Raft cores in unit tests.
 *
 * N cores (ids 1..N) in one process, one message queue that the test steps by
 * hand, and per node a log store that keeps payloads, a hard state, a
 * snapshot and the list of entries handed to the "state machine". Each
 * update is run by the shared executor (raft_exec.h, over
 * raft_harness_io.c) in the order raft.h prescribes: persist, send, apply,
 * answer, compact. Nothing is random: time moves only when a test ticks a
 * node, and a message moves only when a test delivers it.
 *
 * After every event the harness steps RAFT_EVENT_FLUSH too, as if each
 * event were one driver iteration; a node in hold_flush mode is flushed only
 * by rh_flush() (several events in one iteration, as raftd drains them).
 *
 * By default a node persists at once (the write is durable as soon as it is
 * done, and RAFT_EVENT_PERSISTED follows). A node in manual-persist mode
 * keeps its written state volatile and holds msgs_after_persist until the
 * test calls rh_persist(), as raftd holds them until its wal_sync: an
 * update that wrote nothing while everything is synced sends them at once,
 * and a truncation or snapshot install syncs and sends the held ones first.
 *
 * The harness checks, after every step, what must always hold: the core's
 * log matches the stored log, commit index and term never go down, applied
 * entries come once, in order, and only when durable, no two nodes apply
 * different entries at one index, a leader never truncates its own log, no
 * truncation reaches the commit index, at most one leader per term. A
 * violation fails the running cmocka test.
 *
 * Single-threaded. rh_new() allocates everything; rh_destroy() frees it.
 */
#ifndef RAFTKV_RAFT_HARNESS_H
#define RAFTKV_RAFT_HARNESS_H

#include "raft.h"
#include "raft_exec.h"

#include <stdint.h>

#define RH_NODES_MAX         RAFT_NODES_MAX
#define RH_LOG_MAX           1024u /* entries in a node's stored log */
#define RH_PAYLOAD_BYTES_MAX 64u   /* bytes of one entry's payload */
#define RH_QUEUE_MAX         2048u /* messages in flight in the whole cluster */
#define RH_APPLIED_MAX       2048u /* entries handed to one node's state machine */
#define RH_READS_MAX         256u  /* read answers kept per node */
#define RH_SNAP_BYTES_MAX    (2u << 20)
#define RH_ELECTION_MS       100u /* default election timeout base */
#define RH_HEARTBEAT_MS      10u  /* default heartbeat interval */
#define RH_TICK_MS           5u   /* step of rh_tick_until() */
#define RH_LEADER_TERMS_MAX  64u  /* terms whose leader is remembered for the uniqueness check */

/* One stored entry, payload included. */
struct rh_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type;
	uint32_t len;
	uint8_t data[RH_PAYLOAD_BYTES_MAX];
};

/* The update of the last event a test fed to a node, with its lists copied. */
struct rh_record {
	int rc;
	struct raft_update u;                            /* pointers cleared; counts kept */
	struct raft_entry entries[RAFT_UPDATE_MSGS_MAX]; /* metadata of u.entries (first ones) */
	struct raft_msg now[RAFT_UPDATE_MSGS_MAX];       /* entries/chunk pointers cleared */
	struct raft_msg after[RAFT_UPDATE_MSGS_MAX];
	struct raft_read reads[RAFT_UPDATE_MSGS_MAX];
};

struct rh_msg;
struct rh;
struct rh_node;

/* What the node's executor I/O is called back with. */
struct rh_exec_ctx {
	struct rh *h;
	struct rh_node *n;
};

struct rh_node {
	uint64_t id;
	struct raft *r;
	struct raft_options opts;
	uint64_t now_ms;
	int manual_persist;
	int hold_flush; /* steps FLUSH only through rh_flush() (else after every event) */
	int frozen;     /* rh_tick_all() and rh_run() leave its clock alone (a paused process) */
	struct raft_config boot_config; /* the configuration it boots with (snap_index 0) */
	uint32_t n_restarts;

	/* the stored log: entries [log_start, log_start + log_n) */
	uint64_t log_start;
	uint32_t log_n;
	struct rh_entry log[RH_LOG_MAX];
	struct raft_hard_state hs;         /* written */
	struct raft_hard_state durable_hs; /* durable (after the last persist) */
	uint64_t durable_index;            /* as last reported by RAFT_EVENT_PERSISTED */
	uint32_t n_persisted_events;

	/* the shared executor; in manual-persist mode its held messages wait for rh_persist() */
	struct raft_exec exec;
	struct rh_exec_ctx exec_ctx;

	/* the state machine */
	uint64_t applied_index;
	uint32_t n_applied;
	struct rh_entry applied[RH_APPLIED_MAX];
	uint32_t n_reads;
	struct raft_read reads[RH_READS_MAX];

	/* this node's snapshot, and the one it is receiving */
	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t snap_size;
	uint64_t base_term; /* term of the entry before log_start (snapshot or compaction) */
	uint8_t *snap_data;
	uint8_t *in_data;
	uint64_t in_bytes; /* highest offset + len written so far */
	uint32_t n_chunks_written;
	uint32_t n_installs;

	uint64_t max_commit; /* for the monotonic checks */
	uint64_t max_term;
	struct rh_record rec;
};

struct rh {
	uint32_t n; /* highest node id */
	int prevote;
	int check_quorum;
	struct raft_config config;                   /* the voters every node boots with */
	struct rh_node *nodes[RH_NODES_MAX];         /* index id - 1 */
	int cut[RH_NODES_MAX + 1][RH_NODES_MAX + 1]; /* cut[a][b]: a's messages to b are lost */
	uint32_t q_n;
	struct rh_msg *q[RH_QUEUE_MAX];
	uint64_t n_delivered;
	uint64_t delivered_type[RAFT_MSG_TYPE_MAX + 1]; /* per message type */
	uint64_t n_lost;                                /* dropped by a cut link or rh_drop() */
	uint64_t leader_term[RH_LEADER_TERMS_MAX];
	uint64_t leader_id[RH_LEADER_TERMS_MAX];
	uint32_t n_leader_terms;
};

/* ---- Construction ---- */

/*
 * A new cluster of n_voters voters (ids 1..n_voters) with empty logs, PreVote
 * and CheckQuorum as given, election timeout RH_ELECTION_MS, heartbeat
 * RH_HEARTBEAT_MS, seed = id. Never NULL (fails the test instead).
 */
struct rh *rh_new(uint32_t n_voters, int prevote, int check_quorum);
void rh_destroy(struct rh **h);

/*
 * Replaces node id's core by one booted from a log of n entries with the given
 * terms at indexes 1..n (COMMAND entries with payload "e<index>t<term>"), a hard
 * state of (term, vote), and the cluster's voters as configuration. Its clock
 * and state machine are reset; its messages in the queue are kept.
 */
void rh_boot_log(struct rh *h, uint64_t id, uint64_t term, uint64_t vote, const uint64_t *terms,
                 uint32_t n);

/*
 * Adds node id (not yet a member) with an empty log, booted with config as
 * its initial configuration (snap_index 0). Returns the node.
 */
struct rh_node *rh_add_node(struct rh *h, uint64_t id, const struct raft_config *config);

/*
 * Crashes node id and starts it again from what was durable: the log up to
 * its durable index, the durable hard state; written-but-unsynced entries and
 * held messages are lost, the state machine starts empty (not for nodes with
 * a snapshot). Messages already in the network stay there.
 */
void rh_restart(struct rh *h, uint64_t id);

/*
 * Crashes node id, which has a snapshot, and starts it again from what was
 * durable: the snapshot (without its image), the log after it, the durable
 * hard state; its state machine keeps what it applied up to applied_kept
 * (between the snapshot's index and what it had applied), as storaged keeps
 * what LMDB synced. The core is not told about applied_kept.
 */
void rh_restart_snapshot(struct rh *h, uint64_t id, uint64_t applied_kept);

/*
 * Node id lost its disk: it boots empty (no log, hard state or snapshot),
 * with the seed configuration and no incarnation recorded in it, on a new
 * incarnation (opts.incarnation + 100000). Held messages are lost.
 */
void rh_wipe(struct rh *h, uint64_t id);

struct rh_node *rh_node(struct rh *h, uint64_t id);
void rh_status(struct rh *h, uint64_t id, struct raft_status *out);

/* ---- Events (each records its update in node->rec and executes it) ---- */

int rh_step(struct rh *h, uint64_t id, struct raft_event *ev);
void rh_tick(struct rh *h, uint64_t id, uint64_t ms);
void rh_tick_all(struct rh *h, uint64_t ms);

/* Ticks id by RH_TICK_MS until its role is role; returns the ms it took, fails past max_ms. */
uint64_t rh_tick_until(struct rh *h, uint64_t id, uint8_t role, uint64_t max_ms);

int rh_propose(struct rh *h, uint64_t id, const char *text);
int rh_propose_config(struct rh *h, uint64_t id, uint8_t op, uint64_t node_id);

/* The incarnation node id's data directory has in the harness (the configs record it). */
static inline uint64_t rh_incarnation(uint64_t id)
{
	return 1000 + id;
}
int rh_read(struct rh *h, uint64_t id, uint64_t read_id);
int rh_transfer(struct rh *h, uint64_t id, uint64_t target);

/* Saves a snapshot of size bytes at index (a fixed pattern) and steps SNAPSHOT_TAKEN. */
int rh_snapshot(struct rh *h, uint64_t id, uint64_t index, uint64_t size);

/* Makes id's written state durable, releases its held messages, steps PERSISTED. */
void rh_persist(struct rh *h, uint64_t id);

/* Steps RAFT_EVENT_FLUSH (recorded); a node not in hold_flush mode does it after every event. */
void rh_flush(struct rh *h, uint64_t id);

/* ---- The network: a FIFO queue stepped by hand; 0 in a filter means any ---- */

/* The position of the first queued message matching, or -1. */
int rh_find(const struct rh *h, uint8_t type, uint64_t from, uint64_t to);
const struct raft_msg *rh_peek(const struct rh *h, uint8_t type, uint64_t from, uint64_t to);
uint32_t rh_count(const struct rh *h, uint8_t type, uint64_t from, uint64_t to);

/* Delivers the first match; returns 1, or 0 when none is queued. */
int rh_deliver(struct rh *h, uint8_t type, uint64_t from, uint64_t to);

/* Delivers the matches queued now (not the replies they cause); returns how many. */
uint32_t rh_deliver_matching(struct rh *h, uint8_t type, uint64_t from, uint64_t to);

/* Delivers until the queue is empty; fails the test past max_msgs. Returns how many. */
uint32_t rh_deliver_all(struct rh *h, uint32_t max_msgs);

/* Removes the matches from the queue; returns how many. */
uint32_t rh_drop(struct rh *h, uint8_t type, uint64_t from, uint64_t to);

/* Removes queued APPENDs from `from` that carry entries (not heartbeats); returns how many. */
uint32_t rh_drop_entries(struct rh *h, uint64_t from);

/* Delivers msg to msg->to as if it came from the network (hostile input). */
int rh_inject(struct rh *h, const struct raft_msg *msg);

/* A copy of the first match, kept outside the queue (a message the network will
 * duplicate or replay later); NULL if none. */
struct rh_msg *rh_copy(const struct rh *h, uint8_t type, uint64_t from, uint64_t to);

/* The message inside a copy, to read or to change before replaying it. */
struct raft_msg *rh_copy_msg(struct rh_msg *copy);

/* Delivers a copy as the network would (lost if the link is cut) and frees it. */
void rh_replay(struct rh *h, struct rh_msg **copy);

/* Cuts (on = 1) or heals the links between id and every other node, both ways. */
void rh_isolate(struct rh *h, uint64_t id, int on);
void rh_cut(struct rh *h, uint64_t a, uint64_t b, int on);

/* ---- Scenarios ---- */

/* For ms: ticks every node not frozen by RH_TICK_MS, then delivers until quiet. */
void rh_run(struct rh *h, uint64_t ms);

/* The number of messages of type in node id's last recorded update (either list). */
uint32_t rh_rec_count(const struct rh_node *n, uint8_t type);

/* The first message of type to `to` (0: any) in the recorded update's list, or NULL. */
const struct raft_msg *rh_rec_find(const struct rh_node *n, int after_persist, uint8_t type,
                                   uint64_t to);

/* rh_status as a value: node id's status now. */
struct raft_status rh_status_of(struct rh *h, uint64_t id);

/*
 * rounds times: delivers until quiet, ticks leader one heartbeat, delivers
 * until quiet; commits travel to the followers.
 */
void rh_settle(struct rh *h, uint64_t leader, int rounds);

/*
 * Three nodes, leader 1 with entries 1..11 applied on 1 and 2, node 3 cut off
 * from 1 after index 1 (its last index). Each settle runs rounds rounds.
 */
struct rh *rh_lagging_cluster(int rounds);

/* Ticks id until it is leader, delivering everything; then delivers until quiet. */
void rh_elect(struct rh *h, uint64_t id);

/*
 * Ticks id until it campaigns, then delivers only election messages (PREVOTE,
 * VOTE and their responses) until it is leader: its first APPENDs (the no-op)
 * stay queued.
 */
void rh_campaign(struct rh *h, uint64_t id);

/* The leader of the highest term among the nodes, or 0. */
uint64_t rh_leader(struct rh *h);

/* How many entries of type node id has applied. */
uint32_t rh_applied_of_type(struct rh *h, uint64_t id, uint8_t type);

const char *rh_msg_name(uint8_t type);

#endif
