/*
 * storaged.h - the storaged daemon: one event loop (zmq_poll) on one thread
 * over its ZeroMQ sockets, around the state machine of sm.h, plus one helper
 * thread that writes snapshots. Shared by the storaged_*.c files.
 *
 * Sockets (proto.h), under --sock-dir:
 *   storaged-apply.sock   ROUTER, bound: raftd's APPLY_HELLO, APPLY, SNAPSHOT_*
 *   storaged-query.sock   ROUTER, bound: gatewayd's GET, LIST, STATS, SNAPSHOT_REQ (backup)
 *   gatewayd-results.sock PUSH, connected: RESULT of this node's proposals
 */
#ifndef RAFTKV_STORAGED_H
#define RAFTKV_STORAGED_H

#include "proto.h"
#include "sm.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define STORAGED_ENVELOPE_FRAMES_MAX  4u /* routing frames before the body */
#define STORAGED_ENVELOPE_FRAME_BYTES 256u
#define STORAGED_PARK_MAX             4096u /* queries waiting for the applied index */
#define STORAGED_APPLY_ENTRIES_MAX    PROTO_APPLY_ENTRIES_MAX /* entries in one APPLY */
#define STORAGED_ARENA_BYTES          PROTO_LOCAL_ARENA_BYTES
#define STORAGED_POLL_MS_MAX          1000   /* wake at least this often to see signals */
#define STORAGED_RESULTS_HWM          100000 /* RESULTs queued for a slow gateway */

/* The routing frames a ROUTER put in front of a request; echoed on the reply. */
struct storaged_envelope {
	uint32_t n;
	uint32_t len[STORAGED_ENVELOPE_FRAMES_MAX];
	uint8_t frame[STORAGED_ENVELOPE_FRAMES_MAX][STORAGED_ENVELOPE_FRAME_BYTES];
};

/* A GET or LIST waiting until the applied index reaches min_index. */
struct storaged_parked {
	struct storaged_envelope env;
	uint8_t *body; /* owned copy of the request, decoded again when answered */
	size_t body_len;
	uint64_t min_index;
	uint64_t deadline_ms;
	uint64_t req_id;
	uint8_t type;
	uint64_t watch_from;   /* WATCH: where the next read of the history starts */
	uint64_t watch_seen;   /* WATCH: the applied index of the last read (0: none yet) */
	uint8_t watch_at_once; /* WATCH: answer once min_index is applied */
};

struct storaged_config {
	uint64_t node_id;
	const char *data_dir;
	const char *sock_dir;
	uint64_t map_bytes;           /* initial LMDB map size */
	uint64_t quota_bytes;         /* replicated-data quota, the same on every node */
	uint64_t sync_ms;             /* period of the background LMDB sync (storaged_syncer.c) */
	uint64_t watch_history;       /* events kept (sm_event.c) */
	uint64_t watch_history_bytes; /* bytes of them kept */
};

/* The sync thread's shared state (storaged_syncer.c says who holds what). */
struct storaged_syncer {
	pthread_t thread;
	int started;
	pthread_mutex_t mu; /* guards stop, committed, durable, failed, syncs */
	pthread_cond_t cv;
	pthread_mutex_t env_mu; /* sm->env is being synced or replaced */
	int stop;
	uint64_t committed; /* highest index committed (loop) */
	uint64_t durable;   /* highest index made durable (sync thread) */
	int failed;         /* a sync failed: KV_E* code, never retried (F13) */
	uint64_t syncs;
};

struct storaged {
	struct storaged_config cfg;
	struct sm *sm;
	char snap_dir[SM_PATH_BYTES_MAX];
	void *zctx;
	void *apply_sock;
	void *query_sock;
	void *results_sock;
	void *snap_pair; /* loop's end of the inproc pair to the snapshot thread */
	struct storaged_syncer syncer;
	pthread_t snap_thread;
	int snap_thread_started;
	int snap_busy;
	struct storaged_envelope snap_env; /* who asked for the copy in flight */
	uint64_t snap_req_id;
	void *snap_sock;   /* where its SNAPSHOT_DONE goes: apply (raftd) or query (gatewayd) */
	uint64_t snap_tag; /* names backup files */
	uint32_t n_parked;
	struct storaged_parked *parked[STORAGED_PARK_MAX];
	struct proto_buf out;     /* reply being encoded */
	struct proto_arena arena; /* decoded arrays of the message in hand */
	uint8_t *arena_mem;
	struct sm_result *results;      /* room for STORAGED_APPLY_ENTRIES_MAX */
	struct sm_buf value;            /* GET's copy of a value */
	struct sm_list list;            /* LIST's copies */
	struct sm_events events;        /* WATCH's copies */
	struct proto_item *watch_items; /* WATCH_RESP items, PROTO_WATCH_ITEMS_MAX */
	struct proto_item *items;       /* LIST_RESP items, KV_LIST_LIMIT_MAX */
	uint64_t results_dropped;
};

/* storaged_results.c: the RESULTs of one APPLY's first n sd->results, batched */
void storaged_results_send(struct storaged *sd, uint32_t n);

/* storaged_sock.c: sockets and framing */
int storaged_sock_open(struct storaged *sd);
void storaged_sock_close(struct storaged *sd);
/* Receives one request: envelope frames, then the body into *body (caller closes). */
int storaged_sock_recv(void *sock, struct storaged_envelope *env, void *body_msg);
/* Encodes m and sends it behind env on sock; drops it (logged) if it cannot go now. */
int storaged_sock_reply(struct storaged *sd, void *sock, const struct storaged_envelope *env,
                        const struct proto_local *m);

/* storaged_apply.c: the apply socket's requests */
int storaged_apply_handle(struct storaged *sd, const struct storaged_envelope *env,
                          const struct proto_local *m);
/* SNAPSHOT_REQ from raftd (an image) or, on the query socket, the gateway (a backup). */
void storaged_apply_snapshot_req(struct storaged *sd, void *sock,
                                 const struct storaged_envelope *env, uint64_t req_id, int backup);
/* Answers a SNAPSHOT_REQ requester once the snapshot thread reports. */
void storaged_apply_snapshot_done(struct storaged *sd, int status, const struct sm_snap_info *info);

/* storaged_query.c: the query socket's requests */
int storaged_query_handle(struct storaged *sd, const struct storaged_envelope *env,
                          const struct proto_local *m, const uint8_t *body, size_t body_len);
/* Answers a query now (applied index reached or not: status says). */
int storaged_query_answer(struct storaged *sd, const struct storaged_envelope *env,
                          const struct proto_local *m, int status);
/* A GET's or LIST's min_index and wait_ms (the index to wait for, and how long). */
void storaged_query_wait(const struct proto_local *m, uint64_t *min_index, uint64_t *wait_ms);

/* storaged_watch.c: WATCH, answered on a change or when its wait runs out */
int storaged_watch_handle(struct storaged *sd, const struct storaged_envelope *env,
                          const struct proto_local *m, const uint8_t *body, size_t body_len);
/*
 * Reads m's changes from *from and answers when there is one, or when final
 * or status (non-zero: answered as the error) says to; then returns 1. Else
 * moves *from past what was read and returns 0 (nothing sent).
 */
int storaged_watch_try(struct storaged *sd, const struct storaged_envelope *env,
                       const struct proto_local *m, int status, uint64_t *from, int final);
/* A parked WATCH after the applied index moved or time passed: 1 when answered. */
int storaged_watch_step(struct storaged *sd, struct storaged_parked *p, uint64_t now_ms);
/* storaged_lease.c: LEASE_QUERY's answer (status: 0, or why it is answered unread) */
int storaged_lease_query(struct storaged *sd, const struct storaged_envelope *env, uint64_t req_id,
                         const struct proto_lease_query *m, int status);

/* storaged_park.c: queries waiting for the applied index */
int storaged_park_add(struct storaged *sd, const struct storaged_envelope *env,
                      const struct proto_local *m, const uint8_t *body, size_t body_len,
                      uint64_t now_ms);
/* Answers every parked query whose index is reached or whose deadline passed. */
void storaged_park_run(struct storaged *sd, uint64_t now_ms);
/* Milliseconds until the nearest deadline, at most max_ms. */
int storaged_park_timeout_ms(const struct storaged *sd, uint64_t now_ms, int max_ms);
/* Answers every parked query with status (shutdown) and frees them. */
void storaged_park_flush(struct storaged *sd, int status);

/* storaged_snapper.c: the snapshot thread */
int storaged_snapper_start(struct storaged *sd);
/* Asks the thread for one image (backup: a backup file) for the requester
 * (env on sock, req_id); KV_EBUSY while one runs. */
int storaged_snapper_request(struct storaged *sd, void *sock, const struct storaged_envelope *env,
                             uint64_t req_id, int backup);
/* Reads the thread's report (blocking when wait) and answers the requester. */
int storaged_snapper_collect(struct storaged *sd, int wait);
void storaged_snapper_stop(struct storaged *sd);

/* storaged_syncer.c: the sync thread (background mdb_env_sync) */
int storaged_syncer_start(struct storaged *sd);
/* Loop: index is committed (applied) and should become durable. */
void storaged_syncer_note(struct storaged *sd, uint64_t committed);
/* Loop: the highest durable index in *durable; returns 0 or the sync's failure. */
int storaged_syncer_durable(struct storaged *sd, uint64_t *durable);
/* Loop: hold off the sync thread while sm->env is replaced; unlock with the
 * new environment's (synced) applied index, or storaged_syncer_release() when
 * nothing was replaced. */
void storaged_syncer_lock_env(struct storaged *sd);
void storaged_syncer_unlock_env(struct storaged *sd, uint64_t durable);
/* Loop: hold off the sync thread while sm->env is remapped (map growth). */
void storaged_syncer_hold(struct storaged *sd);
void storaged_syncer_release(struct storaged *sd);
/* Stops the thread, then one last sync; 0 or KV_EIO. */
int storaged_syncer_stop(struct storaged *sd);

/* storaged_loop.c: the event loop */
int storaged_loop_run(struct storaged *sd, volatile int *stop);

#endif
