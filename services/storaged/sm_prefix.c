/*
 * sm_prefix.c - deleting every key under a prefix inside the caller's write
 * transaction: the one key walk behind DELETE_PREFIX (sm_apply.c, Consul's
 * ?recurse delete) and a transaction's delete_prefix op (sm_txn.c). The keys
 * are counted first, bounded, so a prefix over the caller's limit changes
 * nothing even outside a nested transaction; then each goes through
 * sm_kv_delete like a single DELETE (its watch event, its flags, data_bytes).
 * The empty prefix is every key. Loop thread.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <string.h>

/* 1 when k starts with prefix. */
static int sm_prefix_under(const MDB_val *k, const struct proto_bytes *prefix)
{
	return k->mv_size >= prefix->len &&
	       (prefix->len == 0 || memcmp(k->mv_data, prefix->ptr, prefix->len) == 0);
}

/* Moves cur to the first key under prefix: 0 with *k, MDB_NOTFOUND past the end, or LMDB's rc.
 * LMDB refuses an empty key for MDB_SET_RANGE: the empty prefix starts at the first key. */
static int sm_prefix_seek(MDB_cursor *cur, const struct proto_bytes *prefix, MDB_val *k)
{
	MDB_val d;
	k->mv_size = prefix->len;
	k->mv_data = (void *)prefix->ptr;
	return mdb_cursor_get(cur, k, &d, prefix->len > 0 ? MDB_SET_RANGE : MDB_FIRST);
}

/* Counts the keys under prefix into *n, stopping once it passes max. */
static int sm_prefix_count(MDB_cursor *cur, const struct proto_bytes *prefix, uint32_t max,
                           uint32_t *n)
{
	MDB_val k;
	MDB_val d;
	int rc;
	*n = 0;
	for (rc = sm_prefix_seek(cur, prefix, &k);
	     rc == 0 && sm_prefix_under(&k, prefix) && *n <= max;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT))
		(*n)++;
	return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : sm_err_from_mdb(rc);
}

/* Deletes the first key under prefix, which the count saw (else KV_ECORRUPT). */
static int sm_prefix_delete_first(struct sm *sm, MDB_txn *txn, MDB_cursor *cur,
                                  const struct proto_bytes *prefix, uint64_t index)
{
	MDB_val k;
	int rc = sm_prefix_seek(cur, prefix, &k);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return sm_err_from_mdb(rc);
	if (rc != 0 || !sm_prefix_under(&k, prefix) || k.mv_size == 0 ||
	    k.mv_size > KV_KEY_BYTES_MAX)
		return KV_ECORRUPT;
	uint8_t key[KV_KEY_BYTES_MAX]; /* LMDB's pointer dies with the delete */
	memcpy(key, k.mv_data, k.mv_size);
	struct proto_bytes kb = {key, (uint32_t)k.mv_size};
	struct sm_result res = {0};
	int err = sm_kv_delete(sm, txn, &kb, index, &res);
	if (err == 0 && res.status != 0)
		err = KV_ECORRUPT; /* the cursor just found it */
	return err;
}

int sm_prefix_delete(struct sm *sm, MDB_txn *txn, const struct proto_bytes *prefix, uint64_t index,
                     uint32_t max, uint32_t *deleted, int32_t *status)
{
	KV_ASSERT(sm != NULL && txn != NULL && prefix != NULL && deleted != NULL && status != NULL);
	KV_ASSERT(index > 0 && max > 0 && max < UINT32_MAX);
	*deleted = 0;
	*status = 0;
	MDB_cursor *cur = NULL;
	int rc = mdb_cursor_open(txn, sm->dbi_kv, &cur);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint32_t n = 0;
	int err = sm_prefix_count(cur, prefix, max, &n);
	if (err == 0 && n > max) {
		*status = KV_ETOOLARGE; /* over the caller's bound: none deleted */
		n = 0;
	}
	for (uint32_t i = 0; i < n && err == 0; i++) {
		err = sm_prefix_delete_first(sm, txn, cur, prefix, index);
		if (err == 0)
			(*deleted)++;
	}
	mdb_cursor_close(cur);
	return err;
}
