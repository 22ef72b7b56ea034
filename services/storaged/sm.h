/*
 * sm.h - storaged's state machine: an LMDB environment holding the key-value
 * data, the applied index and the client-session table (libsm.a).
 *
 * On-disk layout (<dir>/data.mdb), every integer big-endian so that LMDB's
 * byte order is numeric order:
 *   "kv"       key bytes -> [create_index u64][mod_index u64][value bytes]
 *   "meta"     "applied_index" -> u64, "applied_term" -> u64, "data_bytes" -> u64,
 *              "cfg" + index u64 -> data of the CONFIG entry at that index
 *   "sessions" idempotency key -> [index u64][term u64][status i32 as u32]
 *                                 [create_index u64][mod_index u64]
 *   "session_age" index u64 -> idempotency key (ages sessions out in order)
 *   "events"   index u64 + seq u32 -> one change (sm_event.c): the watch history;
 *              meta "events_trimmed" -> u64, "events_bytes" -> u64
 *   "leases"   lease id u64 -> [ttl_ms u64][records u64] (sm_lease.c)
 *   "lease_keys" lease id u64 + key bytes -> mod_index u64 the key had when
 *              attached; a key whose mod_index moved on is no longer the lease's
 * Every write happens in one transaction per applied batch (sm_batch.c), so
 * the applied index never disagrees with the data or the sessions (F4).
 *
 * Durability: the environment is opened with MDB_NOSYNC, so a commit is
 * visible to readers and survives kill -9 (it is in the page cache), but
 * only sm_sync() makes it survive a power cut. Every applied entry is
 * already durable in raftd's WAL on a quorum; storaged syncs in the
 * background and reports the highest durable index, and raftd keeps its log
 * above that index (raftd_compact.h) so it can replay what a power cut took.
 * sm_open() syncs before returning, so the applied index it loads is durable.
 *
 * One thread uses a struct sm at a time, except sm_snap_write() and
 * sm_snap_write_backup(), which only read and may run on a helper thread
 * while the owner keeps applying.
 */
#ifndef RAFTKV_SM_H
#define RAFTKV_SM_H

#include "proto.h"
#include "raft_wire.h"

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#define SM_PATH_BYTES_MAX         1024u
#define SM_CONFIG_ENTRIES_MAX     1024u /* CONFIG entries kept in meta; older ones dropped */
#define SM_FULL_PERCENT           95u   /* STATS reports full past this share of the map */
#define SM_SESSION_VALUE_BYTES    36u
#define SM_KV_HEADER_BYTES        16u
#define SM_DELETE_PREFIX_KEYS_MAX KV_DELETE_PREFIX_KEYS_MAX /* one DELETE_PREFIX; past it, none */
#define SM_QUOTA_BYTES_DEFAULT    (8ull << 30)              /* --quota-bytes */
#define SM_MAP_SLACK_BYTES        (64ull << 20) /* map room past 2x the quota: B-tree pages, COW */
#define SM_MAP_BYTES_MAX          (1ull << 44)
#define SM_GROW_PERCENT           80u /* grow the map once this share of it is used */

struct sm_list; /* sm_read.c */

struct sm_opts {
	const char *dir;         /* the environment directory; created if missing */
	uint64_t map_bytes;      /* initial LMDB map size; grows with sm_map_grow() */
	uint64_t quota_bytes;    /* 0: SM_QUOTA_BYTES_DEFAULT; the same on every node */
	uint64_t map_max_bytes;  /* 0: 2 x quota + SM_MAP_SLACK_BYTES; the map never grows past */
	uint64_t sessions_max;   /* 0: KV_SESSIONS_MAX */
	uint64_t session_window; /* 0: KV_SESSION_WINDOW_ENTRIES */
	uint64_t watch_history;  /* 0: SM_WATCH_HISTORY_DEFAULT events kept */
	uint64_t watch_history_bytes; /* 0: SM_WATCH_HISTORY_BYTES_DEFAULT bytes of them */
	int readonly;                 /* 1: open an existing environment for reading only */
};

/* The watch history's counters, cached; a failed batch puts back its copy from before. */
struct sm_event_state {
	uint64_t bytes;      /* bytes of the events kept; in meta */
	uint64_t trimmed;    /* highest index whose events were dropped; in meta */
	uint64_t count;      /* events kept (the table's entries) */
	uint64_t last_index; /* of the newest event; 0: none */
	uint32_t last_seq;   /* its place among its entry's events */
};

struct sm {
	MDB_env *env;
	MDB_dbi dbi_kv, dbi_meta, dbi_sessions, dbi_age;
	MDB_dbi dbi_leases, dbi_lease_keys;
	struct proto_buf result_body; /* TXN results of the last batch (sm_result.body_*) */
	uint64_t applied_index;       /* cached from meta; changes only when a txn commits */
	MDB_dbi dbi_flags;            /* sm_flags.c; has_flags 0: a read-only env from before it */
	int has_flags;
	uint64_t applied_term;
	int full;               /* the last write batch hit MDB_MAP_FULL */
	uint64_t map_bytes;     /* current LMDB map size */
	uint64_t map_max_bytes; /* node-local ceiling of the map (disk space) */
	uint64_t quota_bytes;   /* replicated-data quota (deterministic check in sm_apply.c) */
	uint64_t data_bytes;    /* key + 16 + value bytes of every key; in meta, cached */
	uint64_t sessions_max;
	uint64_t session_window;
	MDB_dbi dbi_events;           /* the watch history (sm_event.c) */
	uint64_t watch_history;       /* events kept at most */
	uint64_t watch_history_bytes; /* their bytes at most */
	struct sm_event_state ev;     /* the watch history's counters (sm_event.c) */
	int readonly;
	char dir[SM_PATH_BYTES_MAX];
};

/* The outcome of one applied entry; has_result is set for COMMAND entries. */
struct sm_result {
	int has_result;
	uint64_t origin; /* node whose gateway gets the RESULT */
	uint64_t req_id;
	uint64_t index; /* of the write whose result this is (the original one on a retry) */
	uint64_t term;
	int32_t status; /* 0, KV_ECONDITION, KV_ENOTFOUND, KV_EINVAL or KV_EFULL (quota) */
	uint64_t create_index;
	uint64_t mod_index;
	size_t body_off; /* TXN: its proto_txn_result in sm->result_body, until the next batch */
	uint32_t body_len;
};

struct sm_stats {
	uint64_t applied_index;
	uint64_t applied_term;
	uint64_t map_bytes;
	uint64_t used_bytes;
	uint64_t keys;
	uint64_t quota_bytes;
	uint64_t data_bytes;
	int full;  /* map full on the last write, or used past SM_FULL_PERCENT of its ceiling */
	int alarm; /* data past SM_FULL_PERCENT of the quota: adds will soon get KV_EFULL */
};

/* ---- sm_env.c: the environment --------------------------------------------- */

/*
 * Opens (creating if missing, unless readonly) the environment in o->dir and
 * loads the applied index. Returns 0 and sets *out (the caller's; free with
 * sm_close()), or KV_EINVAL, KV_ENOMEM, KV_EIO, KV_ECORRUPT.
 */
int sm_open(const struct sm_opts *o, struct sm **out);

/* Closes the environment and frees sm; sets *sm to NULL; safe on NULL. */
void sm_close(struct sm **sm);

/*
 * Makes every committed transaction durable (mdb_env_sync: fdatasync of the
 * data file, meta pages included). Only flushes the file, so it may run on
 * another thread while the owner applies; never while sm_reopen() or
 * sm_close() replace sm->env. Returns 0 or KV_EIO (fault point
 * "storaged/sync/fail"): a failed sync is never retried (F13).
 */
int sm_sync(struct sm *sm);

/*
 * Grows the map geometrically (doubling, at most map_max_bytes) when force is
 * set or more than SM_GROW_PERCENT of it is used. The caller guarantees that
 * no other thread uses sm->env meanwhile (no transaction open, the snapshot
 * thread's included, and no sm_sync: LMDB reads its meta pages through the
 * map that mdb_env_set_mapsize unmaps and maps again). Returns 0 (grown or
 * not needed) or KV_EFULL (force, already at the ceiling), KV_EIO.
 */
int sm_map_grow(struct sm *sm, int force);

/* 1 when sm_map_grow(sm, 0) would grow (loop thread; touches no other thread's state). */
int sm_map_should_grow(struct sm *sm);

/* Closes and reopens the environment of sm in place (after replacing its file). */
int sm_reopen(struct sm *sm);

/* Fills st from the cached applied index and the environment's info. */
int sm_stats_get(struct sm *sm, struct sm_stats *st);

/* An MDB_* or errno code as a KV_E* code (MDB_MAP_FULL -> KV_EFULL). */
int sm_err_from_mdb(int rc);

/* Reads meta's applied index and term inside txn (0, 0 when never written). */
int sm_meta_read_applied(struct sm *sm, MDB_txn *txn, uint64_t *index, uint64_t *term);

/* Writes meta's applied index and term inside txn. */
int sm_meta_write_applied(struct sm *sm, MDB_txn *txn, uint64_t index, uint64_t term);

/* Writes meta's data_bytes (sm->data_bytes) inside txn. */
int sm_meta_write_data_bytes(struct sm *sm, MDB_txn *txn);

/* Reads (0 when absent) and writes a u64 of meta by name inside txn. */
int sm_meta_get_u64(struct sm *sm, MDB_txn *txn, const char *name, uint64_t *v);
int sm_meta_put_u64(struct sm *sm, MDB_txn *txn, const char *name, uint64_t v);

static inline void sm_u64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t sm_u64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ---- sm_apply.c: one entry ---------------------------------------------- */

/*
 * Applies entry e inside the open write txn (the caller checked that
 * e->index == applied + 1) and fills *res. Returns 0 whatever the command's
 * own status (a failed condition or a malformed command is a result, not an
 * error), or a KV_E* code the transaction cannot survive (KV_EFULL on
 * MDB_MAP_FULL, KV_EIO): the caller must abort txn.
 */
int sm_apply_entry(struct sm *sm, MDB_txn *txn, const struct raft_entry *e, struct sm_result *res);

/*
 * The per-key writes that every mutation goes through (single writes, TXN
 * ops, lease revocation and expiry), with the quota check: key's new value
 * at index (res->index is set to index). Status in res->status (KV_EFULL,
 * KV_ENOTFOUND on deleting an absent key, KV_EINVAL); returns 0 or a KV_E*
 * the transaction cannot survive.
 */
int sm_kv_put(struct sm *sm, MDB_txn *txn, const struct proto_bytes *key,
              const struct proto_bytes *value, uint64_t index, struct sm_result *res);
int sm_kv_delete(struct sm *sm, MDB_txn *txn, const struct proto_bytes *key, uint64_t index,
                 struct sm_result *res);

/* Reads key's create and mod index (0, 0 when absent) and, when value is not NULL, points
 * it at the stored value (valid until txn ends or writes). Returns 0 or a KV_E*. */
int sm_kv_lookup(struct sm *sm, MDB_txn *txn, const struct proto_bytes *key, int *exists,
                 uint64_t *create_index, uint64_t *mod_index, struct proto_bytes *value);

/* ---- sm_txn.c: multi-key transactions --------------------------------------- */

/*
 * Applies TXN command c at res->index: compares, then one branch in a nested
 * transaction, so a branch that cannot finish (a put past the quota, an
 * unknown lease, a delete_prefix past KV_TXN_PREFIX_KEYS_MAX) changes
 * nothing. Appends the outcome to sm->result_body. Returns like sm_apply_entry.
 */
int sm_txn_apply(struct sm *sm, MDB_txn *txn, const struct proto_kv_cmd *c, struct sm_result *res);

/* ---- sm_prefix.c: every key under a prefix ------------------------------------ */

/*
 * Deletes every key that starts with prefix (borrowed; empty: every key) at
 * index in txn, each through sm_kv_delete, and sets *deleted to their count
 * (0 when there were none). *status is 0, or KV_ETOOLARGE when more than max
 * keys are under prefix: then none is deleted. Returns 0 or a KV_E* the
 * transaction cannot survive (KV_ECORRUPT: a key the walk found vanished or
 * is longer than KV_KEY_BYTES_MAX).
 */
int sm_prefix_delete(struct sm *sm, MDB_txn *txn, const struct proto_bytes *prefix, uint64_t index,
                     uint32_t max, uint32_t *deleted, int32_t *status);

/* ---- sm_lease.c: leases ------------------------------------------------------ */

/* LEASE_GRANT: lease res->index with c->ttl_ms; KV_EBUSY status past KV_LEASES_MAX. */
int sm_lease_grant(struct sm *sm, MDB_txn *txn, const struct proto_kv_cmd *c,
                   struct sm_result *res);

/* LEASE_REVOKE / LEASE_EXPIRE: deletes lease id's keys and the lease; KV_ENOLEASE status. */
int sm_lease_end(struct sm *sm, MDB_txn *txn, uint64_t id, struct sm_result *res);

/* 0 when lease id exists and can take key; else KV_ENOLEASE or KV_ETOOLARGE (full). */
int sm_lease_check(struct sm *sm, MDB_txn *txn, uint64_t id, const struct proto_bytes *key);

/* Records that key, now at mod_index, belongs to lease id (which sm_lease_check passed). */
int sm_lease_attach(struct sm *sm, MDB_txn *txn, uint64_t id, const struct proto_bytes *key,
                    uint64_t mod_index);

/*
 * Reads: lease id's TTL and its keys (up to KV_LEASE_KEYS_MAX, in out->items
 * as keys; KV_ENOLEASE), or, with id 0, up to limit leases after `after`
 * (items with create_index = id, mod_index = ttl_ms). One read txn.
 */
int sm_lease_read(struct sm *sm, uint64_t id, uint64_t after, uint32_t limit, uint64_t *ttl_ms,
                  struct sm_list *out);

/* ---- sm_session.c: idempotency keys --------------------------------------- */

/*
 * Looks key up; a session older than the window counts as absent. Returns 0
 * and fills *res (status, indexes, term), KV_ENOTFOUND, or an LMDB failure.
 */
int sm_session_find(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                    uint64_t now_index, struct sm_result *res);

/* Records res as key's result and ages out what the limits no longer allow. */
int sm_session_store(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                     const struct sm_result *res);

/* ---- sm_batch.c: one transaction per batch ------------------------------- */

/*
 * Applies entries[0..n) in one write transaction together with the applied
 * index and term. Entries at or below the applied index are skipped; an
 * entry past applied + 1 is a gap: KV_ERANGE and nothing changes. results
 * (room for n) receives one sm_result per applied entry, *n_results their
 * count. Returns 0, KV_ERANGE, KV_EFULL (the map is full: nothing changed,
 * sm->full set), or KV_EIO. Clears sm->full when a batch commits.
 */
int sm_batch_apply(struct sm *sm, const struct raft_entry *entries, uint32_t n,
                   struct sm_result *results, uint32_t *n_results);

/* ---- sm_read.c: queries ---------------------------------------------------- */

/* A growable byte buffer for copies out of read transactions; the caller frees ptr. */
struct sm_buf {
	uint8_t *ptr;
	size_t len;
	size_t cap;
};

void sm_buf_free(struct sm_buf *b);

/* Appends n bytes; KV_ETOOLARGE past KV_MSG_BYTES_MAX, KV_ENOMEM. */
int sm_buf_append(struct sm_buf *b, const void *p, size_t n);

struct sm_item {
	size_t key_off; /* offsets into the list's buffer, stable while it grows */
	uint32_t key_len;
	size_t value_off;
	uint32_t value_len;
	uint64_t create_index;
	uint64_t mod_index;
	uint64_t flags;
};

struct sm_list {
	struct sm_buf buf; /* keys and values of the items */
	uint32_t n_items;
	struct sm_item *items; /* room for KV_LIST_LIMIT_MAX; owned */
	int more;
	uint64_t applied_index;
};

/*
 * Copies key's value into value (replacing its contents) in one read txn,
 * with its indexes and (flags not NULL) its flags.
 * Returns 0 or KV_ENOTFOUND (indexes 0), KV_EINVAL, KV_ENOMEM, KV_EIO.
 */
int sm_read_get(struct sm *sm, const uint8_t *key, uint32_t key_len, struct sm_buf *value,
                uint64_t *create_index, uint64_t *mod_index, uint64_t *flags);

/* ---- sm_flags.c: the keys' flags (Consul's), 0 unless set -------------------- */

/* Sets key's flags in txn (0: removes its entry). 0 or a KV_E* code. */
int sm_flags_set(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len, uint64_t flags);
/* key's flags as of txn into *flags (0 when none). 0 or a KV_E* code. */
int sm_flags_get(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                 uint64_t *flags);

/*
 * Lists up to limit (1..KV_LIST_LIMIT_MAX) keys with prefix, strictly after
 * `after` (empty: from the start), in key order, stopping early once
 * KV_LIST_BYTES_MAX value bytes are taken (at least one item). out is reset
 * first and keeps its memory; free with sm_list_free().
 */
int sm_read_list(struct sm *sm, const uint8_t *prefix, uint32_t prefix_len, const uint8_t *after,
                 uint32_t after_len, uint32_t limit, struct sm_list *out);

void sm_list_free(struct sm_list *l);

/* ---- sm_reader.c: another process's environment, read only (gatewayd) ---------- */

/*
 * Opens the existing environment in dir read-only, cheaply at any size: the
 * kv, meta and flags tables only, the map as large as the file says,
 * MDB_NOTLS. The lock file must be writable (LMDB registers each reader
 * there by pid: the writer and this process must not share a pid, see
 * docs/design.md). Returns 0 and sets *out (free with sm_close), or
 * KV_ENOTFOUND (no environment), KV_EBUSY (a live reader slot already has
 * this process's pid: another pid namespace's process), KV_EINVAL,
 * KV_ECORRUPT, KV_EIO.
 */
int sm_reader_open(const char *dir, struct sm **out);

/*
 * Starts a read transaction: renews *txn, or begins one into it when NULL
 * (the caller keeps it across reads and aborts it before sm_close). When the
 * writer grew the map past this process's, adopts the new size and tries
 * again. 0 or a KV_E* code. End each read with sm_reader_end.
 */
int sm_reader_begin(struct sm *sm, MDB_txn **txn);

/* Resets txn (NULL: nothing): every pointer read in it dies here. */
void sm_reader_end(MDB_txn *txn);

/* One key as a read transaction sees it, with that transaction's applied index. */
struct sm_reader_value {
	uint64_t applied_index;
	uint64_t applied_term;
	int exists;
	uint64_t create_index;
	uint64_t mod_index;
	uint64_t flags;
	struct proto_bytes value; /* into the map: valid until sm_reader_end(txn) */
};

/* Reads meta's applied index and key's record in txn. 0 (exists says whether), or KV_E*. */
int sm_reader_get(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                  struct sm_reader_value *out);

/* ---- sm_snap.c: snapshots ---------------------------------------------------- */

struct sm_snap_info {
	uint64_t index;
	uint64_t term;
	uint64_t size;
	char path[SM_PATH_BYTES_MAX];
};

/*
 * Writes a compacted copy of sm's environment into snap_dir (created if
 * missing) as snapshot-<index>.mdb via snapshot.tmp (one snapshot at a time,
 * so one name: a crash leaves at most that file), fsync, rename, fsync of the
 * directory, then
 * deletes all but the newest SM_SNAP_KEEP snapshots. Reads only: may run on
 * another thread while the owner applies. Returns 0 and fills *info.
 */
#define SM_SNAP_KEEP 2u
int sm_snap_write(struct sm *sm, const char *snap_dir, struct sm_snap_info *info);

/*
 * A backup (GET /v1/snapshot): the same compacted copy, from one read
 * transaction while writes go on, as backup-<index>-<tag>.mdb in snap_dir
 * via backup-<tag>.tmp, not fsynced (it is streamed at once and deleted by
 * the gateway; a crash leaves it to sm_snap_remove_backups). Returns 0 and
 * fills *info (its path is the caller's to unlink).
 */
int sm_snap_write_backup(struct sm *sm, const char *snap_dir, uint64_t tag,
                         struct sm_snap_info *info);

/* Deletes every backup-* file in snap_dir (left by a crash or a client that left). */
int sm_snap_remove_backups(const char *snap_dir);

/* Reads the applied index and term held in the image file at path (KV_ENOTFOUND, KV_ECORRUPT). */
int sm_snap_file_meta(const char *path, uint64_t *index, uint64_t *term);

/*
 * Replaces sm's data with the snapshot file at path (consumed: renamed into
 * place) after checking that it holds applied index `index`; reopens sm.
 * Returns 0, KV_ECORRUPT (not an LMDB file or another index: nothing
 * replaced), KV_EIO.
 */
int sm_snap_install(struct sm *sm, const char *path, uint64_t index, uint64_t term);

/* ---- sm_key.c: the lowest-level writes of one key ------------------------------ */

/*
 * Every change to the "kv" table goes through these two, so that each is
 * also recorded in the watch history (sm_event_record) in the same
 * transaction. index is the Raft index of the entry making the change; it
 * becomes the key's mod_index (and its create_index when the key is new).
 * They check nothing but LMDB's own limits: conditions and the quota are
 * the caller's (sm_apply.c). They keep sm->data_bytes.
 */

/* What a key holds now (sm_key_lookup): exists, its indexes, key + stored bytes. */
struct sm_key_old {
	int exists;
	uint64_t create_index;
	uint64_t mod_index;
	uint64_t bytes;
};

/* Reads key's indexes and size; old->exists 0 when absent. 0 or KV_ECORRUPT, KV_EIO. */
int sm_key_lookup(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                  struct sm_key_old *old);

/*
 * Writes key = value at index (old from sm_key_lookup in the same txn); sets
 * *create_index. Returns 0, KV_EINVAL (LMDB refuses the key), or a KV_E*
 * the transaction cannot survive (KV_EFULL, KV_EIO).
 */
int sm_key_put(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
               const uint8_t *value, uint32_t value_len, uint64_t index,
               const struct sm_key_old *old, uint64_t *create_index);

/* Deletes key (old->exists must be 1) at index. 0 or a KV_E* the txn cannot survive. */
int sm_key_delete(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len, uint64_t index,
                  const struct sm_key_old *old);

/* ---- sm_event.c: the watch history ------------------------------------------ */

/*
 * Every change is one event in "events", keyed by its Raft index and its
 * place within that entry (a transaction makes several), written in the
 * same transaction as the change and trimmed oldest first to
 * watch_history events and watch_history_bytes bytes. The default keeps
 * 100000 events: minutes of history at thousands of writes a second, so a
 * watcher that lost its connection or its node resumes where it stopped;
 * the byte bound keeps large values from filling the map (storaged adds it
 * to the map's ceiling). Histories differ between nodes only if their flags
 * do.
 */
#define SM_WATCH_HISTORY_DEFAULT       100000u
#define SM_WATCH_HISTORY_BYTES_DEFAULT (256ull << 20)
#define SM_EVENT_KEY_BYTES             12u    /* index u64, seq u32 */
#define SM_EVENT_HEADER_BYTES          11u    /* type u8, create_index u64, key_len u16 */
#define SM_EVENT_GROUP_MAX             10240u /* events of one entry a read returns whole */

enum sm_event_type { SM_EVENT_PUT = 1, SM_EVENT_DELETE = 2 };

/*
 * Records one change of key at Raft index `index` inside txn: a PUT with the
 * key's value (borrowed for the call) and create_index, or a DELETE (value
 * NULL, 0). Events of one entry are kept in the order recorded. Trims the
 * oldest events past the bounds. Call it for every change of replicated
 * state a watcher should see, from the function making the change (sm_key.c
 * does for puts and deletes). Returns 0 or a KV_E* the txn cannot survive.
 */
int sm_event_record(struct sm *sm, MDB_txn *txn, enum sm_event_type type, const uint8_t *key,
                    uint32_t key_len, const uint8_t *value, uint32_t value_len,
                    uint64_t create_index, uint64_t index);

/* Loads the counters from meta and the events table (sm_open). */
int sm_event_load(struct sm *sm, MDB_txn *txn);

/* Writes the counters kept in meta (sm_batch.c, once per batch that changed them). */
int sm_event_save(struct sm *sm, MDB_txn *txn);

/* ---- sm_event_read.c: reading the watch history ------------------------------ */

struct sm_event {
	size_t key_off; /* offsets into the read's buffer */
	uint32_t key_len;
	size_t value_off;
	uint32_t value_len;
	uint8_t type; /* enum sm_event_type */
	uint64_t create_index;
	uint64_t mod_index; /* the Raft index of the change */
};

#define SM_EVENTS_READ_MAX  1000u      /* events one read returns (plus one entry's group) */
#define SM_EVENTS_SCAN_MAX  100000u    /* events one read looks at */
#define SM_EVENTS_BYTES_MAX (4u << 20) /* key and value bytes one read takes (at least one) */

struct sm_events {
	struct sm_buf buf; /* keys and values */
	uint32_t n;
	uint32_t cap;
	struct sm_event *ev;    /* owned; grows to SM_EVENTS_READ_MAX + SM_EVENT_GROUP_MAX */
	uint64_t next_index;    /* where the next read starts: every event below it was read */
	uint64_t oldest_index;  /* the oldest from_index still answered */
	uint64_t applied_index; /* of the read's snapshot */
};

/*
 * Reads the events at index >= from_index (0 reads as 1) of key (prefix 0)
 * or of keys starting with it (prefix 1; empty: every key), in index order,
 * up to max_events (1..SM_EVENTS_READ_MAX) and SM_EVENTS_BYTES_MAX, never
 * splitting one entry's events. out->next_index is where to read next:
 * applied_index + 1 when everything was read. Returns 0, KV_ECOMPACTED
 * (from_index <= the highest index trimmed; out->oldest_index says what is
 * left), KV_EINVAL, KV_ENOMEM, KV_EIO. out is reset first and keeps its
 * memory; free with sm_events_free().
 */
int sm_event_read(struct sm *sm, const uint8_t *match, uint32_t match_len, int prefix,
                  uint64_t from_index, uint32_t max_events, struct sm_events *out);

void sm_events_free(struct sm_events *e);

#endif
