/*
 * sm_flags.c - the flags of keys (Consul's Flags, set by a PUT_FLAGS), kept
 * in their own LMDB database "flags" (key -> 8 bytes, big-endian), with an
 * entry only for keys whose flags are not 0. Keeping them out of the value
 * record leaves the record format, and every environment written before,
 * as they were. Every write of a key sets or clears its flags in the same
 * transaction (sm_apply.c), so the two never disagree. At most one entry per
 * key: bounded by the keys the quota admits. Runs on storaged's loop thread.
 */
#include "sm.h"

#include "kv_err.h"

int sm_flags_set(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len, uint64_t flags)
{
	MDB_val k = {key_len, (void *)key};
	if (flags == 0) {
		int rc = mdb_del(txn, sm->dbi_flags, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : sm_err_from_mdb(rc);
	}
	uint8_t v[8];
	sm_u64_put(v, flags);
	MDB_val d = {sizeof(v), v};
	return sm_err_from_mdb(mdb_put(txn, sm->dbi_flags, &k, &d, 0));
}

int sm_flags_get(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len, uint64_t *flags)
{
	*flags = 0;
	if (!sm->has_flags)
		return 0; /* a read-only handle on an environment from before flags */
	MDB_val k = {key_len, (void *)key};
	MDB_val d;
	int rc = mdb_get(txn, sm->dbi_flags, &k, &d);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if (d.mv_size != 8)
		return KV_ECORRUPT;
	*flags = sm_u64_get(d.mv_data);
	return 0;
}
