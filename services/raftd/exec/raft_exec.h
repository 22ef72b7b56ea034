/*
 * raft_exec.h - the one executor of the core's updates (struct raft_update).
 *
 * raft_exec_run() carries out one update in raft.h's fixed order over an I/O
 * interface (struct raft_exec_io) that each driver implements: raftd with
 * the WAL and ZeroMQ, the simulator and the unit harness with their
 * simulated disk and network. The order:
 *
 *   0. barrier: before anything that removes log entries (a truncation or a
 *      snapshot install), every write so far is synced and every held
 *      message sent; the held acknowledgements may cover entries about to be
 *      dropped, which would then never reach the disk;
 *   1. persist: snapshot chunk, snapshot install, truncation, appends, hard
 *      state (written, not yet durable);
 *   2. send msgs_now at once; hold msgs_after_persist until a sync covers
 *      this update's writes (sent at once when nothing is unsynced);
 *   3. apply [commit_first, commit_last];
 *   4. answer the update's reads;
 *   5. compact the log up to compact_index; pass want_image on.
 *
 * Group commit: the writes of many updates share one sync. raft_exec_flush()
 * syncs at once (raftd, the harness); an I/O with sync_request starts a sync
 * that completes later with raft_exec_sync_done() (the simulator). Either
 * releases the held messages and yields the RAFT_EVENT_PERSISTED to step.
 *
 * Pure: no syscalls, no allocation; the held messages live in a fixed ring
 * (RAFT_EXEC_HELD_MAX). One thread per struct raft_exec. Planted bug for
 * tests: raft_bug_exec_release_before_sync() (raft_bugs.h).
 */
#ifndef RAFTKV_RAFT_EXEC_H
#define RAFTKV_RAFT_EXEC_H

#include "raft.h"

#include <stdint.h>

#define RAFT_EXEC_HELD_MAX    8192u /* messages waiting for a sync; power of two */
#define RAFT_EXEC_BATCHES_MAX 2048u /* updates waiting for a sync; power of two */

/*
 * What a driver does for the executor. ctx is passed back to every call.
 * Callbacks returning int return 0 or a negative KV_E* code; a failure stops
 * the update there and raft_exec_run() returns it (raftd exits instead).
 * Every pointer passed is borrowed for the call only.
 */
struct raft_exec_io {
	void *ctx;
	int (*write_chunk)(void *ctx, uint64_t offset, const uint8_t *data, uint32_t len);
	int (*install)(void *ctx, const struct raft_snapshot_install *si);
	int (*truncate)(void *ctx, uint64_t after);
	int (*append)(void *ctx, const struct raft_entry *entries, uint32_t n);
	int (*save_hard_state)(void *ctx, const struct raft_hard_state *hs);
	/* The last index of the log as written, and its term (the snapshot's if empty). */
	void (*log_last)(void *ctx, uint64_t *index, uint64_t *term);
	/* Makes every write so far durable now. */
	int (*sync)(void *ctx);
	/* Optional (NULL: none): starts a sync that ends with raft_exec_sync_done(). */
	void (*sync_request)(void *ctx);
	/* Sends m now (payloads or chunk attached by the driver); drops are the driver's. */
	void (*send)(void *ctx, const struct raft_msg *m);
	/*
	 * Copies m (payloads attached, encoded) into a message the driver keeps
	 * until transmit or discard; 0 and *token, or non-zero when the message
	 * is dropped (counted by the driver). Held messages are transmitted or
	 * discarded in the order they were prepared.
	 */
	int (*prepare)(void *ctx, const struct raft_msg *m, uint64_t *token);
	void (*transmit)(void *ctx, uint64_t token); /* sends it; the token is spent */
	void (*discard)(void *ctx, uint64_t token);  /* frees it unsent */
	void (*apply)(void *ctx, uint64_t first, uint64_t last);
	/* Called once per update, after apply, with its reads (n may be 0). */
	void (*answer)(void *ctx, const struct raft_read *reads, uint32_t n);
	int (*compact)(void *ctx, uint64_t index);
	/* Optional (NULL: never asked, images always exist): make an image of the
	 * snapshot at index for a follower, reported later with SNAPSHOT_TAKEN. */
	void (*want_image)(void *ctx, uint64_t index);
};

/* The updates since the last sync that hold messages or wait for PERSISTED. */
struct raft_exec_batch {
	uint64_t mark;        /* the write count after its update */
	uint64_t index, term; /* the log's last entry after its update */
	uint32_t n_held;      /* its messages in held[] */
};

struct raft_exec {
	struct raft_exec_io io;
	uint64_t writes;    /* updates that wrote something */
	uint64_t synced;    /* writes known durable */
	int syncing;        /* a sync_request is in flight */
	uint64_t sync_mark; /* writes covered by that sync */
	uint64_t batch_head, batch_tail;
	struct raft_exec_batch batches[RAFT_EXEC_BATCHES_MAX];
	uint64_t held_head, held_tail;
	uint64_t held[RAFT_EXEC_HELD_MAX]; /* prepared tokens, in sending order */
};

/* Sets up x over io (copied); nothing written, nothing held. */
void raft_exec_init(struct raft_exec *x, const struct raft_exec_io *io);

/* Discards the held messages and forgets the batches (a crash or shutdown). */
void raft_exec_reset(struct raft_exec *x);

/* Executes u (borrowed for the call). 0, or the first failing callback's code. */
int raft_exec_run(struct raft_exec *x, const struct raft_update *u);

/*
 * Syncs every write now, sends every held message. Returns 1 and fills
 * *persisted (type, index, term; the caller sets now_ms) when updates with
 * writes were waiting, so the caller steps the core with it; else 0.
 */
int raft_exec_flush(struct raft_exec *x, struct raft_event *persisted);

/*
 * The sync started by sync_request is done: sends the messages of the
 * updates it covered. Returns 1 and fills *persisted as raft_exec_flush().
 */
int raft_exec_sync_done(struct raft_exec *x, struct raft_event *persisted);

/* Starts another sync (sync_request) when writes or messages wait and none is in flight. */
void raft_exec_sync_more(struct raft_exec *x);

#endif
