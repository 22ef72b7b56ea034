/*
 * sm_key.c - the lowest-level writes of one key of the "kv" table: every put
 * and delete of the state machine, whoever makes it (a single write, a
 * transaction, a lease's expiry), goes through sm_key_put or sm_key_delete,
 * which keep sm->data_bytes and record the change in the watch history
 * (sm_event.c) in the caller's transaction. Loop thread.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <string.h>

int sm_key_lookup(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                  struct sm_key_old *old)
{
	MDB_val k = {key_len, (void *)key};
	MDB_val d;
	memset(old, 0, sizeof(*old));
	int rc = mdb_get(txn, sm->dbi_kv, &k, &d);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if (d.mv_size < SM_KV_HEADER_BYTES)
		return KV_ECORRUPT;
	old->exists = 1;
	old->create_index = sm_u64_get(d.mv_data);
	old->mod_index = sm_u64_get((const uint8_t *)d.mv_data + 8);
	old->bytes = key_len + d.mv_size;
	return 0;
}

int sm_key_put(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
               const uint8_t *value, uint32_t value_len, uint64_t index,
               const struct sm_key_old *old, uint64_t *create_index)
{
	KV_ASSERT(index > 0 && key_len > 0);
	MDB_val k = {key_len, (void *)key};
	MDB_val d = {SM_KV_HEADER_BYTES + (size_t)value_len, NULL};
	int rc = mdb_put(txn, sm->dbi_kv, &k, &d, MDB_RESERVE);
	if (rc == MDB_BAD_VALSIZE)
		return KV_EINVAL;
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint64_t bytes = (uint64_t)key_len + SM_KV_HEADER_BYTES + value_len;
	KV_ASSERT(sm->data_bytes >= old->bytes);
	sm->data_bytes = sm->data_bytes - old->bytes + bytes;
	*create_index = old->exists ? old->create_index : index;
	sm_u64_put(d.mv_data, *create_index);
	sm_u64_put((uint8_t *)d.mv_data + 8, index);
	if (value_len > 0)
		memcpy((uint8_t *)d.mv_data + SM_KV_HEADER_BYTES, value, value_len);
	return sm_event_record(sm, txn, SM_EVENT_PUT, key, key_len, value, value_len, *create_index,
	                       index);
}

int sm_key_delete(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len, uint64_t index,
                  const struct sm_key_old *old)
{
	KV_ASSERT(index > 0 && old->exists);
	MDB_val k = {key_len, (void *)key};
	int rc = mdb_del(txn, sm->dbi_kv, &k, NULL);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	KV_ASSERT(sm->data_bytes >= old->bytes);
	sm->data_bytes -= old->bytes;
	return sm_event_record(sm, txn, SM_EVENT_DELETE, key, key_len, NULL, 0, old->create_index,
	                       index);
}
