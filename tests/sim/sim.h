/*
 * sim.h - the deterministic simulator's shared types.
 *
 * One struct sim_world holds a whole simulated cluster: nodes running real
 * Raft cores (raft.h), their simulated disks, the network, the client and
 * the checker. Everything is allocated once per process (sim_world_new) and
 * reset per seed; the step loop never allocates. Single-threaded: each
 * worker process owns one world.
 *
 * Every choice comes from one seeded PRNG (struct sim_rng), so a seed
 * replays exactly.
 */
#ifndef RAFTKV_SIM_H
#define RAFTKV_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "raft.h"
#include "raft_exec.h"

/* ---- Limits ------------------------------------------------------------ */

#define SIM_SLOTS_MAX       12u        /* node ids 1..12 over a run (members <= RAFT_NODES_MAX) */
#define SIM_LOG_CAP         8192u      /* entries per simulated log; power of two */
#define SIM_DATA_BYTES      24u        /* payload bytes of one entry (writes and config changes) */
#define SIM_KEYS            8u         /* the client's key space */
#define SIM_SNAP_BYTES_MAX  256u       /* a serialized state machine */
#define SIM_SNAP_SIZE_MAX   (1u << 20) /* with padding, to span several chunks */
#define SIM_BIG_CHUNKS      32u        /* in-flight chunks that mix state and padding */
#define SIM_OPS_MAX         8192u      /* unsynced disk writes per node; power of two */
#define SIM_SNAP_POOL       8u         /* unsynced snapshot installs per node */
#define SIM_NET_SLOTS       4096u      /* messages in flight (and held) in the whole world */
#define SIM_EVENTS_MAX      (SIM_NET_SLOTS + 256u)
#define SIM_TERMS_MAX       65536u /* terms checked for election safety */
#define SIM_INDEX_MAX       65536u /* log indexes checked for state machine safety */
#define SIM_MATCH_SLOTS     65536u /* (index, term) pairs checked for log matching; power of two */
#define SIM_READS_MAX       64u    /* client reads waiting per world */
#define SIM_PROPS_MAX       4096u  /* client writes waiting for their entry; power of two */
#define SIM_TRACE_LINES     400u   /* the ring printed with a violation */
#define SIM_UNCOMMITTED_MAX 1000u  /* the client stops proposing past this many at a leader */
#define SIM_WIPES_MAX       1u     /* lost disks a seed: two at once can lose a quorum's data */

/* ---- PRNG: splitmix64 -------------------------------------------------- */

struct sim_rng {
	uint64_t s;
};

static inline uint64_t sim_rng_next(struct sim_rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in [0, n); n > 0. */
static inline uint64_t sim_rng_below(struct sim_rng *g, uint64_t n)
{
	return sim_rng_next(g) % n;
}

/* A number in [lo, hi]. */
static inline uint64_t sim_rng_range(struct sim_rng *g, uint64_t lo, uint64_t hi)
{
	return lo + sim_rng_below(g, hi - lo + 1);
}

/* 1 with probability permille/1000. */
static inline int sim_rng_chance(struct sim_rng *g, uint32_t permille)
{
	return sim_rng_below(g, 1000) < permille;
}

/* The incarnation of a slot's first disk (a wipe gives another, sim_fault.c). */
static inline uint64_t sim_first_incarnation(uint32_t slot)
{
	return 1000u + slot;
}

/* ---- Trace (sim_trace.c) ------------------------------------------------ */

enum sim_trace_kind {
	SIM_TR_SEND = 1,
	SIM_TR_DELIVER,
	SIM_TR_DROP,
	SIM_TR_ROLE,
	SIM_TR_PROPOSE,
	SIM_TR_APPLY,
	SIM_TR_ACK,
	SIM_TR_READ,
	SIM_TR_CRASH,
	SIM_TR_RESTART,
	SIM_TR_PARTITION,
	SIM_TR_SYNC,
	SIM_TR_SNAPSHOT,
	SIM_TR_CONFIG,
	SIM_TR_TRANSFER,
	SIM_TR_TRUNCATE,
	SIM_TR_HEAL,
	SIM_TR_INSTALL,
	SIM_TR_NOTE,
	SIM_TR_WIPE,
	SIM_TR_SM_SYNC,
};

struct sim_trace_rec {
	uint64_t at_ms;
	uint8_t kind;
	uint8_t node;
	uint64_t a, b, c, d;
};

struct sim_trace {
	struct sim_trace_rec recs[SIM_TRACE_LINES];
	uint64_t n; /* records ever added this seed */
};

void sim_trace_add(struct sim_trace *t, uint64_t at_ms, uint8_t kind, uint8_t node, uint64_t a,
                   uint64_t b, uint64_t c, uint64_t d);
/* Prints the ring, oldest first, to stdout. */
void sim_trace_dump(const struct sim_trace *t);

/* ---- Disk (sim_disk.c) --------------------------------------------------- */

struct sim_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type;
	uint8_t len;
	uint8_t data[SIM_DATA_BYTES];
};

/* A log after a snapshot point: entries (base_index, last] in a ring. */
struct sim_log {
	uint64_t base_index;
	uint64_t base_term;
	uint64_t last;
	struct sim_entry *ring; /* SIM_LOG_CAP */
};

struct sim_snap {
	uint64_t index;
	uint64_t term;
	struct raft_config config;
	uint32_t size;
	uint8_t bytes[SIM_SNAP_BYTES_MAX];
};

enum sim_op_kind { SIM_OP_INSTALL = 1, SIM_OP_TRUNCATE, SIM_OP_APPEND, SIM_OP_HARD_STATE };

struct sim_op {
	uint8_t kind;
	uint8_t pool;   /* INSTALL: the snapshot in pool[] */
	uint64_t after; /* TRUNCATE */
	struct raft_hard_state hs;
	struct sim_entry e;
};

/*
 * One node's disk. The volatile view (v*) is what the node has written;
 * the durable view (d*) is what survives a crash. ops[] are the writes
 * between the two, in order, numbered ops_durable..ops_written.
 */
struct sim_disk {
	struct sim_log vlog, dlog;
	struct raft_hard_state vhs, dhs;
	struct sim_snap vsnap, dsnap;
	struct sim_snap incoming; /* received chunks of a snapshot being installed */
	/*
	 * The state machine's own file as last synced (LMDB under MDB_NOSYNC
	 * after mdb_env_sync, sim_store.c): smfile.index is the durable index.
	 * What the node applied above it is lost in a crash and replayed from
	 * the log; dsnap (raftd's snapshot) is taken at or below it.
	 */
	struct sim_snap smfile;
	struct sim_op *ops; /* SIM_OPS_MAX */
	uint64_t ops_durable, ops_written;
	struct sim_snap pool[SIM_SNAP_POOL];
	uint32_t pool_next;
};

int sim_disk_new(struct sim_disk *d);
void sim_disk_free(struct sim_disk *d);
/* A brand-new disk: no log, zero hard state, snapshot 0 with config. */
void sim_disk_format(struct sim_disk *d, const struct raft_config *config);
uint64_t sim_log_term_at(const struct sim_log *l, uint64_t index);
const struct sim_entry *sim_log_get(const struct sim_log *l, uint64_t index);
/* Each returns 0 or a negative KV_E* when a simulated limit is exceeded. */
int sim_disk_install(struct sim_disk *d, const struct raft_snapshot_install *in);
int sim_disk_truncate(struct sim_disk *d, uint64_t after);
int sim_disk_append(struct sim_disk *d, const struct raft_entry *e);
int sim_disk_hard_state(struct sim_disk *d, const struct raft_hard_state *hs);
/* Makes the first n unsynced writes durable; calls back per durable append. */
void sim_disk_sync(struct sim_disk *d, uint64_t upto,
                   void (*on_append)(void *ctx, const struct sim_disk *d,
                                     const struct sim_entry *e),
                   void *ctx);
/* A crash: keeps a random prefix of unsynced writes (a torn last append is dropped). */
uint64_t sim_disk_crash(struct sim_disk *d, struct sim_rng *g, int *torn);
/* A snapshot (or an image of it, at its index or later) was taken: durable at once. */
void sim_disk_snapshot_taken(struct sim_disk *d, const struct sim_snap *s);
void sim_disk_compact(struct sim_disk *d, uint64_t index);
/* Is index durable here (in the durable log with this term, or under the durable snapshot)? */
int sim_disk_durable_has(const struct sim_disk *d, uint64_t index, uint64_t term);

/* ---- State machine (sim_sm.c) -------------------------------------------- */

struct sim_sm {
	uint64_t applied;
	uint64_t applied_term;
	uint64_t value[SIM_KEYS];
	uint64_t mod_index[SIM_KEYS];
	struct raft_config config;
};

void sim_sm_reset(struct sim_sm *sm, const struct sim_snap *s);
/* Applies one entry; returns 0 or KV_EPROTO for a payload it cannot parse. */
int sim_sm_apply(struct sim_sm *sm, const struct sim_entry *e);
void sim_sm_serialize(const struct sim_sm *sm, uint32_t pad, struct sim_snap *out);
/* 0 or KV_ECORRUPT. */
int sim_sm_load(struct sim_sm *sm, const struct sim_snap *s);
uint64_t sim_sm_hash(const struct sim_sm *sm);
uint64_t sim_entry_hash(const struct sim_entry *e);
/* The simulator's own reading of a change (an oracle beside the core's raft_config_apply). */
void sim_config_apply(struct raft_config *c, uint8_t op, uint64_t id, uint64_t inc, uint8_t flags);
uint32_t sim_config_voters(const struct raft_config *c);
int sim_config_equal(const struct raft_config *a, const struct raft_config *b);
int sim_config_role(const struct raft_config *c, uint64_t id); /* 0: not a member */

/* ---- Network (sim_net.c) ------------------------------------------------- */

struct sim_msg_slot {
	struct raft_msg m;
	uint32_t next_free;
	int32_t big; /* the big chunk buffer holding m.chunk, or -1 */
	struct raft_entry ents[RAFT_APPEND_ENTRIES_MAX];
	uint8_t data[RAFT_APPEND_ENTRIES_MAX][SIM_DATA_BYTES];
	uint8_t chunk[SIM_SNAP_BYTES_MAX];
};

enum sim_ev_kind {
	SIM_EV_DELIVER = 1,
	SIM_EV_TICK,
	SIM_EV_SYNC,
	SIM_EV_RESTART,
	SIM_EV_CLIENT,
	SIM_EV_FAULT,
	SIM_EV_SM_SYNC, /* the state machine's syncer (sim_store.c) */
	SIM_EV_IMAGE,   /* an image for a follower is ready (sim_store.c) */
	SIM_EV_FLUSH,   /* the driver drained its input: step RAFT_EVENT_FLUSH (sim_node.c) */
};

struct sim_ev {
	uint64_t at_ms;
	uint64_t seq;
	uint8_t kind;
	uint8_t node; /* slot */
	uint32_t gen; /* node boot for TICK/SYNC/RESTART; message slot for DELIVER */
};

struct sim_net {
	struct sim_msg_slot *slots; /* SIM_NET_SLOTS */
	uint32_t free_head;
	uint32_t used;
	struct sim_ev *heap; /* SIM_EVENTS_MAX */
	uint32_t n_heap;
	uint64_t seq;
	/* faults */
	uint8_t blocked[SIM_SLOTS_MAX][SIM_SLOTS_MAX]; /* [from][to] */
	uint32_t loss_permille, dup_permille;
	uint64_t delay_min_ms, delay_max_ms;
	uint64_t dropped, delivered, sent;
	uint8_t *big; /* SIM_BIG_CHUNKS x RAFT_SNAPSHOT_CHUNK_BYTES */
	uint32_t big_free[SIM_BIG_CHUNKS];
	uint32_t n_big_free;
};

int sim_net_new(struct sim_net *n);
void sim_net_free(struct sim_net *n);
void sim_net_reset(struct sim_net *n);
/* A free message slot, or UINT32_MAX when all are in use (the message is lost). */
uint32_t sim_net_alloc(struct sim_net *n);
void sim_net_release(struct sim_net *n, uint32_t slot);
void sim_net_push(struct sim_net *n, uint64_t at_ms, uint8_t kind, uint8_t node, uint32_t gen);
int sim_net_pop(struct sim_net *n, struct sim_ev *out);
/* A chunk buffer owned by ms until it is released, or NULL when all are in flight. */
uint8_t *sim_net_big_alloc(struct sim_net *n, struct sim_msg_slot *ms);
/* Schedules a copy in slot for delivery under the current faults (may drop or duplicate). */
void sim_net_send(struct sim_net *n, struct sim_rng *g, uint64_t now_ms, uint32_t slot);

/* ---- Snapshot chunks (sim_chunk.c) ------------------------------------- */

int sim_chunk_init(void);
/* Fills ms->m.chunk with bytes [m.offset, +m.chunk_len) of s; 0 or KV_EBUSY (no buffer). */
int sim_chunk_attach(struct sim_net *n, struct sim_msg_slot *ms, const struct sim_snap *s);
/* Writes a received chunk into the incoming snapshot; 0, KV_ERANGE or KV_ECORRUPT. */
int sim_chunk_write(struct sim_snap *in, uint64_t off, const uint8_t *p, uint32_t len);

/* ---- Nodes (sim_node.c) ---------------------------------------------------- */

enum sim_node_state { SIM_NODE_OFF = 0, SIM_NODE_UP, SIM_NODE_DOWN };

struct sim_world;

/* What the node's executor I/O (sim_exec.c) is called back with. */
struct sim_exec_ctx {
	struct sim_world *w;
	uint32_t slot;
};

struct sim_node {
	uint64_t id;
	uint8_t state;
	uint32_t boot;
	struct raft *raft;
	struct raft_status st;
	struct sim_disk disk;
	struct sim_sm sm;
	uint32_t rate_permille; /* clock drift */
	uint64_t clock_base_ms;
	int slow_disk;
	struct raft_exec exec; /* runs each update; held tokens are net slots */
	struct sim_exec_ctx exec_ctx;
	uint64_t sync_mark;   /* disk ops covered by the sync in flight */
	uint64_t last_commit; /* this boot */
	int snapshot_due;
	int removed;           /* its removal is committed: stop after the current step */
	uint64_t incarnation;  /* its disk's; a wipe gives it another */
	uint64_t lost_last;    /* the durable last index of the disk a wipe took (0: none) */
	struct sim_snap image; /* being made for a follower from the applied state */
	int image_pending;     /* image is being made (one at a time) */
	int flush_pending;     /* a SIM_EV_FLUSH of this boot is queued */
};

uint64_t sim_node_now(const struct sim_node *nd, uint64_t global_ms);
/* Boots from the node's durable disk; 0 or the raft_new error. */
int sim_node_start(struct sim_world *w, uint32_t slot);
void sim_node_crash(struct sim_world *w, uint32_t slot);
void sim_node_stop(struct sim_world *w, uint32_t slot);
/* Feeds one event to the core and executes the update; returns raft_step's result. */
int sim_node_step(struct sim_world *w, uint32_t slot, struct raft_event *ev,
                  struct raft_update *up);
void sim_node_sync_done(struct sim_world *w, uint32_t slot);
/* A queued SIM_EV_FLUSH fires: steps RAFT_EVENT_FLUSH. */
void sim_node_flush(struct sim_world *w, uint32_t slot);

/* ---- The state machine's durable file and images (sim_store.c) ---------- */

/*
 * Before the core boots: the state machine from its synced file, replayed
 * from the log up to the snapshot; a file ahead of the snapshot becomes the
 * snapshot (at the durable index, no image). 0, or 1 after a violation.
 */
int sim_store_boot(struct sim_world *w, uint32_t slot);
/* Once the node is up: starts its syncer. */
void sim_store_start(struct sim_world *w, uint32_t slot);
/* The syncer's turn: the applied state becomes durable (mdb_env_sync). */
void sim_store_sync(struct sim_world *w, uint32_t slot);
/* The highest index a compaction may drop the log to: the durable index. */
uint64_t sim_store_compact_bound(const struct sim_node *nd, uint64_t index);
/* The core asks for an image of its snapshot at index: one is made from the applied state. */
void sim_store_want_image(struct sim_world *w, uint32_t slot, uint64_t index);
/* The image is ready: the core is told (SNAPSHOT_TAKEN at its index, with its size). */
void sim_store_image_done(struct sim_world *w, uint32_t slot);

/* ---- The executor's I/O over the simulated disk and network (sim_exec.c) ---- */

/* Sets up the node's executor (nothing held); at each start. */
void sim_exec_start(struct sim_world *w, uint32_t slot);

/* ---- Client (sim_client.c) ------------------------------------------------- */

struct sim_prop {
	uint64_t value; /* unique; 0: slot free */
	uint64_t index, term;
	uint8_t node;
	uint32_t boot;
	uint8_t key;
};

struct sim_read {
	uint64_t read_id; /* 0: slot free */
	uint8_t node;
	uint32_t boot;
	uint8_t key;
	uint64_t min_index; /* the newest acknowledged write of key when the read was issued */
	uint64_t index;     /* from the core, once confirmed */
	int confirmed;
	uint64_t issued_ms;
};

struct sim_client {
	uint64_t next_value;
	uint64_t next_read_id;
	struct sim_prop props[SIM_PROPS_MAX];
	struct sim_read reads[SIM_READS_MAX];
	uint64_t acked_value[SIM_KEYS];
	uint64_t acked_index[SIM_KEYS];
	uint64_t last_member_ms, last_transfer_ms;
	uint64_t next_slot;  /* the next node slot for an added learner */
	uint64_t live_value; /* the liveness proposal after healing */
	uint64_t live_index;
	uint64_t live_prop_ms;
};

void sim_client_reset(struct sim_client *c);
void sim_client_act(struct sim_world *w);
/* Called by the node when it applies e at slot. */
void sim_client_on_apply(struct sim_world *w, uint32_t slot, const struct sim_entry *e);
void sim_client_on_read(struct sim_world *w, uint32_t slot, const struct raft_read *rd);
void sim_client_serve_reads(struct sim_world *w, uint32_t slot);
void sim_client_forget_node(struct sim_world *w, uint32_t slot);
/* Liveness after healing: 1 when a fresh write is applied on every live voter. */
int sim_client_live(struct sim_world *w);

/* ---- Checks (sim_check.c) -------------------------------------------------- */

struct sim_gidx {
	uint64_t term; /* 0: nobody applied this index yet */
	uint64_t entry_hash;
	uint64_t state_hash;
};

struct sim_match {
	uint64_t gen; /* seed generation; other values mean empty */
	uint64_t index, term;
	uint64_t entry_hash;
	uint64_t prev_term;
};

struct sim_check {
	uint8_t *leaders;        /* SIM_TERMS_MAX: slot+1 of the leader of each term */
	struct sim_gidx *gidx;   /* SIM_INDEX_MAX */
	struct sim_match *match; /* SIM_MATCH_SLOTS */
	uint64_t gen;
	uint64_t max_term, max_committed;
	uint64_t verified_commit; /* the highest leader commit found durable on a quorum */
	int violated;
	char what[256];
};

int sim_check_new(struct sim_check *c);
void sim_check_free(struct sim_check *c);
void sim_check_reset(struct sim_check *c);
/* Records the first violation of this seed; printf-style text. */
void sim_check_fail(struct sim_world *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* After each step on slot: role, term, commit, leader completeness. */
void sim_check_node(struct sim_world *w, uint32_t slot, const struct raft_status *before);
void sim_check_apply(struct sim_world *w, uint32_t slot, const struct sim_entry *e);
void sim_check_snapshot_state(struct sim_world *w, uint32_t slot);
void sim_check_durable_append(struct sim_world *w, uint32_t slot, const struct sim_disk *d,
                              const struct sim_entry *e);
void sim_check_sent(struct sim_world *w, uint32_t slot, const struct raft_msg *m);
void sim_check_ack(struct sim_world *w, uint32_t slot, uint64_t index, uint64_t term);
void sim_check_update(struct sim_world *w, uint32_t slot, const struct raft_status *before,
                      const struct raft_update *up);

/* ---- Faults (sim_fault.c) ---------------------------------------------------- */

struct sim_faults {
	int partitions, crashes, slow_disks, drift, membership, transfers;
	int wipes; /* a node loses its disk and comes back empty (at most SIM_WIPES_MAX a seed) */
	uint32_t loss_permille, dup_permille;
	uint64_t delay_max_ms;
	uint64_t client_gap_ms;
	uint32_t snap_every;
	uint32_t snap_pad; /* padding bytes after the state: 0, or enough for several chunks */
};

void sim_fault_choose(struct sim_world *w);
void sim_fault_act(struct sim_world *w);
void sim_fault_heal(struct sim_world *w);
/*
 * 1 while a wiped node is not yet a voter again (or removed): the client
 * makes no membership change meanwhile. A lost disk costs one voter until
 * it is replaced; changes on top of it could cost a quorum for good.
 */
int sim_fault_rejoining(struct sim_world *w);

/* ---- World (sim_world.c) ------------------------------------------------------ */

/* What a run exercised, summed over seeds with --stats. */
struct sim_stats {
	uint64_t writes, acks, reads_ok, config_changes, transfers, snapshots;
	uint64_t crashes, installs, partitions, leaders, live_ms_max, wipes;
	uint64_t later_chunks; /* snapshot chunks written at an offset > 0 */
	uint64_t images;       /* made for a follower (images_above: above the durable index) */
	uint64_t images_above;
	uint64_t lost_applied; /* applied above the durable index when its node went down */
};

struct sim_world {
	struct sim_stats stats;
	int direct_checks; /* also check the core's rules (figure 8, ack/vote after fsync) */
	uint64_t seed;
	uint32_t n_initial;
	struct sim_rng rng;
	uint64_t now_ms;
	uint64_t fault_end_ms;
	uint64_t live_deadline_ms;
	int healed;
	uint64_t steps;
	struct sim_node nodes[SIM_SLOTS_MAX];
	struct raft_config initial;
	uint32_t wipes_done;
	int wiped_slot; /* the last node wiped, or -1 */
	struct sim_net net;
	struct sim_client client;
	struct sim_check check;
	struct sim_faults faults;
	struct sim_trace trace;
	struct raft_entry *boot_entries; /* SIM_LOG_CAP: scratch for raft_boot */
	struct raft_update update;       /* scratch for each step */
};

int sim_world_new(struct sim_world **out);
void sim_world_destroy(struct sim_world **w);
/* Runs one seed; returns 0, or 1 with w->check.what set on a violation. */
int sim_world_run(struct sim_world *w, uint64_t seed, uint32_t nodes);
/* Trace helper with the world's clock. */
void sim_world_trace(struct sim_world *w, uint8_t kind, uint32_t slot, uint64_t a, uint64_t b,
                     uint64_t c, uint64_t d);

static inline uint32_t sim_slot_of(uint64_t id)
{
	return (uint32_t)(id - 1);
}

#endif
