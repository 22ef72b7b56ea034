/*
 * raftd.h - the raftd driver: its state and the functions its files share.
 *
 * raftd runs the pure Raft core (raft.h) through the shared executor
 * (raft_exec.h) over the WAL (wal.h), the peer transport (ZeroMQ TCP) and
 * the node-local sockets to gatewayd and storaged (proto.h). Everything here
 * belongs to the one loop thread; nothing is locked. The driver's files are
 * the raftd_*.c of services/raftd/driver/, each named for what it does; the
 * functions they share are declared below under their file's name.
 */
#ifndef RAFTKV_RAFTD_H
#define RAFTKV_RAFTD_H

#include "proto.h"
#include "raft.h"
#include "raft_exec.h"
#include "raftd_book.h"
#include "raftd_curve_keys.h"
#include "raftd_join.h"
#include "raftd_local_batch.h"
#include "raftd_peerlist.h"
#include "raftd_read_table.h"
#include "raftd_reconcile.h"
#include "raftd_relay_table.h"
#include "wal.h"

#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <zmq.h>

#define RAFTD_SVC "raftd"

#define RAFTD_TICK_MS             10u        /* RAFT_EVENT_TICK period */
#define RAFTD_DRAIN_MAX           256u       /* input messages handled per loop iteration */
#define RAFTD_APPLY_BATCH_ENTRIES 256u       /* entries per APPLY */
#define RAFTD_APPLY_BATCH_BYTES   (8u << 20) /* payload bytes per APPLY */
#define RAFTD_APPLY_INFLIGHT_MAX  2u         /* APPLY batches awaiting their APPLY_STATE */
#define RAFTD_STORAGED_QUIET_MS   1000u   /* no answer this long: storaged seems gone, say HELLO */
#define RAFTD_FULL_RETRY_MS       1000u   /* retry period after storaged answered KV_EFULL */
#define RAFTD_INSTALL_WAIT_MS     30000u  /* bound on storaged installing a snapshot */
#define RAFTD_INSTALL_TRIES_MAX   5u      /* SNAPSHOT_INSTALLs storaged may refuse before exit */
#define RAFTD_INSTALL_RETRY_MS    1000u   /* wait after a refused install before the next */
#define RAFTD_SNAPSHOT_WAIT_MS    120000u /* give up on a SNAPSHOT_REQ after this */
#define RAFTD_IMAGE_IDLE_MS       10000u  /* an image no follower read for this long is deleted */
#define RAFTD_IMAGE_RETRY_MS      1000u   /* after a failed image, wait this long to ask again */
/* compact even while an image is sent once the log holds this many entries */
#define RAFTD_COMPACT_FORCE_ENTRIES (RAFT_LOG_WINDOW / 2)
/* a leader keeps at most this many entries (and --snapshot-entries) for a slow follower */
#define RAFTD_COMPACT_KEEP_ENTRIES (RAFT_LOG_WINDOW / 8)
#define RAFTD_CONNECT_RETRY_MS     1000u /* a peer whose zmq_connect failed is retried */
/* a DEALER that could send nothing this long is closed and made again (raftd_peers.c) */
#define RAFTD_PEER_REDIAL_MS     3000u
#define RAFTD_ARENA_BYTES        PROTO_LOCAL_ARENA_BYTES /* decoder arena: enough for any message */
#define RAFTD_WAL_SEGMENT_BYTES  (64u << 20)
#define RAFTD_DIR_BYTES_MAX      3072u /* --data-dir and --sock-dir, leaving room for file names */
#define RAFTD_PERSIST_ROUNDS_MAX 16u   /* PERSISTED steps per iteration before yielding */

/* The flags, parsed by raftd_main.c; strings are borrowed for the process lifetime. */
struct raftd_opts {
	uint64_t node_id;
	const char *peers;
	const char *listen;
	const char *data_dir;
	const char *sock_dir;
	uint64_t election_timeout_ms;
	uint64_t heartbeat_ms;
	uint64_t snapshot_entries;
	const char *log_level;
	const char *curve_secret_key; /* path; "" = plaintext peers */
	const char *peer_keys;        /* "1=Z85,2=Z85,..." */
	const char *peer_keys_file;   /* path of "ID Z85" lines */
	int insecure;                 /* plaintext on a non-loopback --listen is allowed */
	const char *join;             /* --join URL,URL,...: register with a running cluster */
	const char *join_as;          /* voter (promoted once caught up) or learner */
	const char *url;              /* this node's HTTP base URL, advertised by --join */
	const char *advertise;        /* host:port the other nodes reach this raftd at */
	const char *join_token_file;  /* admin token for --join (never logged) */
	const char *join_cacert;      /* CAs for --join's https:// URLs */
};

/* CurveZMQ on the peer port (raftd_curve.c); all zero when peers are plaintext. */
struct raftd_curve {
	int on;
	char secret_z85[RAFTD_CURVE_Z85_LEN + 1]; /* this node's secret key */
	char public_z85[RAFTD_CURVE_Z85_LEN + 1]; /* derived from it */
	struct raftd_peer_keys keys;              /* the allow-list, every node of --peers */
	void *zap;                                /* REP on inproc://zeromq.zap.01 */
	uint64_t denied;                          /* handshakes refused: key not in the list */
	uint64_t id_mismatch;                     /* messages whose claimed id is not the key's */
};

/* One other voter or learner and its outgoing DEALER. */
struct raftd_peer {
	uint64_t id;
	char addr[RAFTD_HOST_BYTES_MAX + 8];      /* host:port, for STATUS_RESP */
	char endpoint[RAFTD_HOST_BYTES_MAX + 16]; /* tcp://host:port */
	char curve_key[RAFTD_CURVE_Z85_LEN + 1];  /* the key its DEALER pins ("" plaintext) */
	void *dealer;                             /* NULL until zmq_connect succeeded */
	uint64_t next_connect_ms;
	uint64_t sent;
	uint64_t dropped;          /* EAGAIN at the high-water mark, or not connected */
	uint64_t failing_since_ms; /* the first send that failed since the last that went out */
	uint64_t redials;          /* DEALERs closed and made again (raftd_peers_connect_due) */
	uint64_t
	    last_recv_ms; /* a valid message from it last arrived (0: never); for the handoff */
};

/*
 * A message the executor holds until the next wal_sync (raftd_update.c). It
 * names the peer by id: the peer may be dropped, or its slot reused by
 * another, before the message is sent (raftd_reconcile.h).
 */
struct raftd_held {
	uint64_t peer_id;
	zmq_msg_t msg;
};

/*
 * The relays made while one drain of the gateway's requests runs, sent to
 * the leader as one PROPOSE at its end (raftd_relay_flush): their ids are
 * consecutive from first_id.
 */
struct raftd_relay_batch {
	uint64_t leader; /* where they go; meaningful while n > 0 */
	uint64_t first_id;
	uint32_t n;
	uint32_t end[RAFT_RELAY_COMMANDS_MAX]; /* command i is data.ptr[end[i-1] .. end[i]) */
	struct proto_buf data;                 /* owned; freed by raftd_relay_free() */
};

/* One APPLY batch awaiting storaged's APPLY_STATE. */
struct raftd_apply_batch {
	uint64_t req_id;
	uint64_t last_index;
};

/* A snapshot storaged wrote, until its metadata is saved in the WAL. */
struct raftd_snap_pending {
	int valid;
	uint64_t index, term, size;
	struct raft_config config;
	char path[PATH_MAX];
};

struct raftd {
	struct raftd_opts opts;
	struct raftd_peer_list peer_list; /* --peers: seeds the book of a new cluster */
	struct raftd_join_plan join;      /* --join, checked (raftd_join.h); join.on: given */
	uint64_t join_since_ms;           /* boot or the last registration (raftd_join_recheck) */
	struct raftd_book book;           /* every node's addresses (raftd_book.h) */
	int peers_stale;                  /* the book or the configuration changed: reconcile */
	char wal_dir[RAFTD_DIR_BYTES_MAX];
	char snap_dir[RAFTD_DIR_BYTES_MAX];
	volatile sig_atomic_t *stop;

	/* sockets */
	void *zctx;
	void *peer_router;  /* --listen: other nodes' DEALERs */
	void *local_router; /* ipc://<sock-dir>/raftd.sock: gatewayd */
	void *apply_dealer; /* ipc://<sock-dir>/storaged-apply.sock */
	uint32_t n_peers;
	struct raftd_peer peers[RAFT_NODES_MAX];
	uint64_t
	    peer_msgs_dropped; /* malformed, unknown sender, wrong target, refused, or send drops */
	struct raftd_curve curve;

	/* identity (raftd_identity.c) */
	uint64_t incarnation;        /* this data directory's, never 0 */
	uint64_t cluster_id;         /* 0 until the first leader made one */
	uint64_t other_cluster_msgs; /* peer messages from another cluster, dropped */

	/* core and log */
	struct raft *raft;
	struct wal *wal;
	struct raft_update update; /* scratch for every raft_step */
	uint64_t next_tick_ms;
	int wal_dirty;          /* written since the last wal_sync */
	uint64_t wal_last_term; /* the term of the WAL's last entry; 0: look it up */
	uint64_t wal_fsyncs, wal_fsync_us_total, wal_fsync_us_max;
	struct raft_exec *exec;  /* runs every update */
	struct raftd_held *held; /* [RAFT_EXEC_HELD_MAX]: the executor's token & mask */
	uint64_t held_next;      /* the next token */
	uint8_t last_role;
	uint64_t last_leader, last_term;

	/* snapshots */
	uint64_t snap_index, snap_term, snap_size;
	struct raft_config snap_config;
	int snap_fd;          /* the current snapshot file, -1 if none */
	int incoming_fd;      /* <snap_dir>/incoming.tmp while receiving, else -1 */
	uint64_t snap_req_id; /* SNAPSHOT_REQ (an image for a follower) in progress (0: none) */
	uint64_t snap_req_ms;
	uint64_t image_used_ms;            /* the image file was made or read for a follower then */
	uint64_t image_retry_ms;           /* no new SNAPSHOT_REQ before this (after a failure) */
	int image_handed_over;             /* a received image went to storaged: tell the core */
	uint8_t *chunk_buf;                /* [RAFT_SNAPSHOT_CHUNK_BYTES] */
	char snap_path[PATH_MAX];          /* the current snapshot file ("" if none) */
	struct raftd_snap_pending pending; /* SNAPSHOT_DONE awaiting the core's compact_index */
	struct raftd_book snap_book;       /* the book an incoming snapshot carried, */
	uint64_t snap_book_index;          /*   adopted when that snapshot installs (0: none) */

	/* storaged */
	uint64_t commit_index;           /* highest commit_last seen */
	uint64_t applied_index;          /* storaged's, from APPLY_STATE */
	uint64_t storaged_durable_index; /* storaged's LMDB is durable up to it (APPLY_STATE) */
	uint64_t apply_next;             /* next index to send; 0 until storaged said HELLO */
	uint32_t n_apply_inflight;
	struct raftd_apply_batch apply_inflight[RAFTD_APPLY_INFLIGHT_MAX];
	uint64_t hello_req_id;            /* HELLO awaiting its answer (0: none) */
	uint64_t storaged_wait_since_ms;  /* oldest unanswered request, 0: none */
	uint64_t storaged_heard_ms;       /* last answer from storaged */
	int storaged_known;               /* a HELLO was answered since start */
	uint64_t apply_retry_ms;          /* storaged was full: no APPLY before this */
	struct raft_entry *apply_entries; /* [RAFTD_APPLY_BATCH_ENTRIES] */

	/* gateway */
	struct raftd_read_table *reads;
	uint64_t gateway_heard_ms; /* last request from the local gatewayd (0: none yet) */
	uint64_t status_asked;     /* STATUS requests from the local gatewayd (raftd_handoff.c) */
	uint64_t leader_since_ms;  /* when this node last became leader */
	uint64_t handoff_tried_ms; /* last handoff because a neighbour went silent */

	/* replies to the gateway, sent together per drain (raftd_local_batch.h) */
	struct raftd_local_batch replies;

	/* writes relayed to the leader (raftd_relay.c) */
	struct raftd_relay_table *relays;   /* this node's relays awaiting the leader's answer */
	struct raftd_relay_batch relay_out; /* relays of this drain not sent yet */
	uint64_t relayed;                   /* PROPOSEs this node relayed */
	uint64_t relays_taken;              /* relayed PROPOSEs this node appended as leader */
	uint64_t relays_refused;            /* relayed PROPOSEs dropped: not a member, too large */

	/* shared scratch */
	uint64_t next_req_id;
	struct proto_buf buf;
	uint8_t *arena_mem; /* [RAFTD_ARENA_BYTES] */
};

/* raftd_boot.c: opens the WAL, snapshot state and the core. 0 or a KV_E* code (logged). */
int raftd_boot_core(struct raftd *d);

/*
 * raftd_identity.c: loads <wal>/identity, or makes one (a new incarnation,
 * no cluster id) when there is none (a new WAL, one seeded by a restore, or
 * a lost file; wal_is_new only changes what is logged). 0 or a KV_E* code
 * (logged; a damaged file is KV_ECORRUPT).
 */
int raftd_identity_load(struct raftd *d, int wal_is_new);
/* Records cluster_id (d->cluster_id was 0) durably; 0 or a KV_E* code (logged). */
int raftd_identity_adopt_cluster(struct raftd *d, uint64_t cluster_id);
/* This node just became leader: a brand-new cluster gets its id now. */
void raftd_identity_on_leader(struct raftd *d);
/* 1 when m may be stepped; 0 when it comes from another cluster (counted) or unsaved. */
int raftd_identity_accept(struct raftd *d, const struct raft_msg *m);

/*
 * raftd_addresses.c: the running raftd's address book (raftd_book.h).
 * At boot (after the WAL is open, before the core): the file, then --peers
 * for ids it lacks, then the CONFIG entries of rec. 0 or a KV_E* code (logged).
 */
int raftd_addresses_boot(struct raftd *d, const struct wal_recovery *rec);
/* After each raft_step: CONFIG entries appended, truncations, snapshot installs. */
void raftd_addresses_observe(struct raftd *d, const struct raft_update *u);
/* An incoming SNAPSHOT (borrowed for the call): keeps the book it carries for its install. */
void raftd_addresses_stash(struct raftd *d, const struct raft_msg *m);

/* raftd_local.c: encodes resp and sends it to the local client named by identity. */
void raftd_local_reply(struct raftd *d, const void *identity, size_t identity_len,
                       const struct proto_local *resp);

/* raftd_members.c: answers a MEMBER_CHANGE (m borrowed for the call) with MEMBER_CHANGE_RESP. */
void raftd_members_change(struct raftd *d, const void *ident, size_t ident_len,
                          const struct proto_local *m);

/* raftd_loop.c: runs until *d->stop; returns 0 or a fatal KV_E* code. */
int raftd_loop_run(struct raftd *d);
/* One iteration: wait for input or the next tick, then handle it. 0 or a fatal KV_E* code. */
int raftd_loop_once(struct raftd *d);

/* raftd_handoff.c: on SIGTERM, a leader hands over to a caught-up voter (bounded wait). */
void raftd_handoff(struct raftd *d);
/* A leader whose local gatewayd or storaged went silent hands over (rate-limited). */
void raftd_handoff_if_neighbours_gone(struct raftd *d, uint64_t now_ms);

/* raftd_update.c: sets up d->exec over raftd's I/O (after main_alloc). */
void raftd_update_init(struct raftd *d);
/* Steps the core with ev and has the executor run the update. Returns raft_step's result. */
int raftd_update_step(struct raftd *d, const struct raft_event *ev);
/* Steps FLUSH, then wal_sync, send held messages, step PERSISTED until nothing is pending.
 * Exits on fsync failure. */
void raftd_update_flush(struct raftd *d);

/* raftd_sock.c */
int raftd_sock_open(struct raftd *d);
void raftd_sock_close(struct raftd *d);
void *raftd_sock_new(struct raftd *d, int type);
/* Sends the frames [identity?][payload]; 0, or KV_EBUSY on EAGAIN, KV_EIO otherwise. */
int raftd_sock_send(void *sock, const void *identity, size_t identity_len, const void *payload,
                    size_t payload_len);

/* raftd_peers.c */
int raftd_peers_init(struct raftd *d);
/* Opens and closes peer connections to follow the configuration (when d->peers_stale). */
void raftd_peers_reconcile(struct raftd *d);
void raftd_peers_connect_due(struct raftd *d, uint64_t now_ms);
/* raftd_join.c: a joined node left alone too long registers again (raftd_join_recheck_due). */
void raftd_join_recheck(struct raftd *d, uint64_t now_ms);
/* Encodes m with payloads attached into out (initialised here). 0 or a KV_E* code. */
int raftd_peers_encode(struct raftd *d, const struct raft_msg *m, zmq_msg_t *out);
/* Sends an encoded message to m->to (consumes msg). Drops and counts when it cannot:
 * KV_EBUSY (not connected, or its queue is full), else 0. */
int raftd_peers_send_encoded(struct raftd *d, uint64_t peer_id, zmq_msg_t *msg);
int raftd_peers_index(const struct raftd *d, uint64_t id);
/* Receives and steps at most budget peer messages; returns how many arrived. */
uint32_t raftd_peers_drain(struct raftd *d, uint32_t budget);

/* raftd_curve.c */
/* Loads the Curve flags' keys into d->curve, or checks that plaintext is allowed; 0 or exit
 * status 2. */
int raftd_curve_configure(struct raftd *d);
/* Binds the ZAP handler socket (Curve on only); before the peer ROUTER binds. 0 or KV_EIO. */
int raftd_curve_zap_open(struct raftd *d);
/* Makes the peer ROUTER a Curve server whose handshakes go through ZAP (no-op when off). */
void raftd_curve_server(struct raftd *d, void *router);
/* Makes a DEALER a Curve client pinning server_z85, the peer's key (no-op when off). */
void raftd_curve_client(struct raftd *d, void *dealer, const char *server_z85);
/* Answers up to budget pending ZAP requests; returns how many. */
uint32_t raftd_curve_zap_drain(struct raftd *d, uint32_t budget);
/*
 * The node that sent msg: with Curve, the one whose key authenticated its
 * connection (0 if none); without, identity_id (from "raftd-<id>").
 */
uint64_t raftd_curve_sender(struct raftd *d, zmq_msg_t *msg, uint64_t identity_id);
/* Counts and logs a message from key_id's connection that claims to be from claimed. */
void raftd_curve_refuse_claim(struct raftd *d, uint64_t key_id, uint64_t claimed);
void raftd_curve_close(struct raftd *d);

/* raftd_local.c */
uint32_t raftd_local_drain(struct raftd *d, uint32_t budget);
/* Answers the gateway for each read the core confirmed or refused (reads borrowed). */
void raftd_local_answer_reads(struct raftd *d, const struct raft_read *reads, uint32_t n);

/* raftd_relay.c */
/* Empties the relay table, its ids starting at a random point (after main_alloc). */
void raftd_relay_init(struct raftd *d);
/*
 * Relays a PROPOSE from the gateway (identity borrowed for the call, data
 * copied) to leader, in the batch raftd_relay_flush sends. 0: the answer
 * comes later (or never, if lost; a batch that cannot be sent is answered
 * not leader); else a KV_E* code and nothing was kept: the caller answers.
 */
int raftd_relay_propose(struct raftd *d, uint64_t leader, const void *ident, size_t ident_len,
                        uint64_t req_id, const uint8_t *data, uint32_t len);
/* Sends the relays collected in this drain as one PROPOSE (at its end, or when full). */
void raftd_relay_flush(struct raftd *d);
void raftd_relay_free(struct raftd *d);
/* On SIGTERM (after the handoff): runs the loop until every relay is answered, bounded. */
void raftd_relay_finish(struct raftd *d);
/* A peer PROPOSE or PROPOSE_RESP (m borrowed for the call); 0 or KV_EPROTO (dropped). */
int raftd_relay_receive(struct raftd *d, const struct raft_msg *m);

/* raftd_apply.c */
void raftd_apply_init(struct raftd *d);
uint32_t raftd_apply_drain(struct raftd *d, uint32_t budget);
void raftd_apply_pump(struct raftd *d, uint64_t now_ms);
void raftd_apply_committed(struct raftd *d, uint64_t commit_last);
/* Sends msg to storaged; 0, KV_EBUSY (not connected) or KV_EIO. */
int raftd_apply_send(struct raftd *d, const struct proto_local *m);

/* raftd_snapfile.c */
int raftd_snapfile_boot(struct raftd *d, const struct wal_recovery *rec);
void raftd_snapfile_close(struct raftd *d);
/* Makes path the file outgoing chunks are read from; unlinks the previous one. */
void raftd_snapfile_use(struct raftd *d, const char *path);
int raftd_snapfile_write_chunk(struct raftd *d, uint64_t offset, const uint8_t *chunk,
                               uint32_t len);
int raftd_snapfile_install(struct raftd *d, const struct raft_snapshot_install *si);
int raftd_snapfile_read_chunk(struct raftd *d, uint64_t snap_index, uint64_t offset, uint32_t len,
                              const uint8_t **out);
/* Hands storaged the current snapshot file when it is behind the log's start. */
int raftd_snapfile_give_storaged(struct raftd *d);

/* raftd_image.c: image files of the snapshot, made only while a follower needs one */
/* The core's want_image: asks storaged for an image (one at a time). */
void raftd_image_want(struct raftd *d, uint64_t index);
/* 1 while an image is being made or was read by a follower lately. */
int raftd_image_active(const struct raftd *d, uint64_t now_ms);
/* Gives up on an unanswered request; deletes an image nobody reads (telling the core). */
void raftd_image_tick(struct raftd *d, uint64_t now_ms);

/* raftd_snapshot_take.c */
/* Makes storaged's durable index the snapshot (no copy) every --snapshot-entries. */
void raftd_snapshot_take_request(struct raftd *d, uint64_t now_ms);
/* storaged's SNAPSHOT_DONE: tells the core (SNAPSHOT_TAKEN). */
void raftd_snapshot_take_done(struct raftd *d, const struct proto_local *m);
/* The core's compact_index: snapshot metadata made durable, then the log prefix dropped. */
int raftd_snapshot_take_compact(struct raftd *d, uint64_t compact_index);

#endif
