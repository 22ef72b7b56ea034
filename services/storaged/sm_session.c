/*
 * sm_session.c - the client-session table: idempotency key -> the result of
 * the write that first used it (F6). Sessions age out by Raft index and by
 * count, both decided from replicated state only, so every node keeps
 * exactly the same table. Runs inside sm_apply's write transaction.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <string.h>

static void sm_session_encode(uint8_t *b, const struct sm_result *res)
{
	sm_u64_put(b, res->index);
	sm_u64_put(b + 8, res->term);
	uint32_t st = (uint32_t)res->status;
	for (int i = 0; i < 4; i++)
		b[16 + i] = (uint8_t)(st >> (24 - 8 * i));
	sm_u64_put(b + 20, res->create_index);
	sm_u64_put(b + 28, res->mod_index);
}

static void sm_session_decode(const uint8_t *b, struct sm_result *res)
{
	res->index = sm_u64_get(b);
	res->term = sm_u64_get(b + 8);
	uint32_t st = 0;
	for (int i = 0; i < 4; i++)
		st = (st << 8) | b[16 + i];
	res->status = (int32_t)st;
	res->create_index = sm_u64_get(b + 20);
	res->mod_index = sm_u64_get(b + 28);
}

/* A session made at index is too old to keep once now_index is past its window. */
static int sm_session_expired(const struct sm *sm, uint64_t index, uint64_t now_index)
{
	return now_index > index && now_index - index > sm->session_window;
}

int sm_session_find(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                    uint64_t now_index, struct sm_result *res)
{
	MDB_val k = {key_len, (void *)key};
	MDB_val d;
	int rc = mdb_get(txn, sm->dbi_sessions, &k, &d);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if (d.mv_size != SM_SESSION_VALUE_BYTES)
		return KV_ECORRUPT;
	struct sm_result found;
	sm_session_decode(d.mv_data, &found);
	if (sm_session_expired(sm, found.index, now_index))
		return KV_ENOTFOUND;
	res->index = found.index;
	res->term = found.term;
	res->status = found.status;
	res->create_index = found.create_index;
	res->mod_index = found.mod_index;
	return 0;
}

/* Deletes the oldest session (first in index order) and its age record. */
static int sm_session_drop_first(struct sm *sm, MDB_cursor *cur, MDB_val *age_key,
                                 MDB_val *session_key)
{
	MDB_val d;
	uint64_t index = sm_u64_get(age_key->mv_data);
	int rc = mdb_get(mdb_cursor_txn(cur), sm->dbi_sessions, session_key, &d);
	/* A key reused after expiry points at its newer index: leave that session alone. */
	if (rc == 0 && d.mv_size == SM_SESSION_VALUE_BYTES && sm_u64_get(d.mv_data) == index)
		rc = mdb_del(mdb_cursor_txn(cur), sm->dbi_sessions, session_key, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return sm_err_from_mdb(rc);
	return sm_err_from_mdb(mdb_cursor_del(cur, 0));
}

/* Drops sessions older than the window relative to now_index, and the oldest past the count. */
static int sm_session_age(struct sm *sm, MDB_txn *txn, uint64_t now_index)
{
	MDB_cursor *cur = NULL;
	MDB_stat st;
	int rc = mdb_stat(txn, sm->dbi_age, &st);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint64_t count = st.ms_entries;
	if ((rc = mdb_cursor_open(txn, sm->dbi_age, &cur)) != 0)
		return sm_err_from_mdb(rc);
	int err = 0;
	MDB_val k, d;
	while ((rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST)) == 0) {
		if (k.mv_size != 8) {
			err = KV_ECORRUPT;
			break;
		}
		uint64_t index = sm_u64_get(k.mv_data);
		if (count <= sm->sessions_max && !sm_session_expired(sm, index, now_index))
			break;
		if ((err = sm_session_drop_first(sm, cur, &k, &d)) != 0)
			break;
		count--;
	}
	if (err == 0 && rc != 0 && rc != MDB_NOTFOUND)
		err = sm_err_from_mdb(rc);
	mdb_cursor_close(cur);
	return err;
}

int sm_session_store(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                     const struct sm_result *res)
{
	KV_ASSERT(key_len > 0);
	MDB_val k = {key_len, (void *)key};
	MDB_val old;
	int rc = mdb_get(txn, sm->dbi_sessions, &k, &old);
	if (rc == 0 && old.mv_size == SM_SESSION_VALUE_BYTES) {
		/* An expired session under the same key: forget its age record. */
		uint8_t old_index[8];
		memcpy(old_index, old.mv_data, 8);
		MDB_val ak = {8, old_index};
		rc = mdb_del(txn, sm->dbi_age, &ak, NULL);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return sm_err_from_mdb(rc);
	uint8_t v[SM_SESSION_VALUE_BYTES];
	sm_session_encode(v, res);
	MDB_val d = {sizeof(v), v};
	if ((rc = mdb_put(txn, sm->dbi_sessions, &k, &d, 0)) != 0)
		return sm_err_from_mdb(rc);
	uint8_t index_be[8];
	sm_u64_put(index_be, res->index);
	MDB_val ak = {sizeof(index_be), index_be};
	if ((rc = mdb_put(txn, sm->dbi_age, &ak, &k, 0)) != 0)
		return sm_err_from_mdb(rc);
	return sm_session_age(sm, txn, res->index);
}
