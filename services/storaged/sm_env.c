/*
 * sm_env.c - opening and closing the state machine's LMDB environment, the
 * meta table's applied index, and statistics. Runs on storaged's loop thread.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_fs.h"
#include "kv_limits.h"

#include <errno.h>
#include <fiu-local.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SM_DBS_MAX 12 /* room for new tables */

static const char SM_KEY_APPLIED_INDEX[] = "applied_index";
static const char SM_KEY_APPLIED_TERM[] = "applied_term";
static const char SM_KEY_DATA_BYTES[] = "data_bytes";

int sm_err_from_mdb(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_MAP_FULL:
		return KV_EFULL;
	case MDB_NOTFOUND:
		return KV_ENOTFOUND;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
		return KV_ECORRUPT;
	case MDB_BAD_VALSIZE:
		return KV_EINVAL;
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
		return KV_EBUSY;
	default:
		return rc > 0 ? kv_err_from_errno(rc) : KV_EIO;
	}
}

int sm_meta_get_u64(struct sm *sm, MDB_txn *txn, const char *name, uint64_t *v)
{
	MDB_val k = {strlen(name), (void *)name};
	MDB_val d;
	int rc = mdb_get(txn, sm->dbi_meta, &k, &d);
	if (rc == MDB_NOTFOUND) {
		*v = 0;
		return 0;
	}
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if (d.mv_size != 8)
		return KV_ECORRUPT;
	*v = sm_u64_get(d.mv_data);
	return 0;
}

int sm_meta_put_u64(struct sm *sm, MDB_txn *txn, const char *name, uint64_t v)
{
	uint8_t b[8];
	sm_u64_put(b, v);
	MDB_val k = {strlen(name), (void *)name};
	MDB_val d = {sizeof(b), b};
	return sm_err_from_mdb(mdb_put(txn, sm->dbi_meta, &k, &d, 0));
}

int sm_meta_read_applied(struct sm *sm, MDB_txn *txn, uint64_t *index, uint64_t *term)
{
	int err = sm_meta_get_u64(sm, txn, SM_KEY_APPLIED_INDEX, index);
	if (err == 0)
		err = sm_meta_get_u64(sm, txn, SM_KEY_APPLIED_TERM, term);
	return err;
}

int sm_meta_write_applied(struct sm *sm, MDB_txn *txn, uint64_t index, uint64_t term)
{
	int err = sm_meta_put_u64(sm, txn, SM_KEY_APPLIED_INDEX, index);
	if (err == 0)
		err = sm_meta_put_u64(sm, txn, SM_KEY_APPLIED_TERM, term);
	return err;
}

int sm_meta_write_data_bytes(struct sm *sm, MDB_txn *txn)
{
	return sm_meta_put_u64(sm, txn, SM_KEY_DATA_BYTES, sm->data_bytes);
}

/*
 * Loads data_bytes; an environment written before it was kept (no such key)
 * is measured once by a scan of "kv" and the sum written back.
 */
static int sm_env_load_data_bytes(struct sm *sm, MDB_txn *txn)
{
	MDB_val k = {strlen(SM_KEY_DATA_BYTES), (void *)SM_KEY_DATA_BYTES};
	MDB_val d;
	if (mdb_get(txn, sm->dbi_meta, &k, &d) == 0)
		return sm_meta_get_u64(sm, txn, SM_KEY_DATA_BYTES, &sm->data_bytes);
	MDB_cursor *cur = NULL;
	int rc = mdb_cursor_open(txn, sm->dbi_kv, &cur);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint64_t sum = 0;
	while ((rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) == 0)
		sum += k.mv_size + d.mv_size;
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return sm_err_from_mdb(rc);
	sm->data_bytes = sum;
	return sm->readonly ? 0 : sm_meta_write_data_bytes(sm, txn);
}

/* Opens the named databases and loads the applied index in one transaction. */
static int sm_env_load(struct sm *sm)
{
	unsigned int flags = sm->readonly ? 0 : MDB_CREATE;
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(sm->env, NULL, sm->readonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if ((rc = mdb_dbi_open(txn, "kv", flags, &sm->dbi_kv)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", flags, &sm->dbi_meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "sessions", flags, &sm->dbi_sessions)) != 0 ||
	    (rc = mdb_dbi_open(txn, "session_age", flags, &sm->dbi_age)) != 0 ||
	    (rc = mdb_dbi_open(txn, "events", flags, &sm->dbi_events)) != 0 ||
	    (rc = mdb_dbi_open(txn, "leases", flags, &sm->dbi_leases)) != 0 ||
	    (rc = mdb_dbi_open(txn, "lease_keys", flags, &sm->dbi_lease_keys)) != 0)
		goto out_abort_txn;
	/* added after the others: a read-only handle on an older environment has none */
	rc = mdb_dbi_open(txn, "flags", flags, &sm->dbi_flags);
	if (rc != 0 && !(rc == MDB_NOTFOUND && sm->readonly))
		goto out_abort_txn;
	sm->has_flags = rc == 0;
	int err = sm_meta_read_applied(sm, txn, &sm->applied_index, &sm->applied_term);
	if (err == 0)
		err = sm_env_load_data_bytes(sm, txn);
	if (err == 0)
		err = sm_event_load(sm, txn);
	if (err != 0) {
		mdb_txn_abort(txn);
		return err;
	}
	return sm_err_from_mdb(mdb_txn_commit(txn));

out_abort_txn:
	mdb_txn_abort(txn);
	return rc == MDB_NOTFOUND ? KV_ECORRUPT : sm_err_from_mdb(rc);
}

/* Creates sm->env from sm's settings and opens it. */
static int sm_env_start(struct sm *sm)
{
	int rc = mdb_env_create(&sm->env);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if ((rc = mdb_env_set_maxdbs(sm->env, SM_DBS_MAX)) != 0 ||
	    (rc = mdb_env_set_mapsize(sm->env, (size_t)sm->map_bytes)) != 0)
		goto out_close_env;
	/*
	 * No threads share a txn, but the snapshot thread's reader needs its own slot.
	 * MDB_NOSYNC: a commit is not flushed; the WAL holds every entry durably and
	 * storaged syncs in the background (sm_sync), see sm.h.
	 */
	rc = mdb_env_open(sm->env, sm->dir, sm->readonly ? MDB_RDONLY : MDB_NOSYNC, 0644);
	if (rc != 0)
		goto out_close_env;
	/* a reader killed mid-read (storaged's snapshot thread, a gateway's local read) would
	 * pin its pages for ever: the first opener clears dead slots, and with gatewayd
	 * holding the lock file storaged is no longer always the first */
	int dead = 0;
	(void)mdb_reader_check(sm->env, &dead);
	int err = sm_env_load(sm);
	/* What this process reads may still be only in the page cache (a kill -9
	 * before): make it durable before it is reported as such. */
	if (err == 0 && !sm->readonly)
		err = sm_sync(sm);
	MDB_envinfo info;
	if (err == 0 && mdb_env_info(sm->env, &info) == 0)
		sm->map_bytes = info.me_mapsize; /* an existing file may hold a larger map */
	if (err != 0) {
		mdb_env_close(sm->env);
		sm->env = NULL;
	}
	return err;

out_close_env:
	mdb_env_close(sm->env);
	sm->env = NULL;
	return sm_err_from_mdb(rc);
}

int sm_open(const struct sm_opts *o, struct sm **out)
{
	KV_ASSERT(o != NULL && out != NULL);
	if (o->dir == NULL || strlen(o->dir) >= SM_PATH_BYTES_MAX || o->map_bytes < (1u << 16))
		return KV_EINVAL;
	if (!o->readonly) {
		int err = kv_fs_mkdir_p(o->dir);
		if (err != 0)
			return err;
	}
	struct sm *sm = calloc(1, sizeof(*sm));
	if (sm == NULL)
		return KV_ENOMEM;
	strcpy(sm->dir, o->dir);
	sm->map_bytes = o->map_bytes;
	sm->quota_bytes = o->quota_bytes ? o->quota_bytes : SM_QUOTA_BYTES_DEFAULT;
	sm->watch_history = o->watch_history ? o->watch_history : SM_WATCH_HISTORY_DEFAULT;
	sm->watch_history_bytes =
	    o->watch_history_bytes ? o->watch_history_bytes : SM_WATCH_HISTORY_BYTES_DEFAULT;
	sm->map_max_bytes = o->map_max_bytes ? o->map_max_bytes
	                                     : 2 * sm->quota_bytes + 2 * sm->watch_history_bytes +
	                                           SM_MAP_SLACK_BYTES;
	if (sm->map_max_bytes > SM_MAP_BYTES_MAX)
		sm->map_max_bytes = SM_MAP_BYTES_MAX;
	if (sm->map_max_bytes < sm->map_bytes)
		sm->map_max_bytes = sm->map_bytes;
	sm->sessions_max = o->sessions_max ? o->sessions_max : KV_SESSIONS_MAX;
	sm->session_window = o->session_window ? o->session_window : KV_SESSION_WINDOW_ENTRIES;
	sm->readonly = o->readonly;
	int err = sm_env_start(sm);
	if (err != 0) {
		free(sm);
		return err;
	}
	*out = sm;
	return 0;
}

void sm_close(struct sm **sm)
{
	if (sm == NULL || *sm == NULL)
		return;
	if ((*sm)->env != NULL)
		mdb_env_close((*sm)->env);
	proto_buf_free(&(*sm)->result_body);
	free(*sm);
	*sm = NULL;
}

int sm_sync(struct sm *sm)
{
	KV_ASSERT(sm != NULL && sm->env != NULL && !sm->readonly);
	if (fiu_fail("storaged/sync/fail"))
		return KV_EIO;
	int rc = mdb_env_sync(sm->env, 1);
	return rc == 0 ? 0 : sm_err_from_mdb(rc);
}

/* Bytes of the map in use: pages up to the last one written. */
static int sm_env_used_bytes(struct sm *sm, uint64_t *used)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc = mdb_env_info(sm->env, &info);
	if (rc == 0)
		rc = mdb_env_stat(sm->env, &st);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	*used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	return 0;
}

int sm_map_should_grow(struct sm *sm)
{
	uint64_t used = 0;
	return sm->map_bytes < sm->map_max_bytes && sm_env_used_bytes(sm, &used) == 0 &&
	       used * 100 > sm->map_bytes * SM_GROW_PERCENT;
}

int sm_map_grow(struct sm *sm, int force)
{
	KV_ASSERT(sm != NULL && sm->env != NULL && !sm->readonly);
	uint64_t used = 0;
	int err = sm_env_used_bytes(sm, &used);
	if (err != 0)
		return err;
	if (!force && used * 100 <= sm->map_bytes * SM_GROW_PERCENT)
		return 0;
	if (sm->map_bytes >= sm->map_max_bytes)
		return force ? KV_EFULL : 0;
	uint64_t next = sm->map_bytes * 2;
	if (next > sm->map_max_bytes)
		next = sm->map_max_bytes;
	int rc = mdb_env_set_mapsize(sm->env, (size_t)next);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	sm->map_bytes = next;
	sm->full = 0;
	return 0;
}

int sm_reopen(struct sm *sm)
{
	if (sm->env != NULL) {
		mdb_env_close(sm->env);
		sm->env = NULL;
	}
	sm->full = 0;
	return sm_env_start(sm);
}

int sm_stats_get(struct sm *sm, struct sm_stats *st)
{
	MDB_envinfo info;
	MDB_stat env_stat;
	MDB_stat kv_stat;
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(sm->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	rc = mdb_stat(txn, sm->dbi_kv, &kv_stat);
	mdb_txn_abort(txn);
	if (rc != 0 || (rc = mdb_env_info(sm->env, &info)) != 0 ||
	    (rc = mdb_env_stat(sm->env, &env_stat)) != 0)
		return sm_err_from_mdb(rc);
	st->applied_index = sm->applied_index;
	st->applied_term = sm->applied_term;
	st->map_bytes = info.me_mapsize;
	st->used_bytes = ((uint64_t)info.me_last_pgno + 1) * env_stat.ms_psize;
	st->keys = kv_stat.ms_entries;
	st->quota_bytes = sm->quota_bytes;
	st->data_bytes = sm->data_bytes;
	/* full: the map cannot take the next batch, even after growing to its ceiling */
	st->full = sm->full || st->used_bytes * 100 > sm->map_max_bytes * SM_FULL_PERCENT;
	st->alarm = st->data_bytes * 100 > st->quota_bytes * SM_FULL_PERCENT;
	return 0;
}
