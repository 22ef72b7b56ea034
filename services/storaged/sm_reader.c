/*
 * sm_reader.c - a read-only handle on an environment that another process
 * (storaged) writes: gatewayd's local reads (services/gatewayd/gw_local.c).
 *
 * Unlike sm_open(.readonly = 1) it loads nothing but the tables a GET needs:
 * no data_bytes (whose first load may scan every key), no watch history, no
 * sync. The map size is the file's (mdb_env_set_mapsize(0) before the open),
 * and MDB_NOTLS ties the reader slot to the transaction object, which the
 * caller keeps and renews per read. Caller's thread only.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SM_READER_DBS_MAX 12 /* as sm_env.c: the same named tables */

/* Opens kv, meta and (when present) flags in one read transaction. */
static int sm_reader_tables(struct sm *sm)
{
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(sm->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if ((rc = mdb_dbi_open(txn, "kv", 0, &sm->dbi_kv)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", 0, &sm->dbi_meta)) != 0)
		goto out_abort_txn;
	rc = mdb_dbi_open(txn, "flags", 0, &sm->dbi_flags);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out_abort_txn;
	sm->has_flags = rc == 0;
	int err = sm_meta_read_applied(sm, txn, &sm->applied_index, &sm->applied_term);
	/* a read-only transaction's handles stay open after it commits */
	rc = mdb_txn_commit(txn);
	return err != 0 ? err : sm_err_from_mdb(rc);

out_abort_txn:
	mdb_txn_abort(txn);
	return rc == MDB_NOTFOUND ? KV_ECORRUPT : sm_err_from_mdb(rc);
}

/* mdb_reader_list's lines: "pid thread txnid"; one with our pid belongs to another process. */
static int sm_reader_pid_line(const char *msg, void *ctx)
{
	long pid = 0;
	if (sscanf(msg, "%ld", &pid) == 1 && pid == (long)getpid())
		*(int *)ctx = 1;
	return 0;
}

/*
 * LMDB registers a reader by an fcntl lock on byte pid of the lock file: a
 * live slot with this process's pid before it has read anything is another
 * process's in another pid namespace (a container of its own), and reading
 * here would take that process's reads away (EAGAIN). Dead slots go first.
 */
static int sm_reader_pid_taken(MDB_env *env)
{
	int dead = 0, taken = 0;
	(void)mdb_reader_check(env, &dead);
	(void)mdb_reader_list(env, sm_reader_pid_line, &taken);
	return taken;
}

int sm_reader_open(const char *dir, struct sm **out)
{
	KV_ASSERT(dir != NULL && out != NULL);
	if (strlen(dir) >= SM_PATH_BYTES_MAX)
		return KV_EINVAL;
	struct sm *sm = calloc(1, sizeof(*sm));
	if (sm == NULL)
		return KV_ENOMEM;
	strcpy(sm->dir, dir);
	sm->readonly = 1;
	int rc = mdb_env_create(&sm->env);
	if (rc != 0)
		goto out_free;
	if ((rc = mdb_env_set_maxdbs(sm->env, SM_READER_DBS_MAX)) != 0 ||
	    (rc = mdb_env_set_mapsize(sm->env, 0)) != 0 ||
	    (rc = mdb_env_open(sm->env, dir, MDB_RDONLY | MDB_NOTLS, 0644)) != 0)
		goto out_close_env;
	if (sm_reader_pid_taken(sm->env)) {
		rc = EBUSY;
		goto out_close_env;
	}
	int err = sm_reader_tables(sm);
	if (err != 0) {
		sm_close(&sm);
		return err;
	}
	MDB_envinfo info;
	if (mdb_env_info(sm->env, &info) == 0)
		sm->map_bytes = info.me_mapsize;
	*out = sm;
	return 0;

out_close_env:
	mdb_env_close(sm->env);
out_free:
	free(sm);
	return sm_err_from_mdb(rc);
}

int sm_reader_begin(struct sm *sm, MDB_txn **txn)
{
	KV_ASSERT(sm != NULL && sm->readonly && txn != NULL);
	for (int tries = 0; tries < 2; tries++) {
		int rc = *txn != NULL ? mdb_txn_renew(*txn)
		                      : mdb_txn_begin(sm->env, NULL, MDB_RDONLY, txn);
		if (rc != MDB_MAP_RESIZED)
			return sm_err_from_mdb(rc);
		/* the writer grew the map past ours: adopt its size (no txn of ours is live) */
		if ((rc = mdb_env_set_mapsize(sm->env, 0)) != 0)
			return sm_err_from_mdb(rc);
		MDB_envinfo info;
		if (mdb_env_info(sm->env, &info) == 0)
			sm->map_bytes = info.me_mapsize;
	}
	return KV_EBUSY;
}

void sm_reader_end(MDB_txn *txn)
{
	if (txn != NULL)
		mdb_txn_reset(txn);
}

int sm_reader_get(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                  struct sm_reader_value *out)
{
	KV_ASSERT(sm != NULL && txn != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	if (key_len == 0 || key_len > KV_KEY_BYTES_MAX)
		return KV_EINVAL;
	int err = sm_meta_read_applied(sm, txn, &out->applied_index, &out->applied_term);
	if (err != 0)
		return err;
	MDB_val k = {key_len, (void *)key};
	MDB_val d;
	int rc = mdb_get(txn, sm->dbi_kv, &k, &d);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if (d.mv_size < SM_KV_HEADER_BYTES)
		return KV_ECORRUPT;
	out->exists = 1;
	out->create_index = sm_u64_get(d.mv_data);
	out->mod_index = sm_u64_get((const uint8_t *)d.mv_data + 8);
	out->value.ptr = (const uint8_t *)d.mv_data + SM_KV_HEADER_BYTES;
	out->value.len = (uint32_t)(d.mv_size - SM_KV_HEADER_BYTES);
	return sm_flags_get(sm, txn, key, key_len, &out->flags);
}
